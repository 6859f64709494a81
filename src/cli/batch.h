/* The batch: every input (or the generated signal) through one job each,
 * with messages, a progress line and a summary. */
#ifndef RA_CLI_BATCH_H
#define RA_CLI_BATCH_H

#include <signal.h>

#include "options.h"

/* Run everything OPT asks for. CANCEL is set by the signal handler.
 * Returns the exit status; a cancelled run returns EXIT_SOME_FAILED. */
int cli_batch_run(const cli_options *opt, const volatile sig_atomic_t *cancel);

#endif
