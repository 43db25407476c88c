/* alert.c and policy.c: Falco's alert shape as Falco and falcosidekick send
 * it (keys in any order, extra fields, the short container id, "host",
 * internal drop alerts), hostile variants, and the policy's parsing and
 * first-match decisions. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "cryo/alert.h"
#include "cryo/policy.h"

/* As Falco 0.3x prints it with json_output: true (fields reordered, extra
 * ones kept), and as falcosidekick forwards it (uuid, source "syscalls"). */
static const char falco_alert[] =
	"{\"hostname\":\"node-1\",\"output\":\"15:01:02.123: Critical Shell spawned (user=root container_id=3ad7b26ded6d)\","
	"\"output_fields\":{\"evt.time\":1795964462123456789,\"proc.pid\":4242,\"proc.cmdline\":\"sh -i\","
	"\"container.id\":\"3ad7b26ded6d\",\"container.name\":\"web\",\"container.image.repository\":\"nginx\","
	"\"k8s.ns.name\":\"prod-shop\",\"k8s.pod.name\":\"web-1\",\"user.name\":\"root\",\"fd.rport\":null},"
	"\"priority\":\"Critical\",\"rule\":\"Terminal shell in container\",\"source\":\"syscall\","
	"\"tags\":[\"container\",\"mitre_execution\",\"shell\"],\"time\":\"2026-11-29T15:01:02.123456789Z\"}";

TEST(alert_falco_shape)
{
	struct cryo_alert a;
	struct cryo_error err = { 0 };
	CHECK(cryo_alert_parse(falco_alert, strlen(falco_alert), &a, &err) == 0);
	CHECK_STR_EQ(a.rule, "Terminal shell in container");
	CHECK_INT_EQ(a.priority, CRYO_PRIO_CRITICAL);
	CHECK_STR_EQ(a.container_id, "3ad7b26ded6d");
	CHECK(a.no_container_why == NULL);
	CHECK_STR_EQ(a.hostname, "node-1");
	char buf[64];
	CHECK(cryo_alert_field(&a, "proc.pid", buf, sizeof(buf)));
	CHECK_STR_EQ(buf, "4242");
	CHECK(cryo_alert_field(&a, "k8s.ns.name", buf, sizeof(buf)));
	CHECK_STR_EQ(buf, "prod-shop");
	CHECK(!cryo_alert_field(&a, "fd.rport", buf, sizeof(buf))); /* null: absent */
	CHECK(!cryo_alert_field(&a, "no.such", buf, sizeof(buf)));
	CHECK(cryo_alert_has_tag(&a, "shell"));
	CHECK(!cryo_alert_has_tag(&a, "network"));
	cryo_alert_free(&a);

	static const char sidekick[] = "{\"uuid\":\"6b1e6f7a-1c8c-4f5e-9b1a-2b4f1d9e0c11\",\"source\":\"syscalls\","
				       "\"priority\":\"critical\",\"rule\":\"R\",\"output_fields\":{\"container.id\":"
				       "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}}";
	CHECK(cryo_alert_parse(sidekick, strlen(sidekick), &a, &err) == 0);
	CHECK_STR_EQ(a.uuid, "6b1e6f7a-1c8c-4f5e-9b1a-2b4f1d9e0c11");
	CHECK_INT_EQ(a.priority, CRYO_PRIO_CRITICAL); /* case-insensitive */
	CHECK_INT_EQ((int)strlen(a.container_id), 64);
	cryo_alert_free(&a);
}

