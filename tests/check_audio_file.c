/* Unit tests for audio files: format names and output format choice, the
 * reader, the atomic writer, same-file detection and metadata carried
 * across. */
#include <check.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include "rustyaudio/audio_file.h"
#include "testutil.h"

#define WAV16 (SF_FORMAT_WAV | SF_FORMAT_PCM_16)
#define RATE 48000

/* splitmix64: seeded test signals. */
static uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* N random BITS-bit samples (right-justified), the extremes first. */
static int32_t *random_samples(size_t n, int bits, uint64_t seed)
{
	int32_t *s = malloc(n * sizeof(*s));

	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < n; i++)
		s[i] = (int32_t)(rng_next(&seed) >> (64 - bits)) - (1 << (bits - 1));
	if (n > 1) {
		s[0] = -(1 << (bits - 1));
		s[1] = (1 << (bits - 1)) - 1;
	}
	return s;
}

/* Write samples S (BITS-bit, right-justified) through ra_test_write_float:
 * s / 2^(BITS-1) is exact in a float. */
static void write_samples(const char *path, int format, int channels, const int32_t *s,
			  size_t frames, int bits)
{
	size_t n = frames * (size_t)channels;
	float *f = malloc((n + 1) * sizeof(*f));

	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < n; i++)
		f[i] = (float)s[i] / (float)(1 << (bits - 1));
	ra_test_write_float(path, format, RATE, channels, f, frames);
	free(f);
}

static ra_audio_info make_info(int format, int rate, int channels, int64_t frames)
{
	ra_audio_info info = {
		.frames = frames, .sample_rate = rate, .channels = channels, .format = format
	};

	return info;
}

static ra_reader *open_ok(const char *path)
{
	ra_status st = RA_ERR_NOMEM;
	ra_diag diag = { "" };
	ra_reader *rd = ra_reader_open(path, 0, NULL, &st, &diag);

	ck_assert_msg(rd != NULL, "cannot open %s: %s", path, diag.text);
	ck_assert_int_eq(st, RA_OK);
	return rd;
}

static ra_writer *writer_ok(const char *path, int format, int channels, int flags)
{
	ra_audio_info info = make_info(format, RATE, channels, 0);
	ra_status st = RA_ERR_NOMEM;
	ra_diag diag = { "" };
	ra_writer *wr = ra_writer_open(path, &info, flags, &st, &diag);

	ck_assert_msg(wr != NULL, "cannot write %s: %s", path, diag.text);
	ck_assert_int_eq(st, RA_OK);
	return wr;
}

static void commit_ok(ra_writer *wr)
{
	ra_diag diag = { "" };
	ra_status st = ra_writer_commit(wr, &diag);

	ck_assert_msg(st == RA_OK, "commit: %s (%s)", ra_strerror(st), diag.text);
}

/* The name of the only entry of DIR; caller frees. */
static char *only_entry(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *name = NULL;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		ck_assert_msg(name == NULL, "more than one entry in %s", dir);
		name = strdup(e->d_name);
	}
	closedir(d);
	ck_assert_ptr_nonnull(name);
	return name;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* Check that PATH holds FRAMES frames of CHANNELS channels of samples S
 * (BITS-bit) bit for bit. */
static void check_file_samples(const char *path, int channels, const int32_t *s, size_t frames,
			       int bits)
{
	SF_INFO info;
	int *got = ra_test_read_int(path, &info);
	size_t wrong = 0;

	ck_assert_ptr_nonnull(got);
	ck_assert_int_eq(info.channels, channels);
	ck_assert_int_eq(info.frames, (sf_count_t)frames);
	for (size_t i = 0; i < frames * (size_t)channels; i++)
		wrong += got[i] != (int)((uint32_t)s[i] << (32 - bits));
	ck_assert_uint_eq(wrong, 0);
	free(got);
}

/* ---- behaviour: names ---- */

START_TEST(test_format_parse_names)
{
	static const struct {
		const char *name;
		int major, subtype;
	} names[] = {
		{ "wav", SF_FORMAT_WAV, 0 },
		{ "wave", SF_FORMAT_WAV, 0 },
		{ "wavex", SF_FORMAT_WAVEX, 0 },
		{ "rf64", SF_FORMAT_RF64, 0 },
		{ "w64", SF_FORMAT_W64, 0 },
		{ "aiff", SF_FORMAT_AIFF, 0 },
		{ "aif", SF_FORMAT_AIFF, 0 },
		{ "flac", SF_FORMAT_FLAC, 0 },
		{ "ogg", SF_FORMAT_OGG, 0 },
		{ "oga", SF_FORMAT_OGG, 0 },
		{ "opus", SF_FORMAT_OGG, SF_FORMAT_OPUS },
		{ "mp3", SF_FORMAT_MPEG, SF_FORMAT_MPEG_LAYER_III },
		{ "caf", SF_FORMAT_CAF, 0 },
		{ "au", SF_FORMAT_AU, 0 },
		{ "WAV", SF_FORMAT_WAV, 0 },
		{ "Flac", SF_FORMAT_FLAC, 0 },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int major = -1, subtype = -1;

		ck_assert_msg(ra_format_parse(names[i].name, &major, &subtype) == RA_OK, "%s",
			      names[i].name);
		ck_assert_msg(major == names[i].major, "%s: major %#x", names[i].name, major);
		ck_assert_msg(subtype == names[i].subtype, "%s: subtype %#x", names[i].name,
			      subtype);
	}
}
END_TEST

START_TEST(test_subtype_parse_names)
{
	static const struct {
		const char *name;
		int subtype;
	} names[] = {
		{ "pcm8", SF_FORMAT_PCM_S8 },	     { "pcmu8", SF_FORMAT_PCM_U8 },
		{ "pcm16", SF_FORMAT_PCM_16 },	     { "pcm24", SF_FORMAT_PCM_24 },
		{ "pcm32", SF_FORMAT_PCM_32 },	     { "float", SF_FORMAT_FLOAT },
		{ "double", SF_FORMAT_DOUBLE },	     { "ulaw", SF_FORMAT_ULAW },
		{ "alaw", SF_FORMAT_ALAW },	     { "ima-adpcm", SF_FORMAT_IMA_ADPCM },
		{ "ms-adpcm", SF_FORMAT_MS_ADPCM },  { "gsm610", SF_FORMAT_GSM610 },
		{ "vorbis", SF_FORMAT_VORBIS },	     { "opus", SF_FORMAT_OPUS },
		{ "mp3", SF_FORMAT_MPEG_LAYER_III }, { "alac16", SF_FORMAT_ALAC_16 },
		{ "alac24", SF_FORMAT_ALAC_24 },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int subtype = -1;

		ck_assert_msg(ra_subtype_parse(names[i].name, &subtype) == RA_OK, "%s",
			      names[i].name);
		ck_assert_msg(subtype == names[i].subtype, "%s: %#x", names[i].name, subtype);
		/* Subtype names are unique: the name comes back exactly. */
		ck_assert_str_eq(ra_subtype_name(subtype), names[i].name);
		ck_assert_str_eq(ra_subtype_name(SF_FORMAT_WAV | subtype), names[i].name);
	}
}
END_TEST

/* Every major name's canonical name parses back to the same major type,
 * whatever subtype bits come with it. */
START_TEST(test_format_name_round_trip)
{
	static const char *const names[] = { "wav", "wave", "wavex", "rf64", "w64", "aiff",
					     "aif", "aifc", "flac",  "ogg",  "oga", "opus",
					     "caf", "au",   "snd",   "mp3",  "voc", "nist" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int major, subtype, major2, subtype2;
		const char *canon;

		ck_assert_int_eq(ra_format_parse(names[i], &major, &subtype), RA_OK);
		canon = ra_format_name(major | SF_FORMAT_PCM_16);
		ck_assert_str_ne(canon, "?");
		ck_assert_int_eq(ra_format_parse(canon, &major2, &subtype2), RA_OK);
		ck_assert_msg(major2 == major, "%s -> %s -> %#x", names[i], canon, major2);
	}
	ck_assert_str_eq(ra_format_name(WAV16), "wav");
	ck_assert_str_eq(ra_format_name(SF_FORMAT_FLAC | SF_FORMAT_PCM_24), "flac");
	ck_assert_str_eq(ra_subtype_name(SF_FORMAT_FLAC | SF_FORMAT_PCM_24), "pcm24");
}
END_TEST

START_TEST(test_pcm_bits_and_float)
{
	ck_assert_int_eq(ra_format_pcm_bits(SF_FORMAT_WAV | SF_FORMAT_PCM_U8), 8);
	ck_assert_int_eq(ra_format_pcm_bits(SF_FORMAT_AIFF | SF_FORMAT_PCM_S8), 8);
	ck_assert_int_eq(ra_format_pcm_bits(WAV16), 16);
	ck_assert_int_eq(ra_format_pcm_bits(SF_FORMAT_FLAC | SF_FORMAT_PCM_24), 24);
	ck_assert_int_eq(ra_format_pcm_bits(SF_FORMAT_WAV | SF_FORMAT_PCM_32), 32);
	ck_assert_int_eq(ra_format_pcm_bits(SF_FORMAT_WAV | SF_FORMAT_FLOAT), 0);
	ck_assert_int_eq(ra_format_pcm_bits(SF_FORMAT_WAV | SF_FORMAT_ULAW), 0);
	ck_assert_int_eq(ra_format_pcm_bits(SF_FORMAT_CAF | SF_FORMAT_ALAC_16), 0);
	ck_assert(ra_format_is_float(SF_FORMAT_WAV | SF_FORMAT_FLOAT));
	ck_assert(ra_format_is_float(SF_FORMAT_AIFF | SF_FORMAT_DOUBLE));
	ck_assert(!ra_format_is_float(WAV16));
	ck_assert(!ra_format_is_float(SF_FORMAT_OGG | SF_FORMAT_VORBIS));
}
END_TEST

/* ---- behaviour: choosing the output format ---- */

static int choose_ok(const ra_audio_info *in, const char *path, int major, int subtype,
		     int *fell_back)
{
	ra_diag diag = { "" };
	int out = 0;
	ra_status st;

	*fell_back = -1;
	st = ra_format_choose(in, path, major, subtype, &out, fell_back, &diag);
	ck_assert_msg(st == RA_OK, "%s: %s (%s)", path, ra_strerror(st), diag.text);
	ck_assert_int_ge(*fell_back, 0);
	return out;
}

