/* The paths of a run: its inputs, their outputs and reports, and the
 * checks made on them before anything is written. */
#ifndef RA_CLI_PATHS_H
#define RA_CLI_PATHS_H

#include <signal.h>
#include <stddef.h>

#include "options.h"

typedef struct path_list {
	char **items;
	size_t count, cap;
} path_list;

void path_list_add(path_list *l, const char *path);
void path_list_release(path_list *l);

/* The inputs: the arguments, then the --files-from list, those of the
 * shard. -1 after a message when the list cannot be read, or there are
 * none (and no --generate). */
int paths_gather_inputs(const cli_options *opt, const volatile sig_atomic_t *cancel,
			path_list *inputs);

/* The output of each input; NULL after a message when -o cannot serve. */
char **paths_resolve_outputs(const cli_options *opt, const path_list *inputs);
void paths_free_outputs(char **outputs, size_t count);

/* --relative-to: the folders below -o that OUT needs, made (mode 0777
 * less the umask) where missing. 0, or -1 with errno. */
int paths_make_folders(const cli_options *opt, const char *out);

/* Mark in CLASH every output that an earlier input already produces. */
void paths_find_clashes(char **outputs, size_t count, unsigned char *clash);

/* NAME's --spectrum, --plot and --spectrogram paths, NULL for those not
 * asked for (freed by the caller). */
void paths_reports(const cli_options *opt, const char *name, char *paths[3]);

/* Before anything is written: -1 after a message when an output of the
 * run (the --fftw-wisdom file and the manifest included) is one of its
 * inputs or its input list, or lands where another output does. */
int paths_check_outputs(const cli_options *opt, const path_list *inputs, char **outputs);

/* Before anything is read: -1 after a message when standard input ("-")
 * is named twice (or is also the --files-from list), would need a name for
 * its output (-o DIR), or an input that can be read only once (a pipe, a
 * FIFO) is asked for two passes (--normalize). */
int paths_check_streams(const cli_options *opt, const path_list *inputs);

#endif
