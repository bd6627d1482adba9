/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Noticing another writer of the KSM knobs (ksmtuned, ksm.service, a hand) and standing back. */
#pragma once

#include "ksm/ksm-sample.h"
#include "ksm/ksm-tuner.h"

G_BEGIN_DECLS

/* Ticks between scans of /proc for a known KSM tuner process. */
#define VT_KSM_WRITER_SCAN_TICKS 10
/* Ticks without a sign of the other writer before vmtided writes again. */
#define VT_KSM_WRITER_QUIET_TICKS 30

typedef struct _VtKsmWriter VtKsmWriter;

VtKsmWriter *vt_ksm_writer_new(const char *proc_root);
void vt_ksm_writer_free(VtKsmWriter *writer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtKsmWriter, vt_ksm_writer_free)

gboolean vt_ksm_writer_check(VtKsmWriter *writer, const VtKsmSample *sample);
void vt_ksm_writer_wrote(VtKsmWriter *writer, const VtKsmDecision *decision);
void vt_ksm_writer_forget(VtKsmWriter *writer);
const char *vt_ksm_writer_get_other(VtKsmWriter *writer);
char *vt_ksm_writer_find_process(const char *proc_root);

G_END_DECLS
