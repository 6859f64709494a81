/* The bench harness: options, timing, medians, tables and baselines shared
 * by every `make bench` program (see harness.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "harness.h"
#include "rustyaudio/eq.h"

#ifndef RA_BENCH_RESULTS
#define RA_BENCH_RESULTS "bench/results"
#endif

#define MAX_REPEATS 50
#define COLUMNS "%-30s %9s  %-17s %10s %-10s %-30s"

struct bench_row {
	char table[64], name[64], unit[16];
	double median, min, max, value;
};

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

size_t bench_frames(const bench *b)
{
	size_t frames = (size_t)(b->seconds * BENCH_RATE) / BENCH_BLOCK * BENCH_BLOCK;

	return frames > 0 ? frames : BENCH_BLOCK; /* at least one block */
}

int bench_cmp_double(const void *a, const void *b)
{
	const double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void *bench_alloc(size_t align, size_t size)
{
	void *p;

	if (posix_memalign(&p, align, size ? size : 1)) {
		fprintf(stderr, "bench: out of memory (%zu bytes)\n", size);
		exit(1);
	}
	return p;
}

void bench_noise(float *x, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 6364136223846793005u + 1442695040888963407u;
		x[i] = (float)(seed >> 40) / 16777216.0f - 0.5f;
	}
}

int bench_bands(int count, ra_biquad_coeffs *c)
{
	static const char *const octave[] = {
		"peak:31.25:3:1.41", "peak:62.5:-3:1.41", "peak:125:3:1.41", "peak:250:-3:1.41",
		"peak:500:3:1.41",   "peak:1k:-3:1.41",	  "peak:2k:3:1.41",  "peak:4k:-3:1.41",
		"peak:8k:3:1.41",    "peak:16k:-3:1.41",
	};
	ra_eq eq = { 0 };
	ra_diag diag = { "" };
	ra_status st = RA_OK;

	if (count == 31)
		st = ra_eq_add_graphic(&eq,
				       "1,-1,2,-2,3,-3,1,-1,2,-2,3,-3,1,-1,2,-2,3,-3,1,-1,2,-2,3,"
				       "-3,1,-1,2,-2,3,-3,1",
				       &diag);
	for (int i = 0; count != 31 && i < count && i < 10 && st == RA_OK; i++)
		st = ra_eq_add(&eq, octave[i], &diag);
	if (st == RA_OK)
		st = ra_eq_design(&eq, BENCH_RATE, c, &diag);
	if (st != RA_OK) {
		fprintf(stderr, "bench: %s\n", diag.text);
		exit(1);
	}
	return eq.count;
}

void bench_keep(double x)
{
	static volatile double sink;

	sink += x;
}

void bench_print_load(const char *when)
{
	double load[3];

	if (getloadavg(load, 3) == 3)
		printf("load average %s: %.2f %.2f %.2f\n", when, load[0], load[1], load[2]);
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--quick] [--repeats N] [--seconds S] [--save NAME] [--compare NAME]\n",
		prog);
	exit(2);
}

/* A baseline name is one plain file name: letters, digits, '.', '_', '-'. */
static int name_ok(const char *name)
{
	if (!*name || *name == '.' || strlen(name) > 64)
		return 0;
	for (const char *s = name; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
			    *s))
			return 0;
	return 1;
}

static void baseline_path(const char *name, char *path, size_t size)
{
	snprintf(path, size, "%s/%s.tsv", RA_BENCH_RESULTS, name);
}

/* A line "group<TAB>table<TAB>case<TAB>median<TAB>min<TAB>max<TAB>value<TAB>unit"
 * into ROW; 0 if it is not one (a comment, or malformed). */
static int parse_row(char *line, char *group, size_t group_size, bench_row *row)
{
	char *field[8];
	int n = 0;

	line[strcspn(line, "\n")] = '\0';
	if (*line == '#')
		return 0;
	for (char *s = line; n < 8; n++) {
		field[n] = s;
		s = strchr(s, '\t');
		if (!s) {
			n++;
			break;
		}
		*s++ = '\0';
	}
	if (n != 8)
		return 0;
	snprintf(group, group_size, "%s", field[0]);
	snprintf(row->table, sizeof(row->table), "%s", field[1]);
	snprintf(row->name, sizeof(row->name), "%s", field[2]);
	row->median = atof(field[3]);
	row->min = atof(field[4]);
	row->max = atof(field[5]);
	row->value = atof(field[6]);
	snprintf(row->unit, sizeof(row->unit), "%s", field[7]);
	return 1;
}

