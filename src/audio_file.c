/* Audio files through libsndfile: streaming reader, atomic writer, output
 * format selection and metadata carried from input to output. */
#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sndfile.h>

#include "rustyaudio/atomic_file.h"
#include "rustyaudio/audio_file.h"
#include "rustyaudio/flac.h"
#include "file_io.h"

/* Names for --format and output extensions. A non-zero subtype is the one
 * the name implies (an .opus file holds Opus). */
/* clang-format off */
static const struct {
	const char *name;
	int major;
	int subtype;
} format_names[] = {
	{ "wav",   SF_FORMAT_WAV,   0 },
	{ "wave",  SF_FORMAT_WAV,   0 },
	{ "wavex", SF_FORMAT_WAVEX, 0 },
	{ "rf64",  SF_FORMAT_RF64,  0 },
	{ "w64",   SF_FORMAT_W64,   0 },
	{ "aiff",  SF_FORMAT_AIFF,  0 },
	{ "aif",   SF_FORMAT_AIFF,  0 },
	{ "aifc",  SF_FORMAT_AIFF,  0 },
	{ "flac",  SF_FORMAT_FLAC,  0 },
	{ "ogg",   SF_FORMAT_OGG,   0 },
	{ "oga",   SF_FORMAT_OGG,   0 },
	{ "opus",  SF_FORMAT_OGG,   SF_FORMAT_OPUS },
	{ "caf",   SF_FORMAT_CAF,   0 },
	{ "au",    SF_FORMAT_AU,    0 },
	{ "snd",   SF_FORMAT_AU,    0 },
	{ "mp3",   SF_FORMAT_MPEG,  SF_FORMAT_MPEG_LAYER_III },
	{ "voc",   SF_FORMAT_VOC,   0 },
	{ "nist",  SF_FORMAT_NIST,  0 },
	{ "raw",   SF_FORMAT_RAW,   0 },
};

static const struct {
	const char *name;
	int subtype;
} subtype_names[] = {
	{ "pcm8",      SF_FORMAT_PCM_S8 },
	{ "pcmu8",     SF_FORMAT_PCM_U8 },
	{ "pcm16",     SF_FORMAT_PCM_16 },
	{ "pcm24",     SF_FORMAT_PCM_24 },
	{ "pcm32",     SF_FORMAT_PCM_32 },
	{ "float",     SF_FORMAT_FLOAT },
	{ "double",    SF_FORMAT_DOUBLE },
	{ "ulaw",      SF_FORMAT_ULAW },
	{ "alaw",      SF_FORMAT_ALAW },
	{ "ima-adpcm", SF_FORMAT_IMA_ADPCM },
	{ "ms-adpcm",  SF_FORMAT_MS_ADPCM },
	{ "gsm610",    SF_FORMAT_GSM610 },
	{ "vorbis",    SF_FORMAT_VORBIS },
	{ "opus",      SF_FORMAT_OPUS },
	{ "mp3",       SF_FORMAT_MPEG_LAYER_III },
	{ "alac16",    SF_FORMAT_ALAC_16 },
	{ "alac20",    SF_FORMAT_ALAC_20 },
	{ "alac24",    SF_FORMAT_ALAC_24 },
	{ "alac32",    SF_FORMAT_ALAC_32 },
};
/* clang-format on */

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Room kept for a bext chunk's coding history. */
#define BEXT_HISTORY_MAX 16384

struct ra_reader {
	SNDFILE *sf;
	ra_io io;
	ra_io_relay *relay; /* a stream's, which io.fd reads; or NULL */
	int stream_fd;	    /* what the relay reads */
	ra_audio_info info;
	char *strings[SF_STR_LAST - SF_STR_FIRST + 1];
	SF_BROADCAST_INFO *bext; /* with BEXT_HISTORY_MAX bytes of history, or NULL */
	SF_CUES *cues;		 /* or NULL */
	size_t cues_size;
	SF_INSTRUMENT *instrument; /* or NULL */
	int *channel_map;	   /* SF_CHANNEL_MAP_* a channel, or NULL */
};

struct ra_writer {
	SNDFILE *sf; /* or, for FLAC: */
	ra_flac *flac;
	ra_io io;
	ra_atomic_file file; /* io.fd is file.fd */
	int64_t frames;	     /* written so far */
	int64_t promised;    /* to standard output: frames its header says, -1 unknown */
	int major;	     /* SF_FORMAT_* major type */
	int format, channels;
};

int ra_format_pcm_bits(int format)
{
	switch (format & SF_FORMAT_SUBMASK) {
	case SF_FORMAT_PCM_S8:
	case SF_FORMAT_PCM_U8:
		return 8;
	case SF_FORMAT_PCM_16:
		return 16;
	case SF_FORMAT_PCM_24:
		return 24;
	case SF_FORMAT_PCM_32:
		return 32;
	}
	return 0;
}

int ra_format_is_float(int format)
{
	int sub = format & SF_FORMAT_SUBMASK;

	return sub == SF_FORMAT_FLOAT || sub == SF_FORMAT_DOUBLE;
}

ra_status ra_format_parse(const char *name, int *major, int *subtype)
{
	size_t i;

	if (ra_name_lookup(name, format_names, COUNT(format_names), sizeof(format_names[0]),
			   RA_NAME_ANY_CASE, &i) != RA_OK)
		return RA_ERR_INVALID;
	*major = format_names[i].major;
	*subtype = format_names[i].subtype;
	return RA_OK;
}

const char *ra_format_parse_name(size_t i)
{
	return i < COUNT(format_names) ? format_names[i].name : NULL;
}

ra_status ra_subtype_parse(const char *name, int *subtype)
{
	size_t i;

	if (ra_name_lookup(name, subtype_names, COUNT(subtype_names), sizeof(subtype_names[0]),
			   RA_NAME_ANY_CASE, &i) != RA_OK)
		return RA_ERR_INVALID;
	*subtype = subtype_names[i].subtype;
	return RA_OK;
}

const char *ra_format_name(int format)
{
	int major = format & SF_FORMAT_TYPEMASK;

	for (size_t i = 0; i < COUNT(format_names); i++)
		if (format_names[i].major == major)
			return format_names[i].name;
	return "?";
}

const char *ra_subtype_name(int format)
{
	int sub = format & SF_FORMAT_SUBMASK;

	for (size_t i = 0; i < COUNT(subtype_names); i++)
		if (subtype_names[i].subtype == sub)
			return subtype_names[i].name;
	return "?";
}

