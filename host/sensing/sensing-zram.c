/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zram devices (/sys/block/zramN: mm_stat, bd_stat, comp_algorithm,
 * disksize) and swap devices (/proc/swaps). Parsers are pure; the
 * reader only finds the files. A kernel without zram, or a device the
 * kernel does not let us read, is simply absent from the sample.
 *
 * mm_stat grew over kernel versions: 7 fields up to 4.18, huge_pages
 * in 4.19, huge_pages_since in 5.15 (Documentation/admin-guide/
 * blockdev/zram.rst). bd_stat exists only with CONFIG_ZRAM_WRITEBACK.
 */
#include "host/sensing/sensing-zram.h"

#include <string.h>

#include "host/sensing/sensing-text.h"

/* Splits TEXT on blanks into at most MAX numbers; FALSE on a word that is not one. */
static gboolean
parse_numbers(const char *text, guint64 *values, guint max, guint *ret_n)
{
        g_auto(GStrv) words = NULL;
        guint n = 0;

        if (text == NULL)
                return FALSE;
        words = g_strsplit_set(text, " \t\n", -1);
        for (guint i = 0; words[i] != NULL; i++) {
                if (words[i][0] == '\0')
                        continue;
                if (n == max)
                        break;
                if (!g_ascii_string_to_unsigned(words[i], 10, 0, G_MAXUINT64, &values[n], NULL))
                        return FALSE;
                n++;
        }
        *ret_n = n;
        return TRUE;
}

/**
 * vt_host_zram_mm_stat_parse:
 * @text: the content of `mm_stat`
 * @zram: the device whose mm_stat fields to fill (the others untouched)
 *
 * Pure.
 *
 * Returns: %TRUE when @text has at least the 7 fields every kernel
 *     prints; on %FALSE @zram is untouched
 */
gboolean
vt_host_zram_mm_stat_parse(const char *text, VtHostZram *zram)
{
        guint64 v[9] = {0};
        guint n = 0;

        g_return_val_if_fail(zram != NULL, FALSE);
        if (!parse_numbers(text, v, G_N_ELEMENTS(v), &n) || n < 7)
                return FALSE;
        zram->orig_data_size = v[0];
        zram->compr_data_size = v[1];
        zram->mem_used_total = v[2];
        zram->mem_limit = v[3];
        zram->mem_used_max = v[4];
        zram->same_pages = v[5];
        zram->pages_compacted = v[6];
        zram->huge_pages = v[7];
        zram->huge_pages_since = v[8];
        zram->n_mm_fields = n;
        zram->has_mm_stat = TRUE;
        return TRUE;
}

/**
 * vt_host_zram_bd_stat_parse:
 * @text: the content of `bd_stat` (three counts of 4 KiB blocks)
 * @zram: the device whose bd_stat fields to fill
 *
 * Pure.
 *
 * Returns: %TRUE when @text has the three fields; on %FALSE @zram is
 *     untouched
 */
gboolean
vt_host_zram_bd_stat_parse(const char *text, VtHostZram *zram)
{
        guint64 v[3];
        guint n = 0;

        g_return_val_if_fail(zram != NULL, FALSE);
        if (!parse_numbers(text, v, G_N_ELEMENTS(v), &n) || n < 3)
                return FALSE;
        zram->bd_count_pages = v[0];
        zram->bd_reads_pages = v[1];
        zram->bd_writes_pages = v[2];
        zram->has_bd_stat = TRUE;
        return TRUE;
}

/* One line of /proc/swaps: "PATH TYPE SIZE_KIB USED_KIB PRIO". */
static gboolean
parse_swap_line(const char *line, VtHostSwap *ret)
{
        g_auto(GStrv) all = g_strsplit_set(line, " \t", -1);
        const char *w[5];
        guint n = 0;
        guint64 size, used;
        gint64 prio;

        for (guint i = 0; all[i] != NULL && n < G_N_ELEMENTS(w); i++)
                if (all[i][0] != '\0')
                        w[n++] = all[i];
        if (n < 5 || !g_ascii_string_to_unsigned(w[2], 10, 0, G_MAXUINT64 / 1024, &size, NULL) ||
            !g_ascii_string_to_unsigned(w[3], 10, 0, G_MAXUINT64 / 1024, &used, NULL) ||
            !g_ascii_string_to_signed(w[4], 10, G_MININT, G_MAXINT, &prio, NULL))
                return FALSE;
        memset(ret, 0, sizeof(*ret));
        g_strlcpy(ret->path, w[0], sizeof(ret->path));
        g_strlcpy(ret->type, w[1], sizeof(ret->type));
        ret->size = size * 1024;
        ret->used = used * 1024;
        ret->priority = (gint)prio;
        return TRUE;
}

/**
 * vt_host_swaps_parse:
 * @text: the content of /proc/swaps (a header line, then one per device)
 * @ret_swaps: (out caller-allocates) (array length=max): the devices
 * @max: room in @ret_swaps
 * @ret_total: (out) (optional): how many devices the text lists, kept or not
 *
 * Lines that do not parse are skipped. Pure.
 *
 * Returns: the number of devices written to @ret_swaps
 */
