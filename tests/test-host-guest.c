/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the guests and the QMP-direct backend against scripted QMP
 * peers (tests/vt-fake-qmp.h): a small model of QEMU's balloon answers the
 * commands, and each test bends it (no balloon, a balloon that never
 * moves, garbage, silence, a hang-up).
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gio/gunixsocketaddress.h>

#include "host/qmp-direct/qmp-direct-backend.h"
#include "host/qmp-direct/qmp-direct-guest.h"
#include "tests/vt-fake-qmp.h"
#include "tests/vt-test-util.h"
#include "vt-autocleanups.h"

#define MIB      (G_GUINT64_CONSTANT(1024) * 1024)
#define GUARD_US (20 * G_USEC_PER_SEC)
#define STUCK_US (300 * 1000)
#define STATS_S  2
#define BALLOON0 "/machine/peripheral/balloon0"
#define PERIPHERAL                                                                                 \
        "[{\"name\":\"type\",\"type\":\"string\"},"                                                \
        "{\"name\":\"balloon0\",\"type\":\"child<virtio-balloon-pci>\"}]"

/* How the model's balloon answers a move. */
typedef enum {
        MOVE_STEP,  /* each query-balloon finds it 64 MiB closer; no events */
        MOVE_NEVER, /* it never moves (no driver in the guest) */
        MOVE_EVENT, /* it jumps and says so in BALLOON_CHANGE; later polls go unanswered */
} MoveMode;

/* A model of QEMU, answering from the fake peer's thread. */
typedef struct {
        GMutex lock;
        VtFakeQmp *peer;
        guint64 max;
        guint64 actual;
        guint64 target;
        gboolean no_balloon;
        MoveMode mode;
        const char *peripheral; /* qom-list replies: JSON, or "!Class" for an error */
        const char *anon;
        const char *stats;           /* qom-get guest-stats reply; NULL: a fresh sample */
        const char *garbage_command; /* answered with garbage_reply */
        const char *garbage_reply;
        const char *silent_command; /* never answered after the start */
        const char *hangup_command; /* hangs up on it after the start */
        const char *status;         /* query-status's status */
        guint n_query_balloon;
        GPtrArray *log; /* "command {args}" */
} FakeQemu;

static void
fake_send_error(VtFakeQmp *peer, const VtQmpMessage *command, const char *error_class)
{
        g_autoptr(json_object) reply =
            vt_qmp_message_new_error(error_class, "scripted", command->id);
        g_autofree char *text = g_strconcat(json_object_to_json_string(reply), "\r\n", NULL);

        vt_fake_qmp_send(peer, text, strlen(text));
}

static void
fake_send_event(VtFakeQmp *peer, const char *data)
{
        g_autoptr(json_object) parsed = data != NULL ? json_tokener_parse(data) : NULL;
        g_autoptr(json_object) event =
            vt_qmp_message_new_event("BALLOON_CHANGE", parsed, g_get_real_time());
        g_autofree char *text = g_strconcat(json_object_to_json_string(event), "\r\n", NULL);

        vt_fake_qmp_send(peer, text, strlen(text));
}

static void
fake_reply_or_error(VtFakeQmp *peer, const VtQmpMessage *command, const char *reply)
{
        if (reply[0] == '!')
                fake_send_error(peer, command, reply + 1);
        else
                vt_fake_qmp_reply(peer, command, reply);
}

static const char *
arg_string(const VtQmpMessage *command, const char *name)
{
        json_object *member = NULL;

        if (command->value == NULL || !json_object_object_get_ex(command->value, name, &member))
                return "";
        return json_object_get_string(member);
}

static void
fake_answer(FakeQemu *q, VtFakeQmp *peer, const VtQmpMessage *command)
{
        const char *name = command->name;
        g_autofree char *reply = NULL;
        json_object *value = NULL;

        if (g_str_equal(name, "query-status")) {
                reply = g_strdup_printf("{\"status\": \"%s\", \"singlestep\": false, "
                                        "\"running\": %s}",
                                        q->status,
                                        g_str_equal(q->status, "running") ? "true" : "false");
        } else if (g_str_equal(name, "query-memory-size-summary")) {
                reply = g_strdup_printf(
                    "{\"base-memory\": %" G_GUINT64_FORMAT ", \"plugged-memory\": 0}", q->max);
        } else if (g_str_equal(name, "query-balloon")) {
                if (q->no_balloon) {
                        fake_send_error(peer, command, "DeviceNotActive");
                        return;
                }
                if (q->mode == MOVE_EVENT && q->n_query_balloon > 1)
                        return;
                if (q->mode == MOVE_STEP && q->actual > q->target)
                        q->actual -= MIN(64 * MIB, q->actual - q->target);
                else if (q->mode == MOVE_STEP && q->actual < q->target)
                        q->actual += MIN(64 * MIB, q->target - q->actual);
                reply = g_strdup_printf("{\"actual\": %" G_GUINT64_FORMAT "}", q->actual);
        } else if (g_str_equal(name, "balloon")) {
                if (q->no_balloon) {
                        fake_send_error(peer, command, "DeviceNotActive");
                        return;
                }
                if (command->value != NULL &&
                    json_object_object_get_ex(command->value, "value", &value))
                        q->target = json_object_get_uint64(value);
                vt_fake_qmp_reply(peer, command, "{}");
                if (q->mode == MOVE_EVENT) {
                        q->actual = q->target;
                        /* Garbage first: dropped, not fatal. */
                        fake_send_event(peer, "{\"actual\": \"lots\"}");
                        fake_send_event(peer, NULL);
                        reply = g_strdup_printf("{\"actual\": %" G_GUINT64_FORMAT "}", q->actual);
                        fake_send_event(peer, reply);
                }
                return;
        } else if (g_str_equal(name, "qom-list")) {
                if (g_str_equal(arg_string(command, "path"), "/machine/peripheral"))
                        reply = g_strdup(q->peripheral);
                else
                        reply = g_strdup(q->anon);
                fake_reply_or_error(peer, command, reply);
                return;
        } else if (g_str_equal(name, "qom-set")) {
                reply = g_strdup("{}");
        } else if (g_str_equal(name, "qom-get")) {
                if (q->stats != NULL)
                        reply = g_strdup(q->stats);
                else
                        reply = g_strdup_printf(
                            "{\"stats\": {\"stat-total-memory\": %" G_GUINT64_FORMAT
                            ", \"stat-free-memory\": 104857600, \"stat-available-memory\": "
                            "18446744073709551615, \"stat-swap-in\": -1, \"stat-major-faults\": "
                            "7}, \"last-update\": %" G_GINT64_FORMAT "}",
                            q->max, g_get_real_time() / G_USEC_PER_SEC - 2);
        } else {
                fake_send_error(peer, command, "CommandNotFound");
                return;
        }
        vt_fake_qmp_reply(peer, command, reply);
}

static void
fake_handler(VtFakeQmp *peer, const VtQmpMessage *command, gpointer user_data)
{
        FakeQemu *q = user_data;
        const char *args =
            command->value != NULL
                ? json_object_to_json_string_ext(command->value, JSON_C_TO_STRING_PLAIN |
                                                                     JSON_C_TO_STRING_NOSLASHESCAPE)
                : "";
        gboolean started;

        g_mutex_lock(&q->lock);
        g_ptr_array_add(q->log, g_strdup_printf("%s %s", command->name, args));
        if (g_str_equal(command->name, "query-balloon"))
                q->n_query_balloon++;
        /* The start is over once the first query-balloon was answered. */
        started = q->n_query_balloon > (g_str_equal(command->name, "query-balloon") ? 1 : 0);
        if (started && g_strcmp0(command->name, q->hangup_command) == 0)
                vt_fake_qmp_hangup(peer);
        else if (started && g_strcmp0(command->name, q->silent_command) == 0)
                ;
        else if (g_strcmp0(command->name, q->garbage_command) == 0)
                vt_fake_qmp_reply(peer, command, q->garbage_reply);
        else
                fake_answer(q, peer, command);
        g_mutex_unlock(&q->lock);
}

