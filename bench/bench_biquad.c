/* Biquad kernel benchmark: realtime factors (frames a second / 48000) of
 * the scalar kernel band by band, of ra_cascade_process() (one call a
 * channel), of ra_cascade_process2() (both channels in one call: stereo
 * only), and of a plain unfused TDF-II loop for reference, on 10 octave
 * peaks (stereo, one cascade a channel) and 31 third-octave peaks (mono) at
 * 48 kHz in 1024-frame blocks, each block copied in from a noise source
 * first. The modes take turns, run by run, so that a change in the load of
 * the machine touches them alike; best and median of the runs.
 * Usage: bench_biquad [FRAMES [scalar|cascade|pair|plain]]; make bench
 * builds it as build/bench/bench_biquad.
 * Another kernel: GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX512F (AVX2), or
 * glibc.cpu.hwcaps=-AVX512F,-AVX2 (scalar). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "rustyaudio/biquad.h"

#define RATE 48000.0
#define BLOCK 1024
#define SOURCE_FRAMES 48128 /* a multiple of BLOCK: the input, repeated */
#define MAX_BANDS 64
#define MAX_CHANNELS 2
#define REPEATS 9 /* best and median of: the machine is shared */

enum mode { MODE_SCALAR, MODE_CASCADE, MODE_PAIR, MODE_PLAIN, MODE_COUNT };

struct setup {
	const char *name;
	int channels;
	int bands;
	ra_biquad_coeffs c[MAX_BANDS];
};

static uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void design(struct setup *s, int k, double freq, double gain, double q)
{
	const ra_biquad_spec spec = { RA_BIQUAD_PEAK, freq, gain, RA_WIDTH_Q, q };
	ra_diag diag = { "" };

	if (ra_biquad_design(&spec, RATE, &s->c[k], &diag) != RA_OK) {
		fprintf(stderr, "bench_biquad: %s\n", diag.text);
		exit(1);
	}
}

/* A plain sample-major TDF-II loop without fma, the DESIGN.md baseline. */
static void plain(const ra_biquad_coeffs *c, ra_biquad_state *st, int bands, double *buf,
		  size_t frames)
{
	for (size_t n = 0; n < frames; n++) {
		double x = buf[n];

		for (int k = 0; k < bands; k++) {
			const double y = c[k].b0 * x + st[k].s1;

			st[k].s1 = c[k].b1 * x - c[k].a1 * y + st[k].s2;
			st[k].s2 = c[k].b2 * x - c[k].a2 * y;
			x = y;
		}
		buf[n] = x;
	}
}

/* Filter TOTAL frames of every channel; returns the seconds taken. */
static double run(const struct setup *s, enum mode mode, size_t total, double *src, double *out)
{
	static double buf[MAX_CHANNELS][BLOCK] __attribute__((aligned(64)));
	ra_biquad_state st[MAX_CHANNELS][MAX_BANDS];
	ra_cascade *cs[MAX_CHANNELS] = { NULL };
	size_t pos = 0;
	double t0, t1;

	memset(st, 0, sizeof(st));
	for (int ch = 0; ch < s->channels; ch++) {
		cs[ch] = ra_cascade_create(s->c, s->bands, NULL, NULL);
		if (!cs[ch])
			exit(1);
	}
	*out = 0;
	t0 = bench_now();
	for (size_t done = 0; done < total; done += BLOCK) {
		if (mode == MODE_PAIR) {
			memcpy(buf[0], src + pos, sizeof(buf[0]));
			memcpy(buf[1], src + SOURCE_FRAMES + pos, sizeof(buf[1]));
			ra_cascade_process2(cs[0], buf[0], cs[1], buf[1], BLOCK);
			*out += buf[0][BLOCK - 1] + buf[1][BLOCK - 1];
		}
		for (int ch = 0; mode != MODE_PAIR && ch < s->channels; ch++) {
			double *b = buf[ch];

			memcpy(b, src + ch * SOURCE_FRAMES + pos, sizeof(buf[ch]));
			switch (mode) {
			case MODE_SCALAR:
				for (int k = 0; k < s->bands; k++)
					ra_biquad_process(&s->c[k], &st[ch][k], b, BLOCK);
				break;
			case MODE_CASCADE:
				ra_cascade_process(cs[ch], b, BLOCK);
				break;
			default: /* MODE_PLAIN */
				plain(s->c, st[ch], s->bands, b, BLOCK);
				break;
			}
			*out += b[BLOCK - 1];
		}
		pos = (pos + BLOCK) % SOURCE_FRAMES;
	}
	t1 = bench_now();
	for (int ch = 0; ch < s->channels; ch++)
		ra_cascade_destroy(cs[ch]);
	return t1 - t0;
}

