/* Sample conversion at the edges of the float chain: integer to float, gain,
 * and float to the output format with clip counting and TPDF dither. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rustyaudio/convert.h"

struct ra_converter {
	int channels;
	int bits; /* 0: float output, clip only */
	ra_dither dither;
	uint64_t rng;	   /* xorshift64* state, never 0 */
	uint64_t *clipped; /* one counter a channel */
};

ra_status ra_dither_parse(const char *name, ra_dither *dither)
{
	if (!strcmp(name, "tpdf"))
		*dither = RA_DITHER_TPDF;
	else if (!strcmp(name, "none"))
		*dither = RA_DITHER_NONE;
	else
		return RA_ERR_INVALID;
	return RA_OK;
}

void ra_int_to_float(const int32_t *in, float *out, size_t samples)
{
	const float scale = 1.0f / 2147483648.0f;

	for (size_t i = 0; i < samples; i++)
		out[i] = (float)in[i] * scale;
}

void ra_gain_apply(float *buf, size_t samples, float gain)
{
	for (size_t i = 0; i < samples; i++)
		buf[i] *= gain;
}

double ra_db_to_gain(double db)
{
	return pow(10.0, db / 20.0);
}

ra_converter *ra_converter_create(int channels, int bits, ra_dither dither, uint64_t seed,
				  ra_status *status)
{
	ra_converter *cv = NULL;
	ra_status st = RA_ERR_INVALID;

	if (channels < 1 || (bits != 0 && (bits < 8 || bits > 32)))
		goto out;
	st = RA_ERR_NOMEM;
	cv = calloc(1, sizeof(*cv));
	if (!cv)
		goto out;
	cv->clipped = calloc((size_t)channels, sizeof(*cv->clipped));
	if (!cv->clipped)
		goto out_free;
	cv->channels = channels;
	cv->bits = bits;
	cv->dither = dither;
	/* splitmix64 of the seed: a well-mixed, non-zero start. */
	seed += 0x9e3779b97f4a7c15ULL;
	seed = (seed ^ (seed >> 30)) * 0xbf58476d1ce4e5b9ULL;
	seed = (seed ^ (seed >> 27)) * 0x94d049bb133111ebULL;
	cv->rng = (seed ^ (seed >> 31)) | 1;
	st = RA_OK;
	goto out;

out_free:
	free(cv);
	cv = NULL;
out:
	if (status)
		*status = st;
	return cv;
}

/* Uniform in [0, 1) from xorshift64*. */
static inline double next_uniform(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return (double)((x * 0x2545f4914f6cdd1dULL) >> 11) * 0x1.0p-53;
}

void ra_converter_to_int(ra_converter *cv, const float *in, int32_t *out, size_t frames)
{
	const double scale = ldexp(1.0, cv->bits - 1);
	const double hi = scale - 1.0, lo = -scale;
	const int shift = 32 - cv->bits;
	const int channels = cv->channels;
	const int dither = cv->dither == RA_DITHER_TPDF && cv->bits <= 24;
	uint64_t rng = cv->rng;

	for (size_t f = 0; f < frames; f++) {
		for (int c = 0; c < channels; c++) {
			size_t i = f * (size_t)channels + (size_t)c;
			double y = (double)in[i] * scale;
			int64_t q;

			/* Digital silence stays silent, as SoX keeps it. */
			if (dither && in[i] != 0.0f)
				y += next_uniform(&rng) - next_uniform(&rng);
			y = rint(y);
			if (y > hi) {
				q = (int64_t)hi;
				cv->clipped[c]++;
			} else if (y < lo) {
				q = (int64_t)lo;
				cv->clipped[c]++;
			} else if (y == y) {
				q = (int64_t)y;
			} else {
				q = 0; /* NaN */
			}
			out[i] = (int32_t)((uint32_t)q << shift);
		}
	}
	cv->rng = rng;
}

void ra_converter_clip(ra_converter *cv, float *buf, size_t frames)
{
	const int channels = cv->channels;

	for (size_t f = 0; f < frames; f++) {
		for (int c = 0; c < channels; c++) {
			float *x = &buf[f * (size_t)channels + (size_t)c];

			if (*x > 1.0f) {
				*x = 1.0f;
				cv->clipped[c]++;
			} else if (*x < -1.0f) {
				*x = -1.0f;
				cv->clipped[c]++;
			} else if (*x != *x) {
				*x = 0.0f;
			}
		}
	}
}

uint64_t ra_converter_clipped(const ra_converter *cv, int ch)
{
	return ch >= 0 && ch < cv->channels ? cv->clipped[ch] : 0;
}

uint64_t ra_converter_clipped_total(const ra_converter *cv)
{
	uint64_t n = 0;

	for (int c = 0; c < cv->channels; c++)
		n += cv->clipped[c];
	return n;
}

void ra_converter_destroy(ra_converter *cv)
{
	if (!cv)
		return;
	free(cv->clipped);
	free(cv);
}
