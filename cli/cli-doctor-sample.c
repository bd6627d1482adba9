/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sampler of `vmtide doctor`: reads the host (/proc, /sys) twice some
 * seconds apart, KSM's counters with each, looks for another program
 * driving KSM, and turns vmtided's query-guests answer, with each QEMU's
 * /proc/PID, into the rules' guests. Runs as root on the host; every
 * part that cannot be read is left out, never fatal, except the host's
 * memory sample itself.
 */
#include <string.h>
#include <unistd.h>

#include "cli/cli-doctor-sample.h"
#include "cli/cli-util.h"
#include "host/sensing/sensing-mm.h"
#include "host/sensing/sensing-sample.h"
#include "ksm/ksm-proc.h"
#include "ksm/ksm-sysfs.h"

/* The files of /proc/PID the sampler reads are small; a cmdline is bounded. */
#define DOCTOR_CMDLINE_MAX (256 * 1024)

/* One reading: the host's memory, its mm sample, KSM. */
static gboolean
doctor_read(VtHostSample *host, VtHostMmSample **mm, VtKsmSample *ksm, gboolean *has_ksm,
            GError **error)
{
        gint64 now = g_get_monotonic_time();
        g_autoptr(VtKsmSysfs) sysfs = NULL;

        if (!vt_host_sample_read("/proc", NULL, now, host, error))
                return FALSE;
        if (*mm == NULL)
                *mm = g_new0(VtHostMmSample, 1);
        vt_host_mm_sample_read(VT_HOST_MM_ROOT, now, *mm);
        sysfs = vt_ksm_sysfs_new(VT_KSM_SYSFS_ROOT, NULL);
        *has_ksm = sysfs != NULL && vt_ksm_sysfs_read_sample(sysfs, ksm, NULL);
        return TRUE;
}

/**
 * vt_cli_doctor_sample_first:
 * @sample: a zeroed sample
 * @error: return location for a #GError
 *
 * The first reading of the host and KSM, and the search for another KSM
 * writer.
 *
 * Returns: %FALSE if the host's memory sample (/proc/meminfo) cannot be read
 */
gboolean
vt_cli_doctor_sample_first(VtCliDoctorSample *sample, GError **error)
{
        gboolean has_ksm = FALSE;

        if (!doctor_read(&sample->host_prev, &sample->mm_prev, &sample->ksm_prev, &has_ksm, error))
                return FALSE;
        sample->has_ksm = has_ksm;
        sample->ksm_writer = vt_cli_doctor_find_ksm_writer("/proc");
        return TRUE;
}

/**
 * vt_cli_doctor_sample_second:
 * @sample: a sample with its first reading
 * @error: return location for a #GError
 *
 * The second reading, once the caller has waited the interval.
 *
 * Returns: %FALSE if the host's memory sample cannot be read
 */
gboolean
vt_cli_doctor_sample_second(VtCliDoctorSample *sample, GError **error)
{
        gboolean has_ksm = FALSE;

        if (!doctor_read(&sample->host, &sample->mm, &sample->ksm, &has_ksm, error))
                return FALSE;
        sample->has_ksm = sample->has_ksm && has_ksm;
        sample->interval_s =
            (double)(sample->host.sampled_us - sample->host_prev.sampled_us) / G_USEC_PER_SEC;
        return TRUE;
}

/* Whether any NUL-separated argument of @cmdline contains @needle. */
static gboolean
cmdline_has(const char *cmdline, gsize len, const char *needle)
{
        for (gsize at = 0; at < len; at += strlen(cmdline + at) + 1) {
                if (strstr(cmdline + at, needle) != NULL)
                        return TRUE;
        }
        return FALSE;
}

/**
 * vt_cli_doctor_cmdline_flag:
 * @cmdline: a /proc/PID/cmdline: arguments separated by NULs, the last
 *     one terminated
 * @len: its length
 * @on: text of an argument that turns the flag on
 * @off: (nullable): text that turns it off; %NULL: the flag is off
 *     unless @on is there
 *
 * Returns: %VT_DOCTOR_YES if @on appears, %VT_DOCTOR_NO if @off appears
 *     (or @off is %NULL), else %VT_DOCTOR_UNKNOWN
 */
VtDoctorTristate
vt_cli_doctor_cmdline_flag(const char *cmdline, gsize len, const char *on, const char *off)
{
        if (cmdline_has(cmdline, len, on))
                return VT_DOCTOR_YES;
        if (off == NULL || cmdline_has(cmdline, len, off))
                return VT_DOCTOR_NO;
        return VT_DOCTOR_UNKNOWN;
}