int main(int argc, char **argv)
{
	static const double iso[31] = { 20,   25,   31.5, 40,	 50,	63,    80,   100,
					125,  160,  200,  250,	 315,	400,   500,  630,
					800,  1000, 1250, 1600,	 2000,	2500,  3150, 4000,
					5000, 6300, 8000, 10000, 12500, 16000, 20000 };
	static const char *const mode_name[] = { "scalar", "cascade", "pair", "plain" };
	static struct setup setups[2];
	const size_t total = (size_t)(argc > 1 ? atof(argv[1]) : 9.6e6) / BLOCK * BLOCK;
	const char *only = argc > 2 ? argv[2] : NULL; /* run only this mode */
	const double third = pow(2, 1.0 / 3);
	double *src = malloc(sizeof(double) * MAX_CHANNELS * SOURCE_FRAMES);
	uint64_t seed = 1;

	if (!src)
		return 1;
	for (size_t i = 0; i < MAX_CHANNELS * SOURCE_FRAMES; i++)
		src[i] = (double)(rng_next(&seed) >> 11) * 0x1.0p-53 - 0.5;

	setups[0] = (struct setup){ .name = "10 octave peaks, stereo", .channels = 2, .bands = 10 };
	for (int k = 0; k < 10; k++)
		design(&setups[0], k, 31.25 * pow(2, k), k % 2 ? -3 : 3, 1.41);
	setups[1] =
		(struct setup){ .name = "31 third-octave peaks, mono", .channels = 1, .bands = 31 };
	for (int k = 0; k < 31; k++)
		design(&setups[1], k, iso[k], k % 2 ? -3 : 3, sqrt(third) / (third - 1));

	printf("kernel %s, %zu frames a run, best and median of %d\n", ra_cascade_kernel(), total,
	       REPEATS);
	for (int i = 0; i < 2; i++) {
		ra_cascade *cs = ra_cascade_create(setups[i].c, setups[i].bands, NULL, NULL);

		printf("%s: the cascade runs %s\n", setups[i].name, cs ? ra_cascade_name(cs) : "?");
		ra_cascade_destroy(cs);
	}
	bench_print_load("before");
	for (int i = 0; i < 2; i++) {
		double t[MODE_COUNT][REPEATS], sum[MODE_COUNT] = { 0 };
		int used[MODE_COUNT];

		for (int m = 0; m < MODE_COUNT; m++)
			used[m] = (!only || !strcmp(only, mode_name[m])) &&
				  (m != MODE_PAIR || setups[i].channels == 2);
		for (int rep = 0; rep < REPEATS; rep++)
			for (int m = 0; m < MODE_COUNT; m++)
				if (used[m])
					t[m][rep] =
						run(&setups[i], (enum mode)m, total, src, &sum[m]);
		for (int m = 0; m < MODE_COUNT; m++) {
			double best, median;

			if (!used[m])
				continue;
			qsort(t[m], REPEATS, sizeof(t[m][0]), bench_cmp_double);
			best = t[m][0];
			median = t[m][REPEATS / 2];
			printf("%-28s %-8s %8.1f M frames/s %7.0fx realtime, median %7.0fx "
			       "(%.3f s, check %g)",
			       setups[i].name, mode_name[m], (double)total / best * 1e-6,
			       (double)total / best / RATE, (double)total / median / RATE, best,
			       sum[m]);
			if (m == MODE_PAIR && used[MODE_CASCADE])
				printf(" %.2fx cascade", t[MODE_CASCADE][0] / best);
			printf("\n");
		}
	}
	bench_print_load("after");
	free(src);
	return 0;
}