static void load_baseline(bench *b)
{
	char path[4096], line[512], group[64];
	bench_row row;
	FILE *f;

	baseline_path(b->compare, path, sizeof(path));
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "%s: %s: cannot open baseline: %s\n", b->prog, path,
			strerror(errno));
		exit(1);
	}
	while (fgets(line, sizeof(line), f)) {
		if (!parse_row(line, group, sizeof(group), &row) || strcmp(group, b->group))
			continue;
		b->base = realloc(b->base, (b->nbase + 1) * sizeof(*b->base));
		if (!b->base)
			exit(1);
		b->base[b->nbase++] = row;
	}
	fclose(f);
	if (!b->nbase) {
		fprintf(stderr, "%s: %s: no '%s' results in this baseline\n", b->prog, path,
			b->group);
		exit(1);
	}
}

void bench_init(bench *b, const char *group, const char *title, double seconds, int argc,
		char **argv)
{
	const char *slash = strrchr(argv[0], '/');
	int repeats = 0;

	memset(b, 0, sizeof(*b));
	b->prog = slash ? slash + 1 : argv[0];
	b->group = group;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		char *end = NULL;

		if (!strcmp(arg, "--quick")) {
			b->quick = 1;
			continue;
		}
		if (!val)
			usage(b->prog);
		i++;
		if (!strcmp(arg, "--repeats")) {
			repeats = (int)strtol(val, &end, 10);
			if (*end || repeats < 1 || repeats > MAX_REPEATS)
				usage(b->prog);
		} else if (!strcmp(arg, "--seconds")) {
			b->seconds = strtod(val, &end);
			if (*end || !(b->seconds > 0.0 && b->seconds <= 3600.0))
				usage(b->prog);
		} else if (!strcmp(arg, "--save") && name_ok(val)) {
			b->save = val;
		} else if (!strcmp(arg, "--compare") && name_ok(val)) {
			b->compare = val;
		} else {
			usage(b->prog);
		}
	}
	b->repeats = repeats ? repeats : b->quick ? 3 : 7;
	if (b->seconds == 0.0)
		b->seconds = b->quick ? seconds / 6.0 : seconds;
	if (b->compare)
		load_baseline(b);

	printf("== %s: %s\n", group, title);
	printf("%s%s; median of %d run%s after a warm-up, min..max, throughput, ratio of "
	       "throughputs\n",
	       b->quick ? "quick; " : "", b->prog, b->repeats, b->repeats > 1 ? "s" : "");
	bench_print_load("before");
}

static const bench_row *find_base(const bench *b, const char *table, const char *name)
{
	for (size_t i = 0; i < b->nbase; i++)
		if (!strcmp(b->base[i].table, table) && !strcmp(b->base[i].name, name))
			return &b->base[i];
	return NULL;
}

/* The unit for a duration: the largest that leaves it at least 1. */
static const char *time_unit(double t, double *div)
{
	if (t >= 1.0) {
		*div = 1.0;
		return "s";
	}
	if (t >= 1e-3) {
		*div = 1e-3;
		return "ms";
	}
	if (t >= 1e-6) {
		*div = 1e-6;
		return "us";
	}
	*div = 1e-9;
	return "ns";
}

/* V with three or four significant digits, never in exponent form. */
static void fmt_value(char *out, size_t size, double v)
{
	if (v >= 100.0)
		snprintf(out, size, "%.0f", v);
	else if (v >= 10.0)
		snprintf(out, size, "%.1f", v);
	else if (v >= 1.0)
		snprintf(out, size, "%.2f", v);
	else
		snprintf(out, size, "%.3g", v);
}

/* LINE on stdout without its trailing blanks. */
static void put_line(char *line)
{
	size_t len = strlen(line);

	while (len > 0 && line[len - 1] == ' ')
		line[--len] = '\0';
	puts(line);
}

static void print_row(const bench *b, const bench_table *t, const bench_case *c,
		      const bench_row *row, const bench_row *vs)
{
	char median[48], spread[80], value[32], ratio[96] = "", line[512], lo[32], hi[32];
	double div;
	const char *unit = time_unit(row->median, &div);
	size_t len;

	fmt_value(value, sizeof(value), row->median / div);
	snprintf(median, sizeof(median), "%s %s", value, unit);
	fmt_value(lo, sizeof(lo), row->min / div);
	fmt_value(hi, sizeof(hi), row->max / div);
	snprintf(spread, sizeof(spread), "(%s..%s)", lo, hi);
	fmt_value(value, sizeof(value), row->value);
	if (vs)
		snprintf(ratio, sizeof(ratio), "%5.2fx %s",
			 t->cost ? vs->value / row->value : row->value / vs->value, vs->name);
	len = (size_t)snprintf(line, sizeof(line), COLUMNS, c->name, median, spread, value, t->unit,
			       ratio);
	if (b->compare && len < sizeof(line)) {
		const bench_row *old = find_base(b, t->key, c->name);
		char v[32] = "-", r[32] = "";

		if (old) {
			fmt_value(v, sizeof(v), old->value);
			snprintf(r, sizeof(r), "%5.2fx",
				 t->cost ? old->value / row->value : row->value / old->value);
		}
		snprintf(line + len, sizeof(line) - len, " %10s %-10s %s", v, old ? t->unit : "",
			 r);
	}
	put_line(line);
}

