/* The batch: one job a file, several at once with -j, each skipped or
 * recorded through the ledger; failures and warnings in one line each, in
 * input order; progress; the summary. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rustyaudio/audio_file.h"
#include "rustyaudio/eq.h"
#include "rustyaudio/lane.h"
#include "rustyaudio/spectrum.h"
#include "rustyaudio/workers.h"

#include "batch.h"
#include "ledger.h"
#include "measure.h"
#include "paths.h"
#include "perf.h"
#include "runner.h"
#include "say.h"

typedef struct progress {
	size_t count;
	const char *name;
	double start, last; /* seconds, monotonic */
	int shown;
} progress;

static void show_progress(void *ctx, int64_t done, int64_t total)
{
	progress *p = ctx;
	double t = (double)ra_now_ns() * 1e-9;
	char *name;

	if (p->shown && t - p->last < 0.1)
		return;
	p->last = t;
	p->shown = 1;
	name = cli_quote(p->name);
	if (total > 0)
		fprintf(stderr, "\rrusty-audio: %s: %d%%\033[K", name,
			(int)(100.0 * (double)done / (double)total));
	else
		fprintf(stderr, "\rrusty-audio: %s: %lld frames\033[K", name, (long long)done);
	free(name);
}

static void clear_progress(progress *p)
{
	if (p->shown)
		fputs("\r\033[K", stderr);
	p->shown = 0;
}

/* --nonfinite zero or pass let some through: how many. */
static void warn_nonfinite(const char *name, const ra_job_result *res)
{
	if (res->nonfinite > 0)
		cli_say("warning", name, "%llu non-finite sample%s %s",
			(unsigned long long)res->nonfinite, res->nonfinite == 1 ? "" : "s",
			res->nonfinite_mode == RA_NONFINITE_ZERO ? "replaced by zero"
								 : "passed through");
}

/* Clipped samples: how many, and for several channels how many each. */
static void warn_clipped(const char *name, const ra_job_result *res)
{
	char detail[160] = "";
	size_t used = 0;

	if (res->clipped == 0)
		return;
	for (int c = 0; res->channels > 1 && c < res->channels && c < RA_JOB_CLIP_CHANNELS; c++) {
		int n = snprintf(detail + used, sizeof(detail) - used, "%sch%d %llu",
				 c ? ", " : " (", c + 1, (unsigned long long)res->clipped_ch[c]);

		if (n < 0 || (size_t)n >= sizeof(detail) - used)
			break;
		used += (size_t)n;
	}
	cli_say("warning", name, "%llu samples clipped%s%s", (unsigned long long)res->clipped,
		detail, used ? (res->channels > RA_JOB_CLIP_CHANNELS ? ", ...)" : ")") : "");
}

/* One line for each thing the user should know about a finished file. */
static void report_warnings(const char *name, const ra_job_result *res, int *noted_fallback)
{
	warn_clipped(name, res);
	warn_nonfinite(name, res);
	if (res->decode_stopped)
		cli_say("warning", name, "decoding stopped after %lld frames: %s",
			(long long)res->frames_read, res->diag.text);
	else if (res->frames_claimed > res->frames_read)
		cli_say("warning", name, "input ends early: read %lld of %lld frames",
			(long long)res->frames_read, (long long)res->frames_claimed);
	else if (res->frames_read == 0)
		cli_say("warning", name, "no audio frames; wrote an empty output");
	if (res->normalize_gain_db == 0.0 && isinf(res->peak_dbfs))
		cli_say("warning", name, "silent; --normalize left the level alone");
	if (res->has_loudness && isinf(res->loudness.integrated_lufs))
		cli_say("warning", name,
			"no loudness above the gates; --loudness left the level "
			"alone");
	else if (res->loudness_short_lu > 0.0)
		cli_say("warning", name,
			"its true peak (%.2f dBTP) held the gain to %+.2f dB: %.2f LUFS, %.2f LU "
			"short of the target",
			res->loudness.true_peak_dbtp, res->loudness_gain_db,
			res->loudness.integrated_lufs + res->loudness_gain_db,
			res->loudness_short_lu);
	if (res->fell_back && !*noted_fallback) {
		cli_say("note", name, "%s cannot hold %s; writing %s",
			ra_format_name(res->out_format), ra_subtype_name(res->in_format),
			ra_subtype_name(res->out_format));
		*noted_fallback = 1;
	}
}

