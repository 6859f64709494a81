/* End-to-end tests of loudness: --loudness's outputs measured again here,
 * independently, with libebur128 itself (within 0.1 LU of the target) and
 * libsamplerate (the true peak within 0.1 dB of its ceiling), --loudness-mode album, --dry-run
 * with --loudness, --report-csv, the channel layout of a WAVE_FORMAT_
 * EXTENSIBLE file, the figures the same for any --threads and
 * --block-size, and the usage errors. */
#include <ebur128.h>
#include <math.h>
#include <samplerate.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "testutil.h"

/* A file's integrated loudness, measured by libebur128 with its default
 * channel weights, and its true peak (the channels' highest, dBTP), the
 * peak of the file oversampled 4 times by libsamplerate's best sinc (a
 * converter of its own, not the libsoxr rusty-audio uses; libebur128's
 * 49-tap interpolator reads full-band noise about 0.1 dB low). */
static void measure(const char *path, double *lufs, double *dbtp)
{
	SF_INFO info = { 0 };
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	ebur128_state *st;
	float *in, *over;
	SRC_DATA src = { 0 };
	double top = 0.0;

	ck_assert_ptr_nonnull(sf);
	in = malloc((size_t)info.frames * (size_t)info.channels * sizeof(*in));
	over = malloc((size_t)info.frames * 4 * (size_t)info.channels * sizeof(*over));
	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(over);
	ck_assert_int_eq(sf_readf_float(sf, in, info.frames), info.frames);
	sf_close(sf);
	st = ebur128_init((unsigned)info.channels, (unsigned long)info.samplerate, EBUR128_MODE_I);
	ck_assert_ptr_nonnull(st);
	ebur128_add_frames_float(st, in, (size_t)info.frames);
	ebur128_loudness_global(st, lufs);
	ebur128_destroy(&st);
	src = (SRC_DATA){ .data_in = in,
			  .data_out = over,
			  .input_frames = (long)info.frames,
			  .output_frames = (long)info.frames * 4,
			  .src_ratio = 4.0,
			  .end_of_input = 1 };
	ck_assert_int_eq(src_simple(&src, SRC_SINC_BEST_QUALITY, info.channels), 0);
	for (long i = 0; i < src.output_frames_gen * info.channels; i++)
		top = fmax(top, fabs(over[i]));
	*dbtp = top > 0.0 ? 20.0 * log10(top) : -HUGE_VAL;
	free(in);
	free(over);
}

/* NAME in the scratch folder: SECONDS of stereo SIGNAL at LEVEL dBFS. */
static char *make_input(const char *name, const char *signal, const char *seconds,
			const char *level)
{
	char *path = ra_test_scratch(name);

	ra_test_run_ok((const char *const[]){ "--generate", signal, "--duration", seconds,
					      "--channels", "2", "--level", level, "-o", path, "-f",
					      NULL });
	return path;
}

/* A run that fails with STATUS and one line holding NEEDLE. */
static void refused(const char *const *argv, int status, const char *needle)
{
	ra_run r = ra_test_run(argv, NULL);

	ck_assert_msg(r.status == status, "exit %d: %s", r.status, r.err);
	ck_assert_int_eq(ra_test_count(r.err, "\n"), 1);
	ck_assert_msg(strstr(r.err, needle), "no '%s' in %s", needle, r.err);
	ra_run_release(&r);
}

/* To -16 LUFS: the output measures -16 within 0.1 LU with a true peak at
 * or under -1 dBTP. Louder than the ceiling allows (-5 LUFS from pink
 * noise with a high crest): the gain stops at the ceiling, the output's
 * true peak within 0.1 dB of -1 dBTP, and a warning says how far short,
 * its level within 0.1 LU of what the output measures. */
START_TEST(test_track)
{
	char *in = make_input("pink.wav", "pink", "12", "-20"), *out = ra_test_scratch("out.wav");
	double lufs, dbtp, capped, short_lu;
	const char *held;
	ra_run r;

	ra_test_run_ok((const char *const[]){ in, "--loudness", "-16", "--subtype", "float", "-o",
					      out, "-f", NULL });
	measure(out, &lufs, &dbtp);
	ck_assert_double_eq_tol(lufs, -16.0, 0.1);
	ck_assert_double_le(dbtp, -1.0 + 0.1);
	r = ra_test_run((const char *const[]){ in, "--loudness", "-5", "--subtype", "float", "-o",
					       out, "-f", NULL },
			NULL);
	ck_assert_int_eq(r.status, 0);
	held = strstr(r.err, "dB: ");
	ck_assert_msg(held && strstr(r.err, "LU short of the target") &&
			      sscanf(held, "dB: %lf LUFS, %lf LU short", &capped, &short_lu) == 2,
		      "%s", r.err);
	ra_run_release(&r);
	measure(out, &lufs, &dbtp);
	ck_assert_double_eq_tol(dbtp, -1.0, 0.1);
	ck_assert_double_eq_tol(lufs, capped, 0.1);
	ck_assert_double_eq_tol(capped + short_lu, -5.0, 0.01);
	ra_test_run_ok((const char *const[]){ in, "--loudness", "-5", "--true-peak", "-3",
					      "--subtype", "float", "-o", out, "-f", NULL });
	measure(out, &lufs, &dbtp);
	ck_assert_double_eq_tol(dbtp, -3.0, 0.1);
	free(out);
	free(in);
}
END_TEST

