/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `vmtide top` in a real terminal: tmux runs it against a scripted control socket. */

/*
 * Each case starts a private tmux server (its own socket in the case's
 * temporary directory, no configuration) with one 120x30 pane running
 * sh, types `vmtide --socket PATH top` into it, and reads the screen with
 * capture-pane while this process's main loop answers the CLI's commands.
 * The way out differs per case (q, Ctrl-C, SIGTERM, the daemon going away);
 * after each the pane must be back on the main screen (#{alternate_on} 0)
 * with the cursor shown (#{cursor_flag} 1) and the shell's `echo EXIT=$?`
 * printing vmtide's status. Skipped without tmux.
 */
#include <signal.h>
#include <string.h>

#include "host/control/control-server.h"
#include "tests/vt-test-util.h"
#include "vt-autocleanups.h"

#define GUARD_US (20 * G_USEC_PER_SEC)

/* web1 under pressure (PSI 5 %), db1 bigger and calm: by pressure web1
 * comes first, by name db1. */
#define GUESTS                                                                                     \
        "{\"guests\": [{\"name\": \"db1\", \"state\": \"running\", \"max\": 2147483648, "          \
        "\"actual\": 1073741824, \"target\": 1073741824, "                                         \
        "\"agent\": {\"connected\": true, \"mem_available\": 900000000, "                          \
        "\"psi_some_avg10\": 0.0}, \"action\": \"none\", \"reason\": \"ample\"}, "                 \
        "{\"name\": \"web1\", \"state\": \"running\", \"max\": 536870912, "                        \
        "\"actual\": 402653184, \"target\": 402653184, "                                           \
        "\"agent\": {\"connected\": true, \"mem_available\": 20000000, "                           \
        "\"psi_some_avg10\": 5.0}, \"action\": \"give\", \"reason\": \"pressure\\u001b[2J\"}]}"

#define STATUS                                                                                     \
        "{\"version\": \"0.1.0\", \"backend\": \"qmp\", \"paused\": false, "                       \
        "\"host\": {\"mem_total\": 25769803776, \"mem_available\": 21474836480, "                  \
        "\"psi_some_avg10\": 0.0, \"psi_full_avg10\": 0.0, \"reserve\": 1073741824, "              \
        "\"budget\": 17179869184, \"guests_actual\": 1476395008, \"state\": \"tight\", "           \
        "\"reason\": \"tight: 19 % free < 20 %\"}, "                                               \
        "\"ksm\": {\"run\": 1, \"pages_to_scan\": 494, \"sleep_millisecs\": 20, "                  \
        "\"reason\": \"merging pays\"}}"

typedef struct {
        char *dir;
        char *path;
        char *tmux_socket;
        char *pid_file;
        VtControlServer *server;
        guint n_queries;
        GSource *tick;
} Fixture;

static json_object *
handle_query_status(VtControlServer *server, json_object *arguments, gpointer user_data,
                    GError **error)
{
        ((Fixture *)user_data)->n_queries++;
        return json_tokener_parse(STATUS);
}

static json_object *
handle_query_guests(VtControlServer *server, json_object *arguments, gpointer user_data,
                    GError **error)
{
        return json_tokener_parse(GUESTS);
}

/* Wakes the loop so that conditions over the screen are checked again. */
static gboolean
on_tick(gpointer user_data)
{
        return G_SOURCE_CONTINUE;
}

