/* A job's sink stage (conversion, dither, writing) on the lane, and its
 * resampler's channels on the workers: the same bytes as inline and as the
 * reference pipeline, for every block size and thread count, and the
 * sink's failures reported as inline ones are, with their words and frame.
 * The lane's counters show where the stage ran; nothing here depends on
 * how fast any thread runs. */
#include <check.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>

#include "rustyaudio/eq.h"
#include "rustyaudio/job.h"
#include "rustyaudio/lane.h"
#include "rustyaudio/resample.h"
#include "rustyaudio/workers.h"
#include "testutil.h"

/* Long enough for AUTO's probe to time both schedules (2359296 frames at
 * any block size here): it always runs some blocks on the lane. */
#define FRAMES 2400000
/* A shorter input, for the runs that need no probe (ALWAYS and NEVER). */
#define SHORT_FRAMES (FRAMES / 10)
/* Input for the resampler over three of its calls (262144 frames each at
 * most) and part of a fourth. */
#define RESAMPLED_FRAMES 800000
#define RATE 48000

static char *dir, *in_path;
static ra_eq eq;

/* FRAMES of float noise in CHANNELS channels at PATH. */
static void write_noise(const char *path, int channels, size_t frames)
{
	float *x = ra_test_noise((size_t)channels * frames, 7, 0.5f);

	ra_test_write_float(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, RATE, channels, x, frames);
	free(x);
}

static void setup(void)
{
	ra_diag diag;

	dir = ra_test_mkdtemp();
	in_path = ra_test_path(dir, "in.wav");
	write_noise(in_path, 2, FRAMES);
	memset(&eq, 0, sizeof(eq));
	ck_assert_int_eq(ra_eq_add(&eq, "peak:1000:6:1", &diag), RA_OK);
	ck_assert_int_eq(ra_eq_add(&eq, "lowshelf:100:-4", &diag), RA_OK);
}

static void teardown(void)
{
	free(in_path);
	ra_test_rmtree(dir);
}

/* A 16-bit, TPDF-dithered output of the EQ'd input IN at OUT, with the
 * config's schedule, into RES; no assertion (they allocate). */
static ra_status job(ra_job_config *cfg, const char *in, const char *out, ra_job_result *res)
{
	cfg->eq = &eq;
	cfg->format_subtype = SF_FORMAT_PCM_16;
	cfg->dither = RA_DITHER_MODE_TPDF;
	cfg->dither_seed = 99;
	cfg->force = 1;
	return ra_job_run(cfg, in, out, res);
}

/* job() on IN, FRAMES long: its status, its message in MESSAGE; all of
 * the input written when it succeeds. */
static ra_status run_job_on(ra_job_config *cfg, const char *in, size_t frames, const char *out,
			    ra_diag *message)
{
	ra_job_result res = { 0 };
	ra_status st = job(cfg, in, out, &res);

	if (message)
		*message = res.diag;
	if (st == RA_OK)
		ck_assert_int_eq(
			res.frames_written,
			ra_resample_length(frames, RATE, cfg->out_rate ? cfg->out_rate : RATE));
	ra_job_result_release(&res);
	return st;
}

/* run_job_on() the test's input. */
static ra_status run_job(ra_job_config *cfg, const char *out, ra_diag *message)
{
	return run_job_on(cfg, in_path, FRAMES, out, message);
}

static uint64_t lane_items(const ra_lane *l)
{
	ra_lane_stats s;

	ra_lane_get_stats(l, &s);
	return s.items;
}

/* Reference, inline, on the lane and AUTO, on 1 and 2 threads, in blocks
 * of 256, 1024 and 4096 frames: one set of bytes. ALWAYS gives the lane
 * every block; NEVER none; AUTO some, switching on the way. */
