/* Unit tests for EQ chains: band syntax and its refusals, graphic EQs on the
 * ISO centres, band files, presets, design at a rate and the peak search. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rustyaudio/eq.h"
#include "testutil.h"

#define RATE 48000.0

/* Q of a band B octaves wide, from its edges f0 * 2^(+-B/2). */
static double q_of_octaves(double b)
{
	return 1.0 / (pow(2.0, b / 2.0) - pow(2.0, -b / 2.0));
}

static int starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static void add_ok(ra_eq *eq, const char *text)
{
	ra_diag diag = { "" };
	ra_status st = ra_eq_add(eq, text, &diag);

	ck_assert_msg(st == RA_OK, "'%s' refused: %s", text, diag.text);
}

/* TEXT is refused by ra_eq_add with its text in the diag and EQ untouched. */
static void add_bad(ra_eq *eq, const char *text)
{
	ra_eq before;
	ra_diag diag = { "" };
	ra_status st;

	memcpy(&before, eq, sizeof(before));
	st = ra_eq_add(eq, text, &diag);
	ck_assert_msg(st == RA_ERR_INVALID, "'%s' accepted", text);
	ck_assert_msg(strstr(diag.text, text) != NULL, "diag '%s' lacks '%s'", diag.text, text);
	ck_assert_msg(starts_with(diag.text, "bad band '"), "diag '%s'", diag.text);
	ck_assert_msg(!memcmp(&before, eq, sizeof(before)), "'%s' changed the eq", text);
}

