/* One file end to end: reader or generator -> [resample] -> gain ->
 * conversion -> atomic writer, block by block with bounded memory. */
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>

#include "rustyaudio/audio_file.h"
#include "rustyaudio/job.h"

/* Where samples come from: a file or the generator. */
typedef struct source {
	ra_reader *reader;
	ra_generator *gen;
	ra_audio_info info;
	int int_bits; /* precision when read as integers, 0 if not integer */
} source;

/* How a block travels from source to writer. */
typedef enum route {
	ROUTE_COPY_INT,	   /* integers straight through */
	ROUTE_COPY_DOUBLE, /* doubles straight through */
	ROUTE_FLOAT	   /* the float chain */
} route;

typedef struct buffers {
	int32_t *ints; /* integer read scratch and integer output */
	float *block;  /* the float chain's block */
	float *resampled;
	double *doubles;
	size_t out_frames; /* capacity of ints/resampled in frames */
} buffers;

void ra_job_config_init(ra_job_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->block_frames = 1024;
	cfg->quality = RA_RESAMPLE_BEST;
	cfg->dither = RA_DITHER_MODE_AUTO;
	cfg->dither_seed = 1;
}

/* Significant bits of a subtype libsndfile decodes to integers exactly. */
static int integer_bits(int format)
{
	int bits = ra_format_pcm_bits(format);

	switch (format & SF_FORMAT_SUBMASK) {
	case SF_FORMAT_ULAW:
	case SF_FORMAT_ALAW:
	case SF_FORMAT_IMA_ADPCM:
	case SF_FORMAT_MS_ADPCM:
	case SF_FORMAT_GSM610:
		return 16;
	}
	return bits;
}

static ra_status source_read(source *src, const route r, buffers *b, size_t frames, size_t *got,
			     ra_diag *diag)
{
	size_t samples;
	ra_status st;

	if (src->gen) {
		*got = ra_generator_read(src->gen, b->block, frames);
		return RA_OK;
	}
	switch (r) {
	case ROUTE_COPY_INT:
		return ra_reader_read_int(src->reader, b->ints, frames, got, diag);
	case ROUTE_COPY_DOUBLE:
		return ra_reader_read_double(src->reader, b->doubles, frames, got, diag);
	case ROUTE_FLOAT:
		break;
	}
	if (!src->int_bits)
		return ra_reader_read_float(src->reader, b->block, frames, got, diag);
	st = ra_reader_read_int(src->reader, b->ints, frames, got, diag);
	samples = *got * (size_t)src->info.channels;
	ra_int_to_float(b->ints, b->block, samples);
	return st;
}

/* Write FRAMES frames of BUF (the float chain's output) in the output's
 * sample format. */
static ra_status emit_float(ra_writer *wr, ra_converter *cv, int out_bits, buffers *b, float *buf,
			    size_t frames, ra_diag *diag)
{
	if (out_bits) {
		ra_converter_to_int(cv, buf, b->ints, frames);
		return ra_writer_write_int(wr, b->ints, frames, diag);
	}
	if (cv)
		ra_converter_clip(cv, buf, frames);
	return ra_writer_write_float(wr, buf, frames, diag);
}

static void buffers_release(buffers *b)
{
	free(b->ints);
	free(b->block);
	free(b->resampled);
	free(b->doubles);
}

static ra_status buffers_init(buffers *b, size_t block, size_t out_frames, int channels,
			      int want_resampled)
{
	size_t n = out_frames > block ? out_frames : block;

	memset(b, 0, sizeof(*b));
	b->out_frames = n;
	b->ints = malloc(n * (size_t)channels * sizeof(*b->ints));
	b->block = malloc(block * (size_t)channels * sizeof(*b->block));
	b->doubles = malloc(block * (size_t)channels * sizeof(*b->doubles));
	if (want_resampled)
		b->resampled = malloc(out_frames * (size_t)channels * sizeof(*b->resampled));
	if (!b->ints || !b->block || !b->doubles || (want_resampled && !b->resampled)) {
		buffers_release(b);
		return RA_ERR_NOMEM;
	}
	return RA_OK;
}

