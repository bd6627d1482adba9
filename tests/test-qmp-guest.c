/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Integration tests of the QMP client against a real QEMU running the test
 * guest under TCG: greeting, balloon, stats, commands in flight, a peer
 * that stops answering and a peer that dies.
 *
 * Each test boots its own guest from the fixture and tears it down, QEMU
 * and temp dir included, whatever happened in the test.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "qmp/qmp-client.h"
#include "tests/vt-test-guest.h"
#include "tests/vt-test-util.h"
#include "vt-autocleanups.h"

#define MIB          (G_GUINT64_CONSTANT(1024) * 1024)
#define GUEST_MEMORY (512 * MIB)
#define BALLOON_PATH "/machine/peripheral/balloon0"

typedef struct {
        VtTestGuest *guest;
        VtQmpClient *client;
        char *dir;
        GPid pid;
} GuestFixture;

static void
fixture_boot(GuestFixture *fixture, const VtTestGuestOptions *options)
{
        g_autofree char *reason = NULL;
        g_autoptr(GError) error = NULL;
        VtTestWaiter waiter = {0};

        if (!vt_test_skip_unless(vt_test_guest_available(&reason), reason))
                return;
        fixture->guest = vt_test_guest_start(options, &error);
        g_assert_no_error(error);
        fixture->dir = g_strdup(vt_test_guest_get_dir(fixture->guest));
        fixture->pid = vt_test_guest_get_pid(fixture->guest);
        g_test_message("guest '%s' ready in %.2f s", vt_test_guest_get_name(fixture->guest),
                       (double)vt_test_guest_get_ready_us(fixture->guest) / G_USEC_PER_SEC);

        fixture->client = vt_qmp_client_new();
        vt_qmp_client_connect_async(fixture->client, vt_test_guest_get_qmp_path(fixture->guest),
                                    vt_test_waiter_callback, &waiter);
        g_assert_true(
            vt_qmp_client_connect_finish(fixture->client, vt_test_waiter_wait(&waiter), &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&waiter);
}

static void
fixture_setup(GuestFixture *fixture, gconstpointer data)
{
        const VtTestGuestOptions options = {.name = "qmp", .memory_bytes = GUEST_MEMORY};

        fixture_boot(fixture, &options);
}

static void
fixture_setup_no_balloon(GuestFixture *fixture, gconstpointer data)
{
        const VtTestGuestOptions options = {
            .name = "qmp-nb", .memory_bytes = GUEST_MEMORY, .no_balloon = TRUE};

        fixture_boot(fixture, &options);
}

/* Leaves nothing behind: no QEMU, no socket, no temp dir. */
static void
fixture_teardown(GuestFixture *fixture, gconstpointer data)
{
        if (fixture->client != NULL)
                vt_qmp_client_close(fixture->client);
        g_clear_object(&fixture->client);
        g_clear_pointer(&fixture->guest, vt_test_guest_free);
        if (fixture->pid > 0)
                g_assert_true(kill(fixture->pid, 0) < 0 && errno == ESRCH);
        if (fixture->dir != NULL)
                g_assert_false(g_file_test(fixture->dir, G_FILE_TEST_EXISTS));
        g_free(fixture->dir);
}

/* Stops QEMU and waits until it has stopped (it is our child). */
static void
stop_qemu(GPid pid)
{
        siginfo_t info = {0};

        g_assert_cmpint(kill(pid, SIGSTOP), ==, 0);
        g_assert_cmpint(waitid(P_PID, (id_t)pid, &info, WSTOPPED | WNOWAIT), ==, 0);
        g_assert_cmpint(info.si_code, ==, CLD_STOPPED);
}

static gboolean
fixture_ready(GuestFixture *fixture)
{
        return fixture->client != NULL;
}

static json_object *
execute(VtQmpClient *client, const char *command, const char *arguments, gint64 timeout_us,
        GError **error)
{
        g_autoptr(json_object) args = arguments != NULL ? json_tokener_parse(arguments) : NULL;
        VtTestWaiter waiter = {0};
        json_object *reply;

        g_assert_true(arguments == NULL || args != NULL);
        vt_qmp_client_execute_async(client, command, args, timeout_us, vt_test_waiter_callback,
                                    &waiter);
        reply = vt_qmp_client_execute_finish(client, vt_test_waiter_wait(&waiter), error);
        vt_test_waiter_clear(&waiter);
        return reply;
}

static json_object *
execute_ok(VtQmpClient *client, const char *command, const char *arguments)
{
        g_autoptr(GError) error = NULL;
        json_object *reply = execute(client, command, arguments, 0, &error);

        g_assert_no_error(error);
        g_assert_nonnull(reply);
        return reply;
}

static gint64
get_int(json_object *object, const char *name)
{
        json_object *member = NULL;

        g_assert_true(json_object_object_get_ex(object, name, &member));
        g_assert_true(json_object_is_type(member, json_type_int));
        return json_object_get_int64(member);
}

static guint64
query_balloon(VtQmpClient *client)
{
        g_autoptr(json_object) reply = execute_ok(client, "query-balloon", NULL);

        return (guint64)get_int(reply, "actual");
}

/* MemAvailable inside the guest, from the workload. */
static guint64
guest_mem_available(VtTestGuest *guest)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *reply = vt_test_guest_workload(guest, "meminfo", 0, &error);
        guint64 total = 0, free_bytes = 0, available = 0;

        g_assert_no_error(error);
        g_assert_cmpint(sscanf(reply,
                               "ok %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
                               &total, &free_bytes, &available),
                        ==, 3);
        return available;
}

