/* End-to-end tests of --enable-performance-stats and --stats-json through
 * the binary: every stage in the table, the JSON against the documented
 * schema (tests/stats-schema.jq) and against what was processed, batches,
 * --analyze's numbers, and errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "testutil.h"

/* NAME in the scratch folder: SECONDS of stereo 44.1 kHz 16-bit pink noise. */
static char *make_input(const char *name, const char *seconds)
{
	char *path = ra_test_scratch(name);
	const char *argv[] = { "-q",	     "--generate", "pink",    "--duration", seconds,
			       "--channels", "2",	   "--level", "-6",	    "--sample-rate",
			       "44100",	     "--subtype",  "pcm16",   "-o",	    path,
			       NULL };

	ra_test_run_ok(argv);
	return path;
}

/* Does the document at PATH follow the schema? */
static int valid(const char *path)
{
	char *schema_path = ra_test_path(RA_TESTS_DIR, "stats-schema.jq");
	char *schema = ra_test_slurp(schema_path, NULL);
	int ok = ra_test_jq(path, schema);

	free(schema);
	free(schema_path);
	return ok;
}

/* The table's row for STAGE in TEXT: its total seconds, share in percent
 * and blocks. */
static void stage_row(const char *text, const char *stage, double *total, double *share,
		      unsigned long long *blocks)
{
	char needle[32];
	const char *row;

	snprintf(needle, sizeof(needle), "\n  %-9s ", stage);
	row = strstr(text, needle);
	ck_assert_msg(row != NULL, "no row for %s in:\n%s", stage, text);
	ck_assert_int_eq(sscanf(row + strlen(needle), "%lf %lf%% %llu", total, share, blocks), 3);
}

/* Every stage of a job that uses them all but the measuring pass's level
 * (see test_level_and_passes): open, read, resample, EQ, both spectra,
 * conversion to 16 bits, write, close. Each row says what the JSON of the
 * same run says, to the digits printed; the times themselves depend on the
 * machine and are not judged. */
START_TEST(test_table_shows_every_stage)
{
	static const char *const stages[] = { "open",	  "read",    "resample", "eq",
					      "spectrum", "convert", "write",	 "close" };
	char *in = make_input("in.wav", "3"), *out = ra_test_scratch("out.wav");
	char *csv = ra_test_scratch("s.csv"), *json = ra_test_scratch("stats.json");
	const char *argv[] = { "-q",
			       "--enable-performance-stats",
			       "--stats-json",
			       json,
			       "--rate",
			       "48000",
			       "--eq",
			       "peak:1k:3:1",
			       "--spectrum",
			       csv,
			       "--spectrum-of",
			       "both",
			       in,
			       "-o",
			       out,
			       NULL };
	ra_run r = ra_test_run(argv, NULL);

	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	ck_assert_int_eq(ra_test_count(r.err, "rusty-audio: stats: "), 1);
	ck_assert_ptr_nonnull(strstr(r.err, in));
	ck_assert_ptr_nonnull(strstr(r.err, "3.000 s of audio in "));
	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		unsigned long long blocks;
		double total, share;
		char filter[256];

		stage_row(r.err, stages[i], &total, &share, &blocks);
		/* 132,300 frames in 4096-frame blocks: 33 reads at least;
		 * one pass to open, one job to close. */
		if (i == 0 || i == 7)
			ck_assert_msg(blocks == 1, "%s: %llu blocks", stages[i], blocks);
		else
			ck_assert_msg(blocks >= 33, "%s: %llu blocks", stages[i], blocks);
		snprintf(filter, sizeof(filter),
			 ".files[0].stages.%s | .blocks == %llu and "
			 "(.seconds - %.3f | fabs) <= 0.0005001 and "
			 "(.share * 100 - %.1f | fabs) <= 0.05001",
			 stages[i], blocks, total, share);
		ck_assert_msg(ra_test_jq(json, filter), "%s row disagrees with the JSON",
			      stages[i]);
	}
	ck_assert_ptr_nonnull(strstr(r.err, "\n  pool: "));
	ck_assert_ptr_nonnull(strstr(r.err, "\n  workers: "));
	ck_assert_ptr_nonnull(strstr(r.err, " allocations saved\n"));
	/* Too short for the probe: the sink stage never left the caller. */
	ck_assert_ptr_nonnull(strstr(r.err, "\n  output thread: 0 blocks, busy 0.0% of wall\n"));
	ck_assert_ptr_nonnull(strstr(r.err, "\n  caller: "));
	ck_assert_ptr_nonnull(strstr(r.err, " waiting for the workers), "));
	/* One file: no batch total. */
	ck_assert_ptr_null(strstr(r.err, "all 1 files"));
	ra_run_release(&r);
	free(in);
	free(out);
	free(csv);
	free(json);
}
END_TEST

