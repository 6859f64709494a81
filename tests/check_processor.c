/* Tests of the processing chain: the optimized pipeline equals the
 * reference bit for bit for every thread count, block size and API, the
 * output tap's rows come out with their blocks, and the streaming form
 * allocates nothing once warm. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "rustyaudio/convert.h"
#include "rustyaudio/eq.h"
#include "rustyaudio/processor.h"
#include "rustyaudio/stats.h"
#include "testutil.h"

static const char *const ten_bands[] = {
	"peak:31.25:3:1.41", "peak:62.5:-3:1.41", "peak:125:3:1.41", "peak:250:-3:1.41",
	"peak:500:3:1.41",   "peak:1k:-3:1.41",	  "peak:2k:3:1.41",  "peak:4k:-3:1.41",
	"peak:8k:3:1.41",    "peak:16k:-3:1.41",
};

/* Bands of the test chains, designed at 48 kHz. */
static int design(int which, ra_biquad_coeffs *c)
{
	ra_eq eq = { 0 };
	ra_diag diag;

	if (which == 0) {
		for (int i = 0; i < 10; i++)
			ck_assert_int_eq(ra_eq_add(&eq, ten_bands[i], &diag), RA_OK);
	} else if (which == 1) {
		ck_assert_int_eq(ra_eq_add_graphic(&eq,
						   "1,-2,3,-4,5,-6,5,-4,3,-2,1,-1,2,-3,4,-5,6,"
						   "-5,4,-3,2,-1,1,-2,3,-4,5,-6,5,-4,3",
						   &diag),
				 RA_OK);
	} else {
		ck_assert_int_eq(ra_eq_add(&eq, "lowshelf:80:4", &diag), RA_OK);
		ck_assert_int_eq(ra_eq_add(&eq, "highpass:30", &diag), RA_OK);
		ck_assert_int_eq(ra_eq_add(&eq, "notch:50:0:30", &diag), RA_OK);
	}
	ck_assert_int_eq(ra_eq_design(&eq, 48000.0, c, &diag), RA_OK);
	return eq.count;
}

/* Seeded noise in [-0.5, 0.5). */
static float *make_signal(size_t samples, unsigned seed)
{
	float *x = malloc(samples * sizeof(*x));

	ck_assert_ptr_nonnull(x);
	for (size_t i = 0; i < samples; i++) {
		seed = seed * 1664525u + 1013904223u;
		x[i] = (float)(seed >> 8) / 16777216.0f - 0.5f;
	}
	return x;
}

/* Run FRAMES frames of X through a processor made from CFG in blocks of
 * BLOCK frames, with the streaming API (STREAM) or process(); OUT gets the
 * result. */
static void run_chain(ra_processor_config cfg, const float *x, size_t frames, size_t block,
		      int stream, float *out)
{
	const size_t ch = (size_t)cfg.channels;
	size_t at = 0, written = 0;
	ra_processor *p;
	ra_status st;

	cfg.max_frames = block;
	p = ra_processor_create(&cfg, &st, NULL);
	ck_assert_msg(p != NULL, "create: %s", ra_strerror(st));
	while (at < frames) {
		size_t n = frames - at < block ? frames - at : block;

		if (stream) {
			float *blk = ra_processor_acquire(p), *done;
			size_t done_frames;

			ck_assert_ptr_nonnull(blk);
			memcpy(blk, x + at * ch, n * ch * sizeof(float));
			ck_assert_int_eq(ra_processor_push(p, blk, n, &done, &done_frames), RA_OK);
			if (done) {
				memcpy(out + written * ch, done, done_frames * ch * sizeof(float));
				written += done_frames;
				ra_processor_release(p, done);
			}
		} else {
			memcpy(out + at * ch, x + at * ch, n * ch * sizeof(float));
			ck_assert_int_eq(ra_processor_process(p, out + at * ch, n), RA_OK);
			written += n;
		}
		at += n;
	}
	for (;;) {
		float *done;
		size_t done_frames;

		ck_assert_int_eq(ra_processor_pull(p, &done, &done_frames), RA_OK);
		if (!done)
			break;
		memcpy(out + written * ch, done, done_frames * ch * sizeof(float));
		written += done_frames;
		ra_processor_release(p, done);
	}
	ck_assert_uint_eq(written, frames);
	ra_processor_destroy(p);
}

/* Chains: 10 bands stereo, 31 bands mono, 3 bands over 5 channels, 31
 * over 8 (on several threads, in channel runs taken a unit at a time). */
static const struct {
	int which, channels;
} chains[] = { { 0, 2 }, { 1, 1 }, { 2, 5 }, { 1, 8 } };

START_TEST(test_optimized_equals_reference)
{
	const size_t frames = 70001;
	const int channels = chains[_i].channels;
	ra_biquad_coeffs c[64];
	int count = design(chains[_i].which, c);
	float *x = make_signal(frames * (size_t)channels, 42);
	float *ref = malloc(frames * (size_t)channels * sizeof(float));
	float *out = malloc(frames * (size_t)channels * sizeof(float));
	ra_processor_config cfg = {
		.channels = channels, .bands = c, .band_count = count, .gain = 0.5f
	};
	static const int threads[] = { 1, 2, 3, 8 };
	static const size_t blocks[] = { 1, 7, 1024, 65536 };
	size_t bytes = frames * (size_t)channels * sizeof(float);

	cfg.reference = 1;
	run_chain(cfg, x, frames, 4096, 1, ref);
	cfg.reference = 0;
	for (int t = 0; t < 4; t++) {
		ra_workers *w = ra_workers_create(threads[t], NULL, NULL);

		ck_assert_ptr_nonnull(w);
		cfg.workers = w;
		for (int b = 0; b < 4; b++) {
			/* Block size 1 is slow in the reference sense only: keep
			 * it to the streaming form to bound the run time. */
			for (int stream = 0; stream < 2; stream++) {
				if (blocks[b] == 1 && !stream)
					continue;
				memset(out, 0, bytes);
				run_chain(cfg, x, frames, blocks[b], stream, out);
				ck_assert_msg(memcmp(out, ref, bytes) == 0,
					      "chain %d: %d threads, block %zu, %s differs", _i,
					      threads[t], blocks[b], stream ? "stream" : "process");
			}
		}
		ra_workers_destroy(w);
	}
	/* And it is a filter at all: the output is not the scaled input. */
	ck_assert(fabsf(ref[1000] - 0.5f * x[1000]) > 1e-6f ||
		  fabsf(ref[1001] - 0.5f * x[1001]) > 1e-6f);
	free(x);
	free(ref);
	free(out);
}
END_TEST