static void graphic_bad(const char *text)
{
	ra_eq eq = { .count = 0 };
	ra_diag diag = { "" };

	add_ok(&eq, "peak:1k:3");
	ck_assert_int_eq(ra_eq_add_graphic(&eq, text, &diag), RA_ERR_INVALID);
	ck_assert_msg(strstr(diag.text, text) != NULL, "diag '%s' lacks '%s'", diag.text, text);
	ck_assert_int_eq(eq.count, 1);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

static void design_ok(const ra_eq *eq, double rate, ra_biquad_coeffs *c)
{
	ra_diag diag = { "" };
	ra_status st = ra_eq_design(eq, rate, c, &diag);

	ck_assert_msg(st == RA_OK, "design failed: %s", diag.text);
}

/* The cascade's largest response over a grid far denser than the code's:
 * 0 Hz, Nyquist and 10^6 log-spaced points from 0.01 Hz. */
static double dense_max_db(const ra_biquad_coeffs *c, int count, double rate)
{
	const int n = 1000000;
	double nyq = rate / 2.0, best;
	int i;

	best = fmax(ra_eq_response_db(c, count, 0.0, rate), ra_eq_response_db(c, count, nyq, rate));
	for (i = 0; i < n; i++) {
		double f = 0.01 * pow(nyq / 0.01, (double)i / (n - 1));

		best = fmax(best, ra_eq_response_db(c, count, f, rate));
	}
	return best;
}

/* ---- behaviour ---- */

START_TEST(test_add_parses_fields)
{
	static const struct {
		const char *text;
		ra_biquad_type type;
		double freq, gain;
		ra_biquad_width kind;
		double width;
	} good[] = {
		{ "peak:1k:-3:1.41", RA_BIQUAD_PEAK, 1000, -3, RA_WIDTH_Q, 1.41 },
		{ "lowshelf:80:+4", RA_BIQUAD_LOWSHELF, 80, 4, RA_WIDTH_Q, 0.7071 },
		{ "highpass:30", RA_BIQUAD_HIGHPASS, 30, 0, RA_WIDTH_Q, 0.7071 },
		{ "peak:2.5k:6:bw=1", RA_BIQUAD_PEAK, 2500, 6, RA_WIDTH_OCTAVES, 1 },
		{ "highshelf:8k:-2:s=0.5", RA_BIQUAD_HIGHSHELF, 8000, -2, RA_WIDTH_SLOPE, 0.5 },
		{ "notch:50:0:30", RA_BIQUAD_NOTCH, 50, 0, RA_WIDTH_Q, 30 },
		{ "lowpass:1k:q=0.5", RA_BIQUAD_LOWPASS, 1000, 0, RA_WIDTH_Q, 0.5 },
		{ "allpass:500", RA_BIQUAD_ALLPASS, 500, 0, RA_WIDTH_Q, 0.7071 },
		{ "bandpass:440:0:bw=0.5", RA_BIQUAD_BANDPASS, 440, 0, RA_WIDTH_OCTAVES, 0.5 },
		{ "lowshelf:1K:-1.5e1:s=2", RA_BIQUAD_LOWSHELF, 1000, -15, RA_WIDTH_SLOPE, 2 },
		{ "peak:125.5:2:Q=3", RA_BIQUAD_PEAK, 125.5, 2, RA_WIDTH_Q, 3 },
		/* An empty optional field is one not given. */
		{ "lowpass:3k::0.7", RA_BIQUAD_LOWPASS, 3000, 0, RA_WIDTH_Q, 0.7 },
		{ "peak:1k:3:", RA_BIQUAD_PEAK, 1000, 3, RA_WIDTH_Q, 0.7071 },
		{ "notch:50::q=30", RA_BIQUAD_NOTCH, 50, 0, RA_WIDTH_Q, 30 },
		{ "highpass:80::", RA_BIQUAD_HIGHPASS, 80, 0, RA_WIDTH_Q, 0.7071 },
	};
	const int n = (int)(sizeof(good) / sizeof(good[0]));
	ra_eq eq = { .count = 0 };
	int i;

	for (i = 0; i < n; i++)
		add_ok(&eq, good[i].text);
	ck_assert_int_eq(eq.count, n);
	for (i = 0; i < n; i++) {
		const ra_biquad_spec *s = &eq.bands[i].spec;

		ck_assert_str_eq(eq.bands[i].label, good[i].text);
		ck_assert_int_eq(s->type, good[i].type);
		ck_assert_double_eq_tol(s->freq, good[i].freq, 1e-9);
		ck_assert_double_eq_tol(s->gain_db, good[i].gain, 1e-12);
		ck_assert_int_eq(s->width_kind, good[i].kind);
		ck_assert_double_eq_tol(s->width, good[i].width, 1e-4);
	}
}
END_TEST

START_TEST(test_graphic_octave_list)
{
	static const double gains[10] = { 1, 0, -2, 3, 0, 4, 5, -6, 7, 8.5 };
	ra_eq eq = { .count = 0 };
	ra_diag diag = { "" };
	int k, b = 0;

	ck_assert_int_eq(ra_eq_add_graphic(&eq, "1,0,-2,+3,0,4,5,-6,7,8.5", &diag), RA_OK);
	ck_assert_int_eq(eq.count, 8);
	for (k = 0; k < 10; k++) {
		const ra_biquad_spec *s = &eq.bands[b].spec;

		if (gains[k] == 0)
			continue;
		ck_assert_int_eq(s->type, RA_BIQUAD_PEAK);
		ck_assert_double_eq_tol(s->freq, 1000.0 * pow(2.0, k - 5), 1e-9);
		ck_assert_double_eq_tol(s->gain_db, gains[k], 1e-12);
		ck_assert_int_eq(s->width_kind, RA_WIDTH_Q);
		ck_assert_double_eq_tol(s->width, sqrt(2.0), 1e-12);
		b++;
	}
	ck_assert_int_eq(b, 8);
	ck_assert_str_eq(eq.bands[0].label, "geq 31.5");
	ck_assert_str_eq(eq.bands[3].label, "geq 1k");
	ck_assert_str_eq(eq.bands[7].label, "geq 16k");
}
END_TEST

START_TEST(test_graphic_third_list)
{
	static const char *const labels[31] = {
		"20",  "25",   "31.5",	"40",	"50",	 "63",	 "80",	  "100",
		"125", "160",  "200",	"250",	"315",	 "400",	 "500",	  "630",
		"800", "1k",   "1.25k", "1.6k", "2k",	 "2.5k", "3.15k", "4k",
		"5k",  "6.3k", "8k",	"10k",	"12.5k", "16k",	 "20k",
	};
	char text[256] = "", label[32];
	ra_eq eq = { .count = 0 };
	ra_diag diag = { "" };
	int n;

	for (n = 0; n < 31; n++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s%d", n ? "," : "",
			 n % 2 ? -(n + 1) : n + 1);
	ck_assert_int_eq(ra_eq_add_graphic(&eq, text, &diag), RA_OK);
	ck_assert_int_eq(eq.count, 31);
	ck_assert_double_eq_tol(q_of_octaves(1.0 / 3.0), 4.318, 0.001);
	for (n = 0; n < 31; n++) {
		const ra_biquad_spec *s = &eq.bands[n].spec;

		ck_assert_int_eq(s->type, RA_BIQUAD_PEAK);
		ck_assert_double_eq_tol(s->freq, 1000.0 * pow(2.0, (n - 17) / 3.0), 1e-9);
		ck_assert_double_eq_tol(s->gain_db, n % 2 ? -(n + 1) : n + 1, 1e-12);
		ck_assert_double_eq_tol(s->width, q_of_octaves(1.0 / 3.0), 1e-12);
		snprintf(label, sizeof(label), "geq %s", labels[n]);
		ck_assert_str_eq(eq.bands[n].label, label);
		/* The exact centre rounds to its nominal label within 2.5%. */
		ck_assert_double_eq_tol(s->freq / atof(labels[n]) /
						(strchr(labels[n], 'k') ? 1000.0 : 1.0),
					1.0, 0.025);
	}
}
END_TEST

START_TEST(test_graphic_pairs)
{
	ra_eq eq = { .count = 0 };
	ra_diag diag = { "" };

	ck_assert_int_eq(ra_eq_add_graphic(&eq, "1k=+3,4k=-2", &diag), RA_OK);
	ck_assert_int_eq(eq.count, 2);
	ck_assert_double_eq_tol(eq.bands[0].spec.freq, 1000.0, 1e-9);
	ck_assert_double_eq_tol(eq.bands[0].spec.gain_db, 3.0, 1e-12);
	ck_assert_double_eq_tol(eq.bands[0].spec.width, q_of_octaves(1.0), 1e-12);
	ck_assert_double_eq_tol(eq.bands[1].spec.freq, 4000.0, 1e-9);
	ck_assert_double_eq_tol(eq.bands[1].spec.gain_db, -2.0, 1e-12);
	ck_assert_double_eq_tol(eq.bands[1].spec.width, q_of_octaves(1.0), 1e-12);
	ck_assert_str_eq(eq.bands[1].label, "geq 4k");

	/* A centre off the octave grid puts every band on the third-octave one. */
	eq.count = 0;
	ck_assert_int_eq(ra_eq_add_graphic(&eq, "1.25k=2", &diag), RA_OK);
	ck_assert_int_eq(eq.count, 1);
	ck_assert_double_eq_tol(eq.bands[0].spec.freq, 1000.0 * cbrt(2.0), 1e-9);
	ck_assert_double_eq_tol(eq.bands[0].spec.width, q_of_octaves(1.0 / 3.0), 1e-12);
	ck_assert_str_eq(eq.bands[0].label, "geq 1.25k");

	eq.count = 0;
	ck_assert_int_eq(ra_eq_add_graphic(&eq, "1000=1, 31.5=-1,1250=2", &diag), RA_OK);
	ck_assert_int_eq(eq.count, 3);
	ck_assert_double_eq_tol(eq.bands[0].spec.freq, 1000.0 / 32.0, 1e-9);
	ck_assert_double_eq_tol(eq.bands[0].spec.gain_db, -1.0, 1e-12);
	ck_assert_str_eq(eq.bands[0].label, "geq 31.5");
	ck_assert_double_eq_tol(eq.bands[1].spec.freq, 1000.0, 1e-9);
	ck_assert_double_eq_tol(eq.bands[1].spec.width, q_of_octaves(1.0 / 3.0), 1e-12);
	ck_assert_str_eq(eq.bands[1].label, "geq 1k");
}
END_TEST

START_TEST(test_file_bands)
{
	char *dir = ra_test_mkdtemp();
	char *path = ra_test_path(dir, "bands.eq");
	ra_eq eq = { .count = 0 };
	ra_diag diag = { "" };

	write_text(path, "\xef\xbb\xbf# my bands, after a UTF-8 BOM\r\n"
			 "\r\n"
			 "peak:1k:-3:1.41   # tame the honk\r\n"
			 "  \t\n"
			 "\tlowshelf:80:+4\n"
			 "#peak:2k:9\n"
			 "highpass:30");
	ck_assert_int_eq(ra_eq_add_file(&eq, path, &diag), RA_OK);
	ck_assert_int_eq(eq.count, 3);
	ck_assert_str_eq(eq.bands[0].label, "peak:1k:-3:1.41");
	ck_assert_double_eq_tol(eq.bands[0].spec.width, 1.41, 1e-12);
	ck_assert_str_eq(eq.bands[1].label, "lowshelf:80:+4");
	ck_assert_str_eq(eq.bands[2].label, "highpass:30");
	ck_assert_int_eq(eq.bands[2].spec.type, RA_BIQUAD_HIGHPASS);
	free(path);
	ra_test_rmtree(dir);
}
END_TEST

START_TEST(test_presets_parse)
{
	const char *const *names = ra_eq_preset_names();
	int i, nbands;

	ck_assert_ptr_nonnull(names);
	ck_assert_ptr_nonnull(names[0]);
	for (i = 0; names[i]; i++) {
		const char *bands = ra_eq_preset_bands(names[i]);
		ra_eq eq = { .count = 0 };
		ra_diag diag = { "" };
		const char *p;

		ck_assert_msg(bands != NULL, "preset '%s' has no bands", names[i]);
		ck_assert_msg(ra_eq_add_preset(&eq, names[i], &diag) == RA_OK, "preset '%s': %s",
			      names[i], diag.text);
		for (nbands = 0, p = bands; *p;) {
			p += strspn(p, " ");
			if (*p)
				nbands++;
			p += strcspn(p, " ");
		}
		ck_assert_int_eq(eq.count, nbands);
		ck_assert_int_ge(eq.count, 1);
		/* Every preset designs at 44.1 kHz. */
		{
			ra_biquad_coeffs c[RA_EQ_MAX_BANDS];

			design_ok(&eq, 44100.0, c);
		}
	}
	ck_assert_int_ge(i, 5);
}
END_TEST

START_TEST(test_preset_bass_boost)
{
	ra_eq eq = { .count = 0 };
	ra_diag diag = { "" };

	add_ok(&eq, "highpass:20");
	ck_assert_int_eq(ra_eq_add_preset(&eq, "bass-boost", &diag), RA_OK);
	ck_assert_int_eq(eq.count, 2);
	ck_assert_int_eq(eq.bands[1].spec.type, RA_BIQUAD_LOWSHELF);
	ck_assert_double_eq_tol(eq.bands[1].spec.freq, 100.0, 1e-12);
	ck_assert_double_eq_tol(eq.bands[1].spec.gain_db, 6.0, 1e-12);
	ck_assert_int_eq(eq.bands[1].spec.width_kind, RA_WIDTH_SLOPE);
	ck_assert_double_eq_tol(eq.bands[1].spec.width, 1.0, 1e-12);
	ck_assert_str_eq(ra_eq_preset_bands("telephone"), "highpass:300 lowpass:3.4k");
}
END_TEST

START_TEST(test_design_matches_biquad)
{
	ra_eq eq = { .count = 0 };
	ra_biquad_coeffs c[4], want;
	ra_diag diag = { "" };
	int i;

	add_ok(&eq, "peak:1k:-3:1.41");
	add_ok(&eq, "highshelf:8k:-2:s=0.5");
	add_ok(&eq, "peak:2.5k:6:bw=1");
	add_ok(&eq, "highpass:30");
	design_ok(&eq, 44100.0, c);
	for (i = 0; i < eq.count; i++) {
		ck_assert_int_eq(ra_biquad_design(&eq.bands[i].spec, 44100.0, &want, &diag), RA_OK);
		ck_assert_double_eq(c[i].b0, want.b0);
		ck_assert_double_eq(c[i].b1, want.b1);
		ck_assert_double_eq(c[i].b2, want.b2);
		ck_assert_double_eq(c[i].a1, want.a1);
		ck_assert_double_eq(c[i].a2, want.a2);
	}
}
END_TEST

START_TEST(test_response_is_sum)
{
	static const double freqs[] = { 0.0, 20.0, 99.0, 1000.0, 12345.6, 24000.0 };
	ra_eq eq = { .count = 0 };
	ra_biquad_coeffs c[3];
	size_t k;

	add_ok(&eq, "lowshelf:100:+6");
	add_ok(&eq, "peak:1k:-4:2");
	add_ok(&eq, "highshelf:10k:+4");
	design_ok(&eq, RATE, c);
	for (k = 0; k < sizeof(freqs) / sizeof(freqs[0]); k++) {
		double want = ra_biquad_magnitude_db(&c[0], freqs[k], RATE) +
			      ra_biquad_magnitude_db(&c[1], freqs[k], RATE) +
			      ra_biquad_magnitude_db(&c[2], freqs[k], RATE);

		ck_assert_double_eq_tol(ra_eq_response_db(c, 3, freqs[k], RATE), want, 1e-12);
	}
	ck_assert_double_eq_tol(ra_eq_response_db(c, 3, 1000.0, RATE),
				ra_eq_response_db(c, 2, 1000.0, RATE) +
					ra_biquad_magnitude_db(&c[2], 1000.0, RATE),
				1e-12);
	ck_assert_double_eq(ra_eq_response_db(c, 0, 1000.0, RATE), 0.0);
}
END_TEST

START_TEST(test_peak_gain_single_peak)
{
	ra_eq eq = { .count = 0 };
	ra_biquad_coeffs c[1];
	double db = 0, f = 0;

	add_ok(&eq, "peak:1k:+6:1");
	design_ok(&eq, RATE, c);
	ra_eq_peak_gain(c, 1, RATE, &db, &f);
	ck_assert_double_eq_tol(db, 6.0, 0.001);
	ck_assert_double_eq_tol(f, 1000.0, 1.0);
}
END_TEST

START_TEST(test_peak_gain_shelves)
{
	ra_eq eq = { .count = 0 };
	ra_biquad_coeffs c[2];
	double db = 0, f = -1, dense;

	add_ok(&eq, "lowshelf:100:+6");
	add_ok(&eq, "highshelf:10k:+4");
	design_ok(&eq, RATE, c);
	ck_assert_double_eq_tol(ra_eq_response_db(c, 2, 20.0, RATE), 6.0, 0.1);
	ck_assert_double_eq_tol(ra_eq_response_db(c, 2, 20000.0, RATE), 4.0, 0.1);
	ra_eq_peak_gain(c, 2, RATE, &db, &f);
	dense = dense_max_db(c, 2, RATE);
	ck_assert_double_eq_tol(db, dense, 0.001);
	ck_assert_double_eq_tol(ra_eq_response_db(c, 2, f, RATE), db, 1e-9);
	ck_assert_double_le(f, 100.0);
}
END_TEST

/* ---- edges ---- */

START_TEST(test_label_truncated)
{
	const char *text = "peak:1000.000000000000000000000000000000000000000000:3:2";
	ra_eq eq = { .count = 0 };

	ck_assert_int_gt(strlen(text), sizeof(eq.bands[0].label));
	add_ok(&eq, text);
	ck_assert_uint_eq(strlen(eq.bands[0].label), sizeof(eq.bands[0].label) - 1);
	ck_assert_int_eq(strncmp(eq.bands[0].label, text, sizeof(eq.bands[0].label) - 1), 0);
	ck_assert_double_eq_tol(eq.bands[0].spec.freq, 1000.0, 1e-9);
}
END_TEST

START_TEST(test_max_bands_exactly)
{
	ra_eq eq = { .count = 0 };
	int i;

	for (i = 0; i < RA_EQ_MAX_BANDS; i++)
		add_ok(&eq, "peak:1k:1");
	ck_assert_int_eq(eq.count, RA_EQ_MAX_BANDS);
}
END_TEST

START_TEST(test_graphic_all_zero)
{
	ra_eq eq = { .count = 0 };
	ra_diag diag = { "" };

	ck_assert_int_eq(ra_eq_add_graphic(&eq, "0,0,0,0,0,0,0,0,0,-0", &diag), RA_OK);
	ck_assert_int_eq(eq.count, 0);
	ck_assert_int_eq(ra_eq_add_graphic(&eq, "1k=0,16k=+0.0", &diag), RA_OK);
	ck_assert_int_eq(eq.count, 0);
}
END_TEST

START_TEST(test_file_empty)
{
	char *dir = ra_test_mkdtemp();
	char *path = ra_test_path(dir, "empty.eq");
	ra_eq eq = { .count = 0 };
	ra_diag diag = { "" };

	write_text(path, "# nothing here\n\n   # still nothing\r\n");
	ck_assert_int_eq(ra_eq_add_file(&eq, path, &diag), RA_OK);
	ck_assert_int_eq(eq.count, 0);
	free(path);
	ra_test_rmtree(dir);
}
END_TEST

START_TEST(test_peak_gain_empty)
{
	double db = 99, f = 99;

	ra_eq_peak_gain(NULL, 0, RATE, &db, &f);
	ck_assert_double_eq(db, 0.0);
	ck_assert_double_eq(f, 0.0);
}
END_TEST

START_TEST(test_peak_gain_at_ends)
{
	ra_eq eq = { .count = 0 };
	ra_biquad_coeffs c[1];
	double db, f;

	/* A boosting low shelf peaks at 0 Hz, a high shelf at Nyquist. */
	add_ok(&eq, "lowshelf:200:+5");
	design_ok(&eq, RATE, c);
	ra_eq_peak_gain(c, 1, RATE, &db, &f);
	ck_assert_double_eq_tol(db, 5.0, 0.001);
	ck_assert_double_le(f, 20.0);

	eq.count = 0;
	add_ok(&eq, "highshelf:5k:+3");
	design_ok(&eq, RATE, c);
	ra_eq_peak_gain(c, 1, RATE, &db, &f);
	ck_assert_double_eq_tol(db, 3.0, 0.001);
	ck_assert_double_ge(f, 20000.0);
}
END_TEST

/* A narrow peak the coarse scan undersamples, beside a broad lower one. */
START_TEST(test_peak_gain_narrow)
{
	ra_eq eq = { .count = 0 };
	ra_biquad_coeffs c[2];
	double db, f;

	add_ok(&eq, "peak:1k:+10:1");
	add_ok(&eq, "peak:10007:+12:300");
	design_ok(&eq, RATE, c);
	ra_eq_peak_gain(c, 2, RATE, &db, &f);
	ck_assert_double_eq_tol(db, dense_max_db(c, 2, RATE), 0.001);
	ck_assert_double_eq_tol(f, 10007.0, 1.0);
}
END_TEST

START_TEST(test_design_empty)
{
	ra_eq eq = { .count = 0 };
	ra_diag diag = { "" };

	ck_assert_int_eq(ra_eq_design(&eq, RATE, NULL, &diag), RA_OK);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_add_rejects)
{
	static const char *const bad[] = {
		"peek:1k",
		"peak",
		"peak:",
		"peak:0",
		"peak:-5",
		"peak:abc",
		"peak:1k:abc",
		"peak:1k:3:0",
		"peak:1k:3:-1",
		"peak:1k:3:1:7",
		"lowshelf:80:3:bw=1",
		"peak:1k:3:s=1",
		"peak:1k:3:q=1:bw=1",
		"peak:1kk",
		"peak:1k:+",
		"",
		":1k",
		"peak:inf",
		"peak:nan",
		"peak:0x10",
		"peak: 1k",
		"peak:1k ",
		"peak:1k:3:q=",
		"peak:1k:3:q=0",
		"peak:1k:3:x=1",
		"peak:1k:3:1:q=2",
		"lowpass:1k:0:bw=1",
		"highpass:1k:s=1",
		"lowshelf:1k:3:s=-1",
		"peak:1e999",
		"peak:1k:3:s=1:2",
		"peak:k",
		"peak:1k:1e999",
		"notch:50:0:30:1",
	};
	ra_eq eq = { .count = 0 };
	size_t i;

	add_ok(&eq, "peak:1k:3");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		add_bad(&eq, bad[i]);
	ck_assert_int_eq(eq.count, 1);
}
END_TEST

START_TEST(test_add_rejects_reasons)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "peek:1k", "bad band 'peek:1k': unknown type 'peek'" },
		{ "peak", "missing frequency" },
		{ "peak:", "empty frequency" },
		{ "peak:0", "frequency '0' is not a positive number" },
		{ "peak:1k:abc", "gain 'abc' is not a number" },
		{ "peak:1k:3:0", "Q '0' is not a positive number" },
		{ "peak:1k:3:1:7", "too many fields" },
		{ "lowshelf:80:3:bw=1", "bw= does not apply to lowshelf" },
		{ "peak:1k:3:s=1", "s= does not apply to peak" },
		{ "peak:1k:3:q=1:bw=1", "more than one width" },
	};
	ra_eq eq = { .count = 0 };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ra_diag diag = { "" };

		ck_assert_int_eq(ra_eq_add(&eq, bad[i].text, &diag), RA_ERR_INVALID);
		ck_assert_msg(strstr(diag.text, bad[i].why) != NULL, "'%s': diag '%s'", bad[i].text,
			      diag.text);
	}
	ck_assert_int_eq(ra_eq_add(NULL, "peak:1k", NULL), RA_ERR_INVALID);
	ck_assert_int_eq(ra_eq_add(&eq, NULL, NULL), RA_ERR_INVALID);
	ck_assert_int_eq(eq.count, 0);
}
END_TEST

