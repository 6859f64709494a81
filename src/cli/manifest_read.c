/* --resume: a manifest read back into the last entry of each input. Each
 * line is a JSON object; only the members resuming needs are kept, nested
 * values are passed over, and a line that does not parse is dropped. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "manifest.h"
#include "say.h"

struct manifest_index {
	manifest_entry *slots; /* open addressing; input NULL: empty */
	size_t cap, count;
};

/* ---- one line ---- */

typedef struct cursor {
	const char *p;
	int bad;
} cursor;

static void skip_space(cursor *c)
{
	while (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n')
		c->p++;
}

static int take(cursor *c, char ch)
{
	skip_space(c);
	if (*c->p != ch)
		return 0;
	c->p++;
	return 1;
}

/* Four hex digits at P, or -1. */
static long hex4(const char *p)
{
	char digits[5] = { 0 };
	char *end;
	long v;

	memcpy(digits, p, 4);
	v = strtol(digits, &end, 16);
	return end == digits + 4 && strspn(digits, "0123456789abcdefABCDEF") == 4 ? v : -1;
}

/* Code point U as UTF-8 at OUT; the bytes written. */
static size_t put_utf8(unsigned long u, char *out)
{
	if (u < 0x80) {
		out[0] = (char)u;
		return 1;
	}
	if (u < 0x800) {
		out[0] = (char)(0xc0 | u >> 6);
		out[1] = (char)(0x80 | (u & 0x3f));
		return 2;
	}
	if (u < 0x10000) {
		out[0] = (char)(0xe0 | u >> 12);
		out[1] = (char)(0x80 | (u >> 6 & 0x3f));
		out[2] = (char)(0x80 | (u & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | u >> 18);
	out[1] = (char)(0x80 | (u >> 12 & 0x3f));
	out[2] = (char)(0x80 | (u >> 6 & 0x3f));
	out[3] = (char)(0x80 | (u & 0x3f));
	return 4;
}

/* A \uXXXX escape (a surrogate pair as one) at C, past the backslash and
 * the 'u', into OUT; the bytes written, 0 when malformed. */
static size_t unicode_escape(cursor *c, char *out)
{
	long hi = hex4(c->p), lo;

	if (hi < 0)
		return 0;
	c->p += 4;
	if (hi < 0xd800 || hi > 0xdfff)
		return put_utf8((unsigned long)hi, out);
	if (hi > 0xdbff || c->p[0] != '\\' || c->p[1] != 'u' || (lo = hex4(c->p + 2)) < 0xdc00 ||
	    lo > 0xdfff)
		return 0;
	c->p += 6;
	return put_utf8(
		0x10000 + ((unsigned long)(hi - 0xd800) << 10) + (unsigned long)(lo - 0xdc00), out);
}

/* A JSON string at C, decoded into a new string (NULL and C->bad when
 * malformed or out of memory). */
static char *take_string(cursor *c)
{
	static const char plain[] = "\"\\/\b\f\n\r\t", escaped[] = "\"\\/bfnrt";
	char *out, *o;

	if (!take(c, '"') || !(out = o = malloc(strlen(c->p) + 1))) {
		c->bad = 1;
		return NULL;
	}
	while (*c->p && *c->p != '"') {
		const char *e;

		if (*c->p != '\\') {
			*o++ = *c->p++;
		} else if (c->p[1] == 'u') {
			size_t n;

			c->p += 2;
			if (!(n = unicode_escape(c, o)))
				break;
			o += n;
		} else if (c->p[1] && (e = strchr(escaped, c->p[1]))) {
			*o++ = plain[e - escaped];
			c->p += 2;
		} else {
			break;
		}
	}
	*o = '\0';
	if (*c->p != '"') {
		free(out);
		c->bad = 1;
		return NULL;
	}
	c->p++;
	return out;
}

/* Past any JSON value at C: a scalar, a string, or an object or array
 * with what it holds. */
static void skip_value(cursor *c)
{
	int depth = 0;

	skip_space(c);
	while (!c->bad && *c->p && !(depth == 0 && strchr(",}]", *c->p))) {
		if (*c->p == '"') {
			free(take_string(c));
			continue;
		}
		if (*c->p == '{' || *c->p == '[')
			depth++;
		else if (*c->p == '}' || *c->p == ']')
			depth--;
		c->p++;
	}
	c->bad |= depth != 0;
}

/* Bytes from 2N hex digits in HEX, as a new string; NULL when not such. */
static char *from_hex(const char *hex)
{
	size_t len = strlen(hex);
	char *out = len % 2 == 0 ? malloc(len / 2 + 1) : NULL;

	for (size_t i = 0; out && i < len / 2; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1 ||
		    !strchr("0123456789abcdef", hex[2 * i]) ||
		    !strchr("0123456789abcdef", hex[2 * i + 1]) || v == 0) {
			free(out);
			return NULL;
		}
		out[i] = (char)v;
	}
	if (out)
		out[len / 2] = '\0';
	return out;
}

/* The members of a line that resuming reads, as text (NULL: absent or
 * not a string), in the order of FIELD_NAMES. */
enum { F_INPUT, F_INPUT_HEX, F_OUTPUT, F_OUTPUT_HEX, F_STATUS, F_SETTINGS, F_HASH, F_COUNT };
static const char *const field_names[F_COUNT] = { "input",  "input_hex", "output",     "output_hex",
						  "status", "settings",	 "output_hash" };

/* The members that are counts, in the order of COUNT_NAMES. */
enum { N_INPUT_SIZE, N_INPUT_MTIME, N_OUTPUT_SIZE, N_COUNT };
static const char *const count_names[N_COUNT] = { "input_size", "input_mtime_ns", "output_size" };

typedef struct line_fields {
	char *text[F_COUNT];
	long long count[N_COUNT]; /* -1: absent or null */
} line_fields;

/* One member at C, its key already read: into F when it is one of the
 * fields, else passed over. */
static void take_member(cursor *c, const char *key, line_fields *f)
{
	skip_space(c);
	for (int k = 0; k < F_COUNT; k++)
		if (!strcmp(key, field_names[k]) && *c->p == '"') {
			free(f->text[k]);
			f->text[k] = take_string(c);
			return;
		}
	for (int k = 0; k < N_COUNT; k++)
		if (!strcmp(key, count_names[k]) && sscanf(c->p, "%lld", &f->count[k]) != 1)
			f->count[k] = -1;
	skip_value(c);
}

/* LINE's fields into F; 0, or -1 when it is not a whole JSON object. */
static int parse_object(const char *line, line_fields *f)
{
	cursor c = { line, 0 };

	if (!take(&c, '{'))
		return -1;
	while (!c.bad && !take(&c, '}')) {
		char *key = take_string(&c);

		if (!c.bad && take(&c, ':'))
			take_member(&c, key, f);
		else
			c.bad = 1;
		free(key);
		if (!c.bad && !take(&c, ',') && (skip_space(&c), *c.p != '}'))
			c.bad = 1;
	}
	skip_space(&c);
	return c.bad || *c.p ? -1 : 0;
}

/* A path from its text, or from its bytes in hex when given. */
static char *path_of(line_fields *f, int text, int hex)
{
	char *path = f->text[hex] ? from_hex(f->text[hex]) : f->text[text];

	if (!f->text[hex])
		f->text[text] = NULL; /* now the entry's */
	return path;
}

/* The members of LINE resuming needs into *E; 0, or -1 when the line is
 * not such an object. */
static int parse_line(const char *line, manifest_entry *e)
{
	line_fields f = { .count = { -1, -1, -1 } };
	int ok = parse_object(line, &f) == 0 && f.text[F_INPUT] && f.text[F_STATUS] &&
		 f.text[F_SETTINGS];

	*e = (manifest_entry){ .input_size = f.count[N_INPUT_SIZE],
			       .input_mtime_ns = f.count[N_INPUT_MTIME],
			       .output_size = f.count[N_OUTPUT_SIZE] };
	if (ok) {
		e->input = path_of(&f, F_INPUT, F_INPUT_HEX);
		e->output = path_of(&f, F_OUTPUT, F_OUTPUT_HEX);
		e->status = !strcmp(f.text[F_STATUS], "done")	   ? MANIFEST_DONE
			    : !strcmp(f.text[F_STATUS], "skipped") ? MANIFEST_SKIPPED
								   : MANIFEST_FAILED;
		e->settings = strtoull(f.text[F_SETTINGS], NULL, 16);
		if (f.text[F_HASH] && strlen(f.text[F_HASH]) == MANIFEST_HASH_LEN)
			memcpy(e->output_hash, f.text[F_HASH], MANIFEST_HASH_LEN + 1);
		ok = e->input != NULL;
	}
	for (int k = 0; k < F_COUNT; k++)
		free(f.text[k]);
	if (!ok) {
		free(e->input);
		free(e->output);
		return -1;
	}
	return 0;
}

/* ---- the index ---- */

static size_t slot_of(const manifest_index *ix, const char *input)
{
	size_t i = (size_t)cli_fnv1a(CLI_FNV1A_BASIS, input, strlen(input)) & (ix->cap - 1);

	while (ix->slots[i].input && strcmp(ix->slots[i].input, input))
		i = (i + 1) & (ix->cap - 1);
	return i;
}

static void free_entry(manifest_entry *e)
{
	free(e->input);
	free(e->output);
}

/* Keep E as its input's entry (a later line wins); 0, or -1 out of memory. */
static int index_put(manifest_index *ix, manifest_entry *e)
{
	size_t i;

	if (2 * (ix->count + 1) > ix->cap) {
		manifest_index grown = { calloc(ix->cap ? 2 * ix->cap : 64, sizeof(*e)),
					 ix->cap ? 2 * ix->cap : 64, ix->count };

		if (!grown.slots)
			return -1;
		for (size_t k = 0; k < ix->cap; k++)
			if (ix->slots[k].input)
				grown.slots[slot_of(&grown, ix->slots[k].input)] = ix->slots[k];
		free(ix->slots);
		*ix = grown;
	}
	i = slot_of(ix, e->input);
	if (ix->slots[i].input)
		free_entry(&ix->slots[i]);
	else
		ix->count++;
	ix->slots[i] = *e;
	return 0;
}

/* PATH opened to read when it is a regular file: never a FIFO (whose open
 * would wait for a writer) or a device (which may never end). NULL with
 * errno, or with *OTHER set for another kind of file. */
static FILE *open_regular(const char *path, int *other)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat sb;
	FILE *f;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		*other = 1;
		close(fd);
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f)
		close(fd);
	return f;
}

