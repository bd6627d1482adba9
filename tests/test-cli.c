/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of vmtide, the CLI: its pure helpers (sizes, durations, tables)
 * from tables of cases, then the built binary end to end against a
 * VtControlServer in this process that answers as vmtided would
 * (docs/control-protocol.md). The binary runs as a child while this
 * process's main loop serves it; the test checks its exit status, what it
 * printed and what it asked the daemon.
 */
#include <string.h>

#include "cli/cli-format.h"
#include "host/control/control-args.h"
#include "host/control/control-server.h"
#include "cli/cli-util.h"
#include "tests/vt-test-planning.h"
#include "tests/vt-test-util.h"
#include "vt-autocleanups.h"
#include "vt-config.h"

/* Pure helpers. */

typedef struct {
        const char *text;
        gboolean ok;
        guint64 bytes;
} SizeCase;

static const SizeCase size_cases[] = {
    {"512M", TRUE, 536870912},
    {"2G", TRUE, 2147483648},
    {"1.5G", TRUE, 1610612736},
    {"512MiB", TRUE, 536870912},
    {"2GB", TRUE, 2147483648},
    {"2gb", TRUE, 2147483648},
    {"1gib", TRUE, 1073741824},
    {"1048576", TRUE, 1048576},
    {"64k", TRUE, 65536},
    {"64K", TRUE, 65536},
    {"1T", TRUE, G_GUINT64_CONSTANT(1099511627776)},
    {"1P", TRUE, G_GUINT64_CONSTANT(1125899906842624)},
    {"0", TRUE, 0},
    {"1B", TRUE, 1},
    {"0.5K", TRUE, 512},
    {"0.1K", TRUE, 102}, /* 102.4, rounded down */
    {"1.000000001G", TRUE, 1073741825},
    {"0.999999999P", TRUE, G_GUINT64_CONSTANT(1125899905716724)},
    {"18446744073709551615", TRUE, G_MAXUINT64},
    {"16383.999999999P", TRUE, G_GUINT64_CONSTANT(18446744073708425716)},
    {"", FALSE, 0},
    {"-1G", FALSE, 0},
    {"-0", FALSE, 0},
    {"+1G", FALSE, 0},
    {"abc", FALSE, 0},
    {"G", FALSE, 0},
    {"12X", FALSE, 0},
    {"1Mi", FALSE, 0},
    {"1MBB", FALSE, 0},
    {"1.5", FALSE, 0},
    {"1.5B", FALSE, 0},
    {"1.G", FALSE, 0},
    {".5G", FALSE, 0},
    {"1,5G", FALSE, 0},
    {"1e3", FALSE, 0},
    {" 1G", FALSE, 0},
    {"1G ", FALSE, 0},
    {"1 G", TRUE, G_GUINT64_CONSTANT(1) << 30},
    {"1.0000000001G", FALSE, 0},
    {"18446744073709551616", FALSE, 0},
    {"99999999999999999999999", FALSE, 0},
    {"16384P", FALSE, 0},
    {"17179869184G", FALSE, 0},
    {"15E", FALSE, 0},
};

static void
test_size_parse(gconstpointer data)
{
        const SizeCase *c = data;
        g_autoptr(GError) error = NULL;
        guint64 bytes = 12345;

        if (c->ok) {
                g_assert_true(vt_size_parse(c->text, &bytes, &error));
                g_assert_no_error(error);
                g_assert_cmpuint(bytes, ==, c->bytes);
                return;
        }
        g_assert_false(vt_size_parse(c->text, &bytes, &error));
        g_assert_error(error, VT_SIZE_ERROR, VT_SIZE_ERROR_INVALID);
        g_assert_nonnull(strstr(error->message, "invalid size"));
        g_assert_cmpuint(bytes, ==, 12345); /* written on success only */
}

static void
test_size_format(void)
{
        static const struct {
                guint64 bytes;
                const char *text;
        } cases[] = {
            {0, "0 B"},
            {1023, "1023 B"},
            {1024, "1.0 KiB"},
            {1536, "1.5 KiB"},
            {536870912, "512.0 MiB"},
            {402653184, "384.0 MiB"},
            {1610612736, "1.5 GiB"},
            {1073741823, "1.0 GiB"}, /* not "1024.0 MiB" */
            {40000000, "38.1 MiB"},
            {G_GUINT64_CONSTANT(1099511627776), "1.0 TiB"},
            {G_MAXUINT64, "16.0 EiB"},
        };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *text = vt_size_format(cases[i].bytes);

                g_assert_cmpstr(text, ==, cases[i].text);
        }
}

static void
test_duration_format(void)
{
        static const struct {
                gint64 ms;
                const char *text;
        } cases[] = {
            {-1, "-"},          {0, "0 ms"},          {999, "999 ms"},     {1000, "1.0 s"},
            {1250, "1.2 s"},    {59999, "59.9 s"},    {60000, "1m 0s"},    {125000, "2m 5s"},
            {3600000, "1h 0m"}, {12000000, "3h 20m"}, {90061000, "1d 1h"},
        };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *text = vt_cli_duration_format(cases[i].ms);

                g_assert_cmpstr(text, ==, cases[i].text);
        }
}

static void
test_table(void)
{
        g_autoptr(VtCliTable) table = vt_cli_table_new();
        g_autoptr(VtCliTable) fields = vt_cli_table_new();
        g_autoptr(VtCliTable) empty = vt_cli_table_new();
        g_autofree char *text = NULL;
        g_autofree char *fields_text = NULL;
        g_autofree char *empty_text = NULL;

        vt_cli_table_add_column(table, "NAME", VT_CLI_ALIGN_LEFT);
        vt_cli_table_add_column(table, "SIZE", VT_CLI_ALIGN_RIGHT);
        vt_cli_table_add_column(table, "NOTE", VT_CLI_ALIGN_LEFT);
        vt_cli_table_add_cell(table, "web1");
        vt_cli_table_take_cell(table, vt_size_format(536870912));
        vt_cli_table_add_cell(table, "x");
        vt_cli_table_add_cell(table, "database");
        vt_cli_table_take_cell(table, vt_size_format(1073741824));
        vt_cli_table_add_cell(table, NULL);
        vt_cli_table_add_cell(table, "wéb");
        vt_cli_table_add_cell(table, "1 B");
        /* The last row is short: blanks, not garbage. */
        g_assert_cmpuint(vt_cli_table_get_n_rows(table), ==, 3);
        text = vt_cli_table_render(table);
        g_assert_cmpstr(text, ==,
                        "NAME           SIZE  NOTE\n"
                        "web1      512.0 MiB  x\n"
                        "database    1.0 GiB  -\n"
                        "wéb             1 B\n");

        /* Without titles: label and value, as status prints. */
        vt_cli_table_add_column(fields, NULL, VT_CLI_ALIGN_LEFT);
        vt_cli_table_add_column(fields, NULL, VT_CLI_ALIGN_LEFT);
        vt_cli_table_add_cell(fields, "Daemon:");
        vt_cli_table_add_cell(fields, "vmtided");
        vt_cli_table_add_cell(fields, "Host memory:");
        vt_cli_table_add_cell(fields, "24.0 GiB");
        fields_text = vt_cli_table_render(fields);
        g_assert_cmpstr(fields_text, ==,
                        "Daemon:       vmtided\n"
                        "Host memory:  24.0 GiB\n");

        empty_text = vt_cli_table_render(empty);
        g_assert_cmpstr(empty_text, ==, "");
}

