#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cryo/cli.h"
#include "cryo/output.h"
#include "cryo/util.h"

const char *cryo_progname = "cryo";
int cryo_verbosity = 0;

void cryo_cli_init(const char *progname)
{
	const char *slash = strrchr(progname, '/');
	cryo_progname = slash ? slash + 1 : progname;
}

__attribute__((format(printf, 2, 0)))
/* Every message may carry names a container chose (links, files,
 * processes): control characters never reach the responder's terminal. */
static void vmsg(const char *level, const char *fmt, va_list ap)
{
	char buf[4096];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	cryo_text_sanitize(buf);
	fprintf(stderr, "%s: %s%s\n", cryo_progname, level, buf);
}

void cryo_warn(const char *fmt, ...)
{
	if (cryo_verbosity < 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

void cryo_info(const char *fmt, ...)
{
	if (cryo_verbosity < 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void cryo_debug(const char *fmt, ...)
{
	if (cryo_verbosity < 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	vmsg("debug: ", fmt, ap);
	va_end(ap);
}

int cryo_report_error(const struct cryo_error *err)
{
	char buf[sizeof(err->msg)];
	fprintf(stderr, "%s: %s\n", cryo_progname,
		err->msg[0] ? cryo_text_safe(err->msg, buf, sizeof(buf)) : "unknown error");
	return err->exit ? (int)err->exit : CRYO_EXIT_SOFTWARE;
}

int cryo_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", cryo_progname);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", cryo_progname);
	return CRYO_EXIT_USAGE;
}

void cryo_print_version(void)
{
	printf("%s (cryo) %s\n", cryo_progname, CRYO_VERSION);
}

int cryo_close_stdout(int rc)
{
	/* util-linux close_stdout: a full disk or closed pipe must not pass
	 * silently for a tool whose output is evidence. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			fprintf(stderr, "%s: write error on standard output: %s\n", cryo_progname,
				strerror(errno));
		return rc ? rc : CRYO_EXIT_IOERR;
	}
	return rc;
}

int cryo_require_root(struct cryo_error *err)
{
	if (geteuid() != 0)
		return cryo_error_set(err, CRYO_EXIT_NOPERM, 0,
				      "must run as root (cgroups, /proc of other users, namespaces)");
	return 0;
}

int cryo_cli_common_option(int c, bool *json, void (*usage)(FILE *))
{
	switch (c) {
	case 'j':
		*json = true;
		return -1;
	case 'q':
		cryo_verbosity = -1;
		return -1;
	case 'v':
		cryo_verbosity++;
		return -1;
	case 'h':
		usage(stdout);
		return 0;
	case 'V':
		cryo_print_version();
		return 0;
	default:
		return cryo_usage_error("invalid option");
	}
}

static void on_interrupt(int sig)
{
	(void)sig;
	cryo_interrupted = 1;
}

void cryo_catch_interrupts(void)
{
	/* no SA_RESTART: a blocking read returns EINTR and the loop sees it */
	struct sigaction sa = { .sa_handler = on_interrupt };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}
