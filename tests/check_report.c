/* Unit tests for the spectrum reports: the CSV's header and columns for one
 * side and for both (delta, target, error), the SVG's lines, the wide and
 * long spectrograms, holding a report back until published, and refusals
 * (a report with no side, an existing file). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rustyaudio/report.h"
#include "testutil.h"

#define BINS 5
#define FFT 8
#define RATE 800.0 /* 100 Hz a bin */

/* Two channels of BINS values each, side S (0 input, 1 output): distinct
 * so that a column in the wrong place shows. */
static double level(int side, int c, size_t k)
{
	return -10.0 * (double)(side + 1) - (double)c - 0.5 * (double)k;
}

typedef struct fixture {
	char *dir;
	double db[2][2 * BINS];
	double target[BINS];
	ra_report_side side[2];
	ra_report rep;
} fixture;

static void fixture_init(fixture *fx, int with_in, int with_out)
{
	fx->dir = ra_test_mkdtemp();
	for (int s = 0; s < 2; s++) {
		for (int c = 0; c < 2; c++)
			for (size_t k = 0; k < BINS; k++)
				fx->db[s][(size_t)c * BINS + k] = level(s, c, k);
		fx->side[s] = (ra_report_side){ fx->db[s], 2, 3 + (unsigned long long)s };
	}
	for (size_t k = 0; k < BINS; k++)
		fx->target[k] = 0.25 * (double)k;
	memset(&fx->rep, 0, sizeof(fx->rep));
	fx->rep.input_path = "/some/dir/a&b.wav";
	fx->rep.sample_rate = RATE;
	fx->rep.fft_size = FFT;
	fx->rep.bins = BINS;
	fx->rep.window = RA_WINDOW_HANN;
	fx->rep.overlap = 0.5;
	fx->rep.scale = RA_SCALE_DBFS;
	fx->rep.enbw_hz = 150.0;
	fx->rep.in = with_in ? &fx->side[0] : NULL;
	fx->rep.out = with_out ? &fx->side[1] : NULL;
}

static void fixture_release(fixture *fx)
{
	ra_test_rmtree(fx->dir);
}

/* Line N (from 0) of TEXT that does not start with '#', or NULL. */
static char *data_line(char *text, int n)
{
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		if (line[0] != '#' && n-- == 0)
			return line;
	return NULL;
}

/* The comma-separated numbers of LINE (up to its end) into V (up to MAX); how many. */
static int parse_row(const char *line, double *v, int max)
{
	int n = 0;
	char *end;

	for (const char *p = line; n < max; p = end + 1) {
		v[n++] = strtod(p, &end);
		if (end == p || *end != ',')
			break;
	}
	return n;
}

START_TEST(test_csv_one_side)
{
	fixture fx;
	char *path, *text;
	double v[8];

	fixture_init(&fx, 0, 1);
	path = ra_test_path(fx.dir, "out.csv");
	ck_assert_int_eq(ra_report_write_csv(&fx.rep, path, 0, NULL, NULL), RA_OK);
	text = ra_test_slurp(path, NULL);
	ck_assert_ptr_nonnull(strstr(text, "# input: /some/dir/a&b.wav\n"));
	ck_assert_ptr_nonnull(strstr(text, "# channels: 2\n"));
	ck_assert_ptr_nonnull(strstr(text, "# segments: 4\n# spectrum_of: output\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nfrequency_hz,ch1_db,ch2_db\n"));
	ck_assert_int_eq(ra_test_count(text, "\n"), 11 + 1 + BINS); /* # lines, header, bins */
	/* header, then bin 3 */
	ck_assert_int_eq(parse_row(data_line(text, 4), v, 8), 3);
	ck_assert_double_eq(v[0], 3 * RATE / FFT);
	ck_assert_double_eq(v[1], level(1, 0, 3));
	ck_assert_double_eq(v[2], level(1, 1, 3));
	free(text);
	free(path);
	fixture_release(&fx);
}
END_TEST

START_TEST(test_csv_input_side_and_infinity)
{
	fixture fx;
	char *path, *text;

	fixture_init(&fx, 1, 0);
	fx.db[0][0] = -INFINITY;
	path = ra_test_path(fx.dir, "in.csv");
	ck_assert_int_eq(ra_report_write_csv(&fx.rep, path, 0, NULL, NULL), RA_OK);
	text = ra_test_slurp(path, NULL);
	ck_assert_ptr_nonnull(strstr(text, "# segments: 3\n# spectrum_of: input\n"));
	ck_assert_ptr_nonnull(strstr(text, "\n0,-inf,-11\n"));
	free(text);
	free(path);
	fixture_release(&fx);
}
END_TEST

