/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the vmtided benchmarks: three test guests under a real vmtided, and its answers. */
#pragma once

#include "tests/vt-test-daemon.h"
#include "tests/vt-test-guest.h"
#include "tests/vt-test-libvirt.h"

G_BEGIN_DECLS

#define VT_BENCH_MIB         (G_GUINT64_CONSTANT(1) << 20)
#define VT_BENCH_N_GUESTS    3
#define VT_BENCH_GUEST_BYTES (512 * VT_BENCH_MIB)
#define VT_BENCH_BUDGET      (1200 * VT_BENCH_MIB)
#define VT_BENCH_ALLOC_STEP  (32 * VT_BENCH_MIB)
#define VT_BENCH_GUARD_US    (120 * G_USEC_PER_SEC)

/**
 * VtBenchGuestSpec:
 * @memory_bytes: its boot memory
 * @virtio_mem_bytes: the maximum of its virtio-mem device; 0: none
 *
 * One guest of a bench built by vt_bench_new_guests().
 */
typedef struct {
        guint64 memory_bytes;
        guint64 virtio_mem_bytes;
} VtBenchGuestSpec;

/**
 * VtBench:
 * @dir: the benchmark's temp dir (one subdir per daemon started)
 * @guests: the test guests, booted once; the first @n_guests are used
 * @n_guests: how many there are (%VT_BENCH_N_GUESTS unless built by
 *     vt_bench_new_guests())
 * @budget_bytes: the daemon's `[budget] total`
 * @daemon_dir: the running daemon's dir (its vmtided.conf), or %NULL
 * @algorithm: the running daemon's policy, or %NULL
 * @daemon: the daemon running now, or %NULL
 * @n_daemons: how many daemons were started, for their subdirs
 * @libvirt: (nullable): the libvirtd whose domains the guests are, when
 *     the daemon runs its libvirt backend
 *
 * Three 512 MiB test guests and the vmtided that manages them under a
 * 1200 MiB budget, as in tests/test-vmtided.c (or, with libvirt, as in
 * tests/test-libvirt-daemon.c); or the guests and budget given to
 * vt_bench_new_guests().
 */
typedef struct {
        char *dir;
        VtTestGuest *guests[VT_BENCH_N_GUESTS];
        guint n_guests;
        guint64 budget_bytes;
        char *daemon_dir;
        char *algorithm;
        VtTestDaemon *daemon;
        guint n_daemons;
        VtTestLibvirt *libvirt;
} VtBench;

VtBench *vt_bench_new(const char *prefix);
VtBench *vt_bench_new_libvirt(const char *prefix);
VtBench *vt_bench_new_guests(const char *prefix, const VtBenchGuestSpec *specs, guint n_guests,
                             guint64 budget_bytes);
void vt_bench_free(VtBench *bench);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtBench, vt_bench_free)

void vt_bench_daemon_start(VtBench *bench, const char *algorithm);
void vt_bench_daemon_stop(VtBench *bench);
void vt_bench_daemon_dump_log(VtBench *bench);
gboolean vt_bench_daemon_set_budget(VtBench *bench, guint64 budget_bytes, gint64 guard_us);

const char *vt_bench_guest_name(VtBench *bench, guint i);
gint64 vt_bench_json_int(json_object *object, const char *path);
gint64 vt_bench_guest_int(VtBench *bench, guint i, const char *path);
gint64 vt_bench_guest_memory(VtBench *bench, guint i);
gboolean vt_bench_set_target(VtBench *bench, guint i, guint64 bytes);
gint64 vt_bench_guest_rss(VtBench *bench, guint i);

gboolean vt_bench_wait(VtBench *bench, VtTestCondition done, gpointer data, gint64 guard_us);
gboolean vt_bench_wait_settled(VtBench *bench, gint64 guard_us);
gboolean vt_bench_poll(VtTestCondition done, gpointer data, gint64 guard_us);
gboolean vt_bench_wait_reports(VtBench *bench, gint64 guard_us);
gboolean vt_bench_wait_quiet(VtBench *bench, gint64 quiet_us, gint64 guard_us);

G_END_DECLS
