/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the host's memory sensors (host/sensing/sensing-mm.h):
 * the pure parsers from tables of kernel text, and vt_host_mm_sample_read()
 * on recorded trees (tests/data/mm/: the real one captured on the
 * development host and hand-edited ones for other kernels and situations).
 */
#include <string.h>

#include "host/sensing/sensing-mm.h"
#include "host/sensing/sensing-text.h"

#define MiB (G_GUINT64_CONSTANT(1) << 20)
#define GiB (G_GUINT64_CONSTANT(1) << 30)

/* ---- parsers ---- */

typedef struct {
        const char *text;
        gboolean ok;
        guint n_fields;
        guint64 orig, mem_limit, huge_pages, huge_pages_since;
} MmStatCase;

static const MmStatCase mm_stat_cases[] = {
    {"       0        0        0        0        0        0        0        0        0\n", TRUE, 9,
     0, 0, 0, 0},
    {"2147483648 650117120 681574400 0 734003200 12000 350 1800 2400\n", TRUE, 9, 2 * GiB, 0, 1800,
     2400},
    {"4096 100 8192 1048576 8192 1 0 7\n", TRUE, 8, 4096, 1048576, 7, 0},
    {"4096 100 8192 0 8192 1 0\n", TRUE, 7, 4096, 0, 0, 0},
    {"4096 100 8192 0 8192 1\n", FALSE},
    {"4096 lots 8192 0 8192 1 0 0 0\n", FALSE},
    {"-1 0 0 0 0 0 0 0 0\n", FALSE},
    {"", FALSE},
    {"1 2 3 4 5 6 7 8 9 10 11\n", TRUE, 9, 1, 4, 8, 9},
};

static void
test_mm_stat(gconstpointer data)
{
        const MmStatCase *c = data;
        VtHostZram z = {0};

        g_assert_cmpint(vt_host_zram_mm_stat_parse(c->text, &z), ==, c->ok);
        g_assert_cmpint(z.has_mm_stat, ==, c->ok);
        if (!c->ok)
                return;
        g_assert_cmpuint(z.n_mm_fields, ==, c->n_fields);
        g_assert_cmpuint(z.orig_data_size, ==, c->orig);
        g_assert_cmpuint(z.mem_limit, ==, c->mem_limit);
        g_assert_cmpuint(z.huge_pages, ==, c->huge_pages);
        g_assert_cmpuint(z.huge_pages_since, ==, c->huge_pages_since);
}

static void
test_bd_stat(void)
{
        VtHostZram z = {0};

        g_assert_true(vt_host_zram_bd_stat_parse("      12       4      12\n", &z));
        g_assert_true(z.has_bd_stat);
        g_assert_cmpuint(z.bd_count_pages, ==, 12);
        g_assert_cmpuint(z.bd_reads_pages, ==, 4);
        g_assert_cmpuint(z.bd_writes_pages, ==, 12);
        memset(&z, 0, sizeof(z));
        g_assert_false(vt_host_zram_bd_stat_parse("12 4\n", &z));
        g_assert_false(vt_host_zram_bd_stat_parse(NULL, &z));
        g_assert_false(z.has_bd_stat);
}

typedef struct {
        const char *text;
        const char *selected;
} SelectedCase;

static const SelectedCase selected_cases[] = {
    {"[lzo-rle] lzo lz4 \n", "lzo-rle"},
    {"always [madvise] never\n", "madvise"},
    {"always defer defer+madvise [madvise] never\n", "madvise"},
    {"lzo lzo-rle lz4\n", NULL},
    {"[] lzo\n", NULL},
    {"[unterminated lzo\n", NULL},
    {"[a-name-much-longer-than-the-buffer-it-goes-to] x\n", "a-name-much-lon"},
};

static void
test_selected(gconstpointer data)
{
        const SelectedCase *c = data;
        char buf[16] = "untouched";

        g_assert_cmpint(vt_host_text_selected(c->text, buf, sizeof(buf)), ==, c->selected != NULL);
        if (c->selected != NULL)
                g_assert_cmpstr(buf, ==, c->selected);
}

