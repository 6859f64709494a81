/* Unit tests for what every module shares: status descriptions, the clock,
 * the one parser of numbers and frequencies that EQ specs, --generate
 * and --rate all use, and the lookup of names in tables. */
#include <check.h>
#include <string.h>

#include "rustyaudio/status.h"
#include "testutil.h"

/* ---- behaviour ---- */

START_TEST(test_hz_parse_accepts)
{
	static const struct {
		const char *text;
		double hz;
	} ok[] = {
		{ "440", 440.0 },  { "44.1k", 44100.0 }, { "1K", 1000.0 },     { ".5k", 500.0 },
		{ "1e3", 1000.0 }, { "2.5e-1", 0.25 },	 { "48000", 48000.0 },
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		double hz = -1.0;

		ck_assert_msg(ra_hz_parse(ok[i].text, strlen(ok[i].text), &hz) == RA_OK, "'%s'",
			      ok[i].text);
		ck_assert_double_eq_tol(hz, ok[i].hz, 1e-9 * ok[i].hz);
	}
}
END_TEST

/* Only the LEN characters count: a field inside a longer spec. */
START_TEST(test_parse_reads_len_only)
{
	double v = 0.0;

	ck_assert_int_eq(ra_hz_parse("2k:rest", 2, &v), RA_OK);
	ck_assert_double_eq(v, 2000.0);
	ck_assert_int_eq(ra_number_parse("-3.5:1", 4, &v), RA_OK);
	ck_assert_double_eq(v, -3.5);
	ck_assert_int_eq(ra_number_parse("+6", 2, &v), RA_OK);
	ck_assert_double_eq(v, 6.0);
}
END_TEST

/* Names and the tables they are looked up in, as the modules have them:
 * plain arrays of names, and structs that start with one. */
static const char *const names[] = { "hann", "rect", "Flat", "rect" };
static const struct {
	const char *name;
	double value;
	char pad[40];
} formats[] = { { "wav", 1.0, "" }, { "flac", 2.0, "" }, { "ogg", 3.0, "" } };

/* The first match, by index; case only with RA_NAME_ANY_CASE. */
START_TEST(test_name_lookup)
{
	static const struct {
		const char *name;
		int plain; /* in names[], else in formats[] */
		ra_name_match match;
		size_t index;
	} cases[] = {
		{ "hann", 1, RA_NAME_EXACT, 0 },   { "rect", 1, RA_NAME_EXACT, 1 },
		{ "Flat", 1, RA_NAME_EXACT, 2 },   { "fLaT", 1, RA_NAME_ANY_CASE, 2 },
		{ "ogg", 0, RA_NAME_EXACT, 2 },	   { "FLAC", 0, RA_NAME_ANY_CASE, 1 },
		{ "wav", 0, RA_NAME_ANY_CASE, 0 },
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		size_t i = 99;
		ra_status st = cases[k].plain
				       ? ra_name_lookup(cases[k].name, names, 4, sizeof(names[0]),
							cases[k].match, &i)
				       : ra_name_lookup(cases[k].name, formats, 3,
							sizeof(formats[0]), cases[k].match, &i);

		ck_assert_msg(st == RA_OK, "%s not found", cases[k].name);
		ck_assert_uint_eq(i, cases[k].index);
	}
}
END_TEST

START_TEST(test_clock_monotonic)
{
	uint64_t a = ra_now_ns(), b = ra_now_ns();

	ck_assert_uint_gt(a, 0);
	ck_assert_uint_ge(b, a);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_hz_parse_rejects)
{
	static const char *const bad[] = { "",	     "k",      "0",    "0k",  "-1k", "+440",
					   " 48000", "48000 ", "0x10", "inf", "nan", "1e999",
					   "1kk",    "1k5",    ".",    "abc", "1,5" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		double hz = 123.0;

		ck_assert_msg(ra_hz_parse(bad[i], strlen(bad[i]), &hz) == RA_ERR_INVALID,
			      "'%s' accepted", bad[i]);
		ck_assert_double_eq(hz, 123.0); /* untouched */
	}
}
END_TEST

START_TEST(test_number_parse_rejects)
{
	static const char *const bad[] = { "",	  "k",	 " 1",	  "1 ",	 "0x1",
					   "inf", "nan", "1e999", "--1", "1k" };
	char long_field[80];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		double v = 123.0;

		ck_assert_msg(ra_number_parse(bad[i], strlen(bad[i]), &v) == RA_ERR_INVALID,
			      "'%s' accepted", bad[i]);
	}
	memset(long_field, '1', sizeof(long_field));
	ck_assert_int_eq(ra_number_parse(long_field, sizeof(long_field), &(double){ 0 }),
			 RA_ERR_INVALID);
}
END_TEST

