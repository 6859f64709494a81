/* Unit tests for sample conversion: exact integer <-> float mapping, rounding,
 * clipping and its per-channel counts, TPDF dither statistics and its
 * sequence on every build of the loop, gain and dB. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rustyaudio/convert.h"
#include "testutil.h"

#define N_DITHER 100000

/* splitmix64: seeded test signals, independent of the code under test. */
static uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [-1, 1). */
static double rng_signed(uint64_t *state)
{
	return (double)(rng_next(state) >> 11) * 0x1.0p-52 - 1.0;
}

static ra_converter *create_ok(int channels, int bits, ra_dither dither, uint64_t seed)
{
	ra_status st = RA_ERR_NOMEM;
	ra_converter *cv = ra_converter_create(channels, bits, dither, seed, &st, NULL);

	ck_assert_ptr_nonnull(cv);
	ck_assert_int_eq(st, RA_OK);
	return cv;
}

/* Convert N mono samples of IN at BITS with DITHER and SEED; caller frees. */
static int32_t *convert_mono(const float *in, size_t n, int bits, ra_dither dither, uint64_t seed)
{
	ra_converter *cv = create_ok(1, bits, dither, seed);
	int32_t *out = malloc(n * sizeof(*out));

	ck_assert_ptr_nonnull(out);
	ra_converter_to_int(cv, in, out, n);
	ra_converter_destroy(cv);
	return out;
}

/* One value through a fresh converter; *CLIPPED gets its clip count. */
static int32_t convert_one(float x, int bits, uint64_t *clipped)
{
	ra_converter *cv = create_ok(1, bits, RA_DITHER_NONE, 1);
	int32_t out = 0x5a5a5a5a;

	ra_converter_to_int(cv, &x, &out, 1);
	*clipped = ra_converter_clipped(cv, 0);
	ck_assert_uint_eq(ra_converter_clipped_total(cv), *clipped);
	ra_converter_destroy(cv);
	return out;
}

static float *const_signal(float x, size_t n)
{
	float *buf = malloc(n * sizeof(*buf));

	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < n; i++)
		buf[i] = x;
	return buf;
}

/* ---- behaviour ---- */

START_TEST(test_samples_from_int_16_exact)
{
	int32_t *in = malloc(65536 * sizeof(*in));
	float *out = malloc(65536 * sizeof(*out));
	int wrong = 0;

	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(out);
	for (int s = -32768; s <= 32767; s++)
		in[s + 32768] = (int32_t)((uint32_t)s << 16);
	ra_samples_from_int(in, out, 65536);
	for (int s = -32768; s <= 32767; s++)
		wrong += out[s + 32768] != (float)s / 32768.0f;
	ck_assert_int_eq(wrong, 0);
	ck_assert(out[0] == -1.0f);
	ck_assert(out[65535] == 32767.0f / 32768.0f);
	ck_assert(out[32768] == 0.0f);
	free(in);
	free(out);
}
END_TEST

/* Every 24-bit value, a block at a time. */
/* Every 16-bit value: the float ra_samples_from_int() makes of it
 * left-justified, bit for bit. */
START_TEST(test_samples_from_short_exact)
{
	int16_t *in = malloc(65536 * sizeof(*in));
	int32_t *wide = malloc(65536 * sizeof(*wide));
	float *out = malloc(65536 * sizeof(*out)), *want = malloc(65536 * sizeof(*want));

	ck_assert(in && wide && out && want);
	for (int s = -32768; s <= 32767; s++) {
		in[s + 32768] = (int16_t)s;
		wide[s + 32768] = (int32_t)((uint32_t)s << 16);
	}
	ra_samples_from_short(in, out, 65536);
	ra_samples_from_int(wide, want, 65536);
	ck_assert_mem_eq(out, want, 65536 * sizeof(*out));
	ck_assert(out[0] == -1.0f);
	ck_assert(out[65535] == 32767.0f / 32768.0f);
	free(in);
	free(wide);
	free(out);
	free(want);
}
END_TEST

START_TEST(test_samples_from_int_24_exact)
{
	enum { BLOCK = 65536 };
	int32_t *in = malloc(BLOCK * sizeof(*in));
	float *out = malloc(BLOCK * sizeof(*out));
	const int32_t lo = -(1 << 23), hi = (1 << 23) - 1;
	long wrong = 0;

	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(out);
	for (int32_t base = lo; base <= hi; base += BLOCK) {
		for (int i = 0; i < BLOCK; i++)
			in[i] = (int32_t)((uint32_t)(base + i) << 8);
		ra_samples_from_int(in, out, BLOCK);
		for (int i = 0; i < BLOCK; i++)
			wrong += out[i] != (float)(base + i) / 8388608.0f;
	}
	ck_assert_int_eq(wrong, 0);
	in[0] = INT32_MIN;  /* -2^23 << 8 */
	in[1] = 0x7fffff00; /* (2^23 - 1) << 8 */
	ra_samples_from_int(in, out, 2);
	ck_assert(out[0] == -1.0f);
	ck_assert(out[1] == (float)hi / 8388608.0f);
	ck_assert(out[1] < 1.0f);
	free(in);
	free(out);
}
END_TEST

START_TEST(test_to_int_16_round_trip)
{
	float *in = malloc(65536 * sizeof(*in));
	int32_t *out;
	int wrong = 0;

	ck_assert_ptr_nonnull(in);
	for (int s = -32768; s <= 32767; s++)
		in[s + 32768] = (float)s / 32768.0f;
	out = convert_mono(in, 65536, 16, RA_DITHER_NONE, 1);
	for (int s = -32768; s <= 32767; s++)
		wrong += out[s + 32768] != (int32_t)((uint32_t)s << 16);
	ck_assert_int_eq(wrong, 0);
	ck_assert_int_eq(out[0], INT32_MIN);
	ck_assert_int_eq(out[65535], 32767 << 16);
	free(in);
	free(out);
}
END_TEST

START_TEST(test_to_int_24_round_trip)
{
	enum { N = 1 << 20 };
	float *in = malloc(N * sizeof(*in));
	int32_t *want = malloc(N * sizeof(*want));
	int32_t *out;
	uint64_t seed = 24;
	int wrong = 0;

	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(want);
	for (int i = 0; i < N; i++) {
		int32_t s = (int32_t)(rng_next(&seed) >> 40) - (1 << 23);

		if (i == 0)
			s = -(1 << 23);
		else if (i == 1)
			s = (1 << 23) - 1;
		in[i] = (float)s / 8388608.0f;
		want[i] = (int32_t)((uint32_t)s << 8);
	}
	out = convert_mono(in, N, 24, RA_DITHER_NONE, 1);
	for (int i = 0; i < N; i++)
		wrong += out[i] != want[i];
	ck_assert_int_eq(wrong, 0);
	free(in);
	free(want);
	free(out);
}
END_TEST