START_TEST(test_choose_from_extension)
{
	ra_audio_info pcm16 = make_info(WAV16, 44100, 2, 44100);
	ra_audio_info opus_in = make_info(WAV16, 48000, 2, 48000);
	int fb;

	ck_assert_int_eq(choose_ok(&pcm16, "x.flac", 0, 0, &fb), SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
	ck_assert_int_eq(fb, 0);
	ck_assert_int_eq(choose_ok(&pcm16, "dir/x.FLAC", 0, 0, &fb),
			 SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
	ck_assert_int_eq(fb, 0);
	ck_assert_int_eq(choose_ok(&pcm16, "x.aiff", 0, 0, &fb), SF_FORMAT_AIFF | SF_FORMAT_PCM_16);
	ck_assert_int_eq(fb, 0);
	ck_assert_int_eq(choose_ok(&pcm16, "out.wav", 0, 0, &fb), WAV16);
	ck_assert_int_eq(fb, 0);
	/* Choosing a lossy container asks for its codec: not a fallback. */
	ck_assert_int_eq(choose_ok(&pcm16, "x.ogg", 0, 0, &fb), SF_FORMAT_OGG | SF_FORMAT_VORBIS);
	ck_assert_int_eq(fb, 0);
	ck_assert_int_eq(choose_ok(&opus_in, "x.opus", 0, 0, &fb), SF_FORMAT_OGG | SF_FORMAT_OPUS);
	ck_assert_int_eq(fb, 0);
	ck_assert_int_eq(choose_ok(&pcm16, "x.mp3", 0, 0, &fb),
			 SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III);
	ck_assert_int_eq(fb, 0);
}
END_TEST

START_TEST(test_choose_falls_back)
{
	ra_audio_info flt = make_info(SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 2, 1000);
	ra_audio_info pcm32 = make_info(SF_FORMAT_WAV | SF_FORMAT_PCM_32, 44100, 1, 1000);
	ra_audio_info ulaw = make_info(SF_FORMAT_WAV | SF_FORMAT_ULAW, 8000, 1, 1000);
	int fb;

	ck_assert_int_eq(choose_ok(&flt, "x.flac", 0, 0, &fb), SF_FORMAT_FLAC | SF_FORMAT_PCM_24);
	ck_assert_int_eq(fb, 1);
	ck_assert_int_eq(choose_ok(&pcm32, "x.flac", 0, 0, &fb), SF_FORMAT_FLAC | SF_FORMAT_PCM_24);
	ck_assert_int_eq(fb, 1);
	/* A <= 16-bit codec lands in pcm16. */
	ck_assert_int_eq(choose_ok(&ulaw, "x.flac", 0, 0, &fb), SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
	ck_assert_int_eq(fb, 1);
	/* Float in a container that holds it is kept. */
	ck_assert_int_eq(choose_ok(&flt, "x.aiff", 0, 0, &fb), SF_FORMAT_AIFF | SF_FORMAT_FLOAT);
	ck_assert_int_eq(fb, 0);
}
END_TEST

/* libsndfile reads MPEG Layer III in WAV but cannot write it: a lossless
 * subtype instead, and the caller told. */
START_TEST(test_choose_mp3_in_wav)
{
	ra_audio_info in = make_info(SF_FORMAT_WAV | SF_FORMAT_MPEG_LAYER_III, 44100, 1, 46080);
	int fb, out, sub;

	out = choose_ok(&in, "x.wav", 0, 0, &fb);
	sub = out & SF_FORMAT_SUBMASK;
	ck_assert_int_eq(out & SF_FORMAT_TYPEMASK, SF_FORMAT_WAV);
	ck_assert_msg(sub == SF_FORMAT_FLOAT || sub == SF_FORMAT_PCM_24, "subtype %#x", sub);
	ck_assert_int_eq(fb, 1);
}
END_TEST

START_TEST(test_choose_explicit_wins)
{
	ra_audio_info pcm16 = make_info(WAV16, 48000, 2, 1000);
	int fb;

	ck_assert_int_eq(choose_ok(&pcm16, "x.wav", SF_FORMAT_AIFF, 0, &fb),
			 SF_FORMAT_AIFF | SF_FORMAT_PCM_16);
	ck_assert_int_eq(fb, 0);
	ck_assert_int_eq(choose_ok(&pcm16, "x.flac", SF_FORMAT_WAV, SF_FORMAT_PCM_24, &fb),
			 SF_FORMAT_WAV | SF_FORMAT_PCM_24);
	ck_assert_int_eq(fb, 0);
	ck_assert_int_eq(choose_ok(&pcm16, "x.wav", 0, SF_FORMAT_FLOAT, &fb),
			 SF_FORMAT_WAV | SF_FORMAT_FLOAT);
	ck_assert_int_eq(fb, 0);
	/* An explicit Ogg written to .opus means Opus. */
	ck_assert_int_eq(choose_ok(&pcm16, "x.opus", SF_FORMAT_OGG, 0, &fb),
			 SF_FORMAT_OGG | SF_FORMAT_OPUS);
	ck_assert_int_eq(choose_ok(&pcm16, "x.ogg", SF_FORMAT_OGG, SF_FORMAT_OPUS, &fb),
			 SF_FORMAT_OGG | SF_FORMAT_OPUS);
}
END_TEST

/* ---- behaviour: reader ---- */

START_TEST(test_reader_pcm16)
{
	enum { FRAMES = 3001, CH = 2 };
	char *dir = ra_test_mkdtemp();
	char *path = ra_test_path(dir, "in.wav");
	int32_t *s = random_samples(FRAMES * CH, 16, 1);
	int32_t *ints = malloc(FRAMES * CH * sizeof(*ints));
	float *floats = malloc(FRAMES * CH * sizeof(*floats));
	double *doubles = malloc(FRAMES * CH * sizeof(*doubles));
	const ra_audio_info *info;
	ra_diag diag = { "" };
	ra_reader *rd;
	size_t got, wrong = 0;

	ck_assert_ptr_nonnull(ints);
	ck_assert_ptr_nonnull(floats);
	ck_assert_ptr_nonnull(doubles);
	write_samples(path, WAV16, CH, s, FRAMES, 16);

	rd = open_ok(path);
	info = ra_reader_info(rd);
	ck_assert_int_eq(info->frames, FRAMES);
	ck_assert_int_eq(info->sample_rate, RATE);
	ck_assert_int_eq(info->channels, CH);
	ck_assert_int_eq(info->format, WAV16);
	ck_assert_int_eq(ra_reader_read_int(rd, ints, FRAMES + 10, &got, &diag), RA_OK);
	ck_assert_uint_eq(got, FRAMES);
	for (size_t i = 0; i < FRAMES * CH; i++)
		wrong += ints[i] != (int32_t)((uint32_t)s[i] << 16);
	ck_assert_uint_eq(wrong, 0);
	ck_assert_int_eq(ra_reader_read_int(rd, ints, 16, &got, &diag), RA_OK);
	ck_assert_uint_eq(got, 0);
	ra_reader_destroy(rd);

	rd = open_ok(path);
	ck_assert_int_eq(ra_reader_read_float(rd, floats, FRAMES, &got, &diag), RA_OK);
	ck_assert_uint_eq(got, FRAMES);
	for (size_t i = 0; i < FRAMES * CH; i++)
		wrong += floats[i] != (float)s[i] / 32768.0f;
	ck_assert_uint_eq(wrong, 0);
	ck_assert(floats[0] == -1.0f);
	ra_reader_destroy(rd);

	rd = open_ok(path);
	ck_assert_int_eq(ra_reader_read_double(rd, doubles, FRAMES, &got, &diag), RA_OK);
	ck_assert_uint_eq(got, FRAMES);
	for (size_t i = 0; i < FRAMES * CH; i++)
		wrong += doubles[i] != (double)s[i] / 32768.0;
	ck_assert_uint_eq(wrong, 0);
	ra_reader_destroy(rd);

	free(s);
	free(ints);
	free(floats);
	free(doubles);
	free(path);
	ra_test_rmtree(dir);
}
END_TEST

START_TEST(test_same_file)
{
	char *dir = ra_test_mkdtemp();
	char *a = ra_test_path(dir, "a.wav");
	char *b = ra_test_path(dir, "b.wav");
	char *sym = ra_test_path(dir, "sym.wav");
	char *hard = ra_test_path(dir, "hard.wav");
	char *dotted = ra_test_path(dir, "./a.wav");
	char *missing = ra_test_path(dir, "missing.wav");

	write_text(a, "a");
	write_text(b, "a");
	ck_assert_int_eq(symlink(a, sym), 0);
	ck_assert_int_eq(link(a, hard), 0);
	ck_assert(ra_path_same_file(a, a));
	ck_assert(ra_path_same_file(a, dotted));
	ck_assert(ra_path_same_file(a, sym));
	ck_assert(ra_path_same_file(sym, a));
	ck_assert(ra_path_same_file(a, hard));
	ck_assert(ra_path_same_file(sym, hard));
	ck_assert(!ra_path_same_file(a, b));
	ck_assert(!ra_path_same_file(a, missing));
	ck_assert(!ra_path_same_file(missing, a));
	ck_assert(!ra_path_same_file(missing, missing));
	free(a);
	free(b);
	free(sym);
	free(hard);
	free(dotted);
	free(missing);
	ra_test_rmtree(dir);
}
END_TEST

/* ---- behaviour: writer ---- */

/* N random 16-bit samples (seed SEED) in S, and as the writer takes them
 * (left-justified) in the result. */
static int32_t *random_ints16(size_t n, uint64_t seed, int32_t **s)
{
	int32_t *ints = malloc(n * sizeof(*ints));

	ck_assert_ptr_nonnull(ints);
	*s = random_samples(n, 16, seed);
	for (size_t i = 0; i < n; i++)
		ints[i] = (int32_t)((uint32_t)(*s)[i] << 16);
	return ints;
}

/* PATH holds FRAMES frames of CH channels of S (16-bit); then S, INTS
 * and PATH are freed and DIR removed. */
static void check_and_remove(char *dir, char *path, int32_t *s, int32_t *ints, size_t frames,
			     int ch)
{
	check_file_samples(path, ch, s, frames, 16);
	free(s);
	free(ints);
	free(path);
	ra_test_rmtree(dir);
}

/* Nothing at the output path until commit: only a hidden temporary file
 * beside it; after commit only the output. */
START_TEST(test_writer_atomic)
{
	enum { FRAMES = 2000, CH = 2 };
	char *dir = ra_test_mkdtemp();
	char *path = ra_test_path(dir, "out.wav");
	int32_t *s;
	int32_t *ints = random_ints16(FRAMES * CH, 2, &s);
	ra_diag diag = { "" };
	ra_writer *wr;
	char *name;

	wr = writer_ok(path, WAV16, CH, 0);
	ck_assert_int_eq(access(path, F_OK), -1);
	name = only_entry(dir);
	ck_assert_msg(name[0] == '.', "temporary file %s is not hidden", name);
	free(name);
	ck_assert_int_eq(ra_writer_write_int(wr, ints, FRAMES / 2, &diag), RA_OK);
	ck_assert_int_eq(
		ra_writer_write_int(wr, ints + FRAMES / 2 * CH, FRAMES - FRAMES / 2, &diag), RA_OK);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(ra_test_dir_entries(dir), 1);
	commit_ok(wr);
	name = only_entry(dir);
	ck_assert_str_eq(name, "out.wav");
	free(name);
	check_and_remove(dir, path, s, ints, FRAMES, CH);
}
END_TEST

/* Pages of PATH from byte FROM to byte TO (both page multiples) that are
 * in the page cache. */
static size_t resident_pages(const char *path, size_t from, size_t to)
{
	const size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t n = (to - from) / page, count = 0;
	unsigned char *vec = malloc(n);
	int fd = open(path, O_RDONLY);
	void *map;

	ck_assert(fd >= 0 && vec != NULL);
	map = mmap(NULL, to - from, PROT_READ, MAP_SHARED, fd, (off_t)from);
	ck_assert(map != MAP_FAILED);
	ck_assert_int_eq(mincore(map, to - from, vec), 0);
	for (size_t i = 0; i < n; i++)
		count += vec[i] & 1;
	munmap(map, to - from);
	close(fd);
	free(vec);
	return count;
}

/* On ext4, XFS or btrfs the writer's full 1 MiB buffers go to the disk
 * with O_DIRECT, past the page cache: once the file is committed none of
 * its pages from 2 MiB to its last full MiB is in memory (libsndfile reads
 * the first MiB back for the header at close; the tail goes through the
 * cache). Written in calls of 4099 frames, the buffers start mid-call.
 * Wherever the file is, it holds the samples written. */
START_TEST(test_writer_bypasses_page_cache)
{
	enum { FRAMES = 3000000, CH = 2, STEP = 4099 };
	const size_t mib = 1 << 20;
	char *dir = ra_test_mkdtemp();
	char *path = ra_test_path(dir, "out.wav");
	int32_t *s;
	int32_t *ints = random_ints16(FRAMES * CH, 5, &s);
	ra_diag diag = { "" };
	ra_writer *wr;
	struct stat sb;

	wr = writer_ok(path, WAV16, CH, 0);
	for (size_t at = 0; at < FRAMES; at += STEP) {
		size_t n = FRAMES - at < STEP ? FRAMES - at : STEP;

		ck_assert_int_eq(ra_writer_write_int(wr, ints + at * CH, n, &diag), RA_OK);
	}
	commit_ok(wr);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_ge((size_t)sb.st_size, 11 * mib);
	if (ra_test_direct_fs(dir))
		ck_assert_uint_eq(resident_pages(path, 2 * mib, (size_t)sb.st_size / mib * mib), 0);
	check_and_remove(dir, path, s, ints, FRAMES, CH);
}
END_TEST

START_TEST(test_writer_abort)
{
	char *dir = ra_test_mkdtemp();
	char *path = ra_test_path(dir, "out.flac");
	int32_t ints[64] = { 0 };
	ra_diag diag = { "" };
	ra_writer *wr = writer_ok(path, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 1, 0);

	ck_assert_int_eq(ra_writer_write_int(wr, ints, 64, &diag), RA_OK);
	ck_assert_int_eq(ra_test_dir_entries(dir), 1);
	ra_writer_abort(wr);
	ck_assert_int_eq(ra_test_dir_entries(dir), 0);
	free(path);
	ra_test_rmtree(dir);
}
END_TEST

/* What ra_writer_commit_with()'s callback sees: the finished bytes, read
 * back from its descriptor, while nothing is at the output's name yet. */
typedef struct finished_seen {
	const char *path;
	int calls, absent;
	size_t bytes;
	int refuse;
} finished_seen;

static int on_finished(void *ctx, int fd, ra_diag *diag)
{
	finished_seen *seen = ctx;
	char buf[4096];
	ssize_t n;

	seen->calls++;
	seen->absent = access(seen->path, F_OK) != 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		seen->bytes += (size_t)n;
	if (seen->refuse)
		ra_diag_set(diag, "refused by the callback");
	return seen->refuse;
}

START_TEST(test_writer_commit_with)
{
	char *dir = ra_test_mkdtemp();
	char *path = ra_test_path(dir, "out.wav");
	int32_t ints[2 * 100] = { 0 };
	ra_diag diag = { "" };
	struct stat sb;

	for (int refuse = 0; refuse < 2; refuse++) {
		finished_seen seen = { .path = path, .refuse = refuse };
		ra_writer *wr = writer_ok(path, WAV16, 2, RA_WRITE_FORCE);
		ra_status st;

		ck_assert_int_eq(ra_writer_write_int(wr, ints, 100, &diag), RA_OK);
		st = ra_writer_commit_with(wr, on_finished, &seen, &diag);
		ck_assert_int_eq(seen.calls, 1);
		ck_assert(seen.absent || refuse); /* the second round's path holds the first's */
		if (refuse) {
			ck_assert_int_eq(st, RA_ERR_WRITE);
			ck_assert_str_eq(diag.text, "refused by the callback");
			/* Only the first round's file: no temporary file left. */
			ck_assert_int_eq(ra_test_dir_entries(dir), 1);
		} else {
			ck_assert_int_eq(st, RA_OK);
			ck_assert_int_eq(stat(path, &sb), 0);
			ck_assert_uint_eq(seen.bytes, (size_t)sb.st_size);
			ck_assert_uint_eq(seen.bytes, 44 + 100 * 2 * 2);
		}
	}
	free(path);
	ra_test_rmtree(dir);
}
END_TEST

/* What ends a reader or writer takes NULL, as the header says. */
START_TEST(test_null_ends)
{
	ra_diag diag = { "" };

	ra_reader_destroy(NULL);
	ra_writer_abort(NULL);
	ck_assert_int_eq(ra_writer_commit(NULL, &diag), RA_ERR_INVALID);
	ck_assert_str_eq(diag.text, "no writer to commit");
	ck_assert_int_eq(ra_writer_commit(NULL, NULL), RA_ERR_INVALID);
}
END_TEST

START_TEST(test_writer_force_replaces)
{
	enum { FRAMES = 100 };
	char *dir = ra_test_mkdtemp();
	char *path = ra_test_path(dir, "out.wav");
	int32_t *s = random_samples(FRAMES, 16, 3);
	int32_t ints[FRAMES];
	ra_diag diag = { "" };
	ra_writer *wr;

	write_text(path, "old contents, not audio\n");
	for (int i = 0; i < FRAMES; i++)
		ints[i] = (int32_t)((uint32_t)s[i] << 16);
	wr = writer_ok(path, WAV16, 1, RA_WRITE_FORCE);
	ck_assert_int_eq(ra_writer_write_int(wr, ints, FRAMES, &diag), RA_OK);
	commit_ok(wr);
	ck_assert_int_eq(ra_test_dir_entries(dir), 1);
	check_file_samples(path, 1, s, FRAMES, 16);
	free(s);
	free(path);
	ra_test_rmtree(dir);
}
END_TEST

/* The new file gets 0666 less the umask, as any new file would. */
START_TEST(test_writer_mode_follows_umask)
{
	static const struct {
		mode_t mask, want;
	} cases[] = { { 022, 0644 }, { 027, 0640 }, { 002, 0664 } };
	char *dir = ra_test_mkdtemp();
	mode_t old = umask(022);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[32];
		char *path;
		struct stat sb;
		int32_t ints[8] = { 0 };
		ra_diag diag = { "" };
		ra_writer *wr;

		snprintf(name, sizeof(name), "out%zu.wav", i);
		path = ra_test_path(dir, name);
		umask(cases[i].mask);
		wr = writer_ok(path, WAV16, 1, 0);
		ck_assert_int_eq(ra_writer_write_int(wr, ints, 8, &diag), RA_OK);
		commit_ok(wr);
		ck_assert_int_eq(stat(path, &sb), 0);
		ck_assert_msg((sb.st_mode & 07777) == cases[i].want, "umask %03o: mode %04o",
			      (unsigned)cases[i].mask, (unsigned)(sb.st_mode & 07777));
		free(path);
	}
	umask(old);
	ra_test_rmtree(dir);
}
END_TEST

/* 8- and 16-bit PCM, in WAV, AIFF and FLAC, read whole as 16-bit
 * integers: ra_reader_read_int()'s samples over 2^16, in uneven pieces;
 * wider or float samples are not. */
START_TEST(test_reader_shorts)
{
	enum { FRAMES = 5003, CH = 3 };
	static const struct {
		int format, bits, whole;
	} files[] = {
		{ WAV16, 16, 1 },
		{ SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 8, 1 },
		{ SF_FORMAT_AIFF | SF_FORMAT_PCM_S8, 8, 1 },
		{ SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16, 1 },
		{ SF_FORMAT_FLAC | SF_FORMAT_PCM_S8, 8, 1 },
		{ SF_FORMAT_WAV | SF_FORMAT_PCM_24, 24, 0 },
		{ SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 24, 0 },
		{ SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16, 0 },
	};
	char *dir = ra_test_mkdtemp();
	char *path = ra_test_path(dir, "in.au");
	int32_t *ints = malloc(FRAMES * CH * sizeof(*ints));
	int16_t *shorts = malloc(FRAMES * CH * sizeof(*shorts));
	ra_diag diag = { "" };

	ck_assert(ints && shorts);
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		int32_t *s = random_samples(FRAMES * CH, files[f].bits, f + 1);
		ra_reader *a, *b;
		size_t got, done = 0, wrong = 0;

		write_samples(path, files[f].format, CH, s, FRAMES, files[f].bits);
		a = open_ok(path);
		b = open_ok(path);
		ck_assert_int_eq(ra_reader_reads_shorts(a), files[f].whole);
		ck_assert_int_eq(ra_reader_read_int(a, ints, FRAMES, &got, &diag), RA_OK);
		ck_assert_uint_eq(got, FRAMES);
		for (size_t piece = 1; files[f].whole && done < FRAMES; done += got, piece *= 3) {
			ck_assert_int_eq(
				ra_reader_read_short(b, shorts + done * CH, piece, &got, &diag),
				RA_OK);
			ck_assert_uint_gt(got, 0);
		}
		for (size_t i = 0; i < done * CH; i++)
			wrong += shorts[i] != ints[i] >> 16;
		ck_assert_msg(wrong == 0, "format %#x: %zu samples differ", files[f].format, wrong);
		ra_reader_destroy(a);
		ra_reader_destroy(b);
		free(s);
	}
	free(ints);
	free(shorts);
	free(path);
	ra_test_rmtree(dir);
}
END_TEST

/* 16-bit PCM through libsndfile takes 16-bit integers, the same samples
 * as the left-justified ones; FLAC's encoder and wider PCM do not. */
START_TEST(test_writer_shorts)
{
	enum { FRAMES = 4099, CH = 2 };
	char *dir = ra_test_mkdtemp();
	char *wav = ra_test_path(dir, "out.aiff"), *flac = ra_test_path(dir, "out.flac");
	char *wide = ra_test_path(dir, "wide.wav");
	int32_t *s = random_samples(FRAMES * CH, 16, 9);
	int16_t *shorts = malloc(FRAMES * CH * sizeof(*shorts));
	ra_diag diag = { "" };
	ra_writer *wr;

	ck_assert_ptr_nonnull(shorts);
	for (size_t i = 0; i < FRAMES * CH; i++)
		shorts[i] = (int16_t)s[i];
	wr = writer_ok(wav, SF_FORMAT_AIFF | SF_FORMAT_PCM_16, CH, 0);
	ck_assert(ra_writer_takes_shorts(wr));
	ck_assert_int_eq(ra_writer_write_short(wr, shorts, 1000, &diag), RA_OK);
	ck_assert_int_eq(ra_writer_write_short(wr, shorts + 1000 * CH, FRAMES - 1000, &diag),
			 RA_OK);
	commit_ok(wr);
	check_file_samples(wav, CH, s, FRAMES, 16);
	wr = writer_ok(wide, SF_FORMAT_WAV | SF_FORMAT_PCM_24, CH, 0);
	ck_assert(!ra_writer_takes_shorts(wr));
	ra_writer_abort(wr);
	wr = writer_ok(flac, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, CH, 0);
	ck_assert(!ra_writer_takes_shorts(wr));
	ck_assert_int_eq(ra_writer_write_short(wr, shorts, FRAMES, &diag), RA_ERR_INVALID);
	ck_assert_str_eq(diag.text, "this output does not take 16-bit samples");
	ra_writer_abort(wr);
	free(s);
	free(shorts);
	free(wav);
	free(flac);
	free(wide);
	ra_test_rmtree(dir);
}
END_TEST

/* Many small, uneven blocks in and out: the int path is bit-exact. */
START_TEST(test_block_round_trip_int)
{
	enum { FRAMES = 10007, CH = 3 };
	static const size_t in_blocks[] = { 1, 2, 3, 64, 7, 1000, 5, 4096 };
	char *dir = ra_test_mkdtemp();
	char *src = ra_test_path(dir, "src.wav");
	char *dst = ra_test_path(dir, "dst.wav");
	int32_t *s = random_samples(FRAMES * CH, 24, 4);
	int32_t *buf = malloc(4096 * CH * sizeof(*buf));
	ra_diag diag = { "" };
	ra_reader *rd;
	ra_writer *wr;
	size_t total = 0, b = 0, got;

	ck_assert_ptr_nonnull(buf);
	write_samples(src, SF_FORMAT_WAV | SF_FORMAT_PCM_24, CH, s, FRAMES, 24);
	check_file_samples(src, CH, s, FRAMES, 24);
	rd = open_ok(src);
	wr = writer_ok(dst, SF_FORMAT_WAV | SF_FORMAT_PCM_24, CH, 0);
	do {
		size_t want = in_blocks[b++ % (sizeof(in_blocks) / sizeof(in_blocks[0]))];

		ck_assert_int_eq(ra_reader_read_int(rd, buf, want, &got, &diag), RA_OK);
		ck_assert_uint_le(got, want);
		/* Written back in two pieces, to split differently again. */
		ck_assert_int_eq(ra_writer_write_int(wr, buf, got / 2, &diag), RA_OK);
		ck_assert_int_eq(ra_writer_write_int(wr, buf + got / 2 * CH, got - got / 2, &diag),
				 RA_OK);
		total += got;
	} while (got > 0);
	ck_assert_uint_eq(total, FRAMES);
	commit_ok(wr);
	ra_reader_destroy(rd);
	check_file_samples(dst, CH, s, FRAMES, 24);
	free(s);
	free(buf);
	free(src);
	free(dst);
	ra_test_rmtree(dir);
}
END_TEST

/* The reader gives s / 32768 for pcm16; the writer must take that scale
 * back, or a float pass-through changes every other sample. */
START_TEST(test_float_round_trip_pcm16)
{
	enum { FRAMES = 65536 };
	char *dir = ra_test_mkdtemp();
	char *src = ra_test_path(dir, "src.wav");
	char *dst = ra_test_path(dir, "dst.wav");
	int32_t *s = malloc(FRAMES * sizeof(*s));
	float *buf = malloc(FRAMES * sizeof(*buf));
	ra_diag diag = { "" };
	ra_reader *rd;
	ra_writer *wr;
	size_t got;
	SF_INFO info;
	int *back;
	size_t wrong = 0;

	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(buf);
	for (int i = 0; i < FRAMES; i++)
		s[i] = i - 32768;
	write_samples(src, WAV16, 1, s, FRAMES, 16);
	rd = open_ok(src);
	ck_assert_int_eq(ra_reader_read_float(rd, buf, FRAMES, &got, &diag), RA_OK);
	ck_assert_uint_eq(got, FRAMES);
	ra_reader_destroy(rd);
	wr = writer_ok(dst, WAV16, 1, 0);
	ck_assert_int_eq(ra_writer_write_float(wr, buf, FRAMES, &diag), RA_OK);
	commit_ok(wr);
	back = ra_test_read_int(dst, &info);
	ck_assert_ptr_nonnull(back);
	for (int i = 0; i < FRAMES; i++)
		wrong += back[i] >> 16 != s[i];
	ck_assert_msg(wrong == 0, "%zu of %d samples changed; -1.0 -> %d, 32767/32768 -> %d", wrong,
		      FRAMES, back[0] >> 16, back[FRAMES - 1] >> 16);
	free(back);
	free(s);
	free(buf);
	free(src);
	free(dst);
	ra_test_rmtree(dir);
}
END_TEST

/* Float beyond full scale written to PCM is held at the rails, never
 * wrapped round to the other sign. */
START_TEST(test_float_write_clips)
{
	static const float in[] = { 1.5f, -1.5f, 1.0f, -1.0f, 0.5f, -0.25f };
	static const int want[] = { 32767, -32768, 32767, -32768, 16384, -8192 };
	static const struct {
		const char *name;
		int format;
	} outs[] = { { "out.wav", WAV16 }, { "out.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16 } };
	enum { N = sizeof(in) / sizeof(in[0]) };
	char *dir = ra_test_mkdtemp();

	for (size_t k = 0; k < sizeof(outs) / sizeof(outs[0]); k++) {
		char *path = ra_test_path(dir, outs[k].name);
		ra_diag diag = { "" };
		ra_writer *wr = writer_ok(path, outs[k].format, 1, 0);
		SF_INFO info;
		int *back;

		ck_assert_int_eq(ra_writer_write_float(wr, in, N, &diag), RA_OK);
		commit_ok(wr);
		back = ra_test_read_int(path, &info);
		ck_assert_ptr_nonnull(back);
		for (int i = 0; i < N; i++)
			ck_assert_msg(back[i] >> 16 == want[i], "%s: %g -> %d, want %d",
				      outs[k].name, (double)in[i], back[i] >> 16, want[i]);
		free(back);
		free(path);
	}
	ra_test_rmtree(dir);
}
END_TEST

/* The frame count in the fact chunk of the WAV (32 bits) or W64 (64 bits,
 * under a 16-byte GUID) at PATH; -1 when it has none. */
static long long fact_frames(const char *path, int w64)
{
	size_t len;
	unsigned char *d = (unsigned char *)ra_test_slurp(path, &len);
	const size_t at = w64 ? 24 : 8, width = w64 ? 8 : 4;
	long long v = -1;

	for (size_t i = 12; v < 0 && i + at + width <= len; i++)
		if (!memcmp(d + i, "fact", 4)) {
			v = 0;
			for (size_t k = width; k-- > 0;)
				v = v << 8 | d[i + at + k];
		}
	free(d);
	return v;
}

/* Whether --format has a name for the major type MAJOR. */
static int nameable(int major)
{
	for (size_t i = 0; ra_format_parse_name(i); i++) {
		int m, sub;

		if (ra_format_parse(ra_format_parse_name(i), &m, &sub) == RA_OK && m == major)
			return 1;
	}
	return 0;
}

/* MAJOR | SUB with CHANNELS, told N + 5000 frames (as when an input ends
 * early), or with UNKNOWN nothing (a pipe's), and given the N of X at
 * PATH: the header and any fact chunk say N,
 * or for the ADPCM codecs and GSM 6.10, written in whole blocks, the padded
 * length. 0 when libsndfile or the tool does not write the format. */
static int check_length(const SF_FORMAT_INFO *major, const SF_FORMAT_INFO *sub, int channels,
			int unknown, const char *path, const int32_t *x, int n)
{
	const int format = major->format | sub->format;
	const int blocks = sub->format == SF_FORMAT_IMA_ADPCM ||
			   sub->format == SF_FORMAT_MS_ADPCM || sub->format == SF_FORMAT_GSM610 ||
			   sub->format == SF_FORMAT_G721_32 || sub->format == SF_FORMAT_G723_24 ||
			   sub->format == SF_FORMAT_G723_40;
	const long long pad = blocks ? 2048 : 1;
	SF_INFO want = { .samplerate = 48000, .channels = channels, .format = format },
		back = { 0 };
	ra_audio_info info = make_info(format, 48000, channels, unknown ? -1 : n + 5000);
	ra_status st = RA_OK;
	ra_diag diag = { "" };
	ra_writer *wr;
	SNDFILE *sf;

	if (!sf_format_check(&want) || !(sf = sf_open(path, SFM_WRITE, &want)))
		return 0; /* libsndfile cannot write it (MPEG Layer I) */
	sf_close(sf);
	if (ra_format_choose(&info, path, major->format, sub->format, &(int){ 0 }, &(int){ 0 },
			     &diag) != RA_OK)
		return 0; /* what the tool refuses to write */
	wr = ra_writer_open(path, &info, RA_WRITE_FORCE, &st, &diag);
	ck_assert_msg(wr != NULL, "%s, %s: %s", major->name, sub->name, diag.text);
	st = ra_writer_write_int(wr, x, (size_t)n, &diag);
	ck_assert_msg(st == RA_OK, "%s, %s, %d ch: %s", major->name, sub->name, channels,
		      diag.text);
	commit_ok(wr);
	if (major->format == SF_FORMAT_RAW)
		back = want; /* a raw file's shape is the reader's to say */
	sf = sf_open(path, SFM_READ, &back);
	ck_assert_msg(sf != NULL, "%s, %s: %s", major->name, sub->name, sf_strerror(NULL));
	sf_close(sf);
	ck_assert_msg(back.frames >= n && back.frames < n + pad,
		      "%s, %s, %d ch: the header says %lld frames, not %d", major->name, sub->name,
		      channels, (long long)back.frames, n);
	if (major->format == SF_FORMAT_WAV || major->format == SF_FORMAT_W64) {
		long long fact = fact_frames(path, major->format == SF_FORMAT_W64);

		ck_assert_msg(fact < 0 || (fact >= n && fact < n + pad),
			      "%s, %s, %d ch: the fact chunk says %lld frames, not %d", major->name,
			      sub->name, channels, fact, n);
	}
	return 1;
}

/* Every major format --format names and subtype libsndfile can write,
 * mono and stereo, through the writer: the length written is the length
 * the file says (a W64 with MS-ADPCM claimed 2^63 frames in its fact chunk
 * when the writer did not pass the length on; libsndfile reads around it,
 * but ffprobe believed it). */
START_TEST(test_every_format_says_its_length)
{
	enum { N = 4000 };
	char *dir = ra_test_mkdtemp(), *path = ra_test_path(dir, "out");
	int majors = 0, subtypes = 0, checked = 0;
	int32_t *x = malloc(2 * N * sizeof(*x));

	ck_assert_ptr_nonnull(x);
	for (int i = 0; i < 2 * N; i++)
		x[i] = (int32_t)(0.25 * sin(0.05 * i) * 2147483647.0);
	sf_command(NULL, SFC_GET_FORMAT_MAJOR_COUNT, &majors, sizeof(majors));
	sf_command(NULL, SFC_GET_FORMAT_SUBTYPE_COUNT, &subtypes, sizeof(subtypes));
	for (int m = 0; m < majors; m++) {
		SF_FORMAT_INFO major = { .format = m };

		sf_command(NULL, SFC_GET_FORMAT_MAJOR, &major, sizeof(major));
		if (!nameable(major.format))
			continue; /* SD2 (it would write a resource fork beside it), ... */
		for (int k = 0; k < subtypes; k++) {
			SF_FORMAT_INFO sub = { .format = k };

			sf_command(NULL, SFC_GET_FORMAT_SUBTYPE, &sub, sizeof(sub));
			for (int channels = 1; channels <= 2; channels++)
				for (int unknown = 0; unknown <= 1; unknown++)
					checked += check_length(&major, &sub, channels, unknown,
								path, x, N);
		}
	}
	ck_assert_int_gt(checked, 100);
	free(x);
	free(path);
	ra_test_rmtree(dir);
}
END_TEST

/* ---- behaviour: metadata ---- */

#define CUE_DATA 0x61746164 /* 'data' */

/* A stereo pcm16 WAV at 48 kHz with strings, bext (with HISTORY bytes of
 * coding history), two cues and a loop. */
static void write_tagged_source_history(const char *path, size_t history)
{
	SF_INFO info = { .samplerate = RATE, .channels = 2, .format = WAV16 };
	SF_BROADCAST_INFO *bext = calloc(1, sizeof(*bext) + history);
	SF_CUES cues;
	SF_INSTRUMENT inst;
	short frames[4000 * 2];
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
	uint64_t seed = 5;

	ck_assert_ptr_nonnull(sf);
	ck_assert_int_eq(sf_set_string(sf, SF_STR_TITLE, "Test title"), 0);
	ck_assert_int_eq(sf_set_string(sf, SF_STR_ARTIST, "Test artist"), 0);
	ck_assert_int_eq(sf_set_string(sf, SF_STR_COMMENT, "A comment"), 0);

	ck_assert_ptr_nonnull(bext);
	snprintf(bext->description, sizeof(bext->description), "%s", "Session take 3");
	snprintf(bext->originator, sizeof(bext->originator), "%s", "rusty-audio tests");
	bext->time_reference_low = 48000;
	for (size_t i = 0; i < history; i++)
		bext->coding_history[i] = i % 64 == 63 ? '\n' : 'h';
	bext->coding_history_size = (uint32_t)history;
	ck_assert_int_eq(sf_command(sf, SFC_SET_BROADCAST_INFO, bext,
				    (int)(offsetof(SF_BROADCAST_INFO, coding_history) + history)),
			 SF_TRUE);
	free(bext);

	memset(&cues, 0, sizeof(cues));
	cues.cue_count = 2;
	cues.cue_points[0] = (SF_CUE_POINT){
		.indx = 1, .position = 100, .fcc_chunk = CUE_DATA, .sample_offset = 100
	};
	cues.cue_points[1] = (SF_CUE_POINT){
		.indx = 2, .position = 2000, .fcc_chunk = CUE_DATA, .sample_offset = 2000
	};
	ck_assert_int_eq(sf_command(sf, SFC_SET_CUE, &cues, sizeof(cues)), SF_TRUE);

	memset(&inst, 0, sizeof(inst));
	inst.basenote = 60;
	inst.key_hi = 127;
	inst.velocity_hi = 127;
	inst.loop_count = 1;
	inst.loops[0].mode = SF_LOOP_FORWARD;
	inst.loops[0].start = 10;
	inst.loops[0].end = 500;
	ck_assert_int_eq(sf_command(sf, SFC_SET_INSTRUMENT, &inst, sizeof(inst)), SF_TRUE);

	for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++)
		frames[i] = (short)(rng_next(&seed) >> 48);
	ck_assert_int_eq(sf_writef_short(sf, frames, 4000), 4000);
	ck_assert_int_eq(sf_close(sf), 0);
}

static void write_tagged_source(const char *path)
{
	write_tagged_source_history(path, 0);
}

/* Copy SRC to DST (in FORMAT, of FRAMES frames or -1) with its metadata at
 * RATIO, through the API. */
static void copy_with_metadata(const char *src, const char *dst, int format, int64_t frames,
			       double ratio)
{
	ra_reader *rd = open_ok(src);
	const ra_audio_info *in = ra_reader_info(rd);
	ra_audio_info out = make_info(format, in->sample_rate, in->channels, frames);
	ra_status st = RA_ERR_NOMEM;
	ra_diag diag = { "" };
	int32_t buf[512 * 2];
	ra_writer *wr = ra_writer_open(dst, &out, 0, &st, &diag);
	size_t got;

	ck_assert_msg(wr != NULL, "%s: %s", dst, diag.text);
	ra_writer_copy_metadata(wr, rd, ratio);
	do {
		ck_assert_int_eq(ra_reader_read_int(rd, buf, 512, &got, &diag), RA_OK);
		ck_assert_int_eq(ra_writer_write_int(wr, buf, got, &diag), RA_OK);
	} while (got > 0);
	commit_ok(wr);
	ra_reader_destroy(rd);
}

/* The tagged source copied at ratio 1/2 to a WAV; caller frees and removes
 * *DIR. */
static char *tagged_copy(char **dir, int64_t frames)
{
	char *src, *dst;

	*dir = ra_test_mkdtemp();
	src = ra_test_path(*dir, "src.wav");
	dst = ra_test_path(*dir, "dst.wav");
	write_tagged_source(src);
	copy_with_metadata(src, dst, WAV16, frames, 0.5);
	free(src);
	return dst;
}

static void check_strings(const char *path)
{
	SF_INFO info = { 0 };
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	const char *v;

	ck_assert_ptr_nonnull(sf);
	v = sf_get_string(sf, SF_STR_TITLE);
	ck_assert_pstr_eq(v, "Test title");
	v = sf_get_string(sf, SF_STR_ARTIST);
	ck_assert_pstr_eq(v, "Test artist");
	v = sf_get_string(sf, SF_STR_COMMENT);
	ck_assert_pstr_eq(v, "A comment");
	sf_close(sf);
}

START_TEST(test_metadata_strings)
{
	char *dir;
	char *dst = tagged_copy(&dir, 4000);

	check_strings(dst);
	free(dst);
	ra_test_rmtree(dir);
}
END_TEST

START_TEST(test_metadata_bext)
{
	char *dir;
	char *dst = tagged_copy(&dir, 4000);
	SF_INFO info = { 0 };
	SF_BROADCAST_INFO bext;
	SNDFILE *sf = sf_open(dst, SFM_READ, &info);
	int ok;

	ck_assert_ptr_nonnull(sf);
	memset(&bext, 0, sizeof(bext));
	ok = sf_command(sf, SFC_GET_BROADCAST_INFO, &bext, sizeof(bext));
	sf_close(sf);
	ck_assert_msg(ok == SF_TRUE, "no bext chunk in the output");
	ck_assert_str_eq(bext.description, "Session take 3");
	ck_assert_str_eq(bext.originator, "rusty-audio tests");
	/* 48000 samples since midnight at 48 kHz is 24000 at 24 kHz. */
	ck_assert_uint_eq(bext.time_reference_low, 24000);
	ck_assert_uint_eq(bext.time_reference_high, 0);
	free(dst);
	ra_test_rmtree(dir);
}
END_TEST

/* A mono WAV whose bext time reference is TREF and whose one cue is at
 * CUE, copied at RATIO; the copy's values in *TREF and *CUE. */
static void copy_positions(double ratio, uint64_t *tref, uint32_t *cue)
{
	char *dir = ra_test_mkdtemp();
	char *src = ra_test_path(dir, "src.wav"), *dst = ra_test_path(dir, "dst.wav");
	SF_INFO info = { .samplerate = RATE, .channels = 1, .format = WAV16 };
	SF_BROADCAST_INFO bext = { .time_reference_low = (uint32_t)*tref,
				   .time_reference_high = (uint32_t)(*tref >> 32) };
	SF_CUES cues = { .cue_count = 1 };
	short frames[64] = { 0 };
	SNDFILE *sf = sf_open(src, SFM_WRITE, &info);

	ck_assert_ptr_nonnull(sf);
	ck_assert_int_eq(sf_command(sf, SFC_SET_BROADCAST_INFO, &bext, sizeof(bext)), SF_TRUE);
	cues.cue_points[0] = (SF_CUE_POINT){
		.indx = 1, .position = *cue, .fcc_chunk = CUE_DATA, .sample_offset = *cue
	};
	ck_assert_int_eq(sf_command(sf, SFC_SET_CUE, &cues, sizeof(cues)), SF_TRUE);
	ck_assert_int_eq(sf_writef_short(sf, frames, 64), 64);
	ck_assert_int_eq(sf_close(sf), 0);
	copy_with_metadata(src, dst, WAV16, 64, ratio);

	memset(&bext, 0, sizeof(bext));
	memset(&cues, 0, sizeof(cues));
	sf = sf_open(dst, SFM_READ, &info);
	ck_assert_ptr_nonnull(sf);
	ck_assert_int_eq(sf_command(sf, SFC_GET_BROADCAST_INFO, &bext, sizeof(bext)), SF_TRUE);
	ck_assert_int_eq(sf_command(sf, SFC_GET_CUE, &cues, sizeof(cues)), SF_TRUE);
	sf_close(sf);
	*tref = ((uint64_t)bext.time_reference_high << 32) | bext.time_reference_low;
	*cue = cues.cue_points[0].position;
	free(src);
	free(dst);
	ra_test_rmtree(dir);
}

/* Positions beyond what a double holds exactly are copied exactly at an
 * unchanged rate, and saturate rather than wrap when scaled up. */
START_TEST(test_metadata_positions_extreme)
{
	uint64_t tref = (UINT64_C(1) << 60) + 1;
	uint32_t cue = 0xf0000001u;

	copy_positions(1.0, &tref, &cue);
	ck_assert_uint_eq(tref, (UINT64_C(1) << 60) + 1);
	ck_assert_uint_eq(cue, 0xf0000001u);
	tref = UINT64_MAX - 1000;
	copy_positions(2.0, &tref, &cue);
	ck_assert_uint_eq(tref, UINT64_MAX);
	ck_assert_uint_eq(cue, UINT32_MAX);
}
END_TEST

START_TEST(test_metadata_cues)
{
	char *dir;
	char *dst = tagged_copy(&dir, 4000);
	SF_INFO info = { 0 };
	SF_CUES cues;
	uint32_t count = 0;
	SNDFILE *sf = sf_open(dst, SFM_READ, &info);
	int ok;

	ck_assert_ptr_nonnull(sf);
	memset(&cues, 0, sizeof(cues));
	ok = sf_command(sf, SFC_GET_CUE_COUNT, &count, sizeof(count));
	ck_assert_msg(ok == SF_TRUE && count == 2, "cue count %u", count);
	ck_assert_int_eq(sf_command(sf, SFC_GET_CUE, &cues, sizeof(cues)), SF_TRUE);
	sf_close(sf);
	ck_assert_uint_eq(cues.cue_count, 2);
	ck_assert_int_eq(cues.cue_points[0].indx, 1);
	ck_assert_uint_eq(cues.cue_points[0].position, 50);
	ck_assert_uint_eq(cues.cue_points[0].sample_offset, 50);
	ck_assert_int_eq(cues.cue_points[1].indx, 2);
	ck_assert_uint_eq(cues.cue_points[1].position, 1000);
	ck_assert_uint_eq(cues.cue_points[1].sample_offset, 1000);
	free(dst);
	ra_test_rmtree(dir);
}
END_TEST

START_TEST(test_metadata_loops)
{
	char *dir;
	char *dst = tagged_copy(&dir, 4000);
	SF_INFO info = { 0 };
	SF_INSTRUMENT inst;
	SNDFILE *sf = sf_open(dst, SFM_READ, &info);
	int ok;

	ck_assert_ptr_nonnull(sf);
	memset(&inst, 0, sizeof(inst));
	ok = sf_command(sf, SFC_GET_INSTRUMENT, &inst, sizeof(inst));
	sf_close(sf);
	ck_assert_msg(ok == SF_TRUE, "no instrument chunk in the output");
	ck_assert_int_eq(inst.basenote, 60);
	ck_assert_int_eq(inst.loop_count, 1);
	ck_assert_int_eq(inst.loops[0].mode, SF_LOOP_FORWARD);
	ck_assert_uint_eq(inst.loops[0].start, 5);
	ck_assert_uint_eq(inst.loops[0].end, 250);
	free(dst);
	ra_test_rmtree(dir);
}
END_TEST

/* The audio itself is untouched by the metadata. */
START_TEST(test_metadata_keeps_audio)
{
	char *dir;
	char *dst = tagged_copy(&dir, 4000);
	char *src = ra_test_path(dir, "src.wav");
	SF_INFO a, b;
	int *x = ra_test_read_int(src, &a);
	int *y = ra_test_read_int(dst, &b);

	ck_assert_ptr_nonnull(x);
	ck_assert_ptr_nonnull(y);
	ck_assert_int_eq(a.frames, 4000);
	ck_assert_int_eq(b.frames, 4000);
	ck_assert_int_eq(b.format, WAV16);
	ck_assert_int_eq(memcmp(x, y, 4000 * 2 * sizeof(*x)), 0);
	free(x);
	free(y);
	free(src);
	free(dst);
	ra_test_rmtree(dir);
}
END_TEST

/* ---- edges ---- */

START_TEST(test_choose_no_extension)
{
	ra_audio_info aiff = make_info(SF_FORMAT_AIFF | SF_FORMAT_PCM_24, 44100, 2, 1000);
	static const char *const paths[] = { "x", "dir.flac/x", "dir/.wav", ".flac", "x.unknown" };
	int fb;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		ck_assert_msg(choose_ok(&aiff, paths[i], 0, 0, &fb) ==
				      (SF_FORMAT_AIFF | SF_FORMAT_PCM_24),
			      "%s", paths[i]);
		ck_assert_int_eq(fb, 0);
	}
}
END_TEST

START_TEST(test_choose_many_channels_wavex)
{
	ra_audio_info aiff6 = make_info(SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 48000, 6, 1000);
	ra_audio_info aiff2 = make_info(SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 48000, 2, 1000);
	ra_audio_info wavex2 = make_info(SF_FORMAT_WAVEX | SF_FORMAT_PCM_16, 48000, 2, 1000);
	int fb;

	ck_assert_int_eq(choose_ok(&aiff6, "x.wav", 0, 0, &fb), SF_FORMAT_WAVEX | SF_FORMAT_PCM_16);
	ck_assert_int_eq(fb, 0);
	ck_assert_int_eq(choose_ok(&aiff2, "x.wav", 0, 0, &fb), WAV16);
	ck_assert_int_eq(choose_ok(&wavex2, "x.wav", 0, 0, &fb),
			 SF_FORMAT_WAVEX | SF_FORMAT_PCM_16);
}
END_TEST

/* A WAV past 4 GiB needs RF64; just under stays RIFF. */
START_TEST(test_choose_rf64)
{
	ra_audio_info big = make_info(WAV16, 48000, 2, (int64_t)1 << 31);
	ra_audio_info small = make_info(WAV16, 48000, 2, ((int64_t)1 << 30) - 65536);
	ra_audio_info aiff6 = make_info(SF_FORMAT_AIFF | SF_FORMAT_PCM_24, 48000, 6, 1 << 28);
	int fb;

	ck_assert_int_eq(choose_ok(&big, "x.wav", 0, 0, &fb), SF_FORMAT_RF64 | SF_FORMAT_PCM_16);
	ck_assert_int_eq(fb, 0);
	ck_assert_int_eq(choose_ok(&small, "x.wav", 0, 0, &fb), WAV16);
	/* 6 x 3 bytes x 2^28 frames = 4.5 GiB. */
	ck_assert_int_eq(choose_ok(&aiff6, "x.wav", 0, 0, &fb), SF_FORMAT_RF64 | SF_FORMAT_PCM_24);
	/* Other containers are left alone. */
	ck_assert_int_eq(choose_ok(&big, "x.w64", 0, 0, &fb), SF_FORMAT_W64 | SF_FORMAT_PCM_16);
}
END_TEST

/* A valid WAV header with an empty data chunk. */
START_TEST(test_reader_zero_frames)
{
	char *dir = ra_test_mkdtemp(), *path = ra_test_path(dir, "empty.wav");
	ra_reader *rd;
	const ra_audio_info *info;
	int32_t buf[16];
	ra_diag diag = { "" };
	size_t got = 99;

	ra_test_write_float(path, WAV16, 8000, 2, NULL, 0);
	rd = open_ok(path);
	info = ra_reader_info(rd);
	ck_assert_int_eq(info->frames, 0);
	ck_assert_int_eq(info->channels, 2);
	ck_assert_int_eq(info->sample_rate, 8000);
	ck_assert_int_eq(ra_reader_read_int(rd, buf, 8, &got, &diag), RA_OK);
	ck_assert_uint_eq(got, 0);
	ra_reader_destroy(rd);
	free(path);
	ra_test_rmtree(dir);
}
END_TEST

/* A file that appears at the path while writing is not overwritten. */
START_TEST(test_writer_commit_race)
{
	char *dir = ra_test_mkdtemp();
	char *path = ra_test_path(dir, "out.wav");
	int32_t ints[16] = { 0 };
	ra_diag diag = { "" };
	ra_writer *wr = writer_ok(path, WAV16, 1, 0);
	ra_status st;
	size_t size;
	char *bytes;

	ck_assert_int_eq(ra_writer_write_int(wr, ints, 16, &diag), RA_OK);
	write_text(path, "someone else's");
	st = ra_writer_commit(wr, &diag);
	ck_assert_int_eq(st, RA_ERR_REPLACED);
	ck_assert_str_ne(diag.text, "");
	bytes = ra_test_slurp(path, &size);
	ck_assert_uint_eq(size, strlen("someone else's"));
	ck_assert_int_eq(memcmp(bytes, "someone else's", size), 0);
	ck_assert_int_eq(ra_test_dir_entries(dir), 1);
	free(bytes);
	free(path);
	ra_test_rmtree(dir);
}
END_TEST

/* Unknown length: written so that it could pass 4 GiB, a plain WAV when it
 * did not. */
START_TEST(test_writer_unknown_length)
{
	enum { FRAMES = 1000 };
	char *dir = ra_test_mkdtemp();
	char *path = ra_test_path(dir, "out.wav");
	int32_t *s = random_samples(FRAMES * 2, 16, 6);
	int32_t ints[FRAMES * 2];
	ra_audio_info info = make_info(WAV16, RATE, 2, -1);
	ra_status st = RA_ERR_NOMEM;
	ra_diag diag = { "" };
	ra_writer *wr;
	size_t size;
	char *bytes;

	for (int i = 0; i < FRAMES * 2; i++)
		ints[i] = (int32_t)((uint32_t)s[i] << 16);
	wr = ra_writer_open(path, &info, 0, &st, &diag);
	ck_assert_msg(wr != NULL, "%s", diag.text);
	ck_assert_int_eq(ra_writer_write_int(wr, ints, FRAMES, &diag), RA_OK);
	commit_ok(wr);
	check_file_samples(path, 2, s, FRAMES, 16);
	/* A RIFF WAVE header, not RF64 (libsndfile itself reports such a
	 * downgraded file as RF64, so look at the bytes). */
	bytes = ra_test_slurp(path, &size);
	ck_assert_uint_gt(size, 12);
	ck_assert_int_eq(memcmp(bytes, "RIFF", 4), 0);
	ck_assert_int_eq(memcmp(bytes + 8, "WAVE", 4), 0);
	free(bytes);
	free(s);
	free(path);
	ra_test_rmtree(dir);
}
END_TEST

/* Metadata the output cannot hold is skipped, not fatal: FLAC keeps the
 * strings. */
START_TEST(test_metadata_to_flac)
{
	char *dir = ra_test_mkdtemp();
	char *src = ra_test_path(dir, "src.wav");
	char *dst = ra_test_path(dir, "dst.flac");
	SF_INFO a, b;
	int *x, *y;

	write_tagged_source(src);
	copy_with_metadata(src, dst, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 4000, 1.0);
	check_strings(dst);
	x = ra_test_read_int(src, &a);
	y = ra_test_read_int(dst, &b);
	ck_assert_ptr_nonnull(x);
	ck_assert_ptr_nonnull(y);
	ck_assert_int_eq(b.frames, 4000);
	ck_assert_int_eq(memcmp(x, y, 4000 * 2 * sizeof(*x)), 0);
	free(x);
	free(y);
	free(src);
	free(dst);
	ra_test_rmtree(dir);
}
END_TEST

/* The unknown-length (RF64, downgraded) path keeps what its writer can. */
START_TEST(test_metadata_unknown_length)
{
	char *dir;
	char *dst = tagged_copy(&dir, -1);
	SF_INFO info = { 0 };
	SF_BROADCAST_INFO bext;
	SF_INSTRUMENT inst;
	uint32_t count = 0;
	int have_bext, have_cues, have_inst;
	SNDFILE *sf;

	check_strings(dst);
	sf = sf_open(dst, SFM_READ, &info);
	ck_assert_ptr_nonnull(sf);
	memset(&bext, 0, sizeof(bext));
	memset(&inst, 0, sizeof(inst));
	have_bext = sf_command(sf, SFC_GET_BROADCAST_INFO, &bext, sizeof(bext)) == SF_TRUE &&
		    bext.time_reference_low == 24000;
	have_cues =
		sf_command(sf, SFC_GET_CUE_COUNT, &count, sizeof(count)) == SF_TRUE && count == 2;
	have_inst = sf_command(sf, SFC_GET_INSTRUMENT, &inst, sizeof(inst)) == SF_TRUE &&
		    inst.loop_count == 1 && inst.loops[0].end == 250;
	sf_close(sf);
	/* libsndfile's RF64 writer, used while the length is unknown, has no
	 * cue or smpl chunk: only tags and bext can survive (see the header).
	 * Sources without a length (streamed FLAC, Ogg) carry neither anyway. */
	ck_assert_msg(have_bext, "format %#x: bext lost", (unsigned)info.format);
	ck_assert_msg(!have_cues && !have_inst,
		      "cues or loops survive now: update audio_file.h's note");
	free(dst);
	ra_test_rmtree(dir);
}
END_TEST

/* A long bext coding history does not stop the chunk being carried across.
 * (libsndfile 1.2.0 reads back histories of up to about 8 KiB.) */
START_TEST(test_metadata_long_history)
{
	static const size_t lengths[] = { 1000, 8000 };

	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		char *dir = ra_test_mkdtemp();
		char *src = ra_test_path(dir, "src.wav");
		char *dst = ra_test_path(dir, "dst.wav");
		SF_BROADCAST_INFO *bext = calloc(1, sizeof(*bext) + 16384);
		SF_INFO info = { 0 };
		SNDFILE *sf;
		int ok;

		ck_assert_ptr_nonnull(bext);
		write_tagged_source_history(src, lengths[i]);
		sf = sf_open(src, SFM_READ, &info);
		ck_assert_ptr_nonnull(sf);
		ok = sf_command(sf, SFC_GET_BROADCAST_INFO, bext, (int)(sizeof(*bext) + 16384));
		sf_close(sf);
		ck_assert_msg(ok == SF_TRUE, "libsndfile lost the source's bext");
		ck_assert_uint_gt(bext->coding_history_size, lengths[i]);
		memset(bext, 0, sizeof(*bext) + 16384);
		copy_with_metadata(src, dst, WAV16, 4000, 0.5);
		sf = sf_open(dst, SFM_READ, &info);
		ck_assert_ptr_nonnull(sf);
		ok = sf_command(sf, SFC_GET_BROADCAST_INFO, bext, (int)(sizeof(*bext) + 16384));
		sf_close(sf);
		ck_assert_msg(ok == SF_TRUE, "history of %zu bytes: no bext chunk in the output",
			      lengths[i]);
		ck_assert_str_eq(bext->description, "Session take 3");
		ck_assert_uint_eq(bext->time_reference_low, 24000);
		free(bext);
		free(src);
		free(dst);
		ra_test_rmtree(dir);
	}
}
END_TEST

