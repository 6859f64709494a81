/* Outputs that appear atomically: a temporary file beside the target,
 * synced and renamed into place only when complete, every name relative to
 * the folder's descriptor. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "rustyaudio/atomic_file.h"

int ra_atomic_is_sink(const struct stat *sb)
{
	return S_ISCHR(sb->st_mode) && sb->st_rdev == makedev(1, 3);
}

/* Open PATH's folder as F->dir_fd and keep PATH's file name in F->name. */
static int open_dir(ra_atomic_file *f, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir =
		!slash ? strdup(".") : strndup(path, slash == path ? 1 : (size_t)(slash - path));

	f->name = strdup(slash ? slash + 1 : path);
	if (!dir || !f->name) {
		free(dir);
		errno = ENOMEM;
		return -1;
	}
	f->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	return f->dir_fd < 0 ? -1 : 0;
}

/* The start of the temporary names for the file NAME. */
static char *temp_prefix(const char *name)
{
	char *prefix;

	return asprintf(&prefix, ".%.200s.rusty-audio-", name) < 0 ? NULL : prefix;
}

/* A new file in F's folder, named after the target, created exclusively
 * (mode 0666 less the umask, as any new file). The name is cut so that the
 * additions still fit in a file name. */
static int create_temp(ra_atomic_file *f)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	for (unsigned attempt = 0; attempt < 100; attempt++) {
		unsigned tag = (unsigned)ts.tv_nsec ^ (attempt * 2654435761u);
		char *prefix = temp_prefix(f->name);
		int fd;

		if (!prefix ||
		    asprintf(&f->tmp_name, "%s%ld-%08x.part", prefix, (long)getpid(), tag) < 0) {
			free(prefix);
			f->tmp_name = NULL;
			errno = ENOMEM;
			return -1;
		}
		free(prefix);
		fd = openat(f->dir_fd, f->tmp_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd >= 0 || errno != EEXIST)
			return fd;
		free(f->tmp_name);
		f->tmp_name = NULL;
	}
	errno = EEXIST;
	return -1;
}

/* PATH is the null device: write to it directly (checked again once open,
 * in case it changed since SB was taken). */
static int open_sink(ra_atomic_file *f, const char *path)
{
	struct stat sb;

	f->fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (f->fd < 0)
		return -1;
	if (fstat(f->fd, &sb) != 0 || !ra_atomic_is_sink(&sb)) {
		close(f->fd);
		f->fd = -1;
		errno = EEXIST;
		return -1;
	}
	f->sink = 1;
	return 0;
}

/* What is at PATH now (in SB): RA_OK when it may be written, with
 * F->replace set when it is a file to replace. */
static ra_status check_target(ra_atomic_file *f, const struct stat *sb, int force, ra_diag *diag)
{
	if (S_ISDIR(sb->st_mode)) {
		ra_diag_set(diag, "cannot write %s: Is a directory", f->path);
		return RA_ERR_OPEN;
	}
	if (!S_ISREG(sb->st_mode)) {
		ra_diag_set(diag, "%s: not a regular file; not replacing it", f->path);
		return RA_ERR_OPEN;
	}
	if (!force) {
		ra_diag_set(diag, "%s exists", f->path);
		return RA_ERR_EXISTS;
	}
	f->replace = 1;
	f->dev = sb->st_dev;
	f->ino = sb->st_ino;
	f->ctime = sb->st_ctim;
	return RA_OK;
}

ra_status ra_atomic_open(ra_atomic_file *f, const char *path, int force, ra_diag *diag)
{
	ra_status st = RA_ERR_NOMEM;
	struct stat sb;
	int exists;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->dir_fd = -1;
	f->path = strdup(path);
	if (!f->path) {
		ra_diag_set(diag, "out of memory");
		goto out_abort;
	}
	exists = stat(path, &sb) == 0;
	if (exists && ra_atomic_is_sink(&sb)) {
		st = RA_ERR_OPEN;
		if (open_sink(f, path) == 0)
			return RA_OK;
		if (errno == EEXIST)
			ra_diag_set(diag, "%s: not a regular file; not replacing it", path);
		else
			ra_diag_set(diag, "cannot write %s: %s", path, strerror(errno));
		goto out_abort;
	}
	if (exists) {
		st = check_target(f, &sb, force, diag);
		if (st != RA_OK)
			goto out_abort;
	}
	st = RA_ERR_OPEN;
	if (open_dir(f, path) != 0 || (f->fd = create_temp(f)) < 0) {
		ra_diag_set(diag, "%s: cannot create: %s", path, strerror(errno));
		goto out_abort;
	}
	return RA_OK;

out_abort:
	ra_atomic_abort(f);
	return st;
}

