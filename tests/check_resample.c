/* Unit tests for the resampler, both engines: exact output lengths for any
 * blocking, bytes independent of blocks and threads, zero lag, accuracy
 * against analytic sines, channel separation and argument checks. */
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
	RA_RESAMPLE_BEST, RA_RESAMPLE_HIGH,   RA_RESAMPLE_MEDIUM,
	RA_RESAMPLE_FAST, RA_RESAMPLE_LINEAR,
};
#define NQUALITIES (int)(sizeof(qualities) / sizeof(qualities[0]))

static const ra_resample_engine engines[] = { RA_RESAMPLER_SOXR, RA_RESAMPLER_LIBSAMPLERATE };
#define NENGINES (int)(sizeof(engines) / sizeof(engines[0]))

/* A conversion: rates, channels, engine, quality and a pool (or none). */
static ra_resample_config setup(int channels, int in_rate, int out_rate, ra_resample_engine engine,
				ra_resample_quality quality)
{
	return (ra_resample_config){ .channels = channels,
				     .in_rate = in_rate,
				     .out_rate = out_rate,
				     .engine = engine,
				     .quality = quality };
}

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

/* Read what RS has ready into OUT after *LEN frames, READ_MAX frames a
 * call (0: all at once), never beyond TOTAL. */
static void take(ra_resampler *rs, float *out, size_t channels, size_t *len, size_t total,
		 size_t read_max)
{
	size_t got;

	do {
		size_t room = total + 1 - *len;

		got = ra_resampler_read(rs, out + *len * channels,
					read_max && read_max < room ? read_max : room);
		*len += got;
		if (*len > total)
			ck_abort_msg("read past the final length %zu", total);
	} while (got > 0);
}

/*
 * Convert FRAMES frames of IN as CFG says (max_in_frames: BLOCK), in blocks
 * of BLOCK, reading READ_MAX frames a call (0: all at once), and check on
 * the way what every caller relies on:
 * - each block's input sits in a buffer of its own behind a poison frame,
 *   so a read before the input (the engines are not instrumented) shows
 *   in the output instead of finding the neighbouring sample by luck;
 * - output never runs ahead of round(input so far * ratio);
 * - after flush() the output ends at exactly the target length, and
 *   neither read() nor another flush() gives more.
 * Returns the output (caller frees) and its length in *OUT_LEN.
 */
static float *convert_with(ra_resample_config cfg, const float *in, size_t frames, size_t block,
			   size_t read_max, size_t *out_len)
{
	const size_t ch = (size_t)cfg.channels;
	const size_t total = (size_t)ra_resample_length((int64_t)frames, cfg.in_rate, cfg.out_rate);
	size_t done = 0, len = 0;
	float *out, *block_in;
	ra_resampler *rs;
	ra_status st;

	cfg.max_in_frames = block;
	rs = ra_resampler_create(&cfg, &st, NULL);
	ck_assert_msg(rs != NULL, "create %d->%d: %s", cfg.in_rate, cfg.out_rate, ra_strerror(st));
	out = malloc((total + 1) * ch * sizeof(*out));
	block_in = malloc((block + 1) * ch * sizeof(*block_in));
	ck_assert(out && block_in);
	for (size_t i = 0; i < ch; i++)
		block_in[i] = 1e6f;
	while (done < frames) {
		size_t n = frames - done < block ? frames - done : block;

		/* Plain ifs: a passing ck_assert costs a message to the parent
		 * process, and there are 10^5 blocks here. */
		memcpy(block_in + ch, in + done * ch, n * ch * sizeof(*in));
		st = ra_resampler_process(rs, block_in + ch, n);
		if (st != RA_OK)
			ck_abort_msg("process at frame %zu: %s", done, ra_strerror(st));
		done += n;
		take(rs, out, ch, &len, total, read_max);
		if ((int64_t)len > ra_resample_length((int64_t)done, cfg.in_rate, cfg.out_rate))
			ck_abort_msg("after %zu frames in: %zu out, ahead of the target", done,
				     len);
	}
	free(block_in);
	ck_assert_int_eq(ra_resampler_flush(rs), RA_OK);
	take(rs, out, ch, &len, total, read_max);
	ck_assert_uint_eq(len, total);
	ck_assert_int_eq(ra_resampler_flush(rs), RA_OK);
	ck_assert_uint_eq(ra_resampler_read(rs, out, total + 1), 0);
	ra_resampler_destroy(rs);
	*out_len = len;
	return out;
}

