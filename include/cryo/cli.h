/* What every tool's main() shares: messages to stderr with the program
 * name, verbosity, usage errors, --version, and checking stdout at exit. */
#ifndef CRYO_CLI_H
#define CRYO_CLI_H

#include <stdbool.h>
#include "cryo/error.h"

extern const char *cryo_progname;
extern int cryo_verbosity; /* -1 quiet, 0 normal, 1+ verbose */

void cryo_cli_init(const char *progname);
void cryo_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cryo_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cryo_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "prog: msg" for an error and return its exit code. */
int cryo_report_error(const struct cryo_error *err);
/* Print "prog: msg\nTry 'prog --help' for more information." and return 64. */
int cryo_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cryo_print_version(void);
/* Flush and check stdout; exit code to use when it failed (74), else rc. */
int cryo_close_stdout(int rc);
/* Refuse when not root, with a clear message (77). */
int cryo_require_root(struct cryo_error *err);

#endif
