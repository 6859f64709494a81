/* One configured processing chain for one stream: gain, then the EQ
 * cascade on every channel, on pooled aligned buffers and a shared worker
 * pool, with optional spectrum taps before and after. Blocks are
 * interleaved float frames, filtered in place.
 *
 * Two ways to drive it, on one schedule:
 *  - acquire / push / pull / release: the streaming form used for files.
 *    Blocks come from the processor's pool; push hands one over and may
 *    return an earlier one finished, in order; pull returns what is still
 *    in flight once input has ended. Workers filter while the caller reads
 *    and writes, in steps over batches of blocks. Channels go in pairs (two
 *    cascades in one loop); when there are more threads than channels the
 *    bands are split into groups that work on successive batches at once
 *    (a wavefront).
 *  - ra_processor_process(): one block in place, synchronously: a push of
 *    that block and pulls until it is out. Simple.
 * The reference pipeline runs on the same schedule, inline, a block at a
 * time; so does a chain without bands (the gain alone), unless a tap has
 * several parts to feed at once on the pool (ra_welch_parts()).
 *
 * Every band of every channel runs exactly the same arithmetic whatever the
 * threads, grouping or block sizes, so the output is bit-identical for all
 * of them, and equal to the reference pipeline's. */
#ifndef RUSTYAUDIO_PROCESSOR_H
#define RUSTYAUDIO_PROCESSOR_H

#include <stddef.h>
#include <stdint.h>

#include "rustyaudio/biquad.h"
#include "rustyaudio/pool.h"
#include "rustyaudio/spectrum.h"
#include "rustyaudio/stats.h"
#include "rustyaudio/status.h"
#include "rustyaudio/workers.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ra_processor_config {
	int channels;		       /* 1..1024 */
	size_t max_frames;	       /* largest block, frames */
	const ra_biquad_coeffs *bands; /* the cascade, copied; may be NULL if band_count is 0 */
	int band_count;		       /* 0..64 */
	float gain;		       /* linear factor applied before the EQ */
	ra_workers *workers;	       /* shared pool; NULL runs everything inline */
	/* Spectrum analysers fed in stream order, by the workers (a task for
	 * each of an analyser's ra_welch_parts(), so that parts run at once;
	 * an analyser of several parts takes a processor without bands to
	 * the workers too): the input as pushed, before gain; the output as
	 * finished. May be NULL. Their
	 * rows (ra_welch_keep_rows()) are published on the caller's thread
	 * after every step it collects, so each row can be taken by the time
	 * the block that completed its segment comes out of push or pull;
	 * the caller takes them (ra_welch_take_row()) between its calls, on
	 * its own thread. Anything else of a tap's is read once the stream is
	 * drained.
	 *
	 * Their rows take bounded memory. Keep them before making the
	 * processor: it then carries no more frames a step than a tap's
	 * ra_welch_batch_frames(), so that a step's rows stay within
	 * RA_WELCH_ROW_BUDGET. With ROWS_READY, a tap whose rows one block
	 * alone would outgrow (tiny hops, large blocks) is fed on the
	 * caller's thread instead, inside push and pull, a batch at a time,
	 * each batch's rows handed over before the next is made; and no rows
	 * are published before those published last are handed over: a tap
	 * then holds at most two batches of rows, whatever the overlap, fft
	 * size, channels, blocks and threads. Without it such a tap holds a
	 * block's rows (max_frames / hop + 1, the hop fft_size - noverlap),
	 * and a pull may publish two steps' rows of the input tap before the
	 * caller can take them. */
	ra_welch *tap_in, *tap_out;
	/* Called with ROWS_CTX on the caller's thread, inside push and pull,
	 * whenever the taps' rows are to be taken before more are published:
	 * the caller takes them there and then. May be NULL. */
	void (*rows_ready)(void *ctx);
	void *rows_ctx;
	int reference; /* the plain pipeline: scalar, allocating, no pool, no threads */
	/* Finished blocks the caller keeps out at once, beyond the one it
	 * reads into and the one it writes from (a queue of its own): the
	 * pool holds that many more, so that warm blocks allocate nothing. */
	size_t held_blocks;
	/* Frames the stream will bring, when known (0: not known). A stream
	 * of one channel pair shorter than 16 steps of the pool (about a
	 * million frames) runs inline: filling and draining the pipeline and
	 * waking the workers would cost more than they could overlap. */
	uint64_t stream_frames;
	/* Where the time goes, both or neither: each block's gain and EQ
	 * work, and both taps' work on it, summed over the threads that did
	 * it. Blocks go in steps, so a block's time is its step's divided
	 * evenly. */
	ra_histogram *eq_time, *spectrum_time;
} ra_processor_config;

typedef struct ra_processor ra_processor;

/* A processor for CFG, copied; the workers, taps and histograms it names
 * stay the caller's and must outlive the processor. NULL on failure, with
 * STATUS and DIAG: RA_ERR_INVALID for a config out of range or
 * coefficients that are not finite, RA_ERR_NOMEM. */
ra_processor *ra_processor_create(const ra_processor_config *cfg, ra_status *status, ra_diag *diag);

/* Filter FRAMES (<= max_frames) interleaved frames of BLOCK (any buffer
 * of the caller's) in place, taps and timing included. Nothing may be in
 * flight: do not mix with push/pull on the same processor. */
ra_status ra_processor_process(ra_processor *p, float *block, size_t frames);

/* A block buffer of max_frames * channels floats, 64-byte aligned. */
float *ra_processor_acquire(ra_processor *p);

/* Hand BLOCK (from ra_processor_acquire, holding FRAMES frames) to the
 * chain. *DONE is set to the oldest finished block and *DONE_FRAMES to its
 * length, or *DONE to NULL if none is ready yet. RA_ERR_INVALID for more
 * than max_frames; RA_ERR_NOMEM when a buffer, the reference kernel or a
 * tap's rows found no memory (as for pull). */
ra_status ra_processor_push(ra_processor *p, float *block, size_t frames, float **done,
			    size_t *done_frames);

/* After the last push: the next finished block, or NULL when all are out. */
ra_status ra_processor_pull(ra_processor *p, float **done, size_t *done_frames);

/* Run now, on the caller's thread, the tasks of the step in flight that
 * no worker has taken yet, rather than when the next push or pull waits
 * for the step: for a caller that would otherwise wait on something else. */
void ra_processor_help(ra_processor *p);

/* Give a finished block back to the pool. P or BLOCK NULL is a no-op. */
void ra_processor_release(ra_processor *p, float *block);

/* Clear every filter state for a new pass over a stream. Nothing may be in
 * flight. */
void ra_processor_reset(ra_processor *p);

typedef struct ra_processor_stats {
	/* "avx512f", "avx512vl", "avx2-fma", "scalar" or "reference": the
	 * first cascade's (ra_cascade_name()) */
	const char *kernel;
	int band_groups;      /* bands split into this many groups (1: none) */
	int channel_runs;     /* channel pairs filtered in this many phases (1: one) */
	size_t step_blocks;   /* the most blocks a step carries */
	ra_pool_stats blocks; /* the float block pool */
	ra_pool_stats work;   /* the double work buffer pool */
	uint64_t frames;      /* frames processed */
} ra_processor_stats;

void ra_processor_get_stats(const ra_processor *p, ra_processor_stats *stats);

/* Free everything. Blocks still out are the caller's to release first.
 * NULL is a no-op. */
void ra_processor_destroy(ra_processor *p);

#ifdef __cplusplus
}
#endif

#endif
