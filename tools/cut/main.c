/* cryo-cut: cut a container off the network through rtnetlink, put it
 * back exactly as it was, or say where it stands. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cryo/case.h"
#include "cryo/cleanup.h"
#include "cryo/cli.h"
#include "cryo/cut.h"
#include "cryo/job.h"
#include "cryo/output.h"
#include "cryo/target.h"

struct options {
	enum cryo_cut_op op;
	enum cryo_cut_mode mode;
	const char *pcap;
	long pcap_max_bytes, pcap_seconds;
	bool json;
	const char *case_dir;
	const char *target;
	int argc;
	char **argv;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: cryo-cut --case DIR [OPTIONS] TARGET\n"
		"       cryo-cut --restore --case DIR [OPTIONS] TARGET\n"
		"       cryo-cut --status --case DIR [OPTIONS] TARGET\n\n"
		"Cut a container off the network: the host-side peer of each of its veth\n"
		"links is set down through rtnetlink (no ip/iptables/nft is run), which\n"
		"the container cannot undo from inside, even as root.  Links without a\n"
		"host-side peer (macvlan, ipvlan) are set down inside, with a warning.\n"
		"Before any change, the namespace's links, addresses, routes, neighbours\n"
		"and sockets (TCP, UDP, UNIX, with the pid/fd holding each) go to\n"
		"DIR/net/state-before-cut.json (never overwritten: a later cut gets\n"
		"state-before-cut.2.json), and what --restore needs (flags, bridge,\n"
		"namespace, addresses, routes) to DIR/net/cut-state.json; every action\n"
		"goes in DIR/custody.jsonl.\n\n"
		"TARGET: ID | ID-PREFIX | NAME | NS/POD/CONTAINER | pid:N[@START] | cgroup:/PATH\n\n"
		"Options:\n"
		"  -c, --case DIR   the case directory (required: the record lives there)\n"
		"  -m, --mode M     down (default): host-side peers set down; the container\n"
		"                   sees its link lose carrier.  quarantine: host-side peers\n"
		"                   moved into /run/netns/cryo-q-CASEID and kept up there with\n"
		"                   no address or route: the container keeps carrier, and\n"
		"                   nothing it sends goes anywhere\n"
		"      --pcap FILE  with quarantine: record what the container sends to FILE\n"
		"                   (pcap; written as FILE.part, renamed when the recorder\n"
		"                   stops), in a detached recorder that stops at its bounds\n"
		"                   or when --restore succeeds\n"
		"      --pcap-max-bytes N   stop at N bytes (default 67108864)\n"
		"      --pcap-seconds N     stop after N seconds (default 600)\n"
		"      --restore    put every link back as recorded; a recorded link that\n"
		"                   vanished or was renamed is left alone and reported\n"
		"      --status     compare the record with the links as they are now\n"
		"  -j, --json       result as JSON on stdout\n"
		"  -q, --quiet      no progress messages\n"
		"  -v, --verbose    more detail\n"
		"  -h, --help       this help\n"
		"  -V, --version    version\n\n"
		"A container sharing the host's network namespace is refused: cutting it\n"
		"would cut the host.  One link that cannot be handled (a peer nobody can\n"
		"reach, more than 256 links, a link that vanished) does not stop the\n"
		"others: everything possible is done, each problem is listed, exit is 2.\n\n"
		"Exit status: 0 done; 2 done as far as possible (problems listed), or not\n"
		"recorded; 3 target or a recorded namespace not found, nothing to restore;\n"
		"4 target ambiguous (a pod names several containers: name one); 5 another\n"
		"tool held the case for a minute; 64 usage; 65 record corrupt, made for\n"
		"another namespace, or no recorded link found at all; 69 host network\n"
		"namespace; 70 internal; 71 system call failed; 74 I/O error; 77 not root\n"
		"(docs/exit-codes.md).\n");
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "case", required_argument, NULL, 'c' }, { "restore", no_argument, NULL, 'R' },
		{ "mode", required_argument, NULL, 'm' }, { "pcap", required_argument, NULL, 'P' },
		{ "pcap-max-bytes", required_argument, NULL, 'B' },
		{ "pcap-seconds", required_argument, NULL, 'T' },
		{ "status", no_argument, NULL, 'S' },     CRYO_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	o->argc = argc;
	o->argv = argv;
	bool restore = false, status = false;
	o->pcap_max_bytes = 64l << 20;
	o->pcap_seconds = 600;
	int c, rc;
	while ((c = getopt_long(argc, argv, "c:m:" CRYO_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->case_dir = optarg; break;
		case 'm':
			if (!strcmp(optarg, "down"))
				o->mode = CRYO_CUT_MODE_DOWN;
			else if (!strcmp(optarg, "quarantine"))
				o->mode = CRYO_CUT_MODE_QUARANTINE;
			else
				return cryo_usage_error("--mode is down or quarantine, not '%s'", optarg);
			break;
		case 'P': o->pcap = optarg; break;
		case 'B':
			if (cryo_parse_long(optarg, 1024, 1l << 40, &o->pcap_max_bytes) < 0)
				return cryo_usage_error("--pcap-max-bytes wants 1024 to 2^40, not '%s'", optarg);
			break;
		case 'T':
			if (cryo_parse_long(optarg, 1, 7 * 86400, &o->pcap_seconds) < 0)
				return cryo_usage_error("--pcap-seconds wants 1 to 604800, not '%s'", optarg);
			break;
		case 'R': restore = true; break;
		case 'S': status = true; break;
		default:
			if ((rc = cryo_cli_common_option(c, &o->json, usage)) >= 0)
				return rc;
		}
	}
	if (restore && status)
		return cryo_usage_error("--restore and --status exclude each other");
	o->op = restore ? CRYO_CUT_RESTORE : status ? CRYO_CUT_STATUS : CRYO_CUT;
	if (!o->case_dir)
		return cryo_usage_error("--case DIR is required (the cut is recorded there)");
	if (o->pcap && (o->mode != CRYO_CUT_MODE_QUARANTINE || o->op != CRYO_CUT))
		return cryo_usage_error("--pcap goes with a cut in --mode quarantine (only there does traffic reach a link cryo holds)");
	struct stat st;
	if (o->pcap && lstat(o->pcap, &st) == 0)
		return cryo_usage_error("--pcap %s exists; cryo never overwrites evidence", o->pcap);
	if (argc - optind != 1)
		return cryo_usage_error("%s", argc - optind ? "one target at a time" : "no target given");
	o->target = argv[optind];
	return -1;
}

static const struct cryo_column status_cols[] = {
	{ "LINK", "link", 16 }, { "HOW", "how", 0 }, { "RECORDED UP", "recorded_up", 0 },
	{ "UP NOW", "up", 0 },  { "NETNS", "netns", 0 }, { "PROBLEM", "problem", 60 },
};

static int do_cut(const struct options *o)
{
	const char *action = o->op == CRYO_CUT ? "cut" : o->op == CRYO_CUT_RESTORE ? "restore" : "status";
	struct cryo_job j;
	cleanup_cjson cJSON *result = NULL;
	int rc = cryo_job_begin(&j, "cryo-cut", action, o->target, o->case_dir, o->op != CRYO_CUT_STATUS, o->argc,
				o->argv);
	if (rc == 0) {
		struct cryo_cut_request req = { .op = o->op, .mode = o->mode, .kase = &j.kase, .c = j.c,
						.roots = &j.all.roots, .entry = j.record ? &j.entry : NULL,
						.pcap_path = o->pcap, .pcap_max_bytes = (uint64_t)o->pcap_max_bytes,
						.pcap_seconds = (unsigned)o->pcap_seconds };
		if (cryo_cut_run(&req, &result, &j.err) < 0)
			rc = cryo_report_error(&j.err);
	} else if (rc == CRYO_EXIT_USAGE) {
		return rc;
	}
	char sid[130] = "";
	if (j.c)
		cryo_container_short_id(j.c, sid);
	const char *st = cryo_json_get_str(result, "state");
	struct cryo_error err = j.err;
	rc = cryo_job_end(&j, rc, st ? st : action, result);
	if (o->json) {
		if (!result)
			result = cJSON_CreateObject();
		cryo_json_num(result, "exit", rc);
		if (rc && !cJSON_GetObjectItemCaseSensitive(result, "error"))
			cryo_json_str(result, "error", err.msg);
		cryo_print_json(stdout, result);
	} else if (sid[0] && st) {
		if (o->op == CRYO_CUT_STATUS) {
			printf("%s: %s\n", sid, st);
			cryo_print_table(stdout, cJSON_GetObjectItemCaseSensitive(result, "links"), status_cols,
					 CRYO_ARRAY_SIZE(status_cols));
		} else {
			const cJSON *ms = cJSON_GetObjectItemCaseSensitive(result, "ms_to_down");
			const cJSON *n = cJSON_GetObjectItemCaseSensitive(result, "links_count");
			cryo_info("%s %s: %s, %d link(s)%s", action, sid, st, cJSON_IsNumber(n) ? (int)n->valuedouble : 0,
				  cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(result, "already")) ? " (already so)" : "");
			if (cJSON_IsNumber(ms))
				cryo_info("links cut %.3f ms after start", ms->valuedouble);
			const char *pp = cryo_json_get_str(cJSON_GetObjectItemCaseSensitive(result, "pcap"), "path");
			if (pp)
				cryo_info("recording what the container sends to %s (written when the recorder stops)", pp);
		}
	}
	return rc;
}

int main(int argc, char **argv)
{
	cryo_cli_init(argv[0]);
	struct options o = { 0 };
	int rc = parse(argc, argv, &o);
	if (rc >= 0)
		return cryo_close_stdout(rc);
	return cryo_close_stdout(do_cut(&o));
}
