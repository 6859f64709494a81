/* One file's measuring pass shared out in time (shares.h).
 *
 * The threads take the groups in stream order, each reading its group
 * under the reader's lock, so that the reader goes front to back as for
 * the whole stream (from its read-ahead, see file_io.h), seeking only back
 * over a group's last segments. A group is then measured into its share's
 * levels and analyser parts once the share's group before it is in: a
 * share's groups go in stream order, whichever thread has them. */
#include <pthread.h>
#include <stdlib.h>

#include "rustyaudio/convert.h"
#include "rustyaudio/phases.h"
#include "shares.h"

/* How the pass ends: the first thread to stop says how for all. */
enum outcome { GOING, HANDED_BACK, CANCELLED };

enum { TIME_READ, TIME_LEVEL, TIME_SPECTRUM };

typedef struct pass pass;

/* A thread's buffers and times. */
typedef struct runner {
	pass *pass;
	float *frames; /* a group, and its segments' frames past it */
	int32_t *ints; /* the integer route's reads, or NULL */
	ra_histogram time[3];
	uint64_t ns; /* in them all */
} runner;

struct pass {
	ra_shares_config *cfg;
	pthread_mutex_t lock; /* the reader, NEXT, OUTCOME's changes, READY */
	pthread_cond_t moved; /* a share is ready for its next group, or OUTCOME changed */
	uint64_t next;	      /* the group to read next */
	uint64_t groups;      /* in the stream */
	size_t span;	      /* the most frames a group takes */
	int outcome;	      /* read atomically */
	ra_levels *levels[RA_PHASES];
	uint64_t ready[RA_PHASES]; /* the group each share takes next */
	runner runner[RA_SHARES_THREADS];
};

static int going(pass *ps)
{
	return __atomic_load_n(&ps->outcome, __ATOMIC_RELAXED) == GOING;
}

/* Under the lock: the pass ends HOW, unless it has ended already. */
static void stop(pass *ps, int how)
{
	if (going(ps))
		__atomic_store_n(&ps->outcome, how, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&ps->moved);
}

/* The frames from group G's first that it takes: the group's, and on as
 * far as its segments go; no further than the stream's end. */
static size_t group_span(const pass *ps, uint64_t g)
{
	const uint64_t left = (uint64_t)ps->cfg->frames - g * RA_PHASE_FRAMES;
	size_t n = ra_welch_group_frames(ps->cfg->welch, g);

	if (n < RA_PHASE_FRAMES)
		n = RA_PHASE_FRAMES;
	return n < left ? n : (size_t)left;
}

/* With stats, the time since *MARK to R's account K. */
static void lap(runner *r, int k, uint64_t *mark)
{
	uint64_t t, ns;

	if (!r->pass->cfg->time[0])
		return;
	t = ra_now_ns();
	ns = t - *mark;
	ra_histogram_add(&r->time[k], ns);
	r->ns += ns;
	*mark = t;
}

/* Under the lock: the next group into R's buffer, as float, in *G (N
 * frames of it in *N): whether it came whole. */
static int read_group(runner *r, uint64_t *g, size_t *n)
{
	pass *ps = r->pass;
	const ra_shares_config *cfg = ps->cfg;
	const size_t channels = (size_t)cfg->channels;
	size_t at = 0, got = 1;
	ra_diag diag; /* the pass over the whole stream says it again */
	ra_status st;

	*g = ps->next++;
	*n = group_span(ps, *g);
	st = ra_reader_seek(cfg->reader, (int64_t)(*g * RA_PHASE_FRAMES), &diag);
	for (; st == RA_OK && at < *n && got > 0; at += got) {
		if (cfg->in_bits)
			st = ra_reader_read_int(cfg->reader, r->ints + at * channels, *n - at, &got,
						&diag);
		else
			st = ra_reader_read_float(cfg->reader, r->frames + at * channels, *n - at,
						  &got, &diag);
	}
	return st == RA_OK && at == *n;
}

