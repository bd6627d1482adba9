/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The flight recorder's history format: segment header, framing, record types (pure). */
#pragma once

#include <glib.h>

#include "balloon/balloon-policy.h"
#include "ksm/ksm-tuner.h"

G_BEGIN_DECLS

/*
 * The byte layout is documented in docs/recorder.md; a change to it that
 * is not a field appended at the end of a record is a new version.
 */

/* The first 8 bytes of every segment. */
#define VT_RECORDER_MAGIC "VTRECORD"
/* The version this code writes, and the newest it reads. */
#define VT_RECORDER_VERSION 1
/* A segment header's size, bytes. */
#define VT_RECORDER_HEADER_SIZE 40
/* A record's frame: its body's length and CRC-32C, 4 bytes each. */
#define VT_RECORDER_FRAME_SIZE 8
/* The largest record body, bytes: a longer length is damage. A tick of
 * 1000 guests with their longest reasons is about 500 KiB. */
#define VT_RECORDER_RECORD_BYTES_MAX (4u << 20)

/**
 * VtRecorderError:
 * @VT_RECORDER_ERROR_TRUNCATED: a segment ends inside a record (a write
 *     cut short: a process killed mid-write, a power cut)
 * @VT_RECORDER_ERROR_CORRUPT: a record's checksum, length or fields are
 *     wrong, or a header is not a segment's
 * @VT_RECORDER_ERROR_VERSION: a segment written by a newer version
 * @VT_RECORDER_ERROR_IO: a file or directory could not be read or written
 * @VT_RECORDER_ERROR_PAUSED: recording is paused after an I/O error
 */
typedef enum {
        VT_RECORDER_ERROR_TRUNCATED,
        VT_RECORDER_ERROR_CORRUPT,
        VT_RECORDER_ERROR_VERSION,
        VT_RECORDER_ERROR_IO,
        VT_RECORDER_ERROR_PAUSED,
} VtRecorderError;

#define VT_RECORDER_ERROR (vt_recorder_error_quark())
GQuark vt_recorder_error_quark(void);

/**
 * VtRecorderRecordType:
 * @VT_RECORDER_RECORD_POLICY: the balloon policy in force and its tunables
 *     (#VtRecorderPolicy); at the head of every segment and on each change
 * @VT_RECORDER_RECORD_TICK: one run of the balloon policy, its inputs and
 *     its decision (#VtRecorderTick)
 * @VT_RECORDER_RECORD_MOVE: a balloon move ended (#VtRecorderMove)
 * @VT_RECORDER_RECORD_KSM: one KSM step (#VtRecorderKsm)
 * @VT_RECORDER_RECORD_MIGRATION: a migration started, passed or ended
 *     (#VtRecorderMigration)
 * @VT_RECORDER_RECORD_CONTROL: a change by hand or of the daemon
 *     (#VtRecorderControl)
 */
typedef enum {
        VT_RECORDER_RECORD_POLICY = 1,
        VT_RECORDER_RECORD_TICK = 2,
        VT_RECORDER_RECORD_MOVE = 3,
        VT_RECORDER_RECORD_KSM = 4,
        VT_RECORDER_RECORD_MIGRATION = 5,
        VT_RECORDER_RECORD_CONTROL = 6,
        VT_RECORDER_RECORD_MAX,
} VtRecorderRecordType;

/**
 * VtRecorderPolicy:
 * @name: the balloon policy's registry name (`vmtide`, `mom`, `proxmox`)
 * @config: its tunables, bit-exact
 */
typedef struct {
        char *name;
        VtBalloonConfig config;
} VtRecorderPolicy;

/**
 * VtRecorderTick:
 * @why: (nullable): what ran the policy out of turn (a pressure push);
 *     %NULL for a periodic tick
 * @paused: #VtBalloonInput.paused
 * @host: the host, as the policy took it
 * @state: the policy's carried state *before* this decision, so that any
 *     tick replays alone
 * @n_guests: how many guests
 * @guests: (array length=n_guests): the guests' snapshots; each `name`
 *     points into @names in a decoded record
 * @configs: (array length=n_guests): each guest's policy (hold included)
 * @decision: the decision; its `targets` has @n_guests entries
 * @names: (array zero-terminated=1) (nullable): the names, owned by a
 *     decoded record; %NULL when encoding (the guests' names are read)
 *
 * One run of vt_balloon_decide(): with #VtRecorderPolicy and the tick's
 * `mono_us` as `now_us`, everything the policy took. `now_us` is the
 * record's mono_us.
 */
typedef struct {
        char *why;
        gboolean paused;
        VtBalloonHost host;
        VtBalloonState state;
        guint n_guests;
        VtBalloonGuest *guests;
        VtBalloonGuestConfig *configs;
        VtBalloonDecision decision;
        char **names;
} VtRecorderTick;

