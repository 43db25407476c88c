/* cryo-key: generate or show signing keys in minisign's formats. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cryo/cleanup.h"
#include "cryo/cli.h"
#include "cryo/minisign.h"
#include "cryo/output.h"
#include "cryo/password.h"
#include "cryo/util.h"

struct options {
	const char *verb, *pub, *sec, *comment, *file;
	bool unencrypted, force, json;
	struct cryo_password_source pw;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: cryo-key generate -p KEY.pub -s KEY.sec [-W] [-c COMMENT] [-f]\n"
		"       cryo-key show KEY.pub|KEY.sec\n\n"
		"Signing keys in minisign's formats: keys from `minisign -G` work with\n"
		"cryo, and cryo's keys work with minisign -S / -V.  The secret key is\n"
		"encrypted with a password through scrypt, as minisign does, unless -W.\n\n"
		"Options:\n"
		"  -p, --public FILE      public key to write\n"
		"  -s, --secret FILE      secret key to write (mode 0600)\n"
		"  -W, --unencrypted      no password on the secret key\n"
		"  -c, --comment TEXT     untrusted comment in the secret key file\n"
		"  -f, --force            replace existing key files\n"
		"      --password-fd N    read the password from file descriptor N\n"
		"      --password-env V   read it from environment variable V\n"
		"                         (otherwise it is asked on the terminal, twice;\n"
		"                         never on the command line)\n"
		"  -j, --json             result as JSON\n"
		"  -q, -v, -h, -V         quiet, verbose, help, version\n\n"
		"Exit status: 0 ok; 1 wrong password or corrupt key; 64 usage (or an\n"
		"existing key file without -f); 65 not a minisign key; 71 system call\n"
		"failed; 74 I/O error (docs/exit-codes.md).\n");
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "public", required_argument, NULL, 'p' },  { "secret", required_argument, NULL, 's' },
		{ "unencrypted", no_argument, NULL, 'W' },   { "comment", required_argument, NULL, 'c' },
		{ "force", no_argument, NULL, 'f' },         CRYO_PASSWORD_LONGOPTS,
		CRYO_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	o->pw.fd = -1;
	int c, rc;
	while ((c = getopt_long(argc, argv, "p:s:Wc:f" CRYO_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 'p': o->pub = optarg; break;
		case 's': o->sec = optarg; break;
		case 'W': o->unencrypted = true; break;
		case 'c': o->comment = optarg; break;
		case 'f': o->force = true; break;
		default:
			if ((rc = cryo_password_option(c, optarg, &o->pw)) >= 0 && rc != 0)
				return rc;
			if (rc < 0 && (rc = cryo_cli_common_option(c, &o->json, usage)) >= 0)
				return rc;
		}
	}
	if (optind >= argc)
		return cryo_usage_error("no verb (generate or show)");
	o->verb = argv[optind++];
	if (!strcmp(o->verb, "generate")) {
		if (!o->pub || !o->sec || optind != argc)
			return cryo_usage_error("generate needs -p KEY.pub and -s KEY.sec, and nothing else");
	} else if (!strcmp(o->verb, "show")) {
		if (optind + 1 != argc)
			return cryo_usage_error("show takes one key file");
		o->file = argv[optind];
	} else {
		return cryo_usage_error("unknown verb '%s' (generate or show)", o->verb);
	}
	return -1;
}

/* A key file, created exclusively (or replacing one with -f, atomically). */
static int write_key(const char *path, const char *text, mode_t mode, bool force, struct cryo_error *err)
{
	cleanup_free char *dir = strdup(path);
	if (!dir)
		return cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "path");
	char *slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : path;
	if (slash)
		*slash = '\0';
	cleanup_close int dfd = open(slash ? (dir[0] ? dir : "/") : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return cryo_error_sys(err, "open directory of %s", path);
	int rc = force ? cryo_write_file_atomic_at(dfd, base, text, strlen(text), mode, err)
		       : cryo_write_file_new_at(dfd, base, text, strlen(text), mode, err);
	if (rc < 0 && err->errnum == EEXIST)
		err->exit = CRYO_EXIT_USAGE;
	return rc;
}

