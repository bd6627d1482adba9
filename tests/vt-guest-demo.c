/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The main job's demo: boots the test guest and shows its balloon size and
 * guest stats live, read through vmtide's QMP client, while a short script
 * makes them move (the workload allocates and frees memory, the balloon
 * shrinks and grows). Later issues replace it with the daemon demo.
 *
 * Everything is event-driven on one main loop: stats are read every second
 * (QEMU has no event for them), BALLOON_CHANGE events are printed as they
 * arrive, and the script's steps are timers.
 */
#include <glib-unix.h>
#include <stdio.h>

#include "qmp/qmp-client.h"
#include "tests/vt-test-guest.h"
#include "vt-autocleanups.h"
#include "vt-config.h"

#define MIB          (G_GUINT64_CONSTANT(1024) * 1024)
#define BALLOON_PATH "/machine/peripheral/balloon0"

typedef struct {
        GMainLoop *loop;
        VtTestGuest *guest;
        VtQmpClient *client;
        gint64 start_us;
        guint64 balloon_bytes;
        int status;
} Demo;

typedef struct {
        int at_s;
        const char *what;
        const char *workload; /* a workload command, or NULL */
        guint64 balloon_mib;  /* a balloon target, or 0 */
} DemoStep;

static const DemoStep demo_steps[] = {
    {4, "the workload allocates 192 MiB", "alloc 201326592", 0},
    {9, "the workload frees it", "free", 0},
    {12, "the host shrinks the balloon to 320 MiB", NULL, 320},
    {18, "the host gives the guest its 512 MiB back", NULL, 512},
};

static double
demo_elapsed(Demo *demo)
{
        return (double)(g_get_monotonic_time() - demo->start_us) / G_USEC_PER_SEC;
}

static void
demo_fail(Demo *demo, const char *what, const GError *error)
{
        fprintf(stderr, "vt-guest-demo: %s: %s\n", what, error->message);
        demo->status = 1;
        g_main_loop_quit(demo->loop);
}

static guint64
stat_mib(json_object *stats, const char *name)
{
        json_object *value = NULL;
        guint64 bytes;

        if (!json_object_object_get_ex(stats, name, &value))
                return 0;
        bytes = json_object_get_uint64(value);
        return bytes == G_MAXUINT64 ? 0 : bytes / MIB; /* -1: not reported */
}

static void
demo_on_stats(GObject *source, GAsyncResult *result, gpointer user_data)
{
        Demo *demo = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply =
            vt_qmp_client_execute_finish(VT_QMP_CLIENT(source), result, &error);
        json_object *stats = NULL;
        json_object *update = NULL;

        if (reply == NULL) {
                demo_fail(demo, "qom-get guest-stats", error);
                return;
        }
        json_object_object_get_ex(reply, "stats", &stats);
        json_object_object_get_ex(reply, "last-update", &update);
        if (json_object_get_int64(update) == 0) {
                printf("%6.1fs  balloon %4" G_GUINT64_FORMAT " MiB   (no guest stats yet)\n",
                       demo_elapsed(demo), demo->balloon_bytes / MIB);
                return;
        }
        printf("%6.1fs  balloon %4" G_GUINT64_FORMAT " MiB   guest total %4" G_GUINT64_FORMAT
               " MiB  free %4" G_GUINT64_FORMAT " MiB  available %4" G_GUINT64_FORMAT
               " MiB  caches %3" G_GUINT64_FORMAT " MiB\n",
               demo_elapsed(demo), demo->balloon_bytes / MIB, stat_mib(stats, "stat-total-memory"),
               stat_mib(stats, "stat-free-memory"), stat_mib(stats, "stat-available-memory"),
               stat_mib(stats, "stat-disk-caches"));
}

static void
demo_on_balloon(GObject *source, GAsyncResult *result, gpointer user_data)
{
        Demo *demo = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply =
            vt_qmp_client_execute_finish(VT_QMP_CLIENT(source), result, &error);
        json_object *actual = NULL;

        if (reply == NULL) {
                demo_fail(demo, "query-balloon", error);
                return;
        }
        if (json_object_object_get_ex(reply, "actual", &actual))
                demo->balloon_bytes = json_object_get_uint64(actual);
}

static gboolean
demo_on_tick(gpointer user_data)
{
        Demo *demo = user_data;
        g_autoptr(json_object) args =
            json_tokener_parse("{\"path\": \"" BALLOON_PATH "\", \"property\": \"guest-stats\"}");

        vt_qmp_client_execute_async(demo->client, "query-balloon", NULL, 0, demo_on_balloon, demo);
        vt_qmp_client_execute_async(demo->client, "qom-get", args, 0, demo_on_stats, demo);
        return G_SOURCE_CONTINUE;
}

static void
demo_on_balloon_change(VtQmpClient *client, const char *name, json_object *data,
                       gint64 timestamp_us, gpointer user_data)
{
        Demo *demo = user_data;
        json_object *actual = NULL;

        if (!json_object_object_get_ex(data, "actual", &actual))
                return;
        demo->balloon_bytes = json_object_get_uint64(actual);
        printf("%6.1fs  event BALLOON_CHANGE: actual %" G_GUINT64_FORMAT " MiB\n",
               demo_elapsed(demo), demo->balloon_bytes / MIB);
}

static void
demo_on_disconnected(VtQmpClient *client, const GError *error, gpointer user_data)
{
        demo_fail(user_data, "QEMU went away", error);
}

static void
demo_on_set(GObject *source, GAsyncResult *result, gpointer user_data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply =
            vt_qmp_client_execute_finish(VT_QMP_CLIENT(source), result, &error);

        if (reply == NULL)
                demo_fail(user_data, "QMP command", error);
}