/* Subtypes that decode to at most 16 significant bits. */
static int is_narrow_codec(int sub)
{
	switch (sub) {
	case SF_FORMAT_ULAW:
	case SF_FORMAT_ALAW:
	case SF_FORMAT_IMA_ADPCM:
	case SF_FORMAT_MS_ADPCM:
	case SF_FORMAT_GSM610:
	case SF_FORMAT_G721_32:
	case SF_FORMAT_G723_24:
	case SF_FORMAT_G723_40:
	case SF_FORMAT_VOX_ADPCM:
	case SF_FORMAT_NMS_ADPCM_16:
	case SF_FORMAT_NMS_ADPCM_24:
	case SF_FORMAT_NMS_ADPCM_32:
	case SF_FORMAT_DWVW_12:
	case SF_FORMAT_DWVW_16:
	case SF_FORMAT_DPCM_8:
	case SF_FORMAT_DPCM_16:
	case SF_FORMAT_ALAC_16:
		return 1;
	}
	return 0;
}

/* A write-only sink for probing encoders: remembers only its length. */
typedef struct null_sink {
	sf_count_t pos, len;
} null_sink;

static sf_count_t sink_length(void *user)
{
	return ((null_sink *)user)->len;
}

static sf_count_t sink_seek(sf_count_t offset, int whence, void *user)
{
	null_sink *s = user;

	if (whence == SEEK_CUR)
		offset += s->pos;
	else if (whence == SEEK_END)
		offset += s->len;
	s->pos = offset < 0 ? 0 : offset;
	return s->pos;
}

static sf_count_t sink_read(void *ptr, sf_count_t count, void *user)
{
	(void)ptr;
	(void)count;
	(void)user;
	return 0;
}

static sf_count_t sink_write(const void *ptr, sf_count_t count, void *user)
{
	null_sink *s = user;

	(void)ptr;
	s->pos += count;
	if (s->pos > s->len)
		s->len = s->pos;
	return count;
}

static sf_count_t sink_tell(void *user)
{
	return ((null_sink *)user)->pos;
}

/* Shapes that libsndfile accepts for writing but cannot really write:
 * found by writing small files of each format and subtype at odd channel
 * counts and rates and reading them back (libsndfile 1.2). */
static int shape_ok(int format, int channels, int rate)
{
	int major = format & SF_FORMAT_TYPEMASK, sub = format & SF_FORMAT_SUBMASK;

	switch (sub) {
	case SF_FORMAT_ALAC_16:
	case SF_FORMAT_ALAC_20:
	case SF_FORMAT_ALAC_24:
	case SF_FORMAT_ALAC_32:
		/* More: a file that no one, libsndfile included, reads back. */
		return channels <= 8;
	case SF_FORMAT_VORBIS:
		/* Beyond these libvorbis's encoder fails on the first block. */
		return channels <= 255 && rate <= 200000;
	}
	/* FLAC frame headers hold a rate above 65535 Hz in tens of Hz; the
	 * encoder fails on any other. */
	if (major == SF_FORMAT_FLAC && rate > 65535 && rate % 10 != 0)
		return 0;
	/* 12-bit DWVW opens, then every write fails ("unimplemented format"). */
	if (sub == SF_FORMAT_DWVW_12)
		return 0;
	/* DWVW is packed in bits and padded at the end: raw, with no header to
	 * say the length, reads back frames that were never written. */
	if (major == SF_FORMAT_RAW &&
	    (sub == SF_FORMAT_DWVW_16 || sub == SF_FORMAT_DWVW_24 || sub == SF_FORMAT_DWVW_N))
		return 0;
	/* 8-bit VOC blocks store the rate as a time constant: most rates come
	 * back changed. */
	if (major == SF_FORMAT_VOC && sub == SF_FORMAT_PCM_U8)
		return 0;
	/* Mono u-law and A-law VOC read back one frame longer than written. */
	if (major == SF_FORMAT_VOC && channels == 1 &&
	    (sub == SF_FORMAT_ULAW || sub == SF_FORMAT_ALAW))
		return 0;
	return 1;
}

/* libsndfile keeps the reason an open failed in one global, for
 * sf_strerror(NULL): files opened on several threads at once (-j) would
 * read each other's reasons, or none. Opens go one at a time; a failed
 * one's reason is copied into WHY (SIZE bytes) before the next. */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;

static SNDFILE *open_virtual(SF_VIRTUAL_IO *calls, int mode, SF_INFO *info, void *user, char *why,
			     size_t size)
{
	SNDFILE *sf;

	pthread_mutex_lock(&open_lock);
	sf = sf_open_virtual(calls, mode, info, user);
	if (!sf && why)
		snprintf(why, size, "%s", sf_strerror(NULL));
	pthread_mutex_unlock(&open_lock);
	return sf;
}

/* A stream (a pipe, a FIFO, standard input) through libsndfile's own reads,
 * which never seek back: FD stays the caller's. As open_virtual(). */
static SNDFILE *open_stream(int fd, SF_INFO *info, char *why, size_t size)
{
	SNDFILE *sf;

	pthread_mutex_lock(&open_lock);
	sf = sf_open_fd(fd, SFM_READ, info, SF_FALSE);
	if (!sf)
		snprintf(why, size, "%s", sf_strerror(NULL));
	pthread_mutex_unlock(&open_lock);
	return sf;
}

/* Whether libsndfile can write FORMAT with IN's shape. sf_format_check()
 * accepts some pairs that only the reader implements (MPEG in WAV), so
 * open an encoder on a null sink to be sure. */
static int format_ok(int format, const ra_audio_info *in)
{
	SF_INFO probe = { .samplerate = in->sample_rate,
			  .channels = in->channels,
			  .format = format };
	SF_VIRTUAL_IO io = { sink_length, sink_seek, sink_read, sink_write, sink_tell };
	null_sink sink = { 0, 0 };
	SNDFILE *sf;

	if (!sf_format_check(&probe) || !shape_ok(format, in->channels, in->sample_rate))
		return 0;
	sf = open_virtual(&io, SFM_WRITE, &probe, &sink, NULL, 0);
	if (!sf)
		return 0;
	sf_close(sf);
	return 1;
}

/* The first subtype in the zero-terminated CANDIDATES the major type takes. */
static int first_writable(int major, const int *candidates, const ra_audio_info *in)
{
	for (; *candidates; candidates++)
		if (format_ok(major | *candidates, in))
			return *candidates;
	return 0;
}

