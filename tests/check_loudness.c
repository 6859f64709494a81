/* Tests of the loudness module against EBU Tech 3341 (loudness, true peak)
 * and Tech 3342 (loudness range), their signals synthesized here from the
 * definitions: 1 kHz sines, stereo unless noted, levels per channel in
 * dBFS of the sine's peak. Results do not depend on how the stream is cut
 * or on the workers. */
#include <math.h>
#include <sndfile.h>
#include <stdlib.h>

#include <check.h>

#include "rustyaudio/loudness.h"
#include "testutil.h"

#define RATE 48000

/* One part of a test signal: SECONDS of a sine at HZ and PHASE (radians),
 * LEVEL dBFS on each of up to 8 channels. */
typedef struct part {
	double seconds;
	double level[8];
} part;

typedef struct signal_spec {
	int channels;
	double hz, phase;
	const part *parts;
	size_t count;
	int rate; /* Hz; 0: RATE */
} signal_spec;

static int rate_of(const signal_spec *spec)
{
	return spec->rate ? spec->rate : RATE;
}

/* The signal of SPEC, interleaved; *FRAMES gets its length. */
static float *synthesize(const signal_spec *spec, size_t *frames)
{
	size_t n = 0, at = 0;
	float *x;

	for (size_t p = 0; p < spec->count; p++)
		n += (size_t)llround(spec->parts[p].seconds * rate_of(spec));
	x = malloc(n * (size_t)spec->channels * sizeof(*x));
	ck_assert_ptr_nonnull(x);
	for (size_t p = 0; p < spec->count; p++) {
		size_t len = (size_t)llround(spec->parts[p].seconds * rate_of(spec));

		for (size_t i = 0; i < len; i++, at++) {
			double s = sin(2.0 * M_PI * spec->hz * (double)at / rate_of(spec) +
				       spec->phase);

			for (int c = 0; c < spec->channels; c++)
				x[at * (size_t)spec->channels + (size_t)c] =
					(float)(s * pow(10.0, spec->parts[p].level[c] / 20.0));
		}
	}
	*frames = n;
	return x;
}

/* SPEC measured with THREADS threads (1: no workers), fed in pieces of
 * PIECE frames, with MAP (or none); per channel true peaks into TP. */
static ra_loudness_result measure(const signal_spec *spec, int threads, size_t piece,
				  const int *map, double *tp)
{
	ra_workers *w = threads > 1 ? ra_workers_create(threads, NULL, NULL) : NULL;
	ra_loudness_config cfg = { spec->channels, rate_of(spec), map, w, 0 };
	ra_loudness_result r;
	ra_diag diag = { "" };
	ra_loudness *l = ra_loudness_create(&cfg, NULL, &diag);
	size_t frames;
	float *x = synthesize(spec, &frames);

	ck_assert_msg(l != NULL, "%s", diag.text);
	for (size_t at = 0; at < frames; at += piece)
		ra_loudness_add(l, x + at * (size_t)spec->channels,
				frames - at < piece ? frames - at : piece);
	ck_assert_int_eq(ra_loudness_finish(l, &r, tp), RA_OK);
	ra_loudness_destroy(l);
	ra_workers_destroy(w);
	free(x);
	return r;
}

#define STEREO(level)                                                                              \
	{                                                                                          \
		level, level                                                                       \
	}
#define SPEC(ch, parts)                                                                            \
	{                                                                                          \
		ch, 1000.0, 0.0, parts, sizeof(parts) / sizeof(parts[0]), 0                        \
	}

/* Tech 3341, table 1, cases 1 to 5 and the 5-channel case 6. */
START_TEST(test_tech3341_integrated)
{
	static const part c1[] = { { 20, STEREO(-23) } }, c2[] = { { 20, STEREO(-33) } };
	static const part c3[] = { { 10, STEREO(-36) }, { 60, STEREO(-23) }, { 10, STEREO(-36) } };
	static const part c4[] = { { 10, STEREO(-72) },
				   { 10, STEREO(-36) },
				   { 60, STEREO(-23) },
				   { 10, STEREO(-36) },
				   { 10, STEREO(-72) } };
	static const part c5[] = { { 20, STEREO(-26) },
				   { 20.1, STEREO(-20) },
				   { 20, STEREO(-26) } };
	static const part c6[] = { { 20, { -28, -28, -24, -30, -30 } } };
	const signal_spec specs[] = { SPEC(2, c1), SPEC(2, c2), SPEC(2, c3),
				      SPEC(2, c4), SPEC(2, c5), SPEC(5, c6) };
	const double want[] = { -23, -33, -23, -23, -23, -23 };

	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		ra_loudness_result r = measure(&specs[i], 1, 4096, NULL, NULL);

		ck_assert_msg(fabs(r.integrated_lufs - want[i]) <= 0.1, "case %zu: %.3f LUFS",
			      i + 1, r.integrated_lufs);
	}
}
END_TEST

