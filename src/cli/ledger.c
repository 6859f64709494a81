/* The batch's ledger: resume decisions, manifest records, exit classes. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rustyaudio/atomic_file.h"
#include "rustyaudio/stats.h"

#include "ledger.h"

struct ledger {
	pthread_mutex_t lock; /* over what follows the manifests */
	const cli_options *opt;
	manifest_index *done; /* --resume's */
	manifest *out;	      /* --manifest's */
	size_t counts[3];     /* by manifest_status */
	size_t bad, transient;
	int write_failed;
};

ledger *ledger_open(const cli_options *opt)
{
	ledger *l = calloc(1, sizeof(*l));

	if (!l) {
		fputs("rusty-audio: out of memory\n", stderr);
		return NULL;
	}
	l->opt = opt;
	pthread_mutex_init(&l->lock, NULL);
	if ((opt->resume && !(l->done = manifest_read(opt->resume))) ||
	    (opt->manifest && !(l->out = manifest_open(opt->manifest)))) {
		ledger_close(l);
		return NULL;
	}
	return l;
}

void ledger_close(ledger *l)
{
	if (!l)
		return;
	manifest_index_free(l->done);
	manifest_close(l->out);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

/* IN's size and time into REC (-1 when it cannot be read). */
static void note_input(const char *in, manifest_record *rec)
{
	struct stat sb;

	rec->input = in;
	rec->input_size = -1;
	if (stat(in, &sb) == 0) {
		rec->input_size = sb.st_size;
		rec->input_mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
	}
}

/* The output at OUT (or read from FD when not -1): its size and content
 * hash into REC, size -1 when there is none. */
static void note_output(const char *out, int fd, manifest_record *rec)
{
	int own = fd < 0 ? open(out, O_RDONLY | O_CLOEXEC | O_NOCTTY) : -1;

	rec->output = out;
	if ((fd < 0 && own < 0) ||
	    manifest_hash_fd(fd < 0 ? own : fd, rec->output_hash, &rec->output_size) != 0)
		rec->output_size = -1;
	if (own >= 0)
		close(own);
}

/* Whether --resume's entry E says OUT is done from the input IN as it is
 * now (same size and time) with these settings, and it still is (same
 * size, and with --verify the same bytes). */
static int still_done(const ledger *l, const manifest_entry *e, const char *in, const char *out)
{
	struct stat sb;
	manifest_record now;

	if (!e || (e->status != MANIFEST_DONE && e->status != MANIFEST_SKIPPED) ||
	    e->settings != l->opt->settings || !e->output || strcmp(e->output, out))
		return 0;
	note_input(in, &now);
	if (now.input_size < 0 || now.input_size != e->input_size ||
	    now.input_mtime_ns != e->input_mtime_ns)
		return 0;
	if (stat(out, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size != e->output_size)
		return 0;
	if (!l->opt->verify)
		return 1;
	note_output(out, -1, &now);
	return now.output_size == e->output_size && !strcmp(now.output_hash, e->output_hash);
}

/* Count REC and append it to the manifest (any thread); UNDO_DONE: it
 * follows a done line of the same input. */
static void record(ledger *l, const manifest_record *rec, int undo_done)
{
	pthread_mutex_lock(&l->lock);
	l->counts[MANIFEST_DONE] -= undo_done != 0;
	l->counts[rec->status]++;
	l->bad += rec->error_class == MANIFEST_BAD_INPUT;
	l->transient += rec->error_class == MANIFEST_IO || rec->error_class == MANIFEST_INTERRUPTED;
	if (l->out && !l->write_failed && manifest_append(l->out, rec) != 0)
		l->write_failed = 1;
	pthread_mutex_unlock(&l->lock);
}

/* F's line without the job's outcome yet. */
static void start_record(ledger_file *f)
{
	memset(&f->rec, 0, sizeof(f->rec));
	note_input(f->in, &f->rec);
	f->rec.settings = f->l->opt->settings;
	f->rec.output = f->out;
	f->rec.output_size = -1;
	f->rec.frames_in = f->rec.frames_out = -1;
}

ledger_action ledger_begin(ledger_file *f)
{
	const ledger *l = f->l;
	const manifest_entry *e = manifest_find(l->done, f->in);
	struct stat sb;
	int skip;

	f->recorded = 0;
	f->start_ns = (int64_t)ra_now_ns();
	if (l->opt->skip_existing)
		skip = lstat(f->out, &sb) == 0;
	else
		skip = l->done && still_done(l, e, f->in, f->out);
	if (!skip) {
		if (l->done || l->opt->skip_existing)
			ra_atomic_remove_stale(f->out);
		/* Only an output a done line vouches for is this tool's: a
		 * failed line may be about a file that was in the way. */
		return e && (e->status == MANIFEST_DONE || e->status == MANIFEST_SKIPPED) &&
				       e->output && !strcmp(e->output, f->out)
			       ? LEDGER_REPLACE
			       : LEDGER_RUN;
	}
	start_record(f);
	f->rec.status = MANIFEST_SKIPPED;
	if (e && !l->opt->skip_existing) {
		f->rec.output_size = e->output_size;
		memcpy(f->rec.output_hash, e->output_hash, sizeof(f->rec.output_hash));
	} else if (l->out) {
		note_output(f->out, -1, &f->rec);
	}
	record(f->l, &f->rec, 0);
	f->recorded = 1;
	return LEDGER_SKIP;
}

/* Whether a failure with ST may pass on a retry: what cannot be read,
 * made or written as asked (RA_ERR_OPEN included: an output that is a
 * folder or a device, a folder that is missing) will not. */
static manifest_class class_of(ra_status st)
{
	switch (st) {
	case RA_OK:
		return MANIFEST_OK;
	case RA_ERR_CANCELLED:
		return MANIFEST_INTERRUPTED;
	case RA_ERR_NOMEM:
	case RA_ERR_WRITE:
	case RA_ERR_REPLACED:
		return MANIFEST_IO;
	default:
		return MANIFEST_BAD_INPUT;
	}
}

/* F's line from how its job ended (ST) and what it wrote, read from FD
 * when not -1. */
static void end_record(ledger_file *f, ra_status st, int fd)
{
	const ra_job_result *res = f->res;
	int undo_done = f->recorded && f->rec.status == MANIFEST_DONE;

	start_record(f);
	f->rec.status = st == RA_OK ? MANIFEST_DONE : MANIFEST_FAILED;
	f->rec.error_class = class_of(st);
	f->rec.message = st == RA_OK ? NULL : res->diag.text;
	f->rec.frames_in = res->frames_read;
	f->rec.frames_out = st == RA_OK ? res->frames_written : -1;
	f->rec.clipped = res->clipped;
	f->rec.seconds = (double)((int64_t)ra_now_ns() - f->start_ns) * 1e-9;
	if (st == RA_OK && f->l->out && fd >= 0)
		note_output(f->out, fd, &f->rec);
	record(f->l, &f->rec, undo_done);
	f->recorded = 1;
}

int ledger_finished(void *ctx, int fd, ra_diag *diag)
{
	ledger_file *f = ctx;
	int failed;

	end_record(f, RA_OK, fd);
	pthread_mutex_lock(&f->l->lock);
	failed = f->l->write_failed;
	pthread_mutex_unlock(&f->l->lock);
	/* An output without its line would be a stranger to --resume. */
	if (failed)
		ra_diag_set(diag, "%s: not written: the manifest cannot be written", f->out);
	return failed ? -1 : 0;
}

void ledger_end(ledger_file *f, ra_status st)
{
	/* A done line written before a publish that then failed is followed
	 * by this one: the last line of an input is the one that counts. */
	if (st != RA_OK || !f->recorded)
		end_record(f, st, -1);
}

int ledger_status(ledger *l)

{
	int status;

	pthread_mutex_lock(&l->lock);
	if (l->transient || l->write_failed)
		status = EXIT_TEMPFAIL;
	else
		status = l->bad ? EXIT_SOME_FAILED : EXIT_ALL_DONE;
	pthread_mutex_unlock(&l->lock);
	return status;
}

size_t ledger_count(ledger *l, manifest_status status)
{
	size_t n;

	pthread_mutex_lock(&l->lock);
	n = l->counts[status];
	pthread_mutex_unlock(&l->lock);
	return n;
}