static void
test_swaps(void)
{
        const char *text =
            "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
            "/dev/zram0                              partition\t4194300\t\t1024\t\t100\n"
            "garbage line\n"
            "/swap\\040file file 1024 0 -2\n"
            "/dev/vda3 partition 99999999999999999999 0 -3\n";
        VtHostSwap swaps[1];
        guint total = 0;

        g_assert_cmpuint(vt_host_swaps_parse(text, swaps, G_N_ELEMENTS(swaps), &total), ==, 1);
        g_assert_cmpuint(total, ==, 2);
        g_assert_cmpstr(swaps[0].path, ==, "/dev/zram0");
        g_assert_cmpstr(swaps[0].type, ==, "partition");
        g_assert_cmpuint(swaps[0].size, ==, G_GUINT64_CONSTANT(4194300) * 1024);
        g_assert_cmpuint(swaps[0].used, ==, 1024 * 1024);
        g_assert_cmpint(swaps[0].priority, ==, 100);
        g_assert_cmpuint(vt_host_swaps_parse(NULL, swaps, 1, &total), ==, 0);
        g_assert_cmpuint(total, ==, 0);
}

static void
test_buddyinfo(void)
{
        const char *buddy =
            "Node 0, zone      DMA      0      0      0      0      0      0      0 "
            "     0      1      1      3 \n"
            "Node 0, zone   Normal      8      4      0      0      0      0      0 "
            "     0      0      1      0 \n"
            "Node x, zone   Normal 1 2\n"
            "Node 1, zone   Normal 1 two 3\n"
            "Node 1, zone\n";
        const char *extfrag = "Node 0, zone   Normal -1.000 -1.000 0.5 0.5 0.5 0.5 0.5 0.5 0.5 "
                              "0.956 1.000 \n"
                              "Node 0, zone      DMA -1.000 2.000\n";
        VtHostZone zones[4];
        guint n = vt_host_buddyinfo_parse(buddy, zones, G_N_ELEMENTS(zones));

        g_assert_cmpuint(n, ==, 2);
        g_assert_cmpstr(zones[1].name, ==, "Normal");
        g_assert_cmpuint(zones[1].n_orders, ==, 11);
        g_assert_cmpuint(zones[1].free_blocks[0], ==, 8);
        g_assert_cmpuint(zones[1].free_blocks[9], ==, 1);
        /* 8 + 8 small pages against 512 in the order-9 block. */
        g_assert_cmpfloat_with_epsilon(vt_host_zone_unusable(&zones[1], 9), 16.0 / 528.0, 1e-9);
        g_assert_cmpfloat(vt_host_zone_unusable(&zones[0], 0), ==, 0.0);

        g_assert_cmpuint(vt_host_extfrag_parse(extfrag, zones, n), ==, 1);
        g_assert_true(zones[1].has_extfrag);
        g_assert_false(zones[0].has_extfrag);
        g_assert_cmpint(zones[1].extfrag_index[0], ==, -1000);
        g_assert_cmpint(zones[1].extfrag_index[9], ==, 956);
        g_assert_cmpint(zones[1].extfrag_index[10], ==, 1000);
        g_assert_cmpuint(vt_host_buddyinfo_parse(NULL, zones, 4), ==, 0);
}

static void
test_text_keys(void)
{
        const char *vmstat = "pswpin 12\npswpout 34\nzswpin_extra 9\nzswpin 56\n";
        const char *meminfo = "Zswap:              12 kB\nZswapped:           48 kB\n";
        guint64 v;

        g_assert_true(vt_host_text_get_u64(vmstat, "zswpin", &v));
        g_assert_cmpuint(v, ==, 56);
        g_assert_false(vt_host_text_get_u64(vmstat, "zswp", &v));
        g_assert_true(vt_host_text_get_kib(meminfo, "Zswap", &v));
        g_assert_cmpuint(v, ==, 12 * 1024);
        g_assert_true(vt_host_text_get_kib(meminfo, "Zswapped", &v));
        g_assert_cmpuint(v, ==, 48 * 1024);
        g_assert_false(vt_host_text_get_kib("Zswap: 99999999999999999999 kB\n", "Zswap", &v));
        g_assert_false(vt_host_text_get_u64(NULL, "zswpin", &v));
}

/* ---- recorded trees ---- */

typedef struct {
        const char *tree;
        guint n_zram;
        const char *algorithm;
        guint64 disksize;
        guint n_mm_fields;
        gboolean is_swap;
        gboolean has_bd_stat;
        guint n_swaps;
        gboolean zswap_present;
        gboolean zswap_enabled;
        const char *zswap_compressor;
        gint max_pool_percent;
        gint accept_threshold_percent;
        gboolean zswap_has_vmstat;
        gboolean zswap_has_debugfs;
        guint64 pool_limit_hit;
        guint n_zones;
        gboolean has_extfrag;
        const char *thp_enabled;
        guint n_nodes;
        guint n_tiers;
} TreeCase;

