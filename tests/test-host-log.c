/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of vmtided's log routing (host/daemon-log.c): which messages
 * are written, and that every one goes to stderr, none to stdout (issue
 * 16: debug lines went to stdout). Each routing case runs in a
 * subprocess, since a process sets up its log once.
 */
#include <glib.h>
#include <string.h>

#include "host/daemon-log.h"

typedef struct {
        const char *name;
        GLogLevelFlags threshold;
        const char *domain;
        GLogLevelFlags level;
        gboolean written;
} LogCase;

static const LogCase log_cases[] = {
    {"debug-at-debug", G_LOG_LEVEL_DEBUG, "vmtided", G_LOG_LEVEL_DEBUG, TRUE},
    {"info-at-debug", G_LOG_LEVEL_DEBUG, "vmtided", G_LOG_LEVEL_INFO, TRUE},
    {"message-at-debug", G_LOG_LEVEL_DEBUG, "vmtide-control", G_LOG_LEVEL_MESSAGE, TRUE},
    {"warning-at-debug", G_LOG_LEVEL_DEBUG, "vmtide-control", G_LOG_LEVEL_WARNING, TRUE},
    {"critical-at-debug", G_LOG_LEVEL_DEBUG, "vmtided", G_LOG_LEVEL_CRITICAL, TRUE},
    {"debug-no-domain", G_LOG_LEVEL_DEBUG, NULL, G_LOG_LEVEL_DEBUG, FALSE},
    {"warning-no-domain", G_LOG_LEVEL_DEBUG, NULL, G_LOG_LEVEL_WARNING, TRUE},
    {"debug-at-info", G_LOG_LEVEL_INFO, "vmtided", G_LOG_LEVEL_DEBUG, FALSE},
    {"info-at-info", G_LOG_LEVEL_INFO, "vmtided", G_LOG_LEVEL_INFO, TRUE},
    {"message-at-info", G_LOG_LEVEL_INFO, "vmtided", G_LOG_LEVEL_MESSAGE, TRUE},
    {"warning-at-info", G_LOG_LEVEL_INFO, "vmtide-control", G_LOG_LEVEL_WARNING, TRUE},
    {"message-at-warning", G_LOG_LEVEL_WARNING, "vmtided", G_LOG_LEVEL_MESSAGE, FALSE},
    {"warning-at-warning", G_LOG_LEVEL_WARNING, "vmtided", G_LOG_LEVEL_WARNING, TRUE},
    {"warning-at-critical", G_LOG_LEVEL_CRITICAL, "vmtided", G_LOG_LEVEL_WARNING, FALSE},
};

/* The filter alone, as a table. */
static void
test_wants(void)
{
        for (guint i = 0; i < G_N_ELEMENTS(log_cases); i++) {
                const LogCase *c = &log_cases[i];

                g_test_message("%s", c->name);
                g_assert_cmpint(vt_daemon_log_wants(c->threshold, c->domain, c->level), ==,
                                c->written);
                /* A fatal flag beside the level changes nothing. */
                g_assert_cmpint(
                    vt_daemon_log_wants(c->threshold, c->domain, c->level | G_LOG_FLAG_FATAL), ==,
                    c->written);
        }
}

/* A real process: set up as vmtided does, log one line, see where it went. */
static void
test_route(gconstpointer data)
{
        const LogCase *c = data;
        g_autofree char *marker = g_strdup_printf("marker-%s", c->name);

        if (g_test_subprocess()) {
                /* Only the setup under test decides: no G_MESSAGES_DEBUG,
                 * and warnings are not the test framework's failures. */
                g_unsetenv("G_MESSAGES_DEBUG");
                g_log_set_always_fatal(G_LOG_FATAL_MASK);
                vt_daemon_log_setup(c->threshold);
                g_log(c->domain, c->level, "%s", marker);
                /* Structured logging takes the same way. */
                if (c->domain != NULL)
                        g_log_structured(c->domain, c->level, "MESSAGE", "%s-structured", marker);
                return;
        }
        g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
        g_test_trap_assert_passed();
        g_test_trap_assert_stdout_unmatched("*marker*");
        if (c->written)
                g_test_trap_assert_stderr("*marker*");
        else
                g_test_trap_assert_stderr_unmatched("*marker*");
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/host/log/wants", test_wants);
        for (guint i = 0; i < G_N_ELEMENTS(log_cases); i++) {
                g_autofree char *path = g_strdup_printf("/host/log/route/%s", log_cases[i].name);

                g_test_add_data_func(path, &log_cases[i], test_route);
        }
        return g_test_run();
}
