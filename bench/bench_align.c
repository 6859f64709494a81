/* Group 4: aligned against unaligned buffers in the EQ and FFT kernels.
 * Aligned buffers start on a 64-byte line (the pool's alignment);
 * unaligned ones one double (8 bytes) past it, the least offset a double
 * array can legally have. The cascade kernels read and write the signal a
 * sample at a time, so they take any double pointer. FFTW plans made on
 * aligned arrays must not run on unaligned ones: the unaligned case gets
 * its own FFTW_UNALIGNED plan, which rules out the aligned SIMD codelets. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "harness.h"

#define FFT_SIZE 2048

typedef struct eq_run {
	ra_cascade *cs[2]; /* one per channel */
	int channels;
	double *buf[2]; /* BENCH_BLOCK frames each, aligned or not */
	const double *src;
	size_t frames;
} eq_run;

typedef struct fft_run {
	fftw_plan plan;
	double *in;
	fftw_complex *out;
	size_t count; /* transforms a run */
} fft_run;

static double run_eq(void *arg)
{
	eq_run *r = arg;
	double t0 = bench_now(), sum = 0.0;

	for (size_t at = 0; at < r->frames; at += BENCH_BLOCK) {
		for (int c = 0; c < r->channels; c++)
			memcpy(r->buf[c],
			       r->src + (size_t)c * BENCH_SOURCE_FRAMES + at % BENCH_SOURCE_FRAMES,
			       BENCH_BLOCK * sizeof(double));
		if (r->channels == 2)
			ra_cascade_process2(r->cs[0], r->buf[0], r->cs[1], r->buf[1], BENCH_BLOCK);
		else
			ra_cascade_process(r->cs[0], r->buf[0], BENCH_BLOCK);
		sum += r->buf[0][BENCH_BLOCK - 1];
	}
	t0 = bench_now() - t0;
	bench_keep(sum);
	return t0;
}

static double run_fft(void *arg)
{
	const fft_run *r = arg;
	double t0 = bench_now();

	for (size_t i = 0; i < r->count; i++)
		fftw_execute(r->plan);
	t0 = bench_now() - t0;
	bench_keep(r->out[1][0]);
	return t0;
}

/* An EQ case on fresh cascades, BENCH_BLOCK doubles a channel at OFFSET
 * doubles past a 64-byte boundary. The channels share one allocation at a
 * fixed distance (not a multiple of 4 KiB), the same for every offset, so
 * that only the alignment changes. */
#define CHANNEL_STRIDE (BENCH_BLOCK + 72) /* doubles */

static eq_run eq_setup(const ra_biquad_coeffs *c, int bands, int channels, size_t offset,
		       const double *src, size_t frames)
{
	double *mem = bench_alloc(64, 2 * CHANNEL_STRIDE * sizeof(double));
	eq_run r = { { NULL, NULL }, channels, { NULL, NULL }, src, frames };

	for (int ch = 0; ch < channels; ch++) {
		r.cs[ch] = ra_cascade_create(c, bands, NULL, NULL);
		r.buf[ch] = mem + (size_t)ch * CHANNEL_STRIDE + offset;
		if (!r.cs[ch])
			exit(1);
	}
	return r;
}

static void eq_release(eq_run *r, size_t offset)
{
	for (int ch = 0; ch < r->channels; ch++)
		ra_cascade_destroy(r->cs[ch]);
	free(r->buf[0] - offset);
}

/* A plan with FLAGS on arrays OFFSET doubles past fftw_malloc's alignment,
 * filled with the same noise. */
static fft_run fft_setup(unsigned flags, size_t offset, const double *noise, size_t count)
{
	fft_run r = { NULL, NULL, NULL, count };

	r.in = (double *)fftw_malloc((FFT_SIZE + 8) * sizeof(double)) + offset;
	r.out = (fftw_complex *)((double *)fftw_malloc((FFT_SIZE / 2 + 2) * sizeof(fftw_complex)) +
				 offset);
	r.plan = fftw_plan_dft_r2c_1d(FFT_SIZE, r.in, r.out, flags);
	if (!r.plan)
		exit(1);
	/* Planning with FFTW_MEASURE overwrites the arrays: fill after. */
	memcpy(r.in, noise, FFT_SIZE * sizeof(double));
	return r;
}

