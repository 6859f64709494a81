/* EQ chains from what users write: band specs, graphic EQs, band files and
 * presets parsed into biquad specs, then designed and measured as a cascade. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rustyaudio/eq.h"

/* Butterworth: the flattest pass band, the header's "Q default 0.7071". */
#define RA_EQ_DEFAULT_Q 0.70710678118654752440

#define RA_EQ_USAGE "TYPE:FREQ[:GAIN_DB[:Q]]"

/* Longest number or type name we take; anything longer is not one. */
#define RA_EQ_FIELD_MAX 64

/* A band file's longest line, with its newline and NUL. */
#define RA_EQ_LINE_MAX 1024

/* A band file's largest size: far more than 64 bands need, and a bound on
 * what reading a wrong file (an audio file, /dev/zero) costs. */
#define RA_EQ_FILE_MAX (1 << 20)

/* The peak search: log-spaced scan points from 1 Hz to Nyquist (plus 0 Hz),
 * how many of the scan's local maxima are refined (so that of two close
 * peaks the one the scan undersampled still wins), the golden-section
 * stopping rule, and by how much a refined point must beat the scan. */
#define RA_EQ_SCAN_POINTS 2000
#define RA_EQ_SCAN_REFINE 4
#define RA_EQ_REFINE_HZ 0.01
#define RA_EQ_REFINE_DB 0.0001
#define RA_EQ_REFINE_MAX_ITER 100
#define RA_EQ_PEAK_TIE_DB 1e-9

/* ISO 266 nominal third-octave centres, 20 Hz to 20 kHz. Entry i is the
 * band at 1000 * 2^((i - RA_GEQ_1K) / 3) Hz; every third one from 31.5 Hz
 * is also an octave centre. */
static const struct {
	double nominal;
	const char *label;
} ra_geq_centres[] = {
	{ 20, "20" },	  { 25, "25" },	    { 31.5, "31.5" },  { 40, "40" },	   { 50, "50" },
	{ 63, "63" },	  { 80, "80" },	    { 100, "100" },    { 125, "125" },	   { 160, "160" },
	{ 200, "200" },	  { 250, "250" },   { 315, "315" },    { 400, "400" },	   { 500, "500" },
	{ 630, "630" },	  { 800, "800" },   { 1000, "1k" },    { 1250, "1.25k" },  { 1600, "1.6k" },
	{ 2000, "2k" },	  { 2500, "2.5k" }, { 3150, "3.15k" }, { 4000, "4k" },	   { 5000, "5k" },
	{ 6300, "6.3k" }, { 8000, "8k" },   { 10000, "10k" },  { 12500, "12.5k" }, { 16000, "16k" },
	{ 20000, "20k" },
};
#define RA_GEQ_THIRDS ((int)(sizeof(ra_geq_centres) / sizeof(ra_geq_centres[0])))
#define RA_GEQ_OCTAVES 10
#define RA_GEQ_1K 17	      /* index of 1 kHz */
#define RA_GEQ_FIRST_OCTAVE 2 /* index of 31.5 Hz */

static bool ra_geq_is_octave(int i)
{
	return i >= RA_GEQ_FIRST_OCTAVE && (i - RA_GEQ_FIRST_OCTAVE) % 3 == 0;
}

/* Built-in presets: names (NULL-terminated, as ra_eq_preset_names() hands
 * them out) and, at the same index, their bands separated by spaces. */
static const char *const ra_preset_names[] = {
	"bass-boost", "treble-boost", "loudness", "vocal-presence",
	"telephone",  "rumble-cut",   "de-ess",	  NULL,
};
static const char *const ra_preset_bands[] = {
	"lowshelf:100:+6:s=1",
	"highshelf:8k:+4:s=1",
	"lowshelf:100:+6 highshelf:10k:+4",
	"highpass:80 peak:300:-2:1 peak:3k:+3:1",
	"highpass:300 lowpass:3.4k",
	"highpass:30",
	"peak:6.5k:-4:2",
};
_Static_assert(sizeof(ra_preset_names) / sizeof(ra_preset_names[0]) ==
		       sizeof(ra_preset_bands) / sizeof(ra_preset_bands[0]) + 1,
	       "every preset needs a name and its bands");