/* A lossless home for IN's samples in MAJOR, or MAJOR's own codec. */
static int fallback_subtype(int major, const ra_audio_info *in)
{
	static const int narrow[] = { SF_FORMAT_PCM_16, SF_FORMAT_PCM_24, SF_FORMAT_FLOAT, 0 };
	static const int pcm8[] = { SF_FORMAT_PCM_S8, SF_FORMAT_PCM_U8, SF_FORMAT_PCM_16,
				    SF_FORMAT_PCM_24, 0 };
	static const int pcm16[] = { SF_FORMAT_PCM_16, SF_FORMAT_PCM_24, SF_FORMAT_FLOAT, 0 };
	static const int pcm24[] = { SF_FORMAT_PCM_24, SF_FORMAT_PCM_32, SF_FORMAT_FLOAT, 0 };
	static const int wide[] = { SF_FORMAT_FLOAT, SF_FORMAT_PCM_24, SF_FORMAT_PCM_16, 0 };
	static const int codecs[] = { SF_FORMAT_VORBIS, SF_FORMAT_MPEG_LAYER_III, SF_FORMAT_OPUS,
				      0 };
	int sub = in->format & SF_FORMAT_SUBMASK;
	const int *candidates = wide;
	int found;

	switch (ra_format_pcm_bits(sub)) {
	case 8:
		candidates = pcm8;
		break;
	case 16:
		candidates = pcm16;
		break;
	case 24:
		candidates = pcm24;
		break;
	default:
		if (is_narrow_codec(sub))
			candidates = narrow;
	}
	found = first_writable(major, candidates, in);
	return found ? found : first_writable(major, codecs, in);
}

static const char *extension(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(path, '.');

	if (!dot || (slash && dot < slash) || dot == path || dot[-1] == '/')
		return NULL;
	return dot + 1;
}

/* Bytes a sample takes in SUB, 0 when it is coded in blocks. */
static int sample_bytes(int sub)
{
	switch (sub & SF_FORMAT_SUBMASK) {
	case SF_FORMAT_FLOAT:
		return 4;
	case SF_FORMAT_DOUBLE:
		return 8;
	case SF_FORMAT_ULAW:
	case SF_FORMAT_ALAW:
		return 1;
	}
	return ra_format_pcm_bits(sub) / 8;
}

int ra_format_streams(int format)
{
	switch (format & SF_FORMAT_TYPEMASK) {
	case SF_FORMAT_WAV:
	case SF_FORMAT_WAVEX:
	case SF_FORMAT_AU:
		/* Their lengths go in before the header does. */
		return sample_bytes(format) != 0;
	case SF_FORMAT_RAW:
	case SF_FORMAT_FLAC:
	case SF_FORMAT_OGG:
	case SF_FORMAT_MPEG:
		return 1;
	}
	return 0;
}

ra_status ra_format_choose(const ra_audio_info *in, const char *path, int major, int subtype,
			   int *out_format, int *fell_back, ra_diag *diag)
{
	int in_major = in->format & SF_FORMAT_TYPEMASK;
	int in_sub = in->format & SF_FORMAT_SUBMASK;
	int implied = 0, sub;
	const char *ext;

	*fell_back = 0;
	if (!major) {
		ext = extension(path);
		if (!ext || ra_format_parse(ext, &major, &implied) != RA_OK)
			major = in_major;
	} else if (major == SF_FORMAT_OGG && subtype == 0 && (ext = extension(path)) &&
		   !strcasecmp(ext, "opus")) {
		implied = SF_FORMAT_OPUS;
	}
	/* A .wav of many channels wants the extensible header, as the
	 * WAVEFORMATEXTENSIBLE rules ask; keep what the input had. */
	if (major == SF_FORMAT_WAV) {
		if (in_major == SF_FORMAT_WAVEX || (in_major != SF_FORMAT_WAV && in->channels > 2))
			major = SF_FORMAT_WAVEX;
	}
	if (subtype) {
		if (!format_ok(major | subtype, in)) {
			ra_diag_set(diag, "cannot write %s to %s with %d channel%s at %d Hz",
				    ra_subtype_name(subtype), ra_format_name(major), in->channels,
				    in->channels == 1 ? "" : "s", in->sample_rate);
			return RA_ERR_UNSUPPORTED;
		}
		sub = subtype;
	} else if (implied) {
		sub = implied;
	} else if (format_ok(major | in_sub, in)) {
		sub = in_sub;
	} else {
		sub = fallback_subtype(major, in);
		/* Choosing a lossy container is asking for its codec. */
		*fell_back = major != SF_FORMAT_OGG && major != SF_FORMAT_MPEG;
	}
	if (!sub || !format_ok(major | sub, in)) {
		ra_diag_set(diag, "cannot write %s audio with %d channel%s at %d Hz",
			    ra_format_name(major), in->channels, in->channels == 1 ? "" : "s",
			    in->sample_rate);
		return RA_ERR_UNSUPPORTED;
	}
	if (!strcmp(path, "-") && !ra_format_streams(major | sub)) {
		ra_diag_set(diag,
			    "cannot write %s %s to standard output, front to back (wav, au and "
			    "raw of fixed-size samples, flac, ogg, opus and mp3 can be)",
			    ra_format_name(major), ra_subtype_name(sub));
		return RA_ERR_UNSUPPORTED;
	}
	if ((major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX) && in->frames >= 0 &&
	    strcmp(path, "-")) {
		int bytes = sample_bytes(sub);
		double size = (double)in->frames * in->channels * (bytes ? bytes : 4);

		if (size > 4294967295.0 - 65536.0)
			major = SF_FORMAT_RF64;
	}
	*out_format = major | sub;
	return RA_OK;
}

int ra_path_same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* libsndfile's messages, in this tool's voice: lowercase, no final stop. */
static void diag_sndfile(ra_diag *diag, const char *what, const char *msg)
{
	char text[200];
	size_t n;

	if (msg && !strncasecmp(msg, "error : ", 8))
		msg += 8;
	snprintf(text, sizeof(text), "%s", msg ? msg : "unknown error");
	n = strlen(text);
	while (n > 0 && (text[n - 1] == '.' || isspace((unsigned char)text[n - 1])))
		text[--n] = '\0';
	if (isupper((unsigned char)text[0]) && islower((unsigned char)text[1]))
		text[0] = (char)tolower((unsigned char)text[0]);
	ra_diag_set(diag, "%s: %s", what, text);
}

