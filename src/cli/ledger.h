/* What became of each input of a batch: whether --resume or
 * --skip-existing lets it be skipped, its manifest line, and the exit
 * status the outcomes add up to. */
#ifndef RA_CLI_LEDGER_H
#define RA_CLI_LEDGER_H

#include "rustyaudio/job.h"

#include "manifest.h"
#include "options.h"

typedef struct ledger ledger;

/* The run's ledger: --resume's manifest read, --manifest opened. NULL
 * after a message when either cannot be. */
ledger *ledger_open(const cli_options *opt);

void ledger_close(ledger *l);

/* What to do with an input: run it, run it over the output an earlier
 * run of the manifest wrote (resuming replaces its own outputs), or skip
 * it. */
typedef enum ledger_action { LEDGER_RUN, LEDGER_REPLACE, LEDGER_SKIP } ledger_action;

/* One input's way through the ledger. */
typedef struct ledger_file {
	ledger *l;
	const char *in, *out;
	const ra_job_result *res; /* the job's, as it goes */
	int64_t start_ns;
	int recorded; /* its line is written */
	manifest_record rec;
} ledger_file;

/* Before running F's input (any thread): LEDGER_SKIP, its line recorded,
 * when it need not run again; otherwise the temporary files a killed run
 * left for its output are removed first. */
ledger_action ledger_begin(ledger_file *f);

/* A ra_finished_fn (CTX a ledger_file): the done line, with the content
 * hash of the bytes, written before the output takes its name, so that a
 * run killed at any point has a line for every output it finished. When
 * the manifest cannot be written, the output does not appear either. */
int ledger_finished(void *ctx, int fd, ra_diag *diag);

/* After the job ended with ST: the line of an input that did not end
 * done. */
void ledger_end(ledger_file *f, ra_status st);

/* The exit status of what was recorded: EXIT_TEMPFAIL when something
 * failed for a reason that may pass (or the manifest could not be
 * written), EXIT_SOME_FAILED when an input is bad, else EXIT_ALL_DONE. */
int ledger_status(ledger *l);

/* Counts, for the summary. */
size_t ledger_count(ledger *l, manifest_status status);

#endif
