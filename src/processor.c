/* One processing chain for one stream: gain, the EQ cascade and the
 * spectrum taps on pooled buffers, scheduled on the shared worker pool in
 * steps over batches of blocks (a wavefront of band groups for mono). */
#include <stdlib.h>
#include <string.h>

#include "rustyaudio/convert.h"
#include "rustyaudio/eq.h"
#include "rustyaudio/processor.h"

/* A worker task should carry far more than a batch round trip (25-100 us
 * on the 2-core VM, measured): a step takes at least this many frames. */
#define STEP_FRAMES 65536
#define MAX_STEP_BLOCKS 256
#define MAX_GROUPS 8

/* A batch of consecutive blocks moving through the chain together. Each
 * step of the workers advances every slot in flight by one phase (see
 * phase_count()); with several band groups its channels are converted to
 * double in one work buffer that the groups pass along. */
typedef struct slot {
	float *blocks[MAX_STEP_BLOCKS];
	size_t frames[MAX_STEP_BLOCKS];
	size_t offset[MAX_STEP_BLOCKS]; /* where each block starts in work */
	size_t count;			/* blocks */
	size_t total;			/* frames in all of them */
	double *work;			/* channel c at work + c * work_stride */
	int phase;			/* phases completed */
	uint64_t eq_ns, spectrum_ns;	/* time its tasks took so far */
} slot;

typedef enum task_kind {
	TASK_DEINTERLEAVE,
	TASK_FILTER,
	TASK_INTERLEAVE,
	TASK_FUSED, /* one band group: convert, filter, convert back, block by block */
	TASK_TAP_IN,
	TASK_TAP_OUT
} task_kind;

static int phase_count(const ra_processor *p);

/* One task on slot S: band group GROUP on channel pairs [first, last)
 * (channels 2 * first ...), or the conversion of blocks [first, last). */
typedef struct task_arg {
	ra_processor *p;
	slot *s;
	task_kind kind;
	int group;
	int first, last;
	uint64_t ns; /* how long it ran, when timed */
} task_arg;

struct ra_processor {
	int channels;
	size_t max_frames;
	float gain;
	int band_count;
	int reference;
	ra_biquad_coeffs bands[RA_EQ_MAX_BANDS];
	ra_workers *workers;
	int threads;
	double *scratch; /* per thread: two channels of one block, planar */
	ra_welch *tap_in, *tap_out;

	/* Band groups: group g holds bands [group_first[g], group_first[g + 1]). */
	int groups;
	int group_first[MAX_GROUPS + 1];
	ra_cascade **cascades; /* [channel * groups + group] */
	size_t step_blocks;
	size_t work_stride; /* doubles per channel in a work buffer */

	ra_pool *block_pool;
	ra_pool *work_pool;

	/* Slots: one filling, up to groups + 2 in flight (oldest first). */
	slot *slots; /* slot_count: one a phase, plus the one filling */
	int slot_count;
	slot *filling;
	slot **in_flight;
	int in_flight_count;
	int step_started;  /* a step ran or runs: its slots move on at finish */
	int batch_pending; /* that step is on the workers */

	/* Finished blocks waiting to be handed back, in order. */
	float **done;
	size_t *done_frames;
	size_t done_cap, done_head, done_count;

	ra_task tasks[RA_WORKERS_TASKS_MAX];
	task_arg args[RA_WORKERS_TASKS_MAX];
	size_t task_count; /* in the step in flight */

	ra_histogram *eq_time, *spectrum_time; /* or NULL */

	/* The reference pipeline's filter state: [channel * band_count + band]. */
	ra_biquad_state *ref_state;

	uint64_t frames;
};

/* Channel C of the interleaved IN, times GAIN as the reference applies it
 * (in float), to double OUT. */
static void take_channel(const float *in, size_t frames, int channels, int c, float gain,
			 double *out)
{
	for (size_t n = 0; n < frames; n++)
		out[n] = (double)(in[n * (size_t)channels + (size_t)c] * gain);
}

/* Double IN back into channel C of the interleaved OUT. */
static void put_channel(const double *in, size_t frames, int channels, int c, float *out)
{
	for (size_t n = 0; n < frames; n++)
		out[n * (size_t)channels + (size_t)c] = (float)in[n];
}

/* Every channel of IN, times GAIN, to double planar OUT. */
static void deinterleave(const float *in, size_t frames, int channels, float gain, double *out,
			 size_t stride)
{
	for (int c = 0; c < channels; c++)
		take_channel(in, frames, channels, c, gain, out + (size_t)c * stride);
}

