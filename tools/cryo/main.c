/* cryo VERB ARGS: exec cryo-VERB found next to this binary, then on $PATH
 * (as git does).  No abbreviations: a verb is exact or unknown. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cryo/cli.h"
#include "cryo/spawn.h"
#include "cryo/cleanup.h"
#include "cryo/util.h"

static const struct {
	const char *verb, *what;
} verbs[] = {
	{ "ls", "list containers on this host, from kernel and runtime state" },
	{ "freeze", "freeze, thaw or show the freeze state of containers" },
	{ "cut", "cut, restore or show a container's network (rtnetlink)" },
	{ "fs", "snapshot a container's overlay filesystem changes" },
	{ "proc", "snapshot a container's processes: state, files, sockets, memory as ELF cores" },
	{ "pack", "seal a case directory into a signed archive" },
	{ "key", "generate or show signing keys (minisign format)" },
	{ "verify", "verify an archive's signature and members, offline" },
	{ "respond", "the whole response, in order: the main job" },
	{ "hook", "take detector alerts and run responses by policy" },
	{ "replay", "open a captured container in a sandbox without network" },
	{ "report", "HTML report and timelines from an archive" },
};

static int find_tool(const char *verb, char *path, size_t size)
{
	char dir[PATH_MAX];
	cryo_self_dir(dir, sizeof(dir));
	if (dir[0]) {
		snprintf(path, size, "%s/cryo-%s", dir, verb);
		if (access(path, X_OK) == 0)
			return 0;
	}
	const char *envpath = getenv("PATH");
	if (!envpath)
		return -1;
	cleanup_free char *copy = strdup(envpath);
	char *save = NULL;
	for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d; d = strtok_r(NULL, ":", &save)) {
		snprintf(path, size, "%s/cryo-%s", d, verb);
		if (d[0] == '/' && access(path, X_OK) == 0)
			return 0;
	}
	return -1;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: cryo VERB [ARGS...]\n"
		     "       cryo help | --help | --version\n\n"
		     "Incident response for Linux containers: freeze, cut, snapshot, seal.\n\n"
		     "Verbs:\n");
	for (size_t i = 0; i < CRYO_ARRAY_SIZE(verbs); i++) {
		char path[PATH_MAX];
		bool have = find_tool(verbs[i].verb, path, sizeof(path)) == 0;
		fprintf(out, "  %-8s %s%s\n", verbs[i].verb, verbs[i].what, have ? "" : " (not installed)");
	}
	fprintf(out, "\n'cryo VERB --help' describes a verb; man cryo-VERB has the details.\n");
}

static int run_verb(char **argv)
{
	const char *verb = argv[1];
	if (!*verb)
		return cryo_usage_error("empty verb");
	for (const char *p = verb; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || *p == '-') || strlen(verb) > 32)
			return cryo_usage_error("'%s' is not a cryo verb", verb);
	char path[PATH_MAX];
	if (find_tool(verb, path, sizeof(path)) < 0) {
		bool known = false;
		for (size_t i = 0; i < CRYO_ARRAY_SIZE(verbs); i++)
			known |= strcmp(verbs[i].verb, verb) == 0;
		if (known) {
			fprintf(stderr, "cryo: '%s' is a cryo verb but cryo-%s is not installed\n", verb, verb);
			return CRYO_EXIT_UNAVAILABLE;
		}
		return cryo_usage_error("'%s' is not a cryo verb", verb);
	}
	argv[1] = path;
	execv(path, argv + 1);
	fprintf(stderr, "cryo: cannot run %s: %s\n", path, strerror(errno));
	return CRYO_EXIT_UNAVAILABLE;
}

int main(int argc, char **argv)
{
	cryo_cli_init("cryo");
	if (argc < 2)
		return usage(stderr), CRYO_EXIT_USAGE;
	const char *verb = argv[1];
	if (!strcmp(verb, "help") || !strcmp(verb, "--help") || !strcmp(verb, "-h")) {
		if (argc > 2 && strcmp(verb, "help") == 0) {
			/* cryo help VERB is cryo VERB --help, with the same checks */
			char *args[] = { argv[0], argv[2], (char *)"--help", NULL };
			return run_verb(args);
		}
		usage(stdout);
		return cryo_close_stdout(0);
	}
	if (!strcmp(verb, "--version") || !strcmp(verb, "-V")) {
		cryo_print_version();
		return cryo_close_stdout(0);
	}
	return run_verb(argv);
}