static void load_metadata(ra_reader *rd)
{
	for (int s = SF_STR_FIRST; s <= SF_STR_LAST; s++) {
		const char *v = sf_get_string(rd->sf, s);

		if (v && *v)
			rd->strings[s - SF_STR_FIRST] = strdup(v);
	}
	rd->bext = calloc(1, sizeof(SF_BROADCAST_INFO) + BEXT_HISTORY_MAX);
	if (rd->bext &&
	    sf_command(rd->sf, SFC_GET_BROADCAST_INFO, rd->bext,
		       (int)(sizeof(SF_BROADCAST_INFO) + BEXT_HISTORY_MAX)) != SF_TRUE) {
		free(rd->bext);
		rd->bext = NULL;
	}
	{
		uint32_t count = 0;

		if (sf_command(rd->sf, SFC_GET_CUE_COUNT, &count, sizeof(count)) == SF_TRUE &&
		    count > 0) {
			rd->cues_size = sizeof(SF_CUES) + count * sizeof(SF_CUE_POINT);
			rd->cues = calloc(1, rd->cues_size);
			if (rd->cues && sf_command(rd->sf, SFC_GET_CUE, rd->cues,
						   (int)rd->cues_size) != SF_TRUE) {
				free(rd->cues);
				rd->cues = NULL;
			}
		}
	}
	rd->instrument = calloc(1, sizeof(*rd->instrument));
	if (rd->instrument && sf_command(rd->sf, SFC_GET_INSTRUMENT, rd->instrument,
					 sizeof(*rd->instrument)) != SF_TRUE) {
		free(rd->instrument);
		rd->instrument = NULL;
	}
	rd->channel_map = calloc((size_t)rd->info.channels, sizeof(*rd->channel_map));
	if (rd->channel_map &&
	    sf_command(rd->sf, SFC_GET_CHANNEL_MAP_INFO, rd->channel_map,
		       rd->info.channels * (int)sizeof(*rd->channel_map)) != SF_TRUE) {
		free(rd->channel_map);
		rd->channel_map = NULL;
	}
}

const int *ra_reader_channel_map(const ra_reader *rd)
{
	return rd->channel_map;
}

/* Copy all of FD to a new temporary file, or return -1 with *ST and DIAG:
 * RA_ERR_OPEN when there is no temporary file to be had in $TMPDIR,
 * RA_ERR_WRITE when the copy fails (a full disk: that may pass),
 * RA_ERR_READ when FD fails or a stop (*CANCEL) ends the wait for its
 * writer. */
static int copy_to_temp(int fd, const volatile sig_atomic_t *cancel, ra_status *st, ra_diag *diag)
{
	const char *env = getenv("TMPDIR"), *dir = env && *env ? env : "/tmp";
	char buf[1 << 16];
	int tmp = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600), err;
	ssize_t n = 0;

	*st = RA_ERR_OPEN;
	if (tmp < 0) {
		ra_diag_set(diag, "cannot spool to %s: %s", dir, strerror(errno));
		return -1;
	}
	*st = RA_ERR_WRITE;
	/* A stop ends the wait for the writer on any thread, as the relay's. */
	while ((err = ra_io_wait(fd, POLLIN, cancel)) == 0 &&
	       (n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t put = 0, w; put < n; put += w) {
			w = write(tmp, buf + put, (size_t)(n - put));
			if (w <= 0) {
				ra_diag_set(diag, "cannot spool to %s: %s", dir,
					    strerror(w < 0 ? errno : EIO));
				close(tmp);
				return -1;
			}
		}
	}
	if (n < 0 && !err)
		err = errno;
	*st = RA_ERR_READ;
	if (err) {
		if (err == EINTR)
			ra_diag_set(diag, "interrupted");
		else
			ra_diag_set(diag, "read error: %s", strerror(err));
		close(tmp);
		return -1;
	}
	return tmp;
}

ra_reader *ra_reader_open(const char *path, int flags, const volatile sig_atomic_t *cancel,
			  ra_status *status, ra_diag *diag)
{
	SF_INFO info = { 0 };
	ra_reader *rd = NULL;
	ra_status st = RA_ERR_OPEN;
	char why[200];
	struct stat sb;
	int fd, stream;

	/* "-" is standard input. */
	fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC)
			       : fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		/* EINTR: a stop signal while a FIFO waited for its writer. */
		if (errno == EINTR)
			ra_diag_set(diag, "interrupted");
		else
			ra_diag_set(diag, "cannot open: %s", strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) != 0 || S_ISDIR(sb.st_mode)) {
		ra_diag_set(diag, "cannot open: %s",
			    S_ISDIR(sb.st_mode) ? "Is a directory" : strerror(errno));
		goto out_close_fd;
	}
	/* What cannot seek is read as a stream, front to back, or spooled. */
	stream = !S_ISREG(sb.st_mode) && lseek(fd, 0, SEEK_CUR) < 0;
	if (stream && (flags & RA_READ_SPOOL)) {
		int copy = copy_to_temp(fd, cancel, &st, diag);

		close(fd);
		if (copy < 0)
			goto out;
		fd = copy;
		stream = 0;
	}
	st = RA_ERR_NOMEM;
	rd = calloc(1, sizeof(*rd));
	if (!rd) {
		ra_diag_set(diag, "out of memory");
		goto out_close_fd;
	}
	if (stream) {
		rd->relay = ra_io_relay_start(fd, cancel, &rd->io.fd);
		if (!rd->relay) {
			ra_diag_set(diag, "cannot start reading a stream: %s", strerror(errno));
			free(rd);
			rd = NULL;
			goto out_close_fd;
		}
		rd->stream_fd = fd;
		rd->sf = open_stream(rd->io.fd, &info, why, sizeof(why));
		if (!rd->sf && ra_io_relay_error(rd->relay) == EINTR) {
			ra_diag_set(diag, "interrupted");
			goto out_free;
		}
	} else if (ra_io_init(&rd->io, fd) != 0) {
		ra_diag_set(diag, "out of memory");
		goto out_free;
	} else {
		rd->sf = open_virtual(&ra_io_calls, SFM_READ, &info, &rd->io, why, sizeof(why));
	}
	if (!rd->sf) {
		st = RA_ERR_FORMAT;
		diag_sndfile(diag,
			     stream ? "not an audio stream libsndfile reads from a pipe (FLAC "
				      "and formats that seek cannot be; --spool reads it "
				      "through a temporary file)"
				    : "not a readable audio file",
			     why);
		goto out_free;
	}
	st = RA_ERR_LIMITS;
	if (info.channels < 1 || info.channels > RA_MAX_CHANNELS) {
		ra_diag_set(diag, "unsupported channel count %d (1 to %d)", info.channels,
			    RA_MAX_CHANNELS);
		goto out_free;
	}
	if (info.samplerate < 1 || info.samplerate > RA_MAX_SAMPLE_RATE) {
		ra_diag_set(diag, "unsupported sample rate %d Hz (1 to %d)", info.samplerate,
			    RA_MAX_SAMPLE_RATE);
		goto out_free;
	}
	/* A stream's header was written before its length was known (ffmpeg
	 * says 1073741823 frames): it has none. */
	rd->info.frames =
		info.frames >= 0 && info.frames != SF_COUNT_MAX && !stream ? info.frames : -1;
	rd->info.sample_rate = info.samplerate;
	rd->info.channels = info.channels;
	rd->info.format = info.format;
	load_metadata(rd);
	st = RA_OK;
	goto out;

