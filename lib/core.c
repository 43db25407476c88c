#include <cpuid.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>
#include "cryo/cleanup.h"
#include "cryo/core.h"
#include "cryo/output.h"
#include "cryo/procfs.h"
#include "cryo/util.h"

#define PAGE 4096u
#define MAX_THREADS 65536
#define XSTATE_MAX (64u << 10)
#define READ_CHUNK (4u << 20)
#define PAGEMAP_BATCH 65536     /* entries per read: 512 KiB */
#define MAX_HOLES 4096          /* recorded one by one; beyond, only counted */
#define STOP_TIMEOUT_MS 2000
#define MERGE_PAGES 16          /* an untouched gap this short inside anonymous memory is read */

#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define PM_FILE (1ull << 61)

struct thread {
	pid_t tid, nstid; /* on the host; in its own pid namespace */
	bool seized, stopped, regs_ok, fp_ok, exited;
	int signal; /* stopped on the way to this signal: given back at detach */
	struct user_regs_struct regs;
	struct user_fpregs_struct fp;
	unsigned char *xstate;
	size_t xlen;
	char why[160];
};

struct seg {
	uint64_t vaddr, memsz, filesz, offset;
	uint32_t flags;
	uint8_t kind; /* enum cryo_vma_kind, for the budget */
};

struct segs {
	struct seg *v;
	size_t n, cap;
};

/* --- threads --------------------------------------------------------- */

static int list_threads(int procfd, struct thread **out, size_t *n, struct cryo_error *err)
{
	int tfd = openat(procfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_closedir DIR *d = tfd >= 0 ? fdopendir(tfd) : NULL;
	if (!d) {
		if (tfd >= 0)
			close(tfd);
		return cryo_error_sys(err, "task list");
	}
	struct thread *v = NULL;
	size_t cap = 0, k = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		long tid;
		if (cryo_parse_long(de->d_name, 1, INT32_MAX, &tid) < 0)
			continue;
		if (k == MAX_THREADS || cryo_grow(&v, &cap, k, sizeof(*v), 16) < 0)
			break;
		memset(&v[k], 0, sizeof(v[k]));
		v[k++].tid = (pid_t)tid;
	}
	*out = v;
	*n = k;
	return 0;
}

static int ptrace_read_errno(const char *what, char *why, size_t size)
{
	int e = errno;
	snprintf(why, size, "%s: %s", what, strerror(e));
	return -1;
}

/* What a refused PTRACE_SEIZE means on this host: a task has one tracer
 * at most, and a process that traces itself through its parent
 * (PTRACE_TRACEME) keeps every other one out, as anti-debugging code does. */
static void explain_refusal(pid_t tid, int e, char *why, size_t size)
{
	char path[64], v[32];
	cleanup_free char *st = NULL;
	size_t slen;
	struct cryo_error ignore0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	if (e == EPERM && cryo_read_file_at(AT_FDCWD, path, 1u << 20, false, &st, &slen, &ignore0) == 0 &&
	    cryo_status_field(st, "TracerPid", v, sizeof(v)) && atoi(v) != 0) {
		snprintf(why, size, "ptrace refused: already traced by process %d (a debugger, or anti-debugging: "
			 "PTRACE_TRACEME)", atoi(v));
		return;
	}
	char scope[8] = "";
	cleanup_free char *y = NULL;
	size_t len;
	struct cryo_error ignore;
	if (cryo_read_file_at(AT_FDCWD, "/proc/sys/kernel/yama/ptrace_scope", 64, false, &y, &len, &ignore) == 0)
		snprintf(scope, sizeof(scope), "%.1s", y);
	if (e == EPERM && scope[0] == '3')
		snprintf(why, size, "ptrace refused: Yama ptrace_scope is 3 (no process may be traced, until reboot)");
	else if (e == EPERM)
		snprintf(why, size, "ptrace refused (%s%s%s): an LSM (AppArmor, SELinux, Yama) or the process's "
			 "own state (another tracer) forbids it",
			 strerror(e), scope[0] ? ", Yama ptrace_scope " : "", scope);
	else
		snprintf(why, size, "ptrace: %s", strerror(e));
}

