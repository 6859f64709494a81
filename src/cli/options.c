/* Command-line options: one table gives each option's names, its value,
 * its lines in --help and where the value goes; GNU getopt_long parses, and
 * every value is checked before any file is touched. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rustyaudio/audio_file.h"
#include "rustyaudio/convert.h"
#include "rustyaudio/eq.h"
#include "rustyaudio/resample.h"
#include "rustyaudio/spectrum.h"

#include "hash.h"
#include "say.h"
#include "options.h"

/* What a handler says besides an exit status (>= 0): go on with the next
 * option, or the value is not one the option takes (the caller says so). */
enum { GO_ON = -1, INVALID = -2 };

/* getopt_long's code for an option with no short name: this plus its row
 * in the table; a short name is its own code, below this. */
enum { LONG_ONLY = 256 };

/* --help: descriptions start at this column; the format names wrap at the
 * width. */
enum { HELP_COLUMN = 29, HELP_WIDTH = 80 };

/* What an option only applies with: --generate, a spectrum (a report or
 * --analyze), a spectrum report, --spectrogram, --loudness or --analyze. */
typedef enum option_needs {
	NEEDS_NOTHING,
	NEEDS_GENERATE,
	NEEDS_SPECTRUM,
	NEEDS_REPORT,
	NEEDS_SPECTROGRAM,
	NEEDS_LOUDNESS,
	NEEDS_ANALYZE,
	NEEDS_KINDS
} option_needs;

/* The run as the options describe it so far, and what is settled only once
 * all are read: --generate's settings, and the choices that are not an int
 * of cli_options (-1 while not given). */
typedef struct parse_state {
	cli_options opt;
	const char *generate; /* --generate SIGNAL */
	/* For each kind of need, the last option given that has it. */
	const struct option_spec *needing[NEEDS_KINDS];
	double duration, level_db;
	int sample_rate, channels;
	int nonfinite;	 /* --nonfinite: a ra_nonfinite_mode */
	int spectrum_of; /* --spectrum-of: output, input, both */
	int fft_plan;	 /* --fft-plan: estimate, measure */
} parse_state;

/* How an option's value is checked and where it goes. */
typedef enum arg_kind {
	ARG_CALL,   /* APPLY does both */
	ARG_FLAG,   /* no value: the int at FIELD becomes 1 */
	ARG_TEXT,   /* the argument itself, into the const char * at FIELD */
	ARG_SIZE,   /* a whole number in [LO, HI], into the size_t at FIELD */
	ARG_INT,    /* the same, into the int at FIELD */
	ARG_REAL,   /* a finite number in [LO, HI], into the double at FIELD */
	ARG_RATE,   /* a whole number of Hz ("44.1k"), into the int at FIELD */
	ARG_CHOICE, /* one of CHOICES: its index, into the int at FIELD */
	/* A name the library parses, into the field of its type: */
	ARG_SUBTYPE, /* int, an SF_FORMAT_* subtype */
	ARG_ENGINE,  /* ra_resample_engine */
	ARG_QUALITY, /* ra_resample_quality */
	ARG_WINDOW,  /* ra_window */
	ARG_SCALE,   /* ra_spectrum_scale */
	ARG_DITHER,  /* ra_dither_mode, from "tpdf" or "none" */
	ARG_BANDS    /* EQ bands, added to the chain by ADD */
} arg_kind;

typedef struct option_spec {
	const char *name; /* --NAME */
	int short_name;	  /* -C, or 0 */
	/* The value as --help shows it: "PATH" (required), "[=DBFS]"
	 * (optional), or NULL (none). */
	const char *value;
	arg_kind kind;
	size_t field; /* an offset in parse_state */
	/* --help's description; a '\n' goes on under it. */
	const char *help;
	/* When set, --help lists the names the option takes after HELP. */
	const char *(*help_names)(size_t i);
	double lo, hi;		    /* ARG_SIZE, ARG_INT, ARG_REAL: the range */
	const char *const *choices; /* ARG_CHOICE: the names, NULL-terminated */
	/* What a value must be, for the message "expected EXPECT"; for ARG_SIZE
	 * and ARG_INT, the unit after their range ("1 to 64 EXPECT"). Without
	 * it or CHOICES, a value refused is "unknown". */
	const char *expect;
	ra_status (*add)(ra_eq *eq, const char *text, ra_diag *diag); /* ARG_BANDS */
	/* ARG_CALL: GO_ON, INVALID, or the exit status after a message. */
	int (*apply)(parse_state *ps, const char *arg);
	option_needs needs;
	/* Whether the option changes what is written, for the settings hash:
	 * SETTINGS_HASHED (the default) takes its name and value. */
	enum { SETTINGS_HASHED, SETTINGS_NONE, SETTINGS_BANDS } settings;
} option_spec;

#define FIELD(member) offsetof(parse_state, member)

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;
	char *text = NULL;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		cli_die_nomem();
	va_end(ap);
	cli_say(NULL, NULL, "%s (see rusty-audio --help)", text);
	free(text);
	return EXIT_USAGE;
}

/* ---- values ---- */

/* A number in [LO, HI] filling all of TEXT, into *VALUE: the one grammar
 * of every option and band field (ra_number_parse(): decimal, an optional
 * exponent; no hex, nan or inf). */
