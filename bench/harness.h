/* The small harness every `make bench` program shares: options, a clock,
 * cases measured round-robin with median and spread, aligned tables with
 * ratios, and baselines kept in bench/results/NAME.tsv (--save, --compare).
 *
 * Options, the same for every program (make bench BENCH_ARGS="..."):
 *   --quick          short runs for a smoke test (work and repeats cut down)
 *   --repeats N      timed runs of each case (default 7, quick 3)
 *   --seconds S      seconds of 48 kHz audio a run, for the audio groups
 *   --save NAME      keep this program's results in bench/results/NAME.tsv
 *   --compare NAME   print the baseline NAME beside each result
 * A usage error exits 2; a missing baseline exits 1 before anything runs. */
#ifndef RA_BENCH_HARNESS_H
#define RA_BENCH_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "rustyaudio/biquad.h"

#define BENCH_RATE 48000   /* Hz, for every audio group */
#define BENCH_BLOCK 1024   /* frames a block, as the file path reads them */
#define BENCH_MAX_CASES 16 /* in one table */
/* The audio groups cycle through about 4 s of seeded noise, whole blocks. */
#define BENCH_SOURCE_FRAMES (BENCH_RATE * 4 / BENCH_BLOCK * BENCH_BLOCK)

typedef struct bench_row bench_row;

/* One program's run. Fill it with bench_init(), finish with bench_finish(). */
typedef struct bench {
	const char *prog;  /* "bench_eq": for messages */
	const char *group; /* "eq": the rows' prefix in a baseline file */
	int quick;
	int repeats;
	double seconds; /* audio a run; the group's default until --seconds */
	const char *save, *compare;
	bench_row *rows, *base; /* measured so far; the baseline's (--compare) */
	size_t nrows, nbase;
	int header_done; /* the column headings are out */
} bench;

/* One timed run of a case: does the work and returns the seconds it took
 * (set-up and tear-down left out of the clock). */
typedef double (*bench_run_fn)(void *arg);

typedef struct bench_case {
	const char *name; /* row label, unique within its table */
	bench_run_fn run;
	void *arg;
	double work; /* units of work one run does: frames, bytes, pairs */
	int vs;	     /* index of the plain case this one is compared with, or -1 */
} bench_case;

typedef struct bench_table {
	const char *key;  /* heading, unique in the program: "10 bands, stereo" */
	const char *unit; /* of the throughput column: "x realtime", "GB/s", "ns/pair" */
	double scale;	  /* throughput = work / seconds * scale */
	int cost;	  /* show seconds / work * scale instead (lower is better) */
} bench_table;

/* Parse ARGV (exits 2 with a usage line on a bad one), load the --compare
 * baseline (exits 1 if it is missing) and print TITLE with the load
 * average. SECONDS is the audio a run unless --seconds overrides it (quick:
 * a sixth of it). */
void bench_init(bench *b, const char *group, const char *title, double seconds, int argc,
		char **argv);

/* Warm every case up once, then time them round-robin (case 0, 1, ... then
 * again) so that a change in the machine's load touches all alike; print a
 * heading and a row per case: median, min..max, throughput, the ratio of
 * throughputs against its `vs` case, and with --compare the baseline. */
void bench_table_run(bench *b, const bench_table *t, const bench_case *cases, int count);

/* A free-form line under the table (what a row means, a check value). */
void bench_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Write --save results, print the load average again, free. The exit
 * status for main(): 0, or 1 if the baseline could not be written. */
int bench_finish(bench *b);

/* The frames a run of an audio group streams: b->seconds at BENCH_RATE,
 * in whole blocks, at least one. */
size_t bench_frames(const bench *b);

/* Monotonic seconds. */
double bench_now(void);

/* "load average WHEN: 1.00 0.90 0.80" on stdout: the machine is shared. */
void bench_print_load(const char *when);

/* qsort comparator of doubles, ascending. */
int bench_cmp_double(const void *a, const void *b);

/* SIZE bytes aligned to ALIGN (a power of two >= sizeof(void *)); exits 1
 * when memory runs out. Free with free(). */
void *bench_alloc(size_t align, size_t size);

/* N seeded uniform samples in [-0.5, 0.5). */
void bench_noise(float *x, size_t n, uint64_t seed);

/* The EQ the audio groups run: 1 peak, the 10 octave peaks (+-3 dB, Q 1.41)
 * or the 31 third-octave graphic bands, designed at BENCH_RATE into C (room
 * for 64). Returns the band count. */
int bench_bands(int count, ra_biquad_coeffs *c);

/* Keeps a result alive so that the compiler cannot drop the work. */
void bench_keep(double x);

#endif
