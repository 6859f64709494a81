/* Loudness through libebur128: one state for the gated measures over all
 * channels (BS.1770 sums the channels before gating). The true peak of
 * each channel: oversampled by libsoxr (through ra_resampler). Both are
 * fed chunk by chunk, as tasks when there are workers. */
#include <ebur128.h>
#include <math.h>
#include <pthread.h>
#include <sndfile.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rustyaudio/loudness.h"
#include "rustyaudio/resample.h"

#define CHUNK_SAMPLES (1u << 18)       /* interleaved samples a chunk holds */
#define MOMENTARY_BLOCKS 4	       /* 400 ms of 100 ms blocks */
#define SHORTTERM_BLOCKS 30	       /* 3 s */
#define PARTS_MAX (2 * RA_WORKERS_MAX) /* tasks for a chunk's true peaks, at most */
#define TASKS_MAX (PARTS_MAX + 1)      /* and its gated measure */

#define CHUNKS 3    /* in the ring: one filling, the others' measures on the workers */
#define PIECE 16384 /* frames of a channel oversampled at a time */

/* Interleaved frames: the SEQ-th chunk of the stream, and the ticket of
 * its true peaks' tasks. */
struct chunk {
	float *frames;
	size_t n;
	uint64_t seq, ticket;
};

/* The true peaks of channels [first, last), each through SCRATCH and the
 * oversampled stream through OVER; DONE counts the chunks they have taken,
 * ST says whether the oversampling failed. */
struct part {
	int first, last;
	float *scratch, *over;
	uint64_t done; /* under l->lock */
	ra_status st;
};

/* A task on chunk C: part P's true peaks, or with P NULL the gated
 * measure. */
struct job {
	ra_loudness *l;
	struct part *p;
	const struct chunk *c;
};

struct ra_loudness {
	int channels;
	ra_workers *workers;
	ebur128_state *gated; /* integrated, range, and 100 ms windows */
	ebur128_state *album; /* integrated alone, or NULL */
	/* The true peak, a channel each: the highest sample, and between the
	 * samples the highest of the stream oversampled FACTOR times (by
	 * OVERSAMPLER, NULL at a FACTOR of 1). */
	int factor;
	ra_resampler **oversampler;
	float *peak;
	size_t chunk_frames;
	struct chunk chunk[CHUNKS];
	int filling; /* the chunk the caller fills */
	uint64_t seq;
	struct part part[PARTS_MAX];
	int parts;
	struct job job[CHUNKS][TASKS_MAX];
	ra_task task[CHUNKS][TASKS_MAX]; /* the gated measure, then the parts */
	/* A part's chunks go in order, and so do the gated measure's: a task
	 * waits for the one before. */
	pthread_mutex_t lock;
	pthread_cond_t turn;
	uint64_t gated_done; /* chunks the gated measure has taken */
	/* The momentary and short-term maxima from the energies of the last
	 * 100 ms blocks, a ring: BLOCK frames a block, FED of the current. */
	size_t block, fed;
	double energy[SHORTTERM_BLOCKS];
	uint64_t blocks;
	double momentary_max, shortterm_max; /* mean energies */
};

/* BS.1770's energy of a loudness and back. */
static double energy_of(double lufs)
{
	return isinf(lufs) ? 0.0 : pow(10.0, (lufs + 0.691) / 10.0);
}

static double lufs_of(double energy)
{
	return energy > 0.0 ? -0.691 + 10.0 * log10(energy) : -HUGE_VAL;
}

/* The mean energy of the last COUNT blocks. */
static double mean_energy(const ra_loudness *l, int count)
{
	double sum = 0.0;

	for (int k = 0; k < count; k++)
		sum += l->energy[(l->blocks - 1 - (uint64_t)k) % SHORTTERM_BLOCKS];
	return sum / count;
}

