/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What zram saves on this machine, per kind of memory and per algorithm. */

/*
 * Three kinds of memory, each a fixed amount (256 MiB by default) built
 * once in this process: text-like (real text files concatenated: C headers
 * under /usr/include, the uncompressed files of /usr/share/doc, Python
 * sources), binary-like (the ELF files under /usr/lib) and random
 * (/dev/urandom). For each repetition, kind and algorithm that zram0
 * offers, zram0 is reset, given the algorithm and a disksize, and the data
 * is written to /dev/zram0 as a block device with O_DIRECT in 1 MiB writes
 * (no swap, no cgroup): zram compresses each 4 KiB page in the writer's
 * context, so the writing process's system time is the compression cost.
 * Then mm_stat gives orig_data_size, compr_data_size, mem_used_total,
 * same_pages and huge_pages (pages stored uncompressed), and zram0 is
 * reset again. The table holds the medians of the repetitions.
 *
 * zram0 must be unused: disksize 0, not swap, no holders, not mounted;
 * the bench refuses otherwise. It restores zram0 exactly as found (reset,
 * so disksize 0, and the algorithm it had) on every path: at the end, on
 * an error, and from SIGINT, SIGTERM, SIGHUP and SIGQUIT.
 *
 *   bench-zram [MIB [REPEATS]]     (default 256 and 3; root)
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "tests/vt-test-util.h"

#define ZRAM_DIR  "/sys/block/zram0"
#define ZRAM_DEV  "/dev/zram0"
#define MIB       (G_GUINT64_CONSTANT(1024) * 1024)
#define CHUNK     MIB
#define MAX_ALGOS 8
#define MAX_REPS  15

typedef enum { KIND_TEXT, KIND_BINARY, KIND_RANDOM, N_KINDS } Kind;

static const char *const kind_names[N_KINDS] = {"text-like", "binary-like", "random"};

/* One write of one kind with one algorithm. */
typedef struct {
        double orig_mib;
        double compr_mib;
        double used_mib;
        double same_pages;
        double huge_pages;
        double wall_ms;
        double sys_ms;
        double user_ms;
} Result;

/* The algorithm zram0 had when found, restored on every path. */
static char found_algorithm[64];
static volatile sig_atomic_t touched;

/* Puts zram0 back as found: reset (disksize 0, data freed), algorithm. */
static void
restore_zram(void)
{
        if (!touched)
                return;
        if (!vt_test_write_file(ZRAM_DIR "/reset", "1"))
                fprintf(stderr, "bench-zram: reset %s: %s\n", ZRAM_DIR, strerror(errno));
        if (!vt_test_write_file(ZRAM_DIR "/comp_algorithm", found_algorithm))
                fprintf(stderr, "bench-zram: comp_algorithm %s: %s\n", found_algorithm,
                        strerror(errno));
        touched = 0;
}

static void
guard_signal(int sig)
{
        restore_zram();
        signal(sig, SIG_DFL);
        raise(sig);
}

/* Why zram0 cannot be used, or NULL; fills the algorithms offered. */
static const char *
check_zram(char algos[MAX_ALGOS][64], guint *n_algos)
{
        g_autofree char *disksize = vt_test_read_text(ZRAM_DIR "/disksize");
        g_autofree char *swaps = vt_test_read_text("/proc/swaps");
        g_autofree char *mounts = vt_test_read_text("/proc/mounts");
        g_autofree char *line = vt_test_read_text(ZRAM_DIR "/comp_algorithm");
        g_auto(GStrv) words = NULL;
        g_autoptr(GDir) holders = g_dir_open(ZRAM_DIR "/holders", 0, NULL);

        if (geteuid() != 0)
                return "not root";
        if (disksize == NULL || line == NULL)
                return "no " ZRAM_DIR " (modprobe zram)";
        if (!g_str_equal(disksize, "0") || (swaps && strstr(swaps, ZRAM_DEV)) ||
            (mounts && strstr(mounts, ZRAM_DEV)) || (holders && g_dir_read_name(holders)))
                return "zram0 is in use (disksize not 0, swap, mounted or held): not touching it";
        words = g_strsplit_set(line, " ", -1);
        *n_algos = 0;
        for (guint i = 0; words[i] != NULL && *n_algos < MAX_ALGOS; i++) {
                char *w = words[i];

                if (*w == '\0')
                        continue;
                if (*w == '[') {
                        w++;
                        w[strcspn(w, "]")] = '\0';
                        g_strlcpy(found_algorithm, w, sizeof(found_algorithm));
                }
                g_strlcpy(algos[(*n_algos)++], w, 64);
        }
        return found_algorithm[0] ? NULL : "no selected algorithm in comp_algorithm";
}

