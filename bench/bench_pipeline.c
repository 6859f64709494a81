/* Group 5: the whole in-memory pipeline, read -> gain -> EQ -> output ->
 * write, stereo, 1024-frame blocks. "Read" copies a block from a source
 * (where libsndfile would decode into it), "write" copies it to a sink.
 *  - in place: the processor's streaming API on pooled blocks; gain and EQ
 *    work in the block (the EQ converts a channel pair to double in a
 *    per-thread scratch and back, as every path must);
 *  - copying: the same kernels (ra_samples_scale, the cascades on a channel
 *    pair in double), but every stage first copies the block into a fresh
 *    malloc'd buffer and frees the old one: read into A, copy to B and
 *    apply the gain, copy to C and run the EQ (in a work buffer malloc'd
 *    per block), copy to D for the output, write D;
 *  - reference: the processor's reference mode (scalar kernel, a block and a
 *    work buffer malloc'd per block, in place, no threads).
 * The in-place and copying outputs are checked to be identical. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "rustyaudio/convert.h"
#include "rustyaudio/processor.h"

#define CH 2
#define GAIN 0.5f

typedef struct pipe_run {
	ra_processor_config cfg; /* in place and reference */
	const float *src;
	float *sink;
	size_t frames;
} pipe_run;

static void *xmalloc(size_t bytes)
{
	void *p = malloc(bytes);

	if (!p)
		exit(1);
	return p;
}

static void write_block(const pipe_run *r, size_t *out_at, const float *blk, size_t frames)
{
	memcpy(r->sink + (*out_at % BENCH_SOURCE_FRAMES) * CH, blk, frames * CH * sizeof(float));
	*out_at += frames;
}

static double run_in_place(void *arg)
{
	const pipe_run *r = arg;
	ra_processor *p = ra_processor_create(&r->cfg, NULL, NULL);
	size_t out_at = 0, done_frames;
	float *done;
	double t0;

	if (!p)
		exit(1);
	t0 = bench_now();
	for (size_t at = 0; at < r->frames; at += BENCH_BLOCK) {
		float *blk = ra_processor_acquire(p);

		memcpy(blk, r->src + (at % BENCH_SOURCE_FRAMES) * CH,
		       BENCH_BLOCK * CH * sizeof(float));
		ra_processor_push(p, blk, BENCH_BLOCK, &done, &done_frames);
		if (done) {
			write_block(r, &out_at, done, done_frames);
			ra_processor_release(p, done);
		}
	}
	for (ra_processor_pull(p, &done, &done_frames); done;
	     ra_processor_pull(p, &done, &done_frames)) {
		write_block(r, &out_at, done, done_frames);
		ra_processor_release(p, done);
	}
	t0 = bench_now() - t0;
	ra_processor_destroy(p);
	return t0;
}

/* The EQ in place on an interleaved block, as the processor's fused task
 * does it, but in a work buffer malloc'd for the block. */
static void eq_block(ra_cascade **cs, float *blk)
{
	double *d = xmalloc(BENCH_BLOCK * CH * sizeof(*d));

	for (int c = 0; c < CH; c++)
		for (size_t n = 0; n < BENCH_BLOCK; n++)
			d[(size_t)c * BENCH_BLOCK + n] = blk[n * CH + (size_t)c];
	ra_cascade_process2(cs[0], d, cs[1], d + BENCH_BLOCK, BENCH_BLOCK);
	for (int c = 0; c < CH; c++)
		for (size_t n = 0; n < BENCH_BLOCK; n++)
			blk[n * CH + (size_t)c] = (float)d[(size_t)c * BENCH_BLOCK + n];
	free(d);
}

/* A stage's input copied into a fresh buffer; the input is freed. */
static float *copy_block(float *in)
{
	float *out = xmalloc(BENCH_BLOCK * CH * sizeof(*out));

	memcpy(out, in, BENCH_BLOCK * CH * sizeof(*out));
	free(in);
	return out;
}