static void interleave(const double *in, size_t stride, size_t frames, int channels, float *out)
{
	for (int c = 0; c < channels; c++)
		put_channel(in + (size_t)c * stride, frames, channels, c, out);
}

/* Split COUNT bands into GROUPS runs of nearly equal size, whole SIMD
 * vectors of four bands where possible. */
static void split_bands(ra_processor *p, int groups)
{
	int vectors = (p->band_count + 3) / 4;

	if (groups > vectors)
		groups = vectors > 0 ? vectors : 1;
	p->groups = groups;
	for (int g = 0; g <= groups; g++) {
		int first = 4 * ((vectors * g + groups - 1) / groups);

		p->group_first[g] = first < p->band_count ? first : p->band_count;
	}
	p->group_first[groups] = p->band_count;
}

static ra_status create_cascades(ra_processor *p)
{
	size_t n = (size_t)p->channels * (size_t)p->groups;

	p->cascades = calloc(n, sizeof(*p->cascades));
	if (!p->cascades)
		return RA_ERR_NOMEM;
	for (int c = 0; c < p->channels; c++) {
		for (int g = 0; g < p->groups; g++) {
			int first = p->group_first[g];
			ra_status st;

			p->cascades[c * p->groups + g] = ra_cascade_create(
				p->bands + first, p->group_first[g + 1] - first, &st);
			if (!p->cascades[c * p->groups + g])
				return st;
		}
	}
	return RA_OK;
}

ra_processor *ra_processor_create(const ra_processor_config *cfg, ra_status *status)
{
	ra_status st = RA_ERR_INVALID;
	ra_processor *p = NULL;
	size_t work_bytes, slots;
	int groups = 1;

	if (cfg->channels < 1 || cfg->channels > RA_MAX_CHANNELS || cfg->max_frames < 1 ||
	    cfg->band_count < 0 || cfg->band_count > RA_EQ_MAX_BANDS ||
	    (cfg->band_count && !cfg->bands))
		goto out;
	st = RA_ERR_NOMEM;
	p = calloc(1, sizeof(*p));
	if (!p)
		goto out;
	p->channels = cfg->channels;
	p->max_frames = cfg->max_frames;
	p->gain = cfg->gain;
	p->band_count = cfg->band_count;
	p->reference = cfg->reference;
	if (cfg->band_count)
		memcpy(p->bands, cfg->bands, (size_t)cfg->band_count * sizeof(*p->bands));
	p->workers = cfg->reference ? NULL : cfg->workers;
	p->tap_in = cfg->tap_in;
	p->tap_out = cfg->tap_out;
	p->eq_time = cfg->eq_time;
	p->spectrum_time = cfg->spectrum_time;
	p->threads = p->workers ? ra_workers_threads(p->workers) : 1;

	if (p->reference) {
		p->ref_state = calloc((size_t)p->channels * (size_t)(p->band_count + 1),
				      sizeof(*p->ref_state));
		if (!p->ref_state)
			goto out_free;
		st = RA_OK;
		goto out;
	}

	/* Enough band groups that channels x groups keeps every thread busy;
	 * with one thread, no wavefront and no batching. */
	if (p->threads > 1 && p->band_count > 0) {
		groups = (p->threads + p->channels - 1) / p->channels;
		if (groups > MAX_GROUPS)
			groups = MAX_GROUPS;
		p->step_blocks = (STEP_FRAMES + cfg->max_frames - 1) / cfg->max_frames;
		if (p->step_blocks > MAX_STEP_BLOCKS)
			p->step_blocks = MAX_STEP_BLOCKS;
	} else {
		p->step_blocks = 1;
	}
	split_bands(p, groups);
	if (p->band_count > 0) {
		st = create_cascades(p);
		if (st != RA_OK)
			goto out_free;
	}

	/* Blocks: the slots' worth, plus the caller's read and write blocks,
	 * plus the finished ones queued. */
	p->slot_count = phase_count(p) + 1;
	slots = (size_t)p->slot_count;
	p->done_cap = (slots + 1) * p->step_blocks;
	p->block_pool = ra_pool_create(cfg->max_frames * (size_t)p->channels * sizeof(float),
				       p->done_cap + slots * p->step_blocks + 2, &st);
	if (!p->block_pool)
		goto out_free;
	p->work_stride = (p->step_blocks * cfg->max_frames + 7) & ~(size_t)7;
	work_bytes = p->work_stride * (size_t)p->channels * sizeof(double);
	if (p->band_count > 0) {
		p->work_pool = ra_pool_create(work_bytes, slots + 1, &st);
		if (!p->work_pool)
			goto out_free;
	}
	st = RA_ERR_NOMEM;
	p->scratch = malloc((size_t)p->threads * 2 * cfg->max_frames * sizeof(*p->scratch));
	p->slots = calloc(slots, sizeof(*p->slots));
	p->in_flight = calloc(slots, sizeof(*p->in_flight));
	p->done = calloc(p->done_cap, sizeof(*p->done));
	p->done_frames = calloc(p->done_cap, sizeof(*p->done_frames));
	if (!p->scratch || !p->slots || !p->in_flight || !p->done || !p->done_frames)
		goto out_free;
	p->filling = &p->slots[0];
	st = RA_OK;
	goto out;

out_free:
	ra_processor_destroy(p);
	p = NULL;
out:
	if (status)
		*status = st;
	return p;
}