START_TEST(test_too_many_bands)
{
	ra_eq eq = { .count = 0 };
	ra_diag diag = { "" };
	int i;

	for (i = 0; i < RA_EQ_MAX_BANDS; i++)
		add_ok(&eq, "peak:1k:1");
	add_bad(&eq, "peak:2k:1");
	ck_assert_int_eq(ra_eq_add(&eq, "peak:2k:1", &diag), RA_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(diag.text, "too many bands (at most 64)"));
	ck_assert_int_eq(eq.count, RA_EQ_MAX_BANDS);

	/* A graphic EQ that does not fit adds nothing. */
	eq.count = RA_EQ_MAX_BANDS - 9;
	ck_assert_int_eq(ra_eq_add_graphic(&eq, "1,1,1,1,1,1,1,1,1,1", &diag), RA_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(diag.text, "too many bands"));
	ck_assert_int_eq(eq.count, RA_EQ_MAX_BANDS - 9);
	ck_assert_int_eq(ra_eq_add_graphic(&eq, "1,1,1,1,1,1,1,1,1,0", &diag), RA_OK);
	ck_assert_int_eq(eq.count, RA_EQ_MAX_BANDS);

	/* So does a preset whose last bands do not fit. */
	eq.count = RA_EQ_MAX_BANDS - 2;
	ck_assert_int_eq(ra_eq_add_preset(&eq, "vocal-presence", &diag), RA_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(diag.text, "too many bands"));
	ck_assert_int_eq(eq.count, RA_EQ_MAX_BANDS - 2);
}
END_TEST

