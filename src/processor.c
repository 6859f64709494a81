/* One processing chain for one stream: gain, the EQ cascade and the
 * spectrum taps on pooled buffers, all on one schedule. Blocks are batched
 * into slots, and each step advances every slot in flight by one phase
 * (see build_phases()), on the shared worker pool or inline. What the
 * filtering phase runs is chosen once, at create: the cascades, the
 * reference pipeline's scalar kernel, or the gain alone. Workers only
 * compute: the taps' spectrogram rows are published after each step, on
 * the caller's thread, for the caller to take and write. Steps carry no
 * more rows than RA_WELCH_ROW_BUDGET: fewer blocks, or, when one block
 * would outgrow it, the tap fed on the caller's thread a batch at a time. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "rustyaudio/convert.h"
#include "rustyaudio/eq.h"
#include "rustyaudio/processor.h"

#include "cpu.h"

/* A worker task should carry far more than a batch round trip (25-100 us
 * on the 2-core VM, measured): a step takes at least this many frames.
 * Steps grow from there, doubling every GROW_STEPS steps up to
 * MOST_STEP_FRAMES: a long stream pays a quarter of the round trips, a
 * short one does not wait for big steps to fill and drain. Measured on
 * stereo float, 10 minutes: --analyze --no-loudness 0.140 s in steps of
 * 65536 frames, 0.121 s in steps of 262144; a 10-band EQ 0.214 against
 * 0.183 s; 25 seconds of the analysis 10.9 ms, fixed steps of 262144
 * frames 12.1 ms, growing ones 10.7 ms. */
#define STEP_FRAMES 65536
#define MOST_STEP_FRAMES 262144
#define GROW_STEPS 4
/* And a step holds no more than this many samples (2 MiB of floats: 65536
 * frames of 8 channels, 262144 of stereo), so that the pool's blocks do
 * not grow with the channels (1024 channels: 512 frames a step). */
#define STEP_SAMPLES 524288
#define MAX_STEP_BLOCKS 256
#define MAX_GROUPS 8
/* Conversion, each group, conversion back, the output tap. */
#define MAX_PHASES (MAX_GROUPS + 3)

/* A batch of consecutive blocks moving through the chain together. With
 * several band groups its channels are converted to double in one work
 * buffer that the groups pass along. */
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
	TASK_FUSED, /* the kernel on each block in turn, in place */
	TASK_TAP_IN,
	TASK_TAP_OUT,
	TASK_LEVEL /* units of the step's strands, until none is left to take */
} task_kind;

/* What a TASK_FUSED runs on a block. */
typedef enum kernel {
	KERNEL_CASCADE,	  /* the cascades of one band group, channels in pairs */
	KERNEL_REFERENCE, /* the plain pipeline: scalar, a buffer malloc'd per block */
	KERNEL_GAIN	  /* no bands: the gain alone */
} kernel;

/* One phase of the schedule: tasks of KIND (on band group GROUP). */
typedef struct phase {
	task_kind kind;
	int group;
} phase;

/* A spectrum tap: fed whole blocks by a task for each of its parts (a
 * run of channels), or here, on the caller's thread, BATCH frames at a
 * time, each batch's rows handed over before the next is made
 * (feed_here()). */
typedef struct tap {
	ra_welch *w;   /* NULL: no tap */
	size_t batch;  /* 0: fed by tasks, one a part (ra_welch_parts()) */
	slot *pending; /* its slot in the step in flight, when fed here */
} tap;

/* One task on slot S: band group GROUP on channel pairs [first, last)
 * (channels 2 * first ...), the conversion of blocks [first, last), a
 * tap's part FIRST, or a whole-block kernel (first 0, last 1); or, on no
 * slot, a TASK_LEVEL. */
typedef struct task_arg {
	ra_processor *p;
	slot *s;
	task_kind kind;
	int group;
	int first, last;
	ra_status st; /* the reference kernel can run out of memory */
	uint64_t ns;  /* how long it ran, when timed */
} task_arg;

/* With channel runs on several threads, a step's runs are not a task
 * each but strands (a run on its slot; each strand on a slot of its own),
 * and TASK_LEVEL tasks, one a strand up to one a thread, take the strands
 * a unit of blocks at a time, the one with the most work left first. A
 * run a task left the worker idle for as long as the caller read the next
 * step before it took its task (0.47 of 2.17 ms a step, 8 channels at 96
 * kHz, 31 bands); leveled, the worker runs both strands until the caller
 * comes, and both threads finish together. */
/* A unit holds whole blocks, at least this many frames: a lock a unit. */
#define UNIT_FRAMES 2048
/* A thread keeps its strand while no other has more work left than it
 * plus this many of its own units: moving a strand to another thread moves
 * its cascades' state to that core. */
#define STAY_UNITS 1
/* A step's tasks with strands: the taps' parts and the levelers. */
_Static_assert(2 * RA_WELCH_MAX_PARTS + RA_WORKERS_MAX <= RA_WORKERS_TASKS_MAX,
	       "a step with strands must fit in a batch");

typedef struct strand {
	slot *s;
	int first, last; /* channel pairs */
	size_t next;	 /* its first block not yet taken */
	int busy;
} strand;

/* The conversions of two channels between a block and the cascades. */
typedef void (*take_pair_fn)(const float *in, size_t frames, int channels, int c, float gain,
			     double *x, double *y);
