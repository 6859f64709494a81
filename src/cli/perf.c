/* Performance stats of a run: per-file and batch tables on stderr, and the
 * JSON document. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rustyaudio/atomic_file.h"
#include "rustyaudio/biquad.h"
#include "rustyaudio/stats.h"

#include "perf.h"
#include "say.h"

/* What a span of the run (a file, or the whole batch) measured. */
typedef struct span {
	uint64_t wall_ns, cpu_ns;
	double audio_s;	  /* input audio */
	uint64_t samples; /* input samples, all channels */
	ra_job_perf perf;
	ra_workers_stats workers; /* over the span */
	uint64_t between_ns;	  /* the batch: its time outside any file's */
} span;

/* Where a span began: its clocks and the workers' counters. */
typedef struct span_start {
	uint64_t wall_ns, cpu_ns;
	ra_workers_stats workers;
} span_start;

struct perf_run {
	const cli_options *opt;
	ra_workers *workers;
	int table; /* print tables */
	/* The JSON document, streamed into a temporary file. */
	ra_atomic_file af;
	FILE *json_file;
	ra_json json;
	/* The file in progress and the batch: their starts, then what they
	 * measured. */
	span_start file_start, batch_start;
	span file, batch;
	size_t files, failed;
	uint64_t files_wall_ns; /* the files' spans, summed */
};

static void workers_snapshot(const perf_run *pr, ra_workers_stats *ws)
{
	memset(ws, 0, sizeof(*ws));
	if (pr->workers)
		ra_workers_get_stats(pr->workers, ws);
}

/* What the workers did between A and B. */
static void workers_since(const ra_workers_stats *a, const ra_workers_stats *b, ra_workers_stats *d)
{
	*d = *b;
	d->batches = b->batches - a->batches;
	d->tasks = b->tasks - a->tasks;
	d->wait_ns = b->wait_ns - a->wait_ns;
	d->helped = b->helped - a->helped;
	d->help_ns = b->help_ns - a->help_ns;
	for (int t = 0; t < b->threads && t < RA_WORKERS_MAX; t++)
		d->busy_ns[t] = b->busy_ns[t] - a->busy_ns[t];
}

/* A span begins now: the workers' counters, then the clocks. */
static void span_begin(const perf_run *pr, span_start *start)
{
	workers_snapshot(pr, &start->workers);
	start->cpu_ns = ra_cpu_ns();
	start->wall_ns = ra_now_ns();
}

/* The time and the workers' work since START, into S. */
static void span_end(const perf_run *pr, const span_start *start, span *s)
{
	ra_workers_stats now;

	s->wall_ns = ra_now_ns() - start->wall_ns;
	s->cpu_ns = ra_cpu_ns() - start->cpu_ns;
	workers_snapshot(pr, &now);
	workers_since(&start->workers, &now, &s->workers);
}

/* Divided, not multiplied by 1e-9: the nearest double to the decimal, so
 * that the JSON shows it in few digits. */
static double seconds(uint64_t ns)
{
	return (double)ns / 1e9;
}

static double micros(double ns)
{
	return ns / 1e3;
}

static double share(uint64_t part, uint64_t whole)
{
	return whole ? (double)part / (double)whole : 0.0;
}

/* The share of the span's wall time that the caller's accounts (ra_job_perf)
 * and the time between files cover. */
static double accounted(const span *s)
{
	const ra_job_perf *p = &s->perf;

	return share(p->caller_stage_ns + p->caller_processor_ns + p->caller_lane_ns +
			     s->between_ns,
		     s->wall_ns);
}

/* ---- the table ---- */

