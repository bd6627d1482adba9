/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Integration: the real vmtided's flight recorder, read back and replayed. */

/*
 * One 512 MiB guest under a 400 MiB budget: vmtided has to reclaim, so
 * the history holds ticks that decided a move and the move's end. After
 * a pause and a resume and a few more ticks, the history the daemon wrote
 * under the test's directory is read with the library the CLI uses: the
 * daemon's start, the guest's arrival, its tick entries, the move, the
 * pause and resume, and (after SIGTERM) the daemon's stop. Then every
 * recorded tick is decided again by vt_balloon_decide() from the record
 * alone, open loop: the decisions come back identical, reasons included,
 * and each replayed state is the next tick's recorded one.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "balloon/balloon-registry.h"
#include "host/recorder/recorder-reader.h"
#include "tests/vt-test-daemon.h"
#include "tests/vt-test-guest.h"
#include "tests/vt-test-util.h"

#define MIB         (G_GUINT64_CONSTANT(1) << 20)
#define GUEST_BYTES (512 * MIB)
#define PHASE_US    (120 * G_USEC_PER_SEC)
#define TICKS_AFTER 5

static const char config_text[] = "[daemon]\n"
                                  "tick-interval-ms = 1000\n"
                                  "agent-interval-ms = 1000\n"
                                  "[budget]\n"
                                  "total = 400M\n"
                                  "reserve = 0\n"
                                  "[ksm]\n"
                                  "enabled = false\n";

/* What the history holds, counted. */
typedef struct {
        GPtrArray *records; /* VtRecorderRecord, in order */
        guint n_ticks;      /* ticks with the guest in them */
        guint n_moves_done; /* the guest's moves done */
        guint n_decided;    /* the guest's GIVE and RECLAIM decisions */
        guint control[VT_RECORDER_CONTROL_MAX];
} History;

static void
history_read(const char *dir, const char *guest, History *h)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VtRecorderReader) reader = vt_recorder_reader_new(dir, &error);
        VtRecorderRecord *record = NULL;

        g_assert_no_error(error);
        h->records = g_ptr_array_new_with_free_func((GDestroyNotify)vt_recorder_record_free);
        while (vt_recorder_reader_next(reader, &record, &error)) {
                g_assert_no_error(error);
                g_ptr_array_add(h->records, record);
                if (record->type == VT_RECORDER_RECORD_CONTROL)
                        h->control[record->u.control.kind]++;
                if (record->type == VT_RECORDER_RECORD_MOVE &&
                    g_strcmp0(record->u.move.guest, guest) == 0 &&
                    record->u.move.outcome == VT_RECORDER_MOVE_DONE)
                        h->n_moves_done++;
                if (record->type != VT_RECORDER_RECORD_TICK)
                        continue;
                for (guint i = 0; i < record->u.tick.n_guests; i++) {
                        VtBalloonAction action = record->u.tick.decision.targets[i].action;

                        if (g_strcmp0(record->u.tick.names[i], guest) != 0)
                                continue;
                        h->n_ticks++;
                        if (action == VT_BALLOON_ACTION_GIVE || action == VT_BALLOON_ACTION_RECLAIM)
                                h->n_decided++;
                }
        }
        /* A daemon that stopped cleanly leaves no damage. */
        g_assert_no_error(error);
        g_assert_cmpuint(vt_recorder_reader_get_n_damaged(reader), ==, 0);
}

/* One tick decided again from its record: the same decision, bit for bit. */
static void
replay_tick(const VtRecorderRecord *policy, const VtRecorderRecord *record,
            VtBalloonState *ret_state)
{
        const VtRecorderTick *tick = &record->u.tick;
        const VtBalloonPolicyInfo *info = vt_balloon_registry_lookup(policy->u.policy.name);
        g_autofree VtBalloonTarget *again = g_new0(VtBalloonTarget, MAX(tick->n_guests, 1));
        VtBalloonDecision decision = {.targets = again};
        VtBalloonInput input;

        g_assert_nonnull(info);
        *ret_state = tick->state;
        vt_recorder_tick_get_input(tick, record->mono_us, &input);
        vt_balloon_decide(info->decide, &input, &policy->u.policy.config, ret_state, &decision);
        g_assert_cmpint(decision.host_state, ==, tick->decision.host_state);
        g_assert_cmpint(decision.host_free, ==, tick->decision.host_free);
        g_assert_cmpstr(decision.reason, ==, tick->decision.reason);
        for (guint i = 0; i < tick->n_guests; i++) {
                const VtBalloonTarget *want = &tick->decision.targets[i];

                g_assert_cmpint(again[i].action, ==, want->action);
                g_assert_cmpuint(again[i].target_bytes, ==, want->target_bytes);
                g_assert_cmpuint(again[i].want_bytes, ==, want->want_bytes);
                g_assert_cmpstr(again[i].reason, ==, want->reason);
        }
}

/* Every recorded tick replayed open loop; returns how many. */
static guint
replay_all(const History *h)
{
        const VtRecorderRecord *policy = NULL;
        VtBalloonState state;
        gboolean has_state = FALSE;
        guint n = 0;

        for (guint r = 0; r < h->records->len; r++) {
                const VtRecorderRecord *record = g_ptr_array_index(h->records, r);

                if (record->type == VT_RECORDER_RECORD_POLICY) {
                        policy = record;
                        g_assert_cmpstr(policy->u.policy.name, ==, "vmtide");
                        continue;
                }
                if (record->type != VT_RECORDER_RECORD_TICK)
                        continue;
                g_assert_nonnull(policy);
                /* The state the last replay left is this tick's "before". */
                if (has_state)
                        g_assert_cmpmem(&state, sizeof(state), &record->u.tick.state,
                                        sizeof(record->u.tick.state));
                replay_tick(policy, record, &state);
                has_state = TRUE;
                n++;
        }
        return n;
}

