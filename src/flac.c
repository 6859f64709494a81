/* FLAC streams encoded in segments at once: one libFLAC encoder a segment,
 * its frames renumbered to their place in the stream, segments put in order,
 * and the header finished with the whole stream's figures and MD5. */
#include <FLAC/metadata.h>
#include <FLAC/stream_encoder.h>
#include <nettle/md5.h>
#include <stdlib.h>
#include <string.h>

#include "rustyaudio/flac.h"

#define BLOCK_FRAMES 4096	   /* libFLAC's block at level 5 */
#define SEGMENT_SAMPLES (1u << 19) /* about: 2 MiB of samples a segment */
#define SEGMENTS_MAX 9		   /* segments held at once */
#define HEADER_BYTES 42		   /* "fLaC" and the STREAMINFO block */
#define MD5_CHUNK 4096		   /* samples turned into bytes at a time */
#define CRC16_POLY 0x8005	   /* x^16 + x^15 + x^2 + 1 */
#define FRAME_SIZE_UNSET 0xFFFFFFu /* libFLAC's minimum before any frame */

/* Exported by libFLAC but declared only in the private header its own flac
 * tool includes (share/private.h) for --no-md5-sum. The stream's MD5 is
 * taken here, in order; segments must not each spend time on their own. */
extern FLAC__bool FLAC__stream_encoder_set_do_md5(FLAC__StreamEncoder *encoder, FLAC__bool value);

struct segment {
	ra_flac *f;
	FLAC__int32 *samples; /* right-justified, interleaved */
	size_t frames;	      /* held */
	uint64_t index;	      /* in the stream, from 0 */
	uint64_t ticket;      /* of its task on the workers */
	int pending;	      /* submitted, not yet put */
	uint8_t *out;	      /* the encoded bytes */
	size_t len, cap;
	uint32_t min_frame, max_frame; /* bytes */
	ra_status status;
	const char *why; /* for a status other than RA_OK */
};

struct ra_flac {
	int sample_rate, channels, bits;
	ra_flac_put_fn put;
	void *ctx;
	ra_workers *workers;
	FLAC__StreamMetadata *tags;

	size_t segment_frames;
	struct segment seg[SEGMENTS_MAX];
	size_t segments, at; /* slots in use; the one filling */
	uint64_t next_index, put_index;
	uint64_t offset; /* bytes put so far */
	uint64_t frames; /* taken so far */
	uint32_t min_frame, max_frame;
	uint8_t header[HEADER_BYTES];
	ra_status failed;

	struct md5_ctx md5;
	uint8_t md5_bytes[MD5_CHUNK * 3];
	uint16_t crc_shift[32]; /* x^(8 * 2^i) mod the CRC-16 polynomial */
};

/* CRC-8 (polynomial 0x07) of a frame header, as FLAC defines it. */
static uint8_t crc8(const uint8_t *p, size_t n)
{
	unsigned crc = 0;

	while (n--) {
		crc ^= *p++;
		for (int i = 0; i < 8; i++)
			crc = (crc << 1 ^ (crc & 0x80 ? 0x07 : 0)) & 0xFF;
	}
	return (uint8_t)crc;
}

/* CRC-16 (CRC16_POLY, no reflection, zero start) of P. */
static uint16_t crc16(const uint8_t *p, size_t n)
{
	unsigned crc = 0;

	while (n--) {
		crc ^= (unsigned)*p++ << 8;
		for (int i = 0; i < 8; i++)
			crc = (crc << 1 ^ (crc & 0x8000 ? CRC16_POLY : 0)) & 0xFFFF;
	}
	return (uint16_t)crc;
}

/* A * B modulo the CRC-16 polynomial, over GF(2). */
static uint16_t gf_mul(uint16_t a, uint16_t b)
{
	unsigned r = 0;

	for (int i = 15; i >= 0; i--) {
		r = (r << 1 ^ (r & 0x8000 ? CRC16_POLY : 0)) & 0xFFFF;
		if (b >> i & 1)
			r ^= a;
	}
	return (uint16_t)r;
}