static void print_threads(const span *s)
{
	fprintf(stderr, "  workers: %d thread%s, %llu tasks, busy", s->workers.threads,
		s->workers.threads == 1 ? "" : "s", (unsigned long long)s->workers.tasks);
	for (int i = 0; i < s->workers.threads; i++)
		fprintf(stderr, " %.1f%%", 100.0 * share(s->workers.busy_ns[i], s->wall_ns));
	fprintf(stderr, "%s of wall, caller waited %.3f s and ran %llu tasks (%.3f s)\n",
		s->workers.threads ? "" : " -", seconds(s->workers.wait_ns),
		(unsigned long long)s->workers.helped, seconds(s->workers.help_ns));
	fprintf(stderr, "  output thread: %llu blocks, busy %.1f%% of wall\n",
		(unsigned long long)s->perf.lane_blocks,
		100.0 * share(s->perf.lane_ns, s->wall_ns));
	fprintf(stderr,
		"  caller: %.1f%% in stages, %.1f%% in the processor (%.1f%% waiting for the "
		"workers), %.1f%% at the output thread",
		100.0 * share(s->perf.caller_stage_ns, s->wall_ns),
		100.0 * share(s->perf.caller_processor_ns, s->wall_ns),
		100.0 * share(s->workers.wait_ns, s->wall_ns),
		100.0 * share(s->perf.caller_lane_ns, s->wall_ns));
	if (s->between_ns)
		fprintf(stderr, ", %.1f%% between files", 100.0 * share(s->between_ns, s->wall_ns));
	fprintf(stderr, ": %.1f%% of wall\n", 100.0 * accounted(s));
}

static void print_table(const char *title, const span *s)
{
	double wall = seconds(s->wall_ns);
	char *quoted = cli_quote(title);

	fprintf(stderr, "rusty-audio: stats: %s\n", quoted);
	free(quoted);
	fprintf(stderr,
		"  %.3f s of audio in %.3f s wall, %.3f s CPU: %.0fx realtime, "
		"%.1f Msamples/s; peak RSS %.1f MiB\n",
		s->audio_s, wall, seconds(s->cpu_ns), wall > 0 ? s->audio_s / wall : 0.0,
		wall > 0 ? (double)s->samples / wall * 1e-6 : 0.0,
		(double)ra_peak_rss_bytes() / (1024.0 * 1024.0));
	fprintf(stderr, "  %-9s %9s %7s %9s %9s %9s %9s %9s\n", "stage", "total s", "share",
		"blocks", "mean us", "p50 us", "p99 us", "max us");
	for (int i = 0; i < RA_STAGE_COUNT; i++) {
		const ra_histogram *h = &s->perf.stage[i];

		fprintf(stderr, "  %-9s %9.3f %6.1f%% %9llu %9.2f %9.2f %9.2f %9.2f\n",
			ra_stage_name((ra_stage)i), seconds(h->total_ns),
			100.0 * share(h->total_ns, s->wall_ns), (unsigned long long)h->count,
			micros(ra_histogram_mean(h)), micros((double)ra_histogram_quantile(h, 0.5)),
			micros((double)ra_histogram_quantile(h, 0.99)), micros((double)h->max_ns));
	}
	fprintf(stderr, "  pool: %llu acquires, %llu hits, %llu misses, %llu allocations saved\n",
		(unsigned long long)s->perf.pool_acquires, (unsigned long long)s->perf.pool_hits,
		(unsigned long long)s->perf.pool_misses, (unsigned long long)s->perf.pool_hits);
	print_threads(s);
}

/* ---- JSON ---- */

static void json_settings(perf_run *pr)
{
	const cli_options *opt = pr->opt;
	const ra_spectrum_request *sp = &opt->spectrum;
	ra_json *j = &pr->json;
	int spectrum =
		opt->spectrum_path || opt->plot_path || opt->spectrogram_path || opt->job.analyze;

	ra_json_begin_object(j, "settings");
	ra_json_uint(j, "threads", pr->workers ? (uint64_t)ra_workers_threads(pr->workers) : 1);
	ra_json_uint(j, "block_frames", opt->job.block_frames);
	ra_json_string(j, "pipeline", opt->job.reference ? "reference" : "optimized");
	ra_json_string(j, "kernel", opt->job.reference ? "reference" : ra_cascade_kernel());
	ra_json_uint(j, "eq_bands", (uint64_t)opt->eq.count);
	ra_json_number(j, "gain_db", opt->job.gain_db);
	if (opt->job.out_rate)
		ra_json_uint(j, "output_rate", (uint64_t)opt->job.out_rate);
	else
		ra_json_string(j, "output_rate", NULL);
	ra_json_string(j, "resampler", ra_resample_engine_name(opt->job.resampler));
	ra_json_string(j, "resample_quality", ra_resample_quality_name(opt->job.quality));
	ra_json_string(j, "dither", ra_dither_mode_name(opt->job.dither));
	ra_json_number(j, "normalize_dbfs", opt->job.normalize ? opt->job.normalize_dbfs : NAN);
	ra_json_number(j, "loudness_lufs", opt->job.loudness ? opt->job.loudness_lufs : NAN);
	ra_json_number(j, "true_peak_dbtp", opt->job.loudness ? opt->job.true_peak_dbtp : NAN);
	ra_json_string(j, "loudness_mode",
		       !opt->job.loudness    ? NULL
		       : opt->loudness_album ? "album"
					     : "track");
	ra_json_bool(j, "analyze", opt->job.analyze);
	ra_json_bool(j, "no_loudness", opt->job.no_loudness);
	if (!spectrum) {
		ra_json_string(j, "spectrum", NULL);
	} else {
		ra_json_begin_object(j, "spectrum");
		ra_json_uint(j, "fft_size", sp->fft_size);
		ra_json_string(j, "window", ra_window_name(sp->window));
		ra_json_number(j, "overlap", sp->overlap);
		ra_json_string(j, "scale", ra_spectrum_scale_name(sp->scale));
		ra_json_string(j, "of",
			       sp->of_input ? (sp->of_output ? "both" : "input") : "output");
		ra_json_string(j, "channels_mode", sp->mix ? "mix" : "each");
		ra_json_string(j, "fft_plan", sp->measure ? "measure" : "estimate");
		ra_json_end_object(j);
	}
	ra_json_end_object(j);
}

