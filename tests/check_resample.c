/* Unit tests for the resampler: exact output lengths for any blocking,
 * accuracy against analytic sines, channel separation and argument checks. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "rustyaudio/resample.h"
#include "testutil.h"

static const int rate_pairs[][2] = {
	{ 44100, 48000 }, { 48000, 44100 }, { 48000, 96000 },
	{ 96000, 8000 },  { 8000, 192000 }, { 22050, 44100 },
};
#define NPAIRS (int)(sizeof(rate_pairs) / sizeof(rate_pairs[0]))

static const ra_resample_quality qualities[] = {
	RA_RESAMPLE_BEST,
	RA_RESAMPLE_MEDIUM,
	RA_RESAMPLE_FAST,
	RA_RESAMPLE_LINEAR,
};
#define NQUALITIES (int)(sizeof(qualities) / sizeof(qualities[0]))

/* Seeded white noise in [-0.5, 0.5), FRAMES * CHANNELS samples (xorshift32). */
static float *make_noise(size_t frames, int channels, uint32_t seed)
{
	size_t i, n = frames * (size_t)channels;
	float *x = malloc((n ? n : 1) * sizeof(*x));

	ck_assert_ptr_nonnull(x);
	for (i = 0; i < n; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		x[i] = (float)(seed / 4294967296.0 - 0.5);
	}
	return x;
}

static const double two_pi = 6.28318530717958647692;

/* AMP * sin(2 pi FREQ t) at t = k / RATE - DELAY, mono. */
static double sine_at(double amp, double freq, int rate, size_t k, double delay)
{
	return amp * sin(two_pi * freq * ((double)k / rate - delay));
}

static float *make_sine(size_t frames, double amp, double freq, int rate)
{
	float *x = malloc((frames ? frames : 1) * sizeof(*x));
	size_t k;

	ck_assert_ptr_nonnull(x);
	for (k = 0; k < frames; k++)
		x[k] = (float)sine_at(amp, freq, rate, k, 0.0);
	return x;
}

/*
 * Convert FRAMES frames of IN in blocks of BLOCK, flushing into a buffer of
 * FLUSH_CAP frames (0: ra_resampler_max_output(rs, 0)), and check on the way
 * what every caller relies on:
 * - each process() call gets an output buffer of exactly max_output frames,
 *   so the sanitizer sees any overrun;
 * - its input sits in a buffer of its own behind a poison frame, so a read
 *   before the input (libsamplerate is not instrumented) shows in the output
 *   instead of finding the neighbouring sample by luck;
 * - output never runs ahead of round(input so far * ratio) nor lags it by
 *   more than max_output(0) frames;
 * - flush() ends at exactly the target length and then keeps returning 0.
 * Returns the output (caller frees) and its length in *OUT_LEN.
 */
