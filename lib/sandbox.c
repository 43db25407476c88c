/* The replay sandbox (include/cryo/sandbox.h).
 *
 * The parent (cryo-replay) clones a child into new namespaces, writes its
 * id maps, puts it in a cgroup, and lets it go.  The child, pid 1 of its
 * pid namespace, mounts the root (overlay of the read-only rebuilt tree and
 * a throwaway upper directory, in its own user namespace), /proc, a small
 * /dev, pivots into it, brings loopback up, sets rlimits, takes the
 * command's user, drops every capability (bounding set included), sets
 * no_new_privs, loads the seccomp filter, hands its notification descriptor
 * to the parent, forks the command and reaps until the command ends.  The
 * parent answers the notifications (refusals recorded, traced calls written
 * out) until pid 1 exits or the time is up. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "cryo/cleanup.h"
#include "cryo/output.h"
#include "cryo/procfs.h"
#include "cryo/sandbox.h"
#include "cryo/util.h"

/* --- what the filter refuses, and what a trace records ------------------- */

/* Refused with EPERM, and recorded.  Each is either privileged (and the
 * sandbox has no capability anyway: this is the second wall), or a way
 * around the other walls (io_uring does file and socket work the filter
 * never sees; a new user namespace gives back capabilities in it). */
static const char *const refused_calls[] = {
	"mount",	  "umount",	   "umount2",	      "pivot_root",	  "chroot",	   "move_mount",
	"open_tree",	  "fsopen",	   "fsconfig",	      "fsmount",	  "fspick",	   "mount_setattr",
	"ptrace",	  "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",	   "bpf",
	"perf_event_open", "keyctl",	   "add_key",	      "request_key",	  "kexec_load",	   "kexec_file_load",
	"init_module",	  "finit_module",  "delete_module",   "setns",		  "unshare",	   "userfaultfd",
	"io_uring_setup", "io_uring_enter", "io_uring_register", "open_by_handle_at", "name_to_handle_at",
	"swapon",	  "swapoff",	   "reboot",	      "acct",		  "quotactl",	   "syslog",
	"iopl",		  "ioperm",	   "settimeofday",    "clock_settime",	  "clock_adjtime", "adjtimex",
	"lookup_dcookie", "fanotify_init", "vhangup",	      "uselib",		  "nfsservctl",
};

/* Recorded with a trace, and let through (connects and sends to an address
 * that is not loopback are refused). */
static const char *const traced_calls[] = {
	"open",	  "openat", "openat2", "creat",	   "execve", "execveat", "connect", "bind",  "listen",
	"sendto", "sendmsg", "sendmmsg", "socket", "unlink",   "unlinkat", "rename",  "renameat", "renameat2",
	"chmod",  "fchmodat", "kill",	"memfd_create",
};

static bool in_list(const char *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], name))
			return true;
	return false;
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* libseccomp's filter: everything allowed but what is listed. */
static scmp_filter_ctx build_filter(bool trace, bool notify)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return NULL;
	/* a call of another architecture (int 0x80 on x86-64) kills the
	 * process, not only the thread */
	/* a binary tree of the syscall numbers: every call the sample makes
	 * goes through the filter, most of them listed nowhere */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0) {
		seccomp_release(ctx);
		return NULL;
	}
	uint32_t refuse = notify ? SCMP_ACT_NOTIFY : SCMP_ACT_ERRNO(EPERM);
	int rc = 0;
	for (size_t i = 0; i < NELEM(refused_calls) && rc == 0; i++) {
		int nr = seccomp_syscall_resolve_name(refused_calls[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;
		rc = seccomp_rule_add(ctx, refuse, nr, 0);
	}
	/* sockets of the families a sample may need (UNIX, IP, netlink for
	 * its own loopback); the others are not all per network namespace
	 * (AF_VSOCK reaches the hypervisor) or need capabilities anyway */
	for (int f = 0; f <= AF_MAX && rc == 0; f++) {
		if (f == AF_UNIX || f == AF_INET || f == AF_INET6 || f == AF_NETLINK)
			continue;
		rc = seccomp_rule_add(ctx, refuse, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, f));
		if (rc == 0)
			rc = seccomp_rule_add(ctx, refuse, SCMP_SYS(socketpair), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, f));
	}
	if (rc == 0)
		rc = seccomp_rule_add(ctx, refuse, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_GT, AF_MAX));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, refuse, SCMP_SYS(socketpair), 1, SCMP_A0(SCMP_CMP_GT, AF_MAX));
	/* clone(2) into any new namespace; clone3(2) hides its flags in
	 * memory: ENOSYS, so the C library falls back to clone(2) */
	static const unsigned long ns_flags[] = { CLONE_NEWNS,	CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
						  CLONE_NEWUSER, CLONE_NEWPID,	 CLONE_NEWNET };
	for (size_t i = 0; i < NELEM(ns_flags) && rc == 0; i++)
		rc = seccomp_rule_add(ctx, refuse, SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	/* typing into the analyst's terminal (CVE-2017-5226 in bubblewrap) */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
				      SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
				      SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX));
	for (size_t i = 0; trace && notify && i < NELEM(traced_calls) && rc == 0; i++) {
		int nr = seccomp_syscall_resolve_name(traced_calls[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;
		rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 0);
	}
	if (rc != 0) {
		seccomp_release(ctx);
		return NULL;
	}
	return ctx;
}

/* --- the child ----------------------------------------------------------- */

struct child {
	const struct cryo_sandbox_opts *o;
	int sock;    /* to the parent */
	int dirs[4]; /* root, upper, work, mnt (O_PATH) */
	bool cgroup; /* limits by cgroup: else rlimits stand in for memory */
};

/* Tell the parent why, and end. */
__attribute__((noreturn, format(printf, 2, 3))) static void die(struct child *c, const char *fmt, ...)
{
	char msg[512];
	int e = errno;
	msg[0] = 'E';
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg + 1, sizeof(msg) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n + 1 < sizeof(msg) - 1)
		snprintf(msg + 1 + n, sizeof(msg) - 1 - (size_t)n, ": %s", strerror(e));
	(void)!write(c->sock, msg, strlen(msg));
	_exit(1);
}

