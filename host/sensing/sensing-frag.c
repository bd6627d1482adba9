/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fragmentation of the host's free memory and what it costs:
 * /proc/buddyinfo (free blocks per order and zone), the extfrag index
 * in debugfs (Documentation/admin-guide/sysctl/vm.rst, extfrag_threshold),
 * direct compaction and THP fallbacks from /proc/vmstat, and the THP
 * modes. Parsers are pure; the reader finds the files. A kernel or mount
 * without one of them leaves its part empty.
 */
#include "host/sensing/sensing-frag.h"

#include <string.h>

#include "host/sensing/sensing-text.h"

/*
 * "Node 0, zone   Normal  23875  17554 ..." (buddyinfo) or
 * "Node 0, zone   Normal -1.000 -1.000 ..." (extfrag_index): the node, the
 * zone and the words after them.
 */
static gboolean
split_zone_line(const char *line, gint *ret_node, char *zone, gsize zone_size, GStrv *ret_words)
{
        g_auto(GStrv) words = NULL;
        g_autoptr(GPtrArray) rest = g_ptr_array_new_with_free_func(g_free);
        guint i, n = 0;
        gint64 node;
        const char *w[4];

        if (!g_str_has_prefix(line, "Node "))
                return FALSE;
        words = g_strsplit_set(line, " \t,", -1);
        for (i = 0; words[i] != NULL && n < G_N_ELEMENTS(w); i++)
                if (words[i][0] != '\0')
                        w[n++] = words[i];
        if (n < 4 || strcmp(w[2], "zone") != 0 ||
            !g_ascii_string_to_signed(w[1], 10, 0, G_MAXINT, &node, NULL))
                return FALSE;
        for (; words[i] != NULL; i++)
                if (words[i][0] != '\0')
                        g_ptr_array_add(rest, g_strdup(words[i]));
        g_ptr_array_add(rest, NULL);
        *ret_node = (gint)node;
        g_strlcpy(zone, w[3], zone_size);
        *ret_words = (GStrv)g_ptr_array_free(g_steal_pointer(&rest), FALSE);
        return TRUE;
}

/**
 * vt_host_buddyinfo_parse:
 * @text: the content of /proc/buddyinfo
 * @ret_zones: (out caller-allocates) (array length=max): the zones, their
 *     extfrag fields unset
 * @max: room in @ret_zones
 *
 * Lines that do not parse are skipped; orders past
 * %VT_HOST_ORDERS_MAX are dropped. Pure.
 *
 * Returns: the number of zones written
 */
guint
vt_host_buddyinfo_parse(const char *text, VtHostZone *ret_zones, guint max)
{
        g_auto(GStrv) lines = NULL;
        guint n = 0;

        if (text == NULL)
                return 0;
        lines = g_strsplit(text, "\n", -1);
        for (guint i = 0; lines[i] != NULL && n < max; i++) {
                g_auto(GStrv) counts = NULL;
                VtHostZone zone = {0};
                gboolean ok = TRUE;

                if (!split_zone_line(lines[i], &zone.node, zone.name, sizeof(zone.name), &counts))
                        continue;
                for (guint o = 0; counts[o] != NULL && o < VT_HOST_ORDERS_MAX; o++) {
                        ok = g_ascii_string_to_unsigned(counts[o], 10, 0, G_MAXUINT64,
                                                        &zone.free_blocks[o], NULL);
                        if (!ok)
                                break;
                        zone.n_orders = o + 1;
                }
                if (ok && zone.n_orders > 0)
                        ret_zones[n++] = zone;
        }
        return n;
}

/* "-1.000" or "0.954" as thousandths; FALSE outside -1..1. */
static gboolean
parse_index(const char *word, gint *ret_milli)
{
        char *end = NULL;
        double v = g_ascii_strtod(word, &end);

        if (end == word || *end != '\0' || !(v >= -1.0 && v <= 1.0))
                return FALSE;
        *ret_milli = (gint)(v * 1000.0 + (v < 0 ? -0.5 : 0.5));
        return TRUE;
}