static float *convert(int channels, int in_rate, int out_rate, ra_resample_quality quality,
		      const float *in, size_t frames, size_t block, size_t flush_cap,
		      size_t *out_len)
{
	size_t ch = (size_t)channels;
	size_t total = (size_t)ra_resample_length((int64_t)frames, in_rate, out_rate);
	size_t done = 0, len = 0, got, cap, flush_max, calls = 0, i;
	float *out, *scratch, *block_in;
	ra_resampler *rs;
	ra_status st;

	rs = ra_resampler_create(channels, in_rate, out_rate, quality, &st, NULL);
	ck_assert_msg(rs != NULL, "create %d->%d: %s", in_rate, out_rate, ra_strerror(st));
	ck_assert_int_eq(st, RA_OK);
	flush_max = ra_resampler_max_output(rs, 0);
	ck_assert_uint_gt(flush_max, 0);
	if (!flush_cap)
		flush_cap = flush_max;

	out = malloc((total + 1) * ch * sizeof(*out));
	ck_assert_ptr_nonnull(out);
	while (done < frames) {
		size_t n = frames - done < block ? frames - done : block;
		int64_t target;

		/* Plain ifs: a passing ck_assert costs a message to the parent
		 * process, and there are 10^5 blocks here. */
		cap = ra_resampler_max_output(rs, n);
		if (cap < (size_t)ra_resample_length((int64_t)n, in_rate, out_rate))
			ck_abort_msg("max_output(%zu) = %zu is too small", n, cap);
		scratch = malloc(cap * ch * sizeof(*scratch));
		block_in = malloc((n + 1) * ch * sizeof(*block_in));
		if (!scratch || !block_in)
			ck_abort_msg("out of memory");
		for (i = 0; i < ch; i++)
			block_in[i] = 1e6f;
		memcpy(block_in + ch, in + done * ch, n * ch * sizeof(*in));
		st = ra_resampler_process(rs, block_in + ch, n, scratch, cap, &got);
		free(block_in);
		if (st != RA_OK || len + got > total)
			ck_abort_msg("process at frame %zu: %s, %zu frames", done, ra_strerror(st),
				     got);
		memcpy(out + len * ch, scratch, got * ch * sizeof(*out));
		free(scratch);
		done += n;
		len += got;

		target = ra_resample_length((int64_t)done, in_rate, out_rate);
		if ((int64_t)len > target || target - (int64_t)len > (int64_t)flush_max)
			ck_abort_msg("after %zu frames in: %zu out, target %lld, lag limit %zu",
				     done, len, (long long)target, flush_max);
	}

	scratch = malloc(flush_cap * ch * sizeof(*scratch));
	ck_assert_ptr_nonnull(scratch);
	do {
		st = ra_resampler_flush(rs, scratch, flush_cap, &got);
		ck_assert_int_eq(st, RA_OK);
		ck_assert_uint_le(got, flush_cap);
		ck_assert_uint_le(len + got, total);
		memcpy(out + len * ch, scratch, got * ch * sizeof(*out));
		len += got;
		calls++;
	} while (got > 0);
	/* A buffer of max_output(0) frames takes the whole tail at once. */
	if (flush_cap >= flush_max)
		ck_assert_uint_le(calls, 2);
	st = ra_resampler_flush(rs, scratch, flush_cap, &got);
	ck_assert_int_eq(st, RA_OK);
	ck_assert_uint_eq(got, 0);
	free(scratch);
	ra_resampler_destroy(rs);

	ck_assert_uint_eq(len, total);
	*out_len = len;
	return out;
}

/* Largest |a - b| over N samples. */
static double max_diff(const float *a, const float *b, size_t n)
{
	double m = 0.0;
	size_t i;

	for (i = 0; i < n; i++)
		m = fmax(m, fabs((double)a[i] - b[i]));
	return m;
}

/* Exact round-half-up of IN * RATE_OUT / RATE_IN, independently of the library. */
static int64_t reference_length(int64_t in, int rate_in, int rate_out)
{
#ifdef __SIZEOF_INT128__
	__int128 num = (__int128)in * rate_out;

	return (int64_t)((2 * num + rate_in) / (2 * (__int128)rate_in));
#else
	return (int64_t)floorl((long double)in * rate_out / rate_in + 0.5L);
#endif
}

/* ---- behaviour ---- */

START_TEST(test_length_values)
{
	ck_assert_int_eq(ra_resample_length(44100, 44100, 48000), 48000);
	ck_assert_int_eq(ra_resample_length(1, 48000, 44100), 1); /* 0.91875 */
	ck_assert_int_eq(ra_resample_length(0, 48000, 44100), 0);
	ck_assert_int_eq(ra_resample_length(1, 2, 1), 1);		  /* 0.5 rounds up */
	ck_assert_int_eq(ra_resample_length(3, 2, 1), 2);		  /* 1.5 rounds up */
	ck_assert_int_eq(ra_resample_length(1, 4, 1), 0);		  /* 0.25 */
	ck_assert_int_eq(ra_resample_length(3, 4, 1), 1);		  /* 0.75 */
	ck_assert_int_eq(ra_resample_length(12345, 44100, 48000), 13437); /* 13436.73 */
	ck_assert_int_eq(ra_resample_length(12345, 48000, 44100), 11342); /* 11341.97 */
	ck_assert_int_eq(ra_resample_length(1, 256, 1), 0);		  /* 1/256 */
	ck_assert_int_eq(ra_resample_length(128, 256, 1), 1);		  /* exactly 0.5 */
	ck_assert_int_eq(ra_resample_length(127, 256, 1), 0);
	ck_assert_int_eq(ra_resample_length(1, 1, 256), 256);
}
END_TEST

