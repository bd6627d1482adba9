/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zswap (Documentation/admin-guide/mm/zswap.rst): its module parameters
 * under /sys/module/zswap/parameters, its size in /proc/meminfo (Zswap,
 * Zswapped), its traffic in /proc/vmstat (zswpin, zswpout, zswpwb) and,
 * when debugfs is mounted and readable, its refusal counters under
 * /sys/kernel/debug/zswap. Each source is optional.
 */
#include "host/sensing/sensing-zswap.h"

#include <string.h>

#include "host/sensing/sensing-text.h"

#define PARAMS  "sys/module/zswap/parameters"
#define DEBUGFS "sys/kernel/debug/zswap"

/**
 * vt_host_zswap_parse_counters:
 * @meminfo: (nullable): the content of /proc/meminfo
 * @vmstat: (nullable): the content of /proc/vmstat
 * @zswap: receives the meminfo and vmstat fields and their has_ flags
 *
 * Pure.
 */
void
vt_host_zswap_parse_counters(const char *meminfo, const char *vmstat, VtHostZswap *zswap)
{
        g_return_if_fail(zswap != NULL);

        zswap->has_meminfo = vt_host_text_get_kib(meminfo, "Zswap", &zswap->pool_bytes) &&
                             vt_host_text_get_kib(meminfo, "Zswapped", &zswap->stored_bytes);
        zswap->has_vmstat = vt_host_text_get_u64(vmstat, "zswpin", &zswap->zswpin) &&
                            vt_host_text_get_u64(vmstat, "zswpout", &zswap->zswpout);
        zswap->has_zswpwb = vt_host_text_get_u64(vmstat, "zswpwb", &zswap->zswpwb);
}

/* A Y/N parameter; FALSE when absent. */
static gboolean
read_flag(const char *root, const char *name)
{
        g_autofree char *rel = g_build_filename(PARAMS, name, NULL);
        g_autofree char *text = vt_host_text_read(root, rel);

        return text != NULL && (text[0] == 'Y' || text[0] == 'y' || text[0] == '1');
}

static gint
read_percent(const char *root, const char *name)
{
        g_autofree char *rel = g_build_filename(PARAMS, name, NULL);
        guint64 v;

        if (!vt_host_text_read_u64(root, rel, &v) || v > 100)
                return -1;
        return (gint)v;
}

static void
read_word(const char *root, const char *name, char *buf, gsize size)
{
        g_autofree char *rel = g_build_filename(PARAMS, name, NULL);
        g_autofree char *text = vt_host_text_read(root, rel);

        buf[0] = '\0';
        if (text != NULL)
                g_strlcpy(buf, g_strstrip(text), size);
}

static void
read_debugfs(const char *root, VtHostZswap *z)
{
        static const struct {
                const char *name;
                gsize offset;
        } counters[] = {
            {"pool_limit_hit", G_STRUCT_OFFSET(VtHostZswap, pool_limit_hit)},
            {"reject_compress_poor", G_STRUCT_OFFSET(VtHostZswap, reject_compress_poor)},
            {"reject_compress_fail", G_STRUCT_OFFSET(VtHostZswap, reject_compress_fail)},
            {"reject_alloc_fail", G_STRUCT_OFFSET(VtHostZswap, reject_alloc_fail)},
            {"reject_reclaim_fail", G_STRUCT_OFFSET(VtHostZswap, reject_reclaim_fail)},
            {"written_back_pages", G_STRUCT_OFFSET(VtHostZswap, written_back_pages)},
        };

        for (gsize i = 0; i < G_N_ELEMENTS(counters); i++) {
                g_autofree char *rel = g_build_filename(DEBUGFS, counters[i].name, NULL);
                guint64 v;

                if (!vt_host_text_read_u64(root, rel, &v))
                        continue;
                G_STRUCT_MEMBER(guint64, z, counters[i].offset) = v;
                z->has_debugfs = TRUE;
        }
}

/**
 * vt_host_zswap_read:
 * @root: the root of /sys ("/" on a real host)
 * @meminfo: (nullable): /proc/meminfo's content, read once by the caller
 * @vmstat: (nullable): /proc/vmstat's content
 * @ret: (out): zswap's state; all zero with @present %FALSE on a kernel
 *     without zswap
 *
 * Never fails.
 */
void
vt_host_zswap_read(const char *root, const char *meminfo, const char *vmstat, VtHostZswap *ret)
{
        g_autofree char *params = NULL;
        VtHostZswap z = {0};

        g_return_if_fail(root != NULL && ret != NULL);

        params = g_build_filename(root, PARAMS, NULL);
        z.max_pool_percent = -1;
        z.accept_threshold_percent = -1;
        z.present = g_file_test(params, G_FILE_TEST_IS_DIR);
        if (z.present) {
                z.enabled = read_flag(root, "enabled");
                z.shrinker_enabled = read_flag(root, "shrinker_enabled");
                z.max_pool_percent = read_percent(root, "max_pool_percent");
                z.accept_threshold_percent = read_percent(root, "accept_threshold_percent");
                read_word(root, "compressor", z.compressor, sizeof(z.compressor));
                read_word(root, "zpool", z.zpool, sizeof(z.zpool));
        }
        vt_host_zswap_parse_counters(meminfo, vmstat, &z);
        read_debugfs(root, &z);
        *ret = z;
}