static int parse_real(const char *text, double lo, double hi, double *value)
{
	double v;

	if (ra_number_parse(text, strlen(text), &v) != RA_OK || v < lo || v > hi)
		return 0;
	*value = v;
	return 1;
}

/* A whole number in [LO, HI] filling all of TEXT, into *VALUE. */
static int parse_whole(const char *text, double lo, double hi, long *value)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (!*text || *end || errno != 0 || v < lo || v > hi)
		return 0;
	*value = v;
	return 1;
}

/* A rate in Hz: "48000", "44.1k"; whole, in 1..RA_MAX_SAMPLE_RATE. */
static int parse_rate(const char *text, int *rate)
{
	double v;

	if (ra_hz_parse(text, strlen(text), &v) != RA_OK || v < 1.0 || v > RA_MAX_SAMPLE_RATE ||
	    v != floor(v))
		return 0;
	*rate = (int)v;
	return 1;
}

/* TEXT's index in NAMES, or -1. */
static int choice_index(const char *const *names, const char *text)
{
	for (int i = 0; names[i]; i++)
		if (!strcmp(text, names[i]))
			return i;
	return -1;
}

/* NAMES as "a, b or c" into BUF. */
static void join_choices(const char *const *names, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; names[i]; i++) {
		const char *sep = i == 0 ? "" : names[i + 1] ? ", " : " or ";
		int n = snprintf(buf + used, size - used, "%s%s", sep, names[i]);

		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
}

/* ARG is not a value O takes: say what it takes. */
static int invalid(const option_spec *o, const char *arg)
{
	char expect[160];

	if (o->choices)
		join_choices(o->choices, expect, sizeof(expect));
	else if (o->kind == ARG_SIZE || o->kind == ARG_INT)
		snprintf(expect, sizeof(expect), "%.0f to %.0f%s%s", o->lo, o->hi,
			 o->expect ? " " : "", o->expect ? o->expect : "");
	else if (o->expect)
		snprintf(expect, sizeof(expect), "%s", o->expect);
	else
		return usage_error("unknown --%s '%s'", o->name, arg);
	return usage_error("invalid --%s '%s': expected %s", o->name, arg, expect);
}

/* ---- the options that need more than a field ---- */

static int print_usage(parse_state *ps, const char *arg);

static int print_version(parse_state *ps, const char *arg)
{
	(void)ps;
	(void)arg;
	printf("rusty-audio %s\n", RA_VERSION);
	return EXIT_ALL_DONE;
}

/* --format NAME, with the subtype it implies unless one is given. */
static int set_format(parse_state *ps, const char *arg)
{
	ra_job_config *job = &ps->opt.job;
	int implied;

	if (ra_format_parse(arg, &job->format_major, &implied) != RA_OK)
		return INVALID;
	if (!job->format_subtype)
		job->format_subtype = implied;
	return GO_ON;
}

/* --preset NAME, or --preset list to name them all. */
static int add_preset(parse_state *ps, const char *arg)
{
	ra_diag diag = { { 0 } };

	if (!strcmp(arg, "list")) {
		for (const char *const *name = ra_eq_preset_names(); *name; name++)
			printf("%-16s %s\n", *name, ra_eq_preset_bands(*name));
		return EXIT_ALL_DONE;
	}
	if (ra_eq_add_preset(&ps->opt.eq, arg, &diag) == RA_OK)
		return GO_ON;
	return usage_error("%s%s", diag.text,
			   ra_eq_preset_bands(arg) ? "" : " (--preset list names them)");
}

/* --normalize[=DBFS]: two passes, to DBFS when given. */
static int set_normalize(parse_state *ps, const char *arg)
{
	ps->opt.job.normalize = 1;
	if (arg && !parse_real(arg, -200.0, 0.0, &ps->opt.job.normalize_dbfs))
		return INVALID;
	return GO_ON;
}

/* --loudness LUFS: two passes, to that integrated loudness. */
static int set_loudness(parse_state *ps, const char *arg)
{
	ps->opt.job.loudness = 1;
	return parse_real(arg, -70.0, 0.0, &ps->opt.job.loudness_lufs) ? GO_ON : INVALID;
}

static int set_seed(parse_state *ps, const char *arg)
{
	char *end;

	errno = 0;
	ps->opt.job.dither_seed = strtoull(arg, &end, 10);
	return *arg && !*end && errno == 0 && *arg != '-' ? GO_ON : INVALID;
}

static int set_shard(parse_state *ps, const char *arg)
{
	return shard_parse(arg, &ps->opt.shard) == 0 ? GO_ON : EXIT_USAGE;
}

/* ---- the table, in --help's order ---- */

static const char *const nonfinite_modes[] = { [RA_NONFINITE_ERROR] = "error",
					       [RA_NONFINITE_ZERO] = "zero",
					       [RA_NONFINITE_PASS] = "pass",
					       NULL };
static const char *const pipelines[] = { "optimized", "reference", NULL };
static const char *const loudness_modes[] = { "track", "album", NULL };
static const char *const spectrum_sides[] = { "output", "input", "both", NULL };
static const char *const channel_modes[] = { "each", "mix", NULL };
static const char *const fft_plans[] = { "estimate", "measure", NULL };
static const char *const spectrogram_layouts[] = { "wide", "long", NULL };
static const char rate_expect[] = "a whole number of Hz, e.g. 48000 or 44.1k";

