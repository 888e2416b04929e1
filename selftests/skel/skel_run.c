// SPDX-License-Identifier: GPL-2.0
/*
 * Load one light skeleton, generated and signed by bpftool, on a bpfsig
 * kernel and check what it did. Built once per skeleton header by
 * scripts/build/build-skels.sh:
 *
 *   -DSKEL=<name>	the skeleton's object name (counter, maps, lsm)
 *   -DSKEL_HDR="..."	its header
 *   -DEXPECT_ERR=<e>	the load must fail with -e (a tampered header)
 *   -DEXPECT_ERRSTR=<s>	... and bpf_load_and_run() say why in these words
 *   -DEXPECT_VERDICT=<v>	the loader's verdict after a good load
 *
 * Usage: skel_run <certificate.der> [builtin]. The certificate goes into a
 * keyring of its own, which the skeleton's loader names as its keyring; with
 * "builtin" the loader names the builtin trusted keyring (keyring_id 0)
 * instead, where the test kernel has the same certificate. Prints one line
 * per check and exits non-zero if any failed.
 *
 * The generated code is used as is. To see the loader program, whose fd
 * bpf_load_and_run() closes before returning, syscall() and close() are
 * wrapped while the header is compiled: the wrappers read the loader's
 * fdinfo right after BPF_PROG_LOAD and again after it ran.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>

#define BPF_SIG_VERIFIED 1
#define BPF_SIG_METADATA_VERIFIED 2

#define CONCAT_(a, b) a##b
#define CONCAT(a, b) CONCAT_(a, b)
#define SKEL_FN(f) CONCAT(SKEL, f)
#define STR_(x) #x
#define STR(x) STR_(x)

static int failures;
static char vlog[1 << 16];

static void check(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", cond ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		failures++;
}

/* The fdinfo line "key:\t<value>" of fd, or -1. */
static long fdinfo(int fd, const char *key)
{
	char path[64], line[256];
	size_t n = strlen(key);
	long val = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			val = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return val;
}

static struct {
	int seen;
	long verdict_at_load, verdict, kernel_load, verified_insns;
	/* what the loader's BPF_PROG_LOAD carried (SPEC §6: no CO-RE
	 * relocations of its own, no BTF in fd_array: only maps there)
	 */
	long core_relos, fd_array_non_maps;
	/* copies of the loader's fd and of its metadata map's, for a re-run */
	int prog_fd, map_fd;
	char tag[17];
} loader = { .prog_fd = -1, .map_fd = -1 };

/* The loader's prog_tag from fdinfo (the kernel's digest, 8 bytes in hex). */
static void read_tag(int fd)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "prog_tag:\t%16s", loader.tag) == 1)
			break;
	fclose(f);
}

/* BPF_OBJ_GET_INFO_BY_FD of fd into info (a prog's or a map's); 0 on success */
static int obj_info(int fd, void *info, __u32 len)
{
	union bpf_attr attr;

	memset(info, 0, len);
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = fd;
	attr.info.info_len = len;
	attr.info.info = (unsigned long)info;
	return syscall(__NR_bpf, BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr));
}

static inline int is_loader_map(int fd)
{
	struct bpf_map_info info;

	return !obj_info(fd, &info, sizeof(info)) && !strcmp(info.name, "__loader.map");
}

static int is_loader(int fd)
{
	struct bpf_prog_info info;

	return !obj_info(fd, &info, sizeof(info)) &&
	       info.type == BPF_PROG_TYPE_SYSCALL &&
	       !strcmp(info.name, "__loader.prog");
}

/* How many of the fds in a load's fd_array are not maps. */
static long non_maps(const union bpf_attr *attr)
{
	const int *fds = (const int *)(unsigned long)attr->fd_array;
	__u32 i, n = attr->fd_array_cnt ? attr->fd_array_cnt : 1;
	long bad = 0;

	for (i = 0; fds && i < n; i++)
		bad += fdinfo(fds[i], "map_type") < 0;
	return bad;
}

