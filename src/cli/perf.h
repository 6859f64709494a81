/* --enable-performance-stats and --stats-json: each job is timed; a table
 * a file and one for the batch go to stderr, and the same numbers, with the
 * settings and the version, into one JSON document written atomically at
 * the end of the run. The schema is in the manual (STATS JSON). */
#ifndef RA_CLI_PERF_H
#define RA_CLI_PERF_H

#include "rustyaudio/job.h"
#include "rustyaudio/workers.h"

#include "options.h"

#define PERF_SCHEMA_VERSION 5

typedef struct perf_run perf_run;

/* A run's stats, or NULL when neither option is given (nothing is then
 * measured). WORKERS may be NULL. When the JSON file cannot be created,
 * NULL after a message, with *FAILED set. */
perf_run *perf_start(const cli_options *opt, ra_workers *workers, int *failed);

/* Before each job: what to hand it as cfg->perf. */
ra_job_perf *perf_file_start(perf_run *pr);

/* After it: INPUT (NULL for --generate), OUTPUT (NULL when analysing),
 * how it ended and its result. */
void perf_file_end(perf_run *pr, const char *input, const char *output, ra_status st,
		   const ra_job_result *res);

/* The batch table; the JSON file committed unless DISCARD (an interrupted
 * run, a usage error). Frees PR. Returns 0, or -1 after a message when the
 * JSON could not be written. */
int perf_finish(perf_run *pr, int discard);

#endif