START_TEST(test_to_int_rounds_to_nearest)
{
	static const struct {
		double lsb; /* input in 16-bit LSBs */
		int want;
	} cases[] = {
		{ 0.4, 0 },	  { 0.6, 1 },	      { -0.4, 0 },	  { -0.6, -1 },
		{ 1.4, 1 },	  { 1.6, 2 },	      { -1.6, -2 },	  { 1000.4, 1000 },
		{ 1000.6, 1001 }, { -1000.6, -1001 }, { 32766.6, 32767 }, { -32767.6, -32768 },
	};
	uint64_t clipped;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int32_t out = convert_one((float)(cases[i].lsb / 32768.0), 16, &clipped);

		ck_assert_msg(out == (int32_t)((uint32_t)cases[i].want << 16),
			      "%g LSB -> %d, want %d", cases[i].lsb, out >> 16, cases[i].want);
		ck_assert_uint_eq(clipped, 0);
	}
}
END_TEST

/* For any in-range input the error is at most half an LSB, and the low bits
 * below the output width are zero. */
START_TEST(test_to_int_error_half_lsb)
{
	enum { N = 200000 };
	static const int widths[] = { 8, 12, 16, 20, 24 };
	float *in = malloc(N * sizeof(*in));
	uint64_t seed = 99;

	ck_assert_ptr_nonnull(in);
	for (int i = 0; i < N; i++)
		in[i] = (float)(rng_signed(&seed) * 0.99); /* clear of the 8-bit rail */
	for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
		int bits = widths[w];
		double scale = ldexp(1.0, bits - 1);
		uint32_t low_mask = (uint32_t)((1ULL << (32 - bits)) - 1);
		int32_t *out = convert_mono(in, N, bits, RA_DITHER_NONE, 1);
		double maxerr = 0.0;
		int low_bits = 0;

		for (int i = 0; i < N; i++) {
			double err = fabs((double)(out[i] >> (32 - bits)) - (double)in[i] * scale);

			if (err > maxerr)
				maxerr = err;
			low_bits += ((uint32_t)out[i] & low_mask) != 0;
		}
		ck_assert_msg(maxerr <= 0.5, "%d bits: max error %g LSB", bits, maxerr);
		ck_assert_int_eq(low_bits, 0);
		free(out);
	}
	free(in);
}
END_TEST

START_TEST(test_to_int_clips_and_counts)
{
	uint64_t clipped;

	ck_assert_int_eq(convert_one(1.0f, 16, &clipped), 32767 << 16);
	ck_assert_uint_eq(clipped, 1);
	ck_assert_int_eq(convert_one(1.5f, 16, &clipped), 32767 << 16);
	ck_assert_uint_eq(clipped, 1);
	ck_assert_int_eq(convert_one(INFINITY, 16, &clipped), 32767 << 16);
	ck_assert_uint_eq(clipped, 1);
	/* -1.0 is -32768, which 16 bits hold: not a clip. */
	ck_assert_int_eq(convert_one(-1.0f, 16, &clipped), INT32_MIN);
	ck_assert_uint_eq(clipped, 0);
	ck_assert_int_eq(convert_one(-1.5f, 16, &clipped), INT32_MIN);
	ck_assert_uint_eq(clipped, 1);
	ck_assert_int_eq(convert_one(-INFINITY, 16, &clipped), INT32_MIN);
	ck_assert_uint_eq(clipped, 1);
	/* The largest value that rounds to 32767 is not a clip; just above is. */
	ck_assert_int_eq(convert_one(32767.4f / 32768.0f, 16, &clipped), 32767 << 16);
	ck_assert_uint_eq(clipped, 0);
	ck_assert_int_eq(convert_one(32767.6f / 32768.0f, 16, &clipped), 32767 << 16);
	ck_assert_uint_eq(clipped, 1);
}
END_TEST

START_TEST(test_to_int_nan_is_silence)
{
	uint64_t clipped;

	ck_assert_int_eq(convert_one(NAN, 16, &clipped), 0);
	ck_assert_uint_eq(clipped, 0);
	ck_assert_int_eq(convert_one(-NAN, 24, &clipped), 0);
	ck_assert_uint_eq(clipped, 0);
	ck_assert_int_eq(convert_one(NAN, 32, &clipped), 0);
	ck_assert_uint_eq(clipped, 0);
}
END_TEST

/* Without dither (_i = 0) and with it, across the converter's chunks. */
START_TEST(test_clip_counts_per_channel)
{
	enum { FRAMES = 1000, CH = 3 };
	float *in = malloc(FRAMES * CH * sizeof(*in));
	int32_t *out = malloc(FRAMES * CH * sizeof(*out));
	ra_converter *cv = create_ok(CH, 16, _i ? RA_DITHER_TPDF : RA_DITHER_NONE, 5);
	uint64_t seed = 3, want[CH] = { 0, 0, 0 };

	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(out);
	for (int f = 0; f < FRAMES; f++) {
		in[f * CH] = (float)(rng_signed(&seed) * 0.9);
		/* Channel 1 overs every third frame, channel 2 every seventh,
		 * below; channel 0 never. */
		in[f * CH + 1] = f % 3 == 0 ? 1.25f : 0.5f;
		in[f * CH + 2] = f % 7 == 0 ? -2.0f : -0.75f;
		want[1] += f % 3 == 0;
		want[2] += f % 7 == 0;
	}
	/* In two uneven calls: the counts accumulate. */
	ra_converter_to_int(cv, in, out, 333);
	ra_converter_to_int(cv, in + 333 * CH, out + 333 * CH, FRAMES - 333);
	for (int c = 0; c < CH; c++)
		ck_assert_uint_eq(ra_converter_clipped(cv, c), want[c]);
	ck_assert_uint_eq(ra_converter_clipped_total(cv), want[0] + want[1] + want[2]);
	ck_assert_uint_gt(want[1], 0);
	ck_assert_uint_gt(want[2], 0);
	ra_converter_destroy(cv);
	free(in);
	free(out);
}
END_TEST