START_TEST(test_length_large)
{
	/* 2 * in * out_rate, the plain round-half-up numerator, comes within 5%
	 * of INT64_MAX here; the last two counts overflow it outright. */
	static const int64_t counts[] = {
		(INT64_C(1) << 40) - 1, INT64_C(1) << 40,      (INT64_C(1) << 40) + 12345,
		INT64_C(1099511627775), INT64_C(987654321098),
	};
	static const int rates[][2] = {
		{ 44100, 48000 }, { 3999999, 4000000 }, { 4000000, 3999997 },
		{ 7, 4000000 },	  { 4000000, 1 },	{ 1, 4000000 },
	};
	static const struct {
		int64_t n;
		int in_rate, out_rate;
	} huge[] = {
		{ INT64_C(1) << 46, 3999999, 4000000 }, { INT64_C(3) << 50, 4000000, 3999997 },
		{ INT64_C(3) << 50, 44100, 48000 },	{ INT64_C(1) << 60, 48000, 44100 },
		{ INT64_MAX / 2, 4000000, 1 },
	};
	uint32_t seed = 12345;
	size_t i, j;

	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		for (j = 0; j < sizeof(rates) / sizeof(rates[0]); j++)
			ck_assert_int_eq(ra_resample_length(counts[i], rates[j][0], rates[j][1]),
					 reference_length(counts[i], rates[j][0], rates[j][1]));

	for (i = 0; i < sizeof(huge) / sizeof(huge[0]); i++)
		ck_assert_int_eq(ra_resample_length(huge[i].n, huge[i].in_rate, huge[i].out_rate),
				 reference_length(huge[i].n, huge[i].in_rate, huge[i].out_rate));

	/* 1 << 40 frames at 44.1 kHz -> 48 kHz is 1196747349960.27... */
	ck_assert_int_eq(ra_resample_length(INT64_C(1) << 40, 44100, 48000),
			 INT64_C(1196747349960));

	for (i = 0; i < 10000; i++) {
		int64_t n;
		int a, b;

		seed = seed * 1664525u + 1013904223u;
		n = (int64_t)(seed >> 2) << 9 | (seed & 511);
		seed = seed * 1664525u + 1013904223u;
		a = (int)(seed % 4000000u) + 1;
		seed = seed * 1664525u + 1013904223u;
		b = (int)(seed % 4000000u) + 1;
		ck_assert_int_eq(ra_resample_length(n, a, b), reference_length(n, a, b));
	}
}
END_TEST

/* Every rate pair x quality: exact length for N in {0, 1, 12345} and block
 * sizes 1, 7, 1000, 65536, and the same samples whatever the block size. */
START_TEST(test_length_stream)
{
	static const size_t blocks[] = { 65536, 1000, 7, 1 };
	static const size_t counts[] = { 12345, 1, 0 };
	int in_rate = rate_pairs[_i / NQUALITIES][0];
	int out_rate = rate_pairs[_i / NQUALITIES][1];
	ra_resample_quality quality = qualities[_i % NQUALITIES];
	float *in = make_noise(12345, 1, 42 + (uint32_t)_i);
	size_t b, c;

	for (c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		float *ref = NULL;
		size_t ref_len = 0;

		for (b = 0; b < sizeof(blocks) / sizeof(blocks[0]); b++) {
			size_t len;
			float *out = convert(1, in_rate, out_rate, quality, in, counts[c],
					     blocks[b], 0, &len);

			ck_assert_int_eq(len,
					 ra_resample_length((int64_t)counts[c], in_rate, out_rate));
			if (!ref) {
				ref = out;
				ref_len = len;
				continue;
			}
			ck_assert_uint_eq(len, ref_len);
			ck_assert_double_eq_tol(max_diff(out, ref, len), 0.0, 1e-6);
			free(out);
		}
		free(ref);
	}
	free(in);
}
END_TEST

/*
 * A 1 kHz sine through each quality against the analytic sine at the output
 * rate, away from the edges where the filter sees the zeros around the
 * signal. libsamplerate's sinc output is time-aligned: output frame k is the
 * signal at k / out_rate. Measured maximum errors (amplitude 0.5, 0.5 s):
 * best 6.0e-8 up / 6.9e-8 down, medium 7.5e-8 / 2.7e-7, fast 2.8e-6 / 6.1e-6;
 * tolerances are about 10x those. The linear converter lags by one input
 * frame; its error is then the interpolation error A (w T)^2 / 8 = 1.27e-3.
 */