/* NAME's job failed with ST: the library's message (it describes the
 * condition), then what the command line offers against it. */
static void report_failure(const char *name, ra_status st, const ra_diag *diag)
{
	const char *advice = "";

	if (st == RA_ERR_EXISTS)
		advice = " (use --force to replace it)";
	cli_say(NULL, name, "%s%s", diag->text, advice);
}

/* Point CFG's spectrum request, REQ, at NAME's report PATHS (freed by the
 * caller). */
static void set_reports(const cli_options *opt, ra_job_config *cfg, ra_spectrum_request *req,
			const char *name, char *paths[3])
{
	paths_reports(opt, name, paths);
	*req = opt->spectrum;
	req->csv_path = paths[0];
	req->svg_path = paths[1];
	req->spectrogram_path = paths[2];
	cfg->spectrum = paths[0] || paths[1] || paths[2] ? req : NULL;
}

/* IN (NULL: the generated signal) through CFG into OUT (NULL: measured
 * only), timed when PR; refused before it starts when its output CLASHes
 * with an earlier one's. */
static ra_status timed_job(const cli_options *opt, ra_job_config *cfg, const char *in,
			   const char *out, int clash, perf_run *pr, ra_job_result *res)
{
	ra_status st;

	cfg->perf = pr ? perf_file_start(pr) : NULL;
	if (clash) {
		memset(res, 0, sizeof(*res));
		ra_diag_set(&res->diag, "output %s is also that of an earlier input", out);
		st = RA_ERR_INVALID; /* not for --force to settle */
	} else if (in) {
		st = ra_job_run(cfg, in, out, res);
	} else {
		st = ra_job_generate(cfg, &opt->gen, out, res);
	}
	if (pr)
		perf_file_end(pr, in, out, st, res);
	return st;
}

/* One job: IN (NULL: the generated signal) into OUT with its reports, as
 * timed_job(). */
static ra_status run_job(const cli_options *opt, const ra_job_config *base, const char *in,
			 const char *out, int clash, perf_run *pr, ra_job_result *res)
{
	ra_job_config cfg = *base;
	ra_spectrum_request req;
	char *paths[3];
	ra_status st;

	set_reports(opt, &cfg, &req, in ? in : out, paths);
	st = timed_job(opt, &cfg, in, out, clash, pr, res);
	for (int k = 0; k < 3; k++)
		free(paths[k]);
	return st;
}

/* --dry-run: the chain NAME would get at IN_RATE Hz, on stdout. */
static int print_chain(const cli_options *opt, const char *name, int in_rate, int channels)
{
	int rate = opt->job.out_rate ? opt->job.out_rate : in_rate;
	ra_biquad_coeffs c[RA_EQ_MAX_BANDS];
	double gain_db, at_hz;
	ra_diag diag = { { 0 } };
	char *quoted;

	if (ra_eq_design(&opt->eq, rate, c, &diag) != RA_OK) {
		cli_say(NULL, name, "%s", diag.text);
		return -1;
	}
	quoted = cli_quote(name);
	printf("%s: %d Hz", quoted, in_rate);
	free(quoted);
	if (rate != in_rate)
		printf(" -> %d Hz", rate);
	printf(", %d channel%s, %d band%s\n", channels, channels == 1 ? "" : "s", opt->eq.count,
	       opt->eq.count == 1 ? "" : "s");
	for (int i = 0; i < opt->eq.count; i++)
		printf("  %2d %-24s b0=%.12g b1=%.12g b2=%.12g a1=%.12g a2=%.12g\n", i + 1,
		       opt->eq.bands[i].label, c[i].b0, c[i].b1, c[i].b2, c[i].a1, c[i].a2);
	ra_eq_peak_gain(c, opt->eq.count, rate, &gain_db, &at_hz);
	printf("  max gain %+.2f dB at %.1f Hz; pre-gain %+.2f dB avoids clipping\n", gain_db,
	       at_hz, gain_db > 0.0 ? -gain_db : 0.0);
	return 0;
}

