/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NUMA nodes (/sys/devices/system/node/nodeN: meminfo, cpulist) and
 * memory tiers (/sys/devices/virtual/memory_tiering/memory_tierN, kernel
 * 6.1+: Documentation/ABI/testing/sysfs-kernel-mm-memory-tiers). The
 * doctor only reports them. Without either directory the sample is
 * empty.
 */
#include "host/sensing/sensing-topo.h"

#include <string.h>

#include "host/sensing/sensing-text.h"

#define NODES "sys/devices/system/node"
#define TIERS "sys/devices/virtual/memory_tiering"

/* "Node 0 MemTotal:  24683792 kB": the value of KEY in a node's meminfo. */
static gboolean
node_kib(const char *text, const char *key, guint64 *ret_bytes)
{
        const char *at = strstr(text, key);
        guint64 kib;
        const char *p;

        if (at == NULL)
                return FALSE;
        p = at + strlen(key);
        while (*p == ' ' || *p == '\t')
                p++;
        if (!g_ascii_isdigit(*p))
                return FALSE;
        kib = g_ascii_strtoull(p, NULL, 10);
        if (kib > G_MAXUINT64 / 1024)
                return FALSE;
        *ret_bytes = kib * 1024;
        return TRUE;
}

/**
 * vt_host_node_meminfo_parse:
 * @text: the content of nodeN/meminfo
 * @node: receives @mem_total and @mem_free
 *
 * Pure.
 *
 * Returns: %TRUE when MemTotal was there
 */
gboolean
vt_host_node_meminfo_parse(const char *text, VtHostNode *node)
{
        g_return_val_if_fail(node != NULL, FALSE);
        if (text == NULL || !node_kib(text, "MemTotal:", &node->mem_total))
                return FALSE;
        if (!node_kib(text, "MemFree:", &node->mem_free))
                node->mem_free = 0;
        return TRUE;
}

/* The N of PREFIXN, or -1. */
static gint
entry_number(const char *entry, const char *prefix)
{
        gint64 n;

        if (!g_str_has_prefix(entry, prefix) ||
            !g_ascii_string_to_signed(entry + strlen(prefix), 10, 0, G_MAXINT, &n, NULL))
                return -1;
        return (gint)n;
}

static gint
compare_ints(gconstpointer a, gconstpointer b)
{
        gint x = *(const gint *)a, y = *(const gint *)b;

        return (x > y) - (x < y);
}

/* The numbers N of the entries PREFIXN of DIR (under ROOT), sorted. */
static GArray *
list_numbered(const char *root, const char *dir, const char *prefix)
{
        g_autofree char *path = g_build_filename(root, dir, NULL);
        g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
        GArray *ids = g_array_new(FALSE, FALSE, sizeof(gint));
        const char *entry;

        while (d != NULL && (entry = g_dir_read_name(d)) != NULL) {
                gint n = entry_number(entry, prefix);

                if (n >= 0)
                        g_array_append_val(ids, n);
        }
        g_array_sort(ids, compare_ints);
        return ids;
}

static void
read_nodes(const char *root, VtHostTopo *t)
{
        g_autoptr(GArray) ids = list_numbered(root, NODES, "node");

        for (guint i = 0; i < ids->len && t->n_nodes < VT_HOST_NODES_MAX; i++) {
                gint id = g_array_index(ids, gint, i);
                g_autofree char *dir = g_strdup_printf(NODES "/node%d", id);
                g_autofree char *meminfo_rel = g_build_filename(dir, "meminfo", NULL);
                g_autofree char *cpulist_rel = g_build_filename(dir, "cpulist", NULL);
                g_autofree char *meminfo = vt_host_text_read(root, meminfo_rel);
                g_autofree char *cpulist = vt_host_text_read(root, cpulist_rel);
                VtHostNode node = {.id = id};

                vt_host_node_meminfo_parse(meminfo, &node);
                node.has_cpus = cpulist != NULL && g_ascii_isdigit(g_strstrip(cpulist)[0]);
                t->nodes[t->n_nodes++] = node;
        }
}

static void
read_tiers(const char *root, VtHostTopo *t)
{
        g_autofree char *path = g_build_filename(root, TIERS, NULL);
        g_autoptr(GArray) ids = NULL;

        t->has_tiers = g_file_test(path, G_FILE_TEST_IS_DIR);
        if (!t->has_tiers)
                return;
        ids = list_numbered(root, TIERS, "memory_tier");
        for (guint i = 0; i < ids->len && t->n_tiers < VT_HOST_TIERS_MAX; i++) {
                gint id = g_array_index(ids, gint, i);
                g_autofree char *rel = g_strdup_printf(TIERS "/memory_tier%d/nodelist", id);
                g_autofree char *text = vt_host_text_read(root, rel);
                VtHostTier tier = {.id = id};

                if (text != NULL)
                        g_strlcpy(tier.nodelist, g_strstrip(text), sizeof(tier.nodelist));
                t->tiers[t->n_tiers++] = tier;
        }
}

/**
 * vt_host_topo_read:
 * @root: the root of /sys ("/" on a real host)
 * @ret: (out): the nodes and tiers
 *
 * Never fails.
 */
void
vt_host_topo_read(const char *root, VtHostTopo *ret)
{
        g_return_if_fail(root != NULL && ret != NULL);

        memset(ret, 0, sizeof(*ret));
        read_nodes(root, ret);
        read_tiers(root, ret);
}