START_TEST(test_graphic_rejects)
{
	ra_eq eq = { .count = 0 };
	ra_diag diag = { "" };

	graphic_bad("1,2,3,4,5,6,7");
	ck_assert_int_eq(ra_eq_add_graphic(&eq, "1,2,3,4,5,6,7", &diag), RA_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(diag.text, "expected 10 or 31 gains, got 7"));
	graphic_bad("1,2,3,4,5,6,7,8,9,x");
	graphic_bad("1,2,3,4,5,6,7,8,9,");
	graphic_bad("1,2,3,4,5,6,7,8,9,10,11");
	graphic_bad("1k=abc");
	graphic_bad("1.1k=3");
	ck_assert_int_eq(ra_eq_add_graphic(&eq, "1.1k=3", &diag), RA_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(diag.text, "unknown centre '1.1k'"));
	graphic_bad("1k=1,1000=2");
	ck_assert_int_eq(ra_eq_add_graphic(&eq, "1k=1,4k=2,1000=2", &diag), RA_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(diag.text, "given twice"));
	graphic_bad("1k=1,2");
	graphic_bad("1k=");
	graphic_bad("=3");
	graphic_bad("25k=3");
	graphic_bad("");
	ck_assert_int_eq(ra_eq_add_graphic(NULL, "1k=1", NULL), RA_ERR_INVALID);
	ck_assert_int_eq(eq.count, 0);
}
END_TEST