static float *convert(int channels, int in_rate, int out_rate, ra_resample_engine engine,
		      ra_resample_quality quality, const float *in, size_t frames, size_t block,
		      size_t *out_len)
{
	return convert_with(setup(channels, in_rate, out_rate, engine, quality), in, frames, block,
			    0, out_len);
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

/* Every engine x rate pair x quality: exact length for lengths from 0 and 1
 * frame up, and the same bytes for blocks of 1, 7, 1000 and 65536 frames. */
START_TEST(test_length_stream)
{
	static const size_t blocks[] = { 65536, 1000, 7, 1 };
	static const size_t counts[] = { 12345, 17, 3, 2, 1, 0 };
	const int per_engine = NPAIRS * NQUALITIES;
	ra_resample_config cfg = setup(1, rate_pairs[_i % per_engine / NQUALITIES][0],
				       rate_pairs[_i % per_engine / NQUALITIES][1],
				       engines[_i / per_engine], qualities[_i % NQUALITIES]);
	float *in = make_noise(12345, 1, 42 + (uint32_t)_i);

	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		float *ref = NULL;
		size_t ref_len = 0;

		for (size_t b = 0; b < sizeof(blocks) / sizeof(blocks[0]); b++) {
			size_t len;
			float *out = convert_with(cfg, in, counts[c], blocks[b], 0, &len);

			ck_assert_int_eq(len, reference_length((int64_t)counts[c], cfg.in_rate,
							       cfg.out_rate));
			if (!ref) {
				ref = out;
				ref_len = len;
				continue;
			}
			ck_assert_uint_eq(len, ref_len);
			ck_assert(memcmp(out, ref, len * sizeof(*out)) == 0);
			free(out);
		}
		free(ref);
	}
	free(in);
}
END_TEST

/* The root mean square of SIGNAL over that of its difference from the
 * analytic sine, in dB, away from the edges where the filter sees the
 * silence around the signal. */
static double sine_snr(const float *out, size_t len, double amp, double freq, int rate)
{
	double sig = 0.0, err = 0.0;

	for (size_t k = len / 8; k < len - len / 8; k++) {
		double want = sine_at(amp, freq, rate, k, 0.0);

		sig += want * want;
		err += (out[k] - want) * (out[k] - want);
	}
	return err > 0.0 ? 10.0 * log10(sig / err) : INFINITY;
}

/*
 * A 997 Hz sine at -6 dBFS through each engine and quality, against the
 * analytic sine at the output rate: output frame k is the signal at
 * k / out_rate, with no lag. The floors are the measured SNR less 3 dB;
 * soxr's best is near what float samples carry. The interpolators (linear,
 * cubic) err by the interpolation error, ~(w T)^2 / 8.
 */
