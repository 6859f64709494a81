/* Streaming sample-rate conversion on libsoxr or libsamplerate, an engine
 * a channel (two, for a stream cut in spans), engines in parallel, with
 * exact output length: round(total input * out_rate / in_rate) frames,
 * whatever the pieces. */
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <samplerate.h>
#include <soxr.h>

#include "rustyaudio/resample.h"

/*
 * Length bookkeeping. Both engines are time-aligned (output frame k is the
 * signal at k / out_rate) and hold back the input their filter still needs,
 * so their output lags the running target round(total_in * ratio); at most
 * a frame or so may run ahead of it. Frames beyond the running target stay
 * unread, never dropped. flush() drains the engines, then trims their tail,
 * or pads it with silence, to exactly the target.
 *
 * Spans. Cut every SPAN input frames (a whole number of periods of the
 * rates), span n is input [n SPAN, (n + 1) SPAN) and output [n Q, (n + 1) Q),
 * Q = SPAN * ratio. Stream e (0 or 1) is an engine a channel fed spans e,
 * e + 2, ... one after the other, each from LEAD frames before it to LEAD
 * after it: what the engine makes from a span's own input on is span n's
 * output once LEAD covers what its filter reaches back and ahead, and it
 * keeps that window of its output and drops the rest. LEAD is whole
 * periods too, so every window starts on an output frame. Uncut, stream 0
 * is the whole stream and keeps everything.
 *
 * Runs and buffers. A run (a call's input, or the drain) converts into one
 * of two output buffers an engine while the caller reads the other, which
 * holds the run before. The frames the caller could not read yet (ahead of
 * the target, or behind a span the other stream has not finished) are
 * carried by the run to the front of its buffer, before what it makes.
 */

/* Input frames handed to an engine a call: its channel is taken out of the
 * interleaved input a piece at a time; soxr's own buffers grow to what one
 * call brings and asks for, so small pieces keep them small. */
#define RA_PIECE ((size_t)8192)

/* Room an engine is given at least, in frames, before its output grows. */
#define RA_MIN_ROOM 64

/* Input frames fed to measure the most an engine holds back; past it the
 * stream is not cut. */
#define RA_LEAD_PROBE_MAX ((int64_t)1 << 22)

/* The longest span, far from overflowing the frame counts. */
#define RA_SPAN_MAX ((size_t)1 << 40)

static const char *const ra_engines[] = {
	[RA_RESAMPLER_SOXR] = "soxr",
	[RA_RESAMPLER_LIBSAMPLERATE] = "libsamplerate",
};

#define RA_NENGINES (sizeof(ra_engines) / sizeof(ra_engines[0]))

/* Per quality: its name, the soxr recipe and the libsamplerate converter
 * (the table in resample.h). */
static const struct {
	const char *name;
	unsigned long soxr_recipe;
	int src_converter;
} ra_qualities[] = {
	[RA_RESAMPLE_BEST] = { "best", SOXR_VHQ, SRC_SINC_BEST_QUALITY },
	[RA_RESAMPLE_HIGH] = { "high", SOXR_HQ, SRC_SINC_BEST_QUALITY },
	[RA_RESAMPLE_MEDIUM] = { "medium", SOXR_MQ, SRC_SINC_MEDIUM_QUALITY },
	[RA_RESAMPLE_FAST] = { "fast", SOXR_LQ, SRC_SINC_FASTEST },
	[RA_RESAMPLE_LINEAR] = { "linear", SOXR_QQ, SRC_LINEAR },
};

#define RA_NQUALITIES (sizeof(ra_qualities) / sizeof(ra_qualities[0]))

/* Valid input for libsamplerate calls that pass no input (it rejects NULL). */
static const float ra_no_input[1];

/* Silence to measure an engine's lead with. */
static const float ra_zeros[1024];

/* One channel of a stream: its engine, a piece of its channel's input, its
 * two output buffers, and where it is in its stream (the same in every
 * channel once a run ends; each channel's task keeps its own meanwhile). */
typedef struct engine {
	soxr_t soxr;
	SRC_STATE *src;
	float *piece;	   /* RA_PIECE frames (several channels) */
	float *out[2];	   /* the stream's CUR read, the other written by a run */
	size_t out_cap[2]; /* grow while the engine's delay fills; then stay */
	size_t made;	   /* frames in the written buffer: carried, then kept */
	int64_t raw;	   /* output frames made in all, kept or dropped */
	int64_t span;	   /* the span whose window its output is at or before */
	/* libsamplerate's linear converter only: the previous frame, then a
	 * lone new frame (stage_lone_frame()); STAGED once a frame went in. */
	float stage[2];
	bool staged;
	bool fed; /* any input went in */
	ra_status st;
} converter;

