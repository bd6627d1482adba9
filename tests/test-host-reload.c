/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided's configuration reload: what changes live, what needs a restart, a bad file refused. */
#include <glib.h>
#include <string.h>

#include "host/daemon-reload.h"

#define CONFIG_A                                                                                   \
        "[daemon]\ncontrol-socket = /tmp/vt-reload-a.sock\ntick-interval-ms = 1000\n"              \
        "[budget]\ntotal = 4G\n[ksm]\nenabled = false\n[qmp]\ndir = /tmp/vt-reload-a\n"            \
        "[guest:web1]\nmin = 512M\n"
#define CONFIG_B                                                                                   \
        "[daemon]\ncontrol-socket = /tmp/vt-reload-b.sock\ntick-interval-ms = 500\n"               \
        "log-level = debug\n[budget]\ntotal = 8G\nreserve = 1G\n[ksm]\nenabled = false\n"          \
        "cpu-cap = 5\n[qmp]\ndir = /tmp/vt-reload-a\n[guest:web1]\nmin = 1G\n"
#define CONFIG_BAD "[budget]\ntotal = lots\n"

static VtDaemonConfig *
parse(const char *text)
{
        g_autoptr(GError) error = NULL;
        VtDaemonConfig *config = vt_daemon_config_parse(text, strlen(text), "test.conf", &error);

        g_assert_no_error(error);
        return config;
}

/* A loader (VtDaemonConfigLoader) over the text in @user_data. */
static VtDaemonConfig *
load_text(gpointer user_data, GError **error)
{
        const char *text = user_data;

        return vt_daemon_config_parse(text, strlen(text), "test.conf", error);
}

static gboolean
contains(GPtrArray *list, const char *name)
{
        for (guint i = 0; i < list->len; i++) {
                if (g_str_equal(g_ptr_array_index(list, i), name))
                        return TRUE;
        }
        return FALSE;
}

static void
test_diff(void)
{
        g_autoptr(VtDaemonConfig) a = parse(CONFIG_A);
        g_autoptr(VtDaemonConfig) b = parse(CONFIG_B);
        g_autoptr(GPtrArray) live = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) restart = g_ptr_array_new_with_free_func(g_free);

        vt_daemon_config_diff(a, a, live, restart);
        g_assert_cmpuint(live->len, ==, 0);
        g_assert_cmpuint(restart->len, ==, 0);

        vt_daemon_config_diff(a, b, live, restart);
        g_assert_true(contains(live, "[daemon] tick-interval-ms"));
        g_assert_true(contains(live, "[daemon] log-level"));
        g_assert_true(contains(live, "[budget] total"));
        g_assert_true(contains(live, "[policy] tunables or [budget] reserve"));
        g_assert_true(contains(live, "[ksm] tunables"));
        g_assert_true(contains(live, "[guest:web1] policy"));
        g_assert_cmpuint(live->len, ==, 6);
        g_assert_true(contains(restart, "[daemon] control-socket"));
        g_assert_cmpuint(restart->len, ==, 1);
}

/* A → B: the live settings change, the control socket stays A's. */
static void
test_apply(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VtDaemon) daemon = vt_daemon_new(parse(CONFIG_A), &error);
        const VtDaemonConfig *config;

        g_assert_no_error(error);
        g_assert_true(vt_daemon_reload(daemon, load_text, (gpointer)CONFIG_B, &error));
        g_assert_no_error(error);
        config = vt_daemon_get_config(daemon);
        g_assert_cmpuint(config->budget_total, ==, 8ULL << 30);
        g_assert_cmpint(config->tick_interval_us, ==, 500 * 1000);
        g_assert_cmpint(config->log_level, ==, G_LOG_LEVEL_DEBUG);
        g_assert_cmpuint(config->balloon.host_reserve, ==, 1ULL << 30);
        g_assert_cmpuint(vt_daemon_config_find_guest(config, "web1")->balloon.min_bytes, ==,
                         1ULL << 30);
        g_assert_cmpstr(config->control_socket, ==, "/tmp/vt-reload-a.sock");
}

/* A bad file is refused with its error; the configuration in force stays. */
static void
test_refuse_bad(void)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VtDaemon) daemon = vt_daemon_new(parse(CONFIG_A), &error);
        const VtDaemonConfig *before;

        g_assert_no_error(error);
        before = vt_daemon_get_config(daemon);
        g_assert_false(vt_daemon_reload(daemon, load_text, (gpointer)CONFIG_BAD, &error));
        g_assert_error(error, VT_DAEMON_CONFIG_ERROR, VT_DAEMON_CONFIG_ERROR_INVALID);
        g_assert_nonnull(strstr(error->message, "[budget] total"));
        g_assert_true(vt_daemon_get_config(daemon) == before);
        g_assert_cmpuint(before->budget_total, ==, 4ULL << 30);
        g_assert_cmpint(before->tick_interval_us, ==, 1000 * 1000);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/host/reload/diff", test_diff);
        g_test_add_func("/host/reload/apply", test_apply);
        g_test_add_func("/host/reload/refuse-bad", test_refuse_bad);
        return g_test_run();
}
