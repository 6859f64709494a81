/* Group 2: the Welch spectrum of a stereo stream, the library's way
 * (ra_welch: buffers and an FFTW plan made once per stream, fed in blocks)
 * against a plain loop that gets fresh fftw_malloc'd buffers for every
 * frame, and either makes and destroys an FFTW_ESTIMATE plan per frame or
 * reuses one plan. Same hann window, 50 % overlap, same segments; every
 * run analyses the whole stream from scratch, set-up included. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "harness.h"
#include "rustyaudio/spectrum.h"

#define CHANNELS 2

typedef enum spec_mode { MODE_PER_FRAME, MODE_PLAN_ONCE, MODE_WELCH } spec_mode;

typedef struct spec_run {
	spec_mode mode;
	const float *x; /* interleaved stereo */
	size_t frames;
	size_t n, bins, step;
	const double *window;
	double *acc;	/* plain loops: sum of |X_k|^2, [c * bins + k] */
	fftw_plan plan; /* MODE_PLAN_ONCE: made on fftw_malloc'd arrays */
	double *db;	/* MODE_WELCH: the last run's PSD, for the check */
	uint64_t segs;	/* segments per channel of the last run */
} spec_run;

/* The plain loop: every segment of every channel in fresh buffers. */
static double run_plain(void *arg)
{
	spec_run *r = arg;
	double t0 = bench_now();

	memset(r->acc, 0, CHANNELS * r->bins * sizeof(*r->acc));
	r->segs = 0;
	for (size_t start = 0; start + r->n <= r->frames; start += r->step, r->segs++) {
		for (int c = 0; c < CHANNELS; c++) {
			double *in = fftw_malloc(r->n * sizeof(*in));
			fftw_complex *out = fftw_malloc(r->bins * sizeof(*out));
			fftw_plan plan = r->plan;
			double *acc = r->acc + (size_t)c * r->bins;

			if (!in || !out)
				exit(1);
			if (r->mode == MODE_PER_FRAME)
				plan = fftw_plan_dft_r2c_1d((int)r->n, in, out, FFTW_ESTIMATE);
			for (size_t i = 0; i < r->n; i++)
				in[i] = r->x[(start + i) * CHANNELS + (size_t)c] * r->window[i];
			fftw_execute_dft_r2c(plan, in, out);
			for (size_t k = 0; k < r->bins; k++)
				acc[k] += out[k][0] * out[k][0] + out[k][1] * out[k][1];
			if (r->mode == MODE_PER_FRAME)
				fftw_destroy_plan(plan);
			fftw_free(out);
			fftw_free(in);
		}
	}
	return bench_now() - t0;
}

static double run_welch(void *arg)
{
	spec_run *r = arg;
	const ra_welch_config cfg = { .channels = CHANNELS,
				      .sample_rate = BENCH_RATE,
				      .fft_size = r->n,
				      .window = RA_WINDOW_HANN,
				      .overlap = 0.5 };
	double t0 = bench_now(), t;
	ra_welch *w = ra_welch_create(&cfg, NULL, NULL);

	if (!w)
		exit(1);
	for (size_t at = 0; at < r->frames; at += BENCH_BLOCK) {
		size_t len = r->frames - at < BENCH_BLOCK ? r->frames - at : BENCH_BLOCK;

		ra_welch_feed(w, r->x + at * CHANNELS, len);
	}
	t = bench_now() - t0;
	r->segs = ra_welch_segments(w);
	if (ra_welch_result(w, RA_SCALE_PSD, r->db, NULL) != RA_OK)
		exit(1);
	ra_welch_destroy(w);
	return t;
}

/* Largest |dB difference| between the plain sums, scaled as scipy's
 * density, and ra_welch's result. */
static double max_diff_db(const spec_run *plain, const spec_run *welch)
{
	double sum_w2 = 0.0, worst = 0.0;

	for (size_t i = 0; i < plain->n; i++)
		sum_w2 += plain->window[i] * plain->window[i];
	for (size_t j = 0; j < CHANNELS * plain->bins; j++) {
		const size_t k = j % plain->bins;
		double p = plain->acc[j] / (BENCH_RATE * sum_w2) / (double)plain->segs;

		if (k >= 1 && k < plain->n / 2)
			p *= 2.0;
		if (p > 0.0 && fabs(10.0 * log10(p) - welch->db[j]) > worst)
			worst = fabs(10.0 * log10(p) - welch->db[j]);
	}
	return worst;
}

/* One FFT size: the three ways over the same stream, and the check. */
static int spectrum_table(bench *b, const float *x, size_t frames, size_t n)
{
	const size_t bins = n / 2 + 1;
	double *window = bench_alloc(64, n * sizeof(*window));
	double *in = fftw_malloc(n * sizeof(*in));
	fftw_complex *out = fftw_malloc(bins * sizeof(*out));
	spec_run per_frame = { .mode = MODE_PER_FRAME,
			       .x = x,
			       .frames = frames,
			       .n = n,
			       .bins = bins,
			       .step = n / 2,
			       .window = window };
	spec_run plan_once = per_frame, welch = per_frame;
	const bench_case cases[] = {
		{ "alloc + plan per frame", run_plain, &per_frame, (double)frames, -1 },
		{ "alloc per frame, one plan", run_plain, &plan_once, (double)frames, 0 },
		{ "ra_welch", run_welch, &welch, (double)frames, 0 },
	};
	char key[64];
	int ok;

	ra_window_fill(RA_WINDOW_HANN, window, n);
	per_frame.acc = bench_alloc(64, CHANNELS * bins * sizeof(double));
	plan_once.mode = MODE_PLAN_ONCE;
	plan_once.acc = bench_alloc(64, CHANNELS * bins * sizeof(double));
	plan_once.plan = fftw_plan_dft_r2c_1d((int)n, in, out, FFTW_ESTIMATE);
	welch.mode = MODE_WELCH;
	welch.db = bench_alloc(64, CHANNELS * bins * sizeof(double));
	snprintf(key, sizeof(key), "%zu-point FFT", n);
	bench_table_run(b, &(bench_table){ key, "x realtime", 1.0 / BENCH_RATE, 0 }, cases, 3);
	bench_note("%llu segments a channel; largest difference from ra_welch: %.2g dB (plan "
		   "per frame), %.2g dB (one plan)",
		   (unsigned long long)welch.segs, max_diff_db(&per_frame, &welch),
		   max_diff_db(&plan_once, &welch));
	ok = per_frame.segs == welch.segs && plan_once.segs == welch.segs;
	if (!ok)
		fprintf(stderr, "bench_spectrum: the loops disagree on the segments\n");
	fftw_destroy_plan(plan_once.plan);
	fftw_free(out);
	fftw_free(in);
	free(welch.db);
	free(plan_once.acc);
	free(per_frame.acc);
	free(window);
	return ok;
}

int main(int argc, char **argv)
{
	size_t frames;
	float *x;
	bench b;
	int ok;

	bench_init(&b, "spectrum", "Welch spectrum, stereo, hann, 50 % overlap", 60.0, argc, argv);
	frames = bench_frames(&b);
	x = bench_alloc(64, frames * CHANNELS * sizeof(*x));
	bench_noise(x, frames * CHANNELS, 7);
	printf("%.0f s of 48 kHz stereo noise a run, fed in %d-frame blocks\n", b.seconds,
	       BENCH_BLOCK);
	ok = spectrum_table(&b, x, frames, 256) && spectrum_table(&b, x, frames, 2048);
	free(x);
	return bench_finish(&b) || !ok;
}
