/* Unit tests for the segmented FLAC encoder: its streams are byte for byte
 * those libsndfile's own FLAC writer makes of the same samples (one libFLAC
 * encoder over the whole stream), for any number of threads and any size of
 * write; frame numbers of every coded length; tags; an empty stream; and a
 * failing output. */
#include <check.h>
#include <math.h>
#include <sndfile.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rustyaudio/flac.h"
#include "testutil.h"

/* An output in memory, written at offsets. */
typedef struct mem_out {
	uint8_t *data;
	size_t len, cap;
	int puts, fail_at; /* fail the put numbered FAIL_AT (from 1; 0 never) */
} mem_out;

static int mem_put(void *ctx, uint64_t offset, const void *buf, size_t len, ra_diag *diag)
{
	mem_out *m = ctx;

	if (++m->puts == m->fail_at) {
		ra_diag_set(diag, "write error: No space left on device");
		return -1;
	}
	if (offset + len > m->cap) {
		m->cap = (offset + len) * 2;
		m->data = realloc(m->data, m->cap);
		ck_assert_ptr_nonnull(m->data);
	}
	memcpy(m->data + offset, buf, len);
	if (offset + len > m->len)
		m->len = offset + len;
	return 0;
}

typedef struct shape {
	int rate, channels, bits;
	size_t frames;
} shape;

/* Left-justified samples of S: a tone, noise, a silent stretch and a loud
 * one, so that frames take every kind of subframe. */
static int32_t *signal_of(const shape *s, unsigned seed)
{
	const size_t n = s->frames * (size_t)s->channels;
	const int shift = 32 - s->bits;
	const double top = ldexp(1.0, s->bits - 1) - 1.0;
	int32_t *x = malloc((n ? n : 1) * sizeof(*x));

	ck_assert_ptr_nonnull(x);
	for (size_t i = 0; i < n; i++) {
		size_t t = i / (size_t)s->channels;
		double v = 0.4 * sin(0.013 * (double)t * (1 + (double)(i % (size_t)s->channels)));

		seed = seed * 1103515245u + 12345u;
		v += 0.1 * ((double)(seed >> 8) / 16777216.0 - 0.5);
		if (t % 50000 < 5000)
			v = 0.0;
		else if (t % 70000 < 3000)
			v *= 2.4;
		v = v > 1.0 ? 1.0 : v < -1.0 ? -1.0 : v;
		x[i] = (int32_t)lrint(v * top) * (1 << shift);
	}
	return x;
}

/* What libsndfile writes for X, with the title and artist when given. */
static uint8_t *libsndfile_flac(const shape *s, const int32_t *x, const char *title,
				const char *artist, size_t *len)
{
	char *dir = ra_test_mkdtemp(), *path = ra_test_path(dir, "ref.flac");
	int sub = s->bits == 8	  ? SF_FORMAT_PCM_S8
		  : s->bits == 16 ? SF_FORMAT_PCM_16
				  : SF_FORMAT_PCM_24;
	SF_INFO info = { .samplerate = s->rate,
			 .channels = s->channels,
			 .format = SF_FORMAT_FLAC | sub };
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
	uint8_t *bytes;

	ck_assert_msg(sf != NULL, "%s", sf_strerror(NULL));
	if (title)
		sf_set_string(sf, SF_STR_TITLE, title);
	if (artist)
		sf_set_string(sf, SF_STR_ARTIST, artist);
	if (s->frames == 0)
		sf_command(sf, SFC_UPDATE_HEADER_NOW, NULL, 0);
	ck_assert_int_eq(sf_writef_int(sf, x, (sf_count_t)s->frames), (sf_count_t)s->frames);
	ck_assert_int_eq(sf_close(sf), 0);
	bytes = (uint8_t *)ra_test_slurp(path, len);
	free(path);
	ra_test_rmtree(dir);
	return bytes;
}