/* End to end: a scripted vmtided. */

#define GUEST_WEB1                                                                                 \
        "{\"name\": \"web1\", \"pid\": 4242, \"state\": \"running\", \"has_balloon\": true, "      \
        "\"stuck\": false, \"manual\": false, \"max\": 536870912, \"actual\": 402653184, "         \
        "\"memory\": 671088640, "                                                                  \
        "\"target\": 402653184, \"want\": 390000000, "                                             \
        "\"policy\": {\"min\": 134217728, \"max\": 536870912, \"shares\": 1000, "                  \
        "\"opt_out\": false}, "                                                                    \
        "\"stats\": {\"total\": 400000000, \"free\": 120000000, \"available\": 250000000, "        \
        "\"disk_caches\": 90000000, \"major_faults\": 12, \"swap_in\": 0, \"swap_out\": 0, "       \
        "\"age_ms\": 1200}, "                                                                      \
        "\"agent\": {\"connected\": true, \"mem_total\": 400000000, "                              \
        "\"mem_available\": 260000000, \"psi_some_avg10\": 0.0, \"psi_full_avg10\": 0.0, "         \
        "\"oom_kill\": 0, \"pgmajfault\": 40, \"age_ms\": 800}, "                                  \
        "\"rss\": 420000000, \"ksm\": {\"merging_pages\": 12000, \"profit\": 40000000}, "          \
        "\"memdev\": {\"id\": \"vm0\", \"block_size\": 2097152, \"plugged\": 268435456, "          \
        "\"requested\": 134217728, \"max\": 536870912, \"strategy\": \"virtio-mem-first\", "       \
        "\"unplug_stuck\": true}, "                                                                \
        "\"action\": \"reclaim\", \"reason\": \"tight: spare 150 MiB, step 26 MiB\", "             \
        "\"last_change_ms_ago\": 4000}"

/* web1's virtio-mem device holds 256 MiB, asked down to 128 MiB, and the
 * guest cannot free the blocks (unplug stuck): it holds its balloon's
 * 384 MiB and those 256 MiB (`memory`). db1 has no `memory` member, as an
 * older vmtided sends it: its `actual` is shown. */

/* A guest held by hand, without balloon statistics or agent, its backend
 * unreachable (libvirtd restarting), without a virtio-mem device (no
 * `memdev` member, as vmtided leaves it out). */
#define GUEST_DB1                                                                                  \
        "{\"name\": \"db1\", \"pid\": 4343, \"state\": \"running\", \"has_balloon\": true, "       \
        "\"reachable\": false, "                                                                   \
        "\"stuck\": false, \"manual\": true, \"max\": 2147483648, \"actual\": 1073741824, "        \
        "\"target\": 1073741824, \"want\": 1073741824, "                                           \
        "\"policy\": {\"min\": 536870912, \"max\": 2147483648, \"shares\": 2000, "                 \
        "\"opt_out\": false}, "                                                                    \
        "\"stats\": null, \"agent\": null, \"rss\": 1100000000, \"ksm\": null, "                   \
        "\"action\": \"none\", \"reason\": \"held by hand\", \"last_change_ms_ago\": null}"

#define STATUS                                                                                     \
        "{\"version\": \"0.1.0\", \"backend\": \"qmp\", \"paused\": false, "                       \
        "\"uptime_ms\": 120000, \"tick_interval_ms\": 2000, \"ticks\": 61, \"n_guests\": 2, "      \
        "\"n_actions\": 7, \"host\": {\"mem_total\": 25769803776, "                                \
        "\"mem_available\": 21474836480, \"psi_some_avg10\": 0.0, \"psi_full_avg10\": 0.0, "       \
        "\"reserve\": 1073741824, \"budget\": null, \"guests_actual\": 1300000000, "               \
        "\"guest_free\": 310612736, \"state\": \"tight\", "                                        \
        "\"reason\": \"tight: 19 % free < 20 %\"}, "                                               \
        "\"ksm\": {\"run\": 1, \"pages_to_scan\": 494, \"sleep_millisecs\": 20, "                  \
        "\"reason\": \"merging pays\"}}"

#define KSM                                                                                        \
        "{\"managed\": true, \"run\": 1, \"pages_to_scan\": 494, \"sleep_millisecs\": 20, "        \
        "\"reason\": \"merging pays\", \"pages_shared\": 3000, \"pages_sharing\": 30000, "         \
        "\"full_scans\": 12, \"ksmd_cpu_share\": 0.07, \"saved\": 110000000, "                     \
        "\"guests\": [{\"name\": \"web1\", \"merging_pages\": 12000, \"profit\": 40000000}]}"

typedef struct {
        char *dir;
        char *path;
        VtControlServer *server;
        char *command;          /* the last command run */
        json_object *arguments; /* ... and its arguments */
        gboolean paused;
} Fixture;

static void
record(Fixture *f, const char *command, json_object *arguments)
{
        g_free(f->command);
        f->command = g_strdup(command);
        g_clear_pointer(&f->arguments, json_object_put);
        f->arguments = arguments != NULL ? json_object_get(arguments) : NULL;
}

static json_object *
parse(const char *text)
{
        json_object *object = json_tokener_parse(text);

        g_assert_nonnull(object);
        return object;
}

/* The guest named in @arguments, as query-guest returns it. */
static json_object *
find_guest(json_object *arguments, GError **error)
{
        const char *name = vt_control_args_get_string(arguments, "name", error);

        if (name == NULL)
                return NULL;
        if (g_str_equal(name, "web1"))
                return parse(GUEST_WEB1);
        if (g_str_equal(name, "db1"))
                return parse(GUEST_DB1);
        vt_control_set_error_guest_not_found(error, name);
        return NULL;
}