/* The verdict of the loader right after BPF_PROG_LOAD, before it runs. */
static long observe_bpf(long nr, int cmd, union bpf_attr *attr, unsigned int size)
{
	long fd;

	if (cmd == BPF_PROG_LOAD && attr->prog_type == BPF_PROG_TYPE_SYSCALL &&
	    !strcmp(attr->prog_name, "__loader.prog")) {
		loader.core_relos = attr->core_relo_cnt;
		loader.fd_array_non_maps = non_maps(attr);
	}
	fd = syscall(nr, cmd, attr, size);

	if (cmd == BPF_PROG_LOAD && fd >= 0 && is_loader(fd))
		loader.verdict_at_load = fdinfo(fd, "sig_verdict");
	return fd;
}

static int observe_close(int fd)
{
	if (is_loader(fd)) {
		loader.seen = 1;
		loader.verdict = fdinfo(fd, "sig_verdict");
		loader.kernel_load = fdinfo(fd, "kernel_load");
		loader.verified_insns = fdinfo(fd, "verified_insns");
		read_tag(fd);
#if !defined(EXPECT_ERR) && EXPECT_VERDICT == BPF_SIG_METADATA_VERIFIED
		if (loader.prog_fd < 0)
			loader.prog_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	} else if (loader.map_fd < 0 && is_loader_map(fd)) {
		loader.map_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
#endif
	}
	return close(fd);
}

#define close(fd) observe_close(fd)
#define syscall(nr, cmd, attr, size) observe_bpf(nr, cmd, attr, size)
#include <bpf/skel_internal.h>

/* What bpf_load_and_run() said when it failed (opts is the skeleton's). */
static const char *load_errstr;

static int observe_load_and_run(struct bpf_load_and_run_opts *opts)
{
	int err = bpf_load_and_run(opts);

	load_errstr = err ? opts->errstr : NULL;
	return err;
}

#define bpf_load_and_run(opts) observe_load_and_run(opts)
#include SKEL_HDR
#undef bpf_load_and_run
#undef syscall
#undef close

static int count_fds(void)
{
	struct dirent *d;
	int n = 0;
	DIR *dir;

	dir = opendir("/proc/self/fd");
	if (!dir)
		return -1;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.')
			n++;
	closedir(dir);
	return n - 1; /* the directory's own fd */
}

#define MAX_IDS 4096

struct ids {
	int n;
	__u32 id[MAX_IDS];
};

/* The ids of the BPF objects of one kind (BPF_MAP_GET_NEXT_ID etc.). */
static void get_ids(int cmd, struct ids *ids)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	ids->n = 0;
	while (ids->n < MAX_IDS && !syscall(__NR_bpf, cmd, &attr, sizeof(attr))) {
		ids->id[ids->n++] = attr.next_id;
		attr.start_id = attr.next_id;
	}
}

/* An id of @now that is not in @before (a new object), or 0. */
static __u32 new_id(const struct ids *before, const struct ids *now)
{
	int i, j;

	for (i = 0; i < now->n; i++) {
		for (j = 0; j < before->n && before->id[j] != now->id[i]; j++)
			;
		if (j == before->n)
			return now->id[i];
	}
	return 0;
}

static struct ids maps_before, progs_before, maps_now, progs_now;

/*
 * Nothing the load created is left: no map or program id that was not
 * there before (objects of earlier tests may go away meanwhile). Maps and
 * programs are freed after an RCU grace period or from a work item, so
 * wait up to 5 s.
 */
