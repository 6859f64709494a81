/* What every rusty-audio module shares: the status codes, a small buffer for
 * the detail behind a failure (a path, a libsndfile message) that callers
 * print, the limits of a sane stream, the clock, and number parsing. */
#ifndef RUSTYAUDIO_STATUS_H
#define RUSTYAUDIO_STATUS_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* The most channels and the highest rate (Hz) any stream may have. */
#define RA_MAX_CHANNELS 1024
#define RA_MAX_SAMPLE_RATE 4000000

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ra_status {
	RA_OK = 0,
	RA_ERR_NOMEM,	    /* an allocation failed */
	RA_ERR_INVALID,	    /* a parameter is out of range or malformed */
	RA_ERR_OPEN,	    /* a file could not be opened or created */
	RA_ERR_FORMAT,	    /* not audio, or a format libsndfile cannot read */
	RA_ERR_LIMITS,	    /* channel count, rate or size beyond what is sane */
	RA_ERR_READ,	    /* decoding failed part way through */
	RA_ERR_WRITE,	    /* encoding or writing failed */
	RA_ERR_UNSUPPORTED, /* the requested output format or subtype cannot be written */
	RA_ERR_EXISTS,	    /* the output exists and overwriting was not allowed */
	RA_ERR_SAME_FILE,   /* the output is the input */
	RA_ERR_RESAMPLE,    /* the resampling engine refused */
	RA_ERR_CANCELLED,   /* the caller asked to stop */
	RA_ERR_NONFINITE,   /* the audio holds NaN or infinite samples */
	RA_ERR_REPLACED	    /* another file took the output's name while it was written */
} ra_status;

/* A static, lowercase description of STATUS; never NULL. */
const char *ra_strerror(ra_status status);

/* Whether the stop flag *FLAG is set (NULL never is). Whatever thread asks,
 * the read is atomic; a signal handler sets the flag with
 * __atomic_store_n(). Jobs, readers and writers take such a flag. */
static inline int ra_stop_requested(const volatile sig_atomic_t *flag)
{
	return flag && __atomic_load_n(flag, __ATOMIC_RELAXED) != 0;
}

/* Detail that goes with a status: filled by the function that failed,
 * e.g. "cannot open: No such file or directory". Always NUL-terminated.
 *
 * Constructors (ra_<noun>_create, ra_<noun>_open) return the new object,
 * or NULL on failure with the reason in their last two parameters,
 * ra_status *status and ra_diag *diag; either may be NULL. */
/* Room for two paths of PATH_MAX and the reason: a message is never cut. */
#define RA_DIAG_MAX (2 * 4096 + 256)

typedef struct ra_diag {
	char text[RA_DIAG_MAX];
} ra_diag;

/* S for a line of text, as Git quotes a path: unchanged unless it holds a
 * control byte (below 0x20, or 0x7f), '"' or '\\'; then in double quotes,
 * with \a \b \t \n \v \f \r \" \\ and \ooo (octal) for the other control
 * bytes. With BARE, only the control bytes are escaped and nothing is
 * quoted (for a message that may hold such a path). Into OUT, SIZE bytes,
 * NUL-terminated when SIZE > 0; the length of the whole text, as snprintf
 * returns it. RA_QUOTE_SIZE(strlen(S)) bytes always suffice. */
size_t ra_quote(const char *s, int bare, char *out, size_t size);
#define RA_QUOTE_SIZE(len) (4 * (size_t)(len) + 3)

/* Format into DIAG (which may be NULL: then nothing happens). */
void ra_diag_set(ra_diag *diag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* CLOCK_MONOTONIC, in ns (~25 ns a call through the vDSO). */
uint64_t ra_now_ns(void);

/* The LEN characters at S as a finite decimal number: digits, '.', an
 * exponent, an optional sign; no blanks, hex, inf or nan, nothing left over
 * (at most 63 characters). RA_OK with *VALUE, else RA_ERR_INVALID. */
ra_status ra_number_parse(const char *s, size_t len, double *value);

/* A frequency or rate in Hz: a number as ra_number_parse() takes it but
 * unsigned, with an optional k or K suffix for x1000 ("44.1k"); finite and
 * above 0. RA_OK with *HZ, else RA_ERR_INVALID. */
ra_status ra_hz_parse(const char *s, size_t len, double *hz);

/* How ra_name_lookup() compares names: exactly, or ignoring ASCII case. */
typedef enum ra_name_match { RA_NAME_EXACT, RA_NAME_ANY_CASE } ra_name_match;

/* Where NAME is in TABLE, COUNT entries of SIZE bytes each that start
 * with their name, a const char * (so a plain array of names is such a
 * table, of entries sizeof(char *) long): the first entry that matches,
 * in *INDEX. RA_ERR_INVALID when none does or NAME is NULL. What the
 * modules' parse functions (ra_window_parse(), ra_format_parse(), ...)
 * look their names up with. */
ra_status ra_name_lookup(const char *name, const void *table, size_t count, size_t size,
			 ra_name_match match, size_t *index);

#ifdef __cplusplus
}
#endif

#endif