/* A 100 ms block is complete: its energy, and the windows it ends. */
static void block_done(ra_loudness *l)
{
	double lufs;

	ebur128_loudness_window(l->gated, 100, &lufs);
	l->energy[l->blocks % SHORTTERM_BLOCKS] = energy_of(lufs);
	l->blocks++;
	if (l->blocks >= MOMENTARY_BLOCKS)
		l->momentary_max = fmax(l->momentary_max, mean_energy(l, MOMENTARY_BLOCKS));
	if (l->blocks >= SHORTTERM_BLOCKS)
		l->shortterm_max = fmax(l->shortterm_max, mean_energy(l, SHORTTERM_BLOCKS));
}

/* FRAMES into the gated state, in pieces that end on 100 ms. */
static void feed_gated(ra_loudness *l, const float *frames, size_t n)
{
	while (n > 0) {
		size_t take = l->block - l->fed;

		if (take > n)
			take = n;
		ebur128_add_frames_float(l->gated, frames, take);
		if (l->album)
			ebur128_add_frames_float(l->album, frames, take);
		frames += take * (size_t)l->channels;
		n -= take;
		l->fed += take;
		if (l->fed == l->block) {
			l->fed = 0;
			block_done(l);
		}
	}
}

/* The highest magnitude of the N samples at X: LANES running maxima side
 * by side, whose comparisons do not wait for each other. */
#define LANES 8
static float highest(const float *x, size_t n)
{
	float top[LANES] = { 0.0f }, t = 0.0f;
	size_t i = 0;

	for (; i + LANES <= n; i += LANES)
		for (int k = 0; k < LANES; k++)
			top[k] = fabsf(x[i + k]) > top[k] ? fabsf(x[i + k]) : top[k];
	for (; i < n; i++)
		t = fabsf(x[i]) > t ? fabsf(x[i]) : t;
	for (int k = 0; k < LANES; k++)
		t = top[k] > t ? top[k] : t;
	return t;
}

/* What channel K's oversampler has made, into its peak through P's
 * buffer. */
static void take_oversampled(ra_loudness *l, struct part *p, int k)
{
	size_t n;

	while ((n = ra_resampler_read(l->oversampler[k], p->over, PIECE * (size_t)l->factor)) > 0)
		l->peak[k] = fmaxf(l->peak[k], highest(p->over, n));
}

/* Channel K's N samples in P's scratch into its true peak. */
static void add_peak(ra_loudness *l, struct part *p, int k, size_t n)
{
	l->peak[k] = fmaxf(l->peak[k], highest(p->scratch, n));
	for (size_t at = 0; l->oversampler && at < n && p->st == RA_OK; at += PIECE) {
		p->st = ra_resampler_process(l->oversampler[k], p->scratch + at,
					     n - at < PIECE ? n - at : PIECE);
		take_oversampled(l, p, k);
	}
}

/* Wait until *DONE, a count of chunks taken, comes to chunk SEQ: the
 * task for the one before started before this one, as the pool starts
 * tasks in the order they came. */
static void wait_turn(ra_loudness *l, const uint64_t *done, uint64_t seq)
{
	pthread_mutex_lock(&l->lock);
	while (*done != seq)
		pthread_cond_wait(&l->turn, &l->lock);
	pthread_mutex_unlock(&l->lock);
}

/* One chunk more taken into *DONE: the next chunk's task may go on. */
static void end_turn(ra_loudness *l, uint64_t *done)
{
	pthread_mutex_lock(&l->lock);
	(*done)++;
	pthread_cond_broadcast(&l->turn);
	pthread_mutex_unlock(&l->lock);
}

/* A job: its part's channels of its chunk into their true peaks, after
 * the part's earlier chunks. */
static void run_job(void *arg, int worker)
{
	struct job *j = arg;
	struct part *p = j->p;
	ra_loudness *l = j->l;
	const size_t ch = (size_t)l->channels;

	(void)worker;
	wait_turn(l, &p->done, j->c->seq);
	for (int k = p->first; k < p->last; k++) {
		for (size_t i = 0; i < j->c->n; i++)
			p->scratch[i] = j->c->frames[i * ch + (size_t)k];
		add_peak(l, p, k, j->c->n);
	}
	end_turn(l, &p->done);
}

