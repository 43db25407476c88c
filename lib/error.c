#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cryo/error.h"

enum cryo_exit cryo_exit_from_errno(int errnum)
{
	switch (errnum) {
	case 0:
		return CRYO_EXIT_SOFTWARE;
	case EACCES:
	case EPERM:
		return CRYO_EXIT_NOPERM;
	case ENOENT:
	case ESRCH:
		return CRYO_EXIT_NOTFOUND;
	case EIO:
	case ENOSPC:
	case EDQUOT:
	case EROFS:
		return CRYO_EXIT_IOERR;
	case ETIMEDOUT:
		return CRYO_EXIT_TIMEOUT;
	default:
		return CRYO_EXIT_OSERR;
	}
}

__attribute__((format(printf, 4, 0)))
static int vset(struct cryo_error *err, enum cryo_exit exit, int errnum, const char *fmt,
		va_list ap)
{
	if (!err)
		return -1;
	err->errnum = errnum;
	err->exit = exit;
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (n < 0)
		n = 0;
	if (errnum && (size_t)n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", strerror(errnum));
	return -1;
}

int cryo_error_set(struct cryo_error *err, enum cryo_exit exit, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset(err, exit, errnum, fmt, ap);
	va_end(ap);
	return -1;
}

int cryo_error_sys(struct cryo_error *err, const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	vset(err, cryo_exit_from_errno(e), e, fmt, ap);
	va_end(ap);
	errno = e;
	return -1;
}

int cryo_error_wrap(struct cryo_error *err, const char *fmt, ...)
{
	if (!err)
		return -1;
	char prefix[1024], old[sizeof(err->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
	return -1;
}

void cryo_error_clear(struct cryo_error *err)
{
	if (err) {
		err->errnum = 0;
		err->exit = CRYO_EXIT_OK;
		err->msg[0] = '\0';
	}
}