START_TEST(test_sine_snr)
{
	static const struct {
		ra_resample_engine engine;
		ra_resample_quality quality;
		double floor_db[2]; /* 44.1 -> 48 kHz, 48 -> 16 kHz */
	} cases[] = {
		{ RA_RESAMPLER_SOXR, RA_RESAMPLE_BEST, { 147, 150 } },
		{ RA_RESAMPLER_SOXR, RA_RESAMPLE_HIGH, { 130, 131 } },
		{ RA_RESAMPLER_SOXR, RA_RESAMPLE_MEDIUM, { 105, 133 } },
		{ RA_RESAMPLER_SOXR, RA_RESAMPLE_FAST, { 111, 116 } },
		{ RA_RESAMPLER_SOXR, RA_RESAMPLE_LINEAR, { 100, 150 } },
		{ RA_RESAMPLER_LIBSAMPLERATE, RA_RESAMPLE_BEST, { 146, 135 } },
		{ RA_RESAMPLER_LIBSAMPLERATE, RA_RESAMPLE_MEDIUM, { 139, 123 } },
		{ RA_RESAMPLER_LIBSAMPLERATE, RA_RESAMPLE_FAST, { 104, 126 } },
		{ RA_RESAMPLER_LIBSAMPLERATE, RA_RESAMPLE_LINEAR, { 51, 150 } },
	};
	static const int pairs[][2] = { { 44100, 48000 }, { 48000, 16000 } };
	const double amp = 0.5, freq = 997.0;

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (size_t p = 0; p < 2; p++) {
			int in_rate = pairs[p][0], out_rate = pairs[p][1];
			size_t frames = (size_t)in_rate, len;
			float *in = make_sine(frames, amp, freq, in_rate);
			float *out = convert(1, in_rate, out_rate, cases[c].engine,
					     cases[c].quality, in, frames, 4096, &len);
			double snr = sine_snr(out, len, amp, freq, out_rate);

			ck_assert_msg(snr >= cases[c].floor_db[p],
				      "%s %s %d->%d: SNR %.1f dB < %.1f",
				      ra_resample_engine_name(cases[c].engine),
				      ra_resample_quality_name(cases[c].quality), in_rate, out_rate,
				      snr, cases[c].floor_db[p]);
			free(in);
			free(out);
		}
	}
}
END_TEST

/* An impulse at input frame AT, 2 * AT frames in all, converted. */
static float *impulse(int in_rate, int out_rate, ra_resample_engine engine,
		      ra_resample_quality quality, size_t at, size_t *len)
{
	float *in = calloc(2 * at, sizeof(*in)), *out;

	ck_assert_ptr_nonnull(in);
	in[at] = 1.0f;
	out = convert(1, in_rate, out_rate, engine, quality, in, 2 * at, 1000, len);
	free(in);
	return out;
}

/*
 * Every engine and quality has no lag (libsamplerate's linear converter was
 * one input frame late) and linear phase:
 * - at 44.1 <-> 48 kHz an impulse at input frame 1000 comes out centred
 *   (its first moment) at 1000 * ratio: within 0.01 frames for the sinc
 *   filters, 0.1 for the interpolators, whose kernels are not band-limited
 *   and so are sampled off centre (a frame late is 1.09 frames);
 * - at 8 -> 96 kHz output frame 12000 is input frame 1000 itself: the peak
 *   is there, and the output is symmetric about it.
 */
START_TEST(test_impulse_lag)
{
	static const int pairs[][2] = { { 44100, 48000 }, { 48000, 44100 } };
	ra_resample_engine engine = engines[_i / NQUALITIES];
	ra_resample_quality quality = qualities[_i % NQUALITIES];
	const char *name = ra_resample_quality_name(quality);
	double tol = quality == RA_RESAMPLE_LINEAR ? 0.1 : 0.01, asym = 0.0;
	size_t len, peak = 0;
	float *out;

	for (size_t p = 0; p < 2; p++) {
		double want = 1000.0 * pairs[p][1] / pairs[p][0], moment = 0.0, mass = 0.0;

		out = impulse(pairs[p][0], pairs[p][1], engine, quality, 1000, &len);
		for (size_t k = 0; k < len; k++) {
			moment += (double)k * out[k];
			mass += out[k];
		}
		ck_assert_msg(fabs(moment / mass - want) < tol, "%s %d->%d: centre %.4f, not %.4f",
			      name, pairs[p][0], pairs[p][1], moment / mass, want);
		free(out);
	}
	out = impulse(8000, 96000, engine, quality, 1000, &len);
	for (size_t k = 0; k < len; k++)
		peak = fabsf(out[k]) > fabsf(out[peak]) ? k : peak;
	ck_assert_uint_eq(peak, 12000);
	for (size_t j = 1; j < 12000; j++)
		asym = fmax(asym, fabs(out[12000 - j] - out[12000 + j]));
	ck_assert_msg(asym < 1e-5, "%s: asymmetry %g", name, asym);
	free(out);
}
END_TEST