static void
fake_init(FakeQemu *q)
{
        g_autofree char *greeting = vt_test_load_recorded_qmp("greeting");

        g_mutex_init(&q->lock);
        q->max = 512 * MIB;
        q->actual = 384 * MIB;
        q->target = q->actual;
        q->peripheral = PERIPHERAL;
        q->anon = "[]";
        q->status = "running";
        q->log = g_ptr_array_new_with_free_func(g_free);
        q->peer = vt_fake_qmp_new(greeting, fake_handler, q);
}

static void
fake_clear(FakeQemu *q)
{
        g_clear_pointer(&q->peer, vt_fake_qmp_free);
        g_clear_pointer(&q->log, g_ptr_array_unref);
        g_mutex_clear(&q->lock);
}

static const char *
fake_path(FakeQemu *q)
{
        return vt_fake_qmp_get_address(q->peer) + strlen("unix:");
}

/* How many commands the peer got that start with @prefix. */
static guint
fake_count(FakeQemu *q, const char *prefix)
{
        guint n = 0;

        g_mutex_lock(&q->lock);
        for (guint i = 0; i < q->log->len; i++)
                n += g_str_has_prefix(g_ptr_array_index(q->log, i), prefix);
        g_mutex_unlock(&q->lock);
        return n;
}

/* Runs whatever is ready on the main loop, without blocking. */
static void
drain_main_loop(void)
{
        while (g_main_context_iteration(NULL, FALSE))
                ;
}

typedef struct {
        FakeQemu q;
        VtGuest *guest;
        guint n_changed;
        guint64 last_changed;
        guint n_done;
        guint64 done_actual;
        gint64 done_elapsed_us;
        guint n_stuck;
        guint64 stuck_actual;
        guint64 stuck_target;
        gint64 stuck_at_us;
        guint n_gone;
        GError *gone_error;
        guint n_pressure;
} Fixture;

static void
on_balloon_changed(VtGuest *guest, guint64 actual, gpointer data)
{
        Fixture *f = data;

        f->n_changed++;
        f->last_changed = actual;
}

static void
on_move_done(VtGuest *guest, guint64 actual, gint64 elapsed_us, gpointer data)
{
        Fixture *f = data;

        f->n_done++;
        f->done_actual = actual;
        f->done_elapsed_us = elapsed_us;
}

static void
on_move_stuck(VtGuest *guest, guint64 actual, guint64 target, gpointer data)
{
        Fixture *f = data;

        f->n_stuck++;
        f->stuck_actual = actual;
        f->stuck_target = target;
        f->stuck_at_us = g_get_monotonic_time();
}

static void
on_gone(VtGuest *guest, gpointer error, gpointer data)
{
        Fixture *f = data;

        f->n_gone++;
        g_clear_error(&f->gone_error);
        if (error != NULL)
                f->gone_error = g_error_copy(error);
}

static void
on_pressure(VtGuest *guest, gpointer data)
{
        ((Fixture *)data)->n_pressure++;
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
        fake_init(&f->q);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
        if (f->guest != NULL)
                vt_guest_stop(f->guest);
        g_clear_object(&f->guest);
        drain_main_loop();
        fake_clear(&f->q);
        g_clear_error(&f->gone_error);
}

static void
fixture_make_guest(Fixture *f, const char *agent_path)
{
        f->guest =
            vt_guest_qmp_new("fake", vt_fake_qmp_get_address(f->q.peer), agent_path, STATS_S);
        vt_guest_set_stuck_timeout(f->guest, STUCK_US);
        g_signal_connect(f->guest, "balloon-changed", G_CALLBACK(on_balloon_changed), f);
        g_signal_connect(f->guest, "move-done", G_CALLBACK(on_move_done), f);
        g_signal_connect(f->guest, "move-stuck", G_CALLBACK(on_move_stuck), f);
        g_signal_connect(f->guest, "gone", G_CALLBACK(on_gone), f);
        g_signal_connect(f->guest, "pressure", G_CALLBACK(on_pressure), f);
}

static gboolean
guest_start(Fixture *f, GError **error)
{
        VtTestWaiter waiter = {0};
        gboolean ok;

        if (f->guest == NULL)
                fixture_make_guest(f, NULL);
        vt_guest_start_async(f->guest, vt_test_waiter_callback, &waiter);
        ok = vt_guest_start_finish(f->guest, vt_test_waiter_wait(&waiter), error);
        vt_test_waiter_clear(&waiter);
        return ok;
}

static void
guest_start_ok(Fixture *f)
{
        g_autoptr(GError) error = NULL;

        g_assert_true(guest_start(f, &error));
        g_assert_no_error(error);
}

static gboolean
guest_refresh(Fixture *f, GError **error)
{
        VtTestWaiter waiter = {0};
        gboolean ok;

        vt_guest_refresh_async(f->guest, vt_test_waiter_callback, &waiter);
        ok = vt_guest_refresh_finish(f->guest, vt_test_waiter_wait(&waiter), error);
        vt_test_waiter_clear(&waiter);
        return ok;
}

static gboolean
guest_set_target(Fixture *f, guint64 bytes, gint64 now_us, GError **error)
{
        VtTestWaiter waiter = {0};
        gboolean ok;

        vt_guest_set_target_async(f->guest, bytes, now_us, vt_test_waiter_callback, &waiter);
        ok = vt_guest_set_target_finish(f->guest, vt_test_waiter_wait(&waiter), error);
        vt_test_waiter_clear(&waiter);
        return ok;
}

static void
test_guest_start(Fixture *f, gconstpointer data)
{
        g_autofree char *qom_set = NULL;
        VtBalloonGuest snapshot;
        gint64 now_us;

        guest_start_ok(f);
        g_assert_true(vt_guest_is_started(f->guest));
        g_assert_cmpstr(vt_guest_get_name(f->guest), ==, "fake");
        g_assert_cmpuint(vt_guest_get_max_bytes(f->guest), ==, 512 * MIB);
        g_assert_cmpuint(vt_guest_get_actual_bytes(f->guest), ==, 384 * MIB);
        g_assert_cmpuint(vt_guest_get_target_bytes(f->guest), ==, 0);
        g_assert_true(vt_guest_has_balloon(f->guest));
        g_assert_cmpint(vt_guest_get_pid(f->guest), ==, getpid());
        g_assert_cmpstr(vt_guest_qmp_get_balloon_path(VT_GUEST_QMP(f->guest)), ==, BALLOON0);
        g_assert_null(vt_guest_get_agent(f->guest));
        g_assert_cmpuint(f->n_changed, ==, 1);
        g_assert_cmpuint(f->n_gone, ==, 0);

        /* The peer was told to poll the balloon statistics. */
        qom_set = g_strdup_printf("qom-set {\"path\":\"" BALLOON0
                                  "\",\"property\":\"guest-stats-polling-interval\","
                                  "\"value\":%d}",
                                  STATS_S);
        g_assert_cmpuint(fake_count(&f->q, qom_set), ==, 1);
        g_assert_cmpuint(fake_count(&f->q, "qom-set"), ==, 1);

        now_us = g_get_monotonic_time();
        vt_guest_snapshot(f->guest, now_us, &snapshot);
        g_assert_cmpstr(snapshot.name, ==, "fake");
        g_assert_cmpuint(snapshot.flags, ==, VT_BALLOON_GUEST_HAS_BALLOON);
        g_assert_cmpuint(snapshot.max_bytes, ==, 512 * MIB);
        g_assert_cmpuint(snapshot.actual_bytes, ==, 384 * MIB);
        g_assert_cmpint(snapshot.stats_age_us, ==, G_MAXINT64);
        g_assert_cmpint(snapshot.agent_age_us, ==, G_MAXINT64);
        g_assert_cmpfloat(snapshot.agent_psi_some_avg10, <, 0);
        g_assert_cmpfloat(snapshot.agent_psi_full_avg10, <, 0);
        g_assert_cmpuint(snapshot.rss_bytes, ==, 0);

        /* A guest starts once. */
        {
                g_autoptr(GError) error = NULL;

                g_assert_false(guest_start(f, &error));
                g_assert_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS);
        }
}

typedef struct {
        const char *peripheral;
        const char *anon;
        const char *path; /* NULL: none found */
} PathCase;