/* The build of the processor's conversions between blocks and cascades:
 * in a child of test_reference_every_build the one it asked for, else the
 * fastest this CPU runs. They are picked as the converter's are, whose
 * name tells. */
START_TEST(test_reference_build_asked)
{
	ra_test_assert_build(ra_converter_kernel(), "avx2");
}
END_TEST

/* The reference case again on the other builds this CPU runs. */
START_TEST(test_reference_every_build)
{
	ra_test_rerun_builds("processor", "reference", 0);
}
END_TEST

/* Tasks the pool ran for a 10-band chain of CHANNELS channels over FRAMES
 * frames, told STREAM_FRAMES (0: not told); the output equals the
 * reference either way. */
static uint64_t pool_tasks(int channels, size_t frames, uint64_t stream_frames)
{
	ra_biquad_coeffs c[64];
	ra_processor_config cfg = { .channels = channels,
				    .bands = c,
				    .band_count = design(0, c),
				    .gain = 1.0f,
				    .stream_frames = stream_frames };
	size_t n = frames * (size_t)channels;
	float *x = make_signal(n, 3), *ref = malloc(n * sizeof(float)),
	      *out = malloc(n * sizeof(float));
	ra_workers *w = ra_workers_create(2, NULL, NULL);
	ra_workers_stats st;

	ck_assert_ptr_nonnull(w);
	cfg.reference = 1;
	run_chain(cfg, x, frames, 1024, 1, ref);
	cfg.reference = 0;
	cfg.workers = w;
	run_chain(cfg, x, frames, 1024, 1, out);
	ck_assert_mem_eq(out, ref, n * sizeof(float));
	ra_workers_get_stats(w, &st);
	ra_workers_destroy(w);
	free(x);
	free(ref);
	free(out);
	return st.tasks;
}

/* A stereo stream said to fill fewer than 16 steps (65536 frames each)
 * runs inline: no worker is woken for it. Said to be longer, of unknown
 * length, or with more than one channel pair to share out, it goes to
 * the pool (the length told, not the frames pushed, decides). */
START_TEST(test_short_stream_runs_inline)
{
	ck_assert_uint_eq(pool_tasks(2, 48000, 48000), 0);
	ck_assert_uint_eq(pool_tasks(1, 48000, 16 * 65536 - 1), 0);
	ck_assert_uint_gt(pool_tasks(2, 48000, 0), 0);
	ck_assert_uint_gt(pool_tasks(2, 48000, 16 * 65536), 0);
	ck_assert_uint_gt(pool_tasks(6, 48000, 48000), 0);
}
END_TEST

/* Channel runs of processors of CHANNELS channels on THREADS threads. */
static int channel_runs(int channels, int threads)
{
	ra_biquad_coeffs c[64];
	ra_workers *w = ra_workers_create(threads, NULL, NULL);
	ra_processor_config cfg = { .channels = channels,
				    .max_frames = 1024,
				    .bands = c,
				    .band_count = design(0, c),
				    .gain = 1.0f,
				    .workers = w };
	ra_processor *p = ra_processor_create(&cfg, NULL, NULL);
	ra_processor_stats ps;

	ck_assert_ptr_nonnull(p);
	ra_processor_get_stats(p, &ps);
	ra_processor_destroy(p);
	ra_workers_destroy(w);
	return ps.channel_runs;
}

/* Several channel pairs on several threads are filtered in a run of pairs
 * a thread, each run a phase (on its own slot), taken a unit of blocks at
 * a time by a task a run in the step, a thread's at most: 300000 frames
 * of 8 channels fill 5 slots of 64 blocks, which pass the 2 runs in 6
 * steps, 1 + 2 + 2 + 2 + 2 + 1 tasks on 2 threads. A stream said to fill
 * fewer than 16 steps keeps a task a pair (4 a slot). The output equals
 * the reference either way. */
START_TEST(test_channel_runs)
{
	ck_assert_int_eq(channel_runs(8, 2), 2);
	ck_assert_int_eq(channel_runs(5, 3), 3);
	ck_assert_int_eq(channel_runs(16, 16), 8);
	ck_assert_int_eq(channel_runs(8, 1), 1);
	ck_assert_int_eq(channel_runs(2, 2), 1);
	ck_assert_uint_eq(pool_tasks(8, 300000, 0), 1 + 2 + 2 + 2 + 2 + 1);
	ck_assert_uint_eq(pool_tasks(8, 300000, 300000), 5 * 4);
}
END_TEST