static double run_copying(void *arg)
{
	const pipe_run *r = arg;
	ra_cascade *cs[CH] = { NULL, NULL };
	size_t out_at = 0;
	double t0;

	for (int c = 0; c < CH && r->cfg.band_count > 0; c++) {
		cs[c] = ra_cascade_create(r->cfg.bands, r->cfg.band_count, NULL, NULL);
		if (!cs[c])
			exit(1);
	}
	t0 = bench_now();
	for (size_t at = 0; at < r->frames; at += BENCH_BLOCK) {
		float *blk = xmalloc(BENCH_BLOCK * CH * sizeof(*blk));

		memcpy(blk, r->src + (at % BENCH_SOURCE_FRAMES) * CH,
		       BENCH_BLOCK * CH * sizeof(*blk));
		blk = copy_block(blk);
		ra_samples_scale(blk, BENCH_BLOCK * CH, r->cfg.gain);
		if (cs[0]) {
			blk = copy_block(blk);
			eq_block(cs, blk);
		}
		blk = copy_block(blk);
		write_block(r, &out_at, blk, BENCH_BLOCK);
		free(blk);
	}
	t0 = bench_now() - t0;
	for (int c = 0; c < CH; c++)
		ra_cascade_destroy(cs[c]);
	return t0;
}

int main(int argc, char **argv)
{
	static const int band_sets[] = { 0, 10 };
	int threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	ra_workers *workers;
	float *src;
	bench b;

	bench_init(&b, "pipeline", "in-place pooled pipeline vs a copying one, stereo", 60.0, argc,
		   argv);
	if (threads < 2)
		threads = 2;
	workers = ra_workers_create(threads, NULL, NULL);
	src = bench_alloc(64, BENCH_SOURCE_FRAMES * CH * sizeof(*src));
	if (!workers)
		return 1;
	bench_noise(src, BENCH_SOURCE_FRAMES * CH, 5);
	printf("%.0f s of 48 kHz stereo audio a run, %d-frame blocks, gain %.1f, kernel %s\n",
	       b.seconds, BENCH_BLOCK, GAIN, ra_cascade_kernel());
	for (size_t s = 0; s < sizeof(band_sets) / sizeof(band_sets[0]); s++) {
		const size_t frames = bench_frames(&b);
		ra_biquad_coeffs c[64];
		const int count = band_sets[s] ? bench_bands(band_sets[s], c) : 0;
		const ra_processor_config cfg = { .channels = CH,
						  .max_frames = BENCH_BLOCK,
						  .bands = c,
						  .band_count = count,
						  .gain = GAIN };
		pipe_run runs[4];
		char names[4][32], key[64];
		bench_case cases[4];
		int same;

		for (int i = 0; i < 4; i++) {
			runs[i] = (pipe_run){ cfg, src, NULL, frames };
			runs[i].sink = bench_alloc(64, BENCH_SOURCE_FRAMES * CH * sizeof(float));
			memset(runs[i].sink, 0, BENCH_SOURCE_FRAMES * CH * sizeof(float));
		}
		runs[1].cfg.reference = 1;
		runs[3].cfg.workers = workers;
		snprintf(names[0], sizeof(names[0]), "copying");
		snprintf(names[1], sizeof(names[1]), "reference mode");
		snprintf(names[2], sizeof(names[2]), "in place, 1 thread");
		snprintf(names[3], sizeof(names[3]), "in place, %d threads", threads);
		for (int i = 0; i < 4; i++)
			cases[i] = (bench_case){ names[i], i == 0 ? run_copying : run_in_place,
						 &runs[i], (double)frames, i == 0 ? -1 : 0 };
		snprintf(key, sizeof(key), "gain%s", count ? " + 10-band EQ" : " only");
		bench_table_run(&b, &(bench_table){ key, "x realtime", 1.0 / BENCH_RATE, 0 }, cases,
				4);
		same = !memcmp(runs[0].sink, runs[2].sink,
			       BENCH_SOURCE_FRAMES * CH * sizeof(float)) &&
		       !memcmp(runs[0].sink, runs[3].sink,
			       BENCH_SOURCE_FRAMES * CH * sizeof(float));
		bench_note("copying and in-place outputs %s", same ? "identical" : "DIFFER");
		for (int i = 0; i < 4; i++)
			free(runs[i].sink);
		if (!same)
			return 1;
	}
	ra_workers_destroy(workers);
	free(src);
	return bench_finish(&b);
}
