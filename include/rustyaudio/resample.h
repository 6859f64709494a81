/* Streaming sample-rate conversion of interleaved float frames, on libsoxr
 * (the default) or libsamplerate. Each channel has an engine of its own, so
 * channels convert in parallel on a worker pool; a stream cut in spans
 * (span_frames) has two engines a channel, which convert alternate spans at
 * once. Every channel's output is the same whatever the threads, the channel
 * count and the size of the pieces the stream comes in. The converter
 * counts what goes in and, once flushed, pads or trims its tail so that the
 * output holds exactly round(in_frames * ratio) frames, where
 * ratio = out_rate / in_rate.
 *
 * Conventions: frames, not samples; rates in Hz; output frame k is the
 * input signal at time k / out_rate (no lag), the input taken as silent
 * before its first frame and after its last. */
#ifndef RUSTYAUDIO_RESAMPLE_H
#define RUSTYAUDIO_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "rustyaudio/status.h"
#include "rustyaudio/workers.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ra_resample_engine {
	RA_RESAMPLER_SOXR,	   /* libsoxr */
	RA_RESAMPLER_LIBSAMPLERATE /* libsamplerate */
} ra_resample_engine;

/* One vocabulary for both engines; each name's preset per engine:
 *
 *   name     libsoxr                              libsamplerate
 *   best     SOXR_VHQ (28-bit, double)            SRC_SINC_BEST_QUALITY
 *   high     SOXR_HQ (20-bit, float)              SRC_SINC_BEST_QUALITY
 *   medium   SOXR_MQ (16-bit, medium roll-off)    SRC_SINC_MEDIUM_QUALITY
 *   fast     SOXR_LQ (16-bit, larger roll-off)    SRC_SINC_FASTEST
 *   linear   SOXR_QQ (cubic interpolation)        SRC_LINEAR
 *
 * Every preset has linear phase. */
typedef enum ra_resample_quality {
	RA_RESAMPLE_BEST,
	RA_RESAMPLE_HIGH,
	RA_RESAMPLE_MEDIUM,
	RA_RESAMPLE_FAST,
	RA_RESAMPLE_LINEAR
} ra_resample_quality;

/* Parse "soxr" or "libsamplerate". RA_ERR_INVALID otherwise. */
ra_status ra_resample_engine_parse(const char *name, ra_resample_engine *engine);

/* The name ra_resample_engine_parse() takes for ENGINE; "?" if none. */
const char *ra_resample_engine_name(ra_resample_engine engine);

/* Parse "best", "high", "medium", "fast" or "linear". RA_ERR_INVALID
 * otherwise. */
ra_status ra_resample_quality_parse(const char *name, ra_resample_quality *quality);

/* The name ra_resample_quality_parse() takes for QUALITY; "?" if none. */
const char *ra_resample_quality_name(ra_resample_quality quality);

typedef struct ra_resample_config {
	int channels; /* 1..RA_MAX_CHANNELS */
	int in_rate;  /* Hz, > 0 */
	int out_rate; /* Hz, > 0; out_rate / in_rate within 1/256..256 */
	ra_resample_engine engine;
	ra_resample_quality quality;
	size_t max_in_frames; /* the most one ra_resampler_submit() takes, >= 1 */
	/* Shared pool the channels convert on, a task per group of
	 * engines, a batch a call; NULL converts them on the caller's
	 * thread. */
	ra_workers *workers;
	/* 0: one engine a channel converts the whole stream. Otherwise the
	 * stream is cut every span_frames input frames (rounded up to a
	 * whole period of the two rates, where an input and an output frame
	 * fall together), and spans 0, 2, 4, ... go through one engine a
	 * channel, spans 1, 3, 5, ... through another, so that a channel
	 * converts on two threads. Each engine is given its spans' input
	 * with a lead on either side (twice what it holds back, measured),
	 * so that every output frame it keeps has all the input it depends
	 * on: the output is one engine's to within rounding (exactly, in the
	 * tests, with libsoxr's best), at 2 * lead / span more work. The
	 * stream is not cut when max_in_frames is less than a span, or the
	 * lead or a period of the rates is over an eighth of one. */
	size_t span_frames;
} ra_resample_config;

typedef struct ra_resampler ra_resampler;

/* A converter as CFG says. NULL on failure, with STATUS and DIAG:
 * RA_ERR_INVALID for a configuration out of range, RA_ERR_NOMEM, or
 * RA_ERR_RESAMPLE when an engine refuses. */
ra_resampler *ra_resampler_create(const ra_resample_config *cfg, ra_status *status, ra_diag *diag);

/* Start converting IN_FRAMES (at most max_in_frames) frames of IN, which
 * must stay as they are until ra_resampler_wait(). With a pool the
 * channels convert there and this returns at once, so that the caller can
 * read (ra_resampler_read()) what the conversion before made, and fill its
 * next input, in the meantime. RA_ERR_INVALID while a conversion is in
 * flight, or after ra_resampler_flush(). */
ra_status ra_resampler_submit(ra_resampler *rs, const float *in, size_t in_frames);

/* Wait for the conversion in flight (none: nothing to do); its output
 * becomes readable. Everything readable before must have been read
 * (RA_ERR_INVALID otherwise). RA_ERR_NOMEM or RA_ERR_RESAMPLE break the
 * stream: every later call fails. */
ra_status ra_resampler_wait(ra_resampler *rs);

/* Submit and wait: convert IN_FRAMES frames of IN, whose output is then
 * readable; what was readable before must have been read. */
ra_status ra_resampler_process(ra_resampler *rs, const float *in, size_t in_frames);

/* End of input, with no conversion in flight and nothing left to read:
 * the rest of the output is made readable. After it, the output read in
 * all is exactly round(total input * ratio) frames. Further calls do
 * nothing. */
ra_status ra_resampler_flush(ra_resampler *rs);

/* Up to MAX_FRAMES frames of output, interleaved, into OUT; the number
 * written, 0 once everything readable has been read. */
size_t ra_resampler_read(ra_resampler *rs, float *out, size_t max_frames);

/* The output frame count that corresponds to IN_FRAMES input frames:
 * round(IN_FRAMES * out_rate / in_rate), computed exactly in integers. */
int64_t ra_resample_length(int64_t in_frames, int in_rate, int out_rate);

/* The greatest common divisor of two rates A and B, both > 0: in
 * A / ra_rate_gcd(A, B) frames at rate A, the frames of both rates fall
 * together once. */
int ra_rate_gcd(int a, int b);

/* Free RS, after the conversion in flight if any. NULL is a no-op. */
void ra_resampler_destroy(ra_resampler *rs);

#ifdef __cplusplus
}
#endif

#endif