START_TEST(test_gain_only_and_reset)
{
	const size_t frames = 5000;
	ra_biquad_coeffs c[64];
	int count = design(0, c);
	float *x = make_signal(frames * 2, 7);
	float *a = malloc(frames * 2 * sizeof(float));
	float *b = malloc(frames * 2 * sizeof(float));
	ra_processor_config cfg = { .channels = 2, .max_frames = frames, .gain = 0.25f };
	ra_processor *p = ra_processor_create(&cfg, NULL, NULL);

	/* No bands: exactly the gain. */
	memcpy(a, x, frames * 2 * sizeof(float));
	ck_assert_int_eq(ra_processor_process(p, a, frames), RA_OK);
	for (size_t i = 0; i < frames * 2; i++)
		ck_assert_float_eq(a[i], x[i] * 0.25f);
	ra_processor_destroy(p);

	/* Reset starts the filters afresh: the same block twice matches. */
	cfg.bands = c;
	cfg.band_count = count;
	cfg.gain = 1.0f;
	p = ra_processor_create(&cfg, NULL, NULL);
	memcpy(a, x, frames * 2 * sizeof(float));
	memcpy(b, x, frames * 2 * sizeof(float));
	ck_assert_int_eq(ra_processor_process(p, a, frames), RA_OK);
	ra_processor_reset(p);
	ck_assert_int_eq(ra_processor_process(p, b, frames), RA_OK);
	ck_assert_int_eq(memcmp(a, b, frames * 2 * sizeof(float)), 0);
	/* Without reset the state carries on and the output differs. */
	memcpy(b, x, frames * 2 * sizeof(float));
	ck_assert_int_eq(ra_processor_process(p, b, frames), RA_OK);
	ck_assert_int_ne(memcmp(a, b, frames * 2 * sizeof(float)), 0);
	ra_processor_destroy(p);
	free(x);
	free(a);
	free(b);
}
END_TEST

/* A tap's rows, taken and counted. */
typedef struct row_count {
	ra_welch *tap;
	uint64_t rows;
} row_count;

static void count_rows(void *ctx)
{
	row_count *n = ctx;
	const double *db;
	double time_s;

	while (ra_welch_take_row(n->tap, &time_s, &db))
		n->rows++;
}

/* Steady state: pushing and pulling blocks allocates nothing: with the
 * output tap's rows taken between calls, and (_i 1) at a hop of 2, where a
 * block's rows outgrow the budget, handed over in batches within; (_i 2)
 * 8 channels, in channel runs. */
START_TEST(test_no_allocation_when_warm)
{
	const int ch = _i == 2 ? 8 : 1;
	ra_biquad_coeffs c[64];
	int count = design(1, c);
	ra_workers *w = ra_workers_create(2, NULL, NULL);
	/* With spectrum taps on both sides: their FFTs count too. */
	ra_welch_config wc = { .channels = ch,
			       .sample_rate = 48000.0,
			       .fft_size = 2048,
			       .window = RA_WINDOW_HANN,
			       .overlap = _i == 1 ? 2046.0 / 2048.0 : 0.5 };
	ra_welch *tap_in = ra_welch_create(&wc, NULL, NULL);
	ra_welch *tap_out = ra_welch_create(&wc, NULL, NULL);
	row_count taken = { tap_out, 0 };
	ra_processor_config cfg = { .channels = ch,
				    .max_frames = 1024,
				    .bands = c,
				    .band_count = count,
				    .gain = 1.0f,
				    .workers = w,
				    .tap_in = tap_in,
				    .tap_out = tap_out,
				    .rows_ready = _i == 1 ? count_rows : NULL,
				    .rows_ctx = &taken };
	ra_processor_stats ps;
	ra_processor *p;
	float *x = make_signal(1024 * (size_t)ch, 3);
	const int blocks = _i == 1 ? 50 : 2000;
	int failures = 0;
	long during;

	/* The output tap keeps spectrogram rows, taken on this thread as the
	 * job takes them: their stores stop growing once warm too. */
	ck_assert_int_eq(ra_welch_keep_rows(tap_out, RA_SCALE_PSD), RA_OK);
	p = ra_processor_create(&cfg, NULL, NULL);
	ck_assert_ptr_nonnull(p);
	ra_processor_get_stats(p, &ps);
	ck_assert_int_eq(ps.channel_runs, _i == 2 ? 2 : 1);
	for (int round = 0; round < 2; round++) {
		/* Round 0 warms up, twice as long: the steps grow to their most
		 * (256 blocks after 768) and such a step's rows reach the output
		 * tap five phases later. Round 1 is counted (no ck_assert inside:
		 * Check itself allocates to report progress). */
		ra_test_alloc_start(0);
		for (int i = 0; i < (round == 0 ? 2 * blocks : blocks); i++) {
			float *blk = ra_processor_acquire(p), *done;
			size_t done_frames;

			memcpy(blk, x, 1024 * (size_t)ch * sizeof(float));
			failures += ra_processor_push(p, blk, 1024, &done, &done_frames) != RA_OK;
			if (done)
				ra_processor_release(p, done);
			count_rows(&taken);
		}
		during = (long)ra_test_alloc_stop();
	}
	ck_assert_int_eq(failures, 0);
#ifdef RA_TEST_ALLOC_COUNTED
	ck_assert_msg(during == 0, "%ld allocations in %d warm blocks", during, blocks);
#else
	(void)during;
#endif
	for (;;) {
		float *done;
		size_t done_frames;

		ra_processor_pull(p, &done, &done_frames);
		if (!done)
			break;
		ra_processor_release(p, done);
	}
	count_rows(&taken);
	/* The taps did work all along: both saw the stream, and every segment
	 * of the output's became a row. Read once it is drained, when no
	 * worker is feeding them any more. */
	ck_assert_uint_gt(ra_welch_segments(tap_in), 1000);
	ck_assert_uint_gt(ra_welch_segments(tap_out), 1000);
	ck_assert_uint_eq(taken.rows, ra_welch_segments(tap_out));
	/* The counter works: the reference pipeline allocates every block. */
	cfg.reference = 1;
	ra_processor_destroy(p);
	p = ra_processor_create(&cfg, NULL, NULL);
	ra_test_alloc_start(0);
	for (int i = 0; i < 10; i++)
		ra_processor_process(p, x, 1024);
#ifdef RA_TEST_ALLOC_COUNTED
	ck_assert_uint_ge(ra_test_alloc_stop(), 10);
#else
	ra_test_alloc_stop();
#endif
	ra_processor_destroy(p);
	ra_welch_destroy(tap_in);
	ra_welch_destroy(tap_out);
	ra_workers_destroy(w);
	free(x);
}
END_TEST