/* A gated job: its chunk into the gated states, after the earlier chunks. */
static void run_gated(void *arg, int worker)
{
	struct job *j = arg;
	ra_loudness *l = j->l;

	(void)worker;
	wait_turn(l, &l->gated_done, j->c->seq);
	feed_gated(l, j->c->frames, j->c->n);
	end_turn(l, &l->gated_done);
}

/* The full chunk's gated measure and true peaks out to their tasks (the
 * gated measure first, the longest: on 2 threads it took 38 % of
 * --analyze's CPU, the true peaks 30 %); then the next chunk of the ring
 * fills once its tasks are done. */
static void dispatch(ra_loudness *l)
{
	struct chunk *c = &l->chunk[l->filling];
	const int next = (l->filling + 1) % CHUNKS;

	c->seq = l->seq++;
	if (l->workers)
		c->ticket =
			ra_workers_submit(l->workers, l->task[l->filling], (size_t)l->parts + 1);
	else
		for (int k = 0; k <= l->parts; k++)
			l->task[l->filling][k].fn(l->task[l->filling][k].arg, 0);
	if (l->workers)
		ra_workers_wait_for(l->workers, l->chunk[next].ticket);
	l->chunk[next].n = 0;
	l->filling = next;
}

/* Every task handed out is done. */
static void wait_all(ra_loudness *l)
{
	for (int k = 0; l->workers && k < CHUNKS; k++)
		ra_workers_wait_for(l->workers, l->chunk[k].ticket);
}

/* The weight libebur128 gives channel C of MAP (COUNT channels). */
static int ebur128_channel(const int *map, int count, int c)
{
	static const int five[] = { EBUR128_LEFT, EBUR128_RIGHT, EBUR128_CENTER,
				    EBUR128_LEFT_SURROUND, EBUR128_RIGHT_SURROUND };
	static const int six[] = { EBUR128_LEFT,   EBUR128_RIGHT,	  EBUR128_CENTER,
				   EBUR128_UNUSED, EBUR128_LEFT_SURROUND, EBUR128_RIGHT_SURROUND };
	int sides = 0;

	if (!map)
		return count == 5 ? five[c] : count == 6 ? six[c] : EBUR128_CENTER;
	for (int k = 0; k < count; k++)
		sides += map[k] == SF_CHANNEL_MAP_SIDE_LEFT || map[k] == SF_CHANNEL_MAP_SIDE_RIGHT;
	switch (map[c]) {
	case SF_CHANNEL_MAP_LFE:
		return EBUR128_UNUSED;
	case SF_CHANNEL_MAP_SIDE_LEFT:
		return EBUR128_Mp090;
	case SF_CHANNEL_MAP_SIDE_RIGHT:
		return EBUR128_Mm090;
	case SF_CHANNEL_MAP_REAR_LEFT:
		return sides ? EBUR128_Mp135 : EBUR128_Mp110;
	case SF_CHANNEL_MAP_REAR_RIGHT:
		return sides ? EBUR128_Mm135 : EBUR128_Mm110;
	}
	return EBUR128_CENTER; /* 0 dB: the front, the tops, the rest */
}

/* Channel C's oversampler into L: libsoxr's 20-bit preset, L->factor
 * times RATE. BS.1770 asks for at least 4 times at 48 kHz; as libebur128,
 * 4 times under 96 kHz, 2 times under 192 kHz, none above. */
static ra_status oversampler(ra_loudness *l, int c, int rate, ra_diag *diag)
{
	const ra_resample_config rc = {
		1, rate, rate * l->factor, RA_RESAMPLER_SOXR, RA_RESAMPLE_HIGH, PIECE, NULL, 0
	};
	ra_status st;

	l->oversampler[c] = ra_resampler_create(&rc, &st, diag);
	return st;
}

/* The states, the channel weights and the tasks; a failure's reason in
 * DIAG, but for running out of memory. */
