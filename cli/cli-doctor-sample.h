/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What `vmtide doctor` reads: the host twice, KSM, other KSM writers, the daemon's guests. */
#pragma once

#include <json-c/json.h>

#include "host/doctor/doctor-rules.h"

G_BEGIN_DECLS

/**
 * VtCliDoctorSample:
 * @interval_s: seconds between the two readings
 * @host_prev: the host's memory sample, first reading
 * @host: the same, second reading
 * @mm_prev: (owned): zram, zswap, swap, fragmentation, topology, first
 * @mm: (owned): the same, second
 * @has_ksm: the kernel has KSM and both KSM samples were read
 * @ksm_prev: KSM's counters, first reading
 * @ksm: the same, second
 * @ksm_writer: (nullable) (owned): another program that writes KSM's
 *     knobs, e.g. "ksmtuned (pid 812)"
 * @guests_checked: vmtided answered query-guests
 * @guests_note: (nullable) (owned): why the guests were not checked
 * @guests_json: (nullable) (owned): vmtided's answer; @guests borrow
 *     their names from it
 * @guests: (owned) (array length=n_guests): the guests as the rules see them
 * @n_guests: their number
 *
 * Everything one run of the doctor read. Clear with
 * vt_cli_doctor_sample_clear().
 */
typedef struct {
        double interval_s;
        VtHostSample host_prev;
        VtHostSample host;
        VtHostMmSample *mm_prev;
        VtHostMmSample *mm;
        gboolean has_ksm;
        VtKsmSample ksm_prev;
        VtKsmSample ksm;
        char *ksm_writer;
        gboolean guests_checked;
        char *guests_note;
        json_object *guests_json;
        VtDoctorGuest *guests;
        guint n_guests;
} VtCliDoctorSample;

gboolean vt_cli_doctor_sample_first(VtCliDoctorSample *sample, GError **error);
gboolean vt_cli_doctor_sample_second(VtCliDoctorSample *sample, GError **error);
void vt_cli_doctor_sample_take_guests(VtCliDoctorSample *sample, json_object *reply,
                                      const char *proc_root);
void vt_cli_doctor_sample_input(const VtCliDoctorSample *sample, VtDoctorInput *ret);
void vt_cli_doctor_sample_clear(VtCliDoctorSample *sample);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VtCliDoctorSample, vt_cli_doctor_sample_clear)

char *vt_cli_doctor_find_ksm_writer(const char *proc_root);
VtDoctorTristate vt_cli_doctor_cmdline_flag(const char *cmdline, gsize len, const char *on,
                                            const char *off);

G_END_DECLS