static json_object *
handle_query_status(VtControlServer *server, json_object *arguments, gpointer user_data,
                    GError **error)
{
        record(user_data, "query-status", arguments);
        return parse(STATUS);
}

static json_object *
handle_query_guests(VtControlServer *server, json_object *arguments, gpointer user_data,
                    GError **error)
{
        record(user_data, "query-guests", arguments);
        return parse("{\"guests\": [" GUEST_DB1 ", " GUEST_WEB1 "]}");
}

static json_object *
handle_query_guest(VtControlServer *server, json_object *arguments, gpointer user_data,
                   GError **error)
{
        record(user_data, "query-guest", arguments);
        return find_guest(arguments, error);
}

static json_object *
handle_set_target(VtControlServer *server, json_object *arguments, gpointer user_data,
                  GError **error)
{
        g_autoptr(json_object) guest = NULL;
        json_object *ret;
        guint64 bytes = 0;
        gboolean present = FALSE;

        record(user_data, "set-target", arguments);
        guest = find_guest(arguments, error);
        if (guest == NULL ||
            !vt_control_args_get_optional_size(arguments, "bytes", 1, G_GUINT64_CONSTANT(1) << 44,
                                               &bytes, &present, error))
                return NULL;
        ret = json_object_new_object();
        /* Clamped to the boot memory, as vmtided does. */
        if (present)
                json_object_object_add(ret, "target",
                                       json_object_new_int64((gint64)MIN(bytes, 536870912)));
        return ret;
}

static json_object *
handle_set_policy(VtControlServer *server, json_object *arguments, gpointer user_data,
                  GError **error)
{
        g_autoptr(json_object) guest = NULL;
        json_object *policy = NULL;

        record(user_data, "set-policy", arguments);
        guest = find_guest(arguments, error);
        if (guest == NULL)
                return NULL;
        json_object_object_get_ex(guest, "policy", &policy);
        json_object_object_foreach (arguments, key, value) {
                if (!g_str_equal(key, "name"))
                        json_object_object_add(policy, key, json_object_get(value));
        }
        /* As the QMP-direct backend's vmtided says: held in memory only. */
        json_object_object_add(policy, "source", json_object_new_string("control socket"));
        return json_object_get(policy);
}

static json_object *
handle_pause(VtControlServer *server, json_object *arguments, gpointer user_data, GError **error)
{
        Fixture *f = user_data;
        json_object *ret = json_object_new_object();

        record(f, "pause", arguments);
        f->paused = TRUE;
        json_object_object_add(ret, "paused", json_object_new_boolean(f->paused));
        return ret;
}

static json_object *
handle_resume(VtControlServer *server, json_object *arguments, gpointer user_data, GError **error)
{
        Fixture *f = user_data;
        json_object *ret = json_object_new_object();

        record(f, "resume", arguments);
        f->paused = FALSE;
        json_object_object_add(ret, "paused", json_object_new_boolean(f->paused));
        return ret;
}

static json_object *
handle_query_ksm(VtControlServer *server, json_object *arguments, gpointer user_data,
                 GError **error)
{
        record(user_data, "query-ksm", arguments);
        return parse(KSM);
}

/* Migration: canned answers in vmtided's shape (docs/control-protocol.md). */
#define PREDICTED                                                                                  \
        "{\"converges\": true, \"outcome\": \"converges\", \"total_ms\": 4300, "                   \
        "\"downtime_ms\": 24, \"passes\": 3, \"bytes\": 581959680, \"dirty_rate\": 10485760, "     \
        "\"reason\": \"converges in 3 passes, 4.3 s\"}"
#define PEERS                                                                                      \
        "{\"peers\": [{\"name\": \"peer2\", \"source\": \"vmtided\", \"known\": true, "            \
        "\"free\": 4294967296, \"headroom\": 536870912, \"mem_total\": 8589934592, "               \
        "\"state\": \"plenty\", \"age_ms\": 1500, \"bandwidth\": 134217728, \"error\": null}, "    \
        "{\"name\": \"peer3\", \"source\": \"none\", \"known\": false, \"free\": null, "           \
        "\"headroom\": null, \"mem_total\": null, \"state\": null, \"age_ms\": null, "             \
        "\"bandwidth\": 134217728, \"error\": \"no source for its room\"}]}"
#define PLAN                                                                                       \
        "{\"enabled\": false, \"paused\": false, \"decision\": {\"action\": \"move\", "            \
        "\"why\": \"move\", \"guest\": \"web1\", \"peer\": \"peer2\", "                            \
        "\"reason\": \"move 'web1' to 'peer2': critical 3 ticks\", \"predicted\": " PREDICTED      \
        "}, "                                                                                      \
        "\"host\": {\"critical\": true, \"free\": -104857600, \"reclaimable\": 0}, "               \
        "\"guests\": [{\"name\": \"web1\", \"status\": \"move\", \"actual\": 536870912, "          \
        "\"relief\": 536870912, \"dirty_rate\": 10485760, \"predicted\": " PREDICTED "}, "         \
        "{\"name\": \"db1\", \"status\": \"pinned\", \"actual\": 402653184, "                      \
        "\"relief\": 402653184, \"dirty_rate\": null, \"predicted\": {\"converges\": false}}]}"

static json_object *
handle_migrate(VtControlServer *server, json_object *arguments, gpointer user_data, GError **error)
{
        g_autoptr(json_object) guest = NULL;
        json_object *ret;

        record(user_data, "migrate", arguments);
        guest = find_guest(arguments, error);
        if (guest == NULL)
                return NULL;
        /* As vmtided does: the start is told before the reply. */
        vt_control_server_emit_event(server, "MIGRATION_STARTED",
                                     parse("{\"guest\": \"web1\", \"peer\": \"peer2\"}"));
        ret = parse("{\"guest\": \"web1\", \"peer\": \"peer2\", \"dirty_rate_measured\": true, "
                    "\"predicted\": " PREDICTED "}");
        return ret;
}

static json_object *
handle_migrate_cancel(VtControlServer *server, json_object *arguments, gpointer user_data,
                      GError **error)
{
        g_autoptr(json_object) guest = NULL;

        record(user_data, "migrate-cancel", arguments);
        guest = find_guest(arguments, error);
        return guest != NULL ? json_object_new_object() : NULL;
}

static json_object *
handle_query_peers(VtControlServer *server, json_object *arguments, gpointer user_data,
                   GError **error)
{
        record(user_data, "query-peers", arguments);
        return parse(PEERS);
}

