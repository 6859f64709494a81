/* --loudness-mode album, --dry-run --loudness and --report-csv. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rustyaudio/atomic_file.h"

#include "measure.h"
#include "say.h"

/* IN's loudness through CFG's chain, as --analyze measures it; with KEEP
 * the meter stays in RES for an album. */
static ra_status measure_one(const ra_job_config *base, const char *in, int keep,
			     ra_job_result *res)
{
	ra_job_config cfg = *base;
	ra_status st;

	cfg.analyze = 1;
	cfg.loudness = 0;
	cfg.keep_loudness = keep;
	cfg.spectrum = NULL;
	cfg.progress = NULL;
	cfg.perf = NULL;
	st = ra_job_run(&cfg, in, NULL, res);
	return st == RA_OK && !res->has_loudness ? RA_ERR_LIMITS : st; /* why: in the diag */
}

struct album {
	ra_loudness **states;
	size_t count, cap;
	double true_peak;
};

album *album_create(void)
{
	album *a = calloc(1, sizeof(*a));

	if (!a)
		cli_die_nomem();
	a->true_peak = -HUGE_VAL;
	return a;
}

void album_destroy(album *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->count; i++)
		ra_loudness_destroy(a->states[i]);
	free(a->states);
	free(a);
}

/* RES's meter and true peak into album A. */
static void album_add(album *a, ra_job_result *res)
{
	if (a->count == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 16;
		a->states = realloc(a->states, a->cap * sizeof(*a->states));
		if (!a->states)
			cli_die_nomem();
	}
	a->states[a->count++] = res->loudness_state;
	res->loudness_state = NULL;
	a->true_peak = fmax(a->true_peak, res->loudness.true_peak_dbtp);
}

/* Album A's loudness in *LUFS, and the gain for it. */
static double album_gain(const album *a, const ra_job_config *cfg, double *lufs, double *short_lu)
{
	*lufs = ra_loudness_integrated_of(a->states, a->count);
	return ra_loudness_gain(*lufs, a->true_peak, cfg->loudness_lufs, cfg->true_peak_dbtp,
				short_lu);
}

/* What the ceiling did to a gain, for a message: empty when nothing. */
static void held_by(char *text, size_t size, double short_lu, double target)
{
	text[0] = '\0';
	if (short_lu > 0.0)
		snprintf(text, size, " (the true-peak ceiling keeps it %.2f LU short of %.2f LUFS)",
			 short_lu, target);
}

int measure_album(const cli_options *opt, const ra_job_config *cfg, const path_list *inputs,
		  double *gain_db)
{
	album *a = album_create();
	double lufs, short_lu;
	char held[128];

	for (size_t i = 0; i < inputs->count; i++) {
		ra_job_result res;
		ra_status st = measure_one(cfg, inputs->items[i], 1, &res);

		if (st == RA_OK)
			album_add(a, &res);
		else if (!ra_stop_requested(cfg->cancel))
			cli_say(NULL, inputs->items[i], "cannot measure it for the album: %s",
				res.diag.text);
		ra_job_result_release(&res);
		if (st != RA_OK || ra_stop_requested(cfg->cancel)) {
			album_destroy(a);
			return -1;
		}
	}
	*gain_db = album_gain(a, cfg, &lufs, &short_lu);
	held_by(held, sizeof(held), short_lu, cfg->loudness_lufs);
	if (!opt->quiet)
		cli_say(NULL, NULL,
			"album of %zu file%s: %.2f LUFS, true peak %.2f dBTP: gain %+.2f dB%s",
			inputs->count, inputs->count == 1 ? "" : "s", lufs, a->true_peak, *gain_db,
			held);
	album_destroy(a);
	return 0;
}