START_TEST(test_sine_accuracy)
{
	static const struct {
		ra_resample_quality quality;
		double tol;
		int delay; /* input frames */
	} cases[] = {
		{ RA_RESAMPLE_BEST, 1e-6, 0 },
		{ RA_RESAMPLE_MEDIUM, 3e-6, 0 },
		{ RA_RESAMPLE_FAST, 6e-5, 0 },
		{ RA_RESAMPLE_LINEAR, 1.5e-3, 1 },
	};
	static const int pairs[][2] = { { 44100, 48000 }, { 48000, 44100 } };
	const double amp = 0.5, freq = 1000.0;
	size_t c, p, k;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (p = 0; p < 2; p++) {
			int in_rate = pairs[p][0], out_rate = pairs[p][1];
			size_t frames = (size_t)in_rate / 2, len;
			double delay = (double)cases[c].delay / in_rate, err = 0.0;
			float *in = make_sine(frames, amp, freq, in_rate);
			float *out = convert(1, in_rate, out_rate, cases[c].quality, in, frames,
					     4096, 0, &len);

			for (k = 1000; k < len - 1000; k++)
				err = fmax(err,
					   fabs(out[k] - sine_at(amp, freq, out_rate, k, delay)));
			ck_assert_msg(err <= cases[c].tol, "quality %d %d->%d: error %g > %g",
				      (int)cases[c].quality, in_rate, out_rate, err, cases[c].tol);
			free(in);
			free(out);
		}
	}
}
END_TEST

/* Channels are converted independently: silence stays silence next to a
 * sine, and the sine channel equals the same signal converted alone. */
START_TEST(test_channels_separate)
{
	const size_t frames = 8000;
	float *mono = make_sine(frames, 0.8, 1000.0, 44100);
	float *stereo = malloc(2 * frames * sizeof(*stereo));
	float *left, *out, *alone;
	size_t k, len, alone_len;
	double silent = 0.0, loud = 0.0;

	ck_assert_ptr_nonnull(stereo);
	for (k = 0; k < frames; k++) {
		stereo[2 * k] = mono[k];
		stereo[2 * k + 1] = 0.0f;
	}
	out = convert(2, 44100, 48000, RA_RESAMPLE_BEST, stereo, frames, 1000, 0, &len);
	alone = convert(1, 44100, 48000, RA_RESAMPLE_BEST, mono, frames, 1000, 0, &alone_len);
	ck_assert_uint_eq(len, alone_len);

	left = malloc(len * sizeof(*left));
	ck_assert_ptr_nonnull(left);
	for (k = 0; k < len; k++) {
		left[k] = out[2 * k];
		loud = fmax(loud, fabs(out[2 * k]));
		silent = fmax(silent, fabs(out[2 * k + 1]));
	}
	ck_assert_double_eq_tol(silent, 0.0, 1e-9);
	ck_assert_double_gt(loud, 0.7);
	ck_assert_double_eq_tol(max_diff(left, alone, len), 0.0, 1e-6);

	free(left);
	free(alone);
	free(out);
	free(stereo);
	free(mono);
}
END_TEST

/* Blocks of 64 against one call, for multichannel noise on each converter;
 * linear at 48 -> 44.1 kHz runs ahead of the target and exercises hold-back. */
START_TEST(test_block_independence)
{
	static const struct {
		int in_rate, out_rate;
		ra_resample_quality quality;
	} cases[] = {
		{ 44100, 48000, RA_RESAMPLE_BEST },   { 96000, 8000, RA_RESAMPLE_MEDIUM },
		{ 8000, 44100, RA_RESAMPLE_FAST },    { 48000, 44100, RA_RESAMPLE_LINEAR },
		{ 44100, 22050, RA_RESAMPLE_LINEAR },
	};
	const size_t frames = 20000;
	float *in = make_noise(frames, 3, 7);
	size_t c;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		size_t len1, len64;
		float *one = convert(3, cases[c].in_rate, cases[c].out_rate, cases[c].quality, in,
				     frames, frames, 0, &len1);
		float *blocks = convert(3, cases[c].in_rate, cases[c].out_rate, cases[c].quality,
					in, frames, 64, 0, &len64);

		ck_assert_uint_eq(len1, len64);
		ck_assert_double_eq_tol(max_diff(one, blocks, 3 * len1), 0.0, 1e-6);
		free(one);
		free(blocks);
	}
	free(in);
}
END_TEST