START_TEST(test_same_bytes_on_every_schedule)
{
	static const size_t blocks[] = { 256, 1024, 4096 };
	static const ra_lane_use uses[] = { RA_LANE_NEVER, RA_LANE_ALWAYS, RA_LANE_AUTO };
	char *ref = ra_test_path(dir, "ref.wav"), *out = ra_test_path(dir, "out.wav");
	ra_lane *lane = ra_lane_create(1, RA_LANE_DEPTH_MAX, NULL, NULL);
	ra_job_config cfg;

	ck_assert_ptr_nonnull(lane);
	ra_job_config_init(&cfg);
	cfg.reference = 1;
	ck_assert_int_eq(run_job(&cfg, ref, NULL), RA_OK);
	for (int threads = 1; threads <= 2; threads++) {
		ra_workers *w = ra_workers_create(threads, NULL, NULL);

		ck_assert_ptr_nonnull(w);
		for (size_t b = 0; b < sizeof(blocks) / sizeof(blocks[0]); b++) {
			for (size_t u = 0; u < sizeof(uses) / sizeof(uses[0]); u++) {
				uint64_t before = lane_items(lane);

				ra_job_config_init(&cfg);
				cfg.workers = w;
				cfg.lane = lane;
				cfg.lane_use = uses[u];
				cfg.block_frames = blocks[b];
				ck_assert_int_eq(run_job(&cfg, out, NULL), RA_OK);
				ck_assert_msg(ra_test_same_bytes(ref, out),
					      "threads %d, block %zu, lane use %d differ", threads,
					      blocks[b], (int)uses[u]);
				if (uses[u] == RA_LANE_ALWAYS)
					ck_assert_uint_ge(lane_items(lane) - before,
							  FRAMES / blocks[b]);
				else if (uses[u] == RA_LANE_NEVER)
					ck_assert_uint_eq(lane_items(lane), before);
				else /* the probe's lane windows, whatever it chose */
					ck_assert_uint_gt(lane_items(lane), before);
			}
		}
		ra_workers_destroy(w);
	}
	ra_lane_destroy(lane);
	free(ref);
	free(out);
}
END_TEST

/* To FLAC, whose segments the sink stage hands to the same workers as the
 * EQ (from the output thread with ALWAYS): the reference pipeline's bytes
 * on 1, 2 and 3 threads. */
START_TEST(test_same_bytes_to_flac)
{
	static const ra_lane_use uses[] = { RA_LANE_NEVER, RA_LANE_ALWAYS };
	char *ref = ra_test_path(dir, "ref.flac"), *out = ra_test_path(dir, "out.flac");
	ra_lane *lane = ra_lane_create(1, RA_LANE_DEPTH_MAX, NULL, NULL);
	ra_job_config cfg;

	ck_assert_ptr_nonnull(lane);
	ra_job_config_init(&cfg);
	cfg.reference = 1;
	ck_assert_int_eq(run_job(&cfg, ref, NULL), RA_OK);
	for (int threads = 1; threads <= 3; threads++) {
		ra_workers *w = ra_workers_create(threads, NULL, NULL);

		ck_assert_ptr_nonnull(w);
		for (size_t u = 0; u < sizeof(uses) / sizeof(uses[0]); u++) {
			ra_workers_stats before, after;

			ra_workers_get_stats(w, &before);
			ra_job_config_init(&cfg);
			cfg.workers = w;
			cfg.lane = lane;
			cfg.lane_use = uses[u];
			cfg.block_frames = 1000;
			ck_assert_int_eq(run_job(&cfg, out, NULL), RA_OK);
			ck_assert_msg(ra_test_same_bytes(ref, out),
				      "threads %d, lane use %d differ", threads, (int)uses[u]);
			ra_workers_get_stats(w, &after);
			/* Seven segments of 262,144 frames, each a task. */
			ck_assert_uint_ge(after.tasks - before.tasks, 7);
		}
		ra_workers_destroy(w);
	}
	ra_lane_destroy(lane);
	free(ref);
	free(out);
}
END_TEST

/* From 8- and 16-bit PCM in WAV and FLAC, which the job reads as 16-bit
 * integers, to 16-bit WAV, which it writes as such: the bytes of the
 * reference pipeline, which reads and writes left-justified integers, on
 * 1 and 2 threads, the sink inline and on the lane. */