/* With timing on, every block is counted once in the EQ and the spectrum
 * histograms whatever the schedule, and the output does not change. */
START_TEST(test_timing_counts_every_block)
{
	static const struct {
		int which, channels, threads, reference;
	} cases[] = { { 0, 2, 1, 0 }, { 0, 2, 2, 0 }, { 1, 1, 2, 0 }, { -1, 2, 2, 0 },
		      { 0, 2, 1, 1 }, { 1, 8, 2, 0 }, { 2, 5, 3, 0 } };
	const size_t frames = 50000, block = 1000;

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const int ch = cases[k].channels;
		ra_biquad_coeffs c[64];
		int count = cases[k].which >= 0 ? design(cases[k].which, c) : 0;
		ra_workers *w = ra_workers_create(cases[k].threads, NULL, NULL);
		ra_welch_config wc = { .channels = ch,
				       .sample_rate = 48000.0,
				       .fft_size = 512,
				       .window = RA_WINDOW_HANN,
				       .overlap = 0.5 };
		ra_welch *tap_in = ra_welch_create(&wc, NULL, NULL);
		ra_welch *tap_out = ra_welch_create(&wc, NULL, NULL);
		ra_histogram eq, spectrum;
		ra_processor_config cfg = { .channels = ch,
					    .bands = c,
					    .band_count = count,
					    .gain = 0.5f,
					    .workers = w,
					    .reference = cases[k].reference,
					    .tap_in = tap_in,
					    .tap_out = tap_out };
		float *x = make_signal(frames * (size_t)ch, 11);
		float *plain = malloc(frames * (size_t)ch * sizeof(float));
		float *timed = malloc(frames * (size_t)ch * sizeof(float));
		uint64_t start, elapsed;

		ck_assert_ptr_nonnull(plain);
		ck_assert_ptr_nonnull(timed);
		run_chain(cfg, x, frames, block, 1, plain);
		ra_histogram_init(&eq);
		ra_histogram_init(&spectrum);
		cfg.eq_time = &eq;
		cfg.spectrum_time = &spectrum;
		start = ra_now_ns();
		run_chain(cfg, x, frames, block, 1, timed);
		elapsed = ra_now_ns() - start;
		ck_assert_mem_eq(plain, timed, frames * (size_t)ch * sizeof(float));
		ck_assert_msg(eq.count == frames / block && spectrum.count == frames / block,
			      "case %zu: %llu EQ and %llu spectrum blocks, expected %zu", k,
			      (unsigned long long)eq.count, (unsigned long long)spectrum.count,
			      frames / block);
		/* Timed on the same clock, task by task, by at most THREADS threads
		 * at once, all within the run: whatever the machine's speed. */
		ck_assert_uint_le(eq.total_ns + spectrum.total_ns,
				  (uint64_t)cases[k].threads * elapsed);
		ck_assert_uint_le(eq.max_ns, eq.total_ns);
		ck_assert_uint_le(spectrum.max_ns, spectrum.total_ns);
		free(x);
		free(plain);
		free(timed);
		ra_welch_destroy(tap_in);
		ra_welch_destroy(tap_out);
		ra_workers_destroy(w);
	}
}
END_TEST

/* process() is one push and pull on the one schedule: whatever the kernel
 * (cascades inline or on threads, the gain alone, the reference), it gives
 * the streaming form's output, feeds both taps the same stream and times
 * every block. */
START_TEST(test_process_is_push_and_pull)
{
	static const struct {
		int which, channels, threads, reference;
	} cases[] = { { 0, 2, 1, 0 }, { 1, 1, 2, 0 }, { -1, 2, 2, 0 }, { 2, 5, 1, 1 } };
	const size_t frames = 30000, block = 1000;

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const int ch = cases[k].channels;
		const size_t samples = frames * (size_t)ch;
		ra_biquad_coeffs c[64];
		int count = cases[k].which >= 0 ? design(cases[k].which, c) : 0;
		ra_workers *w = ra_workers_create(cases[k].threads, NULL, NULL);
		ra_welch_config wc = { .channels = ch,
				       .sample_rate = 48000.0,
				       .fft_size = 512,
				       .window = RA_WINDOW_HANN,
				       .overlap = 0.5 };
		float *x = make_signal(samples, 5), *out[2];
		double *in_db[2], *out_db[2];
		size_t bins = (size_t)ch * (wc.fft_size / 2 + 1);

		for (int stream = 0; stream < 2; stream++) {
			ra_welch *tap_in = ra_welch_create(&wc, NULL, NULL);
			ra_welch *tap_out = ra_welch_create(&wc, NULL, NULL);
			ra_histogram eq, spectrum;
			ra_processor_config cfg = { .channels = ch,
						    .bands = c,
						    .band_count = count,
						    .gain = 0.5f,
						    .workers = w,
						    .reference = cases[k].reference,
						    .tap_in = tap_in,
						    .tap_out = tap_out,
						    .eq_time = &eq,
						    .spectrum_time = &spectrum };

			ra_histogram_init(&eq);
			ra_histogram_init(&spectrum);
			out[stream] = malloc(samples * sizeof(float));
			ck_assert_ptr_nonnull(out[stream]);
			run_chain(cfg, x, frames, block, stream, out[stream]);
			ck_assert_msg(eq.count == frames / block &&
					      spectrum.count == frames / block,
				      "case %zu, %s: %llu EQ and %llu spectrum blocks", k,
				      stream ? "stream" : "process", (unsigned long long)eq.count,
				      (unsigned long long)spectrum.count);
			ck_assert_uint_eq(ra_welch_segments(tap_in), 2 * frames / 512 - 1);
			ck_assert_uint_eq(ra_welch_segments(tap_out), 2 * frames / 512 - 1);
			in_db[stream] = ra_test_welch_result(tap_in, RA_SCALE_DBFS);
			out_db[stream] = ra_test_welch_result(tap_out, RA_SCALE_DBFS);
			ra_welch_destroy(tap_in);
			ra_welch_destroy(tap_out);
		}
		ck_assert_mem_eq(out[0], out[1], samples * sizeof(float));
		ck_assert_mem_eq(in_db[0], in_db[1], bins * sizeof(double));
		ck_assert_mem_eq(out_db[0], out_db[1], bins * sizeof(double));
		/* The taps are on either side of the chain: they differ. */
		ck_assert_int_ne(memcmp(in_db[0], out_db[0], bins * sizeof(double)), 0);
		for (int i = 0; i < 2; i++) {
			free(out[i]);
			free(in_db[i]);
			free(out_db[i]);
		}
		free(x);
		ra_workers_destroy(w);
	}
}
END_TEST