/* X through ra_flac on THREADS (0: no pool), CHUNK frames a write. */
static void encode(const shape *s, const int32_t *x, int threads, size_t chunk, const char *title,
		   const char *artist, mem_out *m)
{
	ra_workers *w = threads ? ra_workers_create(threads, NULL, NULL) : NULL;
	ra_status st = RA_ERR_NOMEM;
	ra_diag diag = { "" };
	ra_flac *f = ra_flac_create(s->rate, s->channels, s->bits, mem_put, m, &st, &diag);

	ck_assert_msg(f != NULL, "%s", diag.text);
	ck_assert_int_eq(st, RA_OK);
	ck_assert(!threads || w);
	ra_flac_set_workers(f, w);
	if (title)
		ck_assert_int_eq(ra_flac_tag(f, "title", title), RA_OK);
	if (artist)
		ck_assert_int_eq(ra_flac_tag(f, "artist", artist), RA_OK);
	for (size_t at = 0, n; at < s->frames; at += n) {
		n = s->frames - at < chunk ? s->frames - at : chunk;
		ck_assert_int_eq(ra_flac_write(f, x + at * (size_t)s->channels, n, &diag), RA_OK);
	}
	ck_assert_msg(ra_flac_finish(f, &diag) == RA_OK, "%s", diag.text);
	ra_flac_destroy(f);
	ra_workers_destroy(w);
}

/* The first byte at which A and B differ, or -1. */
static long first_difference(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	for (size_t i = 0; i < alen && i < blen; i++)
		if (a[i] != b[i])
			return (long)i;
	return alen == blen ? -1 : (long)(alen < blen ? alen : blen);
}

static void check_same_as_libsndfile(const shape *s, const int *threads, size_t nthreads,
				     const size_t *chunks, size_t nchunks)
{
	int32_t *x = signal_of(s, (unsigned)s->frames);
	size_t ref_len;
	uint8_t *ref = libsndfile_flac(s, x, NULL, NULL, &ref_len);

	for (size_t t = 0; t < nthreads; t++)
		for (size_t c = 0; c < nchunks; c++) {
			mem_out m = { 0 };
			long at;

			encode(s, x, threads[t], chunks[c], NULL, NULL, &m);
			at = first_difference(m.data, m.len, ref, ref_len);
			ck_assert_msg(
				at < 0,
				"%d ch %d-bit %zu frames, threads %d, writes of %zu: %zu bytes "
				"against libsndfile's %zu, first difference at byte %ld",
				s->channels, s->bits, s->frames, threads[t], chunks[c], m.len,
				ref_len, at);
			free(m.data);
		}
	free(ref);
	free(x);
}

/* Several segments (a stereo segment is 64 blocks of 4096 frames) and a
 * short last block. */
START_TEST(test_stereo_16_bit)
{
	const shape s = { 48000, 2, 16, 3 * 262144 + 12345 };
	const int threads[] = { 0, 1, 2, 3 };
	const size_t chunks[] = { 1000, 65537 };

	check_same_as_libsndfile(&s, threads, 4, chunks, 2);
}
END_TEST

START_TEST(test_other_shapes)
{
	const shape shapes[] = {
		{ 96000, 1, 24, 600000 }, { 44100, 6, 16, 200001 }, { 8000, 1, 8, 10000 },
		{ 22050, 8, 24, 70000 },  { 48000, 2, 16, 1 },	    { 48000, 2, 16, 4096 },
	};
	const int threads[] = { 0, 2 };
	const size_t chunks[] = { 4096 };

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		check_same_as_libsndfile(&shapes[i], threads, 2, chunks, 1);
}
END_TEST

/* Frame numbers past 127 and 2047 take two and three bytes in the header:
 * every renumbered frame's header and CRCs must still match. */
START_TEST(test_long_frame_numbers)
{
	const shape s = { 8000, 1, 8, 2050 * 4096 + 77 };
	const int threads[] = { 2 };
	const size_t chunks[] = { 1 << 20 };

	check_same_as_libsndfile(&s, threads, 1, chunks, 1);
}
END_TEST

/* Lengths of whole segments (64 stereo blocks): the last one went to the
 * workers as it filled, and finishing must not send it again, whether its
 * slot was put already or not. */