/* A process's name if it is a known KSM writer: ksmtuned, or ksm.service's ksmctl. */
static const char *
ksm_writer_name(const char *comm, const char *cmdline, gsize len)
{
        static const char *const names[] = {"ksmtuned", "ksmctl"};

        for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
                if (g_str_equal(comm, names[i]))
                        return names[i];
                /* A script runs as its interpreter: `/bin/bash /usr/sbin/ksmtuned`. */
                for (gsize at = 0; at < len; at += strlen(cmdline + at) + 1) {
                        g_autofree char *base = g_path_get_basename(cmdline + at);

                        if (g_str_equal(base, names[i]))
                                return names[i];
                }
        }
        return NULL;
}

/**
 * vt_cli_doctor_find_ksm_writer:
 * @proc_root: the proc mount, e.g. "/proc"
 *
 * Looks through every process's comm and cmdline for another program
 * that writes KSM's knobs: ksmtuned (its loop rewrites `run` and
 * `pages_to_scan`), or ksm.service's ksmctl while it runs.
 *
 * Returns: (transfer full) (nullable): "ksmtuned (pid 812)", or %NULL
 */
char *
vt_cli_doctor_find_ksm_writer(const char *proc_root)
{
        g_autoptr(GDir) dir = g_dir_open(proc_root, 0, NULL);
        const char *entry;

        while (dir != NULL && (entry = g_dir_read_name(dir)) != NULL) {
                g_autofree char *comm_path = NULL;
                g_autofree char *cmdline_path = NULL;
                g_autofree char *comm = NULL;
                g_autofree char *cmdline = NULL;
                gsize len = 0;
                const char *name;

                if (!g_ascii_isdigit(entry[0]))
                        continue;
                comm_path = g_build_filename(proc_root, entry, "comm", NULL);
                cmdline_path = g_build_filename(proc_root, entry, "cmdline", NULL);
                if (!g_file_get_contents(comm_path, &comm, NULL, NULL))
                        continue;
                g_strchomp(comm);
                if (!g_file_get_contents(cmdline_path, &cmdline, &len, NULL) ||
                    len > DOCTOR_CMDLINE_MAX)
                        len = 0;
                name = ksm_writer_name(comm, cmdline != NULL ? cmdline : "", len);
                if (name != NULL)
                        return g_strdup_printf("%s (pid %s)", name, entry);
        }
        return NULL;
}

/* What a guest's QEMU process says of it: KSM figures, mem-merge, free page reporting. */
static void
doctor_guest_from_proc(VtDoctorGuest *guest, const char *proc_root, gint64 pid)
{
        g_autofree char *path = NULL;
        g_autofree char *cmdline = NULL;
        VtKsmProcStat stat = {0};
        gsize len = 0;

        if (pid <= 0 || pid > G_MAXINT)
                return;
        if (vt_ksm_proc_read_stat(proc_root, (pid_t)pid, &stat, NULL) && stat.has_rmap_items &&
            stat.has_merging_pages) {
                guest->has_ksm_stat = TRUE;
                guest->ksm_rmap_items = stat.rmap_items;
                guest->ksm_merging_pages = stat.merging_pages;
        }
        path = g_strdup_printf("%s/%" G_GINT64_FORMAT "/cmdline", proc_root, pid);
        if (!g_file_get_contents(path, &cmdline, &len, NULL) || len > DOCTOR_CMDLINE_MAX)
                return;
        /* QEMU merges guest RAM unless told `-machine ...,mem-merge=off`. */
        guest->mem_merge =
            vt_cli_doctor_cmdline_flag(cmdline, len, "mem-merge=off", NULL) == VT_DOCTOR_YES
                ? VT_DOCTOR_NO
                : VT_DOCTOR_YES;
        /* `free-page-reporting=on`, or libvirt's JSON -device form. */
        if (guest->has_balloon) {
                guest->free_page_reporting =
                    vt_cli_doctor_cmdline_flag(cmdline, len, "free-page-reporting=on", NULL);
                if (guest->free_page_reporting == VT_DOCTOR_NO)
                        guest->free_page_reporting = vt_cli_doctor_cmdline_flag(
                            cmdline, len, "\"free-page-reporting\":true", NULL);
        }
}

/* Reads a byte count at @path of @json into @ret; whether it is there. */
static gboolean
json_bytes_at(json_object *json, const char *path, guint64 *ret)
{
        gint64 value = 0;

        if (!vt_cli_json_get_int(json, path, &value) || value < 0)
                return FALSE;
        *ret = (guint64)value;
        return TRUE;
}

