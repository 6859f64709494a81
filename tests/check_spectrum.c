/* Unit tests for windows and Welch spectra: windows against scipy's
 * formula, levels of sines and noise, Parseval, a direct-DFT Welch as the
 * oracle, segment counting, chunking independence, spectrogram rows and
 * refusals. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rustyaudio/phases.h"
#include "rustyaudio/spectrum.h"
#include "testutil.h"

#define FS 48000.0
#define PI_L 3.141592653589793238462643383279502884L

/* ---- the definitions, written out again ---- */

/* scipy.signal.windows coefficients, in scipy's own convention: a sum of
 * a_k cos(k x) over x = linspace(-pi, pi, M). */
static const struct {
	ra_window window;
	const char *name;
	int terms;
	double a[5];
	double enbw_published; /* bins, for large N */
} windows[] = {
	{ RA_WINDOW_HANN, "hann", 2, { 0.5, 0.5 }, 1.5 },
	{ RA_WINDOW_HAMMING, "hamming", 2, { 0.54, 0.46 }, 1.3628 },
	{ RA_WINDOW_BLACKMAN, "blackman", 3, { 0.42, 0.5, 0.08 }, 1.7268 },
	{ RA_WINDOW_BLACKMAN_HARRIS,
	  "blackman-harris",
	  4,
	  { 0.35875, 0.48829, 0.14128, 0.01168 },
	  2.0044 },
	{ RA_WINDOW_FLATTOP,
	  "flattop",
	  5,
	  { 0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368 },
	  3.7702 },
	{ RA_WINDOW_RECT, "rect", 1, { 1.0 }, 1.0 },
};
#define NWINDOWS ((int)(sizeof(windows) / sizeof(windows[0])))

/* get_window(name, n, fftbins=True): the symmetric window of n + 1 points,
 * x = -pi + 2 pi i / n, without its last point; ones for n = 1. Long
 * double, so that it is a reference for double. */
static void ref_window(int wi, size_t n, double *out)
{
	size_t i;
	int k;

	if (n == 1) {
		out[0] = 1.0;
		return;
	}
	for (i = 0; i < n; i++) {
		long double x = -PI_L + 2.0L * PI_L * (long double)i / (long double)n, w = 0.0L;

		for (k = 0; k < windows[wi].terms; k++)
			w += (long double)windows[wi].a[k] * cosl((long double)k * x);
		out[i] = (double)w;
	}
}

static int window_index(ra_window window)
{
	int i;

	for (i = 0; i < NWINDOWS; i++)
		if (windows[i].window == window)
			return i;
	ck_abort_msg("no window %d", (int)window);
	return -1;
}

/*
 * scipy.signal.welch by its definition, with a direct DFT in double: noverlap
 * = llround(overlap * n), segments from frame 0 every n - noverlap frames
 * while a whole one fits, |DFT(x w)|^2 scaled by 1 / (fs sum w^2) or
 * 1 / (sum w)^2, doubled where the negative frequency was dropped (k > 0,
 * 2k != n), averaged; dB as the header says. Returns the segments.
 */
static size_t ref_welch(const float *x, size_t frames, int channels, int mix, size_t n,
			ra_window window, double overlap, ra_spectrum_scale scale, double *out)
{
	size_t step = n - (size_t)llround(overlap * (double)n);
	size_t nseg = frames >= n ? (frames - n) / step + 1 : 0;
	size_t bins = n / 2 + 1, i, k, s, m;
	int outch = mix ? 1 : channels, c, j;
	double *w = malloc(n * sizeof(*w)), *ct = malloc(n * sizeof(*ct));
	double *st = malloc(n * sizeof(*st)), *seg = malloc(n * sizeof(*seg));
	double sw = 0.0, sw2 = 0.0, norm;

	ck_assert(w && ct && st && seg);
	ref_window(window_index(window), n, w);
	for (i = 0; i < n; i++) {
		sw += w[i];
		sw2 += w[i] * w[i];
		ct[i] = (double)cosl(2.0L * PI_L * (long double)i / (long double)n);
		st[i] = (double)sinl(2.0L * PI_L * (long double)i / (long double)n);
	}
	norm = scale == RA_SCALE_PSD ? 1.0 / (FS * sw2) : 1.0 / (sw * sw);
	for (c = 0; c < outch; c++) {
		for (k = 0; k < bins; k++)
			out[c * bins + k] = 0.0;
		for (s = 0; s < nseg; s++) {
			for (i = 0; i < n; i++) {
				const float *f = x + (s * step + i) * (size_t)channels;
				double v = 0.0;

				if (mix) {
					for (j = 0; j < channels; j++)
						v += f[j];
					v /= channels;
				} else {
					v = f[c];
				}
				seg[i] = v * w[i];
			}
			for (k = 0; k < bins; k++) {
				double re = 0.0, im = 0.0;

				for (i = 0, m = 0; i < n; i++, m = (m + k) % n) {
					re += seg[i] * ct[m];
					im -= seg[i] * st[m];
				}
				out[c * bins + k] += re * re + im * im;
			}
		}
		for (k = 0; k < bins && nseg > 0; k++) {
			double p = out[c * bins + k] * norm / (double)nseg;

			if (k > 0 && 2 * k != n)
				p *= 2.0;
			if (scale == RA_SCALE_DBFS)
				p *= 2.0;
			out[c * bins + k] = p > 0.0 ? 10.0 * log10(p) : -INFINITY;
		}
	}
	free(w);
	free(ct);
	free(st);
	free(seg);
	return nseg;
}

/* ---- signals and helpers ---- */

/* xorshift64*: the same stream on every platform. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* Uniform in [-1, 1). */
static double rng_uniform(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) * 0x1p-52 - 1.0;
}

/* Each channel: a sine of amplitude 0.9 between bins, a second at -60 dB
 * and uniform noise of amplitude 1e-4 (level near -100 dB in a bin), so
 * the spectrum spans the whole 100 dB the accuracy bound covers. */
static float *test_signal(size_t frames, int channels, size_t n, uint64_t seed)
{
	float *x = malloc(frames * (size_t)channels * sizeof(*x));
	uint64_t s = seed;
	size_t t;
	int c;

	ck_assert_ptr_nonnull(x);
	for (t = 0; t < frames; t++) {
		for (c = 0; c < channels; c++) {
			double f1 = (n / 9.0 + 0.37 + c) / n, f2 = (n / 3.0 + 0.21 - c) / n;

			x[t * channels + c] =
				(float)(0.9 * sin(2.0 * M_PI * f1 * t + c) +
					0.9e-3 * sin(2.0 * M_PI * f2 * t) + 1e-4 * rng_uniform(&s));
		}
	}
	return x;
}

static ra_welch_config config(int channels, size_t n, ra_window window, double overlap)
{
	ra_welch_config cfg = { .channels = channels,
				.sample_rate = FS,
				.fft_size = n,
				.window = window,
				.overlap = overlap,
				.mix = 0,
				.measure = 0 };
	return cfg;
}

static ra_welch *create_ok(const ra_welch_config *cfg)
{
	ra_status st = RA_ERR_CANCELLED;
	ra_diag diag = { "" };
	ra_welch *w = ra_welch_create(cfg, &st, &diag);

	ck_assert_msg(w != NULL, "create failed: %s", diag.text);
	ck_assert_int_eq(st, RA_OK);
	return w;
}

/* Feed X in chunks of CHUNK frames (0: all at once). */
static void feed_chunks(ra_welch *w, const float *x, size_t frames, int channels, size_t chunk)
{
	size_t t = 0;

	if (chunk == 0)
		chunk = frames;
	while (t < frames) {
		size_t run = frames - t < chunk ? frames - t : chunk;

		ra_welch_feed(w, x + t * (size_t)channels, run);
		t += run;
	}
}

static double db_to_power(double db)
{
	return pow(10.0, db / 10.0);
}

/* ---- behaviour ---- */