static void
test_guest_greeting(GuestFixture *fixture, gconstpointer data)
{
        const VtQmpGreeting *greeting;
        g_autoptr(json_object) version = NULL;
        json_object *qemu = NULL;

        if (!fixture_ready(fixture))
                return;
        greeting = vt_qmp_client_get_greeting(fixture->client);
        g_assert_nonnull(greeting);
        g_test_message("QEMU %" G_GINT64_FORMAT ".%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT " '%s'",
                       greeting->major, greeting->minor, greeting->micro, greeting->package);
        g_assert_cmpint(greeting->major, >=, 7);
        g_assert_true(vt_qmp_greeting_has_capability(greeting, "oob"));

        /* The greeting and query-version agree. */
        version = execute_ok(fixture->client, "query-version", NULL);
        g_assert_true(json_object_object_get_ex(version, "qemu", &qemu));
        g_assert_cmpint(get_int(qemu, "major"), ==, greeting->major);
        g_assert_cmpint(get_int(qemu, "minor"), ==, greeting->minor);
        g_assert_cmpint(get_int(qemu, "micro"), ==, greeting->micro);
}

static void
test_guest_query_balloon(GuestFixture *fixture, gconstpointer data)
{
        if (!fixture_ready(fixture))
                return;
        g_assert_cmpuint(query_balloon(fixture->client), ==, GUEST_MEMORY);
}

typedef struct {
        guint64 target;
        guint64 last_actual;
        guint n_events;
} BalloonWatch;

static void
on_balloon_change(VtQmpClient *client, const char *name, json_object *data, gint64 timestamp_us,
                  gpointer user_data)
{
        BalloonWatch *watch = user_data;

        watch->last_actual = (guint64)get_int(data, "actual");
        watch->n_events++;
}

static gboolean
balloon_reached(gpointer data)
{
        BalloonWatch *watch = data;

        return watch->n_events > 0 && watch->last_actual == watch->target;
}