static const PathCase path_cases[] = {
    {PERIPHERAL, "!GenericError", BALLOON0},
    {"[{\"name\":\"net0\",\"type\":\"child<virtio-net-pci>\"}]",
     "[{\"name\":\"device[0]\",\"type\":\"child<virtio-serial-pci>\"},"
     "{\"name\":\"device[1]\",\"type\":\"child<virtio-balloon-pci>\"}]",
     "/machine/peripheral-anon/device[1]"},
    {"[{\"name\":\"b\",\"type\":\"child<virtio-balloon-ccw>\"}]", "[]", "/machine/peripheral/b"},
    {"!DeviceNotFound", "[{\"name\":\"device[3]\",\"type\":\"child<virtio-balloon-device>\"}]",
     "/machine/peripheral-anon/device[3]"},
    {"{\"not\": \"a list\"}", "[{\"name\":\"x\",\"type\":\"child<virtio-balloon-pci>\"}]",
     "/machine/peripheral-anon/x"},
    /* A link, a name with a slash, a bad entry: nothing usable. */
    {"[{\"name\":\"l\",\"type\":\"link<virtio-balloon-pci>\"},"
     "{\"name\":\"a/b\",\"type\":\"child<virtio-balloon-pci>\"}]",
     "[{\"name\": 5}]", NULL},
    {"[]", "[]", NULL},
};

static void
test_guest_balloon_path(Fixture *f, gconstpointer data)
{
        const PathCase *c = data;
        g_autoptr(GError) error = NULL;

        f->q.peripheral = c->peripheral;
        f->q.anon = c->anon;
        guest_start_ok(f);
        g_assert_true(vt_guest_has_balloon(f->guest));
        g_assert_cmpstr(vt_guest_qmp_get_balloon_path(VT_GUEST_QMP(f->guest)), ==, c->path);
        g_assert_cmpuint(fake_count(&f->q, "qom-set"), ==, c->path != NULL ? 1 : 0);

        /* Without a path there are no stats, but a refresh works. */
        g_assert_true(guest_refresh(f, &error));
        g_assert_no_error(error);
        g_assert_cmpint(vt_guest_get_stats(f->guest)->updated_us != 0, ==, c->path != NULL);
        /* A path search that found nothing is not repeated at every refresh. */
        g_assert_cmpuint(fake_count(&f->q, "qom-list"), ==,
                         g_str_has_prefix(c->peripheral, "[{\"name\":\"b\"") ||
                                 g_str_equal(c->peripheral, PERIPHERAL)
                             ? 1
                             : 2);
}

static void
test_guest_no_balloon(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        VtBalloonGuest snapshot;

        f->q.no_balloon = TRUE;
        guest_start_ok(f);
        g_assert_true(vt_guest_is_started(f->guest));
        g_assert_false(vt_guest_has_balloon(f->guest));
        g_assert_cmpuint(vt_guest_get_max_bytes(f->guest), ==, 512 * MIB);
        g_assert_null(vt_guest_qmp_get_balloon_path(VT_GUEST_QMP(f->guest)));
        g_assert_cmpuint(fake_count(&f->q, "qom-"), ==, 0);

        /* A move soft-fails and leaves nothing moving. */
        g_assert_false(guest_set_target(f, 256 * MIB, g_get_monotonic_time(), &error));
        g_assert_error(error, VT_QMP_ERROR, VT_QMP_ERROR_DEVICE_NOT_ACTIVE);
        g_clear_error(&error);
        g_assert_false(vt_guest_is_moving(f->guest));
        g_assert_cmpuint(vt_guest_get_target_bytes(f->guest), ==, 0);
        vt_guest_snapshot(f->guest, g_get_monotonic_time(), &snapshot);
        g_assert_cmpuint(snapshot.flags, ==, 0);

        /* A refresh that finds it active again (hot-plugged) finds its path. */
        g_mutex_lock(&f->q.lock);
        f->q.no_balloon = FALSE;
        g_mutex_unlock(&f->q.lock);
        g_assert_true(guest_refresh(f, &error));
        g_assert_no_error(error);
        g_assert_true(vt_guest_has_balloon(f->guest));
        g_assert_cmpstr(vt_guest_qmp_get_balloon_path(VT_GUEST_QMP(f->guest)), ==, BALLOON0);
        g_assert_cmpuint(fake_count(&f->q, "qom-set"), ==, 1);
        g_assert_nonnull(vt_guest_get_stats(f->guest));
        g_assert_cmpint(vt_guest_get_stats(f->guest)->updated_us, >, 0);
}

/* The balloon device went away under a started guest: skip it until a
 * refresh finds it again. */
static void
test_guest_balloon_lost(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        guest_start_ok(f);
        g_mutex_lock(&f->q.lock);
        f->q.no_balloon = TRUE;
        g_mutex_unlock(&f->q.lock);
        g_assert_false(guest_set_target(f, 256 * MIB, g_get_monotonic_time(), &error));
        g_assert_error(error, VT_QMP_ERROR, VT_QMP_ERROR_DEVICE_NOT_ACTIVE);
        g_clear_error(&error);
        g_assert_false(vt_guest_has_balloon(f->guest));
        g_assert_false(vt_guest_is_moving(f->guest));

        g_mutex_lock(&f->q.lock);
        f->q.no_balloon = FALSE;
        g_mutex_unlock(&f->q.lock);
        g_assert_true(guest_refresh(f, &error));
        g_assert_no_error(error);
        g_assert_true(vt_guest_has_balloon(f->guest));
}

static gboolean
move_ended(gpointer data)
{
        Fixture *f = data;

        return f->n_done + f->n_stuck > 0;
}

