/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Benchmark of the QMP layer, against a real QEMU running the test guest
 * and, for the framer, in memory. Not a test: it asserts nothing about
 * speed, it prints figures for docs/benchmarks.md.
 *
 *   guest boot:       QEMU spawn to the workload's "ready" line
 *   round trip:       one query-balloon at a time, median and p99
 *   pipelined:        N query-balloon in flight at once, per command
 *   balloon:          `balloon` sent to the BALLOON_CHANGE event that
 *                     reports the target, 512 -> 256 MiB and back; and
 *                     to query-balloon reporting it (polled)
 *   framer:           parsing recorded QEMU replies, MB/s
 */
#include <stdio.h>
#include <string.h>

#include "qmp/qmp-client.h"
#include "qmp/qmp-framer.h"
#include "tests/vt-test-guest.h"
#include "tests/vt-test-util.h"
#include "vt-autocleanups.h"

#define MIB (G_GUINT64_CONSTANT(1024) * 1024)

static int
compare_gint64(gconstpointer a, gconstpointer b)
{
        gint64 x = *(const gint64 *)a;
        gint64 y = *(const gint64 *)b;

        return x < y ? -1 : x > y;
}

static gint64
percentile(GArray *samples, double p)
{
        guint index;

        g_array_sort(samples, compare_gint64);
        index = (guint)((samples->len - 1) * p + 0.5);
        return g_array_index(samples, gint64, index);
}

static json_object *
execute(VtQmpClient *client, const char *command, json_object *args)
{
        g_autoptr(GError) error = NULL;
        VtTestWaiter waiter = {0};
        json_object *reply;

        vt_qmp_client_execute_async(client, command, args, 0, vt_test_waiter_callback, &waiter);
        reply = vt_qmp_client_execute_finish(client, vt_test_waiter_wait(&waiter), &error);
        vt_test_waiter_clear(&waiter);
        if (reply == NULL)
                g_error("%s: %s", command, error->message);
        return reply;
}

static void
bench_round_trip(VtQmpClient *client, guint n)
{
        g_autoptr(GArray) samples = g_array_sized_new(FALSE, FALSE, sizeof(gint64), n);

        for (guint i = 0; i < n; i++) {
                gint64 start = g_get_monotonic_time();
                g_autoptr(json_object) reply = execute(client, "query-balloon", NULL);
                gint64 elapsed = g_get_monotonic_time() - start;

                g_array_append_val(samples, elapsed);
        }
        printf("round trip (query-balloon, %u sequential): median %" G_GINT64_FORMAT
               " us, p99 %" G_GINT64_FORMAT " us\n",
               n, percentile(samples, 0.5), percentile(samples, 0.99));
}

typedef struct {
        guint remaining;
} Pipeline;

static void
on_pipelined(GObject *source, GAsyncResult *result, gpointer user_data)
{
        Pipeline *pipeline = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) reply =
            vt_qmp_client_execute_finish(VT_QMP_CLIENT(source), result, &error);

        if (reply == NULL)
                g_error("pipelined: %s", error->message);
        pipeline->remaining--;
}

static gboolean
pipeline_done(gpointer data)
{
        return ((Pipeline *)data)->remaining == 0;
}

static void
bench_pipelined(VtQmpClient *client, guint n, guint rounds)
{
        g_autoptr(GArray) samples = g_array_new(FALSE, FALSE, sizeof(gint64));

        for (guint r = 0; r < rounds; r++) {
                Pipeline pipeline = {.remaining = n};
                gint64 start = g_get_monotonic_time();
                gint64 per_command;

                for (guint i = 0; i < n; i++)
                        vt_qmp_client_execute_async(client, "query-balloon", NULL, 0, on_pipelined,
                                                    &pipeline);
                if (!vt_test_run_until(pipeline_done, &pipeline, VT_TEST_GUARD_US))
                        g_error("pipelined commands never completed");
                per_command = (g_get_monotonic_time() - start) / n;
                g_array_append_val(samples, per_command);
        }
        printf("pipelined (%u query-balloon in flight, %u rounds): median %" G_GINT64_FORMAT
               " us per command\n",
               n, rounds, percentile(samples, 0.5));
}

