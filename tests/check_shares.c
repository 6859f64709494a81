/* Unit tests for the measuring pass in shares of the stream (src/shares.h,
 * internal to the library): the levels and the spectrum of the pass over
 * the whole stream, to the bit, for 2 and 4 shares on 2 to 4 threads,
 * read as float or as integers; and each way it hands the stream back (a
 * file cut after it was opened, a non-finite sample screened for, a stop,
 * one thread) with the levels untouched. */
#include <check.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/shares.h"
#include "rustyaudio/phases.h"
#include "testutil.h"

#define RATE 48000
#define CHANNELS 3
/* 20 groups and some: every share takes several. */
#define FRAMES (20 * RA_PHASE_FRAMES + 333)
#define NAN_AT (17 * RA_PHASE_FRAMES + 5)

/* A float WAV (or 16-bit with PCM16) of noise; with BAD a NaN at NAN_AT. */
static char *write_input(const char *name, int pcm16, int bad)
{
	char *path = ra_test_scratch(name);
	float *x = ra_test_noise((size_t)FRAMES * CHANNELS, 9, 0.8f);

	if (bad)
		x[(size_t)NAN_AT * CHANNELS + 1] = NAN;
	ra_test_write_float(path, SF_FORMAT_WAV | (pcm16 ? SF_FORMAT_PCM_16 : SF_FORMAT_FLOAT),
			    RATE, CHANNELS, x, FRAMES);
	free(x);
	return path;
}

static ra_reader *open_ok(const char *path)
{
	ra_status st = RA_ERR_INVALID;
	ra_reader *rd = ra_reader_open(path, 0, NULL, &st, NULL);

	ck_assert_ptr_nonnull(rd);
	ck_assert_int_eq(st, RA_OK);
	ck_assert_int_eq(ra_reader_info(rd)->frames, FRAMES);
	return rd;
}

/* The analyser the pass feeds: parts in time, as many as it can share. */
static ra_welch *welch_in_time(int parts)
{
	ra_welch_config wc = { .channels = CHANNELS,
			       .sample_rate = RATE,
			       .fft_size = 2048,
			       .window = RA_WINDOW_HANN,
			       .overlap = 0.5,
			       .parts = parts,
			       .in_time = 1 };
	ra_welch *w = ra_welch_create(&wc, NULL, NULL);

	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(ra_welch_shares(w), parts);
	return w;
}

/* The whole stream at PATH, read as float, into LV and W in one pass. */
static void measure_whole(const char *path, ra_levels *lv, ra_welch *w)
{
	ra_reader *rd = open_ok(path);
	float *x = malloc((size_t)FRAMES * CHANNELS * sizeof(*x));
	size_t got = 0;

	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(ra_reader_read_float(rd, x, FRAMES, &got, NULL), RA_OK);
	ck_assert_uint_eq(got, FRAMES);
	ra_levels_add(lv, x, FRAMES);
	ra_welch_feed(w, x, FRAMES);
	free(x);
	ra_reader_destroy(rd);
}

/* A pass over RD into LV and W: the config, with SHARES shares on
 * WORKERS' threads, read as integers with IN_BITS. */
static ra_shares_config config_of(ra_reader *rd, ra_levels *lv, ra_welch *w, ra_workers *workers,
				  int shares, int in_bits)
{
	return (ra_shares_config){ .reader = rd,
				   .frames = FRAMES,
				   .channels = CHANNELS,
				   .in_bits = in_bits,
				   .screen = 1,
				   .shares = shares,
				   .threads = ra_workers_threads(workers),
				   .levels = lv,
				   .welch = w,
				   .workers = workers };
}

static void assert_same_levels(const ra_levels *got, const ra_levels *want)
{
	ck_assert_uint_eq(ra_levels_frames(got), ra_levels_frames(want));
	ck_assert_uint_eq(ra_levels_nonfinite(got), ra_levels_nonfinite(want));
	for (int c = 0; c < CHANNELS; c++) {
		ra_level a, b;

		ra_levels_get(got, c, &a);
		ra_levels_get(want, c, &b);
		ck_assert_msg(!memcmp(&a, &b, sizeof(a)), "channel %d", c);
	}
}

/* 2 and 4 shares on 2, 3 and 4 threads, float and 16-bit: the whole
 * stream's levels and spectrum, to the bit. */
