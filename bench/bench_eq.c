/* Group 3: the EQ through the processor's streaming API, in memory: the
 * reference pipeline (scalar, a buffer allocated per block, no pool, no
 * threads) against the optimized one on 1..N worker threads, for 1, 10 and
 * 31 bands, mono and stereo. Each run streams the audio through a fresh
 * processor: acquire a block, copy the input in, push, release what comes
 * back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "rustyaudio/processor.h"

typedef struct eq_run {
	ra_processor_config cfg;
	const float *x; /* BENCH_SOURCE_FRAMES frames, interleaved, cycled */
	size_t frames;
} eq_run;

static double run_eq(void *arg)
{
	const eq_run *r = arg;
	const size_t ch = (size_t)r->cfg.channels;
	ra_processor *p = ra_processor_create(&r->cfg, NULL, NULL);
	float *done;
	size_t done_frames;
	double t0;

	if (!p) {
		fprintf(stderr, "bench_eq: cannot create the processor\n");
		exit(1);
	}
	t0 = bench_now();
	for (size_t at = 0; at < r->frames; at += BENCH_BLOCK) {
		float *blk = ra_processor_acquire(p);

		memcpy(blk, r->x + (at % BENCH_SOURCE_FRAMES) * ch,
		       BENCH_BLOCK * ch * sizeof(float));
		ra_processor_push(p, blk, BENCH_BLOCK, &done, &done_frames);
		if (done)
			ra_processor_release(p, done);
	}
	for (ra_processor_pull(p, &done, &done_frames); done;
	     ra_processor_pull(p, &done, &done_frames))
		ra_processor_release(p, done);
	t0 = bench_now() - t0;
	ra_processor_destroy(p);
	return t0;
}

int main(int argc, char **argv)
{
	static const int band_sets[] = { 1, 10, 31 };
	ra_workers *workers[BENCH_MAX_CASES] = { NULL };
	int max_threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	float *x;
	bench b;

	bench_init(&b, "eq", "EQ reference vs optimized, threads 1..N, through the processor", 60.0,
		   argc, argv);
	if (max_threads < 1)
		max_threads = 1;
	if (max_threads > BENCH_MAX_CASES - 1)
		max_threads = BENCH_MAX_CASES - 1;
	for (int t = 1; t <= max_threads; t++) {
		workers[t] = ra_workers_create(t, NULL, NULL);
		if (!workers[t])
			return 1;
	}
	x = bench_alloc(64, BENCH_SOURCE_FRAMES * 2 * sizeof(*x));
	bench_noise(x, BENCH_SOURCE_FRAMES * 2, 1);
	printf("%.0f s of 48 kHz audio a run, %d-frame blocks, kernel %s\n", b.seconds, BENCH_BLOCK,
	       ra_cascade_kernel());
	for (size_t s = 0; s < sizeof(band_sets) / sizeof(band_sets[0]); s++) {
		for (int channels = 1; channels <= 2; channels++) {
			ra_biquad_coeffs c[64];
			eq_run runs[BENCH_MAX_CASES];
			bench_case cases[BENCH_MAX_CASES];
			char names[BENCH_MAX_CASES][32], key[64];
			const int count = bench_bands(band_sets[s], c);
			const size_t frames = bench_frames(&b);

			for (int v = 0; v <= max_threads; v++) {
				const ra_processor_config cfg = { .channels = channels,
								  .max_frames = BENCH_BLOCK,
								  .bands = c,
								  .band_count = count,
								  .gain = 1.0f,
								  .workers = workers[v],
								  .reference = v == 0 };

				runs[v] = (eq_run){ cfg, x, frames };
				if (v == 0)
					snprintf(names[v], sizeof(names[v]), "reference");
				else
					snprintf(names[v], sizeof(names[v]), "%d thread%s", v,
						 v > 1 ? "s" : "");
				/* 1 thread against the reference, more against 1 thread. */
				cases[v] = (bench_case){ names[v], run_eq, &runs[v], (double)frames,
							 v > 1 ? 1 : v - 1 };
			}
			snprintf(key, sizeof(key), "%d band%s, %s", count, count > 1 ? "s" : "",
				 channels == 1 ? "mono" : "stereo");
			bench_table_run(&b,
					&(bench_table){ key, "x realtime", 1.0 / BENCH_RATE, 0 },
					cases, max_threads + 1);
		}
	}
	for (int t = 1; t <= max_threads; t++)
		ra_workers_destroy(workers[t]);
	free(x);
	return bench_finish(&b);
}