typedef struct {
        guint64 target;
        gboolean reached;
} BalloonWatch;

static void
on_balloon_change(VtQmpClient *client, const char *name, json_object *data, gint64 timestamp_us,
                  gpointer user_data)
{
        BalloonWatch *watch = user_data;
        json_object *actual = NULL;

        if (json_object_object_get_ex(data, "actual", &actual) &&
            json_object_get_uint64(actual) == watch->target)
                watch->reached = TRUE;
}

static gboolean
balloon_reached(gpointer data)
{
        return ((BalloonWatch *)data)->reached;
}

static guint64
query_balloon(VtQmpClient *client)
{
        g_autoptr(json_object) reply = execute(client, "query-balloon", NULL);
        json_object *actual = NULL;

        json_object_object_get_ex(reply, "actual", &actual);
        return json_object_get_uint64(actual);
}

/*
 * How long the balloon really takes to move, seen by asking query-balloon
 * back to back (a benchmark may poll; QEMU throttles BALLOON_CHANGE to one
 * event a second, so the event that reports the target can lag behind).
 */
static void
bench_balloon_polled(VtQmpClient *client, guint rounds)
{
        g_autoptr(GArray) shrink = g_array_new(FALSE, FALSE, sizeof(gint64));
        g_autoptr(GArray) grow = g_array_new(FALSE, FALSE, sizeof(gint64));

        for (guint i = 0; i < 2 * rounds; i++) {
                guint64 target = (i % 2 == 0 ? 256 : 512) * MIB;
                g_autoptr(json_object) args = json_object_new_object();
                g_autoptr(json_object) reply = NULL;
                gint64 start = g_get_monotonic_time();
                gint64 elapsed;

                json_object_object_add(args, "value", json_object_new_int64((gint64)target));
                reply = execute(client, "balloon", args);
                while (query_balloon(client) != target) {
                        if (g_get_monotonic_time() - start > VT_TEST_GUARD_US)
                                g_error("balloon never reached its target");
                }
                elapsed = g_get_monotonic_time() - start;
                g_array_append_val(i % 2 == 0 ? shrink : grow, elapsed);
                /* Let the throttled BALLOON_CHANGE of this move go out. */
                while (g_main_context_iteration(NULL, FALSE))
                        ;
        }
        printf("balloon 512 -> 256 MiB, command to query-balloon at target (%u rounds): median "
               "%" G_GINT64_FORMAT " ms, worst %" G_GINT64_FORMAT " ms\n",
               rounds, percentile(shrink, 0.5) / 1000, percentile(shrink, 1.0) / 1000);
        printf("balloon 256 -> 512 MiB, command to query-balloon at target (%u rounds): median "
               "%" G_GINT64_FORMAT " ms, worst %" G_GINT64_FORMAT " ms\n",
               rounds, percentile(grow, 0.5) / 1000, percentile(grow, 1.0) / 1000);
}

static void
bench_balloon(VtQmpClient *client, guint rounds)
{
        g_autoptr(GArray) shrink = g_array_new(FALSE, FALSE, sizeof(gint64));
        g_autoptr(GArray) grow = g_array_new(FALSE, FALSE, sizeof(gint64));

        for (guint i = 0; i < 2 * rounds; i++) {
                BalloonWatch watch = {.target = (i % 2 == 0 ? 256 : 512) * MIB};
                g_autoptr(json_object) args = json_object_new_object();
                g_autoptr(json_object) reply = NULL;
                gulong handler = g_signal_connect(client, "event::BALLOON_CHANGE",
                                                  G_CALLBACK(on_balloon_change), &watch);
                gint64 start = g_get_monotonic_time();
                gint64 elapsed;

                json_object_object_add(args, "value", json_object_new_int64((gint64)watch.target));
                reply = execute(client, "balloon", args);
                if (!vt_test_run_until(balloon_reached, &watch, VT_TEST_GUARD_US))
                        g_error("balloon never reached its target");
                elapsed = g_get_monotonic_time() - start;
                g_signal_handler_disconnect(client, handler);
                g_array_append_val(i % 2 == 0 ? shrink : grow, elapsed);
        }
        printf("balloon 512 -> 256 MiB, command to BALLOON_CHANGE at target (%u rounds): median "
               "%" G_GINT64_FORMAT " ms, worst %" G_GINT64_FORMAT " ms\n",
               rounds, percentile(shrink, 0.5) / 1000, percentile(shrink, 1.0) / 1000);
        printf("balloon 256 -> 512 MiB, command to BALLOON_CHANGE at target (%u rounds): median "
               "%" G_GINT64_FORMAT " ms, worst %" G_GINT64_FORMAT " ms\n",
               rounds, percentile(grow, 0.5) / 1000, percentile(grow, 1.0) / 1000);
}