START_TEST(test_same_bytes_16_bit)
{
	static const struct {
		int format;
		const char *name;
	} ins[] = {
		{ SF_FORMAT_WAV | SF_FORMAT_PCM_16, "in16.wav" },
		{ SF_FORMAT_FLAC | SF_FORMAT_PCM_16, "in16.flac" },
		{ SF_FORMAT_WAV | SF_FORMAT_PCM_U8, "in8.wav" },
	};
	static const ra_lane_use uses[] = { RA_LANE_NEVER, RA_LANE_ALWAYS };
	char *ref = ra_test_path(dir, "ref.wav"), *out = ra_test_path(dir, "out.wav");
	float *x = ra_test_noise(2 * SHORT_FRAMES, 5, 0.5f);
	ra_lane *lane = ra_lane_create(1, RA_LANE_DEPTH_MAX, NULL, NULL);
	ra_job_config cfg;

	ck_assert_ptr_nonnull(lane);
	for (size_t f = 0; f < sizeof(ins) / sizeof(ins[0]); f++) {
		char *in = ra_test_path(dir, ins[f].name);

		ra_test_write_float(in, ins[f].format, RATE, 2, x, SHORT_FRAMES);
		ra_job_config_init(&cfg);
		cfg.reference = 1;
		ck_assert_int_eq(run_job_on(&cfg, in, SHORT_FRAMES, ref, NULL), RA_OK);
		for (int threads = 1; threads <= 2; threads++) {
			ra_workers *w = ra_workers_create(threads, NULL, NULL);

			ck_assert_ptr_nonnull(w);
			for (size_t u = 0; u < sizeof(uses) / sizeof(uses[0]); u++) {
				ra_job_config_init(&cfg);
				cfg.workers = w;
				cfg.lane = lane;
				cfg.lane_use = uses[u];
				ck_assert_int_eq(run_job_on(&cfg, in, SHORT_FRAMES, out, NULL),
						 RA_OK);
				ck_assert_msg(ra_test_same_bytes(ref, out),
					      "%s: threads %d, lane use %d differ", ins[f].name,
					      threads, (int)uses[u]);
			}
			ra_workers_destroy(w);
		}
		free(in);
	}
	ra_lane_destroy(lane);
	free(x);
	free(ref);
	free(out);
}
END_TEST

/* Resampled to 44.1 kHz by each engine (libsamplerate at medium quality,
 * for time), stereo and mono (whose resampler cuts it in spans of 131072
 * frames, two engines converting at once): the reference pipeline's bytes
 * on 1, 2 and 3 threads, in blocks of 256, 1000 and 4096 frames, whose
 * chunks of input to the resampler differ, the sink on the lane and inline
 * by turns. */
START_TEST(test_same_bytes_resampled)
{
	const int channels = 2 - _i;
	static const size_t blocks[] = { 256, 1000, 4096 };
	static const ra_resample_engine engines[] = { RA_RESAMPLER_SOXR,
						      RA_RESAMPLER_LIBSAMPLERATE };
	char *ref = ra_test_path(dir, "ref.wav"), *out = ra_test_path(dir, "out.wav");
	char *in = ra_test_path(dir, "resampled.wav");
	ra_lane *lane = ra_lane_create(1, RA_LANE_DEPTH_MAX, NULL, NULL);
	ra_job_config cfg;

	ck_assert_ptr_nonnull(lane);
	write_noise(in, channels, RESAMPLED_FRAMES);
	for (size_t e = 0; e < 2; e++) {
		ra_job_config_init(&cfg);
		cfg.reference = 1;
		cfg.out_rate = 44100;
		cfg.resampler = engines[e];
		cfg.quality = RA_RESAMPLE_MEDIUM;
		ck_assert_int_eq(run_job_on(&cfg, in, RESAMPLED_FRAMES, ref, NULL), RA_OK);
		for (int threads = 1; threads <= 3; threads++) {
			ra_workers *w = ra_workers_create(threads, NULL, NULL);

			ck_assert_ptr_nonnull(w);
			for (size_t b = 0; b < sizeof(blocks) / sizeof(blocks[0]); b++) {
				uint64_t before = lane_items(lane);

				cfg.reference = 0;
				cfg.workers = w;
				cfg.lane = lane;
				cfg.lane_use = (threads + b) % 2 ? RA_LANE_ALWAYS : RA_LANE_NEVER;
				cfg.block_frames = blocks[b];
				ck_assert_int_eq(run_job_on(&cfg, in, RESAMPLED_FRAMES, out, NULL),
						 RA_OK);
				ck_assert_msg(
					ra_test_same_bytes(ref, out),
					"%d ch, %s, threads %d, block %zu, lane use %d differ",
					channels, ra_resample_engine_name(engines[e]), threads,
					blocks[b], (int)cfg.lane_use);
				if (cfg.lane_use == RA_LANE_ALWAYS)
					ck_assert_uint_gt(lane_items(lane), before);
				else
					ck_assert_uint_eq(lane_items(lane), before);
			}
			ra_workers_destroy(w);
		}
	}
	ra_lane_destroy(lane);
	free(in);
	free(ref);
	free(out);
}
END_TEST