/* Group G, N frames in R's buffer, into its share's levels and analyser
 * parts, once the share's group before it is in. */
static void measure_group(runner *r, uint64_t g, size_t n, uint64_t *mark)
{
	pass *ps = r->pass;
	const ra_shares_config *cfg = ps->cfg;
	const int share = (int)(g % (uint64_t)cfg->shares);
	const size_t segments = ra_welch_group_frames(cfg->welch, g);

	pthread_mutex_lock(&ps->lock);
	while (ps->ready[share] != g && going(ps))
		pthread_cond_wait(&ps->moved, &ps->lock);
	pthread_mutex_unlock(&ps->lock);
	if (!going(ps))
		return;
	lap(r, TIME_READ, mark);
	ra_levels_seek(ps->levels[share], g * RA_PHASE_FRAMES);
	ra_levels_add(ps->levels[share], r->frames, n < RA_PHASE_FRAMES ? n : RA_PHASE_FRAMES);
	lap(r, TIME_LEVEL, mark);
	if (cfg->welch) {
		ra_welch_feed_group(cfg->welch, g, r->frames, segments < n ? segments : n);
		lap(r, TIME_SPECTRUM, mark);
	}
	pthread_mutex_lock(&ps->lock);
	ps->ready[share] = g + (uint64_t)cfg->shares;
	pthread_cond_broadcast(&ps->moved);
	pthread_mutex_unlock(&ps->lock);
}

/* R's N frames read, as float: whether they may be measured (the pass
 * is handed back when a non-finite sample is screened for and found). */
static int usable(runner *r, size_t n)
{
	pass *ps = r->pass;
	const ra_shares_config *cfg = ps->cfg;
	const size_t samples = n * (size_t)cfg->channels;

	if (cfg->in_bits)
		ra_samples_from_int(r->ints, r->frames, samples);
	if (!cfg->screen || !ra_nonfinite_count(r->frames, samples, NULL))
		return 1;
	pthread_mutex_lock(&ps->lock);
	stop(ps, HANDED_BACK);
	pthread_mutex_unlock(&ps->lock);
	return 0;
}

/* A thread's part of the pass: groups, until none is left or it ends. The
 * time waiting for a group's turn is its reading's. */
static void run(void *arg, int worker)
{
	runner *r = arg;
	pass *ps = r->pass;
	const ra_shares_config *cfg = ps->cfg;

	(void)worker;
	for (;;) {
		uint64_t g, mark = cfg->time[0] ? ra_now_ns() : 0;
		size_t n;
		int whole;

		pthread_mutex_lock(&ps->lock);
		if (ra_stop_requested(cfg->cancel))
			stop(ps, CANCELLED);
		if (!going(ps) || ps->next == ps->groups) {
			pthread_mutex_unlock(&ps->lock);
			return;
		}
		whole = read_group(r, &g, &n);
		if (!whole)
			stop(ps, HANDED_BACK);
		pthread_mutex_unlock(&ps->lock);
		if (!whole || !usable(r, n))
			return;
		measure_group(r, g, n, &mark);
	}
}

/* Each share's levels and each thread's buffers; 0 when memory ran out. */
static int pass_alloc(pass *ps, int threads)
{
	const ra_shares_config *cfg = ps->cfg;
	const size_t samples = ps->span * (size_t)cfg->channels;

	for (int i = 0; i < cfg->shares; i++) {
		ps->ready[i] = (uint64_t)i;
		ps->levels[i] = ra_levels_create(cfg->channels, NULL, NULL);
		if (!ps->levels[i])
			return 0;
	}
	for (int i = 0; i < threads; i++) {
		runner *r = &ps->runner[i];

		r->pass = ps;
		for (int k = 0; k < 3; k++)
			ra_histogram_init(&r->time[k]);
		r->frames = malloc(samples * sizeof(*r->frames));
		r->ints = cfg->in_bits ? malloc(samples * sizeof(*r->ints)) : NULL;
		if (!r->frames || (cfg->in_bits && !r->ints))
			return 0;
	}
	return 1;
}

