/* A detector's alert (attacker-influenced: the rule fired on what the
 * attacker did) and the policy deciding on it; the first line of the input
 * may also be taken as a policy. */
#include "cryo/alert.h"
#include "cryo/policy.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_dup(data, size);
	struct cryo_error err = { 0 };
	struct cryo_policy dflt, p;
	FUZZ_CHECK(cryo_policy_default(&dflt, &err) == 0);
	/* strict JSON: what passes is one line that cJSON reads in full */
	char *strict = cryo_json_strict_compact(text, size);
	if (strict) {
		FUZZ_CHECK(!strchr(strict, '\n') && !strchr(strict, '\r') && strlen(strict) <= size);
		cJSON *v = cJSON_Parse(strict);
		FUZZ_CHECK(v != NULL);
		cJSON_Delete(v);
		free(strict);
	}
	struct cryo_alert a;
	if (cryo_alert_parse(text, size, &a, &err) == 0) {
		FUZZ_CHECK(a.raw && !strchr(a.raw, '\n'));
		FUZZ_CHECK(a.json && a.rule);
		FUZZ_CHECK_STR(a.container_id);
		FUZZ_CHECK(a.container_id[0] ? !a.no_container_why : a.no_container_why != NULL);
		FUZZ_CHECK(a.priority <= CRYO_PRIO_UNKNOWN);
		const struct cryo_policy_rule *r = cryo_policy_match(&dflt, &a);
		FUZZ_CHECK(!r || r == &dflt.rules[0]);
		char buf[64];
		cryo_alert_field(&a, "proc.cmdline", buf, sizeof(buf));
		FUZZ_CHECK_STR(buf);
		cryo_alert_free(&a);
	} else {
		FUZZ_CHECK(err.exit == CRYO_EXIT_DATAERR && a.json == NULL);
	}
	/* the same bytes as a policy */
	memset(&err, 0, sizeof(err));
	if (cryo_policy_parse(text, size, &p, &err) == 0) {
		FUZZ_CHECK(p.n <= CRYO_POLICY_MAX_RULES && p.max_concurrent >= 1);
		for (size_t i = 0; i < p.n; i++) {
			FUZZ_CHECK(p.rules[i].name && p.rules[i].nrules <= CRYO_POLICY_MAX_LIST);
			FUZZ_CHECK(!(p.rules[i].actions & CRYO_ACT_CONTAIN) || (p.rules[i].actions & CRYO_ACT_FREEZE));
			FUZZ_CHECK(!(p.rules[i].actions & CRYO_ACT_NOTIFY) || (p.rules[i].notify[0] && p.rules[i].notify[0][0] == '/'));
		}
		cryo_policy_free(&p);
	}
	cryo_policy_free(&dflt);
	free(text);
	return 0;
}