/* Spans E, E + 2, ...: an engine a channel, and what the caller has of
 * their kept output, numbered from the stream's first kept frame. */
typedef struct stream {
	converter *ch;
	int cur;       /* the buffer read */
	int64_t base;  /* the kept frame at OUT[cur][0] */
	int64_t kept;  /* kept frames in all: base + the frames in OUT[cur] */
	int64_t carry; /* from here on not readable at the last run's end */
} stream;

struct ra_resampler {
	ra_resample_config cfg;
	double ratio;	    /* out_rate / in_rate */
	int64_t period;	    /* input frames in which both rates' frames fall together */
	int64_t period_out; /* output frames in a period */
	int64_t span;	    /* input frames a span; 0: the stream is not cut */
	int64_t lead;	    /* input frames each side of a span */
	int streams;	    /* 1, or 2 when cut */
	stream stream[2];
	int64_t in_total;    /* frames converted by runs waited for */
	int64_t out_read;    /* frames returned by read() */
	int64_t readable_to; /* read() may return frames up to here */
	const float *in;     /* the run in flight: its input, or NULL to drain */
	size_t in_frames;
	bool running;	/* a run was submitted and not yet waited for */
	uint64_t batch; /* its ticket, while its tasks are on the pool */
	bool flushed;
	bool failed;
	int work;	   /* engines in the run: stream s's channel c is s * channels + c */
	int run_stream[2]; /* the streams in it */
	int tasks;	   /* tasks a run: engine i goes in task i % tasks */
	struct task *task;
	converter *engines; /* every stream's channels */
};

/* A task's share: the run's engines FIRST, FIRST + tasks, ... */
struct task {
	ra_resampler *rs;
	int first;
};

const char *ra_resample_engine_name(ra_resample_engine engine)
{
	if ((unsigned)engine >= RA_NENGINES)
		return "?";
	return ra_engines[engine];
}

ra_status ra_resample_engine_parse(const char *name, ra_resample_engine *engine)
{
	size_t i;

	if (!engine || ra_name_lookup(name, ra_engines, RA_NENGINES, sizeof(ra_engines[0]),
				      RA_NAME_EXACT, &i) != RA_OK)
		return RA_ERR_INVALID;
	*engine = (ra_resample_engine)i;
	return RA_OK;
}

const char *ra_resample_quality_name(ra_resample_quality quality)
{
	if ((unsigned)quality >= RA_NQUALITIES)
		return "?";
	return ra_qualities[quality].name;
}

ra_status ra_resample_quality_parse(const char *name, ra_resample_quality *quality)
{
	size_t i;

	if (!quality || ra_name_lookup(name, ra_qualities, RA_NQUALITIES, sizeof(ra_qualities[0]),
				       RA_NAME_EXACT, &i) != RA_OK)
		return RA_ERR_INVALID;
	*quality = (ra_resample_quality)i;
	return RA_OK;
}

/*
 * floor(N * NUM / DEN + BIAS / (2 * DEN)) for N >= 0 and 0 < NUM, DEN <=
 * INT_MAX, exact and saturating at INT64_MAX. BIAS = DEN rounds half up.
 * Splitting N by DEN keeps every product below 2^63: the remainder is
 * < DEN, so 2 * rem * NUM + BIAS < 2^63.
 */
static int64_t ra_scale(int64_t n, int64_t num, int64_t den, uint64_t bias)
{
	int64_t whole = n / den;
	uint64_t rem = (uint64_t)(n % den);
	int64_t part = (int64_t)((2 * rem * (uint64_t)num + bias) / (2 * (uint64_t)den));

	if (whole > (INT64_MAX - part) / num)
		return INT64_MAX;
	return whole * num + part;
}

