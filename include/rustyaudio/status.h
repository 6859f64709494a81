/* Status codes shared by every rusty-audio module, and a small buffer for the
 * detail behind a failure (a path, a libsndfile message) that callers print. */
#ifndef RUSTYAUDIO_STATUS_H
#define RUSTYAUDIO_STATUS_H

#include <stddef.h>

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
	RA_ERR_RESAMPLE,    /* libsamplerate refused */
	RA_ERR_CANCELLED,   /* the caller asked to stop */
	RA_ERR_NONFINITE    /* the audio holds NaN or infinite samples */
} ra_status;

/* A static, lowercase description of STATUS; never NULL. */
const char *ra_strerror(ra_status status);

/* Detail that goes with a status: filled by the function that failed,
 * e.g. "cannot open: No such file or directory". Always NUL-terminated. */
typedef struct ra_diag {
	char text[256];
} ra_diag;

/* Format into DIAG (which may be NULL: then nothing happens). */
void ra_diag_set(ra_diag *diag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif

#endif