static void
bench_framer(const char *data_dir)
{
        g_autoptr(GDir) dir = g_dir_open(data_dir, 0, NULL);
        g_autoptr(GString) stream = g_string_new(NULL);
        g_autoptr(GArray) samples = g_array_new(FALSE, FALSE, sizeof(gint64));
        const char *name;
        guint n_messages = 0;
        const guint copies = 2000;

        if (dir == NULL)
                g_error("no recorded replies in '%s'", data_dir);
        while ((name = g_dir_read_name(dir)) != NULL) {
                g_autofree char *path = g_build_filename(data_dir, name, NULL);
                g_autofree char *contents = NULL;

                if (g_file_get_contents(path, &contents, NULL, NULL)) {
                        g_string_append(stream, contents);
                        n_messages++;
                }
        }
        for (guint round = 0; round < 5; round++) {
                g_autoptr(VtQmpFramer) framer = vt_qmp_framer_new(0, 0, 0);
                gint64 start = g_get_monotonic_time();
                guint parsed = 0;
                gint64 elapsed;

                for (guint c = 0; c < copies; c++) {
                        json_object *message = NULL;

                        vt_qmp_framer_push(framer, stream->str, stream->len);
                        while (vt_qmp_framer_next(framer, &message, NULL) ==
                               VT_QMP_FRAMER_MESSAGE) {
                                json_object_put(message);
                                parsed++;
                        }
                }
                elapsed = g_get_monotonic_time() - start;
                g_assert_cmpuint(parsed, ==, n_messages * copies);
                g_array_append_val(samples, elapsed);
        }
        printf("framer (%u recorded replies x %u, %zu bytes): median %.0f MB/s, %.2f us per "
               "message\n",
               n_messages, copies, stream->len * copies,
               (double)(stream->len * copies) / (double)percentile(samples, 0.5),
               (double)percentile(samples, 0.5) / (n_messages * copies));
}

int
main(int argc, char **argv)
{
        const VtTestGuestOptions options = {.name = "bench", .memory_bytes = 512 * MIB};
        g_autoptr(VtTestGuest) guest = NULL;
        g_autoptr(VtQmpClient) client = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *reason = NULL;
        VtTestWaiter waiter = {0};

        if (argc != 2) {
                fprintf(stderr, "usage: %s TESTS_DATA_QMP_DIR\n", argv[0]);
                return 2;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        bench_framer(argv[1]);

        if (!vt_test_guest_available(&reason)) {
                fprintf(stderr, "bench-qmp: %s\n", reason);
                return 1;
        }
        guest = vt_test_guest_start(&options, &error);
        if (guest == NULL) {
                fprintf(stderr, "bench-qmp: %s\n", error->message);
                return 1;
        }
        printf("guest boot (512 MiB, %s): %.2f s to ready\n",
               g_getenv("VT_TEST_ACCEL") ? g_getenv("VT_TEST_ACCEL") : "tcg",
               (double)vt_test_guest_get_ready_us(guest) / G_USEC_PER_SEC);

        client = vt_qmp_client_new();
        vt_qmp_client_connect_async(client, vt_test_guest_get_qmp_path(guest),
                                    vt_test_waiter_callback, &waiter);
        if (!vt_qmp_client_connect_finish(client, vt_test_waiter_wait(&waiter), &error)) {
                fprintf(stderr, "bench-qmp: %s\n", error->message);
                return 1;
        }
        vt_test_waiter_clear(&waiter);

        bench_round_trip(client, 500);
        bench_pipelined(client, 100, 20);
        bench_balloon(client, 5);
        bench_balloon_polled(client, 5);
        vt_qmp_client_close(client);
        return 0;
}