static void check_nothing_left(int fds, const char *when)
{
	__u32 m = 0, p = 0;
	int i;

	for (i = 0; i < 100; i++) {
		get_ids(BPF_MAP_GET_NEXT_ID, &maps_now);
		get_ids(BPF_PROG_GET_NEXT_ID, &progs_now);
		m = new_id(&maps_before, &maps_now);
		p = new_id(&progs_before, &progs_now);
		if (!m && !p)
			break;
		usleep(50000);
	}
	check(!m, "%s: no map left behind (new map id %u)", when, m);
	check(!p, "%s: no program left behind (new program id %u)", when, p);
	check(count_fds() == fds, "%s: no fd leaked (%d fds, %d before)", when,
	      count_fds(), fds);
}

static int make_keyring(const char *cert_path)
{
	static unsigned char der[8192];
	long keyring, key;
	ssize_t n;
	int fd;

	fd = open(cert_path, O_RDONLY);
	if (fd < 0) {
		check(0, "open %s: %s", cert_path, strerror(errno));
		return -1;
	}
	n = read(fd, der, sizeof(der));
	close(fd);
	keyring = syscall(__NR_add_key, "keyring", "bpfsig-skel", NULL, 0,
			  KEY_SPEC_USER_KEYRING);
	key = keyring < 0 ? -1 :
		syscall(__NR_add_key, "asymmetric", "", der, n > 0 ? n : 0, keyring);
	if (keyring < 0 || key < 0) {
		check(0, "keyring with %s: %s", cert_path, strerror(errno));
		return -1;
	}
	return keyring;
}

#ifndef EXPECT_ERR
static void check_inner_prog(int prog_fd, const char *name)
{
	check(fdinfo(prog_fd, "kernel_load") == 1,
	      "%s: inner program loaded from the kernel (kernel_load %ld)", name,
	      fdinfo(prog_fd, "kernel_load"));
}

#if defined(PROG_counter)
static void exercise(struct counter *skel)
{
	int i;

	check_inner_prog(skel->progs.count_getppid.prog_fd, "count_getppid");
	check(!counter__attach(skel), "counter: attached to tp_btf/sys_enter");
	skel->bss->target_pid = getpid();
	for (i = 0; i < 5; i++)
		syscall(__NR_getppid);
	check(skel->bss->calls == 5, "counter: counted 5 getppid() calls (%llu)",
	      (unsigned long long)skel->bss->calls);
}
#elif defined(PROG_maps)
static void exercise(struct maps *skel)
{
	__u64 value, sq;
	union bpf_attr attr;
	__u32 i;
	int ok = 1;

	check_inner_prog(skel->progs.fill.prog_fd, "fill");
	memset(&attr, 0, sizeof(attr));
	attr.test.prog_fd = skel->progs.fill.prog_fd;
	check(!syscall(__NR_bpf, BPF_PROG_RUN, &attr, sizeof(attr)) &&
	      attr.test.retval == 0, "maps: ran the syscall program");
	for (i = 0; i < 4; i++) {
		memset(&attr, 0, sizeof(attr));
		attr.map_fd = skel->maps.squares.map_fd;
		attr.key = (unsigned long)&i;
		attr.value = (unsigned long)&sq;
		ok &= !syscall(__NR_bpf, BPF_MAP_LOOKUP_ELEM, &attr, sizeof(attr)) &&
		      sq == (__u64)i * i;
		attr.map_fd = skel->maps.slots.map_fd;
		attr.value = (unsigned long)&value;
		ok &= !syscall(__NR_bpf, BPF_MAP_LOOKUP_ELEM, &attr, sizeof(attr)) &&
		      value == 1000 + 7 * i;
	}
	check(ok, "maps: hash and array hold what .data and .rodata say");
	check(skel->bss->runs == 1 && skel->data->base == 1000 &&
	      skel->rodata->multiplier == 7,
	      "maps: .bss, .data and .rodata are mapped with their values");
}
#elif defined(PROG_lsm)
static void exercise(struct lsm *skel)
{
	int fd;

	check_inner_prog(skel->progs.deny_open.prog_fd, "deny_open");
	check(!lsm__attach(skel), "lsm: attached to lsm/file_open");
	skel->bss->target_pid = getpid();
	skel->bss->armed = 1;
	fd = open("/proc/self/status", O_RDONLY);
	check(fd < 0 && errno == EPERM, "lsm: open() denied with EPERM while armed");
	if (fd >= 0)
		close(fd);
	skel->bss->armed = 0;
	fd = open("/proc/self/status", O_RDONLY);
	check(fd >= 0, "lsm: open() allowed when disarmed");
	if (fd >= 0)
		close(fd);
	check(skel->bss->denied == 1, "lsm: one denial counted (%llu)",
	      (unsigned long long)skel->bss->denied);
}
#else
#error "define PROG_counter, PROG_maps or PROG_lsm"
#endif
#endif /* !EXPECT_ERR */