/* Without the options nothing is said. */
START_TEST(test_off_by_default)
{
	char *in = make_input("in.wav", "1"), *out = ra_test_scratch("out.wav");
	const char *argv[] = { "--eq", "peak:1k:3:1", in, "-o", out, NULL };
	ra_run r = ra_test_run(argv, NULL);

	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_null(strstr(r.err, "stats"));
	ra_run_release(&r);
	free(in);
	free(out);
}
END_TEST

/* --normalize measures, then writes: two passes to open, the level stage
 * on every block of the first, one close, and the time between the two
 * files of the batch is its own. */
START_TEST(test_level_and_passes)
{
	char *a = make_input("a.wav", "1"), *b = make_input("b.wav", "1");
	char *outdir = ra_test_scratch("out"), *json = ra_test_scratch("stats.json");
	const char *argv[] = {
		"-q", "--stats-json", json, "--normalize", a, b, "-o", outdir, NULL
	};
	ra_run r;

	ck_assert_int_eq(mkdir(outdir, 0755), 0);
	r = ra_test_run(argv, NULL);
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	ck_assert(valid(json));
	ck_assert(ra_test_jq(json, "all(.files[].stages; .open.blocks == 2 and .close.blocks == 1 "
				   "and .level.blocks == .write.blocks and .level.blocks > 10 "
				   "and .read.blocks == 2 * (.write.blocks + 1))"));
	/* 44100 frames a file: 11 blocks of 4096. */
	ck_assert(ra_test_jq(json, ".batch | .stages.level.blocks == 2 * 11 and "
				   ".caller.between_files_seconds >= 0 and "
				   ".wall_seconds >= .caller.between_files_seconds"));
	ra_run_release(&r);
	free(a);
	free(b);
	free(outdir);
	free(json);
}
END_TEST

START_TEST(test_json_follows_the_schema)
{
	char *in = make_input("in.wav", "3"), *out = ra_test_scratch("out.wav");
	char *json = ra_test_scratch("stats.json");
	const char *argv[] = {
		"-q",	"--stats-json",	   json,	"--rate", "48000", "--eq", "peak:1k:3:1",
		"--eq", "lowshelf:100:-2", "--threads", "2",	  in,	   "-o",   out,
		NULL
	};
	ra_run r = ra_test_run(argv, NULL);

	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	/* The JSON alone prints no table. */
	ck_assert_ptr_null(strstr(r.err, "stats:"));
	ck_assert(valid(json));
	ck_assert(ra_test_jq(json, ".files | length == 1"));
	ck_assert(ra_test_jq(json, ".files[0] | .status == \"ok\" and .channels == 2 and "
				   ".sample_rate == 44100 and .output_sample_rate == 48000 and "
				   ".frames_read == 132300 and .frames_written == 144000 and "
				   ".audio_seconds == 3 and .analysis == null"));
	/* Reads: one a block (132300 frames, 33 blocks of 4096), plus the
	 * one that finds the end. */
	ck_assert(ra_test_jq(json, ".files[0].stages.read.blocks == 34"));
	ck_assert(ra_test_jq(json, ".files[0].stages | .eq.blocks > 0 and "
				   ".resample.blocks > 0 and .convert.blocks == .write.blocks and "
				   ".spectrum.blocks == 0"));
	ck_assert(ra_test_jq(json, ".files[0].stages[] | .block_us.p50 <= .block_us.max and "
				   ".block_us.p99 <= .block_us.max and .share >= 0"));
	ck_assert(ra_test_jq(json, ".files[0] | .peak_rss_bytes > 1000000 and "
				   ".pool.acquires > 0 and "
				   ".pool.hits + .pool.misses == .pool.acquires"));
	/* The rates and shares follow from the times, whatever they are. */
	ck_assert(ra_test_jq(json, ".files[0] | .wall_seconds as $w | $w >= 0 and "
				   "if $w > 0 then "
				   "(.realtime_factor / (3 / $w) - 1 | fabs) < 1e-9 and "
				   "(.msamples_per_second / (132300 * 2 / $w / 1e6) - 1 | fabs) "
				   "< 1e-9 and all(.stages[]; (.share * $w - .seconds | fabs) "
				   "<= 1e-9 * $w) "
				   "else .realtime_factor == 0 and .msamples_per_second == 0 end"));
	ck_assert(ra_test_jq(json, ".files[0].stages[] | select(.blocks > 0) | "
				   "(.block_us.mean * .blocks / 1e6 - .seconds | fabs) "
				   "<= 1e-6 * .seconds + 1e-12"));
	ck_assert(ra_test_jq(json, ".settings | .threads == 2 and .eq_bands == 2 and "
				   ".output_rate == 48000 and .spectrum == null and "
				   ".pipeline == \"optimized\" and .analyze == false"));
	/* Two workers: 3 s of stereo is too short to wake them for the EQ,
	 * which runs inline, but the resampler's channels run there, a task
	 * each for its one chunk of input (240,640 frames at most) and the
	 * flush. */
	ck_assert(ra_test_jq(json, ".files[0].workers | .threads == 2 and .tasks == 4"));
	/* The caller's accounts, and their share of the wall time. */
	ck_assert(ra_test_jq(json, ".files[0] | .wall_seconds as $w | .caller | "
				   "(.stage_seconds + .processor_seconds + .output_thread_seconds "
				   "+ .between_files_seconds) as $c | .between_files_seconds == 0 "
				   "and if $w > 0 then (.accounted_share * $w - $c | fabs) <= 1e-9 "
				   "else .accounted_share == 0 end"));
	ck_assert(
		ra_test_jq(json, ".files[0].output_thread | .blocks == 0 and .busy_seconds == 0"));
	ra_run_release(&r);
	free(in);
	free(out);
	free(json);
}
END_TEST