static json_object *
handle_query_plan(VtControlServer *server, json_object *arguments, gpointer user_data,
                  GError **error)
{
        record(user_data, "query-plan", arguments);
        return parse(PLAN);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        f->dir = g_dir_make_tmp("vt-cli-XXXXXX", &error);
        g_assert_no_error(error);
        f->path = g_build_filename(f->dir, "vmtided.sock", NULL);
        f->server = vt_control_server_new(f->path, 0, &error);
        g_assert_no_error(error);
        vt_control_server_add_command(f->server, "query-status", handle_query_status, f);
        vt_control_server_add_command(f->server, "query-guests", handle_query_guests, f);
        vt_control_server_add_command(f->server, "query-guest", handle_query_guest, f);
        vt_control_server_add_command(f->server, "set-target", handle_set_target, f);
        vt_control_server_add_command(f->server, "set-policy", handle_set_policy, f);
        vt_control_server_add_command(f->server, "pause", handle_pause, f);
        vt_control_server_add_command(f->server, "resume", handle_resume, f);
        vt_control_server_add_command(f->server, "query-ksm", handle_query_ksm, f);
        vt_control_server_add_command(f->server, "migrate", handle_migrate, f);
        vt_control_server_add_command(f->server, "migrate-cancel", handle_migrate_cancel, f);
        vt_control_server_add_command(f->server, "query-peers", handle_query_peers, f);
        vt_control_server_add_command(f->server, "query-plan", handle_query_plan, f);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
        g_clear_pointer(&f->server, vt_control_server_free);
        vt_test_remove_tree(f->dir);
        g_free(f->path);
        g_free(f->dir);
        g_free(f->command);
        json_object_put(f->arguments);
}

/* Running the binary. */

typedef struct {
        GSubprocess *process;
        VtTestWaiter waiter;
} Child;

typedef struct {
        int status;
        char *out;
        char *err;
} CliResult;

static void
cli_result_clear(CliResult *r)
{
        g_free(r->out);
        g_free(r->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CliResult, cli_result_clear)

static char *
cli_path(void)
{
        const char *env = g_getenv("VT_CLI");

        if (env != NULL && env[0] != '\0')
                return g_strdup(env);
        return g_test_build_filename(G_TEST_BUILT, "..", "cli", "vmtide", NULL);
}

/* Starts vmtide with @args (NULL-terminated), $VMTIDE_SOCKET set to
 * @env_socket or unset; its output is collected while the caller runs
 * the main loop. */
static void
child_start(Child *child, const char *env_socket, const char *const *args)
{
        g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
            G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GError) error = NULL;

        g_ptr_array_add(argv, cli_path());
        for (guint i = 0; args[i] != NULL; i++)
                g_ptr_array_add(argv, g_strdup(args[i]));
        g_ptr_array_add(argv, NULL);
        if (env_socket != NULL)
                g_subprocess_launcher_setenv(launcher, "VMTIDE_SOCKET", env_socket, TRUE);
        else
                g_subprocess_launcher_unsetenv(launcher, "VMTIDE_SOCKET");
        child->process =
            g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, &error);
        g_assert_no_error(error);
        g_subprocess_communicate_async(child->process, NULL, NULL, vt_test_waiter_callback,
                                       &child->waiter);
}

static char *
bytes_to_string(GBytes *bytes)
{
        gsize len = 0;
        const char *data = bytes != NULL ? g_bytes_get_data(bytes, &len) : NULL;

        return g_strndup(data != NULL ? data : "", len);
}

/* Waits for the child to exit, with the main loop (and server) running. */
static void
child_finish(Child *child, CliResult *result)
{
        g_autoptr(GBytes) out = NULL;
        g_autoptr(GBytes) err = NULL;
        g_autoptr(GError) error = NULL;

        g_assert_true(g_subprocess_communicate_finish(
            child->process, vt_test_waiter_wait(&child->waiter), &out, &err, &error));
        g_assert_no_error(error);
        vt_test_waiter_clear(&child->waiter);
        g_assert_true(g_subprocess_get_if_exited(child->process));
        result->status = g_subprocess_get_exit_status(child->process);
        result->out = bytes_to_string(out);
        result->err = bytes_to_string(err);
        g_test_message("vmtide exited %d\nstdout:\n%s\nstderr:\n%s", result->status, result->out,
                       result->err);
        g_clear_object(&child->process);
}

/* Runs `vmtide --socket PATH ARGS...` to its end. */
static void
run_cli(Fixture *f, CliResult *result, const char *const *args)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        Child child = {0};

        g_ptr_array_add(argv, (gpointer) "--socket");
        g_ptr_array_add(argv, f->path);
        for (guint i = 0; args[i] != NULL; i++)
                g_ptr_array_add(argv, (gpointer)args[i]);
        g_ptr_array_add(argv, NULL);
        child_start(&child, NULL, (const char *const *)argv->pdata);
        child_finish(&child, result);
}

/* `vmtide list` over db1 and web1, whole. */
#define LIST_TABLE                                                                                 \
        "NAME  STATE                          ACTUAL     TARGET    PLUGGED        MAX"             \
        "  AVAILABLE  ACTION   REASON\n"                                                           \
        "db1   running,unreachable,manual    1.0 GiB    1.0 GiB          -    2.0 GiB"             \
        "          -  none     held by hand\n"                                                     \
        "web1  running,unplug-stuck        640.0 MiB  384.0 MiB  256.0 MiB  512.0 MiB"             \
        "  248.0 MiB  reclaim  tight: spare 150 MiB, step 26 MiB\n"

typedef struct {
        const char *name;
        const char *args[8];
        int status;
        const char *out[5];      /* in stdout */
        const char *err;         /* in stderr; NULL: stderr is empty */
        const char *command;     /* what vmtided ran last; NULL: nothing */
        const char *sent;        /* members its arguments had, as JSON */
        const char *not_sent[3]; /* members they did not have */
} CliCase;

