/* What every tool's main() shares: messages to stderr with the program
 * name, verbosity, usage errors, --version, and checking stdout at exit. */
#ifndef CRYO_CLI_H
#define CRYO_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <getopt.h>
#include "cryo/error.h"

extern const char *cryo_progname;
extern int cryo_verbosity; /* -1 quiet, 0 normal, 1+ verbose */

void cryo_cli_init(const char *progname);

/* The options every tool takes, for its getopt_long table and optstring. */
#define CRYO_COMMON_LONGOPTS                                                        \
	{ "json", no_argument, NULL, 'j' }, { "quiet", no_argument, NULL, 'q' },    \
		{ "verbose", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' }, \
		{ "version", no_argument, NULL, 'V' }
#define CRYO_COMMON_SHORTOPTS "jqvhV"
enum cryo_cli_opt { CRYO_OPT_UNKNOWN = -1, CRYO_OPT_HANDLED = 0, CRYO_OPT_EXIT = 1 };
/* Handle one of the common options: -j sets *json, -q/-v the verbosity,
 * -h prints usage to stdout and -V the version (both CRYO_OPT_EXIT: the
 * tool exits 0).  Anything else is CRYO_OPT_UNKNOWN. */
enum cryo_cli_opt cryo_cli_common_option(int c, bool *json, void (*usage)(FILE *));
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