out_free:
	ra_reader_destroy(rd);
	rd = NULL;
	goto out;
out_close_fd:
	close(fd);
out:
	if (status)
		*status = st;
	return rd;
}

const ra_audio_info *ra_reader_info(const ra_reader *rd)
{
	return &rd->info;
}

static ra_status read_result(ra_reader *rd, sf_count_t want, sf_count_t got, size_t *out,
			     ra_diag *diag)
{
	*out = got > 0 ? (size_t)got : 0;
	/* A stream cut short by a stop, or by a failed read of its source. */
	if (got < want && rd->relay && ra_io_relay_error(rd->relay)) {
		int err = ra_io_relay_error(rd->relay);

		if (err == EINTR)
			ra_diag_set(diag, "interrupted");
		else
			ra_diag_set(diag, "read error: %s", strerror(err));
		return RA_ERR_READ;
	}
	if (got < want && sf_error(rd->sf) != SF_ERR_NO_ERROR) {
		diag_sndfile(diag, "read error", sf_strerror(rd->sf));
		return RA_ERR_READ;
	}
	return RA_OK;
}

ra_status ra_reader_read_int(ra_reader *rd, int32_t *buf, size_t frames, size_t *got, ra_diag *diag)
{
	sf_count_t n = sf_readf_int(rd->sf, buf, (sf_count_t)frames);

	return read_result(rd, (sf_count_t)frames, n, got, diag);
}

ra_status ra_reader_read_float(ra_reader *rd, float *buf, size_t frames, size_t *got, ra_diag *diag)
{
	sf_count_t n = sf_readf_float(rd->sf, buf, (sf_count_t)frames);

	return read_result(rd, (sf_count_t)frames, n, got, diag);
}

int ra_reader_reads_shorts(const ra_reader *rd)
{
	const int sub = rd->info.format & SF_FORMAT_SUBMASK;

	return sub == SF_FORMAT_PCM_16 || sub == SF_FORMAT_PCM_S8 || sub == SF_FORMAT_PCM_U8;
}

ra_status ra_reader_read_short(ra_reader *rd, int16_t *buf, size_t frames, size_t *got,
			       ra_diag *diag)
{
	sf_count_t n = sf_readf_short(rd->sf, buf, (sf_count_t)frames);

	return read_result(rd, (sf_count_t)frames, n, got, diag);
}

ra_status ra_reader_read_double(ra_reader *rd, double *buf, size_t frames, size_t *got,
				ra_diag *diag)
{
	sf_count_t n = sf_readf_double(rd->sf, buf, (sf_count_t)frames);

	return read_result(rd, (sf_count_t)frames, n, got, diag);
}

ra_status ra_reader_rewind(ra_reader *rd, ra_diag *diag)
{
	return ra_reader_seek(rd, 0, diag);
}

ra_status ra_reader_seek(ra_reader *rd, int64_t frame, ra_diag *diag)
{
	if (sf_seek(rd->sf, frame, SEEK_SET) != frame) {
		diag_sndfile(diag, frame ? "cannot seek" : "cannot go back to the start",
			     sf_strerror(rd->sf));
		return RA_ERR_READ;
	}
	return RA_OK;
}

void ra_reader_destroy(ra_reader *rd)
{
	if (!rd)
		return;
	if (rd->sf)
		sf_close(rd->sf);
	ra_io_relay_stop(rd->relay);
	close(rd->io.fd);
	if (rd->relay)
		close(rd->stream_fd);
	ra_io_release(&rd->io);
	for (size_t i = 0; i < COUNT(rd->strings); i++)
		free(rd->strings[i]);
	free(rd->bext);
	free(rd->cues);
	free(rd->instrument);
	free(rd->channel_map);
	free(rd);
}

/* The bits of a FLAC subtype, 0 for one FLAC does not have. */
static int flac_bits(int format)
{
	switch (format & SF_FORMAT_SUBMASK) {
	case SF_FORMAT_PCM_S8:
	case SF_FORMAT_PCM_16:
	case SF_FORMAT_PCM_24:
		return ra_format_pcm_bits(format);
	default:
		return 0;
	}
}

/* IO's failure, in DIAG. */
static ra_status io_failure(const ra_io *io, ra_diag *diag)
{
	/* A stop signal while a pipe's reader kept it full. */
	if (io->error == EINTR)
		ra_diag_set(diag, "interrupted");
	else
		ra_diag_set(diag, "write error: %s", strerror(io->error ? io->error : EIO));
	return RA_ERR_WRITE;
}

/* Whether MAJOR's header holds the length. */
static int says_length(int major)
{
	return major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX || major == SF_FORMAT_AU;
}

/* The FLAC encoder's bytes into the writer's file. */
static int flac_put(void *ctx, uint64_t offset, const void *buf, size_t len, ra_diag *diag)
{
	ra_writer *wr = ctx;

	ra_io_seek((sf_count_t)offset, SEEK_SET, &wr->io);
	if (ra_io_write(buf, (sf_count_t)len, &wr->io) == (sf_count_t)len && !wr->io.error)
		return 0;
	io_failure(&wr->io, diag);
	return -1;
}