START_TEST(test_csv_both_sides)
{
	fixture fx;
	char *path, *text;
	double v[16];

	fixture_init(&fx, 1, 1);
	fx.rep.target_db = fx.target;
	path = ra_test_path(fx.dir, "both.csv");
	ck_assert_int_eq(ra_report_write_csv(&fx.rep, path, 0, NULL, NULL), RA_OK);
	text = ra_test_slurp(path, NULL);
	ck_assert_ptr_nonnull(strstr(text, "# segments: 3 in, 4 out\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nfrequency_hz,in_ch1_db,in_ch2_db,out_ch1_db,"
					   "out_ch2_db,delta_ch1_db,delta_ch2_db,target_db,"
					   "error_ch1_db,error_ch2_db\n"));
	ck_assert_int_eq(parse_row(data_line(text, 3), v, 16), 10);
	ck_assert_double_eq(v[0], 2 * RATE / FFT);
	for (int c = 0; c < 2; c++) {
		double delta = level(1, c, 2) - level(0, c, 2);

		ck_assert_double_eq(v[1 + c], level(0, c, 2));
		ck_assert_double_eq(v[3 + c], level(1, c, 2));
		ck_assert_double_eq_tol(v[5 + c], delta, 1e-5);
		ck_assert_double_eq_tol(v[8 + c], delta - fx.target[2], 1e-5);
	}
	ck_assert_double_eq(v[7], fx.target[2]);
	free(text);
	free(path);
	fixture_release(&fx);
}
END_TEST

START_TEST(test_csv_both_sides_without_target)
{
	fixture fx;
	char *path, *text;
	double v[16];

	fixture_init(&fx, 1, 1);
	path = ra_test_path(fx.dir, "flat.csv");
	ck_assert_int_eq(ra_report_write_csv(&fx.rep, path, 0, NULL, NULL), RA_OK);
	text = ra_test_slurp(path, NULL);
	ck_assert_int_eq(parse_row(data_line(text, 1), v, 16), 10);
	ck_assert_double_eq(v[7], 0.0);
	ck_assert_double_eq_tol(v[8], v[5], 1e-9);
	free(text);
	free(path);
	fixture_release(&fx);
}
END_TEST

/* Neither side: there is nothing to tabulate; refused, nothing written. */
START_TEST(test_csv_without_sides_is_invalid)
{
	fixture fx;
	ra_diag diag = { { 0 } };
	char *path;

	fixture_init(&fx, 0, 0);
	path = ra_test_path(fx.dir, "none.csv");
	ck_assert_int_eq(ra_report_write_csv(&fx.rep, path, 0, NULL, &diag), RA_ERR_INVALID);
	ck_assert_str_ne(diag.text, "");
	ck_assert_int_eq(ra_test_dir_entries(fx.dir), 0);
	free(path);
	fixture_release(&fx);
}
END_TEST

START_TEST(test_existing_report_refused_unless_forced)
{
	fixture fx;
	ra_diag diag = { { 0 } };
	char *path, *text;
	FILE *f;

	fixture_init(&fx, 0, 1);
	path = ra_test_path(fx.dir, "taken.csv");
	f = fopen(path, "w");
	fputs("mine\n", f);
	fclose(f);
	ck_assert_int_ne(ra_report_write_csv(&fx.rep, path, 0, NULL, &diag), RA_OK);
	text = ra_test_slurp(path, NULL);
	ck_assert_str_eq(text, "mine\n");
	free(text);
	ck_assert_int_eq(ra_report_write_svg(&fx.rep, path, 1, NULL, NULL), RA_OK);
	text = ra_test_slurp(path, NULL);
	ck_assert_ptr_nonnull(strstr(text, "<svg"));
	free(text);
	ck_assert_int_eq(ra_test_dir_entries(fx.dir), 1);
	free(path);
	fixture_release(&fx);
}
END_TEST