/* Channels are converted independently: silence stays silence next to a
 * sine, and the sine channel equals the same signal converted alone. */
START_TEST(test_channels_separate)
{
	const size_t frames = 8000;
	float *mono = make_sine(frames, 0.8, 1000.0, 44100);
	float *stereo = malloc(2 * frames * sizeof(*stereo));
	ra_resample_engine engine = engines[_i];
	float *left, *out, *alone;
	size_t k, len, alone_len;
	double silent = 0.0, loud = 0.0;

	ck_assert_ptr_nonnull(stereo);
	for (k = 0; k < frames; k++) {
		stereo[2 * k] = mono[k];
		stereo[2 * k + 1] = 0.0f;
	}
	out = convert(2, 44100, 48000, engine, RA_RESAMPLE_BEST, stereo, frames, 1000, &len);
	alone = convert(1, 44100, 48000, engine, RA_RESAMPLE_BEST, mono, frames, 1000, &alone_len);
	ck_assert_uint_eq(len, alone_len);

	left = malloc(len * sizeof(*left));
	ck_assert_ptr_nonnull(left);
	for (k = 0; k < len; k++) {
		left[k] = out[2 * k];
		loud = fmax(loud, fabs(out[2 * k]));
		silent = fmax(silent, fabs(out[2 * k + 1]));
	}
	ck_assert_double_eq(silent, 0.0);
	ck_assert_double_gt(loud, 0.7);
	ck_assert(memcmp(left, alone, len * sizeof(*left)) == 0);

	free(left);
	free(alone);
	free(out);
	free(stereo);
	free(mono);
}
END_TEST

/* Blocks of 64 against one call, and read a frame or seven at a time, for
 * multichannel noise on each engine and converter: the same bytes. */
START_TEST(test_block_independence)
{
	static const struct {
		int in_rate, out_rate;
		ra_resample_quality quality;
	} cases[] = {
		{ 44100, 48000, RA_RESAMPLE_BEST },   { 96000, 8000, RA_RESAMPLE_MEDIUM },
		{ 8000, 44100, RA_RESAMPLE_FAST },    { 48000, 44100, RA_RESAMPLE_LINEAR },
		{ 44100, 22050, RA_RESAMPLE_LINEAR }, { 48000, 16000, RA_RESAMPLE_HIGH },
	};
	const size_t frames = 20000;
	float *in = make_noise(frames, 3, 7);

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		ra_resample_config cfg = setup(3, cases[c].in_rate, cases[c].out_rate, engines[_i],
					       cases[c].quality);
		size_t len1, len64, len7;
		float *one = convert_with(cfg, in, frames, frames, 0, &len1);
		float *blocks = convert_with(cfg, in, frames, 64, 1, &len64);
		float *sevens = convert_with(cfg, in, frames, 1000, 7, &len7);

		ck_assert_uint_eq(len1, len64);
		ck_assert_uint_eq(len1, len7);
		ck_assert(memcmp(one, blocks, 3 * len1 * sizeof(*one)) == 0);
		ck_assert(memcmp(one, sevens, 3 * len1 * sizeof(*one)) == 0);
		free(one);
		free(blocks);
		free(sevens);
	}
	free(in);
}
END_TEST