typedef void (*put_pair_fn)(const double *x, const double *y, size_t frames, int channels, int c,
			    float *out);

struct ra_processor {
	int channels;
	size_t max_frames;
	size_t held_blocks; /* the caller's queue of finished blocks */
	float gain;
	int band_count;
	ra_biquad_coeffs bands[RA_EQ_MAX_BANDS];
	kernel kernel;
	ra_workers *workers; /* NULL: every step runs inline */
	int threads;
	double *scratch;   /* per thread and the caller: two channels of one block, planar */
	take_pair_fn take; /* take_pair() and put_pair(), this CPU's fastest builds */
	put_pair_fn put;
	tap tap_in, tap_out;
	void (*rows_ready)(void *ctx);
	void *rows_ctx;

	/* Band groups: group g holds bands [group_first[g], group_first[g + 1]). */
	int groups;
	int group_first[MAX_GROUPS + 1];
	ra_cascade **cascades; /* [channel * groups + group] */
	/* Channel runs (one band group): run r holds channel pairs
	 * [run_first[r], run_first[r + 1]). */
	int runs;
	int run_first[MAX_GROUPS + 1];
	size_t step_blocks; /* the most a step carries */
	size_t step_now;    /* what the next step carries */
	int steps_at_size;  /* steps admitted since step_now last grew */
	size_t work_stride; /* doubles per channel in a work buffer */
	phase phases[MAX_PHASES];
	int phase_count;

	ra_pool *block_pool; /* NULL for the reference, which mallocs */
	ra_pool *work_pool;  /* only with several band groups */

	/* Slots: one filling, and in flight at most one per phase (oldest first). */
	slot *slots;
	int slot_count;
	slot *filling;
	slot **in_flight;
	int in_flight_count;
	int step_started; /* a step ran or runs: its slots move on at finish */
	uint64_t batch;	  /* that step's ticket while it is on the workers, else 0 */

	/* Finished blocks waiting to be handed back, in order. */
	float **done;
	size_t *done_frames;
	size_t done_cap, done_head, done_count;

	ra_task tasks[RA_WORKERS_TASKS_MAX];
	task_arg args[RA_WORKERS_TASKS_MAX];
	size_t task_count; /* in the step in flight */

	/* The strands of the step in flight, at most one a run: their next
	 * and busy under strand_lock; the time of a unit goes to its slot's
	 * eq_ns from the thread that holds the strand (a slot has one). */
	strand strands[MAX_GROUPS];
	int strand_count;
	size_t unit_blocks;
	pthread_mutex_t strand_lock;
	int strand_lock_made;

	ra_histogram *eq_time, *spectrum_time; /* or NULL */

	/* The reference kernel's filter state: [channel * band_count + band]. */
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

/* The first two channels of frames STRIDE floats apart, as take_channel()
 * takes each, to X and Y: one pass over the block. */
#define PAIR_INLINE static inline __attribute__((always_inline))

PAIR_INLINE void take_two(const float *in, size_t frames, size_t stride, float gain, double *x,
			  double *y)
{
	for (size_t n = 0; n < frames; n++) {
		x[n] = (double)(in[n * stride] * gain);
		y[n] = (double)(in[n * stride + 1] * gain);
	}
}

/* Channels C and C + 1 of IN to X and Y; a stereo block's with the
 * stride a constant, so that the loop vectorizes. */
PAIR_INLINE void take_pair(const float *in, size_t frames, int channels, int c, float gain,
			   double *x, double *y)
{
	if (channels == 2)
		take_two(in, frames, 2, gain, x, y);
	else
		take_two(in + c, frames, (size_t)channels, gain, x, y);
}

/* X and Y back into the first two channels of frames STRIDE floats
 * apart, as put_channel() puts each. */
PAIR_INLINE void put_two(const double *x, const double *y, size_t frames, size_t stride, float *out)
{
	for (size_t n = 0; n < frames; n++) {
		out[n * stride] = (float)x[n];
		out[n * stride + 1] = (float)y[n];
	}
}

PAIR_INLINE void put_pair(const double *x, const double *y, size_t frames, int channels, int c,
			  float *out)
{
	if (channels == 2)
		put_two(x, y, frames, 2, out);
	else
		put_two(x, y, frames, (size_t)channels, out + c);
}

/* take_pair() and put_pair() built for each instruction set: with the
 * baseline's SSE2 alone they took a third of a stereo EQ's time. Each
 * build performs the same conversions, so all give the same bits. */
#define PAIR_BUILD(name, attr)                                                                     \
	attr static void take_pair_##name(const float *in, size_t frames, int channels, int c,     \
					  float gain, double *x, double *y)                        \
	{                                                                                          \
		take_pair(in, frames, channels, c, gain, x, y);                                    \
	}                                                                                          \
	attr static void put_pair_##name(const double *x, const double *y, size_t frames,          \
					 int channels, int c, float *out)                          \
	{                                                                                          \
		put_pair(x, y, frames, channels, c, out);                                          \
	}

PAIR_BUILD(generic, )
#ifdef RA_HAVE_X86
PAIR_BUILD(avx2, __attribute__((target("avx2"))))
PAIR_BUILD(avx512, __attribute__((target("avx512f"))))
#endif

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

/* ------------------------------------------------------------ create */