static void pass_free(pass *ps)
{
	for (int i = 0; i < RA_PHASES; i++)
		ra_levels_destroy(ps->levels[i]);
	for (int i = 0; i < RA_SHARES_THREADS; i++) {
		free(ps->runner[i].frames);
		free(ps->runner[i].ints);
	}
}

/* The stream ends where its header says: a read there finds nothing. */
static int ends_there(const ra_shares_config *cfg)
{
	int32_t ints[RA_MAX_CHANNELS];
	size_t got = 1;
	ra_diag diag;

	return ra_reader_seek(cfg->reader, cfg->frames, &diag) == RA_OK &&
	       ra_reader_read_int(cfg->reader, ints, 1, &got, &diag) == RA_OK && got == 0;
}

/* The shares' levels into the stream's, the threads' times into CFG's. */
static void gather(pass *ps, int threads)
{
	ra_shares_config *cfg = ps->cfg;

	for (int i = 0; i < cfg->shares; i++)
		ra_levels_merge(cfg->levels, ps->levels[i]);
	for (int i = 0; cfg->time[0] && i < threads; i++)
		for (int k = 0; k < 3; k++)
			ra_histogram_merge(cfg->time[k], &ps->runner[i].time[k]);
	ra_levels_seek(cfg->levels, (uint64_t)cfg->frames);
	ra_welch_pass_to(cfg->welch, (uint64_t)cfg->frames);
	cfg->caller_ns = ps->runner[0].ns;
}

/* The most the threads' buffers may take; past it (hundreds of channels,
 * long segments) the stream is measured whole. */
#define BUFFER_BYTES ((uint64_t)64 << 20)

/* The pass's buffers and lock: whether it can go (the stream is measured
 * whole when not). */
static int pass_start(pass *ps, int threads)
{
	const ra_shares_config *cfg = ps->cfg;
	const uint64_t sample = sizeof(float) + (cfg->in_bits ? sizeof(int32_t) : 0);

	for (uint64_t g = 0; g < ps->groups; g++) {
		size_t n = group_span(ps, g);

		ps->span = n > ps->span ? n : ps->span;
	}
	if ((uint64_t)ps->span * (uint64_t)cfg->channels * sample * (uint64_t)threads >
		    BUFFER_BYTES ||
	    !pass_alloc(ps, threads) || pthread_mutex_init(&ps->lock, NULL) != 0)
		return 0;
	if (pthread_cond_init(&ps->moved, NULL) == 0)
		return 1;
	pthread_mutex_destroy(&ps->lock);
	return 0;
}

ra_status ra_shares_measure(ra_shares_config *cfg, int *done)
{
	pass ps = { .cfg = cfg, .outcome = GOING };
	const int threads = cfg->threads < RA_SHARES_THREADS ? cfg->threads : RA_SHARES_THREADS;
	ra_task tasks[RA_SHARES_THREADS];
	uint64_t ticket;

	*done = 0;
	ps.groups = ((uint64_t)cfg->frames + RA_PHASE_FRAMES - 1) / RA_PHASE_FRAMES;
	if (threads < 2 || !pass_start(&ps, threads)) {
		pass_free(&ps);
		return RA_OK;
	}
	for (int i = 1; i < threads; i++)
		tasks[i - 1] = (ra_task){ run, &ps.runner[i] };
	ticket = ra_workers_submit(cfg->workers, tasks, (size_t)threads - 1);
	run(&ps.runner[0], 0);
	ra_workers_wait_for(cfg->workers, ticket);
	pthread_cond_destroy(&ps.moved);
	pthread_mutex_destroy(&ps.lock);
	*done = ps.outcome == GOING && ends_there(cfg);
	if (*done)
		gather(&ps, threads);
	pass_free(&ps);
	return ps.outcome == CANCELLED ? RA_ERR_CANCELLED : RA_OK;
}