START_TEST(test_windows_match_scipy)
{
	static const size_t sizes[] = { 1, 2, 3, 4, 7, 64, 255, 256, 2048, 4097 };
	int wi;
	size_t si, i;

	for (wi = 0; wi < NWINDOWS; wi++) {
		for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
			size_t n = sizes[si];
			double *got = malloc((n + 1) * sizeof(*got)),
			       *want = malloc(n * sizeof(*want));

			ck_assert(got && want);
			got[n] = 12345.0;
			ra_window_fill(windows[wi].window, got, n);
			ref_window(wi, n, want);
			for (i = 0; i < n; i++)
				ck_assert_msg(fabs(got[i] - want[i]) <= 1e-15,
					      "%s n=%zu w[%zu] = %.17g, want %.17g",
					      windows[wi].name, n, i, got[i], want[i]);
			/* Periodic: even about n / 2. */
			for (i = 1; i < n; i++)
				ck_assert_double_eq_tol(got[i], got[n - i], 1e-15);
			ck_assert_double_eq(got[n], 12345.0);
			free(got);
			free(want);
		}
	}
}
END_TEST

START_TEST(test_window_known_values)
{
	double w[4];

	ra_window_fill(RA_WINDOW_HANN, w, 4);
	ck_assert_double_eq_tol(w[0], 0.0, 1e-16);
	ck_assert_double_eq_tol(w[1], 0.5, 1e-16);
	ck_assert_double_eq_tol(w[2], 1.0, 1e-16);
	ck_assert_double_eq_tol(w[3], 0.5, 1e-16);
	ra_window_fill(RA_WINDOW_HAMMING, w, 4);
	ck_assert_double_eq_tol(w[0], 0.08, 1e-16);
	ck_assert_double_eq_tol(w[2], 1.0, 1e-16);
	ra_window_fill(RA_WINDOW_FLATTOP, w, 4);
	ck_assert_double_eq_tol(
		w[0], 0.21557895 - 0.41663158 + 0.277263158 - 0.083578947 + 0.006947368, 1e-16);
	ra_window_fill(RA_WINDOW_RECT, w, 4);
	ck_assert_double_eq(w[0] + w[1] + w[2] + w[3], 4.0);
}
END_TEST

/* ENBW in bins, N sum(w^2) / sum(w)^2: exactly from the window's sums and
 * from the coefficients (a0^2 + sum a_k^2 / 2) / a0^2, and near the values
 * published for each window. */
START_TEST(test_enbw)
{
	const size_t n = 2048;
	double w[2048];
	int wi, k;

	for (wi = 0; wi < NWINDOWS; wi++) {
		ra_welch_config cfg = config(1, n, windows[wi].window, 0.5);
		ra_welch *an = create_ok(&cfg);
		double bins = ra_welch_enbw_hz(an) / (FS / n), s1 = 0, s2 = 0, a0, series;
		size_t i;

		ref_window(wi, n, w);
		for (i = 0; i < n; i++) {
			s1 += w[i];
			s2 += w[i] * w[i];
		}
		a0 = windows[wi].a[0];
		series = a0 * a0;
		for (k = 1; k < windows[wi].terms; k++)
			series += windows[wi].a[k] * windows[wi].a[k] / 2.0;
		ck_assert_double_eq_tol(bins, n * s2 / (s1 * s1), 1e-12);
		ck_assert_double_eq_tol(bins, series / (a0 * a0), 1e-12);
		ck_assert_double_eq_tol(bins, windows[wi].enbw_published, 1e-3);
		ra_welch_destroy(an);
	}
}
END_TEST

/* Full-scale sine at BIN (fractional) bins, read on dBFS at the spectrum's
 * largest bin, which must be one of the two around it. */
static double sine_peak_dbfs(ra_window window, double bin)
{
	const size_t n = 2048, frames = 8 * n;
	ra_welch_config cfg = config(1, n, window, 0.5);
	ra_welch *w = create_ok(&cfg);
	float *x = malloc(frames * sizeof(*x));
	size_t t, k, peak = 0;
	double *db, level;

	ck_assert_ptr_nonnull(x);
	for (t = 0; t < frames; t++)
		x[t] = (float)sin(2.0 * M_PI * bin * (double)t / n);
	ra_welch_feed(w, x, frames);
	db = ra_test_welch_result(w, RA_SCALE_DBFS);
	for (k = 1; k < ra_welch_bins(w); k++)
		if (db[k] > db[peak])
			peak = k;
	ck_assert_msg(fabs((double)peak - bin) < 1.0, "peak at bin %zu for %g", peak, bin);
	level = db[peak];
	free(db);
	free(x);
	ra_welch_destroy(w);
	return level;
}

START_TEST(test_sine_on_bin_reads_0_dbfs)
{
	ck_assert_double_eq_tol(sine_peak_dbfs(RA_WINDOW_FLATTOP, 100.0), 0.0, 0.05);
	ck_assert_double_eq_tol(sine_peak_dbfs(RA_WINDOW_HANN, 100.0), 0.0, 0.05);
	ck_assert_double_eq_tol(sine_peak_dbfs(RA_WINDOW_RECT, 100.0), 0.0, 0.05);
}
END_TEST

/* Flattop's point: between bins the peak still reads full scale, where
 * hann loses 1.4 dB half way. */
START_TEST(test_sine_off_bin_flattop)
{
	static const double offsets[] = { 0.1, 0.25, 0.37, 0.5 };
	size_t i;

	for (i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++)
		ck_assert_double_eq_tol(sine_peak_dbfs(RA_WINDOW_FLATTOP, 100.0 + offsets[i]), 0.0,
					0.05);
	ck_assert_double_lt(sine_peak_dbfs(RA_WINDOW_HANN, 100.5), -1.0);
}
END_TEST

/* Uniform white noise of variance sigma^2 has the one-sided density
 * 2 sigma^2 / fs; the mix of two independent channels a quarter of the
 * sum of their variances. */
START_TEST(test_white_noise_density)
{
	const size_t n = 512, frames = n + 199 * n / 2;
	const double amp[2] = { 0.5, 0.05 };
	float *x = malloc(frames * 2 * sizeof(*x));
	uint64_t s = 20240611;
	size_t t, k;
	int c, mix;

	ck_assert_ptr_nonnull(x);
	for (t = 0; t < frames; t++)
		for (c = 0; c < 2; c++)
			x[2 * t + c] = (float)(amp[c] * rng_uniform(&s));
	for (mix = 0; mix < 2; mix++) {
		ra_welch_config cfg = config(2, n, RA_WINDOW_HANN, 0.5);
		ra_welch *w;
		double *db;

		cfg.mix = mix;
		w = create_ok(&cfg);
		ra_welch_feed(w, x, frames);
		ck_assert_uint_eq(ra_welch_segments(w), 200);
		db = ra_test_welch_result(w, RA_SCALE_PSD);
		for (c = 0; c < ra_welch_channels(w); c++) {
			double var = mix ? (amp[0] * amp[0] + amp[1] * amp[1]) / 3.0 / 4.0
					 : amp[c] * amp[c] / 3.0;
			double mean = 0.0;

			for (k = 1; k < n / 2; k++)
				mean += db_to_power(db[c * (n / 2 + 1) + k]);
			mean /= (double)(n / 2 - 1);
			ck_assert_double_eq_tol(10.0 * log10(mean), 10.0 * log10(2.0 * var / FS),
						0.2);
		}
		free(db);
		ra_welch_destroy(w);
	}
	free(x);
}
END_TEST

/* One segment: the density summed over the bins times fs / N is the
 * segment's mean square for rect, and mean(x^2 w^2) / mean(w^2) for hann. */
START_TEST(test_parseval)
{
	const size_t n = 1024;
	static const ra_window wins[] = { RA_WINDOW_RECT, RA_WINDOW_HANN };
	float x[1024];
	double win[1024];
	uint64_t s = 7;
	size_t i, k;
	int wi;

	for (i = 0; i < n; i++)
		x[i] = (float)(0.3 * rng_uniform(&s) + 0.1 * sin(0.05 * (double)i));
	for (wi = 0; wi < 2; wi++) {
		ra_welch_config cfg = config(1, n, wins[wi], 0.0);
		ra_welch *w = create_ok(&cfg);
		double *db, sum = 0.0, xw2 = 0.0, w2 = 0.0;

		ra_welch_feed(w, x, n);
		ck_assert_uint_eq(ra_welch_segments(w), 1);
		db = ra_test_welch_result(w, RA_SCALE_PSD);
		for (k = 0; k < ra_welch_bins(w); k++)
			sum += db_to_power(db[k]) * FS / (double)n;
		ra_window_fill(wins[wi], win, n);
		for (i = 0; i < n; i++) {
			xw2 += (double)x[i] * x[i] * win[i] * win[i];
			w2 += win[i] * win[i];
		}
		ck_assert_double_eq_tol(sum / (xw2 / w2), 1.0, 1e-6);
		free(db);
		ra_welch_destroy(w);
	}
}
END_TEST

