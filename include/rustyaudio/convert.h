/* Sample conversion at the edges of the float chain: integer PCM to float,
 * gain, and float to the output's sample format with clip counting and
 * optional TPDF dither.
 *
 * Integer samples are left-justified 32-bit (libsndfile's "int" view of any
 * PCM width), so a B-bit sample s is carried as s << (32 - B). Float samples
 * are full scale at +-1.0. Conversions are exact where the float can hold the
 * value (B <= 24). */
#ifndef RUSTYAUDIO_CONVERT_H
#define RUSTYAUDIO_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include "rustyaudio/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ra_dither {
	RA_DITHER_NONE,
	RA_DITHER_TPDF /* triangular, +-1 LSB peak, independent per sample */
} ra_dither;

/* Parse "tpdf" or "none". RA_ERR_INVALID otherwise. */
ra_status ra_dither_parse(const char *name, ra_dither *dither);

/* "tpdf" or "none"; "?" for anything else. */
const char *ra_dither_name(ra_dither dither);

/* OUT[i] = IN[i] / 2^31, exactly for inputs of up to 24 significant bits.
 * IN and OUT may not overlap. */
void ra_samples_from_int(const int32_t *in, float *out, size_t samples);

/* OUT[i] = IN[i] / 2^15, exactly: ra_samples_from_int() of IN[i] * 2^16.
 * IN and OUT may not overlap. */
void ra_samples_from_short(const int16_t *in, float *out, size_t samples);

/* How many of the SAMPLES values at BUF are NaN or infinite, and in
 * *FIRST (when given and there is one) the index of the first. The float
 * one vectorizes: cheap enough to screen every decoded block. */
size_t ra_nonfinite_count(const float *buf, size_t samples, size_t *first);
size_t ra_nonfinite_count_double(const double *buf, size_t samples, size_t *first);

/* BUF[i] *= GAIN (a linear factor, not dB); nothing to do at 1. */
void ra_samples_scale(float *buf, size_t samples, float gain);

/* The linear factor of DB decibels: 10^(DB/20). */
double ra_gain_from_db(double db);

typedef struct ra_converter ra_converter;

/* A converter for CHANNELS interleaved channels to BITS-bit integers
 * (8..32), or, with BITS = 0, to float clipped to [-1, 1] (for encoders such
 * as u-law or Vorbis that need the range). Dither applies only to integer
 * output; SEED makes it reproducible. NULL on failure, with STATUS and DIAG:
 * RA_ERR_INVALID for CHANNELS < 1 or BITS out of range, RA_ERR_NOMEM. */
ra_converter *ra_converter_create(int channels, int bits, ra_dither dither, uint64_t seed,
				  ra_status *status, ra_diag *diag);

/* Quantise FRAMES frames of IN to left-justified integers in OUT: scale to
 * the output width, add dither (not to exact zeros, so digital silence stays
 * silent; never above 24 bits, the float chain's precision), round to
 * nearest, clip to the range and count clipped samples per channel. */
void ra_converter_to_int(ra_converter *cv, const float *in, int32_t *out, size_t frames);

/* The same, for a converter to 16 bits, into 16-bit integers: the top
 * halves of ra_converter_to_int()'s, in one stream with its calls. */
void ra_converter_to_short(ra_converter *cv, const float *in, int16_t *out, size_t frames);

/* Clip FRAMES frames of BUF in place to [-1, 1], counting clipped samples. */
void ra_converter_clip(ra_converter *cv, float *buf, size_t frames);

/* Samples clipped so far on channel CH, and on all channels. */
uint64_t ra_converter_clipped(const ra_converter *cv, int ch);
uint64_t ra_converter_clipped_total(const ra_converter *cv);

/* Free CV. NULL is a no-op. */
void ra_converter_destroy(ra_converter *cv);

/* The build of the quantising loop converters use in this process, the
 * fastest this CPU runs: "avx512f", "avx2" or "scalar". */
const char *ra_converter_kernel(void);

#ifdef __cplusplus
}
#endif

#endif