/* ------------------------------------------------------------ reference */

/* The plain pipeline: scalar double per sample, a buffer allocated per
 * block, no pool, no threads. The baseline for benchmarks and tests. */
static ra_status process_reference(ra_processor *p, float *block, size_t frames)
{
	double *x = malloc((frames ? frames : 1) * sizeof(*x));

	if (!x)
		return RA_ERR_NOMEM;
	for (size_t i = 0; i < frames * (size_t)p->channels; i++)
		block[i] *= p->gain;
	for (int c = 0; c < p->channels && p->band_count > 0; c++) {
		for (size_t n = 0; n < frames; n++)
			x[n] = (double)block[n * (size_t)p->channels + (size_t)c];
		for (int b = 0; b < p->band_count; b++)
			ra_biquad_process(&p->bands[b], &p->ref_state[c * p->band_count + b], x,
					  frames);
		for (size_t n = 0; n < frames; n++)
			block[n * (size_t)p->channels + (size_t)c] = (float)x[n];
	}
	free(x);
	p->frames += frames;
	return RA_OK;
}

/* ------------------------------------------------------------ scheduling */

/* With a single band group everything for a channel pair happens on one
 * thread, a block at a time, in that thread's scratch: the data stays in
 * cache and crosses no thread. */
static void filter_block(ra_processor *p, float *block, size_t frames, int first, int last,
			 int worker)
{
	double *x = p->scratch + (size_t)worker * 2 * p->max_frames, *y = x + p->max_frames;
	const int ch = p->channels;

	for (int u = first; u < last; u++) {
		int c = 2 * u;

		take_channel(block, frames, ch, c, p->gain, x);
		if (c + 1 < ch) {
			take_channel(block, frames, ch, c + 1, p->gain, y);
			ra_cascade_process2(p->cascades[c], x, p->cascades[c + 1], y, frames);
			put_channel(y, frames, ch, c + 1, block);
		} else {
			ra_cascade_process(p->cascades[c], x, frames);
		}
		put_channel(x, frames, ch, c, block);
	}
}

static void run_task(void *arg, int worker)
{
	task_arg *t = arg;
	ra_processor *p = t->p;
	slot *s = t->s;
	uint64_t start = p->eq_time ? ra_now_ns() : 0;

	switch (t->kind) {
	case TASK_DEINTERLEAVE:
		for (int b = t->first; b < t->last; b++)
			deinterleave(s->blocks[b], s->frames[b], p->channels, p->gain,
				     s->work + s->offset[b], p->work_stride);
		break;
	case TASK_TAP_IN:
	case TASK_TAP_OUT:
		for (size_t b = 0; b < s->count; b++)
			ra_welch_feed(t->kind == TASK_TAP_IN ? p->tap_in : p->tap_out, s->blocks[b],
				      s->frames[b]);
		break;
	case TASK_FILTER:
		/* Channels in pairs: two cascades in one loop hide each other's
		 * latency. */
		for (int u = t->first; u < t->last; u++) {
			int c = 2 * u;
			double *x = s->work + (size_t)c * p->work_stride;

			if (c + 1 < p->channels)
				ra_cascade_process2(p->cascades[c * p->groups + t->group], x,
						    p->cascades[(c + 1) * p->groups + t->group],
						    x + p->work_stride, s->total);
			else
				ra_cascade_process(p->cascades[c * p->groups + t->group], x,
						   s->total);
		}
		break;
	case TASK_FUSED:
		for (size_t b = 0; b < s->count; b++)
			filter_block(p, s->blocks[b], s->frames[b], t->first, t->last, worker);
		break;
	case TASK_INTERLEAVE:
		for (int b = t->first; b < t->last; b++)
			interleave(s->work + s->offset[b], p->work_stride, s->frames[b],
				   p->channels, s->blocks[b]);
		break;
	}
	if (p->eq_time)
		t->ns = ra_now_ns() - start;
}