TEST(alert_no_container)
{
	struct cryo_alert a;
	struct cryo_error err = { 0 };
	static const char host[] = "{\"rule\":\"R\",\"priority\":\"Emergency\",\"output_fields\":{\"container.id\":\"host\"}}";
	CHECK(cryo_alert_parse(host, strlen(host), &a, &err) == 0);
	CHECK_STR_EQ(a.container_id, "");
	CHECK(a.no_container_why != NULL);
	cryo_alert_free(&a);
	/* Falco's own drop alert: no container fields at all */
	static const char drop[] = "{\"output\":\"Falco internal: syscall event drop. 9 system calls dropped\","
				   "\"output_fields\":{\"n_drops\":9,\"n_evts\":1000},\"priority\":\"Debug\","
				   "\"rule\":\"Falco internal: syscall event drop\",\"time\":\"2026-11-29T15:00:00Z\"}";
	CHECK(cryo_alert_parse(drop, strlen(drop), &a, &err) == 0);
	CHECK_STR_EQ(a.container_id, "");
	CHECK_INT_EQ(a.priority, CRYO_PRIO_DEBUG);
	cryo_alert_free(&a);
	/* an id that is no id (a path, a shell word) names nothing */
	static const char bad[] = "{\"rule\":\"R\",\"output_fields\":{\"container.id\":\"../../etc\"}}";
	CHECK(cryo_alert_parse(bad, strlen(bad), &a, &err) == 0);
	CHECK_STR_EQ(a.container_id, "");
	cryo_alert_free(&a);
}

TEST(alert_rejects)
{
	struct cryo_alert a;
	struct cryo_error err = { 0 };
	static const char *const bad[] = {
		"", "not json", "[1,2]", "\"str\"", "{}", "{\"rule\":5}", "{\"rule\":\"R\",\"tags\":\"x\"}",
		"{\"rule\":\"R\",\"output_fields\":[]}", "{\"rule\":\"R\",\"priority\":{}}", "{\"rule\":\"R\"",
		"{\"rule\":\"R\"} trailing", "{\"rule\":\"R\"}{\"rule\":\"S\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		CHECK(cryo_alert_parse(bad[i], strlen(bad[i]), &a, &err) < 0);
		CHECK_INT_EQ(err.exit, CRYO_EXIT_DATAERR);
		CHECK(a.json == NULL);
	}
	static const char nul[] = "{\"rule\":\"R\"}\0{\"rule\":\"S\"}";
	CHECK(cryo_alert_parse(nul, sizeof(nul) - 1, &a, &err) < 0);
	CHECK(strstr(err.msg, "NUL") != NULL);
}

TEST(strict_json)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "{ \"a\" :\t[1, -2.5e+3, true, null, \"x\\u00e9\\n\"] }\r\n", "{\"a\":[1,-2.5e+3,true,null,\"x\\u00e9\\n\"]}" },
		{ "{\"t\":1795964462123456789}", "{\"t\":1795964462123456789}" },
		{ "{\"k\":\r{\"event\":\"forged\"}\r}", "{\"k\":{\"event\":\"forged\"}}" }, /* CR is whitespace: dropped */
		{ "\"\xc3\xa9\"", "\"\xc3\xa9\"" },
		{ "\"\\ud83d\\ude00\"", "\"\\ud83d\\ude00\"" }, /* a surrogate pair */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *o = cryo_json_strict_compact(cases[i].in, strlen(cases[i].in));
		CHECK(o != NULL);
		CHECK_STR_EQ(o, cases[i].out);
		free(o);
	}
	static const char *const bad[] = {
		"{\"a\":01}", "{\"a\":1.}", "{\"a\":-.5}", "{\"a\":\"\\uZZZZ\"}", "{\"a\":\"x\x01y\"}",
		"\xef\xbb\xbf{}", "{\"a\":\"\xff\"}", "{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xed\xa0\x80\"}", "{\x0b}",
		"{\"a\":1,}", "[1 2]", "{\"a\"}", "tru", "{} {}", "\"\\x\"", "",
		/* lone surrogates, which cJSON refuses (found by fuzz_alert) */
		"\"d\\ude9a\"", "\"\\ud83d\"", "\"\\ud83dx\"", "\"\\ud83d\\u0041\"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *o = cryo_json_strict_compact(bad[i], strlen(bad[i]));
		if (o)
			fprintf(stderr, "accepted: %s -> %s\n", bad[i], o);
		CHECK(o == NULL);
	}
	/* nesting is bounded */
	char deep[1200];
	memset(deep, '[', 600);
	memset(deep + 600, ']', 600);
	CHECK(cryo_json_strict_compact(deep, 1200) == NULL);
}

