/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of virtio-mem in the guest base class and the QMP-direct
 * backend, against a scripted QMP peer (tests/vt-fake-qmp.h): a small model
 * of QEMU with a balloon and a virtio-mem device answers the commands. It
 * plugs or unplugs at once on `qom-set requested-size` and says so in
 * MEMORY_DEVICE_SIZE_CHANGE; the balloon's `actual` and `balloon` value
 * count from the boot memory alone, as QEMU 7.2's do. Tests bend it: an unplug the guest cannot
 * finish, devices that do not add up, garbage events.
 */
#include <string.h>

#include "host/qmp-direct/qmp-direct-guest.h"
#include "qmp/qmp-error.h"
#include "tests/vt-fake-qmp.h"
#include "tests/vt-test-util.h"
#include "vt-autocleanups.h"

#define MIB      (G_GUINT64_CONSTANT(1024) * 1024)
#define GUARD_US (20 * G_USEC_PER_SEC)
#define STUCK_US (300 * 1000)
#define BOOT     (256 * MIB)
#define VMAX     (512 * MIB)
#define BLOCK    (2 * MIB)
#define VMEM     "/machine/peripheral/vm0"

/* A model of QEMU, answering from the fake peer's thread. */
typedef struct {
        GMutex lock;
        VtFakeQmp *peer;
        guint64 plugged;
        guint64 requested;
        guint64 held;         /* what the balloon holds */
        guint64 unplug_floor; /* the guest cannot unplug below this */
        const char *memdevs;  /* query-memory-devices reply; NULL: the model's device */
        GPtrArray *log;       /* "command {args}" */
} FakeQemu;

static void
fake_send(VtFakeQmp *peer, json_object *message)
{
        g_autofree char *text = g_strconcat(json_object_to_json_string(message), "\r\n", NULL);

        vt_fake_qmp_send(peer, text, strlen(text));
}

static void
fake_send_event(VtFakeQmp *peer, const char *name, const char *data)
{
        g_autoptr(json_object) parsed = json_tokener_parse(data);
        g_autoptr(json_object) event = vt_qmp_message_new_event(name, parsed, g_get_real_time());

        fake_send(peer, event);
}

static guint64
arg_size(const VtQmpMessage *command, const char *name)
{
        json_object *member = NULL;

        if (command->value == NULL || !json_object_object_get_ex(command->value, name, &member))
                return 0;
        return json_object_get_uint64(member);
}

/* qom-set requested-size: the guest plugs or unplugs at once, as far as it can. */
static void
fake_request(FakeQemu *q, const VtQmpMessage *command)
{
        g_autofree char *event = NULL;

        q->requested = arg_size(command, "value");
        vt_fake_qmp_reply(q->peer, command, "{}");
        if (q->requested < q->plugged && q->plugged <= q->unplug_floor)
                return;
        q->plugged = MAX(q->requested, MIN(q->unplug_floor, q->plugged));
        event = g_strdup_printf("{\"id\": \"vm0\", \"size\": %" G_GUINT64_FORMAT
                                ", \"qom-path\": \"" VMEM "\"}",
                                q->plugged);
        fake_send_event(q->peer, "MEMORY_DEVICE_SIZE_CHANGE", event);
}

static char *
fake_memdevs(FakeQemu *q)
{
        if (q->memdevs != NULL)
                return g_strdup(q->memdevs);
        return g_strdup_printf("[{\"type\": \"dimm\", \"data\": {}}, {\"type\": \"virtio-mem\", "
                               "\"data\": {\"memaddr\": 4294967296, \"node\": 0, "
                               "\"requested-size\": %" G_GUINT64_FORMAT
                               ", \"size\": %" G_GUINT64_FORMAT ", \"max-size\": %" G_GUINT64_FORMAT
                               ", \"block-size\": %" G_GUINT64_FORMAT
                               ", \"memdev\": \"/objects/vmem0\", \"id\": \"vm0\"}}]",
                               q->requested, q->plugged, VMAX, BLOCK);
}