/* ---- edges ---- */

START_TEST(test_flush_without_input)
{
	ra_resampler *rs = ra_resampler_create(2, 44100, 48000, RA_RESAMPLE_FAST, NULL, NULL);
	float buf[2 * 8];
	size_t got = 99;

	ck_assert_ptr_nonnull(rs);
	ck_assert_int_eq(ra_resampler_flush(rs, buf, 8, &got), RA_OK);
	ck_assert_uint_eq(got, 0);
	ck_assert_int_eq(ra_resampler_flush(rs, buf, 8, &got), RA_OK);
	ck_assert_uint_eq(got, 0);
	ra_resampler_destroy(rs);
}
END_TEST

/* Draining the tail one frame (or seven) at a time gives the same samples. */
START_TEST(test_flush_small_buffer)
{
	static const ra_resample_quality qs[] = { RA_RESAMPLE_MEDIUM, RA_RESAMPLE_LINEAR };
	const size_t frames = 5000;
	float *in = make_noise(frames, 2, 99);
	size_t q, len, len1, len7;

	for (q = 0; q < 2; q++) {
		float *ref = convert(2, 48000, 44100, qs[q], in, frames, 512, 0, &len);
		float *one = convert(2, 48000, 44100, qs[q], in, frames, 512, 1, &len1);
		float *seven = convert(2, 48000, 44100, qs[q], in, frames, 512, 7, &len7);

		ck_assert_uint_eq(len1, len);
		ck_assert_uint_eq(len7, len);
		ck_assert_double_eq_tol(max_diff(one, ref, 2 * len), 0.0, 1e-6);
		ck_assert_double_eq_tol(max_diff(seven, ref, 2 * len), 0.0, 1e-6);
		free(ref);
		free(one);
		free(seven);
	}
	free(in);
}
END_TEST

/*
 * The limits of libsamplerate's ratio are accepted, keep the length and
 * carry a constant through: the middle of the output is real converter
 * output, not padding (its src_simple() once gave nothing at ratios below
 * 1/214). Measured error at the constant: up to 1e-5 (best, x256).
 */
START_TEST(test_extreme_ratios)
{
	static const struct {
		int in_rate, out_rate;
		ra_resample_quality quality;
		size_t frames;
	} cases[] = {
		{ 256000, 1000, RA_RESAMPLE_FAST, 256000 },
		{ 256000, 1000, RA_RESAMPLE_BEST, 256000 },
		{ 1000, 256000, RA_RESAMPLE_FAST, 3001 },
		{ 1000, 256000, RA_RESAMPLE_BEST, 1000 },
		{ 256000, 1000, RA_RESAMPLE_LINEAR, 3001 },
	};
	size_t c, k, len;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		float *in = malloc(cases[c].frames * sizeof(*in)), *out;
		double err = 0.0;

		ck_assert_ptr_nonnull(in);
		for (k = 0; k < cases[c].frames; k++)
			in[k] = 0.5f;
		out = convert(1, cases[c].in_rate, cases[c].out_rate, cases[c].quality, in,
			      cases[c].frames, 4099, 0, &len);
		ck_assert_int_eq(len, ra_resample_length((int64_t)cases[c].frames, cases[c].in_rate,
							 cases[c].out_rate));
		for (k = len / 10; k < len - len / 10; k++)
			err = fmax(err, fabs(out[k] - 0.5));
		ck_assert_msg(err < 1e-4, "%d->%d quality %d: constant off by %g", cases[c].in_rate,
			      cases[c].out_rate, (int)cases[c].quality, err);
		free(out);
		free(in);
	}
}
END_TEST

/* Equal rates: the length is kept and a low sine passes unchanged. */
START_TEST(test_identity_rate)
{
	const size_t frames = 9000;
	float *in = make_sine(frames, 0.5, 1000.0, 48000);
	size_t len;
	float *out = convert(1, 48000, 48000, RA_RESAMPLE_BEST, in, frames, 100, 0, &len);

	ck_assert_uint_eq(len, frames);
	ck_assert_double_eq_tol(max_diff(out + 1000, in + 1000, frames - 2000), 0.0, 1e-5);
	free(out);
	free(in);
}
END_TEST