static void record_clips(ra_job_result *res, const ra_converter *cv)
{
	if (!cv)
		return;
	res->clipped = ra_converter_clipped_total(cv);
	for (int c = 0; c < RA_JOB_CLIP_CHANNELS && c < res->channels; c++)
		res->clipped_ch[c] = ra_converter_clipped(cv, c);
}

static ra_status run(const ra_job_config *cfg, source *src, const char *out_path,
		     ra_job_result *res)
{
	const ra_audio_info *in = &src->info;
	const int channels = in->channels;
	int out_rate = cfg->out_rate ? cfg->out_rate : in->sample_rate;
	int processing = cfg->gain_db != 0.0 || out_rate != in->sample_rate;
	ra_audio_info out = *in;
	ra_resampler *rs = NULL;
	ra_converter *cv = NULL;
	ra_writer *wr = NULL;
	buffers b = { 0 };
	float gain = (float)ra_db_to_gain(cfg->gain_db);
	int out_bits, dither;
	size_t out_cap = cfg->block_frames;
	route r;
	ra_status st;

	if (cfg->block_frames < 1 || cfg->block_frames > RA_MAX_BLOCK_FRAMES) {
		ra_diag_set(&res->diag, "block size must be 1 to %d frames", RA_MAX_BLOCK_FRAMES);
		return RA_ERR_INVALID;
	}
	if (out_rate < 1 || out_rate > RA_MAX_SAMPLE_RATE) {
		ra_diag_set(&res->diag, "unsupported output rate %d Hz", out_rate);
		return RA_ERR_INVALID;
	}
	res->channels = channels;
	res->in_format = in->format;
	res->frames_claimed = in->frames;
	out.sample_rate = out_rate;
	out.frames =
		in->frames < 0 ? -1 : ra_resample_length(in->frames, in->sample_rate, out_rate);
	st = ra_format_choose(&out, out_path, cfg->format_major, cfg->format_subtype, &out.format,
			      &res->fell_back, &res->diag);
	if (st != RA_OK)
		return st;
	res->out_format = out.format;
	out_bits = ra_format_pcm_bits(out.format);

	if (!processing && src->int_bits && out_bits >= src->int_bits && !src->gen)
		r = ROUTE_COPY_INT;
	else if (!processing && (out.format & SF_FORMAT_SUBMASK) == SF_FORMAT_DOUBLE && !src->gen)
		r = ROUTE_COPY_DOUBLE;
	else
		r = ROUTE_FLOAT;

	dither = 0;
	if (r == ROUTE_FLOAT && out_bits && out_bits <= 24) {
		if (cfg->dither == RA_DITHER_MODE_AUTO)
			dither = processing || !src->int_bits || src->int_bits > out_bits;
		else
			dither = cfg->dither == RA_DITHER_MODE_TPDF;
	}
	res->dithered = dither;

	if (out_rate != in->sample_rate) {
		rs = ra_resampler_create(channels, in->sample_rate, out_rate, cfg->quality, &st);
		if (!rs && channels > 128 && cfg->quality != RA_RESAMPLE_LINEAR) {
			ra_diag_set(&res->diag,
				    "cannot resample %d channels at this quality "
				    "(libsamplerate's sinc filters take up to 128); "
				    "use --resample-quality linear",
				    channels);
			return st;
		}
		if (!rs) {
			ra_diag_set(&res->diag, "cannot resample %d Hz to %d Hz: %s",
				    in->sample_rate, out_rate, ra_strerror(st));
			return st;
		}
		out_cap = ra_resampler_max_output(rs, cfg->block_frames);
		if (ra_resampler_max_output(rs, 0) > out_cap)
			out_cap = ra_resampler_max_output(rs, 0);
	}
	if (r == ROUTE_FLOAT && (out_bits || !ra_format_is_float(out.format))) {
		cv = ra_converter_create(channels, out_bits,
					 dither ? RA_DITHER_TPDF : RA_DITHER_NONE, cfg->dither_seed,
					 &st);
		if (!cv)
			goto out;
	}
	st = buffers_init(&b, cfg->block_frames, out_cap, channels, rs != NULL);
	if (st != RA_OK) {
		ra_diag_set(&res->diag, "cannot allocate %zu-frame buffers", cfg->block_frames);
		goto out;
	}
	wr = ra_writer_open(out_path, &out, cfg->force ? RA_WRITE_FORCE : 0, &st, &res->diag);
	if (!wr)
		goto out;
	if (src->reader)
		ra_writer_copy_metadata(wr, src->reader, (double)out_rate / in->sample_rate);

	for (;;) {
		size_t got = 0, made;

		if (cfg->cancel && *cfg->cancel) {
			st = RA_ERR_CANCELLED;
			ra_diag_set(&res->diag, "interrupted");
			goto out;
		}
		st = source_read(src, r, &b, cfg->block_frames, &got, &res->diag);
		if (st == RA_ERR_READ && res->frames_read + (int64_t)got > 0) {
			/* Damage after good audio: keep what decoded, as libsndfile
			 * reads it, and let the caller warn. */
			res->decode_stopped = 1;
			st = RA_OK;
		}
		if (st != RA_OK)
			goto out;
		if (got == 0)
			break;
		res->frames_read += (int64_t)got;
		switch (r) {
		case ROUTE_COPY_INT:
			st = ra_writer_write_int(wr, b.ints, got, &res->diag);
			made = got;
			break;
		case ROUTE_COPY_DOUBLE:
			st = ra_writer_write_double(wr, b.doubles, got, &res->diag);
			made = got;
			break;
		case ROUTE_FLOAT:
		default:
			if (gain != 1.0f)
				ra_gain_apply(b.block, got * (size_t)channels, gain);
			if (rs) {
				st = ra_resampler_process(rs, b.block, got, b.resampled, out_cap,
							  &made);
				if (st == RA_OK)
					st = emit_float(wr, cv, out_bits, &b, b.resampled, made,
							&res->diag);
			} else {
				made = got;
				st = emit_float(wr, cv, out_bits, &b, b.block, got, &res->diag);
			}
			break;
		}
		if (st != RA_OK)
			goto out;
		res->frames_written += (int64_t)made;
		if (res->decode_stopped)
			break;
		if (cfg->progress)
			cfg->progress(cfg->progress_ctx, res->frames_read, in->frames);
	}
	while (rs) {
		size_t made = 0;

		st = ra_resampler_flush(rs, b.resampled, out_cap, &made);
		if (st == RA_OK && made > 0)
			st = emit_float(wr, cv, out_bits, &b, b.resampled, made, &res->diag);
		if (st != RA_OK)
			goto out;
		if (made == 0)
			break;
		res->frames_written += (int64_t)made;
	}
	st = ra_writer_commit(wr, &res->diag);
	wr = NULL;
out:
	if (st == RA_ERR_RESAMPLE || st == RA_ERR_NOMEM)
		if (!res->diag.text[0])
			ra_diag_set(&res->diag, "%s", ra_strerror(st));
	record_clips(res, cv);
	ra_writer_abort(wr);
	buffers_release(&b);
	ra_converter_destroy(cv);
	ra_resampler_destroy(rs);
	return st;
}