static void
fake_answer(FakeQemu *q, const VtQmpMessage *command)
{
        const char *name = command->name;
        g_autofree char *reply = NULL;

        if (g_str_equal(name, "query-status")) {
                reply = g_strdup("{\"status\": \"running\", \"singlestep\": false, "
                                 "\"running\": true}");
        } else if (g_str_equal(name, "query-memory-size-summary")) {
                reply = g_strdup_printf("{\"base-memory\": %" G_GUINT64_FORMAT
                                        ", \"plugged-memory\": %" G_GUINT64_FORMAT "}",
                                        BOOT, q->plugged);
        } else if (g_str_equal(name, "query-balloon")) {
                reply = g_strdup_printf("{\"actual\": %" G_GUINT64_FORMAT "}", BOOT - q->held);
        } else if (g_str_equal(name, "balloon")) {
                /* QEMU 7.2 counts it from the boot memory alone. */
                q->held = BOOT - MIN(arg_size(command, "value"), BOOT);
                reply = g_strdup("{}");
        } else if (g_str_equal(name, "qom-list")) {
                reply = g_strdup("[]");
        } else if (g_str_equal(name, "query-memory-devices")) {
                reply = fake_memdevs(q);
                if (reply[0] == '!') {
                        g_autoptr(json_object) error =
                            vt_qmp_message_new_error(reply + 1, "scripted", command->id);

                        fake_send(q->peer, error);
                        return;
                }
        } else if (g_str_equal(name, "qom-set")) {
                fake_request(q, command);
                return;
        } else {
                g_autoptr(json_object) error =
                    vt_qmp_message_new_error("CommandNotFound", "scripted", command->id);

                fake_send(q->peer, error);
                return;
        }
        vt_fake_qmp_reply(q->peer, command, reply);
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

        g_mutex_lock(&q->lock);
        g_ptr_array_add(q->log, g_strdup_printf("%s %s", command->name, args));
        fake_answer(q, command);
        g_mutex_unlock(&q->lock);
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

static guint
count_request(FakeQemu *q, guint64 bytes)
{
        g_autofree char *line =
            g_strdup_printf("qom-set {\"path\":\"" VMEM
                            "\",\"property\":\"requested-size\",\"value\":%" G_GUINT64_FORMAT "}",
                            bytes);

        return fake_count(q, line);
}

typedef struct {
        FakeQemu q;
        VtGuest *guest;
        guint n_memdev_changed;
        guint64 last_plugged;
        guint n_done;
        guint64 done_actual;
        guint n_stuck;
} Fixture;

static void
on_memdev_changed(VtGuest *guest, guint64 plugged, gpointer data)
{
        Fixture *f = data;

        f->n_memdev_changed++;
        f->last_plugged = plugged;
}

static void
on_move_done(VtGuest *guest, guint64 actual, gint64 elapsed_us, gpointer data)
{
        Fixture *f = data;

        f->n_done++;
        f->done_actual = actual;
}

static void
on_move_stuck(VtGuest *guest, guint64 actual, guint64 target, gpointer data)
{
        ((Fixture *)data)->n_stuck++;
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
        g_autofree char *greeting = vt_test_load_recorded_qmp("greeting");

        g_mutex_init(&f->q.lock);
        f->q.log = g_ptr_array_new_with_free_func(g_free);
        f->q.peer = vt_fake_qmp_new(greeting, fake_handler, &f->q);
        f->guest = vt_guest_qmp_new("fake", vt_fake_qmp_get_address(f->q.peer), NULL, 0);
        vt_guest_set_stuck_timeout(f->guest, STUCK_US);
        g_signal_connect(f->guest, "memdev-changed", G_CALLBACK(on_memdev_changed), f);
        g_signal_connect(f->guest, "move-done", G_CALLBACK(on_move_done), f);
        g_signal_connect(f->guest, "move-stuck", G_CALLBACK(on_move_stuck), f);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
        vt_guest_stop(f->guest);
        g_clear_object(&f->guest);
        while (g_main_context_iteration(NULL, FALSE))
                ;
        /* The peer's thread answers until it is freed: q->peer stays valid. */
        vt_fake_qmp_free(f->q.peer);
        f->q.peer = NULL;
        g_clear_pointer(&f->q.log, g_ptr_array_unref);
        g_mutex_clear(&f->q.lock);
}

static gboolean
guest_start(Fixture *f, GError **error)
{
        VtTestWaiter waiter = {0};
        gboolean ok;

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

static void
guest_set_target_ok(Fixture *f, guint64 bytes, gint64 now_us)
{
        g_autoptr(GError) error = NULL;
        VtTestWaiter waiter = {0};

        /* A move may be confirmed before the request completes. */
        f->n_done = 0;
        f->n_stuck = 0;
        vt_guest_set_target_async(f->guest, bytes, now_us, vt_test_waiter_callback, &waiter);
        g_assert_true(vt_guest_set_target_finish(f->guest, vt_test_waiter_wait(&waiter), &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);
}

static void
test_start(Fixture *f, gconstpointer data)
{
        const VtGuestMemdev *m;
        VtBalloonGuest snapshot;

        guest_start_ok(f);
        m = vt_guest_get_memdev(f->guest);
        g_assert_true(m->present);
        g_assert_cmpstr(m->id, ==, "vm0");
        g_assert_cmpuint(m->block_size, ==, BLOCK);
        g_assert_cmpuint(m->max_bytes, ==, VMAX);
        g_assert_cmpuint(m->plugged_bytes, ==, 0);
        g_assert_cmpint(m->request_us, ==, 0);
        g_assert_cmpuint(f->n_memdev_changed, ==, 1);
        g_assert_cmpint(vt_guest_get_memdev_strategy(f->guest), ==,
                        VT_MEMDEV_STRATEGY_MEMDEV_FIRST);
        g_assert_false(vt_guest_is_unplug_stuck(f->guest, g_get_monotonic_time()));

        /* The policy sees room to grow, in the balloon's currency. */
        g_assert_cmpuint(vt_guest_get_max_bytes(f->guest), ==, BOOT);
        vt_guest_snapshot(f->guest, g_get_monotonic_time(), &snapshot);
        g_assert_cmpuint(snapshot.max_bytes, ==, BOOT + VMAX);
        g_assert_cmpuint(snapshot.actual_bytes, ==, BOOT);

        /* Balloon-only: the boot memory is the most again. */
        vt_guest_set_memdev_strategy(f->guest, VT_MEMDEV_STRATEGY_BALLOON_ONLY);
        vt_guest_snapshot(f->guest, g_get_monotonic_time(), &snapshot);
        g_assert_cmpuint(snapshot.max_bytes, ==, BOOT);
}

static gboolean
move_ended(gpointer data)
{
        Fixture *f = data;

        return f->n_done + f->n_stuck > 0;
}

/* Waits for the move under way to end, and says whether it got there. */
static gboolean
wait_move(Fixture *f)
{
        g_assert_true(vt_test_run_until(move_ended, f, GUARD_US));
        return f->n_done == 1;
}

/* Above the boot memory by plugging; below it by unplugging, then the balloon. */
static void
test_grow_shrink(Fixture *f, gconstpointer data)
{
        g_autofree char *balloon = NULL;

        guest_start_ok(f);
        guest_set_target_ok(f, BOOT + 256 * MIB, g_get_monotonic_time());
        g_assert_cmpuint(count_request(&f->q, 256 * MIB), ==, 1);
        g_assert_cmpuint(fake_count(&f->q, "balloon "), ==, 0);
        g_assert_cmpuint(vt_guest_get_target_bytes(f->guest), ==, BOOT + 256 * MIB);
        g_assert_cmpint(vt_guest_get_memdev(f->guest)->request_us, >, 0);
        /* The event says it is plugged; the polls see the balloon's actual follow. */
        g_assert_true(wait_move(f));
        g_assert_cmpuint(f->last_plugged, ==, 256 * MIB);
        g_assert_cmpuint(f->done_actual, ==, BOOT + 256 * MIB);
        g_assert_cmpuint(vt_guest_get_memdev(f->guest)->requested_bytes, ==, 256 * MIB);

        /* A target not a whole block above boot is rounded up to one. */
        guest_set_target_ok(f, BOOT + 100 * MIB + 1, g_get_monotonic_time());
        g_assert_cmpuint(count_request(&f->q, 102 * MIB), ==, 1);
        g_assert_true(wait_move(f));
        g_assert_cmpuint(f->done_actual, ==, BOOT + 102 * MIB);

        /* Below boot: everything unplugged, the balloon takes the rest. */
        guest_set_target_ok(f, BOOT - 64 * MIB, g_get_monotonic_time());
        g_assert_cmpuint(count_request(&f->q, 0), ==, 1);
        /* QEMU counts the balloon's value from the boot memory alone. */
        balloon = g_strdup_printf("balloon {\"value\":%" G_GUINT64_FORMAT "}", BOOT - 64 * MIB);
        g_assert_cmpuint(fake_count(&f->q, balloon), ==, 1);
        g_assert_true(wait_move(f));
        g_assert_cmpuint(f->last_plugged, ==, 0);
        g_assert_cmpuint(f->done_actual, ==, BOOT - 64 * MIB);
        g_assert_cmpuint(vt_guest_get_actual_bytes(f->guest), ==, BOOT - 64 * MIB);

        /* And back above boot: the balloon gives all back, virtio-mem plugs. */
        guest_set_target_ok(f, BOOT + 64 * MIB, g_get_monotonic_time());
        g_assert_cmpuint(count_request(&f->q, 64 * MIB), ==, 1);
        g_assert_true(wait_move(f));
        g_assert_cmpuint(f->done_actual, ==, BOOT + 64 * MIB);
}

/* A target above boot plus the device's maximum is capped there. */
static void
test_capped(Fixture *f, gconstpointer data)
{
        guest_start_ok(f);
        guest_set_target_ok(f, 4096 * MIB, g_get_monotonic_time());
        g_assert_cmpuint(count_request(&f->q, VMAX), ==, 1);
        g_assert_cmpuint(vt_guest_get_target_bytes(f->guest), ==, BOOT + VMAX);
        g_assert_true(wait_move(f));
        g_assert_cmpuint(f->done_actual, ==, BOOT + VMAX);
}

/* Balloon-only leaves virtio-mem where it is. */
static void
test_balloon_only(Fixture *f, gconstpointer data)
{
        guest_start_ok(f);
        vt_guest_set_memdev_strategy(f->guest, VT_MEMDEV_STRATEGY_BALLOON_ONLY);
        guest_set_target_ok(f, BOOT - 64 * MIB, g_get_monotonic_time());
        g_assert_cmpuint(fake_count(&f->q, "qom-set"), ==, 0);
        g_assert_cmpuint(fake_count(&f->q, "balloon {\"value\":201326592}"), ==, 1);
        g_assert_true(wait_move(f));
        g_assert_cmpuint(f->done_actual, ==, BOOT - 64 * MIB);
}

/* An unplug the guest cannot finish: the balloon covers, no blind repeat. */
static void
test_unplug_stuck(Fixture *f, gconstpointer data)
{
        gint64 t0 = g_get_monotonic_time();
        g_autofree char *balloon = NULL;

        f->q.unplug_floor = 128 * MIB;
        guest_start_ok(f);
        guest_set_target_ok(f, BOOT + 256 * MIB, t0);
        g_assert_true(wait_move(f));

        /* Down to 128 MiB plugged, then no further. */
        guest_set_target_ok(f, BOOT, g_get_monotonic_time());
        g_assert_cmpuint(count_request(&f->q, 0), ==, 1);
        g_assert_false(wait_move(f));
        g_assert_cmpuint(vt_guest_get_memdev(f->guest)->plugged_bytes, ==, 128 * MIB);
        g_assert_false(vt_guest_is_unplug_stuck(f->guest, g_get_monotonic_time()));
        t0 = g_get_monotonic_time();
        g_assert_true(vt_guest_is_unplug_stuck(f->guest, t0 + VT_MEMDEV_STUCK_US));

        /* Past the stuck timeout: not asked again, the balloon takes it. */
        guest_set_target_ok(f, BOOT, t0 + VT_MEMDEV_STUCK_US);
        g_assert_cmpuint(count_request(&f->q, 0), ==, 1);
        balloon = g_strdup_printf("balloon {\"value\":%" G_GUINT64_FORMAT "}", BOOT - 128 * MIB);
        g_assert_cmpuint(fake_count(&f->q, balloon), ==, 1);
        g_assert_cmpuint(vt_guest_get_target_bytes(f->guest), ==, BOOT);

        /* After the retry time it is asked again. */
        guest_set_target_ok(f, BOOT, t0 + VT_MEMDEV_RETRY_US + 1);
        g_assert_cmpuint(count_request(&f->q, 0), ==, 2);
}

typedef struct {
        const char *memdevs;
        gboolean fails; /* the start fails with VT_QMP_ERROR_PROTOCOL */
        const char *id; /* the device driven; NULL: none */
} DevicesCase;

#define DEV(id, size, req, max, block)                                                             \
        "{\"type\":\"virtio-mem\",\"data\":{\"id\":" id ",\"size\":" size                          \
        ",\"requested-size\":" req ",\"max-size\":" max ",\"block-size\":" block "}}"

static const DevicesCase devices_cases[] = {
    {"!CommandNotFound", FALSE, NULL},
    {"{}", TRUE, NULL},
    {"\"virtio-mem\"", TRUE, NULL},
    {"[]", FALSE, NULL},
    {"[1, null, {\"type\": 7}, {\"type\": \"virtio-mem\"}]", FALSE, NULL},
    {"[" DEV("\"a\"", "0", "0", "536870912", "3145728") "]", FALSE, NULL},
    {"[" DEV("\"a\"", "0", "0", "536870912", "0") "]", FALSE, NULL},
    {"[" DEV("\"a\"", "0", "0", "536870912", "2199023255552") "]", FALSE, NULL},
    {"[" DEV("\"a\"", "0", "0", "1048576", "2097152") "]", FALSE, NULL},
    {"[" DEV("\"a\"", "1073741824", "0", "536870912", "2097152") "]", FALSE, NULL},
    {"[" DEV("\"a\"", "0", "1073741824", "536870912", "2097152") "]", FALSE, NULL},
    {"[" DEV("\"a\"", "1048576", "0", "536870912", "2097152") "]", FALSE, NULL},
    {"[" DEV("\"a\"", "-2097152", "0", "536870912", "2097152") "]", FALSE, NULL},
    {"[" DEV("\"a\"", "\"lots\"", "0", "536870912", "2097152") "]", FALSE, NULL},
    {"[" DEV("null", "0", "0", "536870912", "2097152") "]", FALSE, NULL},
    {"[" DEV("\"\"", "0", "0", "536870912", "2097152") "]", FALSE, NULL},
    {"[" DEV("\"a/b\"", "0", "0", "536870912", "2097152") "]", FALSE, NULL},
    {"[" DEV("\"x12345678901234567890123456789012345678901234567890123456789012345\"", "0", "0",
             "536870912", "2097152") "]",
     FALSE, NULL},
    {"[" DEV("\"bad\"", "0", "0", "536870912",
             "3") "," DEV("\"good\"", "0", "0", "536870912",
                          "2097152") "," DEV("\"other\"", "0", "0", "536870912", "2097152") "]",
     FALSE, "good"},
};

/* What QEMU says about its devices is checked, never trusted. */
static void
test_devices(Fixture *f, gconstpointer data)
{
        const DevicesCase *c = data;
        g_autoptr(GError) error = NULL;
        const VtGuestMemdev *m;
        VtBalloonGuest snapshot;

        f->q.memdevs = c->memdevs;
        if (c->fails) {
                g_assert_false(guest_start(f, &error));
                g_assert_error(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL);
                return;
        }
        g_assert_true(guest_start(f, &error));
        g_assert_no_error(error);
        m = vt_guest_get_memdev(f->guest);
        g_assert_cmpint(m->present, ==, c->id != NULL);
        vt_guest_snapshot(f->guest, g_get_monotonic_time(), &snapshot);
        if (c->id == NULL) {
                g_assert_cmpuint(snapshot.max_bytes, ==, BOOT);
                /* The balloon alone, without a word to virtio-mem. */
                guest_set_target_ok(f, BOOT - 64 * MIB, g_get_monotonic_time());
                g_assert_cmpuint(fake_count(&f->q, "qom-set"), ==, 0);
                g_assert_cmpuint(fake_count(&f->q, "balloon "), ==, 1);
                return;
        }
        g_assert_cmpstr(m->id, ==, c->id);
        g_assert_cmpuint(snapshot.max_bytes, ==, BOOT + 512 * MIB);
}

/* Events for other devices, or with sizes that cannot be, change nothing. */
static void
test_bad_events(Fixture *f, gconstpointer data)
{
        static const char *const events[] = {
            "{\"id\": \"vm1\", \"size\": 2097152}",
            "{\"qom-path\": \"/machine/peripheral/vm1\", \"size\": 2097152}",
            "{\"qom-path\": \"/machine/peripheral-anon/device[3]\", \"size\": 2097152}",
            "{\"size\": 2097152}",
            "{\"id\": \"vm0\", \"size\": \"lots\"}",
            "{\"id\": \"vm0\", \"size\": -1}",
            "{\"id\": \"vm0\", \"size\": 1099511627776}",
            "{\"id\": \"vm0\"}",
            "{\"id\": 5, \"size\": 2097152}",
        };
        guest_start_ok(f);
        for (guint i = 0; i < G_N_ELEMENTS(events); i++)
                fake_send_event(f->q.peer, "MEMORY_DEVICE_SIZE_CHANGE", events[i]);
        /* One good event after them: once it is in, all of them were read. */
        fake_send_event(f->q.peer, "MEMORY_DEVICE_SIZE_CHANGE",
                        "{\"qom-path\": \"" VMEM "\", \"size\": 4194304}");
        g_assert_true(vt_test_wait_above(&f->n_memdev_changed, 1, GUARD_US));
        g_assert_cmpuint(f->n_memdev_changed, ==, 2);
        g_assert_cmpuint(f->last_plugged, ==, 4 * MIB);
        g_assert_cmpuint(vt_guest_get_memdev(f->guest)->plugged_bytes, ==, 4 * MIB);
}

/* A device gone at a refresh: the balloon alone from then on. */
static void
test_device_gone(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        VtTestWaiter waiter = {0};
        VtBalloonGuest snapshot;

        guest_start_ok(f);
        g_mutex_lock(&f->q.lock);
        f->q.memdevs = "[]";
        g_mutex_unlock(&f->q.lock);
        vt_guest_refresh_async(f->guest, vt_test_waiter_callback, &waiter);
        g_assert_true(vt_guest_refresh_finish(f->guest, vt_test_waiter_wait(&waiter), &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);
        g_assert_false(vt_guest_get_memdev(f->guest)->present);
        g_assert_cmpuint(f->n_memdev_changed, ==, 2);
        vt_guest_snapshot(f->guest, g_get_monotonic_time(), &snapshot);
        g_assert_cmpuint(snapshot.max_bytes, ==, BOOT);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
#define ADD(path, test, data) g_test_add(path, Fixture, data, fixture_setup, test, fixture_teardown)
        ADD("/host/guest/memdev/start", test_start, NULL);
        ADD("/host/guest/memdev/grow-shrink", test_grow_shrink, NULL);
        ADD("/host/guest/memdev/capped", test_capped, NULL);
        ADD("/host/guest/memdev/balloon-only", test_balloon_only, NULL);
        ADD("/host/guest/memdev/unplug-stuck", test_unplug_stuck, NULL);
        ADD("/host/guest/memdev/bad-events", test_bad_events, NULL);
        ADD("/host/guest/memdev/device-gone", test_device_gone, NULL);
        for (guint i = 0; i < G_N_ELEMENTS(devices_cases); i++) {
                g_autofree char *path = g_strdup_printf("/host/guest/memdev/devices/%u", i);

                ADD(path, test_devices, &devices_cases[i]);
        }
#undef ADD
        return g_test_run();
}