static int config_valid(const ra_processor_config *cfg, ra_diag *diag)
{
	if (cfg->channels >= 1 && cfg->channels <= RA_MAX_CHANNELS && cfg->max_frames >= 1 &&
	    cfg->band_count >= 0 && cfg->band_count <= RA_EQ_MAX_BANDS &&
	    (cfg->band_count == 0 || cfg->bands))
		return 1;
	ra_diag_set(diag,
		    "processor config out of range: channels %d (1 to %d), max_frames %zu "
		    "(1 or more), band_count %d (0 to %d)%s",
		    cfg->channels, RA_MAX_CHANNELS, cfg->max_frames, cfg->band_count,
		    RA_EQ_MAX_BANDS, cfg->band_count && !cfg->bands ? " without bands" : "");
	return 0;
}

static void copy_config(ra_processor *p, const ra_processor_config *cfg)
{
	p->channels = cfg->channels;
	p->max_frames = cfg->max_frames;
	p->held_blocks = cfg->held_blocks;
	p->gain = cfg->gain;
	p->band_count = cfg->band_count;
	if (cfg->band_count)
		memcpy(p->bands, cfg->bands, (size_t)cfg->band_count * sizeof(*p->bands));
	p->tap_in.w = cfg->tap_in;
	p->tap_out.w = cfg->tap_out;
	p->rows_ready = cfg->rows_ready;
	p->rows_ctx = cfg->rows_ctx;
	p->eq_time = cfg->eq_time;
	p->spectrum_time = cfg->spectrum_time;
}

/* Split the bands into GROUPS runs of nearly equal size, whole SIMD
 * vectors of four bands where possible; no more groups than vectors. */
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

/* The phases every slot goes through, in order. With one band group:
 * [input tap], the kernel on each block, a phase for each run of channel
 * pairs (none for a gain of 1 alone when a tap is there to do the work),
 * [output tap]. With several (a
 * wavefront: each group works on another slot at once): conversion to the
 * work buffer (with the input tap beside it: both only read the blocks),
 * each group in turn, conversion back, [output tap]. */
static void build_phases(ra_processor *p)
{
	const int unity_with_taps =
		p->kernel == KERNEL_GAIN && p->gain == 1.0f && (p->tap_in.w || p->tap_out.w);
	int n = 0;

	if (p->groups == 1) {
		if (p->tap_in.w)
			p->phases[n++] = (phase){ TASK_TAP_IN, 0 };
		for (int r = 0; r < p->runs && !unity_with_taps; r++)
			p->phases[n++] = (phase){ TASK_FUSED, r };
	} else {
		p->phases[n++] = (phase){ TASK_DEINTERLEAVE, 0 };
		for (int g = 0; g < p->groups; g++)
			p->phases[n++] = (phase){ TASK_FILTER, g };
		p->phases[n++] = (phase){ TASK_INTERLEAVE, 0 };
	}
	if (p->tap_out.w)
		p->phases[n++] = (phase){ TASK_TAP_OUT, 0 };
	p->phase_count = n;
}

/* Tap T's rows a step stay within RA_WELCH_ROW_BUDGET: no more blocks a
 * step than its batch holds, and at least one. When one block already
 * holds more, the caller's thread feeds the tap a batch at a time and
 * hands each batch's rows over; without rows_ready to hand them to, a
 * block's rows are held. */
static void bound_rows(ra_processor *p, tap *t)
{
	size_t batch = ra_welch_batch_frames(t->w), blocks = batch / p->max_frames;

	if (blocks == 0 && p->rows_ready)
		t->batch = batch;
	else if (blocks < p->step_blocks)
		p->step_blocks = blocks > 0 ? blocks : 1;
}

/* Blocks a step of FRAMES frames takes: at least one, at most
 * MAX_STEP_BLOCKS and STEP_SAMPLES samples' worth. */
static size_t step_blocks_for(const ra_processor *p, size_t frames)
{
	const size_t most = STEP_SAMPLES / (size_t)p->channels;
	size_t blocks = ((frames < most ? frames : most) + p->max_frames - 1) / p->max_frames;

	return blocks < 1 ? 1 : blocks > MAX_STEP_BLOCKS ? MAX_STEP_BLOCKS : blocks;
}

/* The steps start at STEP_FRAMES (within the most a step carries). */
static void restart_steps(ra_processor *p)
{
	p->step_now = step_blocks_for(p, STEP_FRAMES);
	if (p->step_now > p->step_blocks)
		p->step_now = p->step_blocks;
	p->steps_at_size = 0;
}

/* A stream said to fill fewer than SHORT_STEPS steps. One channel pair
 * of it runs inline: filling the pipeline and draining it, and a worker's
 * wake-ups, cost it more than overlapping its steps gains (measured: 50
 * files of 10 s, 7 steps each, took 0.290 s on the pool against 0.243 s
 * inline). */
#define SHORT_STEPS 16
static int few_steps(const ra_processor *p, const ra_processor_config *cfg)
{
	const uint64_t step = step_blocks_for(p, STEP_FRAMES) * p->max_frames;

	return cfg->stream_frames > 0 && cfg->stream_frames < SHORT_STEPS * step;
}

/* With one band group on several threads, the channel pairs in a run a
 * thread, a phase each (a wavefront, as the band groups): the tasks of a
 * step then work on different slots, each on its blocks one at a time. A
 * task a pair, all on the same slot at once, passed over the slot once a
 * pair, and the cores wrote the same cache lines of its interleaved
 * blocks at once: 8 channels at 96 kHz, 31 bands, 2 threads took 745 ms
 * of CPU and 0.434 s; in two runs 607 ms and 0.392 s; in four runs 651 ms
 * and 0.402 s (perf stat, 5 rounds; 1 thread 531 ms). Not for a stream
 * that fills few steps: the wavefront's filling and draining would leave
 * a core idle for most of it. */
