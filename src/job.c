/* One file end to end, in two parts. The plan (ra_job_plan_init) decides
 * from the config and the input's header alone what will happen; the
 * executor then runs it block by block with bounded memory: reader or
 * generator -> [resample] -> processor (gain, EQ, spectrum taps) ->
 * conversion -> a sink (the atomic writer, or a measuring pass); with
 * --normalize a measuring pass first; the spectrum reports at the end. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>

#include "rustyaudio/audio_file.h"
#include "rustyaudio/job.h"
#include "rustyaudio/lane.h"
#include "rustyaudio/level.h"
#include "rustyaudio/processor.h"
#include "rustyaudio/phases.h"
#include "rustyaudio/report.h"
#include "shares.h"

/* Where samples come from: a file or the generator. */
typedef struct source {
	ra_reader *reader;
	ra_generator *gen;
	ra_generate_config gen_config;
	const char *name; /* the input's path, for reports */
	ra_audio_info info;
	uint64_t mark; /* with cfg->perf: the job began; after run(), its last pass ended */
} source;

/* Where the float chain's finished blocks go. */
typedef enum sink_kind {
	SINK_WRITE,  /* converted and written */
	SINK_MEASURE /* only measured: --analyze, the first pass of --normalize and --loudness */
} sink_kind;

typedef struct sink {
	sink_kind kind;
	ra_writer *wr; /* SINK_WRITE */
	int taps;      /* the spectrum taps see this pass */
} sink;

/* pass mode: a non-finite input sample the filters saw as 0, to be put
 * back into block BLOCK (counted in push order) at sample AT. */
typedef struct held {
	uint64_t block;
	uint32_t at;
	float value;
} held;

/* Whether the sink stage pays its lane is measured, not guessed: after
 * PROBE_WARM_WINDOWS windows of blocks to warm up, a pass times a window
 * with the stage inline, then (after a queue's worth of blocks to fill the
 * lane) one with it on the lane, PROBE_ROUNDS times, and keeps the lane
 * only if its best window's time a block was at least LANE_GAIN less than
 * the best inline one's (the best of each, as a window can lose a core to
 * other work for a while). Where the pool or the reader is the
 * bottleneck, or other work holds the cores, a third thread costs more
 * than it overlaps; where the encoder is, it pays. A window is at least
 * PROBE_FRAMES frames (and PROBE_MIN_BLOCKS blocks) and lasts PROBE_NS, so
 * that a scheduler's hiccup is small beside it, unless it reaches
 * PROBE_STRETCH times that many frames first. A file too short for the
 * probe never takes the lane. A resampled stream takes it without a
 * probe: its blocks come in bursts of a resampler's run while the run's
 * tasks hold the cores, so windows time the bursts, not the stage.
 * Measured on 10-minute stereo 16-bit files, 2 cores, 10 runs each, the
 * lane against the probe's choice: 96 to 44.1 kHz 0.50 s against 0.63 s
 * (to FLAC 1.32 s against 1.41 s), 44.1 to 48 kHz 0.43 s against 0.46 s,
 * 48 to 16 kHz 0.19 s against 0.21 s. */
#define PROBE_FRAMES 262144
#define PROBE_MIN_BLOCKS 8
/* The warm-up outlasts the processor's growing steps (786432 frames to
 * their most; see processor.c). With one window, the first inline window
 * timed the small steps' round trips: the probe took the lane for
 * --analyze in 3 runs of 4, where the whole file takes 10 % longer on it
 * than inline (perf stat, 4 rounds of 3 runs, 10 minutes of stereo). With
 * four it keeps it inline in 4 of 4. */
#define PROBE_WARM_WINDOWS 4
#define PROBE_NS 40000000
#define PROBE_STRETCH 2
#define PROBE_ROUNDS 2
/* The lane must win by a tenth. At 0.02 the probe's windows (40 ms each,
 * spread by the VM's writes into freshly freed memory) chose it by chance,
 * in 7 of 21 probes over the jobs below, its best window 2.6-9.4 % ahead,
 * although none of them gains from it: on 2 cores, 10 minutes of stereo
 * to tmpfs with the 10-band EQ, the lane against inline (hyperfine, 8
 * runs): float WAV 0.230 against 0.202 s, 16-bit WAV 0.209 against 0.167,
 * FLAC to FLAC 1.065 against 1.077, WAV to FLAC 0.856 against 0.854; 8
 * channels at 96 kHz, 31 bands, 3 minutes: 0.78 against 0.79 s (5 runs).
 * A median of the float EQ job's 5 rounds in a full benchmark run took
 * 0.44 s, the lane chosen in most of them. */
#define LANE_GAIN 0.10
enum probe_phase { PROBE_WARM, PROBE_INLINE, PROBE_FILL, PROBE_LANE, PROBE_DONE };
struct probe {
	enum probe_phase phase;
	int round;
	size_t window;		       /* blocks in a timed window, at least */
	size_t fill;		       /* blocks that fill the lane's queue */
	size_t blocks;		       /* delivered in this phase */
	uint64_t start_ns;	       /* of the window being timed */
	uint64_t lane_items;	       /* the lane's items run when it began */
	double best_inline, best_lane; /* ns a block */
};

/* What runs a plan: its streams, buffers and measurements. */
typedef struct chain {
	const ra_job_config *cfg;
	const ra_job_plan *plan;
	source *src;
	ra_job_result *res;
	ra_resampler *rs;
	ra_processor *proc;
	ra_converter *cv;
	size_t cap;		    /* frames a processor block holds */
	size_t chunk;		    /* frames read for one call of the resampler */
	int32_t *ints;		    /* integer reads of a block */
	int16_t *shorts;	    /* or, where the reader reads them whole, 16-bit ones */
	float *decoded;		    /* float route: a chunk as read, before resampling */
	float *tapped;		    /* exact copies with taps: the block as float */
	double *doubles;	    /* the double copy route */
	ra_welch *tap_in, *tap_out; /* spectrum taps, or NULL */
	ra_spectrogram *sgram;	    /* fed by tap_out, or NULL */
	/* Reports written and synced but not yet in place: they are published
	 * only once the audio is, so that a failed job leaves neither. */
	ra_atomic_file reports[3];
	int reports_ready;
	ra_levels *levels; /* measuring passes (--analyze, --normalize) */
	ra_loudness *loud; /* or NULL */
	/* Non-finite input in pass mode: the values held back from blocks in
	 * flight, oldest at held_head, and blocks pushed and emitted so far. */
	held *held;
	size_t held_head, held_len, held_cap;
	uint64_t pushed, emitted;
	uint64_t mark;	  /* with cfg->perf: when the stage being timed began */
	uint64_t rows_ns; /* with cfg->perf: spectrogram rows written this pass */
	/* The sink stage: on the lane's thread when there is one, so it has
	 * its own output buffer, clock, times and diag; CH->to is the pass's
	 * sink. */
	ra_lane *run_lane;  /* the run's threaded lane, or NULL */
	ra_lane *lane;	    /* the one this pass may use, or NULL */
	int on_lane;	    /* the sink stage runs on it now */
	struct probe probe; /* whether it should */
	const sink *to;
	/* Integer output of up to cap frames: int32_t, or int16_t where the
	 * writer takes them (SHORTS_OUT). */
	void *out_pcm;
	int shorts_out;
	uint64_t sink_mark;
	ra_histogram sink_time[RA_STAGE_COUNT]; /* into cfg->perf at a pass's end */
	ra_lane_stats lane_start;		/* the lane's counters when the pass began */
	ra_diag sink_diag;
} chain;

/* The pool the job's stages share: none for the reference pipeline. */
static ra_workers *pool_of(const chain *ch)
{
	return ch->cfg->reference ? NULL : ch->cfg->workers;
}

/* Blocks of 4096 frames: what a stage pays a block (a call into libsndfile,
 * the copies through the I/O buffers, the clocks, a kernel's ramps) is
 * paid a quarter as often as with 1024, and a stereo float block (32 KiB)
 * and the EQ's scratch for it (64 KiB) still fit the L2 cache. On 2 cores,
 * 10 minutes of stereo, medians of paired rounds against 1024: float WAV
 * 10-band EQ 0.956x the time, 16-bit 0.988x, 8 channels at 96 kHz with 31
 * bands 0.88x; FLAC, resampling and --analyze within 2 %; 200 files of 1 s
 * 0.89x (medians of 9 runs). 8192 took 3-4 % longer than 4096 (the block
 * and the scratch outgrow L2). */
#define BLOCK_FRAMES 4096

void ra_job_config_init(ra_job_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->block_frames = BLOCK_FRAMES;
	cfg->resampler = RA_RESAMPLER_SOXR;
	cfg->quality = RA_RESAMPLE_BEST;
	cfg->dither = RA_DITHER_MODE_AUTO;
	cfg->dither_seed = 1;
	cfg->normalize_dbfs = -1.0;
	cfg->true_peak_dbtp = -1.0;
}

const char *ra_dither_mode_name(ra_dither_mode mode)
{
	if (mode == RA_DITHER_MODE_AUTO)
		return "auto";
	return ra_dither_name(mode == RA_DITHER_MODE_TPDF ? RA_DITHER_TPDF : RA_DITHER_NONE);
}