/* The output thread and the caller's accounts of a span. */
static void json_threads(ra_json *j, const span *s)
{
	ra_json_begin_object(j, "output_thread");
	ra_json_uint(j, "blocks", s->perf.lane_blocks);
	ra_json_number(j, "busy_seconds", seconds(s->perf.lane_ns));
	ra_json_number(j, "busy_share", share(s->perf.lane_ns, s->wall_ns));
	ra_json_end_object(j);
	ra_json_begin_object(j, "caller");
	ra_json_number(j, "stage_seconds", seconds(s->perf.caller_stage_ns));
	ra_json_number(j, "processor_seconds", seconds(s->perf.caller_processor_ns));
	ra_json_number(j, "output_thread_seconds", seconds(s->perf.caller_lane_ns));
	ra_json_number(j, "between_files_seconds", seconds(s->between_ns));
	ra_json_number(j, "accounted_share", accounted(s));
	ra_json_end_object(j);
}

/* The members a file and the batch share. */
static void json_span(ra_json *j, const span *s)
{
	double wall = seconds(s->wall_ns);

	ra_json_number(j, "audio_seconds", s->audio_s);
	ra_json_number(j, "wall_seconds", wall);
	ra_json_number(j, "cpu_seconds", seconds(s->cpu_ns));
	ra_json_number(j, "realtime_factor", wall > 0 ? s->audio_s / wall : 0.0);
	ra_json_number(j, "msamples_per_second", wall > 0 ? (double)s->samples / wall * 1e-6 : 0.0);
	ra_json_uint(j, "peak_rss_bytes", ra_peak_rss_bytes());
	ra_json_begin_object(j, "stages");
	for (int i = 0; i < RA_STAGE_COUNT; i++) {
		const ra_histogram *h = &s->perf.stage[i];

		ra_json_begin_object(j, ra_stage_name((ra_stage)i));
		ra_json_number(j, "seconds", seconds(h->total_ns));
		ra_json_number(j, "share", share(h->total_ns, s->wall_ns));
		ra_json_uint(j, "blocks", h->count);
		ra_json_begin_object(j, "block_us");
		ra_json_number(j, "mean", micros(ra_histogram_mean(h)));
		ra_json_number(j, "p50", micros((double)ra_histogram_quantile(h, 0.5)));
		ra_json_number(j, "p99", micros((double)ra_histogram_quantile(h, 0.99)));
		ra_json_number(j, "max", micros((double)h->max_ns));
		ra_json_end_object(j);
		ra_json_end_object(j);
	}
	ra_json_end_object(j);
	ra_json_begin_object(j, "pool");
	ra_json_uint(j, "acquires", s->perf.pool_acquires);
	ra_json_uint(j, "hits", s->perf.pool_hits);
	ra_json_uint(j, "misses", s->perf.pool_misses);
	ra_json_uint(j, "allocations_saved", s->perf.pool_hits);
	ra_json_end_object(j);
	ra_json_begin_object(j, "workers");
	ra_json_uint(j, "threads", (uint64_t)s->workers.threads);
	ra_json_uint(j, "tasks", s->workers.tasks);
	ra_json_begin_array(j, "busy_seconds");
	for (int t = 0; t < s->workers.threads; t++)
		ra_json_number(j, NULL, seconds(s->workers.busy_ns[t]));
	ra_json_end_array(j);
	ra_json_begin_array(j, "busy_share");
	for (int t = 0; t < s->workers.threads; t++)
		ra_json_number(j, NULL, share(s->workers.busy_ns[t], s->wall_ns));
	ra_json_end_array(j);
	ra_json_number(j, "wait_seconds", seconds(s->workers.wait_ns));
	ra_json_uint(j, "caller_tasks", s->workers.helped);
	ra_json_number(j, "caller_task_seconds", seconds(s->workers.help_ns));
	ra_json_end_object(j);
	json_threads(j, s);
}