static void run_tasks(ra_processor *p, size_t count)
{
	p->task_count = count;
	if (!p->workers || p->threads == 1) {
		for (size_t i = 0; i < count; i++)
			run_task(&p->args[i], 0);
		return;
	}
	ra_workers_submit(p->workers, p->tasks, count);
	p->batch_pending = 1;
}

/* Up to PARTS tasks of KIND over [0, COUNT) of slot S, from task N on. */
static size_t add_tasks(ra_processor *p, size_t n, slot *s, task_kind kind, int group, int count,
			int parts)
{
	int per = (count + parts - 1) / parts;

	for (int i = 0; i < count && n < RA_WORKERS_TASKS_MAX; i += per) {
		task_arg *a = &p->args[n];

		a->p = p;
		a->s = s;
		a->kind = kind;
		a->group = group;
		a->first = i;
		a->last = i + per < count ? i + per : count;
		p->tasks[n].fn = run_task;
		p->tasks[n].arg = a;
		n++;
	}
	return n;
}

static void queue_done(ra_processor *p, float *block, size_t frames)
{
	size_t tail = (p->done_head + p->done_count) % p->done_cap;

	p->done[tail] = block;
	p->done_frames[tail] = frames;
	p->done_count++;
}

/* Phases a slot goes through: with one band group, [input tap], the fused
 * filter, [output tap]; with several, conversion (with the input tap
 * beside it: both only read the blocks), each group, conversion back,
 * [output tap]. */
static int phase_count(const ra_processor *p)
{
	if (p->groups == 1)
		return (p->tap_in != NULL) + 1 + (p->tap_out != NULL);
	return p->groups + 2 + (p->tap_out != NULL);
}

/* The tasks of slot S's next phase, from task N on. */
static size_t add_phase(ra_processor *p, size_t n, slot *s, int parts)
{
	int ph = s->phase, pairs = (p->channels + 1) / 2;

	if (p->groups == 1) {
		if (p->tap_in && ph-- == 0)
			return add_tasks(p, n, s, TASK_TAP_IN, 0, 1, 1);
		if (ph == 0)
			return add_tasks(p, n, s, TASK_FUSED, 0, pairs, parts);
		return add_tasks(p, n, s, TASK_TAP_OUT, 0, 1, 1);
	}
	if (ph == 0) {
		if (p->tap_in)
			n = add_tasks(p, n, s, TASK_TAP_IN, 0, 1, 1);
		return add_tasks(p, n, s, TASK_DEINTERLEAVE, 0, (int)s->count, parts);
	}
	if (ph <= p->groups)
		return add_tasks(p, n, s, TASK_FILTER, ph - 1, pairs, parts);
	if (ph == p->groups + 1)
		return add_tasks(p, n, s, TASK_INTERLEAVE, 0, (int)s->count, parts);
	return add_tasks(p, n, s, TASK_TAP_OUT, 0, 1, 1);
}

/* Wait for the step in flight; every slot in it is one phase further, and
 * slots through every phase hand their blocks out. */
static void finish_step(ra_processor *p)
{
	int kept = 0;

	if (!p->step_started)
		return;
	p->step_started = 0;
	if (p->batch_pending) {
		ra_workers_wait(p->workers);
		p->batch_pending = 0;
	}
	for (size_t i = 0; p->eq_time && i < p->task_count; i++) {
		const task_arg *t = &p->args[i];

		if (t->kind == TASK_TAP_IN || t->kind == TASK_TAP_OUT)
			t->s->spectrum_ns += t->ns;
		else
			t->s->eq_ns += t->ns;
	}
	for (int i = 0; i < p->in_flight_count; i++) {
		slot *s = p->in_flight[i];

		if (++s->phase < phase_count(p)) {
			p->in_flight[kept++] = s;
			continue;
		}
		if (p->eq_time) {
			ra_histogram_add_spread(p->eq_time, s->eq_ns, s->count);
			if (p->tap_in || p->tap_out)
				ra_histogram_add_spread(p->spectrum_time, s->spectrum_ns, s->count);
		}
		for (size_t b = 0; b < s->count; b++)
			queue_done(p, s->blocks[b], s->frames[b]);
		if (s->work)
			ra_pool_release(p->work_pool, s->work);
		memset(s, 0, sizeof(*s));
	}
	p->in_flight_count = kept;
}