static const char policy_text[] =
	"{\"debounce_seconds\": 30, \"max_concurrent\": 3, \"rules\": ["
	" {\"name\": \"kube-system is left alone\", \"match\": {\"fields\": {\"k8s.ns.name\": \"kube-*\"}}, \"actions\": []},"
	" {\"name\": \"miners\", \"match\": {\"rule\": [\"*miner*\", \"*Miner*\"], \"priority\": \"Warning\"},"
	"  \"actions\": [\"freeze\", {\"cut\": {\"mode\": \"quarantine\"}}, {\"capture\": {\"memory\": false, \"merged\": true}},"
	"   \"seal\", \"kill\", {\"notify\": {\"command\": [\"/usr/bin/logger\", \"-t\", \"cryo\"], \"timeout_seconds\": 5}}]},"
	" {\"name\": \"shells in prod\", \"match\": {\"tags\": [\"shell\"], \"fields\": {\"k8s.ns.name\": \"prod-*\"}, \"source\": \"syscall\"},"
	"  \"actions\": [\"capture\"], \"then\": \"thaw\", \"dry_run\": true}"
	"]}";

TEST(policy_parse_and_match)
{
	struct cryo_policy p;
	struct cryo_error err = { 0 };
	CHECK(cryo_policy_parse(policy_text, strlen(policy_text), &p, &err) == 0);
	CHECK_INT_EQ((int)p.n, 3);
	CHECK_INT_EQ(p.debounce_seconds, 30);
	CHECK_INT_EQ(p.max_concurrent, 3);
	CHECK_INT_EQ(p.max_queue, 1024);
	const struct cryo_policy_rule *m = &p.rules[1];
	CHECK(m->quarantine && !m->memory && m->merged);
	CHECK_INT_EQ((int)m->actions, CRYO_ACT_FREEZE | CRYO_ACT_CUT | CRYO_ACT_CAPTURE | CRYO_ACT_SEAL | CRYO_ACT_KILL | CRYO_ACT_NOTIFY);
	CHECK_STR_EQ(m->notify[0], "/usr/bin/logger");
	CHECK(m->notify[3] == NULL);
	CHECK_INT_EQ(m->notify_timeout, 5);
	/* capture alone implies the freeze that must come first */
	CHECK_INT_EQ((int)p.rules[2].actions, CRYO_ACT_FREEZE | CRYO_ACT_CAPTURE);
	CHECK(p.rules[2].thaw && p.rules[2].dry_run);

	struct cryo_alert a;
	CHECK(cryo_alert_parse(falco_alert, strlen(falco_alert), &a, &err) == 0);
	const struct cryo_policy_rule *r = cryo_policy_match(&p, &a);
	CHECK(r == &p.rules[2]); /* shell tag, prod-shop, syscall */
	cryo_alert_free(&a);

	static const char miner[] = "{\"rule\":\"Detect crypto miners using the Stratum protocol\",\"priority\":\"Critical\","
				    "\"output_fields\":{\"container.id\":\"abc\",\"k8s.ns.name\":\"default\"}}";
	CHECK(cryo_alert_parse(miner, strlen(miner), &a, &err) == 0);
	CHECK(cryo_policy_match(&p, &a) == &p.rules[1]);
	cryo_alert_free(&a);
	/* too low a priority for the miner rule; no tag for the shell rule */
	static const char low[] = "{\"rule\":\"Detect crypto miners\",\"priority\":\"Notice\","
				  "\"output_fields\":{\"container.id\":\"abc\",\"k8s.ns.name\":\"default\"}}";
	CHECK(cryo_alert_parse(low, strlen(low), &a, &err) == 0);
	CHECK(cryo_policy_match(&p, &a) == NULL);
	cryo_alert_free(&a);
	/* the first rule wins: kube-system is journaled even for a miner */
	static const char kube[] = "{\"rule\":\"a miner\",\"priority\":\"Emergency\","
				   "\"output_fields\":{\"container.id\":\"abc\",\"k8s.ns.name\":\"kube-system\"}}";
	CHECK(cryo_alert_parse(kube, strlen(kube), &a, &err) == 0);
	CHECK(cryo_policy_match(&p, &a) == &p.rules[0]);
	CHECK_INT_EQ((int)p.rules[0].actions, 0);
	cryo_alert_free(&a);
	cryo_policy_free(&p);
}