static const TreeCase tree_cases[] = {
    {"linux-6.18-real",
     1,
     "lzo-rle",
     0,
     9,
     FALSE,
     FALSE,
     0,
     TRUE,
     FALSE,
     "lzo",
     20,
     90,
     TRUE,
     FALSE,
     0,
     3,
     FALSE,
     "madvise",
     1,
     1},
    {"zram-swap-good",
     1,
     "lz4",
     8 * GiB,
     9,
     TRUE,
     TRUE,
     1,
     TRUE,
     FALSE,
     "lzo",
     20,
     90,
     TRUE,
     FALSE,
     0,
     3,
     FALSE,
     "madvise",
     1,
     1},
    {"zram-thrashing",
     1,
     "lzo-rle",
     4 * GiB,
     9,
     TRUE,
     FALSE,
     1,
     TRUE,
     FALSE,
     "lzo",
     20,
     90,
     TRUE,
     FALSE,
     0,
     3,
     FALSE,
     "madvise",
     1,
     1},
    {"zswap-limit", 1,    "lzo-rle", 0, 9,     FALSE,     FALSE, 1, TRUE, TRUE, "zstd", 20, 90,
     TRUE,          TRUE, 1800,      3, FALSE, "madvise", 1,     1},
    {"fragmented", 1,  "lzo-rle", 0,     9, FALSE, FALSE, 0,        TRUE, FALSE, "lzo",
     20,           90, TRUE,      FALSE, 0, 3,     TRUE,  "always", 1,    1},
    {"numa-tiers", 1,  "lzo-rle", 0,     9, FALSE, FALSE, 0,         TRUE, FALSE, "lzo",
     20,           90, TRUE,      FALSE, 0, 4,     FALSE, "madvise", 2,    2},
    {"linux-5.10", 1,  "lzo-rle", 0,     8, FALSE, FALSE, 0,         TRUE, FALSE, "lzo",
     20,           -1, FALSE,     FALSE, 0, 3,     FALSE, "madvise", 1,    0},
    {"bare", 0,  NULL,  0,     0, FALSE, FALSE, 0,  FALSE, FALSE, "",
     -1,     -1, FALSE, FALSE, 0, 0,     FALSE, "", 0,     0},
};

static void
test_tree(gconstpointer data)
{
        const TreeCase *c = data;
        g_autofree char *root = g_test_build_filename(G_TEST_DIST, "data", "mm", c->tree, NULL);
        g_autofree VtHostMmSample *s = g_new0(VtHostMmSample, 1);

        vt_host_mm_sample_read(root, 4242, s);
        g_assert_cmpint(s->sampled_us, ==, 4242);
        g_assert_cmpuint(s->n_zram, ==, c->n_zram);
        g_assert_cmpuint(s->n_zram_total, ==, c->n_zram);
        if (c->n_zram > 0) {
                g_assert_cmpstr(s->zram[0].name, ==, "zram0");
                g_assert_cmpstr(s->zram[0].algorithm, ==, c->algorithm);
                g_assert_cmpuint(s->zram[0].disksize, ==, c->disksize);
                g_assert_true(s->zram[0].has_mm_stat);
                g_assert_cmpuint(s->zram[0].n_mm_fields, ==, c->n_mm_fields);
                g_assert_cmpint(s->zram[0].is_swap, ==, c->is_swap);
                g_assert_cmpint(s->zram[0].has_bd_stat, ==, c->has_bd_stat);
        }
        g_assert_cmpuint(s->n_swaps, ==, c->n_swaps);
        g_assert_cmpint(s->has_pswp, ==, strcmp(c->tree, "bare") != 0);
        g_assert_cmpint(s->zswap.present, ==, c->zswap_present);
        g_assert_cmpint(s->zswap.enabled, ==, c->zswap_enabled);
        g_assert_cmpstr(s->zswap.compressor, ==, c->zswap_compressor);
        g_assert_cmpint(s->zswap.max_pool_percent, ==, c->max_pool_percent);
        g_assert_cmpint(s->zswap.accept_threshold_percent, ==, c->accept_threshold_percent);
        g_assert_cmpint(s->zswap.has_vmstat, ==, c->zswap_has_vmstat);
        g_assert_cmpint(s->zswap.has_meminfo, ==, strcmp(c->tree, "linux-5.10") != 0);
        g_assert_cmpint(s->zswap.has_debugfs, ==, c->zswap_has_debugfs);
        g_assert_cmpuint(s->zswap.pool_limit_hit, ==, c->pool_limit_hit);
        g_assert_cmpuint(s->frag.n_zones, ==, c->n_zones);
        g_assert_cmpint(s->frag.has_extfrag, ==, c->has_extfrag);
        g_assert_cmpstr(s->frag.thp_enabled, ==, c->thp_enabled);
        g_assert_cmpint(s->frag.has_compact, ==, strcmp(c->tree, "bare") != 0);
        g_assert_cmpint(s->frag.extfrag_threshold, ==, strcmp(c->tree, "bare") != 0 ? 500 : -1);
        g_assert_cmpuint(s->topo.n_nodes, ==, c->n_nodes);
        g_assert_cmpuint(s->topo.n_tiers, ==, c->n_tiers);
}

