/* Command-line options: GNU getopt_long parsing and validation of every
 * value before any file is touched. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rustyaudio/audio_file.h"
#include "rustyaudio/convert.h"
#include "rustyaudio/eq.h"
#include "rustyaudio/resample.h"
#include "rustyaudio/spectrum.h"

#include "options.h"

enum {
	OPT_BLOCK_SIZE = 256,
	OPT_FORMAT,
	OPT_SUBTYPE,
	OPT_DITHER,
	OPT_GAIN,
	OPT_RATE,
	OPT_RESAMPLE_QUALITY,
	OPT_FILES_FROM,
	OPT_GENERATE,
	OPT_DURATION,
	OPT_SAMPLE_RATE,
	OPT_CHANNELS,
	OPT_LEVEL,
	OPT_SEED,
	OPT_EQ,
	OPT_GEQ,
	OPT_EQ_FILE,
	OPT_PRESET,
	OPT_DRY_RUN,
	OPT_NORMALIZE,
	OPT_THREADS,
	OPT_PIPELINE,
	OPT_SPECTRUM,
	OPT_SPECTRUM_OF,
	OPT_FFT_SIZE,
	OPT_WINDOW,
	OPT_OVERLAP,
	OPT_SPECTRUM_SCALE,
	OPT_CHANNELS_MODE,
	OPT_FFT_PLAN,
	OPT_PLOT,
	OPT_ANALYZE,
	OPT_SPECTROGRAM,
	OPT_SPECTROGRAM_FORMAT,
	OPT_SPECTROGRAM_BINS,
	OPT_FFTW_WISDOM,
	OPT_PERF_STATS,
	OPT_STATS_JSON,
	OPT_NONFINITE,
};

static const struct option long_options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "force", no_argument, NULL, 'f' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "block-size", required_argument, NULL, OPT_BLOCK_SIZE },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "subtype", required_argument, NULL, OPT_SUBTYPE },
	{ "dither", required_argument, NULL, OPT_DITHER },
	{ "gain", required_argument, NULL, OPT_GAIN },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "resample-quality", required_argument, NULL, OPT_RESAMPLE_QUALITY },
	{ "files-from", required_argument, NULL, OPT_FILES_FROM },
	{ "generate", required_argument, NULL, OPT_GENERATE },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "sample-rate", required_argument, NULL, OPT_SAMPLE_RATE },
	{ "channels", required_argument, NULL, OPT_CHANNELS },
	{ "level", required_argument, NULL, OPT_LEVEL },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "eq", required_argument, NULL, OPT_EQ },
	{ "geq", required_argument, NULL, OPT_GEQ },
	{ "eq-file", required_argument, NULL, OPT_EQ_FILE },
	{ "preset", required_argument, NULL, OPT_PRESET },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "normalize", optional_argument, NULL, OPT_NORMALIZE },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "pipeline", required_argument, NULL, OPT_PIPELINE },
	{ "spectrum", required_argument, NULL, OPT_SPECTRUM },
	{ "spectrum-of", required_argument, NULL, OPT_SPECTRUM_OF },
	{ "fft-size", required_argument, NULL, OPT_FFT_SIZE },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ "overlap", required_argument, NULL, OPT_OVERLAP },
	{ "spectrum-scale", required_argument, NULL, OPT_SPECTRUM_SCALE },
	{ "channels-mode", required_argument, NULL, OPT_CHANNELS_MODE },
	{ "fft-plan", required_argument, NULL, OPT_FFT_PLAN },
	{ "plot", required_argument, NULL, OPT_PLOT },
	{ "analyze", no_argument, NULL, OPT_ANALYZE },
	{ "spectrogram", required_argument, NULL, OPT_SPECTROGRAM },
	{ "spectrogram-format", required_argument, NULL, OPT_SPECTROGRAM_FORMAT },
	{ "spectrogram-bins", required_argument, NULL, OPT_SPECTROGRAM_BINS },
	{ "fftw-wisdom", required_argument, NULL, OPT_FFTW_WISDOM },
	{ "enable-performance-stats", no_argument, NULL, OPT_PERF_STATS },
	{ "stats-json", required_argument, NULL, OPT_STATS_JSON },
	{ "nonfinite", required_argument, NULL, OPT_NONFINITE },
	{ NULL, 0, NULL, 0 },
};

static const char usage_head[] =
	"usage: rusty-audio [OPTIONS] INPUT... -o OUTPUT\n"
	"       rusty-audio --generate SIGNAL [--duration S] [--sample-rate HZ] [--channels N] -o FILE\n"
	"\n"
	"Process audio files in blocks: resample, apply gain and EQ, convert formats.\n"
	"\n"
	"  -o, --output PATH          output file, or folder for several inputs\n"
	"  -f, --force                replace existing outputs\n"
	"  -q, --quiet                no progress line and no summary\n"
	"      --files-from LIST      read input paths from LIST, one a line ('-': stdin)\n"
	"      --block-size N         frames per block (default 1024)\n";

/* After the --format line, which lists the format table's names. */
static const char usage_tail[] =
	"      --subtype NAME         pcm8, pcmu8, pcm16, pcm24, pcm32, float, double, ulaw, alaw, ...\n"
	"      --gain DB              gain in decibels\n"
	"      --rate HZ              resample to HZ (48000, 44.1k)\n"
	"      --resample-quality Q   best, medium, fast or linear (default best)\n"
	"      --dither MODE          tpdf or none (default: tpdf when reducing precision)\n"
	"      --eq TYPE:FREQ[:GAIN[:Q]]  add an EQ band (peak, lowshelf, highshelf, lowpass,\n"
	"                             highpass, bandpass, notch, allpass); Q or bw=OCT or s=SLOPE\n"
	"      --geq GAINS            graphic EQ: 10 octave or 31 third-octave gains, or 1k=+3,...\n"
	"      --eq-file FILE         add the bands in FILE, one a line\n"
	"      --preset NAME          add a built-in preset ('--preset list' names them)\n"
	"      --nonfinite MODE       NaN or infinite input samples: error (default), zero,\n"
	"                             or pass (the filters see 0, the output keeps them)\n"
	"      --normalize[=DBFS]     two passes: scale the processed peak to DBFS (default -1)\n"
	"      --dry-run              print each file's EQ chain and its peak gain; write nothing\n"
	"      --threads N            worker threads for the EQ (default: online CPUs)\n"
	"      --pipeline NAME        optimized (default) or reference (plain, for comparison)\n"
	"      --spectrum PATH        Welch spectrum as CSV (a folder for several inputs)\n"
	"      --plot PATH            the spectrum as an SVG plot (a folder for several inputs)\n"
	"      --spectrum-of WHAT     output (default), input or both\n"
	"      --fft-size N           segment length (default 2048)\n"
	"      --window NAME          hann (default), hamming, blackman, blackman-harris,\n"
	"                             flattop or rect\n"
	"      --overlap F            segment overlap, 0 <= F < 1 (default 0.5)\n"
	"      --spectrum-scale S     psd (default, dB re 1/Hz) or dbfs (full-scale sine 0 dB)\n"
	"      --channels-mode M      each (default) or mix\n"
	"      --fft-plan P           estimate (default) or measure\n"
	"      --spectrogram PATH     the output's spectrogram as CSV, a row a segment\n"
	"      --spectrogram-format F wide (default: a column a bin) or long\n"
	"      --spectrogram-bins N   wide: average into N bands a channel\n"
	"      --fftw-wisdom PATH     load FFTW wisdom from PATH, save it back (implies measure)\n"
	"      --analyze              print each file's levels and spectrum summary; no audio\n"
	"      --enable-performance-stats  time every stage; a table a file and a total on stderr\n"
	"      --stats-json PATH      the same numbers (and --analyze's) as one JSON document\n"
	"      --generate SIGNAL      sine:FREQ, sweep:F0:F1, white, pink, impulse, silence\n"
	"      --duration SECONDS     generated length (default 1)\n"
	"      --sample-rate HZ       generated rate (default 48000)\n"
	"      --channels N           generated channels (default 1)\n"
	"      --level DBFS           generated peak level (default -3)\n"
	"      --seed N               seed for noise and dither (default 1)\n"
	"  -h, --help                 show this help\n"
	"  -V, --version              show the version\n"
	"\n"
	"Exit status: 0 all files done, 1 some file failed, 2 usage error.\n";

