/* Passwords for secret keys: from the terminal (no echo), a file
 * descriptor, or an environment variable named on the command line --
 * never from the command line itself (ps would show it).  Kept in
 * libsodium guarded memory, wiped when freed. */
#ifndef CRYO_PASSWORD_H
#define CRYO_PASSWORD_H

#include <stdbool.h>
#include "cryo/error.h"
#include "cryo/minisign.h"

#define CRYO_PASSWORD_MAX 1024

struct cryo_password_source {
	int fd;              /* >= 0: read one line from it */
	const char *env;     /* environment variable name */
};

/* The two options every tool that reads a secret key takes; put these in
 * its getopt_long table, and hand each option to cryo_password_option. */
#define CRYO_PASSWORD_LONGOPTS \
	{ "password-fd", required_argument, NULL, 'F' }, { "password-env", required_argument, NULL, 'E' }
/* -1: not a password option; 0: taken; else a usage error's exit code
 * (reported).  Also checks they are not both given. */
int cryo_password_option(int c, const char *arg, struct cryo_password_source *src);

/* confirm: ask twice on a terminal (a new key's password). */
int cryo_password_read(const struct cryo_password_source *src, const char *prompt, bool confirm,
		       char **out, struct cryo_error *err);
void cryo_password_free(char *pw);
/* A secret key file, asking for its password (from src) only when it is
 * encrypted. */
int cryo_seckey_load(const char *path, const struct cryo_password_source *src, struct cryo_seckey **sk,
		     struct cryo_error *err);

#endif
