/* Status codes and their descriptions. */
#include <stdarg.h>
#include <stdio.h>

#include "rustyaudio/status.h"

const char *ra_strerror(ra_status status)
{
	switch (status) {
	case RA_OK:
		return "success";
	case RA_ERR_NOMEM:
		return "out of memory";
	case RA_ERR_INVALID:
		return "invalid argument";
	case RA_ERR_OPEN:
		return "cannot open";
	case RA_ERR_FORMAT:
		return "not a readable audio file";
	case RA_ERR_LIMITS:
		return "beyond supported limits";
	case RA_ERR_READ:
		return "read error";
	case RA_ERR_WRITE:
		return "write error";
	case RA_ERR_UNSUPPORTED:
		return "unsupported output format";
	case RA_ERR_EXISTS:
		return "output exists";
	case RA_ERR_SAME_FILE:
		return "output is the input";
	case RA_ERR_RESAMPLE:
		return "resampler error";
	case RA_ERR_CANCELLED:
		return "cancelled";
	case RA_ERR_NONFINITE:
		return "non-finite samples";
	}
	return "unknown error";
}

void ra_diag_set(ra_diag *diag, const char *fmt, ...)
{
	va_list ap;

	if (!diag)
		return;
	va_start(ap, fmt);
	vsnprintf(diag->text, sizeof(diag->text), fmt, ap);
	va_end(ap);
}