static const CliCase cli_cases[] = {
    {"list",
     {"list"},
     0,
     {"NAME", "web1", "db1", "384.0 MiB", "running,unreachable,manual"},
     NULL,
     "query-guests"},
    {"list-names", {"list", "--names"}, 0, {"db1\nweb1\n"}, NULL, "query-guests"},
    /* PLUGGED beside the balloon, "-" without a device; columns aligned. */
    {"list-memdev", {"list"}, 0, {LIST_TABLE}, NULL, "query-guests"},
    {"list-columns",
     {"list"},
     0,
     {"512.0 MiB", "248.0 MiB", "reclaim", "tight: spare 150 MiB, step 26 MiB"},
     NULL,
     "query-guests"},
    {"status",
     {"status"},
     0,
     {"vmtided 0.1.0, backend qmp, up 2m 0s", "tight (tight: 19 % free < 20 %)",
      "24.0 GiB total, 20.0 GiB available", "Budget:", "run 1, 494 pages every 20 ms"},
     NULL,
     "query-status"},
    {"stats",
     {"stats", "web1"},
     0,
     {"web1, running, pid 4242", "actual 640.0 MiB, target 384.0 MiB, max 512.0 MiB",
      "12000 pages merging, 38.1 MiB saved", "min 128.0 MiB, max 512.0 MiB, shares 1000",
      "reclaim: tight"},
     NULL,
     "query-guest",
     "{\"name\": \"web1\"}"},
    {"stats-memdev",
     {"stats", "web1"},
     0,
     {"Balloon:        actual 640.0 MiB, target 384.0 MiB, max 512.0 MiB\n"
      "Virtio-mem:     plugged 256.0 MiB, requested 128.0 MiB, max 512.0 MiB, blocks of "
      "2.0 MiB, virtio-mem-first, device 'vm0' (unplug stuck: the guest cannot free the "
      "blocks)\n"},
     NULL,
     "query-guest",
     "{\"name\": \"web1\"}"},
    {"stats-sparse",
     {"stats", "db1"},
     0,
     {"manual (vmtide setmem db1 auto hands it back)", "not connected", "Balloon stats:  none",
      "Virtio-mem:     -\n"},
     NULL,
     "query-guest",
     "{\"name\": \"db1\"}"},
    {"setmem",
     {"setmem", "web1", "512M"},
     0,
     {"web1: balloon target 512.0 MiB; held there until 'vmtide setmem web1 auto'"},
     NULL,
     "set-target",
     "{\"name\": \"web1\", \"bytes\": 536870912}",
     {"auto"}},
    {"setmem-fraction",
     {"setmem", "web1", "0.25G"},
     0,
     {"256.0 MiB"},
     NULL,
     "set-target",
     "{\"bytes\": 268435456}"},
    {"setmem-clamped",
     {"setmem", "web1", "2G"},
     0,
     {"balloon target 512.0 MiB (asked for 2.0 GiB, clamped)"},
     NULL,
     "set-target",
     "{\"bytes\": 2147483648}"},
    {"setmem-auto",
     {"setmem", "web1", "auto"},
     0,
     {"web1: back under automatic control"},
     NULL,
     "set-target",
     "{\"name\": \"web1\", \"auto\": true}",
     {"bytes"}},
    {"policy-set",
     {"policy", "web1", "--min", "256M", "--shares", "2000"},
     0,
     {"web1: policy now min 256.0 MiB, max 512.0 MiB, shares 2000, opt-out no, from control "
      "socket\n",
      "web1: kept until vmtided restarts; to keep it, put it in [guest:web1] of vmtided.conf\n"},
     NULL,
     "set-policy",
     "{\"name\": \"web1\", \"min\": 268435456, \"shares\": 2000}",
     {"max", "opt_out"}},
    {"policy-opt-out",
     {"policy", "--opt-out", "web1"},
     0,
     {"opt-out yes"},
     NULL,
     "set-policy",
     "{\"name\": \"web1\", \"opt_out\": true}",
     {"min", "max", "shares"}},
    {"policy-opt-in-max",
     {"policy", "web1", "--opt-in", "--max=1G"},
     0,
     {"max 1.0 GiB"},
     NULL,
     "set-policy",
     "{\"opt_out\": false, \"max\": 1073741824}"},
    {"policy-show",
     {"policy", "web1"},
     0,
     {"web1: min 128.0 MiB, max 512.0 MiB, shares 1000, opt-out no"},
     NULL,
     "query-guest",
     "{\"name\": \"web1\"}"},
    {"pause", {"pause"}, 0, {"automation paused"}, NULL, "pause"},
    {"resume", {"resume"}, 0, {"automation running"}, NULL, "resume"},
    {"ksm",
     {"ksm"},
     0,
     {"run 1, 494 pages every 20 ms", "3000 shared, 30000 sharing, 12 full scans", "7.0 %",
      "104.9 MiB", "web1"},
     NULL,
     "query-ksm"},
    {"ksm-guests", {"ksm"}, 0, {"GUEST", "MERGING PAGES", "12000", "38.1 MiB"}, NULL, "query-ksm"},
    /* Migration. */
    {"migrate-no-wait",
     {"migrate", "--no-wait", "web1", "peer2"},
     0,
     {"web1: migrating to peer2; predicted: converges in 3 passes, 4.3 s"},
     NULL,
     "migrate",
     "{\"name\": \"web1\", \"peer\": \"peer2\"}"},
    {"migrate-no-peer",
     {"migrate", "--no-wait", "web1"},
     0,
     {"migrating to peer2"},
     NULL,
     "migrate",
     "{\"name\": \"web1\"}",
     {"peer"}},
    {"migrate-cancel",
     {"migrate", "--cancel", "web1"},
     0,
     {"web1: cancel asked"},
     NULL,
     "migrate-cancel",
     "{\"name\": \"web1\"}"},
    {"migrate-cancel-peer", {"migrate", "--cancel", "web1", "peer2"}, 2, {NULL}, "--cancel"},
    {"migrate-unknown",
     {"migrate", "nope", "peer2"},
     1,
     {NULL},
     "no guest named 'nope'",
     "migrate"},
    {"migrate-no-guest", {"migrate"}, 2, {NULL}, "Usage: vmtide migrate"},
    {"hosts",
     {"hosts"},
     0,
     {"PEER", "peer2", "vmtided", "4.0 GiB", "no source for its room"},
     NULL,
     "query-peers"},
    {"plan",
     {"plan"},
     0,
     {"move (move)", "move 'web1' to 'peer2'", "off ([migrate] enabled = false)", "4.3 s, 3 passes",
      "pinned"},
     NULL,
     "query-plan"},
    {"top-once",
     {"top", "--once", "--sort", "memory"},
     0,
     {"Host:    tight (tight: 19 % free < 20 %)", "Budget:  none; reserve 1.0 GiB",
      "KSM:     run 1", "Guests sorted by memory", "\ndb1 "},
     NULL,
     "query-guests"},
    {"top-no-terminal", {"top"}, 2, {NULL}, "'top' needs a terminal"},
    {"top-bad-sort", {"top", "--once", "--sort", "size"}, 2, {NULL}, "--sort: 'size' is not"},
    {"version", {"--version"}, 0, {"vmtide " VT_VERSION "\n"}},
    {"help", {"help"}, 0, {"Commands:", "setmem GUEST SIZE|auto", "--socket", "events"}},
    {"help-command", {"help", "policy"}, 0, {"--min", "--opt-out", "vmtide policy"}},
    {"command-help", {"setmem", "--help"}, 0, {"SIZE|auto"}},
    /* The daemon says no. */
    {"unknown-guest",
     {"stats", "nope"},
     1,
     {NULL},
     "vmtide: no guest named 'nope'\n",
     "query-guest"},
    {"unknown-guest-setmem",
     {"setmem", "nope", "1G"},
     1,
     {NULL},
     "vmtide: no guest named 'nope'\n",
     "set-target"},
    {"unknown-guest-policy",
     {"policy", "nope", "--shares", "5"},
     1,
     {NULL},
     "vmtide: no guest named 'nope'\n",
     "set-policy"},
    /* Usage errors: the daemon is never asked. */
    {"bad-size", {"setmem", "web1", "12X"}, 2, {NULL}, "invalid size '12X'"},
    {"negative-size", {"setmem", "web1", "--", "-1G"}, 2, {NULL}, "cannot be negative"},
    {"negative-size-option",
     {"setmem", "web1", "-1G"},
     2,
     {NULL},
     "vmtide: -1G is not an option (sizes cannot be negative)\n"},
    /* A bare number: virsh reads KiB, the daemon bytes; refused with a hint. */
    {"bare-size",
     {"setmem", "web1", "1048576"},
     2,
     {NULL},
     "vmtide: '1048576' has no unit: write 1048576K (as virsh means it) or 1G\n"},
    {"bare-size-small",
     {"setmem", "web1", "512"},
     2,
     {NULL},
     "write 512K (as virsh means it) or 512B (bytes)"},
    {"bytes-size",
     {"setmem", "web1", "536870912B"},
     0,
     {"balloon target 512.0 MiB"},
     NULL,
     "set-target"},
    {"bare-min",
     {"policy", "web1", "--min", "262144"},
     2,
     {NULL},
     "--min: '262144' has no unit: write 262144K"},
    {"bare-capacity-size",
     {"capacity", "--add", "1", "--size", "4096"},
     2,
     {NULL},
     "--size: '4096' has no unit"},
    {"missing-value", {"policy", "web1", "--min"}, 2, {NULL}, "vmtide: --min needs a value\n"},
    {"bad-int-value",
     {"capacity", "--add", "many"},
     2,
     {NULL},
     "vmtide: --add: 'many' is not a valid value\n"},
    {"dash-dash", {"stats", "--", "web1"}, 0, {"pid 4242"}, NULL, "query-guest"},
    {"empty-size", {"setmem", "web1", ""}, 2, {NULL}, "invalid size ''"},
    {"huge-size", {"setmem", "web1", "16383P"}, 2, {NULL}, "too large"},
    {"bad-min", {"policy", "web1", "--min", "lots"}, 2, {NULL}, "--min: invalid size 'lots'"},
    {"bad-shares",
     {"policy", "web1", "--shares", "0"},
     2,
     {NULL},
     "vmtide: --shares: '0' is not a whole number from 1 to 100000\n"},
    {"opt-out-and-in", {"policy", "web1", "--opt-out", "--opt-in"}, 2, {NULL}, "exclude"},
    {"missing-argument", {"setmem", "web1"}, 2, {NULL}, "Usage: vmtide setmem"},
    {"extra-argument", {"stats", "web1", "db1"}, 2, {NULL}, "'db1'"},
    {"unknown-command", {"frobnicate"}, 2, {NULL}, "unknown command 'frobnicate'"},
    {"unknown-command-usage", {"frobnicate"}, 2, {NULL}, "Usage: vmtide"},
    {"no-command", {NULL}, 2, {NULL}, "no command given"},
    {"unknown-option",
     {"list", "--colour"},
     2,
     {NULL},
     "vmtide: --colour is not an option of 'vmtide list'\n"},
    {"unknown-global-option",
     {"--colour", "list"},
     2,
     {NULL},
     "vmtide: --colour is not an option of 'vmtide'\n"},
    {"bad-timeout", {"--timeout", "soon", "list"}, 2, {NULL}, "--timeout"},
    {"zero-timeout", {"list", "--timeout", "0"}, 2, {NULL}, "--timeout"},
    {"help-unknown", {"help", "frobnicate"}, 2, {NULL}, "unknown command 'frobnicate'"},
    /* Planning (issue 13): no history there, the current values only. */
    {"capacity",
     {"capacity", "--history", "/nonexistent/vt", "--add", "2", "--size", "128M"},
     0,
     /* web1 counted as the balloon's 384 MiB and the 256 MiB plugged. */
     {"Capacity:", "fits: 2 x 128.0 MiB", "Host free:", "no history read", "web1   640.0 MiB"},
     NULL,
     "query-ksm"},
    {"capacity-no-size", {"capacity", "--add", "2"}, 2, {NULL}, "--add needs --size"},
    {"capacity-bad-window", {"capacity", "--window", "1w"}, 2, {NULL}, "unknown unit 'w'"},
    {"risk",
     {"risk", "--interval", "0", "--history", "/nonexistent/vt"},
     0,
     {"1 of 2 running guests", "db1", "stats-stale", "agent-missing", "one sample"},
     NULL,
     "query-guests"},
    {"risk-two-samples",
     {"risk", "--interval", "0.1", "--history", "/nonexistent/vt"},
     0,
     {"between two query-guests", "the balloon policy's defaults"},
     NULL,
     "query-guests"},
    {"risk-bad-interval", {"risk", "--interval", "-1"}, 2, {NULL}, "--interval"},
};