/* ---- numbers ---- */

static int ra_parse_positive(const char *s, size_t len, double *out)
{
	double v;

	if (ra_number_parse(s, len, &v) != RA_OK || !(v > 0))
		return -1;
	*out = v;
	return 0;
}

/* Quote at most this much of a field in a message. */
static int ra_quote_len(size_t len)
{
	return len > 40 ? 40 : (int)len;
}

/* ---- one band ---- */

static bool ra_type_takes_octaves(ra_biquad_type t)
{
	return t == RA_BIQUAD_PEAK || t == RA_BIQUAD_BANDPASS || t == RA_BIQUAD_NOTCH ||
	       t == RA_BIQUAD_ALLPASS;
}

static bool ra_type_is_shelf(ra_biquad_type t)
{
	return t == RA_BIQUAD_LOWSHELF || t == RA_BIQUAD_HIGHSHELF;
}

/* A named field "NAME=VALUE" of [S, S + LEN): the band's width. */
static int ra_parse_named(const char *s, size_t len, ra_biquad_spec *spec, int *nwidth,
			  ra_diag *why)
{
	const char *eq = memchr(s, '=', len);
	size_t name_len = (size_t)(eq - s);
	const char *val = eq + 1;
	size_t val_len = len - name_len - 1;
	ra_biquad_width kind;
	const char *what;

	if (name_len == 1 && (s[0] == 'q' || s[0] == 'Q')) {
		kind = RA_WIDTH_Q;
		what = "q";
	} else if (name_len == 2 && !strncmp(s, "bw", 2)) {
		kind = RA_WIDTH_OCTAVES;
		what = "bw";
		if (!ra_type_takes_octaves(spec->type)) {
			ra_diag_set(
				why,
				"bw= does not apply to %s (only peak, bandpass, notch, allpass)",
				ra_biquad_type_name(spec->type));
			return -1;
		}
	} else if (name_len == 1 && (s[0] == 's' || s[0] == 'S')) {
		kind = RA_WIDTH_SLOPE;
		what = "s";
		if (!ra_type_is_shelf(spec->type)) {
			ra_diag_set(why, "s= does not apply to %s (only lowshelf, highshelf)",
				    ra_biquad_type_name(spec->type));
			return -1;
		}
	} else {
		ra_diag_set(why, "unknown field '%.*s' (expected q=, bw= or s=)", ra_quote_len(len),
			    s);
		return -1;
	}
	if ((*nwidth)++) {
		ra_diag_set(why, "more than one width (q=, bw=, s= or a positional Q)");
		return -1;
	}
	if (val_len == 0) {
		ra_diag_set(why, "empty %s", what);
		return -1;
	}
	if (ra_parse_positive(val, val_len, &spec->width)) {
		ra_diag_set(why, "%s '%.*s' is not a positive number", what, ra_quote_len(val_len),
			    val);
		return -1;
	}
	spec->width_kind = kind;
	return 0;
}

/* A positional field after FREQ: the first is the gain, the second Q. Both
 * are optional, and an empty one is one not given ("lowpass:3k::0.7"). */
static int ra_parse_positional(const char *s, size_t len, ra_biquad_spec *spec, int *npos,
			       int *nwidth, ra_diag *why)
{
	switch ((*npos)++) {
	case 0:
		if (len == 0)
			return 0;
		if (ra_number_parse(s, len, &spec->gain_db) != RA_OK) {
			ra_diag_set(why, "gain '%.*s' is not a number", ra_quote_len(len), s);
			return -1;
		}
		return 0;
	case 1:
		if (len == 0)
			return 0;
		if ((*nwidth)++) {
			ra_diag_set(why, "more than one width (q=, bw=, s= or a positional Q)");
			return -1;
		}
		if (ra_parse_positive(s, len, &spec->width)) {
			ra_diag_set(why, "Q '%.*s' is not a positive number", ra_quote_len(len), s);
			return -1;
		}
		spec->width_kind = RA_WIDTH_Q;
		return 0;
	default:
		ra_diag_set(why, "too many fields (expected " RA_EQ_USAGE ")");
		return -1;
	}
}