static slot *free_slot(ra_processor *p)
{
	for (int i = 0; i < p->slot_count; i++) {
		slot *s = &p->slots[i];
		int busy = s == p->filling;

		for (int j = 0; j < p->in_flight_count && !busy; j++)
			busy = p->in_flight[j] == s;
		if (!busy)
			return s;
	}
	return NULL; /* cannot happen: a slot a phase in flight, plus one */
}

/* Start the next step: admit the filling slot if ADMIT, then every slot in
 * flight runs its next phase, all at once on the workers. */
static ra_status start_step(ra_processor *p, int admit)
{
	int parts = 2 * p->threads;
	size_t n = 0;

	if (admit) {
		slot *s = p->filling;
		size_t at = 0;

		if (p->groups > 1) {
			s->work = ra_pool_acquire(p->work_pool);
			if (!s->work)
				return RA_ERR_NOMEM;
		}
		for (size_t b = 0; b < s->count; b++) {
			s->offset[b] = at;
			at += s->frames[b];
		}
		s->total = at;
		s->phase = 0;
		p->in_flight[p->in_flight_count++] = s;
		p->filling = free_slot(p);
	}
	if (parts > RA_WORKERS_TASKS_MAX / (MAX_GROUPS + 2))
		parts = RA_WORKERS_TASKS_MAX / (MAX_GROUPS + 2);
	for (int i = 0; i < p->in_flight_count; i++)
		n = add_phase(p, n, p->in_flight[i], parts);
	run_tasks(p, n);
	p->step_started = 1;
	return RA_OK;
}

static int pop_done(ra_processor *p, float **done, size_t *done_frames)
{
	if (!p->done_count)
		return 0;
	*done = p->done[p->done_head];
	*done_frames = p->done_frames[p->done_head];
	p->done_head = (p->done_head + 1) % p->done_cap;
	p->done_count--;
	return 1;
}

float *ra_processor_acquire(ra_processor *p)
{
	if (p->reference)
		return malloc(p->max_frames * (size_t)p->channels * sizeof(float));
	return ra_pool_acquire(p->block_pool);
}

void ra_processor_release(ra_processor *p, float *block)
{
	if (p->reference)
		free(block);
	else
		ra_pool_release(p->block_pool, block);
}

ra_status ra_processor_push(ra_processor *p, float *block, size_t frames, float **done,
			    size_t *done_frames)
{
	ra_status st = RA_OK;

	*done = NULL;
	*done_frames = 0;
	if (frames > p->max_frames)
		return RA_ERR_INVALID;
	if (p->reference || p->band_count == 0) {
		/* Nothing to overlap: the taps and the work happen here. */
		uint64_t t0 = p->eq_time ? ra_now_ns() : 0, t1 = t0, t2, t3;

		if (p->tap_in) {
			ra_welch_feed(p->tap_in, block, frames);
			t1 = p->eq_time ? ra_now_ns() : 0;
		}
		if (p->reference) {
			st = process_reference(p, block, frames);
		} else {
			ra_gain_apply(block, frames * (size_t)p->channels, p->gain);
			p->frames += frames;
		}
		t2 = p->eq_time ? ra_now_ns() : 0;
		t3 = t2;
		if (p->tap_out) {
			ra_welch_feed(p->tap_out, block, frames);
			t3 = p->eq_time ? ra_now_ns() : 0;
		}
		if (p->eq_time) {
			ra_histogram_add(p->eq_time, t2 - t1);
			if (p->tap_in || p->tap_out)
				ra_histogram_add(p->spectrum_time, (t1 - t0) + (t3 - t2));
		}
		*done = block;
		*done_frames = frames;
		return st;
	}
	/* The gain is applied by the workers, after the input tap. */
	p->filling->blocks[p->filling->count] = block;
	p->filling->frames[p->filling->count] = frames;
	p->filling->count++;
	p->frames += frames;
	if (p->filling->count == p->step_blocks) {
		finish_step(p);
		st = start_step(p, 1);
		/* Inline, nothing overlaps: take the slot through every phase. */
		while (st == RA_OK && !p->batch_pending && p->in_flight_count > 0) {
			finish_step(p);
			if (p->in_flight_count > 0)
				st = start_step(p, 0);
		}
	}
	pop_done(p, done, done_frames);
	return st;
}

