#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sodium.h>
#include "cryo/cleanup.h"
#include "cryo/cli.h"
#include "cryo/password.h"
#include "cryo/util.h"

void cryo_password_free(char *pw)
{
	if (pw)
		sodium_free(pw);
}

static int read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n')
			break;
		if (n + 1 >= size)
			return -1;
		buf[n++] = c;
	}
	if (n && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return 0;
}

static int from_tty(const char *prompt, char *buf, size_t size, struct cryo_error *err)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return cryo_error_set(err, CRYO_EXIT_USAGE, 0,
				      "no terminal to ask for the password: use --password-fd or --password-env");
	struct termios old, quiet;
	bool restore = tcgetattr(fd, &old) == 0;
	if (restore) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	(void)!write(fd, prompt, strlen(prompt));
	int rc = read_line(fd, buf, size);
	(void)!write(fd, "\n", 1);
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	close(fd);
	if (rc < 0)
		return cryo_error_set(err, CRYO_EXIT_USAGE, 0, "password too long");
	return 0;
}

int cryo_password_read(const struct cryo_password_source *src, const char *prompt, bool confirm,
		       char **out, struct cryo_error *err)
{
	if (sodium_init() < 0)
		return cryo_error_set(err, CRYO_EXIT_SOFTWARE, 0, "libsodium failed to initialise");
	char *pw = sodium_malloc(CRYO_PASSWORD_MAX);
	if (!pw)
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "guarded memory");
	int rc = 0;
	if (src && src->fd >= 0) {
		if (read_line(src->fd, pw, CRYO_PASSWORD_MAX) < 0)
			rc = cryo_error_set(err, CRYO_EXIT_USAGE, 0, "password from fd %d too long", src->fd);
	} else if (src && src->env) {
		const char *v = getenv(src->env);
		if (!v)
			rc = cryo_error_set(err, CRYO_EXIT_USAGE, 0, "environment variable %s is not set", src->env);
		else if (strlen(v) >= CRYO_PASSWORD_MAX)
			rc = cryo_error_set(err, CRYO_EXIT_USAGE, 0, "password in %s too long", src->env);
		else
			memcpy(pw, v, strlen(v) + 1);
	} else {
		rc = from_tty(prompt, pw, CRYO_PASSWORD_MAX, err);
		if (rc == 0 && confirm) {
			char *again = sodium_malloc(CRYO_PASSWORD_MAX);
			if (!again)
				rc = cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "guarded memory");
			else if ((rc = from_tty("Password (again): ", again, CRYO_PASSWORD_MAX, err)) == 0 &&
				 strcmp(pw, again) != 0)
				rc = cryo_error_set(err, CRYO_EXIT_USAGE, 0, "the passwords do not match");
			if (again)
				sodium_free(again);
		}
	}
	if (rc == 0 && !pw[0])
		rc = cryo_error_set(err, CRYO_EXIT_USAGE, 0, "empty password (use -W for a key without one)");
	if (rc < 0) {
		sodium_free(pw);
		return -1;
	}
	*out = pw;
	return 0;
}

int cryo_seckey_load(const char *path, const struct cryo_password_source *src, struct cryo_seckey **sk,
		     struct cryo_error *err)
{
	cleanup_free char *text = NULL;
	size_t len;
	if (cryo_read_file_at(AT_FDCWD, path, 8192, false, &text, &len, err) < 0)
		return -1;
	int enc = cryo_seckey_is_encrypted(text, len, err);
	if (enc < 0)
		return cryo_error_wrap(err, "%s", path);
	char *pw = NULL;
	if (enc && cryo_password_read(src, "Password of the secret key: ", false, &pw, err) < 0)
		return -1;
	int r = cryo_seckey_parse(text, len, pw, sk, err);
	cryo_password_free(pw);
	sodium_memzero(text, len);
	return r < 0 ? cryo_error_wrap(err, "%s", path) : 0;
}

int cryo_password_option(int c, const char *arg, struct cryo_password_source *src)
{
	long fd;
	if (c == 'F') {
		if (cryo_parse_long(arg, 0, 1 << 20, &fd) < 0)
			return cryo_usage_error("--password-fd wants a descriptor number, not '%s'", arg);
		src->fd = (int)fd;
	} else if (c == 'E') {
		src->env = arg;
	} else {
		return -1;
	}
	if (src->fd >= 0 && src->env)
		return cryo_usage_error("--password-fd and --password-env exclude each other");
	return 0;
}