/* Channels on a pool of 2 or 3 threads: the same bytes as on none. */
START_TEST(test_thread_independence)
{
	const size_t frames = 30000;
	float *in = make_noise(frames, 5, 23);
	ra_resample_config cfg = setup(5, 44100, 48000, engines[_i], RA_RESAMPLE_BEST);
	size_t ref_len;
	float *ref = convert_with(cfg, in, frames, 4096, 0, &ref_len);

	for (int threads = 2; threads <= 3; threads++) {
		size_t len;
		float *out;

		cfg.workers = ra_workers_create(threads, NULL, NULL);
		ck_assert_ptr_nonnull(cfg.workers);
		out = convert_with(cfg, in, frames, 4096, 0, &len);
		ck_assert_uint_eq(len, ref_len);
		ck_assert(memcmp(out, ref, 5 * len * sizeof(*out)) == 0);
		free(out);
		ra_workers_destroy(cfg.workers);
	}
	free(ref);
	free(in);
}
END_TEST

/* Tasks the pool W has run. */
static uint64_t tasks_run(const ra_workers *w)
{
	ra_workers_stats stats;

	ra_workers_get_stats(w, &stats);
	return stats.tasks;
}

/*
 * A mono stream cut in spans of 16384 frames, against the same stream
 * uncut, on each engine and quality at 44.1 -> 48 and 48 -> 16 kHz: the
 * same length, and the same samples to within rounding where the engines'
 * blocks fall otherwise: none with soxr's best; 3e-7 at most for the other
 * sinc filters, 2.8e-6 here (5.6e-6 on other noise) for soxr's cubic
 * interpolator, whose phase clock is not exact. Each span's engine had all
 * the input its output depends on: with a quarter of the lead, soxr's best
 * differs by 4e-4. On a pool of two threads, with runs of two spans'
 * input, each run is two tasks (an uncut mono stream's is one).
 */
START_TEST(test_spans_match_whole)
{
	static const int pairs[][2] = { { 44100, 48000 }, { 48000, 16000 } };
	ra_resample_engine engine = engines[_i / NQUALITIES];
	ra_resample_quality quality = qualities[_i % NQUALITIES];
	const size_t frames = 200000, block = 32768, runs = (frames + block - 1) / block + 1;
	const int soxr = engine == RA_RESAMPLER_SOXR;
	const double tol = soxr && quality == RA_RESAMPLE_BEST	   ? 0.0
			   : soxr && quality == RA_RESAMPLE_LINEAR ? 2e-5
								   : 2e-6;
	float *in = make_noise(frames, 1, 31);

	for (size_t p = 0; p < 2; p++) {
		ra_resample_config cfg = setup(1, pairs[p][0], pairs[p][1], engine, quality);
		size_t len_whole, len_spans;
		float *whole = convert_with(cfg, in, frames, 4096, 0, &len_whole), *spans;
		uint64_t tasks;
		double diff;

		cfg.span_frames = 16384;
		cfg.workers = ra_workers_create(2, NULL, NULL);
		ck_assert_ptr_nonnull(cfg.workers);
		spans = convert_with(cfg, in, frames, block, 0, &len_spans);
		tasks = tasks_run(cfg.workers);
		ra_workers_destroy(cfg.workers);
		ck_assert_uint_eq(len_spans, len_whole);
		diff = max_diff(whole, spans, len_whole);
		ck_assert_msg(diff <= tol, "%s %s %d->%d: spans differ by %g",
			      ra_resample_engine_name(engine), ra_resample_quality_name(quality),
			      pairs[p][0], pairs[p][1], diff);
		ck_assert_msg(tasks == 2 * runs, "%s %s %d->%d: %llu tasks in %zu runs",
			      ra_resample_engine_name(engine), ra_resample_quality_name(quality),
			      pairs[p][0], pairs[p][1], (unsigned long long)tasks, runs);
		free(whole);
		free(spans);
	}
	free(in);
}
END_TEST

/* Three channels cut in spans of 16383 frames (whole periods of 48 -> 16
 * kHz, 3 frames; runs of a span at least):
 * the same bytes in one call, in blocks of 20000, in blocks of 16384 read 7
 * frames at a time, and on pools of 2 and 3 threads, where each run is a
 * task a channel and span (uncut, a task a channel). */