/* A gain that overflows float stops the job in the sink stage: on the
 * lane as inline, the same status, the same words and frame, and no
 * output left behind. */
START_TEST(test_sink_failure_on_the_lane)
{
	char *out = ra_test_path(dir, "out.wav");
	ra_lane *lane = ra_lane_create(1, RA_LANE_DEPTH_MAX, NULL, NULL);
	ra_diag inline_msg, lane_msg;
	ra_job_config cfg;

	ck_assert_ptr_nonnull(lane);
	ra_job_config_init(&cfg);
	cfg.gain_db = 800;
	ck_assert_int_eq(run_job(&cfg, out, &inline_msg), RA_ERR_NONFINITE);
	ck_assert_ptr_nonnull(strstr(inline_msg.text, "processing overflows at output frame"));
	cfg.lane = lane;
	cfg.lane_use = RA_LANE_ALWAYS;
	ck_assert_int_eq(run_job(&cfg, out, &lane_msg), RA_ERR_NONFINITE);
	ck_assert_str_eq(lane_msg.text, inline_msg.text);
	ck_assert_uint_gt(lane_items(lane), 0);
	ck_assert_int_eq(ra_test_dir_entries(dir), 1); /* in.wav alone */
	/* The lane is ready for the next job. */
	cfg.gain_db = 0;
	ck_assert_int_eq(run_job(&cfg, out, NULL), RA_OK);
	ra_lane_destroy(lane);
	free(out);
}
END_TEST

#ifdef RA_TEST_ALLOC_COUNTED
/* The allocations of one job from IN to OUT under CFG, which succeeds. */
static long job_allocations(ra_job_config *cfg, const char *in, const char *out)
{
	ra_job_result res = { 0 };
	ra_status st;
	long n;

	ra_test_alloc_start(0);
	st = job(cfg, in, out, &res);
	n = (long)ra_test_alloc_stop();
	ck_assert_int_eq(st, RA_OK);
	ra_job_result_release(&res);
	return n;
}

/* No allocation a block, with the sink stage on the lane or not: a job
 * over the whole input allocates exactly as often as one over a tenth of
 * it (and does allocate: the counter works). */
START_TEST(test_no_allocation_a_block)
{
	static const ra_lane_use uses[] = { RA_LANE_NEVER, RA_LANE_ALWAYS };
	char *out = ra_test_path(dir, "out.wav"), *tenth = ra_test_path(dir, "tenth.wav");
	ra_workers *w = ra_workers_create(2, NULL, NULL);
	ra_lane *lane = ra_lane_create(1, RA_LANE_DEPTH_MAX, NULL, NULL);

	ck_assert_ptr_nonnull(w);
	ck_assert_ptr_nonnull(lane);
	write_noise(tenth, 2, SHORT_FRAMES);
	for (size_t u = 0; u < sizeof(uses) / sizeof(uses[0]); u++) {
		ra_job_config cfg;
		long short_job, long_job;

		ra_job_config_init(&cfg);
		cfg.workers = w;
		cfg.lane = lane;
		cfg.lane_use = uses[u];
		/* A job first, uncounted: the threads' own first allocations
		 * (they may not have run yet on a loaded machine) are not a
		 * block's. */
		job_allocations(&cfg, tenth, out);
		short_job = job_allocations(&cfg, tenth, out);
		long_job = job_allocations(&cfg, in_path, out);
		ck_assert_msg(long_job == short_job && short_job > 0,
			      "lane use %d: %ld allocations for %d frames, %ld for %d",
			      (int)uses[u], short_job, SHORT_FRAMES, long_job, FRAMES);
	}
	ra_lane_destroy(lane);
	ra_workers_destroy(w);
	free(tenth);
	free(out);
}
END_TEST

