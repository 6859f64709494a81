/* Unit tests for the level pass: every channel's sums, peak and counts
 * against sums taken in the test in long double, the same bits however the
 * stream is cut and on every build of the loop, and the non-finite
 * samples. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rustyaudio/level.h"
#include "rustyaudio/phases.h"
#include "testutil.h"

/* Channel counts through both paths: the rows of 16 held in locals (1, 2,
 * 4, 8, 16) and the accumulators in memory (3, 6, 17, 32). */
static const int channel_cases[] = { 1, 2, 3, 4, 6, 8, 16, 17, 32 };
#define N_CASES (sizeof(channel_cases) / sizeof(channel_cases[0]))

static ra_levels *create_ok(int channels)
{
	ra_status st = RA_ERR_INVALID;
	ra_levels *lv = ra_levels_create(channels, &st, NULL);

	ck_assert_ptr_nonnull(lv);
	ck_assert_int_eq(st, RA_OK);
	return lv;
}

/* FRAMES frames of CHANNELS channels of noise up to 1.25, so that some
 * samples clip, with a DC offset that differs by channel. */
static float *test_signal(size_t frames, int channels, unsigned seed)
{
	size_t n = frames * (size_t)channels;
	float *x = ra_test_noise(n, seed, 1.25f);

	for (size_t i = 0; i < n; i++)
		x[i] += 0.01f * (float)(i % (size_t)channels);
	return x;
}

/* Feed X in runs that go round RUNS (0 ends it). */
static void add_in_runs(ra_levels *lv, const float *x, size_t frames, int channels,
			const size_t *runs)
{
	size_t at = 0, r = 0;

	while (at < frames) {
		size_t n = runs[r] < frames - at ? runs[r] : frames - at;

		ra_levels_add(lv, x + at * (size_t)channels, n);
		at += n;
		r = runs[r + 1] ? r + 1 : 0;
	}
}

/* Each channel's levels against the definition, summed in long double:
 * the sums within a few rounding errors of the sum of magnitudes, peak and
 * counts exact. */
START_TEST(test_matches_definition)
{
	const size_t frames = 48001;

	for (size_t k = 0; k < N_CASES; k++) {
		const int channels = channel_cases[k];
		float *x = test_signal(frames, channels, 11 + (unsigned)k);
		ra_levels *lv = create_ok(channels);

		ra_levels_add(lv, x, frames);
		ck_assert_uint_eq(ra_levels_frames(lv), frames);
		ck_assert_uint_eq(ra_levels_nonfinite(lv), 0);
		for (int c = 0; c < channels; c++) {
			long double sum = 0, squares = 0, magnitude = 0;
			double peak = 0.0;
			uint64_t clipped = 0;
			ra_level got;

			for (size_t i = 0; i < frames; i++) {
				double v = x[i * (size_t)channels + (size_t)c];

				sum += v;
				squares += (long double)v * v;
				magnitude += fabs(v);
				peak = fmax(peak, fabs(v));
				clipped += fabs(v) >= 1.0;
			}
			ra_levels_get(lv, c, &got);
			ck_assert_msg(fabsl(got.sum - sum) <= 1e-13L * magnitude,
				      "%d channels, channel %d: sum %.17g, want %.17Lg", channels,
				      c, got.sum, sum);
			ck_assert_msg(fabsl(got.sum_squares - squares) <= 1e-13L * squares,
				      "%d channels, channel %d: squares %.17g, want %.17Lg",
				      channels, c, got.sum_squares, squares);
			ck_assert_double_eq(got.peak, peak);
			ck_assert_uint_eq(got.clipped, clipped);
			ck_assert_uint_gt(clipped, 0);
		}
		ra_levels_destroy(lv);
		free(x);
	}
}
END_TEST