/* parent/name is a directory of ours: what the image had there (a
 * symlink, a file) is replaced, in the throwaway layer. */
static void own_dir(struct child *c, int parent, const char *name)
{
	struct stat st;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode))
			return;
		if (unlinkat(parent, name, 0) < 0)
			die(c, "replace /%s in the sandbox's root", name);
	} else if (errno != ENOENT) {
		die(c, "look at /%s in the sandbox's root", name);
	}
	if (mkdirat(parent, name, 0755) < 0 || fchmodat(parent, name, strcmp(name, "tmp") ? 0755 : 01777, 0) < 0)
		die(c, "make /%s in the sandbox's root", name);
}

/* /dev of the root, the current directory */
static void make_dev(struct child *c)
{
	char p[PATH_MAX], host[64];
	const char *dev = "dev";
	if (mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=1m") < 0)
		die(c, "mount a tmpfs on /dev");
	/* no tty: the sandbox has no controlling terminal, and the host's
	 * /dev/tty would be the analyst's */
	static const char *const nodes[] = { "null", "zero", "full", "random", "urandom" };
	for (size_t i = 0; i < NELEM(nodes); i++) {
		snprintf(p, sizeof(p), "%s/%s", dev, nodes[i]);
		snprintf(host, sizeof(host), "/dev/%s", nodes[i]);
		int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0)
			die(c, "make /dev/%s", nodes[i]);
		close(fd);
		if (mount(host, p, NULL, MS_BIND, NULL) < 0)
			die(c, "bind %s", host);
	}
	static const char *const links[][2] = { { "fd", "/proc/self/fd" },	{ "stdin", "/proc/self/fd/0" },
						{ "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
						{ "ptmx", "pts/ptmx" } };
	for (size_t i = 0; i < NELEM(links); i++) {
		snprintf(p, sizeof(p), "%s/%s", dev, links[i][0]);
		if (symlink(links[i][1], p) < 0)
			die(c, "make /dev/%s", links[i][0]);
	}
	snprintf(p, sizeof(p), "%s/pts", dev);
	if (mkdir(p, 0755) < 0 || mount("devpts", p, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") < 0)
		die(c, "mount /dev/pts");
	snprintf(p, sizeof(p), "%s/shm", dev);
	if (mkdir(p, 01777) < 0 || mount("shm", p, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m") < 0)
		die(c, "mount /dev/shm");
}

/* The root: overlay of the rebuilt tree under a throwaway upper layer;
 * when overlayfs will not mount here, the tree itself (a copy already).
 * Made with the mount API from descriptors opened before the ids changed,
 * attached on mnt/, and returned as a descriptor of the new mount's root:
 * the scratch directory's path may not be searchable by the sandbox's ids,
 * and a path through /proc/self/fd names the directory under a mount, not
 * the mount. */
static int mount_root(struct child *c, bool *overlay)
{
	char p[3][64];
	for (int i = 0; i < 3; i++)
		snprintf(p[i], sizeof(p[i]), "/proc/self/fd/%d", c->dirs[i]);
	int m = -1;
	*overlay = false;
	for (int userxattr = 1; userxattr >= 0 && m < 0; userxattr--) {
		int fs = fsopen("overlay", FSOPEN_CLOEXEC);
		if (fs < 0)
			break;
		if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir", p[0], 0) == 0 &&
		    fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", p[1], 0) == 0 &&
		    fsconfig(fs, FSCONFIG_SET_STRING, "workdir", p[2], 0) == 0 &&
		    (!userxattr || fsconfig(fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) == 0) &&
		    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
			m = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
		close(fs);
	}
	*overlay = m >= 0;
	if (m < 0)
		m = open_tree(c->dirs[0], "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
	if (m < 0)
		die(c, "mount the root (neither overlay nor bind)");
	if (move_mount(m, "", c->dirs[3], "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		die(c, "attach the root");
	return m;
}

static void loopback_up(struct child *c)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		die(c, "loopback");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		die(c, "bring loopback up");
	close(s);
}

static void set_limits(struct child *c)
{
	const struct cryo_sandbox_opts *o = c->o;
	struct rlimit core = { 0, 0 }, nofile = { 1024, 1024 }, fsize = { 4ull << 30, 4ull << 30 };
	setrlimit(RLIMIT_CORE, &core);
	setrlimit(RLIMIT_NOFILE, &nofile);
	setrlimit(RLIMIT_FSIZE, &fsize);
	if (o->pids) {
		struct rlimit np = { o->pids, o->pids };
		setrlimit(RLIMIT_NPROC, &np);
	}
	if (o->memory && !c->cgroup) {
		/* no cgroup: the address space stands in (not in an
		 * AddressSanitizer build, whose shadow memory alone reserves
		 * terabytes of it) */
#ifndef __SANITIZE_ADDRESS__
		struct rlimit as = { o->memory, o->memory };
		setrlimit(RLIMIT_AS, &as);
#endif
	}
}

static void drop_privileges(struct child *c)
{
	const struct cryo_sandbox_opts *o = c->o;
	for (cap_value_t cap = 0; cap <= CAP_LAST_CAP + 8; cap++)
		if (CAP_IS_SUPPORTED(cap) && cap_drop_bound(cap) < 0)
			die(c, "drop capability %d from the bounding set", (int)cap);
	if (cap_reset_ambient() < 0 && errno != EINVAL)
		die(c, "clear the ambient capabilities");
	if (setgroups(o->ngroups, o->groups) < 0 && !(errno == EPERM && o->ngroups == 0))
		die(c, "set the groups");
	if (setresgid(o->gid, o->gid, o->gid) < 0)
		die(c, "set gid %u", (unsigned)o->gid);
	if (setresuid(o->uid, o->uid, o->uid) < 0)
		die(c, "set uid %u", (unsigned)o->uid);
	cap_t none = cap_init();
	if (!none || cap_set_proc(none) < 0)
		die(c, "drop every capability");
	cap_free(none);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die(c, "no_new_privs");
}

/* The ready message, "O 5" (overlay or bind, the notification descriptor
 * or -1), by write(2): sendmsg and sendto may be traced, and the parent
 * cannot answer before it has the descriptor, which it takes itself
 * (pidfd_getfd). */
static void send_ready(struct child *c, char tag, int fd)
{
	char msg[32];
	snprintf(msg, sizeof(msg), "%c %d", tag, fd);
	if (write(c->sock, msg, strlen(msg)) < 0)
		_exit(1);
}

/* execvpe on the command's own PATH (inside the root, the C library's
 * default when it has none). */
static void exec_command(const struct cryo_sandbox_opts *o)
{
	const char *cmd = o->argv[0];
	if (strchr(cmd, '/')) {
		execve(cmd, o->argv, o->envp);
	} else {
		const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
		for (char *const *e = o->envp; e && *e; e++)
			if (!strncmp(*e, "PATH=", 5))
				path = *e + 5;
		char full[PATH_MAX];
		int saved = ENOENT;
		for (const char *p = path; p;) {
			const char *end = strchr(p, ':');
			size_t n = end ? (size_t)(end - p) : strlen(p);
			if (snprintf(full, sizeof(full), "%.*s/%s", (int)n, n ? p : ".", cmd) < (int)sizeof(full)) {
				execve(full, o->argv, o->envp);
				if (errno != ENOENT && errno != ENOTDIR)
					saved = errno;
			}
			p = end ? end + 1 : NULL;
		}
		errno = saved;
	}
	dprintf(2, "cryo-replay: sandbox: cannot run %s: %s\n", cmd, strerror(errno));
	_exit(127);
}

static volatile pid_t command_pid;
/* to the command's process group: a shell and what it runs */
static void forward(int sig)
{
	if (command_pid > 0)
		kill(-command_pid, sig);
}

__attribute__((noreturn)) static void child_main(struct child *c, bool trace)
{
	const struct cryo_sandbox_opts *o = c->o;
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	/* the sandbox dies with cryo-replay, however cryo-replay ends (if it
	 * is already gone, the read of its go below finds the channel closed;
	 * getppid() says 0 across the pid namespace); set again once the ids
	 * have changed */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		_exit(1);
	/* a session of its own: nothing inside can signal cryo-replay's
	 * process group (kill(0, ...)), and the terminal is not its
	 * controlling terminal (no /dev/tty, no job control over it) */
	if (setsid() < 0)
		_exit(1);
	/* nothing of the parent's but the channel: a descriptor of a host
	 * directory kept here would be a way out of the new root */
	if (c->sock > 3)
		close_range(3, (unsigned)c->sock - 1, 0);
	close_range((unsigned)c->sock + 1, ~0u, 0);
	char go;
	if (read(c->sock, &go, 1) != 1 || (go != 'G' && go != 'g'))
		_exit(1);
	c->cgroup = go == 'G';
	/* The directories are opened with the ids the clone kept (the
	 * caller's), in the new mount namespace: the sandbox's own ids may
	 * not search the scratch directory's parents. */
	static const char *const names[] = { NULL, "upper", "work", "mnt" };
	for (int i = 0; i < 4; i++) {
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/%s", o->scratch, i ? names[i] : "");
		c->dirs[i] = open(i ? p : o->rootfs, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (c->dirs[i] < 0)
			die(c, "open %s", i ? p : o->rootfs);
	}
	/* the ids the parent just mapped: root of the new user namespace
	 * (as root, the clone kept host ids that are not mapped in it) */
	if (c->o->privileged && (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		die(c, "become root of the user namespace");
	if (unshare(CLONE_NEWCGROUP) < 0)
		die(c, "new cgroup namespace");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die(c, "make the mounts private");
	bool overlay;
	int rootfd = mount_root(c, &overlay);
	if (fchdir(rootfd) < 0)
		die(c, "enter the root");
	/* from here relative paths are in the new root, which the walk of
	 * each mount point below does not leave (own_dir: no symlink) */
	own_dir(c, rootfd, "proc");
	own_dir(c, rootfd, "dev");
	own_dir(c, rootfd, "tmp");
	if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		die(c, "mount /proc");
	make_dev(c);
	if (syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		die(c, "pivot into the root");
	close(rootfd);
	for (int i = 0; i < 4; i++)
		close(c->dirs[i]);
	if (sethostname(o->hostname, strlen(o->hostname)) < 0)
		die(c, "hostname");
	loopback_up(c);
	set_limits(c);
	drop_privileges(c);
	/* a change of uid or gid cleared it (prctl(2)): again, for good */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		die(c, "parent death signal");
	bool notify = seccomp_api_get() >= 5;
	if (trace && !notify) {
		errno = ENOSYS;
		die(c, "--trace needs seccomp user notification (Linux 5.5, libseccomp 2.5)");
	}
	scmp_filter_ctx ctx = build_filter(trace, notify);
	if (!ctx)
		die(c, "build the seccomp filter");
	if (seccomp_load(ctx) < 0) {
		errno = EINVAL;
		die(c, "load the seccomp filter");
	}
	/* from here on every refused call waits for the parent's answer */
	int nfd = notify ? seccomp_notify_fd(ctx) : -1;
	send_ready(c, overlay ? 'O' : 'B', nfd);
	seccomp_release(ctx);
	/* once the parent holds the descriptor (pidfd_getfd), pid 1 is out of
	 * the command's reach: its /proc/1/fd, mem and environ */
	char ack;
	if (read(c->sock, &ack, 1) != 1 || ack != 'A')
		_exit(1);
	/* the sandbox must never answer its own notifications */
	if (nfd >= 0 && close(nfd) < 0)
		die(c, "close the notification descriptor");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die(c, "make pid 1 undumpable");
	static const int forwarded[] = { SIGTERM, SIGHUP, SIGINT, SIGQUIT };
	struct sigaction sa = { .sa_handler = forward };
	for (size_t i = 0; i < NELEM(forwarded); i++)
		sigaction(forwarded[i], &sa, NULL);
	pid_t pid = fork();
	if (pid < 0)
		die(c, "fork the command");
	if (pid == 0) {
		for (size_t i = 0; i < NELEM(forwarded); i++)
			signal(forwarded[i], SIG_DFL);
		setpgid(0, 0);
		if (!o->cwd || chdir(o->cwd) < 0)
			(void)!chdir("/");
		close_range(3, ~0u, 0);
		exec_command(o);
	}
	setpgid(pid, pid);
	command_pid = pid;
	close(c->sock);
	for (;;) {
		int st;
		pid_t w = waitpid(-1, &st, 0);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			_exit(1);
		if (w == pid)
			_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
}

/* --- the parent: ids, cgroup ---------------------------------------------- */

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	int e = errno;
	close(fd);
	errno = e;
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int write_maps(pid_t pid, bool privileged, struct cryo_error *err)
{
	char path[64], map[128];
	if (privileged) {
		snprintf(map, sizeof(map), "0 %u %u\n", CRYO_SANDBOX_ID_BASE, CRYO_SANDBOX_IDS);
		snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
		if (write_text(path, map) < 0)
			return cryo_error_sys(err, "write the sandbox's uid_map");
		snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
		if (write_text(path, map) < 0)
			return cryo_error_sys(err, "write the sandbox's gid_map");
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
	if (write_text(path, "deny") < 0)
		return cryo_error_sys(err, "write the sandbox's setgroups");
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)getuid());
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	if (write_text(path, map) < 0)
		return cryo_error_sys(err, "write the sandbox's uid_map");
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)getgid());
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	if (write_text(path, map) < 0)
		return cryo_error_sys(err, "write the sandbox's gid_map");
	return 0;
}

struct cgroups {
	char dir[3][PATH_MAX]; /* made, to remove */
	int n;
};

static int cg_make(struct cgroups *cg, const char *path)
{
	if (mkdir(path, 0755) < 0)
		return -1;
	snprintf(cg->dir[cg->n++], PATH_MAX, "%s", path);
	return 0;
}

/* What a cryo-replay killed outright (SIGKILL) left: cgroups named after a
 * pid that is gone. */
static void cgroup_prune(const char *parent, const char *prefix)
{
	cleanup_closedir DIR *d = opendir(parent);
	struct dirent *de;
	size_t pl = strlen(prefix);
	while (d && (de = readdir(d))) {
		long pid;
		if (strncmp(de->d_name, prefix, pl) || cryo_parse_long(de->d_name + pl, 1, INT_MAX, &pid) < 0)
			continue;
		if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
			(void)unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
	}
}

/* A cgroup of its own, with the limits, the child in it.  Returns false
 * (why in note) when it cannot: the rlimits still hold. */
/* dir/file = value; the path is left in p, for a message. */
static int cg_set(char *p, size_t size, const char *dir, const char *file, const char *value)
{
	snprintf(p, size, "%s/%s", dir, file);
	return write_text(p, value);
}

static bool cgroup_enter(const struct cryo_sandbox_opts *o, pid_t pid, struct cgroups *cg, char *note, size_t nsize)
{
	char p[PATH_MAX], dir[PATH_MAX], pidtxt[32], mem[32], pids[32], cpu1[32], cpu2[48];
	snprintf(pidtxt, sizeof(pidtxt), "%d", (int)pid);
	snprintf(mem, sizeof(mem), "%llu", (unsigned long long)o->memory);
	snprintf(pids, sizeof(pids), "%llu", (unsigned long long)o->pids);
	snprintf(cpu1, sizeof(cpu1), "%llu", (unsigned long long)o->cpu_percent * 1000);
	snprintf(cpu2, sizeof(cpu2), "%s 100000", cpu1);
	/* each limit: its v2 file, its v1 controller and file, the values */
	const struct {
		const char *v2, *ctl, *v1, *v2value, *v1value;
		bool set;
	} lim[] = {
		{ "memory.max", "memory", "memory.limit_in_bytes", mem, mem, o->memory != 0 },
		{ "pids.max", "pids", "pids.max", pids, pids, o->pids != 0 },
		{ "cpu.max", "cpu", "cpu.cfs_quota_us", cpu2, cpu1, o->cpu_percent != 0 },
	};
	struct stat st;
	snprintf(p, sizeof(p), "/sys/fs/cgroup/cryo-replay");
	if (stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0) {
		/* v2: beside the caller's tree, under a parent with the controllers */
		if ((mkdir(p, 0755) < 0 && errno != EEXIST) ||
		    cg_set(p, sizeof(p), "/sys/fs/cgroup/cryo-replay", "cgroup.subtree_control", "+memory +pids +cpu") < 0)
			goto fail;
		cgroup_prune("/sys/fs/cgroup/cryo-replay", "");
		snprintf(dir, sizeof(dir), "/sys/fs/cgroup/cryo-replay/%d", (int)pid);
		snprintf(p, sizeof(p), "%s", dir);
		if (cg_make(cg, dir) < 0)
			goto fail;
		(void)cg_set(p, sizeof(p), dir, "memory.swap.max", "0");
		for (size_t i = 0; i < NELEM(lim); i++)
			if (lim[i].set && cg_set(p, sizeof(p), dir, lim[i].v2, lim[i].v2value) < 0)
				goto fail;
		if (cg_set(p, sizeof(p), dir, "cgroup.procs", pidtxt) < 0)
			goto fail;
		return true;
	}
	/* v1: one directory per controller */
	for (size_t i = 0; i < NELEM(lim); i++) {
		snprintf(p, sizeof(p), "/sys/fs/cgroup/%s", lim[i].ctl);
		cgroup_prune(p, "cryo-replay.");
		snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s/cryo-replay.%d", lim[i].ctl, (int)pid);
		snprintf(p, sizeof(p), "%s", dir);
		if (cg_make(cg, dir) < 0 || (lim[i].set && cg_set(p, sizeof(p), dir, lim[i].v1, lim[i].v1value) < 0) ||
		    cg_set(p, sizeof(p), dir, "cgroup.procs", pidtxt) < 0)
			goto fail;
	}
	return true;
fail:
	snprintf(note, nsize, "no cgroup (%s: %s): rlimits only", p, strerror(errno));
	return false;
}

static void cgroup_remove(struct cgroups *cg)
{
	for (int i = cg->n - 1; i >= 0; i--)
		for (int tries = 0; tries < 200 && rmdir(cg->dir[i]) < 0 && errno == EBUSY; tries++)
			usleep(5000);
	cg->n = 0;
}

/* --- the parent: the notifications --------------------------------------- */

struct super {
	const struct cryo_sandbox_opts *o;
	struct cryo_sandbox_result *r;
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	int fd;
	uint64_t trace_bytes;
};

/* Up to size-1 bytes of a string at addr in pid's memory. */
static bool read_str(int mem, uint64_t addr, char *buf, size_t size)
{
	size_t got = 0;
	while (got < size - 1) {
		size_t page = 4096 - ((addr + got) & 4095);
		size_t want = size - 1 - got < page ? size - 1 - got : page;
		ssize_t n = pread(mem, buf + got, want, (off_t)(addr + got));
		if (n <= 0)
			break;
		if (memchr(buf + got, '\0', (size_t)n)) {
			got += strnlen(buf + got, (size_t)n);
			buf[got] = '\0';
			return true;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	return got > 0;
}

static bool read_mem(int mem, uint64_t addr, void *buf, size_t len)
{
	return pread(mem, buf, len, (off_t)addr) == (ssize_t)len;
}

/* A socket address, as text; *outside: an inet address not loopback. */
static void sockaddr_text(int mem, uint64_t addr, uint64_t len, char *out, size_t size, bool *outside)
{
	*outside = false;
	struct sockaddr_storage ss = { 0 };
	if (!addr || len < sizeof(sa_family_t)) {
		snprintf(out, size, "none");
		return;
	}
	if (len > sizeof(ss))
		len = sizeof(ss);
	if (!read_mem(mem, addr, &ss, len)) {
		snprintf(out, size, "unreadable");
		return;
	}
	char ip[INET6_ADDRSTRLEN];
	if (ss.ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		snprintf(out, size, "%s:%u", ip, ntohs(in->sin_port));
		*outside = (ntohl(in->sin_addr.s_addr) >> 24) != 127;
	} else if (ss.ss_family == AF_INET6 && len >= 24) { /* the kernel takes 24 (RFC 2133, no scope) */
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(out, size, "[%s]:%u", ip, ntohs(in6->sin6_port));
		bool v4lo = IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127;
		*outside = !IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) && !v4lo;
	} else if (ss.ss_family == AF_UNIX) {
		struct sockaddr_un *un = (struct sockaddr_un *)&ss;
		size_t n = len - offsetof(struct sockaddr_un, sun_path);
		if (n > 0 && un->sun_path[0] == '\0')
			snprintf(out, size, "unix:@%.*s", (int)(n - 1), un->sun_path + 1);
		else
			snprintf(out, size, "unix:%.*s", (int)strnlen(un->sun_path, n), un->sun_path);
	} else if (ss.ss_family == AF_NETLINK) {
		snprintf(out, size, "netlink");
	} else {
		snprintf(out, size, "family %u", (unsigned)ss.ss_family);
		/* an address the decoder could not read is not proven loopback */
		*outside = ss.ss_family == AF_INET || ss.ss_family == AF_INET6;
	}
}

static const char *family_name(uint64_t f)
{
	switch (f) {
	case AF_UNIX: return "AF_UNIX";
	case AF_INET: return "AF_INET";
	case AF_INET6: return "AF_INET6";
	case AF_NETLINK: return "AF_NETLINK";
	case AF_PACKET: return "AF_PACKET";
	default: return NULL;
	}
}

static void open_flags(uint64_t f, char *out, size_t size)
{
	static const struct {
		int bit;
		const char *name;
	} bits[] = { { O_CREAT, "O_CREAT" },	 { O_EXCL, "O_EXCL" },	     { O_TRUNC, "O_TRUNC" },
		     { O_APPEND, "O_APPEND" },	 { O_DIRECTORY, "O_DIRECTORY" }, { O_NOFOLLOW, "O_NOFOLLOW" },
		     { O_CLOEXEC, "O_CLOEXEC" }, { O_PATH, "O_PATH" },	     { O_TMPFILE & ~O_DIRECTORY, "O_TMPFILE" } };
	int acc = (int)(f & O_ACCMODE);
	size_t o = (size_t)snprintf(out, size, "%s", acc == O_RDONLY ? "O_RDONLY" : acc == O_WRONLY ? "O_WRONLY" : "O_RDWR");
	for (size_t i = 0; i < NELEM(bits) && o < size; i++)
		if ((f & (uint64_t)bits[i].bit) == (uint64_t)bits[i].bit)
			o += (size_t)snprintf(out + o, size - o, "|%s", bits[i].name);
}

/* The sandbox's own pid of a host pid (the last of NSpid), and comm. */
static int inner_pid(pid_t pid, char *comm, size_t csize)
{
	char path[64], nspid[128];
	cleanup_free char *text = NULL;
	size_t len;
	struct cryo_error e = { 0 };
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	comm[0] = '\0';
	if (cryo_read_file_at(AT_FDCWD, path, 1 << 16, false, &text, &len, &e) < 0)
		return -1;
	if (!cryo_status_field(text, "Name", comm, csize))
		comm[0] = '\0';
	if (!cryo_status_field(text, "NSpid", nspid, sizeof(nspid)))
		return -1;
	const char *last = strrchr(nspid, '\t');
	return atoi(last ? last + 1 : nspid);
}

static void count_refusal(struct cryo_sandbox_result *r, const char *name)
{
	r->refused++;
	cJSON *n = cJSON_GetObjectItemCaseSensitive(r->refused_calls, name);
	if (n)
		cJSON_SetNumberValue(n, n->valuedouble + 1);
	else
		cJSON_AddNumberToObject(r->refused_calls, name, 1);
}

static void path_arg(cJSON *args, const char *key, int mem, uint64_t addr)
{
	char buf[PATH_MAX];
	if (!addr)
		cJSON_AddNullToObject(args, key);
	else if (read_str(mem, addr, buf, sizeof(buf)))
		cJSON_AddItemToObject(args, key, cryo_json_string(buf));
	else
		cryo_json_str(args, key, "(unreadable)");
}

static void dirfd_arg(cJSON *args, uint64_t v)
{
	if ((int)v != AT_FDCWD)
		cJSON_AddNumberToObject(args, "dirfd", (int)v);
}

/* An exec's argument vector, the first 32 of at most 256 bytes each. */
static void argv_arg(cJSON *args, int mem, uint64_t addr)
{
	cJSON *a = cJSON_AddArrayToObject(args, "argv");
	for (int i = 0; addr && i < 32; i++) {
		uint64_t p;
		char buf[256];
		if (!read_mem(mem, addr + 8 * (uint64_t)i, &p, sizeof(p)) || !p)
			break;
		cJSON_AddItemToArray(a, cryo_json_string(read_str(mem, p, buf, sizeof(buf)) ? buf : ""));
	}
}

/* Decode one call; *refuse_errno set when it is refused. */
static void decode(const char *name, const struct seccomp_data *d, int mem, cJSON *args, int *refuse_errno)
{
	const __u64 *a = d->args;
	char text[PATH_MAX];
	bool outside;
	if (!strcmp(name, "open") || !strcmp(name, "creat")) {
		path_arg(args, "path", mem, a[0]);
		if (!strcmp(name, "open")) {
			open_flags(a[1], text, sizeof(text));
			cryo_json_str(args, "flags", text);
		}
	} else if (!strcmp(name, "openat") || !strcmp(name, "openat2")) {
		dirfd_arg(args, a[0]);
		path_arg(args, "path", mem, a[1]);
		uint64_t flags = a[2];
		if (!strcmp(name, "openat2") && !read_mem(mem, a[2], &flags, sizeof(flags)))
			flags = 0;
		open_flags(flags, text, sizeof(text));
		cryo_json_str(args, "flags", text);
	} else if (!strcmp(name, "execve") || !strcmp(name, "execveat")) {
		int off = !strcmp(name, "execveat");
		if (off)
			dirfd_arg(args, a[0]);
		path_arg(args, "path", mem, a[off]);
		argv_arg(args, mem, a[off + 1]);
	} else if (!strcmp(name, "connect") || !strcmp(name, "bind")) {
		cJSON_AddNumberToObject(args, "fd", (int)a[0]);
		sockaddr_text(mem, a[1], a[2], text, sizeof(text), &outside);
		cryo_json_str(args, "address", text);
		if (outside && !strcmp(name, "connect"))
			*refuse_errno = ECONNREFUSED;
	} else if (!strcmp(name, "sendto") || !strcmp(name, "sendmsg")) {
		cJSON_AddNumberToObject(args, "fd", (int)a[0]);
		uint64_t addr = a[4], len = a[5];
		if (!strcmp(name, "sendmsg")) {
			struct msghdr m;
			addr = len = 0;
			if (read_mem(mem, a[1], &m, sizeof(m))) {
				addr = (uint64_t)(uintptr_t)m.msg_name;
				len = m.msg_namelen;
			}
		} else {
			cJSON_AddNumberToObject(args, "bytes", (double)a[2]);
		}
		if (addr) {
			sockaddr_text(mem, addr, len, text, sizeof(text), &outside);
			cryo_json_str(args, "address", text);
			if (outside)
				*refuse_errno = ENETUNREACH;
		}
	} else if (!strcmp(name, "sendmmsg")) {
		/* the addresses of the first 64 messages; any outside refuses all */
		cJSON_AddNumberToObject(args, "fd", (int)a[0]);
		cJSON *addrs = cJSON_AddArrayToObject(args, "addresses");
		unsigned n = a[2] < 64 ? (unsigned)a[2] : 64;
		for (unsigned i = 0; i < n; i++) {
			struct mmsghdr mh;
			if (!read_mem(mem, a[1] + i * sizeof(mh), &mh, sizeof(mh)))
				break;
			if (!mh.msg_hdr.msg_name)
				continue;
			sockaddr_text(mem, (uint64_t)(uintptr_t)mh.msg_hdr.msg_name, mh.msg_hdr.msg_namelen, text,
				      sizeof(text), &outside);
			cJSON_AddItemToArray(addrs, cJSON_CreateString(text));
			if (outside)
				*refuse_errno = ENETUNREACH;
		}
	} else if (!strcmp(name, "socket") || !strcmp(name, "socketpair")) {
		const char *f = family_name(a[0]);
		if (f)
			cryo_json_str(args, "family", f);
		else
			cJSON_AddNumberToObject(args, "family", (double)a[0]);
		int type = (int)(a[1] & 0xf);
		cryo_json_str(args, "type", type == SOCK_STREAM ? "SOCK_STREAM" : type == SOCK_DGRAM ? "SOCK_DGRAM"
						 : type == SOCK_RAW   ? "SOCK_RAW"
								      : "other");
		cJSON_AddNumberToObject(args, "protocol", (double)a[2]);
	} else if (!strcmp(name, "listen")) {
		cJSON_AddNumberToObject(args, "fd", (int)a[0]);
	} else if (!strcmp(name, "unlink") || !strcmp(name, "chmod")) {
		path_arg(args, "path", mem, a[0]);
		if (!strcmp(name, "chmod"))
			cJSON_AddNumberToObject(args, "mode", (double)(a[1] & 07777));
	} else if (!strcmp(name, "unlinkat") || !strcmp(name, "fchmodat")) {
		dirfd_arg(args, a[0]);
		path_arg(args, "path", mem, a[1]);
		if (!strcmp(name, "fchmodat"))
			cJSON_AddNumberToObject(args, "mode", (double)(a[2] & 07777));
	} else if (!strcmp(name, "rename")) {
		path_arg(args, "from", mem, a[0]);
		path_arg(args, "to", mem, a[1]);
	} else if (!strcmp(name, "renameat") || !strcmp(name, "renameat2")) {
		path_arg(args, "from", mem, a[1]);
		path_arg(args, "to", mem, a[3]);
	} else if (!strcmp(name, "kill")) {
		cJSON_AddNumberToObject(args, "pid", (int)a[0]);
		cJSON_AddNumberToObject(args, "signal", (int)a[1]);
	} else if (!strcmp(name, "memfd_create")) {
		path_arg(args, "name", mem, a[0]);
	} else if (!strcmp(name, "mount")) {
		path_arg(args, "source", mem, a[0]);
		path_arg(args, "target", mem, a[1]);
		path_arg(args, "fstype", mem, a[2]);
	} else if (!strcmp(name, "umount2") || !strcmp(name, "chroot")) {
		path_arg(args, "target", mem, a[0]);
	} else if (!strcmp(name, "ptrace")) {
		cJSON_AddNumberToObject(args, "request", (double)a[0]);
		cJSON_AddNumberToObject(args, "pid", (int)a[1]);
	} else if (!strcmp(name, "bpf")) {
		cJSON_AddNumberToObject(args, "cmd", (double)a[0]);
	} else if (!strcmp(name, "clone") || !strcmp(name, "unshare")) {
		snprintf(text, sizeof(text), "0x%llx", (unsigned long long)a[0]);
		cryo_json_str(args, "flags", text);
	} else {
		cJSON *raw = cJSON_AddArrayToObject(args, "raw");
		for (int i = 0; i < 6; i++) {
			snprintf(text, sizeof(text), "0x%llx", (unsigned long long)a[i]);
			cJSON_AddItemToArray(raw, cJSON_CreateString(text));
		}
	}
}

static void handle(struct super *s)
{
	memset(s->req, 0, sizeof(*s->req));
	if (seccomp_notify_receive(s->fd, s->req) < 0)
		return; /* the caller went away meanwhile */
	struct seccomp_notif *q = s->req;
	char *name = seccomp_syscall_resolve_num_arch(q->data.arch, q->data.nr);
	const char *sys = name ? name : "?";
	/* socket(2) and socketpair(2) come here for a family the filter
	 * refuses, or (traced) for any */
	uint64_t fam = q->data.args[0];
	bool bad_family = (!strcmp(sys, "socket") || !strcmp(sys, "socketpair")) &&
			  !(fam == AF_UNIX || fam == AF_INET || fam == AF_INET6 || fam == AF_NETLINK);
	bool refused = in_list(refused_calls, NELEM(refused_calls), sys) || !strcmp(sys, "clone") || bad_family;
	int refuse_errno = refused ? EPERM : 0;
	cJSON *line = s->o->trace ? cJSON_CreateObject() : NULL;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%u/mem", q->pid);
	int mem = open(path, O_RDONLY | O_CLOEXEC);
	if (line) {
		char t[40], comm[64];
		cryo_format_utc_ns(cryo_now_realtime_ns(), t, sizeof(t));
		cryo_json_str(line, "time", t);
		int inner = inner_pid((pid_t)q->pid, comm, sizeof(comm));
		cJSON_AddNumberToObject(line, "pid", inner);
		cJSON_AddNumberToObject(line, "host_pid", q->pid);
		cJSON_AddItemToObject(line, "comm", cryo_json_string(comm));
		cryo_json_str(line, "syscall", sys);
		decode(sys, &q->data, mem, cJSON_AddObjectToObject(line, "args"), &refuse_errno);
	} else if (!refused) {
		/* connects and sends are decoded for the decision */
		cJSON *scratch = cJSON_CreateObject();
		decode(sys, &q->data, mem, scratch, &refuse_errno);
		cJSON_Delete(scratch);
	}
	if (mem >= 0)
		close(mem);
	/* what was read is only worth something if the call still waits */
	bool valid = seccomp_notify_id_valid(s->fd, q->id) == 0;
	memset(s->resp, 0, sizeof(*s->resp));
	s->resp->id = q->id;
	if (refuse_errno) {
		s->resp->error = -refuse_errno;
		count_refusal(s->r, sys);
	} else {
		s->resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	}
	if (line && valid && !s->r->trace_truncated) {
		cryo_json_str(line, "action", refuse_errno ? "refused" : "allowed");
		cryo_json_str(line, "errno", refuse_errno ? strerrorname_np(refuse_errno) : NULL);
		char *text = cJSON_PrintUnformatted(line);
		if (text) {
			size_t len = strlen(text) + 1;
			if (s->o->trace_max && s->trace_bytes + len > s->o->trace_max) {
				/* a sample opening files in a loop would fill the disk */
				s->r->trace_truncated = true;
				fprintf(s->o->trace, "{\"event\":\"trace-limit\",\"bytes\":%llu}\n",
					(unsigned long long)s->trace_bytes);
			} else {
				fprintf(s->o->trace, "%s\n", text);
				s->trace_bytes += len;
				s->r->traced++;
			}
			free(text);
		}
	}
	cJSON_Delete(line);
	free(name);
	if (valid)
		(void)seccomp_notify_respond(s->fd, s->resp);
}

/* --- running it ----------------------------------------------------------- */

static pid_t clone_into_namespaces(void)
{
	struct clone_args args = {
		.flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET,
		.exit_signal = SIGCHLD,
	};
	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

/* The child's first message: "O 5"/"B 5" (overlay or bind, and the number
 * of its notification descriptor, taken here), or 'E' and why it failed. */
static int recv_ready(int sock, pid_t pid, char *msg, size_t size, int *fd)
{
	*fd = -1;
	ssize_t n;
	do
		n = read(sock, msg, size - 1);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	msg[n] = '\0';
	int num = msg[0] != 'E' && n > 2 ? atoi(msg + 2) : -1;
	if (num >= 0) {
		int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
		*fd = pidfd >= 0 ? (int)syscall(SYS_pidfd_getfd, pidfd, num, 0) : -1;
		if (pidfd >= 0)
			close(pidfd);
		if (*fd >= 0)
			fcntl(*fd, F_SETFD, FD_CLOEXEC);
	}
	return 0;
}

void cryo_sandbox_result_free(struct cryo_sandbox_result *r)
{
	cJSON_Delete(r->refused_calls);
	r->refused_calls = NULL;
}

int cryo_sandbox_run(const struct cryo_sandbox_opts *o, struct cryo_sandbox_result *r, struct cryo_error *err)
{
	memset(r, 0, sizeof(*r));
	r->refused_calls = cJSON_CreateObject();
	char p[PATH_MAX];
	static const char *const dirs[] = { "upper", "work", "mnt" };
	for (size_t i = 0; i < NELEM(dirs); i++) {
		snprintf(p, sizeof(p), "%s/%s", o->scratch, dirs[i]);
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return cryo_error_sys(err, "make %s", p);
		if (o->privileged && chown(p, CRYO_SANDBOX_ID_BASE, CRYO_SANDBOX_ID_BASE) < 0)
			return cryo_error_sys(err, "chown %s", p);
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return cryo_error_sys(err, "socketpair");
	/* the parent's own signals, read in its loop and passed on to the
	 * sandbox */
	sigset_t mask, old;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGQUIT);
	sigprocmask(SIG_BLOCK, &mask, &old);
	fflush(NULL);
	pid_t pid = clone_into_namespaces();
	if (pid < 0) {
		int e = errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(sv[0]);
		close(sv[1]);
		errno = e;
		return cryo_error_set(err, e == EPERM || e == ENOSPC || e == EINVAL ? CRYO_EXIT_UNAVAILABLE : CRYO_EXIT_OSERR, e,
				      "new namespaces for the sandbox: %s%s", strerror(e),
				      e == EPERM || e == ENOSPC ? " (user namespaces disabled? sysctl user.max_user_namespaces, "
								  "kernel.unprivileged_userns_clone)"
								: "");
	}
	if (pid == 0) {
		close(sv[0]);
		struct child c = { .o = o, .sock = sv[1] };
		child_main(&c, o->trace != NULL);
	}
	close(sv[1]);
	int sock = sv[0];
	struct cgroups cg = { .n = 0 };
	int rc = write_maps(pid, o->privileged, err);
	if (rc == 0 && o->privileged)
		r->cgroup = cgroup_enter(o, pid, &cg, r->limits_note, sizeof(r->limits_note));
	else if (rc == 0)
		snprintf(r->limits_note, sizeof(r->limits_note), "no cgroup without root: rlimits only");
	int sfd = -1, nfd = -1;
	if (rc == 0 && write(sock, r->cgroup ? "G" : "g", 1) != 1)
		rc = cryo_error_sys(err, "start the sandbox");
	char msg[600];
	if (rc == 0) {
		if (recv_ready(sock, pid, msg, sizeof(msg), &nfd) < 0)
			rc = cryo_error_set(err, CRYO_EXIT_OSERR, 0, "the sandbox ended before it was ready");
		else if (msg[0] == 'E')
			rc = cryo_error_set(err, CRYO_EXIT_OSERR, 0, "sandbox: %s", msg + 1);
		else if (nfd < 0 && strcmp(msg + 2, "-1") != 0)
			/* nobody would answer the filter: every refused call would hang */
			rc = cryo_error_sys(err, "take the sandbox's seccomp notification descriptor");
		else
			r->overlay = msg[0] == 'O';
	}
	if (rc == 0 && write(sock, "A", 1) != 1)
		rc = cryo_error_sys(err, "start the sandbox");
	r->notify = nfd >= 0;
	close(sock);
	struct super s = { .o = o, .r = r, .fd = nfd };
	if (nfd >= 0 && seccomp_notify_alloc(&s.req, &s.resp) < 0) {
		s.req = NULL;
		s.resp = NULL;
	}
	if (rc < 0)
		kill(pid, SIGKILL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	uint64_t deadline = o->timeout_s ? cryo_now_monotonic_ns() + (uint64_t)o->timeout_s * 1000000000ull : 0;
	uint64_t term_deadline = 0; /* SIGTERM passed on: SIGKILL when this passes */
	int status = 0;
	for (bool done = false; !done;) {
		struct pollfd pf[2] = { { .fd = sfd, .events = POLLIN }, { .fd = s.req ? nfd : -1, .events = POLLIN } };
		uint64_t now = cryo_now_monotonic_ns(), next = 0;
		if (deadline && !r->timed_out)
			next = deadline;
		if (term_deadline && (!next || term_deadline < next))
			next = term_deadline;
		int wait_ms = !next ? -1 : now >= next ? 0 : (int)((next - now) / 1000000) + 1;
		int n = poll(pf, 2, wait_ms);
		if (n < 0 && errno != EINTR)
			break;
		now = cryo_now_monotonic_ns();
		if (deadline && !r->timed_out && now >= deadline) {
			r->timed_out = true;
			kill(pid, SIGKILL); /* pid 1: its namespace goes with it */
		}
		if (term_deadline && now >= term_deadline) {
			term_deadline = 0;
			kill(pid, SIGKILL); /* the command would not end */
		}
		if (n > 0 && (pf[1].revents & POLLIN))
			handle(&s);
		if (n > 0 && (pf[0].revents & POLLIN)) {
			struct signalfd_siginfo si;
			/* the sandbox has a session of its own: a terminal's ^C and
			 * ^\ reach cryo-replay, which passes them on */
			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGCHLD)
					continue;
				kill(pid, (int)si.ssi_signo);
				if ((si.ssi_signo == SIGTERM || si.ssi_signo == SIGHUP) && !term_deadline)
					term_deadline = cryo_now_monotonic_ns() + 5000000000ull;
			}
		}
		int st;
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid) {
			status = st;
			done = true;
		}
		if (pf[1].revents & (POLLHUP | POLLERR) && !done) {
			/* no notification can come any more: just wait */
			if (waitpid(pid, &st, 0) == pid)
				status = st;
			done = true;
		}
	}
	if (rc == 0)
		r->exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (s.req)
		seccomp_notify_free(s.req, s.resp);
	if (nfd >= 0)
		close(nfd);
	if (sfd >= 0)
		close(sfd);
	cgroup_remove(&cg);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}