/* Taps split into parts (8 asked: runs of channels, and shares of the
 * stream in time when there are fewer than 8 channels) are fed a task a
 * part on the pool, also with no bands to filter (the gain alone, 1 or
 * not, and the output tap alone): the same spectra, to the bit, and the
 * same output as one part inline, for 1, 2 and 5 channels. */
START_TEST(test_taps_in_parts_on_the_pool)
{
	static const struct {
		int channels, which;
		float gain;
		int tap_in, parts;
	} cases[] = { { 2, -1, 1.0f, 0, 8 },
		      { 2, -1, 0.5f, 1, 8 },
		      { 5, -1, 1.0f, 1, 5 },
		      { 2, 0, 1.0f, 1, 8 },
		      { 1, -1, 1.0f, 0, 4 } };
	const size_t frames = 200000, block = 1024;

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const int ch = cases[k].channels;
		const size_t samples = frames * (size_t)ch, bins = (size_t)ch * 257;
		ra_biquad_coeffs c[64];
		int count = cases[k].which >= 0 ? design(cases[k].which, c) : 0;
		ra_workers *w = ra_workers_create(2, NULL, NULL);
		float *x = make_signal(samples, 9), *out[2];
		double *in_db[2] = { NULL, NULL }, *out_db[2];
		uint64_t tasks[2];

		ck_assert_ptr_nonnull(w);
		for (int split = 0; split < 2; split++) {
			ra_welch_config wc = { .channels = ch,
					       .sample_rate = 48000.0,
					       .fft_size = 512,
					       .window = RA_WINDOW_HANN,
					       .overlap = 0.5,
					       .parts = split ? 8 : 1 };
			ra_welch *tap_in =
				cases[k].tap_in ? ra_welch_create(&wc, NULL, NULL) : NULL;
			ra_welch *tap_out = ra_welch_create(&wc, NULL, NULL);
			ra_processor_config cfg = { .channels = ch,
						    .bands = c,
						    .band_count = count,
						    .gain = cases[k].gain,
						    .workers = w,
						    .tap_in = tap_in,
						    .tap_out = tap_out };
			ra_workers_stats st;

			ck_assert_int_eq(ra_welch_parts(tap_out), split ? cases[k].parts : 1);
			out[split] = malloc(samples * sizeof(float));
			ck_assert_ptr_nonnull(out[split]);
			ra_workers_get_stats(w, &st);
			tasks[split] = st.tasks;
			run_chain(cfg, x, frames, block, 1, out[split]);
			ra_workers_get_stats(w, &st);
			tasks[split] = st.tasks - tasks[split];
			if (tap_in)
				in_db[split] = ra_test_welch_result(tap_in, RA_SCALE_DBFS);
			out_db[split] = ra_test_welch_result(tap_out, RA_SCALE_DBFS);
			ra_welch_destroy(tap_in);
			ra_welch_destroy(tap_out);
		}
		/* Without bands, one part runs inline; in parts, on the pool. */
		ck_assert_msg((count == 0 && tasks[0] == 0) || (count > 0 && tasks[0] > 0),
			      "case %zu: %llu tasks with one part", k,
			      (unsigned long long)tasks[0]);
		ck_assert_uint_gt(tasks[1], 0);
		ck_assert_mem_eq(out[0], out[1], samples * sizeof(float));
		ck_assert_mem_eq(out_db[0], out_db[1], bins * sizeof(double));
		if (cases[k].tap_in)
			ck_assert_mem_eq(in_db[0], in_db[1], bins * sizeof(double));
		for (size_t i = 0; count == 0 && i < samples; i++)
			ck_assert_float_eq(out[1][i], x[i] * cases[k].gain);
		for (int i = 0; i < 2; i++) {
			free(out[i]);
			free(in_db[i]);
			free(out_db[i]);
		}
		free(x);
		ra_workers_destroy(w);
	}
}
END_TEST

/* Steps grow: 64 blocks of 1024 frames a step for four steps, 128 for
 * four, then 256 (all the pool holds room for), with the EQ too. Counted
 * in tasks for the taps alone, two a step (the tap's two parts). Many
 * channels take fewer frames a step. */