static void
test_cli_case(Fixture *f, gconstpointer data)
{
        const CliCase *c = data;
        g_auto(CliResult) result = {0};

        run_cli(f, &result, c->args);
        g_assert_cmpint(result.status, ==, c->status);
        for (guint i = 0; i < G_N_ELEMENTS(c->out) && c->out[i] != NULL; i++) {
                if (strstr(result.out, c->out[i]) == NULL)
                        g_error("'%s' not in the output:\n%s", c->out[i], result.out);
        }
        if (c->err == NULL)
                g_assert_cmpstr(result.err, ==, "");
        else if (strstr(result.err, c->err) == NULL)
                g_error("'%s' not in stderr:\n%s", c->err, result.err);
        g_assert_cmpstr(f->command, ==, c->command);
        if (c->sent != NULL) {
                g_autoptr(json_object) sent = parse(c->sent);

                json_object_object_foreach (sent, key, value) {
                        json_object *got = NULL;

                        g_assert_true(json_object_object_get_ex(f->arguments, key, &got));
                        if (!json_object_equal(got, value))
                                g_error("'%s' sent as %s, not %s", key,
                                        json_object_to_json_string(got),
                                        json_object_to_json_string(value));
                }
        }
        for (guint i = 0; i < G_N_ELEMENTS(c->not_sent) && c->not_sent[i] != NULL; i++)
                g_assert_false(json_object_object_get_ex(f->arguments, c->not_sent[i], NULL));
}