/* The CRC-16 of a message followed by N more bytes, from CRC, the message's
 * own: with a zero start and no final XOR a CRC is linear, so
 * crc(A || B) = crc(A) * x^(8 |B|) + crc(B). */
static uint16_t crc16_shift(const ra_flac *f, uint16_t crc, uint64_t n)
{
	for (int i = 0; n; i++, n >>= 1)
		if (n & 1)
			crc = gf_mul(crc, f->crc_shift[i]);
	return crc;
}

/* FLAC's UTF-8-like coding of a frame number into P; its length. */
static size_t put_number(uint8_t *p, uint32_t v)
{
	size_t n = v < 0x80	   ? 1
		   : v < 0x800	   ? 2
		   : v < 0x10000   ? 3
		   : v < 0x200000  ? 4
		   : v < 0x4000000 ? 5
				   : 6;

	if (n == 1) {
		p[0] = (uint8_t)v;
		return 1;
	}
	for (size_t i = n - 1; i > 0; i--, v >>= 6)
		p[i] = (uint8_t)(0x80 | (v & 0x3F));
	p[0] = (uint8_t)((0xFF00 >> n) | v);
	return n;
}

/* The length of the frame header at P, CRC-8 included. */
static size_t header_length(const uint8_t *p)
{
	unsigned ones = 0, size_code = p[2] >> 4, rate_code = p[2] & 0xF;
	size_t n;

	while (ones < 8 && p[4] & (0x80 >> ones))
		ones++;
	n = 4 + (ones ? ones : 1);
	n += size_code == 6 ? 1 : size_code == 7 ? 2 : 0;
	n += rate_code == 12 ? 1 : rate_code == 13 || rate_code == 14 ? 2 : 0;
	return n + 1;
}

/* Frame SRC of LEN bytes into DST as frame NUMBER of the stream: a new
 * number, header CRC-8 and frame CRC-16; the new length. */
static size_t renumber(const ra_flac *f, uint8_t *dst, const uint8_t *src, size_t len,
		       uint32_t number)
{
	size_t old_head = header_length(src), body = len - old_head - 2;
	size_t digits = 0, extra, head;
	uint16_t crc;

	while (digits < 8 && src[4] & (0x80 >> digits))
		digits++;
	extra = old_head - 1 - 4 - (digits ? digits : 1);
	memcpy(dst, src, 4);
	head = 4 + put_number(dst + 4, number);
	memcpy(dst + head, src + old_head - 1 - extra, extra);
	head += extra;
	dst[head] = crc8(dst, head);
	head++;
	memcpy(dst + head, src + old_head, body);
	crc = (uint16_t)(src[len - 2] << 8 | src[len - 1]);
	crc ^= crc16_shift(f, crc16(src, old_head) ^ crc16(dst, head), body);
	dst[head + body] = (uint8_t)(crc >> 8);
	dst[head + body + 1] = (uint8_t)crc;
	return head + body + 2;
}

static int reserve(struct segment *s, size_t more)
{
	size_t cap = s->cap ? s->cap : 65536;
	uint8_t *p;

	if (s->len + more <= s->cap)
		return 1;
	while (cap < s->len + more)
		cap *= 2;
	p = realloc(s->out, cap);
	if (!p)
		return 0;
	s->out = p;
	s->cap = cap;
	return 1;
}

/* libFLAC's output for segment S: the header (kept from the first segment
 * only) and frames, each renumbered by the segment's place. */