/* Two files as one album to -16 LUFS: one gain for both (their levels stay
 * 6 dB apart), and the two outputs measure -16 LUFS as one programme. */
START_TEST(test_album)
{
	char *a = make_input("a.wav", "sine:1000", "20", "-23");
	char *b = make_input("b.wav", "sine:1000", "20", "-29");
	char *dir = ra_test_path(ra_test_scratch_dir(), "album");
	char *oa = ra_test_path(dir, "a.wav"), *ob = ra_test_path(dir, "b.wav");
	double la, lb, tp;
	ra_run r;

	ck_assert_int_eq(mkdir(dir, 0755), 0);
	r = ra_test_run((const char *const[]){ a, b, "--loudness", "-16", "--loudness-mode",
					       "album", "--subtype", "float", "-o", dir, NULL },
			NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.err, "album of 2 files: -25.0"));
	ra_run_release(&r);
	measure(oa, &la, &tp);
	measure(ob, &lb, &tp);
	ck_assert_double_eq_tol(la - lb, 6.0, 0.01);
	/* Equal lengths, both above the relative gate: the mean energy. */
	ck_assert_double_eq_tol(-0.691 + 10.0 * log10((pow(10.0, (la + 0.691) / 10.0) +
						       pow(10.0, (lb + 0.691) / 10.0)) /
						      2.0),
				-16.0, 0.1);
	free(ob);
	free(oa);
	ra_test_rmtree(dir);
	free(b);
	free(a);
}
END_TEST

/* --dry-run --loudness: each file's loudness and gain, the album's, and
 * nothing written. */
START_TEST(test_dry_run)
{
	char *a = make_input("a.wav", "sine:1000", "20", "-23");
	char *b = make_input("b.wav", "sine:1000", "20", "-29");
	int entries = ra_test_dir_entries(ra_test_scratch_dir());
	ra_run r = ra_test_run((const char *const[]){ "--dry-run", a, b, "--loudness", "-16",
						      "--loudness-mode", "album", NULL },
			       NULL);

	ck_assert_msg(r.status == 0, "%s", r.err);
	/* The sines start and stop on a slope: their band-limited outline
	 * overshoots the -23 dBFS crest by 0.007 dB there (libsamplerate,
	 * measure(), reads it too). */
	ck_assert_ptr_nonnull(strstr(r.out, "loudness -22.99 LUFS, true peak -22.99 dBTP: alone "
					    "it would get +6.99 dB"));
	ck_assert_ptr_nonnull(strstr(r.out, "loudness -28.99 LUFS"));
	ck_assert_ptr_nonnull(strstr(r.out, "album of 2 files: -25.03 LUFS, true peak -22.99 "
					    "dBTP: gain +9.03 dB for each"));
	ra_run_release(&r);
	ck_assert_int_eq(ra_test_dir_entries(ra_test_scratch_dir()), entries);
	free(b);
	free(a);
}
END_TEST

/* --analyze --report-csv: a header and a row a file, a failed one with its
 * reason, names quoted as CSV quotes them; the figures those --analyze
 * prints. */
