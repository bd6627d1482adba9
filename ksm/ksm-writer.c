/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Noticing another writer of the KSM knobs (ksmtuned, ksm.service, a hand) and standing back. */

/*
 * Theory of operation: two writers of /sys/kernel/mm/ksm undo each other
 * every few seconds, and the unit's Conflicts= does not stop a ksmtuned
 * started by hand. So each tick the KSM step hands this tracker the knobs
 * it read (run, pages_to_scan, sleep_millisecs) before deciding; the
 * tracker compares them with what vmtided last wrote (pages_to_scan only
 * when the advisor does not own it), and every VT_KSM_WRITER_SCAN_TICKS
 * ticks looks through /proc/<pid>/comm for ksmtuned or ksmctl (ksm.service).
 * A knob changed under it, or such a process, makes it stand back: one
 * warning naming what changed and the process, no write until neither has
 * been seen for VT_KSM_WRITER_QUIET_TICKS ticks (the other writer's own
 * changes count as signs of it), then one message and vmtided writes
 * again. While vmtided is paused nothing is compared: what it last wrote
 * is forgotten, so a hand's change during a pause is not taken for a
 * rival on resume.
 */
#include "ksm/ksm-writer.h"

#include <string.h>

struct _VtKsmWriter {
        char *proc_root;
        guint n_ticks;
        gboolean has_expected;
        guint run;
        guint64 pages_to_scan;
        gboolean check_pages;
        guint64 sleep_millisecs;
        char *process; /* from the last scan, or NULL */
        gboolean active;
        guint quiet_ticks;
        char *other;
};

/* What runs as another KSM writer: ksmtuned's daemon, ksm.service's tool. */
static const char *const other_writers[] = {"ksmtuned", "ksmctl"};

/**
 * vt_ksm_writer_new:
 * @proc_root: where /proc is (a fixture tree in tests)
 *
 * Returns: (transfer full): a tracker that has seen nothing yet
 */
VtKsmWriter *
vt_ksm_writer_new(const char *proc_root)
{
        VtKsmWriter *writer = g_new0(VtKsmWriter, 1);

        writer->proc_root = g_strdup(proc_root != NULL ? proc_root : "/proc");
        return writer;
}

void
vt_ksm_writer_free(VtKsmWriter *writer)
{
        if (writer == NULL)
                return;
        g_free(writer->proc_root);
        g_free(writer->process);
        g_free(writer->other);
        g_free(writer);
}

/**
 * vt_ksm_writer_find_process:
 * @proc_root: where /proc is
 *
 * Returns: (transfer full) (nullable): `'ksmtuned' (pid 812)` for the first
 *     known KSM writer found running, or %NULL
 */
char *
vt_ksm_writer_find_process(const char *proc_root)
{
        g_autoptr(GDir) dir = g_dir_open(proc_root, 0, NULL);
        const char *name;

        while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
                g_autofree char *path = NULL;
                g_autofree char *comm = NULL;

                if (name[strspn(name, "0123456789")] != '\0')
                        continue;
                path = g_build_filename(proc_root, name, "comm", NULL);
                if (!g_file_get_contents(path, &comm, NULL, NULL))
                        continue;
                g_strchomp(comm);
                for (guint i = 0; i < G_N_ELEMENTS(other_writers); i++) {
                        if (g_str_equal(comm, other_writers[i]))
                                return g_strdup_printf("'%s' (pid %s)", comm, name);
                }
        }
        return NULL;
}

/* "pages_to_scan 100 -> 1250, run 1 -> 0" against what was expected, or NULL. */
static char *
writer_describe_changes(const VtKsmWriter *writer, const VtKsmSample *sample)
{
        GString *out = g_string_new(NULL);

        if (!writer->has_expected)
                return g_string_free(out, TRUE);
        if (sample->run != writer->run)
                g_string_append_printf(out, "%srun %u -> %u", out->len > 0 ? ", " : "", writer->run,
                                       sample->run);
        if (writer->check_pages && sample->pages_to_scan != writer->pages_to_scan)
                g_string_append_printf(
                    out, "%spages_to_scan %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT,
                    out->len > 0 ? ", " : "", writer->pages_to_scan, sample->pages_to_scan);
        if (sample->sleep_millisecs != writer->sleep_millisecs)
                g_string_append_printf(
                    out, "%ssleep_millisecs %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT,
                    out->len > 0 ? ", " : "", writer->sleep_millisecs, sample->sleep_millisecs);
        if (out->len == 0)
                return g_string_free(out, TRUE);
        return g_string_free(out, FALSE);
}

