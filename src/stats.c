/* Clocks, fixed-bin histograms and a JSON writer for performance stats. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "rustyaudio/stats.h"

uint64_t ra_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t ra_peak_rss_bytes(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (uint64_t)ru.ru_maxrss * 1024u; /* Linux counts KiB */
}

/* ---- histograms ---- */

/* Values below EXACT have a bin each; above, each power of two 2^e is cut
 * into SUB bins of width 2^(e - 4), up to 2^(LAST_POWER + 1). */
#define EXACT 32
#define SUB 16
#define FIRST_POWER 5
#define LAST_POWER 40

static int floor_log2(uint64_t v)
{
	return 63 - __builtin_clzll(v);
}

static size_t bin_of(uint64_t v)
{
	int e;

	if (v < EXACT)
		return (size_t)v;
	e = floor_log2(v);
	if (e > LAST_POWER)
		return RA_HISTOGRAM_BINS - 1;
	return EXACT + (size_t)(e - FIRST_POWER) * SUB + ((v >> (e - 4)) & (SUB - 1));
}

/* The middle of bin B. */
static uint64_t bin_middle(size_t b)
{
	size_t k;
	int e;
	uint64_t width;

	if (b < EXACT)
		return b;
	k = b - EXACT;
	e = FIRST_POWER + (int)(k / SUB);
	width = (uint64_t)1 << (e - 4);
	return ((uint64_t)1 << e) + (uint64_t)(k % SUB) * width + (width - 1) / 2;
}

void ra_histogram_init(ra_histogram *h)
{
	memset(h, 0, sizeof(*h));
}

static void add_n(ra_histogram *h, uint64_t ns, uint64_t n, uint64_t total)
{
	h->count += n;
	h->total_ns += total;
	if (ns > h->max_ns)
		h->max_ns = ns;
	h->bins[bin_of(ns)] += n;
}

void ra_histogram_add(ra_histogram *h, uint64_t ns)
{
	add_n(h, ns, 1, ns);
}

void ra_histogram_add_spread(ra_histogram *h, uint64_t total_ns, uint64_t n)
{
	if (n > 0)
		add_n(h, total_ns / n, n, total_ns);
}

void ra_histogram_merge(ra_histogram *dst, const ra_histogram *src)
{
	dst->count += src->count;
	dst->total_ns += src->total_ns;
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
	for (size_t b = 0; b < RA_HISTOGRAM_BINS; b++)
		dst->bins[b] += src->bins[b];
}

double ra_histogram_mean(const ra_histogram *h)
{
	return h->count ? (double)h->total_ns / (double)h->count : 0.0;
}

uint64_t ra_histogram_quantile(const ra_histogram *h, double q)
{
	uint64_t rank, seen = 0;

	if (h->count == 0)
		return 0;
	rank = (uint64_t)ceil(q * (double)h->count);
	if (rank < 1)
		rank = 1;
	for (size_t b = 0; b < RA_HISTOGRAM_BINS; b++) {
		seen += h->bins[b];
		if (seen >= rank) {
			uint64_t v = bin_middle(b);

			return v < h->max_ns ? v : h->max_ns;
		}
	}
	return h->max_ns;
}

static const char *const stage_names[RA_STAGE_COUNT] = { "open",    "read",	"resample",
							 "eq",	    "spectrum", "level",
							 "convert", "write",	"close" };

const char *ra_stage_name(ra_stage stage)
{
	return stage >= 0 && stage < RA_STAGE_COUNT ? stage_names[stage] : "?";
}

/* ---- JSON ---- */

void ra_json_init(ra_json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

void ra_json_init_line(ra_json *j, FILE *f)
{
	ra_json_init(j, f);
	j->line = 1;
}

static void indent(ra_json *j)
{
	if (j->line)
		return;
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

/* The length of the well-formed UTF-8 sequence at P (1 to 4 bytes), or 0
 * if there is none (a stray byte, an overlong form, a surrogate, a
 * sequence cut short). P is NUL-terminated. */
static int utf8_length(const unsigned char *p)
{
	unsigned lo = 0x80, hi = 0xbf;
	int n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		lo = p[0] == 0xe0 ? 0xa0 : lo;
		hi = p[0] == 0xed ? 0x9f : hi;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		lo = p[0] == 0xf0 ? 0x90 : lo;
		hi = p[0] == 0xf4 ? 0x8f : hi;
	} else {
		return 0;
	}
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (int i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

int ra_json_exact(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n;

	while (*p && (n = utf8_length(p)) > 0)
		p += n;
	return *p == '\0';
}

/* S as a JSON string: escapes as JSON needs them, and U+FFFD for each byte
 * that is not part of well-formed UTF-8 (a file name can hold anything). */
static void put_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p) {
		int n = utf8_length(p);

		if (n == 0) {
			fputs("\\ufffd", f);
			p++;
		} else if (n > 1) {
			fwrite(p, 1, (size_t)n, f);
			p += n;
		} else {
			if (*p == '"' || *p == '\\')
				fprintf(f, "\\%c", *p);
			else if (*p == '\n')
				fputs("\\n", f);
			else if (*p == '\t')
				fputs("\\t", f);
			else if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
			p++;
		}
	}
	fputc('"', f);
}

/* The separator, indentation and key before a member. */
static void member(ra_json *j, const char *key)
{
	if (j->depth > 0) {
		if (j->members[j->depth - 1]++ > 0)
			fputc(',', j->f);
		indent(j);
	}
	if (key) {
		put_string(j->f, key);
		fputs(j->line ? ":" : ": ", j->f);
	}
}

static void open_level(ra_json *j, const char *key, char bracket)
{
	member(j, key);
	fputc(bracket, j->f);
	j->members[j->depth++] = 0;
}

static void close_level(ra_json *j, char bracket)
{
	int had = j->members[--j->depth] > 0;

	if (had)
		indent(j);
	fputc(bracket, j->f);
	if (j->depth == 0)
		fputc('\n', j->f);
}

void ra_json_begin_object(ra_json *j, const char *key)
{
	open_level(j, key, '{');
}

void ra_json_end_object(ra_json *j)
{
	close_level(j, '}');
}

void ra_json_begin_array(ra_json *j, const char *key)
{
	open_level(j, key, '[');
}

void ra_json_end_array(ra_json *j)
{
	close_level(j, ']');
}

void ra_json_string(ra_json *j, const char *key, const char *value)
{
	member(j, key);
	if (value)
		put_string(j->f, value);
	else
		fputs("null", j->f);
}

void ra_json_number(ra_json *j, const char *key, double value)
{
	char text[32];

	member(j, key);
	if (!isfinite(value)) {
		fputs("null", j->f);
		return;
	}
	/* The shortest of 15 or 17 digits that reads back as VALUE. */
	snprintf(text, sizeof(text), "%.15g", value);
	if (strtod(text, NULL) != value)
		snprintf(text, sizeof(text), "%.17g", value);
	fputs(text, j->f);
}

void ra_json_uint(ra_json *j, const char *key, uint64_t value)
{
	member(j, key);
	fprintf(j->f, "%llu", (unsigned long long)value);
}

void ra_json_bool(ra_json *j, const char *key, int value)
{
	member(j, key);
	fputs(value ? "true" : "false", j->f);
}