static int run_dry(const cli_options *opt, const path_list *inputs,
		   const volatile sig_atomic_t *cancel)
{
	size_t failed = 0;
	ra_job_config cfg = opt->job;
	album *al;
	ra_status st = RA_OK;

	if (opt->generate)
		return print_chain(opt, "--generate", opt->gen.sample_rate, opt->gen.channels)
			       ? EXIT_SOME_FAILED
			       : EXIT_ALL_DONE;
	cfg.cancel = cancel;
	cfg.eq = &opt->eq;
	if (opt->job.loudness && !(cfg.workers = ra_workers_create(opt->threads, &st, NULL))) {
		cli_say(NULL, NULL, "cannot start worker threads: %s", ra_strerror(st));
		return EXIT_SOME_FAILED;
	}
	al = opt->job.loudness && opt->loudness_album ? album_create() : NULL;
	for (size_t i = 0; i < inputs->count && !ra_stop_requested(cancel); i++) {
		ra_diag diag = { { 0 } };
		ra_reader *rd = ra_reader_open(inputs->items[i], opt->job.spool ? RA_READ_SPOOL : 0,
					       cancel, NULL, &diag);

		if (!rd) {
			cli_say(NULL, inputs->items[i], "%s", diag.text);
			failed++;
			continue;
		}
		if (print_chain(opt, inputs->items[i], ra_reader_info(rd)->sample_rate,
				ra_reader_info(rd)->channels))
			failed++;
		ra_reader_destroy(rd);
		if (opt->job.loudness && measure_dry_run(&cfg, inputs->items[i], al) != 0)
			failed++;
	}
	if (al && !failed)
		measure_dry_run_album(&cfg, al);
	album_destroy(al);
	ra_workers_destroy(cfg.workers);
	return failed ? EXIT_SOME_FAILED : EXIT_ALL_DONE;
}

/* --analyze's table for NAME; its loudness line unless NO_LOUDNESS. */
static void print_summary(const char *name, const ra_job_result *res, double seconds,
			  int no_loudness)
{
	char *quoted = cli_quote(name);

	printf("%s: %d channel%s, %.3f s\n", quoted, res->channels, res->channels == 1 ? "" : "s",
	       seconds);
	free(quoted);
	printf("  %3s %10s %9s %11s %9s %9s %10s %12s %14s\n", "ch", "peak_dbfs", "rms_dbfs",
	       "dc_offset", "crest_db", "clipped", "peak_hz", "centroid_hz", "true_peak_dbtp");
	for (int c = 0; c < res->channels; c++) {
		const ra_channel_summary *s = &res->summary[c];

		printf("  %3d %10.2f %9.2f %11.3g %9.2f %9llu %10.1f %12.1f %14.2f\n", c + 1,
		       s->peak_dbfs, s->rms_dbfs, s->dc_offset, s->crest_db,
		       (unsigned long long)s->clipped, s->peak_hz, s->centroid_hz,
		       s->true_peak_dbtp);
	}
	if (!res->has_loudness && !no_loudness)
		printf("  no loudness: %s\n", res->diag.text);
	else if (res->has_loudness)
		printf("  integrated %.1f LUFS, range %.1f LU, momentary max %.1f LUFS, short-term "
		       "max %.1f LUFS, true peak %.1f dBTP\n",
		       res->loudness.integrated_lufs, res->loudness.range_lu,
		       res->loudness.momentary_max_lufs, res->loudness.shortterm_max_lufs,
		       res->loudness.true_peak_dbtp);
}

static int run_generate(const cli_options *opt, const ra_job_config *cfg, perf_run *pr)
{
	ra_job_result res;
	ra_status st = run_job(opt, cfg, NULL, opt->output, 0, pr, &res);
	int noted = 1;

	if (st != RA_OK) {
		report_failure(opt->output, st, &res.diag); /* the job's name, as documented */
		return EXIT_SOME_FAILED;
	}
	report_warnings(opt->output, &res, &noted);
	return EXIT_ALL_DONE;
}

/* Load the FFTW wisdom at PATH at the start of a run; *LOADED: there was
 * some. -1 after a message. */
static int load_wisdom(const char *path, int *loaded)
{
	ra_diag diag = { { 0 } };

	if (ra_spectrum_wisdom_load(path, loaded, &diag) == RA_OK)
		return 0;
	cli_say(NULL, NULL, "%s", diag.text);
	return -1;
}