manifest_index *manifest_read(const char *path)
{
	manifest_index *ix = calloc(1, sizeof(*ix));
	int other = 0;
	FILE *f = ix ? open_regular(path, &other) : NULL;
	char *line = NULL;
	size_t cap = 0;
	int err = 0;

	if (!ix || (!f && (other || errno != ENOENT))) {
		cli_say(NULL, path, "cannot read the manifest: %s",
			!ix	? strerror(ENOMEM)
			: other ? "not a regular file"
				: strerror(errno));
		free(ix);
		return NULL;
	}
	while (f && !err && getline(&line, &cap, f) >= 0) {
		manifest_entry e;

		if (parse_line(line, &e) == 0 && index_put(ix, &e) != 0) {
			free_entry(&e);
			err = ENOMEM;
		}
	}
	if (f && ferror(f))
		err = errno;
	free(line);
	if (f)
		fclose(f);
	if (err) {
		cli_say(NULL, path, "cannot read the manifest: %s", strerror(err));
		manifest_index_free(ix);
		return NULL;
	}
	return ix;
}

const manifest_entry *manifest_find(const manifest_index *ix, const char *input)
{
	size_t i;

	if (!ix || ix->cap == 0)
		return NULL;
	i = slot_of(ix, input);
	return ix->slots[i].input ? &ix->slots[i] : NULL;
}

void manifest_index_free(manifest_index *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; i < ix->cap; i++)
		if (ix->slots[i].input)
			free_entry(&ix->slots[i]);
	free(ix->slots);
	free(ix);
}
