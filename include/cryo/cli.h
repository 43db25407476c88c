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
/* Handle one of the common options: -j sets *json, -q/-v the verbosity.
 * Returns -1 to go on parsing, or the exit code to return at once: 0 after
 * printing usage (-h, to stdout) or the version (-V), 64 after a usage
 * error for an option that is not one of them. */
int cryo_cli_common_option(int c, bool *json, void (*usage)(FILE *));
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
/* SIGINT, SIGTERM and SIGHUP set cryo_interrupted instead of killing: for
 * tools that must remove what they half wrote. */
void cryo_catch_interrupts(void);

#endif
