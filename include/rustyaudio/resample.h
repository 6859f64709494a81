/* Streaming sample-rate conversion of interleaved float frames with
 * libsamplerate. The converter counts what goes in and, when flushed, pads or
 * trims its tail so that the output holds exactly round(in_frames * ratio)
 * frames, where ratio = out_rate / in_rate. */
#ifndef RUSTYAUDIO_RESAMPLE_H
#define RUSTYAUDIO_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "rustyaudio/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ra_resample_quality {
	RA_RESAMPLE_BEST,   /* SRC_SINC_BEST_QUALITY */
	RA_RESAMPLE_MEDIUM, /* SRC_SINC_MEDIUM_QUALITY */
	RA_RESAMPLE_FAST,   /* SRC_SINC_FASTEST */
	RA_RESAMPLE_LINEAR  /* SRC_LINEAR */
} ra_resample_quality;

/* Parse "best", "medium", "fast" or "linear". RA_ERR_INVALID otherwise. */
ra_status ra_resample_quality_parse(const char *name, ra_resample_quality *quality);

/* The name ra_resample_quality_parse() takes for QUALITY; "?" if none. */
const char *ra_resample_quality_name(ra_resample_quality quality);

/* libsamplerate's sinc converters (every quality but linear) take at most
 * this many channels. */
#define RA_RESAMPLE_SINC_MAX_CHANNELS 128

typedef struct ra_resampler ra_resampler;

/* A converter from IN_RATE to OUT_RATE Hz (both > 0, ratio within
 * libsamplerate's 1/256..256) for CHANNELS interleaved channels
 * (1..RA_MAX_CHANNELS). NULL on failure, with STATUS and DIAG:
 * RA_ERR_INVALID for arguments out of range, RA_ERR_CHANNELS for more than
 * RA_RESAMPLE_SINC_MAX_CHANNELS at a sinc quality, RA_ERR_NOMEM, or
 * RA_ERR_RESAMPLE when libsamplerate refuses. */
ra_resampler *ra_resampler_create(int channels, int in_rate, int out_rate,
				  ra_resample_quality quality, ra_status *status, ra_diag *diag);

/* Largest number of frames one call to ra_resampler_process() or
 * ra_resampler_flush() can produce for IN_FRAMES frames of input
 * (use IN_FRAMES = 0 for flush): size the output buffer with it. */
size_t ra_resampler_max_output(const ra_resampler *rs, size_t in_frames);

/* Convert all IN_FRAMES frames of IN into OUT, which has room for
 * OUT_CAPACITY frames (at least ra_resampler_max_output(rs, in_frames));
 * *OUT_FRAMES is set to the frames written. */
ra_status ra_resampler_process(ra_resampler *rs, const float *in, size_t in_frames, float *out,
			       size_t out_capacity, size_t *out_frames);

/* End of input: write the remaining output frames into OUT (room for
 * OUT_CAPACITY frames; call again while *OUT_FRAMES > 0). After the last call
 * the total output is exactly round(total input * ratio) frames. */
ra_status ra_resampler_flush(ra_resampler *rs, float *out, size_t out_capacity, size_t *out_frames);

/* The output frame count that corresponds to IN_FRAMES input frames:
 * round(IN_FRAMES * out_rate / in_rate), computed exactly in integers. */
int64_t ra_resample_length(int64_t in_frames, int in_rate, int out_rate);

/* Free RS. NULL is a no-op. */
void ra_resampler_destroy(ra_resampler *rs);

#ifdef __cplusplus
}
#endif

#endif
