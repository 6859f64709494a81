/* EQ benchmark, in memory: the reference pipeline against the optimized one
 * with 1..N threads, for 1, 10 and 31 bands, mono and stereo, through the
 * same streaming API the file path uses. Prints medians, spread and ratios.
 *
 *   bench_eq [--quick] [--seconds S] [--repeats N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rustyaudio/eq.h"
#include "rustyaudio/processor.h"
#include "rustyaudio/workers.h"

#define RATE 48000
#define BLOCK 1024

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Bands: 1 peak, the 10 octave peaks (+-3 dB, Q 1.41), or 31 third-octave
 * peaks. */
static int make_bands(int count, ra_biquad_coeffs *c)
{
	static const char *const octave[] = {
		"peak:31.25:3:1.41", "peak:62.5:-3:1.41", "peak:125:3:1.41", "peak:250:-3:1.41",
		"peak:500:3:1.41",   "peak:1k:-3:1.41",	  "peak:2k:3:1.41",  "peak:4k:-3:1.41",
		"peak:8k:3:1.41",    "peak:16k:-3:1.41",
	};
	ra_eq eq = { 0 };
	ra_diag diag;

	if (count == 31)
		ra_eq_add_graphic(&eq,
				  "1,-1,2,-2,3,-3,1,-1,2,-2,3,-3,1,-1,2,-2,3,-3,1,-1,2,-2,3,-3,1,"
				  "-1,2,-2,3,-3,1",
				  &diag);
	else
		for (int i = 0; i < count; i++)
			ra_eq_add(&eq, octave[i], &diag);
	if (ra_eq_design(&eq, RATE, c, &diag) != RA_OK) {
		fprintf(stderr, "bench_eq: %s\n", diag.text);
		exit(1);
	}
	return eq.count;
}

/* Seconds to push FRAMES frames of X through a fresh processor. */
static double run_once(const ra_processor_config *cfg, const float *x, size_t frames)
{
	ra_processor *p = ra_processor_create(cfg, NULL);
	size_t ch = (size_t)cfg->channels;
	double t0;

	if (!p) {
		fprintf(stderr, "bench_eq: cannot create the processor\n");
		exit(1);
	}
	t0 = now();
	for (size_t at = 0; at < frames; at += BLOCK) {
		float *blk = ra_processor_acquire(p), *done;
		size_t done_frames;

		memcpy(blk, x + (at % (RATE * 4)) * ch, BLOCK * ch * sizeof(float));
		ra_processor_push(p, blk, BLOCK, &done, &done_frames);
		if (done)
			ra_processor_release(p, done);
	}
	for (;;) {
		float *done;
		size_t done_frames;

		ra_processor_pull(p, &done, &done_frames);
		if (!done)
			break;
		ra_processor_release(p, done);
	}
	t0 = now() - t0;
	ra_processor_destroy(p);
	return t0;
}

int main(int argc, char **argv)
{
	double seconds = 60.0;
	int repeats = 5, max_threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	static const int band_sets[] = { 1, 10, 31 };
	float *x;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			seconds = 10.0;
			repeats = 3;
		} else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
			seconds = atof(argv[++i]);
		} else if (!strcmp(argv[i], "--repeats") && i + 1 < argc) {
			repeats = atoi(argv[++i]);
		} else {
			fprintf(stderr, "usage: bench_eq [--quick] [--seconds S] [--repeats N]\n");
			return 2;
		}
	}
	if (repeats < 1 || repeats > 50 || seconds <= 0.0)
		return 2;
	if (max_threads < 1)
		max_threads = 1;
	/* Four seconds of seeded noise, cycled. */
	x = malloc((size_t)RATE * 4 * 2 * sizeof(*x) + BLOCK * 2 * sizeof(*x));
	for (size_t i = 0, seed = 1; i < (size_t)RATE * 4 * 2 + BLOCK * 2; i++) {
		seed = seed * 6364136223846793005u + 1442695040888963407u;
		x[i] = (float)(seed >> 40) / 16777216.0f - 0.5f;
	}
	printf("EQ in memory: %.0f s of 48 kHz audio, %d-frame blocks, median of %d (min..max), "
	       "kernel %s\n",
	       seconds, BLOCK, repeats, ra_cascade_kernel());
	printf("%-6s %-3s %-12s %12s %16s %9s\n", "bands", "ch", "pipeline", "seconds",
	       "x realtime", "vs ref");
	for (size_t s = 0; s < sizeof(band_sets) / sizeof(band_sets[0]); s++) {
		for (int channels = 1; channels <= 2; channels++) {
			ra_biquad_coeffs c[64];
			ra_processor_config cfg = {
				.channels = channels, .max_frames = BLOCK, .bands = c, .gain = 1.0f
			};
			size_t frames = (size_t)(seconds * RATE) / BLOCK * BLOCK;
			double ref_median = 0.0;

			cfg.band_count = make_bands(band_sets[s], c);
			for (int variant = 0; variant <= max_threads; variant++) {
				double t[50], median;
				ra_workers *w = NULL;
				char name[32];

				cfg.reference = variant == 0;
				if (variant > 0) {
					w = ra_workers_create(variant, NULL);
					snprintf(name, sizeof(name), "%d thread%s", variant,
						 variant > 1 ? "s" : "");
				} else {
					snprintf(name, sizeof(name), "reference");
				}
				cfg.workers = w;
				for (int r = 0; r < repeats; r++)
					t[r] = run_once(&cfg, x, frames);
				qsort(t, (size_t)repeats, sizeof(t[0]), compare);
				median = t[repeats / 2];
				if (variant == 0)
					ref_median = median;
				printf("%-6d %-3d %-12s %6.3f (%.3f..%.3f) %9.0f %8.2fx\n",
				       band_sets[s], channels, name, median, t[0], t[repeats - 1],
				       (double)frames / RATE / median, ref_median / median);
				ra_workers_destroy(w);
			}
		}
	}
	free(x);
	return 0;
}