/* A steady sine: its momentary and short-term maxima are its loudness
 * (Tech 3341 cases 1 and 2 for M and S); a stream shorter than 3 s has no
 * short-term window, one of silence no loudness at all. */
START_TEST(test_momentary_shortterm)
{
	static const part steady[] = { { 20, STEREO(-23) } },
			  loud[] = { { 10, STEREO(-33) }, { 1, STEREO(-20) }, { 10, STEREO(-33) } };
	static const part shorter[] = { { 2, STEREO(-23) } }, silent[] = { { 5, STEREO(-999) } };
	const signal_spec s1 = SPEC(2, steady), s2 = SPEC(2, loud), s3 = SPEC(2, shorter),
			  s4 = SPEC(2, silent);
	ra_loudness_result r = measure(&s1, 1, 1000, NULL, NULL);

	ck_assert_double_eq_tol(r.momentary_max_lufs, -23.0, 0.1);
	ck_assert_double_eq_tol(r.shortterm_max_lufs, -23.0, 0.1);
	/* A 1 s burst 13 dB louder: the whole of it in the 400 ms windows; a
	 * third of the 3 s window, with the rest at -33. */
	r = measure(&s2, 1, 1000, NULL, NULL);
	ck_assert_double_eq_tol(r.momentary_max_lufs, -20.0, 0.1);
	ck_assert_double_eq_tol(r.shortterm_max_lufs,
				-33.0 + 10.0 * log10((1.0 + 2.0 * pow(10.0, -1.3)) / 3.0) + 13.0,
				0.1);
	r = measure(&s3, 1, 1000, NULL, NULL);
	ck_assert_double_eq_tol(r.momentary_max_lufs, -23.0, 0.1);
	ck_assert(isinf(r.shortterm_max_lufs) && r.shortterm_max_lufs < 0);
	r = measure(&s4, 1, 1000, NULL, NULL);
	ck_assert(isinf(r.integrated_lufs) && r.integrated_lufs < 0);
	ck_assert(isinf(r.true_peak_dbtp) && r.true_peak_dbtp < 0);
}
END_TEST

/* Tech 3342, table 1: loudness range within 1 LU. */
START_TEST(test_tech3342_range)
{
	static const part c1[] = { { 20, STEREO(-20) }, { 20, STEREO(-30) } };
	static const part c2[] = { { 20, STEREO(-20) }, { 20, STEREO(-15) } };
	static const part c3[] = { { 20, STEREO(-40) }, { 20, STEREO(-20) } };
	static const part c4[] = { { 20, STEREO(-50) },
				   { 20, STEREO(-35) },
				   { 20, STEREO(-20) },
				   { 20, STEREO(-35) },
				   { 20, STEREO(-50) } };
	const signal_spec specs[] = { SPEC(2, c1), SPEC(2, c2), SPEC(2, c3), SPEC(2, c4) };
	const double want[] = { 10, 5, 20, 15 };

	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		ra_loudness_result r = measure(&specs[i], 1, 4800, NULL, NULL);

		ck_assert_msg(fabs(r.range_lu - want[i]) <= 1.0, "case %zu: %.3f LU", i + 1,
			      r.range_lu);
	}
}
END_TEST

/* DBTP within Tech 3341's true-peak tolerance of CREST: +0.2 dB, -0.4 dB. */
static void assert_tech3341_peak(double dbtp, double crest)
{
	ck_assert_msg(dbtp <= crest + 0.2 && dbtp >= crest - 0.4, "%.3f dBTP, crest %.1f", dbtp,
		      crest);
}

/* True peak: a 997 Hz sine at -6 dBFS reads -6 dBTP within 0.2 dB; a sine
 * at Fs/4 with a 45 degree phase, whose samples all fall 3 dB below its
 * crests, reads its crest within Tech 3341's true-peak tolerance (+0.2 dB,
 * -0.4 dB). */
START_TEST(test_true_peak)
{
	static const part p6[] = { { 5, STEREO(-6) } };
	signal_spec s = SPEC(2, p6);
	double tp[2];
	ra_loudness_result r;

	s.hz = 997.0;
	r = measure(&s, 1, 4096, NULL, tp);
	ck_assert_double_eq_tol(r.true_peak_dbtp, -6.0, 0.2);
	ck_assert_double_eq_tol(tp[1], -6.0, 0.2);
	s.hz = RATE / 4.0;
	s.phase = M_PI / 4.0;
	r = measure(&s, 1, 4096, NULL, tp);
	assert_tech3341_peak(r.true_peak_dbtp, -6.0);
	ck_assert_double_eq(tp[0], tp[1]);
}
END_TEST