/* TEXT in the band syntax into SPEC; on failure the reason in WHY. */
static int ra_parse_band(const char *text, ra_biquad_spec *spec, ra_diag *why)
{
	char type_name[RA_EQ_FIELD_MAX];
	size_t len = strcspn(text, ":");
	const char *field, *end;
	int npos = 0, nwidth = 0;

	if (len == 0) {
		ra_diag_set(why, "missing type (expected " RA_EQ_USAGE ")");
		return -1;
	}
	if (len < sizeof(type_name)) {
		memcpy(type_name, text, len);
		type_name[len] = '\0';
	}
	if (len >= sizeof(type_name) || ra_biquad_type_parse(type_name, &spec->type)) {
		ra_diag_set(why,
			    "unknown type '%.*s' (peak, lowshelf, highshelf, lowpass, highpass, "
			    "bandpass, notch, allpass)",
			    ra_quote_len(len), text);
		return -1;
	}
	if (!text[len]) {
		ra_diag_set(why, "missing frequency (expected " RA_EQ_USAGE ")");
		return -1;
	}

	field = text + len + 1;
	end = field + strcspn(field, ":");
	len = (size_t)(end - field);
	if (len == 0) {
		ra_diag_set(why, "empty frequency");
		return -1;
	}
	if (ra_hz_parse(field, len, &spec->freq) != RA_OK) {
		ra_diag_set(why, "frequency '%.*s' is not a positive number of Hz",
			    ra_quote_len(len), field);
		return -1;
	}

	spec->gain_db = 0.0;
	spec->width_kind = RA_WIDTH_Q;
	spec->width = RA_EQ_DEFAULT_Q;
	while (*end) {
		field = end + 1;
		end = field + strcspn(field, ":");
		len = (size_t)(end - field);
		if (memchr(field, '=', len)
			    ? ra_parse_named(field, len, spec, &nwidth, why)
			    : ra_parse_positional(field, len, spec, &npos, &nwidth, why))
			return -1;
	}
	return 0;
}

/* Copy TEXT into LABEL, cut short if need be (band text is ASCII). */
static void ra_set_label(char *label, size_t size, const char *text)
{
	size_t n = strnlen(text, size - 1);

	memcpy(label, text, n);
	label[n] = '\0';
}

static void ra_eq_append(ra_eq *eq, const ra_biquad_spec *spec, const char *label)
{
	ra_eq_band *band = &eq->bands[eq->count++];

	band->spec = *spec;
	ra_set_label(band->label, sizeof(band->label), label);
}

ra_status ra_eq_add(ra_eq *eq, const char *text, ra_diag *diag)
{
	ra_biquad_spec spec;
	ra_diag why = { "" };

	if (!eq || !text) {
		ra_diag_set(diag, "no band given");
		return RA_ERR_INVALID;
	}
	if (eq->count < 0 || eq->count >= RA_EQ_MAX_BANDS) {
		ra_diag_set(diag, "bad band '%.80s': too many bands (at most %d)", text,
			    RA_EQ_MAX_BANDS);
		return RA_ERR_INVALID;
	}
	if (ra_parse_band(text, &spec, &why)) {
		ra_diag_set(diag, "bad band '%.80s': %s", text, why.text);
		return RA_ERR_INVALID;
	}
	ra_eq_append(eq, &spec, text);
	return RA_OK;
}

/* ---- graphic EQ ---- */

/* Trim blanks off both ends of [*S, *E). */
static void ra_trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