static ra_status make_states(ra_loudness *l, const ra_loudness_config *cfg, ra_diag *diag)
{
	const int threads = cfg->workers ? ra_workers_threads(cfg->workers) : 1;
	const int per = (cfg->channels + 2 * threads - 1) / (2 * threads);
	ra_status st;

	l->gated = ebur128_init((unsigned)cfg->channels, (unsigned long)cfg->sample_rate,
				EBUR128_MODE_I | EBUR128_MODE_LRA);
	l->peak = calloc((size_t)cfg->channels, sizeof(*l->peak));
	if (l->factor > 1)
		l->oversampler = calloc((size_t)cfg->channels, sizeof(*l->oversampler));
	if (cfg->album)
		l->album = ebur128_init((unsigned)cfg->channels, (unsigned long)cfg->sample_rate,
					EBUR128_MODE_I);
	if (!l->gated || !l->peak || (l->factor > 1 && !l->oversampler) ||
	    (cfg->album && !l->album))
		return RA_ERR_NOMEM;
	for (int c = 0; c < cfg->channels; c++) {
		int weight = ebur128_channel(cfg->channel_map, cfg->channels, c);

		ebur128_set_channel(l->gated, (unsigned)c, weight);
		if (l->album)
			ebur128_set_channel(l->album, (unsigned)c, weight);
		if (l->oversampler && (st = oversampler(l, c, cfg->sample_rate, diag)) != RA_OK)
			return st;
	}
	for (int c = 0; c < cfg->channels; c += per) {
		struct part *p = &l->part[l->parts++];

		*p = (struct part){ c,
				    c + per < cfg->channels ? c + per : cfg->channels,
				    malloc(l->chunk_frames * sizeof(float)),
				    l->factor > 1
					    ? malloc(PIECE * (size_t)l->factor * sizeof(float))
					    : NULL,
				    0,
				    RA_OK };
		if (!p->scratch || (l->factor > 1 && !p->over))
			return RA_ERR_NOMEM;
	}
	for (int k = 0; k < CHUNKS; k++) {
		l->job[k][0] = (struct job){ l, NULL, &l->chunk[k] };
		l->task[k][0] = (ra_task){ run_gated, &l->job[k][0] };
		for (int i = 1; i <= l->parts; i++) {
			l->job[k][i] = (struct job){ l, &l->part[i - 1], &l->chunk[k] };
			l->task[k][i] = (ra_task){ run_job, &l->job[k][i] };
		}
	}
	return RA_OK;
}

ra_loudness *ra_loudness_create(const ra_loudness_config *cfg, ra_status *status, ra_diag *diag)
{
	ra_loudness *l = NULL;
	ra_status st = RA_ERR_INVALID;

	/* libebur128 takes 16 Hz to 2822400 Hz (64 x 44.1 kHz). */
	if (cfg->channels < 1 || cfg->channels > RA_LOUDNESS_MAX_CHANNELS ||
	    cfg->sample_rate < 16 || cfg->sample_rate > 2822400) {
		ra_diag_set(diag,
			    "loudness is measured for 1 to %d channels (BS.1770's 22.2) at 16 to "
			    "2822400 Hz, not %d at %d Hz",
			    RA_LOUDNESS_MAX_CHANNELS, cfg->channels, cfg->sample_rate);
		st = RA_ERR_LIMITS;
		goto out;
	}
	st = RA_ERR_NOMEM;
	l = calloc(1, sizeof(*l));
	if (!l)
		goto out;
	l->channels = cfg->channels;
	l->factor = cfg->sample_rate < 96000 ? 4 : cfg->sample_rate < 192000 ? 2 : 1;
	l->workers = cfg->workers && ra_workers_threads(cfg->workers) > 1 ? cfg->workers : NULL;
	/* libebur128's 100 ms window, in whole frames. */
	l->block = (size_t)cfg->sample_rate / 10;
	l->chunk_frames = CHUNK_SAMPLES / (size_t)cfg->channels;
	if (l->chunk_frames < l->block)
		l->chunk_frames = l->block;
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->turn, NULL);
	for (int k = 0; k < CHUNKS; k++) {
		l->chunk[k].frames =
			malloc(l->chunk_frames * (size_t)cfg->channels * sizeof(float));
		if (!l->chunk[k].frames)
			goto out;
	}
	st = make_states(l, cfg, diag);
out:
	if (st != RA_OK) {
		ra_loudness_destroy(l);
		l = NULL;
		if (st == RA_ERR_NOMEM)
			ra_diag_set(diag, "out of memory");
	}
	if (status)
		*status = st;
	return l;
}