START_TEST(test_steps_grow)
{
	const size_t block = 1024, frames = 3000 * block;
	ra_welch_config wc = { .channels = 2,
			       .sample_rate = 48000.0,
			       .fft_size = 256,
			       .window = RA_WINDOW_HANN,
			       .overlap = 0.5,
			       .parts = 2 };
	ra_welch *tap = ra_welch_create(&wc, NULL, NULL);
	ra_workers *w = ra_workers_create(2, NULL, NULL);
	float *x = make_signal(2 * frames, 4), *out = malloc(2 * frames * sizeof(float));
	ra_processor_config cfg = {
		.channels = 2, .max_frames = block, .gain = 1.0f, .workers = w, .tap_out = tap
	};
	ra_biquad_coeffs c[64];
	ra_processor_stats ps;
	ra_workers_stats ws;
	ra_processor *p;

	ck_assert(tap && w && out);
	p = ra_processor_create(&cfg, NULL, NULL);
	ra_processor_get_stats(p, &ps);
	ck_assert_uint_eq(ps.step_blocks, 256);
	ra_processor_destroy(p);
	run_chain(cfg, x, frames, block, 1, out);
	ra_workers_get_stats(w, &ws);
	/* 4 x 64 + 4 x 128 = 768 blocks, then 2232 in 9 steps of up to 256. */
	ck_assert_uint_eq(ws.tasks, 2 * (4 + 4 + 9));
	ck_assert_uint_eq(ra_welch_segments(tap), 2 * frames / 256 - 1);
	cfg.bands = c;
	cfg.band_count = design(0, c);
	p = ra_processor_create(&cfg, NULL, NULL);
	ra_processor_get_stats(p, &ps);
	ck_assert_uint_eq(ps.step_blocks, 256);
	ra_processor_destroy(p);
	/* At most 524288 samples a step: 16 channels of EQ take 32 blocks,
	 * 64 channels of taps alone 8. */
	cfg.channels = 16;
	p = ra_processor_create(&cfg, NULL, NULL);
	ra_processor_get_stats(p, &ps);
	ck_assert_uint_eq(ps.step_blocks, 32);
	ra_processor_destroy(p);
	ra_welch_destroy(tap);
	wc.channels = 64;
	tap = ra_welch_create(&wc, NULL, NULL);
	cfg = (ra_processor_config){
		.channels = 64, .max_frames = block, .gain = 1.0f, .workers = w, .tap_out = tap
	};
	p = ra_processor_create(&cfg, NULL, NULL);
	ra_processor_get_stats(p, &ps);
	ck_assert_uint_eq(ps.step_blocks, 8);
	ra_processor_destroy(p);
	ra_welch_destroy(tap);
	ra_workers_destroy(w);
	free(x);
	free(out);
}
END_TEST

/* Rows taken so far: times and values, VALUES doubles a row, room for
 * CAP rows; the most taken at once, all that were published then. */
typedef struct row_log {
	double *time, *db;
	size_t count, cap, values, most;
} row_log;

/* Every row W has published, into LOG. */
static void log_rows(ra_welch *w, row_log *log)
{
	const size_t before = log->count;
	const double *db;
	double time_s;

	while (ra_welch_take_row(w, &time_s, &db)) {
		ck_assert_uint_lt(log->count, log->cap);
		log->time[log->count] = time_s;
		memcpy(log->db + log->count * log->values, db, log->values * sizeof(*db));
		log->count++;
	}
	if (log->count - before > log->most)
		log->most = log->count - before;
}

/* BLOCK of FRAMES frames came out of the processor: the output tap's rows
 * taken then (into LOG) must already hold every segment it completes,
 * equal to what MIRROR, fed the blocks as they come out, makes of them
 * on this thread. *CHECKED rows of LOG so far. */
static void check_rows_out(ra_welch *tap, ra_welch *mirror, row_log *log, const float *block,
			   size_t frames, size_t *checked)
{
	const double *db;
	double time_s;

	log_rows(tap, log);
	ra_welch_feed(mirror, block, frames);
	ck_assert_int_eq(ra_welch_publish_rows(mirror), RA_OK);
	for (; ra_welch_take_row(mirror, &time_s, &db); (*checked)++) {
		ck_assert_msg(*checked < log->count, "row %zu was not out with its block",
			      *checked);
		ck_assert(time_s == log->time[*checked]);
		ck_assert(memcmp(db, log->db + *checked * log->values, log->values * sizeof(*db)) ==
			  0);
	}
}

/* A run of test_tap_rows_*: THREADS threads, blocks of BLOCK frames,
 * 256-point segments HOP frames apart; rows kept by the output tap, and
 * by the input tap too with IN_TOO; with ROWS_READY, taken whenever the
 * processor hands them over too. */
typedef struct rows_case {
	int threads;
	size_t block, hop;
	int in_too, rows_ready;
} rows_case;

/* The caller's side of such a run: the taps with their logs, the output's
 * checked against MIRROR as its blocks come out. */
typedef struct rows_run {
	ra_welch *tap_in, *tap_out, *mirror;
	row_log in, out;
	size_t checked;
} rows_run;

/* rows_ready: the rows just published, taken now. */
static void take_handed_over(void *ctx)
{
	rows_run *r = ctx;

	log_rows(r->tap_in, &r->in);
	log_rows(r->tap_out, &r->out);
}

static row_log log_for(size_t frames, size_t hop)
{
	row_log log = { .cap = (frames - 256) / hop + 1, .values = 2 * 129 };

	log.time = malloc(log.cap * sizeof(*log.time));
	log.db = malloc(log.cap * log.values * sizeof(*log.db));
	ck_assert(log.time && log.db);
	return log;
}

/* After a push or pull: the rows published so far taken, and if block
 * DONE of DONE_FRAMES frames came out, the output's checked and the
 * block given back. */
static void rows_out(ra_processor *p, rows_run *r, float *done, size_t done_frames)
{
	log_rows(r->tap_in, &r->in);
	log_rows(r->tap_out, &r->out);
	if (!done)
		return;
	check_rows_out(r->tap_out, r->mirror, &r->out, done, done_frames, &r->checked);
	ra_processor_release(p, done);
}