/**
 * VtRecorderMoveOutcome:
 * @VT_RECORDER_MOVE_DONE: the balloon reached its target
 * @VT_RECORDER_MOVE_STUCK: it stopped short and is left alone
 * @VT_RECORDER_MOVE_REFUSED: the backend refused the move
 */
typedef enum {
        VT_RECORDER_MOVE_DONE = 1,
        VT_RECORDER_MOVE_STUCK = 2,
        VT_RECORDER_MOVE_REFUSED = 3,
        VT_RECORDER_MOVE_MAX,
} VtRecorderMoveOutcome;

/**
 * VtRecorderMove:
 * @guest: the guest
 * @outcome: how the move ended
 * @actual_bytes: the balloon's size then
 * @target_bytes: what was asked for (0: not known)
 * @elapsed_us: since it was asked for (0: not known)
 * @detail: (nullable): the backend's message for a refusal
 */
typedef struct {
        char *guest;
        VtRecorderMoveOutcome outcome;
        guint64 actual_bytes;
        guint64 target_bytes;
        gint64 elapsed_us;
        char *detail;
} VtRecorderMove;

/**
 * VtRecorderKsm:
 * @host: the tuner's host input
 * @sample: the KSM sample of the step
 * @decision: what the tuner decided; `reason` points at `reason_buf` in a
 *     decoded record
 * @applied: the decision was written to sysfs (not paused)
 * @cpu_share: ksmd's CPU share over the step (-1: not known)
 * @n_guests: how many guests
 * @names: (array length=n_guests): their names
 * @guests: (array length=n_guests): the tuner's guest inputs
 * @profits: (array length=n_guests): each guest's KSM profit, bytes (-1:
 *     not known)
 */
typedef struct {
        VtKsmHost host;
        VtKsmSample sample;
        VtKsmDecision decision;
        gboolean applied;
        double cpu_share;
        guint n_guests;
        char **names;
        VtKsmGuest *guests;
        gint64 *profits;
} VtRecorderKsm;

/**
 * VtRecorderMigrationPhase:
 * @VT_RECORDER_MIGRATION_START: the move started, with its prediction
 * @VT_RECORDER_MIGRATION_PASS: a new pass began
 * @VT_RECORDER_MIGRATION_END: the move ended: the prediction beside what
 *     happened
 */
typedef enum {
        VT_RECORDER_MIGRATION_START = 1,
        VT_RECORDER_MIGRATION_PASS = 2,
        VT_RECORDER_MIGRATION_END = 3,
        VT_RECORDER_MIGRATION_MAX,
} VtRecorderMigrationPhase;

/**
 * VtRecorderMigration:
 * @guest: the guest
 * @peer: (nullable): where to
 * @phase: which moment
 * @predicted_outcome: the cost model's #VtMigrateCostOutcome
 * @predicted_passes: its passes
 * @predicted_bytes: its bytes sent
 * @predicted_total_us: its total time
 * @predicted_downtime_us: its downtime
 * @predicted_dirty_rate: the dirty rate it assumed, bytes per second
 * @status: (PASS) the job's #VtMigrateStatus
 * @outcome: (END) the #VtMigrateExecOutcome
 * @pass: the pass under way (PASS), the last pass read (END)
 * @remaining_bytes: what is left in this pass
 * @transferred_bytes: RAM bytes sent so far
 * @dirty_rate: the job's dirty rate, bytes per second
 * @throughput: the stream's, bytes per second
 * @elapsed_us: since the start (PASS); the total time (END)
 * @downtime_limit_us: the downtime limit in force
 * @predicted_left_us: (PASS) what the move has left, estimated again
 * @downtime_us: (END) the downtime the guest had
 * @steps: (END) downtime raises taken
 * @cause: (END) the steering's #VtMigrateSteerCause for a cancel
 * @by_hand: (END) cancelled by hand
 * @source_gone: (END) the guest went away on the source during the move
 * @reason: (nullable): why it ended so (END)
 * @summary: (nullable): predicted beside actual, in words (END)
 *
 * One moment of a live migration, from #VtMigrateExecProgress and
 * #VtMigrateExecResult (recorder-migrate.h copies them). Fields that do
 * not apply to the phase are 0.
 */
typedef struct {
        char *guest;
        char *peer;
        VtRecorderMigrationPhase phase;
        guint predicted_outcome;
        guint predicted_passes;
        guint64 predicted_bytes;
        gint64 predicted_total_us;
        gint64 predicted_downtime_us;
        guint64 predicted_dirty_rate;
        guint status;
        guint outcome;
        guint pass;
        guint64 remaining_bytes;
        guint64 transferred_bytes;
        guint64 dirty_rate;
        guint64 throughput;
        gint64 elapsed_us;
        gint64 downtime_limit_us;
        gint64 predicted_left_us;
        gint64 downtime_us;
        guint steps;
        guint cause;
        gboolean by_hand;
        gboolean source_gone;
        char *reason;
        char *summary;
} VtRecorderMigration;

