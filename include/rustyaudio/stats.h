/* Performance measurement: monotonic time stamps, per-stage times with a
 * fixed-size histogram of per-block times, the process's CPU time and peak
 * resident memory, and a small JSON writer for reports.
 *
 * Times are nanoseconds of CLOCK_MONOTONIC. A histogram never stores the
 * samples: 16 bins per power of two give every quantile within 1/32 of the
 * true value (exact below 32 ns). */
#ifndef RUSTYAUDIO_STATS_H
#define RUSTYAUDIO_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "rustyaudio/status.h" /* ra_now_ns(), the clock */

#ifdef __cplusplus
extern "C" {
#endif

/* CPU time of the whole process (all threads), in ns. A system call. */
uint64_t ra_cpu_ns(void);

/* The process's peak resident set so far, in bytes. */
uint64_t ra_peak_rss_bytes(void);

#define RA_HISTOGRAM_BINS 608 /* 32 exact bins, then 16 a power of two up to 2^40 ns */

typedef struct ra_histogram {
	uint64_t count;	   /* samples */
	uint64_t total_ns; /* their sum */
	uint64_t max_ns;   /* the largest (exact) */
	uint64_t bins[RA_HISTOGRAM_BINS];
} ra_histogram;

/* Zero H: no samples. A zeroed struct is also an empty histogram. */
void ra_histogram_init(ra_histogram *h);

/* One sample of NS. */
void ra_histogram_add(ra_histogram *h, uint64_t ns);

/* N samples sharing TOTAL_NS equally (work timed as a batch of N blocks):
 * the total stays exact, each sample counts TOTAL_NS / N. N = 0 is a
 * no-op. */
void ra_histogram_add_spread(ra_histogram *h, uint64_t total_ns, uint64_t n);

/* Add SRC's samples to DST. */
void ra_histogram_merge(ra_histogram *dst, const ra_histogram *src);

/* The mean sample, ns; 0 when empty. */
double ra_histogram_mean(const ra_histogram *h);

/* The Q-quantile (0 <= Q <= 1) by nearest rank: the smallest sample with
 * at least ceil(Q * count) samples at or below it, as the middle of its
 * bin, never above max_ns. 0 when empty. */
uint64_t ra_histogram_quantile(const ra_histogram *h, double q);

/* The stages of a job, in stream order. EQ includes the gain and the
 * conversions around the filters; spectrum is both taps. */
typedef enum ra_stage {
	RA_STAGE_OPEN, /* before the first block of a pass: opening, planning, set-up */
	RA_STAGE_READ, /* reading and decoding to float */
	RA_STAGE_RESAMPLE,
	RA_STAGE_EQ,
	RA_STAGE_SPECTRUM,
	RA_STAGE_LEVEL,	  /* the measuring pass: levels, peaks, clipping */
	RA_STAGE_CONVERT, /* to the output's sample format: clip, dither */
	RA_STAGE_WRITE,	  /* encoding and writing */
	RA_STAGE_CLOSE,	  /* after the last block: reports, flushing, syncing, closing */
	RA_STAGE_COUNT
} ra_stage;

/* "open", "read", "resample", "eq", "spectrum", "level", "convert",
 * "write", "close". */
const char *ra_stage_name(ra_stage stage);

/* ---- JSON ---- */

/* Writes one JSON document to a stream, two spaces an indent level.
 * Members take a KEY inside objects and NULL inside arrays or at the top;
 * objects and arrays nest at most RA_JSON_MAX_DEPTH deep. Numbers that are
 * not finite are written as null. Caller-owned; errors show in the stream
 * (ferror). */
#define RA_JSON_MAX_DEPTH 16

typedef struct ra_json {
	FILE *f;
	int depth;
	int members[RA_JSON_MAX_DEPTH]; /* written so far at each level */
	int line;			/* the document on one line, no spaces (JSON Lines) */
} ra_json;

void ra_json_init(ra_json *j, FILE *f);
/* The same for a document on one line, ended by its newline. */
void ra_json_init_line(ra_json *j, FILE *f);
/* True when the string S is written byte for byte (it is well-formed
 * UTF-8); otherwise each stray byte becomes U+FFFD. */
int ra_json_exact(const char *s);
void ra_json_begin_object(ra_json *j, const char *key);
void ra_json_end_object(ra_json *j);
void ra_json_begin_array(ra_json *j, const char *key);
void ra_json_end_array(ra_json *j);
void ra_json_string(ra_json *j, const char *key, const char *value); /* NULL: null */
void ra_json_number(ra_json *j, const char *key, double value);	     /* reads back exactly */
void ra_json_uint(ra_json *j, const char *key, uint64_t value);
void ra_json_bool(ra_json *j, const char *key, int value);

#ifdef __cplusplus
}
#endif

#endif