static void fft_release(fft_run *r, size_t offset)
{
	fftw_destroy_plan(r->plan);
	fftw_free(r->in - offset);
	fftw_free((double *)r->out - offset);
}

static void eq_tables(bench *b, const double *src)
{
	const size_t frames = bench_frames(b);
	static const struct {
		int bands, channels;
		const char *key;
	} setups[] = { { 10, 2, "EQ: 10 bands, stereo (ra_cascade_process2)" },
		       { 31, 1, "EQ: 31 bands, mono (ra_cascade_process)" } };

	for (size_t s = 0; s < sizeof(setups) / sizeof(setups[0]); s++) {
		ra_biquad_coeffs c[64];
		const int bands = bench_bands(setups[s].bands, c);
		eq_run aligned = eq_setup(c, bands, setups[s].channels, 0, src, frames);
		eq_run unaligned = eq_setup(c, bands, setups[s].channels, 1, src, frames);
		const bench_case cases[] = {
			{ "aligned (64 B)", run_eq, &aligned, (double)frames, -1 },
			{ "unaligned (+8 B)", run_eq, &unaligned, (double)frames, 0 },
		};

		bench_table_run(b,
				&(bench_table){ setups[s].key, "x realtime", 1.0 / BENCH_RATE, 0 },
				cases, 2);
		eq_release(&aligned, 0);
		eq_release(&unaligned, 1);
	}
}

/* Transforms a run: about 40 ms worth (quick: 10 ms). */
static size_t fft_count(const bench *b)
{
	return b->quick ? 5000 : 20000;
}

static void fft_table(bench *b, const double *noise)
{
	const size_t count = fft_count(b);
	fft_run runs[4];
	double diff = 0.0;

	for (int i = 0; i < 4; i++) {
		const unsigned flags = i < 2 ? FFTW_ESTIMATE : FFTW_MEASURE;

		runs[i] = fft_setup(i % 2 ? flags | FFTW_UNALIGNED : flags, (size_t)(i % 2), noise,
				    count);
	}
	{
		const bench_case cases[] = {
			{ "estimate, aligned", run_fft, &runs[0], (double)count, -1 },
			{ "estimate, unaligned", run_fft, &runs[1], (double)count, 0 },
			{ "measure, aligned", run_fft, &runs[2], (double)count, -1 },
			{ "measure, unaligned", run_fft, &runs[3], (double)count, 2 },
		};

		bench_table_run(b,
				&(bench_table){ "FFT: 2048-point r2c, double", "us/FFT", 1e6, 1 },
				cases, 4);
	}
	for (int i = 1; i < 4; i++)
		for (size_t k = 0; k <= FFT_SIZE / 2; k++)
			for (int j = 0; j < 2; j++)
				diff = fmax(diff, fabs(runs[i].out[k][j] - runs[0].out[k][j]));
	bench_note("fftw_alignment_of: aligned %d, unaligned %d; outputs differ by at most %.2g",
		   fftw_alignment_of(runs[0].in), fftw_alignment_of(runs[1].in), diff);
	for (int i = 0; i < 4; i++)
		fft_release(&runs[i], (size_t)(i % 2));
}

int main(int argc, char **argv)
{
	float *noise;
	double *src;
	bench b;

	bench_init(&b, "align", "aligned vs unaligned buffers in the EQ and FFT kernels", 60.0,
		   argc, argv);
	noise = bench_alloc(64, BENCH_SOURCE_FRAMES * 2 * sizeof(*noise));
	src = bench_alloc(64, BENCH_SOURCE_FRAMES * 2 * sizeof(*src));
	bench_noise(noise, BENCH_SOURCE_FRAMES * 2, 3);
	for (size_t i = 0; i < BENCH_SOURCE_FRAMES * 2; i++)
		src[i] = noise[i];
	printf("EQ: %.0f s of 48 kHz audio a run, %d-frame blocks, kernel %s; FFT: %zu transforms "
	       "a run\n",
	       b.seconds, BENCH_BLOCK, ra_cascade_kernel(), fft_count(&b));
	eq_tables(&b, src);
	fft_table(&b, src);
	free(src);
	free(noise);
	return bench_finish(&b);
}
