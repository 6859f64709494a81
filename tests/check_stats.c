/* Tests of the stats module: histogram quantiles against sorted samples,
 * totals, merging; the JSON writer read back by jq. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <check.h>

#include "rustyaudio/stats.h"
#include "testutil.h"

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* The nearest-rank quantile of N sorted values. */
static uint64_t exact_quantile(const uint64_t *sorted, size_t n, double q)
{
	size_t rank = (size_t)ceil(q * (double)n);

	return sorted[rank < 1 ? 0 : rank - 1];
}

static uint64_t next_random(uint64_t *state)
{
	*state = *state * 6364136223846793005u + 1442695040888963407u;
	return *state >> 11;
}

START_TEST(test_small_values_are_exact)
{
	ra_histogram h;

	ra_histogram_init(&h);
	ck_assert_uint_eq(ra_histogram_quantile(&h, 0.5), 0);
	ck_assert_double_eq(ra_histogram_mean(&h), 0.0);
	for (uint64_t v = 1; v <= 20; v++)
		ra_histogram_add(&h, v);
	ck_assert_uint_eq(h.count, 20);
	ck_assert_uint_eq(h.total_ns, 210);
	ck_assert_uint_eq(h.max_ns, 20);
	ck_assert_double_eq(ra_histogram_mean(&h), 10.5);
	ck_assert_uint_eq(ra_histogram_quantile(&h, 0.5), 10);
	ck_assert_uint_eq(ra_histogram_quantile(&h, 0.99), 20);
	ck_assert_uint_eq(ra_histogram_quantile(&h, 0.0), 1);
	ck_assert_uint_eq(ra_histogram_quantile(&h, 1.0), 20);
}
END_TEST

/* Log-normal-ish block times from 100 ns to 10 ms: every quantile within
 * 1/32 of the exact one, and never above the maximum. */
START_TEST(test_quantiles_within_resolution)
{
	enum { N = 20000 };
	static const double qs[] = { 0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0 };
	uint64_t *v = malloc(N * sizeof(*v)), state = 7, total = 0;
	ra_histogram h;

	ck_assert_ptr_nonnull(v);
	ra_histogram_init(&h);
	for (size_t i = 0; i < N; i++) {
		double u = (double)(next_random(&state) % 1000000) / 1e6;

		v[i] = (uint64_t)(100.0 * pow(1e5, u));
		total += v[i];
		ra_histogram_add(&h, v[i]);
	}
	qsort(v, N, sizeof(*v), compare_u64);
	ck_assert_uint_eq(h.total_ns, total);
	ck_assert_uint_eq(h.max_ns, v[N - 1]);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		double exact = (double)exact_quantile(v, N, qs[i]);
		double got = (double)ra_histogram_quantile(&h, qs[i]);

		ck_assert_double_le(fabs(got - exact), exact / 32.0 + 0.5);
		ck_assert_double_le(got, (double)v[N - 1]);
	}
	free(v);
}
END_TEST

START_TEST(test_huge_values_clamp)
{
	ra_histogram h;

	ra_histogram_init(&h);
	ra_histogram_add(&h, UINT64_MAX / 2);
	ra_histogram_add(&h, 5);
	ck_assert_uint_eq(h.max_ns, UINT64_MAX / 2);
	ck_assert_uint_eq(ra_histogram_quantile(&h, 0.5), 5);
	/* The last bin is open-ended: its value is capped by the maximum. */
	ck_assert_uint_le(ra_histogram_quantile(&h, 1.0), UINT64_MAX / 2);
	ck_assert_uint_ge(ra_histogram_quantile(&h, 1.0), (uint64_t)1 << 40);
}
END_TEST

START_TEST(test_spread_and_merge)
{
	ra_histogram a, b, all;

	ra_histogram_init(&a);
	ra_histogram_init(&b);
	ra_histogram_init(&all);
	/* 64 blocks done as one 1,000,003 ns step: the total stays exact. */
	ra_histogram_add_spread(&a, 1000003, 64);
	ra_histogram_add_spread(&a, 999, 0);
	ck_assert_uint_eq(a.count, 64);
	ck_assert_uint_eq(a.total_ns, 1000003);
	ck_assert_uint_eq(a.max_ns, 1000003 / 64);
	ck_assert_uint_eq(ra_histogram_quantile(&a, 0.5), ra_histogram_quantile(&a, 0.99));

	for (uint64_t i = 0; i < 1000; i++) {
		uint64_t v = i * i * 37 + 3;

		ra_histogram_add(i % 3 ? &b : &a, v);
		ra_histogram_add(&all, v);
	}
	ra_histogram_add_spread(&all, 1000003, 64);
	ra_histogram_merge(&a, &b);
	ck_assert_uint_eq(a.count, all.count);
	ck_assert_uint_eq(a.total_ns, all.total_ns);
	ck_assert_uint_eq(a.max_ns, all.max_ns);
	ck_assert_mem_eq(a.bins, all.bins, sizeof(a.bins));
}
END_TEST

START_TEST(test_stage_names)
{
	static const char *const names[] = { "open",  "read",	 "resample", "eq",   "spectrum",
					     "level", "convert", "write",    "close" };

	ck_assert_int_eq(RA_STAGE_COUNT, 9);
	for (int i = 0; i < RA_STAGE_COUNT; i++)
		ck_assert_str_eq(ra_stage_name((ra_stage)i), names[i]);
	ck_assert_str_eq(ra_stage_name(RA_STAGE_COUNT), "?");
}
END_TEST

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	ck_assert_int_eq(clock_gettime(id, &ts), 0);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t peak_rss(void)
{
	struct rusage ru;

	ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
	return (uint64_t)ru.ru_maxrss * 1024u;
}