/* Asks for @target and waits for the BALLOON_CHANGE event that reports it. */
static void
balloon_to(GuestFixture *fixture, guint64 target)
{
        BalloonWatch watch = {.target = target};
        g_autofree char *args = g_strdup_printf("{\"value\": %" G_GUINT64_FORMAT "}", target);
        g_autoptr(json_object) reply = NULL;
        gint64 start = g_get_monotonic_time();
        gulong handler = g_signal_connect(fixture->client, "event::BALLOON_CHANGE",
                                          G_CALLBACK(on_balloon_change), &watch);

        reply = execute_ok(fixture->client, "balloon", args);
        g_assert_true(vt_test_run_until(balloon_reached, &watch, VT_TEST_GUARD_US));
        g_signal_handler_disconnect(fixture->client, handler);
        g_test_message("balloon reached %" G_GUINT64_FORMAT " MiB in %.2f s after %u events",
                       target / MIB, (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC,
                       watch.n_events);
        g_assert_cmpuint(query_balloon(fixture->client), ==, target);
}

static void
test_guest_balloon(GuestFixture *fixture, gconstpointer data)
{
        guint64 available_before, available_shrunk;

        if (!fixture_ready(fixture))
                return;
        available_before = guest_mem_available(fixture->guest);
        balloon_to(fixture, 256 * MIB);
        /* The guest really gave the memory up. */
        available_shrunk = guest_mem_available(fixture->guest);
        g_test_message("guest MemAvailable %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT " MiB",
                       available_before / MIB, available_shrunk / MIB);
        g_assert_cmpuint(available_shrunk + 200 * MIB, <, available_before);

        balloon_to(fixture, GUEST_MEMORY);
        g_assert_cmpuint(guest_mem_available(fixture->guest), >, available_shrunk + 200 * MIB);
}

typedef gboolean (*StatsPredicate)(json_object *reply, guint64 data);

typedef struct {
        VtQmpClient *client;
        gint64 min_update;
        StatsPredicate accept; /* NULL: any stats newer than min_update */
        guint64 accept_data;
        json_object *stats; /* the first accepted stats */
        VtTestWaiter waiter;
        GSource *retry;
} StatsWatch;

static void stats_watch_get(StatsWatch *watch);

static gboolean
stats_on_retry(gpointer data)
{
        StatsWatch *watch = data;

        g_clear_pointer(&watch->retry, g_source_unref);
        stats_watch_get(watch);
        return G_SOURCE_REMOVE;
}

static void
stats_on_reply(GObject *source, GAsyncResult *result, gpointer data)
{
        StatsWatch *watch = data;
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply = vt_qmp_client_execute_finish(watch->client, result, &error);

        g_assert_no_error(error);
        if (get_int(reply, "last-update") > watch->min_update &&
            (watch->accept == NULL || watch->accept(reply, watch->accept_data))) {
                watch->stats = g_steal_pointer(&reply);
                return;
        }
        /* QEMU has no event for new stats: ask again after a polling period. */
        watch->retry = g_timeout_source_new(250);
        g_source_set_callback(watch->retry, stats_on_retry, watch, NULL);
        g_source_attach(watch->retry, NULL);
}

static void
stats_watch_get(StatsWatch *watch)
{
        g_autoptr(json_object) args =
            json_tokener_parse("{\"path\": \"" BALLOON_PATH "\", \"property\": \"guest-stats\"}");

        vt_qmp_client_execute_async(watch->client, "qom-get", args, 0, stats_on_reply, watch);
}

static gboolean
stats_arrived(gpointer data)
{
        return ((StatsWatch *)data)->stats != NULL;
}

/*
 * Waits for guest stats whose last-update is newer than @min_update and
 * that @accept takes: the guest samples its stats on its own schedule, so
 * the first new sample may predate what the test did.
 */
static json_object *
wait_stats(VtQmpClient *client, gint64 min_update, StatsPredicate accept, guint64 accept_data)
{
        StatsWatch watch = {.client = client,
                            .min_update = min_update,
                            .accept = accept,
                            .accept_data = accept_data};

        stats_watch_get(&watch);
        g_assert_true(vt_test_run_until(stats_arrived, &watch, VT_TEST_GUARD_US));
        g_assert_null(watch.retry);
        return watch.stats;
}

static guint64
get_stat(json_object *reply, const char *name)
{
        json_object *stats = NULL;
        json_object *value = NULL;

        g_assert_true(json_object_object_get_ex(reply, "stats", &stats));
        g_assert_true(json_object_object_get_ex(stats, name, &value));
        return json_object_get_uint64(value);
}

/* Stats that show at least 100 MiB less available than @idle_available. */
static gboolean
stats_show_allocation(json_object *reply, guint64 idle_available)
{
        return get_stat(reply, "stat-available-memory") + 100 * MIB < idle_available;
}

static void
test_guest_stats(GuestFixture *fixture, gconstpointer data)
{
        g_autoptr(json_object) set = NULL;
        g_autoptr(json_object) idle = NULL;
        g_autoptr(json_object) busy = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *reply = NULL;
        guint64 total, free_idle, free_busy, available_idle, available_busy;

        if (!fixture_ready(fixture))
                return;
        set = execute_ok(fixture->client, "qom-set",
                         "{\"path\": \"" BALLOON_PATH "\", \"property\": "
                         "\"guest-stats-polling-interval\", \"value\": 1}");
        idle = wait_stats(fixture->client, 0, NULL, 0);
        total = get_stat(idle, "stat-total-memory");
        free_idle = get_stat(idle, "stat-free-memory");
        available_idle = get_stat(idle, "stat-available-memory");
        g_test_message("stats: total %" G_GUINT64_FORMAT " MiB, free %" G_GUINT64_FORMAT
                       " MiB, available %" G_GUINT64_FORMAT " MiB",
                       total / MIB, free_idle / MIB, available_idle / MIB);
        g_assert_cmpuint(total, ==, vt_test_guest_get_mem_total(fixture->guest));
        g_assert_cmpuint(free_idle, <=, total);
        g_assert_cmpuint(available_idle, <=, total);

        /* The stats follow the guest: 128 MiB allocated shows up. */
        reply = vt_test_guest_workload(fixture->guest, "alloc 134217728", 0, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(reply, ==, "ok 134217728");
        busy = wait_stats(fixture->client, get_int(idle, "last-update"), stats_show_allocation,
                          available_idle);
        free_busy = get_stat(busy, "stat-free-memory");
        available_busy = get_stat(busy, "stat-available-memory");
        g_test_message("after alloc: free %" G_GUINT64_FORMAT " MiB, available %" G_GUINT64_FORMAT
                       " MiB",
                       free_busy / MIB, available_busy / MIB);
        g_assert_cmpuint(available_busy + 100 * MIB, <, available_idle);
}

typedef struct {
        const char *command;
        const char *arguments;
        const char *member; /* a member the reply must have */
        VtTestWaiter waiter;
} InFlight;

static gboolean
all_done(gpointer data)
{
        InFlight *commands = data;

        for (guint i = 0; i < 10; i++) {
                if (commands[i].waiter.result == NULL)
                        return FALSE;
        }
        return TRUE;
}

static void
test_guest_in_flight(GuestFixture *fixture, gconstpointer data)
{
        InFlight commands[10] = {
            {"query-balloon", NULL, "actual"},
            {"query-status", NULL, "status"},
            {"query-version", NULL, "qemu"},
            {"query-name", NULL, "name"},
            {"qom-get", "{\"path\": \"" BALLOON_PATH "\", \"property\": \"guest-stats\"}", "stats"},
            {"query-balloon", NULL, "actual"},
            {"query-kvm", NULL, "enabled"},
            {"query-uuid", NULL, "UUID"},
            {"query-status", NULL, "running"},
            {"query-version", NULL, "package"},
        };

        if (!fixture_ready(fixture))
                return;
        for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
                g_autoptr(json_object) args =
                    commands[i].arguments ? json_tokener_parse(commands[i].arguments) : NULL;

                vt_qmp_client_execute_async(fixture->client, commands[i].command, args, 0,
                                            vt_test_waiter_callback, &commands[i].waiter);
        }
        g_assert_cmpuint(vt_qmp_client_get_n_pending(fixture->client), ==, 10);
        g_assert_true(vt_test_run_until(all_done, commands, VT_TEST_GUARD_US));
        for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(json_object) reply = vt_qmp_client_execute_finish(
                    fixture->client, commands[i].waiter.result, &error);

                g_assert_no_error(error);
                g_assert_true(json_object_object_get_ex(reply, commands[i].member, NULL));
                vt_test_waiter_clear(&commands[i].waiter);
        }
        g_assert_cmpuint(vt_qmp_client_get_n_dropped(fixture->client), ==, 0);
}

