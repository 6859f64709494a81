/* rusty-audio: the command-line entry point. Parses options, runs the
 * batch, and turns SIGINT, SIGTERM, SIGHUP and SIGPIPE (a reader that went
 * away) into a clean stop with no partial output. */
#include <signal.h>
#include <string.h>

#include "batch.h"
#include "options.h"

/* Set by the signal handler, polled by the job between blocks. */
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	cli_options opt;
	int status;

	status = cli_parse(argc, argv, &opt);
	if (status >= 0)
		return status;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);

	status = cli_batch_run(&opt, &stop_signal);
	if (stop_signal) {
		/* Outputs are cleaned up; now die of the signal as the caller expects. */
		signal(stop_signal, SIG_DFL);
		raise(stop_signal);
	}
	return status;
}