void ra_spectrum_request_init(ra_spectrum_request *req)
{
	memset(req, 0, sizeof(*req));
	req->of_output = 1;
	req->fft_size = 2048;
	req->window = RA_WINDOW_HANN;
	req->overlap = 0.5;
	req->scale = RA_SCALE_PSD;
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

static int cancelled(chain *ch)
{
	if (ra_stop_requested(ch->cfg->cancel)) {
		ra_diag_set(&ch->res->diag, "interrupted");
		return 1;
	}
	return 0;
}

/* Damage after good audio: keep what decoded, as libsndfile reads it, and
 * let the caller warn. A stream a stop cut short is no damage. */
static ra_status tolerate_damage(chain *ch, ra_status st, size_t got)
{
	if (st != RA_OK && cancelled(ch))
		return RA_ERR_CANCELLED;
	if (st == RA_ERR_READ && ch->res->frames_read + (int64_t)got > 0) {
		ch->res->decode_stopped = 1;
		return RA_OK;
	}
	return st;
}

/* Up to one block of float frames from the source into DST. */
static ra_status read_float(chain *ch, float *dst, size_t *got)
{
	size_t frames = ch->plan->block_frames;
	ra_diag *diag = &ch->res->diag;
	ra_status st;

	if (ch->src->gen) {
		*got = ra_generator_read(ch->src->gen, dst, frames);
		return RA_OK;
	}
	if (!ch->plan->in_bits)
		return tolerate_damage(
			ch, ra_reader_read_float(ch->src->reader, dst, frames, got, diag), 0);
	if (ch->shorts) {
		st = ra_reader_read_short(ch->src->reader, ch->shorts, frames, got, diag);
		ra_samples_from_short(ch->shorts, dst, *got * (size_t)ch->plan->channels);
		return tolerate_damage(ch, st, *got);
	}
	st = ra_reader_read_int(ch->src->reader, ch->ints, frames, got, diag);
	ra_samples_from_int(ch->ints, dst, *got * (size_t)ch->plan->channels);
	return tolerate_damage(ch, st, *got);
}

/* The input has non-finite samples that may not go on: read the rest
 * without processing it, only to count them all, and fail. */
static ra_status refuse_nonfinite(chain *ch, const char *why)
{
	ra_job_result *res = ch->res;
	const size_t block = ch->plan->block_frames;
	size_t got;

	do {
		ra_status st;

		got = 0;
		if (cancelled(ch))
			return RA_ERR_CANCELLED;
		if (ch->plan->route == RA_JOB_ROUTE_COPY_DOUBLE) {
			st = ra_reader_read_double(ch->src->reader, ch->doubles, block, &got,
						   &res->diag);
			res->nonfinite += ra_nonfinite_count_double(
				ch->doubles, got * (size_t)ch->plan->channels, NULL);
		} else {
			st = read_float(ch, ch->decoded, &got);
			res->nonfinite += ra_nonfinite_count(
				ch->decoded, got * (size_t)ch->plan->channels, NULL);
		}
		if (st != RA_OK)
			break;
	} while (got > 0);
	ra_diag_set(&res->diag, "%llu non-finite sample%s, first at frame %lld%s",
		    (unsigned long long)res->nonfinite, res->nonfinite == 1 ? "" : "s",
		    (long long)res->nonfinite_first_frame, why);
	return RA_ERR_NONFINITE;
}

/* BAD non-finite samples in the block just decoded (none when it is not
 * screened), the first of them sample FIRST: counted, and RA_OK if the
 * mode lets the block go on. */
static ra_status account_nonfinite(chain *ch, size_t bad, size_t first)
{
	ra_job_result *res = ch->res;

	if (bad == 0)
		return RA_OK;
	if (res->nonfinite == 0)
		res->nonfinite_first_frame =
			res->frames_read + (int64_t)(first / (size_t)ch->plan->channels);
	res->nonfinite += bad;
	if (!ch->plan->nonfinite_fails)
		return RA_OK;
	/* The rest is read into the chunk the resampler may be converting. */
	if (ch->rs)
		ra_resampler_wait(ch->rs);
	if (ch->cfg->nonfinite == RA_NONFINITE_PASS)
		return refuse_nonfinite(ch, ", which cannot pass through a rate change");
	return refuse_nonfinite(ch, "");
}

/* pass mode: keep VALUE, sample AT of the next block pushed. */
static ra_status hold(chain *ch, size_t at, float value)
{
	if (ch->held_head > 0 && ch->held_head >= ch->held_len / 2) {
		ch->held_len -= ch->held_head;
		memmove(ch->held, ch->held + ch->held_head, ch->held_len * sizeof(*ch->held));
		ch->held_head = 0;
	}
	if (ch->held_len == ch->held_cap) {
		size_t cap = ch->held_cap ? 2 * ch->held_cap : 256;
		held *grown = realloc(ch->held, cap * sizeof(*grown));

		if (!grown)
			return RA_ERR_NOMEM;
		ch->held = grown;
		ch->held_cap = cap;
	}
	ch->held[ch->held_len++] = (held){ ch->pushed, (uint32_t)at, value };
	return RA_OK;
}

/* pass mode: the values held back from the block now finished go back in. */
static void restore_held(chain *ch, float *buf)
{
	while (ch->held_head < ch->held_len && ch->held[ch->held_head].block == ch->emitted) {
		buf[ch->held[ch->held_head].at] = ch->held[ch->held_head].value;
		ch->held_head++;
	}
	ch->emitted++;
}

/* A decoded block of FRAMES frames of the float route: screened, and what
 * is not finite counted and zeroed (held back in pass mode), or refused.
 * The fix-up starts at the first non-finite sample, at the end if none. */
static ra_status screen_float(chain *ch, float *buf, size_t frames)
{
	const size_t n = frames * (size_t)ch->plan->channels;
	size_t i = n, bad = ch->plan->screen ? ra_nonfinite_count(buf, n, &i) : 0;
	ra_status st = account_nonfinite(ch, bad, i);

	for (; st == RA_OK && i < n; i++) {
		if (isfinite(buf[i]))
			continue;
		if (ch->cfg->nonfinite == RA_NONFINITE_PASS)
			st = hold(ch, i, buf[i]);
		buf[i] = 0.0f;
	}
	return st;
}

/* The same for a block of the double copy: in pass mode the samples are
 * written as they are (only the taps get zeros, in tap_copy()). */
static ra_status screen_double(chain *ch, double *buf, size_t frames)
{
	const size_t n = frames * (size_t)ch->plan->channels;
	size_t i = n, bad = ch->plan->screen ? ra_nonfinite_count_double(buf, n, &i) : 0;
	ra_status st = account_nonfinite(ch, bad, i);

	for (; st == RA_OK && ch->cfg->nonfinite == RA_NONFINITE_ZERO && i < n; i++)
		if (!isfinite(buf[i]))
			buf[i] = 0.0;
	return st;
}

/* The time since *MARK into H, and the mark moves on; that time. */
static uint64_t tick(uint64_t *mark, ra_histogram *h)
{
	uint64_t t = ra_now_ns(), ns = t - *mark;

	ra_histogram_add(h, ns);
	*mark = t;
	return ns;
}

/* With stats on: the time since the job's mark goes to STAGE, and to the
 * job's thread's time in stages. */
static void lap(chain *ch, ra_stage stage)
{
	ra_job_perf *perf = ch->cfg->perf;

	if (perf)
		perf->caller_stage_ns += tick(&ch->mark, &perf->stage[stage]);
}

/* The job's thread's accounts besides its stages (ra_job_perf). */
typedef enum caller_account { IN_STAGE, IN_PROCESSOR, AT_LANE } caller_account;

/* With stats on: the time since the job's mark to the job's thread's
 * account A. */
static void caller_lap(chain *ch, caller_account a)
{
	ra_job_perf *perf = ch->cfg->perf;
	uint64_t t, ns;

	if (!perf)
		return;
	t = ra_now_ns();
	ns = t - ch->mark;
	ch->mark = t;
	if (a == IN_STAGE)
		perf->caller_stage_ns += ns;
	else if (a == IN_PROCESSOR)
		perf->caller_processor_ns += ns;
	else
		perf->caller_lane_ns += ns;
}

/* With stats on: the time since the sink stage's mark goes to its STAGE,
 * kept apart from the job's stats while the stage may run on the lane. */
static void sink_lap(chain *ch, ra_stage stage)
{
	if (ch->cfg->perf)
		tick(&ch->sink_mark, &ch->sink_time[stage]);
}

/* The next stage timed starts now. */
static void restart_clock(chain *ch)
{
	if (ch->cfg->perf)
		ch->mark = ra_now_ns();
}

/* Finite input can still overflow on the way (a huge gain): such a block
 * is not written, the job fails rather than write infinities or NaN. */
static ra_status check_overflow(chain *ch, const float *buf, size_t frames)
{
	const size_t n = frames * (size_t)ch->plan->channels;
	size_t i;

	if (ra_nonfinite_count(buf, n, &i) == 0)
		return RA_OK;
	ra_diag_set(
		&ch->sink_diag, "processing overflows at output frame %lld; lower the gain",
		(long long)(ch->res->frames_written + (int64_t)(i / (size_t)ch->plan->channels)));
	return RA_ERR_NONFINITE;
}

/* The spectrogram's rows finished so far, published by whoever fed the
 * output tap (the processor after each step and within blocks whose rows
 * would outgrow RA_WELCH_ROW_BUDGET, calling this as its rows_ready
 * before it publishes more; tap_copy()), to its writer: workers only
 * compute them, this thread writes them, in stream order. Their time is
 * the write stage's, added to it at the pass's end (sink_wait()). */
static void write_rows(void *ctx)
{
	chain *ch = ctx;
	const double *db;
	double time_s;
	uint64_t start, ns;

	if (!ch->sgram)
		return;
	start = ch->cfg->perf ? ra_now_ns() : 0;
	while (ra_welch_take_row(ch->tap_out, &time_s, &db))
		ra_spectrogram_row(ch->sgram, time_s, db);
	if (!ch->cfg->perf)
		return;
	ns = ra_now_ns() - start;
	ch->rows_ns += ns;
	ch->mark += ns;
}

/* A finished block into the sink: measured, or into the output's sample
 * format and written. The sink stage's work: its clock, its diag. */
static ra_status emit(chain *ch, float *buf, size_t frames)
{
	ra_diag *diag = &ch->sink_diag;
	ra_writer *wr = ch->to->wr;
	ra_status st;

	if (ch->to->kind == SINK_WRITE && (st = check_overflow(ch, buf, frames)) != RA_OK)
		return st;
	/* The loudness meter, like the spectrum, sees 0 for the non-finite
	 * input samples that --nonfinite pass puts back just below. */
	if (ch->loud)
		ra_loudness_add(ch->loud, buf, frames);
	restore_held(ch, buf);
	if (ch->to->kind == SINK_MEASURE) {
		ra_levels_add(ch->levels, buf, frames);
		sink_lap(ch, RA_STAGE_LEVEL);
		return RA_OK;
	}
	if (ch->shorts_out) {
		ra_converter_to_short(ch->cv, buf, ch->out_pcm, frames);
		sink_lap(ch, RA_STAGE_CONVERT);
		st = ra_writer_write_short(wr, ch->out_pcm, frames, diag);
	} else if (ch->plan->out_bits) {
		ra_converter_to_int(ch->cv, buf, ch->out_pcm, frames);
		sink_lap(ch, RA_STAGE_CONVERT);
		st = ra_writer_write_int(wr, ch->out_pcm, frames, diag);
	} else {
		if (ch->cv) {
			ra_converter_clip(ch->cv, buf, frames);
			sink_lap(ch, RA_STAGE_CONVERT);
		}
		st = ra_writer_write_float(wr, buf, frames, diag);
	}
	sink_lap(ch, RA_STAGE_WRITE);
	if (st == RA_OK)
		ch->res->frames_written += (int64_t)frames;
	return st;
}

/* The sink stage on one finished block BUF of FRAMES frames, which it then
 * gives back; after an earlier failure (SO_FAR) only that. A lane task. */
static ra_status sink_block(void *ctx, void *buf, size_t frames, ra_status so_far)
{
	chain *ch = ctx;
	ra_status st = so_far;

	if (st == RA_OK) {
		if (ch->cfg->perf)
			ch->sink_mark = ra_now_ns(); /* waiting in the queue is no stage's */
		st = emit(ch, buf, frames);
	}
	ra_processor_release(ch->proc, buf);
	return st;
}

/* The sink stage's first failure, with its reason, as the job's. */
static ra_status sink_failed(chain *ch, ra_status st)
{
	if (st != RA_OK)
		ch->res->diag = ch->sink_diag;
	return st;
}

/* Blocks of CAP frames in one of the probe's windows. */
static size_t probe_window(size_t cap)
{
	return PROBE_FRAMES / cap > PROBE_MIN_BLOCKS ? PROBE_FRAMES / cap : PROBE_MIN_BLOCKS;
}

/* A pass begins: with a lane to choose, a probe. */
static void probe_start(chain *ch, size_t lane_depth)
{
	struct probe *pr = &ch->probe;
	int resampled = ch->plan->out_rate != ch->plan->in_rate;

	memset(pr, 0, sizeof(*pr));
	if (ch->lane && ch->cfg->perf)
		ra_lane_get_stats(ch->lane, &ch->lane_start);
	ch->on_lane = ch->lane && (ch->cfg->lane_use == RA_LANE_ALWAYS ||
				   (ch->cfg->lane_use == RA_LANE_AUTO && resampled));
	pr->phase = ch->lane && ch->cfg->lane_use == RA_LANE_AUTO && !resampled ? PROBE_WARM
										: PROBE_DONE;
	pr->window = probe_window(ch->cap);
	pr->fill = lane_depth;
	pr->best_inline = pr->best_lane = INFINITY;
}

/* The sink stage back from the lane, which is drained first so that the
 * stage's order holds: its failure, if any. */
static ra_status leave_lane(chain *ch)
{
	ch->on_lane = 0;
	return sink_failed(ch, ra_lane_wait(ch->lane));
}

/* The probe's lane window is over, at LANE ns a block: another round, or
 * the choice. */
static ra_status probe_choose(chain *ch, double lane)
{
	struct probe *pr = &ch->probe;
	ra_status st = RA_OK;

	if (lane < pr->best_lane)
		pr->best_lane = lane;
	if (++pr->round < PROBE_ROUNDS) {
		st = leave_lane(ch);
		pr->phase = PROBE_INLINE;
		pr->start_ns = ra_now_ns();
		return st;
	}
	pr->phase = PROBE_DONE;
	if (pr->best_lane > (1.0 - LANE_GAIN) * pr->best_inline)
		st = leave_lane(ch);
	return st;
}

/* Items the lane has run so far. */
static uint64_t lane_items_run(const chain *ch)
{
	ra_lane_stats s;

	ra_lane_get_stats(ch->lane, &s);
	return s.items;
}

/* The blocks PR's phase lasts at least. */
static size_t phase_blocks(const struct probe *pr)
{
	if (pr->phase == PROBE_WARM)
		return PROBE_WARM_WINDOWS * pr->window;
	return pr->phase == PROBE_FILL ? pr->fill : pr->window;
}

/* One more block delivered while the probe runs: at the end of a phase,
 * the next (see struct probe). */
static ra_status probe_step(chain *ch)
{
	struct probe *pr = &ch->probe;
	const int timed = pr->phase == PROBE_INLINE || pr->phase == PROBE_LANE;
	uint64_t now, ran;
	double per_block;

	if (++pr->blocks < phase_blocks(pr))
		return RA_OK;
	now = ra_now_ns();
	if (timed && now - pr->start_ns < PROBE_NS && pr->blocks < PROBE_STRETCH * pr->window)
		return RA_OK;
	/* A lane window's blocks are those the lane ran: blocks posted into
	 * room left in its queue cost the window nothing. */
	ran = pr->phase == PROBE_LANE ? lane_items_run(ch) - pr->lane_items : pr->blocks;
	per_block = ran ? (double)(now - pr->start_ns) / (double)ran : INFINITY;
	pr->blocks = 0;
	switch (pr->phase) {
	case PROBE_WARM:
	case PROBE_FILL:
		pr->phase++;
		pr->start_ns = now;
		pr->lane_items = lane_items_run(ch);
		break;
	case PROBE_INLINE:
		if (per_block < pr->best_inline)
			pr->best_inline = per_block;
		pr->phase = PROBE_FILL;
		ch->on_lane = 1;
		break;
	case PROBE_LANE:
		return probe_choose(ch, per_block);
	case PROBE_DONE:
		break;
	}
	return RA_OK;
}

/* A finished block to the sink stage: queued on the lane, or run now.
 * The sink's first failure so far, if any. */
static ra_status deliver(chain *ch, float *done, size_t frames)
{
	ra_status st;

	if (!ch->on_lane) {
		st = sink_block(ch, done, frames, RA_OK);
	} else if (!ra_lane_try_post(ch->lane, sink_block, ch, done, frames, &st)) {
		/* Rather than wait for room, the step's tasks no worker took. */
		ra_processor_help(ch->proc);
		caller_lap(ch, IN_PROCESSOR);
		st = ra_lane_post(ch->lane, sink_block, ch, done, frames);
	}
	st = sink_failed(ch, st);
	caller_lap(ch, ch->on_lane ? AT_LANE : IN_STAGE);
	if (ch->probe.phase != PROBE_DONE) {
		ra_status probed = probe_step(ch);

		st = st != RA_OK ? st : probed;
	}
	return st;
}

/* At a pass's end, with the sink stage idle: its times and the rows'
 * into the job's stats. The rows' time adds to the write stage's total,
 * not to its blocks. */
static void settle_times(chain *ch)
{
	ra_job_perf *perf = ch->cfg->perf;
	ra_lane_stats now;

	if (!perf)
		return;
	for (int i = 0; i < RA_STAGE_COUNT; i++) {
		ra_histogram_merge(&perf->stage[i], &ch->sink_time[i]);
		ra_histogram_init(&ch->sink_time[i]);
	}
	perf->stage[RA_STAGE_WRITE].total_ns += ch->rows_ns;
	perf->caller_stage_ns += ch->rows_ns;
	ch->rows_ns = 0;
	if (!ch->lane)
		return;
	ra_lane_get_stats(ch->lane, &now);
	perf->lane_blocks += now.items - ch->lane_start.items;
	perf->lane_ns += now.busy_ns - ch->lane_start.busy_ns;
}

/* After a pass: wait for the sink stage to finish what it was given. Its
 * failure comes first (it is earlier in the stream than any the job met
 * since); else ST. */
static ra_status sink_wait(chain *ch, ra_status st)
{
	ra_status sink_st = ch->on_lane ? sink_failed(ch, ra_lane_wait(ch->lane)) : RA_OK;

	caller_lap(ch, AT_LANE);
	settle_times(ch);
	return sink_st != RA_OK ? sink_st : st;
}

/* Hand a filled block to the processor and deliver whatever comes back. */
static ra_status feed(chain *ch, float *blk, size_t frames)
{
	size_t done_frames;
	float *done;
	ra_status st;

	if (frames == 0) {
		ra_processor_release(ch->proc, blk);
		return RA_OK;
	}
	st = ra_processor_push(ch->proc, blk, frames, &done, &done_frames);
	ch->pushed++;
	write_rows(ch);
	caller_lap(ch, IN_PROCESSOR);
	if (st != RA_OK)
		ra_processor_release(ch->proc, done);
	else if (done)
		st = deliver(ch, done, done_frames);
	return st;
}

/* Progress for a pass that writes the output. */
static void report_progress(chain *ch, const sink *to)
{
	if (ch->cfg->progress && to->kind == SINK_WRITE)
		ch->cfg->progress(ch->cfg->progress_ctx, ch->res->frames_read,
				  ch->src->info.frames);
}

/* The float chain's blocks, read until the input ends, into the processor
 * and whatever it finishes into the sink. *ABANDON: cancelled or out of
 * memory, with nothing more to take from the chain. */
static ra_status pump_blocks(chain *ch, const sink *to, int *abandon)
{
	ra_job_result *res = ch->res;
	ra_status st = RA_OK;

	lap(ch, RA_STAGE_OPEN);
	for (;;) {
		size_t got = 0;
		float *blk;

		*abandon = 1;
		if (cancelled(ch))
			return RA_ERR_CANCELLED;
		blk = ra_processor_acquire(ch->proc);
		if (!blk)
			return RA_ERR_NOMEM;
		*abandon = 0;
		st = read_float(ch, blk, &got);
		if (st == RA_OK)
			st = screen_float(ch, blk, got);
		lap(ch, RA_STAGE_READ);
		if (st != RA_OK || got == 0) {
			ra_processor_release(ch->proc, blk);
			return st;
		}
		res->frames_read += (int64_t)got;
		st = feed(ch, blk, got);
		if (st != RA_OK || res->decode_stopped)
			return st;
		report_progress(ch, to);
	}
}

/* What the resampler has ready, a block at a time, into the processor;
 * *ABANDON as for pump_blocks(). */
static ra_status emit_resampled(chain *ch, int *abandon)
{
	for (;;) {
		float *blk = ra_processor_acquire(ch->proc);
		size_t made;
		ra_status st;

		*abandon = !blk;
		if (!blk)
			return RA_ERR_NOMEM;
		made = ra_resampler_read(ch->rs, blk, ch->cap);
		lap(ch, RA_STAGE_RESAMPLE);
		st = feed(ch, blk, made);
		if (st != RA_OK || made == 0)
			return st;
	}
}

/* A chunk is full, or the input ended: the resampler's run before (whose
 * output has gone on) is waited for, this one started (on the workers,
 * where it converts while this thread reads the next chunk), and the
 * output of the run before goes on into the processor. */
static ra_status convert_chunk(chain *ch, const float *chunk, size_t frames, int *abandon)
{
	ra_status st = ra_resampler_wait(ch->rs);

	if (st == RA_OK)
		st = ra_resampler_submit(ch->rs, chunk, frames);
	lap(ch, RA_STAGE_RESAMPLE);
	return st == RA_OK ? emit_resampled(ch, abandon) : st;
}

/* The same with a rate change: blocks read into one half of a double
 * chunk of the resampler's size while it converts the other. */
static ra_status pump_resampled(chain *ch, const sink *to, int *abandon)
{
	const size_t channels = (size_t)ch->plan->channels, block = ch->plan->block_frames;
	ra_job_result *res = ch->res;
	size_t fill = 0, half = 0;

	lap(ch, RA_STAGE_OPEN);
	for (;;) {
		float *chunk = ch->decoded + half * ch->chunk * channels;
		size_t got = 0;
		ra_status st;

		*abandon = cancelled(ch);
		if (*abandon)
			return RA_ERR_CANCELLED;
		st = read_float(ch, chunk + fill * channels, &got);
		if (st == RA_OK)
			st = screen_float(ch, chunk + fill * channels, got);
		lap(ch, RA_STAGE_READ);
		if (st != RA_OK)
			return st;
		res->frames_read += (int64_t)got;
		fill += got;
		if (fill > 0 && (got == 0 || res->decode_stopped || fill + block > ch->chunk)) {
			st = convert_chunk(ch, chunk, fill, abandon);
			if (st != RA_OK)
				return st;
			half = !half;
			fill = 0;
		}
		if (got == 0 || res->decode_stopped)
			return RA_OK;
		report_progress(ch, to);
	}
}

/* The input has ended: the last run's output, and then what the
 * resampler still holds, into the processor; *ABANDON as for
 * pump_blocks(). */
static ra_status drain_resampler(chain *ch, int *abandon)
{
	ra_status st;

	restart_clock(ch);
	st = ra_resampler_wait(ch->rs);
	if (st == RA_OK)
		st = emit_resampled(ch, abandon);
	if (st == RA_OK)
		st = ra_resampler_flush(ch->rs);
	lap(ch, RA_STAGE_RESAMPLE);
	return st == RA_OK ? emit_resampled(ch, abandon) : st;
}

/* The blocks still in the processor, into the sink while ST is RA_OK
 * (after a failure only taken back); ST or the processor's failure. */
static ra_status drain_processor(chain *ch, ra_status st)
{
	for (;;) {
		size_t done_frames;
		float *done;
		ra_status pst = ra_processor_pull(ch->proc, &done, &done_frames);

		write_rows(ch);
		caller_lap(ch, IN_PROCESSOR);
		if (pst != RA_OK || !done)
			return st == RA_OK ? pst : st;
		if (st == RA_OK)
			st = deliver(ch, done, done_frames);
		else
			ra_processor_release(ch->proc, done);
	}
}

/* One pass of the float chain: source -> [resample] -> processor -> sink
 * stage, which has finished everything it was given on return. */
static ra_status pump_float(chain *ch, const sink *to)
{
	int abandon = 0;
	ra_status st = ch->rs ? pump_resampled(ch, to, &abandon) : pump_blocks(ch, to, &abandon);

	if (st == RA_OK && ch->rs)
		st = drain_resampler(ch, &abandon);
	if (!abandon)
		st = drain_processor(ch, st);
	return sink_wait(ch, st);
}

/* An exact copy's samples are both the input and the output: the taps get
 * them as float (and 0 for what is not finite), on this thread, which
 * feeds the output tap a batch at a time (ra_welch_batch_frames()) and
 * writes each batch's rows before the next is made. */
static ra_status tap_copy(chain *ch, size_t frames)
{
	const size_t channels = (size_t)ch->plan->channels, samples = frames * channels;
	const size_t batch = ra_welch_batch_frames(ch->tap_out);
	ra_status st = RA_OK;

	if (ch->plan->route == RA_JOB_ROUTE_COPY_INT)
		ra_samples_from_int(ch->ints, ch->tapped, samples);
	else
		for (size_t i = 0; i < samples; i++)
			ch->tapped[i] = isfinite(ch->doubles[i]) ? (float)ch->doubles[i] : 0.0f;
	if (ch->tap_in)
		ra_welch_feed(ch->tap_in, ch->tapped, frames);
	for (size_t at = 0, n; st == RA_OK && ch->tap_out && at < frames; at += n) {
		n = frames - at < batch ? frames - at : batch;
		ra_welch_feed(ch->tap_out, ch->tapped + at * channels, n);
		st = ra_welch_publish_rows(ch->tap_out);
		write_rows(ch);
	}
	return st;
}

/* An exact copy's block of FRAMES frames into WR. */
static ra_status write_copy(chain *ch, ra_writer *wr, size_t frames)
{
	if (ch->plan->route == RA_JOB_ROUTE_COPY_INT)
		return ra_writer_write_int(wr, ch->ints, frames, &ch->res->diag);
	return ra_writer_write_double(wr, ch->doubles, frames, &ch->res->diag);
}

/* Exact copies, when nothing is done to the samples. */
static ra_status copy_blocks(chain *ch, ra_writer *wr)
{
	const ra_job_route r = ch->plan->route;
	ra_job_result *res = ch->res;

	lap(ch, RA_STAGE_OPEN);
	for (;;) {
		size_t got = 0;
		ra_status st;

		if (cancelled(ch))
			return RA_ERR_CANCELLED;
		if (r == RA_JOB_ROUTE_COPY_INT)
			st = ra_reader_read_int(ch->src->reader, ch->ints, ch->plan->block_frames,
						&got, &res->diag);
		else
			st = ra_reader_read_double(ch->src->reader, ch->doubles,
						   ch->plan->block_frames, &got, &res->diag);
		st = tolerate_damage(ch, st, got);
		if (st == RA_OK && r == RA_JOB_ROUTE_COPY_DOUBLE)
			st = screen_double(ch, ch->doubles, got);
		lap(ch, RA_STAGE_READ);
		if (st != RA_OK || got == 0)
			return st;
		res->frames_read += (int64_t)got;
		if (ch->tap_in || ch->tap_out) {
			st = tap_copy(ch, got);
			lap(ch, RA_STAGE_SPECTRUM);
		}
		if (st == RA_OK)
			st = write_copy(ch, wr, got);
		lap(ch, RA_STAGE_WRITE);
		if (st != RA_OK)
			return st;
		res->frames_written += (int64_t)got;
		if (res->decode_stopped)
			return RA_OK;
		if (ch->cfg->progress)
			ch->cfg->progress(ch->cfg->progress_ctx, res->frames_read,
					  ch->src->info.frames);
	}
}

static ra_status pump_copy(chain *ch, ra_writer *wr)
{
	ra_status st = copy_blocks(ch, wr);

	settle_times(ch);
	return st;
}

/* Whether the float route reads 16-bit integers, where the reader reads
 * them whole, rather than left-justified ones: a copy less in libsndfile.
 * The reference pipeline reads as it always has. */
static int reads_shorts(const chain *ch)
{
	return ch->plan->in_bits && ch->src->reader && !ch->cfg->reference &&
	       ra_reader_reads_shorts(ch->src->reader);
}

/* The float route's scratch, made on its first pass, when the capacity is
 * known: integer reads of a block (16-bit where they can be), the sink
 * stage's integer output of up to cap frames, and a block as decoded (for
 * refuse_nonfinite()), or with a rate change two chunks (one read while
 * the resampler converts the other). */
static ra_status float_buffers(chain *ch)
{
	const size_t block = ch->plan->block_frames, channels = (size_t)ch->plan->channels;

	if (ch->decoded)
		return RA_OK;
	if (reads_shorts(ch)) {
		ch->shorts = malloc(block * channels * sizeof(*ch->shorts));
		if (!ch->shorts)
			return RA_ERR_NOMEM;
	} else if (ch->plan->in_bits) {
		ch->ints = malloc(block * channels * sizeof(*ch->ints));
		if (!ch->ints)
			return RA_ERR_NOMEM;
	}
	if (ch->plan->out_bits) {
		ch->out_pcm = malloc(ch->cap * channels * sizeof(int32_t));
		if (!ch->out_pcm)
			return RA_ERR_NOMEM;
	}
	ch->decoded = malloc((ch->rs ? 2 : 1) * ch->chunk * channels * sizeof(*ch->decoded));
	return ch->decoded ? RA_OK : RA_ERR_NOMEM;
}

/* Whether the output's encoder takes the workers (FLAC's segments, see
 * flac.h): then the EQ runs on the caller beside it. Its tasks would
 * otherwise queue behind segments that take milliseconds each, and the
 * caller wait for them: a ten-minute FLAC through ten bands took 1.29 s
 * with the EQ on the workers, 0.95 s with it on the caller (ffmpeg,
 * one thread, 2.26 s). */
static int encodes_on_workers(const ra_job_plan *p)
{
	return (p->out_format & SF_FORMAT_TYPEMASK) == SF_FORMAT_FLAC;
}

/* Blocks queued for the sink stage: about LANE_FRAMES frames, so that the
 * stage, woken once half of them wait, does a sizeable piece of work a
 * wake-up, with memory bounded by the frames, not the block size. */
#define LANE_FRAMES 131072
static size_t lane_depth(size_t block_frames)
{
	size_t depth = LANE_FRAMES / block_frames;

	return depth < 2 ? 2 : depth > RA_LANE_DEPTH_MAX ? RA_LANE_DEPTH_MAX : depth;
}

/* The lane a pass of STREAM_FRAMES frames (0: not known) may use: none
 * without one, when told never, or when the stream ends before the probe
 * could choose it; then its queue's blocks are not even reserved (a
 * batch of short files would otherwise fault them in afresh for each). */
static ra_lane *pass_lane(const chain *ch, uint64_t stream_frames, size_t depth)
{
	const uint64_t probed =
		((PROBE_WARM_WINDOWS + 2 * PROBE_ROUNDS) * (uint64_t)probe_window(ch->cap) +
		 PROBE_ROUNDS * depth) *
		ch->cap;

	if (!ch->run_lane || ch->cfg->lane_use == RA_LANE_NEVER)
		return NULL;
	if (ch->cfg->lane_use == RA_LANE_AUTO && stream_frames > 0 && stream_frames < probed)
		return NULL;
	return ch->run_lane;
}

/* Input frames a call of the resampler: about RESAMPLE_CHUNK_FRAMES, fewer
 * when upsampling or for many channels, to bound the memory of its input
 * and output; whole blocks, at least one. Each call costs two wake-ups (a
 * worker's for the run, this thread's for its end) during which no channel
 * converts; a mono 48 to 16 kHz run takes about 2 ms for this many frames,
 * and with 64 Ki frames its two threads were no faster than one. */
#define RESAMPLE_CHUNK_FRAMES 262144
#define RESAMPLE_CHUNK_SAMPLES ((size_t)1 << 20)
static size_t resample_frames(const ra_job_plan *plan)
{
	size_t frames = RESAMPLE_CHUNK_SAMPLES / (size_t)plan->channels;

	if (frames > RESAMPLE_CHUNK_FRAMES)
		frames = RESAMPLE_CHUNK_FRAMES;
	if (plan->out_rate > plan->in_rate)
		frames = frames * (size_t)plan->in_rate / (size_t)plan->out_rate;
	return frames;
}

/* The same in whole blocks, at least one. */
static size_t resample_chunk(const ra_job_plan *plan)
{
	const size_t frames = resample_frames(plan);

	return frames > plan->block_frames ? frames / plan->block_frames * plan->block_frames
					   : plan->block_frames;
}

/* A mono stream's resampler cuts it in spans of half a chunk, so that a
 * run's two spans convert on two threads (resample.h); with more channels
 * the channels are the tasks already. The spans, and so the bytes, do not
 * depend on the block size or the threads. 10 minutes of mono 16-bit 48 to
 * 16 kHz, 15 paired rounds: two threads 0.069 s against one 0.104 s, where
 * uncut they took 0.090 s. */
static size_t resample_span(const ra_job_plan *plan)
{
	return plan->channels == 1 ? resample_frames(plan) / 2 : 0;
}

/* The pass's resampler, its channels on the job's workers. */
static ra_status resampler_start(chain *ch)
{
	const ra_job_config *cfg = ch->cfg;
	ra_resample_config rc = {
		.channels = ch->plan->channels,
		.in_rate = ch->plan->in_rate,
		.out_rate = ch->plan->out_rate,
		.engine = cfg->resampler,
		.quality = cfg->quality,
		.max_in_frames = resample_chunk(ch->plan),
		.workers = pool_of(ch),
		.span_frames = resample_span(ch->plan),
	};
	ra_status st;

	ch->chunk = rc.max_in_frames;
	ch->rs = ra_resampler_create(&rc, &st, &ch->res->diag);
	if (!ch->rs)
		ra_diag_set(&ch->res->diag, "cannot resample %d Hz to %d Hz: %s", ch->plan->in_rate,
			    ch->plan->out_rate, ra_strerror(st));
	return st;
}

/* The resampler and processor for one pass into TO, at gain GAIN. */
static ra_status chain_start(chain *ch, const sink *to, float gain)
{
	const ra_job_config *cfg = ch->cfg;
	ra_processor_config pc = { 0 };
	ra_status st = RA_OK;
	size_t depth;

	ch->pushed = ch->emitted = 0;
	ch->held_head = ch->held_len = 0;
	ch->to = to;
	ch->cap = cfg->block_frames;
	ch->chunk = cfg->block_frames;
	if (ch->plan->out_rate != ch->plan->in_rate) {
		st = resampler_start(ch);
		if (st != RA_OK)
			return st;
	}
	st = float_buffers(ch);
	if (st != RA_OK)
		return st;
	pc.channels = ch->plan->channels;
	pc.max_frames = ch->cap;
	pc.bands = ch->plan->bands;
	pc.band_count = ch->plan->band_count;
	pc.gain = gain;
	pc.workers = encodes_on_workers(ch->plan) ? NULL : cfg->workers;
	pc.reference = cfg->reference;
	if (ch->src->info.frames > 0 && ch->src->info.frames < INT64_MAX / ch->plan->out_rate)
		pc.stream_frames = (uint64_t)ch->src->info.frames * (uint64_t)ch->plan->out_rate /
				   (uint64_t)ch->plan->in_rate;
	depth = lane_depth(ch->cap);
	ch->lane = pass_lane(ch, pc.stream_frames, depth);
	if (ch->lane) {
		/* The lane holds its queue and the block it runs. */
		ra_lane_set_depth(ch->lane, depth);
		pc.held_blocks = depth + 1;
	}
	if (cfg->perf) {
		pc.eq_time = &cfg->perf->stage[RA_STAGE_EQ];
		pc.spectrum_time = &cfg->perf->stage[RA_STAGE_SPECTRUM];
	}
	if (to->taps) {
		pc.tap_in = ch->tap_in;
		pc.tap_out = ch->tap_out;
		pc.rows_ready = write_rows;
		pc.rows_ctx = ch;
	}
	ch->proc = ra_processor_create(&pc, &st, NULL);
	probe_start(ch, depth);
	return st;
}

static void chain_stop(chain *ch)
{
	ra_job_perf *perf = ch->cfg->perf;

	if (perf && ch->proc) {
		ra_processor_stats ps;

		ra_processor_get_stats(ch->proc, &ps);
		perf->pool_acquires += ps.blocks.acquires + ps.work.acquires;
		perf->pool_hits += ps.blocks.hits + ps.work.hits;
		perf->pool_misses += ps.blocks.misses + ps.work.misses;
	}
	ra_processor_destroy(ch->proc);
	ra_resampler_destroy(ch->rs);
	ch->proc = NULL;
	ch->rs = NULL;
}

/* Back to the first frame for a second pass. */
static ra_status source_rewind(source *src, ra_diag *diag)
{
	if (src->reader)
		return ra_reader_rewind(src->reader, diag);
	ra_generator_destroy(src->gen);
	src->gen = ra_generator_create(&src->gen_config, NULL, diag);
	return src->gen ? RA_OK : RA_ERR_NOMEM;
}

static ra_status measure_start(chain *ch)
{
	ra_status st;

	ch->levels = ra_levels_create(ch->plan->channels, &st, NULL);
	return st;
}

static void measure_stop(chain *ch)
{
	ra_levels_destroy(ch->levels);
	ra_loudness_destroy(ch->loud);
	ch->levels = NULL;
	ch->loud = NULL;
}

/* Decibels of an amplitude; NaN stays NaN (pass mode), not -inf. */
static double db_of(double x)
{
	return x > 0.0 || isnan(x) ? 20.0 * log10(x) : -INFINITY;
}

/* The loudness meter of the measuring pass: the output's shape, the
 * input's channel layout. */
static ra_status loudness_start(chain *ch)
{
	ra_loudness_config lc = { ch->plan->channels, ch->plan->out_rate,
				  ch->src->reader ? ra_reader_channel_map(ch->src->reader) : NULL,
				  pool_of(ch), ch->cfg->keep_loudness };
	ra_status st;

	ch->loud = ra_loudness_create(&lc, &st, &ch->res->diag);
	return st;
}

/* The meter's figures into the result, each channel's true peak into
 * CHANNEL_DBTP when not NULL. */
static ra_status loudness_finish(chain *ch, double *channel_dbtp)
{
	ra_status st = ra_loudness_finish(ch->loud, &ch->res->loudness, channel_dbtp);

	if (st != RA_OK) {
		ra_diag_set(&ch->res->diag, "cannot measure the true peak: %s",
			    st == RA_ERR_NOMEM ? "out of memory" : "the oversampling failed");
		return st;
	}
	ch->res->has_loudness = 1;
	return RA_OK;
}

/* The plan run at GAIN into a measuring sink (for --normalize or
 * --loudness, which WHAT names), then back to the input's first frame for
 * the writing pass. */
static ra_status measuring_pass(chain *ch, float gain, const char *what)
{
	const sink measure = { SINK_MEASURE, NULL, 0 };
	ra_job_result *res = ch->res;
	ra_status st = chain_start(ch, &measure, gain);

	if (st == RA_OK)
		st = pump_float(ch, &measure);
	chain_stop(ch);
	if (st == RA_OK && ra_levels_nonfinite(ch->levels) > 0) {
		ra_diag_set(&res->diag, "cannot %s: %llu samples are not finite", what,
			    (unsigned long long)ra_levels_nonfinite(ch->levels));
		st = RA_ERR_NONFINITE;
	}
	if (st == RA_OK)
		st = source_rewind(ch->src, &res->diag);
	res->frames_read = 0;
	res->nonfinite = 0;
	res->decode_stopped = 0;
	return st;
}

/* --normalize: the processed peak; *GAIN scaled to put it at the target. */
static ra_status measure_gain(chain *ch, float *gain)
{
	ra_job_result *res = ch->res;
	double peak = 0.0;
	ra_status st = measure_start(ch);

	if (st == RA_OK)
		st = measuring_pass(ch, *gain, "normalize");
	for (int c = 0; st == RA_OK && c < ch->plan->channels; c++) {
		ra_level lv;

		ra_levels_get(ch->levels, c, &lv);
		peak = fmax(peak, lv.peak);
	}
	measure_stop(ch);
	if (st != RA_OK)
		return st;
	res->peak_dbfs = db_of(peak);
	if (peak > 0.0) {
		res->normalize_gain_db = ch->cfg->normalize_dbfs - res->peak_dbfs;
		*gain = (float)((double)*gain * ra_gain_from_db(res->normalize_gain_db));
	}
	return RA_OK;
}

/* --loudness: the processed loudness and true peak; *GAIN scaled to put
 * the loudness at the target, or as near as the true-peak ceiling lets
 * it. Silence (nothing above the gates) keeps *GAIN. */
static ra_status measure_loudness(chain *ch, float *gain)
{
	const ra_job_config *cfg = ch->cfg;
	ra_job_result *res = ch->res;
	ra_status st = measure_start(ch);
	double db;

	if (st == RA_OK)
		st = loudness_start(ch);
	if (st == RA_OK)
		st = measuring_pass(ch, *gain, "measure loudness");
	if (st == RA_OK)
		st = loudness_finish(ch, NULL);
	measure_stop(ch);
	if (st != RA_OK)
		return st;
	db = ra_loudness_gain(res->loudness.integrated_lufs, res->loudness.true_peak_dbtp,
			      cfg->loudness_lufs, cfg->true_peak_dbtp, &res->loudness_short_lu);
	res->loudness_gain_db = db;
	*gain = (float)((double)*gain * ra_gain_from_db(db));
	return RA_OK;
}

/* The analysers' settings, from the plan's spectrum request; with more
 * than one thread, four parts a thread asked (at most RA_WELCH_MAX_PARTS
 * are made), each fed as a task by the processor, so that a worker that
 * waits for a core (behind the job's own reading, say) holds back a small
 * task, not half the work. */
static ra_welch_config welch_config(const chain *ch)
{
	const ra_job_plan *p = ch->plan;
	const ra_spectrum_request *req = &p->spectrum;
	ra_workers *workers = pool_of(ch);
	const int threads = workers ? ra_workers_threads(workers) : 1;

	return (ra_welch_config){ .channels = p->channels,
				  .sample_rate = p->out_rate,
				  .fft_size = req->fft_size,
				  .window = req->window,
				  .overlap = req->overlap,
				  .mix = req->mix,
				  .measure = req->measure,
				  .parts = threads > 1 ? 4 * threads : 1 };
}

/* The analysers the plan asks for, and the spectrogram they feed. */
static ra_status taps_start(chain *ch)
{
	const ra_spectrum_request *req = &ch->plan->spectrum;
	ra_welch_config wc = welch_config(ch);
	ra_status st = RA_OK;

	if (ch->plan->tap_in)
		ch->tap_in = ra_welch_create(&wc, &st, &ch->res->diag);
	if (st == RA_OK && ch->plan->tap_out)
		ch->tap_out = ra_welch_create(&wc, &st, &ch->res->diag);
	if (st == RA_OK && req->spectrogram_path) {
		ra_spectrogram_layout layout = { .sample_rate = ch->plan->out_rate,
						 .fft_size = req->fft_size,
						 .bins = ra_welch_bins(ch->tap_out),
						 .channels = ra_welch_channels(ch->tap_out),
						 .long_format = req->spectrogram_long,
						 .columns = req->spectrogram_bins };

		ch->sgram = ra_spectrogram_open(req->spectrogram_path, ch->cfg->force, &layout, &st,
						&ch->res->diag);
		if (st == RA_OK)
			st = ra_welch_keep_rows(ch->tap_out, req->scale);
	}
	return st;
}

/* What the chain was designed to do, at each of BINS bins: the gain and
 * the EQ's response, dB. */
static void target_response(const chain *ch, float gain, double *target, size_t bins)
{
	const ra_job_plan *p = ch->plan;

	for (size_t k = 0; k < bins; k++)
		target[k] =
			20.0 * log10((double)gain) +
			ra_eq_response_db(p->bands, p->band_count,
					  (double)k * p->out_rate / (double)p->spectrum.fft_size,
					  p->out_rate);
}

/* REP into the CSV and the plot, and the spectrogram finished: each
 * written and synced into CH->reports, not yet in place. */
static ra_status hold_reports(chain *ch, const ra_report *rep)
{
	const ra_spectrum_request *req = &ch->plan->spectrum;
	ra_diag *diag = &ch->res->diag;
	ra_status st = RA_OK;

	if (req->csv_path)
		st = ra_report_write_csv(rep, req->csv_path, ch->cfg->force,
					 &ch->reports[ch->reports_ready], diag);
	ch->reports_ready += req->csv_path && st == RA_OK;
	if (st == RA_OK && req->svg_path) {
		st = ra_report_write_svg(rep, req->svg_path, ch->cfg->force,
					 &ch->reports[ch->reports_ready], diag);
		ch->reports_ready += st == RA_OK;
	}
	if (st == RA_OK && ch->sgram) {
		st = ra_spectrogram_commit(ch->sgram, &ch->reports[ch->reports_ready], diag);
		ch->sgram = NULL;
		ch->reports_ready += st == RA_OK;
	}
	return st;
}

/* The spectra at the end of the pass, into the CSV and the plot, finished
 * into CH->reports. Written before the audio is committed, so that a file
 * shorter than one segment fails as a whole. */
static ra_status write_reports(chain *ch, float gain, const char *out_path)
{
	const ra_spectrum_request *req = &ch->plan->spectrum;
	ra_welch *out_tap = req->of_output ? ch->tap_out : NULL;
	ra_welch *any = out_tap ? out_tap : ch->tap_in;
	size_t bins = ra_welch_bins(any);
	int channels = ra_welch_channels(any);
	double *in_db = NULL, *out_db = NULL, *target = NULL;
	ra_report_side in_side, out_side;
	ra_diag *diag = &ch->res->diag;
	ra_report rep = { 0 };
	ra_status st = RA_ERR_NOMEM;

	in_db = ch->tap_in ? malloc(bins * (size_t)channels * sizeof(*in_db)) : NULL;
	out_db = out_tap ? malloc(bins * (size_t)channels * sizeof(*out_db)) : NULL;
	target = malloc(bins * sizeof(*target));
	if ((ch->tap_in && !in_db) || (out_tap && !out_db) || !target)
		goto out;
	st = RA_OK;
	if (ch->tap_in)
		st = ra_welch_result(ch->tap_in, req->scale, in_db, diag);
	if (st == RA_OK && out_tap)
		st = ra_welch_result(out_tap, req->scale, out_db, diag);
	if (st != RA_OK)
		goto out;
	target_response(ch, gain, target, bins);
	in_side =
		(ra_report_side){ in_db, channels, ch->tap_in ? ra_welch_segments(ch->tap_in) : 0 };
	out_side = (ra_report_side){ out_db, channels, out_tap ? ra_welch_segments(out_tap) : 0 };
	rep.input_path = ch->src->reader ? ch->src->name : out_path;
	rep.sample_rate = ch->plan->out_rate;
	rep.fft_size = req->fft_size;
	rep.bins = bins;
	rep.window = req->window;
	rep.overlap = req->overlap;
	rep.scale = req->scale;
	rep.enbw_hz = ra_welch_enbw_hz(any);
	rep.mix = req->mix;
	rep.in = ch->tap_in ? &in_side : NULL;
	rep.out = out_tap ? &out_side : NULL;
	rep.target_db = target;
	st = hold_reports(ch, &rep);
out:
	free(in_db);
	free(out_db);
	free(target);
	return st;
}

/* After the audio (ST: whether it is in place): the reports in place too,
 * or removed. A report that cannot be moved into place fails the job,
 * though its audio is already there. */
static ra_status publish_reports(chain *ch, ra_status st)
{
	for (int k = 0; k < ch->reports_ready; k++) {
		if (st == RA_OK)
			st = ra_atomic_publish(&ch->reports[k], &ch->res->diag);
		else
			ra_atomic_abort(&ch->reports[k]);
	}
	ch->reports_ready = 0;
	return st;
}

/* Channel C's --analyze summary from the measuring pass's sums and the
 * output's power spectrum PSD (BINS bins a channel), NULL when there is
 * none. */
static void summarize(const chain *ch, int c, const double *psd, size_t bins,
		      ra_channel_summary *sum)
{
	const uint64_t analysed = ra_levels_frames(ch->levels);
	const double frames = analysed > 0 ? (double)analysed : 1.0;
	double rms, power = 0.0, moment = 0.0, best = 0.0;
	ra_level lv;

	ra_levels_get(ch->levels, c, &lv);
	rms = sqrt(lv.sum_squares / frames);
	sum->peak_dbfs = db_of(lv.peak);
	sum->rms_dbfs = db_of(rms);
	sum->dc_offset = lv.sum / frames;
	sum->crest_db = sum->peak_dbfs - sum->rms_dbfs;
	sum->clipped = lv.clipped;
	sum->peak_hz = sum->centroid_hz = NAN;
	for (size_t k = 1; psd && k < bins; k++) {
		double p = pow(10.0, psd[(size_t)c * bins + k] / 10.0);
		double hz = (double)k * ch->plan->out_rate / (double)ch->plan->spectrum.fft_size;

		power += p;
		moment += p * hz;
		if (p > best) {
			best = p;
			sum->peak_hz = hz;
		}
	}
	if (power > 0.0)
		sum->centroid_hz = moment / power;
}

/* A stream of fewer frames is measured whole: its shares would be a few
 * groups each, and a worker's wake-up a good part of one. */
#define SHARES_MIN_FRAMES (16 * RA_PHASE_FRAMES)

/* Whether --analyze's pass may go in shares (shares.h) on the job's
 * threads: not for a stream that changes on the way (the plan does
 * something to it, or a loudness meter takes it in order), nor for one
 * that is short or not uncompressed samples in a file, which seek cheaply
 * by frame (a pipe's length is not known). */
static int may_share(const chain *ch)
{
	const ra_job_plan *p = ch->plan;
	const ra_workers *workers = pool_of(ch);

	return ch->src->reader && !p->processing && !ch->loud && p->route == RA_JOB_ROUTE_FLOAT &&
	       p->in_frames >= SHARES_MIN_FRAMES &&
	       (p->in_format & SF_FORMAT_TYPEMASK) != SF_FORMAT_FLAC &&
	       (ra_format_pcm_bits(p->in_format) || ra_format_is_float(p->in_format)) && workers &&
	       ra_workers_threads(workers) > 1;
}

/* --analyze's analyser as ch->tap_out (when the plan has one) and the
 * shares its pass goes in: RA_PHASES or fewer, as the analyser's parts in
 * time allow (ra_welch_shares()); 0 for the whole stream, with the
 * analyser split as for any pass. */
static ra_status analysis_start(chain *ch, ra_welch_config wc, int *shares)
{
	ra_status st = RA_OK;

	*shares = may_share(ch) ? RA_PHASES : 0;
	if (!ch->plan->tap_out)
		return RA_OK;
	if (*shares) {
		ra_welch_config in_time = wc;

		in_time.parts = RA_PHASES;
		in_time.in_time = 1;
		ch->tap_out = ra_welch_create(&in_time, &st, &ch->res->diag);
		*shares = ra_welch_shares(ch->tap_out);
		if (*shares > 1)
			return RA_OK;
		*shares = 0;
		ra_welch_destroy(ch->tap_out);
	}
	ch->tap_out = ra_welch_create(&wc, &st, &ch->res->diag);
	return st;
}

/* --analyze's pass in SHARES shares; RA_OK with *DONE as for
 * ra_shares_measure(), the analyser reset and the input rewound when not
 * done. The job's thread's share is its time in stages, the rest is
 * waiting for the others. */
static ra_status analyze_in_shares(chain *ch, int shares, int *done)
{
	ra_job_perf *perf = ch->cfg->perf;
	ra_shares_config sc = { .reader = ch->src->reader,
				.frames = ch->plan->in_frames,
				.channels = ch->plan->channels,
				.in_bits = ch->plan->in_bits,
				.screen = ch->plan->screen,
				.shares = shares,
				.threads = ra_workers_threads(pool_of(ch)),
				.levels = ch->levels,
				.welch = ch->tap_out,
				.workers = pool_of(ch),
				.cancel = ch->cfg->cancel };
	ra_status st;

	lap(ch, RA_STAGE_OPEN);
	if (perf) {
		sc.time[0] = &perf->stage[RA_STAGE_READ];
		sc.time[1] = &perf->stage[RA_STAGE_LEVEL];
		sc.time[2] = &perf->stage[RA_STAGE_SPECTRUM];
	}
	st = ra_shares_measure(&sc, done);
	if (perf) {
		perf->caller_stage_ns += sc.caller_ns;
		ch->mark += sc.caller_ns;
		caller_lap(ch, IN_PROCESSOR);
	}
	if (st == RA_ERR_CANCELLED)
		ra_diag_set(&ch->res->diag, "interrupted");
	if (st != RA_OK)
		return st;
	if (*done) {
		ch->res->frames_read = ch->plan->in_frames;
		return RA_OK;
	}
	ra_welch_reset(ch->tap_out);
	return ra_reader_rewind(ch->src->reader, &ch->res->diag);
}

/* --analyze: the plan run into a measuring sink, the output tap riding
 * along when the input is long enough, in shares where it can; then the
 * summary. */
static ra_status analyze(chain *ch)
{
	const sink measure = { SINK_MEASURE, NULL, 1 };
	ra_welch_config wc = welch_config(ch);
	ra_job_result *res = ch->res;
	size_t bins;
	double *psd = NULL, *channel_dbtp = NULL;
	int have_spectrum, shares, done = 0;
	ra_status st = RA_ERR_NOMEM;

	wc.mix = 0; /* the summary is per channel */
	res->summary = calloc((size_t)ch->plan->channels, sizeof(*res->summary));
	channel_dbtp = calloc((size_t)ch->plan->channels, sizeof(*channel_dbtp));
	if (!res->summary || !channel_dbtp || measure_start(ch) != RA_OK)
		goto out;
	/* A shape that is not measured has no loudness in the summary, and
	 * the reason in the diag. */
	st = ch->cfg->no_loudness ? RA_OK : loudness_start(ch);
	if (st != RA_OK && st != RA_ERR_LIMITS)
		goto out;
	st = analysis_start(ch, wc, &shares);
	if (st == RA_OK && shares)
		st = analyze_in_shares(ch, shares, &done);
	if (st == RA_OK && !done) {
		st = chain_start(ch, &measure, ch->plan->gain);
		if (st == RA_OK)
			st = pump_float(ch, &measure);
	}
	if (st != RA_OK)
		goto out;
	bins = ra_welch_bins(ch->tap_out);
	st = RA_ERR_NOMEM;
	if (ch->tap_out) {
		psd = malloc(bins * (size_t)ch->plan->channels * sizeof(*psd));
		if (!psd)
			goto out;
	}
	have_spectrum = psd && ra_welch_result(ch->tap_out, RA_SCALE_PSD, psd, NULL) == RA_OK;
	if (ch->loud && (st = loudness_finish(ch, channel_dbtp)) != RA_OK)
		goto out;
	for (int c = 0; c < ch->plan->channels; c++) {
		summarize(ch, c, have_spectrum ? psd : NULL, bins, &res->summary[c]);
		res->summary[c].true_peak_dbtp = ch->loud ? channel_dbtp[c] : NAN;
	}
	if (ch->cfg->keep_loudness && ch->loud) {
		ra_loudness_shrink(ch->loud);
		res->loudness_state = ch->loud;
		ch->loud = NULL;
	}
	st = RA_OK;
out:
	free(psd);
	free(channel_dbtp);
	measure_stop(ch);
	return st;
}

void ra_job_result_release(ra_job_result *res)
{
	if (!res)
		return;
	free(res->summary);
	res->summary = NULL;
	ra_loudness_destroy(res->loudness_state);
	res->loudness_state = NULL;
}

/* ---------------------------------------------------------------- plan */

/* Whether the stream is known, from the input's header, to be shorter than
 * one FFT segment at the output rate: then there is no spectrum, and no
 * analyser (which may be large) is made for it. */
static int shorter_than_segment(const ra_job_plan *p)
{
	return p->out_frames >= 0 && (uint64_t)p->out_frames < p->spectrum.fft_size;
}

/* The config's own limits, the rates and the EQ, at the output rate. */
static ra_status plan_processing(ra_job_plan *p, const ra_job_config *cfg, const ra_audio_info *in,
				 ra_diag *diag)
{
	const int out_rate = cfg->out_rate ? cfg->out_rate : in->sample_rate;
	int band_count = 0;
	ra_status st;

	if (cfg->block_frames < 1 || cfg->block_frames > RA_MAX_BLOCK_FRAMES) {
		ra_diag_set(diag, "block size must be 1 to %d frames", RA_MAX_BLOCK_FRAMES);
		return RA_ERR_INVALID;
	}
	if (out_rate < 1 || out_rate > RA_MAX_SAMPLE_RATE) {
		ra_diag_set(diag, "unsupported output rate %d Hz", out_rate);
		return RA_ERR_INVALID;
	}
	if (cfg->eq && cfg->eq->count > 0) {
		st = ra_eq_design(cfg->eq, out_rate, p->bands, diag);
		if (st != RA_OK)
			return st;
		band_count = cfg->eq->count;
	}
	p->channels = in->channels;
	p->in_rate = in->sample_rate;
	p->in_format = in->format;
	p->in_frames = in->frames;
	p->block_frames = cfg->block_frames;
	p->out_rate = out_rate;
	p->out_frames =
		in->frames < 0 ? -1 : ra_resample_length(in->frames, in->sample_rate, out_rate);
	p->gain = (float)ra_gain_from_db(cfg->gain_db);
	p->band_count = band_count;
	p->processing = cfg->gain_db != 0.0 || out_rate != in->sample_rate || band_count > 0 ||
			cfg->normalize || cfg->loudness;
	p->route = RA_JOB_ROUTE_FLOAT;
	p->nonfinite_fails = cfg->nonfinite == RA_NONFINITE_ERROR ||
			     (cfg->nonfinite == RA_NONFINITE_PASS && out_rate != in->sample_rate);
	return RA_OK;
}

/* The output's format, the route there and the conversion at its end. */
static ra_status plan_output(ra_job_plan *p, const ra_job_config *cfg, const ra_audio_info *in,
			     int generated, const char *out_path, ra_diag *diag)
{
	ra_audio_info out = *in;
	ra_status st;

	out.sample_rate = p->out_rate;
	out.frames = p->out_frames;
	st = ra_format_choose(&out, out_path, cfg->format_major, cfg->format_subtype,
			      &p->out_format, &p->fell_back, diag);
	if (st != RA_OK)
		return st;
	p->out_bits = ra_format_pcm_bits(p->out_format);
	if (!p->processing && p->in_bits && p->out_bits >= p->in_bits && !generated)
		p->route = RA_JOB_ROUTE_COPY_INT;
	else if (!p->processing && (p->out_format & SF_FORMAT_SUBMASK) == SF_FORMAT_DOUBLE &&
		 !generated)
		p->route = RA_JOB_ROUTE_COPY_DOUBLE;
	if (p->route != RA_JOB_ROUTE_FLOAT)
		return RA_OK;
	p->convert = p->out_bits || !ra_format_is_float(p->out_format);
	if (p->out_bits && p->out_bits <= 24) {
		if (cfg->dither == RA_DITHER_MODE_AUTO)
			p->dither = p->processing || !p->in_bits || p->in_bits > p->out_bits;
		else
			p->dither = cfg->dither == RA_DITHER_MODE_TPDF;
	}
	return RA_OK;
}

/* The spectrum reports' taps; an input known to be too short for them is
 * refused. */
static ra_status plan_spectrum(ra_job_plan *p, const ra_spectrum_request *req, ra_diag *diag)
{
	p->spectrum = *req;
	if (shorter_than_segment(p)) {
		ra_diag_set(diag, "%lld frames is shorter than one fft segment (%zu frames)",
			    (long long)p->out_frames, req->fft_size);
		return RA_ERR_INVALID;
	}
	p->tap_in = req->of_input;
	p->tap_out = req->of_output || req->spectrogram_path;
	return RA_OK;
}

/* --analyze: no output, one measuring pass, the output's spectrum (with
 * the request's settings or the defaults) when the input is long enough. */
static void plan_analysis(ra_job_plan *p, const ra_spectrum_request *req)
{
	p->analyze = 1;
	if (req)
		p->spectrum = *req;
	else
		ra_spectrum_request_init(&p->spectrum);
	p->tap_out = !shorter_than_segment(p);
}

ra_status ra_job_plan_init(ra_job_plan *plan, const ra_job_config *cfg, const ra_audio_info *in,
			   int generated, const char *out_path, ra_diag *diag)
{
	ra_status st;

	memset(plan, 0, sizeof(*plan));
	st = plan_processing(plan, cfg, in, diag);
	if (st != RA_OK)
		return st;
	plan->in_bits = generated ? 0 : integer_bits(in->format);
	plan->screen = !generated && !plan->in_bits;
	if (cfg->analyze) {
		plan_analysis(plan, cfg->spectrum);
		return RA_OK;
	}
	plan->normalize = cfg->normalize;
	plan->loudness = cfg->loudness;
	st = plan_output(plan, cfg, in, generated, out_path, diag);
	if (st == RA_OK && cfg->spectrum)
		st = plan_spectrum(plan, cfg->spectrum, diag);
	return st;
}

/* ------------------------------------------------------------ executor */

/* The writing pass's chain into TO: for the float route the processor and
 * a converter unless the output takes floats as they are; for an exact
 * copy its buffers. */
static ra_status stream_start(chain *ch, const sink *to, float gain)
{
	const ra_job_plan *p = ch->plan;
	const size_t n = p->block_frames * (size_t)p->channels;
	ra_status st;

	if (p->route == RA_JOB_ROUTE_FLOAT) {
		st = chain_start(ch, to, gain);
		if (st == RA_OK && p->convert)
			ch->cv = ra_converter_create(p->channels, p->out_bits,
						     p->dither ? RA_DITHER_TPDF : RA_DITHER_NONE,
						     ch->cfg->dither_seed, &st, NULL);
		return st;
	}
	if (p->route == RA_JOB_ROUTE_COPY_INT)
		ch->ints = malloc(n * sizeof(*ch->ints));
	else
		ch->doubles = malloc(n * sizeof(*ch->doubles));
	if (p->tap_in || p->tap_out)
		ch->tapped = malloc(n * sizeof(*ch->tapped));
	if ((!ch->ints && !ch->doubles) || ((p->tap_in || p->tap_out) && !ch->tapped))
		return RA_ERR_NOMEM;
	return RA_OK;
}

/* The plan into OUT_PATH: the taps, --normalize's measuring pass, the
 * writing pass, the reports finished (held in CH->reports for
 * publish_reports()), the audio committed. */
static ra_status execute(chain *ch, const char *out_path)
{
	const ra_job_plan *p = ch->plan;
	ra_job_result *res = ch->res;
	sink to = { SINK_WRITE, NULL, 1 };
	ra_audio_info out = ch->src->info;
	float gain = p->gain;
	ra_status st = RA_OK;

	if (ch->cfg->spectrum)
		st = taps_start(ch);
	if (st == RA_OK && p->normalize)
		st = measure_gain(ch, &gain);
	if (st == RA_OK && p->loudness)
		st = measure_loudness(ch, &gain);
	if (st == RA_OK)
		st = stream_start(ch, &to, gain);
	if (st != RA_OK)
		return st;
	out.sample_rate = p->out_rate;
	out.frames = p->out_frames;
	out.format = p->out_format;
	/* An MP3's length is libsndfile's estimate: not one for a header that
	 * goes out before the end (standard output) to promise. */
	if (!strcmp(out_path, "-") && (p->in_format & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG)
		out.frames = -1;
	to.wr = ra_writer_open(out_path, &out, ch->cfg->force ? RA_WRITE_FORCE : 0, &st,
			       &res->diag);
	if (!to.wr)
		return st;
	/* 16-bit integers, where the writer takes them: a conversion less
	 * (not in the reference pipeline, which writes as it always has). */
	ch->shorts_out =
		ch->cv && p->out_bits == 16 && !ch->cfg->reference && ra_writer_takes_shorts(to.wr);
	ra_writer_set_workers(to.wr, pool_of(ch));
	ra_writer_set_cancel(to.wr, ch->cfg->cancel);
	if (ch->src->reader)
		ra_writer_copy_metadata(to.wr, ch->src->reader, (double)p->out_rate / p->in_rate);
	st = p->route == RA_JOB_ROUTE_FLOAT ? pump_float(ch, &to) : pump_copy(ch, to.wr);
	if (st == RA_OK && ch->cfg->spectrum)
		st = write_reports(ch, gain, out_path);
	if (st == RA_OK) {
		st = ra_writer_commit_with(to.wr, ch->cfg->finished, ch->cfg->finished_ctx,
					   &res->diag);
		to.wr = NULL;
	}
	ra_writer_abort(to.wr);
	return st;
}

/* What the plan decided, as far as it got, for the caller. */
static void record_plan(ra_job_result *res, const ra_job_plan *p)
{
	if (p->channels) {
		res->channels = p->channels;
		res->in_rate = p->in_rate;
		res->in_format = p->in_format;
		res->frames_claimed = p->in_frames;
	}
	res->out_format = p->out_format;
	res->fell_back = p->fell_back;
	res->dithered = p->dither;
}

static void record_clips(ra_job_result *res, const ra_converter *cv)
{
	if (!cv)
		return;
	res->clipped = ra_converter_clipped_total(cv);
	for (int c = 0; c < RA_JOB_CLIP_CHANNELS && c < res->channels; c++)
		res->clipped_ch[c] = ra_converter_clipped(cv, c);
}

static void chain_release(chain *ch)
{
	chain_stop(ch);
	ra_converter_destroy(ch->cv);
	free(ch->ints);
	free(ch->shorts);
	free(ch->out_pcm);
	free(ch->decoded);
	free(ch->tapped);
	free(ch->doubles);
	free(ch->held);
	ra_welch_destroy(ch->tap_in);
	ra_welch_destroy(ch->tap_out);
	ra_spectrogram_abort(ch->sgram);
}

/* Plan, then run the plan; the reports put in place after the audio. */
static ra_status run(const ra_job_config *cfg, source *src, const char *out_path,
		     ra_job_result *res)
{
	ra_job_plan plan;
	chain ch = { 0 };
	ra_status st;

	res->nonfinite_mode = cfg->nonfinite;
	st = ra_job_plan_init(&plan, cfg, &src->info, src->gen != NULL, out_path, &res->diag);
	record_plan(res, &plan);
	if (st != RA_OK)
		return st;
	ch.cfg = cfg;
	ch.plan = &plan;
	ch.src = src;
	ch.res = res;
	ch.mark = src->mark;
	/* In pass mode the job thread hands held samples to the sink: both
	 * stay on it. */
	if (cfg->lane && ra_lane_threaded(cfg->lane) && cfg->nonfinite != RA_NONFINITE_PASS)
		ch.run_lane = cfg->lane;
	st = plan.analyze ? analyze(&ch) : execute(&ch, out_path);
	st = publish_reports(&ch, st);
	if (st == RA_ERR_RESAMPLE || st == RA_ERR_NOMEM)
		if (!res->diag.text[0])
			ra_diag_set(&res->diag, "%s", ra_strerror(st));
	record_clips(res, ch.cv);
	chain_release(&ch);
	src->mark = ch.mark;
	return st;
}

/* With stats on, the job's clock starts: what comes before its first
 * block is the open stage's. */
static void job_clock_start(const ra_job_config *cfg, source *src)
{
	if (cfg->perf)
		src->mark = ra_now_ns();
}

/* The job is over: the time since its last pass ended is the close stage's. */
static void job_clock_close(const ra_job_config *cfg, const source *src)
{
	uint64_t ns;

	if (!cfg->perf)
		return;
	ns = ra_now_ns() - src->mark;
	ra_histogram_add(&cfg->perf->stage[RA_STAGE_CLOSE], ns);
	cfg->perf->caller_stage_ns += ns;
}

ra_status ra_job_run(const ra_job_config *cfg, const char *in_path, const char *out_path,
		     ra_job_result *res)
{
	source src = { 0 };
	ra_status st;

	memset(res, 0, sizeof(*res));
	res->frames_claimed = -1;
	if (out_path && ra_path_same_file(in_path, out_path)) {
		ra_diag_set(&res->diag, "output would overwrite the input");
		return RA_ERR_SAME_FILE;
	}
	if (cfg->spectrum) {
		const char *reports[] = { cfg->spectrum->csv_path, cfg->spectrum->svg_path,
					  cfg->spectrum->spectrogram_path };

		for (size_t i = 0; i < sizeof(reports) / sizeof(reports[0]); i++) {
			if (reports[i] && ra_path_same_file(in_path, reports[i])) {
				ra_diag_set(&res->diag, "report %s would overwrite the input",
					    reports[i]);
				return RA_ERR_SAME_FILE;
			}
		}
	}
	src.name = in_path;
	job_clock_start(cfg, &src);
	src.reader = ra_reader_open(in_path, cfg->spool ? RA_READ_SPOOL : 0, cfg->cancel, &st,
				    &res->diag);
	if (!src.reader)
		return st;
	src.info = *ra_reader_info(src.reader);
	st = run(cfg, &src, out_path, res);
	ra_reader_destroy(src.reader);
	job_clock_close(cfg, &src);
	return st;
}

ra_status ra_job_generate(const ra_job_config *cfg, const ra_generate_config *gen,
			  const char *out_path, ra_job_result *res)
{
	source src = { 0 };
	ra_status st;

	memset(res, 0, sizeof(*res));
	res->frames_claimed = -1;
	src.gen_config = *gen;
	job_clock_start(cfg, &src);
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
	job_clock_close(cfg, &src);
	return st;
}