/* FRAMES stereo frames of X through case K, the rows taken after every
 * call and in rows_ready (into R's logs) and checked against analysers fed
 * on this thread: every row, bit for bit, in stream order, the output's by
 * the time its block is out. */
static void run_rows(const rows_case *k, const float *x, size_t frames, rows_run *r)
{
	ra_welch_config wc = { .channels = 2,
			       .sample_rate = 48000.0,
			       .fft_size = 256,
			       .window = RA_WINDOW_HANN,
			       .overlap = (double)(256 - k->hop) / 256.0 };
	ra_biquad_coeffs c[64];
	int count = design(0, c);
	ra_workers *w = ra_workers_create(k->threads, NULL, NULL);
	ra_welch *mirror_in = ra_welch_create(&wc, NULL, NULL);
	ra_processor_config cfg = { .channels = 2,
				    .max_frames = k->block,
				    .bands = c,
				    .band_count = count,
				    .gain = 0.5f,
				    .workers = w,
				    .rows_ready = k->rows_ready ? take_handed_over : NULL,
				    .rows_ctx = r };
	ra_processor *p;
	size_t done_frames;
	float *done;

	r->tap_out = ra_welch_create(&wc, NULL, NULL);
	r->mirror = ra_welch_create(&wc, NULL, NULL);
	r->tap_in = k->in_too ? ra_welch_create(&wc, NULL, NULL) : NULL;
	r->in.count = r->in.most = r->out.count = r->out.most = r->checked = 0;
	/* Rows are kept before the processor is made: it sizes its steps
	 * by them. */
	ck_assert_int_eq(ra_welch_keep_rows(r->tap_out, RA_SCALE_DBFS), RA_OK);
	ck_assert_int_eq(ra_welch_keep_rows(r->mirror, RA_SCALE_DBFS), RA_OK);
	ck_assert_int_eq(ra_welch_keep_rows(mirror_in, RA_SCALE_DBFS), RA_OK);
	if (r->tap_in)
		ck_assert_int_eq(ra_welch_keep_rows(r->tap_in, RA_SCALE_DBFS), RA_OK);
	cfg.tap_in = r->tap_in;
	cfg.tap_out = r->tap_out;
	p = ra_processor_create(&cfg, NULL, NULL);
	ck_assert_ptr_nonnull(p);
	for (size_t at = 0; at < frames; at += k->block) {
		size_t n = frames - at < k->block ? frames - at : k->block;
		float *blk = ra_processor_acquire(p);

		memcpy(blk, x + at * 2, n * 2 * sizeof(float));
		ck_assert_int_eq(ra_processor_push(p, blk, n, &done, &done_frames), RA_OK);
		rows_out(p, r, done, done_frames);
	}
	for (;;) {
		ck_assert_int_eq(ra_processor_pull(p, &done, &done_frames), RA_OK);
		if (!done)
			break;
		rows_out(p, r, done, done_frames);
	}
	log_rows(r->tap_out, &r->out);
	ck_assert_uint_eq(r->checked, r->out.cap);
	ck_assert_uint_eq(r->out.count, r->out.cap);
	ck_assert_uint_eq(ra_welch_segments(r->tap_out), r->out.cap);
	if (r->tap_in) {
		const double *db;
		double time_s;

		log_rows(r->tap_in, &r->in);
		ck_assert_uint_eq(r->in.count, r->in.cap);
		ra_welch_feed(mirror_in, x, frames);
		ck_assert_int_eq(ra_welch_publish_rows(mirror_in), RA_OK);
		for (size_t i = 0; ra_welch_take_row(mirror_in, &time_s, &db); i++) {
			ck_assert(time_s == r->in.time[i]);
			ck_assert(memcmp(db, r->in.db + i * r->in.values,
					 r->in.values * sizeof(*db)) == 0);
		}
	}
	ra_processor_destroy(p);
	ra_welch_destroy(r->tap_in);
	ra_welch_destroy(r->tap_out);
	ra_welch_destroy(r->mirror);
	ra_welch_destroy(mirror_in);
	ra_workers_destroy(w);
}

/* Workers compute the output tap's rows; the caller takes them between
 * its calls: every row is out by the time the block that completes its
 * segment is, in stream order, the same bytes as an analyser fed the
 * finished blocks on the caller's thread makes, for every thread count
 * and block size. */
START_TEST(test_tap_rows_out_with_their_blocks)
{
	static const rows_case cases[] = {
		{ 1, 1000, 128, 0, 0 },
		{ 2, 1000, 128, 0, 0 },
		{ 3, 333, 128, 0, 0 },
		{ 4, 4096, 128, 0, 0 },
	};
	const size_t frames = 150000;
	float *x = make_signal(frames * 2, 17);
	rows_run r = { .out = log_for(frames, 128) };

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		run_rows(&cases[k], x, frames, &r);
	free(r.out.time);
	free(r.out.db);
	free(x);
}
END_TEST

/* The rows a tap holds at once (all published since the last take, taken
 * at once) stay within RA_WELCH_ROW_BUDGET (2024 rows of 256 points
 * stereo) at tiny hops: steps carry fewer blocks (hop 8: a
 * step of 66 blocks of 1000 frames would finish 8250), and a block that
 * alone finishes more (hop 1, 4096 frames) hands its rows over in batches
 * within, on the caller's thread, with both taps, with one thread and with
 * a wavefront; without rows_ready such a block's rows are held at once,
 * no more. Every row still as the analysers on this thread make them. */
