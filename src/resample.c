/* Streaming sample-rate conversion on libsoxr or libsamplerate, an engine
 * a channel, channels in parallel, with exact output length:
 * round(total input * out_rate / in_rate) frames, whatever the pieces. */
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
 * Runs and buffers. A run (a call's input, or the drain) converts into one
 * of two output buffers a channel while the caller reads the other, which
 * holds the run before. Each run's output starts RA_HOLD_FRAMES into its
 * buffer; when it is waited for, the frames the run before left unread
 * (ahead of the target then) move into that room, in front of it.
 */

/* Input frames handed to libsamplerate per call, which keeps its long and
 * int counters far from overflow. */
#define RA_CHUNK_FRAMES ((size_t)1 << 20)

/* Input and output frames handed to soxr per call: its own buffers grow
 * to what one call brings and asks for, so small pieces keep them small,
 * and at their largest from the first run on (no allocation later, when a
 * run or the drain happens to need a little more). */
#define RA_SOXR_PIECE ((size_t)8192)

/* Room an engine is given at least, in frames, before its output grows. */
#define RA_MIN_ROOM 64

/* Frames that may run ahead of the running target: one for libsamplerate's
 * linear converter, none for the others. More means an engine changed. */
#define RA_HOLD_FRAMES 16

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

/* One channel: its engine, its input deinterleaved, and its two output
 * buffers: the one read, frames [rs->head, rs->tail) of OUT[rs->cur], and
 * the one the run in flight writes, after RA_HOLD_FRAMES. */
typedef struct channel {
	soxr_t soxr;
	SRC_STATE *src;
	float *in;	   /* max_in_frames frames */
	float *out[2];	   /* OUT_CAP frames each */
	size_t out_cap[2]; /* grow while the engine's delay fills; then stay */
	size_t made;	   /* frames the run in flight has made */
	/* libsamplerate's linear converter only: the previous frame, then a
	 * lone new frame (stage_lone_frame()); STAGED once a frame went in. */
	float stage[2];
	bool staged;
	ra_status st; /* of the last run */
} channel;

struct ra_resampler {
	ra_resample_config cfg;
	double ratio;	  /* out_rate / in_rate */
	int64_t in_total; /* frames converted by runs waited for */
	int64_t out_read; /* frames returned by read() */
	int cur;	  /* the output buffer read; the run in flight writes the other */
	size_t head;	  /* the next frame to read in every channel's OUT[cur] */
	size_t tail;	  /* the end of what every channel has made there */
	const float *in;  /* the run in flight: its input, or NULL to drain */
	size_t in_frames;
	bool running;	/* a run was submitted and not yet waited for */
	uint64_t batch; /* its ticket, while its tasks are on the pool */
	bool flushed;
	bool failed;
	int groups; /* tasks a run: channel c goes in group c % groups */
	struct group *group;
	channel *ch;
};

/* A task's share: channels FIRST, FIRST + groups, ... */
struct group {
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
	return RA_OK;
}

/* C's engine, mono, as RS's configuration says. */
static ra_status engine_open(ra_resampler *rs, channel *c, ra_diag *diag)
{
	const ra_resample_config *cfg = &rs->cfg;
	soxr_error_t serr = NULL;
	int err;

	if (cfg->engine == RA_RESAMPLER_SOXR) {
		soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
		soxr_quality_spec_t q =
			soxr_quality_spec(ra_qualities[cfg->quality].soxr_recipe, 0);
		soxr_runtime_spec_t run = soxr_runtime_spec(1);

		c->soxr = soxr_create(cfg->in_rate, cfg->out_rate, 1, &serr, &io, &q, &run);
		if (c->soxr)
			return RA_OK;
		ra_diag_set(diag, "libsoxr: %s", serr ? serr : "cannot create a resampler");
	} else {
		c->src = src_new(ra_qualities[cfg->quality].src_converter, 1, &err);
		if (c->src)
			return RA_OK;
		ra_diag_set(diag, "libsamplerate: %s", src_strerror(err));
	}
	return RA_ERR_RESAMPLE;
}

/* Room in C's output buffer B for FRAMES frames in all. */
static ra_status reserve(channel *c, int b, size_t frames)
{
	size_t cap = c->out_cap[b];
	float *grown;

	if (cap >= frames)
		return RA_OK;
	while (cap < frames)
		cap = cap ? 2 * cap : 4 * RA_MIN_ROOM;
	grown = realloc(c->out[b], cap * sizeof(*grown));
	if (!grown)
		return RA_ERR_NOMEM;
	c->out[b] = grown;
	c->out_cap[b] = cap;
	return RA_OK;
}

/* Room for at least RA_MIN_ROOM more frames after what C's run has made. */
static ra_status make_room(ra_resampler *rs, channel *c)
{
	return reserve(c, !rs->cur, RA_HOLD_FRAMES + c->made + RA_MIN_ROOM);
}

/* Where C's run puts its next frame, and how many fit there. */
static float *room(ra_resampler *rs, channel *c, size_t *frames)
{
	const int b = !rs->cur;

	*frames = c->out_cap[b] - RA_HOLD_FRAMES - c->made;
	return c->out[b] + RA_HOLD_FRAMES + c->made;
}

/* All FRAMES frames of IN (IN NULL: drain) through C's soxr, a piece at
 * a time, and all the output it can make of them: called again, with no
 * new input, while the room given was filled. */
static ra_status soxr_run(ra_resampler *rs, channel *c, const float *in, size_t frames)
{
	for (;;) {
		size_t used = 0, made = 0, space;
		ra_status st = make_room(rs, c);
		float *out = room(rs, c, &space);

		if (st != RA_OK)
			return st;
		space = space < RA_SOXR_PIECE ? space : RA_SOXR_PIECE;
		if (soxr_process(c->soxr, in, frames < RA_SOXR_PIECE ? frames : RA_SOXR_PIECE,
				 in ? &used : NULL, out, space, &made))
			return RA_ERR_RESAMPLE;
		c->made += made;
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
static const float *stage_lone_frame(channel *c, const float *in)
{
	c->stage[1] = in[0];
	return &c->stage[1];
}

/* FRAMES frames of IN through C's libsamplerate (end of input with
 * EOI), and all the output it can make of them: looping while it stops
 * for want of room, failing rather than spinning if it makes no
 * progress. */
static ra_status src_run(ra_resampler *rs, channel *c, const float *in, size_t frames, int eoi)
{
	SRC_DATA data;

	memset(&data, 0, sizeof(data));
	data.src_ratio = rs->ratio;
	data.end_of_input = eoi;
	for (;;) {
		size_t space;
		ra_status st = make_room(rs, c);

		if (st != RA_OK)
			return st;
		data.data_in = frames ? in : ra_no_input;
		data.input_frames = (long)(frames < RA_CHUNK_FRAMES ? frames : RA_CHUNK_FRAMES);
		data.data_out = room(rs, c, &space);
		data.output_frames = (long)(space < RA_CHUNK_FRAMES ? space : RA_CHUNK_FRAMES);
		if (c->staged && data.input_frames == 1)
			data.data_in = stage_lone_frame(c, in);
		if (src_process(c->src, &data))
			return RA_ERR_RESAMPLE;
		if (data.input_frames_used > 0) {
			c->stage[0] = in[data.input_frames_used - 1];
			in += data.input_frames_used;
			frames -= (size_t)data.input_frames_used;
		}
		c->made += (size_t)data.output_frames_gen;
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
static ra_status src_linear_run(ra_resampler *rs, channel *c, const float *in, size_t frames)
{
	if (!c->staged) {
		SRC_DATA data;

		memset(&data, 0, sizeof(data));
		data.src_ratio = rs->ratio;
		data.data_in = in;
		data.input_frames = 1;
		data.data_out = c->stage;
		if (src_process(c->src, &data) || data.input_frames_used != 0)
			return RA_ERR_RESAMPLE;
		c->stage[0] = in[0];
		c->staged = true;
		in++;
		frames--;
	}
	return frames ? src_run(rs, c, in, frames, 0) : RA_OK;
}

/* Channel C's part of the run in flight: its input deinterleaved and
 * converted, or the engine drained. After the last input frame, the
 * linear converter is given a silent one, so that it falls towards the
 * silence that follows rather than stopping short. */
static ra_status channel_run(ra_resampler *rs, channel *c, int index)
{
	const size_t channels = (size_t)rs->cfg.channels;
	const bool linear = rs->cfg.engine == RA_RESAMPLER_LIBSAMPLERATE &&
			    rs->cfg.quality == RA_RESAMPLE_LINEAR;
	ra_status st;

	c->made = 0;
	if (!rs->in) {
		if (rs->cfg.engine == RA_RESAMPLER_SOXR)
			return soxr_run(rs, c, NULL, 0);
		st = linear && c->staged ? src_run(rs, c, ra_no_input, 1, 0) : RA_OK;
		return st == RA_OK ? src_run(rs, c, NULL, 0, 1) : st;
	}
	for (size_t i = 0; i < rs->in_frames; i++)
		c->in[i] = rs->in[i * channels + (size_t)index];
	if (rs->cfg.engine == RA_RESAMPLER_SOXR)
		return soxr_run(rs, c, c->in, rs->in_frames);
	if (linear)
		return src_linear_run(rs, c, c->in, rs->in_frames);
	return src_run(rs, c, c->in, rs->in_frames, 0);
}

/* Task: the channels of one group. */
static void group_run(void *arg, int worker)
{
	const struct group *g = arg;
	ra_resampler *rs = g->rs;

	(void)worker;
	for (int i = g->first; i < rs->cfg.channels; i += rs->groups)
		rs->ch[i].st = channel_run(rs, &rs->ch[i], i);
}

/* Start the run set in RS on every channel: as a batch on the pool when
 * there is one (a pool of one thread runs it before returning), else
 * here and now. */
static void start_run(ra_resampler *rs)
{
	ra_task calls[RA_WORKERS_TASKS_MAX];

	rs->running = true;
	if (!rs->cfg.workers) {
		group_run(&rs->group[0], 0);
		return;
	}
	for (int g = 0; g < rs->groups; g++)
		calls[g] = (ra_task){ group_run, &rs->group[g] };
	rs->batch = ra_workers_submit(rs->cfg.workers, calls, (size_t)rs->groups);
}

/* The frames left unread in OUT[cur] to the room in front of the run's
 * output; RA_ERR_RESAMPLE if they do not fit. */
static ra_status carry_unread(ra_resampler *rs)
{
	const size_t left = rs->tail - rs->head;

	if (left > RA_HOLD_FRAMES)
		return RA_ERR_RESAMPLE;
	for (int i = 0; i < rs->cfg.channels && left > 0; i++)
		memcpy(rs->ch[i].out[!rs->cur] + RA_HOLD_FRAMES - left,
		       rs->ch[i].out[rs->cur] + rs->head, left * sizeof(float));
	rs->head = RA_HOLD_FRAMES - left;
	return RA_OK;
}

/* Wait for the run in flight; its output, behind what the run before left
 * unread, becomes the buffer read. Every channel must have made the same
 * number of frames. */
static ra_status finish_run(ra_resampler *rs)
{
	size_t made;
	ra_status st;

	if (rs->cfg.workers)
		ra_workers_wait_for(rs->cfg.workers, rs->batch);
	rs->batch = 0;
	rs->running = false;
	made = rs->ch[0].made;
	for (int i = 0; i < rs->cfg.channels; i++) {
		if (rs->ch[i].st != RA_OK)
			return rs->ch[i].st;
		if (rs->ch[i].made != made)
			return RA_ERR_RESAMPLE;
	}
	st = carry_unread(rs);
	if (st != RA_OK)
		return st;
	rs->cur = !rs->cur;
	rs->tail = RA_HOLD_FRAMES + made;
	if (rs->in)
		rs->in_total += (int64_t)rs->in_frames;
	rs->in = NULL;
	return RA_OK;
}

static void channel_close(channel *c)
{
	soxr_delete(c->soxr);
	src_delete(c->src);
	free(c->in);
	free(c->out[0]);
	free(c->out[1]);
}

/* Groups: a task per channel (at most RA_WORKERS_TASKS_MAX) when a pool of
 * more than one thread is there, else one. Even one channel goes to the
 * pool, to convert while the caller reads and writes. */
static int group_count(const ra_resample_config *cfg)
{
	if (!cfg->workers || ra_workers_threads(cfg->workers) < 2)
		return 1;
	return cfg->channels < RA_WORKERS_TASKS_MAX ? cfg->channels : RA_WORKERS_TASKS_MAX;
}

/* Output room a channel's buffers start with: a run of the most input
 * and then some for the engine's bursts, so that in steady state an
 * engine never waits for room (soxr would grow its own buffers then). */
static size_t first_room(const ra_resample_config *cfg)
{
	const size_t most = (size_t)ra_resample_length((int64_t)cfg->max_in_frames, cfg->in_rate,
						       cfg->out_rate);

	return RA_HOLD_FRAMES + most + most / 8 + 4096;
}

ra_resampler *ra_resampler_create(const ra_resample_config *cfg, ra_status *status, ra_diag *diag)
{
	ra_resampler *rs = NULL;
	ra_status st = RA_ERR_INVALID;

	if (!cfg || (st = check_config(cfg, diag)) != RA_OK)
		goto done;
	st = RA_ERR_NOMEM;
	rs = calloc(1, sizeof(*rs));
	if (!rs)
		goto out_nomem;
	rs->cfg = *cfg;
	rs->ratio = (double)cfg->out_rate / cfg->in_rate;
	rs->groups = group_count(cfg);
	rs->group = calloc((size_t)rs->groups, sizeof(*rs->group));
	rs->ch = calloc((size_t)cfg->channels, sizeof(*rs->ch));
	if (!rs->group || !rs->ch)
		goto out_free;
	for (int g = 0; g < rs->groups; g++)
		rs->group[g] = (struct group){ rs, g };
	for (int i = 0; i < cfg->channels; i++) {
		rs->ch[i].in = malloc(cfg->max_in_frames * sizeof(float));
		if (!rs->ch[i].in || reserve(&rs->ch[i], 0, first_room(cfg)) != RA_OK ||
		    reserve(&rs->ch[i], 1, first_room(cfg)) != RA_OK)
			goto out_free;
		st = engine_open(rs, &rs->ch[i], diag);
		if (st != RA_OK)
			goto out_free;
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

/* Output frames read() may still return: made, up to the running target. */
static size_t readable(const ra_resampler *rs)
{
	int64_t owed =
		ra_resample_length(rs->in_total, rs->cfg.in_rate, rs->cfg.out_rate) - rs->out_read;
	size_t pending = rs->tail - rs->head;

	return owed < (int64_t)pending ? (size_t)owed : pending;
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

/* Silence after what the engines made, up to the final length. */
static ra_status pad(ra_resampler *rs)
{
	int64_t owed = ra_resample_length(rs->in_total, rs->cfg.in_rate, rs->cfg.out_rate) -
		       rs->out_read - (int64_t)(rs->tail - rs->head);
	size_t n = owed > 0 ? (size_t)owed : 0;

	for (int i = 0; i < rs->cfg.channels && n > 0; i++) {
		ra_status st = reserve(&rs->ch[i], rs->cur, rs->tail + n);

		if (st != RA_OK)
			return st;
		memset(rs->ch[i].out[rs->cur] + rs->tail, 0, n * sizeof(float));
	}
	rs->tail += n;
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
	size_t n = rs && out && !rs->failed ? readable(rs) : 0;

	if (n > max_frames)
		n = max_frames;
	for (size_t i = 0; i < channels; i++) {
		const float *src = rs->ch[i].out[rs->cur] + rs->head;

		for (size_t k = 0; k < n; k++)
			out[k * channels + i] = src[k];
	}
	if (rs) {
		rs->head += n;
		rs->out_read += (int64_t)n;
	}
	return n;
}

void ra_resampler_destroy(ra_resampler *rs)
{
	if (!rs)
		return;
	if (rs->running)
		finish_run(rs);
	for (int i = 0; rs->ch && i < rs->cfg.channels; i++)
		channel_close(&rs->ch[i]);
	free(rs->ch);
	free(rs->group);
	free(rs);
}