/* Allocations seen while a job streams, from its first progress report
 * past frame 1,000,000 of the input to its last one before frame
 * 1,600,000, before the end's drain. libsoxr grows its own buffers in its
 * first run, which converts on a worker while the next 262144 frames are
 * read: a window opening during that read would see those allocations or
 * not, as the threads happen to run. Each run is waited for before the
 * next is submitted, so by frame 786432 the first two have ended on any
 * machine, fast, slow or loaded. */
struct window {
	unsigned long seen;
	int counting;
};

static void count_window(void *ctx, int64_t done, int64_t total)
{
	struct window *w = ctx;

	(void)total;
	if (w->counting)
		w->seen += ra_test_alloc_stop();
	w->counting = done >= 1000000 && done < 1600000;
	if (w->counting)
		ra_test_alloc_start(0);
}

/* Resampled by either engine, with the sink stage on the lane or not,
 * stereo and mono (in spans, each engine fed one span after another):
 * nothing is allocated while the blocks stream through. */
START_TEST(test_no_allocation_resampling)
{
	static const ra_resample_engine engines[] = { RA_RESAMPLER_SOXR,
						      RA_RESAMPLER_LIBSAMPLERATE };
	static const ra_lane_use uses[] = { RA_LANE_NEVER, RA_LANE_ALWAYS };
	char *out = ra_test_path(dir, "out.wav"), *in = in_path;
	ra_workers *w = ra_workers_create(2, NULL, NULL);
	ra_lane *lane = ra_lane_create(1, RA_LANE_DEPTH_MAX, NULL, NULL);

	ck_assert(w && lane);
	if (_i == 1) {
		in = ra_test_path(dir, "mono.wav");
		write_noise(in, 1, FRAMES);
	}
	for (size_t c = 0; c < 4; c++) {
		struct window win = { 0, 0 };
		ra_job_config cfg;
		ra_job_result res = { 0 };

		ra_job_config_init(&cfg);
		cfg.workers = w;
		cfg.lane = lane;
		cfg.lane_use = uses[c % 2];
		cfg.out_rate = 44100;
		cfg.resampler = engines[c / 2];
		cfg.quality = RA_RESAMPLE_FAST;
		cfg.progress = count_window;
		cfg.progress_ctx = &win;
		ck_assert_int_eq(job(&cfg, in, out, &res), RA_OK);
		ra_job_result_release(&res);
		ck_assert(!win.counting);
		ck_assert_msg(win.seen == 0, "%s, %s, lane use %d: %lu allocations while streaming",
			      in == in_path ? "stereo" : "mono",
			      ra_resample_engine_name(cfg.resampler), (int)cfg.lane_use, win.seen);
	}
	ra_lane_destroy(lane);
	ra_workers_destroy(w);
	if (in != in_path)
		free(in);
	free(out);
}
END_TEST
#endif

static Suite *job_lane_suite(void)
{
	Suite *s = suite_create("job_lane");
	TCase *tc = ra_test_tcase(s, "core", 120);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_same_bytes_on_every_schedule);
	tcase_add_test(tc, test_same_bytes_to_flac);
	tcase_add_test(tc, test_same_bytes_16_bit);
	tcase_add_loop_test(tc, test_same_bytes_resampled, 0, 2);
	tcase_add_test(tc, test_sink_failure_on_the_lane);
#ifdef RA_TEST_ALLOC_COUNTED
	tcase_add_test(tc, test_no_allocation_a_block);
	tcase_add_loop_test(tc, test_no_allocation_resampling, 0, 2);
#endif
	return s;
}

int main(void)
{
	return ra_test_main(job_lane_suite());
}