static const option_spec options[] = {
	{ "output", 'o', "PATH", ARG_TEXT, FIELD(opt.output),
	  .help = "output file, or folder for several inputs", .settings = SETTINGS_NONE },
	{ "force", 'f', NULL, ARG_FLAG, FIELD(opt.job.force), .help = "replace existing outputs",
	  .settings = SETTINGS_NONE },
	{ "quiet", 'q', NULL, ARG_FLAG, FIELD(opt.quiet), .help = "no progress line and no summary",
	  .settings = SETTINGS_NONE },
	{ "files-from", 0, "LIST", ARG_TEXT, FIELD(opt.files_from),
	  .help = "read input paths from LIST, one a line ('-': stdin)",
	  .settings = SETTINGS_NONE },
	{ "files-from0", 0, "LIST", ARG_TEXT, FIELD(opt.files_from0), .settings = SETTINGS_NONE,
	  .help = "the same, NUL-separated (any byte but NUL in a name)" },
	{ "relative-to", 0, "BASE", ARG_TEXT, FIELD(opt.relative_to), .settings = SETTINGS_NONE,
	  .help = "with -o DIR: each output at its input's path below BASE" },
	{ "jobs", 'j', "N", ARG_INT, FIELD(opt.jobs), .lo = 1, .hi = RA_WORKERS_MAX,
	  .settings = SETTINGS_NONE,
	  .help = "files at once, sharing the --threads (default: a\n"
		  "thread each, as many as there are inputs)" },
	{ "shard", 0, "K/N", ARG_CALL, 0, .apply = set_shard, .settings = SETTINGS_NONE,
	  .help = "only the inputs of shard K of N (FNV-1a of the path);\n"
		  "env or env/N: from a Slurm, Kubernetes or AWS Batch array" },
	{ "list", 0, NULL, ARG_FLAG, FIELD(opt.list), .settings = SETTINGS_NONE,
	  .help = "print the inputs the run would take, run nothing" },
	{ "manifest", 0, "PATH", ARG_TEXT, FIELD(opt.manifest), .settings = SETTINGS_NONE,
	  .help = "append a JSON line a file to PATH as each ends" },
	{ "resume", 0, "MANIFEST", ARG_TEXT, FIELD(opt.resume), .settings = SETTINGS_NONE,
	  .help = "skip the inputs MANIFEST has done with these settings" },
	{ "skip-existing", 0, NULL, ARG_FLAG, FIELD(opt.skip_existing), .settings = SETTINGS_NONE,
	  .help = "skip the inputs whose output exists" },
	{ "verify", 0, NULL, ARG_FLAG, FIELD(opt.verify), .settings = SETTINGS_NONE,
	  .help = "--resume: also check each output's content hash" },
	{ "block-size", 0, "N", ARG_SIZE, FIELD(opt.job.block_frames), .lo = 1,
	  .hi = RA_MAX_BLOCK_FRAMES, .expect = "frames", .help = "frames per block (default 4096)",
	  .settings = SETTINGS_NONE },
	{ "format", 0, "NAME", ARG_CALL, 0, .apply = set_format, .help_names = ra_format_parse_name,
	  .help = "output format:" },
	{ "subtype", 0, "NAME", ARG_SUBTYPE, FIELD(opt.job.format_subtype),
	  .help = "pcm8, pcmu8, pcm16, pcm24, pcm32, float, double, ulaw, alaw, ..." },
	{ "gain", 0, "DB", ARG_REAL, FIELD(opt.job.gain_db), .lo = -200.0, .hi = 200.0,
	  .expect = "decibels from -200 to 200", .help = "gain in decibels" },
	{ "rate", 0, "HZ", ARG_RATE, FIELD(opt.job.out_rate), .expect = rate_expect,
	  .help = "resample to HZ (48000, 44.1k)" },
	{ "resampler", 0, "NAME", ARG_ENGINE, FIELD(opt.job.resampler),
	  .expect = "soxr or libsamplerate", .help = "soxr (default) or libsamplerate" },
	{ "resample-quality", 0, "Q", ARG_QUALITY, FIELD(opt.job.quality),
	  .expect = "best, high, medium, fast or linear",
	  .help = "best, high, medium, fast or linear (default best)" },
	{ "dither", 0, "MODE", ARG_DITHER, FIELD(opt.job.dither), .expect = "tpdf or none",
	  .help = "tpdf or none (default: tpdf when reducing precision)" },
	{ "eq", 0, "TYPE:FREQ[:GAIN[:Q]]", ARG_BANDS, 0, .add = ra_eq_add,
	  .help = "add an EQ band (peak, lowshelf, highshelf, lowpass,\n"
		  "highpass, bandpass, notch, allpass); Q or bw=OCT or s=SLOPE",
	  .settings = SETTINGS_BANDS },
	{ "geq", 0, "GAINS", ARG_BANDS, 0, .add = ra_eq_add_graphic,
	  .help = "graphic EQ: 10 octave or 31 third-octave gains, or 1k=+3,...",
	  .settings = SETTINGS_BANDS },
	{ "eq-file", 0, "FILE", ARG_BANDS, 0, .add = ra_eq_add_file,
	  .help = "add the bands in FILE, one a line", .settings = SETTINGS_BANDS },
	{ "preset", 0, "NAME", ARG_CALL, 0, .apply = add_preset,
	  .help = "add a built-in preset ('--preset list' names them)",
	  .settings = SETTINGS_BANDS },
	{ "nonfinite", 0, "MODE", ARG_CHOICE, FIELD(nonfinite), .choices = nonfinite_modes,
	  .help = "NaN or infinite input samples: error (default), zero,\n"
		  "or pass (the filters see 0, the output keeps them)" },
	{ "normalize", 0, "[=DBFS]", ARG_CALL, 0, .expect = "dBFS from -200 to 0",
	  .apply = set_normalize,
	  .help = "two passes: scale the processed peak to DBFS (default -1)" },
	{ "loudness", 0, "LUFS", ARG_CALL, 0, .expect = "LUFS from -70 to 0", .apply = set_loudness,
	  .help = "two passes: one gain to this integrated loudness\n(EBU R128: -23; podcasts -16)" },
	{ "true-peak", 0, "DBTP", ARG_REAL, FIELD(opt.job.true_peak_dbtp), .lo = -70, .hi = 0,
	  .expect = "dBTP from -70 to 0", .needs = NEEDS_LOUDNESS,
	  .help = "--loudness: the true peak's ceiling (default -1)" },
	{ "loudness-mode", 0, "MODE", ARG_CHOICE, FIELD(opt.loudness_album),
	  .choices = loudness_modes, .needs = NEEDS_LOUDNESS,
	  .help = "track (default): a gain a file; album: one\nfor the batch, measured over all" },
	{ "report-csv", 0, "PATH", ARG_TEXT, FIELD(opt.report_csv), .needs = NEEDS_ANALYZE,
	  .settings = SETTINGS_NONE, .help = "--analyze: its figures as CSV, a row a file" },
	{ "spool", 0, NULL, ARG_FLAG, FIELD(opt.job.spool), .settings = SETTINGS_NONE,
	  .help = "read a piped input through a temporary file:\nfor FLAC, --normalize and "
		  "--loudness" },
	{ "dry-run", 0, NULL, ARG_FLAG, FIELD(opt.dry_run),
	  .help = "print each file's EQ chain and its peak gain (with\n--loudness its "
		  "loudness and gain); write nothing",
	  .settings = SETTINGS_NONE },
	{ "threads", 0, "N", ARG_INT, FIELD(opt.threads), .lo = 1, .hi = RA_WORKERS_MAX,
	  .help = "worker threads for the EQ and resampling\n(default: online CPUs)",
	  .settings = SETTINGS_NONE },
	{ "pipeline", 0, "NAME", ARG_CHOICE, FIELD(opt.job.reference), .choices = pipelines,
	  .help = "optimized (default) or reference (plain, for comparison)",
	  .settings = SETTINGS_NONE },
	{ "spectrum", 0, "PATH", ARG_TEXT, FIELD(opt.spectrum_path),
	  .help = "Welch spectrum as CSV (a folder for several inputs)" },
	{ "plot", 0, "PATH", ARG_TEXT, FIELD(opt.plot_path),
	  .help = "the spectrum as an SVG plot (a folder for several inputs)" },
	{ "spectrum-of", 0, "WHAT", ARG_CHOICE, FIELD(spectrum_of), .choices = spectrum_sides,
	  .help = "output (default), input or both", .needs = NEEDS_REPORT },
	{ "fft-size", 0, "N", ARG_SIZE, FIELD(opt.spectrum.fft_size), .lo = 2, .hi = 1 << 24,
	  .help = "segment length (default 2048)", .needs = NEEDS_SPECTRUM },
	{ "window", 0, "NAME", ARG_WINDOW, FIELD(opt.spectrum.window),
	  .help = "hann (default), hamming, blackman, blackman-harris,\nflattop or rect",
	  .needs = NEEDS_SPECTRUM },
	/* The top is the largest double below 1: F < 1. */
	{ "overlap", 0, "F", ARG_REAL, FIELD(opt.spectrum.overlap), .lo = 0.0,
	  .hi = 0x1.fffffffffffffp-1, .expect = "0 <= F < 1",
	  .help = "segment overlap, 0 <= F < 1 (default 0.5)", .needs = NEEDS_SPECTRUM },
	{ "spectrum-scale", 0, "S", ARG_SCALE, FIELD(opt.spectrum.scale), .expect = "psd or dbfs",
	  .help = "psd (default, dB re 1/Hz) or dbfs (full-scale sine 0 dB)",
	  .needs = NEEDS_SPECTRUM },
	{ "channels-mode", 0, "M", ARG_CHOICE, FIELD(opt.spectrum.mix), .choices = channel_modes,
	  .help = "each (default) or mix", .needs = NEEDS_SPECTRUM },
	{ "fft-plan", 0, "P", ARG_CHOICE, FIELD(fft_plan), .choices = fft_plans,
	  .help = "estimate (default) or measure", .needs = NEEDS_SPECTRUM },
	{ "spectrogram", 0, "PATH", ARG_TEXT, FIELD(opt.spectrogram_path),
	  .help = "the output's spectrogram as CSV, a row a segment" },
	{ "spectrogram-format", 0, "F", ARG_CHOICE, FIELD(opt.spectrum.spectrogram_long),
	  .choices = spectrogram_layouts, .help = "wide (default: a column a bin) or long",
	  .needs = NEEDS_SPECTROGRAM },
	{ "spectrogram-bins", 0, "N", ARG_SIZE, FIELD(opt.spectrum.spectrogram_bins), .lo = 1,
	  .hi = 1 << 23, .help = "wide: average into N bands a channel",
	  .needs = NEEDS_SPECTROGRAM },
	{ "fftw-wisdom", 0, "PATH", ARG_TEXT, FIELD(opt.wisdom_path),
	  .help = "load FFTW wisdom from PATH, save it back (implies measure)",
	  .settings = SETTINGS_NONE },
	{ "analyze", 0, NULL, ARG_FLAG, FIELD(opt.job.analyze),
	  .help = "print each file's levels and spectrum summary; no audio" },
	{ "no-loudness", 0, NULL, ARG_FLAG, FIELD(opt.job.no_loudness), .needs = NEEDS_ANALYZE,
	  .help = "--analyze: leave out loudness and true peak (most of its time)" },
	{ "enable-performance-stats", 0, NULL, ARG_FLAG, FIELD(opt.perf_stats),
	  .help = "time every stage; a table a file and a total on stderr",
	  .settings = SETTINGS_NONE },
	{ "stats-json", 0, "PATH", ARG_TEXT, FIELD(opt.stats_json),
	  .help = "the same numbers (and --analyze's) as one JSON document",
	  .settings = SETTINGS_NONE },
	{ "generate", 0, "SIGNAL", ARG_TEXT, FIELD(generate),
	  .help = "sine:FREQ, sweep:F0:F1, white, pink, impulse, silence" },
	{ "duration", 0, "SECONDS", ARG_REAL, FIELD(duration), .lo = 0.0, .hi = 86400.0 * 7,
	  .expect = "seconds from 0 to 604800", .needs = NEEDS_GENERATE,
	  .help = "generated length (default 1)" },
	{ "sample-rate", 0, "HZ", ARG_RATE, FIELD(sample_rate), .expect = rate_expect,
	  .needs = NEEDS_GENERATE, .help = "generated rate (default 48000)" },
	{ "channels", 0, "N", ARG_INT, FIELD(channels), .lo = 1, .hi = RA_MAX_CHANNELS,
	  .needs = NEEDS_GENERATE, .help = "generated channels (default 1)" },
	{ "level", 0, "DBFS", ARG_REAL, FIELD(level_db), .lo = -INFINITY, .hi = 0.0,
	  .expect = "dBFS at or below 0", .needs = NEEDS_GENERATE,
	  .help = "generated peak level (default -3)" },
	{ "seed", 0, "N", ARG_CALL, 0, .expect = "a non-negative integer", .apply = set_seed,
	  .help = "seed for noise and dither (default 1)" },
	{ "help", 'h', NULL, ARG_CALL, 0, .apply = print_usage, .help = "show this help",
	  .settings = SETTINGS_NONE },
	{ "version", 'V', NULL, ARG_CALL, 0, .apply = print_version, .help = "show the version",
	  .settings = SETTINGS_NONE },
};