/* Save the FFTW wisdom at the end of a run; LOADED: the file there is the
 * wisdom loaded at the start, to be updated. -1 after a message. */
static int save_wisdom(const char *path, int loaded)
{
	ra_diag diag = { { 0 } };
	ra_status st = ra_spectrum_wisdom_save(path, loaded, &diag);

	if (st == RA_ERR_EXISTS || st == RA_ERR_REPLACED)
		cli_say(NULL, path, "appeared during the run; not replacing it with FFTW wisdom");
	else if (st != RA_OK)
		cli_say(NULL, NULL, "%s", diag.text);
	return st == RA_OK ? 0 : -1;
}

/* A file's outcome, kept from its runner until it is reported. */
typedef struct file_slot {
	ra_status st;
	int skipped;
	ra_job_result res;
	ledger_file lf;
} file_slot;

/* The run's threads: for each runner (file at once), a pool for the EQ
 * and the resampler (only if either may be used: a rate is asked for, or
 * bands) and a lane for the sink stage (when it has more than one CPU). */
typedef struct run_threads {
	int runners;
	ra_workers *workers[RA_WORKERS_MAX];
	ra_lane *lane[RA_WORKERS_MAX];
} run_threads;

/* Outcomes kept at once for T's runners: enough that none waits for the
 * oldest to be handed over (see RUNNER_AHEAD). */
static size_t runner_window(const run_threads *t)
{
	return t->runners > 1 ? (size_t)t->runners * RUNNER_AHEAD : 1;
}

/* Each of T's runners' config: BASE with that runner's threads. */
static void runner_configs(ra_job_config *cfg, const ra_job_config *base, const run_threads *t)
{
	for (int r = 0; r < t->runners; r++) {
		cfg[r] = *base;
		cfg[r].workers = t->workers[r];
		cfg[r].lane = t->lane[r];
	}
}

/* A batch of files in flight. */
typedef struct file_run {
	const cli_options *opt;
	const path_list *inputs;
	char **outputs;
	unsigned char *clash;
	ra_job_config cfg[RA_WORKERS_MAX]; /* a runner's */
	perf_run *pr;
	ledger *led;
	file_slot *slots;
	size_t window;
	progress prog;
	int noted_fallback;
	double audio_s;	   /* done so far, for the batch progress line */
	int stream_broken; /* -o -: an input failed, and the stream ends there */
} file_run;

/* Input I on RUNNER: skipped, or run; its outcome into its slot. */
static void work_file(void *ctx, size_t i, int runner)
{
	file_run *b = ctx;
	file_slot *slot = &b->slots[i % b->window];
	ra_job_config cfg = b->cfg[runner];
	ledger_action action;

	memset(&slot->res, 0, sizeof(slot->res));
	slot->lf = (ledger_file){
		.l = b->led, .in = b->inputs->items[i], .out = b->outputs[i], .res = &slot->res
	};
	slot->st = RA_OK;
	action = ledger_begin(&slot->lf);
	slot->skipped = action == LEDGER_SKIP;
	if (slot->skipped)
		return;
	/* Standard output's raw stream holds every input or stops at the first
	 * that fails: the rest would join out of place. (-o - runs inline, so
	 * the input before has been handed over.) */
	if (b->stream_broken) {
		ra_diag_set(&slot->res.diag, "not written: the stream stopped at an earlier input");
		slot->st = RA_ERR_INVALID;
		ledger_end(&slot->lf, slot->st);
		return;
	}
	if (b->opt->relative_to && paths_make_folders(b->opt, slot->lf.out) != 0) {
		ra_diag_set(&slot->res.diag, "%s: cannot make its folder: %s", slot->lf.out,
			    strerror(errno));
		slot->st = RA_ERR_OPEN;
		ledger_end(&slot->lf, slot->st);
		return;
	}
	cfg.force |= action == LEDGER_REPLACE;
	cfg.finished = ledger_finished;
	cfg.finished_ctx = &slot->lf;
	slot->st = run_job(b->opt, &cfg, slot->lf.in, slot->lf.out, b->clash[i], b->pr, &slot->res);
	ledger_end(&slot->lf, slot->st);
}

/* Files done of the batch, with the audio they held, its rate against
 * real time and the time left, on one line. */