static void json_analysis(ra_json *j, const ra_job_result *res)
{
	if (!res->summary) {
		ra_json_string(j, "analysis", NULL);
		return;
	}
	ra_json_begin_array(j, "analysis");
	for (int c = 0; c < res->channels; c++) {
		const ra_channel_summary *s = &res->summary[c];

		ra_json_begin_object(j, NULL);
		ra_json_uint(j, "channel", (uint64_t)c + 1);
		ra_json_number(j, "peak_dbfs", s->peak_dbfs);
		ra_json_number(j, "rms_dbfs", s->rms_dbfs);
		ra_json_number(j, "dc_offset", s->dc_offset);
		ra_json_number(j, "crest_db", s->crest_db);
		ra_json_uint(j, "clipped", s->clipped);
		ra_json_number(j, "peak_hz", s->peak_hz);
		ra_json_number(j, "centroid_hz", s->centroid_hz);
		ra_json_number(j, "true_peak_dbtp", s->true_peak_dbtp);
		ra_json_end_object(j);
	}
	ra_json_end_array(j);
}

/* The processed stream's loudness, and the gain --loudness gave it. */
static void json_loudness(ra_json *j, const ra_job_result *res)
{
	if (!res->has_loudness) {
		ra_json_string(j, "loudness", NULL);
		return;
	}
	ra_json_begin_object(j, "loudness");
	ra_json_number(j, "integrated_lufs", res->loudness.integrated_lufs);
	ra_json_number(j, "range_lu", res->loudness.range_lu);
	ra_json_number(j, "momentary_max_lufs", res->loudness.momentary_max_lufs);
	ra_json_number(j, "shortterm_max_lufs", res->loudness.shortterm_max_lufs);
	ra_json_number(j, "true_peak_dbtp", res->loudness.true_peak_dbtp);
	ra_json_number(j, "gain_db", res->summary ? NAN : res->loudness_gain_db);
	ra_json_number(j, "short_lu", res->summary ? NAN : res->loudness_short_lu);
	ra_json_end_object(j);
}

static void json_file(perf_run *pr, const char *input, const char *output, ra_status st,
		      const ra_job_result *res)
{
	ra_json *j = &pr->json;
	int rate = res->in_rate ? res->in_rate : pr->opt->gen.sample_rate;

	ra_json_begin_object(j, NULL);
	ra_json_string(j, "input", input);
	ra_json_string(j, "output", output);
	ra_json_string(j, "status", st == RA_OK ? "ok" : "failed");
	ra_json_string(j, "error", st == RA_OK ? NULL : res->diag.text);
	ra_json_uint(j, "channels", (uint64_t)res->channels);
	ra_json_uint(j, "sample_rate", (uint64_t)rate);
	ra_json_uint(j, "output_sample_rate",
		     (uint64_t)(pr->opt->job.out_rate ? pr->opt->job.out_rate : rate));
	ra_json_uint(j, "frames_read", (uint64_t)res->frames_read);
	ra_json_uint(j, "frames_written", (uint64_t)res->frames_written);
	json_span(j, &pr->file);
	json_analysis(j, res);
	json_loudness(j, res);
	ra_json_end_object(j);
}

/* ---- the run ---- */

