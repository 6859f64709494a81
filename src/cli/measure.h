/* What a run measures before or instead of writing: the one gain of
 * --loudness-mode album, --dry-run's loudness and gains, and --analyze's
 * CSV report. */
#ifndef RA_CLI_MEASURE_H
#define RA_CLI_MEASURE_H

#include "rustyaudio/job.h"

#include "options.h"
#include "paths.h"

/* --loudness-mode album: every input measured through CFG's chain (after
 * the rate change, the EQ and the gain), as one album; *GAIN_DB gets the
 * gain for all of them, and the album's figures go to stderr in one line.
 * -1 after a message when an input cannot be measured or the run is
 * stopped: then nothing is written. */
int measure_album(const cli_options *opt, const ra_job_config *cfg, const path_list *inputs,
		  double *gain_db);

/* The files of --dry-run's album, as they are measured. */
typedef struct album album;
album *album_create(void);
void album_destroy(album *a); /* NULL is a no-op */

/* --dry-run with --loudness: INPUT's loudness through CFG's chain and the
 * gain it would get, a line on stdout; with album A (else NULL) it joins
 * that. 0, or -1 after a message. */
int measure_dry_run(const ra_job_config *cfg, const char *input, album *a);
/* The album's figures and its gain, a line on stdout. */
void measure_dry_run_album(const ra_job_config *cfg, const album *a);

/* --report-csv: a row a file of --analyze, written whole or not at all. */
typedef struct report_csv report_csv;

/* NULL after a message when PATH cannot be made. */
report_csv *report_csv_open(const char *path, int force);
/* NAME's row: its figures, or its error. */
void report_csv_row(report_csv *r, const char *name, ra_status st, const ra_job_result *res);
/* Put the report in place (or with DISCARD, remove it); frees R (NULL is
 * a no-op). -1 after a message when it cannot be written. */
int report_csv_close(report_csv *r, int discard);

#endif
