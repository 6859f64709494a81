/* Streaming sample-rate conversion on libsamplerate, with exact output
 * length: round(total input * out_rate / in_rate) frames, whatever the blocks. */
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <samplerate.h>

#include "rustyaudio/resample.h"

/*
 * Length bookkeeping. The sinc converters are time-aligned (output frame k is
 * the signal at k / out_rate) but hold back the last half filter length of
 * input until more arrives, so during process() their output lags the running
 * target round(total_in * ratio). The linear converter lags one input frame
 * in time (frame k is the input at k / out_rate - 1 / in_rate) and its output
 * count runs up to one frame ahead of the running target. Frames beyond the
 * running target are held back here, never dropped, and emitted first by the
 * next call: the stream stays continuous and never passes the final length.
 * flush() drains libsamplerate, then trims its tail, or pads it with silence,
 * to exactly the target.
 */

/* Frames that may run ahead of the running target: one for the linear
 * converter, none for the sinc ones. More means libsamplerate changed. */
#define RA_HOLD_FRAMES 16

/* Input frames handed to libsamplerate per call, which keeps its long and
 * int counters far from overflow. */
#define RA_CHUNK_FRAMES ((size_t)1 << 20)

/* Per quality: the libsamplerate converter, and the frames of input its
 * filter reaches either side of an output point when ratio >= 1 (it widens
 * by 1 / ratio when downsampling). libsamplerate 0.2's half lengths are 143
 * (best), 46 (medium), 20 (fastest) and 1 (linear); these have margin. */
static const struct {
	const char *name;
	int converter;
	int half_width;
} ra_qualities[] = {
	[RA_RESAMPLE_BEST] = { "best", SRC_SINC_BEST_QUALITY, 160 },
	[RA_RESAMPLE_MEDIUM] = { "medium", SRC_SINC_MEDIUM_QUALITY, 64 },
	[RA_RESAMPLE_FAST] = { "fast", SRC_SINC_FASTEST, 32 },
	[RA_RESAMPLE_LINEAR] = { "linear", SRC_LINEAR, 4 },
};

#define RA_NQUALITIES (sizeof(ra_qualities) / sizeof(ra_qualities[0]))

/* Valid input for libsamplerate calls that pass no input (it rejects NULL). */
static const float ra_no_input[1];

struct ra_resampler {
	SRC_STATE *src;
	int channels;
	int in_rate;
	int out_rate;
	double ratio;	   /* out_rate / in_rate, as libsamplerate wants it */
	size_t lag_frames; /* output frames libsamplerate may owe after process() */
	int64_t in_total;  /* frames consumed */
	int64_t out_total; /* frames returned to the caller */
	float *hold;	   /* RA_HOLD_FRAMES frames produced ahead of the target */
	size_t hold_frames;
	float *stage;  /* linear only: previous frame, then a lone new frame */
	bool has_prev; /* stage holds the last frame handed to libsamplerate */
	bool flushing; /* flush() has been called: no more input */
	bool drained;  /* libsamplerate has nothing more to give */
	bool failed;   /* libsamplerate failed: the stream is broken */
};

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
 * INT_MAX, exact and saturating at INT64_MAX. BIAS = DEN rounds half up,
 * BIAS = 2 * DEN - 1 rounds up. Splitting N by DEN keeps every product below
 * 2^63: the remainder is < DEN, so 2 * rem * NUM + BIAS < 2^63.
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

/* The running target: output owed for everything consumed so far. */
static int64_t ra_target(const ra_resampler *rs)
{
	return ra_resample_length(rs->in_total, rs->in_rate, rs->out_rate);
}

/* Whether libsamplerate can convert CHANNELS from IN_RATE to OUT_RATE Hz
 * at QUALITY. */
static ra_status check_conversion(int channels, int in_rate, int out_rate,
				  ra_resample_quality quality, ra_diag *diag)
{
	if (channels < 1 || channels > RA_MAX_CHANNELS || in_rate <= 0 || out_rate <= 0) {
		ra_diag_set(diag,
			    "cannot resample %d channels from %d Hz to %d Hz: channels 1 to %d, "
			    "rates above 0",
			    channels, in_rate, out_rate, RA_MAX_CHANNELS);
		return RA_ERR_INVALID;
	}
	if ((int64_t)out_rate > 256 * (int64_t)in_rate ||
	    (int64_t)in_rate > 256 * (int64_t)out_rate) {
		ra_diag_set(diag, "cannot resample %d Hz to %d Hz: a ratio beyond 1/256 to 256",
			    in_rate, out_rate);
		return RA_ERR_INVALID;
	}
	if ((unsigned)quality >= RA_NQUALITIES) {
		ra_diag_set(diag, "no resampling quality %d", (int)quality);
		return RA_ERR_INVALID;
	}
	if (quality != RA_RESAMPLE_LINEAR && channels > RA_RESAMPLE_SINC_MAX_CHANNELS) {
		ra_diag_set(diag,
			    "cannot resample %d channels at this quality "
			    "(libsamplerate's sinc filters take up to %d)",
			    channels, RA_RESAMPLE_SINC_MAX_CHANNELS);
		return RA_ERR_CHANNELS;
	}
	return RA_OK;
}