/* Committing without audio still gives a valid, empty file. */
START_TEST(test_writer_empty_output)
{
	static const struct {
		const char *name;
		int format;
	} outs[] = {
		{ "e.wav", WAV16 },
		{ "e.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_24 },
		{ "e.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16 },
		{ "e.caf", SF_FORMAT_CAF | SF_FORMAT_FLOAT },
	};
	char *dir = ra_test_mkdtemp();

	for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++) {
		char *path = ra_test_path(dir, outs[i].name);
		int32_t buf[8];
		ra_diag diag = { "" };
		size_t got = 99;
		ra_reader *rd;

		commit_ok(writer_ok(path, outs[i].format, 2, 0));
		rd = open_ok(path);
		/* FLAC cannot say "0 frames": its 0 means unknown. */
		if ((outs[i].format & SF_FORMAT_TYPEMASK) == SF_FORMAT_FLAC)
			ck_assert_int_le(ra_reader_info(rd)->frames, 0);
		else
			ck_assert_int_eq(ra_reader_info(rd)->frames, 0);
		ck_assert_int_eq(ra_reader_info(rd)->channels, 2);
		ck_assert_int_eq(ra_reader_info(rd)->format, outs[i].format);
		ck_assert_int_eq(ra_reader_read_int(rd, buf, 4, &got, &diag), RA_OK);
		ck_assert_uint_eq(got, 0);
		ra_reader_destroy(rd);
		free(path);
	}
	ck_assert_int_eq(ra_test_dir_entries(dir), (int)(sizeof(outs) / sizeof(outs[0])));
	ra_test_rmtree(dir);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_parse_rejects)
{
	static const char *const bad_formats[] = { "", "wav2", "mp4", "m4a", ".wav", "pcm16" };
	static const char *const bad_subtypes[] = {
		"", "pcm", "pcm12", "float32", "wav", "PCM 16"
	};

	for (size_t i = 0; i < sizeof(bad_formats) / sizeof(bad_formats[0]); i++) {
		int major, subtype;

		ck_assert_msg(ra_format_parse(bad_formats[i], &major, &subtype) == RA_ERR_INVALID,
			      "accepted format \"%s\"", bad_formats[i]);
	}
	for (size_t i = 0; i < sizeof(bad_subtypes) / sizeof(bad_subtypes[0]); i++) {
		int subtype;

		ck_assert_msg(ra_subtype_parse(bad_subtypes[i], &subtype) == RA_ERR_INVALID,
			      "accepted subtype \"%s\"", bad_subtypes[i]);
	}
	ck_assert_str_eq(ra_format_name(0), "?");
	ck_assert_str_eq(ra_subtype_name(SF_FORMAT_WAV | SF_FORMAT_DWVW_12), "?");
}
END_TEST

START_TEST(test_choose_unsupported)
{
	ra_audio_info pcm16 = make_info(WAV16, 44100, 2, 1000);
	static const struct {
		const char *path;
		int major, subtype;
	} bad[] = {
		{ "x.flac", 0, SF_FORMAT_FLOAT },
		{ "x.wav", SF_FORMAT_FLAC, SF_FORMAT_DOUBLE },
		{ "x.wav", 0, SF_FORMAT_VORBIS },
		/* Opus encodes at 8, 12, 16, 24 or 48 kHz only. */
		{ "x.opus", 0, 0 },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ra_diag diag = { "" };
		int out = 0, fb = 0;

		ck_assert_int_eq(ra_format_choose(&pcm16, bad[i].path, bad[i].major, bad[i].subtype,
						  &out, &fb, &diag),
				 RA_ERR_UNSUPPORTED);
		ck_assert_msg(diag.text[0] != '\0', "%s: no diagnostic", bad[i].path);
	}
}
END_TEST

START_TEST(test_reader_missing)
{
	ra_status st = RA_OK;
	ra_diag diag = { "" };

	ck_assert_ptr_null(ra_reader_open("/nonexistent/rusty-audio/in.wav", 0, NULL, &st, &diag));
	ck_assert_int_eq(st, RA_ERR_OPEN);
	ck_assert_msg(strstr(diag.text, "No such file") != NULL, "diag: %s", diag.text);
	/* STATUS and DIAG are optional. */
	ck_assert_ptr_null(ra_reader_open("/nonexistent/rusty-audio/in.wav", 0, NULL, NULL, NULL));
}
END_TEST

START_TEST(test_reader_directory)
{
	char *dir = ra_test_mkdtemp();
	ra_status st = RA_OK;
	ra_diag diag = { "" };

	ck_assert_ptr_null(ra_reader_open(dir, 0, NULL, &st, &diag));
	ck_assert_int_eq(st, RA_ERR_OPEN);
	ck_assert_str_ne(diag.text, "");
	ra_test_rmtree(dir);
}
END_TEST

START_TEST(test_reader_not_audio)
{
	char *dir = ra_test_mkdtemp();
	char *path = ra_test_path(dir, "notes.wav");
	ra_status st = RA_OK;
	ra_diag diag = { "" };

	write_text(path, "These are notes about a recording, not a recording.\n"
			 "Line two of the notes.\n");
	ck_assert_ptr_null(ra_reader_open(path, 0, NULL, &st, &diag));
	ck_assert_int_eq(st, RA_ERR_FORMAT);
	ck_assert_str_ne(diag.text, "");
	free(path);
	ra_test_rmtree(dir);
}
END_TEST

/* Headers with every field zero (no channels, no rate, no bits), as in
 * tinytag's test files, an empty and a one-byte file, and a WAV cut inside
 * its header. Each is written here byte by byte; literals are split where a
 * hex escape would swallow the next character. */
static const char zero_wav[] = "RIFF\x34\0\0\0WAVEfmt \x10\0\0\0"
			       "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
			       "data\x10\0\0\0"
			       "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80";
static const char zero_aiff[] = "FORM\0\0\0\x3e"
				"AIFFCOMM\0\0\0\x12"
				"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
				"SSND\0\0\0\x18"
				"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
static const char zero_flac[] = "fLaC\x80\0\0\x22"
				"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
				"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";

static void write_bytes(const char *path, const char *bytes, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(bytes, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_reader_broken)
{
	static const struct {
		const char *name, *bytes; /* NULL: a valid WAV cut to LEN bytes */
		size_t len;
	} files[] = {
		{ "zero.wav", zero_wav, sizeof(zero_wav) - 1 },
		{ "zero.aiff", zero_aiff, sizeof(zero_aiff) - 1 },
		{ "zero.flac", zero_flac, sizeof(zero_flac) - 1 },
		{ "empty.wav", "", 0 },
		{ "one-byte.ogg", "", 1 },
		{ "cut.wav", NULL, 30 },
	};
	char *dir = ra_test_mkdtemp();

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *path = ra_test_path(dir, files[i].name);
		ra_status st = RA_OK;
		ra_diag diag = { "" };

		if (files[i].bytes) {
			write_bytes(path, files[i].bytes, files[i].len);
		} else {
			ra_test_write_float(path, WAV16, RATE, 1, (const float[16]){ 0 }, 16);
			ck_assert_int_eq(truncate(path, (off_t)files[i].len), 0);
		}
		ck_assert_ptr_null(ra_reader_open(path, 0, NULL, &st, &diag));
		ck_assert_msg(st == RA_ERR_FORMAT || st == RA_ERR_LIMITS, "%s: %s", files[i].name,
			      ra_strerror(st));
		ck_assert_msg(diag.text[0] != '\0', "%s: no diagnostic", files[i].name);
		free(path);
	}
	ra_test_rmtree(dir);
}
END_TEST

START_TEST(test_writer_exists)
{
	char *dir = ra_test_mkdtemp();
	char *path = ra_test_path(dir, "out.wav");
	ra_audio_info info = make_info(WAV16, RATE, 1, 0);
	ra_status st = RA_OK;
	ra_diag diag = { "" };
	static const char old[] = "RIFF but not really; keep me\n";
	size_t size;
	char *bytes;

	write_text(path, old);
	ck_assert_ptr_null(ra_writer_open(path, &info, 0, &st, &diag));
	ck_assert_int_eq(st, RA_ERR_EXISTS);
	ck_assert_str_ne(diag.text, "");
	bytes = ra_test_slurp(path, &size);
	ck_assert_uint_eq(size, strlen(old));
	ck_assert_int_eq(memcmp(bytes, old, size), 0);
	ck_assert_int_eq(ra_test_dir_entries(dir), 1);
	free(bytes);
	free(path);
	ra_test_rmtree(dir);
}
END_TEST

START_TEST(test_writer_missing_folder)
{
	char *dir = ra_test_mkdtemp();
	char *path = ra_test_path(dir, "no/such/folder/out.wav");
	ra_audio_info info = make_info(WAV16, RATE, 1, 0);
	ra_status st = RA_OK;
	ra_diag diag = { "" };

	ck_assert_ptr_null(ra_writer_open(path, &info, RA_WRITE_FORCE, &st, &diag));
	ck_assert_int_eq(st, RA_ERR_OPEN);
	ck_assert_msg(strstr(diag.text, "No such file") != NULL, "diag: %s", diag.text);
	ck_assert_int_eq(ra_test_dir_entries(dir), 0);
	free(path);
	ra_test_rmtree(dir);
}
END_TEST

START_TEST(test_writer_path_is_directory)
{
	char *dir = ra_test_mkdtemp();
	char *sub = ra_test_path(dir, "out.wav");
	ra_audio_info info = make_info(WAV16, RATE, 1, 0);
	struct stat sb;

	ck_assert_int_eq(mkdir(sub, 0755), 0);
	for (int flags = 0; flags <= RA_WRITE_FORCE; flags += RA_WRITE_FORCE) {
		ra_status st = RA_OK;
		ra_diag diag = { "" };

		ck_assert_ptr_null(ra_writer_open(sub, &info, flags, &st, &diag));
		ck_assert_int_ne(st, RA_OK);
		ck_assert_str_ne(diag.text, "");
		ck_assert_int_eq(stat(sub, &sb), 0);
		ck_assert(S_ISDIR(sb.st_mode));
		ck_assert_int_eq(ra_test_dir_entries(dir), 1);
		ck_assert_int_eq(ra_test_dir_entries(sub), 0);
	}
	free(sub);
	ra_test_rmtree(dir);
}
END_TEST

/* A format libsndfile cannot encode fails at open and leaves nothing. */
START_TEST(test_writer_unsupported)
{
	char *dir = ra_test_mkdtemp();
	char *path = ra_test_path(dir, "out.wav");
	ra_audio_info info = make_info(SF_FORMAT_WAV | SF_FORMAT_MPEG_LAYER_III, 44100, 1, 0);
	ra_status st = RA_OK;
	ra_diag diag = { "" };

	ck_assert_ptr_null(ra_writer_open(path, &info, 0, &st, &diag));
	ck_assert_int_eq(st, RA_ERR_UNSUPPORTED);
	ck_assert_str_ne(diag.text, "");
	ck_assert_int_eq(ra_test_dir_entries(dir), 0);
	free(path);
	ra_test_rmtree(dir);
}
END_TEST

static Suite *audio_file_suite(void)
{
	Suite *s = suite_create("audio_file");
	TCase *tc;

	tc = tcase_create("behaviour");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_format_parse_names);
	tcase_add_test(tc, test_subtype_parse_names);
	tcase_add_test(tc, test_format_name_round_trip);
	tcase_add_test(tc, test_pcm_bits_and_float);
	tcase_add_test(tc, test_choose_from_extension);
	tcase_add_test(tc, test_choose_falls_back);
	tcase_add_test(tc, test_choose_mp3_in_wav);
	tcase_add_test(tc, test_choose_explicit_wins);
	tcase_add_test(tc, test_reader_pcm16);
	tcase_add_test(tc, test_reader_shorts);
	tcase_add_test(tc, test_writer_shorts);
	tcase_add_test(tc, test_same_file);
	tcase_add_test(tc, test_writer_atomic);
	tcase_add_test(tc, test_writer_abort);
	tcase_add_test(tc, test_writer_bypasses_page_cache);
	tcase_add_test(tc, test_writer_commit_with);
	tcase_add_test(tc, test_null_ends);
	tcase_add_test(tc, test_writer_force_replaces);
	tcase_add_test(tc, test_writer_mode_follows_umask);
	tcase_add_test(tc, test_block_round_trip_int);
	tcase_add_test(tc, test_float_round_trip_pcm16);
	tcase_add_test(tc, test_float_write_clips);
	tcase_add_test(tc, test_every_format_says_its_length);
	tcase_add_test(tc, test_metadata_strings);
	tcase_add_test(tc, test_metadata_bext);
	tcase_add_test(tc, test_metadata_positions_extreme);
	tcase_add_test(tc, test_metadata_cues);
	tcase_add_test(tc, test_metadata_loops);
	tcase_add_test(tc, test_metadata_keeps_audio);
	suite_add_tcase(s, tc);

	tc = tcase_create("edges");
	tcase_add_test(tc, test_choose_no_extension);
	tcase_add_test(tc, test_choose_many_channels_wavex);
	tcase_add_test(tc, test_choose_rf64);
	tcase_add_test(tc, test_reader_zero_frames);
	tcase_add_test(tc, test_writer_commit_race);
	tcase_add_test(tc, test_writer_unknown_length);
	tcase_add_test(tc, test_metadata_to_flac);
	tcase_add_test(tc, test_metadata_unknown_length);
	tcase_add_test(tc, test_metadata_long_history);
	tcase_add_test(tc, test_writer_empty_output);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_parse_rejects);
	tcase_add_test(tc, test_choose_unsupported);
	tcase_add_test(tc, test_reader_missing);
	tcase_add_test(tc, test_reader_directory);
	tcase_add_test(tc, test_reader_not_audio);
	tcase_add_test(tc, test_reader_broken);
	tcase_add_test(tc, test_writer_exists);
	tcase_add_test(tc, test_writer_missing_folder);
	tcase_add_test(tc, test_writer_path_is_directory);
	tcase_add_test(tc, test_writer_unsupported);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return ra_test_main(audio_file_suite());
}