ra_status ra_job_run(const ra_job_config *cfg, const char *in_path, const char *out_path,
		     ra_job_result *res)
{
	source src = { 0 };
	ra_status st;

	memset(res, 0, sizeof(*res));
	res->frames_claimed = -1;
	if (ra_path_same_file(in_path, out_path)) {
		ra_diag_set(&res->diag, "output would overwrite the input");
		return RA_ERR_SAME_FILE;
	}
	src.reader = ra_reader_open(in_path, &st, &res->diag);
	if (!src.reader)
		return st;
	src.info = *ra_reader_info(src.reader);
	src.int_bits = integer_bits(src.info.format);
	st = run(cfg, &src, out_path, res);
	ra_reader_close(src.reader);
	return st;
}

ra_status ra_job_generate(const ra_job_config *cfg, const ra_generate_config *gen,
			  const char *out_path, ra_job_result *res)
{
	source src = { 0 };
	ra_status st;

	memset(res, 0, sizeof(*res));
	res->frames_claimed = -1;
	src.gen = ra_generator_create(gen, &st, &res->diag);
	if (!src.gen)
		return st;
	src.info.frames = gen->frames;
	src.info.sample_rate = gen->sample_rate;
	src.info.channels = gen->channels;
	src.info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
	st = run(cfg, &src, out_path, res);
	res->fell_back = 0; /* a generated signal has no subtype of its own to keep */
	ra_generator_destroy(src.gen);
	return st;
}