ra_resampler *ra_resampler_create(int channels, int in_rate, int out_rate,
				  ra_resample_quality quality, ra_status *status, ra_diag *diag)
{
	ra_resampler *rs = NULL;
	ra_status st;
	int64_t width;
	int err;

	st = check_conversion(channels, in_rate, out_rate, quality, diag);
	if (st != RA_OK)
		goto done;
	st = RA_ERR_NOMEM;
	rs = calloc(1, sizeof(*rs));
	if (!rs)
		goto out_free_rs;
	rs->hold = malloc(RA_HOLD_FRAMES * (size_t)channels * sizeof(*rs->hold));
	if (!rs->hold)
		goto out_free_rs;

	if (quality == RA_RESAMPLE_LINEAR) {
		rs->stage = malloc(2 * (size_t)channels * sizeof(*rs->stage));
		if (!rs->stage)
			goto out_free_hold;
	}

	rs->src = src_new(ra_qualities[quality].converter, channels, &err);
	if (!rs->src) {
		st = RA_ERR_RESAMPLE;
		ra_diag_set(diag, "libsamplerate: %s", src_strerror(err));
		goto out_free_stage;
	}

	rs->channels = channels;
	rs->in_rate = in_rate;
	rs->out_rate = out_rate;
	rs->ratio = (double)out_rate / in_rate;

	/*
	 * Input held back is half_width / min(ratio, 1) frames, which is
	 * half_width * max(ratio, 1) frames of output, plus a couple for the
	 * fractional read position and the output point being built.
	 */
	width = ra_qualities[quality].half_width;
	if (out_rate > in_rate)
		width = ra_scale(width, out_rate, in_rate, 2 * (uint64_t)in_rate - 1);
	rs->lag_frames = (size_t)width + 2;
	st = RA_OK;
	goto done;

out_free_stage:
	free(rs->stage);
out_free_hold:
	free(rs->hold);
out_free_rs:
	free(rs);
	rs = NULL;
	if (st == RA_ERR_NOMEM)
		ra_diag_set(diag, "cannot allocate a resampler for %d channels", channels);
done:
	if (status)
		*status = st;
	return rs;
}

/*
 * What libsamplerate can emit for IN_FRAMES new frames: ceil(in_frames *
 * ratio), what it still owes for input it held back, and frames held here.
 */
size_t ra_resampler_max_output(const ra_resampler *rs, size_t in_frames)
{
	int64_t n = in_frames > (size_t)INT64_MAX ? INT64_MAX : (int64_t)in_frames;
	uint64_t frames;

	if (!rs)
		return 0;
	frames = (uint64_t)ra_scale(n, rs->out_rate, rs->in_rate, 2 * (uint64_t)rs->in_rate - 1);
	frames += rs->lag_frames + RA_HOLD_FRAMES;
	if (frames > SIZE_MAX)
		return SIZE_MAX;
	return (size_t)frames;
}

/* Up to LIMIT held frames into OUT, oldest first; the rest stay held. */
static size_t take_held(ra_resampler *rs, float *out, size_t limit)
{
	const size_t ch = (size_t)rs->channels;
	size_t take = rs->hold_frames < limit ? rs->hold_frames : limit;

	memcpy(out, rs->hold, take * ch * sizeof(*out));
	memmove(rs->hold, rs->hold + take * ch, (rs->hold_frames - take) * ch * sizeof(*out));
	rs->hold_frames -= take;
	return take;
}

/* ROOM frames of CH channels as libsamplerate counts them: no more than
 * a long holds in samples. */
static long src_frames(size_t room, size_t ch)
{
	return (long)(room < LONG_MAX / ch ? room : LONG_MAX / ch);
}

/*
 * Given one lone frame, libsamplerate 0.2.2's linear converter reads the
 * frame before it at data_in[-channels] (libsamplerate issues #208 and #234),
 * so it gets a copy with the previous frame in front: where that copy's lone
 * frame is. At the very start the previous frame is the frame itself, as the
 * converter's own priming does.
 */
static const float *stage_lone_frame(ra_resampler *rs, const float *in)
{
	const size_t ch = (size_t)rs->channels;

	if (!rs->has_prev)
		memcpy(rs->stage, in, ch * sizeof(*in));
	memcpy(rs->stage + ch, in, ch * sizeof(*in));
	return rs->stage + ch;
}

/* All IN_FRAMES frames of IN through libsamplerate, its output into OUT
 * (room for OUT_CAPACITY frames) after the *N frames there, *N advanced.
 * libsamplerate stops early when output room runs out: loop until all
 * input is consumed, failing rather than spinning if it makes no
 * progress. */