/* Confirmed by polling: the model sends no event at all. */
static void
test_guest_move_done(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *balloon =
            g_strdup_printf("balloon {\"value\":%" G_GUINT64_FORMAT "}", 256 * MIB);
        gint64 now_us = g_get_monotonic_time();
        VtBalloonGuest snapshot;

        guest_start_ok(f);
        g_assert_true(guest_set_target(f, 256 * MIB, now_us, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(fake_count(&f->q, balloon), ==, 1);
        g_assert_cmpuint(vt_guest_get_target_bytes(f->guest), ==, 256 * MIB);
        vt_guest_snapshot(f->guest, now_us, &snapshot);
        g_assert_cmpuint(snapshot.flags & VT_BALLOON_GUEST_MOVING, !=, 0);
        g_assert_cmpuint(snapshot.target_bytes, ==, 256 * MIB);
        g_assert_cmpint(snapshot.last_change_us, ==, now_us);

        g_assert_true(vt_test_run_until(move_ended, f, GUARD_US));
        g_assert_cmpuint(f->n_done, ==, 1);
        g_assert_cmpuint(f->n_stuck, ==, 0);
        g_assert_cmpuint(f->done_actual, ==, 256 * MIB);
        g_assert_cmpint(f->done_elapsed_us, >, 0);
        g_assert_cmpuint(vt_guest_get_actual_bytes(f->guest), ==, 256 * MIB);
        g_assert_false(vt_guest_is_moving(f->guest));
        /* 384 → 320 → 256: two polls. */
        g_assert_cmpuint(fake_count(&f->q, "query-balloon"), ==, 3);
        g_assert_cmpuint(f->last_changed, ==, 256 * MIB);
        vt_guest_snapshot(f->guest, g_get_monotonic_time(), &snapshot);
        g_assert_cmpuint(snapshot.flags, ==,
                         VT_BALLOON_GUEST_HAS_BALLOON | VT_BALLOON_GUEST_LAST_RECLAIM);

        /* And back up. */
        g_assert_true(guest_set_target(f, 512 * MIB, g_get_monotonic_time(), &error));
        g_assert_no_error(error);
        g_assert_true(vt_test_wait_above(&f->n_done, 1, GUARD_US));
        g_assert_cmpuint(vt_guest_get_actual_bytes(f->guest), ==, 512 * MIB);
}

static void
test_guest_move_stuck(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        gint64 asked_us = g_get_monotonic_time();
        VtBalloonGuest snapshot;

        f->q.mode = MOVE_NEVER;
        guest_start_ok(f);
        g_assert_cmpint(vt_guest_get_stuck_timeout(f->guest), ==, STUCK_US);
        g_assert_true(guest_set_target(f, 256 * MIB, asked_us, &error));
        g_assert_no_error(error);
        g_assert_true(vt_test_run_until(move_ended, f, GUARD_US));
        g_assert_cmpuint(f->n_done, ==, 0);
        g_assert_cmpuint(f->n_stuck, ==, 1);
        g_assert_cmpuint(f->stuck_actual, ==, 384 * MIB);
        g_assert_cmpuint(f->stuck_target, ==, 256 * MIB);
        g_assert_cmpint(f->stuck_at_us - asked_us, >=, STUCK_US);
        g_assert_true(vt_guest_is_stuck(f->guest));
        g_assert_false(vt_guest_is_moving(f->guest));

        /* Left alone for the retry time, then tried again. */
        vt_guest_snapshot(f->guest, f->stuck_at_us, &snapshot);
        g_assert_cmpuint(snapshot.flags & VT_BALLOON_GUEST_STUCK, !=, 0);
        g_assert_cmpuint(snapshot.flags & VT_BALLOON_GUEST_MOVING, ==, 0);
        vt_guest_snapshot(f->guest, f->stuck_at_us + VT_GUEST_STUCK_RETRY_US, &snapshot);
        g_assert_cmpuint(snapshot.flags & VT_BALLOON_GUEST_STUCK, ==, 0);

        /* A new move is not stuck until it proves so. */
        g_assert_true(guest_set_target(f, 200 * MIB, g_get_monotonic_time(), &error));
        g_assert_false(vt_guest_is_stuck(f->guest));
        g_assert_true(vt_guest_is_moving(f->guest));
        g_assert_true(vt_test_wait_above(&f->n_stuck, 1, GUARD_US));
        g_assert_cmpuint(f->n_done, ==, 0);
}

/* Move tracking judged on the times given, without any peer. */
static void
test_guest_move_times(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        gint64 t0 = g_get_monotonic_time();

        f->q.mode = MOVE_NEVER;
        guest_start_ok(f);
        g_assert_true(guest_set_target(f, 128 * MIB, t0, &error));
        /* Progress restarts the stuck clock... */
        vt_guest_update_balloon(f->guest, 300 * MIB, t0 + STUCK_US - 1);
        vt_guest_update_balloon(f->guest, 300 * MIB, t0 + STUCK_US + 1);
        g_assert_cmpuint(f->n_stuck, ==, 0);
        /* ...moving away is no progress... */
        vt_guest_update_balloon(f->guest, 310 * MIB, t0 + 2 * STUCK_US - 2);
        g_assert_cmpuint(f->n_stuck, ==, 0);
        vt_guest_update_balloon(f->guest, 300 * MIB, t0 + 2 * STUCK_US);
        g_assert_cmpuint(f->n_stuck, ==, 1);
        /* ...and stuck is said once. */
        vt_guest_update_balloon(f->guest, 300 * MIB, t0 + 3 * STUCK_US);
        g_assert_cmpuint(f->n_stuck, ==, 1);
        /* A stuck balloon that gets there after all is not stuck. */
        vt_guest_update_balloon(f->guest, 128 * MIB + VT_GUEST_CONFIRM_SLACK, t0 + 4 * STUCK_US);
        g_assert_false(vt_guest_is_stuck(f->guest));
        g_assert_cmpuint(f->n_done, ==, 0);
}

static void
test_guest_event(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        f->q.mode = MOVE_EVENT;
        guest_start_ok(f);
        g_assert_true(guest_set_target(f, 256 * MIB, g_get_monotonic_time(), &error));
        g_assert_no_error(error);
        g_assert_true(vt_test_run_until(move_ended, f, GUARD_US));
        g_assert_cmpuint(f->n_done, ==, 1);
        g_assert_cmpuint(f->done_actual, ==, 256 * MIB);
        g_assert_cmpuint(f->last_changed, ==, 256 * MIB);
        g_assert_cmpuint(f->n_changed, ==, 2);
        g_assert_cmpuint(vt_guest_get_actual_bytes(f->guest), ==, 256 * MIB);
        g_assert_cmpuint(f->n_gone, ==, 0);
}

static void
test_guest_stats(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        const VtGuestStats *stats;
        VtBalloonGuest snapshot;
        gint64 now_us;

        guest_start_ok(f);
        g_assert_cmpint(vt_guest_get_stats(f->guest)->updated_us, ==, 0);
        g_assert_true(guest_refresh(f, &error));
        g_assert_no_error(error);
        now_us = g_get_monotonic_time();
        stats = vt_guest_get_stats(f->guest);
        g_assert_cmpuint(stats->total, ==, 512 * MIB);
        g_assert_cmpuint(stats->free, ==, 100 * MIB);
        g_assert_cmpuint(stats->available, ==, 0); /* -1, spelled unsigned */
        g_assert_cmpuint(stats->swap_in, ==, 0);   /* -1 */
        g_assert_cmpuint(stats->major_faults, ==, 7);
        /* Sampled 2 s (of QEMU's wall clock, in whole seconds) ago. */
        g_assert_cmpint(now_us - stats->updated_us, >=, 1 * G_USEC_PER_SEC);
        g_assert_cmpint(now_us - stats->updated_us, <=, 4 * G_USEC_PER_SEC);
        vt_guest_snapshot(f->guest, now_us, &snapshot);
        g_assert_cmpuint(snapshot.flags & VT_BALLOON_GUEST_HAS_STATS, !=, 0);
        g_assert_cmpuint(snapshot.stats_total, ==, 512 * MIB);
        g_assert_cmpuint(snapshot.stats_free, ==, 100 * MIB);
        g_assert_cmpint(snapshot.stats_age_us, ==, now_us - stats->updated_us);
}

/* The guest's driver never sent stats: QEMU says last-update 0. */
static void
test_guest_stats_none(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *recorded = vt_test_load_recorded_qmp("qom-get-guest-stats-no-driver");
        g_autoptr(json_object) parsed = json_tokener_parse(recorded);
        json_object *ret = NULL;
        VtBalloonGuest snapshot;

        g_assert_true(json_object_object_get_ex(parsed, "return", &ret));
        f->q.stats = json_object_to_json_string(ret);
        guest_start_ok(f);
        g_assert_true(guest_refresh(f, &error));
        g_assert_no_error(error);
        g_assert_cmpint(vt_guest_get_stats(f->guest)->updated_us, ==, 0);
        vt_guest_snapshot(f->guest, g_get_monotonic_time(), &snapshot);
        g_assert_cmpuint(snapshot.flags & VT_BALLOON_GUEST_HAS_STATS, ==, 0);
}

static void
test_guest_hangup(Fixture *f, gconstpointer data)
{
        const char *command = data;
        g_autoptr(GError) error = NULL;
        gboolean ok;

        f->q.hangup_command = command;
        guest_start_ok(f);
        if (g_str_equal(command, "balloon"))
                ok = guest_set_target(f, 256 * MIB, g_get_monotonic_time(), &error);
        else
                ok = guest_refresh(f, &error);
        g_assert_false(ok);
        g_assert_error(error, VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED);
        g_clear_error(&error);
        g_assert_true(vt_test_wait_above(&f->n_gone, 0, GUARD_US));
        g_assert_cmpuint(f->n_gone, ==, 1);
        g_assert_error(f->gone_error, VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED);
        g_assert_true(vt_guest_is_gone(f->guest));
        g_assert_false(vt_guest_is_moving(f->guest));

        /* A gone guest refuses at once. */
        g_assert_false(guest_refresh(f, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
        g_clear_error(&error);
        g_assert_false(guest_set_target(f, 256 * MIB, g_get_monotonic_time(), &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
        g_assert_cmpuint(f->n_gone, ==, 1);
}

/* A QEMU that stops answering: the command times out; the guest stays. */
static void
test_guest_timeout(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        f->q.silent_command = "query-balloon";
        fixture_make_guest(f, NULL);
        vt_guest_qmp_set_timeout(VT_GUEST_QMP(f->guest), 200 * 1000);
        guest_start_ok(f);
        g_assert_false(guest_refresh(f, &error));
        g_assert_error(error, VT_QMP_ERROR, VT_QMP_ERROR_TIMEOUT);
        g_assert_cmpuint(f->n_gone, ==, 0);
        g_assert_false(vt_guest_is_gone(f->guest));
}

typedef struct {
        const char *command;
        const char *reply;
        gboolean start_fails; /* else the refresh fails; -1 code: nothing fails */
        gint code;
} GarbageCase;

static const GarbageCase garbage_cases[] = {
    {"query-memory-size-summary", "{}", TRUE, VT_QMP_ERROR_PROTOCOL},
    {"query-memory-size-summary", "{\"base-memory\": \"512\"}", TRUE, VT_QMP_ERROR_PROTOCOL},
    {"query-memory-size-summary", "[1, 2]", TRUE, VT_QMP_ERROR_PROTOCOL},
    {"query-balloon", "{\"actual\": \"lots\"}", TRUE, VT_QMP_ERROR_PROTOCOL},
    {"query-balloon", "{}", TRUE, VT_QMP_ERROR_PROTOCOL},
    {"query-balloon", "[]", TRUE, VT_QMP_ERROR_PROTOCOL},
    {"query-balloon", "\"x\"", TRUE, VT_QMP_ERROR_PROTOCOL},
    {"query-balloon", "{\"actual\": -5}", TRUE, VT_QMP_ERROR_PROTOCOL},
    {"query-balloon", "{\"actual\": 1.5}", TRUE, VT_QMP_ERROR_PROTOCOL},
    {"qom-get", "{\"stats\": 5, \"last-update\": 1}", FALSE, VT_QMP_ERROR_PROTOCOL},
    {"qom-get", "{\"stats\": {}}", FALSE, VT_QMP_ERROR_PROTOCOL},
    {"qom-get", "{\"stats\": {}, \"last-update\": -1}", FALSE, VT_QMP_ERROR_PROTOCOL},
    {"qom-get", "{\"stats\": {\"stat-free-memory\": \"x\"}, \"last-update\": 1}", FALSE,
     VT_QMP_ERROR_PROTOCOL},
    {"qom-get", "[]", FALSE, VT_QMP_ERROR_PROTOCOL},
    /* Not fatal: no path, no stats interval. */
    {"qom-list", "[{\"name\": 5}]", FALSE, -1},
    {"qom-list", "17", FALSE, -1},
    {"qom-set", "[]", FALSE, -1},
};

static void
test_guest_garbage(Fixture *f, gconstpointer data)
{
        const GarbageCase *c = data;
        g_autoptr(GError) error = NULL;

        f->q.garbage_command = c->command;
        f->q.garbage_reply = c->reply;
        if (c->start_fails) {
                g_assert_false(guest_start(f, &error));
                g_assert_error(error, VT_QMP_ERROR, c->code);
                g_test_message("start: %s", error->message);
                g_assert_false(vt_guest_is_started(f->guest));
                /* A guest that cannot start is gone, once. */
                g_assert_cmpuint(f->n_gone, ==, 1);
                g_assert_true(vt_guest_is_gone(f->guest));
                return;
        }
        guest_start_ok(f);
        g_assert_cmpint(vt_guest_get_pid(f->guest), ==, getpid());
        if (c->code < 0) {
                g_assert_true(guest_refresh(f, &error));
                g_assert_no_error(error);
        } else {
                g_assert_false(guest_refresh(f, &error));
                g_assert_error(error, VT_QMP_ERROR, c->code);
                g_test_message("refresh: %s", error->message);
        }
        g_assert_cmpuint(f->n_gone, ==, 0);
        g_assert_true(vt_guest_is_started(f->guest));
}

/* Stopped while starting: the start fails, and nothing is emitted. */
/* Sets the model's run state, as QEMU moves from one to the next. */
static void
fake_set_status(FakeQemu *q, const char *status)
{
        g_mutex_lock(&q->lock);
        q->status = status;
        g_mutex_unlock(&q->lock);
}

/* Sends QEMU's RESUME event: the guest runs. */
static void
fake_send_resume(FakeQemu *q)
{
        g_autoptr(json_object) event = vt_qmp_message_new_event("RESUME", NULL, g_get_real_time());
        g_autofree char *text = g_strconcat(json_object_to_json_string(event), "\r\n", NULL);

        vt_fake_qmp_send(q->peer, text, strlen(text));
}

/* A QEMU that runs (the run state QEMU says) is the guest. */
static void
test_guest_status_running(Fixture *f, gconstpointer data)
{
        guest_start_ok(f);
        g_assert_true(vt_guest_is_started(f->guest));
        g_assert_cmpuint(fake_count(&f->q, "query-status"), ==, 1);
        g_assert_cmpuint(vt_guest_get_actual_bytes(f->guest), ==, 384 * MIB);
}

/* A spent migration source (postmigrate) is not the guest: the start
 * fails, and nothing is sent to it after query-status, not even `quit`. */
static void
test_guest_status_postmigrate(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        f->q.status = "postmigrate";
        g_assert_false(guest_start(f, &error));
        g_assert_error(error, VT_GUEST_QMP_ERROR, VT_GUEST_QMP_ERROR_SPENT_SOURCE);
        g_assert_nonnull(strstr(error->message, "spent migration source (postmigrate)"));
        g_assert_false(vt_guest_is_started(f->guest));
        g_assert_cmpuint(f->n_gone, ==, 1);
        g_assert_error(f->gone_error, VT_GUEST_QMP_ERROR, VT_GUEST_QMP_ERROR_SPENT_SOURCE);
        drain_main_loop();
        g_assert_cmpuint(fake_count(&f->q, "query-status"), ==, 1);
        g_assert_cmpuint(fake_count(&f->q, "query-balloon"), ==, 0);
        g_assert_cmpuint(fake_count(&f->q, "balloon"), ==, 0);
        g_assert_cmpuint(fake_count(&f->q, "qom-"), ==, 0);
        g_assert_cmpuint(fake_count(&f->q, "quit"), ==, 0);
        g_assert_cmpuint(fake_count(&f->q, "cont"), ==, 0);
}

static gboolean
fake_status_asked(gpointer data)
{
        return fake_count(data, "query-status") == 1;
}

/* How the inmigrate case ends its wait. */
enum {
        INMIGRATE_RESUME, /* the move completes: RESUME */
        INMIGRATE_STOP,   /* the guest is stopped */
        INMIGRATE_HANGUP, /* the stream broke and the QEMU exited */
};

/* A QEMU waiting for an incoming migration is taken on once it runs
 * (RESUME), not before; one stopped, or one that exits, while it waits
 * fails its start. */
static void
test_guest_status_inmigrate(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        VtTestWaiter waiter = {0};
        int end = GPOINTER_TO_INT(data);
        gint64 until_us;

        f->q.status = "inmigrate";
        fixture_make_guest(f, NULL);
        vt_guest_start_async(f->guest, vt_test_waiter_callback, &waiter);
        g_assert_true(vt_test_run_until(fake_status_asked, &f->q, GUARD_US));
        until_us = g_get_monotonic_time() + STUCK_US;
        while (g_get_monotonic_time() < until_us)
                g_main_context_iteration(NULL, FALSE);
        g_assert_false(vt_guest_is_started(f->guest));
        g_assert_cmpuint(fake_count(&f->q, "query-balloon"), ==, 0);
        g_assert_cmpuint(fake_count(&f->q, "query-memory-size-summary"), ==, 0);
        if (end == INMIGRATE_STOP)
                vt_guest_stop(f->guest);
        if (end == INMIGRATE_HANGUP)
                vt_fake_qmp_hangup(f->q.peer);
        if (end != INMIGRATE_RESUME) {
                g_assert_false(
                    vt_guest_start_finish(f->guest, vt_test_waiter_wait(&waiter), &error));
                if (end == INMIGRATE_STOP)
                        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
                else
                        g_assert_error(error, VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED);
                vt_test_waiter_clear(&waiter);
                g_assert_false(vt_guest_is_started(f->guest));
                g_assert_cmpuint(f->n_gone, ==, end == INMIGRATE_HANGUP ? 1 : 0);
                return;
        }
        fake_set_status(&f->q, "running");
        fake_send_resume(&f->q);
        g_assert_true(vt_guest_start_finish(f->guest, vt_test_waiter_wait(&waiter), &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);
        g_assert_true(vt_guest_is_started(f->guest));
        g_assert_cmpuint(vt_guest_get_max_bytes(f->guest), ==, 512 * MIB);
        g_assert_cmpuint(vt_guest_get_actual_bytes(f->guest), ==, 384 * MIB);
}

static void
test_guest_stop_starting(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        VtTestWaiter waiter = {0};

        fixture_make_guest(f, NULL);
        vt_guest_start_async(f->guest, vt_test_waiter_callback, &waiter);
        vt_guest_stop(f->guest);
        g_assert_false(vt_guest_start_finish(f->guest, vt_test_waiter_wait(&waiter), &error));
        vt_test_waiter_clear(&waiter);
        g_assert_nonnull(error);
        g_assert_cmpuint(f->n_gone, ==, 0);
        g_assert_cmpuint(f->n_changed, ==, 0);
        g_assert_false(vt_guest_is_started(f->guest));
}

static void
test_guest_not_started(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        fixture_make_guest(f, NULL);
        g_assert_false(guest_refresh(f, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
        g_clear_error(&error);
        g_assert_false(guest_set_target(f, MIB, 1, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
}

static void
test_guest_config(Fixture *f, gconstpointer data)
{
        VtBalloonGuestConfig config = {.min_bytes = 128 * MIB, .shares = 2000, .opt_out = TRUE};
        VtBalloonGuestConfig got = {0};

        fixture_make_guest(f, NULL);
        vt_guest_set_config(f->guest, &config);
        vt_guest_get_config(f->guest, &got);
        g_assert_cmpmem(&got, sizeof(got), &config, sizeof(config));
}

/* An agent socket played by the test: the guest reads it once started. */
typedef struct {
        GSocketListener *listener;
        GSocketConnection *connection;
        char *dir;
        char *path;
} FakeAgent;

static void
agent_on_accept(GObject *source, GAsyncResult *result, gpointer data)
{
        FakeAgent *agent = data;
        g_autoptr(GError) error = NULL;

        agent->connection =
            g_socket_listener_accept_finish(G_SOCKET_LISTENER(source), result, NULL, &error);
        g_assert_no_error(error);
}

static gboolean
agent_connected(gpointer data)
{
        return ((FakeAgent *)data)->connection != NULL;
}

static void
test_guest_agent_pressure(Fixture *f, gconstpointer data)
{
        const char *line = "{\"v\":1,\"type\":\"report\",\"seq\":1,\"reason\":\"pressure\","
                           "\"uptime_ms\":1000,\"interval_ms\":5000,"
                           "\"mem\":{\"total\":536870912,\"available\":268435456}}\n";
        g_autoptr(GError) error = NULL;
        g_autoptr(GSocketAddress) address = NULL;
        FakeAgent agent = {0};
        VtBalloonGuest snapshot;
        GOutputStream *out;
        gint64 now_us;

        agent.dir = g_dir_make_tmp("vt-agent-XXXXXX", &error);
        g_assert_no_error(error);
        agent.path = g_build_filename(agent.dir, "agent.sock", NULL);
        address = g_unix_socket_address_new(agent.path);
        agent.listener = g_socket_listener_new();
        g_socket_listener_add_address(agent.listener, address, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_DEFAULT, NULL, NULL, &error);
        g_assert_no_error(error);
        g_socket_listener_accept_async(agent.listener, NULL, agent_on_accept, &agent);

        fixture_make_guest(f, agent.path);
        g_assert_nonnull(vt_guest_get_agent(f->guest));
        g_assert_false(vt_agent_reader_is_connected(vt_guest_get_agent(f->guest)));
        guest_start_ok(f);
        g_assert_true(vt_test_run_until(agent_connected, &agent, GUARD_US));

        out = g_io_stream_get_output_stream(G_IO_STREAM(agent.connection));
        g_assert_true(g_output_stream_write_all(out, line, strlen(line), NULL, NULL, &error));
        g_assert_no_error(error);
        g_assert_true(vt_test_wait_above(&f->n_pressure, 0, GUARD_US));

        now_us = g_get_monotonic_time();
        vt_guest_snapshot(f->guest, now_us, &snapshot);
        g_assert_cmpuint(snapshot.flags & VT_BALLOON_GUEST_PRESSURE_PUSH, !=, 0);
        g_assert_cmpuint(snapshot.flags & VT_BALLOON_GUEST_HAS_AGENT, !=, 0);
        g_assert_cmpuint(snapshot.agent_mem_total, ==, 512 * MIB);
        g_assert_cmpuint(snapshot.agent_mem_available, ==, 256 * MIB);
        g_assert_cmpfloat(snapshot.agent_psi_some_avg10, <, 0); /* the report has no PSI */
        g_assert_cmpint(snapshot.agent_age_us, >=, 0);
        g_assert_cmpint(snapshot.agent_age_us, <, GUARD_US);
        vt_guest_clear_pressure(f->guest);
        vt_guest_snapshot(f->guest, now_us, &snapshot);
        g_assert_cmpuint(snapshot.flags & VT_BALLOON_GUEST_PRESSURE_PUSH, ==, 0);
        g_assert_cmpuint(snapshot.flags & VT_BALLOON_GUEST_HAS_AGENT, !=, 0);

        vt_guest_stop(f->guest);
        g_assert_false(vt_agent_reader_is_connected(vt_guest_get_agent(f->guest)));
        g_clear_object(&agent.connection);
        g_socket_listener_close(agent.listener);
        g_clear_object(&agent.listener);
        vt_test_remove_tree(agent.dir);
        g_free(agent.path);
        g_free(agent.dir);
}

/*
 * The backend, with a daemon stand-in that starts every guest added and
 * stops every guest removed.
 */
typedef struct {
        char *dir;
        FakeQemu peers[3];
        VtBackend *backend;
        GHashTable *guests;  /* name → VtGuest, started or starting */
        GHashTable *n_added; /* name → count */
        GHashTable *n_removed;
        guint n_started;
        guint n_start_failed;
        guint added_total;
        guint removed_total;
        gint64 added_at_us;
        GSource *tick;
} BackendFixture;

static void
count(GHashTable *table, const char *name)
{
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(table, name));

        g_hash_table_insert(table, g_strdup(name), GUINT_TO_POINTER(n + 1));
}

static guint
count_of(GHashTable *table, const char *name)
{
        return GPOINTER_TO_UINT(g_hash_table_lookup(table, name));
}

static void
on_guest_started(GObject *source, GAsyncResult *result, gpointer data)
{
        BackendFixture *f = data;

        if (vt_guest_start_finish(VT_GUEST(source), result, NULL))
                f->n_started++;
        else
                f->n_start_failed++;
}

static void
on_guest_added(VtBackend *backend, VtGuest *guest, gpointer data)
{
        BackendFixture *f = data;
        const char *name = vt_guest_get_name(guest);

        f->added_total++;
        f->added_at_us = g_get_monotonic_time();
        count(f->n_added, name);
        g_assert_false(g_hash_table_contains(f->guests, name));
        g_hash_table_insert(f->guests, g_strdup(name), g_object_ref(guest));
        vt_guest_start_async(guest, on_guest_started, f);
}

static void
on_guest_removed(VtBackend *backend, VtGuest *guest, gpointer data)
{
        BackendFixture *f = data;
        const char *name = vt_guest_get_name(guest);

        f->removed_total++;
        count(f->n_removed, name);
        g_assert_true(g_hash_table_lookup(f->guests, name) == guest);
        vt_guest_stop(guest);
        g_hash_table_remove(f->guests, name);
}

static void
stop_and_unref(gpointer guest)
{
        vt_guest_stop(guest);
        g_object_unref(guest);
}

static void
backend_setup(BackendFixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        f->dir = g_dir_make_tmp("vt-backend-XXXXXX", &error);
        g_assert_no_error(error);
        for (guint i = 0; i < G_N_ELEMENTS(f->peers); i++)
                fake_init(&f->peers[i]);
        f->guests = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, stop_and_unref);
        f->n_added = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        f->n_removed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

static void
backend_make(BackendFixture *f, const char *dir)
{
        f->backend = vt_backend_qmp_new(dir, STATS_S);
        g_signal_connect(f->backend, "guest-added", G_CALLBACK(on_guest_added), f);
        g_signal_connect(f->backend, "guest-removed", G_CALLBACK(on_guest_removed), f);
}

static void
backend_teardown(BackendFixture *f, gconstpointer data)
{
        if (f->tick != NULL) {
                g_source_destroy(f->tick);
                g_source_unref(f->tick);
        }
        if (f->backend != NULL)
                vt_backend_stop(f->backend);
        g_clear_object(&f->backend);
        g_hash_table_remove_all(f->guests);
        /* Starts that fail because of the stop report back now, not later. */
        drain_main_loop();
        g_hash_table_unref(f->guests);
        g_hash_table_unref(f->n_added);
        g_hash_table_unref(f->n_removed);
        for (guint i = 0; i < G_N_ELEMENTS(f->peers); i++)
                fake_clear(&f->peers[i]);
        vt_test_remove_tree(f->dir);
        g_free(f->dir);
}

static char *
dir_file(BackendFixture *f, const char *name)
{
        return g_build_filename(f->dir, name, NULL);
}

static void
make_symlink(BackendFixture *f, const char *target, const char *name)
{
        g_autofree char *path = dir_file(f, name);

        g_assert_cmpint(symlink(target, path), ==, 0);
}

/* A Unix socket file at @name; listening (kept open) or dead (closed). */
static int
make_socket(BackendFixture *f, const char *name, gboolean listening)
{
        g_autofree char *path = dir_file(f, name);
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpuint(strlen(path), <, sizeof(addr.sun_path));
        strcpy(addr.sun_path, path);
        g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
        if (listening) {
                g_assert_cmpint(listen(fd, 4), ==, 0);
                return fd;
        }
        close(fd);
        return -1;
}

static void
make_file(BackendFixture *f, const char *name)
{
        g_autofree char *path = dir_file(f, name);
        g_autoptr(GError) error = NULL;

        g_assert_true(g_file_set_contents(path, "x", 1, &error));
        g_assert_no_error(error);
}

static void
remove_file(BackendFixture *f, const char *name)
{
        g_autofree char *path = dir_file(f, name);

        g_assert_cmpint(g_unlink(path), ==, 0);
}

typedef struct {
        BackendFixture *f;
        const char *name;
        guint n;
} CountWait;

static gboolean
added_reached(gpointer data)
{
        CountWait *w = data;

        return count_of(w->f->n_added, w->name) >= w->n;
}

static gboolean
removed_reached(gpointer data)
{
        CountWait *w = data;

        return count_of(w->f->n_removed, w->name) >= w->n;
}

static void
wait_added(BackendFixture *f, const char *name, guint n)
{
        CountWait w = {f, name, n};

        g_assert_true(vt_test_run_until(added_reached, &w, GUARD_US));
}

static void
wait_removed(BackendFixture *f, const char *name, guint n)
{
        CountWait w = {f, name, n};

        g_assert_true(vt_test_run_until(removed_reached, &w, GUARD_US));
}

static gboolean
n_started_reached(gpointer data)
{
        CountWait *w = data;

        return w->f->n_started >= w->n;
}

static void
test_backend_dir(BackendFixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *agent_path = dir_file(f, "alpha.agent");
        CountWait started = {f, NULL, 2};
        VtGuest *alpha, *beta;
        int agent_fd;

        make_symlink(f, fake_path(&f->peers[0]), "alpha.qmp");
        make_symlink(f, fake_path(&f->peers[1]), "beta.qmp");
        agent_fd = make_socket(f, "alpha.agent", TRUE);
        /* Odd files: ignored. */
        make_file(f, "README");
        make_file(f, "notasocket.qmp");
        make_symlink(f, fake_path(&f->peers[2]), ".hidden.qmp");
        make_symlink(f, fake_path(&f->peers[2]), "bad name.qmp");
        make_symlink(f, fake_path(&f->peers[2]), "bad\tname.qmp");
        make_symlink(f, fake_path(&f->peers[2]), ".qmp");
        make_symlink(f, "/nonexistent/socket", "dangling.qmp");
        make_socket(f, "lonely.agent", FALSE);
        {
                g_autofree char *sub = dir_file(f, "sub.qmp");

                g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);
        }

        backend_make(f, f->dir);
        g_assert_cmpstr(vt_backend_get_name(f->backend), ==, "qmp");
        g_assert_true(vt_backend_start(f->backend, &error));
        g_assert_no_error(error);
        /* Announced from the main loop, not from within start. */
        g_assert_cmpuint(f->added_total, ==, 0);
        g_assert_true(vt_test_run_until(n_started_reached, &started, GUARD_US));
        drain_main_loop();
        g_assert_cmpuint(f->added_total, ==, 2);
        g_assert_cmpuint(f->n_start_failed, ==, 0);
        g_assert_cmpuint(vt_backend_qmp_get_n_guests(VT_BACKEND_QMP(f->backend)), ==, 2);

        alpha = g_hash_table_lookup(f->guests, "alpha");
        beta = g_hash_table_lookup(f->guests, "beta");
        g_assert_nonnull(alpha);
        g_assert_nonnull(beta);
        g_assert_nonnull(vt_guest_get_agent(alpha));
        g_assert_cmpstr(vt_agent_reader_get_path(vt_guest_get_agent(alpha)), ==, agent_path);
        g_assert_null(vt_guest_get_agent(beta));
        g_assert_cmpuint(vt_guest_get_max_bytes(alpha), ==, 512 * MIB);
        /* The stats interval reached each peer. */
        g_assert_cmpuint(fake_count(&f->peers[0], "qom-set"), ==, 1);
        g_assert_cmpuint(fake_count(&f->peers[2], "query-"), ==, 0);

        /* A rescan changes nothing. */
        vt_backend_rescan(f->backend);
        drain_main_loop();
        g_assert_cmpuint(f->added_total, ==, 2);
        g_assert_cmpuint(f->removed_total, ==, 0);

        /* The monitor sees a socket go and another come. */
        remove_file(f, "beta.qmp");
        wait_removed(f, "beta", 1);
        g_assert_false(g_hash_table_contains(f->guests, "beta"));
        make_symlink(f, fake_path(&f->peers[2]), "gamma.qmp");
        wait_added(f, "gamma", 1);
        drain_main_loop();
        g_assert_cmpuint(f->added_total, ==, 3);
        g_assert_cmpuint(f->removed_total, ==, 1);
        g_assert_cmpuint(count_of(f->n_added, "alpha"), ==, 1);

        /* After stop, nothing more. */
        vt_backend_stop(f->backend);
        remove_file(f, "alpha.qmp");
        vt_backend_rescan(f->backend);
        drain_main_loop();
        g_assert_cmpuint(f->removed_total, ==, 1);
        close(agent_fd);
}

static gboolean
on_tick(gpointer data)
{
        vt_backend_rescan(data);
        return G_SOURCE_CONTINUE;
}

/* A daemon tick: rescans every 20 ms while the test waits. */
static void
start_ticking(BackendFixture *f)
{
        f->tick = g_timeout_source_new(20);
        g_source_set_callback(f->tick, on_tick, f->backend, NULL);
        g_source_attach(f->tick, NULL);
}

/* Replaces @name by a new dead socket: made aside, then renamed over. */
static void
replace_dead_socket(BackendFixture *f, const char *name)
{
        g_autofree char *tmp = dir_file(f, "replacement.tmp");
        g_autofree char *path = dir_file(f, name);

        make_socket(f, "replacement.tmp", FALSE);
        g_assert_cmpint(g_rename(tmp, path), ==, 0);
}

/* A socket whose QEMU died: not re-added at every scan, only when the
 * file changes or after the (doubling) backoff. */
static void
test_backend_dead_socket(BackendFixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        gint64 added_us;

        make_socket(f, "dead.qmp", FALSE);
        backend_make(f, f->dir);
        vt_backend_qmp_set_retry(VT_BACKEND_QMP(f->backend),
                                 G_GINT64_CONSTANT(3600) * G_USEC_PER_SEC,
                                 G_GINT64_CONSTANT(3600) * G_USEC_PER_SEC);
        g_assert_true(vt_backend_start(f->backend, &error));
        g_assert_no_error(error);
        wait_removed(f, "dead", 1);
        drain_main_loop();
        g_assert_cmpuint(f->n_start_failed, ==, 1);
        for (guint i = 0; i < 20; i++) {
                vt_backend_rescan(f->backend);
                drain_main_loop();
        }
        g_assert_cmpuint(count_of(f->n_added, "dead"), ==, 1);
        g_assert_cmpuint(vt_backend_qmp_get_n_guests(VT_BACKEND_QMP(f->backend)), ==, 0);

        /* A new socket file (QEMU restarted): tried at once. */
        replace_dead_socket(f, "dead.qmp");
        wait_added(f, "dead", 2);
        wait_removed(f, "dead", 2);
        remove_file(f, "dead.qmp");

        /* With a short backoff: tried again after it, then after twice it. */
        vt_backend_qmp_set_retry(VT_BACKEND_QMP(f->backend), 300 * 1000, 600 * 1000);
        make_socket(f, "dead2.qmp", FALSE);
        wait_removed(f, "dead2", 1);
        added_us = f->added_at_us;
        vt_backend_rescan(f->backend);
        drain_main_loop();
        g_assert_cmpuint(count_of(f->n_added, "dead2"), ==, 1);
        /* It went after it was added: the retry is at least that far apart. */
        start_ticking(f);
        wait_added(f, "dead2", 2);
        g_assert_cmpint(f->added_at_us - added_us, >=, 300 * 1000);
        added_us = f->added_at_us;
        wait_added(f, "dead2", 3);
        g_assert_cmpint(f->added_at_us - added_us, >=, 600 * 1000);
        g_assert_cmpuint(count_of(f->n_added, "dead"), ==, 2);
}

/* A spent migration source behind a socket: never taken on, said once,
 * tried again at the shortest backoff, and taken on once resumed. */
static void
test_backend_spent_source(BackendFixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        CountWait started = {f, NULL, 1};

        f->peers[0].status = "postmigrate";
        make_symlink(f, fake_path(&f->peers[0]), "spent.qmp");
        backend_make(f, f->dir);
        vt_backend_qmp_set_retry(VT_BACKEND_QMP(f->backend), 100 * 1000, 100 * 1000);
        g_test_expect_message("vmtide-host", G_LOG_LEVEL_WARNING,
                              "guest 'spent': its QEMU is a spent migration source "
                              "(postmigrate): left alone; quit it or resume it by hand");
        g_assert_true(vt_backend_start(f->backend, &error));
        g_assert_no_error(error);
        start_ticking(f);
        /* Tried three times, said once (a second warning would abort). */
        wait_removed(f, "spent", 3);
        g_test_assert_expected_messages();
        g_assert_cmpuint(f->n_started, ==, 0);
        g_assert_cmpuint(fake_count(&f->peers[0], "query-balloon"), ==, 0);
        g_assert_cmpuint(fake_count(&f->peers[0], "balloon"), ==, 0);
        g_assert_cmpuint(fake_count(&f->peers[0], "quit"), ==, 0);

        /* Resumed by hand: the next try takes it on. */
        fake_set_status(&f->peers[0], "running");
        g_assert_true(vt_test_run_until(n_started_reached, &started, GUARD_US));
        g_assert_cmpuint(vt_backend_qmp_get_n_guests(VT_BACKEND_QMP(f->backend)), ==, 1);
}

static void
test_backend_static(BackendFixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        CountWait started = {f, NULL, 1};
        VtGuest *guest;

        backend_make(f, NULL);
        vt_backend_qmp_add_static(VT_BACKEND_QMP(f->backend), "configured",
                                  vt_fake_qmp_get_address(f->peers[0].peer), NULL);
        /* Invalid names from a configuration are ignored, not fatal. */
        vt_backend_qmp_add_static(VT_BACKEND_QMP(f->backend), "a/b", fake_path(&f->peers[1]), NULL);
        g_assert_true(vt_backend_start(f->backend, &error));
        g_assert_no_error(error);
        g_assert_true(vt_test_run_until(n_started_reached, &started, GUARD_US));
        drain_main_loop();
        g_assert_cmpuint(f->added_total, ==, 1);
        guest = g_hash_table_lookup(f->guests, "configured");
        g_assert_nonnull(guest);
        g_assert_cmpuint(vt_guest_get_actual_bytes(guest), ==, 384 * MIB);
}

static void
test_backend_missing_dir(BackendFixture *f, gconstpointer data)
{
        g_autofree char *missing = dir_file(f, "missing");
        g_autoptr(GError) error = NULL;

        backend_make(f, missing);
        g_assert_false(vt_backend_start(f->backend, &error));
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static void
test_backend_names(void)
{
        g_autofree char *long_name = g_strnfill(VT_BACKEND_QMP_MAX_NAME, 'a');
        g_autofree char *too_long = g_strnfill(VT_BACKEND_QMP_MAX_NAME + 1, 'a');

        g_assert_true(vt_backend_qmp_name_is_valid("vm1"));
        g_assert_true(vt_backend_qmp_name_is_valid("web-01.example_com"));
        g_assert_true(vt_backend_qmp_name_is_valid("h\xc3\xa9"));
        g_assert_true(vt_backend_qmp_name_is_valid(long_name));
        g_assert_false(vt_backend_qmp_name_is_valid(too_long));
        g_assert_false(vt_backend_qmp_name_is_valid(""));
        g_assert_false(vt_backend_qmp_name_is_valid("."));
        g_assert_false(vt_backend_qmp_name_is_valid(".."));
        g_assert_false(vt_backend_qmp_name_is_valid("a b"));
        g_assert_false(vt_backend_qmp_name_is_valid("a/b"));
        g_assert_false(vt_backend_qmp_name_is_valid("a\nb"));
        g_assert_false(vt_backend_qmp_name_is_valid("a\x7f"));
        g_assert_false(vt_backend_qmp_name_is_valid("\xc3\x28"));
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

#define ADD(path, test, data) g_test_add(path, Fixture, data, fixture_setup, test, fixture_teardown)
        ADD("/host/guest/start", test_guest_start, NULL);
        ADD("/host/guest/no-balloon", test_guest_no_balloon, NULL);
        ADD("/host/guest/balloon-lost", test_guest_balloon_lost, NULL);
        ADD("/host/guest/move-done", test_guest_move_done, NULL);
        ADD("/host/guest/move-stuck", test_guest_move_stuck, NULL);
        ADD("/host/guest/move-times", test_guest_move_times, NULL);
        ADD("/host/guest/event", test_guest_event, NULL);
        ADD("/host/guest/stats", test_guest_stats, NULL);
        ADD("/host/guest/stats-none", test_guest_stats_none, NULL);
        ADD("/host/guest/hangup/refresh", test_guest_hangup, "query-balloon");
        ADD("/host/guest/hangup/balloon", test_guest_hangup, "balloon");
        ADD("/host/guest/hangup/stats", test_guest_hangup, "qom-get");
        ADD("/host/guest/timeout", test_guest_timeout, NULL);
        ADD("/host/guest/stop-starting", test_guest_stop_starting, NULL);
        ADD("/host/guest/status/running", test_guest_status_running, NULL);
        ADD("/host/guest/status/postmigrate", test_guest_status_postmigrate, NULL);
        ADD("/host/guest/status/inmigrate", test_guest_status_inmigrate,
            GINT_TO_POINTER(INMIGRATE_RESUME));
        ADD("/host/guest/status/inmigrate-stopped", test_guest_status_inmigrate,
            GINT_TO_POINTER(INMIGRATE_STOP));
        ADD("/host/guest/status/inmigrate-exited", test_guest_status_inmigrate,
            GINT_TO_POINTER(INMIGRATE_HANGUP));
        ADD("/host/guest/not-started", test_guest_not_started, NULL);
        ADD("/host/guest/config", test_guest_config, NULL);
        ADD("/host/guest/agent-pressure", test_guest_agent_pressure, NULL);
        for (guint i = 0; i < G_N_ELEMENTS(path_cases); i++) {
                g_autofree char *path = g_strdup_printf("/host/guest/balloon-path/%u", i);

                ADD(path, test_guest_balloon_path, &path_cases[i]);
        }
        for (guint i = 0; i < G_N_ELEMENTS(garbage_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/host/guest/garbage/%s/%u", garbage_cases[i].command, i);

                ADD(path, test_guest_garbage, &garbage_cases[i]);
        }
#undef ADD

#define ADD(path, test)                                                                            \
        g_test_add(path, BackendFixture, NULL, backend_setup, test, backend_teardown)
        ADD("/host/backend/dir", test_backend_dir);
        ADD("/host/backend/dead-socket", test_backend_dead_socket);
        ADD("/host/backend/static", test_backend_static);
        ADD("/host/backend/spent-source", test_backend_spent_source);
        ADD("/host/backend/missing-dir", test_backend_missing_dir);
#undef ADD
        g_test_add_func("/host/backend/names", test_backend_names);
        return g_test_run();
}