enum { OPTION_COUNT = sizeof(options) / sizeof(options[0]) };

/* ---- --help ---- */

static const char usage_head[] =
	"usage: rusty-audio [OPTIONS] INPUT... -o OUTPUT\n"
	"       rusty-audio --generate SIGNAL [--duration S] [--sample-rate HZ] [--channels N] -o FILE\n"
	"\n"
	"Process audio files in blocks: resample, apply gain and EQ, convert formats.\n"
	"\n";

static const char usage_tail[] =
	"\n"
	"Exit status: 0 all files done, 1 some input bad for good, 2 usage error,\n"
	"75 some file failed for a reason that may pass (retry, with --resume).\n";

/* NAMES(0), NAMES(1)... comma-separated after column COL, wrapped under
 * the descriptions. */
static void print_names(const char *(*names)(size_t i), int col)
{
	const char *name;

	for (size_t i = 0; (name = names(i)); i++) {
		const char *comma = names(i + 1) ? "," : "";

		if (col + 1 + (int)strlen(name) + (int)strlen(comma) > HELP_WIDTH) {
			printf("\n%*s", HELP_COLUMN - 1, "");
			col = HELP_COLUMN - 1;
		}
		col += printf(" %s%s", name, comma);
	}
}

/* O's lines: its names and value, then its description from HELP_COLUMN
 * (two spaces on when the names reach it). */
