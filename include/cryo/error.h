/* Errors in libcryo: functions return a negative value and fill a
 * struct cryo_error; callers add context with cryo_error_wrap() as the error
 * travels up.  Only a tool's top level prints and picks the exit code. */
#ifndef CRYO_ERROR_H
#define CRYO_ERROR_H

#include <stdarg.h>

/* The exit-code contract of every cryo tool (docs/exit-codes.md). */
enum cryo_exit {
	CRYO_EXIT_OK = 0,          /* done */
	CRYO_EXIT_NO = 1,          /* the answer is no (tampered evidence, bad signature) */
	CRYO_EXIT_PARTIAL = 2,     /* some of the work failed; all of it recorded */
	CRYO_EXIT_NOTFOUND = 3,    /* target does not exist (or exited) */
	CRYO_EXIT_AMBIGUOUS = 4,   /* target matches more than one container */
	CRYO_EXIT_TIMEOUT = 5,     /* requested, not completed in time; request left in force */
	CRYO_EXIT_USAGE = 64,      /* bad command line */
	CRYO_EXIT_DATAERR = 65,    /* bad input data */
	CRYO_EXIT_UNAVAILABLE = 69,/* kernel feature or runtime missing */
	CRYO_EXIT_SOFTWARE = 70,   /* internal error */
	CRYO_EXIT_OSERR = 71,      /* system call failed */
	CRYO_EXIT_IOERR = 74,      /* input/output error */
	CRYO_EXIT_TEMPFAIL = 75,   /* something else changed the same thing meanwhile: try again */
	CRYO_EXIT_NOPERM = 77,     /* not permitted (not root) */
};

struct cryo_error {
	int errnum;           /* errno when a system call is the cause, else 0 */
	enum cryo_exit exit;  /* the class of the failure, as an exit code */
	char msg[2048];
};

/* Fill err and return -1.  When errnum != 0, ": strerror(errnum)" is added. */
int cryo_error_set(struct cryo_error *err, enum cryo_exit exit, int errnum,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Shorthand for a failed system call: exit class from errno, strerror added. */
int cryo_error_sys(struct cryo_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prefix context ("while doing X: ") to an existing error; returns -1. */
int cryo_error_wrap(struct cryo_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cryo_error_clear(struct cryo_error *err);
/* Exit class suited to an errno value (EACCES -> NOPERM, ENOENT -> NOTFOUND, ...). */
enum cryo_exit cryo_exit_from_errno(int errnum);

#endif