/* The third-octave index of a nominal centre written as [S, S + LEN), or -1. */
static int ra_geq_find(const char *s, size_t len)
{
	double f;
	int i;

	if (ra_hz_parse(s, len, &f) != RA_OK)
		return -1;
	for (i = 0; i < RA_GEQ_THIRDS; i++)
		if (fabs(f - ra_geq_centres[i].nominal) <= 1e-9 * ra_geq_centres[i].nominal)
			return i;
	return -1;
}

/* TEXT into GAIN (by third-octave index; GIVEN marks the ones set) and
 * whether the bands are octaves; on failure the reason in WHY. */
static int ra_parse_graphic(const char *text, double *gain, bool *given, bool *octaves,
			    ra_diag *why)
{
	bool pairs = strchr(text, '=') != NULL;
	const char *field, *end;
	int nfields = 1, k, i;

	if (!*text) {
		ra_diag_set(why, "no gains given");
		return -1;
	}
	for (end = text; *end; end++)
		nfields += *end == ',';
	if (!pairs && nfields != RA_GEQ_OCTAVES && nfields != RA_GEQ_THIRDS) {
		ra_diag_set(why, "expected %d or %d gains, got %d", RA_GEQ_OCTAVES, RA_GEQ_THIRDS,
			    nfields);
		return -1;
	}

	/* Pairs use the octave grid when every centre they name is on it. */
	*octaves = pairs || nfields == RA_GEQ_OCTAVES;
	for (k = 0, field = text; k < nfields; k++, field = end + 1) {
		const char *sep, *cs = field, *ce, *vs, *ve;

		end = field + strcspn(field, ",");
		sep = memchr(field, '=', (size_t)(end - field));
		ce = sep ? sep : end;
		vs = sep ? sep + 1 : field;
		ve = end;
		ra_trim(&cs, &ce);
		ra_trim(&vs, &ve);
		if (!pairs) {
			i = nfields == RA_GEQ_THIRDS ? k : RA_GEQ_FIRST_OCTAVE + 3 * k;
		} else if (!sep) {
			ra_diag_set(why, "expected CENTRE=GAIN, not '%.*s'",
				    ra_quote_len((size_t)(ce - cs)), cs);
			return -1;
		} else if ((i = ra_geq_find(cs, (size_t)(ce - cs))) < 0) {
			ra_diag_set(why,
				    "unknown centre '%.*s' (not an ISO octave or third-octave "
				    "nominal frequency)",
				    ra_quote_len((size_t)(ce - cs)), cs);
			return -1;
		} else if (given[i]) {
			ra_diag_set(why, "centre '%.*s' given twice",
				    ra_quote_len((size_t)(ce - cs)), cs);
			return -1;
		} else if (!ra_geq_is_octave(i)) {
			*octaves = false;
		}
		if (ra_number_parse(vs, (size_t)(ve - vs), &gain[i]) != RA_OK) {
			ra_diag_set(why, "gain '%.*s' is not a number",
				    ra_quote_len((size_t)(ve - vs)), vs);
			return -1;
		}
		given[i] = true;
	}
	return 0;
}