/**
 * VtRecorderControlKind:
 * @VT_RECORDER_CONTROL_DAEMON_START: the daemon started (@detail: its
 *     version and backend)
 * @VT_RECORDER_CONTROL_DAEMON_STOP: it stopped (@detail: why)
 * @VT_RECORDER_CONTROL_PAUSE: automation paused
 * @VT_RECORDER_CONTROL_RESUME: automation resumed
 * @VT_RECORDER_CONTROL_POLICY_SET: a guest's policy set (@guest, @detail:
 *     what changed)
 * @VT_RECORDER_CONTROL_HOLD: a target set by hand (@guest, @bytes)
 * @VT_RECORDER_CONTROL_RELEASE: a hold released (@guest)
 * @VT_RECORDER_CONTROL_GUEST_ADDED: a guest found (@guest)
 * @VT_RECORDER_CONTROL_GUEST_REMOVED: a guest gone (@guest, @detail: why)
 */
typedef enum {
        VT_RECORDER_CONTROL_DAEMON_START = 1,
        VT_RECORDER_CONTROL_DAEMON_STOP = 2,
        VT_RECORDER_CONTROL_PAUSE = 3,
        VT_RECORDER_CONTROL_RESUME = 4,
        VT_RECORDER_CONTROL_POLICY_SET = 5,
        VT_RECORDER_CONTROL_HOLD = 6,
        VT_RECORDER_CONTROL_RELEASE = 7,
        VT_RECORDER_CONTROL_GUEST_ADDED = 8,
        VT_RECORDER_CONTROL_GUEST_REMOVED = 9,
        VT_RECORDER_CONTROL_MAX,
} VtRecorderControlKind;

/**
 * VtRecorderControl:
 * @kind: what changed
 * @guest: (nullable): the guest it concerns
 * @bytes: a size that goes with it (a hold's target), or 0
 * @detail: (nullable): in words
 */
typedef struct {
        VtRecorderControlKind kind;
        char *guest;
        guint64 bytes;
        char *detail;
} VtRecorderControl;

/**
 * VtRecorderRecord:
 * @type: which member of @u is valid
 * @wall_us: wall-clock time (g_get_real_time()), for ranges and display
 * @mono_us: monotonic time (what the policies take as `now_us`)
 * @u: the record
 *
 * One record. A decoded record owns its strings and arrays
 * (vt_recorder_record_free()); a record given to vt_recorder_encode() is
 * only read.
 */
typedef struct {
        VtRecorderRecordType type;
        gint64 wall_us;
        gint64 mono_us;
        union {
                VtRecorderPolicy policy;
                VtRecorderTick tick;
                VtRecorderMove move;
                VtRecorderKsm ksm;
                VtRecorderMigration migration;
                VtRecorderControl control;
        } u;
} VtRecorderRecord;

void vt_recorder_record_free(VtRecorderRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtRecorderRecord, vt_recorder_record_free)

/**
 * VtRecorderHeader:
 * @version: the format version
 * @sequence: the segment's number, counting up in a directory
 * @wall_us: wall-clock time the segment was opened
 * @mono_us: monotonic time then (0: not known)
 */
typedef struct {
        guint version;
        guint64 sequence;
        gint64 wall_us;
        gint64 mono_us;
} VtRecorderHeader;

guint32 vt_recorder_crc32c(guint32 crc, const void *data, gsize len);

void vt_recorder_header_encode(GByteArray *out, const VtRecorderHeader *header);
gboolean vt_recorder_header_decode(const guint8 *data, gsize len, VtRecorderHeader *ret_header,
                                   GError **error);

void vt_recorder_encode(GByteArray *out, const VtRecorderRecord *record);
gboolean vt_recorder_frame_next(const guint8 *data, gsize len, gsize offset,
                                const guint8 **ret_body, gsize *ret_body_len, GError **error);
gboolean vt_recorder_decode(const guint8 *body, gsize len, VtRecorderRecord **ret_record,
                            GError **error);

gboolean vt_recorder_record_keep_guest(VtRecorderRecord *record, const char *guest);
void vt_recorder_tick_get_input(const VtRecorderTick *tick, gint64 now_us,
                                VtBalloonInput *ret_input);

const char *vt_recorder_record_type_to_string(VtRecorderRecordType type);
const char *vt_recorder_move_outcome_to_string(VtRecorderMoveOutcome outcome);
const char *vt_recorder_migration_phase_to_string(VtRecorderMigrationPhase phase);
const char *vt_recorder_control_kind_to_string(VtRecorderControlKind kind);

G_END_DECLS