static FLAC__StreamEncoderWriteStatus on_bytes(const FLAC__StreamEncoder *enc,
					       const FLAC__byte buf[], size_t bytes,
					       uint32_t samples, uint32_t frame, void *ctx)
{
	struct segment *s = ctx;
	const ra_flac *f = s->f;
	size_t len = bytes;

	(void)enc;
	if (samples == 0 && s->index > 0)
		return FLAC__STREAM_ENCODER_WRITE_STATUS_OK;
	if (!reserve(s, bytes + 8))
		return FLAC__STREAM_ENCODER_WRITE_STATUS_FATAL_ERROR;
	if (samples == 0 || s->index == 0)
		memcpy(s->out + s->len, buf, bytes);
	else
		len = renumber(f, s->out + s->len, buf, bytes,
			       (uint32_t)(s->index * (f->segment_frames / BLOCK_FRAMES)) + frame);
	if (samples > 0) {
		s->min_frame = len < s->min_frame ? (uint32_t)len : s->min_frame;
		s->max_frame = len > s->max_frame ? (uint32_t)len : s->max_frame;
	}
	s->len += len;
	return FLAC__STREAM_ENCODER_WRITE_STATUS_OK;
}

static int configure(FLAC__StreamEncoder *enc, const struct segment *s)
{
	const ra_flac *f = s->f;

	return FLAC__stream_encoder_set_channels(enc, (uint32_t)f->channels) &&
	       FLAC__stream_encoder_set_bits_per_sample(enc, (uint32_t)f->bits) &&
	       FLAC__stream_encoder_set_sample_rate(enc, (uint32_t)f->sample_rate) &&
	       FLAC__stream_encoder_set_compression_level(enc, 5) &&
	       FLAC__stream_encoder_set_blocksize(enc, BLOCK_FRAMES) &&
	       FLAC__stream_encoder_set_do_md5(enc, false) &&
	       (s->index > 0 || !f->tags ||
		FLAC__stream_encoder_set_metadata(enc, (FLAC__StreamMetadata **)&f->tags, 1));
}

/* A task: segment ARG through an encoder of its own. */
static void encode(void *arg, int worker)
{
	struct segment *s = arg;
	FLAC__StreamEncoder *enc = FLAC__stream_encoder_new();

	(void)worker;
	s->len = 0;
	s->min_frame = FRAME_SIZE_UNSET;
	s->max_frame = 0;
	s->status = RA_ERR_NOMEM;
	s->why = "out of memory";
	if (!enc)
		return;
	if (!configure(enc, s) ||
	    FLAC__stream_encoder_init_stream(enc, on_bytes, NULL, NULL, NULL, s) !=
		    FLAC__STREAM_ENCODER_INIT_STATUS_OK) {
		s->status = RA_ERR_UNSUPPORTED;
		s->why = "the FLAC encoder refused this stream";
	} else if (FLAC__stream_encoder_process_interleaved(enc, s->samples, (uint32_t)s->frames) &&
		   FLAC__stream_encoder_finish(enc)) {
		s->status = RA_OK;
	} else {
		s->why = FLAC__StreamEncoderStateString[FLAC__stream_encoder_get_state(enc)];
		FLAC__stream_encoder_finish(enc);
	}
	FLAC__stream_encoder_delete(enc);
}

static ra_status fail(ra_flac *f, ra_status st, const char *why, ra_diag *diag)
{
	f->failed = st;
	ra_diag_set(diag, "cannot encode FLAC: %s", why);
	return st;
}

/* Segment S, encoded, put at the end of the stream. */
static ra_status put_segment(ra_flac *f, struct segment *s, ra_diag *diag)
{
	if (f->workers)
		ra_workers_wait_for(f->workers, s->ticket);
	s->pending = 0;
	s->frames = 0;
	if (s->status != RA_OK)
		return fail(f, s->status, s->why, diag);
	if (s->index == 0)
		memcpy(f->header, s->out, HEADER_BYTES);
	if (f->put(f->ctx, f->offset, s->out, s->len, diag) != 0) {
		f->failed = RA_ERR_WRITE;
		return RA_ERR_WRITE;
	}
	f->offset += s->len;
	f->min_frame = s->min_frame < f->min_frame ? s->min_frame : f->min_frame;
	f->max_frame = s->max_frame > f->max_frame ? s->max_frame : f->max_frame;
	f->put_index++;
	return RA_OK;
}