perf_run *perf_start(const cli_options *opt, ra_workers *workers, int *failed)
{
	perf_run *pr;

	*failed = 0;
	if (!opt->perf_stats && !opt->stats_json)
		return NULL;
	pr = calloc(1, sizeof(*pr));
	if (!pr) {
		fputs("rusty-audio: out of memory\n", stderr);
		*failed = 1;
		return NULL;
	}
	pr->opt = opt;
	pr->workers = workers;
	pr->table = opt->perf_stats;
	pr->af.fd = -1;
	if (opt->stats_json) {
		ra_diag diag = { { 0 } };

		pr->json_file = ra_atomic_open_stream(&pr->af, opt->stats_json, opt->job.force,
						      NULL, &diag);
		if (!pr->json_file) {
			cli_say(NULL, NULL, "%s", diag.text);
			free(pr);
			*failed = 1;
			return NULL;
		}
		ra_json_init(&pr->json, pr->json_file);
		ra_json_begin_object(&pr->json, NULL);
		ra_json_string(&pr->json, "schema", "rusty-audio-stats");
		ra_json_uint(&pr->json, "schema_version", PERF_SCHEMA_VERSION);
		ra_json_string(&pr->json, "tool", "rusty-audio");
		ra_json_string(&pr->json, "version", RA_VERSION);
		json_settings(pr);
		ra_json_begin_array(&pr->json, "files");
	}
	span_begin(pr, &pr->batch_start);
	return pr;
}

ra_job_perf *perf_file_start(perf_run *pr)
{
	memset(&pr->file, 0, sizeof(pr->file));
	span_begin(pr, &pr->file_start);
	return &pr->file.perf;
}

/* A file's measurements into the batch's TO. */
static void perf_add(ra_job_perf *to, const ra_job_perf *from)
{
	for (int i = 0; i < RA_STAGE_COUNT; i++)
		ra_histogram_merge(&to->stage[i], &from->stage[i]);
	to->pool_acquires += from->pool_acquires;
	to->pool_hits += from->pool_hits;
	to->pool_misses += from->pool_misses;
	to->lane_blocks += from->lane_blocks;
	to->lane_ns += from->lane_ns;
	to->caller_stage_ns += from->caller_stage_ns;
	to->caller_processor_ns += from->caller_processor_ns;
	to->caller_lane_ns += from->caller_lane_ns;
}

void perf_file_end(perf_run *pr, const char *input, const char *output, ra_status st,
		   const ra_job_result *res)
{
	span *f = &pr->file;
	int rate = res->in_rate ? res->in_rate : pr->opt->gen.sample_rate;

	span_end(pr, &pr->file_start, f);
	f->audio_s = rate > 0 ? (double)res->frames_read / rate : 0.0;
	f->samples = (uint64_t)res->frames_read * (uint64_t)res->channels;

	pr->files++;
	pr->failed += st != RA_OK;
	pr->batch.audio_s += f->audio_s;
	pr->batch.samples += f->samples;
	perf_add(&pr->batch.perf, &f->perf);
	pr->files_wall_ns += f->wall_ns;

	/* A file that could not even be opened measured nothing: no table of
	 * zeros (its error says what happened). */
	if (pr->table && (st == RA_OK || res->channels > 0))
		print_table(input ? input : "--generate", f);
	if (pr->json_file)
		json_file(pr, input, output, st, res);
}

int perf_finish(perf_run *pr, int discard)
{
	span *b = &pr->batch;
	int ret = 0;

	span_end(pr, &pr->batch_start, b);
	b->between_ns = b->wall_ns > pr->files_wall_ns ? b->wall_ns - pr->files_wall_ns : 0;
	if (pr->table && pr->files > 1) {
		char title[64];

		snprintf(title, sizeof(title), "all %zu files", pr->files);
		print_table(title, b);
	}
	if (pr->json_file) {
		ra_json *j = &pr->json;
		ra_diag diag = { { 0 } };

		ra_json_end_array(j);
		ra_json_begin_object(j, "batch");
		ra_json_uint(j, "files", pr->files);
		ra_json_uint(j, "failed", pr->failed);
		json_span(j, b);
		ra_json_end_object(j);
		ra_json_end_object(j);
		if (discard) {
			fclose(pr->json_file);
			ra_atomic_abort(&pr->af);
		} else if (ra_atomic_commit_stream(&pr->af, pr->json_file, 0, NULL, &diag) !=
			   RA_OK) {
			cli_say(NULL, NULL, "%s", diag.text);
			ret = -1;
		}
	}
	free(pr);
	return ret;
}