static void split_pairs(ra_processor *p, const ra_processor_config *cfg)
{
	const int pairs = (p->channels + 1) / 2;
	int runs = p->threads;

	if (p->kernel != KERNEL_CASCADE || p->groups > 1 || few_steps(p, cfg))
		runs = 1;
	if (runs > pairs)
		runs = pairs;
	if (runs > MAX_GROUPS)
		runs = MAX_GROUPS;
	p->runs = runs;
	for (int r = 0; r <= runs; r++)
		p->run_first[r] = pairs * r / runs;
}

/* The kernel, the threads, the band groups and the blocks a step carries.
 * The reference runs inline, a block a step; so does the gain alone,
 * unless a tap's parts can share the threads (the spectra, not the gain,
 * are the work then). The cascades take enough band groups that channels
 * x groups keeps every thread busy; with one thread, no wavefront and no
 * batching. */
static void plan_schedule(ra_processor *p, const ra_processor_config *cfg)
{
	int groups = 1, pooled;
	const int split = ra_welch_parts(p->tap_in.w) > 1 || ra_welch_parts(p->tap_out.w) > 1;

	if (cfg->reference)
		p->kernel = KERNEL_REFERENCE;
	else if (cfg->band_count == 0)
		p->kernel = KERNEL_GAIN;
	else
		p->kernel = KERNEL_CASCADE;
	pooled = p->kernel == KERNEL_CASCADE || (p->kernel == KERNEL_GAIN && split);
	p->workers = pooled && !(p->channels <= 2 && few_steps(p, cfg)) ? cfg->workers : NULL;
	p->threads = p->workers ? ra_workers_threads(p->workers) : 1;
	p->step_blocks = 1;
	if (p->threads > 1) {
		groups = (p->threads + p->channels - 1) / p->channels;
		if (groups > MAX_GROUPS)
			groups = MAX_GROUPS;
		p->step_blocks = step_blocks_for(p, MOST_STEP_FRAMES);
	}
	bound_rows(p, &p->tap_in);
	bound_rows(p, &p->tap_out);
	restart_steps(p);
	split_bands(p, groups);
	split_pairs(p, cfg);
	build_phases(p);
}

/* The kernel's filter state: a cascade per channel and band group, or the
 * reference's biquad states. */
static ra_status create_filters(ra_processor *p, ra_diag *diag)
{
	size_t n = (size_t)p->channels * (size_t)p->groups;

	if (p->kernel == KERNEL_REFERENCE) {
		p->ref_state = calloc((size_t)p->channels * (size_t)(p->band_count + 1),
				      sizeof(*p->ref_state));
		return p->ref_state ? RA_OK : RA_ERR_NOMEM;
	}
	if (p->kernel != KERNEL_CASCADE)
		return RA_OK;
	p->take = RA_CPU_PICK(ra_cpu_isa(), take_pair_generic, take_pair_avx2, take_pair_avx512);
	p->put = RA_CPU_PICK(ra_cpu_isa(), put_pair_generic, put_pair_avx2, put_pair_avx512);
	p->cascades = calloc(n, sizeof(*p->cascades));
	if (!p->cascades)
		return RA_ERR_NOMEM;
	for (int c = 0; c < p->channels; c++) {
		for (int g = 0; g < p->groups; g++) {
			int first = p->group_first[g];
			ra_status st;

			p->cascades[c * p->groups + g] = ra_cascade_create(
				p->bands + first, p->group_first[g + 1] - first, &st, diag);
			if (!p->cascades[c * p->groups + g])
				return st;
		}
	}
	return RA_OK;
}

/* Everything the schedule needs, made now so that warm blocks allocate
 * nothing: a slot per phase plus the one filling; pooled blocks for all of
 * them, the finished ones queued and the caller's read and write blocks; a
 * work buffer per slot; scratch for the fused cascades; the strands' lock. */
static ra_status create_buffers(ra_processor *p, ra_diag *diag)
{
	size_t slots = (size_t)p->phase_count + 1;
	ra_status st = RA_OK;

	p->slot_count = (int)slots;
	p->done_cap = (slots + 1) * p->step_blocks;
	if (p->kernel != KERNEL_REFERENCE) {
		p->block_pool = ra_pool_create(
			p->max_frames * (size_t)p->channels * sizeof(float),
			p->done_cap + slots * p->step_blocks + 2 + p->held_blocks, &st, diag);
		if (!p->block_pool)
			return st;
	}
	if (p->groups > 1) {
		p->work_stride = (p->step_blocks * p->max_frames + 7) & ~(size_t)7;
		p->work_pool = ra_pool_create(p->work_stride * (size_t)p->channels * sizeof(double),
					      slots + 1, &st, diag);
		if (!p->work_pool)
			return st;
	}
	if (p->kernel == KERNEL_CASCADE) {
		/* A block's pair for each worker and for the caller, which
		 * helps (worker THREADS); aligned as the pools' buffers: the
		 * kernels' vectors must not straddle cache lines. */
		size_t bytes = ((size_t)p->threads + 1) * 2 * p->max_frames * sizeof(*p->scratch);

		p->scratch = aligned_alloc(RA_POOL_ALIGN, (bytes + RA_POOL_ALIGN - 1) /
								  RA_POOL_ALIGN * RA_POOL_ALIGN);
		if (!p->scratch)
			return RA_ERR_NOMEM;
	}
	if (p->runs > 1) {
		p->unit_blocks = (UNIT_FRAMES + p->max_frames - 1) / p->max_frames;
		if (pthread_mutex_init(&p->strand_lock, NULL))
			return RA_ERR_NOMEM;
		p->strand_lock_made = 1;
	}
	p->slots = calloc(slots, sizeof(*p->slots));
	p->in_flight = calloc(slots, sizeof(*p->in_flight));
	p->done = calloc(p->done_cap, sizeof(*p->done));
	p->done_frames = calloc(p->done_cap, sizeof(*p->done_frames));
	if (!p->slots || !p->in_flight || !p->done || !p->done_frames)
		return RA_ERR_NOMEM;
	p->filling = &p->slots[0];
	return RA_OK;
}