int ra_rate_gcd(int a, int b)
{
	while (b > 0) {
		int t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* Out-of-domain arguments (negative counts, rates <= 0) give 0. */
int64_t ra_resample_length(int64_t in_frames, int in_rate, int out_rate)
{
	if (in_frames <= 0 || in_rate <= 0 || out_rate <= 0)
		return 0;
	return ra_scale(in_frames, out_rate, in_rate, (uint64_t)in_rate);
}

/* Whether CFG describes a conversion the engines can make. */
static ra_status check_config(const ra_resample_config *cfg, ra_diag *diag)
{
	if (cfg->channels < 1 || cfg->channels > RA_MAX_CHANNELS || cfg->in_rate <= 0 ||
	    cfg->out_rate <= 0) {
		ra_diag_set(diag,
			    "cannot resample %d channels from %d Hz to %d Hz: channels 1 to %d, "
			    "rates above 0",
			    cfg->channels, cfg->in_rate, cfg->out_rate, RA_MAX_CHANNELS);
		return RA_ERR_INVALID;
	}
	if ((int64_t)cfg->out_rate > 256 * (int64_t)cfg->in_rate ||
	    (int64_t)cfg->in_rate > 256 * (int64_t)cfg->out_rate) {
		ra_diag_set(diag, "cannot resample %d Hz to %d Hz: a ratio beyond 1/256 to 256",
			    cfg->in_rate, cfg->out_rate);
		return RA_ERR_INVALID;
	}
	if ((unsigned)cfg->quality >= RA_NQUALITIES || (unsigned)cfg->engine >= RA_NENGINES ||
	    cfg->max_in_frames < 1 || cfg->max_in_frames > SIZE_MAX / sizeof(float)) {
		ra_diag_set(diag, "no resampler engine %d, quality %d for %zu frames a call",
			    (int)cfg->engine, (int)cfg->quality, cfg->max_in_frames);
		return RA_ERR_INVALID;
	}
	if (cfg->span_frames > RA_SPAN_MAX) {
		ra_diag_set(diag, "cannot cut a stream in spans of %zu frames: at most %zu",
			    cfg->span_frames, (size_t)RA_SPAN_MAX);
		return RA_ERR_INVALID;
	}
	return RA_OK;
}

/* E's engine, mono, as RS's configuration says. */
static ra_status engine_open(const ra_resampler *rs, converter *e, ra_diag *diag)
{
	const ra_resample_config *cfg = &rs->cfg;
	soxr_error_t serr = NULL;
	int err;

	if (cfg->engine == RA_RESAMPLER_SOXR) {
		soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
		soxr_quality_spec_t q =
			soxr_quality_spec(ra_qualities[cfg->quality].soxr_recipe, 0);
		soxr_runtime_spec_t run = soxr_runtime_spec(1);

		e->soxr = soxr_create(cfg->in_rate, cfg->out_rate, 1, &serr, &io, &q, &run);
		if (e->soxr)
			return RA_OK;
		ra_diag_set(diag, "libsoxr: %s", serr ? serr : "cannot create a resampler");
	} else {
		e->src = src_new(ra_qualities[cfg->quality].src_converter, 1, &err);
		if (e->src)
			return RA_OK;
		ra_diag_set(diag, "libsamplerate: %s", src_strerror(err));
	}
	return RA_ERR_RESAMPLE;
}

static void engine_close(converter *e)
{
	soxr_delete(e->soxr);
	src_delete(e->src);
	free(e->piece);
	free(e->out[0]);
	free(e->out[1]);
}

/* Room in E's output buffer B for FRAMES frames in all. */
static ra_status reserve(converter *e, int b, size_t frames)
{
	size_t cap = e->out_cap[b];
	float *grown;

	if (cap >= frames)
		return RA_OK;
	while (cap < frames)
		cap = cap ? 2 * cap : 4 * RA_MIN_ROOM;
	grown = realloc(e->out[b], cap * sizeof(*grown));
	if (!grown)
		return RA_ERR_NOMEM;
	e->out[b] = grown;
	e->out_cap[b] = cap;
	return RA_OK;
}

/* ---- spans ---- */

/* Output frames of FRAMES input frames, a whole number of periods. */
static int64_t periods_out(const ra_resampler *rs, int64_t frames)
{
	return frames / rs->period * rs->period_out;
}

/* Output frames a span keeps: INT64_MAX when the stream is not cut. */
static int64_t span_out(const ra_resampler *rs)
{
	return rs->span ? periods_out(rs, rs->span) : INT64_MAX;
}

/* The span output frame G is in, and the frames from G to its end. */
static int64_t span_of(const ra_resampler *rs, int64_t g, int64_t *left)
{
	const int64_t q = span_out(rs);

	*left = q - g % q;
	return g / q;
}

/* Output frame G's place among the kept frames of its span's stream. */
static int64_t kept_index(const ra_resampler *rs, int64_t g)
{
	const int64_t q = span_out(rs);

	return g / q / 2 * q + g % q;
}

/* The stream whose span output frame G is in, and the frames from G to
 * that span's end. */
static stream *stream_at(ra_resampler *rs, int64_t g, int64_t *left)
{
	return &rs->stream[span_of(rs, g, left) % 2];
}

/* The output's final length, were the input to end here: the running
 * target. */
static int64_t target(const ra_resampler *rs)
{
	return ra_resample_length(rs->in_total, rs->cfg.in_rate, rs->cfg.out_rate);
}

/* The input span N's engine is fed: frames [*from, *to). */
static void span_input(const ra_resampler *rs, int64_t n, int64_t *from, int64_t *to)
{
	*from = n * rs->span > rs->lead ? n * rs->span - rs->lead : 0;
	*to = (n + 1) * rs->span + rs->lead;
}

/* The output frame of its stream's engine at which span N's window
 * starts: after the input of the stream's spans before it (span 0's has
 * no lead in front), and span N's own lead. */
static int64_t window_start(const ra_resampler *rs, int64_t n)
{
	const int64_t k = n / 2;
	int64_t before = k * (rs->span + 2 * rs->lead);

	if (!rs->span)
		return 0;
	if (n % 2 == 0 && k > 0)
		before -= rs->lead;
	return periods_out(rs, before + (n > 0 ? rs->lead : 0));
}

/* The input from frame P on, before R1, that stream S takes next:
 * [*lo, *hi); false when there is none. Spans of a stream do not
 * overlap (a lead is at most an eighth of a span). */
static bool stream_next(const ra_resampler *rs, int s, int64_t p, int64_t r1, int64_t *lo,
			int64_t *hi)
{
	int64_t n, from, to;

	if (!rs->span) {
		*lo = p;
		*hi = r1;
		return p < r1;
	}
	n = p / rs->span > 0 ? p / rs->span - 1 : 0;
	if (n % 2 != s)
		n++;
	for (;; n += 2) {
		span_input(rs, n, &from, &to);
		if (to > p)
			break;
	}
	*lo = from > p ? from : p;
	*hi = to < r1 ? to : r1;
	return *lo < *hi;
}

/* ---- engines ---- */

/* Room for at least RA_MIN_ROOM more frames after what E's run has kept;
 * where its next frame goes, and how many fit there. */
static float *room(const stream *s, converter *e, size_t *frames, ra_status *st)
{
	const int b = !s->cur;

	*st = reserve(e, b, e->made + RA_MIN_ROOM);
	*frames = *st == RA_OK ? e->out_cap[b] - e->made : 0;
	return e->out[b] + e->made;
}

/* The MADE frames E's engine just wrote at AT, its room: those inside its
 * spans' windows kept there, in order, the others dropped. */
static void settle(const ra_resampler *rs, converter *e, float *at, size_t made)
{
	const int64_t q = span_out(rs);
	float *to = at;
	size_t i = 0;

	while (i < made) {
		const int64_t start = window_start(rs, e->span);
		int64_t n;

		if (e->raw - start >= q) {
			e->span += 2;
			continue;
		}
		n = e->raw < start ? start - e->raw : q - (e->raw - start);
		if (n > (int64_t)(made - i))
			n = (int64_t)(made - i);
		if (e->raw >= start) {
			if (to != at + i)
				memmove(to, at + i, (size_t)n * sizeof(*to));
			to += n;
			e->made += (size_t)n;
		}
		i += (size_t)n;
		e->raw += n;
	}
}

/* All FRAMES frames of IN (IN NULL: drain) through E's soxr, and all the
 * output it can make of them: called again, with no new input, while the
 * room given was filled. */
static ra_status soxr_run(const ra_resampler *rs, const stream *s, converter *e, const float *in,
			  size_t frames)
{
	for (;;) {
		size_t used = 0, made = 0, space;
		ra_status st;
		float *out = room(s, e, &space, &st);

		if (st != RA_OK)
			return st;
		space = space < RA_PIECE ? space : RA_PIECE;
		if (soxr_process(e->soxr, in, frames, in ? &used : NULL, out, space, &made))
			return RA_ERR_RESAMPLE;
		settle(rs, e, out, made);
		if (!in) {
			if (made == 0)
				return RA_OK;
			continue;
		}
		in += used;
		frames -= used;
		if (frames == 0 && made < space)
			return RA_OK;
		if (used == 0 && made == 0)
			return RA_ERR_RESAMPLE;
	}
}

/*
 * Given one lone frame, libsamplerate 0.2.2's linear converter reads the
 * frame before it at data_in[-channels] (libsamplerate issues #208 and #234),
 * so it gets a copy with the previous frame in front: where that copy's lone
 * frame is.
 */
static const float *stage_lone_frame(converter *e, const float *in)
{
	e->stage[1] = in[0];
	return &e->stage[1];
}

/* FRAMES frames of IN through E's libsamplerate (end of input with EOI),
 * and all the output it can make of them: looping while it stops for want
 * of room, failing rather than spinning if it makes no progress. */
static ra_status src_run(const ra_resampler *rs, const stream *s, converter *e, const float *in,
			 size_t frames, int eoi)
{
	SRC_DATA data;

	memset(&data, 0, sizeof(data));
	data.src_ratio = rs->ratio;
	data.end_of_input = eoi;
	for (;;) {
		size_t space;
		ra_status st;

		data.data_out = room(s, e, &space, &st);
		if (st != RA_OK)
			return st;
		data.data_in = frames ? in : ra_no_input;
		data.input_frames = (long)frames;
		data.output_frames = (long)(space < RA_PIECE ? space : RA_PIECE);
		if (e->staged && data.input_frames == 1)
			data.data_in = stage_lone_frame(e, in);
		if (src_process(e->src, &data))
			return RA_ERR_RESAMPLE;
		if (data.input_frames_used > 0) {
			e->stage[0] = in[data.input_frames_used - 1];
			in += data.input_frames_used;
			frames -= (size_t)data.input_frames_used;
		}
		settle(rs, e, data.data_out, (size_t)data.output_frames_gen);
		if (eoi ? data.output_frames_gen == 0
			: frames == 0 && data.output_frames_gen < data.output_frames)
			return RA_OK;
		if (!eoi && data.input_frames_used == 0 && data.output_frames_gen == 0)
			return RA_ERR_RESAMPLE;
	}
}

/*
 * libsamplerate's linear converter starts from a "previous" frame equal to
 * the first, which puts its output one input frame late. Shown the first
 * frame with no room for output, it takes that frame as the previous one
 * and consumes nothing; fed from the second frame on, its output frame k
 * is then the line between the frames around k / out_rate: no lag.
 */
static ra_status src_linear_run(const ra_resampler *rs, const stream *s, converter *e,
				const float *in, size_t frames)
{
	if (!e->staged) {
		SRC_DATA data;

		memset(&data, 0, sizeof(data));
		data.src_ratio = rs->ratio;
		data.data_in = in;
		data.input_frames = 1;
		data.data_out = e->stage;
		if (src_process(e->src, &data) || data.input_frames_used != 0)
			return RA_ERR_RESAMPLE;
		e->stage[0] = in[0];
		e->staged = true;
		in++;
		frames--;
	}
	return frames ? src_run(rs, s, e, in, frames, 0) : RA_OK;
}

static bool linear(const ra_resampler *rs)
{
	return rs->cfg.engine == RA_RESAMPLER_LIBSAMPLERATE &&
	       rs->cfg.quality == RA_RESAMPLE_LINEAR;
}

/* FRAMES (at least one) frames of IN, one channel's, through E. */
static ra_status engine_put(const ra_resampler *rs, const stream *s, converter *e, const float *in,
			    size_t frames)
{
	e->fed = true;
	if (rs->cfg.engine == RA_RESAMPLER_SOXR)
		return soxr_run(rs, s, e, in, frames);
	if (linear(rs))
		return src_linear_run(rs, s, e, in, frames);
	return src_run(rs, s, e, in, frames, 0);
}

/* The rest of E's output, its input taken as silent after its last frame.
 * The linear converter is given a silent frame first, so that it falls
 * towards that silence rather than stopping short. */
static ra_status engine_drain(const ra_resampler *rs, const stream *s, converter *e)
{
	ra_status st;

	if (!e->fed)
		return RA_OK;
	if (rs->cfg.engine == RA_RESAMPLER_SOXR)
		return soxr_run(rs, s, e, NULL, 0);
	st = linear(rs) && e->staged ? src_run(rs, s, e, ra_no_input, 1, 0) : RA_OK;
	return st == RA_OK ? src_run(rs, s, e, NULL, 0, 1) : st;
}

/* Frames AT to AT + FRAMES of the run's input, channel INDEX's, through E
 * a piece at a time. */
static ra_status feed(const ra_resampler *rs, const stream *s, converter *e, int index, size_t at,
		      size_t frames)
{
	const size_t channels = (size_t)rs->cfg.channels;
	ra_status st = RA_OK;

	while (st == RA_OK && frames > 0) {
		const size_t n = frames < RA_PIECE ? frames : RA_PIECE;
		const float *in = rs->in + at * channels + (size_t)index;

		if (channels > 1) {
			for (size_t i = 0; i < n; i++)
				e->piece[i] = in[i * channels];
			in = e->piece;
		}
		st = engine_put(rs, s, e, in, n);
		at += n;
		frames -= n;
	}
	return st;
}

/* The frames of the stream's buffer read that are not readable yet to the
 * front of the other, which the run fills next. */
static ra_status carry(const stream *s, converter *e)
{
	const size_t from = (size_t)(s->carry - s->base), n = (size_t)(s->kept - s->carry);
	ra_status st = reserve(e, !s->cur, n + RA_MIN_ROOM);

	if (st != RA_OK)
		return st;
	if (n > 0)
		memcpy(e->out[!s->cur], e->out[s->cur] + from, n * sizeof(float));
	e->made = n;
	return RA_OK;
}

/* Channel INDEX of stream S in the run in flight: what it carries, then
 * the run's input that is its spans', or its drain. */
static ra_status engine_run(const ra_resampler *rs, const stream *s, converter *e, int index)
{
	const int64_t r0 = rs->in_total, r1 = r0 + (int64_t)rs->in_frames;
	int64_t p = r0, lo, hi;
	ra_status st = carry(s, e);

	if (st != RA_OK)
		return st;
	if (!rs->in)
		return engine_drain(rs, s, e);
	while (st == RA_OK && stream_next(rs, (int)(s - rs->stream), p, r1, &lo, &hi)) {
		st = feed(rs, s, e, index, (size_t)(lo - r0), (size_t)(hi - lo));
		p = hi;
	}
	return st;
}

/* Task: its engines of the run. */
static void task_run(void *arg, int worker)
{
	const struct task *t = arg;
	ra_resampler *rs = t->rs;
	const int channels = rs->cfg.channels;

	(void)worker;
	for (int i = t->first; i < rs->work; i += rs->tasks) {
		stream *s = &rs->stream[rs->run_stream[i / channels]];
		converter *e = &s->ch[i % channels];

		e->st = engine_run(rs, s, e, i % channels);
	}
}

/* Start the run set in RS on every stream it concerns: as a batch on the
 * pool when there is one (a pool of one thread runs it before returning),
 * else here and now. */
static void start_run(ra_resampler *rs)
{
	const int64_t r0 = rs->in_total, r1 = r0 + (int64_t)rs->in_frames;
	ra_task calls[RA_WORKERS_TASKS_MAX];
	int n = 0;

	for (int s = 0; s < rs->streams; s++) {
		int64_t lo, hi;

		if (rs->in ? stream_next(rs, s, r0, r1, &lo, &hi) : rs->stream[s].ch[0].fed)
			rs->run_stream[n++] = s;
	}
	rs->work = n * rs->cfg.channels;
	rs->tasks = rs->cfg.workers && ra_workers_threads(rs->cfg.workers) > 1 ? rs->work : 1;
	if (rs->tasks < 1)
		rs->tasks = 1;
	if (rs->tasks > RA_WORKERS_TASKS_MAX)
		rs->tasks = RA_WORKERS_TASKS_MAX;
	rs->running = true;
	if (!rs->cfg.workers) {
		task_run(&rs->task[0], 0);
		return;
	}
	for (int t = 0; t < rs->tasks; t++)
		calls[t] = (ra_task){ task_run, &rs->task[t] };
	rs->batch = ra_workers_submit(rs->cfg.workers, calls, (size_t)rs->tasks);
}

/* The kept frame of stream S of the first output frame from G on in S's
 * spans. */
static int64_t next_kept(const ra_resampler *rs, int s, int64_t g)
{
	int64_t left;
	const int64_t n = span_of(rs, g, &left);

	return n % 2 == s ? kept_index(rs, g) : kept_index(rs, g + left);
}

/* What read() may return: the output frames in order while their stream
 * has them, up to the running target; and from where each stream's next
 * run carries what it has past them. */
static void mark_readable(ra_resampler *rs)
{
	const int64_t end = target(rs);
	int64_t g = rs->out_read;

	while (g < end) {
		int64_t left;
		const stream *s = stream_at(rs, g, &left);
		int64_t n = s->kept - kept_index(rs, g);

		if (n <= 0)
			break;
		n = n < left ? n : left;
		g += n < end - g ? n : end - g;
	}
	rs->readable_to = g;
	for (int s = 0; s < rs->streams; s++)
		rs->stream[s].carry = next_kept(rs, s, g);
}

/* Wait for the run in flight; each stream's output, behind what it
 * carried, becomes its buffer read. Every channel of a stream must have
 * made the same frames. */
static ra_status finish_run(ra_resampler *rs)
{
	if (rs->cfg.workers)
		ra_workers_wait_for(rs->cfg.workers, rs->batch);
	rs->batch = 0;
	rs->running = false;
	for (int i = 0; i < rs->work / rs->cfg.channels; i++) {
		stream *s = &rs->stream[rs->run_stream[i]];
		const converter *first = &s->ch[0];

		for (int c = 0; c < rs->cfg.channels; c++) {
			const converter *e = &s->ch[c];

			if (e->st != RA_OK)
				return e->st;
			if (e->made != first->made || e->raw != first->raw ||
			    e->span != first->span)
				return RA_ERR_RESAMPLE;
		}
		s->cur = !s->cur;
		s->base = s->carry;
		s->kept = s->base + (int64_t)first->made;
	}
	if (rs->in)
		rs->in_total += (int64_t)rs->in_frames;
	rs->in = NULL;
	mark_readable(rs);
	return RA_OK;
}

/* Input frames E's engine holds back at most before its first output, in
 * *HELD: silence fed until some comes out (-1 if none by
 * RA_LEAD_PROBE_MAX). Its filter reaches no further ahead, nor, being of
 * linear phase, further back. */
static ra_status lead_measure(const ra_resampler *rs, converter *e, int64_t *held)
{
	const stream probe = { .ch = e };
	int64_t fed = 0;
	ra_status st = RA_OK;

	while (st == RA_OK && e->raw == 0 && fed < RA_LEAD_PROBE_MAX) {
		e->made = 0;
		st = engine_put(rs, &probe, e, ra_zeros, sizeof(ra_zeros) / sizeof(ra_zeros[0]));
		fed += (int64_t)(sizeof(ra_zeros) / sizeof(ra_zeros[0]));
	}
	*held = e->raw ? fed - ra_scale(e->raw, rs->cfg.in_rate, rs->cfg.out_rate, 0) : -1;
	return st;
}

/* A whole number of periods, at least one, from FRAMES up. */
static int64_t whole_periods(const ra_resampler *rs, int64_t frames)
{
	const int64_t n = (frames + rs->period - 1) / rs->period;

	return (n > 0 ? n : 1) * rs->period;
}

/* The span and lead of RS's configuration, or none (see resample.h): the
 * lead twice what a fresh engine holds back. In steady state an engine
 * holds back more than that (soxr's blocks), and then a span's window
 * ends only with its stream's next span: the other stream's output waits,
 * carried from run to run, a span's at most. A run of a span or more
 * keeps that copy below the run's own output. */
static ra_status plan_spans(ra_resampler *rs, ra_diag *diag)
{
	const int64_t span = whole_periods(rs, (int64_t)rs->cfg.span_frames);
	converter probe = { 0 };
	int64_t held = 0, lead;
	ra_status st;

	if (!rs->cfg.span_frames || rs->period > span / 8 || (int64_t)rs->cfg.max_in_frames < span)
		return RA_OK;
	st = engine_open(rs, &probe, diag);
	if (st == RA_OK)
		st = lead_measure(rs, &probe, &held);
	engine_close(&probe);
	lead = whole_periods(rs, 2 * held);
	if (st == RA_OK && held >= 0 && lead <= span / 8) {
		rs->span = span;
		rs->lead = lead;
	}
	return st;
}

/* Output room an engine's buffers start with: a run of the most input,
 * what a run carries (a span's output at most) and then some for the
 * engine's bursts, so that in steady state an engine never waits for room
 * (soxr would grow its own buffers then). */
static size_t first_room(const ra_resampler *rs)
{
	const size_t most = (size_t)ra_resample_length(
		(int64_t)rs->cfg.max_in_frames + 2 * rs->lead, rs->cfg.in_rate, rs->cfg.out_rate);
	const size_t carried = rs->span ? (size_t)span_out(rs) : 0;

	return most + most / 8 + carried + 4096;
}

/* Stream S's channel C: its engine, buffers and piece. */
static ra_status engine_start(ra_resampler *rs, int s, int c, ra_diag *diag)
{
	converter *e = &rs->stream[s].ch[c];

	e->span = s;
	if (rs->cfg.channels > 1 && !(e->piece = malloc(RA_PIECE * sizeof(float))))
		return RA_ERR_NOMEM;
	if (reserve(e, 0, first_room(rs)) != RA_OK || reserve(e, 1, first_room(rs)) != RA_OK)
		return RA_ERR_NOMEM;
	return engine_open(rs, e, diag);
}

ra_resampler *ra_resampler_create(const ra_resample_config *cfg, ra_status *status, ra_diag *diag)
{
	ra_resampler *rs = NULL;
	ra_status st = RA_ERR_INVALID;
	int tasks;

	if (!cfg || (st = check_config(cfg, diag)) != RA_OK)
		goto done;
	st = RA_ERR_NOMEM;
	rs = calloc(1, sizeof(*rs));
	if (!rs)
		goto out_nomem;
	rs->cfg = *cfg;
	rs->ratio = (double)cfg->out_rate / cfg->in_rate;
	rs->period = cfg->in_rate / ra_rate_gcd(cfg->in_rate, cfg->out_rate);
	rs->period_out = cfg->out_rate / ra_rate_gcd(cfg->in_rate, cfg->out_rate);
	st = plan_spans(rs, diag);
	if (st != RA_OK)
		goto out_free;
	st = RA_ERR_NOMEM;
	rs->streams = rs->span ? 2 : 1;
	tasks = rs->streams * cfg->channels;
	tasks = tasks < RA_WORKERS_TASKS_MAX ? tasks : RA_WORKERS_TASKS_MAX;
	rs->task = calloc((size_t)tasks, sizeof(*rs->task));
	rs->engines = calloc((size_t)(rs->streams * cfg->channels), sizeof(*rs->engines));
	if (!rs->task || !rs->engines)
		goto out_free;
	for (int t = 0; t < tasks; t++)
		rs->task[t] = (struct task){ rs, t };
	for (int s = 0; s < rs->streams; s++) {
		rs->stream[s].ch = rs->engines + (size_t)s * (size_t)cfg->channels;
		for (int c = 0; c < cfg->channels; c++) {
			st = engine_start(rs, s, c, diag);
			if (st != RA_OK)
				goto out_free;
		}
	}
	st = RA_OK;
	goto done;

out_free:
	ra_resampler_destroy(rs);
	rs = NULL;
out_nomem:
	if (st == RA_ERR_NOMEM)
		ra_diag_set(diag, "cannot allocate a resampler for %d channels", cfg->channels);
done:
	if (status)
		*status = st;
	return rs;
}

/* Output frames read() may still return. */
static size_t readable(const ra_resampler *rs)
{
	return (size_t)(rs->readable_to - rs->out_read);
}

ra_status ra_resampler_submit(ra_resampler *rs, const float *in, size_t in_frames)
{
	if (!rs || (!in && in_frames > 0) || in_frames > rs->cfg.max_in_frames || rs->flushed ||
	    rs->running)
		return RA_ERR_INVALID;
	if (rs->failed)
		return RA_ERR_RESAMPLE;
	rs->in = in_frames > 0 ? in : NULL;
	rs->in_frames = in_frames;
	if (in_frames > 0)
		start_run(rs);
	return RA_OK;
}

ra_status ra_resampler_wait(ra_resampler *rs)
{
	ra_status st;

	if (!rs || (rs->running && readable(rs) > 0))
		return RA_ERR_INVALID;
	if (rs->failed)
		return RA_ERR_RESAMPLE;
	if (!rs->running)
		return RA_OK;
	st = finish_run(rs);
	if (st != RA_OK)
		rs->failed = true;
	return st;
}

ra_status ra_resampler_process(ra_resampler *rs, const float *in, size_t in_frames)
{
	ra_status st = rs && readable(rs) > 0 ? RA_ERR_INVALID : RA_OK;

	if (st == RA_OK)
		st = ra_resampler_submit(rs, in, in_frames);
	return st == RA_OK ? ra_resampler_wait(rs) : st;
}

/* Silence after what the engines made, up to the final length: in the
 * stream of the span where their output ends, a span at a time. */
static ra_status pad(ra_resampler *rs)
{
	const int64_t final = target(rs);

	while (rs->readable_to < final) {
		int64_t left;
		stream *s = stream_at(rs, rs->readable_to, &left);
		const size_t end = (size_t)(s->kept - s->base);
		const size_t n =
			(size_t)(left < final - rs->readable_to ? left : final - rs->readable_to);

		if (kept_index(rs, rs->readable_to) != s->kept)
			return RA_ERR_RESAMPLE;
		for (int c = 0; c < rs->cfg.channels; c++) {
			converter *e = &s->ch[c];

			if (reserve(e, s->cur, end + n) != RA_OK)
				return RA_ERR_NOMEM;
			memset(e->out[s->cur] + end, 0, n * sizeof(float));
		}
		s->kept += (int64_t)n;
		mark_readable(rs);
	}
	return RA_OK;
}

ra_status ra_resampler_flush(ra_resampler *rs)
{
	ra_status st;

	if (!rs || rs->running || (!rs->flushed && readable(rs) > 0))
		return RA_ERR_INVALID;
	if (rs->failed)
		return RA_ERR_RESAMPLE;
	if (rs->flushed)
		return RA_OK;
	rs->flushed = true;
	st = RA_OK;
	if (rs->in_total > 0) {
		rs->in = NULL;
		rs->in_frames = 0;
		start_run(rs);
		st = finish_run(rs);
	}
	if (st == RA_OK)
		st = pad(rs);
	if (st != RA_OK)
		rs->failed = true;
	return st;
}

size_t ra_resampler_read(ra_resampler *rs, float *out, size_t max_frames)
{
	const size_t channels = rs ? (size_t)rs->cfg.channels : 0;
	size_t n = rs && out && !rs->failed ? readable(rs) : 0, done = 0;

	if (n > max_frames)
		n = max_frames;
	while (done < n) {
		int64_t left;
		const stream *s = stream_at(rs, rs->out_read, &left);
		const size_t at = (size_t)(kept_index(rs, rs->out_read) - s->base);
		const size_t take = (int64_t)(n - done) < left ? n - done : (size_t)left;

		for (size_t i = 0; i < channels; i++) {
			const float *src = s->ch[i].out[s->cur] + at;
			float *to = out + done * channels + i;

			for (size_t k = 0; k < take; k++)
				to[k * channels] = src[k];
		}
		done += take;
		rs->out_read += (int64_t)take;
	}
	return n;
}

void ra_resampler_destroy(ra_resampler *rs)
{
	if (!rs)
		return;
	if (rs->running)
		finish_run(rs);
	for (int i = 0; rs->engines && i < rs->streams * rs->cfg.channels; i++)
		engine_close(&rs->engines[i]);
	free(rs->engines);
	free(rs->task);
	free(rs);
}