/* --json prints the daemon's answer as it is, before or after the command. */
static void
test_cli_json(Fixture *f, gconstpointer data)
{
        static const char *const after[] = {"list", "--json", NULL};
        static const char *const before[] = {"-j", "list", NULL};
        static const char *const setmem[] = {"setmem", "web1", "1G", "--json", NULL};
        g_auto(CliResult) a = {0};
        g_auto(CliResult) b = {0};
        g_auto(CliResult) s = {0};
        g_autoptr(json_object) parsed = NULL;
        g_autoptr(json_object) expected = parse("{\"guests\": [" GUEST_DB1 ", " GUEST_WEB1 "]}");
        g_autoptr(json_object) target = NULL;
        json_object *value = NULL;

        run_cli(f, &a, after);
        g_assert_cmpint(a.status, ==, 0);
        parsed = json_tokener_parse(a.out);
        g_assert_nonnull(parsed);
        g_assert_true(json_object_equal(parsed, expected));

        run_cli(f, &b, before);
        g_assert_cmpint(b.status, ==, 0);
        g_assert_cmpstr(b.out, ==, a.out);

        run_cli(f, &s, setmem);
        g_assert_cmpint(s.status, ==, 0);
        target = json_tokener_parse(s.out);
        g_assert_true(json_object_object_get_ex(target, "target", &value));
        g_assert_cmpint(json_object_get_int64(value), ==, 536870912);
}

/* $VMTIDE_SOCKET stands in for --socket; --socket wins over it. */
static void
test_cli_env_socket(Fixture *f, gconstpointer data)
{
        static const char *const list[] = {"list", NULL};
        g_autofree char *nowhere = g_build_filename(f->dir, "nowhere.sock", NULL);
        const char *const explicit[] = {"--socket", f->path, "pause", NULL};
        g_auto(CliResult) env = {0};
        g_auto(CliResult) both = {0};
        Child child = {0};

        child_start(&child, f->path, list);
        child_finish(&child, &env);
        g_assert_cmpint(env.status, ==, 0);
        g_assert_nonnull(strstr(env.out, "web1"));

        child_start(&child, nowhere, explicit);
        child_finish(&child, &both);
        g_assert_cmpint(both.status, ==, 0);
        g_assert_cmpstr(f->command, ==, "pause");
}

/* Nobody there: no socket, or a stale one. */
static void
test_cli_not_running(Fixture *f, gconstpointer data)
{
        static const char *const list[] = {"list", NULL};
        g_autofree char *nowhere = g_build_filename(f->dir, "nowhere.sock", NULL);
        g_autofree char *expected = g_strdup_printf(
            "vmtide: cannot reach vmtided at %s: no such socket (is vmtided running?)\n", nowhere);
        g_autofree char *refused = NULL;
        g_auto(CliResult) missing = {0};
        g_auto(CliResult) stale = {0};
        Child child = {0};

        child_start(&child, nowhere, list);
        child_finish(&child, &missing);
        g_assert_cmpint(missing.status, ==, 1);
        g_assert_cmpstr(missing.out, ==, "");
        g_assert_cmpstr(missing.err, ==, expected);

        /* The fixture's server gone leaves nothing; a regular file refuses. */
        g_assert_true(g_file_set_contents(nowhere, "", -1, NULL));
        refused = g_strdup_printf("vmtide: cannot reach vmtided at %s: connection refused "
                                  "(is vmtided running?)\n",
                                  nowhere);
        child_start(&child, nowhere, list);
        child_finish(&child, &stale);
        g_assert_cmpint(stale.status, ==, 1);
        g_assert_cmpstr(stale.err, ==, refused);
        g_assert_null(f->command);
}

static gboolean
one_negotiated(gpointer data)
{
        return vt_control_server_get_n_negotiated(data) == 1;
}

/* `events` prints what comes until vmtided goes away. */
static void
test_cli_events(Fixture *f, gconstpointer data)
{
        const gboolean json = GPOINTER_TO_INT(data);
        const char *const args[] = {"--socket", f->path, "events", json ? "--json" : NULL, NULL};
        g_auto(CliResult) result = {0};
        g_auto(GStrv) lines = NULL;
        Child child = {0};

        child_start(&child, NULL, args);
        g_assert_true(vt_test_run_until(one_negotiated, f->server, VT_TEST_GUARD_US));
        vt_control_server_emit_event(f->server, "DECISION",
                                     parse("{\"guest\": \"web1\", \"action\": \"reclaim\", "
                                           "\"from\": 536870912, \"to\": 402653184, "
                                           "\"reason\": \"tight\"}"));
        vt_control_server_emit_event(f->server, "GUEST_ADDED", parse("{\"guest\": \"db1\"}"));
        vt_control_server_emit_event(f->server, "X_FUTURE", parse("{\"n\": 1}"));
        vt_control_server_emit_event(f->server, "AUTOMATION", parse("{\"paused\": true}"));
        vt_control_server_emit_event(f->server, "MEMDEV",
                                     parse("{\"guest\": \"web1\", \"present\": true, "
                                           "\"id\": \"vm0\", \"plugged\": 268435456, "
                                           "\"requested\": 536870912, \"max\": 536870912}"));
        vt_control_server_emit_event(f->server, "MEMDEV",
                                     parse("{\"guest\": \"web1\", \"present\": false, "
                                           "\"id\": null, \"plugged\": 0, \"requested\": 0, "
                                           "\"max\": 0}"));
        /* The daemon stops: the CLI has had everything and ends. */
        g_clear_pointer(&f->server, vt_control_server_free);
        child_finish(&child, &result);

        g_assert_cmpint(result.status, ==, 0);
        g_assert_nonnull(strstr(result.err, "vmtided closed the connection"));
        lines = g_strsplit(result.out, "\n", -1);
        g_assert_cmpuint(g_strv_length(lines), ==, 7); /* and "" after the last newline */
        g_assert_cmpstr(lines[6], ==, "");
        if (json) {
                static const char *const names[] = {"DECISION",   "GUEST_ADDED", "X_FUTURE",
                                                    "AUTOMATION", "MEMDEV",      "MEMDEV"};

                for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
                        g_autoptr(json_object) event = json_tokener_parse(lines[i]);
                        json_object *name = NULL;

                        g_assert_nonnull(event);
                        g_assert_true(json_object_object_get_ex(event, "event", &name));
                        g_assert_cmpstr(json_object_get_string(name), ==, names[i]);
                        g_assert_true(json_object_object_get_ex(event, "timestamp", NULL));
                }
                return;
        }
        g_assert_nonnull(strstr(lines[0], "DECISION"));
        g_assert_nonnull(strstr(lines[0], "web1: reclaim 512.0 MiB -> 384.0 MiB (tight)"));
        g_assert_nonnull(strstr(lines[1], "db1 added"));
        g_assert_nonnull(strstr(lines[2], "X_FUTURE"));
        g_assert_nonnull(strstr(lines[2], "\"n\": 1"));
        g_assert_nonnull(strstr(lines[3], "automation paused"));
        g_assert_nonnull(strstr(
            lines[4], "web1: virtio-mem 256.0 MiB plugged (requested 512.0 MiB, max 512.0 MiB)"));
        g_assert_nonnull(strstr(lines[5], "web1: virtio-mem device gone"));
}