/* Each reading falls between two readings of the clock it stands for: the
 * right clock, in ns, whatever the speed of the machine. */
START_TEST(test_clocks)
{
	uint64_t before, value;

	before = clock_ns(CLOCK_MONOTONIC);
	value = ra_now_ns();
	ck_assert_uint_le(before, value);
	ck_assert_uint_le(value, clock_ns(CLOCK_MONOTONIC));
	before = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	value = ra_cpu_ns();
	ck_assert_uint_le(before, value);
	ck_assert_uint_le(value, clock_ns(CLOCK_PROCESS_CPUTIME_ID));
	before = peak_rss();
	value = ra_peak_rss_bytes();
	ck_assert_uint_le(before, value);
	ck_assert_uint_le(value, peak_rss());
	ck_assert_uint_gt(value, 1024 * 1024);
}
END_TEST

/* Everything the writer can say, parsed back by jq and compared value by
 * value. */
START_TEST(test_json_reads_back)
{
	char *dir = ra_test_mkdtemp(), *path = ra_test_path(dir, "doc.json");
	FILE *f = fopen(path, "w");
	ra_json j;

	ck_assert_ptr_nonnull(f);
	ra_json_init(&j, f);
	ra_json_begin_object(&j, NULL);
	ra_json_string(&j, "text", "quote \" backslash \\ newline \n tab \t bell \a é");
	ra_json_string(&j, "none", NULL);
	/* Stray bytes, a cut sequence, an overlong form and a surrogate become
	 * U+FFFD, one a byte; well-formed UTF-8 passes. */
	ra_json_string(&j, "bytes", "a\xff\xfe é \xc0\xaf \xed\xa0\x80 \xf0\x9f\x8e\xb5 \xc3");
	ra_json_number(&j, "tenth", 0.1);
	ra_json_number(&j, "third", 1.0 / 3.0);
	ra_json_number(&j, "tiny", 1e-300);
	ra_json_number(&j, "negative", -2.5e10);
	ra_json_number(&j, "nan", NAN);
	ra_json_number(&j, "inf", -INFINITY);
	ra_json_uint(&j, "big", (uint64_t)1 << 53);
	ra_json_bool(&j, "yes", 1);
	ra_json_bool(&j, "no", 0);
	ra_json_begin_array(&j, "empty_array");
	ra_json_end_array(&j);
	ra_json_begin_object(&j, "empty_object");
	ra_json_end_object(&j);
	ra_json_begin_array(&j, "list");
	for (int i = 0; i < 3; i++) {
		ra_json_begin_object(&j, NULL);
		ra_json_uint(&j, "i", (uint64_t)i);
		ra_json_begin_array(&j, "squares");
		ra_json_number(&j, NULL, (double)(i * i));
		ra_json_end_array(&j);
		ra_json_end_object(&j);
	}
	ra_json_end_array(&j);
	ra_json_end_object(&j);
	ck_assert_int_eq(ferror(f), 0);
	ck_assert_int_eq(fclose(f), 0);

	ck_assert(ra_test_jq(path, ".text == \"quote \\\" backslash \\\\ newline \\n tab \\t "
				   "bell \\u0007 é\""));
	ck_assert(ra_test_jq(path, ".none == null and .nan == null and .inf == null"));
	ck_assert(ra_test_jq(path, ".tenth == 0.1 and .third == (1 / 3) and .tiny == 1e-300 and "
				   ".negative == -25000000000"));
	ck_assert(ra_test_jq(path, ".big == 9007199254740992 and .yes == true and .no == false"));
	ck_assert(ra_test_jq(path, ".empty_array == [] and .empty_object == {}"));
	ck_assert(ra_test_jq(path, "[.list[] | .i] == [0, 1, 2] and "
				   "[.list[] | .squares[0]] == [0, 1, 4]"));
	ck_assert(ra_test_jq(path, "keys | length == 15"));
	{
		char *raw = ra_test_slurp(path, NULL);

		ck_assert_ptr_nonnull(strstr(raw,
					     "\"bytes\": \"a\\ufffd\\ufffd é \\ufffd\\ufffd "
					     "\\ufffd\\ufffd\\ufffd \xf0\x9f\x8e\xb5 \\ufffd\""));
		free(raw);
	}
	/* A false filter is false, not an error: the checks above can fail. */
	ck_assert(ra_test_jq_false(path, ".tenth == 0.2"));
	free(path);
	ra_test_rmtree(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("histogram");

	tcase_add_test(tc, test_small_values_are_exact);
	tcase_add_test(tc, test_quantiles_within_resolution);
	tcase_add_test(tc, test_huge_values_clamp);
	tcase_add_test(tc, test_spread_and_merge);
	tcase_add_test(tc, test_stage_names);
	tcase_add_test(tc, test_clocks);
	suite_add_tcase(s, tc);
	tc = tcase_create("json");
	tcase_set_timeout(tc, 60); /* a jq run an assertion */
	tcase_add_test(tc, test_json_reads_back);
	suite_add_tcase(s, tc);
	return ra_test_main(s);
}