static void show_batch_progress(file_run *b, size_t done)
{
	progress *p = &b->prog;
	double elapsed = (double)ra_now_ns() * 1e-9 - p->start;
	size_t failed = ledger_count(b->led, MANIFEST_FAILED);

	if (done == 0)
		return;
	fprintf(stderr,
		"\rrusty-audio: %zu/%zu files, %zu failed, %.2f h of audio, %.1fx real time, "
		"%.0f s left\033[K",
		done, p->count, failed, b->audio_s / 3600.0,
		elapsed > 0 ? b->audio_s / elapsed : 0.0,
		elapsed / (double)done * (double)(p->count - done));
	p->shown = 1;
}

/* Input I's outcome, in input order: its messages, its manifest line, the
 * progress line. */
static void file_done(void *ctx, size_t i)
{
	file_run *b = ctx;
	file_slot *slot = &b->slots[i % b->window];
	const char *in = b->inputs->items[i];

	clear_progress(&b->prog);
	if (slot->st == RA_OK && !slot->skipped)
		report_warnings(in, &slot->res, &b->noted_fallback);
	else if (slot->st != RA_OK)
		report_failure(in, slot->st, &slot->res.diag);
	if (slot->st != RA_OK && !strcmp(b->outputs[i], "-"))
		b->stream_broken = 1;
	if (slot->res.in_rate > 0)
		b->audio_s += (double)slot->res.frames_read / slot->res.in_rate;
	ra_job_result_release(&slot->res);
	if (!b->cfg[0].progress && !b->opt->quiet && b->prog.count > 1 && isatty(STDERR_FILENO))
		show_batch_progress(b, i + 1);
}

/* The batch's last line: files processed, skipped (when a run can skip)
 * and failed. */
static void print_summary_line(const cli_options *opt, ledger *led)
{
	char skipped[48] = "";

	if (opt->resume || opt->skip_existing)
		snprintf(skipped, sizeof(skipped), ", %zu skipped",
			 ledger_count(led, MANIFEST_SKIPPED));
	cli_say(NULL, NULL, "%zu processed%s, %zu failed", ledger_count(led, MANIFEST_DONE),
		skipped, ledger_count(led, MANIFEST_FAILED));
}

/* Each input through its job, to OUTPUTS, -j at once. */
static int run_files(const cli_options *opt, const ra_job_config *base, const run_threads *t,
		     const path_list *inputs, char **outputs, perf_run *pr)
{
	file_run b = { .opt = opt, .inputs = inputs, .outputs = outputs, .pr = pr };
	runner_calls calls = { work_file, file_done, &b };
	int status = EXIT_SOME_FAILED;
	long handed;

	b.window = runner_window(t);
	b.clash = calloc(inputs->count, 1);
	b.slots = calloc(b.window, sizeof(*b.slots));
	if (!b.clash || !b.slots)
		cli_die_nomem();
	if (!(b.led = ledger_open(opt))) {
		status = EXIT_USAGE; /* nothing has run */
		goto out;
	}
	paths_find_clashes(outputs, inputs->count, b.clash);
	b.prog = (progress){ .count = inputs->count, .start = (double)ra_now_ns() * 1e-9 };
	runner_configs(b.cfg, base, t);
	/* One file: its own progress line, as it goes. */
	if (!opt->quiet && inputs->count == 1 && isatty(STDERR_FILENO)) {
		b.cfg[0].progress = show_progress;
		b.cfg[0].progress_ctx = &b.prog;
		b.prog.name = inputs->items[0];
	}
	handed = runner_run(inputs->count, t->runners, &calls, base->cancel);
	clear_progress(&b.prog);
	if (handed < 0) {
		fputs("rusty-audio: cannot start the threads for -j\n", stderr);
		goto out;
	}
	if (!ra_stop_requested(base->cancel) && inputs->count > 1 && !opt->quiet)
		print_summary_line(opt, b.led);
	status = ledger_status(b.led);
out:
	ledger_close(b.led);
	free(b.slots);
	free(b.clash);
	return status;
}

/* An input's --analyze outcome, kept from its runner until it is printed. */
typedef struct analyze_slot {
	ra_status st;
	ra_job_result res;
} analyze_slot;