START_TEST(test_stereo_clips_on_one_channel)
{
	enum { FRAMES = 512 };
	float in[FRAMES * 2];
	int32_t out[FRAMES * 2];
	ra_converter *cv = create_ok(2, 16, RA_DITHER_NONE, 5);

	for (int f = 0; f < FRAMES; f++) {
		in[2 * f] = 0.999f;
		in[2 * f + 1] = f % 2 ? 1.01f : -1.01f;
	}
	ra_converter_to_int(cv, in, out, FRAMES);
	ck_assert_uint_eq(ra_converter_clipped(cv, 0), 0);
	ck_assert_uint_eq(ra_converter_clipped(cv, 1), FRAMES);
	ck_assert_uint_eq(ra_converter_clipped_total(cv), FRAMES);
	ck_assert_int_eq(out[0], (int32_t)lrint(0.999 * 32768.0) << 16);
	ck_assert_int_eq(out[1], INT32_MIN);
	ck_assert_int_eq(out[3], 32767 << 16);
	ra_converter_destroy(cv);
}
END_TEST

START_TEST(test_to_int_8_and_32_bits)
{
	uint64_t clipped;
	float in[256];
	int32_t *out;
	int wrong = 0;

	ck_assert_int_eq(convert_one(0.5f, 32, &clipped), 0x40000000);
	ck_assert_uint_eq(clipped, 0);
	ck_assert_int_eq(convert_one(-0.5f, 32, &clipped), -0x40000000);
	ck_assert_int_eq(convert_one(-1.0f, 32, &clipped), INT32_MIN);
	ck_assert_uint_eq(clipped, 0);
	ck_assert_int_eq(convert_one(1.0f, 32, &clipped), INT32_MAX);
	ck_assert_uint_eq(clipped, 1);
	/* 2^-31 is one 32-bit LSB, exact in a float. */
	ck_assert_int_eq(convert_one(0x1.0p-31f, 32, &clipped), 1);
	ck_assert_int_eq(convert_one(-0x1.0p-31f, 32, &clipped), -1);

	ck_assert_int_eq(convert_one(0.5f, 8, &clipped), 64 << 24);
	ck_assert_uint_eq(clipped, 0);
	ck_assert_int_eq(convert_one(-1.0f, 8, &clipped), INT32_MIN);
	ck_assert_uint_eq(clipped, 0);
	ck_assert_int_eq(convert_one(1.0f, 8, &clipped), 127 << 24);
	ck_assert_uint_eq(clipped, 1);
	/* Every 8-bit value round-trips. */
	for (int s = -128; s < 128; s++)
		in[s + 128] = (float)s / 128.0f;
	out = convert_mono(in, 256, 8, RA_DITHER_NONE, 1);
	for (int s = -128; s < 128; s++)
		wrong += out[s + 128] != (int32_t)((uint32_t)s << 24);
	ck_assert_int_eq(wrong, 0);
	free(out);
}
END_TEST

/* Constant input of a quarter LSB: without dither it is lost (always 0);
 * with TPDF dither the output varies and its mean is the input. */
START_TEST(test_dither_mean_is_input)
{
	float *in = const_signal(0.25f / 32768.0f, N_DITHER);
	int32_t *plain = convert_mono(in, N_DITHER, 16, RA_DITHER_NONE, 1);
	int32_t *dith = convert_mono(in, N_DITHER, 16, RA_DITHER_TPDF, 1);
	double sum = 0.0;
	int differ = 0, plain_nonzero = 0;

	for (int i = 0; i < N_DITHER; i++) {
		plain_nonzero += plain[i] != 0;
		differ += dith[i] != plain[i];
		sum += (double)(dith[i] >> 16);
	}
	ck_assert_int_eq(plain_nonzero, 0);
	ck_assert_int_gt(differ, N_DITHER / 10);
	ck_assert_double_eq_tol(sum / N_DITHER, 0.25, 0.02);
	free(in);
	free(plain);
	free(dith);
}
END_TEST

/* TPDF is within (-1, 1) LSB and rounding adds at most 1/2: |error| < 1.5
 * LSB. The dither's variance is 2/12 and the rounding error's 1/12, so the
 * error power is 1/4 LSB^2 whatever the input (the point of TPDF). */
START_TEST(test_dither_error_bound_and_power)
{
	static const double levels[] = { 0.01, 0.25, 0.5, -0.37, 1000.5, -12345.75 };
	float *in = malloc(N_DITHER * sizeof(*in));
	uint64_t seed = 7;

	ck_assert_ptr_nonnull(in);
	for (size_t l = 0; l <= sizeof(levels) / sizeof(levels[0]); l++) {
		int32_t *out;
		double maxerr = 0.0, power = 0.0, mean = 0.0;

		/* The last pass is a random signal rather than a constant. */
		for (int i = 0; i < N_DITHER; i++)
			in[i] = l < sizeof(levels) / sizeof(levels[0])
					? (float)(levels[l] / 32768.0)
					: (float)(rng_signed(&seed) * 0.9);
		out = convert_mono(in, N_DITHER, 16, RA_DITHER_TPDF, 100 + l);
		for (int i = 0; i < N_DITHER; i++) {
			double err = (double)(out[i] >> 16) - (double)in[i] * 32768.0;

			if (fabs(err) > maxerr)
				maxerr = fabs(err);
			power += err * err;
			mean += err;
		}
		power /= N_DITHER;
		mean /= N_DITHER;
		ck_assert_msg(maxerr < 1.5, "pass %zu: max error %g LSB", l, maxerr);
		ck_assert_msg(fabs(power - 0.25) < 0.25 * 0.05, "pass %zu: error power %g LSB^2", l,
			      power);
		ck_assert_msg(fabs(mean) < 0.02, "pass %zu: error mean %g LSB", l, mean);
		free(out);
	}
	free(in);
}
END_TEST

/* Successive errors are uncorrelated (independent per sample), and two
 * channels fed the same signal get different dither. */
START_TEST(test_dither_independent)
{
	enum { FRAMES = N_DITHER / 2 };
	float *in = const_signal(0.5f / 32768.0f, FRAMES * 2);
	ra_converter *cv = create_ok(2, 16, RA_DITHER_TPDF, 11);
	int32_t *out = malloc(FRAMES * 2 * sizeof(*out));
	double e[2], prev = 0.0, lag1 = 0.0, power = 0.0;
	int same = 0;

	ck_assert_ptr_nonnull(out);
	ra_converter_to_int(cv, in, out, FRAMES);
	for (int f = 0; f < FRAMES; f++) {
		e[0] = (double)(out[2 * f] >> 16) - 0.5;
		e[1] = (double)(out[2 * f + 1] >> 16) - 0.5;
		same += out[2 * f] == out[2 * f + 1];
		lag1 += e[0] * prev;
		power += e[0] * e[0];
		prev = e[0];
	}
	ck_assert_double_eq_tol(lag1 / power, 0.0, 0.02);
	/* Independent channels agree about half the time, not always. */
	ck_assert_int_lt(same, FRAMES * 3 / 4);
	ck_assert_uint_eq(ra_converter_clipped_total(cv), 0);
	ra_converter_destroy(cv);
	free(in);
	free(out);
}
END_TEST