ra_status ra_processor_pull(ra_processor *p, float **done, size_t *done_frames)
{
	*done = NULL;
	*done_frames = 0;
	if (p->reference || p->band_count == 0)
		return RA_OK; /* these hand every block straight back */
	while (!pop_done(p, done, done_frames)) {
		ra_status st;

		/* Collect the step in flight (if any) and what it finished. */
		finish_step(p);
		if (p->done_count)
			continue;
		if (p->filling->count > 0)
			st = start_step(p, 1);
		else if (p->in_flight_count > 0)
			st = start_step(p, 0);
		else
			break;
		if (st != RA_OK)
			return st;
	}
	return RA_OK;
}

ra_status ra_processor_process(ra_processor *p, float *block, size_t frames)
{
	slot *s;
	size_t tasks;

	if (frames > p->max_frames)
		return RA_ERR_INVALID;
	if (p->reference)
		return process_reference(p, block, frames);
	p->frames += frames;
	if (p->band_count == 0) {
		ra_gain_apply(block, frames * (size_t)p->channels, p->gain);
		return RA_OK;
	}
	/* Every phase in order on a scratch slot, split over the threads. */
	s = p->filling;
	s->work = ra_pool_acquire(p->work_pool);
	if (!s->work)
		return RA_ERR_NOMEM;
	s->blocks[0] = block;
	s->frames[0] = frames;
	s->offset[0] = 0;
	s->count = 1;
	s->total = frames;
	for (int phase = 0; phase < p->groups + 2; phase++) {
		if (phase == 0)
			tasks = add_tasks(p, 0, s, TASK_DEINTERLEAVE, 0, 1, 1);
		else if (phase <= p->groups)
			tasks = add_tasks(p, 0, s, TASK_FILTER, phase - 1, (p->channels + 1) / 2,
					  2 * p->threads);
		else
			tasks = add_tasks(p, 0, s, TASK_INTERLEAVE, 0, 1, 1);
		run_tasks(p, tasks);
		if (p->batch_pending) {
			ra_workers_wait(p->workers);
			p->batch_pending = 0;
		}
	}
	ra_pool_release(p->work_pool, s->work);
	memset(s, 0, sizeof(*s));
	return RA_OK;
}

void ra_processor_reset(ra_processor *p)
{
	if (p->reference) {
		memset(p->ref_state, 0,
		       (size_t)p->channels * (size_t)(p->band_count + 1) * sizeof(*p->ref_state));
		return;
	}
	for (int i = 0; i < p->channels * p->groups && p->cascades; i++)
		ra_cascade_reset(p->cascades[i]);
}

void ra_processor_get_stats(const ra_processor *p, ra_processor_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	stats->kernel = p->reference ? "reference" : ra_cascade_kernel();
	stats->band_groups = p->groups;
	stats->step_blocks = p->step_blocks;
	if (p->block_pool)
		ra_pool_get_stats(p->block_pool, &stats->blocks);
	if (p->work_pool)
		ra_pool_get_stats(p->work_pool, &stats->work);
	stats->frames = p->frames;
}

void ra_processor_destroy(ra_processor *p)
{
	if (!p)
		return;
	if (p->batch_pending)
		ra_workers_wait(p->workers);
	if (p->cascades)
		for (int i = 0; i < p->channels * p->groups; i++)
			ra_cascade_destroy(p->cascades[i]);
	free(p->cascades);
	/* Blocks still inside (a caller that stopped early) go back first. */
	for (int i = 0; p->slots && i < p->slot_count; i++) {
		for (size_t b = 0; b < p->slots[i].count; b++)
			ra_pool_release(p->block_pool, p->slots[i].blocks[b]);
		if (p->slots[i].work)
			ra_pool_release(p->work_pool, p->slots[i].work);
	}
	for (size_t i = 0; i < p->done_count; i++)
		ra_pool_release(p->block_pool, p->done[(p->done_head + i) % p->done_cap]);
	ra_pool_destroy(p->work_pool);
	ra_pool_destroy(p->block_pool);
	free(p->slots);
	free(p->in_flight);
	free(p->done);
	free(p->done_frames);
	free(p->ref_state);
	free(p->scratch);
	free(p);
}