/* query-status's "history": where the test put it, recording, not empty. */
static void
check_status(VtTestDaemon *daemon)
{
        g_autoptr(GError) error = NULL;
        json_object *reply = vt_test_daemon_execute(daemon, "query-status", NULL, &error);
        json_object *history, *member;

        g_assert_no_error(error);
        g_assert_true(json_object_object_get_ex(reply, "history", &history));
        g_assert_true(json_object_object_get_ex(history, "dir", &member));
        g_assert_cmpstr(json_object_get_string(member), ==, vt_test_daemon_get_history_dir(daemon));
        g_assert_true(json_object_object_get_ex(history, "recording", &member));
        g_assert_true(json_object_get_boolean(member));
        g_assert_true(json_object_object_get_ex(history, "bytes", &member));
        g_assert_cmpint(json_object_get_int64(member), >, 0);
        vt_test_say("history: %s", json_object_to_json_string(history));
        json_object_put(reply);
}

/* query-status's "ticks". */
static gint64
status_ticks(VtTestDaemon *daemon)
{
        g_autoptr(GError) error = NULL;
        json_object *reply = vt_test_daemon_execute(daemon, "query-status", NULL, &error);
        json_object *ticks;
        gint64 n;

        g_assert_no_error(error);
        g_assert_true(json_object_object_get_ex(reply, "ticks", &ticks));
        n = json_object_get_int64(ticks);
        json_object_put(reply);
        return n;
}

typedef struct {
        VtTestDaemon *daemon;
        gint64 until;
} TickWait;

static gboolean
ticks_reached(gpointer data)
{
        TickWait *w = data;

        return status_ticks(w->daemon) >= w->until;
}

/* Waits until @n more ticks ran. */
static void
wait_ticks(VtTestDaemon *daemon, guint n)
{
        TickWait w = {daemon, status_ticks(daemon) + n};

        g_assert_true(vt_test_daemon_poll_until(ticks_reached, &w, PHASE_US));
}

static void
test_history(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *reason = NULL;
        g_autofree char *dir = NULL;
        g_autoptr(VtTestGuest) guest = NULL;
        g_autoptr(VtTestDaemon) daemon = NULL;
        const VtTestGuestOptions options = {.name = "hist0", .memory_bytes = GUEST_BYTES};
        History h = {0};
        guint from = 0;
        guint n_replayed;
        int status = 0;

        if (!vt_test_skip_unless(vt_test_guest_available(&reason), reason))
                return;
        dir = g_dir_make_tmp("vt-vmtided-history-XXXXXX", &error);
        g_assert_no_error(error);
        guest = vt_test_guest_start(&options, &error);
        g_assert_no_error(error);
        daemon = vt_test_daemon_start(dir, config_text, &error);
        g_assert_no_error(error);
        g_assert_true(vt_test_daemon_add_guest(daemon, guest, &error));
        g_assert_no_error(error);
        vt_test_daemon_assert_guests_added(daemon, &guest, 1, 0, PHASE_US);

        /* The budget makes it reclaim: a move, recorded with its end. */
        vt_test_daemon_assert_event(daemon, &from, "BALLOON_DONE", "hist0", PHASE_US);
        g_assert_cmpint(vt_test_daemon_run_cli(daemon, NULL, NULL, "pause", NULL), ==, 0);
        g_assert_cmpint(vt_test_daemon_run_cli(daemon, NULL, NULL, "resume", NULL), ==, 0);
        wait_ticks(daemon, TICKS_AFTER);
        check_status(daemon);

        vt_test_daemon_kill(daemon, SIGTERM);
        g_assert_true(vt_test_daemon_wait_exit(daemon, PHASE_US, &status));
        g_assert_true(WIFEXITED(status));

        history_read(vt_test_daemon_get_history_dir(daemon), "hist0", &h);
        vt_test_say("history: %u records, %u ticks of hist0, %u moves decided, %u done",
                    h.records->len, h.n_ticks, h.n_decided, h.n_moves_done);
        g_assert_cmpuint(h.control[VT_RECORDER_CONTROL_DAEMON_START], ==, 1);
        g_assert_cmpuint(h.control[VT_RECORDER_CONTROL_GUEST_ADDED], ==, 1);
        g_assert_cmpuint(h.control[VT_RECORDER_CONTROL_PAUSE], ==, 1);
        g_assert_cmpuint(h.control[VT_RECORDER_CONTROL_RESUME], ==, 1);
        g_assert_cmpuint(h.control[VT_RECORDER_CONTROL_DAEMON_STOP], ==, 1);
        g_assert_cmpuint(h.n_ticks, >=, TICKS_AFTER);
        g_assert_cmpuint(h.n_decided, >=, 1);
        g_assert_cmpuint(h.n_moves_done, >=, 1);

        n_replayed = replay_all(&h);
        vt_test_say("replay: %u ticks decided again, all identical", n_replayed);
        g_assert_cmpuint(n_replayed, >=, h.n_ticks);

        g_ptr_array_unref(h.records);
        g_clear_pointer(&daemon, vt_test_daemon_free);
        g_clear_pointer(&guest, vt_test_guest_free);
        vt_test_remove_tree(dir);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/vmtided/history", test_history);
        return g_test_run();
}