static int do_generate(const struct options *o)
{
	struct cryo_error err = { 0 };
	struct stat st;
	if (!o->force && (lstat(o->pub, &st) == 0 || lstat(o->sec, &st) == 0))
		return cryo_usage_error("%s exists; use -f to replace it", lstat(o->pub, &st) == 0 ? o->pub : o->sec);
	char *pw = NULL;
	if (!o->unencrypted &&
	    cryo_password_read(&o->pw, "Password for the new secret key: ", true, &pw, &err) < 0)
		return cryo_report_error(&err);
	struct cryo_pubkey pk;
	struct cryo_seckey *sk = NULL;
	cleanup_free char *sec = NULL, *pub = NULL;
	int rc = 0;
	if (cryo_key_generate(&pk, &sk, &err) < 0) {
		rc = cryo_report_error(&err);
		goto out;
	}
	if (!o->unencrypted)
		cryo_info("deriving the key encryption key (scrypt, 1 GiB, a few seconds)");
	sec = cryo_seckey_encode(sk, pw, o->comment, &err);
	pub = cryo_pubkey_encode(&pk, NULL);
	if (!sec || !pub) {
		rc = cryo_report_error(&err);
		goto out;
	}
	/* the secret key first: a public key without its secret is useless */
	if (write_key(o->sec, sec, 0600, o->force, &err) < 0 ||
	    write_key(o->pub, pub, 0644, o->force, &err) < 0) {
		rc = cryo_report_error(&err);
		goto out;
	}
	char id[CRYO_KEYID_HEX];
	cryo_keyid(pk.keynum, id);
	if (o->json) {
		cleanup_cjson cJSON *j = cJSON_CreateObject();
		cryo_json_str(j, "key_id", id);
		cryo_json_str(j, "public", o->pub);
		cryo_json_str(j, "secret", o->sec);
		cryo_json_bool(j, "encrypted", !o->unencrypted);
		cryo_print_json(stdout, j);
	} else {
		printf("key id %s\npublic key: %s\nsecret key: %s%s\n", id, o->pub, o->sec,
		       o->unencrypted ? " (NOT encrypted)" : "");
	}
out:
	cryo_seckey_free(sk);
	cryo_password_free(pw);
	return rc;
}

static int do_show(const struct options *o)
{
	struct cryo_error err = { 0 };
	cleanup_free char *text = NULL;
	size_t len;
	if (cryo_read_file_at(AT_FDCWD, o->file, 8192, false, &text, &len, &err) < 0)
		return cryo_report_error(&err);
	struct cryo_pubkey pk;
	const char *kind = "public";
	bool encrypted = false;
	if (cryo_pubkey_parse(text, len, &pk, &err) < 0) {
		int enc = cryo_seckey_is_encrypted(text, len, &err);
		if (enc < 0)
			return cryo_report_error(&err);
		encrypted = enc;
		struct cryo_seckey *sk = NULL;
		if (cryo_seckey_load(o->file, &o->pw, &sk, &err) < 0)
			return cryo_report_error(&err);
		cryo_seckey_public(sk, &pk);
		cryo_seckey_free(sk);
		kind = "secret";
	}
	char id[CRYO_KEYID_HEX];
	cryo_keyid(pk.keynum, id);
	if (o->json) {
		cleanup_cjson cJSON *j = cJSON_CreateObject();
		cryo_json_str(j, "key_id", id);
		cryo_json_str(j, "kind", kind);
		cryo_json_bool(j, "encrypted", encrypted);
		cleanup_free char *pub = cryo_pubkey_encode(&pk, NULL);
		char *line = pub ? strchr(pub, '\n') + 1 : NULL;
		if (line && strchr(line, '\n'))
			*strchr(line, '\n') = '\0';
		cryo_json_str(j, "public_key", line);
		cryo_print_json(stdout, j);
	} else {
		printf("%s\n", id);
	}
	return 0;
}

int main(int argc, char **argv)
{
	cryo_cli_init(argv[0]);
	struct options o = { 0 };
	int rc = parse(argc, argv, &o);
	if (rc >= 0)
		return cryo_close_stdout(rc);
	return cryo_close_stdout(!strcmp(o.verb, "generate") ? do_generate(&o) : do_show(&o));
}