START_TEST(test_spans_independence)
{
	const size_t frames = 40000, block = 16384, runs = (frames + block - 1) / block + 1;
	float *in = make_noise(frames, 3, 41);
	ra_resample_config cfg = setup(3, 48000, 16000, engines[_i], RA_RESAMPLE_BEST);
	size_t ref_len, len;
	float *ref, *out;

	cfg.span_frames = block - 1;
	ref = convert_with(cfg, in, frames, frames, 0, &ref_len);
	for (int k = 0; k < 4; k++) {
		const size_t blocks[] = { 20000, block, block, block }, reads[] = { 0, 7, 0, 0 };
		uint64_t tasks = 0;

		cfg.workers = k >= 2 ? ra_workers_create(k, NULL, NULL) : NULL;
		out = convert_with(cfg, in, frames, blocks[k], reads[k], &len);
		if (cfg.workers)
			tasks = tasks_run(cfg.workers);
		ra_workers_destroy(cfg.workers);
		ck_assert_uint_eq(len, ref_len);
		ck_assert_msg(memcmp(out, ref, 3 * len * sizeof(*out)) == 0, "case %d differs", k);
		if (k >= 2)
			ck_assert_msg(tasks == 6 * runs, "%d threads: %llu tasks in %zu runs", k,
				      (unsigned long long)tasks, runs);
		free(out);
	}
	free(ref);
	free(in);
}
END_TEST

/* ---- edges ---- */

START_TEST(test_flush_without_input)
{
	ra_resample_config cfg = setup(2, 44100, 48000, engines[_i], RA_RESAMPLE_FAST);
	ra_resampler *rs;
	float buf[2 * 8];

	cfg.max_in_frames = 8;
	rs = ra_resampler_create(&cfg, NULL, NULL);
	ck_assert_ptr_nonnull(rs);
	ck_assert_uint_eq(ra_resampler_read(rs, buf, 8), 0);
	ck_assert_int_eq(ra_resampler_flush(rs), RA_OK);
	ck_assert_uint_eq(ra_resampler_read(rs, buf, 8), 0);
	ck_assert_int_eq(ra_resampler_flush(rs), RA_OK);
	ck_assert_uint_eq(ra_resampler_read(rs, buf, 8), 0);
	ra_resampler_destroy(rs);
}
END_TEST

/*
 * The limits of the ratio are accepted, keep the length and carry a
 * constant through: the middle of the output is real converter output, not
 * padding (libsamplerate's src_simple() once gave nothing at ratios below
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

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		float *in = malloc(cases[c].frames * sizeof(*in)), *out;
		double err = 0.0;
		size_t len;

		ck_assert_ptr_nonnull(in);
		for (size_t k = 0; k < cases[c].frames; k++)
			in[k] = 0.5f;
		out = convert(1, cases[c].in_rate, cases[c].out_rate, engines[_i], cases[c].quality,
			      in, cases[c].frames, 4099, &len);
		ck_assert_int_eq(len, ra_resample_length((int64_t)cases[c].frames, cases[c].in_rate,
							 cases[c].out_rate));
		for (size_t k = len / 10; k < len - len / 10; k++)
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
	float *out = convert(1, 48000, 48000, engines[_i], RA_RESAMPLE_BEST, in, frames, 100, &len);

	ck_assert_uint_eq(len, frames);
	ck_assert_double_eq_tol(max_diff(out + 1000, in + 1000, frames - 2000), 0.0, 1e-5);
	free(out);
	free(in);
}
END_TEST

/* Any channel count up to RA_MAX_CHANNELS, at any quality: an engine a
 * channel. */