/* Whether a file holds text: no NUL and mostly printable in its first 4 KiB. */
static gboolean
is_text(const char *data, gsize len)
{
        gsize printable = 0, n = MIN(len, 4096);

        for (gsize i = 0; i < n; i++) {
                if (data[i] == '\0')
                        return FALSE;
                printable +=
                    g_ascii_isprint(data[i]) || g_ascii_isspace(data[i]) || (guchar)data[i] >= 0x80;
        }
        return n > 0 && printable * 100 >= n * 95;
}

static gboolean
is_elf(const char *data, gsize len)
{
        return len > 64 && memcmp(data, "\177ELF", 4) == 0;
}

typedef gboolean (*KindFunc)(const char *data, gsize len);

/* Appends the files under DIR that KIND accepts to BUF until SIZE. */
static void
collect(const char *dir, KindFunc kind, char *buf, gsize size, gsize *used, guint depth)
{
        g_autoptr(GDir) d = depth < 12 ? g_dir_open(dir, 0, NULL) : NULL;
        const char *name;

        while (d != NULL && *used < size && (name = g_dir_read_name(d)) != NULL) {
                g_autofree char *path = g_build_filename(dir, name, NULL);
                g_autofree char *data = NULL;
                gsize len = 0;

                if (g_file_test(path, G_FILE_TEST_IS_SYMLINK))
                        continue;
                if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
                        collect(path, kind, buf, size, used, depth + 1);
                        continue;
                }
                if (g_str_has_suffix(name, ".gz") || g_str_has_suffix(name, ".xz") ||
                    !g_file_get_contents(path, &data, &len, NULL) || !kind(data, len))
                        continue;
                len = MIN(len, size - *used);
                memcpy(buf + *used, data, len);
                *used += len;
        }
}

/* Fills BUF with KIND; returns how many bytes were distinct (not repeated). */
static gsize
fill(Kind kind, char *buf, gsize size)
{
        static const char *const text_dirs[] = {"/usr/include", "/usr/share/doc",
                                                "/usr/lib/python3", "/usr/share/perl5", NULL};
        gsize used = 0, distinct;

        if (kind == KIND_RANDOM) {
                int fd = open("/dev/urandom", O_RDONLY);

                while (fd >= 0 && used < size) {
                        ssize_t n = read(fd, buf + used, size - used);

                        if (n <= 0)
                                break;
                        used += (gsize)n;
                }
                if (fd >= 0)
                        close(fd);
        } else if (kind == KIND_TEXT) {
                for (guint i = 0; text_dirs[i] != NULL && used < size; i++)
                        collect(text_dirs[i], is_text, buf, size, &used, 0);
        } else {
                collect("/usr/lib", is_elf, buf, size, &used, 0);
        }
        if (used == 0)
                g_error("no data for %s", kind_names[kind]);
        distinct = used;
        for (; used < size; used += MIN(distinct, size - used))
                memcpy(buf + used, buf, MIN(distinct, size - used));
        return distinct;
}

static double
tv_ms(struct timeval tv)
{
        return tv.tv_sec * 1e3 + tv.tv_usec / 1e3;
}

static void
must_write(const char *path, const char *text)
{
        if (!vt_test_write_file(path, text)) {
                fprintf(stderr, "bench-zram: writing %s to %s: %s\n", text, path, strerror(errno));
                restore_zram();
                exit(1);
        }
}