ra_status ra_eq_add_graphic(ra_eq *eq, const char *text, ra_diag *diag)
{
	/* Q of bands one octave and one third-octave wide: 2^(b/2) / (2^b - 1). */
	const double q_octave = sqrt(2.0);
	const double q_third = exp2(1.0 / 6.0) / (exp2(1.0 / 3.0) - 1.0);
	double gain[RA_GEQ_THIRDS] = { 0 };
	bool given[RA_GEQ_THIRDS] = { false };
	ra_diag why = { "" };
	bool octaves;
	int i, n = 0;

	if (!eq || !text) {
		ra_diag_set(diag, "no graphic eq given");
		return RA_ERR_INVALID;
	}
	if (ra_parse_graphic(text, gain, given, &octaves, &why)) {
		ra_diag_set(diag, "bad graphic eq '%.80s': %s", text, why.text);
		return RA_ERR_INVALID;
	}
	for (i = 0; i < RA_GEQ_THIRDS; i++)
		n += given[i] && gain[i] != 0.0;
	if (eq->count < 0 || n > RA_EQ_MAX_BANDS - eq->count) {
		ra_diag_set(diag, "bad graphic eq '%.80s': too many bands (at most %d)", text,
			    RA_EQ_MAX_BANDS);
		return RA_ERR_INVALID;
	}

	for (i = 0; i < RA_GEQ_THIRDS; i++) {
		char label[sizeof(eq->bands[0].label)];
		ra_biquad_spec spec = {
			.type = RA_BIQUAD_PEAK,
			.freq = 1000.0 * exp2((i - RA_GEQ_1K) / 3.0),
			.gain_db = gain[i],
			.width_kind = RA_WIDTH_Q,
			.width = octaves ? q_octave : q_third,
		};

		if (!given[i] || gain[i] == 0.0)
			continue;
		snprintf(label, sizeof(label), "geq %s", ra_geq_centres[i].label);
		ra_eq_append(eq, &spec, label);
	}
	return RA_OK;
}

/* ---- band files ---- */

/* PATH's bytes, NUL-terminated, into *TEXT (caller frees) and *LEN. Reads
 * at most one byte past RA_EQ_FILE_MAX whatever the file claims to be, so
 * that a device or pipe that never ends (/dev/zero) is refused too. */
static ra_status read_band_file(const char *path, char **text, size_t *len, ra_diag *diag)
{
	FILE *f = fopen(path, "r");
	ra_status st = RA_OK;

	if (!f) {
		ra_diag_set(diag, "%s: cannot open: %s", path, strerror(errno));
		return RA_ERR_OPEN;
	}
	*text = malloc(RA_EQ_FILE_MAX + 2);
	if (!*text) {
		ra_diag_set(diag, "%s: %s", path, ra_strerror(RA_ERR_NOMEM));
		st = RA_ERR_NOMEM;
		goto out_close;
	}
	*len = fread(*text, 1, RA_EQ_FILE_MAX + 1, f);
	(*text)[*len] = '\0';
	if (ferror(f)) {
		/* fopen() takes a directory; reading it is what fails. */
		st = errno == EISDIR ? RA_ERR_OPEN : RA_ERR_READ;
		ra_diag_set(diag, "%s: %s: %s", path,
			    st == RA_ERR_OPEN ? "cannot open" : "read error", strerror(errno));
	} else if (*len > RA_EQ_FILE_MAX) {
		ra_diag_set(diag, "%s: not a band file: larger than %d bytes", path,
			    RA_EQ_FILE_MAX);
		st = RA_ERR_INVALID;
	}
	if (st != RA_OK) {
		free(*text);
		*text = NULL;
	}
out_close:
	fclose(f);
	return st;
}

/* One line of a band file, N bytes at S (without its newline), added to
 * EQ; the reason in WHY when it cannot be. */
static ra_status add_band_line(ra_eq *eq, const char *s, size_t n, int lineno, ra_diag *why)
{
	char line[RA_EQ_LINE_MAX], *b, *e;

	if (memchr(s, '\0', n)) {
		ra_diag_set(why, "NUL byte: not a text file");
		return RA_ERR_INVALID;
	}
	if (n > RA_EQ_LINE_MAX - 2) {
		ra_diag_set(why, "line too long (at most %d characters)", RA_EQ_LINE_MAX - 2);
		return RA_ERR_INVALID;
	}
	memcpy(line, s, n);
	line[n] = '\0';
	b = line;
	/* Editors on Windows may start the file with a UTF-8 BOM. */
	if (lineno == 1 && !strncmp(b, "\xef\xbb\xbf", 3))
		b += 3;
	b[strcspn(b, "#")] = '\0';
	while (*b == ' ' || *b == '\t')
		b++;
	e = b + strlen(b);
	while (e > b && strchr(" \t\r\v\f", e[-1]))
		e--;
	*e = '\0';
	return *b ? ra_eq_add(eq, b, why) : RA_OK;
}