START_TEST(test_whole_segments)
{
	const int threads[] = { 0, 1, 2 };
	const size_t chunks[] = { 262144 };
	const size_t counts[] = { 1, 2, 6 };

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		const shape s = { 48000, 2, 16, counts[i] * 262144 };

		check_same_as_libsndfile(&s, threads, 3, chunks, 1);
	}
}
END_TEST

START_TEST(test_empty_stream)
{
	const shape s = { 44100, 2, 16, 0 };
	const int threads[] = { 0, 2 };
	const size_t chunks[] = { 4096 };

	check_same_as_libsndfile(&s, threads, 2, chunks, 1);
}
END_TEST

START_TEST(test_tags)
{
	const shape s = { 48000, 2, 24, 300000 };
	int32_t *x = signal_of(&s, 7);
	size_t ref_len;
	uint8_t *ref = libsndfile_flac(&s, x, "A title", "\xc3\x89mile", &ref_len);
	mem_out m = { 0 };

	encode(&s, x, 2, 10000, "A title", "\xc3\x89mile", &m);
	ck_assert_int_eq(first_difference(m.data, m.len, ref, ref_len), -1);
	free(m.data);
	free(ref);
	free(x);
}
END_TEST

/* A put that fails: the failure comes back, and again on every later call;
 * destroy still waits for the tasks in flight. */
START_TEST(test_put_failure)
{
	const shape s = { 48000, 2, 16, 12 * 262144 };
	int32_t *x = signal_of(&s, 3);
	ra_workers *w = ra_workers_create(2, NULL, NULL);
	mem_out m = { .fail_at = 2 };
	ra_diag diag = { "" };
	ra_flac *f = ra_flac_create(s.rate, s.channels, s.bits, mem_put, &m, NULL, &diag);
	ra_status st = RA_OK;

	ck_assert_ptr_nonnull(f);
	ra_flac_set_workers(f, w);
	for (size_t at = 0; st == RA_OK && at < s.frames; at += 4096)
		st = ra_flac_write(f, x + at * 2, 4096, &diag);
	if (st == RA_OK)
		st = ra_flac_finish(f, &diag);
	ck_assert_int_eq(st, RA_ERR_WRITE);
	ck_assert_str_eq(diag.text, "write error: No space left on device");
	ck_assert_int_eq(ra_flac_write(f, x, 4096, &diag), RA_ERR_WRITE);
	ck_assert_int_eq(ra_flac_finish(f, &diag), RA_ERR_WRITE);
	ra_flac_destroy(f);
	ra_workers_destroy(w);
	free(m.data);
	free(x);
}
END_TEST

START_TEST(test_create_rejects)
{
	const int bad[][3] = { { 48000, 9, 16 }, { 48000, 2, 32 },  { 48000, 2, 12 },
			       { 0, 2, 16 },	 { 655351, 1, 16 }, { 48000, 0, 16 } };
	mem_out m = { 0 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ra_status st = RA_OK;
		ra_diag diag = { "" };

		ck_assert_ptr_null(
			ra_flac_create(bad[i][0], bad[i][1], bad[i][2], mem_put, &m, &st, &diag));
		ck_assert_int_eq(st, RA_ERR_UNSUPPORTED);
		ck_assert_ptr_nonnull(strstr(diag.text, "FLAC"));
	}
	ra_flac_destroy(NULL);
}
END_TEST

static Suite *flac_suite(void)
{
	Suite *s = suite_create("flac");
	TCase *tc = tcase_create("behaviour");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_stereo_16_bit);
	tcase_add_test(tc, test_other_shapes);
	tcase_add_test(tc, test_long_frame_numbers);
	tcase_add_test(tc, test_tags);
	suite_add_tcase(s, tc);

	tc = tcase_create("edges");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_empty_stream);
	tcase_add_test(tc, test_whole_segments);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_put_failure);
	tcase_add_test(tc, test_create_rejects);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ra_test_main(flac_suite());
}