guint
vt_host_swaps_parse(const char *text, VtHostSwap *ret_swaps, guint max, guint *ret_total)
{
        g_auto(GStrv) lines = NULL;
        guint n = 0, total = 0;

        if (ret_total != NULL)
                *ret_total = 0;
        if (text == NULL)
                return 0;
        lines = g_strsplit(text, "\n", -1);
        for (guint i = 1; lines[i] != NULL; i++) {
                VtHostSwap swap;

                if (!parse_swap_line(lines[i], &swap))
                        continue;
                total++;
                if (n < max)
                        ret_swaps[n++] = swap;
        }
        if (ret_total != NULL)
                *ret_total = total;
        return n;
}

/**
 * vt_host_zram_match_swaps:
 * @zram: a device
 * @swaps: (array length=n_swaps): the swap devices
 * @n_swaps: their number
 *
 * Sets @zram's swap fields from the line of /dev/NAME, if any. Pure.
 */
void
vt_host_zram_match_swaps(VtHostZram *zram, const VtHostSwap *swaps, guint n_swaps)
{
        g_autofree char *dev = NULL;

        g_return_if_fail(zram != NULL);
        dev = g_strconcat("/dev/", zram->name, NULL);
        zram->is_swap = FALSE;
        zram->swap_used = 0;
        zram->swap_priority = 0;
        for (guint i = 0; i < n_swaps; i++) {
                if (strcmp(swaps[i].path, dev) != 0)
                        continue;
                zram->is_swap = TRUE;
                zram->swap_used = swaps[i].used;
                zram->swap_priority = swaps[i].priority;
        }
}

/* Reads one device's files; FALSE when it has no disksize (not a zram device). */
static gboolean
read_device(const char *root, const char *name, VtHostZram *ret)
{
        g_autofree char *dir = g_build_filename("sys/block", name, NULL);
        g_autofree char *disksize = g_build_filename(dir, "disksize", NULL);
        g_autofree char *mm = g_build_filename(dir, "mm_stat", NULL);
        g_autofree char *bd = g_build_filename(dir, "bd_stat", NULL);
        g_autofree char *alg = g_build_filename(dir, "comp_algorithm", NULL);
        g_autofree char *mm_text = NULL;
        g_autofree char *bd_text = NULL;
        g_autofree char *alg_text = NULL;
        VtHostZram zram = {0};

        if (!vt_host_text_read_u64(root, disksize, &zram.disksize))
                return FALSE;
        g_strlcpy(zram.name, name, sizeof(zram.name));
        mm_text = vt_host_text_read(root, mm);
        bd_text = vt_host_text_read(root, bd);
        alg_text = vt_host_text_read(root, alg);
        vt_host_zram_mm_stat_parse(mm_text, &zram);
        vt_host_zram_bd_stat_parse(bd_text, &zram);
        vt_host_text_selected(alg_text, zram.algorithm, sizeof(zram.algorithm));
        *ret = zram;
        return TRUE;
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
        return g_strcmp0(*(const char *const *)a, *(const char *const *)b);
}

/**
 * vt_host_zram_read:
 * @root: the root of /sys and /proc ("/" on a real host)
 * @ret_devices: (out caller-allocates) (array length=max): the devices,
 *     in name order, their swap fields from /proc/swaps
 * @max: room in @ret_devices
 * @ret_total: (out) (optional): how many zram devices there are
 *
 * Never fails: a kernel without zram has none.
 *
 * Returns: the number of devices written
 */
guint
vt_host_zram_read(const char *root, VtHostZram *ret_devices, guint max, guint *ret_total)
{
        g_autofree char *block = g_build_filename(root, "sys/block", NULL);
        g_autofree char *swaps_text = vt_host_text_read(root, "proc/swaps");
        g_autoptr(GDir) dir = g_dir_open(block, 0, NULL);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        VtHostSwap swaps[VT_HOST_SWAP_MAX];
        guint n_swaps, n = 0, total = 0;
        const char *entry;

        g_return_val_if_fail(root != NULL, 0);
        while (dir != NULL && (entry = g_dir_read_name(dir)) != NULL)
                if (g_str_has_prefix(entry, "zram"))
                        g_ptr_array_add(names, g_strdup(entry));
        g_ptr_array_sort(names, compare_names);
        n_swaps = vt_host_swaps_parse(swaps_text, swaps, G_N_ELEMENTS(swaps), NULL);
        for (guint i = 0; i < names->len; i++) {
                VtHostZram zram;

                if (!read_device(root, g_ptr_array_index(names, i), &zram))
                        continue;
                total++;
                if (n == max)
                        continue;
                vt_host_zram_match_swaps(&zram, swaps, n_swaps);
                ret_devices[n++] = zram;
        }
        if (ret_total != NULL)
                *ret_total = total;
        return n;
}