static void print_option_help(const option_spec *o)
{
	char flag[8] = "    ";
	const char *value = o->value ? o->value : "";
	const char *line = o->help, *nl;
	int col;

	if (o->short_name)
		snprintf(flag, sizeof(flag), "-%c, ", o->short_name);
	col = printf("  %s--%s%s%s", flag, o->name, *value && *value != '[' ? " " : "", value);
	col += printf("%*s", col < HELP_COLUMN ? HELP_COLUMN - col : 2, "");
	while ((nl = strchr(line, '\n'))) {
		printf("%.*s\n%*s", (int)(nl - line), line, HELP_COLUMN, "");
		col = HELP_COLUMN;
		line = nl + 1;
	}
	col += printf("%s", line);
	if (o->help_names)
		print_names(o->help_names, col);
	putchar('\n');
}

static int print_usage(parse_state *ps, const char *arg)
{
	(void)ps;
	(void)arg;
	fputs(usage_head, stdout);
	for (size_t i = 0; i < OPTION_COUNT; i++)
		print_option_help(&options[i]);
	fputs(usage_tail, stdout);
	return EXIT_ALL_DONE;
}

/* ---- parsing ---- */

/* getopt_long's has_arg for O, from how --help shows its value. */
static int value_needed(const option_spec *o)
{
	if (!o->value)
		return no_argument;
	return o->value[0] == '[' ? optional_argument : required_argument;
}