TEST(policy_default)
{
	struct cryo_policy p;
	struct cryo_error err = { 0 };
	CHECK(cryo_policy_default(&p, &err) == 0);
	struct cryo_alert a;
	static const char crit[] = "{\"rule\":\"R\",\"priority\":\"Alert\",\"output_fields\":{\"container.id\":\"abc\"}}";
	static const char warn[] = "{\"rule\":\"R\",\"priority\":\"Error\",\"output_fields\":{\"container.id\":\"abc\"}}";
	static const char none[] = "{\"rule\":\"R\",\"output_fields\":{\"container.id\":\"abc\"}}";
	CHECK(cryo_alert_parse(crit, strlen(crit), &a, &err) == 0);
	const struct cryo_policy_rule *r = cryo_policy_match(&p, &a);
	CHECK(r && r->actions == (CRYO_ACT_FREEZE | CRYO_ACT_CUT | CRYO_ACT_CAPTURE | CRYO_ACT_SEAL) && !r->thaw);
	cryo_alert_free(&a);
	CHECK(cryo_alert_parse(warn, strlen(warn), &a, &err) == 0);
	CHECK(cryo_policy_match(&p, &a) == NULL);
	cryo_alert_free(&a);
	/* no priority: unknown, never "severe enough" */
	CHECK(cryo_alert_parse(none, strlen(none), &a, &err) == 0);
	CHECK(cryo_policy_match(&p, &a) == NULL);
	cryo_alert_free(&a);
	char t[64];
	cryo_policy_actions_text(r ? CRYO_ACT_FREEZE | CRYO_ACT_SEAL : 0, t, sizeof(t));
	CHECK_STR_EQ(t, "freeze,seal");
	cryo_policy_free(&p);
}

TEST(policy_rejects)
{
	static const char *const bad[] = {
		"{}", "[]", "{\"rules\": {}}", "{\"rules\": [], \"debounce\": 5}", /* typo of debounce_seconds */
		"{\"rules\": [{\"actions\": [\"frezee\"]}]}", "{\"rules\": [{\"match\": {\"rules\": \"x\"}, \"actions\": []}]}",
		"{\"rules\": [{\"match\": {\"priority\": \"Severe\"}, \"actions\": []}]}",
		"{\"rules\": [{\"actions\": [{\"notify\": {\"command\": [\"logger\"]}}]}]}", /* not absolute */
		"{\"rules\": [{\"actions\": [\"notify\"]}]}",
		"{\"rules\": [{\"actions\": [{\"cut\": {\"mode\": \"off\"}}]}]}",
		"{\"rules\": [{\"actions\": [\"kill\"], \"then\": \"thaw\"}]}",
		"{\"rules\": [{\"actions\": []}], \"max_concurrent\": 0}",
		"{\"rules\": [{\"actions\": [], \"then\": \"kill\"}]}",
		"{\"rules\": [{\"actions\": \"freeze\"}]}",
		"{\"rules\": [{\"actions\": [{\"freeze\": {\"fast\": true}}]}]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cryo_policy p;
		struct cryo_error err = { 0 };
		if (cryo_policy_parse(bad[i], strlen(bad[i]), &p, &err) == 0) {
			fprintf(stderr, "accepted: %s\n", bad[i]);
			CHECK(!"a bad policy was accepted");
		}
		CHECK_INT_EQ(err.exit, CRYO_EXIT_DATAERR);
		CHECK(err.msg[0]);
	}
}

static const struct check_test tests[] = {
	CHECK_TEST(alert_falco_shape), CHECK_TEST(alert_no_container), CHECK_TEST(alert_rejects), CHECK_TEST(strict_json),
	CHECK_TEST(policy_parse_and_match), CHECK_TEST(policy_default), CHECK_TEST(policy_rejects),
};

CHECK_MAIN(tests)