START_TEST(test_file_bad_line)
{
	char *dir = ra_test_mkdtemp();
	char *path = ra_test_path(dir, "bad.eq");
	char want[512];
	ra_eq eq = { .count = 0 };
	ra_diag diag = { "" };

	add_ok(&eq, "highpass:20");
	write_text(path, "peak:1k:3\npeak:2k:x # oops\nlowpass:10k\n");
	ck_assert_int_eq(ra_eq_add_file(&eq, path, &diag), RA_ERR_INVALID);
	snprintf(want, sizeof(want), "%s:2: bad band 'peak:2k:x': gain 'x' is not a number", path);
	ck_assert_str_eq(diag.text, want);
	/* Nothing of the file is kept, not even its good first line. */
	ck_assert_int_eq(eq.count, 1);
	ck_assert_str_eq(eq.bands[0].label, "highpass:20");
	free(path);
	ra_test_rmtree(dir);
}
END_TEST

START_TEST(test_file_long_line)
{
	char *dir = ra_test_mkdtemp();
	char *path = ra_test_path(dir, "long.eq");
	char text[3000], want[512];
	ra_eq eq = { .count = 0 };
	ra_diag diag = { "" };

	memset(text, ' ', sizeof(text));
	memcpy(text, "highpass:20\n", 12);
	memcpy(text + sizeof(text) - 12, "peak:1k:3\n", 11);
	text[sizeof(text) - 1] = '\0';
	write_text(path, text);
	ck_assert_int_eq(ra_eq_add_file(&eq, path, &diag), RA_ERR_INVALID);
	snprintf(want, sizeof(want), "%s:2: line too long", path);
	ck_assert_msg(starts_with(diag.text, want), "diag '%s'", diag.text);
	ck_assert_int_eq(eq.count, 0);
	free(path);
	ra_test_rmtree(dir);
}
END_TEST