static char *
tmux(Fixture *f, const char *const *args)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autoptr(GError) error = NULL;
        g_autofree char *err = NULL;
        char *out = NULL;
        int status = 0;

        g_ptr_array_add(argv, (gpointer) "tmux");
        g_ptr_array_add(argv, (gpointer) "-S");
        g_ptr_array_add(argv, f->tmux_socket);
        g_ptr_array_add(argv, (gpointer) "-f");
        g_ptr_array_add(argv, (gpointer) "/dev/null");
        for (guint i = 0; args[i] != NULL; i++)
                g_ptr_array_add(argv, (gpointer)args[i]);
        g_ptr_array_add(argv, NULL);
        g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                     &status, &error);
        g_assert_no_error(error);
        if (!g_spawn_check_wait_status(status, NULL))
                g_test_message("tmux %s: %s", args[0], err);
        return out;
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *tmux_path = g_find_program_in_path("tmux");
        g_autofree char *out = NULL;

        if (tmux_path == NULL)
                return;
        f->dir = g_dir_make_tmp("vt-top-XXXXXX", &error);
        g_assert_no_error(error);
        f->path = g_build_filename(f->dir, "vmtided.sock", NULL);
        f->tmux_socket = g_build_filename(f->dir, "tmux.sock", NULL);
        f->pid_file = g_build_filename(f->dir, "vmtide.pid", NULL);
        f->server = vt_control_server_new(f->path, 0, &error);
        g_assert_no_error(error);
        vt_control_server_add_command(f->server, "query-status", handle_query_status, f);
        vt_control_server_add_command(f->server, "query-guests", handle_query_guests, f);
        f->tick = g_timeout_source_new(50);
        g_source_set_callback(f->tick, on_tick, NULL, NULL);
        g_source_attach(f->tick, NULL);
        out = tmux(f, (const char *const[]){"new-session", "-d", "-s", "top", "-x", "120", "-y",
                                            "30", "env", "PS1=$ ", "TERM=screen", "/bin/sh", NULL});
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
        g_autofree char *out = NULL;

        if (f->dir == NULL)
                return;
        out = tmux(f, (const char *const[]){"kill-server", NULL});
        g_source_destroy(f->tick);
        g_source_unref(f->tick);
        g_clear_pointer(&f->server, vt_control_server_free);
        vt_test_remove_tree(f->dir);
        g_free(f->path);
        g_free(f->tmux_socket);
        g_free(f->pid_file);
        g_free(f->dir);
}

static char *
cli_path(void)
{
        const char *env = g_getenv("VT_CLI");

        if (env != NULL && env[0] != '\0')
                return g_strdup(env);
        return g_test_build_filename(G_TEST_BUILT, "..", "cli", "vmtide", NULL);
}

/* Types the command line that runs `vmtide top` in the pane; its pid goes
 * to the pid file, its status after EXIT= once it ends. */
static void
top_start(Fixture *f)
{
        g_autofree char *cli = cli_path();
        g_autofree char *line =
            g_strdup_printf("sh -c 'echo $$ > %s; exec %s --socket %s top --interval 0.3'; "
                            "echo EXIT=$?",
                            f->pid_file, cli, f->path);
        g_autofree char *out =
            tmux(f, (const char *const[]){"send-keys", "-t", "top", "-l", line, NULL});
        g_autofree char *enter =
            tmux(f, (const char *const[]){"send-keys", "-t", "top", "Enter", NULL});
}

typedef struct {
        Fixture *f;
        const char *const *want;
        char *screen;
} ScreenWait;

static gboolean
screen_has(gpointer data)
{
        ScreenWait *w = data;

        g_free(w->screen);
        w->screen = tmux(w->f, (const char *const[]){"capture-pane", "-p", "-t", "top", NULL});
        for (guint i = 0; w->want[i] != NULL; i++) {
                if (strstr(w->screen, w->want[i]) == NULL)
                        return FALSE;
        }
        return TRUE;
}

/* Waits until the pane shows every string of @want; returns the screen. */
static char *
screen_wait(Fixture *f, const char *const *want)
{
        ScreenWait w = {.f = f, .want = want};

        if (!vt_test_run_until(screen_has, &w, GUARD_US))
                g_error("the pane never showed '%s'; it shows:\n%s", want[0], w.screen);
        return w.screen;
}

/* The pane's main screen is back and the cursor shown. */
static void
assert_terminal_clean(Fixture *f)
{
        g_autofree char *flags =
            tmux(f, (const char *const[]){"display-message", "-p", "-t", "top",
                                          "#{alternate_on} #{cursor_flag} #{pane_in_mode}", NULL});

        g_assert_cmpstr(flags, ==, "0 1 0\n");
}

/* The line that shows the guest named @name on @screen, or NULL. */
static const char *
row_of(const char *screen, const char *name)
{
        g_autofree char *needle = g_strdup_printf("\n%s ", name);

        return strstr(screen, needle);
}