static uint32_t get_le32(const unsigned char *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(unsigned char *p, uint64_t v)
{
	for (int k = 0; k < 4; k++)
		p[k] = (unsigned char)(v >> (8 * k));
}

/* The RIFF, data and fact lengths of the WAV header in BUF (SIZE bytes)
 * for FRAMES frames of DATA bytes (UINT64_MAX: unknown, said as the
 * largest length there is, the way ffmpeg streams WAV). */
static void set_wav_lengths(unsigned char *buf, size_t size, int64_t frames, uint64_t data)
{
	for (size_t at = 12; at + 8 <= size;) {
		uint32_t len = get_le32(buf + at + 4);

		if (!memcmp(buf + at, "fact", 4) && at + 12 <= size && frames >= 0)
			put_le32(buf + at + 8, frames < UINT32_MAX ? (uint64_t)frames : UINT32_MAX);
		if (!memcmp(buf + at, "data", 4)) {
			uint64_t riff = data < UINT32_MAX ? at + data + (data & 1) : UINT32_MAX;

			put_le32(buf + at + 4, data < UINT32_MAX ? data : UINT32_MAX);
			put_le32(buf + 4, riff < UINT32_MAX ? riff : UINT32_MAX);
			return;
		}
		at += 8 + (size_t)len + (len & 1);
	}
}

/* Standard output's header, before it goes: the lengths libsndfile would
 * put in at the end, when it can no longer seek back to them. */
static void stream_header(void *ctx, unsigned char *buf, size_t size)
{
	const ra_writer *wr = ctx;
	uint64_t data = UINT64_MAX;

	if (wr->promised >= 0)
		data = (uint64_t)wr->promised * (uint64_t)wr->channels *
		       (uint64_t)sample_bytes(wr->format);
	if (wr->major == SF_FORMAT_WAV || wr->major == SF_FORMAT_WAVEX) {
		set_wav_lengths(buf, size, wr->promised, data);
	} else if (wr->major == SF_FORMAT_AU && size >= 12) {
		/* Big-endian; all ones is AU's own "unknown". */
		for (int k = 0; k < 4; k++)
			buf[8 + k] = (unsigned char)((data < UINT32_MAX ? data : UINT32_MAX) >>
						     (24 - 8 * k));
	}
}

/* Standard output, as a stream whatever it is, but never a terminal. */
static ra_status open_stdout(ra_writer *wr, const ra_audio_info *info, ra_diag *diag)
{
	if (isatty(STDOUT_FILENO)) {
		ra_diag_set(diag, "standard output is a terminal: redirect it, or give -o FILE");
		return RA_ERR_OPEN;
	}
	if (!ra_format_streams(info->format)) {
		ra_diag_set(diag, "cannot write %s %s to standard output",
			    ra_format_name(info->format), ra_subtype_name(info->format));
		return RA_ERR_UNSUPPORTED;
	}
	wr->promised = info->frames;
	if (ra_io_init_stream(&wr->io, STDOUT_FILENO, stream_header, wr) != 0) {
		ra_diag_set(diag, "out of memory");
		return RA_ERR_NOMEM;
	}
	return RA_OK;
}

/* PATH's temporary file, buffered. */
static ra_status open_file(ra_writer *wr, const char *path, int flags, ra_diag *diag)
{
	ra_status st = ra_atomic_open(&wr->file, path, flags & RA_WRITE_FORCE, diag);

	if (st != RA_OK)
		return st;
	if (ra_io_init(&wr->io, wr->file.fd) != 0) {
		ra_diag_set(diag, "out of memory");
		return RA_ERR_NOMEM;
	}
	return RA_OK;
}

ra_writer *ra_writer_open(const char *path, const ra_audio_info *info, int flags, ra_status *status,
			  ra_diag *diag)
{
	SF_INFO sfinfo = { .samplerate = info->sample_rate,
			   .channels = info->channels,
			   .format = info->format };
	ra_status st = RA_ERR_NOMEM;
	char why[200];
	ra_writer *wr;
	int auto_rf64 = 0;

	wr = calloc(1, sizeof(*wr));
	if (!wr) {
		ra_diag_set(diag, "out of memory");
		goto out;
	}
	wr->io.fd = -1;
	wr->format = info->format;
	wr->major = info->format & SF_FORMAT_TYPEMASK;
	wr->channels = info->channels;
	st = strcmp(path, "-") ? open_file(wr, path, flags, diag) : open_stdout(wr, info, diag);
	if (st != RA_OK)
		goto out_free;
	if ((info->format & SF_FORMAT_TYPEMASK) == SF_FORMAT_FLAC) {
		wr->flac = ra_flac_create(info->sample_rate, info->channels,
					  flac_bits(info->format), flac_put, wr, &st, diag);
		if (!wr->flac)
			goto out_free;
		goto out;
	}
	/* Unknown length: write RF64 and let libsndfile turn it back into a
	 * plain RIFF WAVE at close if it stayed under 4 GiB. RF64 takes PCM
	 * and float only: the codecs stay WAV, whose lengths are patched. */
	if (info->frames < 0 && !wr->io.stream &&
	    (wr->major == SF_FORMAT_WAV || wr->major == SF_FORMAT_WAVEX) &&
	    format_ok(SF_FORMAT_RF64 | (info->format & SF_FORMAT_SUBMASK), info)) {
		sfinfo.format = SF_FORMAT_RF64 | (info->format & SF_FORMAT_SUBMASK);
		auto_rf64 = 1;
	}
	/* The length, when known, as sndfile-convert passes it: headers that are
	 * not patched at close (W64 with MS-ADPCM's fact chunk) then hold it. */
	if (info->frames >= 0)
		sfinfo.frames = info->frames;
	wr->sf = open_virtual(&ra_io_calls, SFM_WRITE, &sfinfo, &wr->io, why, sizeof(why));
	if (!wr->sf) {
		st = RA_ERR_UNSUPPORTED;
		diag_sndfile(diag, "cannot write this format", why);
		goto out_free;
	}
	if (auto_rf64)
		sf_command(wr->sf, SFC_RF64_AUTO_DOWNGRADE, NULL, SF_TRUE);
	/* Float written to integer PCM: clip rather than wrap, and scale by
	 * 2^(bits-1) as the reader does, not by 2^(bits-1) - 1. */
	sf_command(wr->sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
	/* The PEAK chunk carries a timestamp: without it the same input gives
	 * the same bytes, run after run. */
	sf_command(wr->sf, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE);
	wr->major = sfinfo.format & SF_FORMAT_TYPEMASK;
	st = RA_OK;
	goto out;

out_free:
	ra_writer_abort(wr);
	wr = NULL;
out:
	if (status)
		*status = st;
	return wr;
}

void ra_writer_set_cancel(ra_writer *wr, const volatile sig_atomic_t *cancel)
{
	wr->io.cancel = cancel;
}

/* A position in frames at the output's rate: rounded, exact when the rate
 * does not change, and saturated at MAX rather than wrapped. */
static uint64_t scale_position(uint64_t t, double ratio, uint64_t max)
{
	double v;

	if (ratio == 1.0)
		return t;
	v = (double)t * ratio + 0.5;
	return v < (double)max ? (uint64_t)v : max;
}

/* The Vorbis comment that holds string S in FLAC, as libsndfile names it;
 * NULL for none. */
static const char *flac_tag_name(int s)
{
	static const struct {
		int type;
		const char *name;
	} names[] = {
		{ SF_STR_TITLE, "title" },
		{ SF_STR_COPYRIGHT, "copyright" },
		{ SF_STR_SOFTWARE, "software" },
		{ SF_STR_ARTIST, "artist" },
		{ SF_STR_COMMENT, "comment" },
		{ SF_STR_DATE, "date" },
		{ SF_STR_ALBUM, "album" },
		{ SF_STR_LICENSE, "license" },
		{ SF_STR_TRACKNUMBER, "tracknumber" },
		{ SF_STR_GENRE, "genre" },
	};

	for (size_t i = 0; i < COUNT(names); i++)
		if (names[i].type == s)
			return names[i].name;
	return NULL;
}

/* FLAC keeps the strings alone. */
static void flac_copy_strings(ra_writer *wr, const ra_reader *src)
{
	for (int s = SF_STR_FIRST; s <= SF_STR_LAST; s++) {
		const char *name = flac_tag_name(s), *value = src->strings[s - SF_STR_FIRST];

		if (name && value)
			ra_flac_tag(wr->flac, name, value);
	}
}

void ra_writer_set_workers(ra_writer *wr, ra_workers *w)
{
	if (wr->flac)
		ra_flac_set_workers(wr->flac, w);
}

void ra_writer_copy_metadata(ra_writer *wr, const ra_reader *src, double ratio)
{
	if (wr->flac) {
		flac_copy_strings(wr, src);
		return;
	}
	for (int s = SF_STR_FIRST; s <= SF_STR_LAST; s++)
		if (src->strings[s - SF_STR_FIRST])
			sf_set_string(wr->sf, s, src->strings[s - SF_STR_FIRST]);
	if (src->bext) {
		size_t size = sizeof(SF_BROADCAST_INFO) + BEXT_HISTORY_MAX;
		SF_BROADCAST_INFO *b = malloc(size);

		if (b) {
			uint64_t t;

			memcpy(b, src->bext, size);
			t = ((uint64_t)b->time_reference_high << 32) | b->time_reference_low;
			t = scale_position(t, ratio, UINT64_MAX);
			b->time_reference_low = (uint32_t)t;
			b->time_reference_high = (uint32_t)(t >> 32);
			/* libsndfile wants the size of what is used, not of the buffer. */
			if (b->coding_history_size > BEXT_HISTORY_MAX)
				b->coding_history_size = BEXT_HISTORY_MAX;
			sf_command(wr->sf, SFC_SET_BROADCAST_INFO, b,
				   (int)(offsetof(SF_BROADCAST_INFO, coding_history) +
					 b->coding_history_size));
			free(b);
		}
	}
	if (src->cues) {
		SF_CUES *c = malloc(src->cues_size);

		if (c) {
			/* Sized for cue_count points, more than SF_CUES declares. */
			SF_CUE_POINT *pt = c->cue_points;

			memcpy(c, src->cues, src->cues_size);
			for (uint32_t i = 0; i < c->cue_count; i++) {
				pt[i].position =
					(uint32_t)scale_position(pt[i].position, ratio, UINT32_MAX);
				pt[i].sample_offset = (uint32_t)scale_position(pt[i].sample_offset,
									       ratio, UINT32_MAX);
			}
			sf_command(wr->sf, SFC_SET_CUE, c, (int)src->cues_size);
			free(c);
		}
	}
	if (src->instrument) {
		SF_INSTRUMENT inst = *src->instrument;

		for (int i = 0; i < inst.loop_count && i < 16; i++) {
			inst.loops[i].start =
				(uint32_t)scale_position(inst.loops[i].start, ratio, UINT32_MAX);
			inst.loops[i].end =
				(uint32_t)scale_position(inst.loops[i].end, ratio, UINT32_MAX);
		}
		sf_command(wr->sf, SFC_SET_INSTRUMENT, &inst, sizeof(inst));
	}
}

static ra_status flac_result(ra_writer *wr, size_t frames, ra_status st)
{
	if (st == RA_OK)
		wr->frames += (int64_t)frames;
	return st;
}

static ra_status write_result(ra_writer *wr, sf_count_t want, sf_count_t done, ra_diag *diag)
{
	wr->frames += done > 0 ? done : 0;
	if (wr->io.error)
		return io_failure(&wr->io, diag);
	if (done != want) {
		diag_sndfile(diag, "write error", sf_strerror(wr->sf));
		return RA_ERR_WRITE;
	}
	return RA_OK;
}

/* Float (or with DOUBLES, double) samples of BUF to FLAC: scaled by
 * 2^(bits-1) and held at the rails, as libsndfile's clipping writers do for
 * integer PCM. */
static ra_status flac_write_real(ra_writer *wr, const void *buf, int doubles, size_t frames,
				 ra_diag *diag)
{
	const float *f = buf;
	const double *d = buf;
	const int bits = flac_bits(wr->format);
	const size_t channels = (size_t)wr->channels;
	const double scale = ldexp(1.0, bits - 1), top = scale - 1.0;
	int32_t ints[4096];
	ra_status st = RA_OK;

	for (size_t at = 0, n; st == RA_OK && at < frames; at += n) {
		n = frames - at < COUNT(ints) / channels ? frames - at : COUNT(ints) / channels;
		for (size_t i = 0; i < n * channels; i++) {
			size_t k = at * channels + i;
			double v = (doubles ? d[k] : (double)f[k]) * scale;

			v = v >= top ? top : v <= -scale ? -scale : v;
			ints[i] = (int32_t)lrint(v) * (1 << (32 - bits));
		}
		st = ra_flac_write(wr->flac, ints, n, diag);
	}
	return st;
}

ra_status ra_writer_write_int(ra_writer *wr, const int32_t *buf, size_t frames, ra_diag *diag)
{
	if (wr->flac)
		return flac_result(wr, frames, ra_flac_write(wr->flac, buf, frames, diag));
	return write_result(wr, (sf_count_t)frames, sf_writef_int(wr->sf, buf, (sf_count_t)frames),
			    diag);
}

ra_status ra_writer_write_float(ra_writer *wr, const float *buf, size_t frames, ra_diag *diag)
{
	if (wr->flac)
		return flac_result(wr, frames, flac_write_real(wr, buf, 0, frames, diag));
	return write_result(wr, (sf_count_t)frames,
			    sf_writef_float(wr->sf, buf, (sf_count_t)frames), diag);
}

int ra_writer_takes_shorts(const ra_writer *wr)
{
	return !wr->flac && (wr->format & SF_FORMAT_SUBMASK) == SF_FORMAT_PCM_16;
}

ra_status ra_writer_write_short(ra_writer *wr, const int16_t *buf, size_t frames, ra_diag *diag)
{
	if (!ra_writer_takes_shorts(wr)) {
		ra_diag_set(diag, "this output does not take 16-bit samples");
		return RA_ERR_INVALID;
	}
	return write_result(wr, (sf_count_t)frames,
			    sf_writef_short(wr->sf, buf, (sf_count_t)frames), diag);
}

ra_status ra_writer_write_double(ra_writer *wr, const double *buf, size_t frames, ra_diag *diag)
{
	if (wr->flac)
		return flac_result(wr, frames, flac_write_real(wr, buf, 1, frames, diag));
	return write_result(wr, (sf_count_t)frames,
			    sf_writef_double(wr->sf, buf, (sf_count_t)frames), diag);
}

/* F finished, through FINISHED, then published. */
static ra_status finish_and_publish(ra_atomic_file *f, ra_finished_fn finished, void *ctx,
				    ra_diag *diag)
{
	ra_status st = ra_atomic_finish(f, diag);
	int fd;

	if (st != RA_OK || !finished)
		return st == RA_OK ? ra_atomic_publish(f, diag) : st;
	fd = f->sink ? -1 : openat(f->dir_fd, f->tmp_name, O_RDONLY | O_CLOEXEC);
	if (!f->sink && fd < 0) {
		ra_diag_set(diag, "cannot read back %s: %s", f->path, strerror(errno));
		return RA_ERR_WRITE;
	}
	if (finished(ctx, fd, diag) != 0)
		st = RA_ERR_WRITE;
	if (fd >= 0)
		close(fd);
	return st == RA_OK ? ra_atomic_publish(f, diag) : st;
}

/* The length written, into the fact chunk of a WAV or W64 once libsndfile
 * has closed it. libsndfile 1.2 puts one block's frames (2041 for stereo)
 * there for IMA ADPCM, and in W64 keeps the length it was told at the start
 * for MS ADPCM and GSM 6.10, which an input that ends early makes wrong:
 * readers that trust the chunk (ffprobe with W64) took 4000 frames for
 * 2041, or 16000 for 4096. */
static void fix_fact_chunk(ra_writer *wr)
{
	const int w64 = wr->major == SF_FORMAT_W64, at = w64 ? 24 : 8, width = w64 ? 8 : 4;
	unsigned char head[1024], count[8];
	sf_count_t n;

	if (wr->major != SF_FORMAT_WAV && !w64)
		return;
	ra_io_seek(0, SEEK_SET, &wr->io);
	n = ra_io_read(head, sizeof(head), &wr->io);
	for (sf_count_t i = 12; i + at + width <= n; i++) {
		if (memcmp(head + i, "fact", 4) != 0)
			continue;
		for (int k = 0; k < width; k++)
			count[k] = (unsigned char)((uint64_t)wr->frames >> (8 * k));
		ra_io_seek(i + at, SEEK_SET, &wr->io);
		ra_io_write(count, width, &wr->io);
		return;
	}
}

/* The last of the audio out of the encoder (libsndfile's or FLAC's) and
 * into the file. */
static ra_status writer_close(ra_writer *wr, ra_diag *diag)
{
	int err = 0;

	/* Standard output's header goes with its first MiB: while that is
	 * still here, the header gets the length written. */
	if (wr->io.stream && wr->io.start == 0)
		wr->promised = wr->frames;
	if (wr->flac) {
		ra_status st = ra_flac_finish(wr->flac, diag);

		if (st != RA_OK)
			return st;
	} else {
		err = sf_close(wr->sf);
		wr->sf = NULL;
		if (err == 0)
			fix_fact_chunk(wr);
	}
	if (err == 0)
		ra_io_flush(&wr->io);
	if (wr->io.error)
		return io_failure(&wr->io, diag);
	if (err != 0) {
		diag_sndfile(diag, "write error", sf_error_number(err));
		return RA_ERR_WRITE;
	}
	if (wr->io.stream && says_length(wr->major) && wr->promised >= 0 &&
	    wr->promised != wr->frames) {
		/* The input's header said more than it held: its fault, for good. */
		ra_diag_set(diag, "its header went out saying %lld frames, and %lld came",
			    (long long)wr->promised, (long long)wr->frames);
		return RA_ERR_READ;
	}
	return RA_OK;
}

/* Standard output, synced where it is a file; FINISHED gets no descriptor
 * (it has nothing to read back). */
static ra_status finish_stream(int fd, ra_finished_fn finished, void *ctx, ra_diag *diag)
{
	if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS) {
		ra_diag_set(diag, "write error: %s", strerror(errno));
		return RA_ERR_WRITE;
	}
	return finished && finished(ctx, -1, diag) != 0 ? RA_ERR_WRITE : RA_OK;
}

ra_status ra_writer_commit(ra_writer *wr, ra_diag *diag)
{
	return ra_writer_commit_with(wr, NULL, NULL, diag);
}

ra_status ra_writer_commit_with(ra_writer *wr, ra_finished_fn finished, void *ctx, ra_diag *diag)
{
	ra_status st;

	if (!wr) {
		ra_diag_set(diag, "no writer to commit");
		return RA_ERR_INVALID;
	}
	st = writer_close(wr, diag);
	if (st == RA_OK && wr->io.stream) {
		st = finish_stream(wr->io.fd, finished, ctx, diag);
	} else if (st == RA_OK) {
		wr->io.fd = -1;
		st = finish_and_publish(&wr->file, finished, ctx, diag);
	}
	ra_writer_abort(wr);
	return st;
}

void ra_writer_abort(ra_writer *wr)
{
	if (!wr)
		return;
	if (wr->sf)
		sf_close(wr->sf);
	ra_flac_destroy(wr->flac);
	ra_io_release(&wr->io);
	ra_atomic_abort(&wr->file);
	free(wr);
}
