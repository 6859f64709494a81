/* Sample conversion at the edges of the float chain: integer to float, gain,
 * and float to the output format with clip counting and TPDF dither. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rustyaudio/convert.h"

#ifdef __FAST_MATH__
#error "convert.c rounds by IEEE arithmetic (1.5 * 2^52): build it without -ffast-math"
#endif

/* Dither streams: sample n of the output draws from stream n % STREAMS, so
 * that the draws of neighbouring samples do not wait on each other. */
#define STREAMS 4
/* Samples converted at a time: the dither for them, then the conversion. */
#define CHUNK 256

struct ra_converter {
	int channels;
	int bits; /* 0: float output, clip only */
	ra_dither dither;
	uint64_t rng[STREAMS]; /* xorshift64* states, never 0 */
	uint64_t drawn;	       /* samples dithered so far */
	uint64_t *clipped;     /* one counter a channel */
};

static const char *const dither_names[] = {
	[RA_DITHER_NONE] = "none",
	[RA_DITHER_TPDF] = "tpdf",
};

ra_status ra_dither_parse(const char *name, ra_dither *dither)
{
	size_t i;

	if (ra_name_lookup(name, dither_names, sizeof(dither_names) / sizeof(dither_names[0]),
			   sizeof(dither_names[0]), RA_NAME_EXACT, &i) != RA_OK)
		return RA_ERR_INVALID;
	*dither = (ra_dither)i;
	return RA_OK;
}

const char *ra_dither_name(ra_dither dither)
{
	if ((unsigned)dither >= sizeof(dither_names) / sizeof(dither_names[0]))
		return "?";
	return dither_names[dither];
}

void ra_samples_from_int(const int32_t *in, float *out, size_t samples)
{
	const float scale = 1.0f / 2147483648.0f;

	for (size_t i = 0; i < samples; i++)
		out[i] = (float)in[i] * scale;
}

/* A float is NaN or infinite when its exponent bits are all ones: an
 * integer test that vectorizes (this file is built with -O3). */
static inline uint32_t float_nonfinite(const float *x)
{
	uint32_t bits;

	memcpy(&bits, x, sizeof(bits));
	return (bits & 0x7f800000u) == 0x7f800000u;
}

size_t ra_nonfinite_count(const float *buf, size_t samples, size_t *first)
{
	size_t n = 0, i = 0;

	for (size_t k = 0; k < samples; k++)
		n += float_nonfinite(&buf[k]);
	if (n > 0 && first) {
		while (!float_nonfinite(&buf[i]))
			i++;
		*first = i;
	}
	return n;
}

size_t ra_nonfinite_count_double(const double *buf, size_t samples, size_t *first)
{
	size_t n = 0, i = 0;

	for (size_t k = 0; k < samples; k++)
		n += !isfinite(buf[k]);
	if (n > 0 && first) {
		while (isfinite(buf[i]))
			i++;
		*first = i;
	}
	return n;
}

void ra_samples_scale(float *buf, size_t samples, float gain)
{
	if (gain == 1.0f)
		return; /* a pass over the block for nothing (resampling or conversion only) */
	for (size_t i = 0; i < samples; i++)
		buf[i] *= gain;
}

double ra_gain_from_db(double db)
{
	return pow(10.0, db / 20.0);
}

ra_converter *ra_converter_create(int channels, int bits, ra_dither dither, uint64_t seed,
				  ra_status *status, ra_diag *diag)
{
	ra_converter *cv = NULL;
	ra_status st = RA_ERR_INVALID;

	if (channels < 1) {
		ra_diag_set(diag, "cannot convert %d channels", channels);
		goto out;
	}
	if (bits != 0 && (bits < 8 || bits > 32)) {
		ra_diag_set(diag, "cannot convert to %d-bit integers (8 to 32)", bits);
		goto out;
	}
	st = RA_ERR_NOMEM;
	cv = calloc(1, sizeof(*cv));
	if (!cv)
		goto out_nomem;
	cv->clipped = calloc((size_t)channels, sizeof(*cv->clipped));
	if (!cv->clipped)
		goto out_free;
	cv->channels = channels;
	cv->bits = bits;
	cv->dither = dither;
	/* splitmix64 of the seed: well-mixed, non-zero starts. */
	for (int k = 0; k < STREAMS; k++) {
		uint64_t z = seed + (uint64_t)(k + 1) * 0x9e3779b97f4a7c15ULL;

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		cv->rng[k] = (z ^ (z >> 31)) | 1;
	}
	st = RA_OK;
	goto out;

out_free:
	free(cv);
	cv = NULL;
out_nomem:
	ra_diag_set(diag, "cannot allocate a converter for %d channels", channels);
out:
	if (status)
		*status = st;
	return cv;
}

