/* Status codes and their descriptions, the clock, number parsing, and
 * names looked up in tables. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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
	case RA_ERR_REPLACED:
		return "another file took the output's name";
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

static int needs_escape(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* C at *N of OUT (SIZE bytes) if it fits; *N counts it either way. */
static void put_char(char *out, size_t size, size_t *n, int c)
{
	if (*n + 1 < size)
		out[*n] = (char)c;
	(*n)++;
}

size_t ra_quote(const char *s, int bare, char *out, size_t size)
{
	static const char named[] = "\a\b\t\n\v\f\r", letters[] = "abtnvfr";
	const unsigned char *p = (const unsigned char *)s;
	int quote = 0;
	size_t n = 0;

	for (const unsigned char *q = p; *q && !quote && !bare; q++)
		quote = needs_escape(*q) || *q == '"' || *q == '\\';
	if (quote)
		put_char(out, size, &n, '"');
	for (; *p; p++) {
		const char *at = memchr(named, *p, sizeof(named) - 1);

		if (needs_escape(*p) || (quote && (*p == '"' || *p == '\\')))
			put_char(out, size, &n, '\\');
		if (needs_escape(*p) && at) {
			put_char(out, size, &n, letters[at - named]);
		} else if (needs_escape(*p)) {
			put_char(out, size, &n, '0' + (*p >> 6));
			put_char(out, size, &n, '0' + ((*p >> 3) & 7));
			put_char(out, size, &n, '0' + (*p & 7));
		} else {
			put_char(out, size, &n, *p);
		}
	}
	if (quote)
		put_char(out, size, &n, '"');
	if (size > 0)
		out[n < size ? n : size - 1] = '\0';
	return n;
}

uint64_t ra_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

ra_status ra_number_parse(const char *s, size_t len, double *value)
{
	char buf[64];
	char *stop;
	double v;

	if (len == 0 || len >= sizeof(buf))
		return RA_ERR_INVALID;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (strspn(buf, "0123456789.eE+-") != len)
		return RA_ERR_INVALID;
	v = strtod(buf, &stop);
	if (stop != buf + len || !isfinite(v))
		return RA_ERR_INVALID;
	*value = v;
	return RA_OK;
}

ra_status ra_hz_parse(const char *s, size_t len, double *hz)
{
	double mult = 1.0;
	double v;

	if (len == 0 || !((s[0] >= '0' && s[0] <= '9') || s[0] == '.'))
		return RA_ERR_INVALID; /* no sign */
	if (s[len - 1] == 'k' || s[len - 1] == 'K') {
		mult = 1000.0;
		len--;
	}
	if (ra_number_parse(s, len, &v) != RA_OK)
		return RA_ERR_INVALID;
	v *= mult;
	if (!isfinite(v) || !(v > 0))
		return RA_ERR_INVALID;
	*hz = v;
	return RA_OK;
}

ra_status ra_name_lookup(const char *name, const void *table, size_t count, size_t size,
			 ra_name_match match, size_t *index)
{
	const char *entry = table;

	for (size_t i = 0; name && i < count; i++, entry += size) {
		/* An entry starts with its name: a pointer to the entry,
		 * converted, points to it. */
		const char *candidate = *(const char *const *)(const void *)entry;

		if (match == RA_NAME_ANY_CASE ? !strcasecmp(name, candidate)
					      : !strcmp(name, candidate)) {
			*index = i;
			return RA_OK;
		}
	}
	return RA_ERR_INVALID;
}
