/* rusty-audio: the command-line entry point. Parses options, runs the
 * batch, turns every terminating signal it can catch into a clean stop
 * with no partial output (then dies of it, as the caller expects), and
 * checks that what it printed on standard output got there. */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "batch.h"
#include "options.h"
#include "say.h"

/* Set by the signal handler, polled by the job between blocks. */
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	__atomic_store_n(&stop_signal, sig, __ATOMIC_RELAXED);
}

/* Signals whose default action ends the process: each stops the run
 * cleanly instead. SIGPIPE is a reader that went away. */
static const int stop_signals[] = { SIGINT,  SIGTERM, SIGHUP,	 SIGPIPE, SIGQUIT, SIGUSR1,
				    SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU };

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	/* No SA_RESTART: a read blocked on a pipe or a terminal (a --files-from
	 * list whose writer stays open) returns EINTR and the run stops, where
	 * it would otherwise wait on through the signal. Files on disk are not
	 * interrupted; the stop flag is polled between blocks. */
	sa.sa_flags = 0;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		sigaction(stop_signals[i], &sa, NULL);
	/* Past the file size limit a write then fails with EFBIG, reported
	 * and cleaned up like any other write error. */
	signal(SIGXFSZ, SIG_IGN);
}

/* A batch opens, fills and frees the same buffers for every file (the
 * libsndfile I/O buffers are 1 MiB each). glibc would hand memory freed at
 * the top of the heap back to the system after each file and fault it in
 * again for the next: 1000 one-second files took 3.5 s instead of 0.5 s
 * whenever the heap's layout put those buffers at its top. Keep freed
 * memory for reuse (the run's peak stays what its largest file needs),
 * and serve allocations below 32 MiB from the heap, not from mappings
 * made and unmade per file. */
static void keep_freed_memory(void)
{
#if defined(M_TRIM_THRESHOLD) && defined(M_MMAP_THRESHOLD)
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}

/* STATUS, or 1 after a message when standard output (a summary, --help,
 * a list) could not be written; a usage error stays 2. */
static int check_stdout(int status)
{
	int err = fflush(stdout) != 0 ? errno : 0;

	if (!ferror(stdout))
		return status;
	if (err)
		cli_say(NULL, NULL, "standard output: write error: %s", strerror(err));
	else
		fputs("rusty-audio: standard output: write error\n", stderr);
	return status == EXIT_ALL_DONE ? EXIT_SOME_FAILED : status;
}

int main(int argc, char **argv)
{
	cli_options opt;
	int status;

	status = cli_parse(argc, argv, &opt);
	if (status >= 0)
		return check_stdout(status);
	catch_signals();
	keep_freed_memory();
	status = cli_batch_run(&opt, &stop_signal);
	if (ra_stop_requested(&stop_signal)) {
		int sig = __atomic_load_n(&stop_signal, __ATOMIC_RELAXED);

		/* What is printed goes out first (--analyze's tables so far). */
		fflush(stdout);
		/* Outputs are cleaned up; now die of the signal as the caller expects. */
		signal(sig, SIG_DFL);
		raise(sig);
	}
	return check_stdout(status);
}