void bench_table_run(bench *b, const bench_table *t, const bench_case *cases, int count)
{
	double times[BENCH_MAX_CASES][MAX_REPEATS];
	bench_row *rows;

	if (count > BENCH_MAX_CASES) {
		fprintf(stderr, "%s: table %s has %d cases, more than %d\n", b->prog, t->key, count,
			BENCH_MAX_CASES);
		exit(1);
	}
	for (int i = 0; i < count; i++)
		cases[i].run(cases[i].arg);
	for (int r = 0; r < b->repeats; r++)
		for (int i = 0; i < count; i++)
			times[i][r] = cases[i].run(cases[i].arg);

	b->rows = realloc(b->rows, (b->nrows + (size_t)count) * sizeof(*b->rows));
	if (!b->rows)
		exit(1);
	rows = b->rows + b->nrows;
	b->nrows += (size_t)count;
	if (!b->header_done) {
		char line[256];

		snprintf(line, sizeof(line), COLUMNS " %10s %-10s %s", "case", "median", "min..max",
			 "throughput", "", "ratio", b->compare ? "baseline" : "", "",
			 b->compare ? "now/base" : "");
		put_line(line);
		b->header_done = 1;
	}
	printf("-- %s\n", t->key);
	for (int i = 0; i < count; i++) {
		bench_row *row = &rows[i];
		double *ts = times[i];

		qsort(ts, (size_t)b->repeats, sizeof(*ts), bench_cmp_double);
		snprintf(row->table, sizeof(row->table), "%s", t->key);
		snprintf(row->name, sizeof(row->name), "%s", cases[i].name);
		snprintf(row->unit, sizeof(row->unit), "%s", t->unit);
		/* An even count takes the mean of the middle two. */
		row->median = (ts[(b->repeats - 1) / 2] + ts[b->repeats / 2]) / 2.0;
		row->min = ts[0];
		row->max = ts[b->repeats - 1];
		row->value = t->cost ? row->median / cases[i].work * t->scale
				     : cases[i].work / row->median * t->scale;
	}
	for (int i = 0; i < count; i++) {
		const int vs = cases[i].vs;

		print_row(b, t, &cases[i], &rows[i], vs >= 0 && vs < count ? &rows[vs] : NULL);
	}
	fflush(stdout);
}

void bench_note(const char *fmt, ...)
{
	va_list ap;

	printf("   ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* Rewrite the baseline file with this program's rows in place of any
 * earlier ones of its group; other groups' rows are kept as they were. */
static int save_baseline(const bench *b)
{
	char path[4096], tmp[4200], line[512], group[64];
	FILE *in, *out;
	bench_row row;
	int ok;

	baseline_path(b->save, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (mkdir(RA_BENCH_RESULTS, 0777) && errno != EEXIST) {
		fprintf(stderr, "%s: %s: cannot create: %s\n", b->prog, RA_BENCH_RESULTS,
			strerror(errno));
		return 1;
	}
	out = fopen(tmp, "w");
	if (!out) {
		fprintf(stderr, "%s: %s: cannot create: %s\n", b->prog, tmp, strerror(errno));
		return 1;
	}
	fprintf(out, "# group\ttable\tcase\tmedian_s\tmin_s\tmax_s\tthroughput\tunit\n");
	in = fopen(path, "r");
	while (in && fgets(line, sizeof(line), in)) {
		char copy[512];

		snprintf(copy, sizeof(copy), "%s", line);
		if (parse_row(copy, group, sizeof(group), &row) && strcmp(group, b->group))
			fputs(line, out);
	}
	if (in)
		fclose(in);
	for (size_t i = 0; i < b->nrows; i++) {
		const bench_row *r = &b->rows[i];

		fprintf(out, "%s\t%s\t%s\t%.6g\t%.6g\t%.6g\t%.6g\t%s\n", b->group, r->table,
			r->name, r->median, r->min, r->max, r->value, r->unit);
	}
	ok = !ferror(out);
	ok = !fclose(out) && ok;
	if (!ok || rename(tmp, path)) {
		fprintf(stderr, "%s: %s: cannot write: %s\n", b->prog, path, strerror(errno));
		remove(tmp);
		return 1;
	}
	printf("saved %zu results to %s\n", b->nrows, path);
	return 0;
}

int bench_finish(bench *b)
{
	int status = 0;

	bench_print_load("after");
	if (b->save)
		status = save_baseline(b);
	printf("\n");
	free(b->rows);
	free(b->base);
	return status;
}