/* The oversampling by rate: 2 times at 96 kHz, where the Fs/4 sine with a
 * 45 degree phase reads its crest (within Tech 3341's tolerance), and none
 * at 192 kHz, where it reads its samples' peak, 3.01 dB under. */
START_TEST(test_true_peak_rates)
{
	static const part p6[] = { { 2, STEREO(-6) } };
	signal_spec s = SPEC(2, p6);
	double tp[2];
	ra_loudness_result r;

	s.phase = M_PI / 4.0;
	s.rate = 96000;
	s.hz = s.rate / 4.0;
	r = measure(&s, 1, 4096, NULL, tp);
	assert_tech3341_peak(r.true_peak_dbtp, -6.0);
	s.rate = 192000;
	s.hz = s.rate / 4.0;
	r = measure(&s, 1, 4096, NULL, tp);
	ck_assert_double_eq_tol(r.true_peak_dbtp, -6.0 + 20.0 * log10(sqrt(0.5)), 0.001);
}
END_TEST

/* The same figures, to the last bit, however the stream is cut and with or
 * without workers. */
START_TEST(test_same_any_way)
{
	static const part parts[] = { { 3.3, { -20, -26, -30 } }, { 4.1, { -36, -23, -40 } } };
	const signal_spec s = SPEC(3, parts);
	double tp0[3], tp[3];
	ra_loudness_result a = measure(&s, 1, 100000000, NULL, tp0);
	static const size_t pieces[] = { 1, 777, 4800, 65536 };

	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		for (int threads = 1; threads <= 3; threads++) {
			ra_loudness_result b = measure(&s, threads, pieces[i], NULL, tp);

			ck_assert(a.integrated_lufs == b.integrated_lufs);
			ck_assert(a.range_lu == b.range_lu);
			ck_assert(a.momentary_max_lufs == b.momentary_max_lufs);
			ck_assert(a.shortterm_max_lufs == b.shortterm_max_lufs);
			ck_assert(a.true_peak_dbtp == b.true_peak_dbtp);
			for (int c = 0; c < 3; c++)
				ck_assert(tp0[c] == tp[c]);
		}
	}
}
END_TEST

/* 5.1 in the WAV order, its layout given or not: LFE left out, the
 * surrounds +1.5 dB, so case 6's levels read -23 LUFS with any LFE, and
 * the LFE alone reads nothing. In 7.1 the side pair counts +1.5 dB and the
 * rear pair beside it 0 dB. */
START_TEST(test_channel_weights)
{
	static const part c[] = { { 20, { -28, -28, -24, -10, -30, -30 } } };
	static const part lfe[] = { { 20, { -999, -999, -999, -10, -999, -999 } } };
	static const int wav51[] = { SF_CHANNEL_MAP_LEFT,      SF_CHANNEL_MAP_RIGHT,
				     SF_CHANNEL_MAP_CENTER,    SF_CHANNEL_MAP_LFE,
				     SF_CHANNEL_MAP_REAR_LEFT, SF_CHANNEL_MAP_REAR_RIGHT };
	static const int s71[] = { SF_CHANNEL_MAP_LEFT,	     SF_CHANNEL_MAP_RIGHT,
				   SF_CHANNEL_MAP_CENTER,    SF_CHANNEL_MAP_LFE,
				   SF_CHANNEL_MAP_REAR_LEFT, SF_CHANNEL_MAP_REAR_RIGHT,
				   SF_CHANNEL_MAP_SIDE_LEFT, SF_CHANNEL_MAP_SIDE_RIGHT };
	static const part rear[] = { { 20, { -99, -99, -99, -99, -30, -30, -99, -99 } } };
	static const part side[] = { { 20, { -99, -99, -99, -99, -99, -99, -30, -30 } } };
	const signal_spec s = SPEC(6, c), l = SPEC(6, lfe), r = SPEC(8, rear), d = SPEC(8, side);
	double back, sides;

	ck_assert_double_eq_tol(measure(&s, 1, 4096, NULL, NULL).integrated_lufs, -23.0, 0.1);
	ck_assert_double_eq_tol(measure(&s, 1, 4096, wav51, NULL).integrated_lufs, -23.0, 0.1);
	ck_assert(isinf(measure(&l, 1, 4096, wav51, NULL).integrated_lufs));
	back = measure(&r, 1, 4096, s71, NULL).integrated_lufs;
	sides = measure(&d, 1, 4096, s71, NULL).integrated_lufs;
	ck_assert_double_eq_tol(sides - back, 10.0 * log10(1.41), 0.01);
}
END_TEST

/* Two streams as one album: BS.1770's gating over the blocks of both. At
 * -23 and -29 LUFS, equally long, both above the relative gate: the mean
 * of their energies. */