ra_status ra_eq_add_file(ra_eq *eq, const char *path, ra_diag *diag)
{
	char *text = NULL;
	size_t len = 0;
	ra_status st;
	int lineno = 0, start;

	if (!eq || !path) {
		ra_diag_set(diag, "no band file given");
		return RA_ERR_INVALID;
	}
	st = read_band_file(path, &text, &len, diag);
	/* A file adds all its bands or none. */
	start = eq->count;
	for (const char *s = text, *end = text + len; st == RA_OK && s < end;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = (size_t)((nl ? nl : end) - s);
		ra_diag why = { "" };

		st = add_band_line(eq, s, n, ++lineno, &why);
		if (st != RA_OK)
			ra_diag_set(diag, "%s:%d: %s", path, lineno, why.text);
		s = nl ? nl + 1 : end;
	}
	if (st != RA_OK)
		eq->count = start;
	free(text);
	return st;
}

/* ---- presets ---- */

const char *const *ra_eq_preset_names(void)
{
	return ra_preset_names;
}

const char *ra_eq_preset_bands(const char *name)
{
	const size_t count = sizeof(ra_preset_bands) / sizeof(ra_preset_bands[0]);
	size_t i;

	if (ra_name_lookup(name, ra_preset_names, count, sizeof(ra_preset_names[0]), RA_NAME_EXACT,
			   &i) != RA_OK)
		return NULL;
	return ra_preset_bands[i];
}

ra_status ra_eq_add_preset(ra_eq *eq, const char *name, ra_diag *diag)
{
	const char *p = ra_eq_preset_bands(name);
	ra_status st = RA_OK;
	int start;

	if (!eq || !p) {
		ra_diag_set(diag, "unknown preset '%.80s'", name ? name : "");
		return RA_ERR_INVALID;
	}

	start = eq->count;
	while (*(p += strspn(p, " "))) {
		char band[RA_EQ_FIELD_MAX];
		size_t len = strcspn(p, " ");
		ra_diag why = { "" };

		/* The table's bands are short; a long one is cut and refused. */
		snprintf(band, sizeof(band), "%.*s", (int)len, p);
		st = ra_eq_add(eq, band, &why);
		if (st != RA_OK) {
			eq->count = start;
			ra_diag_set(diag, "preset '%s': %s", name, why.text);
			break;
		}
		p += len;
	}
	return st;
}

/* ---- design and response ---- */

ra_status ra_eq_design(const ra_eq *eq, double sample_rate, ra_biquad_coeffs *out, ra_diag *diag)
{
	ra_status st = RA_OK;
	int i;

	if (!eq || eq->count < 0 || eq->count > RA_EQ_MAX_BANDS || (!out && eq->count > 0)) {
		ra_diag_set(diag, "no eq to design");
		return RA_ERR_INVALID;
	}
	for (i = 0; i < eq->count; i++) {
		ra_diag why = { "" };

		st = ra_biquad_design(&eq->bands[i].spec, sample_rate, &out[i], &why);
		if (st != RA_OK) {
			ra_diag_set(diag, "band %d '%s': %s", i + 1, eq->bands[i].label, why.text);
			break;
		}
	}
	return st;
}

double ra_eq_response_db(const ra_biquad_coeffs *c, int count, double freq, double sample_rate)
{
	double db = 0.0;
	int i;

	for (i = 0; i < count; i++)
		db += ra_biquad_magnitude_db(&c[i], freq, sample_rate);
	return db;
}

/* Scan point J of 0..RA_EQ_SCAN_POINTS: 0 Hz, then log-spaced from LO to
 * exactly NYQ. */