/* getopt_long's view of the table: LONGOPTS, and SHORTOPTS (":o:fqhV", the
 * ':' first to tell a missing value from an unknown option). */
static void getopt_tables(struct option *longopts, char *shortopts)
{
	char *s = shortopts;

	*s++ = ':';
	for (size_t i = 0; i < OPTION_COUNT; i++) {
		const option_spec *o = &options[i];
		int has_arg = value_needed(o);

		longopts[i] = (struct option){ o->name, has_arg, NULL,
					       o->short_name ? o->short_name : LONG_ONLY + (int)i };
		if (!o->short_name)
			continue;
		*s++ = (char)o->short_name;
		if (has_arg != no_argument)
			*s++ = ':';
		if (has_arg == optional_argument)
			*s++ = ':';
	}
	longopts[OPTION_COUNT] = (struct option){ NULL, 0, NULL, 0 };
	*s = '\0';
}

/* The row getopt_long's code C stands for; NULL for its ':' and '?'. */
static const option_spec *option_of(int c)
{
	if (c >= LONG_ONLY && c < LONG_ONLY + OPTION_COUNT)
		return &options[c - LONG_ONLY];
	for (size_t i = 0; i < OPTION_COUNT; i++)
		if (options[i].short_name == c)
			return &options[i];
	return NULL;
}

/* What getopt_long refused with C: a missing value (':') or an unknown
 * option, named as it was given. */
static int refused(int c, char **argv)
{
	char short_name[3] = { '-', (char)optopt, '\0' };
	const char *given = optopt > 0 && optopt < LONG_ONLY ? short_name : argv[optind - 1];

	if (c == ':')
		return usage_error("option '%s' needs a value", given);
	return usage_error("unknown option '%s'", given);
}

/* ARG, the value of O (not ARG_CALL), checked and put in its place:
 * GO_ON, INVALID, or EXIT_USAGE after a message. */
static int store_value(parse_state *ps, const option_spec *o, const char *arg)
{
	void *field = (char *)ps + o->field;
	ra_diag diag = { { 0 } };
	ra_dither dither;
	long whole;
	int index;

	switch (o->kind) {
	case ARG_FLAG:
		*(int *)field = 1;
		return GO_ON;
	case ARG_TEXT: /* a path or a name: empty names nothing */
		if (!*arg)
			return usage_error("--%s '': an empty %s names nothing", o->name, o->value);
		*(const char **)field = arg;
		return GO_ON;
	case ARG_SIZE:
	case ARG_INT:
		if (!parse_whole(arg, o->lo, o->hi, &whole))
			return INVALID;
		if (o->kind == ARG_SIZE)
			*(size_t *)field = (size_t)whole;
		else
			*(int *)field = (int)whole;
		return GO_ON;
	case ARG_REAL:
		return parse_real(arg, o->lo, o->hi, field) ? GO_ON : INVALID;
	case ARG_RATE:
		return parse_rate(arg, field) ? GO_ON : INVALID;
	case ARG_CHOICE:
		if ((index = choice_index(o->choices, arg)) < 0)
			return INVALID;
		*(int *)field = index;
		return GO_ON;
	case ARG_SUBTYPE:
		return ra_subtype_parse(arg, field) == RA_OK ? GO_ON : INVALID;
	case ARG_ENGINE:
		return ra_resample_engine_parse(arg, field) == RA_OK ? GO_ON : INVALID;
	case ARG_QUALITY:
		return ra_resample_quality_parse(arg, field) == RA_OK ? GO_ON : INVALID;
	case ARG_WINDOW:
		return ra_window_parse(arg, field) == RA_OK ? GO_ON : INVALID;
	case ARG_SCALE:
		return ra_spectrum_scale_parse(arg, field) == RA_OK ? GO_ON : INVALID;
	case ARG_DITHER:
		if (ra_dither_parse(arg, &dither) != RA_OK)
			return INVALID;
		*(ra_dither_mode *)field =
			dither == RA_DITHER_TPDF ? RA_DITHER_MODE_TPDF : RA_DITHER_MODE_NONE;
		return GO_ON;
	case ARG_BANDS:
		if (o->add(&ps->opt.eq, arg, &diag) != RA_OK)
			return usage_error("%s", diag.text);
		return GO_ON;
	case ARG_CALL:
		break;
	}
	return o->apply(ps, arg);
}

/* O given with ARG (NULL for none): GO_ON, or the exit status to leave
 * with after a message. */