START_TEST(test_channel_counts)
{
	static const int counts[] = { 129, RA_MAX_CHANNELS };
	float *in = make_noise(100, RA_MAX_CHANNELS, 3);

	for (size_t i = 0; i < 2; i++) {
		ra_resample_quality q = i ? RA_RESAMPLE_LINEAR : RA_RESAMPLE_BEST;
		size_t len;
		float *out = convert(counts[i], 44100, 48000, engines[_i], q, in, 100, 100, &len);

		ck_assert_int_eq(len, ra_resample_length(100, 44100, 48000));
		free(out);
	}
	free(in);
}
END_TEST

START_TEST(test_names)
{
	static const char *qnames[] = { "best", "high", "medium", "fast", "linear" };
	static const char *enames[] = { "soxr", "libsamplerate" };
	ra_resample_quality q;
	ra_resample_engine e;

	for (size_t i = 0; i < 5; i++) {
		q = (ra_resample_quality)-1;
		ck_assert_int_eq(ra_resample_quality_parse(qnames[i], &q), RA_OK);
		ck_assert_int_eq(q, qualities[i]);
		ck_assert_str_eq(ra_resample_quality_name(q), qnames[i]);
	}
	for (size_t i = 0; i < 2; i++) {
		e = (ra_resample_engine)-1;
		ck_assert_int_eq(ra_resample_engine_parse(enames[i], &e), RA_OK);
		ck_assert_int_eq(e, engines[i]);
		ck_assert_str_eq(ra_resample_engine_name(e), enames[i]);
	}
	ck_assert_str_eq(ra_resample_quality_name((ra_resample_quality)5), "?");
	ck_assert_str_eq(ra_resample_engine_name((ra_resample_engine)2), "?");
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
	ra_resample_config cfg;

	for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		ra_status st = RA_OK;
		ra_diag diag = { { 0 } };

		cfg = setup(args[i][0], args[i][1], args[i][2], RA_RESAMPLER_SOXR,
			    RA_RESAMPLE_FAST);
		cfg.max_in_frames = 64;
		ck_assert_ptr_null(ra_resampler_create(&cfg, &st, &diag));
		ck_assert_int_eq(st, RA_ERR_INVALID);
		ck_assert_msg(strncmp(diag.text, "cannot resample ", 16) == 0, "diag '%s'",
			      diag.text);
	}
	ck_assert_ptr_null(ra_resampler_create(NULL, NULL, NULL));
	cfg = setup(1, 44100, 48000, RA_RESAMPLER_SOXR, (ra_resample_quality)5);
	cfg.max_in_frames = 64;
	ck_assert_ptr_null(ra_resampler_create(&cfg, NULL, NULL));
	cfg = setup(1, 44100, 48000, (ra_resample_engine)2, RA_RESAMPLE_BEST);
	cfg.max_in_frames = 64;
	ck_assert_ptr_null(ra_resampler_create(&cfg, NULL, NULL));
	cfg = setup(1, 44100, 48000, RA_RESAMPLER_SOXR, RA_RESAMPLE_BEST);
	ck_assert_ptr_null(ra_resampler_create(&cfg, NULL, NULL)); /* max_in_frames 0 */
	cfg.max_in_frames = 64;
	cfg.span_frames = ((size_t)1 << 40) + 1;
	ck_assert_ptr_null(ra_resampler_create(&cfg, NULL, NULL));
}
END_TEST

START_TEST(test_parse_invalid)
{
	static const char *bad[] = { "best2", "", "Best", "fastest", "lin", "medium " };
	static const char *bad_engines[] = { "sox", "", "SOXR", "samplerate", "src" };
	ra_resample_quality q = RA_RESAMPLE_MEDIUM;
	ra_resample_engine e = RA_RESAMPLER_LIBSAMPLERATE;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(ra_resample_quality_parse(bad[i], &q), RA_ERR_INVALID);
	ck_assert_int_eq(q, RA_RESAMPLE_MEDIUM);
	ck_assert_int_eq(ra_resample_quality_parse(NULL, &q), RA_ERR_INVALID);
	for (size_t i = 0; i < sizeof(bad_engines) / sizeof(bad_engines[0]); i++)
		ck_assert_int_eq(ra_resample_engine_parse(bad_engines[i], &e), RA_ERR_INVALID);
	ck_assert_int_eq(e, RA_RESAMPLER_LIBSAMPLERATE);
	ck_assert_int_eq(ra_resample_engine_parse(NULL, &e), RA_ERR_INVALID);
}
END_TEST

