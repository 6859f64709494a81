/* The command line's messages: one line each on standard error, whatever
 * bytes the names in them hold. */
#ifndef RUSTYAUDIO_CLI_SAY_H
#define RUSTYAUDIO_CLI_SAY_H

#include <stdarg.h>

/* "rusty-audio: [KIND: ][PATH: ]MESSAGE" and a newline on standard error:
 * PATH quoted as Git quotes a path with control bytes (ra_quote()), and
 * the control bytes of MESSAGE (a reason that names another path)
 * escaped. KIND ("warning", "note") and PATH may be NULL. */
void cli_say(const char *kind, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cli_vsay(const char *kind, const char *path, const char *fmt, va_list ap);

/* Out of memory: one line, and exit. */
__attribute__((noreturn)) void cli_die_nomem(void);

/* PATH as messages show it, for a line of one's own; caller frees. */
char *cli_quote(const char *path);

#endif