/* Put the segments before index UPTO, in order. */
static ra_status put_until(ra_flac *f, uint64_t upto, ra_diag *diag)
{
	while (f->put_index < upto) {
		struct segment *s = NULL;

		for (size_t i = 0; i < f->segments && !s; i++)
			if (f->seg[i].pending && f->seg[i].index == f->put_index)
				s = &f->seg[i];
		if (!s)
			return fail(f, RA_ERR_INVALID, "a segment went missing", diag);
		if (put_segment(f, s, diag) != RA_OK)
			return f->failed;
	}
	return RA_OK;
}

/* Start encoding the filling segment and move to the next slot. */
static void submit(ra_flac *f)
{
	struct segment *s = &f->seg[f->at];
	ra_task task = { encode, s };

	s->index = f->next_index++;
	s->pending = 1;
	if (f->workers)
		s->ticket = ra_workers_submit(f->workers, &task, 1);
	else
		encode(s, 0);
	f->at = (f->at + 1) % f->segments;
}

ra_flac *ra_flac_create(int sample_rate, int channels, int bits, ra_flac_put_fn put, void *ctx,
			ra_status *status, ra_diag *diag)
{
	ra_status st = RA_ERR_UNSUPPORTED;
	ra_flac *f = NULL;
	size_t blocks;

	if (sample_rate < 1 || sample_rate > 655350 || channels < 1 || channels > 8 ||
	    (bits != 8 && bits != 16 && bits != 24)) {
		ra_diag_set(diag, "FLAC cannot hold %d channels of %d bits at %d Hz", channels,
			    bits, sample_rate);
		goto out;
	}
	st = RA_ERR_NOMEM;
	f = calloc(1, sizeof(*f));
	if (!f) {
		ra_diag_set(diag, "out of memory");
		goto out;
	}
	f->sample_rate = sample_rate;
	f->channels = channels;
	f->bits = bits;
	f->put = put;
	f->ctx = ctx;
	f->min_frame = FRAME_SIZE_UNSET;
	blocks = SEGMENT_SAMPLES / ((size_t)BLOCK_FRAMES * (size_t)channels);
	f->segment_frames = (blocks ? blocks : 1) * BLOCK_FRAMES;
	f->crc_shift[0] = 0x100; /* x^8 */
	for (int i = 1; i < 32; i++)
		f->crc_shift[i] = gf_mul(f->crc_shift[i - 1], f->crc_shift[i - 1]);
	md5_init(&f->md5);
	st = RA_OK;
out:
	if (status)
		*status = st;
	return f;
}

void ra_flac_set_workers(ra_flac *f, ra_workers *w)
{
	f->workers = w;
}

ra_status ra_flac_tag(ra_flac *f, const char *name, const char *value)
{
	FLAC__StreamMetadata_VorbisComment_Entry entry;

	if (!f->tags && !(f->tags = FLAC__metadata_object_new(FLAC__METADATA_TYPE_VORBIS_COMMENT)))
		return RA_ERR_NOMEM;
	if (!FLAC__metadata_object_vorbiscomment_entry_from_name_value_pair(&entry, name, value))
		return RA_ERR_NOMEM;
	if (!FLAC__metadata_object_vorbiscomment_append_comment(f->tags, entry, false)) {
		free(entry.entry);
		return RA_ERR_NOMEM;
	}
	return RA_OK;
}

/* The slots, on the first write: one with no worker threads, else one for
 * each thread's task and the one filling. */
static ra_status make_segments(ra_flac *f, ra_diag *diag)
{
	int threads = f->workers ? ra_workers_threads(f->workers) : 1;
	size_t n = threads > 1 ? 2 * (size_t)threads + 1 : 1;

	f->segments = n < SEGMENTS_MAX ? n : SEGMENTS_MAX;
	for (size_t i = 0; i < f->segments; i++) {
		f->seg[i].f = f;
		f->seg[i].samples =
			malloc(f->segment_frames * (size_t)f->channels * sizeof(FLAC__int32));
		if (!f->seg[i].samples)
			return fail(f, RA_ERR_NOMEM, "out of memory", diag);
	}
	return RA_OK;
}

