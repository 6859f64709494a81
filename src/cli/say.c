/* Messages on standard error, a line each: names quoted, reasons escaped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rustyaudio/status.h"
#include "options.h"
#include "say.h"

void cli_die_nomem(void)
{
	fputs("rusty-audio: out of memory\n", stderr);
	exit(EXIT_SOME_FAILED);
}

/* S through ra_quote() (BARE: escapes alone) into a new string. */
static char *quoted(const char *s, int bare)
{
	size_t size = RA_QUOTE_SIZE(strlen(s));
	char *q = malloc(size);

	if (!q)
		cli_die_nomem();
	ra_quote(s, bare, q, size);
	return q;
}

char *cli_quote(const char *path)
{
	return quoted(path, 0);
}

void cli_vsay(const char *kind, const char *path, const char *fmt, va_list ap)
{
	char *text = NULL, *body, *name = path ? quoted(path, 0) : NULL;

	if (vasprintf(&text, fmt, ap) < 0)
		cli_die_nomem();
	body = quoted(text, 1);
	fprintf(stderr, "rusty-audio: %s%s%s%s%s\n", kind ? kind : "", kind ? ": " : "",
		name ? name : "", name ? ": " : "", body);
	free(body);
	free(text);
	free(name);
}

void cli_say(const char *kind, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vsay(kind, path, fmt, ap);
	va_end(ap);
}