/* The knobs as they are now become what the next tick expects. */
static void
writer_expect_sample(VtKsmWriter *writer, const VtKsmSample *sample)
{
        writer->has_expected = TRUE;
        writer->run = sample->run;
        writer->pages_to_scan = sample->pages_to_scan;
        writer->sleep_millisecs = sample->sleep_millisecs;
}

/* A sign of the other writer this tick: stand back, warn on the first. */
static void
writer_stand_back(VtKsmWriter *writer, const char *changed)
{
        writer->quiet_ticks = 0;
        if (writer->active)
                return;
        writer->active = TRUE;
        g_free(writer->other);
        if (changed != NULL && writer->process != NULL)
                writer->other =
                    g_strdup_printf("knobs changed under vmtided: %s; process %s running", changed,
                                    writer->process);
        else if (changed != NULL)
                writer->other = g_strdup_printf("knobs changed under vmtided: %s", changed);
        else
                writer->other = g_strdup_printf("process %s running", writer->process);
        g_warning("another writer of the KSM knobs: %s; vmtided stops writing them and leaves "
                  "KSM to it until it has been quiet for %u ticks",
                  writer->other, VT_KSM_WRITER_QUIET_TICKS);
}

/**
 * vt_ksm_writer_check:
 * @writer: the tracker
 * @sample: the knobs read this tick, before any write
 *
 * Returns: %TRUE when vmtided may write the knobs this tick; %FALSE while
 *     another writer has them (vt_ksm_writer_get_other() says which)
 */
gboolean
vt_ksm_writer_check(VtKsmWriter *writer, const VtKsmSample *sample)
{
        g_autofree char *changed = NULL;

        g_return_val_if_fail(writer != NULL && sample != NULL, TRUE);

        if (writer->n_ticks++ % VT_KSM_WRITER_SCAN_TICKS == 0) {
                g_free(writer->process);
                writer->process = vt_ksm_writer_find_process(writer->proc_root);
        }
        changed = writer_describe_changes(writer, sample);
        if (changed != NULL || writer->process != NULL) {
                writer_stand_back(writer, changed);
                writer_expect_sample(writer, sample);
                writer->check_pages = TRUE;
                return FALSE;
        }
        if (!writer->active)
                return TRUE;
        if (++writer->quiet_ticks < VT_KSM_WRITER_QUIET_TICKS)
                return FALSE;
        g_message("the other writer of the KSM knobs (%s) has been quiet for %u ticks: vmtided "
                  "writes them again",
                  writer->other, writer->quiet_ticks);
        writer->active = FALSE;
        writer->quiet_ticks = 0;
        g_clear_pointer(&writer->other, g_free);
        return TRUE;
}

/**
 * vt_ksm_writer_wrote:
 * @writer: the tracker
 * @decision: what vmtided applied: the knobs now say so
 */
void
vt_ksm_writer_wrote(VtKsmWriter *writer, const VtKsmDecision *decision)
{
        g_return_if_fail(writer != NULL && decision != NULL);
        writer->has_expected = TRUE;
        writer->run = decision->run;
        writer->sleep_millisecs = decision->sleep_millisecs;
        /* The scan-time advisor sets pages_to_scan itself. */
        writer->check_pages = !decision->use_advisor;
        writer->pages_to_scan = decision->pages_to_scan;
}

/* vmtided paused: what it last wrote is no longer expected. */
void
vt_ksm_writer_forget(VtKsmWriter *writer)
{
        g_return_if_fail(writer != NULL);
        writer->has_expected = FALSE;
}

/* What the other writer is (changed knobs, its process), or %NULL when
 * vmtided writes the knobs. */
const char *
vt_ksm_writer_get_other(VtKsmWriter *writer)
{
        g_return_val_if_fail(writer != NULL, NULL);
        return writer->active ? writer->other : NULL;
}