START_TEST(test_tap_rows_within_budget)
{
	static const rows_case cases[] = {
		{ 2, 1000, 8, 0, 0 }, { 3, 1000, 8, 1, 1 }, { 2, 4096, 1, 0, 1 },
		{ 1, 4096, 1, 1, 1 }, { 4, 4096, 1, 1, 1 }, { 2, 4096, 1, 0, 0 },
	};
	const size_t frames = 30000, rows = RA_WELCH_ROW_BUDGET / (8 * (2 * 129 + 1));
	float *x = make_signal(frames * 2, 29);
	rows_run r = { .in = log_for(frames, 1), .out = log_for(frames, 1) };

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const size_t bound = cases[k].rows_ready || cases[k].block / cases[k].hop <= rows
					     ? rows
					     : cases[k].block / cases[k].hop + 1;

		/* The logs have room for hop 1's rows; CAP is what each case
		 * expects. */
		r.in.cap = r.out.cap = (frames - 256) / cases[k].hop + 1;
		run_rows(&cases[k], x, frames, &r);
		ck_assert_msg(r.out.most <= bound, "case %zu: %zu rows at once, more than %zu", k,
			      r.out.most, bound);
		ck_assert_msg(r.in.most <= bound, "case %zu: %zu input rows at once, more than %zu",
			      k, r.in.most, bound);
		ck_assert_uint_gt(r.out.most, bound / 2);
	}
	free(r.in.time);
	free(r.in.db);
	free(r.out.time);
	free(r.out.db);
	free(x);
}
END_TEST

/* A caller that stops early (a write error) destroys the processor with
 * blocks inside; everything goes back (LSan checks the sanitizer build). */
START_TEST(test_destroy_with_blocks_inside)
{
	ra_biquad_coeffs c[64];
	int count = design(0, c);
	ra_workers *w = ra_workers_create(2, NULL, NULL);
	ra_processor_config cfg = { .channels = 2,
				    .max_frames = 256,
				    .bands = c,
				    .band_count = count,
				    .gain = 1.0f,
				    .workers = w };
	ra_processor *p = ra_processor_create(&cfg, NULL, NULL);
	float **held = calloc(20000, sizeof(*held));
	ra_processor_stats st;
	int n = 0;

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(held);
	/* Hold every finished block until the pool runs dry and blocks come
	 * from fresh allocations, some of which end up inside. */
	for (int i = 0; i < 20000; i++) {
		float *blk = ra_processor_acquire(p), *done;
		size_t done_frames;

		ck_assert_ptr_nonnull(blk);
		memset(blk, 0, 256 * 2 * sizeof(float));
		ck_assert_int_eq(ra_processor_push(p, blk, 256, &done, &done_frames), RA_OK);
		if (done)
			held[n++] = done;
		ra_processor_get_stats(p, &st);
		if (st.blocks.misses > 600)
			break;
	}
	ck_assert_uint_gt(st.blocks.misses, 600); /* the case this test is for */
	for (int i = 0; i < n; i++)
		ra_processor_release(p, held[i]);
	free(held);
	ra_processor_destroy(p);
	ra_workers_destroy(w);
}
END_TEST

START_TEST(test_errors)
{
	ra_processor_config cfg = { .channels = 0, .max_frames = 1024, .gain = 1.0f };
	ra_biquad_coeffs nan_band = { NAN, 0, 0, 0, 0 };
	ra_status st = RA_OK;
	ra_diag diag = { { 0 } };
	float blk[8];

	ck_assert_ptr_null(ra_processor_create(&cfg, &st, &diag));
	ck_assert_int_eq(st, RA_ERR_INVALID);
	ck_assert_str_eq(diag.text, "processor config out of range: channels 0 (1 to 1024), "
				    "max_frames 1024 (1 or more), band_count 0 (0 to 64)");
	cfg.channels = 1;
	cfg.max_frames = 0;
	ck_assert_ptr_null(ra_processor_create(&cfg, &st, NULL));
	cfg.max_frames = 4;
	cfg.band_count = 3; /* no bands given */
	ck_assert_ptr_null(ra_processor_create(&cfg, &st, &diag));
	ck_assert_str_eq(diag.text,
			 "processor config out of range: channels 1 (1 to 1024), "
			 "max_frames 4 (1 or more), band_count 3 (0 to 64) without bands");
	cfg.band_count = 1; /* the cascade's refusal */
	cfg.bands = &nan_band;
	ck_assert_ptr_null(ra_processor_create(&cfg, &st, &diag));
	ck_assert_int_eq(st, RA_ERR_INVALID);
	ck_assert_str_eq(diag.text, "band 1's coefficients are not finite");
	cfg.band_count = 0;
	{
		ra_processor *p = ra_processor_create(&cfg, &st, NULL);

		ck_assert_ptr_nonnull(p);
		ck_assert_int_eq(ra_processor_process(p, blk, 5), RA_ERR_INVALID);
		ra_processor_destroy(p);
	}
	ra_processor_destroy(NULL);
	ra_processor_release(NULL, blk);
}
END_TEST

static Suite *processor_suite(void)
{
	Suite *s = suite_create("processor");
	TCase *tc = tcase_create("reference");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_optimized_equals_reference, 0, 4);
	tcase_add_test(tc, test_reference_build_asked);
	suite_add_tcase(s, tc);
	tc = tcase_create("builds");
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_reference_every_build);
	suite_add_tcase(s, tc);
	tc = tcase_create("behaviour");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_gain_only_and_reset);
	tcase_add_test(tc, test_short_stream_runs_inline);
	tcase_add_test(tc, test_channel_runs);
	tcase_add_loop_test(tc, test_no_allocation_when_warm, 0, 3);
	tcase_add_test(tc, test_destroy_with_blocks_inside);
	tcase_add_test(tc, test_timing_counts_every_block);
	tcase_add_test(tc, test_process_is_push_and_pull);
	tcase_add_test(tc, test_taps_in_parts_on_the_pool);
	tcase_add_test(tc, test_steps_grow);
	tcase_add_test(tc, test_tap_rows_out_with_their_blocks);
	tcase_add_test(tc, test_tap_rows_within_budget);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ra_test_main(processor_suite());
}