/* A QEMU that stops answering: the command times out, the late reply is
 * dropped once QEMU runs again, and the connection carries on. */
static void
test_guest_timeout(GuestFixture *fixture, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply = NULL;

        if (!fixture_ready(fixture))
                return;
        stop_qemu(fixture->pid);
        reply = execute(fixture->client, "query-balloon", NULL, 300 * 1000, &error);
        g_assert_cmpint(kill(fixture->pid, SIGCONT), ==, 0);
        g_assert_null(reply);
        g_assert_error(error, VT_QMP_ERROR, VT_QMP_ERROR_TIMEOUT);

        g_assert_cmpuint(query_balloon(fixture->client), ==, GUEST_MEMORY);
        g_assert_cmpuint(vt_qmp_client_get_n_dropped(fixture->client), ==, 1);
}

static void
on_disconnected(VtQmpClient *client, const GError *error, gpointer user_data)
{
        GError **ret_error = user_data;

        g_assert_null(*ret_error);
        *ret_error = g_error_copy(error);
}

static gboolean
pointer_set(gpointer data)
{
        return *(gpointer *)data != NULL;
}

/* QEMU killed while a command is in flight: an error, not a hang. */
static void
test_guest_killed(GuestFixture *fixture, gconstpointer data)
{
        g_autoptr(GError) gone = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply = NULL;
        VtTestWaiter waiter = {0};

        if (!fixture_ready(fixture))
                return;
        g_signal_connect(fixture->client, "disconnected", G_CALLBACK(on_disconnected), &gone);
        /* Stopped first, so the command is surely still unanswered. */
        stop_qemu(fixture->pid);
        vt_qmp_client_execute_async(fixture->client, "query-balloon", NULL, -1,
                                    vt_test_waiter_callback, &waiter);
        g_assert_cmpint(kill(fixture->pid, SIGKILL), ==, 0);

        reply = vt_qmp_client_execute_finish(fixture->client, vt_test_waiter_wait(&waiter), &error);
        vt_test_waiter_clear(&waiter);
        g_assert_null(reply);
        g_assert_error(error, VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED);
        g_test_message("pending command failed with: %s", error->message);
        g_assert_true(vt_test_run_until(pointer_set, &gone, VT_TEST_GUARD_US));
        g_assert_error(gone, VT_QMP_ERROR, VT_QMP_ERROR_DISCONNECTED);
        g_assert_false(vt_qmp_client_is_connected(fixture->client));
        g_assert_cmpuint(vt_qmp_client_get_n_pending(fixture->client), ==, 0);
}

