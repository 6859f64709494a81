/* Sample conversion at the edges of the float chain: integer to float, gain,
 * and float to the output format with clip counting and TPDF dither. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rustyaudio/convert.h"

#include "cpu.h"

#ifdef __FAST_MATH__
#error "convert.c rounds by IEEE arithmetic (1.5 * 2^52): build it without -ffast-math"
#endif

/* Samples converted at a time before their check for clipping: a frame
 * of the most channels at least. */
#define CHUNK 1024
_Static_assert(CHUNK >= RA_MAX_CHANNELS, "a chunk holds a frame");

/* Quantise N samples of IN to BITS-bit integers in OUT; with DITHER, with
 * the draws of the stream positions FIRST on under KEY (dither_tpdf()).
 * Whether any of them may have been clipped: ended at either end of the
 * range. */
typedef int (*quantise_fn)(const float *restrict in, int32_t *restrict out, uint32_t n, int bits,
			   int dither, uint32_t first, uint32_t key);

struct ra_converter {
	int channels;
	int bits; /* 0: float output, clip only */
	ra_dither dither;
	uint64_t seed;
	uint64_t drawn;	   /* samples converted so far: the next one's stream position */
	uint64_t *clipped; /* one counter a channel */
	quantise_fn quantise;
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

void ra_samples_from_short(const int16_t *in, float *out, size_t samples)
{
	const float scale = 1.0f / 32768.0f;

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

/* The count in 32-bit lanes, a run of up to 2^31 samples at a time, so
 * that the loop vectorizes without widening; a build for each
 * instruction set, as the quantiser's. */
static inline __attribute__((always_inline)) size_t nonfinite_loop(const float *buf, size_t samples)
{
	const size_t run = (size_t)1 << 31;
	size_t n = 0;

	for (size_t at = 0; at < samples; at += run) {
		const size_t end = samples - at < run ? samples : at + run;
		uint32_t part = 0;

		for (size_t k = at; k < end; k++)
			part += float_nonfinite(&buf[k]);
		n += part;
	}
	return n;
}

#define NONFINITE_BUILD(name, attr)                                                                \
	attr static size_t name(const float *buf, size_t samples)                                  \
	{                                                                                          \
		return nonfinite_loop(buf, samples);                                               \
	}

NONFINITE_BUILD(nonfinite_generic, )
#ifdef RA_HAVE_X86
NONFINITE_BUILD(nonfinite_avx2, __attribute__((target("avx2"))))
NONFINITE_BUILD(nonfinite_avx512, __attribute__((target("avx512f"))))
#endif

size_t ra_nonfinite_count(const float *buf, size_t samples, size_t *first)
{
	const enum ra_isa isa = ra_cpu_isa();
	size_t n =
		RA_CPU_PICK(isa, nonfinite_generic, nonfinite_avx2, nonfinite_avx512)(buf, samples);
	size_t i = 0;

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

/* ---- dither ----
 *
 * The dither is a function of the position in the stream: output sample N
 * (counted from the stream's first, across calls) draws from one 32-bit
 * hash of N and the seed. So any split of the stream into calls draws the
 * same dither, and no draw waits for the one before it: the loops
 * vectorize. The hash is a Weyl step over N's low 32 bits, keyed by the
 * seed and N's high half, through MurmurHash3's 32-bit finaliser (each
 * input bit flips each output bit with a probability close to 1/2). Its
 * two 16-bit halves are the two uniforms whose difference is the TPDF:
 * steps of 2^-16 LSB, plenty at 24 bits and below. */

/* The key of stream positions HI * 2^32 to HI * 2^32 + 2^32 - 1 under
 * SEED: splitmix64's output function. */
static uint32_t dither_key(uint64_t seed, uint64_t hi)
{
	uint64_t z = seed + (hi + 1) * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (uint32_t)(z ^ (z >> 32));
}

/* The TPDF draw of the stream position whose low 32 bits are N under KEY,
 * in units of 2^-16 LSB: within (-2^16, 2^16). */
static inline int32_t dither_tpdf(uint32_t n, uint32_t key)
{
	uint32_t h = n * 0x9e3779b9u + key;

	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return (int32_t)(h >> 16) - (int32_t)(h & 0xffffu);
}

/* The dither, in units of 2^-16 LSB, of the sample X at the stream
 * position whose low 32 bits are N: none without DITHER, and none on exact
 * zeros, so that digital silence stays silent, as SoX keeps it. A mask,
 * not a branch, so that the loops vectorize. */
static inline int32_t dither_of(float x, int dither, uint32_t n, uint32_t key)
{
	const int32_t t = dither ? dither_tpdf(n, key) : 0;

	return t & -(int32_t)(x != 0.0f);
}

/* X scaled by SCALE plus the dither T * 2^-16, rounded to the nearest
 * integer, ties to even, as rint() rounds. Not clipped yet; NaN stays NaN.
 * X * SCALE and T * 2^-16 are exact (SCALE a power of two), so their sum
 * has one rounding either way: a fused multiply-add where the build has
 * one (FUSED), and rint() is then one instruction too. Elsewhere adding
 * and subtracting 1.5 * 2^52 rounds for |y| < 2^51 without a library
 * call, and keeps larger values large. */
static inline __attribute__((always_inline)) double dither_round(float x, int32_t t, double scale,
								 int fused)
{
	const double xs = (double)x * scale;

	if (fused)
		return __builtin_rint(__builtin_fma((double)t, 0x1p-16, xs));
	return (xs + (double)t * 0x1p-16 + 0x1.8p52) - 0x1.8p52;
}

/* The loop of every quantise_fn build: no branch, so that it vectorizes;
 * DITHER and FUSED are constants where it is inlined. A sample was clipped
 * only if it ends at either rail: a cheaper test, on 32-bit lanes, than
 * comparing the doubles. */
static inline __attribute__((always_inline)) int quantise_loop(const float *restrict in,
							       int32_t *restrict out, uint32_t n,
							       int bits, int dither, uint32_t first,
							       uint32_t key, int fused)
{
	const double scale = ldexp(1.0, bits - 1), hi = scale - 1.0, lo = -scale;
	const int shift = 32 - bits;
	const int32_t top = (int32_t)((uint32_t)((1u << (bits - 1)) - 1u) << shift);
	uint32_t rails = 0;

	for (uint32_t i = 0; i < n; i++) {
		double q =
			dither_round(in[i], dither_of(in[i], dither, first + i, key), scale, fused);
		int32_t o;

		q = q > hi ? hi : q;
		q = q < lo ? lo : q;
		q = q == q ? q : 0.0; /* NaN */
		o = (int32_t)((uint32_t)(int32_t)q << shift);
		rails += (uint32_t)(o == top) + (uint32_t)(o == INT32_MIN);
		out[i] = o;
	}
	return rails != 0;
}

/* Builds of the loop for each instruction set; every one performs the
 * same exact or correctly rounded operations, so all give the same bits. */
#define QUANTISE_BUILD(name, attr, fused)                                                          \
	attr static int name(const float *restrict in, int32_t *restrict out, uint32_t n,          \
			     int bits, int dither, uint32_t first, uint32_t key)                   \
	{                                                                                          \
		if (dither)                                                                        \
			return quantise_loop(in, out, n, bits, 1, first, key, fused);              \
		return quantise_loop(in, out, n, bits, 0, first, key, fused);                      \
	}

QUANTISE_BUILD(quantise_generic, , 0)
#ifdef RA_HAVE_X86
QUANTISE_BUILD(quantise_avx2, __attribute__((target("avx2,fma"))), 1)
QUANTISE_BUILD(quantise_avx512, __attribute__((target("avx512f"))), 1)
#endif

/* The instruction set of the fastest build this CPU runs; that build into
 * CV, when it is not NULL. */
static enum ra_isa quantise_choose(ra_converter *cv)
{
	const enum ra_isa isa = ra_cpu_isa();

	if (cv)
		cv->quantise = RA_CPU_PICK(isa, quantise_generic, quantise_avx2, quantise_avx512);
	return isa;
}

const char *ra_converter_kernel(void)
{
	return ra_isa_name(quantise_choose(NULL));
}

ra_converter *ra_converter_create(int channels, int bits, ra_dither dither, uint64_t seed,
				  ra_status *status, ra_diag *diag)
{
	ra_converter *cv = NULL;
	ra_status st = RA_ERR_INVALID;

	if (channels < 1 || channels > RA_MAX_CHANNELS) {
		ra_diag_set(diag, "cannot convert %d channels (1 to %d)", channels,
			    RA_MAX_CHANNELS);
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
	cv->seed = seed;
	(void)quantise_choose(cv);
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

/* Count the samples of the N at IN, the call's samples from AT on, that
 * went beyond the range: the quantise loop's sums again, one at a time. */
static void count_clips(ra_converter *cv, const float *in, size_t n, size_t at, int dither,
			uint32_t first, uint32_t key)
{
	const double scale = ldexp(1.0, cv->bits - 1);

	for (size_t i = 0; i < n; i++) {
		double q = dither_round(in[i], dither_of(in[i], dither, first + (uint32_t)i, key),
					scale, 0);

		if (q > scale - 1.0 || q < -scale)
			cv->clipped[(at + i) % (size_t)cv->channels]++;
	}
}

void ra_converter_to_int(ra_converter *cv, const float *in, int32_t *out, size_t frames)
{
	const int dither = cv->dither == RA_DITHER_TPDF && cv->bits <= 24;
	const size_t total = frames * (size_t)cv->channels;

	for (size_t at = 0, n; at < total; at += n) {
		const uint64_t pos = cv->drawn;
		const uint32_t first = (uint32_t)pos, key = dither_key(cv->seed, pos >> 32);

		n = total - at < CHUNK ? total - at : CHUNK;
		if (n > (1ULL << 32) - first)
			n = (size_t)((1ULL << 32) - first); /* a chunk keeps one key */
		if (cv->quantise(in + at, out + at, (uint32_t)n, cv->bits, dither, first, key))
			count_clips(cv, in + at, n, at, dither, first, key);
		cv->drawn += n;
	}
}

/* A chunk at a time through ra_converter_to_int(), its integers' top
 * halves kept: in a cache-sized chunk the second pass costs little, and
 * the quantiser's loop vectorizes only with one integer width. */
void ra_converter_to_short(ra_converter *cv, const float *in, int16_t *out, size_t frames)
{
	const size_t step = CHUNK / (size_t)cv->channels;
	int32_t wide[CHUNK];

	for (size_t f = 0, n; f < frames; f += n) {
		const size_t at = f * (size_t)cv->channels;

		n = frames - f < step ? frames - f : step;
		ra_converter_to_int(cv, in + at, wide, n);
		for (size_t i = 0; i < n * (size_t)cv->channels; i++)
			out[at + i] = (int16_t)(wide[i] >> 16);
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