START_TEST(test_report_csv)
{
	char *a = make_input("a, \"b\".wav", "sine:1000", "20", "-23");
	char *csv = ra_test_scratch("report.csv"), *text, *row;
	ra_run r = ra_test_run((const char *const[]){ a, "/nonexistent.wav", "--analyze",
						      "--report-csv", csv, NULL },
			       NULL);
	char want[4096];

	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "integrated -23.0 LUFS"));
	ra_run_release(&r);
	text = ra_test_slurp(csv, NULL);
	ck_assert_int_eq(ra_test_count(text, "\n"), 3);
	ck_assert_ptr_nonnull(strstr(text, "path,duration_s,sample_rate,channels,integrated_lufs,"
					   "range_lu,true_peak_dbtp,sample_peak_dbfs,rms_dbfs,"
					   "clipped,status,error\n"));
	snprintf(want, sizeof(want),
		 "\"%.*s\"\"b\"\".wav\",20.000000,48000,2,-22.99,0.00,-22.99,"
		 "-23.00,-26.01,0,ok,\n",
		 (int)(strstr(a, "\"b\"") - a), a);
	ck_assert_msg(strstr(text, want) != NULL, "no %s in %s", want, text);
	row = strstr(text, "\"/nonexistent.wav\",,,,,,,,,,failed,\"cannot open: ");
	ck_assert_ptr_nonnull(row);
	free(text);
	free(csv);
	free(a);
}
END_TEST

/* 5.1 as WAVE_FORMAT_EXTENSIBLE with its channel mask: the layout weighs
 * the channels (LFE out, the surrounds +1.5 dB), so EBU Tech 3341's case 6
 * with a loud LFE reads -23 LUFS. */