START_TEST(test_dither_seeded)
{
	enum { N = 10000 };
	float *in = malloc(N * sizeof(*in));
	int32_t *a, *b, *c;
	uint64_t seed = 17;

	ck_assert_ptr_nonnull(in);
	for (int i = 0; i < N; i++)
		in[i] = (float)(rng_signed(&seed) * 0.5);
	a = convert_mono(in, N, 16, RA_DITHER_TPDF, 42);
	b = convert_mono(in, N, 16, RA_DITHER_TPDF, 42);
	c = convert_mono(in, N, 16, RA_DITHER_TPDF, 43);
	ck_assert_int_eq(memcmp(a, b, N * sizeof(*a)), 0);
	ck_assert_int_ne(memcmp(a, c, N * sizeof(*a)), 0);
	free(in);
	free(a);
	free(b);
	free(c);
}
END_TEST

/* The dither sequence runs on across calls: any split of the input gives the
 * same output as one call. */
START_TEST(test_dither_block_split)
{
	enum { FRAMES = 5000, CH = 2 };
	static const size_t blocks[] = { 1, 7, 64, 3, 1000, 2, 513 };
	float *in = malloc(FRAMES * CH * sizeof(*in));
	int32_t *whole = malloc(FRAMES * CH * sizeof(*whole));
	int32_t *split = malloc(FRAMES * CH * sizeof(*split));
	ra_converter *cv;
	uint64_t seed = 23;
	size_t done = 0, b = 0;

	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(whole);
	ck_assert_ptr_nonnull(split);
	for (int i = 0; i < FRAMES * CH; i++)
		in[i] = (float)(rng_signed(&seed) * 0.01);
	cv = create_ok(CH, 16, RA_DITHER_TPDF, 9);
	ra_converter_to_int(cv, in, whole, FRAMES);
	ra_converter_destroy(cv);
	cv = create_ok(CH, 16, RA_DITHER_TPDF, 9);
	while (done < FRAMES) {
		size_t n = blocks[b++ % (sizeof(blocks) / sizeof(blocks[0]))];

		if (n > FRAMES - done)
			n = FRAMES - done;
		ra_converter_to_int(cv, in + done * CH, split + done * CH, n);
		done += n;
	}
	ra_converter_destroy(cv);
	ck_assert_int_eq(memcmp(whole, split, FRAMES * CH * sizeof(*whole)), 0);
	free(in);
	free(whole);
	free(split);
}
END_TEST

/* Dither applies up to 24 bits; above that the output is undithered. */
START_TEST(test_dither_width_limit)
{
	enum { N = 4096 };
	float *in = malloc(N * sizeof(*in));
	int32_t *plain, *dith;
	uint64_t seed = 31;

	ck_assert_ptr_nonnull(in);
	for (int i = 0; i < N; i++)
		in[i] = (float)(rng_signed(&seed) * 0.9);

	plain = convert_mono(in, N, 32, RA_DITHER_NONE, 1);
	dith = convert_mono(in, N, 32, RA_DITHER_TPDF, 1);
	ck_assert_int_eq(memcmp(plain, dith, N * sizeof(*plain)), 0);
	free(plain);
	free(dith);

	plain = convert_mono(in, N, 25, RA_DITHER_NONE, 1);
	dith = convert_mono(in, N, 25, RA_DITHER_TPDF, 1);
	ck_assert_int_eq(memcmp(plain, dith, N * sizeof(*plain)), 0);
	free(plain);
	free(dith);

	plain = convert_mono(in, N, 24, RA_DITHER_NONE, 1);
	dith = convert_mono(in, N, 24, RA_DITHER_TPDF, 1);
	ck_assert_int_ne(memcmp(plain, dith, N * sizeof(*plain)), 0);
	free(plain);
	free(dith);
	free(in);
}
END_TEST

START_TEST(test_clip_in_place)
{
	enum { FRAMES = 4000, CH = 2 };
	float *buf = malloc(FRAMES * CH * sizeof(*buf));
	float *orig = malloc(FRAMES * CH * sizeof(*orig));
	ra_converter *cv = create_ok(CH, 0, RA_DITHER_NONE, 1);
	uint64_t seed = 41;
	int over = 0, under = 0, nan = 0;

	ck_assert_ptr_nonnull(buf);
	ck_assert_ptr_nonnull(orig);
	/* Channel 0 in range (edges included), channel 1 wild. */
	for (int f = 0; f < FRAMES; f++) {
		buf[f * CH] = (float)rng_signed(&seed);
		buf[f * CH + 1] = (float)(rng_signed(&seed) * 3.0);
	}
	buf[0] = 1.0f;
	buf[2] = -1.0f;
	buf[4] = -0.0f;
	buf[6] = 1e-40f; /* subnormal */
	buf[1] = NAN;
	buf[3] = INFINITY;
	buf[5] = -INFINITY;
	memcpy(orig, buf, FRAMES * CH * sizeof(*buf));
	ra_converter_clip(cv, buf, FRAMES);
	for (int f = 0; f < FRAMES; f++) {
		float x = orig[f * CH + 1], y = buf[f * CH + 1];

		ck_assert_int_eq(memcmp(&buf[f * CH], &orig[f * CH], sizeof(float)), 0);
		if (x != x) {
			nan++;
			ck_assert(y == 0.0f);
		} else if (x > 1.0f) {
			over++;
			ck_assert(y == 1.0f);
		} else if (x < -1.0f) {
			under++;
			ck_assert(y == -1.0f);
		} else {
			ck_assert_int_eq(memcmp(&y, &x, sizeof(float)), 0);
		}
	}
	ck_assert_int_eq(nan, 1);
	ck_assert_int_gt(over, FRAMES / 4);
	ck_assert_int_gt(under, FRAMES / 4);
	ck_assert_uint_eq(ra_converter_clipped(cv, 0), 0);
	ck_assert_uint_eq(ra_converter_clipped(cv, 1), (uint64_t)(over + under));
	ck_assert_uint_eq(ra_converter_clipped_total(cv), (uint64_t)(over + under));
	ra_converter_destroy(cv);
	free(buf);
	free(orig);
}
END_TEST