/* HELD: finished beside the target, in place only when published. */
START_TEST(test_held_until_published)
{
	fixture fx;
	ra_atomic_file held[2];
	char *kept, *dropped;

	fixture_init(&fx, 1, 1);
	kept = ra_test_path(fx.dir, "kept.csv");
	dropped = ra_test_path(fx.dir, "dropped.svg");
	ck_assert_int_eq(ra_report_write_csv(&fx.rep, kept, 0, &held[0], NULL), RA_OK);
	ck_assert_int_eq(ra_report_write_svg(&fx.rep, dropped, 0, &held[1], NULL), RA_OK);
	ck_assert_int_ne(access(kept, F_OK), 0);
	ck_assert_int_ne(access(dropped, F_OK), 0);
	ck_assert_int_eq(ra_atomic_publish(&held[0], NULL), RA_OK);
	ra_atomic_abort(&held[1]);
	ck_assert_int_eq(access(kept, F_OK), 0);
	ck_assert_int_eq(ra_test_dir_entries(fx.dir), 1);
	free(kept);
	free(dropped);
	fixture_release(&fx);
}
END_TEST

START_TEST(test_svg_lines)
{
	fixture fx;
	char *path, *text;

	fixture_init(&fx, 1, 1);
	path = ra_test_path(fx.dir, "plot.svg");
	ck_assert_int_eq(ra_report_write_svg(&fx.rep, path, 0, NULL, NULL), RA_OK);
	text = ra_test_slurp(path, NULL);
	ck_assert_ptr_nonnull(strstr(text, "a&amp;b.wav: dbfs, fft 8, hann, overlap 0.5, 800 Hz"));
	ck_assert_int_eq(ra_test_count(text, "<polyline"), 4);
	ck_assert_int_eq(ra_test_count(text, "stroke-dasharray"), 2); /* the input's */
	ck_assert_int_eq(ra_test_count(text, ">input ch"), 2);
	ck_assert_int_eq(ra_test_count(text, ">output ch"), 2);
	ck_assert_ptr_nonnull(strstr(text, "</svg>\n"));
	free(text);
	fx.rep.in = NULL;
	ck_assert_int_eq(ra_report_write_svg(&fx.rep, path, 1, NULL, NULL), RA_OK);
	text = ra_test_slurp(path, NULL);
	ck_assert_int_eq(ra_test_count(text, "<polyline"), 2);
	ck_assert_int_eq(ra_test_count(text, "stroke-dasharray"), 0);
	free(text);
	free(path);
	fixture_release(&fx);
}
END_TEST

/* A name with a newline and a byte that is not UTF-8: the CSV's header
 * stays one line, the SVG's title valid UTF-8 with the name quoted. */
START_TEST(test_odd_names)
{
	fixture fx;
	char *csv, *svg, *text;

	fixture_init(&fx, 0, 1);
	fx.rep.input_path = "/d/a\nb\xe9<\xef\xbf\xbf.wav";
	csv = ra_test_path(fx.dir, "s.csv");
	svg = ra_test_path(fx.dir, "p.svg");
	ck_assert_int_eq(ra_report_write_csv(&fx.rep, csv, 0, NULL, NULL), RA_OK);
	ck_assert_int_eq(ra_report_write_svg(&fx.rep, svg, 0, NULL, NULL), RA_OK);
	text = ra_test_slurp(csv, NULL);
	ck_assert_ptr_nonnull(
		strstr(text, "# input: \"/d/a\\nb\xe9<\xef\xbf\xbf.wav\"\n# sample_rate_hz"));
	free(text);
	text = ra_test_slurp(svg, NULL);
	ck_assert_ptr_nonnull(strstr(
		text,
		">&quot;a\\nb\xef\xbf\xbd&lt;\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd.wav&quot;: dbfs"));
	ck_assert_ptr_null(strstr(text, "\xe9<"));
	free(text);
	free(csv);
	free(svg);
	fixture_release(&fx);
}
END_TEST

/* Neither side: an empty plot, still a whole document. */
START_TEST(test_svg_without_sides)
{
	fixture fx;
	char *path, *text;

	fixture_init(&fx, 0, 0);
	path = ra_test_path(fx.dir, "empty.svg");
	ck_assert_int_eq(ra_report_write_svg(&fx.rep, path, 0, NULL, NULL), RA_OK);
	text = ra_test_slurp(path, NULL);
	ck_assert_int_eq(ra_test_count(text, "<polyline"), 0);
	ck_assert_ptr_nonnull(strstr(text, ">-100</text>"));
	ck_assert_ptr_nonnull(strstr(text, "</svg>\n"));
	free(text);
	free(path);
	fixture_release(&fx);
}
END_TEST

