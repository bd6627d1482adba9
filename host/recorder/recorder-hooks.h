/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's side of the recorder: records from a KSM step and a migration's executor. */
#pragma once

/*
 * Header only, and included by the daemon alone: it reads ksm/'s step and
 * migrate/'s executor types, which vtrecorder does not link (the CLI reads
 * histories with vtrecorder and must not pull the daemon's libraries in).
 * Each helper copies what the recorder keeps into a record and adds it.
 */
#include "host/recorder/recorder-writer.h"
#include "ksm/ksm-step.h"
#include "migrate/migrate-exec.h"

G_BEGIN_DECLS

/**
 * vt_recorder_add_ksm_step:
 * @recorder: the writer
 * @wall_us: wall-clock time
 * @mono_us: monotonic time
 * @host: the tuner's host input, as given to vt_ksm_step_run()
 * @guests: (array length=n_guests): the step's guests, after
 *     vt_ksm_step_run() filled their merging pages and profits
 * @n_guests: how many
 * @step: the step, for its sample, decision and ksmd's CPU share
 * @applied: the decision was written (not paused)
 *
 * Records one KSM step.
 *
 * Returns: %FALSE when it was dropped (see vt_recorder_add())
 */
static inline gboolean
vt_recorder_add_ksm_step(VtRecorder *recorder, gint64 wall_us, gint64 mono_us,
                         const VtKsmHost *host, const VtKsmStepGuest *guests, guint n_guests,
                         VtKsmStep *step, gboolean applied)
{
        g_autofree char **names = g_new0(char *, n_guests + 1);
        g_autofree VtKsmGuest *inputs = g_new0(VtKsmGuest, MAX(n_guests, 1));
        g_autofree gint64 *profits = g_new0(gint64, MAX(n_guests, 1));
        const VtKsmDecision *decision = vt_ksm_step_get_decision(step);
        const VtKsmSample *sample = vt_ksm_step_get_sample(step);
        VtRecorderRecord record = {
            .type = VT_RECORDER_RECORD_KSM,
            .wall_us = wall_us,
            .mono_us = mono_us,
        };

        for (guint i = 0; i < n_guests; i++) {
                names[i] = (char *)guests[i].name;
                inputs[i] = (VtKsmGuest){.mergeable_bytes = guests[i].mergeable_bytes,
                                         .merging_pages = guests[i].ret_merging_pages,
                                         .opt_out = guests[i].opt_out};
                profits[i] = guests[i].ret_profit;
        }
        record.u.ksm = (VtRecorderKsm){
            .host = *host,
            .applied = applied,
            .cpu_share = vt_ksm_step_get_cpu_share(step),
            .n_guests = n_guests,
            .names = names,
            .guests = inputs,
            .profits = profits,
        };
        if (sample != NULL)
                record.u.ksm.sample = *sample;
        if (decision != NULL)
                record.u.ksm.decision = *decision;
        return vt_recorder_add(recorder, &record);
}

/* The prediction's figures into @migration. */
static inline void
vt_recorder_migration_set_prediction(VtRecorderMigration *migration, const VtMigrateCost *cost)
{
        migration->predicted_outcome = cost->outcome;
        migration->predicted_passes = cost->passes;
        migration->predicted_bytes = cost->bytes_sent;
        migration->predicted_total_us = cost->total_us;
        migration->predicted_downtime_us = cost->downtime_us;
        migration->predicted_dirty_rate = cost->dirty_rate;
}

/**
 * vt_recorder_add_migration_start:
 * @recorder: the writer
 * @wall_us: wall-clock time
 * @mono_us: monotonic time
 * @guest: the guest
 * @peer: (nullable): where to
 * @prediction: the cost model's prediction
 *
 * Records a migration's start, when vt_migrate_exec_start() succeeded.
 *
 * Returns: %FALSE when it was dropped (see vt_recorder_add())
 */
static inline gboolean
vt_recorder_add_migration_start(VtRecorder *recorder, gint64 wall_us, gint64 mono_us,
                                const char *guest, const char *peer,
                                const VtMigrateCost *prediction)
{
        VtRecorderRecord record = {
            .type = VT_RECORDER_RECORD_MIGRATION,
            .wall_us = wall_us,
            .mono_us = mono_us,
            .u.migration = {.guest = (char *)guest,
                            .peer = (char *)peer,
                            .phase = VT_RECORDER_MIGRATION_START},
        };

        vt_recorder_migration_set_prediction(&record.u.migration, prediction);
        return vt_recorder_add(recorder, &record);
}

/**
 * vt_recorder_add_migration_pass:
 * @recorder: the writer
 * @wall_us: wall-clock time
 * @mono_us: monotonic time
 * @guest: the guest
 * @peer: (nullable): where to
 * @progress: the executor's "progress" signal's figures
 *
 * Records a migration's new pass.
 *
 * Returns: %FALSE when it was dropped (see vt_recorder_add())
 */
static inline gboolean
vt_recorder_add_migration_pass(VtRecorder *recorder, gint64 wall_us, gint64 mono_us,
                               const char *guest, const char *peer,
                               const VtMigrateExecProgress *progress)
{
        VtRecorderRecord record = {
            .type = VT_RECORDER_RECORD_MIGRATION,
            .wall_us = wall_us,
            .mono_us = mono_us,
            .u.migration = {.guest = (char *)guest,
                            .peer = (char *)peer,
                            .phase = VT_RECORDER_MIGRATION_PASS,
                            .predicted_total_us = progress->predicted_total_us,
                            .status = progress->status,
                            .pass = progress->pass,
                            .remaining_bytes = progress->remaining_bytes,
                            .transferred_bytes = progress->transferred_bytes,
                            .dirty_rate = progress->dirty_rate,
                            .throughput = progress->throughput,
                            .elapsed_us = progress->elapsed_us,
                            .downtime_limit_us = progress->downtime_limit_us,
                            .predicted_left_us = progress->predicted_left_us},
        };

        return vt_recorder_add(recorder, &record);
}

/**
 * vt_recorder_add_migration_end:
 * @recorder: the writer
 * @wall_us: wall-clock time
 * @mono_us: monotonic time
 * @guest: the guest
 * @peer: (nullable): where to
 * @result: the executor's "finished" signal's result
 *
 * Records how a migration ended, its prediction beside what happened.
 *
 * Returns: %FALSE when it was dropped (see vt_recorder_add())
 */
static inline gboolean
vt_recorder_add_migration_end(VtRecorder *recorder, gint64 wall_us, gint64 mono_us,
                              const char *guest, const char *peer,
                              const VtMigrateExecResult *result)
{
        VtRecorderRecord record = {
            .type = VT_RECORDER_RECORD_MIGRATION,
            .wall_us = wall_us,
            .mono_us = mono_us,
            .u.migration = {.guest = (char *)guest,
                            .peer = (char *)peer,
                            .phase = VT_RECORDER_MIGRATION_END,
                            .outcome = result->outcome,
                            .pass = result->passes,
                            .transferred_bytes = result->bytes,
                            .elapsed_us = result->total_us,
                            .downtime_limit_us = result->downtime_limit_us,
                            .downtime_us = result->downtime_us,
                            .steps = result->steps,
                            .cause = result->cause,
                            .by_hand = result->by_hand,
                            .source_gone = result->source_gone,
                            .reason = (char *)result->reason,
                            .summary = (char *)result->summary},
        };

        vt_recorder_migration_set_prediction(&record.u.migration, &result->prediction);
        return vt_recorder_add(recorder, &record);
}

G_END_DECLS