static int take_option(parse_state *ps, const option_spec *o, const char *arg)
{
	int status;

	ps->needing[o->needs] = o;
	status = store_value(ps, o, arg);
	return status == INVALID ? invalid(o, arg) : status;
}

/* H fed with O's name and value ARG (NULL for none), each with its NUL. */
static uint64_t hash_option(uint64_t h, const option_spec *o, const char *arg)
{
	h = cli_fnv1a(h, o->name, strlen(o->name) + 1);
	return cli_fnv1a(h, arg ? arg : "", arg ? strlen(arg) + 1 : 1);
}

/* H fed with each band of EQ as the numbers it is made of, so that an
 * --eq-file hashes what it holds. */
static uint64_t hash_bands(uint64_t h, const ra_eq *eq)
{
	for (int i = 0; i < eq->count; i++) {
		const ra_biquad_spec *b = &eq->bands[i].spec;
		char text[128];
		int n = snprintf(text, sizeof(text), "%d %a %a %d %a;", (int)b->type, b->freq,
				 b->gain_db, (int)b->width_kind, b->width);

		h = cli_fnv1a(h, text, (size_t)n);
	}
	return h;
}

/* The choices kept aside, into the fields they decide. */
static void settle_choices(parse_state *ps)
{
	cli_options *opt = &ps->opt;

	if (ps->nonfinite >= 0)
		opt->job.nonfinite = (ra_nonfinite_mode)ps->nonfinite;
	if (ps->spectrum_of >= 0) {
		opt->spectrum.of_output = ps->spectrum_of != 1; /* output or both */
		opt->spectrum.of_input = ps->spectrum_of != 0;	/* input or both */
	}
	/* With wisdom to keep, measuring is worth it (unless told otherwise). */
	if (ps->fft_plan >= 0)
		opt->spectrum.measure = ps->fft_plan;
	else if (opt->wisdom_path)
		opt->spectrum.measure = 1;
}

/* --generate SIGNAL, with the settings given for it. */
static int take_generate(parse_state *ps)
{
	cli_options *opt = &ps->opt;
	ra_generate_config *gen = &opt->gen;
	ra_diag diag = { { 0 } };
	double top;

	if (opt->input_count > 0 || opt->files_from || opt->files_from0)
		return usage_error("--generate takes no input files");
	if (ra_generate_parse(ps->generate, gen, &diag) != RA_OK)
		return usage_error("%s", diag.text);
	opt->generate = 1;
	gen->sample_rate = ps->sample_rate;
	gen->channels = ps->channels;
	gen->frames = (int64_t)llround(ps->duration * ps->sample_rate);
	gen->amplitude = pow(10.0, ps->level_db / 20.0);
	gen->seed = opt->job.dither_seed;
	top = gen->kind == RA_SIGNAL_SWEEP ? fmax(gen->freq, gen->freq_end) : gen->freq;
	if ((gen->kind == RA_SIGNAL_SINE || gen->kind == RA_SIGNAL_SWEEP) &&
	    top >= ps->sample_rate / 2.0)
		return usage_error("--generate '%s': frequency must be below half the sample rate",
				   ps->generate);
	return GO_ON;
}

/* The batch options that only apply to files written from inputs. */
static int check_batch(const cli_options *opt)
{
	const char *mode = opt->generate      ? "--generate"
			   : opt->job.analyze ? "--analyze"
			   : opt->dry_run     ? "--dry-run"
					      : NULL;
	const char *one_at_a_time = opt->generate  ? "--generate"
				    : opt->dry_run ? "--dry-run"
						   : NULL;
	const char *batch_only = opt->manifest	      ? "--manifest"
				 : opt->resume	      ? "--resume"
				 : opt->skip_existing ? "--skip-existing"
						      : NULL;

	if (opt->files_from && opt->files_from0)
		return usage_error("--files-from and --files-from0 both name the list; give one");
	if (opt->generate && (opt->shard.count || opt->list))
		return usage_error("--generate takes no inputs to %s",
				   opt->list ? "list" : "shard");
	if (mode && batch_only)
		return usage_error("%s writes no files for %s to keep track of", mode, batch_only);
	if (opt->output && !strcmp(opt->output, "-") && !opt->dry_run && !opt->job.analyze &&
	    isatty(STDOUT_FILENO))
		return usage_error("-o -: standard output is a terminal; redirect it, or give -o "
				   "FILE");
	if (opt->output && !strcmp(opt->output, "-") && batch_only)
		return usage_error("-o - writes to standard output, and %s keeps track of files",
				   batch_only);
	if (opt->jobs > 1 && one_at_a_time)
		return usage_error("-j runs several inputs at once; %s runs one at a time",
				   one_at_a_time);
	if (opt->jobs > 1 && (opt->perf_stats || opt->stats_json))
		return usage_error("--enable-performance-stats and --stats-json time one file at a "
				   "time; use -j 1 with them");
	if (opt->verify && !opt->resume)
		return usage_error(
			"--verify checks the outputs of --resume; give --resume MANIFEST");
	if (opt->skip_existing && opt->resume)
		return usage_error("--skip-existing is for runs without a manifest; --resume "
				   "already skips what is done");
	return GO_ON;
}

/* The spectrum's settings with something that takes a spectrum, each
 * named when it would do nothing; --analyze writes no report. */