void ra_loudness_add(ra_loudness *l, const float *frames, size_t n)
{
	const size_t ch = (size_t)l->channels;

	while (n > 0) {
		struct chunk *c = &l->chunk[l->filling];
		size_t take = l->chunk_frames - c->n;

		if (take > n)
			take = n;
		memcpy(c->frames + c->n * ch, frames, take * ch * sizeof(float));
		c->n += take;
		frames += take * ch;
		n -= take;
		if (c->n == l->chunk_frames)
			dispatch(l);
	}
}

/* The end of every channel's oversampled stream into its peak: the
 * first failure of the oversampling, if any. */
static ra_status flush_peaks(ra_loudness *l)
{
	ra_status st = RA_OK;

	for (int k = 0; k < l->parts; k++)
		st = st != RA_OK ? st : l->part[k].st;
	for (int c = 0; st == RA_OK && l->oversampler && c < l->channels; c++) {
		st = ra_resampler_flush(l->oversampler[c]);
		take_oversampled(l, &l->part[0], c);
	}
	return st;
}

ra_status ra_loudness_finish(ra_loudness *l, ra_loudness_result *result, double *channel_dbtp)
{
	double top = 0.0;
	ra_status st;

	if (l->chunk[l->filling].n > 0)
		dispatch(l);
	wait_all(l);
	st = flush_peaks(l);
	ebur128_loudness_global(l->gated, &result->integrated_lufs);
	ebur128_loudness_range(l->gated, &result->range_lu);
	result->momentary_max_lufs = lufs_of(l->momentary_max);
	result->shortterm_max_lufs = lufs_of(l->shortterm_max);
	for (int c = 0; c < l->channels; c++) {
		double peak = l->peak[c];

		top = fmax(top, peak);
		if (channel_dbtp)
			channel_dbtp[c] = peak > 0.0 ? 20.0 * log10(peak) : -HUGE_VAL;
	}
	result->true_peak_dbtp = top > 0.0 ? 20.0 * log10(top) : -HUGE_VAL;
	return st;
}

double ra_loudness_integrated_of(ra_loudness *const *streams, size_t count)
{
	ebur128_state **states = malloc((count ? count : 1) * sizeof(*states));
	double lufs = -HUGE_VAL;

	if (!states)
		return NAN;
	for (size_t i = 0; i < count; i++)
		states[i] = streams[i]->album ? streams[i]->album : streams[i]->gated;
	if (count)
		ebur128_loudness_global_multiple(states, count, &lufs);
	free(states);
	return lufs;
}

void ra_loudness_shrink(ra_loudness *l)
{
	for (int k = 0; k < CHUNKS; k++) {
		free(l->chunk[k].frames);
		l->chunk[k].frames = NULL;
	}
	for (int k = 0; k < l->parts; k++) {
		free(l->part[k].scratch);
		free(l->part[k].over);
		l->part[k].scratch = l->part[k].over = NULL;
	}
	for (int c = 0; l->oversampler && c < l->channels; c++) {
		ra_resampler_destroy(l->oversampler[c]);
		l->oversampler[c] = NULL;
	}
	if (l->album && l->gated)
		ebur128_destroy(&l->gated); /* its 3 s of audio: the album's state stays */
}

void ra_loudness_destroy(ra_loudness *l)
{
	if (!l)
		return;
	wait_all(l);
	ra_loudness_shrink(l);
	pthread_cond_destroy(&l->turn);
	pthread_mutex_destroy(&l->lock);
	free(l->peak);
	free(l->oversampler);
	if (l->gated)
		ebur128_destroy(&l->gated);
	if (l->album)
		ebur128_destroy(&l->album);
	free(l);
}

double ra_loudness_gain(double lufs, double true_peak, double target, double ceiling,
			double *short_lu)
{
	double db = isinf(lufs) ? 0.0 : target - lufs;
	double over = true_peak + db - ceiling;

	if (short_lu)
		*short_lu = over > 0.0 && !isinf(lufs) ? over : 0.0;
	return over > 0.0 && !isinf(lufs) ? db - over : db;
}
