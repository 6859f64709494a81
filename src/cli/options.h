/* Command-line options: parsed and validated once into an immutable
 * description of the run. */
#ifndef RA_CLI_OPTIONS_H
#define RA_CLI_OPTIONS_H

#include <stdint.h>

#include "rustyaudio/generate.h"
#include "rustyaudio/job.h"

#include "shard.h"

typedef struct cli_options {
	ra_job_config job;	 /* job.analyze: --analyze, summaries and no audio */
	const char *output;	 /* -o */
	const char *files_from;	 /* --files-from, "-" for stdin */
	const char *files_from0; /* --files-from0: the same, NUL-separated */
	const char *relative_to; /* --relative-to: outputs keep the tree below it */
	char **inputs;		 /* from argv, not owned */
	int input_count;
	int quiet;
	int generate; /* --generate given: gen describes the signal */
	ra_generate_config gen;
	ra_eq eq;    /* --eq, --geq, --eq-file, --preset, in order */
	int threads; /* --threads; 0: online CPUs */
	int jobs;    /* --jobs: files at once; 0: chosen by the batch */
	cli_shard shard;
	int list;		   /* --list: print the selected inputs, run nothing */
	const char *manifest;	   /* --manifest, or --resume's when not given */
	const char *resume;	   /* --resume: skip what this manifest has done */
	int skip_existing, verify; /* --skip-existing, --verify */
	/* FNV-1a 64 of the version and every option that changes what is
	 * written, as given (the EQ as the bands it adds up to). */
	uint64_t settings;
	int dry_run; /* print each file's resolved chain, write nothing */
	/* --spectrum, --plot, --spectrogram as given (a file, or a folder);
	 * spectrum holds the analysis settings, its paths set per file. */
	const char *spectrum_path, *plot_path, *spectrogram_path;
	const char *wisdom_path; /* --fftw-wisdom: loaded at start, saved at the end */
	int perf_stats;		 /* --enable-performance-stats: tables on stderr */
	const char *stats_json;	 /* --stats-json: the run's stats as JSON */
	const char *report_csv;	 /* --report-csv: --analyze's figures, a row a file */
	int loudness_album;	 /* --loudness-mode album: one gain for the batch */
	ra_spectrum_request spectrum;
} cli_options;

/* Exit statuses. */
/* Exit statuses: all done; some input permanently bad (a retry will not
 * help); usage; some file failed for a reason that may pass (an I/O
 * error, a full disk, an interruption), so a scheduler retries. */
enum { EXIT_ALL_DONE = 0, EXIT_SOME_FAILED = 1, EXIT_USAGE = 2, EXIT_TEMPFAIL = 75 };

/* Parse ARGV into OPT. Returns -1 when the run should go on, else the exit
 * status to leave with (0 after --help or --version, EXIT_USAGE after a
 * message on stderr). */
int cli_parse(int argc, char **argv, cli_options *opt);

#endif