#ifndef EXPECT_ERR
static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * SKEL_BENCH=N: time N loads (open, load, destroy; only the load timed) and
 * print the median and the 10th and 90th percentiles.
 */
static int bench(int keyring, int runs)
{
	__u64 *ns = calloc(runs, sizeof(*ns)), t;
	struct SKEL *skel;
	int i, err;

	if (!ns)
		return 1;
	for (i = 0; i < runs; i++) {
		skel = SKEL_FN(__open)();
		if (!skel)
			return 1;
		skel->keyring_id = keyring;
		t = now_ns();
		err = SKEL_FN(__load)(skel);
		ns[i] = now_ns() - t;
		SKEL_FN(__destroy)(skel);
		if (err) {
			printf("bench: load %d failed: %d\n", i, err);
			return 1;
		}
	}
	for (i = 0; i < runs; i++)
		printf("sample %s load_ns=%llu\n", STR(SKEL), (unsigned long long)ns[i]);
	qsort(ns, runs, sizeof(*ns), cmp_u64);
	printf("bench %s load_ns median=%llu p10=%llu p90=%llu runs=%d verified_insns=%ld\n",
	       STR(SKEL), (unsigned long long)ns[runs / 2],
	       (unsigned long long)ns[runs / 10], (unsigned long long)ns[runs * 9 / 10],
	       runs, loader.verified_insns);
	free(ns);
	return 0;
}
#endif /* !EXPECT_ERR */

#if !defined(EXPECT_ERR) && EXPECT_VERDICT == BPF_SIG_METADATA_VERIFIED
/*
 * Run the loader again after its metadata map's hash was recomputed (the
 * first run wrote map fds into it): the check must fail, and the cleanup it
 * jumps to must close nothing of what the first run created, whose fds the
 * skeleton still holds and which the blob still lists.
 */
static void rerun_fails_and_closes_nothing(struct SKEL *skel)
{
	__u8 hash[32];
	struct bpf_map_info info;
	union bpf_attr attr;
	int fds, err;

	if (!loader.seen || loader.prog_fd < 0 || loader.map_fd < 0) {
		check(0, "re-run: kept the loader's and its map's fds (%d, %d)",
		      loader.prog_fd, loader.map_fd);
		return;
	}
	memset(&info, 0, sizeof(info));
	info.hash = (unsigned long)hash;
	info.hash_size = sizeof(hash);
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = loader.map_fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (unsigned long)&info;
	check(!syscall(__NR_bpf, BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr)),
	      "re-run: the metadata map's hash recomputed (%d)", errno);
	fds = count_fds();
	memset(&attr, 0, sizeof(attr));
	attr.test.prog_fd = loader.prog_fd;
	attr.test.ctx_in = (unsigned long)&skel->ctx;
	attr.test.ctx_size_in = skel->ctx.sz;
	err = syscall(__NR_bpf, BPF_PROG_TEST_RUN, &attr, sizeof(attr));
	check(!err && (int)attr.test.retval == -EINVAL,
	      "re-run: the metadata check fails (%d, retval %d)", err,
	      (int)attr.test.retval);
	check(count_fds() == fds,
	      "re-run: nothing of the first run was closed (%d fds, %d before)",
	      count_fds(), fds);
	close(loader.prog_fd);
	close(loader.map_fd);
	loader.prog_fd = loader.map_fd = -1;
}
#else
static inline void rerun_fails_and_closes_nothing(struct SKEL *skel)
{
	if (loader.prog_fd >= 0)
		close(loader.prog_fd);
	if (loader.map_fd >= 0)
		close(loader.map_fd);
	loader.prog_fd = loader.map_fd = -1;
}
#endif