/* N samples of P, right-justified, into the stream's MD5 as FLAC takes
 * it: each sample in little-endian bytes of its width. */
static void md5_samples(ra_flac *f, const FLAC__int32 *p, size_t n)
{
	const size_t width = (size_t)f->bits / 8;

	for (size_t at = 0; at < n; at += MD5_CHUNK) {
		size_t take = n - at < MD5_CHUNK ? n - at : MD5_CHUNK;
		uint8_t *b = f->md5_bytes;

		for (size_t i = 0; i < take; i++)
			for (size_t k = 0; k < width; k++)
				*b++ = (uint8_t)((uint32_t)p[at + i] >> (8 * k));
		md5_update(&f->md5, take * width, f->md5_bytes);
	}
}

ra_status ra_flac_write(ra_flac *f, const int32_t *buf, size_t frames, ra_diag *diag)
{
	const size_t channels = (size_t)f->channels;
	const int shift = 32 - f->bits;

	if (f->failed)
		return f->failed;
	if (!f->segments && make_segments(f, diag) != RA_OK)
		return f->failed;
	while (frames > 0) {
		struct segment *s = &f->seg[f->at];
		size_t take = f->segment_frames - s->frames;
		FLAC__int32 *to;

		if (s->pending && put_until(f, s->index + 1, diag) != RA_OK)
			return f->failed;
		take = take < frames ? take : frames;
		to = s->samples + s->frames * channels;
		for (size_t i = 0; i < take * channels; i++)
			to[i] = buf[i] >> shift;
		md5_samples(f, to, take * channels);
		s->frames += take;
		f->frames += take;
		buf += take * channels;
		frames -= take;
		if (s->frames == f->segment_frames)
			submit(f);
	}
	return RA_OK;
}

/* The finished header: frame sizes, length and MD5 into the STREAMINFO
 * the first segment's encoder wrote. */
static void finish_header(ra_flac *f)
{
	uint8_t *h = f->header;
	uint64_t total = f->frames < (1ull << 36) ? f->frames : 0;

	for (int i = 0; i < 3; i++) {
		h[12 + i] = (uint8_t)(f->min_frame >> (16 - 8 * i));
		h[15 + i] = (uint8_t)(f->max_frame >> (16 - 8 * i));
	}
	h[21] = (uint8_t)((h[21] & 0xF0) | (total >> 32));
	for (int i = 0; i < 4; i++)
		h[22 + i] = (uint8_t)(total >> (24 - 8 * i));
	md5_digest(&f->md5, MD5_DIGEST_SIZE, h + 26);
}

ra_status ra_flac_finish(ra_flac *f, ra_diag *diag)
{
	if (f->failed)
		return f->failed;
	if (!f->segments && make_segments(f, diag) != RA_OK)
		return f->failed;
	/* The segment filling, if any (a full one went when it filled: its slot
	 * may still wait to be put); an empty stream still has its header, from
	 * an empty first segment. */
	if ((!f->seg[f->at].pending && f->seg[f->at].frames > 0) || f->next_index == 0)
		submit(f);
	if (put_until(f, f->next_index, diag) != RA_OK)
		return f->failed;
	finish_header(f);
	if (f->put(f->ctx, 0, f->header, HEADER_BYTES, diag) != 0)
		return f->failed = RA_ERR_WRITE;
	return RA_OK;
}

void ra_flac_destroy(ra_flac *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->segments; i++) {
		if (f->seg[i].pending && f->workers)
			ra_workers_wait_for(f->workers, f->seg[i].ticket);
		free(f->seg[i].samples);
		free(f->seg[i].out);
	}
	if (f->tags)
		FLAC__metadata_object_delete(f->tags);
	free(f);
}
