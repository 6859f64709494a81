/* An LD_PRELOAD library for tests of failing disks: one call on the
 * program's output files fails, everything else goes through.
 *
 *   RA_FAULT=CALL:ERRNO[:N]  fail the Nth (default first) matching CALL with
 *                            ERRNO (EIO, ENOSPC or EINVAL, else nothing
 *                            fails).
 *                            CALL is a family, so the test does not depend
 *                            on which entry point the code uses: write
 *                            (write, pwrite, pwrite64), direct (those
 *                            on a descriptor with O_DIRECT set),
 *                            fsync (fsync, fdatasync), rename (rename,
 *                            renameat, renameat2), link (link, linkat) and
 *                            close; or one entry point by its own name.
 *   RA_FAULT_PATH=TEXT       also match paths containing TEXT (the final
 *                            output's name); temporary outputs ("*.part")
 *                            always match.
 *
 * A call matches through its path arguments or, for a descriptor, the
 * file's path from /proc/self/fd, so standard streams and inputs are left
 * alone. close closes the descriptor, then reports the error. The writes
 * and closes that glibc's stdio makes inside fwrite() and fclose() do not
 * go through these symbols: for the reports (CSV, SVG, JSON), only fsync
 * and rename can be made to fail. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The libc function this one hides. */
#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

/* Matching calls so far: the only state, shared by every thread. */
static unsigned long matched;

static int output_path(const char *path)
{
	const char *extra = getenv("RA_FAULT_PATH");

	return path && (strstr(path, ".part") || (extra && *extra && strstr(path, extra)));
}

static int output_fd(int fd)
{
	char proc[64], path[PATH_MAX];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, path, sizeof(path) - 1);
	if (n <= 0)
		return 0;
	path[n] = '\0';
	return output_path(path);
}

static int direct_fd(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	return flags >= 0 && (flags & O_DIRECT);
}

/* The errno that call NAME of FAMILY on FD (or on paths A and B when FD is
 * -1) is to fail with, or 0 to let it run. */
static int fault(const char *family, const char *name, int fd, const char *a, const char *b)
{
	const char *spec = getenv("RA_FAULT");
	char call[32], err[16];
	unsigned long nth = 1;
	int code;

	if (!spec || sscanf(spec, "%31[^:]:%15[^:]:%lu", call, err, &nth) < 2)
		return 0;
	if (strcmp(call, family) && strcmp(call, name) &&
	    !(!strcmp(call, "direct") && !strcmp(family, "write") && direct_fd(fd)))
		return 0;
	if (fd >= 0 ? !output_fd(fd) : !(output_path(a) || output_path(b)))
		return 0;
	code = !strcmp(err, "ENOSPC")	? ENOSPC
	       : !strcmp(err, "EIO")	? EIO
	       : !strcmp(err, "EINVAL") ? EINVAL
					: 0;
	return code && __atomic_add_fetch(&matched, 1, __ATOMIC_SEQ_CST) == nth ? code : 0;
}

/* Set errno to ERR when it is not 0; true then. */
static int failed(int err)
{
	if (err)
		errno = err;
	return err != 0;
}

ssize_t write(int fd, const void *buf, size_t count)
{
	if (failed(fault("write", "write", fd, NULL, NULL)))
		return -1;
	return REAL(write)(fd, buf, count);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset)
{
	if (failed(fault("write", "pwrite", fd, NULL, NULL)))
		return -1;
	return REAL(pwrite)(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off64_t offset)
{
	if (failed(fault("write", "pwrite64", fd, NULL, NULL)))
		return -1;
	return REAL(pwrite64)(fd, buf, count, offset);
}

int fsync(int fd)
{
	if (failed(fault("fsync", "fsync", fd, NULL, NULL)))
		return -1;
	return REAL(fsync)(fd);
}

int fdatasync(int fd)
{
	if (failed(fault("fsync", "fdatasync", fd, NULL, NULL)))
		return -1;
	return REAL(fdatasync)(fd);
}

int rename(const char *from, const char *to)
{
	if (failed(fault("rename", "rename", -1, from, to)))
		return -1;
	return REAL(rename)(from, to);
}

int renameat(int from_dir, const char *from, int to_dir, const char *to)
{
	if (failed(fault("rename", "renameat", -1, from, to)))
		return -1;
	return REAL(renameat)(from_dir, from, to_dir, to);
}

int renameat2(int from_dir, const char *from, int to_dir, const char *to, unsigned int flags)
{
	if (failed(fault("rename", "renameat2", -1, from, to)))
		return -1;
	return REAL(renameat2)(from_dir, from, to_dir, to, flags);
}

int link(const char *from, const char *to)
{
	if (failed(fault("link", "link", -1, from, to)))
		return -1;
	return REAL(link)(from, to);
}

int linkat(int from_dir, const char *from, int to_dir, const char *to, int flags)
{
	if (failed(fault("link", "linkat", -1, from, to)))
		return -1;
	return REAL(linkat)(from_dir, from, to_dir, to, flags);
}

int close(int fd)
{
	int err = fault("close", "close", fd, NULL, NULL);
	int ret = REAL(close)(fd);

	return failed(err) ? -1 : ret;
}