/* A guest's compressed memory from its agent's figures in query-guests. */
static void
doctor_guest_compressed(VtDoctorGuestCompressed *c, json_object *json)
{
        gboolean zram, zswap;
        double in = -1.0, out = -1.0, psi = -1.0;

        zram = json_bytes_at(json, "agent.zram_orig", &c->zram_orig_bytes);
        json_bytes_at(json, "agent.zram_compr", &c->zram_compr_bytes);
        json_bytes_at(json, "agent.zram_used", &c->zram_used_bytes);
        json_bytes_at(json, "agent.zram_limit", &c->zram_limit_bytes);
        json_bytes_at(json, "agent.zram_huge_pages", &c->zram_huge_pages);
        zswap = json_bytes_at(json, "agent.zswap_pool", &c->zswap_pool_bytes);
        c->present = zram || zswap;
        c->has_swap_rates = vt_cli_json_get_double(json, "agent.swap_in_per_s", &in) &&
                            vt_cli_json_get_double(json, "agent.swap_out_per_s", &out) && in >= 0 &&
                            out >= 0;
        c->swap_in_per_s = c->has_swap_rates ? in : 0.0;
        c->swap_out_per_s = c->has_swap_rates ? out : 0.0;
        c->psi_some_avg10 =
            vt_cli_json_get_double(json, "agent.psi_some_avg10", &psi) && psi >= 0 ? psi : -1.0;
}

/* One GUEST of query-guests as the rules see it. */
static void
doctor_guest_from_json(VtDoctorGuest *guest, json_object *json, const char *proc_root)
{
        gint64 target = 0;
        gint64 min = 0;
        gint64 pid = 0;
        double psi = -1.0;
        gboolean connected = FALSE;

        guest->name = vt_cli_json_get_string(json, "name");
        if (guest->name == NULL)
                guest->name = "?";
        vt_cli_json_get_bool(json, "has_balloon", &guest->has_balloon);
        vt_cli_json_get_bool(json, "stuck", &guest->balloon_stuck);
        vt_cli_json_get_bool(json, "policy.ksm_opt_out", &guest->ksm_opt_out);
        /* The period is the backend's (libvirt's <stats period>): not in the answer. */
        guest->stats_period_s = -1;
        guest->has_stats = json_object_is_type(vt_cli_json_get(json, "stats"), json_type_object);
        guest->has_agent = vt_cli_json_get_bool(json, "agent.connected", &connected) && connected;
        guest->at_floor = vt_cli_json_get_int(json, "target", &target) &&
                          vt_cli_json_get_int(json, "policy.min", &min) && target > 0 &&
                          target <= min;
        guest->under_pressure = guest->has_agent &&
                                vt_cli_json_get_double(json, "agent.psi_some_avg10", &psi) &&
                                psi >= VT_DOCTOR_PSI_RISING;
        doctor_guest_compressed(&guest->compressed, json);
        if (vt_cli_json_get_int(json, "pid", &pid))
                doctor_guest_from_proc(guest, proc_root, pid);
}

/**
 * vt_cli_doctor_sample_take_guests:
 * @sample: a sample
 * @reply: (transfer full): vmtided's answer to query-guests
 * @proc_root: the proc mount, for each guest's QEMU process
 *
 * Fills the sample's guests from @reply, which it keeps (the guests
 * borrow their names).
 */
void
vt_cli_doctor_sample_take_guests(VtCliDoctorSample *sample, json_object *reply,
                                 const char *proc_root)
{
        json_object *guests = vt_cli_json_get(reply, "guests");
        guint n = json_object_is_type(guests, json_type_array)
                      ? (guint)json_object_array_length(guests)
                      : 0;

        sample->guests_json = reply;
        sample->guests_checked = TRUE;
        sample->guests = g_new0(VtDoctorGuest, MAX(n, 1));
        sample->n_guests = n;
        for (guint i = 0; i < n; i++)
                doctor_guest_from_json(&sample->guests[i], json_object_array_get_idx(guests, i),
                                       proc_root);
}

/**
 * vt_cli_doctor_sample_input:
 * @sample: a sample with both readings
 * @ret: (out caller-allocates): the rules' input, borrowing from @sample
 */
void
vt_cli_doctor_sample_input(const VtCliDoctorSample *sample, VtDoctorInput *ret)
{
        *ret = (VtDoctorInput){
            .host = &sample->host,
            .host_prev = &sample->host_prev,
            .mm = sample->mm,
            .mm_prev = sample->mm_prev,
            .ksm = sample->has_ksm ? &sample->ksm : NULL,
            .ksm_prev = sample->has_ksm ? &sample->ksm_prev : NULL,
            .ksmd_cpu_share = -1.0,
            .page_size = (guint64)MAX(sysconf(_SC_PAGESIZE), 4096),
            .other_ksm_writer = sample->ksm_writer != NULL,
            .other_ksm_writer_name = sample->ksm_writer,
            .guests = sample->guests,
            .n_guests = sample->n_guests,
        };
}

/**
 * vt_cli_doctor_sample_clear:
 * @sample: a sample
 *
 * Frees what the sample owns.
 */
void
vt_cli_doctor_sample_clear(VtCliDoctorSample *sample)
{
        g_free(sample->mm_prev);
        g_free(sample->mm);
        g_free(sample->ksm_writer);
        g_free(sample->guests_note);
        g_free(sample->guests);
        if (sample->guests_json != NULL)
                json_object_put(sample->guests_json);
        memset(sample, 0, sizeof(*sample));
}