/* --analyze's inputs (or the generated signal) in flight. */
typedef struct analyze_run {
	const cli_options *opt;
	const path_list *inputs;
	ra_job_config cfg[RA_WORKERS_MAX]; /* a runner's */
	perf_run *pr;
	report_csv *csv;
	const volatile sig_atomic_t *cancel;
	analyze_slot *slots;
	size_t window;
	size_t failed;
} analyze_run;

static const char *analyze_name(const analyze_run *a, size_t i)
{
	return a->opt->generate ? "--generate" : a->inputs->items[i];
}

/* Input I measured on RUNNER, into its slot. The stats (one runner only)
 * time it alone. */
static void work_analyze(void *ctx, size_t i, int runner)
{
	analyze_run *a = ctx;
	analyze_slot *slot = &a->slots[i % a->window];
	const char *in = a->opt->generate ? NULL : a->inputs->items[i];

	slot->st = timed_job(a->opt, &a->cfg[runner], in, NULL, 0, a->pr, &slot->res);
}

/* Input I's summary (or its failure) and its CSV row, in input order. */
static void analyze_done(void *ctx, size_t i)
{
	analyze_run *a = ctx;
	analyze_slot *slot = &a->slots[i % a->window];
	const char *name = analyze_name(a, i);
	const ra_job_result *res = &slot->res;

	if (a->csv && !ra_stop_requested(a->cancel))
		report_csv_row(a->csv, name, slot->st, res);
	if (slot->st != RA_OK) {
		report_failure(name, slot->st, &res->diag);
		a->failed++;
	} else {
		warn_nonfinite(name, res);
		print_summary(name, res,
			      (double)res->frames_read / (a->opt->generate ? a->opt->gen.sample_rate
									   : (double)res->in_rate),
			      a->opt->job.no_loudness);
	}
	ra_job_result_release(&slot->res);
}

/* --analyze: a summary of each input (or the generated signal) on stdout,
 * in input order, -j at once. */
static int run_analyze(const cli_options *opt, const ra_job_config *base, const run_threads *t,
		       const path_list *inputs, perf_run *pr)
{
	analyze_run a = { .opt = opt, .inputs = inputs, .pr = pr, .cancel = base->cancel };
	runner_calls calls = { work_analyze, analyze_done, &a };
	size_t count = opt->generate ? 1 : inputs->count;
	long handed;

	a.window = runner_window(t);
	if (!(a.slots = calloc(a.window, sizeof(*a.slots))))
		cli_die_nomem();
	if (opt->report_csv && !(a.csv = report_csv_open(opt->report_csv, opt->job.force))) {
		free(a.slots);
		return EXIT_USAGE;
	}
	runner_configs(a.cfg, base, t);
	handed = runner_run(count, t->runners, &calls, base->cancel);
	free(a.slots);
	/* A run cut short keeps no report: it would look whole. */
	if (report_csv_close(a.csv, ra_stop_requested(base->cancel) || handed < 0) != 0)
		return EXIT_TEMPFAIL;
	if (handed < 0) {
		fputs("rusty-audio: cannot start the threads for -j\n", stderr);
		return EXIT_SOME_FAILED;
	}
	return a.failed ? EXIT_SOME_FAILED : EXIT_ALL_DONE;
}

/* --list: the inputs the run would take, one a line (NUL-ended for a
 * --files-from0 list). */
static int print_inputs(const cli_options *opt, const path_list *inputs)
{
	for (size_t i = 0; i < inputs->count; i++) {
		fputs(inputs->items[i], stdout);
		putchar(opt->files_from0 ? '\0' : '\n');
	}
	return EXIT_ALL_DONE;
}

/* The runners for COUNT inputs: -j, or else a thread each (one file a
 * thread is faster than the threads sharing a file's EQ: 3 ten-minute
 * files took 0.73 s against 0.88 s, 1000 one-second files 1.3 s against
 * 2.7 s on two cores), no more than there are inputs. The stats time one
 * file at a time. */
static int runner_count(const cli_options *opt, size_t count)
{
	int total = ra_workers_thread_count(opt->threads);

	/* Standard output takes one file after another, in order. */
	if (opt->output && !strcmp(opt->output, "-"))
		return 1;
	if (opt->jobs > 0)
		return opt->jobs;
	if (opt->generate || opt->perf_stats || opt->stats_json || count < 2)
		return 1;
	return count < (size_t)total ? (int)count : total;
}