/* Move F's temporary file to its name, replacing only the file that was
 * there at open. */
static int publish(const ra_atomic_file *f)
{
	struct stat sb;

	if (f->replace && fstatat(f->dir_fd, f->name, &sb, 0) == 0) {
		if (sb.st_dev == f->dev && sb.st_ino == f->ino &&
		    sb.st_ctim.tv_sec == f->ctime.tv_sec && sb.st_ctim.tv_nsec == f->ctime.tv_nsec)
			return renameat(f->dir_fd, f->tmp_name, f->dir_fd, f->name);
		errno = EEXIST; /* another file took its place */
		return -1;
	}
	if (renameat2(f->dir_fd, f->tmp_name, f->dir_fd, f->name, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* The file system cannot rename without replacing: link, then unlink. */
	if (linkat(f->dir_fd, f->tmp_name, f->dir_fd, f->name, 0) != 0)
		return -1;
	return unlinkat(f->dir_fd, f->tmp_name, 0);
}

/* fsync() that accepts a file system with nothing to sync. */
static int sync_fd(int fd)
{
	return fsync(fd) == 0 || errno == EINVAL ? 0 : -1;
}

/* Get the temporary file's data to the disk and close it. A caller that
 * closed f->fd itself (a stream) left it to be synced by name. */
static int sync_temp(ra_atomic_file *f)
{
	int fd = f->fd >= 0 ? f->fd : openat(f->dir_fd, f->tmp_name, O_RDONLY | O_CLOEXEC);
	int err = fd < 0 || sync_fd(fd) != 0 ? errno : 0;

	if (fd >= 0 && close(fd) != 0 && !err)
		err = errno;
	f->fd = -1;
	errno = err;
	return err ? -1 : 0;
}

/* RA_ERR_INVALID for a missing file, with DIAG. */
static ra_status no_file(ra_diag *diag)
{
	ra_diag_set(diag, "no file to commit");
	return RA_ERR_INVALID;
}

ra_status ra_atomic_finish(ra_atomic_file *f, ra_diag *diag)
{
	if (!f)
		return no_file(diag);
	if (f->sink || sync_temp(f) == 0)
		return RA_OK;
	ra_diag_set(diag, "cannot write %s: %s", f->path, strerror(errno));
	ra_atomic_abort(f);
	return RA_ERR_WRITE;
}

ra_status ra_atomic_publish(ra_atomic_file *f, ra_diag *diag)
{
	ra_status st = RA_ERR_WRITE;

	if (!f)
		return no_file(diag);
	if (f->sink) {
		int err = f->fd >= 0 ? close(f->fd) : 0;

		f->fd = -1;
		if (err != 0)
			ra_diag_set(diag, "cannot write %s: %s", f->path, strerror(errno));
		st = err ? RA_ERR_WRITE : RA_OK;
		goto out;
	}
	if (publish(f) != 0) {
		if (errno == EEXIST) {
			st = RA_ERR_REPLACED;
			ra_diag_set(diag,
				    "%s: another file appeared there while it was being written; "
				    "not replacing it",
				    f->path);
		} else {
			ra_diag_set(diag, "cannot move output into place at %s: %s", f->path,
				    strerror(errno));
		}
		goto out;
	}
	free(f->tmp_name);
	f->tmp_name = NULL;
	/* The rename itself lives in the folder. */
	if (sync_fd(f->dir_fd) != 0) {
		ra_diag_set(diag, "%s: cannot sync its folder: %s", f->path, strerror(errno));
		goto out;
	}
	st = RA_OK;
out:
	ra_atomic_abort(f);
	return st;
}

ra_status ra_atomic_commit(ra_atomic_file *f, ra_diag *diag)
{
	ra_status st = ra_atomic_finish(f, diag);

	return st == RA_OK ? ra_atomic_publish(f, diag) : st;
}

void ra_atomic_abort(ra_atomic_file *f)
{
	/* Nothing is open before the path is kept or after it is released, so
	 * a zeroed F (whose descriptors read 0, standard input) is left alone. */
	if (!f || !f->path)
		return;
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->tmp_name) {
		unlinkat(f->dir_fd, f->tmp_name, 0);
		free(f->tmp_name);
		f->tmp_name = NULL;
	}
	if (f->dir_fd >= 0)
		close(f->dir_fd);
	f->dir_fd = -1;
	free(f->path);
	f->path = NULL;
	free(f->name);
	f->name = NULL;
}

FILE *ra_atomic_open_stream(ra_atomic_file *f, const char *path, int force, ra_status *status,
			    ra_diag *diag)
{
	ra_status st = ra_atomic_open(f, path, force, diag);
	FILE *stream = NULL;

	if (st == RA_OK) {
		stream = fdopen(f->fd, "w");
		if (stream) {
			f->fd = -1; /* the stream owns it now */
		} else {
			st = RA_ERR_NOMEM;
			ra_diag_set(diag, "cannot write %s: %s", path, strerror(errno));
			ra_atomic_abort(f);
		}
	}
	if (status)
		*status = st;
	return stream;
}

/* Flush and close STREAM; RA_OK, or RA_ERR_WRITE after releasing F. */
static ra_status close_stream(ra_atomic_file *f, FILE *stream, int failed, ra_diag *diag)
{
	int err = failed ? EIO : 0;

	if (fflush(stream) != 0 && !err)
		err = errno;
	if (ferror(stream) && !err)
		err = EIO;
	if (fclose(stream) != 0 && !err)
		err = errno;
	if (!err)
		return RA_OK;
	ra_diag_set(diag, "cannot write %s: %s", f->path, strerror(err));
	ra_atomic_abort(f);
	return RA_ERR_WRITE;
}

ra_status ra_atomic_commit_stream(ra_atomic_file *f, FILE *stream, int failed, ra_atomic_file *held,
				  ra_diag *diag)
{
	ra_status st;

	if (!f || !stream)
		return no_file(diag);
	st = close_stream(f, stream, failed, diag);

	if (st == RA_OK && !held)
		return ra_atomic_commit(f, diag);
	if (st == RA_OK)
		st = ra_atomic_finish(f, diag);
	if (st == RA_OK)
		*held = *f;
	return st;
}

ra_status ra_atomic_write(const char *path, int force, ra_atomic_write_fn write, const void *ctx,
			  ra_atomic_file *held, ra_diag *diag)
{
	ra_atomic_file af;
	ra_status st;
	FILE *f = ra_atomic_open_stream(&af, path, force, &st, diag);

	if (!f)
		return st;
	return ra_atomic_commit_stream(&af, f, write(ctx, f) != 0, held, diag);
}

/* Whether the entry NAME is a temporary file under PREFIX of a process
 * that no longer runs. */
static int is_stale(const char *name, const char *prefix)
{
	size_t len = strlen(name), plen = strlen(prefix);
	char *end;
	long pid;

	if (len <= plen + 5 || strncmp(name, prefix, plen) || strcmp(name + len - 5, ".part"))
		return 0;
	errno = 0;
	pid = strtol(name + plen, &end, 10);
	if (errno || end == name + plen || *end != '-' || pid <= 0 || pid == (long)getpid())
		return 0;
	return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

int ra_atomic_remove_stale(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	char *prefix = temp_prefix(slash ? slash + 1 : path);
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *e;
	int removed = 0;

	while (d && prefix && (e = readdir(d)))
		if (is_stale(e->d_name, prefix) && unlinkat(dirfd(d), e->d_name, 0) == 0)
			removed++;
	if (d)
		closedir(d);
	free(prefix);
	free(dir);
	return removed;
}