START_TEST(test_album)
{
	static const part a[] = { { 20, STEREO(-23) } }, b[] = { { 20, STEREO(-29) } };
	const signal_spec sa = SPEC(2, a), sb = SPEC(2, b);
	const signal_spec *specs[2] = { &sa, &sb };
	ra_loudness *l[2];
	double want = -23.0 + 10.0 * log10((1.0 + pow(10.0, -0.6)) / 2.0);

	for (int k = 0; k < 2; k++) {
		ra_loudness_config cfg = { 2, RATE, NULL, NULL, 1 };
		ra_loudness_result r;
		size_t frames;
		float *x = synthesize(specs[k], &frames);

		l[k] = ra_loudness_create(&cfg, NULL, NULL);
		ck_assert_ptr_nonnull(l[k]);
		ra_loudness_add(l[k], x, frames);
		ck_assert_int_eq(ra_loudness_finish(l[k], &r, NULL), RA_OK);
		ra_loudness_shrink(l[k]);
		free(x);
	}
	ck_assert_double_eq_tol(ra_loudness_integrated_of(l, 2), want, 0.05);
	ck_assert_double_eq_tol(ra_loudness_integrated_of(l, 1), -23.0, 0.1);
	ra_loudness_destroy(l[0]);
	ra_loudness_destroy(l[1]);
}
END_TEST

/* With workers the caller only fills chunks: each chunk's batch carries
 * the gated measure beside the true peak (mono: two tasks a batch, where
 * the caller once measured the gated loudness itself and handed out one). */
START_TEST(test_gated_on_the_workers)
{
	static const part parts[] = { { 30.0, { -23 } } };
	const signal_spec s = SPEC(1, parts);
	ra_workers *w = ra_workers_create(2, NULL, NULL);
	ra_loudness_config cfg = { 1, RATE, NULL, w, 0 };
	ra_loudness *l = ra_loudness_create(&cfg, NULL, NULL);
	ra_loudness_result r;
	ra_workers_stats st;
	size_t frames;
	float *x = synthesize(&s, &frames);

	ck_assert_ptr_nonnull(l);
	ra_loudness_add(l, x, frames);
	ck_assert_int_eq(ra_loudness_finish(l, &r, NULL), RA_OK);
	ra_workers_get_stats(w, &st);
	ck_assert_uint_ge(st.batches, 5); /* 30 s: chunks of 2^18 frames */
	ck_assert_uint_eq(st.tasks, 2 * st.batches);
	ck_assert(r.integrated_lufs == measure(&s, 1, 4096, NULL, NULL).integrated_lufs);
	ra_loudness_destroy(l);
	ra_workers_destroy(w);
	free(x);
}
END_TEST

START_TEST(test_refused)
{
	ra_loudness_config cfg = { 0, RATE, NULL, NULL, 0 };
	ra_status st = RA_OK;
	ra_diag diag = { "" };

	ck_assert_ptr_null(ra_loudness_create(&cfg, &st, &diag));
	ck_assert_int_eq(st, RA_ERR_LIMITS);
	ck_assert_str_eq(diag.text, "loudness is measured for 1 to 24 channels (BS.1770's 22.2) "
				    "at 16 to 2822400 Hz, not 0 at 48000 Hz");
	cfg = (ra_loudness_config){ 2, 15, NULL, NULL, 0 };
	ck_assert_ptr_null(ra_loudness_create(&cfg, &st, &diag));
	ck_assert_int_eq(st, RA_ERR_LIMITS);
	cfg = (ra_loudness_config){ 2, 2822401, NULL, NULL, 0 };
	ck_assert_ptr_null(ra_loudness_create(&cfg, &st, &diag));
	ck_assert_int_eq(st, RA_ERR_LIMITS);
	cfg = (ra_loudness_config){ RA_LOUDNESS_MAX_CHANNELS + 1, RATE, NULL, NULL, 0 };
	ck_assert_ptr_null(ra_loudness_create(&cfg, &st, &diag));
	ck_assert_int_eq(st, RA_ERR_LIMITS);
	cfg.channels = RA_LOUDNESS_MAX_CHANNELS;
	ra_loudness_destroy(ra_loudness_create(&cfg, &st, &diag));
	ck_assert_int_eq(st, RA_OK);
	ra_loudness_destroy(NULL);
}
END_TEST

static Suite *loudness_suite(void)
{
	Suite *s = suite_create("loudness");
	TCase *tc = tcase_create("ebu");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_tech3341_integrated);
	tcase_add_test(tc, test_momentary_shortterm);
	tcase_add_test(tc, test_tech3342_range);
	tcase_add_test(tc, test_true_peak);
	tcase_add_test(tc, test_true_peak_rates);
	tcase_add_test(tc, test_gated_on_the_workers);
	tcase_add_test(tc, test_same_any_way);
	tcase_add_test(tc, test_channel_weights);
	tcase_add_test(tc, test_album);
	tcase_add_test(tc, test_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ra_test_main(loudness_suite());
}