/* The real tree's figures, one by one. */
static void
test_real_figures(void)
{
        g_autofree char *root =
            g_test_build_filename(G_TEST_DIST, "data", "mm", "linux-6.18-real", NULL);
        g_autofree VtHostMmSample *s = g_new0(VtHostMmSample, 1);

        vt_host_mm_sample_read(root, 0, s);
        g_assert_cmpuint(s->zram[0].orig_data_size, ==, 0);
        g_assert_false(s->zswap.shrinker_enabled);
        g_assert_cmpstr(s->zswap.zpool, ==, "");
        g_assert_cmpuint(s->zswap.pool_bytes, ==, 0);
        g_assert_cmpuint(s->pswpin, ==, 0);
        g_assert_cmpstr(s->frag.thp_defrag, ==, "madvise");
        g_assert_cmpstr(s->frag.zones[2].name, ==, "Normal");
        g_assert_cmpuint(s->frag.zones[2].n_orders, ==, 11);
        g_assert_cmpuint(s->frag.zones[2].free_blocks[0], ==, 1775);
        g_assert_cmpuint(s->frag.compact_fail, ==, 0);
        g_assert_cmpuint(s->frag.thp_fault_alloc, ==, 17583);
        g_assert_true(s->topo.has_tiers);
        g_assert_cmpint(s->topo.tiers[0].id, ==, 4);
        g_assert_cmpstr(s->topo.tiers[0].nodelist, ==, "0");
        g_assert_cmpuint(s->topo.nodes[0].mem_total, ==, G_GUINT64_CONSTANT(24683792) * 1024);
        g_assert_true(s->topo.nodes[0].has_cpus);
}

/* This machine, read live: whatever it has, the read neither fails nor crashes. */
static void
test_live(void)
{
        g_autofree VtHostMmSample *s = g_new0(VtHostMmSample, 1);

        vt_host_mm_sample_read(VT_HOST_MM_ROOT, 1, s);
        g_assert_cmpuint(s->n_zram, <=, VT_HOST_ZRAM_MAX);
        g_assert_cmpuint(s->frag.n_zones, <=, VT_HOST_ZONES_MAX);
        g_test_message("live: %u zram, %u swaps, zswap %s, %u zones, THP '%s', %u nodes, %u tiers",
                       s->n_zram, s->n_swaps, s->zswap.enabled ? "on" : "off", s->frag.n_zones,
                       s->frag.thp_enabled, s->topo.n_nodes, s->topo.n_tiers);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        for (gsize i = 0; i < G_N_ELEMENTS(mm_stat_cases); i++) {
                g_autofree char *name = g_strdup_printf("/sensing/mm/mm-stat/%zu", i);
                g_test_add_data_func(name, &mm_stat_cases[i], test_mm_stat);
        }
        for (gsize i = 0; i < G_N_ELEMENTS(selected_cases); i++) {
                g_autofree char *name = g_strdup_printf("/sensing/mm/selected/%zu", i);
                g_test_add_data_func(name, &selected_cases[i], test_selected);
        }
        g_test_add_func("/sensing/mm/bd-stat", test_bd_stat);
        g_test_add_func("/sensing/mm/swaps", test_swaps);
        g_test_add_func("/sensing/mm/buddyinfo", test_buddyinfo);
        g_test_add_func("/sensing/mm/text-keys", test_text_keys);
        for (gsize i = 0; i < G_N_ELEMENTS(tree_cases); i++) {
                g_autofree char *name = g_strdup_printf("/sensing/mm/tree/%s", tree_cases[i].tree);
                g_test_add_data_func(name, &tree_cases[i], test_tree);
        }
        g_test_add_func("/sensing/mm/real-figures", test_real_figures);
        g_test_add_func("/sensing/mm/live", test_live);
        return g_test_run();
}