/* 64 random bits from xorshift64*. */
static inline uint64_t next_random(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* TPDF dither in (-1, 1) LSB for IN into *D from the stream STATE: the
 * difference of two uniforms in [0, 1), the two halves of one draw (32
 * bits each are plenty at 24 bits and below); none on exact zeros, so
 * that digital silence stays silent, as SoX keeps it. */
static inline void draw_one(uint64_t *state, float in, double *d)
{
	uint64_t r = next_random(state);
	double t = ((double)(uint32_t)(r >> 32) - (double)(uint32_t)r) * 0x1p-32;

	*d = in != 0.0f ? t : 0.0;
}

/* The dither for the N samples IN into D; every sample takes a draw, from
 * stream (samples drawn before it) % STREAMS. The states stay in locals
 * and the streams take turns in a fixed order, so that the draws of
 * neighbouring samples run side by side. */
static void draw_tpdf(ra_converter *cv, const float *in, double *d, size_t n)
{
	const size_t phase = (size_t)(cv->drawn % STREAMS);
	uint64_t s[STREAMS];
	size_t i = 0;

	memcpy(s, cv->rng, sizeof(s));
	for (; i < n && (phase + i) % STREAMS; i++)
		draw_one(&s[(phase + i) % STREAMS], in[i], &d[i]);
	for (; i + STREAMS <= n; i += STREAMS)
		for (size_t k = 0; k < STREAMS; k++)
			draw_one(&s[k], in[i + k], &d[i + k]);
	for (; i < n; i++)
		draw_one(&s[(phase + i) % STREAMS], in[i], &d[i]);
	memcpy(cv->rng, s, sizeof(s));
	cv->drawn += n;
}

/* X scaled by SCALE plus dither D, rounded to the nearest integer, ties to
 * even, as rint() rounds: adding and subtracting 1.5 * 2^52 does it for
 * |y| < 2^51 without a library call, and keeps larger values large. Not
 * clipped yet; NaN stays NaN. */
static inline double dither_round(float x, double d, double scale)
{
	double y = (double)x * scale + d;

	return (y + 0x1.8p52) - 0x1.8p52;
}

/* N samples with dither D to BITS-bit integers; no branch, so that the
 * loop vectorizes. */
static void quantise(const float *restrict in, const double *restrict d, int32_t *restrict out,
		     size_t n, int bits)
{
	const double scale = ldexp(1.0, bits - 1), hi = scale - 1.0, lo = -scale;
	const int shift = 32 - bits;

	for (size_t i = 0; i < n; i++) {
		double q = dither_round(in[i], d[i], scale);

		q = q > hi ? hi : q;
		q = q < lo ? lo : q;
		q = q == q ? q : 0.0; /* NaN */
		out[i] = (int32_t)((uint32_t)(int32_t)q << shift);
	}
}

/* Whether any of the N integers is at either end of the range: the only
 * ones that may have been clipped. */
static int any_at_rails(const int32_t *out, size_t n, int bits)
{
	const int32_t top = (int32_t)((uint32_t)((1u << (bits - 1)) - 1u) << (32 - bits));
	int found = 0;

	for (size_t i = 0; i < n; i++)
		found |= (out[i] == top) | (out[i] == INT32_MIN);
	return found;
}

void ra_converter_to_int(ra_converter *cv, const float *in, int32_t *out, size_t frames)
{
	static const double no_dither[CHUNK];
	const double scale = ldexp(1.0, cv->bits - 1);
	const int dither = cv->dither == RA_DITHER_TPDF && cv->bits <= 24;
	const size_t channels = (size_t)cv->channels, total = frames * channels;
	double d[CHUNK];

	for (size_t at = 0; at < total; at += CHUNK) {
		size_t n = total - at < CHUNK ? total - at : CHUNK;
		const double *dn = no_dither;

		if (dither) {
			draw_tpdf(cv, in + at, d, n);
			dn = d;
		}
		quantise(in + at, dn, out + at, n, cv->bits);
		if (!any_at_rails(out + at, n, cv->bits))
			continue;
		/* Rare: count the samples that went beyond the range. */
		for (size_t i = 0; i < n; i++) {
			double q = dither_round(in[at + i], dn[i], scale);

			if (q > scale - 1.0 || q < -scale)
				cv->clipped[(at + i) % channels]++;
		}
	}
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