/* A band file of exactly SIZE bytes: one band, then comment lines. */
static void write_padded(const char *path, size_t size)
{
	FILE *f = fopen(path, "wb");
	size_t left = size - strlen("peak:1k:3\n");

	ck_assert_ptr_nonnull(f);
	fputs("peak:1k:3\n", f);
	while (left > 0) {
		size_t n = left < 100 ? left : 100;

		fprintf(f, "#%*s\n", (int)n - 2, "");
		left -= n;
	}
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_file_size_limit)
{
	char *dir = ra_test_mkdtemp();
	char *path = ra_test_path(dir, "big.eq");
	char want[512];
	ra_eq eq = { .count = 0 };
	ra_diag diag = { "" };

	/* 1 MiB is the documented limit: taken at it, refused one byte over. */
	write_padded(path, 1 << 20);
	ck_assert_int_eq(ra_eq_add_file(&eq, path, &diag), RA_OK);
	ck_assert_int_eq(eq.count, 1);
	write_padded(path, (1 << 20) + 1);
	ck_assert_int_eq(ra_eq_add_file(&eq, path, &diag), RA_ERR_INVALID);
	snprintf(want, sizeof(want), "%s: not a band file: larger than 1048576 bytes", path);
	ck_assert_str_eq(diag.text, want);
	ck_assert_int_eq(eq.count, 1);
	free(path);
	ra_test_rmtree(dir);
}
END_TEST