static int check_reports(const parse_state *ps)
{
	const cli_options *opt = &ps->opt;
	const int report = opt->spectrum_path || opt->plot_path;
	const option_spec *o;

	if (opt->job.analyze && (report || opt->spectrogram_path))
		return usage_error("--analyze prints its summary and writes no report; drop --%s",
				   opt->spectrum_path ? "spectrum"
				   : opt->plot_path   ? "plot"
						      : "spectrogram");
	if ((o = ps->needing[NEEDS_SPECTROGRAM]) && !opt->spectrogram_path)
		return usage_error("--%s only applies with --spectrogram", o->name);
	if ((o = ps->needing[NEEDS_REPORT]) && !report)
		return usage_error("--%s only applies with --spectrum or --plot", o->name);
	if ((o = ps->needing[NEEDS_SPECTRUM]) && !report && !opt->spectrogram_path &&
	    !opt->job.analyze)
		return usage_error(
			"--%s only applies with --spectrum, --plot, --spectrogram or --analyze",
			o->name);
	if ((o = ps->needing[NEEDS_ANALYZE]) && !opt->job.analyze)
		return usage_error("--%s only applies with --analyze", o->name);
	if (opt->report_csv && !strcmp(opt->report_csv, "-"))
		return usage_error("--report-csv -: standard output has --analyze's tables; give "
				   "a file");
	return GO_ON;
}

/* --loudness with what it needs, and nothing that sets the level too. */
static int check_loudness(const parse_state *ps)
{
	const cli_options *opt = &ps->opt;
	const option_spec *o = ps->needing[NEEDS_LOUDNESS];

	if (o && !opt->job.loudness)
		return usage_error("--%s only applies with --loudness", o->name);
	if (opt->job.loudness && opt->job.normalize)
		return usage_error("--normalize and --loudness both set the level; give one");
	if (opt->job.loudness && opt->job.analyze)
		return usage_error(
			opt->job.no_loudness
				? "--analyze writes nothing to set the loudness of; drop "
				  "--loudness"
				: "--analyze measures the loudness and writes nothing; drop "
				  "--loudness");
	if (opt->loudness_album && (opt->resume || opt->shard.count || opt->skip_existing))
		return usage_error("--loudness-mode album measures the whole batch in one run; "
				   "not with --%s",
				   opt->resume	      ? "resume"
				   : opt->shard.count ? "shard"
						      : "skip-existing");
	return GO_ON;
}

/* What the options ask for together: a source (--generate or inputs), and
 * no pair that cannot be. */
static int check_run(parse_state *ps)
{
	const cli_options *opt = &ps->opt;
	int status = GO_ON;

	if (ps->generate)
		status = take_generate(ps);
	else if (ps->needing[NEEDS_GENERATE])
		status = usage_error("--%s only applies with --generate",
				     ps->needing[NEEDS_GENERATE]->name);
	else if (opt->input_count == 0 && !opt->files_from && !opt->files_from0)
		status = usage_error("no input files");
	if (status == GO_ON)
		status = check_batch(opt);
	if (status == GO_ON)
		status = check_reports(ps);
	if (status == GO_ON)
		status = check_loudness(ps);
	if (status != GO_ON)
		return status;
	if (opt->spectrum.spectrogram_long && opt->spectrum.spectrogram_bins)
		return usage_error("--spectrogram-bins only applies to --spectrogram-format wide");
	if (opt->dry_run && (opt->perf_stats || opt->stats_json))
		return usage_error("--dry-run runs nothing to measure; drop the stats options");
	if (!opt->output && !opt->dry_run && !opt->job.analyze && !opt->list)
		return usage_error("no output given; use -o PATH");
	return GO_ON;
}

int cli_parse(int argc, char **argv, cli_options *opt)
{
	struct option longopts[OPTION_COUNT + 1];
	char shortopts[1 + 3 * OPTION_COUNT + 1];
	parse_state ps = { .duration = 1.0,
			   .level_db = -3.0,
			   .sample_rate = 48000,
			   .channels = 1,
			   .nonfinite = -1,
			   .spectrum_of = -1,
			   .fft_plan = -1 };
	int c, status = GO_ON;

	ra_job_config_init(&ps.opt.job);
	ra_spectrum_request_init(&ps.opt.spectrum);
	ps.opt.settings = cli_fnv1a(CLI_FNV1A_BASIS, RA_VERSION, sizeof(RA_VERSION));
	getopt_tables(longopts, shortopts);
	opterr = 0;
	while (status == GO_ON && (c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const option_spec *o = option_of(c);

		status = o ? take_option(&ps, o, optarg) : refused(c, argv);
		if (status == GO_ON && o->settings == SETTINGS_HASHED)
			ps.opt.settings = hash_option(ps.opt.settings, o, optarg);
	}
	if (status == GO_ON) {
		ps.opt.settings = hash_bands(ps.opt.settings, &ps.opt.eq);
		if (!ps.opt.manifest)
			ps.opt.manifest = ps.opt.resume;
		ps.opt.inputs = argv + optind;
		ps.opt.input_count = argc - optind;
		settle_choices(&ps);
		status = check_run(&ps);
	}
	*opt = ps.opt;
	return status;
}