/* The help, with every name --format takes, wrapped at 80 columns under
 * the description column (29). */
static int print_usage(void)
{
	static const char lead[] = "      --format NAME          output format:";
	int col = (int)sizeof(lead) - 1;
	const char *name;

	fputs(usage_head, stdout);
	fputs(lead, stdout);
	for (size_t i = 0; (name = ra_format_parse_name(i)); i++) {
		const char *comma = ra_format_parse_name(i + 1) ? "," : "";

		if (col + 1 + (int)strlen(name) + (int)strlen(comma) > 80) {
			printf("\n%28s", "");
			col = 28;
		}
		col += printf(" %s%s", name, comma);
	}
	putchar('\n');
	fputs(usage_tail, stdout);
	return EXIT_ALL_DONE;
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("rusty-audio: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs(" (see rusty-audio --help)\n", stderr);
	va_end(ap);
	return EXIT_USAGE;
}

/* A finite decimal number filling all of TEXT. */
static int parse_double(const char *text, double *value)
{
	char *end;

	errno = 0;
	*value = strtod(text, &end);
	return *text && !*end && errno == 0 && isfinite(*value);
}

/* A whole number in [LO, HI] filling all of TEXT. */
static int parse_long(const char *text, long lo, long hi, long *value)
{
	char *end;

	errno = 0;
	*value = strtol(text, &end, 10);
	return *text && !*end && errno == 0 && *value >= lo && *value <= hi;
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

static int list_presets(void)
{
	for (const char *const *name = ra_eq_preset_names(); *name; name++)
		printf("%-16s %s\n", *name, ra_eq_preset_bands(*name));
	return EXIT_ALL_DONE;
}

int cli_parse(int argc, char **argv, cli_options *opt)
{
	double duration = 1.0, level_db = -3.0;
	const char *generate = NULL, *generate_only = NULL;
	int plan_given = 0;
	int c, sample_rate = 48000;
	long channels = 1;

	memset(opt, 0, sizeof(*opt));
	ra_job_config_init(&opt->job);
	ra_spectrum_request_init(&opt->spectrum);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:fqhV", long_options, NULL)) != -1) {
		const char *arg = optarg;
		double d;
		long l;

		switch (c) {
		case 'o':
			opt->output = arg;
			break;
		case 'f':
			opt->job.force = 1;
			break;
		case 'q':
			opt->quiet = 1;
			break;
		case 'h':
			return print_usage();
		case 'V':
			printf("rusty-audio %s\n", RA_VERSION);
			return EXIT_ALL_DONE;
		case OPT_BLOCK_SIZE:
			if (!parse_long(arg, 1, RA_MAX_BLOCK_FRAMES, &l))
				return usage_error(
					"invalid --block-size '%s': expected 1 to %d frames", arg,
					RA_MAX_BLOCK_FRAMES);
			opt->job.block_frames = (size_t)l;
			break;
		case OPT_FORMAT: {
			int implied;

			if (ra_format_parse(arg, &opt->job.format_major, &implied) != RA_OK)
				return usage_error("unknown --format '%s'", arg);
			if (!opt->job.format_subtype)
				opt->job.format_subtype = implied;
			break;
		}
		case OPT_SUBTYPE:
			if (ra_subtype_parse(arg, &opt->job.format_subtype) != RA_OK)
				return usage_error("unknown --subtype '%s'", arg);
			break;
		case OPT_DITHER: {
			ra_dither dither;

			if (ra_dither_parse(arg, &dither) != RA_OK)
				return usage_error("invalid --dither '%s': expected %s", arg,
						   "tpdf or none");
			opt->job.dither = dither == RA_DITHER_TPDF ? RA_DITHER_MODE_TPDF
								   : RA_DITHER_MODE_NONE;
			break;
		}
		case OPT_GAIN:
			if (!parse_double(arg, &d) || fabs(d) > 200.0)
				return usage_error("invalid --gain '%s': expected %s", arg,
						   "decibels from -200 to 200");
			opt->job.gain_db = d;
			break;
		case OPT_RATE:
			if (!parse_rate(arg, &opt->job.out_rate))
				return usage_error("invalid --rate '%s': expected %s", arg,
						   "a whole number of Hz, e.g. 48000 or 44.1k");
			break;
		case OPT_RESAMPLE_QUALITY:
			if (ra_resample_quality_parse(arg, &opt->job.quality) != RA_OK)
				return usage_error("invalid --resample-quality '%s': expected %s",
						   arg, "best, medium, fast or linear");
			break;
		case OPT_FILES_FROM:
			opt->files_from = arg;
			break;
		case OPT_GENERATE:
			generate = arg;
			break;
		case OPT_DURATION:
			generate_only = "--duration";
			if (!parse_double(arg, &duration) || duration < 0.0 ||
			    duration > 86400.0 * 7)
				return usage_error("invalid --duration '%s': expected %s", arg,
						   "seconds from 0 to 604800");
			break;
		case OPT_SAMPLE_RATE:
			generate_only = "--sample-rate";
			if (!parse_rate(arg, &sample_rate))
				return usage_error("invalid --sample-rate '%s': expected %s", arg,
						   "a whole number of Hz, e.g. 48000 or 44.1k");
			break;
		case OPT_CHANNELS:
			generate_only = "--channels";
			if (!parse_long(arg, 1, RA_MAX_CHANNELS, &channels))
				return usage_error("invalid --channels '%s': expected %s", arg,
						   "1 to 1024");
			break;
		case OPT_LEVEL:
			generate_only = "--level";
			if (!parse_double(arg, &level_db) || level_db > 0.0)
				return usage_error("invalid --level '%s': expected %s", arg,
						   "dBFS at or below 0");
			break;
		case OPT_SEED: {
			char *end;

			errno = 0;
			opt->job.dither_seed = strtoull(arg, &end, 10);
			if (!*arg || *end || errno || *arg == '-')
				return usage_error("invalid --seed '%s': expected %s", arg,
						   "a non-negative integer");
			break;
		}
		case OPT_EQ:
		case OPT_GEQ:
		case OPT_EQ_FILE:
		case OPT_PRESET: {
			ra_diag diag = { { 0 } };
			ra_status st;

			if (c == OPT_PRESET && !strcmp(arg, "list"))
				return list_presets();
			if (c == OPT_EQ)
				st = ra_eq_add(&opt->eq, arg, &diag);
			else if (c == OPT_GEQ)
				st = ra_eq_add_graphic(&opt->eq, arg, &diag);
			else if (c == OPT_EQ_FILE)
				st = ra_eq_add_file(&opt->eq, arg, &diag);
			else
				st = ra_eq_add_preset(&opt->eq, arg, &diag);
			if (st != RA_OK)
				return usage_error("%s%s", diag.text,
						   c == OPT_PRESET && !ra_eq_preset_bands(arg)
							   ? " (--preset list names them)"
							   : "");
			break;
		}
		case OPT_NONFINITE: {
			static const char *const modes[] = { [RA_NONFINITE_ERROR] = "error",
							     [RA_NONFINITE_ZERO] = "zero",
							     [RA_NONFINITE_PASS] = "pass" };
			size_t m = 0;

			while (m < sizeof(modes) / sizeof(modes[0]) && strcmp(arg, modes[m]))
				m++;
			if (m == sizeof(modes) / sizeof(modes[0]))
				return usage_error("invalid --nonfinite '%s': expected %s", arg,
						   "error, zero or pass");
			opt->job.nonfinite = (ra_nonfinite_mode)m;
			break;
		}
		case OPT_DRY_RUN:
			opt->dry_run = 1;
			break;
		case OPT_NORMALIZE:
			opt->job.normalize = 1;
			if (arg &&
			    (!parse_double(arg, &opt->job.normalize_dbfs) ||
			     opt->job.normalize_dbfs > 0.0 || opt->job.normalize_dbfs < -200.0))
				return usage_error(
					"invalid --normalize '%s': expected dBFS from -200 to 0",
					arg);
			break;
		case OPT_THREADS:
			if (!parse_long(arg, 1, RA_WORKERS_MAX, &l))
				return usage_error("invalid --threads '%s': expected 1 to %d", arg,
						   RA_WORKERS_MAX);
			opt->threads = (int)l;
			break;
		case OPT_PIPELINE:
			if (!strcmp(arg, "reference"))
				opt->job.reference = 1;
			else if (!strcmp(arg, "optimized"))
				opt->job.reference = 0;
			else
				return usage_error(
					"invalid --pipeline '%s': expected optimized or reference",
					arg);
			break;
		case OPT_SPECTRUM:
			opt->spectrum_path = arg;
			break;
		case OPT_PLOT:
			opt->plot_path = arg;
			break;
		case OPT_SPECTROGRAM:
			opt->spectrogram_path = arg;
			break;
		case OPT_SPECTROGRAM_FORMAT:
			if (strcmp(arg, "wide") && strcmp(arg, "long"))
				return usage_error(
					"invalid --spectrogram-format '%s': expected wide or long",
					arg);
			opt->spectrum.spectrogram_long = !strcmp(arg, "long");
			break;
		case OPT_SPECTROGRAM_BINS:
			if (!parse_long(arg, 1, 1 << 23, &l))
				return usage_error(
					"invalid --spectrogram-bins '%s': expected 1 to %d", arg,
					1 << 23);
			opt->spectrum.spectrogram_bins = (size_t)l;
			break;
		case OPT_FFTW_WISDOM:
			opt->wisdom_path = arg;
			break;
		case OPT_ANALYZE:
			opt->analyze = 1;
			opt->job.analyze = 1;
			break;
		case OPT_PERF_STATS:
			opt->perf_stats = 1;
			break;
		case OPT_STATS_JSON:
			opt->stats_json = arg;
			break;
		case OPT_SPECTRUM_OF:
			opt->spectrum.of_input = !strcmp(arg, "input") || !strcmp(arg, "both");
			opt->spectrum.of_output = !strcmp(arg, "output") || !strcmp(arg, "both");
			if (!opt->spectrum.of_input && !opt->spectrum.of_output)
				return usage_error(
					"invalid --spectrum-of '%s': expected output, input or both",
					arg);
			break;
		case OPT_FFT_SIZE:
			if (!parse_long(arg, 2, 1 << 24, &l))
				return usage_error("invalid --fft-size '%s': expected 2 to %d", arg,
						   1 << 24);
			opt->spectrum.fft_size = (size_t)l;
			break;
		case OPT_WINDOW:
			if (ra_window_parse(arg, &opt->spectrum.window) != RA_OK)
				return usage_error("unknown --window '%s'", arg);
			break;
		case OPT_OVERLAP:
			if (!parse_double(arg, &d) || d < 0.0 || d >= 1.0)
				return usage_error("invalid --overlap '%s': expected 0 <= F < 1",
						   arg);
			opt->spectrum.overlap = d;
			break;
		case OPT_SPECTRUM_SCALE:
			if (ra_spectrum_scale_parse(arg, &opt->spectrum.scale) != RA_OK)
				return usage_error(
					"invalid --spectrum-scale '%s': expected psd or dbfs", arg);
			break;
		case OPT_CHANNELS_MODE:
			if (strcmp(arg, "each") && strcmp(arg, "mix"))
				return usage_error(
					"invalid --channels-mode '%s': expected each or mix", arg);
			opt->spectrum.mix = !strcmp(arg, "mix");
			break;
		case OPT_FFT_PLAN:
			if (strcmp(arg, "estimate") && strcmp(arg, "measure"))
				return usage_error(
					"invalid --fft-plan '%s': expected estimate or measure",
					arg);
			opt->spectrum.measure = !strcmp(arg, "measure");
			plan_given = 1;
			break;
		case ':':
			if (optopt > 0 && optopt < OPT_BLOCK_SIZE)
				return usage_error("option '-%c' needs a value", optopt);
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		case '?':
		default:
			if (optopt > 0 && optopt < OPT_BLOCK_SIZE)
				return usage_error("unknown option '-%c'", optopt);
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	/* With wisdom to keep, measuring is worth it (unless told otherwise). */
	if (opt->wisdom_path && !plan_given)
		opt->spectrum.measure = 1;
	opt->inputs = argv + optind;
	opt->input_count = argc - optind;

	if (!generate && generate_only) {
		return usage_error("%s only applies with --generate", generate_only);
	} else if (generate) {
		ra_diag diag = { { 0 } };

		if (opt->input_count > 0 || opt->files_from)
			return usage_error("--generate takes no input files");
		if (ra_generate_parse(generate, &opt->gen, &diag) != RA_OK)
			return usage_error("%s", diag.text);
		opt->generate = 1;
		opt->gen.sample_rate = sample_rate;
		opt->gen.channels = (int)channels;
		opt->gen.frames = (int64_t)llround(duration * sample_rate);
		opt->gen.amplitude = pow(10.0, level_db / 20.0);
		opt->gen.seed = opt->job.dither_seed;
		if (opt->gen.kind == RA_SIGNAL_SINE || opt->gen.kind == RA_SIGNAL_SWEEP) {
			double top = opt->gen.kind == RA_SIGNAL_SWEEP
					     ? fmax(opt->gen.freq, opt->gen.freq_end)
					     : opt->gen.freq;

			if (top >= sample_rate / 2.0)
				return usage_error(
					"--generate '%s': frequency must be below half the sample rate",
					generate);
		}
	} else if (opt->input_count == 0 && !opt->files_from) {
		return usage_error("no input files");
	}
	if (opt->spectrum.spectrogram_long && opt->spectrum.spectrogram_bins)
		return usage_error("--spectrogram-bins only applies to --spectrogram-format wide");
	if (opt->dry_run && (opt->perf_stats || opt->stats_json))
		return usage_error("--dry-run runs nothing to measure; drop the stats options");
	if (!opt->output && !opt->dry_run && !opt->analyze)
		return usage_error("no output given; use -o PATH");
	return -1;
}