/* However the stream is cut into blocks, the same bits. */
START_TEST(test_cuts_bit_identical)
{
	static const size_t cuts[][6] = { { 100000 },	   { 1 },	{ 7, 0 },
					  { 5, 16, 3, 0 }, { 1000, 0 }, { 13, 1, 4097, 0 } };
	const size_t frames = 20011;

	for (size_t k = 0; k < N_CASES; k++) {
		const int channels = channel_cases[k];
		float *x = test_signal(frames, channels, 3);
		ra_level want[32];

		for (size_t cut = 0; cut < sizeof(cuts) / sizeof(cuts[0]); cut++) {
			ra_levels *lv = create_ok(channels);

			add_in_runs(lv, x, frames, channels, cuts[cut]);
			ck_assert_uint_eq(ra_levels_frames(lv), frames);
			for (int c = 0; c < channels; c++) {
				ra_level got;

				ra_levels_get(lv, c, &got);
				if (cut == 0)
					want[c] = got;
				ck_assert_msg(!memcmp(&got, &want[c], sizeof(got)),
					      "%d channels, channel %d, cut %zu", channels, c, cut);
			}
			ra_levels_destroy(lv);
		}
		free(x);
	}
}
END_TEST

/* A stream shared out (phases.h) in 2 or 4 shares, each share's groups
 * added to its own levels in stream order from a seek to the group's
 * first frame (in cuts of their own), and the shares merged, last first,
 * give the bits of the whole stream added at once. */
START_TEST(test_shares_bit_identical)
{
	static const size_t cuts[] = { 1000, 3, 0 };
	const size_t frames = 9 * RA_PHASE_FRAMES + 777;

	for (size_t k = 0; k < N_CASES; k++) {
		const int channels = channel_cases[k];
		float *x = test_signal(frames, channels, 5 + (unsigned)k);
		ra_levels *whole = create_ok(channels);

		ra_levels_add(whole, x, frames);
		for (int shares = 2; shares <= RA_PHASES; shares *= 2) {
			ra_levels *merged = create_ok(channels), *share[RA_PHASES] = { NULL };

			for (int j = 0; j < shares; j++)
				share[j] = create_ok(channels);
			for (size_t at = 0; at < frames; at += RA_PHASE_FRAMES) {
				ra_levels *lv = share[at / RA_PHASE_FRAMES % (size_t)shares];
				size_t n = frames - at < RA_PHASE_FRAMES ? frames - at
									 : RA_PHASE_FRAMES;

				ra_levels_seek(lv, at);
				add_in_runs(lv, x + at * (size_t)channels, n, channels, cuts);
			}
			for (int j = shares - 1; j >= 0; j--) {
				ra_levels_merge(merged, share[j]);
				ra_levels_destroy(share[j]);
			}
			ck_assert_uint_eq(ra_levels_frames(merged), frames);
			for (int c = 0; c < channels; c++) {
				ra_level got, want;

				ra_levels_get(merged, c, &got);
				ra_levels_get(whole, c, &want);
				ck_assert_msg(!memcmp(&got, &want, sizeof(got)),
					      "%d channels, channel %d, %d shares", channels, c,
					      shares);
			}
			ra_levels_destroy(merged);
		}
		ra_levels_destroy(whole);
		free(x);
	}
}
END_TEST

/* NaN makes the sums NaN and is no peak; an infinity is the peak and
 * clipped; both are counted, on their channel alone; reset forgets them. */
START_TEST(test_nonfinite)
{
	for (size_t k = 0; k < N_CASES; k++) {
		const int channels = channel_cases[k];
		const size_t frames = 999;
		float *x = test_signal(frames, channels, 5);
		ra_levels *lv = create_ok(channels);
		ra_level lev;

		x[10 * (size_t)channels] = NAN;
		x[500 * (size_t)channels] = NAN;
		x[(frames - 1) * (size_t)channels + (size_t)(channels - 1)] = -INFINITY;
		ra_levels_add(lv, x, frames);
		ck_assert_uint_eq(ra_levels_nonfinite(lv), 3);
		ra_levels_get(lv, 0, &lev);
		ck_assert(isnan(lev.sum) && isnan(lev.sum_squares));
		if (channels == 1) {
			ck_assert(isinf(lev.peak));
		} else {
			ck_assert(isfinite(lev.peak) && lev.peak <= 1.25);
			ra_levels_get(lv, channels - 1, &lev);
			ck_assert(isinf(lev.sum) && lev.sum < 0 && isinf(lev.sum_squares));
			ck_assert(isinf(lev.peak));
		}
		if (channels > 2) { /* neither NaN nor infinity here */
			ra_levels_get(lv, 1, &lev);
			ck_assert(isfinite(lev.sum) && isfinite(lev.sum_squares) &&
				  isfinite(lev.peak));
		}
		ra_levels_reset(lv);
		ck_assert_uint_eq(ra_levels_frames(lv), 0);
		ck_assert_uint_eq(ra_levels_nonfinite(lv), 0);
		ra_levels_add(lv, x + 11 * (size_t)channels, 100);
		ck_assert_uint_eq(ra_levels_nonfinite(lv), 0);
		ra_levels_get(lv, 0, &lev);
		ck_assert(isfinite(lev.sum));
		ra_levels_destroy(lv);
		free(x);
	}
}
END_TEST