START_TEST(test_max_output_bounds)
{
	ra_resampler *rs = ra_resampler_create(1, 8000, 192000, RA_RESAMPLE_BEST, NULL, NULL);
	size_t n;

	ck_assert_ptr_nonnull(rs);
	ck_assert_uint_gt(ra_resampler_max_output(rs, 0), 0);
	for (n = 0; n < 5000; n += 37) {
		ck_assert_uint_ge(ra_resampler_max_output(rs, n),
				  (size_t)ra_resample_length((int64_t)n, 8000, 192000));
		ck_assert_uint_le(ra_resampler_max_output(rs, n),
				  ra_resampler_max_output(rs, n + 1));
	}
	/* Huge requests saturate instead of wrapping to something small. */
	ck_assert_uint_ge(ra_resampler_max_output(rs, SIZE_MAX / 2), SIZE_MAX / 2);
	ra_resampler_destroy(rs);
}
END_TEST

START_TEST(test_channel_counts)
{
	ra_status st = RA_ERR_INVALID;
	ra_resampler *rs;
	float *in = make_noise(100, 1024, 3), *out;
	size_t cap, got, rest;

	/* libsamplerate's sinc converters stop at 128 channels. */
	rs = ra_resampler_create(128, 44100, 48000, RA_RESAMPLE_FAST, &st, NULL);
	ck_assert_ptr_nonnull(rs);
	ck_assert_int_eq(st, RA_OK);
	ra_resampler_destroy(rs);

	rs = ra_resampler_create(1024, 44100, 48000, RA_RESAMPLE_LINEAR, &st, NULL);
	ck_assert_ptr_nonnull(rs);
	ck_assert_int_eq(st, RA_OK);
	cap = ra_resampler_max_output(rs, 100);
	out = malloc(cap * 1024 * sizeof(*out));
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(ra_resampler_process(rs, in, 100, out, cap, &got), RA_OK);
	ck_assert_int_eq(ra_resampler_flush(rs, out, cap, &rest), RA_OK);
	ck_assert_int_eq(got + rest, ra_resample_length(100, 44100, 48000));
	ra_resampler_destroy(rs);
	free(out);
	free(in);
}
END_TEST

START_TEST(test_quality_parse)
{
	static const char *names[] = { "best", "medium", "fast", "linear" };
	ra_resample_quality q;
	size_t i;

	for (i = 0; i < 4; i++) {
		q = (ra_resample_quality)-1;
		ck_assert_int_eq(ra_resample_quality_parse(names[i], &q), RA_OK);
		ck_assert_int_eq(q, qualities[i]);
	}
}
END_TEST