/**
 * vt_host_extfrag_parse:
 * @text: the content of /sys/kernel/debug/extfrag/extfrag_index
 * @zones: (array length=n_zones): zones from vt_host_buddyinfo_parse()
 * @n_zones: their number
 *
 * Fills the extfrag fields of the zones that @text names. Pure.
 *
 * Returns: the number of zones filled
 */
guint
vt_host_extfrag_parse(const char *text, VtHostZone *zones, guint n_zones)
{
        g_auto(GStrv) lines = NULL;
        guint filled = 0;

        if (text == NULL)
                return 0;
        lines = g_strsplit(text, "\n", -1);
        for (guint i = 0; lines[i] != NULL; i++) {
                g_auto(GStrv) values = NULL;
                char name[16];
                gint node;

                if (!split_zone_line(lines[i], &node, name, sizeof(name), &values))
                        continue;
                for (guint z = 0; z < n_zones; z++) {
                        VtHostZone *zone = &zones[z];
                        guint o;

                        if (zone->node != node || strcmp(zone->name, name) != 0)
                                continue;
                        for (o = 0; values[o] != NULL && o < VT_HOST_ORDERS_MAX; o++)
                                if (!parse_index(values[o], &zone->extfrag_index[o]))
                                        break;
                        zone->has_extfrag = o > 0 && values[o] == NULL;
                        filled += zone->has_extfrag ? 1 : 0;
                }
        }
        return filled;
}

/**
 * vt_host_frag_parse_vmstat:
 * @vmstat: (nullable): the content of /proc/vmstat
 * @frag: receives the compaction and THP fault counters and their flags
 *
 * Pure.
 */
void
vt_host_frag_parse_vmstat(const char *vmstat, VtHostFrag *frag)
{
        g_return_if_fail(frag != NULL);

        frag->has_compact = vt_host_text_get_u64(vmstat, "compact_stall", &frag->compact_stall) &&
                            vt_host_text_get_u64(vmstat, "compact_fail", &frag->compact_fail);
        if (!vt_host_text_get_u64(vmstat, "compact_success", &frag->compact_success))
                frag->compact_success = 0;
        frag->has_thp_vmstat =
            vt_host_text_get_u64(vmstat, "thp_fault_alloc", &frag->thp_fault_alloc) &&
            vt_host_text_get_u64(vmstat, "thp_fault_fallback", &frag->thp_fault_fallback);
}

/**
 * vt_host_frag_read:
 * @root: the root of /proc and /sys ("/" on a real host)
 * @vmstat: (nullable): /proc/vmstat's content, read once by the caller
 * @ret: (out): the fragmentation sample
 *
 * Never fails.
 */
void
vt_host_frag_read(const char *root, const char *vmstat, VtHostFrag *ret)
{
        g_autofree char *buddy = NULL;
        g_autofree char *extfrag = NULL;
        g_autofree char *enabled = NULL;
        g_autofree char *defrag = NULL;
        VtHostFrag *f;
        guint64 threshold;

        g_return_if_fail(root != NULL && ret != NULL);

        f = g_new0(VtHostFrag, 1);
        buddy = vt_host_text_read(root, "proc/buddyinfo");
        f->n_zones = vt_host_buddyinfo_parse(buddy, f->zones, VT_HOST_ZONES_MAX);
        extfrag = vt_host_text_read(root, "sys/kernel/debug/extfrag/extfrag_index");
        f->has_extfrag = vt_host_extfrag_parse(extfrag, f->zones, f->n_zones) > 0;
        f->extfrag_threshold = -1;
        if (vt_host_text_read_u64(root, "proc/sys/vm/extfrag_threshold", &threshold) &&
            threshold <= 1000)
                f->extfrag_threshold = (gint)threshold;
        vt_host_frag_parse_vmstat(vmstat, f);
        enabled = vt_host_text_read(root, "sys/kernel/mm/transparent_hugepage/enabled");
        defrag = vt_host_text_read(root, "sys/kernel/mm/transparent_hugepage/defrag");
        vt_host_text_selected(enabled, f->thp_enabled, sizeof(f->thp_enabled));
        vt_host_text_selected(defrag, f->thp_defrag, sizeof(f->thp_defrag));
        *ret = *f;
        g_free(f);
}
