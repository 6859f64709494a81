/* Unit tests for the job's plan: from a config and an input's header
 * alone, every route (exact integer copy, exact double copy, the float
 * chain), the rates, the EQ designed at the output rate, gain, normalize,
 * dither, conversion, non-finite handling and the spectrum taps, and every
 * refusal, each expectation worked out here from the rules in job.h. No
 * file is read or written. */
#include <check.h>
#include <math.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>

#include "rustyaudio/job.h"
#include "testutil.h"

static ra_audio_info header(int format, int channels, int rate, int64_t frames)
{
	ra_audio_info in;

	memset(&in, 0, sizeof(in));
	in.format = format;
	in.channels = channels;
	in.sample_rate = rate;
	in.frames = frames;
	return in;
}

static const ra_audio_info pcm16 = { .frames = 44100,
				     .sample_rate = 44100,
				     .channels = 2,
				     .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };

/* Plan CFG (the defaults when NULL) for IN into OUT; must succeed. */
static ra_job_plan plan_ok(const ra_job_config *cfg, const ra_audio_info *in, const char *out)
{
	ra_job_config defaults;
	ra_job_plan p;
	ra_diag diag = { { 0 } };
	ra_status st;

	ra_job_config_init(&defaults);
	st = ra_job_plan_init(&p, cfg ? cfg : &defaults, in, 0, out, &diag);
	ck_assert_msg(st == RA_OK, "%s", diag.text);
	return p;
}

/* Plan CFG for IN into OUT; must be refused with WANT and a message
 * holding NEEDLE. */
static ra_job_plan plan_refused(const ra_job_config *cfg, const ra_audio_info *in, const char *out,
				ra_status want, const char *needle)
{
	ra_job_plan p;
	ra_diag diag = { { 0 } };

	ck_assert_int_eq(ra_job_plan_init(&p, cfg, in, 0, out, &diag), want);
	ck_assert_msg(strstr(diag.text, needle), "'%s' lacks '%s'", diag.text, needle);
	return p;
}

/* ---- routes ---- */