static double ra_scan_freq(int j, double lo, double nyq)
{
	if (j <= 0)
		return 0.0;
	if (j >= RA_EQ_SCAN_POINTS)
		return nyq;
	return lo * pow(nyq / lo, (double)(j - 1) / (RA_EQ_SCAN_POINTS - 1));
}

/* Golden-section search for the largest response in [A, B]; the response
 * there is unimodal, as A and B are the neighbours of a scan maximum. */
static double ra_refine_peak(const ra_biquad_coeffs *c, int count, double rate, double a, double b,
			     double *at)
{
	const double r = (sqrt(5.0) - 1.0) / 2.0;
	double x1 = b - r * (b - a), x2 = a + r * (b - a);
	double f1 = ra_eq_response_db(c, count, x1, rate);
	double f2 = ra_eq_response_db(c, count, x2, rate);
	int iter;

	for (iter = 0; iter < RA_EQ_REFINE_MAX_ITER; iter++) {
		if (b - a < RA_EQ_REFINE_HZ && fabs(f1 - f2) < RA_EQ_REFINE_DB)
			break;
		if (f1 < f2) {
			a = x1;
			x1 = x2;
			f1 = f2;
			x2 = a + r * (b - a);
			f2 = ra_eq_response_db(c, count, x2, rate);
		} else {
			b = x2;
			x2 = x1;
			f2 = f1;
			x1 = b - r * (b - a);
			f1 = ra_eq_response_db(c, count, x1, rate);
		}
	}
	*at = f1 < f2 ? x2 : x1;
	return f1 < f2 ? f2 : f1;
}

void ra_eq_peak_gain(const ra_biquad_coeffs *c, int count, double sample_rate, double *gain_db,
		     double *freq)
{
	/* The highest local maxima of the scan, by scan index. */
	struct {
		double db;
		int j;
	} cand[RA_EQ_SCAN_REFINE];
	double nyq = sample_rate / 2.0, lo, prev, cur, next;
	double best = 0.0, best_f = 0.0;
	int j, k;

	/* No bands (or no sensible rate): a flat 0 dB. */
	if (count <= 0 || !c || !(nyq > 0) || !isfinite(nyq))
		goto out;

	lo = fmin(1.0, nyq / 1000.0);
	for (k = 0; k < RA_EQ_SCAN_REFINE; k++) {
		cand[k].db = -INFINITY;
		cand[k].j = -1;
	}
	best = -INFINITY;
	prev = -INFINITY;
	cur = ra_eq_response_db(c, count, 0.0, sample_rate);
	for (j = 0; j <= RA_EQ_SCAN_POINTS; j++) {
		next = j < RA_EQ_SCAN_POINTS
			       ? ra_eq_response_db(c, count, ra_scan_freq(j + 1, lo, nyq),
						   sample_rate)
			       : -INFINITY;
		if (cur > best) {
			best = cur;
			best_f = ra_scan_freq(j, lo, nyq);
		}
		if (cur >= prev && cur >= next) {
			int low = 0;

			for (k = 1; k < RA_EQ_SCAN_REFINE; k++)
				if (cand[k].db < cand[low].db)
					low = k;
			if (cur > cand[low].db) {
				cand[low].db = cur;
				cand[low].j = j;
			}
		}
		prev = cur;
		cur = next;
	}

	for (k = 0; k < RA_EQ_SCAN_REFINE; k++) {
		double at, db;

		if (cand[k].j < 0)
			continue;
		db = ra_refine_peak(c, count, sample_rate, ra_scan_freq(cand[k].j - 1, lo, nyq),
				    ra_scan_freq(cand[k].j + 1, lo, nyq), &at);
		/* Rounding noise on a flat top must not move the peak off the
		 * scan's 0 Hz or Nyquist. */
		if (db > best + RA_EQ_PEAK_TIE_DB) {
			best = db;
			best_f = at;
		}
	}

out:
	if (gain_db)
		*gain_db = best;
	if (freq)
		*freq = best_f;
}