START_TEST(test_same_bits)
{
	static const int ways[][2] = { { 4, 2 }, { 2, 2 }, { 4, 3 }, { 2, 4 }, { 4, 4 } };
	char *path = write_input(_i ? "s.wav" : "f.wav", _i, 0);
	ra_levels *want = ra_levels_create(CHANNELS, NULL, NULL);
	ra_welch *want_w = welch_in_time(4);

	ck_assert_ptr_nonnull(want);
	measure_whole(path, want, want_w);
	for (size_t k = 0; k < sizeof(ways) / sizeof(ways[0]); k++) {
		ra_workers *workers = ra_workers_create(ways[k][1], NULL, NULL);
		ra_reader *rd = open_ok(path);
		ra_levels *lv = ra_levels_create(CHANNELS, NULL, NULL);
		ra_welch *w = welch_in_time(ways[k][0]);
		ra_shares_config sc = config_of(rd, lv, w, workers, ways[k][0], _i ? 16 : 0);
		int done = 0;

		ck_assert_ptr_nonnull(workers);
		ck_assert_int_eq(ra_shares_measure(&sc, &done), RA_OK);
		ck_assert_msg(done, "%d shares on %d threads", ways[k][0], ways[k][1]);
		assert_same_levels(lv, want);
		ra_test_same_welch(w, want_w, (int)k);
		ra_welch_destroy(w);
		ra_levels_destroy(lv);
		ra_reader_destroy(rd);
		ra_workers_destroy(workers);
	}
	ra_welch_destroy(want_w);
	ra_levels_destroy(want);
	free(path);
}
END_TEST

/* The pass on PATH with CANCEL, screening as SCREEN: its status; the
 * levels untouched when not done. */
static ra_status measure_once(const char *path, int cut, int screen, int threads,
			      volatile sig_atomic_t *cancel, int *done)
{
	ra_workers *workers = ra_workers_create(threads, NULL, NULL);
	ra_reader *rd = open_ok(path);
	ra_levels *lv = ra_levels_create(CHANNELS, NULL, NULL);
	ra_welch *w = welch_in_time(4);
	ra_shares_config sc = config_of(rd, lv, w, workers, 4, 0);
	ra_status st;

	ck_assert_ptr_nonnull(workers);
	sc.screen = screen;
	sc.cancel = cancel;
	if (cut) /* after the header was read: 5 groups and a bit are left */
		ck_assert_int_eq(truncate(path, (off_t)(5 * RA_PHASE_FRAMES + 7) * CHANNELS * 4),
				 0);
	st = ra_shares_measure(&sc, done);
	if (!*done) {
		ck_assert_uint_eq(ra_levels_frames(lv), 0);
		ck_assert_uint_eq(ra_levels_nonfinite(lv), 0);
	} else {
		ck_assert_uint_eq(ra_levels_frames(lv), FRAMES);
		ck_assert_uint_eq(ra_levels_nonfinite(lv), screen ? 0 : 1);
	}
	ra_welch_destroy(w);
	ra_levels_destroy(lv);
	ra_reader_destroy(rd);
	ra_workers_destroy(workers);
	return st;
}

/* Handed back: a file cut short after it was opened, a non-finite sample
 * screened for (measured, and counted, when not screened), one thread;
 * a stop is RA_ERR_CANCELLED. */
START_TEST(test_hands_back)
{
	char *nan = write_input("nan.wav", 0, 1), *cut = write_input("cut.wav", 0, 0);
	volatile sig_atomic_t stop = 1;
	int done = 1;

	ck_assert_int_eq(measure_once(cut, 1, 1, 2, NULL, &done), RA_OK);
	ck_assert_int_eq(done, 0);
	ck_assert_int_eq(measure_once(nan, 0, 1, 2, NULL, &done), RA_OK);
	ck_assert_int_eq(done, 0);
	ck_assert_int_eq(measure_once(nan, 0, 0, 2, NULL, &done), RA_OK);
	ck_assert_int_eq(done, 1);
	ck_assert_int_eq(measure_once(nan, 0, 1, 1, NULL, &done), RA_OK);
	ck_assert_int_eq(done, 0);
	ck_assert_int_eq(measure_once(nan, 0, 0, 2, &stop, &done), RA_ERR_CANCELLED);
	ck_assert_int_eq(done, 0);
	free(nan);
	free(cut);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shares");
	TCase *tc = ra_test_tcase(s, "behaviour", 60);

	tcase_add_loop_test(tc, test_same_bits, 0, 2);
	tcase_add_test(tc, test_hands_back);
	return ra_test_main(s);
}