/* Writes BUF to a fresh zram0 using ALGO and reads what it cost. */
static Result
run_one(const char *algo, const char *buf, gsize size)
{
        g_autofree char *disksize = g_strdup_printf("%" G_GSIZE_FORMAT, size + 64 * MIB);
        g_autofree char *mm_stat = NULL;
        struct rusage before, after;
        guint64 f[9] = {0};
        Result r = {0};
        gint64 t0, t1;
        int fd;

        touched = 1;
        must_write(ZRAM_DIR "/reset", "1");
        must_write(ZRAM_DIR "/comp_algorithm", algo);
        must_write(ZRAM_DIR "/disksize", disksize);
        fd = open(ZRAM_DEV, O_WRONLY | O_DIRECT);
        if (fd < 0) {
                fprintf(stderr, "bench-zram: %s: %s\n", ZRAM_DEV, strerror(errno));
                restore_zram();
                exit(1);
        }
        getrusage(RUSAGE_SELF, &before);
        t0 = g_get_monotonic_time();
        for (gsize off = 0; off < size; off += CHUNK) {
                if (write(fd, buf + off, MIN(CHUNK, size - off)) !=
                    (ssize_t)MIN(CHUNK, size - off)) {
                        fprintf(stderr, "bench-zram: writing %s: %s\n", ZRAM_DEV, strerror(errno));
                        close(fd);
                        restore_zram();
                        exit(1);
                }
        }
        fsync(fd);
        t1 = g_get_monotonic_time();
        getrusage(RUSAGE_SELF, &after);
        close(fd);
        mm_stat = vt_test_read_text(ZRAM_DIR "/mm_stat");
        if (mm_stat == NULL ||
            sscanf(mm_stat,
                   "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                   " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                   " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
                   &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7]) < 8) {
                fprintf(stderr, "bench-zram: unreadable mm_stat: %s\n", mm_stat ? mm_stat : "-");
                restore_zram();
                exit(1);
        }
        must_write(ZRAM_DIR "/reset", "1");
        r = (Result){.orig_mib = (double)f[0] / MIB,
                     .compr_mib = (double)f[1] / MIB,
                     .used_mib = (double)f[2] / MIB,
                     .same_pages = (double)f[5],
                     .huge_pages = (double)f[7],
                     .wall_ms = (t1 - t0) / 1e3,
                     .sys_ms = tv_ms(after.ru_stime) - tv_ms(before.ru_stime),
                     .user_ms = tv_ms(after.ru_utime) - tv_ms(before.ru_utime)};
        return r;
}

static int
cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

/* The median of field OFFSET (a double in Result) over N results. */
static double
median(const Result *rs, guint n, gsize offset)
{
        double v[MAX_REPS];

        for (guint i = 0; i < n; i++)
                v[i] = *(const double *)((const char *)&rs[i] + offset);
        qsort(v, n, sizeof(double), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define MED(field) median(rs, n, G_STRUCT_OFFSET(Result, field))

static void
print_row(const char *kind, const char *algo, const Result *rs, guint n)
{
        double orig = MED(orig_mib), used = MED(used_mib), compr = MED(compr_mib);
        double wall = MED(wall_ms), sys = MED(sys_ms);

        printf("| %s | %s | %.0f | %.1f | %.1f | %.2f | %.2f | %.0f | %.0f | %.0f | %.0f | %.0f | "
               "%.0f "
               "|\n",
               kind, algo, orig, compr, used, orig / used, orig / compr, MED(same_pages),
               MED(huge_pages), wall, orig / (wall / 1e3), sys, sys / (orig / 1024));
}

int
main(int argc, char **argv)
{
        gsize size = (argc > 1 ? (gsize)atoi(argv[1]) : 256) * MIB;
        guint reps = CLAMP(argc > 2 ? atoi(argv[2]) : 3, 1, MAX_REPS);
        char algos[MAX_ALGOS][64];
        guint n_algos = 0;
        const char *why = check_zram(algos, &n_algos);
        static Result results[N_KINDS][MAX_ALGOS][MAX_REPS];
        char *bufs[N_KINDS];

        setvbuf(stdout, NULL, _IOLBF, 0);
        if (why != NULL) {
                fprintf(stderr, "bench-zram: %s\n", why);
                return 1;
        }
        atexit(restore_zram);
        signal(SIGINT, guard_signal);
        signal(SIGTERM, guard_signal);
        signal(SIGHUP, guard_signal);
        signal(SIGQUIT, guard_signal);
        for (guint k = 0; k < N_KINDS; k++) {
                gsize distinct;

                if (posix_memalign((void **)&bufs[k], 4096, size) != 0)
                        g_error("out of memory");
                distinct = fill(k, bufs[k], size);
                printf("# %s: %.1f MiB distinct, repeated to %.0f MiB\n", kind_names[k],
                       (double)distinct / MIB, (double)size / MIB);
        }
        printf("# zram0 found with [%s]; algorithms:", found_algorithm);
        for (guint a = 0; a < n_algos; a++)
                printf(" %s", algos[a]);
        printf("\n");
        /* Repetition outermost, so a noisy moment hits every cell alike. */
        for (guint r = 0; r < reps; r++)
                for (guint k = 0; k < N_KINDS; k++)
                        for (guint a = 0; a < n_algos; a++)
                                results[k][a][r] = run_one(algos[a], bufs[k], size);
        restore_zram();

        printf("\n| memory | algorithm | orig MiB | compr MiB | mem_used MiB | orig / mem_used | "
               "orig / compr | same pages | huge (stored raw) | write ms | MiB/s | system CPU ms "
               "| CPU ms per GiB |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (guint k = 0; k < N_KINDS; k++)
                for (guint a = 0; a < n_algos; a++)
                        print_row(kind_names[k], algos[a], results[k][a], reps);
        for (guint k = 0; k < N_KINDS; k++)
                free(bufs[k]);
        return 0;
}