/* A device that never ends is read only up to the limit (the old reader
 * spun forever on its NUL bytes). */
START_TEST(test_file_endless)
{
	ra_eq eq = { .count = 0 };
	ra_diag diag = { "" };

	ck_assert_int_eq(ra_eq_add_file(&eq, "/dev/zero", &diag), RA_ERR_INVALID);
	ck_assert_str_eq(diag.text, "/dev/zero: not a band file: larger than 1048576 bytes");
	ck_assert_int_eq(eq.count, 0);
}
END_TEST

START_TEST(test_file_nul_byte)
{
	static const char text[] = "peak:1k:3\npeak:2k\0:3\n";
	char *dir = ra_test_mkdtemp();
	char *path = ra_test_path(dir, "nul.eq");
	char want[512];
	ra_eq eq = { .count = 0 };
	ra_diag diag = { "" };
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, sizeof(text) - 1, f), sizeof(text) - 1);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(ra_eq_add_file(&eq, path, &diag), RA_ERR_INVALID);
	snprintf(want, sizeof(want), "%s:2: NUL byte: not a text file", path);
	ck_assert_str_eq(diag.text, want);
	ck_assert_int_eq(eq.count, 0);
	free(path);
	ra_test_rmtree(dir);
}
END_TEST

START_TEST(test_file_missing)
{
	char *dir = ra_test_mkdtemp();
	char *path = ra_test_path(dir, "nope.eq");
	char want[512];
	ra_eq eq = { .count = 0 };
	ra_diag diag = { "" };

	ck_assert_int_eq(ra_eq_add_file(&eq, path, &diag), RA_ERR_OPEN);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", path);
	ck_assert_str_eq(diag.text, want);
	ck_assert_int_eq(ra_eq_add_file(&eq, dir, &diag), RA_ERR_OPEN);
	ck_assert_int_eq(eq.count, 0);
	free(path);
	ra_test_rmtree(dir);
}
END_TEST

