/* Parsers for the /proc files of a process.  Their content is shaped by
 * the process (its name, its command line, the paths it maps, the names of
 * its memfds): every parser is bounded, never trusts a length, and is
 * fuzzed (tests/fuzz/fuzz_procfs.c). */
#ifndef CRYO_PROCFS_H
#define CRYO_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* One mapping, from /proc/PID/smaps (or maps: then no sizes or flags). */
struct cryo_vma {
	uint64_t start, end, offset, inode;
	char perms[5];        /* "rwxp" */
	char dev[16];         /* "fd:01" */
	char *path;           /* NULL for an anonymous mapping; points into the parsed text */
	uint64_t rss_kb, swap_kb, anon_kb;
	bool has_sizes;       /* Rss/Swap were in the text */
	/* VmFlags (smaps only) */
	bool dd;              /* "dd": do not dump (MADV_DONTDUMP) */
	bool io, pfnmap;      /* "io", "pf": device memory, never read */
	bool uffd;            /* "um", "ui", "uw": userfaultfd-registered */
};
struct cryo_vmas {
	struct cryo_vma *v;
	size_t n, cap;
};
#define CRYO_VMAS_MAX (1u << 20)

/* Parse maps or smaps text in place (paths are cut out of it, so text must
 * outlive vmas).  -1 on a malformed header line or more than
 * CRYO_VMAS_MAX mappings. */
int cryo_vmas_parse(char *text, struct cryo_vmas *vmas);
void cryo_vmas_free(struct cryo_vmas *vmas);

/* What a mapping is. */
enum cryo_vma_kind {
	CRYO_VMA_ANON,     /* private anonymous: [heap], [stack], [anon:...], none; and [vdso] */
	CRYO_VMA_FILE,     /* a file on a file system */
	CRYO_VMA_SHMEM,    /* shared memory: /dev/shm, memfd, SysV, shared anonymous, [anon_shmem:] */
	CRYO_VMA_SPECIAL,  /* [vvar], [vsyscall] and other kernel mappings, secretmem: never read */
};
enum cryo_vma_kind cryo_vma_kind(const struct cryo_vma *m);

/* The lines "Key:\tvalue" of /proc/PID/status: the value of key (up to the
 * end of its line, copied into buf), or NULL. */
const char *cryo_status_field(const char *status, const char *key, char *buf, size_t size);

/* NUL-separated strings (cmdline, environ) as a JSON array of strings;
 * invalid UTF-8 is kept byte for byte (cryo's JSON escapes it as \xHH).
 * At most max_items; a last string without NUL is kept too. */
cJSON *cryo_nul_list_json(const char *data, size_t len, size_t max_items);

/* /proc/PID/limits as [{name, soft, hard, units}] ("unlimited" kept as is). */
cJSON *cryo_limits_json(const char *text);

/* uid_map / gid_map as [[inside, outside, count], ...]. */
cJSON *cryo_idmap_json(const char *text);

/* /proc/PID/fdinfo/N: pos, flags (octal text), mnt_id, ino. */
struct cryo_fdinfo {
	uint64_t pos, mnt_id, ino;
	unsigned flags;
	bool has_pos, has_flags;
};
int cryo_fdinfo_parse(const char *text, struct cryo_fdinfo *fi);
/* open(2) flags as names: "O_RDWR|O_APPEND|O_CLOEXEC" (buf >= 128). */
void cryo_open_flags_text(unsigned flags, char *buf, size_t size);

#endif