int measure_dry_run(const ra_job_config *cfg, const char *input, album *a)
{
	ra_job_result res;
	ra_status st = measure_one(cfg, input, a != NULL, &res);
	double gain, short_lu;
	char held[128];

	if (st != RA_OK) {
		cli_say(NULL, input, "%s", res.diag.text);
		ra_job_result_release(&res);
		return -1;
	}
	gain = ra_loudness_gain(res.loudness.integrated_lufs, res.loudness.true_peak_dbtp,
				cfg->loudness_lufs, cfg->true_peak_dbtp, &short_lu);
	held_by(held, sizeof(held), short_lu, cfg->loudness_lufs);
	printf("  loudness %.2f LUFS, true peak %.2f dBTP: %s %+.2f dB%s\n",
	       res.loudness.integrated_lufs, res.loudness.true_peak_dbtp,
	       a ? "alone it would get" : "gain", gain, held);
	if (a)
		album_add(a, &res);
	ra_job_result_release(&res);
	return 0;
}

void measure_dry_run_album(const ra_job_config *cfg, const album *a)
{
	double lufs, short_lu, gain = album_gain(a, cfg, &lufs, &short_lu);
	char held[128];

	held_by(held, sizeof(held), short_lu, cfg->loudness_lufs);
	printf("album of %zu file%s: %.2f LUFS, true peak %.2f dBTP: gain %+.2f dB for each%s\n",
	       a->count, a->count == 1 ? "" : "s", lufs, a->true_peak, gain, held);
}

struct report_csv {
	ra_atomic_file file;
	FILE *f;
};

/* TEXT as one CSV field (RFC 4180): quoted, quotes doubled. */
static void csv_text(FILE *f, const char *text)
{
	fputc('"', f);
	for (; *text; text++) {
		if (*text == '"')
			fputc('"', f);
		fputc(*text, f);
	}
	fputc('"', f);
}

report_csv *report_csv_open(const char *path, int force)
{
	report_csv *r = calloc(1, sizeof(*r));
	ra_diag diag = { { 0 } };
	ra_status st;

	if (!r)
		cli_die_nomem();
	r->f = ra_atomic_open_stream(&r->file, path, force, &st, &diag);
	if (!r->f) {
		cli_say(NULL, NULL, "%s%s", diag.text,
			st == RA_ERR_EXISTS ? " (use --force to replace it)" : "");
		free(r);
		return NULL;
	}
	fputs("path,duration_s,sample_rate,channels,integrated_lufs,range_lu,true_peak_dbtp,"
	      "sample_peak_dbfs,rms_dbfs,clipped,status,error\n",
	      r->f);
	return r;
}

void report_csv_row(report_csv *r, const char *name, ra_status st, const ra_job_result *res)
{
	double peak = -HUGE_VAL, power = 0.0;
	uint64_t clipped = 0;

	csv_text(r->f, name);
	if (st != RA_OK || !res->summary) {
		fputs(",,,,,,,,,,failed,", r->f);
		csv_text(r->f, res->diag.text);
		fputc('\n', r->f);
		return;
	}
	for (int c = 0; c < res->channels; c++) {
		peak = fmax(peak, res->summary[c].peak_dbfs);
		power += pow(10.0, res->summary[c].rms_dbfs / 10.0) / res->channels;
		clipped += res->summary[c].clipped;
	}
	fprintf(r->f, ",%.6f,%d,%d,", (double)res->frames_read / res->in_rate, res->in_rate,
		res->channels);
	if (res->has_loudness)
		fprintf(r->f, "%.2f,%.2f,%.2f,", res->loudness.integrated_lufs,
			res->loudness.range_lu, res->loudness.true_peak_dbtp);
	else
		fputs(",,,", r->f); /* not measured: see --analyze's table */
	fprintf(r->f, "%.2f,%.2f,%llu,ok,\n", peak, 10.0 * log10(power),
		(unsigned long long)clipped);
}

int report_csv_close(report_csv *r, int discard)
{
	ra_diag diag = { { 0 } };
	int ret = 0;

	if (!r)
		return 0;
	if (discard) {
		fclose(r->f);
		ra_atomic_abort(&r->file);
	} else if (ra_atomic_commit_stream(&r->file, r->f, 0, NULL, &diag) != RA_OK) {
		cli_say(NULL, NULL, "%s", diag.text);
		ret = -1;
	}
	free(r);
	return ret;
}