/* Two files and a missing one: a table for each file that was read (none
 * of zeros for the missing one), one for the batch, and the JSON lists all
 * three. */
START_TEST(test_batch)
{
	char *a = make_input("a.wav", "1"), *b = make_input("b.wav", "2");
	char *missing = ra_test_scratch("missing.wav"), *outdir = ra_test_scratch("out");
	char *json = ra_test_scratch("stats.json");
	const char *argv[] = { "--enable-performance-stats",
			       "--stats-json",
			       json,
			       "--gain",
			       "-1",
			       a,
			       missing,
			       b,
			       "-o",
			       outdir,
			       NULL };
	char title[1024];
	ra_run r;

	ck_assert_int_eq(mkdir(outdir, 0755), 0);
	r = ra_test_run(argv, NULL);
	ck_assert_msg(r.status == 1, "exit %d: %s", r.status, r.err);
	ck_assert_int_eq(ra_test_count(r.err, "rusty-audio: stats: "), 3);
	snprintf(title, sizeof(title), "rusty-audio: stats: %s\n", missing);
	ck_assert_ptr_null(strstr(r.err, title));
	ck_assert_ptr_nonnull(strstr(r.err, "rusty-audio: stats: all 3 files\n  3.000 s of audio"));
	ck_assert(valid(json));
	ck_assert(ra_test_jq(json, "[.files[].status] == [\"ok\", \"failed\", \"ok\"]"));
	ck_assert(ra_test_jq(json, ".files[1].error | test(\"cannot open\")"));
	ck_assert(ra_test_jq(json, ".batch | .files == 3 and .failed == 1 and "
				   ".audio_seconds == 3"));
	ck_assert(ra_test_jq(json, ".settings.eq_bands == 0 and .files[0].workers.tasks == 0"));
	ra_run_release(&r);
	free(a);
	free(b);
	free(missing);
	free(outdir);
	free(json);
}
END_TEST