/* Without a balloon device, a balloon request soft-fails. */
static void
test_guest_device_not_active(GuestFixture *fixture, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply = NULL;

        if (!fixture_ready(fixture))
                return;
        reply = execute(fixture->client, "balloon", "{\"value\": 268435456}", 0, &error);
        g_assert_null(reply);
        g_assert_error(error, VT_QMP_ERROR, VT_QMP_ERROR_DEVICE_NOT_ACTIVE);
        g_assert_cmpstr(error->message, ==, "No balloon device has been activated");
        g_assert_true(vt_qmp_client_is_connected(fixture->client));
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

#define ADD(path, test, setup) g_test_add(path, GuestFixture, NULL, setup, test, fixture_teardown)
        ADD("/qmp/guest/greeting", test_guest_greeting, fixture_setup);
        ADD("/qmp/guest/query-balloon", test_guest_query_balloon, fixture_setup);
        ADD("/qmp/guest/balloon", test_guest_balloon, fixture_setup);
        ADD("/qmp/guest/stats", test_guest_stats, fixture_setup);
        ADD("/qmp/guest/in-flight", test_guest_in_flight, fixture_setup);
        ADD("/qmp/guest/timeout", test_guest_timeout, fixture_setup);
        ADD("/qmp/guest/killed", test_guest_killed, fixture_setup);
        ADD("/qmp/guest/device-not-active", test_guest_device_not_active, fixture_setup_no_balloon);
#undef ADD
        return g_test_run();
}