START_TEST(test_samples_scale)
{
	enum { N = 1000 };
	float buf[N], orig[N];
	uint64_t seed = 53;

	for (int i = 0; i < N; i++)
		orig[i] = buf[i] = (float)rng_signed(&seed);
	ra_samples_scale(buf, N, 1.0f);
	ck_assert_int_eq(memcmp(buf, orig, sizeof(buf)), 0);
	/* Powers of two scale exactly. */
	ra_samples_scale(buf, N, 0.5f);
	for (int i = 0; i < N; i++)
		ck_assert(buf[i] == orig[i] * 0.5f);
	ra_samples_scale(buf, N, 2.0f);
	ck_assert_int_eq(memcmp(buf, orig, sizeof(buf)), 0);
	ra_samples_scale(buf, N, -0.3f);
	for (int i = 0; i < N; i++)
		ck_assert(buf[i] == orig[i] * -0.3f);
	/* Only the first N-1 touched. */
	memcpy(buf, orig, sizeof(buf));
	ra_samples_scale(buf, N - 1, 0.0f);
	ck_assert(buf[N - 2] == 0.0f);
	ck_assert(buf[N - 1] == orig[N - 1]);
}
END_TEST

START_TEST(test_gain_from_db)
{
	uint64_t seed = 61;

	ck_assert(ra_gain_from_db(0.0) == 1.0);
	ck_assert_double_eq_tol(ra_gain_from_db(6.0206), 2.0, 1e-4);
	ck_assert_double_eq_tol(ra_gain_from_db(-20.0), 0.1, 1e-12);
	ck_assert_double_eq_tol(ra_gain_from_db(20.0), 10.0, 1e-12);
	ck_assert_double_eq_tol(ra_gain_from_db(-120.0), 1e-6, 1e-18);
	ck_assert_double_eq_tol(ra_gain_from_db(20.0 * log10(0.5)), 0.5, 1e-15);
	/* Decibels add where factors multiply. */
	for (int i = 0; i < 100; i++) {
		double a = rng_signed(&seed) * 60.0, b = rng_signed(&seed) * 60.0;
		double ab = ra_gain_from_db(a + b);

		ck_assert_double_eq_tol(ra_gain_from_db(a) * ra_gain_from_db(b), ab, ab * 1e-12);
		ck_assert_double_eq_tol(ra_gain_from_db(a) * ra_gain_from_db(-a), 1.0, 1e-12);
	}
}
END_TEST

START_TEST(test_dither_parse_accepts)
{
	ra_dither d = RA_DITHER_NONE;

	ck_assert_int_eq(ra_dither_parse("tpdf", &d), RA_OK);
	ck_assert_int_eq(d, RA_DITHER_TPDF);
	ck_assert_int_eq(ra_dither_parse("none", &d), RA_OK);
	ck_assert_int_eq(d, RA_DITHER_NONE);
	/* The names parse back to what they name. */
	ck_assert_str_eq(ra_dither_name(RA_DITHER_TPDF), "tpdf");
	ck_assert_str_eq(ra_dither_name(RA_DITHER_NONE), "none");
	ck_assert_str_eq(ra_dither_name((ra_dither)7), "?");
}
END_TEST

/* ---- edges ---- */

START_TEST(test_zero_frames)
{
	ra_converter *cv = create_ok(2, 16, RA_DITHER_TPDF, 1);
	float in[2] = { 5.0f, 5.0f };
	int32_t out[2] = { 123, 456 };

	ra_converter_to_int(cv, in, out, 0);
	ra_converter_clip(cv, in, 0);
	ck_assert_int_eq(out[0], 123);
	ck_assert_int_eq(out[1], 456);
	ck_assert(in[0] == 5.0f);
	ck_assert_uint_eq(ra_converter_clipped_total(cv), 0);
	ra_samples_from_int(NULL, NULL, 0);
	ra_samples_scale(NULL, 0, 2.0f);
	ra_converter_destroy(cv);
}
END_TEST

/* Dither near full scale may push a sample over: that is a clip, counted and
 * held at the rails, never wrapped. */
START_TEST(test_dither_at_full_scale)
{
	enum { N = 20000 };
	float *hi = const_signal(32767.0f / 32768.0f, N);
	float *lo = const_signal(-1.0f, N);
	ra_converter *cv = create_ok(1, 16, RA_DITHER_TPDF, 3);
	int32_t *out = malloc(N * sizeof(*out));
	int at_rail = 0, below = 0;

	ck_assert_ptr_nonnull(out);
	ra_converter_to_int(cv, hi, out, N);
	for (int i = 0; i < N; i++) {
		ck_assert_int_ge(out[i] >> 16, 32766);
		at_rail += out[i] == 32767 << 16;
	}
	/* y = 32767 + d rounds to 32768 when d > 1/2: probability 1/8. */
	ck_assert_double_eq_tol((double)ra_converter_clipped(cv, 0) / N, 0.125, 0.01);
	ck_assert_uint_le(ra_converter_clipped(cv, 0), (uint64_t)at_rail);
	ra_converter_destroy(cv);

	cv = create_ok(1, 16, RA_DITHER_TPDF, 3);
	ra_converter_to_int(cv, lo, out, N);
	for (int i = 0; i < N; i++) {
		ck_assert_int_le(out[i] >> 16, -32767);
		below += out[i] == INT32_MIN;
	}
	ck_assert_double_eq_tol((double)ra_converter_clipped(cv, 0) / N, 0.125, 0.01);
	ck_assert_uint_gt((uint64_t)below, ra_converter_clipped(cv, 0));
	ra_converter_destroy(cv);
	free(hi);
	free(lo);
	free(out);
}
END_TEST

START_TEST(test_create_accepts_limits)
{
	static const int bits[] = { 0, 8, 16, 24, 32 };

	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		ra_converter_destroy(create_ok(1, bits[i], RA_DITHER_TPDF, 0));
	ra_converter_destroy(create_ok(64, 16, RA_DITHER_NONE, UINT64_MAX));
	ra_converter_destroy(create_ok(RA_MAX_CHANNELS, 16, RA_DITHER_TPDF, 3));
	/* A NULL status is allowed. */
	ra_converter_destroy(ra_converter_create(2, 16, RA_DITHER_NONE, 0, NULL, NULL));
}
END_TEST

/* Exact zeros are not dithered: digital silence stays silent, while the
 * smallest non-zero input is. */