/* --analyze: the JSON carries the printed summary's numbers. */
START_TEST(test_analyze)
{
	char *json = ra_test_scratch("stats.json");
	const char *argv[] = { "--analyze", "--stats-json", json, "--generate",
			       "sine:1000", "--level",	    "-6", "--duration",
			       "2",	    "--channels",   "2",  NULL };
	ra_run r = ra_test_run(argv, NULL);
	double peak, rms, dc, crest, peak_hz;
	const char *row;

	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	ck_assert(valid(json));
	ck_assert(ra_test_jq(json, ".files[0] | .input == null and .output == null and "
				   "(.analysis | length) == 2"));
	row = strstr(r.out, "\n    1 ");
	ck_assert_ptr_nonnull(row);
	ck_assert_int_eq(
		sscanf(row, "%*d %lf %lf %lf %lf %*u %lf", &peak, &rms, &dc, &crest, &peak_hz), 5);
	ck_assert_double_eq_tol(peak, -6.0, 0.01);
	{
		char filter[256];

		snprintf(filter, sizeof(filter),
			 ".files[0].analysis[0] | (.peak_dbfs - %.2f | fabs) <= 0.005 and "
			 "(.rms_dbfs - %.2f | fabs) <= 0.005 and (.peak_hz - %.1f | fabs) <= 0.05 "
			 "and .clipped == 0 and .channel == 1",
			 peak, rms, peak_hz);
		ck_assert(ra_test_jq(json, filter));
	}
	ck_assert(ra_test_jq(json, ".settings.analyze == true and .settings.spectrum.fft_size == "
				   "2048"));
	ra_run_release(&r);

	/* Silence has no level and no strongest frequency: null, not a bin. */
	r = ra_test_run((const char *const[]){ "--analyze", "-f", "--stats-json", json,
					       "--generate", "silence", NULL },
			NULL);
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	ck_assert(valid(json));
	ck_assert(ra_test_jq(json, ".files[0].analysis[0] | .peak_dbfs == null and "
				   ".peak_hz == null and .centroid_hz == null and .clipped == 0"));
	ra_run_release(&r);
	free(json);
}
END_TEST

START_TEST(test_errors)
{
	char *in = make_input("in.wav", "1"), *out = ra_test_scratch("out.wav");
	char *json = ra_test_scratch("stats.json");
	char *nowhere = ra_test_scratch("no/such/folder/stats.json");
	char *other = ra_test_scratch("other.wav");
	const char *argv[] = { "--stats-json", json, in, "-o", out, NULL };
	const char *forced[] = { "-f", "--stats-json", json, in, "-o", out, NULL };
	const char *dry[] = { "--dry-run", "--stats-json", json, "--eq", "peak:1k:1", in, NULL };
	const char *bad_dir[] = { "--stats-json", nowhere, in, "-o", out, NULL };
	FILE *f = fopen(json, "w");
	ra_run r;

	/* An existing document is not replaced without --force, and nothing
	 * is processed. */
	ck_assert_ptr_nonnull(f);
	fputs("old\n", f);
	fclose(f);
	r = ra_test_run(argv, NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_int_eq(ra_test_count(r.err, "\n"), 1);
	ck_assert_ptr_nonnull(strstr(r.err, json));
	ck_assert_int_ne(access(out, F_OK), 0);
	ra_run_release(&r);
	ra_test_run_ok(forced);
	ck_assert(valid(json));

	r = ra_test_run(dry, NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_int_eq(ra_test_count(r.err, "\n"), 1);
	ra_run_release(&r);

	/* Never over an input, even with --force; nothing is written. */
	r = ra_test_run((const char *const[]){ "-f", "--stats-json", in, in, "-o", other, NULL },
			NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_int_eq(ra_test_count(r.err, "\n"), 1);
	ck_assert_int_ne(access(other, F_OK), 0);
	ra_run_release(&r);

	/* Named like this run's audio output: refused before anything is
	 * written, the file there is kept. */
	r = ra_test_run((const char *const[]){ "-f", "--gain", "-1", "--stats-json", out, in, "-o",
					       out, NULL },
			NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "written by both -o and --stats-json"));
	{
		SF_INFO info;
		double *audio = ra_test_read_double(out, &info);

		ck_assert_ptr_nonnull(audio);
		ck_assert_int_eq(info.frames, 44100);
		free(audio);
	}
	ra_run_release(&r);

	/* A usage error found after the start publishes no document. */
	r = ra_test_run((const char *const[]){ "--stats-json", other, in, in, "-o", nowhere, NULL },
			NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_int_ne(access(other, F_OK), 0);
	ra_run_release(&r);

	r = ra_test_run(bad_dir, NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_int_eq(ra_test_count(r.err, "\n"), 1);
	ra_run_release(&r);
	/* No temporary file is left beside the document. */
	ck_assert_int_eq(ra_test_dir_entries(ra_test_scratch_dir()), 3);
	free(in);
	free(out);
	free(json);
	free(nowhere);
	free(other);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cli_stats");
	TCase *tc = ra_test_tcase(s, "stats", 120);

	tcase_add_test(tc, test_table_shows_every_stage);
	tcase_add_test(tc, test_off_by_default);
	tcase_add_test(tc, test_level_and_passes);
	tcase_add_test(tc, test_json_follows_the_schema);
	tcase_add_test(tc, test_batch);
	tcase_add_test(tc, test_analyze);
	tcase_add_test(tc, test_errors);
	return ra_test_main(s);
}