START_TEST(test_copy_int)
{
	ra_audio_info alaw;
	ra_job_config cfg;
	ra_job_plan p = plan_ok(NULL, &pcm16, "x.wav");

	ck_assert_int_eq(p.route, RA_JOB_ROUTE_COPY_INT);
	ck_assert_int_eq(p.channels, 2);
	ck_assert_int_eq(p.in_rate, 44100);
	ck_assert_int_eq(p.out_rate, 44100);
	ck_assert_int_eq(p.in_frames, 44100);
	ck_assert_int_eq(p.out_frames, 44100);
	ck_assert_uint_eq(p.block_frames, 4096);
	ck_assert_int_eq(p.in_bits, 16);
	ck_assert_int_eq(p.out_format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
	ck_assert_int_eq(p.out_bits, 16);
	ck_assert_int_eq(p.processing, 0);
	ck_assert_int_eq(p.convert, 0);
	ck_assert_int_eq(p.dither, 0);
	ck_assert_int_eq(p.screen, 0); /* integers are always finite */
	ck_assert_int_eq(p.tap_in + p.tap_out, 0);
	ck_assert(p.gain == 1.0f);
	/* Into a wider integer: still exact. */
	ra_job_config_init(&cfg);
	cfg.format_subtype = SF_FORMAT_PCM_24;
	p = plan_ok(&cfg, &pcm16, "x.wav");
	ck_assert_int_eq(p.route, RA_JOB_ROUTE_COPY_INT);
	ck_assert_int_eq(p.out_bits, 24);
	/* A-law decodes to 16-bit integers exactly. */
	alaw = header(SF_FORMAT_WAV | SF_FORMAT_ALAW, 1, 8000, 8000);
	ck_assert_int_eq(plan_ok(NULL, &alaw, "x.wav").in_bits, 16);
}
END_TEST

START_TEST(test_copy_double)
{
	ra_job_config cfg;
	ra_job_plan p;
	ra_diag diag;
	ra_audio_info in = header(SF_FORMAT_WAV | SF_FORMAT_FLOAT, 1, 48000, 1000);

	ra_job_config_init(&cfg);
	cfg.format_subtype = SF_FORMAT_DOUBLE;
	p = plan_ok(&cfg, &in, "x.wav");
	ck_assert_int_eq(p.route, RA_JOB_ROUTE_COPY_DOUBLE);
	ck_assert_int_eq(p.in_bits, 0);
	ck_assert_int_eq(p.screen, 1);
	ck_assert_int_eq(p.convert, 0);
	ck_assert_int_eq(p.out_format, SF_FORMAT_WAV | SF_FORMAT_DOUBLE);
	/* Integers into double: not an integer copy, a double one. */
	p = plan_ok(&cfg, &pcm16, "x.wav");
	ck_assert_int_eq(p.route, RA_JOB_ROUTE_COPY_DOUBLE);
	/* A generated signal always goes through the chain. */
	ck_assert_int_eq(ra_job_plan_init(&p, &cfg, &in, 1, "x.wav", &diag), RA_OK);
	ck_assert_int_eq(p.route, RA_JOB_ROUTE_FLOAT);
	ck_assert_int_eq(p.screen, 0);
}
END_TEST

START_TEST(test_float_chain)
{
	ra_job_config cfg;
	ra_job_plan p;
	ra_audio_info in = header(SF_FORMAT_WAV | SF_FORMAT_FLOAT, 2, 48000, 1000);
	ra_audio_info pcm24 = header(SF_FORMAT_WAV | SF_FORMAT_PCM_24, 2, 48000, 1000);

	ra_job_config_init(&cfg);
	cfg.format_subtype = SF_FORMAT_PCM_16;
	p = plan_ok(&cfg, &in, "x.wav");
	ck_assert_int_eq(p.route, RA_JOB_ROUTE_FLOAT);
	ck_assert_int_eq(p.processing, 0);
	ck_assert_int_eq(p.convert, 1);
	ck_assert_int_eq(p.dither, 1); /* float has more precision than 16 bits */
	/* Narrower integers need the chain, and dither. */
	p = plan_ok(&cfg, &pcm24, "x.wav");
	ck_assert_int_eq(p.route, RA_JOB_ROUTE_FLOAT);
	ck_assert_int_eq(p.dither, 1);
	cfg.dither = RA_DITHER_MODE_NONE;
	ck_assert_int_eq(plan_ok(&cfg, &pcm24, "x.wav").dither, 0);
	/* No dither beyond 24 bits, even when asked. */
	cfg.dither = RA_DITHER_MODE_TPDF;
	cfg.format_subtype = SF_FORMAT_PCM_32;
	p = plan_ok(&cfg, &in, "x.wav");
	ck_assert_int_eq(p.out_bits, 32);
	ck_assert_int_eq(p.dither, 0);
	/* Float to float: nothing to convert. */
	cfg.format_subtype = 0;
	p = plan_ok(&cfg, &in, "x.wav");
	ck_assert_int_eq(p.route, RA_JOB_ROUTE_FLOAT);
	ck_assert_int_eq(p.convert, 0);
	/* A codec takes floats, clipped to full scale, undithered. */
	p = plan_ok(&cfg, &in, "x.ogg");
	ck_assert_int_eq(p.out_format & SF_FORMAT_TYPEMASK, SF_FORMAT_OGG);
	ck_assert_int_eq(p.out_bits, 0);
	ck_assert_int_eq(p.convert, 1);
	ck_assert_int_eq(p.dither, 0);
}
END_TEST

START_TEST(test_resample)
{
	ra_job_config cfg;
	ra_job_plan p;
	ra_audio_info unknown = pcm16;

	ra_job_config_init(&cfg);
	cfg.out_rate = 48000;
	p = plan_ok(&cfg, &pcm16, "x.wav");
	ck_assert_int_eq(p.route, RA_JOB_ROUTE_FLOAT);
	ck_assert_int_eq(p.in_rate, 44100);
	ck_assert_int_eq(p.out_rate, 48000);
	ck_assert_int_eq(p.out_frames, 48000); /* one second */
	ck_assert_int_eq(p.processing, 1);
	ck_assert_int_eq(p.dither, 1);
	/* 1000 frames at 44.1 kHz: 1088.43 at 48 kHz, rounded. */
	unknown.frames = 1000;
	ck_assert_int_eq(plan_ok(&cfg, &unknown, "x.wav").out_frames, 1088);
	unknown.frames = -1;
	ck_assert_int_eq(plan_ok(&cfg, &unknown, "x.wav").out_frames, -1);
}
END_TEST

/* The RBJ cookbook's peaking filter, normalised by a0. */
static ra_biquad_coeffs rbj_peak(double f0, double gain_db, double q, double rate)
{
	double a = pow(10.0, gain_db / 40.0), w0 = 2.0 * M_PI * f0 / rate;
	double alpha = sin(w0) / (2.0 * q), a0 = 1.0 + alpha / a;

	return (ra_biquad_coeffs){ (1.0 + alpha * a) / a0, -2.0 * cos(w0) / a0,
				   (1.0 - alpha * a) / a0, -2.0 * cos(w0) / a0,
				   (1.0 - alpha / a) / a0 };
}

START_TEST(test_eq_designed_at_the_output_rate)
{
	ra_job_config cfg;
	ra_eq eq = { 0 };
	ra_job_plan p;
	ra_biquad_coeffs want = rbj_peak(1000.0, 6.0, 2.0, 48000.0);

	ck_assert_int_eq(ra_eq_add(&eq, "peak:1k:6:2", NULL), RA_OK);
	ra_job_config_init(&cfg);
	cfg.eq = &eq;
	cfg.out_rate = 48000;
	p = plan_ok(&cfg, &pcm16, "x.wav");
	ck_assert_int_eq(p.band_count, 1);
	ck_assert_double_eq_tol(p.bands[0].b0, want.b0, 1e-12);
	ck_assert_double_eq_tol(p.bands[0].b1, want.b1, 1e-12);
	ck_assert_double_eq_tol(p.bands[0].b2, want.b2, 1e-12);
	ck_assert_double_eq_tol(p.bands[0].a1, want.a1, 1e-12);
	ck_assert_double_eq_tol(p.bands[0].a2, want.a2, 1e-12);
	/* The same band without a rate change: processing, the float chain. */
	cfg.out_rate = 0;
	p = plan_ok(&cfg, &pcm16, "x.wav");
	ck_assert_int_eq(p.route, RA_JOB_ROUTE_FLOAT);
	ck_assert_int_eq(p.processing, 1);
	ck_assert_double_eq_tol(p.bands[0].b1, rbj_peak(1000.0, 6.0, 2.0, 44100.0).b1, 1e-12);
	/* An empty EQ is none. */
	eq.count = 0;
	p = plan_ok(&cfg, &pcm16, "x.wav");
	ck_assert_int_eq(p.band_count, 0);
	ck_assert_int_eq(p.route, RA_JOB_ROUTE_COPY_INT);
}
END_TEST

START_TEST(test_gain_only)
{
	ra_job_config cfg;
	ra_job_plan p;

	ra_job_config_init(&cfg);
	cfg.gain_db = -6.0;
	p = plan_ok(&cfg, &pcm16, "x.wav");
	ck_assert_int_eq(p.route, RA_JOB_ROUTE_FLOAT);
	ck_assert_int_eq(p.processing, 1);
	ck_assert_float_eq_tol(p.gain, (float)pow(10.0, -6.0 / 20.0), 1e-7f);
	ck_assert_int_eq(p.band_count, 0);
	ck_assert_int_eq(p.dither, 1); /* processed 16 bits back into 16 */
	ck_assert_int_eq(p.normalize, 0);
}
END_TEST

START_TEST(test_normalize)
{
	ra_job_config cfg;
	ra_job_plan p;

	ra_job_config_init(&cfg);
	cfg.normalize = 1;
	p = plan_ok(&cfg, &pcm16, "x.wav");
	ck_assert_int_eq(p.normalize, 1);
	ck_assert_int_eq(p.processing, 1);
	ck_assert_int_eq(p.route, RA_JOB_ROUTE_FLOAT);
	ck_assert(p.gain == 1.0f); /* the measuring pass finds the rest */
	/* --analyze measures once, and never normalizes. */
	cfg.analyze = 1;
	p = plan_ok(&cfg, &pcm16, NULL);
	ck_assert_int_eq(p.normalize, 0);
	ck_assert_int_eq(p.analyze, 1);
}
END_TEST

START_TEST(test_analyze)
{
	ra_job_config cfg;
	ra_spectrum_request req = { .fft_size = 4096, .window = RA_WINDOW_FLATTOP };
	ra_audio_info short_in = header(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 8000, 1000);
	ra_job_plan p;

	ra_job_config_init(&cfg);
	cfg.analyze = 1;
	cfg.format_subtype = SF_FORMAT_FLOAT; /* no output: not looked at */
	p = plan_ok(&cfg, &pcm16, NULL);
	ck_assert_int_eq(p.route, RA_JOB_ROUTE_FLOAT);
	ck_assert_int_eq(p.out_format, 0);
	ck_assert_int_eq(p.convert + p.dither + p.tap_in, 0);
	ck_assert_int_eq(p.tap_out, 1);
	ck_assert_uint_eq(p.spectrum.fft_size, 2048);
	ck_assert_int_eq(p.spectrum.window, RA_WINDOW_HANN);
	ck_assert_double_eq(p.spectrum.overlap, 0.5);
	/* Shorter than a segment: no spectrum, not a refusal. */
	p = plan_ok(&cfg, &short_in, NULL);
	ck_assert_int_eq(p.tap_out, 0);
	/* The request's settings; 1000 frames at 8 kHz are 6000 at 48 kHz. */
	cfg.spectrum = &req;
	cfg.out_rate = 48000;
	p = plan_ok(&cfg, &short_in, NULL);
	ck_assert_int_eq(p.tap_out, 1);
	ck_assert_uint_eq(p.spectrum.fft_size, 4096);
	ck_assert_int_eq(p.spectrum.window, RA_WINDOW_FLATTOP);
}
END_TEST

/* Releasing frees the summary, and takes a released result or NULL. */
START_TEST(test_result_release)
{
	ra_job_result res = { .summary = calloc(2, sizeof(ra_channel_summary)) };

	ck_assert_ptr_nonnull(res.summary);
	ra_job_result_release(&res);
	ck_assert_ptr_null(res.summary);
	ra_job_result_release(&res);
	ra_job_result_release(NULL);
}
END_TEST

START_TEST(test_taps)
{
	ra_job_config cfg;
	ra_spectrum_request req = { .fft_size = 2048, .of_input = 1, .csv_path = "s.csv" };
	ra_job_plan p;

	ra_job_config_init(&cfg);
	cfg.spectrum = &req;
	p = plan_ok(&cfg, &pcm16, "x.wav");
	ck_assert_int_eq(p.tap_in, 1);
	ck_assert_int_eq(p.tap_out, 0);
	ck_assert_str_eq(p.spectrum.csv_path, "s.csv");
	ck_assert_int_eq(p.route, RA_JOB_ROUTE_COPY_INT); /* taps change no route */
	req.of_input = 0;
	req.spectrogram_path = "g.csv"; /* fed by the output tap */
	p = plan_ok(&cfg, &pcm16, "x.wav");
	ck_assert_int_eq(p.tap_in, 0);
	ck_assert_int_eq(p.tap_out, 1);
	req.spectrogram_path = NULL;
	req.of_output = 1;
	ck_assert_int_eq(plan_ok(&cfg, &pcm16, "x.wav").tap_out, 1);
}
END_TEST

START_TEST(test_nonfinite_modes)
{
	ra_job_config cfg;
	ra_audio_info in = header(SF_FORMAT_WAV | SF_FORMAT_FLOAT, 1, 48000, 1000);

	ra_job_config_init(&cfg);
	ck_assert_int_eq(plan_ok(&cfg, &in, "x.wav").nonfinite_fails, 1);
	cfg.nonfinite = RA_NONFINITE_ZERO;
	ck_assert_int_eq(plan_ok(&cfg, &in, "x.wav").nonfinite_fails, 0);
	cfg.nonfinite = RA_NONFINITE_PASS;
	ck_assert_int_eq(plan_ok(&cfg, &in, "x.wav").nonfinite_fails, 0);
	cfg.gain_db = 3.0; /* processed, at the same rate */
	ck_assert_int_eq(plan_ok(&cfg, &in, "x.wav").nonfinite_fails, 0);
	/* A rate change has no "same frame" to put them back at. */
	cfg.out_rate = 44100;
	ck_assert_int_eq(plan_ok(&cfg, &in, "x.wav").nonfinite_fails, 1);
	cfg.nonfinite = RA_NONFINITE_ZERO;
	ck_assert_int_eq(plan_ok(&cfg, &in, "x.wav").nonfinite_fails, 0);
}
END_TEST

/* ---- refusals ---- */

START_TEST(test_block_size_refused)
{
	ra_job_config cfg;
	ra_job_plan p;

	ra_job_config_init(&cfg);
	cfg.block_frames = 0;
	p = plan_refused(&cfg, &pcm16, "x.wav", RA_ERR_INVALID, "block size must be 1 to");
	ck_assert_int_eq(p.channels, 0); /* refused before the header */
	cfg.block_frames = RA_MAX_BLOCK_FRAMES + 1;
	plan_refused(&cfg, &pcm16, "x.wav", RA_ERR_INVALID, "block size");
	cfg.block_frames = RA_MAX_BLOCK_FRAMES;
	ck_assert_uint_eq(plan_ok(&cfg, &pcm16, "x.wav").block_frames, RA_MAX_BLOCK_FRAMES);
}
END_TEST

START_TEST(test_rate_out_of_range_refused)
{
	ra_job_config cfg;
	ra_job_plan p;

	ra_job_config_init(&cfg);
	cfg.out_rate = RA_MAX_SAMPLE_RATE + 1;
	p = plan_refused(&cfg, &pcm16, "x.wav", RA_ERR_INVALID, "unsupported output rate 4000001");
	ck_assert_int_eq(p.channels, 0);
	cfg.out_rate = -8000;
	plan_refused(&cfg, &pcm16, "x.wav", RA_ERR_INVALID, "unsupported output rate -8000 Hz");
	cfg.out_rate = RA_MAX_SAMPLE_RATE;
	ck_assert_int_eq(plan_ok(&cfg, &pcm16, "x.wav").out_rate, RA_MAX_SAMPLE_RATE);
}
END_TEST

START_TEST(test_eq_above_nyquist_refused)
{
	ra_job_config cfg;
	ra_eq eq = { 0 };
	ra_job_plan p;
	ra_audio_info in48k = header(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 48000, 48000);

	ck_assert_int_eq(ra_eq_add(&eq, "peak:5k:3", NULL), RA_OK);
	ra_job_config_init(&cfg);
	cfg.eq = &eq;
	ck_assert_int_eq(plan_ok(&cfg, &in48k, "x.wav").band_count, 1);
	/* Fine at the input's rate, not at the output's 8 kHz. */
	cfg.out_rate = 8000;
	p = plan_refused(&cfg, &in48k, "x.wav", RA_ERR_INVALID, "'peak:5k:3'");
	ck_assert_int_eq(p.channels, 0);
}
END_TEST

START_TEST(test_unsupported_format_refused)
{
	ra_job_config cfg;
	ra_job_plan p;
	ra_audio_info nine = header(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 9, 48000, 1000);

	ra_job_config_init(&cfg);
	cfg.format_major = SF_FORMAT_FLAC;
	cfg.format_subtype = SF_FORMAT_FLOAT;
	p = plan_refused(&cfg, &pcm16, "x.flac", RA_ERR_UNSUPPORTED, "cannot write float to flac");
	ck_assert_int_eq(p.channels, 2); /* the header was taken */
	ck_assert_int_eq(p.out_format, 0);
	/* FLAC holds up to 8 channels. */
	cfg.format_subtype = 0;
	plan_refused(&cfg, &nine, "x.flac", RA_ERR_UNSUPPORTED, "with 9 channels");
	nine.channels = 8;
	ck_assert_int_eq(plan_ok(&cfg, &nine, "x.flac").out_format,
			 SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
}
END_TEST

START_TEST(test_fft_longer_than_input_refused)
{
	ra_job_config cfg;
	ra_spectrum_request req = { .fft_size = 4096, .of_output = 1, .csv_path = "s.csv" };
	ra_audio_info in = header(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 8000, 1000);
	ra_job_plan p;

	ra_job_config_init(&cfg);
	cfg.spectrum = &req;
	p = plan_refused(&cfg, &in, "x.wav", RA_ERR_INVALID,
			 "1000 frames is shorter than one fft segment (4096 frames)");
	ck_assert_int_eq(p.tap_out, 0);
	/* The length that counts is at the output rate: 6000 frames. */
	cfg.out_rate = 48000;
	ck_assert_int_eq(plan_ok(&cfg, &in, "x.wav").tap_out, 1);
	cfg.out_rate = 16000;
	plan_refused(&cfg, &in, "x.wav", RA_ERR_INVALID, "2000 frames is shorter");
	/* An unknown length is not refused. */
	in.frames = -1;
	ck_assert_int_eq(plan_ok(&cfg, &in, "x.wav").tap_out, 1);
}
END_TEST

/* The dither modes' names, as --stats-json reports them. */
START_TEST(test_dither_mode_names)
{
	ck_assert_str_eq(ra_dither_mode_name(RA_DITHER_MODE_AUTO), "auto");
	ck_assert_str_eq(ra_dither_mode_name(RA_DITHER_MODE_TPDF), "tpdf");
	ck_assert_str_eq(ra_dither_mode_name(RA_DITHER_MODE_NONE), "none");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("job");
	TCase *tc = tcase_create("routes");

	tcase_add_test(tc, test_dither_mode_names);
	tcase_add_test(tc, test_copy_int);
	tcase_add_test(tc, test_copy_double);
	tcase_add_test(tc, test_float_chain);
	tcase_add_test(tc, test_resample);
	tcase_add_test(tc, test_eq_designed_at_the_output_rate);
	tcase_add_test(tc, test_gain_only);
	tcase_add_test(tc, test_normalize);
	tcase_add_test(tc, test_analyze);
	tcase_add_test(tc, test_result_release);
	tcase_add_test(tc, test_taps);
	tcase_add_test(tc, test_nonfinite_modes);
	suite_add_tcase(s, tc);
	tc = tcase_create("refusals");
	tcase_add_test(tc, test_block_size_refused);
	tcase_add_test(tc, test_rate_out_of_range_refused);
	tcase_add_test(tc, test_eq_above_nyquist_refused);
	tcase_add_test(tc, test_unsupported_format_refused);
	tcase_add_test(tc, test_fft_longer_than_input_refused);
	suite_add_tcase(s, tc);
	return ra_test_main(s);
}