int main(int argc, char **argv)
{
	int fds, keyring, err;
	struct SKEL *skel;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "builtin"))) {
		fprintf(stderr, "usage: %s <certificate.der> [builtin]\n", argv[0]);
		return 2;
	}
	keyring = argc == 3 ? 0 : make_keyring(argv[1]);
	if (keyring < 0)
		return 1;

#ifndef EXPECT_ERR
	if (getenv("SKEL_BENCH"))
		return bench(keyring, atoi(getenv("SKEL_BENCH")));
#endif
	fds = count_fds();
	get_ids(BPF_MAP_GET_NEXT_ID, &maps_before);
	get_ids(BPF_PROG_GET_NEXT_ID, &progs_before);

	skel = SKEL_FN(__open)();
	if (!skel) {
		check(0, STR(SKEL) ": open");
		return 1;
	}
	skel->keyring_id = keyring;
	/* the verifier's words for inner programs, shown if the load fails */
	skel->ctx.log_level = 1;
	skel->ctx.log_size = sizeof(vlog);
	skel->ctx.log_buf = (unsigned long)vlog;
	err = SKEL_FN(__load)(skel);
	if (err && vlog[0])
		printf("# verifier log:\n%s\n", vlog);
#ifdef EXPECT_ERR
	check(err == -EXPECT_ERR, STR(SKEL) ": load refused with %d (expected %d)",
	      err, -EXPECT_ERR);
#ifdef EXPECT_ERRSTR
	check(load_errstr && !strcmp(load_errstr, EXPECT_ERRSTR),
	      STR(SKEL) ": bpf_load_and_run() says \"%s\" (expected \"%s\")",
	      load_errstr ? load_errstr : "(nothing)", EXPECT_ERRSTR);
#endif
	SKEL_FN(__destroy)(skel);
	check_nothing_left(fds, "refused load");
#else
	check(!err, STR(SKEL) ": signed light skeleton loaded (%d)", err);
	check(loader.seen, "the loader program was seen");
	check(loader.verdict_at_load == BPF_SIG_VERIFIED,
	      "loader verdict after BPF_PROG_LOAD: %ld (VERIFIED is %d)",
	      loader.verdict_at_load, BPF_SIG_VERIFIED);
	check(loader.verdict == EXPECT_VERDICT,
	      "loader verdict after it ran: %ld (expected %d)", loader.verdict,
	      EXPECT_VERDICT);
	check(loader.kernel_load == 0, "the loader itself came from user space");
	check(loader.core_relos == 0 && loader.fd_array_non_maps == 0,
	      "the loader's load: %ld CO-RE relocations, %ld fd_array entries that are not maps",
	      loader.core_relos, loader.fd_array_non_maps);
	printf("# loader verified_insns %ld\n", loader.verified_insns);
	printf("# loader prog_tag %s %s\n", SKEL_HDR, loader.tag);
	rerun_fails_and_closes_nothing(skel);
	if (!err)
		exercise(skel);
	SKEL_FN(__destroy)(skel);
	check_nothing_left(fds, "after destroy");
#endif
	if (keyring)
		syscall(__NR_keyctl, KEYCTL_UNLINK, keyring, KEY_SPEC_USER_KEYRING);
	printf("%s: %d failed\n", STR(SKEL), failures);
	return failures ? 1 : 0;
}