START_TEST(test_layout)
{
	static const int map[6] = { SF_CHANNEL_MAP_LEFT,      SF_CHANNEL_MAP_RIGHT,
				    SF_CHANNEL_MAP_CENTER,    SF_CHANNEL_MAP_LFE,
				    SF_CHANNEL_MAP_REAR_LEFT, SF_CHANNEL_MAP_REAR_RIGHT };
	static const double level[6] = { -28, -28, -24, -10, -30, -30 };
	char *path = ra_test_scratch("five.wav");
	SF_INFO info = { .samplerate = 48000,
			 .channels = 6,
			 .format = SF_FORMAT_WAVEX | SF_FORMAT_FLOAT };
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
	float frame[6];
	ra_run r;

	ck_assert_ptr_nonnull(sf);
	ck_assert_int_eq(sf_command(sf, SFC_SET_CHANNEL_MAP_INFO, (void *)map, sizeof(map)),
			 SF_TRUE);
	for (int i = 0; i < 48000 * 20; i++) {
		for (int c = 0; c < 6; c++)
			frame[c] = (float)(pow(10.0, level[c] / 20.0) *
					   sin(2.0 * M_PI * 1000.0 * i / 48000.0));
		ck_assert_int_eq(sf_writef_float(sf, frame, 1), 1);
	}
	sf_close(sf);
	r = ra_test_run((const char *const[]){ path, "--analyze", NULL }, NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(strstr(r.out, "integrated -23.0 LUFS"), "%s", r.out);
	ra_run_release(&r);
	free(path);
}
END_TEST

/* The loudness object of the stats document at PATH, as text. */
static char *loudness_text(const char *path)
{
	char *doc = ra_test_slurp(path, NULL), *at = strstr(doc, "\"loudness\": {"), *copy;

	ck_assert_ptr_nonnull(at);
	copy = strndup(at, strcspn(at, "}"));
	ck_assert_ptr_nonnull(copy);
	free(doc);
	return copy;
}

/* The same figures, to the last digit JSON keeps, with any --threads and
 * --block-size. */
START_TEST(test_same_any_way)
{
	char *in = make_input("pink.wav", "pink", "7.3", "-20");
	char *json = ra_test_scratch("stats.json"), *ref = NULL, *got;
	static const char *const ways[][2] = { { "1", "1024" }, { "2", "4096" }, { "3", "333" } };

	for (size_t i = 0; i < sizeof(ways) / sizeof(ways[0]); i++) {
		ra_test_run_ok((const char *const[]){ in, "--analyze", "--threads", ways[i][0],
						      "--block-size", ways[i][1], "--stats-json",
						      json, "-f", NULL });
		got = loudness_text(json);
		if (i == 0)
			ref = got;
		ck_assert_str_eq(got, ref);
		ck_assert_ptr_nonnull(strstr(got, "\"integrated_lufs\": -"));
		if (got != ref)
			free(got);
	}
	free(ref);
	free(json);
	free(in);
}
END_TEST

/* --loudness over two files: the same bytes with -j 1 and -j 2 (the files
 * then share the threads) and with --threads 1. */
START_TEST(test_same_bytes_any_jobs)
{
	char *a = make_input("a.wav", "pink", "4", "-20"),
	     *b = make_input("b.wav", "white", "3", "-30");
	static const char *const ways[][4] = { { "-j", "1", "--threads", "2" },
					       { "-j", "2", "--threads", "2" },
					       { "-j", "1", "--threads", "1" } };
	char *dirs[3];

	for (int i = 0; i < 3; i++) {
		char name[16];

		snprintf(name, sizeof(name), "out%d", i);
		dirs[i] = ra_test_path(ra_test_scratch_dir(), name);
		ck_assert_int_eq(mkdir(dirs[i], 0755), 0);
		ra_test_run_ok((const char *const[]){ a, b, "--loudness", "-16", ways[i][0],
						      ways[i][1], ways[i][2], ways[i][3], "-o",
						      dirs[i], NULL });
	}
	for (int i = 1; i < 3; i++)
		for (int f = 0; f < 2; f++) {
			char *x = ra_test_path(dirs[0], f ? "b.wav" : "a.wav");
			char *y = ra_test_path(dirs[i], f ? "b.wav" : "a.wav");

			ck_assert_msg(ra_test_same_bytes(x, y), "%s", y);
			free(x);
			free(y);
		}
	for (int i = 0; i < 3; i++)
		ra_test_rmtree(dirs[i]);
	free(b);
	free(a);
}
END_TEST

/* A rate libebur128 does not take (12 Hz): --analyze prints its levels and
 * says why it has no loudness; --loudness fails that file in one line. */
START_TEST(test_rate_not_measured)
{
	char *in = ra_test_scratch("slow.wav"), *out = ra_test_scratch("slow-out.wav");
	float x[120];
	ra_run r;

	for (int i = 0; i < 120; i++)
		x[i] = (float)(0.5 * sin(i * 0.3));
	ra_test_write_float(in, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 12, 1, x, 120);
	r = ra_test_run((const char *const[]){ in, "--analyze", NULL }, NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out,
				     "no loudness: loudness is measured for 1 to 24 "
				     "channels (BS.1770's 22.2) at 16 to 2822400 Hz, not 1 at "
				     "12 Hz\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "-6.02")); /* the peak, as before */
	ra_run_release(&r);
	refused((const char *const[]){ in, "--loudness", "-16", "-o", out, NULL }, 1,
		"not 1 at 12 Hz");
	/* An album keeps its files' meters: this file has none to keep. */
	refused((const char *const[]){ "--dry-run", in, "--loudness", "-16", "--loudness-mode",
				       "album", NULL },
		1, "not 1 at 12 Hz");
	refused((const char *const[]){ in, "--loudness", "-16", "--loudness-mode", "album", "-o",
				       out, NULL },
		1, "cannot measure it for the album");
	ck_assert_int_eq(access(out, F_OK), -1);
	free(out);
	free(in);
}
END_TEST

/* Line LINE of TEXT (from 0) up to its last field and the blanks before it,
 * in BUF of SIZE. */
static void line_but_last(const char *text, int line, char *buf, size_t size)
{
	const char *end, *last;

	for (int i = 0; i < line && text; i++)
		if ((text = strchr(text, '\n')))
			text++;
	ck_assert_ptr_nonnull(text);
	end = strchr(text, '\n');
	ck_assert_ptr_nonnull(end);
	for (last = end; last > text && last[-1] != ' '; last--)
		;
	while (last > text && last[-1] == ' ')
		last--;
	ck_assert_uint_lt((size_t)(last - text), size);
	memcpy(buf, text, (size_t)(last - text));
	buf[last - text] = '\0';
}

/* --analyze --no-loudness: the same table but for the true peaks (nan),
 * no loudness line, empty loudness fields in the CSV. */
START_TEST(test_no_loudness)
{
	char *in = make_input("a.wav", "pink", "5", "-20"), *csv = ra_test_scratch("r.csv");
	ra_run with = ra_test_run((const char *const[]){ in, "--analyze", NULL }, NULL);
	ra_run without = ra_test_run((const char *const[]){ in, "--analyze", "--no-loudness",
							    "--report-csv", csv, NULL },
				     NULL);
	char a[256], b[256], *text;

	ck_assert_msg(with.status == 0 && without.status == 0, "%s%s", with.err, without.err);
	ck_assert_ptr_nonnull(strstr(with.out, "  integrated "));
	ck_assert_ptr_null(strstr(without.out, "  integrated "));
	ck_assert_ptr_null(strstr(without.out, "  no loudness: "));
	ck_assert_int_eq(ra_test_count(without.out, "\n"), 4);
	ck_assert_int_eq(ra_test_count(without.out, " nan\n"), 2);
	for (int line = 0; line < 4; line++) {
		line_but_last(with.out, line, a, sizeof(a));
		line_but_last(without.out, line, b, sizeof(b));
		ck_assert_str_eq(a, b);
	}
	text = ra_test_slurp(csv, NULL);
	ck_assert_msg(strstr(text, "a.wav\",5.000000,48000,2,,,,-"), "%s", text);
	free(text);
	ra_run_release(&with);
	ra_run_release(&without);
	free(csv);
	free(in);
}
END_TEST

/* --analyze of a file long enough for the pool (40 s of stereo): its
 * spectrum's channels are tasks there; the same table with --threads 1,
 * 2 and 3 and any block size. */
START_TEST(test_analyze_on_the_pool)
{
	static const char *const ways[][2] = { { "1", "1024" }, { "2", "4096" }, { "3", "333" } };
	char *in = make_input("long.wav", "pink", "40", "-20"), *json = ra_test_scratch("s.json");
	char *first = NULL;

	for (size_t i = 0; i < sizeof(ways) / sizeof(ways[0]); i++) {
		ra_run r = ra_test_run((const char *const[]){ in, "--analyze", "--no-loudness",
							      "--threads", ways[i][0],
							      "--block-size", ways[i][1],
							      "--stats-json", json, "-f", NULL },
				       NULL);

		ck_assert_msg(r.status == 0, "%s", r.err);
		ck_assert(ra_test_jq(json, i == 0 ? ".files[0].workers.tasks == 0"
						  : ".files[0].workers.tasks > 0"));
		if (i == 0)
			first = strdup(r.out);
		ck_assert_str_eq(r.out, first);
		ra_run_release(&r);
	}
	free(first);
	free(json);
	free(in);
}
END_TEST

START_TEST(test_usage_errors)
{
	char *in = make_input("a.wav", "sine:1000", "1", "-23");

	refused((const char *const[]){ in, "--true-peak", "-2", "-o", "x.wav", NULL }, 2,
		"--true-peak only applies with --loudness");
	refused((const char *const[]){ in, "--loudness-mode", "album", "-o", "x.wav", NULL }, 2,
		"--loudness-mode only applies with --loudness");
	refused((const char *const[]){ in, "--loudness", "-16", "--normalize", "-o", "x.wav",
				       NULL },
		2, "--normalize and --loudness both set the level");
	refused((const char *const[]){ in, "--loudness", "-16", "--analyze", NULL }, 2,
		"drop --loudness");
	refused((const char *const[]){ in, "--loudness", "-16", "--loudness-mode", "album",
				       "--resume", "m.jsonl", "-o", ".", NULL },
		2, "not with --resume");
	refused((const char *const[]){ in, "--report-csv", "r.csv", "-o", "x.wav", NULL }, 2,
		"--report-csv only applies with --analyze");
	refused((const char *const[]){ in, "--no-loudness", "-o", "x.wav", NULL }, 2,
		"--no-loudness only applies with --analyze");
	refused((const char *const[]){ in, "--loudness", "-80", "-o", "x.wav", NULL }, 2,
		"LUFS from -70 to 0");
	refused((const char *const[]){ in, "--analyze", "--report-csv", "-", NULL }, 2,
		"--report-csv -: standard output has --analyze's tables");
	refused((const char *const[]){ in, "--analyze", "--report-csv", in, NULL }, 2,
		"(use --force to replace it)");
	refused((const char *const[]){ "-", "--loudness", "-16", "-o", "x.wav", NULL }, 2,
		"--loudness reads its input twice");
	refused((const char *const[]){ "-", "--loudness", "-16", "--dry-run", "--spool", NULL }, 2,
		"--dry-run --loudness reads its input twice, and a pipe can be read once: save");
	refused((const char *const[]){ "-", "--loudness", "-16", "--loudness-mode", "album",
				       "--spool", "-o", "x.wav", NULL },
		2, "--loudness-mode album reads its input twice");
	ck_assert_int_eq(access("x.wav", F_OK), -1);
	free(in);
}
END_TEST

static Suite *cli_loudness_suite(void)
{
	Suite *s = suite_create("cli_loudness");
	TCase *tc = ra_test_tcase(s, "loudness", 120);

	tcase_add_test(tc, test_track);
	tcase_add_test(tc, test_album);
	tcase_add_test(tc, test_dry_run);
	tcase_add_test(tc, test_report_csv);
	tcase_add_test(tc, test_no_loudness);
	tcase_add_test(tc, test_analyze_on_the_pool);
	tcase_add_test(tc, test_layout);
	tcase_add_test(tc, test_same_any_way);
	tcase_add_test(tc, test_same_bytes_any_jobs);
	tcase_add_test(tc, test_rate_not_measured);
	tcase_add_test(tc, test_usage_errors);
	return s;
}

int main(void)
{
	return ra_test_main(cli_loudness_suite());
}