/* Start T's threads for COUNT inputs, a set for each runner sharing the
 * --threads; -1 after a message when one cannot start. */
static int start_threads(const cli_options *opt, size_t count, run_threads *t)
{
	int total = ra_workers_thread_count(opt->threads);
	int each, runners = runner_count(opt, count);
	ra_status st = RA_OK;

	each = total / runners > 1 ? total / runners : 1;
	t->runners = runners;
	for (int r = 0; r < t->runners; r++) {
		if (!opt->job.reference && !(t->workers[r] = ra_workers_create(each, &st, NULL))) {
			cli_say(NULL, NULL, "cannot start worker threads: %s", ra_strerror(st));
			return -1;
		}
		if (!opt->job.reference && each > 1 &&
		    !(t->lane[r] = ra_lane_create(1, RA_LANE_DEPTH_MAX, &st, NULL))) {
			cli_say(NULL, NULL, "cannot start the output thread: %s", ra_strerror(st));
			return -1;
		}
	}
	return 0;
}

/* The jobs: --analyze's, the generated signal's, or each input's into its
 * output. */
static int run_jobs(const cli_options *opt, const volatile sig_atomic_t *cancel,
		    const run_threads *t, const path_list *inputs, char **outputs, perf_run *pr)
{
	ra_job_config cfg = opt->job;
	ra_spectrum_request req = opt->spectrum;

	cfg.cancel = cancel;
	cfg.eq = &opt->eq;
	cfg.workers = t->workers[0];
	cfg.lane = t->lane[0];
	if (opt->job.analyze) {
		cfg.spectrum = &req;
		return run_analyze(opt, &cfg, t, inputs, pr);
	}
	if (opt->generate)
		return run_generate(opt, &cfg, pr);
	if (opt->job.loudness && opt->loudness_album) {
		double gain_db;

		if (measure_album(opt, &cfg, inputs, &gain_db) != 0)
			return EXIT_SOME_FAILED;
		cfg.gain_db += gain_db;
		cfg.loudness = 0;
	}
	return run_files(opt, &cfg, t, inputs, outputs, pr);
}

int cli_batch_run(const cli_options *opt, const volatile sig_atomic_t *cancel)
{
	path_list inputs = { 0 };
	char **outputs = NULL;
	int status = EXIT_USAGE, failed, wisdom_loaded = 0;
	run_threads threads = { 0 };
	perf_run *pr = NULL;

	if (opt->wisdom_path && load_wisdom(opt->wisdom_path, &wisdom_loaded) != 0)
		return EXIT_USAGE;
	if (paths_gather_inputs(opt, cancel, &inputs) != 0)
		goto out;
	if (opt->list) {
		status = print_inputs(opt, &inputs);
		goto out;
	}
	if (paths_check_streams(opt, &inputs) != 0)
		goto out;
	if (opt->dry_run) {
		status = run_dry(opt, &inputs, cancel);
		goto out;
	}
	if (!opt->job.analyze && !opt->generate && !(outputs = paths_resolve_outputs(opt, &inputs)))
		goto out;
	if (paths_check_outputs(opt, &inputs, outputs) != 0)
		goto out;
	status = EXIT_SOME_FAILED;
	if (start_threads(opt, inputs.count, &threads) != 0)
		goto out;
	pr = perf_start(opt, threads.workers[0], &failed);
	if (failed)
		goto out;
	status = run_jobs(opt, cancel, &threads, &inputs, outputs, pr);
	/* A finished run (not an interrupted one) keeps what FFTW learned. */
	if (opt->wisdom_path && !ra_stop_requested(cancel) &&
	    save_wisdom(opt->wisdom_path, wisdom_loaded) != 0)
		status = EXIT_SOME_FAILED;
out:
	if (pr && perf_finish(pr, ra_stop_requested(cancel) || status == EXIT_USAGE) != 0)
		status = EXIT_SOME_FAILED;
	paths_free_outputs(outputs, inputs.count);
	path_list_release(&inputs);
	for (int r = 0; r < threads.runners; r++) {
		ra_workers_destroy(threads.workers[r]);
		ra_lane_destroy(threads.lane[r]);
	}
	return status;
}
