/* cryo-hook's policy: which alerts get which response.  JSON, documented
 * in docs/deploy.md and cryo-hook(1):
 *
 *   { "debounce_seconds": 600, "max_concurrent": 2, "max_queue": 1024,
 *     "rules": [ { "name": "...",
 *                  "match": { "rule": "GLOB" | ["GLOB", ...],
 *                             "priority": "Critical",      (this or more severe)
 *                             "source": "syscall",
 *                             "tags": ["T", ...],           (all of them)
 *                             "fields": { "k8s.ns.name": "GLOB", ... } },
 *                  "actions": [ "freeze", "cut", "capture", "seal", "kill",
 *                               { "cut": { "mode": "quarantine" } },
 *                               { "capture": { "memory": false, "merged": true } },
 *                               { "notify": { "command": ["/path", "arg"],
 *                                             "timeout_seconds": 30 } } ],
 *                  "then": "keep" | "thaw",
 *                  "dry_run": false } ] }
 *
 * The first rule that matches decides; no rule matching means the alert is
 * only journaled.  Unknown keys are errors: a typo in a security policy
 * must not silently turn a response off. */
#ifndef CRYO_POLICY_H
#define CRYO_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include "cryo/alert.h"
#include "cryo/error.h"

enum {
	CRYO_ACT_FREEZE = 1 << 0,
	CRYO_ACT_CUT = 1 << 1,
	CRYO_ACT_CAPTURE = 1 << 2,
	CRYO_ACT_SEAL = 1 << 3,
	CRYO_ACT_KILL = 1 << 4,
	CRYO_ACT_NOTIFY = 1 << 5,
};
/* actions that need the container frozen first */
#define CRYO_ACT_CONTAIN (CRYO_ACT_FREEZE | CRYO_ACT_CUT | CRYO_ACT_CAPTURE | CRYO_ACT_SEAL | CRYO_ACT_KILL)

#define CRYO_POLICY_MAX_RULES 256
#define CRYO_POLICY_MAX_LIST 32

struct cryo_policy_field {
	char *key, *pattern;
};

struct cryo_policy_rule {
	char *name;
	char *rules[CRYO_POLICY_MAX_LIST];       /* fnmatch(3) on the alert's rule; none: any */
	size_t nrules;
	enum cryo_priority priority;             /* this or more severe; UNKNOWN: any */
	char *source;                            /* NULL: any */
	char *tags[CRYO_POLICY_MAX_LIST];
	size_t ntags;
	struct cryo_policy_field fields[CRYO_POLICY_MAX_LIST];
	size_t nfields;
	unsigned actions;
	bool memory, merged, quarantine, thaw, dry_run;
	char *notify[CRYO_POLICY_MAX_LIST + 1];  /* argv, NULL-terminated */
	int notify_timeout;                      /* seconds */
};

struct cryo_policy {
	struct cryo_policy_rule *rules;
	size_t n;
	int debounce_seconds, max_concurrent, max_queue;
	char origin[256];                        /* the file, or "built-in" */
};

/* The built-in policy: Critical and above get the full response (freeze,
 * cut, capture, seal; kept contained); everything else is journaled. */
int cryo_policy_default(struct cryo_policy *p, struct cryo_error *err);
int cryo_policy_parse(const char *text, size_t len, struct cryo_policy *p, struct cryo_error *err);
int cryo_policy_load(const char *path, struct cryo_policy *p, struct cryo_error *err);
void cryo_policy_free(struct cryo_policy *p);

/* The first rule matching a, or NULL. */
const struct cryo_policy_rule *cryo_policy_match(const struct cryo_policy *p, const struct cryo_alert *a);
/* "freeze,cut,capture,seal" */
void cryo_policy_actions_text(unsigned actions, char *buf, size_t size);

#endif