/* dBFS is twice the 'spectrum' scaling, which is the density times the
 * ENBW in Hz: the two scales differ by 10 log10(2 ENBW) in every bin. */
START_TEST(test_scales_differ_by_enbw)
{
	const size_t n = 300, frames = 3000;
	ra_welch_config cfg = config(2, n, RA_WINDOW_BLACKMAN, 0.3);
	float *x = test_signal(frames, 2, n, 3);
	ra_welch *w = create_ok(&cfg);
	double *psd, *dbfs, diff;
	size_t k;

	ra_welch_feed(w, x, frames);
	psd = ra_test_welch_result(w, RA_SCALE_PSD);
	dbfs = ra_test_welch_result(w, RA_SCALE_DBFS);
	diff = 10.0 * log10(2.0 * ra_welch_enbw_hz(w));
	for (k = 0; k < 2 * ra_welch_bins(w); k++)
		ck_assert_double_eq_tol(dbfs[k] - psd[k], diff, 1e-9);
	free(psd);
	free(dbfs);
	free(x);
	ra_welch_destroy(w);
}
END_TEST

/* Every checked bin of ra_welch_result within 0.01 dB of the direct-DFT
 * Welch where the level is within 100 dB of the maximum; most bins must
 * be in that range or the check proves little. */
static void check_definition_of(size_t n, double overlap, ra_window window, int channels, int mix,
				size_t segments, int parts)
{
	ra_welch_config cfg = config(channels, n, window, overlap);
	size_t step = n - (size_t)llround(overlap * (double)n);
	size_t frames = n + (segments - 1) * step + step / 2, bins = n / 2 + 1, k, checked = 0,
	       total;
	float *x = test_signal(frames, channels, n, 1000 + n);
	int outch = mix ? 1 : channels, sc, c;
	ra_welch *w;

	cfg.mix = mix;
	cfg.parts = parts;
	w = create_ok(&cfg);
	ra_welch_feed(w, x, frames);
	ck_assert_uint_eq(ra_welch_segments(w), segments);
	ck_assert_int_eq(ra_welch_channels(w), outch);
	ck_assert_uint_eq(ra_welch_bins(w), bins);
	total = 2 * (size_t)outch * bins;
	for (sc = 0; sc < 2; sc++) {
		ra_spectrum_scale scale = sc ? RA_SCALE_DBFS : RA_SCALE_PSD;
		double *want = malloc((size_t)outch * bins * sizeof(*want));
		double *got = ra_test_welch_result(w, scale);

		ck_assert_ptr_nonnull(want);
		ck_assert_uint_eq(
			ref_welch(x, frames, channels, mix, n, window, overlap, scale, want),
			segments);
		for (c = 0; c < outch; c++) {
			double max = -INFINITY;

			for (k = 0; k < bins; k++)
				max = fmax(max, want[c * bins + k]);
			for (k = 0; k < bins; k++) {
				double g = got[c * bins + k], r = want[c * bins + k];

				if (r < max - 100.0)
					continue;
				checked++;
				ck_assert_msg(fabs(g - r) <= 0.01,
					      "n=%zu overlap=%g %s ch=%d mix=%d scale=%d bin %zu: "
					      "%.6f dB, want %.6f (max %.2f)",
					      n, overlap, ra_window_name(window), channels, mix, sc,
					      k, g, r, max);
			}
		}
		free(want);
		free(got);
	}
	ck_assert_msg(checked * 2 > total, "only %zu of %zu bins checked", checked, total);
	free(x);
	ra_welch_destroy(w);
}

/* Five segments, all in the first phase sum. */
static void check_definition(size_t n, double overlap, ra_window window, int channels, int mix)
{
	check_definition_of(n, overlap, window, channels, mix, 5, 1);
}

START_TEST(test_matches_definition)
{
	static const size_t sizes[] = { 256, 300, 255 };
	static const double overlaps[] = { 0.5, 0.3 };
	size_t si, oi;

	for (si = 0; si < 3; si++) {
		for (oi = 0; oi < 2; oi++) {
			check_definition(sizes[si], overlaps[oi], RA_WINDOW_HANN, 1, 0);
			check_definition(sizes[si], overlaps[oi], RA_WINDOW_HANN, 2, 0);
			check_definition(sizes[si], overlaps[oi], RA_WINDOW_HANN, 2, 1);
		}
	}
}
END_TEST

START_TEST(test_matches_definition_windows)
{
	int wi;

	for (wi = 0; wi < NWINDOWS; wi++) {
		check_definition(255, 0.3, windows[wi].window, 2, 0);
		check_definition(256, 0.5, windows[wi].window, 3, 1);
	}
}
END_TEST

/* A long stream, 150 segments: every phase sum takes its groups of 16,
 * whole and in shares of the stream, and the sum of the sums is still the
 * definition's average. */
START_TEST(test_matches_definition_long)
{
	check_definition_of(256, 0.5, RA_WINDOW_HANN, 2, 0, 150, 1);
	check_definition_of(256, 0.5, RA_WINDOW_HANN, 2, 0, 150, 8);
	check_definition_of(300, 0.3, RA_WINDOW_BLACKMAN, 1, 0, 150, 4);
	check_definition_of(255, 0.5, RA_WINDOW_HANN, 3, 1, 150, 2);
}
END_TEST

/* A stereo channel reads exactly what it reads fed alone; a mix of
 * identical channels exactly what one of them reads. */
START_TEST(test_channels_independent)
{
	const size_t n = 256, frames = 4000;
	float *x = test_signal(frames, 2, n, 11), *one = malloc(frames * sizeof(*one));
	float *same = malloc(frames * 4 * sizeof(*same));
	ra_welch_config cfg = config(2, n, RA_WINDOW_HANN, 0.5);
	ra_welch *st, *mono, *mixed;
	double *a, *b, *m;
	size_t t, bins = n / 2 + 1;

	ck_assert(one && same);
	for (t = 0; t < frames; t++) {
		one[t] = x[2 * t + 1];
		same[4 * t] = same[4 * t + 1] = same[4 * t + 2] = same[4 * t + 3] = one[t];
	}
	st = create_ok(&cfg);
	cfg.channels = 1;
	mono = create_ok(&cfg);
	cfg.channels = 4;
	cfg.mix = 1;
	mixed = create_ok(&cfg);
	ra_welch_feed(st, x, frames);
	ra_welch_feed(mono, one, frames);
	ra_welch_feed(mixed, same, frames);
	a = ra_test_welch_result(st, RA_SCALE_PSD);
	b = ra_test_welch_result(mono, RA_SCALE_PSD);
	m = ra_test_welch_result(mixed, RA_SCALE_PSD);
	ck_assert_int_eq(memcmp(a + bins, b, bins * sizeof(*a)), 0);
	ck_assert_int_eq(memcmp(m, b, bins * sizeof(*m)), 0);
	ck_assert_int_ne(memcmp(a, b, bins * sizeof(*a)), 0);
	free(a);
	free(b);
	free(m);
	ra_welch_destroy(st);
	ra_welch_destroy(mono);
	ra_welch_destroy(mixed);
	free(x);
	free(one);
	free(same);
}
END_TEST

/* Analysers made, used and destroyed on several threads at once (the
 * planner lock; run under ThreadSanitizer it proves the planner is never
 * entered twice) all read what one made alone reads. */
#define THREADS 4
#define THREAD_ROUNDS 10

struct thread_job {
	const float *x;
	size_t frames;
	double *db; /* the last round's result */
};