static ra_status convert_input(ra_resampler *rs, const float *in, size_t in_frames, float *out,
			       size_t out_capacity, size_t *n)
{
	const size_t ch = (size_t)rs->channels;
	size_t left = in_frames;
	SRC_DATA data;

	memset(&data, 0, sizeof(data));
	data.src_ratio = rs->ratio;
	while (left > 0) {
		data.data_in = in;
		data.input_frames = (long)(left < RA_CHUNK_FRAMES ? left : RA_CHUNK_FRAMES);
		data.data_out = out + *n * ch;
		data.output_frames = src_frames(out_capacity - *n, ch);
		if (rs->stage && data.input_frames == 1)
			data.data_in = stage_lone_frame(rs, in);
		if (src_process(rs->src, &data) ||
		    (data.input_frames_used == 0 && data.output_frames_gen == 0))
			return RA_ERR_RESAMPLE;
		if (rs->stage && data.input_frames_used > 0) {
			memcpy(rs->stage, in + (size_t)(data.input_frames_used - 1) * ch,
			       ch * sizeof(*in));
			rs->has_prev = true;
		}
		in += (size_t)data.input_frames_used * ch;
		left -= (size_t)data.input_frames_used;
		*n += (size_t)data.output_frames_gen;
	}
	return RA_OK;
}

/* Of the *N frames at OUT, hold back whatever runs ahead of the running
 * target; *N becomes what may go out. More than RA_HOLD_FRAMES ahead
 * means libsamplerate changed: RA_ERR_RESAMPLE. */
static ra_status hold_ahead(ra_resampler *rs, const float *out, size_t *n)
{
	const size_t ch = (size_t)rs->channels;
	int64_t allowed = ra_target(rs) - rs->out_total;
	size_t excess;

	if ((int64_t)*n <= allowed)
		return RA_OK;
	excess = *n - (size_t)allowed;
	if (excess > RA_HOLD_FRAMES)
		return RA_ERR_RESAMPLE;
	*n = (size_t)allowed;
	memcpy(rs->hold, out + *n * ch, excess * ch * sizeof(*out));
	rs->hold_frames = excess;
	return RA_OK;
}

ra_status ra_resampler_process(ra_resampler *rs, const float *in, size_t in_frames, float *out,
			       size_t out_capacity, size_t *out_frames)
{
	ra_status st = RA_ERR_INVALID;
	size_t n;

	if (out_frames)
		*out_frames = 0;
	if (!out || !out_frames || !rs)
		goto done;
	/* No input after the end of input. */
	if ((!in && in_frames > 0) || rs->flushing)
		goto done;
	if (out_capacity < ra_resampler_max_output(rs, in_frames))
		goto done;
	st = RA_ERR_RESAMPLE;
	if (rs->failed)
		goto done;

	/* Held frames precede anything libsamplerate makes next (there is
	 * room for all of them). */
	n = take_held(rs, out, out_capacity);
	st = convert_input(rs, in, in_frames, out, out_capacity, &n);
	if (st != RA_OK)
		goto out_fail;
	rs->in_total += (int64_t)in_frames;
	st = hold_ahead(rs, out, &n);
	if (st != RA_OK)
		goto out_fail;
	rs->out_total += (int64_t)n;
	*out_frames = n;
	goto done;

out_fail:
	rs->failed = true;
done:
	return st;
}

ra_status ra_resampler_flush(ra_resampler *rs, float *out, size_t out_capacity, size_t *out_frames)
{
	size_t ch, n = 0;
	uint64_t owed;
	SRC_DATA data;
	ra_status st = RA_ERR_INVALID;

	if (out_frames)
		*out_frames = 0;
	if (!rs || !out || !out_frames || out_capacity == 0)
		goto done;
	st = RA_ERR_RESAMPLE;
	if (rs->failed)
		goto done;
	rs->flushing = true;
	st = RA_OK;

	/* Everything past the target is trimmed, whether held or not yet made. */
	ch = (size_t)rs->channels;
	owed = (uint64_t)(ra_target(rs) - rs->out_total);
	if (owed < out_capacity)
		out_capacity = (size_t)owed;

	n = take_held(rs, out, out_capacity);
	if (rs->hold_frames > 0)
		goto out_count;

	memset(&data, 0, sizeof(data));
	data.src_ratio = rs->ratio;
	data.end_of_input = 1;
	data.data_in = ra_no_input;
	while (!rs->drained && n < out_capacity) {
		data.data_out = out + n * ch;
		data.output_frames = src_frames(out_capacity - n, ch);
		if (src_process(rs->src, &data)) {
			rs->failed = true;
			st = RA_ERR_RESAMPLE;
			goto done;
		}
		if (data.output_frames_gen == 0)
			rs->drained = true;
		n += (size_t)data.output_frames_gen;
	}

	/* libsamplerate's tail came up short of the target: pad with silence. */
	if (rs->drained) {
		memset(out + n * ch, 0, (out_capacity - n) * ch * sizeof(*out));
		n = out_capacity;
	}
out_count:
	rs->out_total += (int64_t)n;
	*out_frames = n;
done:
	return st;
}

void ra_resampler_destroy(ra_resampler *rs)
{
	if (!rs)
		return;
	src_delete(rs->src);
	free(rs->stage);
	free(rs->hold);
	free(rs);
}