ra_processor *ra_processor_create(const ra_processor_config *cfg, ra_status *status, ra_diag *diag)
{
	ra_status st = RA_ERR_INVALID;
	ra_processor *p = NULL;

	if (!config_valid(cfg, diag))
		goto out;
	st = RA_ERR_NOMEM;
	p = calloc(1, sizeof(*p));
	if (!p)
		goto out;
	copy_config(p, cfg);
	plan_schedule(p, cfg);
	st = create_filters(p, diag);
	if (st == RA_OK)
		st = create_buffers(p, diag);
	if (st != RA_OK) {
		ra_processor_destroy(p);
		p = NULL;
	}
out:
	if (st == RA_ERR_NOMEM)
		ra_diag_set(diag,
			    "cannot allocate a processor for %d channels in blocks of %zu frames",
			    cfg->channels, cfg->max_frames);
	if (status)
		*status = st;
	return p;
}

/* ------------------------------------------------------------ kernels */

/* The plain pipeline: scalar double per sample, a buffer allocated per
 * block. The baseline for benchmarks and tests. */
static ra_status reference_block(ra_processor *p, float *block, size_t frames)
{
	double *x = malloc((frames ? frames : 1) * sizeof(*x));
	const float gain = p->gain; /* a local: the block cannot alias it */

	if (!x)
		return RA_ERR_NOMEM;
	for (size_t i = 0; i < frames * (size_t)p->channels; i++)
		block[i] *= gain;
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
	return RA_OK;
}

/* The cascades of channel pairs [FIRST, LAST) on one block, in WORKER's
 * scratch: with a single band group the data stays in cache and crosses
 * no thread. */
static void cascade_block(ra_processor *p, float *block, size_t frames, int first, int last,
			  int worker)
{
	double *x = p->scratch + (size_t)worker * 2 * p->max_frames, *y = x + p->max_frames;
	const int ch = p->channels;

	for (int u = first; u < last; u++) {
		int c = 2 * u;

		if (c + 1 < ch) {
			p->take(block, frames, ch, c, p->gain, x, y);
			ra_cascade_process2(p->cascades[c], x, p->cascades[c + 1], y, frames);
			p->put(x, y, frames, ch, c, block);
		} else {
			take_channel(block, frames, ch, c, p->gain, x);
			ra_cascade_process(p->cascades[c], x, frames);
			put_channel(x, frames, ch, c, block);
		}
	}
}

/* Task T's share of the kernel on every block of its slot. */
static ra_status run_kernel(ra_processor *p, const task_arg *t, int worker)
{
	const slot *s = t->s;
	ra_status st = RA_OK;

	for (size_t b = 0; b < s->count; b++) {
		if (p->kernel == KERNEL_CASCADE)
			cascade_block(p, s->blocks[b], s->frames[b], t->first, t->last, worker);
		else if (p->kernel == KERNEL_GAIN)
			ra_samples_scale(s->blocks[b], s->frames[b] * (size_t)p->channels, p->gain);
		else if (st == RA_OK)
			st = reference_block(p, s->blocks[b], s->frames[b]);
	}
	return st;
}

/* Band group T->group on channel pairs [first, last) of the work buffer.
 * Channels in pairs: two cascades in one loop hide each other's latency. */
static void filter_work(ra_processor *p, const task_arg *t)
{
	const slot *s = t->s;

	for (int u = t->first; u < t->last; u++) {
		int c = 2 * u;
		double *x = s->work + (size_t)c * p->work_stride;

		if (c + 1 < p->channels)
			ra_cascade_process2(p->cascades[c * p->groups + t->group], x,
					    p->cascades[(c + 1) * p->groups + t->group],
					    x + p->work_stride, s->total);
		else
			ra_cascade_process(p->cascades[c * p->groups + t->group], x, s->total);
	}
}

/* Under strand_lock: the strand to run a unit of next, or NULL when every
 * one with blocks left is running. The most work left (channel pairs x
 * blocks) first, MINE (the one this thread just ran) given STAY_UNITS
 * units more. */
static strand *pick_strand(ra_processor *p, const strand *mine)
{
	strand *best = NULL;
	size_t best_left = 0;

	for (int i = 0; i < p->strand_count; i++) {
		strand *s = &p->strands[i];
		size_t stay = s == mine ? STAY_UNITS * p->unit_blocks : 0,
		       left = (s->s->count - s->next + stay) * (size_t)(s->last - s->first);

		if (!s->busy && s->next < s->s->count && (!best || left > best_left)) {
			best = s;
			best_left = left;
		}
	}
	return best;
}

