/* One file's measuring pass shared out in time: the stream's groups
 * (phases.h) in a few shares, each with its own levels and analyser
 * parts, measured on a few threads at once, the levels merged at the end:
 * the bits of the pass over the whole stream, which stays the way for
 * everything this does not take (see ra_shares_measure()). Internal to
 * the library. */
#ifndef RUSTYAUDIO_SHARES_H
#define RUSTYAUDIO_SHARES_H

#include <signal.h>
#include <stdint.h>

#include "rustyaudio/audio_file.h"
#include "rustyaudio/level.h"
#include "rustyaudio/spectrum.h"
#include "rustyaudio/stats.h"
#include "rustyaudio/workers.h"

#pragma GCC visibility push(hidden)

/* The most threads a pass takes. */
#define RA_SHARES_THREADS 4

typedef struct ra_shares_config {
	ra_reader *reader;   /* of an uncompressed file, which seeks cheaply */
	int64_t frames;	     /* the stream's, as its header says */
	int channels;	     /* interleaved */
	int in_bits;	     /* read as integers and converted; 0: as float */
	int screen;	     /* a non-finite sample hands the pass back */
	int shares;	     /* of the stream: 2 or 4, ra_welch_shares() or a divisor */
	int threads;	     /* the caller and the workers' (1: nothing done) */
	ra_levels *levels;   /* the stream's, from frame 0: merged into */
	ra_welch *welch;     /* fresh, or NULL */
	ra_workers *workers; /* run the shares but the caller's */
	const volatile sig_atomic_t *cancel;
	/* With stats, the time a group took to read, to level and to feed
	 * the analyser (merged into these; NULL: none), and the caller's time
	 * in them. */
	ra_histogram *time[3];
	uint64_t caller_ns;
} ra_shares_config;

/* The measuring pass in CFG->shares shares on CFG->threads threads (at
 * most RA_SHARES_THREADS): RA_OK with *DONE set, CFG's levels and
 * analyser (then at the stream's end) as one pass over the stream leaves
 * them. *DONE is 0, the levels untouched, when the stream is to be
 * measured whole instead: it did not read as its header says (a read
 * failed or came short, or a read past its end found more), it holds a
 * non-finite sample that CFG screens for, or the pass could not have its
 * buffers; the analyser is then to be reset and the reader rewound.
 * RA_ERR_CANCELLED when *CFG->cancel was set. */
ra_status ra_shares_measure(ra_shares_config *cfg, int *done);

#pragma GCC visibility pop

#endif