static gboolean
emit_migration_end(gpointer user_data)
{
        Fixture *f = user_data;

        vt_control_server_emit_event(
            f->server, "MIGRATION_PASS",
            parse(
                "{\"guest\": \"web1\", \"peer\": \"peer2\", \"pass\": 2, "
                "\"remaining\": 41943040, \"dirty_rate\": 10485760, \"throughput\": 134217728, "
                "\"elapsed_ms\": 4100, \"predicted_left_ms\": 300, \"predicted_total_ms\": 4300}"));
        /* Another guest's pass is not this command's. */
        vt_control_server_emit_event(f->server, "MIGRATION_PASS",
                                     parse("{\"guest\": \"db1\", \"pass\": 9}"));
        vt_control_server_emit_event(
            f->server, "MIGRATION_FINISHED",
            parse("{\"guest\": \"web1\", \"peer\": \"peer2\", \"outcome\": \"completed\", "
                  "\"reason\": \"completed\", \"summary\": \"4.4 s (predicted 4.3 s)\"}"));
        return G_SOURCE_REMOVE;
}

static gboolean
migrate_asked(gpointer user_data)
{
        return g_strcmp0(((Fixture *)user_data)->command, "migrate") == 0;
}

/* `vmtide migrate` follows the move's events to its end. */
static void
test_cli_migrate_follow(Fixture *f, gconstpointer data)
{
        const char *const args[] = {"--socket", f->path, "migrate", "web1", "peer2", NULL};
        g_auto(CliResult) result = {0};
        Child child = {0};

        child_start(&child, NULL, args);
        g_assert_true(vt_test_run_until(migrate_asked, f, VT_TEST_GUARD_US));
        g_idle_add(emit_migration_end, f);
        child_finish(&child, &result);
        g_assert_cmpint(result.status, ==, 0);
        g_assert_nonnull(strstr(result.out, "web1: migrating to peer2"));
        g_assert_nonnull(strstr(result.out, "pass 2: 40.0 MiB left, dirtied 10.0 MiB/s, "
                                            "sent 128.0 MiB/s, 4.1 s elapsed, about 0.3 s to go"));
        g_assert_null(strstr(result.out, "pass 9"));
        g_assert_nonnull(strstr(result.out, "web1: completed to peer2: completed"));
        g_assert_nonnull(strstr(result.out, "4.4 s (predicted 4.3 s)"));
}

/* `vmtide capacity` draws on a history written here: web1's recorded want
 * at p95, not its current one, and the host's trend. */
static void
test_cli_capacity_history(Fixture *f, gconstpointer data)
{
        static const guint64 wants[] = {300 << 20, 350 << 20, 0};
        g_autofree char *dir = g_build_filename(f->dir, "history", NULL);
        const char *const args[] = {"capacity", "--history", dir, "--json", NULL};
        VtTestHistory h = {
            .end_wall_us = g_get_real_time(),
            .n_ticks = 60,
            .mem_total = G_GUINT64_CONSTANT(25769803776),
            .available0 = G_GUINT64_CONSTANT(21474836480),
            .guest = "web1",
            .guest_max = 536870912,
            .guest_actual = 402653184,
            .wants = wants,
        };
        g_auto(CliResult) result = {0};
        g_autoptr(json_object) out = NULL;
        gint64 want = 0, ticks = 0;
        gboolean read = FALSE;

        vt_test_history_write(dir, &h);
        run_cli(f, &result, args);
        g_assert_cmpint(result.status, ==, 0);
        out = parse(result.out);
        g_assert_true(vt_cli_json_get_bool(out, "history.read", &read) && read);
        g_assert_true(vt_cli_json_get_int(out, "trend.ticks", &ticks));
        g_assert_cmpint(ticks, ==, 60);
        g_assert_true(vt_cli_json_get_int(
            json_object_array_get_idx(vt_cli_json_get(out, "guests"), 1), "want_recent", &want));
        g_assert_cmpint(want, ==, 350 << 20);
        g_assert_nonnull(strstr(vt_cli_json_get_string(out, "trend.detail"), "not at this trend"));
}

#define ADD(path, test, data) g_test_add(path, Fixture, data, fixture_setup, test, fixture_teardown)

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        for (guint i = 0; i < G_N_ELEMENTS(size_cases); i++) {
                g_autofree char *path = g_strdup_printf("/cli/size/parse/%u", i);

                g_test_add_data_func(path, &size_cases[i], test_size_parse);
        }
        g_test_add_func("/cli/size/format", test_size_format);
        g_test_add_func("/cli/duration/format", test_duration_format);
        g_test_add_func("/cli/table", test_table);
        for (guint i = 0; i < G_N_ELEMENTS(cli_cases); i++) {
                g_autofree char *path = g_strdup_printf("/cli/run/%s", cli_cases[i].name);

                ADD(path, test_cli_case, &cli_cases[i]);
        }
        ADD("/cli/run/json", test_cli_json, NULL);
        ADD("/cli/run/env-socket", test_cli_env_socket, NULL);
        ADD("/cli/run/not-running", test_cli_not_running, NULL);
        ADD("/cli/run/events", test_cli_events, GINT_TO_POINTER(FALSE));
        ADD("/cli/run/events-json", test_cli_events, GINT_TO_POINTER(TRUE));
        ADD("/cli/run/migrate-follow", test_cli_migrate_follow, NULL);
        ADD("/cli/run/capacity-history", test_cli_capacity_history, NULL);
        return g_test_run();
}