static void *thread_run(void *arg)
{
	struct thread_job *job = arg;
	int r;

	for (r = 0; r < THREAD_ROUNDS; r++) {
		ra_welch_config cfg = config(2, 128 + 64 * (r % 3), RA_WINDOW_HANN, 0.5);
		ra_welch *w;

		cfg.measure = r == 0;
		cfg.fft_size = r == THREAD_ROUNDS - 1 ? 256 : cfg.fft_size;
		w = ra_welch_create(&cfg, NULL, NULL);
		if (!w)
			return NULL;
		ra_welch_feed(w, job->x, job->frames);
		if (r == THREAD_ROUNDS - 1 && ra_welch_result(w, RA_SCALE_PSD, job->db, NULL))
			job->db[0] = NAN;
		ra_welch_destroy(w);
	}
	return job;
}

START_TEST(test_threads_plan_concurrently)
{
	const size_t n = 256, frames = 5000, count = 2 * (n / 2 + 1);
	float *x = test_signal(frames, 2, n, 31);
	ra_welch_config cfg = config(2, n, RA_WINDOW_HANN, 0.5);
	ra_welch *alone = create_ok(&cfg);
	struct thread_job jobs[THREADS];
	pthread_t tid[THREADS];
	double *want;
	int i;

	ra_welch_feed(alone, x, frames);
	want = ra_test_welch_result(alone, RA_SCALE_PSD);
	for (i = 0; i < THREADS; i++) {
		jobs[i] = (struct thread_job){ x, frames, calloc(count, sizeof(double)) };
		ck_assert_ptr_nonnull(jobs[i].db);
		ck_assert_int_eq(pthread_create(&tid[i], NULL, thread_run, &jobs[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		void *ret = NULL;

		ck_assert_int_eq(pthread_join(tid[i], &ret), 0);
		ck_assert_ptr_eq(ret, &jobs[i]);
	}
	for (i = 0; i < THREADS; i++) {
		size_t k;

		for (k = 0; k < count; k++)
			ck_assert_double_eq_tol(jobs[i].db[k], want[k], 1e-9);
		free(jobs[i].db);
	}
	free(want);
	free(x);
	ra_welch_destroy(alone);
}
END_TEST

/* ---- edges ---- */

/* Segments complete at N, N + step, N + 2 step, ... frames and not one
 * frame earlier, fed a frame at a time; 0 segments is refused. */
START_TEST(test_segment_counting)
{
	static const struct {
		size_t n;
		double overlap;
		size_t step;
	} cases[] = {
		{ 256, 0.5, 128 }, { 300, 0.3, 210 }, { 255, 0.0, 255 },
		{ 253, 0.5, 126 }, /* 126.5 rounds away from zero: noverlap 127 */
		{ 2, 0.0, 2 },
	};
	size_t ci, t;

	for (ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++) {
		size_t n = cases[ci].n, step = cases[ci].step, frames = n + 3 * step + 1;
		ra_welch_config cfg = config(2, n, RA_WINDOW_HANN, cases[ci].overlap);
		ra_welch *w = create_ok(&cfg);
		float frame[2] = { 0.25f, -0.5f };

		for (t = 1; t <= frames; t++) {
			uint64_t want = t >= n ? (t - n) / step + 1 : 0;

			ra_welch_feed(w, frame, 1);
			ck_assert_msg(ra_welch_segments(w) == want, "n=%zu after %zu frames: %llu",
				      n, t, (unsigned long long)ra_welch_segments(w));
		}
		ra_welch_destroy(w);
	}
}
END_TEST

START_TEST(test_segment_lengths)
{
	const size_t n = 256, step = 128;
	const size_t lengths[] = { n - 1, n, n + step - 1, n + step };
	const uint64_t want[] = { 0, 1, 1, 2 };
	float *x = test_signal(n + step, 1, n, 5);
	size_t i;

	for (i = 0; i < 4; i++) {
		ra_welch_config cfg = config(1, n, RA_WINDOW_HAMMING, 0.5);
		ra_welch *w = create_ok(&cfg);
		double db[129];
		ra_diag diag = { "" };

		ra_welch_feed(w, x, lengths[i]);
		ck_assert_uint_eq(ra_welch_segments(w), want[i]);
		ck_assert_int_eq(ra_welch_result(w, RA_SCALE_DBFS, db, &diag),
				 want[i] ? RA_OK : RA_ERR_INVALID);
		if (!want[i])
			ck_assert_str_eq(diag.text, "shorter than one fft segment (256 frames)");
		ra_welch_destroy(w);
	}
	free(x);
}
END_TEST

/* Chunks of 1, 7, 1000 frames, ragged chunks and the whole signal at once
 * give bit-identical results, mono, stereo and mixed. */
START_TEST(test_chunking_bit_identical)
{
	static const size_t chunks[] = { 0, 1, 7, 1000, 4096, 100000 };
	const size_t n = 300, frames = 12345;
	float *x = test_signal(frames, 3, n, 99);
	int mode;

	for (mode = 0; mode < 3; mode++) {
		int channels = mode == 0 ? 1 : 3, mix = mode == 2;
		double *ref_psd = NULL, *ref_dbfs = NULL;
		uint64_t ref_seg = 0;
		size_t ci, bytes = 0;

		for (ci = 0; ci <= sizeof(chunks) / sizeof(chunks[0]); ci++) {
			ra_welch_config cfg = config(channels, n, RA_WINDOW_BLACKMAN_HARRIS, 0.3);
			ra_welch *w;
			double *psd, *dbfs;

			cfg.mix = mix;
			w = create_ok(&cfg);
			if (ci < sizeof(chunks) / sizeof(chunks[0])) {
				feed_chunks(w, x, frames, channels, chunks[ci]);
			} else {
				/* Ragged: 1, 2, ..., up to 600 frames at a time. */
				size_t t = 0, run = 1;

				while (t < frames) {
					size_t r = frames - t < run ? frames - t : run;

					ra_welch_feed(w, x + t * channels, r);
					t += r;
					run = run % 600 + 1;
				}
			}
			psd = ra_test_welch_result(w, RA_SCALE_PSD);
			dbfs = ra_test_welch_result(w, RA_SCALE_DBFS);
			if (!ref_psd) {
				ref_psd = psd;
				ref_dbfs = dbfs;
				ref_seg = ra_welch_segments(w);
				bytes = (size_t)ra_welch_channels(w) * ra_welch_bins(w) *
					sizeof(*psd);
			} else {
				ck_assert_uint_eq(ra_welch_segments(w), ref_seg);
				ck_assert_msg(!memcmp(psd, ref_psd, bytes), "mode %d chunk #%zu",
					      mode, ci);
				ck_assert_msg(!memcmp(dbfs, ref_dbfs, bytes), "mode %d chunk #%zu",
					      mode, ci);
				free(psd);
				free(dbfs);
			}
			ra_welch_destroy(w);
		}
		ck_assert_uint_eq(ref_seg, (frames - n) / 210 + 1);
		free(ref_psd);
		free(ref_dbfs);
	}
	free(x);
}
END_TEST

/* Reset forgets the accumulation and the history: what follows reads as
 * on a fresh analyser, and a partial segment is not carried over. */
START_TEST(test_reset_reproduces)
{
	const size_t n = 256, frames = 3000;
	float *x = test_signal(frames, 2, n, 21), *junk = test_signal(1000, 2, n, 22);
	ra_welch_config cfg = config(2, n, RA_WINDOW_FLATTOP, 0.5);
	ra_welch *fresh = create_ok(&cfg), *reused = create_ok(&cfg);
	double *a, *b, db[2 * 129];
	ra_diag diag = { "" };

	ra_welch_feed(fresh, x, frames);
	ra_welch_feed(reused, junk, 1000);
	ra_welch_reset(reused);
	ck_assert_uint_eq(ra_welch_segments(reused), 0);
	ck_assert_int_eq(ra_welch_result(reused, RA_SCALE_PSD, db, &diag), RA_ERR_INVALID);
	ra_welch_feed(reused, x, frames);
	a = ra_test_welch_result(fresh, RA_SCALE_DBFS);
	b = ra_test_welch_result(reused, RA_SCALE_DBFS);
	ck_assert_uint_eq(ra_welch_segments(reused), ra_welch_segments(fresh));
	ck_assert_int_eq(memcmp(a, b, 2 * 129 * sizeof(*a)), 0);
	free(a);
	free(b);
	free(x);
	free(junk);
	ra_welch_destroy(fresh);
	ra_welch_destroy(reused);
}
END_TEST

/* Silence has no power anywhere: every bin reads -infinity. N = 2 with
 * x = (1, -1): all the power at Nyquist, none at DC. */
START_TEST(test_zero_power_is_minus_infinity)
{
	ra_welch_config cfg = config(1, 64, RA_WINDOW_HANN, 0.5);
	ra_welch *w = create_ok(&cfg);
	float zeros[200] = { 0 }, pair[2] = { 1.0f, -1.0f };
	double *db;
	size_t k;

	ra_welch_feed(w, zeros, 200);
	db = ra_test_welch_result(w, RA_SCALE_PSD);
	for (k = 0; k < ra_welch_bins(w); k++)
		ck_assert(isinf(db[k]) && db[k] < 0);
	free(db);
	ra_welch_destroy(w);

	cfg = config(1, 2, RA_WINDOW_RECT, 0.0);
	w = create_ok(&cfg);
	ra_welch_feed(w, pair, 2);
	db = ra_test_welch_result(w, RA_SCALE_DBFS);
	ck_assert_uint_eq(ra_welch_bins(w), 2);
	ck_assert(isinf(db[0]) && db[0] < 0);
	/* |X_1|^2 = 4, sum(w)^2 = 4, not doubled (Nyquist), times 2: 3 dB. */
	ck_assert_double_eq_tol(db[1], 10.0 * log10(2.0), 1e-12);
	free(db);
	ra_welch_destroy(w);
}
END_TEST

/* The extremes of the ranges are taken; feeding nothing changes nothing. */
START_TEST(test_limits_accepted)
{
	ra_welch_config cfg = config(1024, 64, RA_WINDOW_RECT, 0.0);
	ra_welch *w = create_ok(&cfg);
	float *x = calloc(64 * 1024, sizeof(*x));

	ck_assert_ptr_nonnull(x);
	ra_welch_feed(w, x, 0);
	ra_welch_feed(w, NULL, 0);
	ck_assert_uint_eq(ra_welch_segments(w), 0);
	ra_welch_feed(w, x, 64);
	ck_assert_uint_eq(ra_welch_segments(w), 1);
	ck_assert_int_eq(ra_welch_channels(w), 1024);
	ra_welch_destroy(w);

	cfg = config(2, 16, RA_WINDOW_HANN, 0.96); /* noverlap 15, step 1 */
	cfg.measure = 1;
	w = create_ok(&cfg);
	ra_welch_feed(w, x, 20);
	ck_assert_uint_eq(ra_welch_segments(w), 5);
	ra_welch_destroy(w);
	ra_welch_destroy(NULL);
	free(x);
}
END_TEST

/* ---- parts ---- */

/* Feed part PART of W the frames of X in runs of RUN frames. */
static void feed_part_in_runs(ra_welch *w, int part, const float *x, size_t frames, int channels,
			      size_t run)
{
	for (size_t t = 0; t < frames; t += run)
		ra_welch_feed_part(w, part, x + t * (size_t)channels,
				   frames - t < run ? frames - t : run);
}

/* The channels split into parts, runs of channels and then shares of
 * their stream in time, each part fed on its own, last part first and in
 * runs of its own, give ra_welch_feed()'s result to the bit. Runs as far
 * as there are channels, shares (1, 2 or 4) as far as asked, never more
 * than RA_WELCH_MAX_PARTS; a mix is one run. 311 segments: every share
 * takes many groups of 16, every phase sum many segments. */
START_TEST(test_parts_bit_identical)
{
	/* channels, parts asked, mix, parts made */
	static const int cases[][4] = { { 2, 2, 0, 2 }, { 3, 2, 0, 2 },	   { 3, 8, 0, 6 },
					{ 5, 3, 0, 3 }, { 12, 100, 0, 8 }, { 1, 4, 0, 4 },
					{ 1, 3, 0, 2 }, { 2, 8, 0, 8 },	   { 1, 100, 0, 4 },
					{ 3, 4, 1, 4 } };
	const size_t n = 256, frames = 40001;

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const int channels = cases[k][0], asked = cases[k][1], parts = cases[k][3];
		ra_welch_config cfg = config(channels, n, RA_WINDOW_FLATTOP, 0.5);
		float *x = test_signal(frames, channels, n, 7 + k);
		ra_welch *whole, *split;

		cfg.mix = cases[k][2];
		whole = create_ok(&cfg);
		ra_welch_feed(whole, x, frames);
		cfg.parts = asked;
		split = create_ok(&cfg);
		ck_assert_int_eq(ra_welch_parts(split), parts);
		for (int p = ra_welch_parts(split) - 1; p >= 0; p--)
			feed_part_in_runs(split, p, x, frames, channels, 1 + 997 * (size_t)p);
		ra_welch_feed_part(split, ra_welch_parts(split), x, frames); /* no such part */
		ra_welch_feed_part(split, -1, x, frames);
		ra_test_same_welch(split, whole, (int)k);
		ra_welch_destroy(whole);
		ra_welch_destroy(split);
		free(x);
	}
}
END_TEST

/* Feed W the groups of X (phases.h) SHARES would take, share SHARE's in
 * stream order, as ra_welch_group_frames() says. */
static void feed_share(ra_welch *w, int share, int shares, const float *x, size_t frames,
		       int channels)
{
	for (uint64_t g = (uint64_t)share; g * RA_PHASE_FRAMES < frames; g += (uint64_t)shares) {
		const size_t at = (size_t)g * RA_PHASE_FRAMES, n = ra_welch_group_frames(w, g);

		ra_welch_feed_group(w, g, x + at * (size_t)channels,
				    n < frames - at ? n : frames - at);
	}
}

/* Parts in time, the stream shared out by groups, each share's groups fed
 * on their own (last share first) and the parts passed to the stream's
 * end, give the whole stream's result to the bit. The stream is shared
 * out only where a share's segments end before its next group starts and
 * every group holds a segment's start; else it is fed whole. */
START_TEST(test_groups_bit_identical)
{
	/* channels, fft size, overlap, mix, parts asked, shares made */
	static const struct {
		int channels;
		size_t n;
		double overlap;
		int mix, parts, shares;
	} cases[] = { { 2, 2048, 0.5, 0, 4, 4 },   { 1, 1000, 0.3, 0, 2, 2 },
		      { 3, 16384, 0.75, 0, 4, 4 }, { 1, 32768, 0.5, 0, 4, 4 },
		      { 1, 32768, 0.5, 0, 2, 1 },  { 2, 65536, 0.75, 0, 4, 1 },
		      { 1, 32768, 0.0, 0, 4, 1 },  { 3, 512, 0.5, 1, 4, 4 } };
	const size_t frames = 9 * RA_PHASE_FRAMES + 777;

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const int channels = cases[k].channels, shares = cases[k].shares;
		ra_welch_config cfg =
			config(channels, cases[k].n, RA_WINDOW_HANN, cases[k].overlap);
		float *x = test_signal(frames, channels, cases[k].n, 19 + k);
		ra_welch *whole, *split;

		cfg.mix = cases[k].mix;
		whole = create_ok(&cfg);
		ra_welch_feed(whole, x, frames);
		cfg.parts = cases[k].parts;
		cfg.in_time = 1;
		split = create_ok(&cfg);
		ck_assert_int_eq(ra_welch_shares(split), shares);
		if (shares == 1)
			ra_welch_feed(split, x, frames);
		for (int j = shares - 1; shares > 1 && j >= 0; j--)
			feed_share(split, j, shares, x, frames, channels);
		ra_welch_pass_to(split, frames);
		ra_test_same_welch(split, whole, (int)k);
		ra_welch_destroy(whole);
		ra_welch_destroy(split);
		free(x);
	}
}
END_TEST

/* A group's frames run from its first to the end of the last segment
 * that starts in it; none where no segment starts. */
START_TEST(test_group_frames)
{
	ra_welch_config cfg = config(1, 2048, RA_WINDOW_HANN, 0.5);
	ra_welch *w = create_ok(&cfg);

	/* 16 segments start in each group, the last 1024 frames before its end. */
	ck_assert_uint_eq(ra_welch_group_frames(w, 0), RA_PHASE_FRAMES + 1024);
	ck_assert_uint_eq(ra_welch_group_frames(w, 7), RA_PHASE_FRAMES + 1024);
	ra_welch_destroy(w);
	cfg = config(1, 32768, RA_WINDOW_HANN, 0.0);
	w = create_ok(&cfg);
	ck_assert_uint_eq(ra_welch_group_frames(w, 0), 32768);
	ck_assert_uint_eq(ra_welch_group_frames(w, 1), 0);
	ck_assert_uint_eq(ra_welch_group_frames(w, 2), 32768);
	ra_welch_destroy(w);
	cfg = config(1, 1000, RA_WINDOW_HANN, 0.3); /* starts 700 apart */
	w = create_ok(&cfg);
	/* Group 1's first segment is the 24th (16800), its last the 46th
	 * (32200), which ends at 33200. */
	ck_assert_uint_eq(ra_welch_group_frames(w, 1), 33200 - RA_PHASE_FRAMES);
	ra_welch_destroy(w);
	ck_assert_uint_eq(ra_welch_group_frames(NULL, 0), 0);
	ck_assert_int_eq(ra_welch_shares(NULL), 1);
}
END_TEST

/* A result needs every part fed alike; parts past the memory bound are
 * not made (fewer shares first, then fewer runs); at 2^20 points there
 * are no shares in time. */
START_TEST(test_parts_fed_unequally_and_limits)
{
	const size_t n = 256, frames = 2000;
	ra_welch_config cfg = config(2, n, RA_WINDOW_HANN, 0.5);
	float *x = test_signal(frames, 2, n, 3);
	double *db = malloc(2 * (n / 2 + 1) * sizeof(*db));
	ra_diag diag = { "" };
	ra_welch *w;

	ck_assert_ptr_nonnull(db);
	cfg.parts = 2;
	w = create_ok(&cfg);
	ra_welch_feed_part(w, 0, x, frames);
	ra_welch_feed_part(w, 1, x, frames - n);
	ck_assert_int_eq(ra_welch_result(w, RA_SCALE_PSD, db, &diag), RA_ERR_INVALID);
	ck_assert_str_eq(diag.text, "the analyser's parts were fed unequally");
	ra_welch_feed_part(w, 1, x + 2 * (frames - n), n);
	ck_assert_int_eq(ra_welch_result(w, RA_SCALE_PSD, db, &diag), RA_OK);
	ra_welch_destroy(w);
	ck_assert_int_eq(ra_welch_parts(NULL), 0);

	/* 2^20 points: 61 channels and two parts' transforms fit in 1 GiB, 62
	 * fit with one part's alone, 60 with three parts'. */
	cfg = config(61, (size_t)1 << 20, RA_WINDOW_RECT, 0.0);
	cfg.parts = 2;
	w = create_ok(&cfg);
	ck_assert_int_eq(ra_welch_parts(w), 2);
	ra_welch_destroy(w);
	cfg.channels = 62;
	w = create_ok(&cfg);
	ck_assert_int_eq(ra_welch_parts(w), 1);
	ra_welch_destroy(w);
	cfg.channels = 60; /* 8 parts asked, 3 fit */
	cfg.parts = 8;
	w = create_ok(&cfg);
	ck_assert_int_eq(ra_welch_parts(w), 3);
	ra_welch_destroy(w);
	cfg.channels = 2; /* 8 asked: 2 runs, 1 share each */
	w = create_ok(&cfg);
	ck_assert_int_eq(ra_welch_parts(w), 2);
	ra_welch_destroy(w);
	free(db);
	free(x);
}
END_TEST

/* A digest of a spectrum the feeding loops made: 3 channels in 3 runs of
 * 2 shares, 153 segments in every phase sum. */
static uint64_t welch_digest(void)
{
	const size_t n = 512, frames = 20000;
	ra_welch_config cfg = config(3, n, RA_WINDOW_BLACKMAN_HARRIS, 0.75);
	float *x = test_signal(frames, 3, n, 41);
	ra_welch *w;
	double *db;
	uint64_t h;

	cfg.parts = 6;
	w = create_ok(&cfg);
	ra_welch_feed(w, x, frames);
	db = ra_test_welch_result(w, RA_SCALE_PSD);
	h = ra_test_digest(0, db, 3 * (n / 2 + 1) * sizeof(*db));
	free(db);
	free(x);
	ra_welch_destroy(w);
	return h;
}

/* The build the analysers use: in a child of test_every_build the one it
 * asked for, with the parent's bits; else the fastest this CPU runs. */
START_TEST(test_build_asked)
{
	ra_test_assert_build(ra_welch_kernel(), "avx2");
	ra_test_assert_golden(welch_digest());
}
END_TEST

/* The behaviour and edge cases again on the other builds this CPU runs. */
START_TEST(test_every_build)
{
	ra_test_rerun_builds("spectrum", "behaviour", welch_digest());
	ra_test_rerun_builds("spectrum", "edges", 0);
}
END_TEST

/* ---- rows ---- */

/* The spectrum of segment S (frames S * STEP onwards) alone: what an
 * analyser fed only its N frames reads on SCALE. */
static double *segment_alone(const ra_welch_config *cfg, const float *x, size_t s, size_t step,
			     ra_spectrum_scale scale)
{
	ra_welch *w = create_ok(cfg);
	double *db;

	ra_welch_feed(w, x + s * step * (size_t)cfg->channels, cfg->fft_size);
	ck_assert_uint_eq(ra_welch_segments(w), 1);
	db = ra_test_welch_result(w, scale);
	ra_welch_destroy(w);
	return db;
}

/* Take up to MAX rows (SIZE_MAX: all), checking each against row *NEXT
 * by the definition: at its segment's centre, (s step + N / 2) / fs
 * seconds, with that segment's own spectrum bit for bit. */
static void take_rows(ra_welch *w, const ra_welch_config *cfg, const float *x, size_t step,
		      size_t max, size_t *next)
{
	const size_t values = (size_t)ra_welch_channels(w) * ra_welch_bins(w);
	const double *db;
	double time_s;

	for (size_t i = 0; i < max && ra_welch_take_row(w, &time_s, &db); i++, (*next)++) {
		double *want = segment_alone(cfg, x, *next, step, RA_SCALE_DBFS);
		double centre = (double)*next * (double)step + (double)cfg->fft_size / 2.0;

		ck_assert_double_eq_tol(time_s, centre / FS, 1e-12);
		ck_assert_msg(memcmp(db, want, values * sizeof(*db)) == 0, "row %zu differs",
			      *next);
		free(want);
	}
}

/* Every segment becomes a row, in order, and a row can be taken only
 * once published: fed in ragged runs, published after some of them, taken
 * a few at a time, so that untaken rows are carried across publishes. */
START_TEST(test_rows_are_the_segments_in_order)
{
	const size_t n = 300, step = 210, frames = 9000, nseg = (frames - n) / step + 1;
	ra_welch_config cfg = config(2, n, RA_WINDOW_HANN, 0.3);
	float *x = test_signal(frames, 2, n, 77);
	ra_welch *w;
	size_t t = n, run = 1, next = 0, feeds = 0;
	const double *db;
	double time_s;

	/* (_i 1) Made in two parts: rows are made by one, which takes every
	 * channel over. */
	cfg.parts = _i ? 2 : 1;
	w = create_ok(&cfg);
	ck_assert_int_eq(ra_welch_parts(w), _i ? 2 : 1);
	ck_assert_int_eq(ra_welch_keep_rows(w, RA_SCALE_DBFS), RA_OK);
	ck_assert_int_eq(ra_welch_parts(w), 1);
	ra_welch_feed(w, x, n);
	ck_assert_uint_eq(ra_welch_segments(w), 1);
	ck_assert_int_eq(ra_welch_take_row(w, &time_s, &db), 0); /* not published yet */
	ck_assert_int_eq(ra_welch_publish_rows(w), RA_OK);
	take_rows(w, &cfg, x, step, SIZE_MAX, &next);
	ck_assert_uint_eq(next, 1);
	while (t < frames) {
		size_t r = frames - t < run ? frames - t : run;

		ra_welch_feed(w, x + t * 2, r);
		t += r;
		run = run * 7 % 997 + 1;
		if (++feeds % 3 == 0)
			ck_assert_int_eq(ra_welch_publish_rows(w), RA_OK);
		take_rows(w, &cfg, x, step, 2, &next);
	}
	ck_assert_int_eq(ra_welch_publish_rows(w), RA_OK);
	take_rows(w, &cfg, x, step, SIZE_MAX, &next);
	ck_assert_uint_eq(next, nseg);
	ck_assert_uint_eq(ra_welch_segments(w), nseg);
	ck_assert_int_eq(ra_welch_take_row(w, &time_s, &db), 0);
	free(x);
	ra_welch_destroy(w);
}
END_TEST

/* A batch (ra_welch_batch_frames()) completes no more rows than
 * RA_WELCH_ROW_BUDGET holds, wherever in the stream it starts, and that
 * many at some start; a row larger than the budget makes a batch of one
 * hop; without rows there is no bound. */
START_TEST(test_rows_batch_within_budget)
{
	/* 256 points stereo, rows of 8 (2 * 129 + 1) bytes, hops of 1 and 8. */
	static const size_t hops[] = { 1, 8 };
	const size_t n = 256, rows = RA_WELCH_ROW_BUDGET / (8 * (2 * 129 + 1));
	ra_welch_config big = config(2, (size_t)1 << 19, RA_WINDOW_RECT, 0.5);
	ra_welch *w;

	for (size_t h = 0; h < sizeof(hops) / sizeof(hops[0]); h++) {
		const size_t hop = hops[h], frames = 2 * n + rows * hop;
		ra_welch_config cfg = config(2, n, RA_WINDOW_HANN, (double)(n - hop) / (double)n);
		float *x = test_signal(frames, 2, n, 41);
		uint64_t most = 0;

		w = create_ok(&cfg);
		ck_assert_uint_eq(ra_welch_batch_frames(w), SIZE_MAX);
		ck_assert_int_eq(ra_welch_keep_rows(w, RA_SCALE_PSD), RA_OK);
		ck_assert_uint_eq(ra_welch_batch_frames(w), rows * hop);
		/* Before the first segment ends, and at every phase of the hop
		 * after it. */
		for (size_t at = 0; at < n + hop; at = at ? at + 1 : n) {
			uint64_t before;

			ra_welch_reset(w);
			ra_welch_feed(w, x, at);
			before = ra_welch_segments(w);
			ra_welch_feed(w, x + 2 * at, rows * hop);
			ck_assert_uint_le(ra_welch_segments(w) - before, rows);
			if (ra_welch_segments(w) - before > most)
				most = ra_welch_segments(w) - before;
		}
		ck_assert_uint_eq(most, rows);
		ra_welch_destroy(w);
		free(x);
	}
	/* 2^19 points stereo: a row of 8 (2 * (2^18 + 1) + 1) bytes, just over
	 * 4 MiB. */
	w = create_ok(&big);
	ck_assert_int_eq(ra_welch_keep_rows(w, RA_SCALE_PSD), RA_OK);
	ck_assert_uint_eq(ra_welch_batch_frames(w), (size_t)1 << 18);
	ra_welch_destroy(w);
	ck_assert_uint_eq(ra_welch_batch_frames(NULL), SIZE_MAX);
}
END_TEST

/* No rows unless asked for; asked midway, they go on from where the
 * stream is (shares of the stream fold only before a feed); reset drops
 * the rows not yet taken, published or not, and keeps keeping them; the
 * scale is checked. */
START_TEST(test_rows_kept_only_when_asked)
{
	const size_t n = 64;
	ra_welch_config cfg = config(1, n, RA_WINDOW_RECT, 0.5);
	float *x = test_signal(4 * n, 1, n, 5);
	ra_welch *w = create_ok(&cfg);
	const double *db;
	double time_s;

	ra_welch_feed(w, x, 4 * n);
	ck_assert_int_eq(ra_welch_publish_rows(w), RA_OK);
	ck_assert_int_eq(ra_welch_take_row(w, &time_s, &db), 0);
	ck_assert_int_eq(ra_welch_keep_rows(w, (ra_spectrum_scale)2), RA_ERR_INVALID);
	ck_assert_int_eq(ra_welch_keep_rows(NULL, RA_SCALE_PSD), RA_ERR_INVALID);
	ck_assert_int_eq(ra_welch_publish_rows(NULL), RA_OK);
	ck_assert_int_eq(ra_welch_take_row(NULL, &time_s, &db), 0);
	ck_assert_int_eq(ra_welch_keep_rows(w, RA_SCALE_PSD), RA_OK);
	ck_assert_uint_eq(ra_welch_segments(w), 7); /* it goes on from there */
	ra_welch_feed(w, x, 2 * n);		    /* 4 more segments, published */
	ck_assert_int_eq(ra_welch_publish_rows(w), RA_OK);
	ck_assert_uint_eq(ra_welch_segments(w), 11);
	ck_assert_int_eq(ra_welch_take_row(w, &time_s, &db), 1);
	ck_assert_double_eq(time_s, (7.0 * (double)n / 2.0 + (double)n / 2.0) / FS);
	ra_welch_feed(w, x, n); /* 2 more, fresh */
	ra_welch_reset(w);
	ck_assert_int_eq(ra_welch_publish_rows(w), RA_OK);
	ck_assert_int_eq(ra_welch_take_row(w, &time_s, &db), 0);
	ra_welch_feed(w, x, n);
	ck_assert_int_eq(ra_welch_publish_rows(w), RA_OK);
	ck_assert_int_eq(ra_welch_take_row(w, &time_s, &db), 1);
	ck_assert_double_eq(time_s, (double)n / 2.0 / FS);
	ck_assert_int_eq(ra_welch_take_row(w, &time_s, &db), 0);
	ra_welch_destroy(w);

	/* Shares of the stream fold into one part before a feed, not after. */
	cfg.parts = 4;
	w = create_ok(&cfg);
	ck_assert_int_eq(ra_welch_parts(w), 4);
	ra_welch_feed(w, x, n);
	ck_assert_int_eq(ra_welch_keep_rows(w, RA_SCALE_PSD), RA_ERR_INVALID);
	ck_assert_int_eq(ra_welch_parts(w), 4);
	ra_welch_reset(w);
	ck_assert_int_eq(ra_welch_keep_rows(w, RA_SCALE_PSD), RA_OK);
	ck_assert_int_eq(ra_welch_parts(w), 1);
	free(x);
	ra_welch_destroy(w);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_create_rejects)
{
	static const struct {
		int channels;
		double rate;
		size_t n;
		int window;
		double overlap;
		const char *reason;
	} bad[] = {
		{ 0, FS, 256, RA_WINDOW_HANN, 0.5, "channels" },
		{ -1, FS, 256, RA_WINDOW_HANN, 0.5, "channels" },
		{ 1025, FS, 256, RA_WINDOW_HANN, 0.5, "channels" },
		{ 2, 0.0, 256, RA_WINDOW_HANN, 0.5, "sample rate" },
		{ 2, -48000.0, 256, RA_WINDOW_HANN, 0.5, "sample rate" },
		{ 2, NAN, 256, RA_WINDOW_HANN, 0.5, "sample rate" },
		{ 2, INFINITY, 256, RA_WINDOW_HANN, 0.5, "sample rate" },
		{ 2, FS, 0, RA_WINDOW_HANN, 0.5, "fft size" },
		{ 2, FS, 1, RA_WINDOW_HANN, 0.5, "fft size" },
		{ 2, FS, ((size_t)1 << 24) + 1, RA_WINDOW_HANN, 0.5, "fft size" },
		{ 2, FS, 256, -1, 0.5, "window" },
		{ 2, FS, 256, RA_WINDOW_RECT + 1, 0.5, "window" },
		{ 2, FS, 256, RA_WINDOW_HANN, -0.01, "overlap" },
		{ 2, FS, 256, RA_WINDOW_HANN, 1.0, "overlap" },
		{ 2, FS, 256, RA_WINDOW_HANN, NAN, "overlap" },
		{ 2, FS, 256, RA_WINDOW_HANN, 0.999, "step" },
		{ 2, FS, 2, RA_WINDOW_HANN, 0.75, "step" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ra_welch_config cfg =
			config(bad[i].channels, bad[i].n, (ra_window)bad[i].window, bad[i].overlap);
		ra_status st = RA_OK;
		ra_diag diag = { "" };
		const char *p;

		cfg.sample_rate = bad[i].rate;
		ck_assert_ptr_null(ra_welch_create(&cfg, &st, &diag));
		ck_assert_msg(st == RA_ERR_INVALID, "case %zu: status %d", i, (int)st);
		ck_assert_msg(strstr(diag.text, bad[i].reason) != NULL, "case %zu: diag '%s'", i,
			      diag.text);
		for (p = diag.text; *p; p++)
			ck_assert_msg(*p < 'A' || *p > 'Z', "case %zu: diag '%s'", i, diag.text);
		/* No status or diag to fill is fine too. */
		ck_assert_ptr_null(ra_welch_create(&cfg, NULL, NULL));
	}
}
END_TEST

/* An analyser that would take more than 1 GiB is refused before anything
 * is allocated. In doubles: each analysed channel a ring of N and sums and
 * a row of N/2 + 1; the window, the transform's input (N each) and its
 * complex output (N/2 + 1). 64 channels of 2^24 points: 16 GiB + 3 x 128
 * MiB = 16.4 GiB. 1024 channels of 2^16 points: 1024 x (2^17 + 2) x 8
 * bytes alone pass 1 GiB; their mix is one channel's worth. */
START_TEST(test_create_memory_bound)
{
	ra_welch_config big = config(64, (size_t)1 << 24, RA_WINDOW_HANN, 0.5);
	ra_welch_config many = config(1024, (size_t)1 << 16, RA_WINDOW_HANN, 0.5);
	ra_status st = RA_OK;
	ra_diag diag = { "" };
	ra_welch *w;

	ck_assert_ptr_null(ra_welch_create(&big, &st, &diag));
	ck_assert_int_eq(st, RA_ERR_LIMITS);
	ck_assert_str_eq(diag.text, "a 16777216-point analyser of 64 channels needs 16.4 GiB, "
				    "more than the 1 GiB allowed");
	ck_assert_ptr_null(ra_welch_create(&many, &st, &diag));
	ck_assert_int_eq(st, RA_ERR_LIMITS);
	many.mix = 1;
	w = create_ok(&many);
	ck_assert_int_eq(ra_welch_channels(w), 1);
	ra_welch_destroy(w);
}
END_TEST

START_TEST(test_create_null_config)
{
	ra_status st = RA_OK;
	ra_diag diag = { "" };

	ck_assert_ptr_null(ra_welch_create(NULL, &st, &diag));
	ck_assert_int_eq(st, RA_ERR_INVALID);
	ck_assert_str_ne(diag.text, "");
}
END_TEST

START_TEST(test_result_rejects)
{
	ra_welch_config cfg = config(1, 64, RA_WINDOW_HANN, 0.5);
	ra_welch *w = create_ok(&cfg);
	float x[64] = { 0.5f };
	double db[33];
	ra_diag diag = { "" };

	ck_assert_int_eq(ra_welch_result(w, RA_SCALE_PSD, db, &diag), RA_ERR_INVALID);
	ck_assert_str_eq(diag.text, "shorter than one fft segment (64 frames)");
	ra_welch_feed(w, x, 63);
	ck_assert_int_eq(ra_welch_result(w, RA_SCALE_DBFS, db, NULL), RA_ERR_INVALID);
	ra_welch_feed(w, x, 1);
	ck_assert_int_eq(ra_welch_result(w, RA_SCALE_DBFS, db, NULL), RA_OK);
	ck_assert_int_eq(ra_welch_result(w, (ra_spectrum_scale)2, db, &diag), RA_ERR_INVALID);
	ck_assert_int_eq(ra_welch_result(w, RA_SCALE_PSD, NULL, &diag), RA_ERR_INVALID);
	ck_assert_int_eq(ra_welch_result(NULL, RA_SCALE_PSD, db, &diag), RA_ERR_INVALID);
	ra_welch_destroy(w);
}
END_TEST

START_TEST(test_parse_names)
{
	static const char *const bad[] = { "",	     "Hann",  "hanning",  "blackmanharris",
					   "boxcar", "hann ", "flat-top", "rectangular" };
	ra_window win = RA_WINDOW_RECT;
	ra_spectrum_scale scale = RA_SCALE_PSD;
	size_t i;
	int wi;

	for (wi = 0; wi < NWINDOWS; wi++) {
		ck_assert_int_eq(ra_window_parse(windows[wi].name, &win), RA_OK);
		ck_assert_int_eq(win, windows[wi].window);
		ck_assert_str_eq(ra_window_name(win), windows[wi].name);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		win = RA_WINDOW_HAMMING;
		ck_assert_msg(ra_window_parse(bad[i], &win) == RA_ERR_INVALID, "'%s' taken",
			      bad[i]);
		ck_assert_int_eq(win, RA_WINDOW_HAMMING);
	}
	ck_assert_int_eq(ra_window_parse(NULL, &win), RA_ERR_INVALID);
	ck_assert_int_eq(ra_window_parse("hann", NULL), RA_ERR_INVALID);
	ck_assert_str_eq(ra_window_name((ra_window)99), "?");

	ck_assert_int_eq(ra_spectrum_scale_parse("dbfs", &scale), RA_OK);
	ck_assert_int_eq(scale, RA_SCALE_DBFS);
	ck_assert_int_eq(ra_spectrum_scale_parse("psd", &scale), RA_OK);
	ck_assert_int_eq(scale, RA_SCALE_PSD);
	ck_assert_int_eq(ra_spectrum_scale_parse("PSD", &scale), RA_ERR_INVALID);
	ck_assert_int_eq(ra_spectrum_scale_parse("db", &scale), RA_ERR_INVALID);
	ck_assert_int_eq(ra_spectrum_scale_parse("", &scale), RA_ERR_INVALID);
	ck_assert_int_eq(ra_spectrum_scale_parse(NULL, &scale), RA_ERR_INVALID);
	ck_assert_int_eq(scale, RA_SCALE_PSD);
}
END_TEST

static Suite *spectrum_suite(void)
{
	Suite *s = suite_create("spectrum");
	TCase *tc;

	tc = tcase_create("behaviour");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_build_asked);
	tcase_add_test(tc, test_windows_match_scipy);
	tcase_add_test(tc, test_window_known_values);
	tcase_add_test(tc, test_enbw);
	tcase_add_test(tc, test_sine_on_bin_reads_0_dbfs);
	tcase_add_test(tc, test_sine_off_bin_flattop);
	tcase_add_test(tc, test_white_noise_density);
	tcase_add_test(tc, test_parseval);
	tcase_add_test(tc, test_scales_differ_by_enbw);
	tcase_add_test(tc, test_matches_definition);
	tcase_add_test(tc, test_matches_definition_windows);
	tcase_add_test(tc, test_matches_definition_long);
	tcase_add_test(tc, test_channels_independent);
	tcase_add_test(tc, test_threads_plan_concurrently);
	suite_add_tcase(s, tc);

	tc = tcase_create("edges");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_segment_counting);
	tcase_add_test(tc, test_segment_lengths);
	tcase_add_test(tc, test_chunking_bit_identical);
	tcase_add_test(tc, test_reset_reproduces);
	tcase_add_test(tc, test_zero_power_is_minus_infinity);
	tcase_add_test(tc, test_limits_accepted);
	suite_add_tcase(s, tc);

	tc = tcase_create("parts");
	/* Three analysers of nearly 1 GiB: room for a slow or loaded machine
	 * and for the sanitizers' allocators. */
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_parts_bit_identical);
	tcase_add_test(tc, test_parts_fed_unequally_and_limits);
	tcase_add_test(tc, test_groups_bit_identical);
	tcase_add_test(tc, test_group_frames);
	suite_add_tcase(s, tc);

	tc = tcase_create("builds");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_every_build);
	suite_add_tcase(s, tc);

	tc = tcase_create("rows");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_rows_are_the_segments_in_order, 0, 2);
	tcase_add_test(tc, test_rows_kept_only_when_asked);
	tcase_add_test(tc, test_rows_batch_within_budget);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_create_rejects);
	tcase_add_test(tc, test_create_null_config);
	tcase_add_test(tc, test_create_memory_bound);
	tcase_add_test(tc, test_result_rejects);
	tcase_add_test(tc, test_parse_names);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return ra_test_main(spectrum_suite());
}