START_TEST(test_destroy_null)
{
	ra_resampler_destroy(NULL);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_create_invalid)
{
	static const int args[][3] = {
		{ 0, 44100, 48000 }, { -1, 44100, 48000 }, { 1025, 44100, 48000 },
		{ 1, 0, 48000 },     { 1, 44100, 0 },	   { 1, -44100, 48000 },
		{ 1, 1000, 256001 }, { 1, 256001, 1000 },  { 1, 1, 257 },
		{ 1, 257, 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		ra_status st = RA_OK;
		ra_diag diag = { { 0 } };

		ck_assert_ptr_null(ra_resampler_create(args[i][0], args[i][1], args[i][2],
						       RA_RESAMPLE_FAST, &st, &diag));
		ck_assert_int_eq(st, RA_ERR_INVALID);
		ck_assert_msg(strncmp(diag.text, "cannot resample ", 16) == 0, "diag '%s'",
			      diag.text);
	}
	ck_assert_ptr_null(ra_resampler_create(0, 44100, 48000, RA_RESAMPLE_FAST, NULL, NULL));
	ck_assert_ptr_null(
		ra_resampler_create(1, 44100, 48000, (ra_resample_quality)7, NULL, NULL));
}
END_TEST

START_TEST(test_create_sinc_too_many_channels)
{
	ra_status st = RA_OK;
	ra_diag diag = { { 0 } };
	ra_resampler *rs;

	ck_assert_ptr_null(ra_resampler_create(RA_RESAMPLE_SINC_MAX_CHANNELS + 1, 44100, 48000,
					       RA_RESAMPLE_BEST, &st, &diag));
	ck_assert_int_eq(st, RA_ERR_CHANNELS);
	ck_assert_str_eq(diag.text, "cannot resample 129 channels at this quality "
				    "(libsamplerate's sinc filters take up to 128)");
	rs = ra_resampler_create(RA_RESAMPLE_SINC_MAX_CHANNELS + 1, 44100, 48000,
				 RA_RESAMPLE_LINEAR, &st, NULL);
	ck_assert_ptr_nonnull(rs);
	ck_assert_int_eq(st, RA_OK);
	ra_resampler_destroy(rs);
}
END_TEST

START_TEST(test_quality_parse_invalid)
{
	static const char *bad[] = { "best2", "", "Best", "fastest", "lin", "medium " };
	ra_resample_quality q = RA_RESAMPLE_MEDIUM;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(ra_resample_quality_parse(bad[i], &q), RA_ERR_INVALID);
	ck_assert_int_eq(q, RA_RESAMPLE_MEDIUM);
	ck_assert_int_eq(ra_resample_quality_parse(NULL, &q), RA_ERR_INVALID);
}
END_TEST

/* A refused call consumes nothing: the stream still comes out exact. */
START_TEST(test_process_invalid)
{
	const size_t frames = 1000;
	float *in = make_noise(frames, 1, 11), *out;
	ra_resampler *rs = ra_resampler_create(1, 44100, 48000, RA_RESAMPLE_MEDIUM, NULL, NULL);
	size_t cap, got = 99, total = 0;

	ck_assert_ptr_nonnull(rs);
	cap = ra_resampler_max_output(rs, frames);
	out = malloc(cap * sizeof(*out));
	ck_assert_ptr_nonnull(out);

	ck_assert_int_eq(ra_resampler_process(rs, in, frames, out, cap - 1, &got), RA_ERR_INVALID);
	ck_assert_uint_eq(got, 0);
	ck_assert_int_eq(ra_resampler_process(rs, NULL, frames, out, cap, &got), RA_ERR_INVALID);
	ck_assert_int_eq(ra_resampler_process(rs, in, frames, NULL, cap, &got), RA_ERR_INVALID);
	ck_assert_int_eq(ra_resampler_process(rs, in, frames, out, cap, NULL), RA_ERR_INVALID);
	ck_assert_int_eq(ra_resampler_flush(rs, out, 0, &got), RA_ERR_INVALID);

	ck_assert_int_eq(ra_resampler_process(rs, in, frames, out, cap, &got), RA_OK);
	total += got;
	do {
		ck_assert_int_eq(ra_resampler_flush(rs, out, cap, &got), RA_OK);
		total += got;
	} while (got > 0);
	ck_assert_int_eq(total, ra_resample_length(frames, 44100, 48000));

	/* No input after the end of input. */
	ck_assert_int_eq(ra_resampler_process(rs, in, frames, out, cap, &got), RA_ERR_INVALID);
	ck_assert_int_eq(ra_resampler_flush(rs, out, cap, &got), RA_OK);
	ck_assert_uint_eq(got, 0);

	ra_resampler_destroy(rs);
	free(out);
	free(in);
}
END_TEST

static Suite *resample_suite(void)
{
	Suite *s = suite_create("resample");
	TCase *tc;

	tc = tcase_create("behaviour");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_length_values);
	tcase_add_test(tc, test_length_large);
	tcase_add_loop_test(tc, test_length_stream, 0, NPAIRS * NQUALITIES);
	tcase_add_test(tc, test_sine_accuracy);
	tcase_add_test(tc, test_channels_separate);
	tcase_add_test(tc, test_block_independence);
	suite_add_tcase(s, tc);

	tc = tcase_create("edges");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_flush_without_input);
	tcase_add_test(tc, test_flush_small_buffer);
	tcase_add_test(tc, test_extreme_ratios);
	tcase_add_test(tc, test_identity_rate);
	tcase_add_test(tc, test_max_output_bounds);
	tcase_add_test(tc, test_channel_counts);
	tcase_add_test(tc, test_quality_parse);
	tcase_add_test(tc, test_destroy_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_create_invalid);
	tcase_add_test(tc, test_create_sinc_too_many_channels);
	tcase_add_test(tc, test_quality_parse_invalid);
	tcase_add_test(tc, test_process_invalid);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return ra_test_main(resample_suite());
}