/* Seize and interrupt every thread, then wait for each to stop. */
static void stop_threads(struct thread *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ptrace(PTRACE_SEIZE, t[i].tid, 0, 0) < 0) {
			int e = errno;
			struct cryo_proc_stat st;
			struct cryo_error ig;
			/* the kernel refuses an exited thread (a main thread gone
			 * while the others run on) with EPERM too */
			t[i].exited = e == ESRCH || (cryo_proc_stat_read(t[i].tid, &st, &ig) == 0 && (st.state == 'Z' || st.state == 'X'));
			if (t[i].exited)
				snprintf(t[i].why, sizeof(t[i].why), "the thread exited");
			else
				explain_refusal(t[i].tid, e, t[i].why, sizeof(t[i].why));
			continue;
		}
		t[i].seized = true;
		if (ptrace(PTRACE_INTERRUPT, t[i].tid, 0, 0) < 0)
			ptrace_read_errno("PTRACE_INTERRUPT", t[i].why, sizeof(t[i].why));
	}
	uint64_t deadline = cryo_now_monotonic_ns() + STOP_TIMEOUT_MS * 1000000ull;
	for (;;) {
		size_t waiting = 0;
		for (size_t i = 0; i < n; i++) {
			if (!t[i].seized || t[i].stopped || t[i].why[0])
				continue;
			int st;
			pid_t r = waitpid(t[i].tid, &st, __WALL | WNOHANG);
			if (r == t[i].tid && WIFSTOPPED(st)) {
				t[i].stopped = true;
				/* not our interrupt's stop but a signal being delivered
				 * (a running container): it must not be lost */
				if ((st >> 16) != PTRACE_EVENT_STOP)
					t[i].signal = WSTOPSIG(st);
			}
			else if (r == t[i].tid || (r < 0 && errno == ECHILD))
				snprintf(t[i].why, sizeof(t[i].why), "the thread exited");
			else
				waiting++;
		}
		if (!waiting)
			break;
		if (cryo_now_monotonic_ns() > deadline) {
			for (size_t i = 0; i < n; i++)
				if (t[i].seized && !t[i].stopped && !t[i].why[0])
					snprintf(t[i].why, sizeof(t[i].why),
						 "did not stop within %d ms (a task frozen by the cgroup v1 freezer, or "
						 "in uninterruptible sleep, cannot enter a ptrace stop)",
						 STOP_TIMEOUT_MS);
			break;
		}
		nanosleep(&(struct timespec){ 0, 200000 }, NULL);
	}
	for (size_t i = 0; i < n; i++) {
		if (!t[i].stopped)
			continue;
		if (ptrace(PTRACE_GETREGS, t[i].tid, 0, &t[i].regs) < 0) {
			ptrace_read_errno("PTRACE_GETREGS", t[i].why, sizeof(t[i].why));
			continue;
		}
		t[i].regs_ok = true;
		t[i].fp_ok = ptrace(PTRACE_GETFPREGS, t[i].tid, 0, &t[i].fp) == 0;
		t[i].xstate = malloc(XSTATE_MAX);
		if (t[i].xstate) {
			struct iovec iov = { t[i].xstate, XSTATE_MAX };
			if (ptrace(PTRACE_GETREGSET, t[i].tid, (void *)NT_X86_XSTATE, &iov) == 0)
				t[i].xlen = iov.iov_len;
			/* a few KiB, not the 64 KiB asked for: 10,000 threads */
			unsigned char *small = realloc(t[i].xstate, t[i].xlen ? t[i].xlen : 1);
			if (small)
				t[i].xstate = small;
		}
	}
}

/* Detach: a thread stopped by us goes back to what it was (frozen, in a
 * v2-frozen cgroup).  One that never stopped cannot be detached now (the
 * kernel wants a stopped tracee); it is released when this process exits. */
static void release_threads(struct thread *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (t[i].seized && t[i].stopped)
			ptrace(PTRACE_DETACH, t[i].tid, 0, (void *)(uintptr_t)t[i].signal);
		free(t[i].xstate);
	}
	free(t);
}

/* --- notes ----------------------------------------------------------- */

struct buf {
	unsigned char *p;
	size_t len, cap;
	bool oom;
};

static void buf_add(struct buf *b, const void *data, size_t len)
{
	if (b->oom)
		return;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + len)
			cap *= 2;
		unsigned char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void note(struct buf *b, const char *name, uint32_t type, const void *desc, size_t len)
{
	static const char zeros[4];
	Elf64_Nhdr h = { (Elf64_Word)strlen(name) + 1, (Elf64_Word)len, type };
	buf_add(b, &h, sizeof(h));
	buf_add(b, name, h.n_namesz);
	buf_add(b, zeros, (4 - h.n_namesz % 4) % 4);
	buf_add(b, desc, len);
	buf_add(b, zeros, (4 - len % 4) % 4);
}

/* Fields of /proc/PID/stat after the command name. */
struct stat_fields {
	char state;
	long ppid, pgrp, sid, nice;
	unsigned long flags, utime, stime;
};

static int stat_fields(int procfd, const char *path, struct stat_fields *f)
{
	cleanup_free char *text = NULL;
	size_t len;
	struct cryo_error e;
	memset(f, 0, sizeof(*f));
	if (cryo_read_file_at(procfd, path, 4096, false, &text, &len, &e) < 0)
		return -1;
	const char *p = strrchr(text, ')');
	if (!p)
		return -1;
	/* 3 state 4 ppid 5 pgrp 6 session 7 tty 8 tpgid 9 flags ... 14 utime 15 stime ... 19 nice */
	unsigned long v[20] = { 0 };
	char state = '?';
	int k = 0;
	p++;
	if (sscanf(p, " %c%n", &state, &k) != 1)
		return -1;
	p += k;
	for (int i = 4; i <= 19 && *p; i++) {
		char *e2;
		v[i] = (unsigned long)strtol(p, &e2, 10);
		if (e2 == p)
			return -1;
		p = e2;
	}
	*f = (struct stat_fields){ state, (long)v[4], (long)v[5], (long)v[6], (long)v[19], v[9], v[14], v[15] };
	return 0;
}

/* The last (innermost) id of a status line such as "NSpid:\t4242\t1";
 * *depth gets how many there are. */