static void
test_top_keys(Fixture *f, gconstpointer data)
{
        g_autofree char *screen = NULL;
        g_autofree char *sorted = NULL;
        g_autofree char *after = NULL;
        g_autofree char *out = NULL;

        if (f->dir == NULL) {
                g_test_skip("no tmux");
                return;
        }
        top_start(f);
        screen =
            screen_wait(f, (const char *const[]){"Host:    tight (tight: 19 % free < 20 %)",
                                                 "Budget:  16.0 GiB", "KSM:", "web1", "db1", NULL});
        g_test_message("the screen:\n%s", screen);
        /* By pressure: web1 (PSI 5 %) above db1; the escape in its reason
         * reached the screen as '?'. */
        g_assert_true(row_of(screen, "web1") < row_of(screen, "db1"));
        g_assert_nonnull(strstr(screen, "pressure?[2J"));
        g_assert_nonnull(strstr(screen, "5.00%"));
        out = tmux(f, (const char *const[]){"send-keys", "-t", "top", "n", NULL});
        sorted = screen_wait(f, (const char *const[]){"sorted by name", NULL});
        g_assert_true(row_of(sorted, "db1") < row_of(sorted, "web1"));

        /* An event: a refresh at once, and the event named. */
        vt_control_server_emit_event(f->server, "DECISION",
                                     json_tokener_parse("{\"guest\": \"web1\"}"));
        g_free(screen_wait(f, (const char *const[]){"Last event:", "DECISION web1", NULL}));

        g_free(out);
        out = tmux(f, (const char *const[]){"send-keys", "-t", "top", "q", NULL});
        after = screen_wait(f, (const char *const[]){"EXIT=0", NULL});
        g_assert_null(strstr(after, "Budget:"));
        assert_terminal_clean(f);
}

static gboolean
file_exists(gpointer data)
{
        return g_file_test(data, G_FILE_TEST_EXISTS);
}

static void
test_top_signal(Fixture *f, gconstpointer data)
{
        int signum = GPOINTER_TO_INT(data);
        g_autofree char *pid_text = NULL;
        g_autofree char *after = NULL;

        if (f->dir == NULL) {
                g_test_skip("no tmux");
                return;
        }
        top_start(f);
        g_free(screen_wait(f, (const char *const[]){"Host:", "web1", NULL}));
        g_assert_true(vt_test_run_until(file_exists, f->pid_file, GUARD_US));
        g_assert_true(g_file_get_contents(f->pid_file, &pid_text, NULL, NULL));
        g_assert_cmpint(kill((pid_t)g_ascii_strtoll(pid_text, NULL, 10), signum), ==, 0);
        after = screen_wait(f, (const char *const[]){"EXIT=0", NULL});
        g_assert_null(strstr(after, "Budget:"));
        assert_terminal_clean(f);
}

/* vmtided goes away: the view ends, says so, and exits 1. */
static void
test_top_daemon_gone(Fixture *f, gconstpointer data)
{
        g_autofree char *after = NULL;

        if (f->dir == NULL) {
                g_test_skip("no tmux");
                return;
        }
        top_start(f);
        g_free(screen_wait(f, (const char *const[]){"Host:", "web1", NULL}));
        g_clear_pointer(&f->server, vt_control_server_free);
        after = screen_wait(f, (const char *const[]){"EXIT=1", NULL});
        g_assert_nonnull(strstr(after, "vmtide: "));
        g_assert_null(strstr(after, "Budget:"));
        assert_terminal_clean(f);
}

#define ADD(path, test, data) g_test_add(path, Fixture, data, fixture_setup, test, fixture_teardown)

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        ADD("/cli/top/keys", test_top_keys, NULL);
        ADD("/cli/top/sigint", test_top_signal, GINT_TO_POINTER(SIGINT));
        ADD("/cli/top/sigterm", test_top_signal, GINT_TO_POINTER(SIGTERM));
        ADD("/cli/top/daemon-gone", test_top_daemon_gone, NULL);
        return g_test_run();
}