START_TEST(test_dither_keeps_silence)
{
	enum { N = 10000 };
	float *in = const_signal(0.0f, N);
	int32_t *out;
	int nonzero = 0;

	for (int i = 0; i < N; i += 2)
		in[i] = i % 4 ? -0.0f : 0.0f;
	out = convert_mono(in, N, 16, RA_DITHER_TPDF, 8);
	for (int i = 0; i < N; i++)
		nonzero += out[i] != 0;
	ck_assert_int_eq(nonzero, 0);
	free(out);
	for (int i = 0; i < N; i++)
		in[i] = 0x1.0p-149f; /* the smallest subnormal */
	out = convert_mono(in, N, 16, RA_DITHER_TPDF, 8);
	for (int i = 0; i < N; i++)
		nonzero += out[i] != 0;
	/* rint(d) is non-zero when |d| > 1/2: a quarter of the time. */
	ck_assert_double_eq_tol((double)nonzero / N, 0.25, 0.02);
	free(out);
	free(in);
}
END_TEST

START_TEST(test_seed_zero_dithers)
{
	enum { N = 1000 };
	float *in = const_signal(0.25f / 32768.0f, N);
	int32_t *out = convert_mono(in, N, 16, RA_DITHER_TPDF, 0);
	int nonzero = 0;

	for (int i = 0; i < N; i++)
		nonzero += out[i] != 0;
	ck_assert_int_gt(nonzero, N / 10);
	free(in);
	free(out);
}
END_TEST

START_TEST(test_destroy_null)
{
	ra_converter_destroy(NULL);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_dither_parse_rejects)
{
	static const char *const bad[] = { "TPDF2", "", "tpdf ", "rpdf", "nonee" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ra_dither d = RA_DITHER_TPDF;

		ck_assert_msg(ra_dither_parse(bad[i], &d) == RA_ERR_INVALID, "accepted \"%s\"",
			      bad[i]);
	}
}
END_TEST