typedef struct {
        Demo *demo;
        const DemoStep *step;
} DemoStepRun;

static gboolean
demo_on_step(gpointer user_data)
{
        DemoStepRun *run = user_data;
        Demo *demo = run->demo;
        g_autoptr(GError) error = NULL;

        printf("%6.1fs  >>> %s\n", demo_elapsed(demo), run->step->what);
        if (run->step->workload != NULL) {
                g_autofree char *reply =
                    vt_test_guest_workload(demo->guest, run->step->workload, 0, &error);

                if (reply == NULL)
                        demo_fail(demo, "workload", error);
        }
        if (run->step->balloon_mib > 0) {
                g_autoptr(json_object) args = json_object_new_object();

                json_object_object_add(
                    args, "value", json_object_new_int64((gint64)(run->step->balloon_mib * MIB)));
                vt_qmp_client_execute_async(demo->client, "balloon", args, 0, demo_on_set, demo);
        }
        return G_SOURCE_REMOVE;
}

static gboolean
demo_on_quit(gpointer user_data)
{
        g_main_loop_quit(((Demo *)user_data)->loop);
        return G_SOURCE_REMOVE;
}

static void
demo_on_connected(GObject *source, GAsyncResult *result, gpointer user_data)
{
        Demo *demo = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) args =
            json_tokener_parse("{\"path\": \"" BALLOON_PATH "\", \"property\": "
                               "\"guest-stats-polling-interval\", \"value\": 1}");
        const VtQmpGreeting *greeting;

        if (!vt_qmp_client_connect_finish(demo->client, result, &error)) {
                demo_fail(demo, "cannot connect to QMP", error);
                return;
        }
        greeting = vt_qmp_client_get_greeting(demo->client);
        printf("%6.1fs  connected to QEMU %" G_GINT64_FORMAT ".%" G_GINT64_FORMAT
               ".%" G_GINT64_FORMAT " over QMP; guest stats every 1 s\n",
               demo_elapsed(demo), greeting->major, greeting->minor, greeting->micro);
        g_signal_connect(demo->client, "event::BALLOON_CHANGE", G_CALLBACK(demo_on_balloon_change),
                         demo);
        g_signal_connect(demo->client, "disconnected", G_CALLBACK(demo_on_disconnected), demo);
        vt_qmp_client_execute_async(demo->client, "qom-set", args, 0, demo_on_set, demo);
        demo_on_tick(demo);
        g_timeout_add_seconds(1, demo_on_tick, demo);
}

int
main(int argc, char **argv)
{
        gint duration_s = 24;
        gboolean no_script = FALSE;
        const GOptionEntry entries[] = {
            {"duration", 'd', 0, G_OPTION_ARG_INT, &duration_s, "Seconds to run (24)", "S"},
            {"no-script", 0, 0, G_OPTION_ARG_NONE, &no_script,
             "Only watch: no allocations, no balloon changes", NULL},
            {NULL},
        };
        g_autoptr(GOptionContext) options = g_option_context_new(
            "- boot the test guest and watch its balloon and stats through QMP");
        const VtTestGuestOptions guest_options = {.name = "demo"};
        g_autoptr(GError) error = NULL;
        g_autofree char *reason = NULL;
        g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func(g_free);
        Demo demo = {0};

        g_option_context_add_main_entries(options, entries, NULL);
        if (!g_option_context_parse(options, &argc, &argv, &error)) {
                fprintf(stderr, "vt-guest-demo: %s\n", error->message);
                return 2;
        }
        if (!vt_test_guest_available(&reason)) {
                fprintf(stderr, "vt-guest-demo: %s\n", reason);
                return 1;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        printf("vmtide %s: booting a 512 MiB test guest under QEMU (%s)...\n", VT_VERSION,
               g_getenv("VT_TEST_ACCEL") ? g_getenv("VT_TEST_ACCEL") : "tcg");

        demo.start_us = g_get_monotonic_time();
        demo.guest = vt_test_guest_start(&guest_options, &error);
        if (demo.guest == NULL) {
                fprintf(stderr, "vt-guest-demo: cannot boot the guest: %s\n", error->message);
                return 1;
        }
        printf("%6.1fs  guest is up (QEMU pid %d, QMP socket %s)\n", demo_elapsed(&demo),
               vt_test_guest_get_pid(demo.guest), vt_test_guest_get_qmp_path(demo.guest));

        demo.start_us = g_get_monotonic_time();
        demo.loop = g_main_loop_new(NULL, FALSE);
        demo.client = vt_qmp_client_new();
        vt_qmp_client_connect_async(demo.client, vt_test_guest_get_qmp_path(demo.guest),
                                    demo_on_connected, &demo);
        for (guint i = 0; !no_script && i < G_N_ELEMENTS(demo_steps); i++) {
                DemoStepRun *run = g_new0(DemoStepRun, 1);

                run->demo = &demo;
                run->step = &demo_steps[i];
                g_ptr_array_add(runs, run);
                g_timeout_add_seconds((guint)demo_steps[i].at_s, demo_on_step, run);
        }
        g_timeout_add_seconds((guint)MAX(duration_s, 1), demo_on_quit, &demo);
        g_unix_signal_add(SIGINT, demo_on_quit, &demo);
        g_unix_signal_add(SIGTERM, demo_on_quit, &demo);
        g_main_loop_run(demo.loop);

        vt_qmp_client_close(demo.client);
        g_object_unref(demo.client);
        vt_test_guest_free(demo.guest);
        g_main_loop_unref(demo.loop);
        printf("guest stopped and cleaned up\n");
        return demo.status;
}