/* A digest of the levels of a stream through both paths. */
static uint64_t levels_digest(void)
{
	uint64_t h = 0;

	for (size_t k = 0; k < N_CASES; k++) {
		const int channels = channel_cases[k];
		float *x = test_signal(7777, channels, 21);
		ra_levels *lv = create_ok(channels);

		ra_levels_add(lv, x, 7777);
		for (int c = 0; c < channels; c++) {
			ra_level got;

			ra_levels_get(lv, c, &got);
			h = ra_test_digest(h, &got, sizeof(got));
		}
		ra_levels_destroy(lv);
		free(x);
	}
	return h;
}

/* The build the levels use: in a child of test_every_build the one it
 * asked for, else the fastest this CPU runs; in a child, the parent's
 * bits. */
START_TEST(test_build_asked)
{
	ra_test_assert_build(ra_levels_kernel(), "avx2");
	ra_test_assert_golden(levels_digest());
}
END_TEST

/* The behaviour case again on the other builds this CPU runs. */
START_TEST(test_every_build)
{
	ra_test_rerun_builds("level", "behaviour", levels_digest());
}
END_TEST

START_TEST(test_create_rejects)
{
	ra_status st = RA_OK;
	ra_diag diag = { "" };
	ra_levels *lv;
	ra_level lev;

	ck_assert_ptr_null(ra_levels_create(0, &st, &diag));
	ck_assert_int_eq(st, RA_ERR_INVALID);
	ck_assert_str_eq(diag.text, "cannot measure 0 channels (1 to 1024)");
	ck_assert_ptr_null(ra_levels_create(RA_MAX_CHANNELS + 1, &st, NULL));
	ck_assert_int_eq(st, RA_ERR_INVALID);
	lv = create_ok(RA_MAX_CHANNELS);
	ra_levels_get(lv, RA_MAX_CHANNELS, &lev);
	ck_assert(lev.sum == 0.0 && lev.peak == 0.0 && lev.clipped == 0);
	{
		float *x = test_signal(3, RA_MAX_CHANNELS, 8);

		ra_levels_add(lv, x, 3);
		ra_levels_get(lv, RA_MAX_CHANNELS - 1, &lev);
		ck_assert_double_eq(lev.peak, fmax(fmax(fabs(x[RA_MAX_CHANNELS - 1]),
							fabs(x[2 * RA_MAX_CHANNELS - 1])),
						   fabs(x[3 * RA_MAX_CHANNELS - 1])));
		free(x);
	}
	ra_levels_add(NULL, NULL, 1);
	ra_levels_get(NULL, 0, &lev);
	ck_assert_uint_eq(ra_levels_frames(NULL), 0);
	ra_levels_destroy(lv);
	ra_levels_destroy(NULL);
	ra_levels_reset(NULL);
}
END_TEST

static Suite *level_suite(void)
{
	Suite *s = suite_create("level");
	TCase *tc;

	tc = tcase_create("behaviour");
	tcase_add_test(tc, test_build_asked);
	tcase_add_test(tc, test_matches_definition);
	tcase_add_test(tc, test_cuts_bit_identical);
	tcase_add_test(tc, test_shares_bit_identical);
	tcase_add_test(tc, test_nonfinite);
	suite_add_tcase(s, tc);

	tc = tcase_create("builds");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_every_build);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_create_rejects);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ra_test_main(level_suite());
}