static ra_spectrogram *open_sgram(const char *path, int long_format, size_t columns)
{
	ra_spectrogram_layout l = { .sample_rate = RATE,
				    .fft_size = FFT,
				    .bins = BINS,
				    .channels = 2,
				    .long_format = long_format,
				    .columns = columns };
	ra_status st;
	ra_spectrogram *sg = ra_spectrogram_open(path, 0, &l, &st, NULL);

	ck_assert_int_eq(st, RA_OK);
	ck_assert_ptr_nonnull(sg);
	return sg;
}

/* Wide, in 2 bands a channel: bins {0,1} and {2,3,4}, power averaged. */
START_TEST(test_spectrogram_wide_bands)
{
	fixture fx;
	double db[2 * BINS] = { -10, -10, -20, -20, -20, 0, -3.0103, 0, 0, 0 };
	double v[8];
	char *path, *text;
	ra_spectrogram *sg;

	fixture_init(&fx, 0, 0);
	path = ra_test_path(fx.dir, "sgram.csv");
	sg = open_sgram(path, 0, 2);
	ra_spectrogram_row(sg, 0.005, db);
	ra_spectrogram_row(sg, 0.01, db);
	ck_assert_int_ne(access(path, F_OK), 0);
	ck_assert_int_eq(ra_spectrogram_commit(sg, NULL, NULL), RA_OK);
	text = ra_test_slurp(path, NULL);
	ck_assert_ptr_nonnull(strstr(text, "time_s,ch1_50,ch1_300,ch2_50,ch2_300\n"));
	ck_assert_int_eq(ra_test_count(text, "\n"), 3);
	ck_assert_int_eq(parse_row(strchr(text, '\n') + 1, v, 8), 5);
	ck_assert_double_eq(v[0], 0.005);
	ck_assert_double_eq_tol(v[1], -10.0, 1e-5);
	ck_assert_double_eq_tol(v[2], -20.0, 1e-5);
	ck_assert_double_eq_tol(v[3], 10.0 * log10(0.75), 1e-4);
	ck_assert_double_eq_tol(v[4], 0.0, 1e-9);
	free(text);
	free(path);
	fixture_release(&fx);
}
END_TEST

START_TEST(test_spectrogram_long_and_abort)
{
	fixture fx;
	char *path, *other, *text;
	ra_spectrogram *sg;

	fixture_init(&fx, 0, 0);
	path = ra_test_path(fx.dir, "long.csv");
	other = ra_test_path(fx.dir, "aborted.csv");
	sg = open_sgram(path, 1, 0);
	ra_spectrogram_row(sg, 0.25, fx.db[1]);
	ck_assert_int_eq(ra_spectrogram_commit(sg, NULL, NULL), RA_OK);
	text = ra_test_slurp(path, NULL);
	ck_assert_ptr_nonnull(strstr(text, "time_s,frequency_hz,ch,db\n"));
	ck_assert_int_eq(ra_test_count(text, "\n"), 1 + 2 * BINS);
	ck_assert_ptr_nonnull(strstr(text, "\n0.25,300,2,-22.5\n"));
	free(text);
	sg = open_sgram(other, 1, 0);
	ra_spectrogram_row(sg, 0.25, fx.db[1]);
	ra_spectrogram_abort(sg);
	ra_spectrogram_abort(NULL);
	ck_assert_int_eq(ra_spectrogram_commit(NULL, NULL, NULL), RA_ERR_INVALID);
	ck_assert_int_eq(ra_test_dir_entries(fx.dir), 1);
	free(path);
	free(other);
	fixture_release(&fx);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("csv");

	tcase_add_test(tc, test_csv_one_side);
	tcase_add_test(tc, test_csv_input_side_and_infinity);
	tcase_add_test(tc, test_csv_both_sides);
	tcase_add_test(tc, test_csv_both_sides_without_target);
	tcase_add_test(tc, test_held_until_published);
	suite_add_tcase(s, tc);
	tc = tcase_create("svg");
	tcase_add_test(tc, test_odd_names);
	tcase_add_test(tc, test_svg_lines);
	tcase_add_test(tc, test_svg_without_sides);
	suite_add_tcase(s, tc);
	tc = tcase_create("spectrogram");
	tcase_add_test(tc, test_spectrogram_wide_bands);
	tcase_add_test(tc, test_spectrogram_long_and_abort);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_test(tc, test_csv_without_sides_is_invalid);
	tcase_add_test(tc, test_existing_report_refused_unless_forced);
	suite_add_tcase(s, tc);
	return ra_test_main(s);
}