START_TEST(test_preset_unknown)
{
	ra_eq eq = { .count = 0 };
	ra_diag diag = { "" };

	ck_assert_int_eq(ra_eq_add_preset(&eq, "x", &diag), RA_ERR_INVALID);
	ck_assert_str_eq(diag.text, "unknown preset 'x'"); /* the CLI names --preset list */
	ck_assert_ptr_null(ra_eq_preset_bands("x"));
	ck_assert_ptr_null(ra_eq_preset_bands(NULL));
	ck_assert_int_eq(ra_eq_add_preset(&eq, NULL, &diag), RA_ERR_INVALID);
	ck_assert_int_eq(eq.count, 0);
}
END_TEST

START_TEST(test_design_above_nyquist)
{
	ra_eq eq = { .count = 0 };
	ra_biquad_coeffs c[3];
	ra_diag diag = { "" };

	add_ok(&eq, "peak:30k");
	design_ok(&eq, 96000.0, c);
	ck_assert_int_eq(ra_eq_design(&eq, 48000.0, c, &diag), RA_ERR_INVALID);
	ck_assert_msg(starts_with(diag.text, "band 1 'peak:30k': "), "diag '%s'", diag.text);
	ck_assert_uint_gt(strlen(diag.text), strlen("band 1 'peak:30k': "));

	eq.count = 0;
	add_ok(&eq, "lowshelf:100:+6");
	add_ok(&eq, "peak:1k:3");
	add_ok(&eq, "highshelf:23k:2");
	ck_assert_int_eq(ra_eq_design(&eq, 44100.0, c, &diag), RA_ERR_INVALID);
	ck_assert_msg(starts_with(diag.text, "band 3 'highshelf:23k:2': "), "diag '%s'", diag.text);
	ck_assert_int_eq(ra_eq_design(NULL, 44100.0, c, &diag), RA_ERR_INVALID);
}
END_TEST

static Suite *eq_suite(void)
{
	Suite *s = suite_create("eq");
	TCase *tc;

	tc = tcase_create("behaviour");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_add_parses_fields);
	tcase_add_test(tc, test_graphic_octave_list);
	tcase_add_test(tc, test_graphic_third_list);
	tcase_add_test(tc, test_graphic_pairs);
	tcase_add_test(tc, test_file_bands);
	tcase_add_test(tc, test_presets_parse);
	tcase_add_test(tc, test_preset_bass_boost);
	tcase_add_test(tc, test_design_matches_biquad);
	tcase_add_test(tc, test_response_is_sum);
	tcase_add_test(tc, test_peak_gain_single_peak);
	tcase_add_test(tc, test_peak_gain_shelves);
	suite_add_tcase(s, tc);

	tc = tcase_create("edges");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_label_truncated);
	tcase_add_test(tc, test_max_bands_exactly);
	tcase_add_test(tc, test_graphic_all_zero);
	tcase_add_test(tc, test_file_empty);
	tcase_add_test(tc, test_peak_gain_empty);
	tcase_add_test(tc, test_peak_gain_at_ends);
	tcase_add_test(tc, test_peak_gain_narrow);
	tcase_add_test(tc, test_design_empty);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_add_rejects);
	tcase_add_test(tc, test_add_rejects_reasons);
	tcase_add_test(tc, test_too_many_bands);
	tcase_add_test(tc, test_graphic_rejects);
	tcase_add_test(tc, test_file_bad_line);
	tcase_add_test(tc, test_file_long_line);
	tcase_add_test(tc, test_file_missing);
	tcase_add_test(tc, test_file_size_limit);
	tcase_add_test(tc, test_file_endless);
	tcase_add_test(tc, test_file_nul_byte);
	tcase_add_test(tc, test_preset_unknown);
	tcase_add_test(tc, test_design_above_nyquist);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return ra_test_main(eq_suite());
}
