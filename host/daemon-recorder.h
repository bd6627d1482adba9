/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided's flight recorder: its ticks, moves, KSM steps, migrations and changes into the history.
 */
#pragma once

#include <json-c/json.h>

#include "host/daemon-private.h"
#include "host/recorder/recorder-format.h"
#include "ksm/ksm-step.h"
#include "migrate/migrate-exec.h"

G_BEGIN_DECLS

typedef struct _VtDaemonRecorder VtDaemonRecorder;

void vt_daemon_recorder_start(VtDaemon *daemon);
void vt_daemon_recorder_stop(VtDaemon *daemon, const char *why);
void vt_daemon_recorder_flush(VtDaemon *daemon);
json_object *vt_daemon_recorder_to_json(VtDaemon *daemon);

void vt_daemon_recorder_tick(VtDaemon *daemon, const char *why, const VtBalloonInput *input,
                             const VtBalloonState *before, const VtBalloonDecision *decision);
void vt_daemon_recorder_move(VtDaemon *daemon, const char *guest, VtRecorderMoveOutcome outcome,
                             guint64 actual_bytes, guint64 target_bytes, gint64 elapsed_us,
                             const char *detail);
void vt_daemon_recorder_control(VtDaemon *daemon, VtRecorderControlKind kind, const char *guest,
                                guint64 bytes, const char *detail);
void vt_daemon_recorder_ksm(VtDaemon *daemon, const VtKsmHost *host, const VtKsmStepGuest *guests,
                            guint n_guests, gboolean applied);
void vt_daemon_recorder_migration_start(VtDaemon *daemon, const char *guest, const char *peer,
                                        const VtMigrateCost *prediction);
void vt_daemon_recorder_migration_pass(VtDaemon *daemon, const char *guest, const char *peer,
                                       const VtMigrateExecProgress *progress);
void vt_daemon_recorder_migration_end(VtDaemon *daemon, const char *guest, const char *peer,
                                      const VtMigrateExecResult *result);

G_END_DECLS