/* A TASK_LEVEL: units of the step's strands until none is left free. A
 * thread leaves only when every strand with blocks left is running on
 * another thread, which picks again after its unit: every block is run. */
static void level(ra_processor *p, int worker)
{
	strand *s = NULL;

	pthread_mutex_lock(&p->strand_lock);
	for (;;) {
		size_t at, end;
		uint64_t start;

		if (s)
			s->busy = 0;
		s = pick_strand(p, s);
		if (!s)
			break;
		s->busy = 1;
		at = s->next;
		end = at + p->unit_blocks < s->s->count ? at + p->unit_blocks : s->s->count;
		s->next = end;
		pthread_mutex_unlock(&p->strand_lock);
		start = p->eq_time ? ra_now_ns() : 0;
		for (size_t b = at; b < end; b++)
			cascade_block(p, s->s->blocks[b], s->s->frames[b], s->first, s->last,
				      worker);
		if (p->eq_time)
			s->s->eq_ns += ra_now_ns() - start;
		pthread_mutex_lock(&p->strand_lock);
	}
	pthread_mutex_unlock(&p->strand_lock);
}

static tap *tap_for(ra_processor *p, task_kind kind)
{
	return kind == TASK_TAP_IN ? &p->tap_in : &p->tap_out;
}

static void run_task(void *arg, int worker)
{
	task_arg *t = arg;
	ra_processor *p = t->p;
	slot *s = t->s;
	uint64_t start = p->eq_time ? ra_now_ns() : 0;

	t->st = RA_OK;
	switch (t->kind) {
	case TASK_DEINTERLEAVE:
		for (int b = t->first; b < t->last; b++)
			deinterleave(s->blocks[b], s->frames[b], p->channels, p->gain,
				     s->work + s->offset[b], p->work_stride);
		break;
	case TASK_TAP_IN:
	case TASK_TAP_OUT:
		for (size_t b = 0; b < s->count; b++)
			ra_welch_feed_part(tap_for(p, t->kind)->w, t->first, s->blocks[b],
					   s->frames[b]);
		break;
	case TASK_FILTER:
		filter_work(p, t);
		break;
	case TASK_FUSED:
		t->st = run_kernel(p, t, worker);
		break;
	case TASK_LEVEL:
		level(p, worker);
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

/* ------------------------------------------------------------ scheduling */

static void run_tasks(ra_processor *p, size_t count)
{
	p->task_count = count;
	if (!p->workers || p->threads == 1) {
		for (size_t i = 0; i < count; i++)
			run_task(&p->args[i], 0);
		return;
	}
	p->batch = ra_workers_submit_helped(p->workers, p->tasks, count);
}

/* Up to PARTS tasks of KIND over [FIRST, LAST) of slot S, from task N on. */
static size_t add_tasks(ra_processor *p, size_t n, slot *s, task_kind kind, int group, int first,
			int last, int parts)
{
	int per = (last - first + parts - 1) / parts;

	for (int i = first; i < last && n < RA_WORKERS_TASKS_MAX; i += per) {
		task_arg *a = &p->args[n];

		a->p = p;
		a->s = s;
		a->kind = kind;
		a->group = group;
		a->first = i;
		a->last = i + per < last ? i + per : last;
		p->tasks[n].fn = run_task;
		p->tasks[n].arg = a;
		n++;
	}
	return n;
}

/* Slot S's tap of KIND: a task a part from task N on, or fed here when
 * the step is collected. */
static size_t add_tap(ra_processor *p, size_t n, slot *s, task_kind kind)
{
	tap *t = tap_for(p, kind);
	const int parts = ra_welch_parts(t->w);

	if (!t->batch)
		return add_tasks(p, n, s, kind, 0, 0, parts, parts);
	t->pending = s;
	return n;
}

/* Channel run RUN on slot S, as a strand. */
static void add_strand(ra_processor *p, slot *s, int run)
{
	p->strands[p->strand_count++] =
		(strand){ .s = s, .first = p->run_first[run], .last = p->run_first[run + 1] };
}

/* The tasks of slot S's next phase, from task N on, its work split into
 * up to PARTS tasks: blocks to convert, channel pairs to filter (with
 * several channel runs, the run as a strand instead), or the whole blocks
 * for the reference and gain kernels. */
static size_t add_phase(ra_processor *p, size_t n, slot *s, int parts)
{
	const phase *ph = &p->phases[s->phase];
	int units = (p->channels + 1) / 2;

	switch (ph->kind) {
	case TASK_TAP_IN:
	case TASK_TAP_OUT:
		return add_tap(p, n, s, ph->kind);
	case TASK_DEINTERLEAVE:
		if (p->tap_in.w)
			n = add_tap(p, n, s, TASK_TAP_IN);
		/* fall through */
	case TASK_INTERLEAVE:
		units = (int)s->count;
		break;
	case TASK_FUSED:
		if (p->kernel != KERNEL_CASCADE)
			return add_tasks(p, n, s, ph->kind, 0, 0, 1, 1);
		if (p->runs == 1)
			break;
		add_strand(p, s, ph->group);
		return n;
	case TASK_LEVEL: /* not a phase: start_step() adds it */
		return n;
	case TASK_FILTER:
		break;
	}
	return add_tasks(p, n, s, ph->kind, ph->group, 0, units, parts);
}

static void queue_done(ra_processor *p, float *block, size_t frames)
{
	size_t tail = p->done_head + p->done_count;

	if (tail >= p->done_cap)
		tail -= p->done_cap; /* a ring: no division a block */

	p->done[tail] = block;
	p->done_frames[tail] = frames;
	p->done_count++;
}

static int pop_done(ra_processor *p, float **done, size_t *done_frames)
{
	if (!p->done_count)
		return 0;
	*done = p->done[p->done_head];
	*done_frames = p->done_frames[p->done_head];
	if (++p->done_head == p->done_cap)
		p->done_head = 0;
	p->done_count--;
	return 1;
}

/* Slot S went through every phase: its time to the histograms, its blocks
 * out in order, the slot free again. */
static void retire_slot(ra_processor *p, slot *s)
{
	if (p->eq_time) {
		ra_histogram_add_spread(p->eq_time, s->eq_ns, s->count);
		if (p->tap_in.w || p->tap_out.w)
			ra_histogram_add_spread(p->spectrum_time, s->spectrum_ns, s->count);
	}
	for (size_t b = 0; b < s->count; b++)
		queue_done(p, s->blocks[b], s->frames[b]);
	if (s->work)
		ra_pool_release(p->work_pool, s->work);
	/* Not a memset: the block arrays are kilobytes, and count says how
	 * much of them holds anything. */
	s->count = 0;
	s->work = NULL;
	s->eq_ns = 0;
	s->spectrum_ns = 0;
}

/* The rows the taps made in the step just collected can be taken: no
 * task runs now, and the caller takes them on this thread. */
static ra_status publish_rows(ra_processor *p)
{
	ra_status in = ra_welch_publish_rows(p->tap_in.w),
		  out = ra_welch_publish_rows(p->tap_out.w);

	return in != RA_OK ? in : out;
}

/* Tap T's slot in the step in flight, if T is fed here: every block, a
 * batch at a time, each batch's rows published and handed to the caller
 * before the next is made, while the workers run the rest of the step
 * (the feeding and publishing timed as the slot's spectrum work). A
 * publish that fails hands nothing more over; finish_step() reports it. */
static void feed_here(ra_processor *p, tap *t)
{
	slot *s = t->pending;

	t->pending = NULL;
	for (size_t b = 0; s && b < s->count; b++) {
		for (size_t at = 0, n; at < s->frames[b]; at += n) {
			uint64_t start = p->eq_time ? ra_now_ns() : 0;
			ra_status st;

			n = s->frames[b] - at < t->batch ? s->frames[b] - at : t->batch;
			ra_welch_feed(t->w, s->blocks[b] + at * (size_t)p->channels, n);
			st = ra_welch_publish_rows(t->w);
			if (p->eq_time)
				s->spectrum_ns += ra_now_ns() - start;
			if (st == RA_OK)
				p->rows_ready(p->rows_ctx);
		}
	}
}

/* Wait for the step in flight (handing rows over and feeding the taps fed
 * here meanwhile); every slot in it is one phase further, its taps' rows
 * published, and slots through every phase hand their blocks out. The
 * first error of its tasks, then of the publishing. */
static ra_status finish_step(ra_processor *p)
{
	ra_status st = RA_OK, published;
	int kept = 0;

	if (!p->step_started)
		return RA_OK;
	p->step_started = 0;
	/* What the last publish left untaken goes first (a pull that runs
	 * several steps), while the workers run this one. */
	if (p->rows_ready)
		p->rows_ready(p->rows_ctx);
	feed_here(p, &p->tap_in);
	feed_here(p, &p->tap_out);
	if (p->batch) {
		ra_workers_wait_for(p->workers, p->batch);
		p->batch = 0;
	}
	for (size_t i = 0; i < p->task_count; i++) {
		const task_arg *t = &p->args[i];

		if (st == RA_OK)
			st = t->st;
		if (!p->eq_time || t->kind == TASK_LEVEL)
			continue;
		if (t->kind == TASK_TAP_IN || t->kind == TASK_TAP_OUT)
			t->s->spectrum_ns += t->ns;
		else
			t->s->eq_ns += t->ns;
	}
	published = publish_rows(p);
	st = st != RA_OK ? st : published;
	for (int i = 0; i < p->in_flight_count; i++) {
		slot *s = p->in_flight[i];

		if (++s->phase < p->phase_count)
			p->in_flight[kept++] = s;
		else
			retire_slot(p, s);
	}
	p->in_flight_count = kept;
	return st;
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
	return NULL; /* cannot happen: a slot per phase in flight, plus one */
}

/* The filling slot goes in flight at its first phase. */
static ra_status admit(ra_processor *p)
{
	slot *s = p->filling;
	size_t at = 0;

	if (p->work_pool) {
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
	if (p->step_now < p->step_blocks && ++p->steps_at_size == GROW_STEPS) {
		p->step_now = 2 * p->step_now < p->step_blocks ? 2 * p->step_now : p->step_blocks;
		p->steps_at_size = 0;
	}
	return RA_OK;
}

/* Start the next step: admit the filling slot if ADMIT_FILLING, then every
 * slot in flight runs its next phase, all at once on the workers. */
static ra_status start_step(ra_processor *p, int admit_filling)
{
	int parts = 2 * p->threads;
	size_t n = 0;

	if (admit_filling) {
		ra_status st = admit(p);

		if (st != RA_OK)
			return st;
	}
	/* A slot per phase: the conversions and the groups take up to PARTS
	 * tasks each, a tap one a part, so a step stays within
	 * RA_WORKERS_TASKS_MAX (with strands, see the assertion on it). */
	if (parts > (RA_WORKERS_TASKS_MAX - 2 * RA_WELCH_MAX_PARTS) / (MAX_GROUPS + 2))
		parts = (RA_WORKERS_TASKS_MAX - 2 * RA_WELCH_MAX_PARTS) / (MAX_GROUPS + 2);
	p->strand_count = 0;
	for (int i = 0; i < p->in_flight_count; i++)
		n = add_phase(p, n, p->in_flight[i], parts);
	if (p->strand_count) {
		/* A thread a strand at most: more would only take the lock and leave. */
		int levelers = p->strand_count < p->threads ? p->strand_count : p->threads;

		n = add_tasks(p, n, NULL, TASK_LEVEL, 0, 0, levelers, levelers);
	}
	run_tasks(p, n);
	p->step_started = 1;
	return RA_OK;
}

/* The next step, after collecting the one in flight. Inline, nothing
 * overlaps: the slots in flight go through every phase now, whatever
 * fails on the way, so that none is left half done. */
static ra_status step(ra_processor *p, int admit_filling)
{
	ra_status st = finish_step(p), next;

	next = start_step(p, admit_filling);
	st = st != RA_OK ? st : next;
	while (!p->batch && p->in_flight_count > 0) {
		next = finish_step(p);
		st = st != RA_OK ? st : next;
		if (p->in_flight_count > 0)
			start_step(p, 0);
	}
	return st;
}

/* ------------------------------------------------------------ the API */

float *ra_processor_acquire(ra_processor *p)
{
	if (p->kernel == KERNEL_REFERENCE)
		return malloc(p->max_frames * (size_t)p->channels * sizeof(float));
	return ra_pool_acquire(p->block_pool);
}

void ra_processor_release(ra_processor *p, float *block)
{
	if (!p)
		return;
	if (p->kernel == KERNEL_REFERENCE)
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
	/* The gain is applied by the kernel, after the input tap. */
	p->filling->blocks[p->filling->count] = block;
	p->filling->frames[p->filling->count] = frames;
	p->filling->count++;
	p->frames += frames;
	if (p->filling->count == p->step_now)
		st = step(p, 1);
	pop_done(p, done, done_frames);
	return st;
}

void ra_processor_help(ra_processor *p)
{
	if (p->batch)
		ra_workers_help(p->workers, p->batch);
}

ra_status ra_processor_pull(ra_processor *p, float **done, size_t *done_frames)
{
	*done = NULL;
	*done_frames = 0;
	while (!pop_done(p, done, done_frames)) {
		/* Collect the step in flight (if any) and what it finished. */
		ra_status st = finish_step(p);

		if (st == RA_OK && !p->done_count) {
			if (p->filling->count > 0)
				st = start_step(p, 1);
			else if (p->in_flight_count > 0)
				st = start_step(p, 0);
			else
				break;
		}
		if (st != RA_OK)
			return st;
	}
	return RA_OK;
}

/* Push the one block and pull until it is out: nothing else is in flight. */
ra_status ra_processor_process(ra_processor *p, float *block, size_t frames)
{
	float *done;
	size_t done_frames;
	ra_status st = ra_processor_push(p, block, frames, &done, &done_frames);

	while (st == RA_OK && !done)
		st = ra_processor_pull(p, &done, &done_frames);
	if (!done)
		p->filling->count = 0; /* never admitted: the block stays the caller's */
	return st;
}

void ra_processor_reset(ra_processor *p)
{
	restart_steps(p);
	if (p->ref_state)
		memset(p->ref_state, 0,
		       (size_t)p->channels * (size_t)(p->band_count + 1) * sizeof(*p->ref_state));
	for (int i = 0; p->cascades && i < p->channels * p->groups; i++)
		ra_cascade_reset(p->cascades[i]);
}

void ra_processor_get_stats(const ra_processor *p, ra_processor_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	stats->kernel = p->kernel == KERNEL_REFERENCE ? "reference"
			: p->cascades		      ? ra_cascade_name(p->cascades[0])
						      : ra_cascade_kernel();
	stats->band_groups = p->groups;
	stats->channel_runs = p->runs;
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
	if (p->batch)
		ra_workers_wait_for(p->workers, p->batch);
	for (int i = 0; p->cascades && i < p->channels * p->groups; i++)
		ra_cascade_destroy(p->cascades[i]);
	free(p->cascades);
	/* Blocks still inside (a caller that stopped early) go back first. */
	for (int i = 0; p->slots && i < p->slot_count; i++) {
		for (size_t b = 0; b < p->slots[i].count; b++)
			ra_processor_release(p, p->slots[i].blocks[b]);
		if (p->slots[i].work)
			ra_pool_release(p->work_pool, p->slots[i].work);
	}
	for (size_t i = 0; i < p->done_count; i++)
		ra_processor_release(p, p->done[(p->done_head + i) % p->done_cap]);
	ra_pool_destroy(p->work_pool);
	ra_pool_destroy(p->block_pool);
	free(p->slots);
	free(p->in_flight);
	free(p->done);
	free(p->done_frames);
	free(p->ref_state);
	free(p->scratch);
	if (p->strand_lock_made)
		pthread_mutex_destroy(&p->strand_lock);
	free(p);
}
