/* Unit tests for the test signal generator: spec parsing, each signal's
 * defining property, block-split independence, and config validation. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rustyaudio/generate.h"
#include "testutil.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define RATE 48000

static const ra_signal_kind all_kinds[] = {
	RA_SIGNAL_SINE, RA_SIGNAL_SWEEP,   RA_SIGNAL_WHITE,
	RA_SIGNAL_PINK, RA_SIGNAL_IMPULSE, RA_SIGNAL_SILENCE,
};
#define NKINDS (sizeof(all_kinds) / sizeof(all_kinds[0]))

static ra_generate_config make_cfg(ra_signal_kind kind, int channels, int64_t frames)
{
	ra_generate_config cfg = {
		.kind = kind,
		.freq = 1000.0,
		.freq_end = 8000.0,
		.amplitude = 0.5,
		.sample_rate = RATE,
		.channels = channels,
		.frames = frames,
		.seed = 12345,
	};

	return cfg;
}

static ra_generator *create_ok(const ra_generate_config *cfg)
{
	ra_status st = RA_ERR_NOMEM;
	ra_diag diag = { "" };
	ra_generator *gen = ra_generator_create(cfg, &st, &diag);

	ck_assert_msg(gen != NULL, "create failed: %s", diag.text);
	ck_assert_int_eq(st, RA_OK);
	return gen;
}

/* Read the whole signal in blocks whose sizes cycle through BLOCKS (0 ends
 * the list), checking that the total is exactly cfg->frames and that the
 * generator is then exhausted. Caller frees. */
static float *read_blocks(const ra_generate_config *cfg, const size_t *blocks)
{
	size_t total = (size_t)cfg->frames, done = 0, b = 0, overrun = 0;
	float *buf = malloc((total + 1) * (size_t)cfg->channels * sizeof(*buf));
	ra_generator *gen = create_ok(cfg);

	ck_assert_ptr_nonnull(buf);
	for (;;) {
		size_t want = blocks[b], got;

		if (blocks[++b] == 0)
			b = 0;
		got = ra_generator_read(gen, buf + done * (size_t)cfg->channels, want);
		if (got == 0)
			break;
		overrun += got > want;
		done += got;
		if (done > total)
			break;
	}
	ck_assert_uint_eq(overrun, 0);
	ck_assert_uint_eq(done, total);
	ck_assert_uint_eq(ra_generator_read(gen, buf, 16), 0);
	ra_generator_destroy(gen);
	return buf;
}

static float *read_all(const ra_generate_config *cfg, size_t block)
{
	size_t blocks[] = { block, 0 };

	return read_blocks(cfg, blocks);
}