static long ns_id(const char *status, const char *key, long dflt, int *depth)
{
	char v[256];
	if (depth)
		*depth = 0;
	if (!cryo_status_field(status, key, v, sizeof(v)))
		return dflt;
	long last = dflt;
	for (char *save = NULL, *t = strtok_r(v, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		last = strtol(t, NULL, 10);
		if (depth)
			++*depth;
	}
	return last;
}

/* The parent's id in the child's namespace: 0 when the parent is outside
 * it (a container's init), as the kernel shows it. */
static long ns_parent(long host_ppid, int depth)
{
	char path[64];
	cleanup_free char *st = NULL;
	size_t len;
	struct cryo_error e;
	snprintf(path, sizeof(path), "/proc/%ld/status", host_ppid);
	if (host_ppid <= 0 || cryo_read_file_at(AT_FDCWD, path, 1u << 20, false, &st, &len, &e) < 0)
		return 0;
	int pdepth = 0;
	long id = ns_id(st, "NSpid", 0, &pdepth);
	return pdepth == depth ? id : 0;
}

static struct timeval ticks_tv(unsigned long ticks)
{
	long hz = sysconf(_SC_CLK_TCK);
	if (hz <= 0)
		hz = 100;
	return (struct timeval){ (time_t)(ticks / (unsigned long)hz),
				 (suseconds_t)((ticks % (unsigned long)hz) * 1000000 / (unsigned long)hz) };
}

static void prstatus_note(struct buf *b, const struct thread *t, const struct stat_fields *pf,
			  const char *status)
{
	struct elf_prstatus pr;
	memset(&pr, 0, sizeof(pr));
	char v[64];
	if (cryo_status_field(status, "SigPnd", v, sizeof(v)))
		pr.pr_sigpend = strtoul(v, NULL, 16);
	if (cryo_status_field(status, "SigBlk", v, sizeof(v)))
		pr.pr_sighold = strtoul(v, NULL, 16);
	pr.pr_pid = t->nstid;
	pr.pr_ppid = (pid_t)pf->ppid;
	pr.pr_pgrp = (pid_t)pf->pgrp;
	pr.pr_sid = (pid_t)pf->sid;
	pr.pr_utime = ticks_tv(pf->utime);
	pr.pr_stime = ticks_tv(pf->stime);
	if (t->regs_ok)
		memcpy(&pr.pr_reg, &t->regs, sizeof(pr.pr_reg));
	pr.pr_fpvalid = t->fp_ok;
	note(b, "CORE", NT_PRSTATUS, &pr, sizeof(pr));
}

static void thread_regsets(struct buf *b, const struct thread *t)
{
	if (t->fp_ok)
		note(b, "CORE", NT_PRFPREG, &t->fp, sizeof(t->fp));
	if (t->xlen)
		note(b, "LINUX", NT_X86_XSTATE, t->xstate, t->xlen);
}

/* Where each state component sits in the XSAVE area, from CPUID leaf 0xD,
 * as the kernel writes it since 6.12: the offsets are the CPU's (AMD Zen 4
 * puts AVX-512 state where Intel has MPX), and a debugger that assumes
 * Intel's would misread the registers.  Features: those in XCR0, which
 * the kernel saves in the area's software-reserved bytes. */
#define NT_X86_XSAVE_LAYOUT_ 0x205
static void xsave_layout_note(struct buf *b, const struct thread *t)
{
	if (t->xlen < 472)
		return;
	uint64_t xcr0;
	memcpy(&xcr0, t->xstate + 464, sizeof(xcr0));
	struct { uint32_t type, size, offset, flags; } comp[64];
	size_t n = 0;
	for (unsigned i = 2; i < 64; i++) {
		if (!(xcr0 & (1ull << i)))
			continue;
		unsigned a, bx, c, d;
		__cpuid_count(0xd, i, a, bx, c, d);
		(void)d;
		comp[n++] = (typeof(comp[0])){ i, a, bx, c };
	}
	if (n)
		note(b, "LINUX", NT_X86_XSAVE_LAYOUT_, comp, n * sizeof(comp[0]));
}

static void psinfo_note(struct buf *b, pid_t pid, const struct stat_fields *f, const char *status,
			const char *cmdline, size_t cmdlen)
{
	struct elf_prpsinfo ps;
	memset(&ps, 0, sizeof(ps));
	static const char states[] = "RSDTZW";
	const char *s = strchr(states, f->state);
	ps.pr_state = (char)(s && f->state ? s - states : 0);
	ps.pr_sname = f->state;
	ps.pr_zomb = f->state == 'Z';
	ps.pr_nice = (char)f->nice;
	ps.pr_flag = f->flags;
	char v[128];
	if (cryo_status_field(status, "Uid", v, sizeof(v)))
		ps.pr_uid = (unsigned)strtoul(v, NULL, 10);
	if (cryo_status_field(status, "Gid", v, sizeof(v)))
		ps.pr_gid = (unsigned)strtoul(v, NULL, 10);
	ps.pr_pid = pid;
	ps.pr_ppid = (int)f->ppid;
	ps.pr_pgrp = (int)f->pgrp;
	ps.pr_sid = (int)f->sid;
	if (cryo_status_field(status, "Name", v, sizeof(v)))
		snprintf(ps.pr_fname, sizeof(ps.pr_fname), "%.15s", v);
	size_t n = cmdlen < sizeof(ps.pr_psargs) - 1 ? cmdlen : sizeof(ps.pr_psargs) - 1;
	for (size_t i = 0; i < n; i++)
		ps.pr_psargs[i] = cmdline[i] ? cmdline[i] : ' ';
	while (n && ps.pr_psargs[n - 1] == ' ')
		ps.pr_psargs[--n] = '\0';
	note(b, "CORE", NT_PRPSINFO, &ps, sizeof(ps));
}

/* NT_FILE: count, page size, {start, end, offset in pages} per file
 * mapping, then their names, NUL-terminated, as the kernel writes it. */
static void file_note(struct buf *b, const struct cryo_vmas *vmas)
{
	struct buf d = { 0 };
	uint64_t count = 0, page = PAGE;
	for (size_t i = 0; i < vmas->n; i++)
		if (vmas->v[i].path && vmas->v[i].path[0] == '/')
			count++;
	buf_add(&d, &count, 8);
	buf_add(&d, &page, 8);
	for (size_t i = 0; i < vmas->n; i++) {
		const struct cryo_vma *m = &vmas->v[i];
		if (!m->path || m->path[0] != '/')
			continue;
		uint64_t r[3] = { m->start, m->end, m->offset / PAGE };
		buf_add(&d, r, sizeof(r));
	}
	for (size_t i = 0; i < vmas->n; i++)
		if (vmas->v[i].path && vmas->v[i].path[0] == '/')
			buf_add(&d, vmas->v[i].path, strlen(vmas->v[i].path) + 1);
	if (!d.oom && count)
		note(b, "CORE", NT_FILE, d.p, d.len);
	b->oom |= d.oom;
	free(d.p);
}

/* --- what to read ---------------------------------------------------- */

static int seg_add(struct segs *s, uint64_t start, uint64_t end, bool data, uint32_t flags, uint8_t kind)
{
	if (cryo_grow(&s->v, &s->cap, s->n, sizeof(*s->v), 64) < 0)
		return -1;
	s->v[s->n++] = (struct seg){ start, end - start, data ? end - start : 0, 0, flags, kind };
	return 0;
}

struct plan_ctx {
	int pagemap_fd;            /* -1: unreadable, every readable page is read */
	bool skip_file_backed;
	uint64_t *pm;              /* PAGEMAP_BATCH entries */
	uint64_t skipped;          /* bytes not read (not resident, excluded) */
	uint64_t not_dumped;       /* mappings left out (dd, io, special) */
	cJSON *excluded;           /* [{start, end, path, reason}] of those */
};

static void exclude(struct plan_ctx *pc, const struct cryo_vma *m, const char *why)
{
	pc->not_dumped++;
	if (cJSON_GetArraySize(pc->excluded) >= MAX_HOLES)
		return;
	cJSON *o = cJSON_CreateObject();
	char a[24];
	snprintf(a, sizeof(a), "0x%" PRIx64, m->start);
	cryo_json_str(o, "start", a);
	snprintf(a, sizeof(a), "0x%" PRIx64, m->end);
	cryo_json_str(o, "end", a);
	cryo_json_str(o, "path", m->path);
	cryo_json_str(o, "reason", why);
	cJSON_AddItemToArray(pc->excluded, o);
}

/* One run of pages of the mapping that starts at vma: data (to read) or
 * not.  Inside anonymous memory a short untouched gap between two data
 * runs is read too (it reads as zeros), rather than cut into segments. */
static int emit_run(struct plan_ctx *pc, struct segs *s, uint64_t vma, uint64_t start, uint64_t end, bool data,
		    bool merge, uint32_t flags, uint8_t kind)
{
	struct seg *last = s->n ? &s->v[s->n - 1] : NULL;
	if (data && last && last->vaddr >= vma && last->filesz) {
		last->memsz += end - start;
		last->filesz = last->memsz;
		return 0;
	}
	if (data && merge && s->n >= 2) {
		struct seg *gap = last, *prev = &s->v[s->n - 2];
		if (!gap->filesz && gap->memsz <= MERGE_PAGES * PAGE && prev->filesz && prev->vaddr >= vma) {
			pc->skipped -= gap->memsz;
			prev->memsz += gap->memsz + (end - start);
			prev->filesz = prev->memsz;
			s->n--;
			return 0;
		}
	}
	if (!data)
		pc->skipped += end - start;
	return seg_add(s, start, end, data, flags, kind);
}

/* Which pages of one mapping hold data to read: resident ones (present or
 * swapped); with skip_file_backed, only those the process changed (anon
 * pages of a private file mapping).  One segment per mapping when all of
 * it is read. */
static int plan_vma(struct plan_ctx *pc, const struct cryo_vma *m, struct segs *s)
{
	uint32_t flags = (m->perms[0] == 'r' ? PF_R : 0) | (m->perms[1] == 'w' ? PF_W : 0) |
			 (m->perms[2] == 'x' ? PF_X : 0);
	enum cryo_vma_kind kind = cryo_vma_kind(m);
	uint8_t k8 = (uint8_t)kind;
	uint64_t len = m->end - m->start;
	bool file_skip = pc->skip_file_backed && kind == CRYO_VMA_FILE && !cryo_has_suffix(m->path, " (deleted)");
	/* Mappings that are not readable are read all the same when they hold
	 * pages (PROT_NONE set after writing is how a payload hides; the
	 * kernel's own core dumps keep them too): /proc/PID/mem reads them. */
	const char *why = kind == CRYO_VMA_SPECIAL
				  ? (cryo_has_prefix(m->path, "/secretmem") ? "memfd_secret memory: unreadable by design"
									    : "kernel special mapping")
			  : m->dd     ? "marked do-not-dump (MADV_DONTDUMP)"
			  : m->io     ? "device memory (VM_IO)"
			  : m->pfnmap ? "raw page frames (VM_PFNMAP)"
				      : NULL;
	if (why) {
		exclude(pc, m, why);
		return emit_run(pc, s, m->start, m->start, m->end, false, false, flags, k8);
	}
	/* the vDSO's pages are not counted in Rss nor always shown in the
	 * pagemap; it is small and gdb needs it whole */
	if (m->path && !strcmp(m->path, "[vdso]"))
		return emit_run(pc, s, m->start, m->start, m->end, true, false, flags, k8);
	if (m->has_sizes && m->rss_kb == 0 && m->swap_kb == 0)
		return emit_run(pc, s, m->start, m->start, m->end, false, false, flags, k8);
	if (pc->pagemap_fd < 0 && m->uffd) {
		/* without the pagemap a read could fault a userfaultfd page in,
		 * and wait for a handler that is frozen */
		exclude(pc, m, "userfaultfd-registered and the pagemap is unreadable");
		return emit_run(pc, s, m->start, m->start, m->end, false, false, flags, k8);
	}
	if (pc->pagemap_fd < 0 || (!file_skip && !m->uffd && m->has_sizes && (m->rss_kb + m->swap_kb) * 1024 >= len))
		return emit_run(pc, s, m->start, m->start, m->end, true, false, flags, k8);
	bool merge = kind == CRYO_VMA_ANON && !m->uffd;
	uint64_t run_start = m->start;
	int run_data = -1;
	for (uint64_t a = m->start; a < m->end;) {
		size_t want = (size_t)((m->end - a) / PAGE);
		if (want > PAGEMAP_BATCH)
			want = PAGEMAP_BATCH;
		ssize_t got = pread(pc->pagemap_fd, pc->pm, want * 8, (off_t)(a / PAGE * 8));
		if (got < 8)
			return -1;
		size_t n = (size_t)got / 8;
		for (size_t i = 0; i < n; i++, a += PAGE) {
			uint64_t e = pc->pm[i];
			int data = (e & PM_SWAPPED) || ((e & PM_PRESENT) && !(file_skip && (e & PM_FILE)));
			if (run_data < 0)
				run_data = data;
			if (run_data == data)
				continue;
			if (emit_run(pc, s, m->start, run_start, a, run_data, merge, flags, k8) < 0)
				return -1;
			run_start = a;
			run_data = data;
		}
	}
	return emit_run(pc, s, m->start, run_start, m->end, run_data == 1, merge, flags, k8);
}

/* --- output ---------------------------------------------------------- */

struct sink {
	struct cryo_artifact w;
	ZSTD_CCtx *z;
	unsigned char *zout;
	size_t zcap;
	uint64_t written; /* uncompressed */
};

static int sink_write(struct sink *s, const void *data, size_t len, struct cryo_error *err)
{
	s->written += len;
	if (!s->z)
		return cryo_artifact_write(&s->w, data, len, err);
	ZSTD_inBuffer in = { data, len, 0 };
	while (in.pos < in.size) {
		ZSTD_outBuffer out = { s->zout, s->zcap, 0 };
		size_t r = ZSTD_compressStream2(s->z, &out, &in, ZSTD_e_continue);
		if (ZSTD_isError(r))
			return cryo_error_set(err, CRYO_EXIT_SOFTWARE, 0, "zstd: %s", ZSTD_getErrorName(r));
		if (out.pos && cryo_artifact_write(&s->w, s->zout, out.pos, err) < 0)
			return -1;
	}
	return 0;
}

static int sink_end(struct sink *s, struct cryo_error *err)
{
	if (!s->z)
		return 0;
	ZSTD_inBuffer in = { NULL, 0, 0 };
	for (;;) {
		ZSTD_outBuffer out = { s->zout, s->zcap, 0 };
		size_t r = ZSTD_compressStream2(s->z, &out, &in, ZSTD_e_end);
		if (ZSTD_isError(r))
			return cryo_error_set(err, CRYO_EXIT_SOFTWARE, 0, "zstd: %s", ZSTD_getErrorName(r));
		if (out.pos && cryo_artifact_write(&s->w, s->zout, out.pos, err) < 0)
			return -1;
		if (r == 0)
			return 0;
	}
}

struct holes {
	cJSON *arr;
	size_t count;
	uint64_t bytes;
	uint64_t last_end;
	int last_errno;
};

static void hole_add(struct holes *h, uint64_t start, uint64_t len, int e)
{
	h->bytes += len;
	cJSON *last = cJSON_GetArrayItem(h->arr, cJSON_GetArraySize(h->arr) - 1);
	if (h->count <= MAX_HOLES && last && h->last_end == start && h->last_errno == e) {
		h->last_end = start + len;
		char a[24];
		snprintf(a, sizeof(a), "0x%" PRIx64, h->last_end);
		cryo_json_str(last, "end", a);
		return;
	}
	h->count++;
	h->last_end = start + len;
	h->last_errno = e;
	if (h->count > MAX_HOLES)
		return; /* counted, not listed */
	cJSON *o = cJSON_CreateObject();
	char a[24];
	snprintf(a, sizeof(a), "0x%" PRIx64, start);
	cryo_json_str(o, "start", a);
	snprintf(a, sizeof(a), "0x%" PRIx64, start + len);
	cryo_json_str(o, "end", a);
	cryo_json_str(o, "reason", strerror(e));
	cJSON_AddItemToArray(h->arr, o);
}

struct reader {
	pid_t pid;
	int procfd, memfd; /* memfd: /proc/PID/mem, opened at the first refusal */
	unsigned char *buf;
};

/* One page that process_vm_readv refused: /proc/PID/mem may still read it
 * (it reads through the page tables with FOLL_FORCE, e.g. PROT_NONE after
 * mprotect); if not, zeros and a hole. */
static int read_page(struct reader *r, uint64_t addr, unsigned char *out, struct holes *h)
{
	int e = errno;
	if (r->memfd == -1)
		r->memfd = openat(r->procfd, "mem", O_RDONLY | O_CLOEXEC);
	if (r->memfd >= 0 && pread(r->memfd, out, PAGE, (off_t)addr) == (ssize_t)PAGE)
		return 0;
	if (r->memfd >= 0)
		e = errno;
	memset(out, 0, PAGE);
	hole_add(h, addr, PAGE, e ? e : EFAULT);
	return 0;
}

static int dump_segment(struct reader *r, struct sink *s, const struct seg *g, struct holes *h,
			struct cryo_error *err)
{
	for (uint64_t a = g->vaddr, end = g->vaddr + g->filesz; a < end;) {
		if (cryo_interrupted)
			return cryo_error_set(err, CRYO_EXIT_TEMPFAIL, 0, "interrupted");
		size_t want = end - a < READ_CHUNK ? (size_t)(end - a) : READ_CHUNK;
		size_t got = 0;
		if (!(g->flags & PF_R)) {
			if (r->memfd == -1)
				r->memfd = openat(r->procfd, "mem", O_RDONLY | O_CLOEXEC);
			ssize_t n = r->memfd >= 0 ? pread(r->memfd, r->buf, want, (off_t)a) : -1;
			if (n > 0)
				got = (size_t)n / PAGE * PAGE;
		}
		while (got < want) {
			struct iovec l = { r->buf + got, want - got };
			struct iovec rv = { (void *)(uintptr_t)(a + got), want - got };
			ssize_t n = process_vm_readv(r->pid, &l, 1, &rv, 1, 0);
			if (n > 0) {
				got += (size_t)n;
				continue;
			}
			if (n < 0 && errno == ESRCH)
				return cryo_error_set(err, CRYO_EXIT_NOTFOUND, ESRCH, "the process exited during the capture");
			read_page(r, a + got, r->buf + got, h);
			got += PAGE;
		}
		if (sink_write(s, r->buf, want, err) < 0)
			return -1;
		a += want;
	}
	return 0;
}

/* --- the core file ------------------------------------------------------ */

int cryo_core_write(const struct cryo_core_request *req, cJSON *record, struct cryo_error *err)
{
	struct thread *t = NULL;
	size_t nt = 0;
	if (list_threads(req->procfd, &t, &nt, err) < 0)
		return -1;
	/* the thread the process is named after goes first, as gdb expects */
	for (size_t i = 1; i < nt; i++)
		if (t[i].tid == req->pid) {
			struct thread x = t[0];
			t[0] = t[i];
			t[i] = x;
		}
	if (req->stop_threads)
		stop_threads(t, nt);
	else
		for (size_t i = 0; i < nt; i++)
			snprintf(t[i].why, sizeof(t[i].why), "%s", req->no_stop_reason ? req->no_stop_reason : "not stopped");

	int rc = -1;
	struct segs segs = { 0 };
	struct cryo_vmas vmas = { 0 };
	struct buf notes = { 0 };
	struct sink sink = { 0 };
	/* the memory through a live thread: a process whose main thread has
	 * exited (its other threads running on) shows empty maps there, and
	 * process_vm_readv on its pid fails */
	int mmfd = req->mm_dirfd >= 0 ? req->mm_dirfd : req->procfd;
	struct reader rd = { req->mm_pid ? req->mm_pid : req->pid, mmfd, -1, NULL };
	struct plan_ctx pc = { -1, req->skip_file_backed, NULL, 0, 0, cJSON_CreateArray() };
	struct holes holes = { cJSON_CreateArray(), 0, 0, 0, 0 };
	bool begun = false;
	unsigned char *hdr = NULL;
	cleanup_free char *smaps = NULL, *status = NULL, *cmdline = NULL, *auxv = NULL;
	size_t len, cmdlen = 0, auxlen = 0;

	if (cryo_read_file_at(mmfd, "smaps", 256u << 20, false, &smaps, &len, err) < 0 ||
	    cryo_read_file_at(req->procfd, "status", 1u << 20, false, &status, &len, err) < 0) {
		cryo_error_wrap(err, "memory maps");
		goto out;
	}
	struct cryo_error ignore;
	cryo_read_file_at(mmfd, "cmdline", 1u << 20, false, &cmdline, &cmdlen, &ignore);
	cryo_read_file_at(mmfd, "auxv", 64u << 10, false, &auxv, &auxlen, &ignore);
	if (cryo_vmas_parse(smaps, &vmas) < 0) {
		cryo_error_set(err, CRYO_EXIT_DATAERR, 0, "smaps: cannot parse");
		goto out;
	}
	pc.pm = malloc(PAGEMAP_BATCH * 8);
	pc.pagemap_fd = openat(mmfd, "pagemap", O_RDONLY | O_CLOEXEC);
	for (size_t i = 0; i < vmas.n; i++)
		if (plan_vma(&pc, &vmas.v[i], &segs) < 0) {
			cryo_error_sys(err, "pagemap");
			goto out;
		}

	/* the budget goes to what only memory holds (anonymous and shared
	 * memory) before mapped files */
	/* whole pages: a segment's file offset stays congruent to its address */
	uint64_t budget = req->max_bytes ? req->max_bytes / PAGE * PAGE : UINT64_MAX, over = 0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < segs.n; i++) {
			struct seg *g = &segs.v[i];
			if (!g->filesz || (pass == 0) != (g->kind != CRYO_VMA_FILE))
				continue;
			if (g->filesz > budget) {
				over += g->filesz - budget;
				g->filesz = budget;
			}
			budget -= g->filesz;
		}

	/* Ids as the process sees them, in its own pid namespace, as the
	 * kernel writes them: the thread list in its memory (which gdb's
	 * libthread_db reads) holds those, not the host's. */
	struct stat_fields pf;
	stat_fields(req->procfd, "stat", &pf);
	int depth = 0;
	pid_t ns_pid = (pid_t)ns_id(status, "NSpid", req->pid, &depth);
	pf.pgrp = ns_id(status, "NSpgid", pf.pgrp, NULL);
	pf.sid = ns_id(status, "NSsid", pf.sid, NULL);
	pf.ppid = ns_parent(pf.ppid, depth);
	for (size_t i = 0; i < nt; i++) {
		char p[64];
		struct stat_fields tf;
		snprintf(p, sizeof(p), "task/%d/stat", (int)t[i].tid);
		if (stat_fields(req->procfd, p, &tf) < 0)
			tf = pf;
		tf.ppid = pf.ppid, tf.pgrp = pf.pgrp, tf.sid = pf.sid;
		cleanup_free char *tstatus = NULL;
		size_t tlen;
		snprintf(p, sizeof(p), "task/%d/status", (int)t[i].tid);
		t[i].nstid = cryo_read_file_at(req->procfd, p, 1u << 20, false, &tstatus, &tlen, &ignore) == 0
				     ? (pid_t)ns_id(tstatus, "NSpid", t[i].tid, NULL)
				     : t[i].tid;
		prstatus_note(&notes, &t[i], &tf, tstatus ? tstatus : status);
		if (i == 0) {
			psinfo_note(&notes, ns_pid, &pf, status, cmdline ? cmdline : "", cmdlen);
			siginfo_t si;
			memset(&si, 0, sizeof(si));
			/* no signal caused this dump: the ptrace stop's own siginfo
			 * would read as a SIGTRAP that never happened */
			note(&notes, "CORE", NT_SIGINFO, &si, sizeof(si));
			if (auxlen)
				note(&notes, "CORE", NT_AUXV, auxv, auxlen);
			file_note(&notes, &vmas);
		}
		if (i == 0)
			xsave_layout_note(&notes, &t[0]);
		thread_regsets(&notes, &t[i]);
	}
	if (notes.oom) {
		cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "core notes");
		goto out;
	}

	/* layout: ELF header, program headers (PT_NOTE first), the extended
	 * count's section header when there are 65535 or more, notes, then
	 * the memory from a page boundary */
	uint64_t phnum = segs.n + 1;
	bool xnum = phnum >= PN_XNUM;
	uint64_t off = sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr) + (xnum ? sizeof(Elf64_Shdr) : 0);
	uint64_t notes_off = off;
	off = (off + notes.len + PAGE - 1) / PAGE * PAGE;
	uint64_t data_off = off, data_bytes = 0;
	for (size_t i = 0; i < segs.n; i++) {
		segs.v[i].offset = segs.v[i].filesz ? off : 0;
		off += segs.v[i].filesz;
		data_bytes += segs.v[i].filesz;
	}

	char rel[1100];
	snprintf(rel, sizeof(rel), "%s%s", req->relpath, req->compress ? ".zst" : "");
	if ((req->compress ? cryo_artifact_begin : cryo_artifact_begin_direct)(req->kase, rel, &sink.w, err) < 0)
		goto out;
	begun = true;
	if (req->compress) {
		sink.z = ZSTD_createCCtx();
		sink.zcap = ZSTD_CStreamOutSize() * 4;
		sink.zout = malloc(sink.zcap);
		if (!sink.z || !sink.zout) {
			cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "zstd");
			goto out;
		}
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		ZSTD_CCtx_setParameter(sink.z, ZSTD_c_compressionLevel, 1); /* memory is large and cheap to squeeze */
		ZSTD_CCtx_setParameter(sink.z, ZSTD_c_checksumFlag, 1);
		ZSTD_CCtx_setParameter(sink.z, ZSTD_c_nbWorkers, ncpu > 1 ? (int)ncpu : 0);
	}
	Elf64_Ehdr eh;
	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(Elf64_Ehdr);
	eh.e_ehsize = sizeof(Elf64_Ehdr);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = xnum ? PN_XNUM : (Elf64_Half)phnum;
	if (xnum) {
		eh.e_shoff = sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr);
		eh.e_shentsize = sizeof(Elf64_Shdr);
		eh.e_shnum = 1;
	}
	/* the whole header in one page-aligned piece: the dump can then go to
	 * the disk with O_DIRECT from start to end */
	if (posix_memalign((void **)&hdr, PAGE, data_off) != 0) {
		hdr = NULL;
		cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "core header");
		goto out;
	}
	memset(hdr, 0, data_off);
	memcpy(hdr, &eh, sizeof(eh));
	Elf64_Phdr *ph = (Elf64_Phdr *)(hdr + sizeof(eh));
	ph[0] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = notes_off, .p_filesz = notes.len, .p_align = 4 };
	for (size_t i = 0; i < segs.n; i++) {
		const struct seg *g = &segs.v[i];
		ph[i + 1] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = g->flags, .p_offset = g->offset,
					  .p_vaddr = g->vaddr, .p_filesz = g->filesz, .p_memsz = g->memsz,
					  .p_align = PAGE };
	}
	if (xnum) {
		Elf64_Shdr sh = { .sh_type = SHT_NULL, .sh_size = 1, .sh_info = (Elf64_Word)phnum };
		memcpy(ph + phnum, &sh, sizeof(sh));
	}
	memcpy(hdr + notes_off, notes.p, notes.len);
	if (sink_write(&sink, hdr, data_off, err) < 0)
		goto out;
	if (posix_memalign((void **)&rd.buf, PAGE, READ_CHUNK) != 0) {
		rd.buf = NULL;
		cryo_error_set(err, CRYO_EXIT_OSERR, ENOMEM, "read buffer");
		goto out;
	}
	for (size_t i = 0; i < segs.n; i++)
		if (segs.v[i].filesz && dump_segment(&rd, &sink, &segs.v[i], &holes, err) < 0)
			goto out;
	if (sink_end(&sink, err) < 0)
		goto out;
	/* the pid is the same process still: had it died and the number gone
	 * to another (a host process), the bytes read are not evidence */
	struct cryo_proc_stat now;
	struct cryo_error e2;
	if (req->start_time && (cryo_proc_stat_read(req->pid, &now, &e2) < 0 || now.start_time != req->start_time)) {
		cryo_error_set(err, CRYO_EXIT_NOTFOUND, ESRCH, "the process exited during the capture");
		goto out;
	}
	uint64_t file_size = sink.w.size;
	if (cryo_artifact_commit(&sink.w, req->entry, err) < 0) {
		begun = false;
		goto out;
	}
	begun = false;

	cryo_json_str(record, "path", rel);
	cryo_json_bool(record, "compressed", req->compress);
	cryo_json_num(record, "size", (double)file_size);
	cryo_json_num(record, "segments", (double)segs.n);
	cryo_json_num(record, "bytes", (double)data_bytes);
	cryo_json_num(record, "bytes_not_read", (double)(pc.skipped + over));
	cryo_json_num(record, "bytes_over_limit", (double)over);
	cryo_json_bool(record, "truncated", over > 0);
	cryo_json_num(record, "mappings_not_dumped", (double)pc.not_dumped);
	cryo_json_bool(record, "pagemap", pc.pagemap_fd >= 0);
	cryo_json_num(record, "hole_bytes", (double)holes.bytes);
	cryo_json_num(record, "holes_count", (double)holes.count);
	cJSON_AddItemToObject(record, "holes", holes.arr);
	holes.arr = NULL;
	cJSON_AddItemToObject(record, "excluded", pc.excluded);
	pc.excluded = NULL;
	rc = 0;