/* A refused call consumes nothing: the stream still comes out exact. */
START_TEST(test_process_invalid)
{
	const size_t frames = 1000;
	ra_resample_config cfg = setup(1, 44100, 48000, engines[_i], RA_RESAMPLE_MEDIUM);
	const size_t total = (size_t)ra_resample_length(frames, 44100, 48000);
	float *in = make_noise(frames, 1, 11), *out = malloc((total + 1) * sizeof(*out));
	ra_resampler *rs;
	size_t len = 0;

	cfg.max_in_frames = frames / 2;
	rs = ra_resampler_create(&cfg, NULL, NULL);
	ck_assert(rs && out);
	ck_assert_int_eq(ra_resampler_process(rs, in, frames), RA_ERR_INVALID); /* too many */
	ck_assert_int_eq(ra_resampler_process(rs, NULL, 1), RA_ERR_INVALID);
	ck_assert_int_eq(ra_resampler_process(NULL, in, 1), RA_ERR_INVALID);
	ck_assert_int_eq(ra_resampler_flush(NULL), RA_ERR_INVALID);
	ck_assert_uint_eq(ra_resampler_read(NULL, out, 1), 0);

	ck_assert_int_eq(ra_resampler_process(rs, in, frames / 2), RA_OK);
	if (ra_resampler_read(rs, out, 1) == 1) {
		/* Output not all read: the next input must wait. */
		ck_assert_int_eq(ra_resampler_process(rs, in + frames / 2, frames / 2),
				 RA_ERR_INVALID);
		len = 1;
	}
	take(rs, out, 1, &len, total, 0);
	ck_assert_int_eq(ra_resampler_process(rs, in + frames / 2, frames / 2), RA_OK);
	take(rs, out, 1, &len, total, 0);
	ck_assert_int_eq(ra_resampler_flush(rs), RA_OK);
	take(rs, out, 1, &len, total, 0);
	ck_assert_uint_eq(len, total);

	/* No input after the end of input. */
	ck_assert_int_eq(ra_resampler_process(rs, in, 1), RA_ERR_INVALID);
	ck_assert_int_eq(ra_resampler_flush(rs), RA_OK);
	ck_assert_uint_eq(ra_resampler_read(rs, out, total), 0);

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
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_length_values);
	tcase_add_test(tc, test_length_large);
	tcase_add_loop_test(tc, test_length_stream, 0, NENGINES * NPAIRS * NQUALITIES);
	tcase_add_test(tc, test_sine_snr);
	tcase_add_loop_test(tc, test_impulse_lag, 0, NENGINES * NQUALITIES);
	tcase_add_loop_test(tc, test_channels_separate, 0, NENGINES);
	tcase_add_loop_test(tc, test_block_independence, 0, NENGINES);
	tcase_add_loop_test(tc, test_thread_independence, 0, NENGINES);
	tcase_add_loop_test(tc, test_spans_match_whole, 0, NENGINES * NQUALITIES);
	tcase_add_loop_test(tc, test_spans_independence, 0, NENGINES);
	suite_add_tcase(s, tc);

	tc = tcase_create("edges");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_flush_without_input, 0, NENGINES);
	tcase_add_loop_test(tc, test_extreme_ratios, 0, NENGINES);
	tcase_add_loop_test(tc, test_identity_rate, 0, NENGINES);
	tcase_add_loop_test(tc, test_channel_counts, 0, NENGINES);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_destroy_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_create_invalid);
	tcase_add_test(tc, test_parse_invalid);
	tcase_add_loop_test(tc, test_process_invalid, 0, NENGINES);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return ra_test_main(resample_suite());
}
