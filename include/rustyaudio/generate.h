/* Test signal generator: sine, exponential sweep, white and pink noise,
 * impulse and silence, produced block by block as interleaved float frames.
 *
 * Conventions: frequencies in Hz, levels as linear peak amplitude (1.0 is
 * full scale), lengths in frames. Output is deterministic for a given config
 * (noise comes from a seeded generator, one independent stream a channel) and
 * does not depend on how the caller splits it into blocks. */
#ifndef RUSTYAUDIO_GENERATE_H
#define RUSTYAUDIO_GENERATE_H

#include <stddef.h>
#include <stdint.h>

#include "rustyaudio/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ra_signal_kind {
	RA_SIGNAL_SINE,	   /* freq */
	RA_SIGNAL_SWEEP,   /* exponential from freq to freq_end over the whole length */
	RA_SIGNAL_WHITE,   /* uniform in [-amplitude, amplitude] */
	RA_SIGNAL_PINK,	   /* 1/f spectrum, peak-limited to amplitude */
	RA_SIGNAL_IMPULSE, /* amplitude at frame 0, zero after */
	RA_SIGNAL_SILENCE
} ra_signal_kind;

typedef struct ra_generate_config {
	ra_signal_kind kind;
	double freq;	 /* Hz: sine frequency, sweep start */
	double freq_end; /* Hz: sweep end */
	double amplitude;
	int sample_rate;
	int channels;
	int64_t frames; /* total length */
	uint64_t seed;
} ra_generate_config;

/* Parse a signal spec, "sine:FREQ", "sweep:F0:F1", "white", "pink", "impulse"
 * or "silence" (FREQ with an optional k suffix: "1k" = 1000), into the kind
 * and frequency fields of CFG; other fields are left alone.
 * RA_ERR_INVALID with a reason in DIAG when the spec is malformed. */
ra_status ra_generate_parse(const char *spec, ra_generate_config *cfg, ra_diag *diag);

typedef struct ra_generator ra_generator;

/* Validate CFG (rate > 0, channels 1..1024, frames >= 0, frequencies in
 * (0, rate/2), amplitude in [0, 1]) and make a generator. NULL on failure,
 * with the reason in STATUS and DIAG when given. */
ra_generator *ra_generator_create(const ra_generate_config *cfg, ra_status *status, ra_diag *diag);

/* Write up to FRAMES interleaved frames to OUT; returns how many were
 * written, 0 once the configured length has been produced. */
size_t ra_generator_read(ra_generator *gen, float *out, size_t frames);

/* Free GEN. NULL is a no-op. */
void ra_generator_destroy(ra_generator *gen);

#ifdef __cplusplus
}
#endif

#endif