START_TEST(test_create_rejects)
{
	static const struct {
		int channels, bits;
		const char *reason;
	} bad[] = {
		{ 0, 16, "cannot convert 0 channels (1 to 1024)" },
		{ -1, 16, "cannot convert -1 channels (1 to 1024)" },
		{ 1025, 16, "cannot convert 1025 channels (1 to 1024)" },
		{ 1, 7, "cannot convert to 7-bit integers (8 to 32)" },
		{ 1, 33, "cannot convert to 33-bit integers (8 to 32)" },
		{ 2, -16, "cannot convert to -16-bit integers (8 to 32)" },
		{ 1, 1, "cannot convert to 1-bit integers (8 to 32)" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ra_status st = RA_OK;
		ra_diag diag = { { 0 } };

		ck_assert_ptr_null(ra_converter_create(bad[i].channels, bad[i].bits, RA_DITHER_NONE,
						       1, &st, &diag));
		ck_assert_int_eq(st, RA_ERR_INVALID);
		ck_assert_str_eq(diag.text, bad[i].reason);
		ck_assert_ptr_null(ra_converter_create(bad[i].channels, bad[i].bits, RA_DITHER_NONE,
						       1, NULL, NULL));
	}
}
END_TEST

/* Every length from 0 to 300 and every position: NaN and both infinities
 * counted, every finite extreme (largest, smallest normal and subnormal,
 * negative zero) not, in float and in double. */
START_TEST(test_nonfinite_count)
{
	static const double bad[] = { NAN, -NAN, INFINITY, -INFINITY };
	static const double good[] = { FLT_MAX, -FLT_MAX, FLT_MIN, 1e-45, -0.0, 1.0 };
	float f[300];
	double d[300];

	for (size_t n = 0; n <= 300; n++) {
		size_t want = 0;

		for (size_t i = 0; i < n; i++) {
			/* Every seventh sample bad, the others cycling through good. */
			double x = i % 7 == 3 ? bad[i % 4] : good[i % 6];

			want += i % 7 == 3;
			f[i] = (float)x;
			d[i] = x;
		}
		size_t first_f = 99, first_d = 99;

		ck_assert_uint_eq(ra_nonfinite_count(f, n, &first_f), want);
		ck_assert_uint_eq(ra_nonfinite_count_double(d, n, &first_d), want);
		/* The first bad one is sample 3 when there is one; else untouched. */
		ck_assert_uint_eq(first_f, n > 3 ? 3 : 99);
		ck_assert_uint_eq(first_d, n > 3 ? 3 : 99);
		ck_assert_uint_eq(ra_nonfinite_count(f, n, NULL), want);
	}
	/* A float-only overflow is a double's finite value. */
	d[0] = 1e300;
	ck_assert_uint_eq(ra_nonfinite_count_double(d, 1, NULL), 0);
}
END_TEST

/* ---- the dither sequence, on every build of the kernel ---- */

/* The dither src/convert.c documents, written out again: stream position N
 * takes h = fmix32(low 32 bits of N * 0x9e3779b9 + key), the key folded
 * from splitmix64's output for SEED + (N / 2^32 + 1) * 0x9e3779b97f4a7c15;
 * the TPDF is ((h >> 16) - (h & 0xffff)) / 2^16 LSB. */
static double ref_dither(uint64_t seed, uint64_t n)
{
	uint64_t z = seed + ((n >> 32) + 1) * 0x9e3779b97f4a7c15ULL;
	uint32_t key, h;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	key = (uint32_t)(z ^ (z >> 32));
	h = (uint32_t)n * 0x9e3779b9u + key;
	h = (h ^ (h >> 16)) * 0x85ebca6bu;
	h = (h ^ (h >> 13)) * 0xc2b2ae35u;
	h ^= h >> 16;
	return ((double)(h >> 16) - (double)(h & 0xffffu)) / 65536.0;
}

/* Sample N of a stream of CHANNELS as the header describes it: scaled,
 * dithered (not above 24 bits, not exact zeros), rint(), clipped (counted
 * in CLIPPED), NaN to 0, left-justified. */
static int32_t ref_convert(float x, uint64_t n, int bits, int dither, uint64_t seed,
			   uint64_t *clipped)
{
	const double scale = ldexp(1.0, bits - 1);
	double q = (double)x * scale;

	if (dither && bits <= 24 && x != 0.0f)
		q += ref_dither(seed, n);
	q = rint(q);
	if (q > scale - 1.0 || q < -scale) {
		(*clipped)++;
		q = q > 0 ? scale - 1.0 : -scale;
	}
	if (isnan(q))
		q = 0.0;
	return (int32_t)((uint32_t)(int64_t)q << (32 - bits));
}

/* Every width, channel count and dither, in pieces of uneven sizes: the
 * bytes and clip counts of the reference, whatever build of the loop this
 * CPU (or GLIBC_TUNABLES) chose. */
START_TEST(test_dither_matches_reference)
{
	enum { FRAMES = 3001 };
	static const int bits[] = { 8, 12, 16, 20, 24, 32 };
	static const size_t pieces[] = { 1, 300, 7, 1024, 33 };
	float *in = malloc(FRAMES * 3 * sizeof(*in));
	int32_t *out = malloc(FRAMES * 3 * sizeof(*out));
	uint64_t seed = 41;

	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(out);
	for (int i = 0; i < FRAMES * 3; i++)
		in[i] = i % 17 == 0   ? 0.0f
			: i % 29 == 0 ? NAN
			: i % 13 == 0 ? (float)(rng_signed(&seed) * 1e-6)
				      : (float)(rng_signed(&seed) * 1.1);
	for (size_t b = 0; b < sizeof(bits) / sizeof(bits[0]); b++)
		for (int ch = 1; ch <= 3; ch++)
			for (int d = 0; d <= 1; d++) {
				ra_converter *cv = create_ok(
					ch, bits[b], d ? RA_DITHER_TPDF : RA_DITHER_NONE, 1000 + b);
				uint64_t want_clips[3] = { 0 };
				size_t done = 0, k = 0;

				while (done < FRAMES) {
					size_t n = pieces[k++ % 5];

					n = n < FRAMES - done ? n : FRAMES - done;
					ra_converter_to_int(cv, in + done * (size_t)ch,
							    out + done * (size_t)ch, n);
					done += n;
				}
				for (uint32_t i = 0; i < FRAMES * (uint32_t)ch; i++) {
					int32_t want = ref_convert(in[i], i, bits[b], d, 1000 + b,
								   &want_clips[i % (uint32_t)ch]);

					ck_assert_msg(
						out[i] == want,
						"%d bits, %d ch, dither %d, sample %u: %d, not %d",
						bits[b], ch, d, i, out[i], want);
				}
				for (int c = 0; c < ch; c++)
					ck_assert_uint_eq(ra_converter_clipped(cv, c),
							  want_clips[c]);
				ra_converter_destroy(cv);
			}
	free(in);
	free(out);
}
END_TEST

/* To 16-bit integers: the top halves of ra_converter_to_int()'s and the
 * same clip counts, for 1, 3 and the most channels (a frame a chunk), in
 * pieces of other sizes than to_int's, dithered or not. */
START_TEST(test_to_short_is_to_int)
{
	enum { SAMPLES = 3 * 1024 * 7 };
	static const int channels[] = { 1, 3, RA_MAX_CHANNELS };
	float *in = malloc(SAMPLES * sizeof(*in));
	int32_t *wide = malloc(SAMPLES * sizeof(*wide));
	int16_t *narrow = malloc(SAMPLES * sizeof(*narrow));
	uint64_t seed = 77;

	ck_assert(in && wide && narrow);
	for (int i = 0; i < SAMPLES; i++)
		in[i] = i % 11 == 0 ? 0.0f : i % 31 == 0 ? NAN : (float)(rng_signed(&seed) * 1.2);
	for (size_t k = 0; k < sizeof(channels) / sizeof(channels[0]); k++)
		for (int d = 0; d <= 1; d++) {
			const int ch = channels[k];
			const size_t frames = SAMPLES / (size_t)ch;
			const ra_dither dither = d ? RA_DITHER_TPDF : RA_DITHER_NONE;
			ra_converter *a = create_ok(ch, 16, dither, 5),
				     *b = create_ok(ch, 16, dither, 5);
			size_t clips = 0;

			ra_converter_to_int(a, in, wide, frames / 3);
			ra_converter_to_int(a, in + frames / 3 * (size_t)ch,
					    wide + frames / 3 * (size_t)ch, frames - frames / 3);
			ra_converter_to_short(b, in, narrow, 1);
			ra_converter_to_short(b, in + ch, narrow + ch, frames - 1);
			for (size_t i = 0; i < frames * (size_t)ch; i++)
				ck_assert_msg(narrow[i] == wide[i] >> 16,
					      "%d ch, dither %d, sample %zu: %d, not %d", ch, d, i,
					      narrow[i], wide[i] >> 16);
			for (int c = 0; c < ch; c++) {
				ck_assert_uint_eq(ra_converter_clipped(b, c),
						  ra_converter_clipped(a, c));
				clips += ra_converter_clipped(a, c);
			}
			ck_assert_uint_gt(clips, 0);
			ra_converter_destroy(a);
			ra_converter_destroy(b);
		}
	free(in);
	free(wide);
	free(narrow);
}
END_TEST

#ifndef RA_TEST_TSAN
/* Past 2^32 samples (12 hours of stereo at 48 kHz) the key changes: the
 * samples on either side of that position are the reference's. */
START_TEST(test_dither_past_2_32)
{
	enum { PIECE = 1 << 20, AROUND = 300 };
	const uint64_t before = (1ULL << 32) - AROUND / 3;
	float *in = const_signal(0.3f / 32768.0f, PIECE);
	int32_t *out = malloc(PIECE * sizeof(*out));
	ra_converter *cv = create_ok(1, 16, RA_DITHER_TPDF, 12);
	uint64_t done = 0, clipped = 0;

	ck_assert_ptr_nonnull(out);
	while (done < before) {
		size_t n = before - done < PIECE ? (size_t)(before - done) : PIECE;

		ra_converter_to_int(cv, in, out, n);
		done += n;
	}
	ra_converter_to_int(cv, in, out, AROUND);
	for (int i = 0; i < AROUND; i++)
		ck_assert_msg(out[i] ==
				      ref_convert(in[i], before + (uint64_t)i, 16, 1, 12, &clipped),
			      "stream position %llu", (unsigned long long)(before + (uint64_t)i));
	ra_converter_destroy(cv);
	free(in);
	free(out);
}
END_TEST
#endif

/* The probability that an input F LSB above an integer comes out K LSB
 * above it with TPDF dither in (-1, 1): that F + d rounds to K, from the
 * triangle's distribution function. */
static double triangle_cdf(double t)
{
	return t <= -1.0  ? 0.0
	       : t <= 0.0 ? (1.0 + t) * (1.0 + t) / 2
	       : t < 1.0  ? 1.0 - (1.0 - t) * (1.0 - t) / 2
			  : 1.0;
}

/* The dither's distribution is the triangle: for inputs at sixteen points
 * between two integers, the share of each output value is the analytic
 * probability (within five standard deviations). */
START_TEST(test_dither_triangular)
{
	enum { N = 65536 };
	float *in = malloc(N * sizeof(*in));

	ck_assert_ptr_nonnull(in);
	for (int s = 0; s < 16; s++) {
		const double f = s / 16.0 + 1.0 / 64;
		int32_t *out;
		int count[4] = { 0 };

		for (int i = 0; i < N; i++)
			in[i] = (float)((1000.0 + f) / 32768.0);
		out = convert_mono(in, N, 16, RA_DITHER_TPDF, 77 + s);
		for (int i = 0; i < N; i++) {
			int k = (out[i] >> 16) - 1000;

			ck_assert_int_ge(k, -1);
			ck_assert_int_le(k, 2);
			count[k + 1]++;
		}
		for (int k = -1; k <= 2; k++) {
			double p = triangle_cdf(k + 0.5 - f) - triangle_cdf(k - 0.5 - f);
			double sd = sqrt(N * p * (1 - p));

			ck_assert_msg(fabs(count[k + 1] - N * p) <= 5 * sd + 1,
				      "input +%g LSB: %d outputs at %+d, expected %.0f", f,
				      count[k + 1], k, N * p);
		}
		free(out);
	}
	free(in);
}
END_TEST

/* Normalised correlation of the errors E and F of N samples at LAG. */
static double correlation(const double *e, const double *f, size_t n, size_t lag)
{
	double num = 0.0, ee = 0.0, ff = 0.0;

	for (size_t i = 0; i + lag < n; i++) {
		num += e[i + lag] * f[i];
		ee += e[i + lag] * e[i + lag];
		ff += f[i] * f[i];
	}
	return num / sqrt(ee * ff);
}

/* The error is white: no correlation within a channel at lags 1 to 64,
 * nor between two channels at lags 0 to 4 either way (the standard
 * deviation of each estimate is 1/sqrt(N), 0.0022). */
START_TEST(test_dither_white)
{
	enum { FRAMES = 200000 };
	float *in = malloc(FRAMES * 2 * sizeof(*in));
	int32_t *out = malloc(FRAMES * 2 * sizeof(*out));
	double *e[2] = { malloc(FRAMES * sizeof(double)), malloc(FRAMES * sizeof(double)) };
	ra_converter *cv = create_ok(2, 16, RA_DITHER_TPDF, 5);
	uint64_t seed = 3;

	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(e[0]);
	ck_assert_ptr_nonnull(e[1]);
	for (int i = 0; i < FRAMES * 2; i++)
		in[i] = (float)(rng_signed(&seed) * 0.5);
	ra_converter_to_int(cv, in, out, FRAMES);
	for (int i = 0; i < FRAMES; i++)
		for (int c = 0; c < 2; c++)
			e[c][i] = (double)(out[2 * i + c] >> 16) - (double)in[2 * i + c] * 32768.0;
	for (size_t lag = 1; lag <= 64; lag++)
		for (int c = 0; c < 2; c++)
			ck_assert_msg(fabs(correlation(e[c], e[c], FRAMES, lag)) < 0.012,
				      "channel %d, lag %zu: %g", c, lag,
				      correlation(e[c], e[c], FRAMES, lag));
	for (size_t lag = 0; lag <= 4; lag++) {
		ck_assert_double_lt(fabs(correlation(e[0], e[1], FRAMES, lag)), 0.012);
		ck_assert_double_lt(fabs(correlation(e[1], e[0], FRAMES, lag)), 0.012);
	}
	ra_converter_destroy(cv);
	free(in);
	free(out);
	free(e[0]);
	free(e[1]);
}
END_TEST

/* The build the converters use: in a child of test_dither_every_build the
 * one it asked for, else the fastest glibc says this CPU runs. */
START_TEST(test_dither_build_asked)
{
	ra_test_assert_build(ra_converter_kernel(), "avx2");
}
END_TEST

/* The dither case again on the other builds this CPU runs. */
START_TEST(test_dither_every_build)
{
	ra_test_rerun_builds("convert", "dither", 0);
}
END_TEST

static Suite *convert_suite(void)
{
	Suite *s = suite_create("convert");
	TCase *tc;

	tc = tcase_create("behaviour");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_samples_from_int_16_exact);
	tcase_add_test(tc, test_samples_from_short_exact);
	tcase_add_test(tc, test_samples_from_int_24_exact);
	tcase_add_test(tc, test_to_int_16_round_trip);
	tcase_add_test(tc, test_to_int_24_round_trip);
	tcase_add_test(tc, test_to_int_rounds_to_nearest);
	tcase_add_test(tc, test_to_int_error_half_lsb);
	tcase_add_test(tc, test_to_int_clips_and_counts);
	tcase_add_test(tc, test_to_int_nan_is_silence);
	tcase_add_loop_test(tc, test_clip_counts_per_channel, 0, 2);
	tcase_add_test(tc, test_stereo_clips_on_one_channel);
	tcase_add_test(tc, test_to_int_8_and_32_bits);
	tcase_add_test(tc, test_dither_mean_is_input);
	tcase_add_test(tc, test_dither_error_bound_and_power);
	tcase_add_test(tc, test_dither_independent);
	tcase_add_test(tc, test_dither_seeded);
	tcase_add_test(tc, test_dither_block_split);
	tcase_add_test(tc, test_dither_width_limit);
	tcase_add_test(tc, test_clip_in_place);
	tcase_add_test(tc, test_samples_scale);
	tcase_add_test(tc, test_gain_from_db);
	tcase_add_test(tc, test_nonfinite_count);
	tcase_add_test(tc, test_dither_parse_accepts);
	suite_add_tcase(s, tc);

	tc = tcase_create("edges");
	tcase_add_test(tc, test_zero_frames);
	tcase_add_test(tc, test_dither_at_full_scale);
	tcase_add_test(tc, test_create_accepts_limits);
	tcase_add_test(tc, test_dither_keeps_silence);
	tcase_add_test(tc, test_seed_zero_dithers);
	tcase_add_test(tc, test_destroy_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("dither");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_dither_build_asked);
	tcase_add_test(tc, test_dither_matches_reference);
	tcase_add_test(tc, test_to_short_is_to_int);
	tcase_add_test(tc, test_dither_triangular);
	tcase_add_test(tc, test_dither_white);
	suite_add_tcase(s, tc);

#ifndef RA_TEST_TSAN /* no threads in it, and 40 s under ThreadSanitizer */
	tc = tcase_create("long");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_dither_past_2_32);
	suite_add_tcase(s, tc);
#endif

	tc = tcase_create("builds");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_dither_every_build);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_dither_parse_rejects);
	tcase_add_test(tc, test_create_rejects);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return ra_test_main(convert_suite());
}