/* Every code has its own description. */
/* Not there, a prefix or extension of a name, the wrong case, past COUNT,
 * NULL: refused, and *INDEX left alone. */
START_TEST(test_name_lookup_rejects)
{
	static const struct {
		const char *name;
		size_t count;
		ra_name_match match;
	} cases[] = {
		{ "", 4, RA_NAME_EXACT },	 { "han", 4, RA_NAME_EXACT },
		{ "hanning", 4, RA_NAME_EXACT }, { "Hann", 4, RA_NAME_EXACT },
		{ "rect ", 4, RA_NAME_EXACT },	 { "Flattop", 4, RA_NAME_ANY_CASE },
		{ "han", 4, RA_NAME_ANY_CASE },	 { "Flat", 2, RA_NAME_EXACT },
		{ "hann", 0, RA_NAME_EXACT },	 { NULL, 4, RA_NAME_ANY_CASE },
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		size_t i = 99;

		ck_assert_msg(ra_name_lookup(cases[k].name, names, cases[k].count, sizeof(names[0]),
					     cases[k].match, &i) == RA_ERR_INVALID,
			      "%s taken", cases[k].name ? cases[k].name : "NULL");
		ck_assert_uint_eq(i, 99);
	}
}
END_TEST

START_TEST(test_strerror_distinct)
{
	for (int a = RA_OK; a <= RA_ERR_REPLACED; a++) {
		ck_assert_str_ne(ra_strerror((ra_status)a), "unknown error");
		for (int b = RA_OK; b < a; b++)
			ck_assert_str_ne(ra_strerror((ra_status)a), ra_strerror((ra_status)b));
	}
	ck_assert_str_eq(ra_strerror((ra_status)(RA_ERR_REPLACED + 1)), "unknown error");
}
END_TEST

/* Names as Git quotes them: untouched unless they need it, then quoted
 * with C escapes; BARE escapes control bytes alone; the length is
 * snprintf's even when the buffer is short. */
START_TEST(test_quote)
{
	static const struct {
		const char *in, *quoted, *bare;
	} cases[] = {
		{ "plain name.wav", "plain name.wav", "plain name.wav" },
		{ "caf\xc3\xa9 \xe9.wav", "caf\xc3\xa9 \xe9.wav", "caf\xc3\xa9 \xe9.wav" },
		{ "a\nb.wav", "\"a\\nb.wav\"", "a\\nb.wav" },
		{ "say \"hi\"\\x", "\"say \\\"hi\\\"\\\\x\"", "say \"hi\"\\x" },
		{ "\t\r\x01\x1f\x7f", "\"\\t\\r\\001\\037\\177\"", "\\t\\r\\001\\037\\177" },
		{ "", "", "" },
	};
	char out[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_uint_eq(ra_quote(cases[i].in, 0, out, sizeof(out)),
				  strlen(cases[i].quoted));
		ck_assert_str_eq(out, cases[i].quoted);
		ck_assert_uint_eq(ra_quote(cases[i].in, 1, out, sizeof(out)),
				  strlen(cases[i].bare));
		ck_assert_str_eq(out, cases[i].bare);
		ck_assert_uint_le(strlen(out), RA_QUOTE_SIZE(strlen(cases[i].in)) - 1);
	}
	ck_assert_uint_eq(ra_quote("a\nbcdef", 0, out, 4), 10);
	ck_assert_str_eq(out, "\"a\\");
	ck_assert_uint_eq(ra_quote("\x01\x01", 0, NULL, 0), 10);
}
END_TEST

static Suite *status_suite(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("behaviour");

	tcase_add_test(tc, test_hz_parse_accepts);
	tcase_add_test(tc, test_parse_reads_len_only);
	tcase_add_test(tc, test_name_lookup);
	tcase_add_test(tc, test_clock_monotonic);
	tcase_add_test(tc, test_quote);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_test(tc, test_hz_parse_rejects);
	tcase_add_test(tc, test_number_parse_rejects);
	tcase_add_test(tc, test_name_lookup_rejects);
	tcase_add_test(tc, test_strerror_distinct);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ra_test_main(status_suite());
}