/* Goertzel power of bin K (not necessarily an integer) of X[0..N). */
static double goertzel(const double *x, size_t n, double k)
{
	double coeff = 2.0 * cos(2.0 * M_PI * k / (double)n);
	double s1 = 0.0, s2 = 0.0;
	size_t i;

	for (i = 0; i < n; i++) {
		double s0 = x[i] + coeff * s1 - s2;

		s2 = s1;
		s1 = s0;
	}
	return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

/* Frequency in Hz from the upward zero crossings of mono X in [FROM, TO),
 * each located by linear interpolation; the first and last crossing times
 * (in frames) go to T1 and T2. */
static double zc_freq(const float *x, size_t from, size_t to, double *t1, double *t2)
{
	int count = 0;
	size_t i;

	for (i = from + 1; i < to; i++) {
		if (x[i - 1] < 0.0f && x[i] >= 0.0f) {
			double t = (double)(i - 1) + x[i - 1] / (double)(x[i - 1] - x[i]);

			if (count++ == 0)
				*t1 = t;
			*t2 = t;
		}
	}
	ck_assert_int_ge(count, 3);
	return (count - 1) / (*t2 - *t1) * RATE;
}

/* Cycles of the exponential sweep at T seconds (its defining formula). */
static double sweep_cycles(double f0, double f1, double len, double t)
{
	double l = log(f1 / f0);

	return f0 * len / l * (exp(t / len * l) - 1.0);
}

/* ---- behaviour ---- */

START_TEST(test_parse_accepts)
{
	static const struct {
		const char *spec;
		ra_signal_kind kind;
		double freq, freq_end;
	} ok[] = {
		{ "sine:1k", RA_SIGNAL_SINE, 1000.0, 1000.0 },
		{ "sine:2.5k", RA_SIGNAL_SINE, 2500.0, 2500.0 },
		{ "sine:1K", RA_SIGNAL_SINE, 1000.0, 1000.0 },
		{ "sine:440", RA_SIGNAL_SINE, 440.0, 440.0 },
		{ "sine:.5k", RA_SIGNAL_SINE, 500.0, 500.0 },
		{ "sine:997.25", RA_SIGNAL_SINE, 997.25, 997.25 },
		{ "sweep:20:20000", RA_SIGNAL_SWEEP, 20.0, 20000.0 },
		{ "sweep:20k:1k", RA_SIGNAL_SWEEP, 20000.0, 1000.0 },
		{ "white", RA_SIGNAL_WHITE, 0.0, 0.0 },
		{ "pink", RA_SIGNAL_PINK, 0.0, 0.0 },
		{ "impulse", RA_SIGNAL_IMPULSE, 0.0, 0.0 },
		{ "silence", RA_SIGNAL_SILENCE, 0.0, 0.0 },
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ra_generate_config cfg = make_cfg(RA_SIGNAL_SILENCE, 3, 777);
		ra_diag diag = { "" };

		cfg.kind = ok[i].kind == RA_SIGNAL_SINE ? RA_SIGNAL_PINK : RA_SIGNAL_SINE;
		ck_assert_msg(ra_generate_parse(ok[i].spec, &cfg, &diag) == RA_OK, "%s: %s",
			      ok[i].spec, diag.text);
		ck_assert_int_eq(cfg.kind, ok[i].kind);
		ck_assert_double_eq_tol(cfg.freq, ok[i].freq, 1e-9);
		if (ok[i].kind == RA_SIGNAL_SWEEP)
			ck_assert_double_eq_tol(cfg.freq_end, ok[i].freq_end, 1e-9);
		/* Everything else is left alone. */
		ck_assert_int_eq(cfg.channels, 3);
		ck_assert_int_eq(cfg.sample_rate, RATE);
		ck_assert_int_eq(cfg.frames, 777);
		ck_assert_double_eq(cfg.amplitude, 0.5);
		ck_assert_uint_eq(cfg.seed, 12345);
	}
}
END_TEST

/* Every sample against A sin(2 pi f n / rate), with the phase reduced exactly
 * in integers (f = num / den Hz) so that the reference itself cannot drift. */
static void check_sine_exact(int rate, int64_t num, int64_t den, int64_t frames, int channels)
{
	ra_generate_config cfg = make_cfg(RA_SIGNAL_SINE, channels, frames);
	const double amp = 0.8;
	float *buf;
	int64_t n, period = den * rate;
	double maxerr = 0.0;
	int c, unequal = 0;

	cfg.sample_rate = rate;
	cfg.freq = (double)num / (double)den;
	cfg.amplitude = amp;
	buf = read_all(&cfg, 65536);
	for (n = 0; n < frames; n++) {
		int64_t m = (num * n) % period;
		double want = amp * sin(2.0 * M_PI * (double)m / (double)period);
		double err = fabs(buf[n * channels] - want);

		if (err > maxerr)
			maxerr = err;
		for (c = 1; c < channels; c++)
			unequal += buf[n * channels + c] != buf[n * channels];
	}
	ck_assert_double_le(maxerr, 1e-6);
	ck_assert_int_eq(unequal, 0);
	free(buf);
}

START_TEST(test_sine_formula)
{
	/* 10 s at 48 kHz, integer and fractional frequencies, stereo. */
	check_sine_exact(RATE, 997, 1, 10 * RATE + 1, 2);
	check_sine_exact(RATE, 1234567, 1000, 10 * RATE + 1, 2);
}
END_TEST

START_TEST(test_sine_no_drift)
{
	/* An hour at 1 kHz: 444,240 cycles of 123.4 Hz still exact at the end. */
	check_sine_exact(1000, 1234, 10, 3600 * 1000, 1);
}
END_TEST

START_TEST(test_sine_rms)
{
	ra_generate_config cfg = make_cfg(RA_SIGNAL_SINE, 1, RATE);
	double sum = 0.0;
	float *buf;
	int i;

	cfg.amplitude = 1.0;
	buf = read_all(&cfg, 4096);
	for (i = 0; i < RATE; i++)
		sum += (double)buf[i] * buf[i];
	ck_assert_double_eq_tol(sqrt(sum / RATE), 1.0 / sqrt(2.0), 1e-4);
	free(buf);
}
END_TEST

START_TEST(test_block_split)
{
	static const size_t one[] = { 1, 0 }, seven[] = { 7, 0 }, big[] = { 1024, 0 };
	static const size_t ragged[] = { 3, 1, 500, 2, 77, 1023, 13, 0 };
	static const size_t *const splits[] = { one, seven, big, ragged };
	const int64_t frames = 5000;
	const size_t bytes = (size_t)frames * 3 * sizeof(float);
	size_t k, s;

	for (k = 0; k < NKINDS; k++) {
		ra_generate_config cfg = make_cfg(all_kinds[k], 3, frames);
		float *whole = read_all(&cfg, (size_t)frames * 2);

		for (s = 0; s < sizeof(splits) / sizeof(splits[0]); s++) {
			float *part = read_blocks(&cfg, splits[s]);

			ck_assert_msg(!memcmp(whole, part, bytes), "kind %d, split %zu differs",
				      (int)all_kinds[k], s);
			free(part);
		}
		free(whole);
	}
}
END_TEST

START_TEST(test_white_stats)
{
	const int frames = 100000;
	const double amp = 0.5;
	ra_generate_config cfg = make_cfg(RA_SIGNAL_WHITE, 2, frames);
	double sum[2] = { 0 }, sq[2] = { 0 }, cross = 0.0, lag = 0.0;
	double mean[2], var[2], peak = 0.0;
	int i, c, same = 0;
	float *buf;

	cfg.amplitude = amp;
	buf = read_all(&cfg, 4096);
	for (i = 0; i < frames; i++) {
		for (c = 0; c < 2; c++) {
			double x = buf[2 * i + c];

			peak = fmax(peak, fabs(x));
			sum[c] += x;
			sq[c] += x * x;
		}
		cross += (double)buf[2 * i] * buf[2 * i + 1];
		if (i > 0)
			lag += (double)buf[2 * i] * buf[2 * (i - 1)];
		same += buf[2 * i] == buf[2 * i + 1];
	}
	ck_assert_double_le(peak, amp);
	ck_assert_double_ge(peak, 0.99 * amp);
	for (c = 0; c < 2; c++) {
		mean[c] = sum[c] / frames;
		var[c] = sq[c] / frames - mean[c] * mean[c];
		ck_assert_double_eq_tol(mean[c], 0.0, 0.01 * amp);
		ck_assert_double_eq_tol(var[c] / (amp * amp / 3.0), 1.0, 0.03);
	}
	ck_assert_int_lt(same, frames / 1000);
	/* Channels uncorrelated, and no correlation from one sample to the next. */
	ck_assert_double_lt(fabs(cross / frames - mean[0] * mean[1]) / sqrt(var[0] * var[1]), 0.05);
	ck_assert_double_lt(fabs(lag / (frames - 1) - mean[0] * mean[0]) / var[0], 0.05);
	free(buf);
}
END_TEST

START_TEST(test_noise_seed)
{
	static const ra_signal_kind noise[] = { RA_SIGNAL_WHITE, RA_SIGNAL_PINK };
	const int frames = 10000;
	size_t k;
	int i, differ;

	for (k = 0; k < 2; k++) {
		ra_generate_config cfg = make_cfg(noise[k], 2, frames);
		float *a = read_all(&cfg, 333);
		float *b = read_all(&cfg, 4096);
		float *c;

		ck_assert(!memcmp(a, b, (size_t)frames * 2 * sizeof(float)));
		cfg.seed++;
		c = read_all(&cfg, 4096);
		differ = 0;
		for (i = 0; i < 2 * frames; i++)
			differ += a[i] != c[i];
		ck_assert_int_gt(differ, 2 * frames * 99 / 100);
		free(a);
		free(b);
		free(c);
	}
}
END_TEST

START_TEST(test_pink_slope)
{
	/* Welch: Hann-windowed segments of 4096 after the filter has settled;
	 * mean density over bins 14..20 (164-234 Hz) against the band three
	 * octaves up, bins 112..160. 1/f gives 10 log10(8) = 9.03 dB. */
	enum { SEG = 4096, NSEG = 32, SKIP = 8192, FRAMES = SKIP + NSEG * SEG };
	ra_generate_config cfg = make_cfg(RA_SIGNAL_PINK, 2, FRAMES);
	double seg[SEG], low = 0.0, high = 0.0, sq = 0.0, cross = 0.0, peak = 0.0, ratio_db;
	int s, i, k, clipped = 0;
	float *buf;

	cfg.amplitude = 1.0;
	buf = read_all(&cfg, 1000);
	for (s = 0; s < NSEG; s++) {
		for (i = 0; i < SEG; i++) {
			double w = 0.5 - 0.5 * cos(2.0 * M_PI * i / SEG);

			seg[i] = w * buf[2 * (SKIP + s * SEG + i)];
		}
		for (k = 14; k <= 20; k++)
			low += goertzel(seg, SEG, k) / 7.0;
		for (k = 112; k <= 160; k++)
			high += goertzel(seg, SEG, k) / 49.0;
	}
	ratio_db = 10.0 * log10(low / high);
	ck_assert_msg(fabs(ratio_db - 9.03) < 2.0, "pink slope %.2f dB over 3 octaves", ratio_db);

	/* Peak-limited to the amplitude, but not by clipping all the time, and
	 * with a usable level; the channels are independent. */
	for (i = 0; i < FRAMES; i++) {
		double x = buf[2 * i];

		peak = fmax(peak, fmax(fabs(x), fabs(buf[2 * i + 1])));
		clipped += fabs(x) >= 1.0;
		sq += x * x;
		cross += x * buf[2 * i + 1];
	}
	ck_assert_double_le(peak, 1.0);
	ck_assert_int_le(clipped, FRAMES / 10000);
	ck_assert_double_ge(sqrt(sq / FRAMES), 0.1);
	ck_assert_double_lt(fabs(cross) / sq, 0.1);
	free(buf);
}
END_TEST

/* Frequency near the start, middle and end of a sweep from F0 to F1 Hz. */
static void check_sweep(double f0, double f1)
{
	const double len = 2.0, amp = 0.9;
	const size_t frames = (size_t)(len * RATE), win = RATE / 50; /* 20 ms */
	ra_generate_config cfg = make_cfg(RA_SIGNAL_SWEEP, 1, (int64_t)frames);
	const size_t from[3] = { 0, frames / 2 - win / 2, frames - win };
	const double near[3] = { f0, sqrt(f0 * f1), f1 };
	double t1 = 0.0, t2 = 0.0, got, want, peak = 0.0;
	float *buf;
	size_t i;
	int w;

	cfg.freq = f0;
	cfg.freq_end = f1;
	cfg.amplitude = amp;
	buf = read_all(&cfg, 1000);
	for (w = 0; w < 3; w++) {
		got = zc_freq(buf, from[w], from[w] + win, &t1, &t2);
		/* Average over the measured span from the formula, and roughly
		 * f0, the geometric mean and f1 at the start, middle and end. */
		want = (sweep_cycles(f0, f1, len, t2 / RATE) -
			sweep_cycles(f0, f1, len, t1 / RATE)) /
		       ((t2 - t1) / RATE);
		ck_assert_msg(fabs(got / want - 1.0) < 0.01, "window %d: %.2f Hz, want %.2f", w,
			      got, want);
		ck_assert_msg(fabs(got / near[w] - 1.0) < 0.05, "window %d: %.2f Hz, near %.2f", w,
			      got, near[w]);
	}
	for (i = 0; i < frames; i++)
		if (fabs(buf[i]) > peak)
			peak = fabs(buf[i]);
	ck_assert_double_le(peak, amp);
	ck_assert_double_ge(peak, 0.99 * amp);
	free(buf);
}

START_TEST(test_sweep_up_down)
{
	check_sweep(200.0, 8000.0);
	check_sweep(8000.0, 200.0);
}
END_TEST

START_TEST(test_sweep_flat_is_sine)
{
	ra_generate_config sweep = make_cfg(RA_SIGNAL_SWEEP, 2, 4800);
	ra_generate_config sine = make_cfg(RA_SIGNAL_SINE, 2, 4800);
	float *a, *b;

	sweep.freq = sweep.freq_end = sine.freq = 440.0;
	a = read_all(&sweep, 4800);
	b = read_all(&sine, 4800);
	ck_assert(!memcmp(a, b, 4800 * 2 * sizeof(float)));
	free(a);
	free(b);
}
END_TEST

START_TEST(test_impulse_silence)
{
	ra_generate_config cfg = make_cfg(RA_SIGNAL_IMPULSE, 4, 1000);
	float *buf, zero[4 * 1000];
	int i;

	memset(zero, 0, sizeof(zero));
	cfg.amplitude = 0.7;
	buf = read_all(&cfg, 100);
	for (i = 0; i < 4; i++)
		ck_assert_float_eq(buf[i], 0.7f);
	/* Bitwise zero after the first frame (no -0.0 either). */
	ck_assert(!memcmp(buf + 4, zero, sizeof(zero) - 4 * sizeof(float)));
	free(buf);

	cfg.kind = RA_SIGNAL_SILENCE;
	buf = read_all(&cfg, 100);
	ck_assert(!memcmp(buf, zero, sizeof(zero)));
	free(buf);
}
END_TEST

START_TEST(test_length_exact)
{
	float buf[3 * 20000];
	size_t k;

	for (k = 0; k < NKINDS; k++) {
		ra_generate_config cfg = make_cfg(all_kinds[k], 3, 12345);
		ra_generator *gen = create_ok(&cfg);

		ck_assert_uint_eq(ra_generator_read(gen, buf, 10000), 10000);
		ck_assert_uint_eq(ra_generator_read(gen, buf, 20000), 2345);
		ck_assert_uint_eq(ra_generator_read(gen, buf, 20000), 0);
		ck_assert_uint_eq(ra_generator_read(gen, buf, 1), 0);
		ra_generator_destroy(gen);
	}
}
END_TEST

/* ---- edges ---- */

START_TEST(test_zero_length)
{
	float buf[8];
	size_t k;

	for (k = 0; k < NKINDS; k++) {
		ra_generate_config cfg = make_cfg(all_kinds[k], 2, 0);
		ra_generator *gen = create_ok(&cfg);

		ck_assert_uint_eq(ra_generator_read(gen, buf, 4), 0);
		ra_generator_destroy(gen);
	}
}
END_TEST

START_TEST(test_zero_frame_read)
{
	ra_generate_config cfg = make_cfg(RA_SIGNAL_IMPULSE, 1, 10);
	ra_generator *gen = create_ok(&cfg);
	float x = -1.0f;

	/* Reading nothing neither writes nor advances past the impulse. */
	ck_assert_uint_eq(ra_generator_read(gen, &x, 0), 0);
	ck_assert_float_eq(x, -1.0f);
	ck_assert_uint_eq(ra_generator_read(gen, &x, 1), 1);
	ck_assert_float_eq(x, 0.5f);
	ra_generator_destroy(gen);
}
END_TEST

START_TEST(test_max_channels)
{
	enum { CH = 1024, FRAMES = 16 };
	ra_generate_config cfg = make_cfg(RA_SIGNAL_WHITE, CH, FRAMES);
	float *buf = read_all(&cfg, FRAMES);
	int c, d, i, alike = 0;

	/* 1024 distinct streams: no two channels start alike. */
	for (c = 0; c < CH; c++)
		for (d = c + 1; d < CH; d++)
			alike += buf[c] == buf[d] && buf[CH + c] == buf[CH + d];
	ck_assert_int_eq(alike, 0);
	free(buf);

	cfg.kind = RA_SIGNAL_SINE;
	buf = read_all(&cfg, 5);
	for (i = 0; i < FRAMES; i++)
		for (c = 1; c < CH; c++)
			alike += buf[i * CH + c] == buf[i * CH];
	ck_assert_int_eq(alike, FRAMES * (CH - 1));
	ck_assert_float_ne(buf[CH], 0.0f);
	free(buf);
}
END_TEST

START_TEST(test_zero_amplitude)
{
	size_t k;
	int i;

	for (k = 0; k < NKINDS; k++) {
		ra_generate_config cfg = make_cfg(all_kinds[k], 2, 1000);
		float *buf;
		int nonzero = 0;

		cfg.amplitude = 0.0;
		buf = read_all(&cfg, 1000);
		for (i = 0; i < 2000; i++)
			nonzero += buf[i] != 0.0f;
		ck_assert_int_eq(nonzero, 0);
		free(buf);
	}
}
END_TEST

START_TEST(test_full_scale_noise_bounded)
{
	static const ra_signal_kind noise[] = { RA_SIGNAL_WHITE, RA_SIGNAL_PINK };
	size_t k;
	int i;

	for (k = 0; k < 2; k++) {
		ra_generate_config cfg = make_cfg(noise[k], 1, 50000);
		float *buf;
		float peak = 0.0f;

		cfg.amplitude = 1.0;
		cfg.seed = 0; /* a zero seed is as good as any */
		buf = read_all(&cfg, 50000);
		for (i = 0; i < 50000; i++)
			peak = fabsf(buf[i]) > peak ? fabsf(buf[i]) : peak;
		ck_assert_float_le(peak, 1.0f);
		ck_assert_float_gt(peak, 0.3f);
		free(buf);
	}
}
END_TEST

START_TEST(test_edge_frequencies)
{
	ra_generate_config cfg = make_cfg(RA_SIGNAL_SWEEP, 1, 100);
	ra_generator *gen;
	float buf[100], peak = 0.0f;
	int i, finite = 0;

	/* Just below Nyquist is allowed, for both ends of a sweep. */
	cfg.freq = 23999.9;
	cfg.freq_end = 0.001;
	gen = create_ok(&cfg);
	ck_assert_uint_eq(ra_generator_read(gen, buf, 100), 100);
	for (i = 0; i < 100; i++) {
		finite += isfinite(buf[i]) != 0;
		peak = fmaxf(peak, fabsf(buf[i]));
	}
	ck_assert_int_eq(finite, 100);
	ck_assert_float_le(peak, 0.5f);
	ra_generator_destroy(gen);

	/* A one-frame sweep and sine start at phase 0. */
	cfg.frames = 1;
	gen = create_ok(&cfg);
	buf[0] = 1.0f;
	ck_assert_uint_eq(ra_generator_read(gen, buf, 100), 1);
	ck_assert_float_eq(buf[0], 0.0f);
	ra_generator_destroy(gen);
}
END_TEST

START_TEST(test_parse_keeps_cfg_on_error)
{
	ra_generate_config cfg = make_cfg(RA_SIGNAL_SWEEP, 1, 10);
	ra_generate_config before = cfg;

	ck_assert_int_eq(ra_generate_parse("sweep:20:x", &cfg, NULL), RA_ERR_INVALID);
	ck_assert(!memcmp(&cfg, &before, sizeof(cfg)));
	ck_assert_int_eq(ra_generate_parse("sine:abc", &cfg, NULL), RA_ERR_INVALID);
	ck_assert(!memcmp(&cfg, &before, sizeof(cfg)));
}
END_TEST

START_TEST(test_destroy_null)
{
	ra_generator_destroy(NULL);
	ck_assert_uint_eq(ra_generator_read(NULL, NULL, 10), 0);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_parse_rejects)
{
	static const char *const bad[] = {
		"sine",	     "sine:",	  "sine:-5",   "sine:abc",	"sine:1k:2", "sweep",
		"sweep:20",  "sweep:20:", "sweep::20", "sweep:20:2k:3", "bogus",     "",
		"sine:0",    "sine:0k",	  "sine:inf",  "sine:nan",	"sine:0x10", "sine: 440",
		"sine:440 ", "sine:1kk",  "sine:k",    "sine:1k5",	"sine:+440", "sine:1e999",
		"sine:.",    "white:1",	  "pink:",     "impulse:0",	"silence:",  "SINE:440",
		"sine440",   ":440",	  "white ",    "sinewave:1",	"sin:440",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ra_generate_config cfg = make_cfg(RA_SIGNAL_SILENCE, 1, 1);
		ra_diag diag = { "" };

		ck_assert_msg(ra_generate_parse(bad[i], &cfg, &diag) == RA_ERR_INVALID,
			      "'%s' accepted", bad[i]);
		ck_assert_msg(!strncmp(diag.text, "bad signal '", 12), "'%s': diag '%s'", bad[i],
			      diag.text);
		ck_assert_ptr_nonnull(strstr(diag.text, bad[i]));
	}
	ck_assert_int_eq(ra_generate_parse(NULL, &(ra_generate_config){ 0 }, NULL), RA_ERR_INVALID);
}
END_TEST

START_TEST(test_create_rejects)
{
	ra_generate_config bad[24];
	size_t n = 0, i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		bad[i] = make_cfg(RA_SIGNAL_SINE, 2, 100);
	bad[n++].sample_rate = 0;
	bad[n++].sample_rate = -44100;
	bad[n++].channels = 0;
	bad[n++].channels = 1025;
	bad[n++].channels = -1;
	bad[n++].frames = -1;
	bad[n++].amplitude = 1.5;
	bad[n++].amplitude = -0.1;
	bad[n++].amplitude = NAN;
	bad[n++].amplitude = INFINITY;
	bad[n++].freq = RATE / 2;
	bad[n++].freq = 30000.0;
	bad[n++].freq = 0.0;
	bad[n++].freq = -440.0;
	bad[n++].freq = NAN;
	bad[n].kind = RA_SIGNAL_SWEEP;
	bad[n++].freq_end = RATE / 2;
	bad[n].kind = RA_SIGNAL_SWEEP;
	bad[n++].freq_end = 0.0;
	bad[n].kind = RA_SIGNAL_SWEEP;
	bad[n++].freq = INFINITY;
	bad[n].kind = RA_SIGNAL_WHITE;
	bad[n++].channels = 1025;
	bad[n].kind = RA_SIGNAL_IMPULSE;
	bad[n++].sample_rate = 0;
	bad[n++].kind = (ra_signal_kind)99;

	for (i = 0; i < n; i++) {
		ra_status st = RA_OK;
		ra_diag diag = { "" };

		ck_assert_msg(ra_generator_create(&bad[i], &st, &diag) == NULL, "case %zu accepted",
			      i);
		ck_assert_int_eq(st, RA_ERR_INVALID);
		ck_assert_msg(diag.text[0] != '\0', "case %zu: no reason", i);
		/* STATUS and DIAG are optional. */
		ck_assert_ptr_null(ra_generator_create(&bad[i], NULL, NULL));
	}
}
END_TEST

START_TEST(test_create_null_cfg)
{
	ra_status st = RA_OK;

	ck_assert_ptr_null(ra_generator_create(NULL, &st, NULL));
	ck_assert_int_eq(st, RA_ERR_INVALID);
}
END_TEST

static Suite *generate_suite(void)
{
	Suite *s = suite_create("generate");
	TCase *tc;

	tc = tcase_create("behaviour");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_parse_accepts);
	tcase_add_test(tc, test_sine_formula);
	tcase_add_test(tc, test_sine_no_drift);
	tcase_add_test(tc, test_sine_rms);
	tcase_add_test(tc, test_block_split);
	tcase_add_test(tc, test_white_stats);
	tcase_add_test(tc, test_noise_seed);
	tcase_add_test(tc, test_pink_slope);
	tcase_add_test(tc, test_sweep_up_down);
	tcase_add_test(tc, test_sweep_flat_is_sine);
	tcase_add_test(tc, test_impulse_silence);
	tcase_add_test(tc, test_length_exact);
	suite_add_tcase(s, tc);

	tc = tcase_create("edges");
	tcase_add_test(tc, test_zero_length);
	tcase_add_test(tc, test_zero_frame_read);
	tcase_add_test(tc, test_max_channels);
	tcase_add_test(tc, test_zero_amplitude);
	tcase_add_test(tc, test_full_scale_noise_bounded);
	tcase_add_test(tc, test_edge_frequencies);
	tcase_add_test(tc, test_parse_keeps_cfg_on_error);
	tcase_add_test(tc, test_destroy_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_parse_rejects);
	tcase_add_test(tc, test_create_rejects);
	tcase_add_test(tc, test_create_null_cfg);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return ra_test_main(generate_suite());
}