out:;
	size_t regs = 0, exited = 0;
	cJSON *threads = cJSON_AddArrayToObject(record, "threads");
	for (size_t i = 0; i < nt; i++) {
		cJSON *o = cJSON_CreateObject();
		cryo_json_num(o, "tid", t[i].tid);
		cryo_json_bool(o, "registers", t[i].regs_ok);
		cryo_json_bool(o, "xstate", t[i].xlen > 0);
		if (!t[i].regs_ok)
			cryo_json_str(o, "reason", t[i].why);
		if (t[i].exited)
			cryo_json_bool(o, "exited", true);
		regs += t[i].regs_ok;
		exited += t[i].exited;
		cJSON_AddItemToArray(threads, o);
	}
	cryo_json_num(record, "threads_with_registers", (double)regs);
	cryo_json_num(record, "threads_exited", (double)exited);
	if (begun)
		cryo_artifact_abort(&sink.w);
	release_threads(t, nt);
	if (sink.z)
		ZSTD_freeCCtx(sink.z);
	free(sink.zout);
	free(rd.buf);
	free(hdr);
	if (rd.memfd >= 0)
		close(rd.memfd);
	if (pc.pagemap_fd >= 0)
		close(pc.pagemap_fd);
	free(pc.pm);
	free(notes.p);
	free(segs.v);
	cryo_vmas_free(&vmas);
	cJSON_Delete(holes.arr);
	cJSON_Delete(pc.excluded);
	return rc;
}
