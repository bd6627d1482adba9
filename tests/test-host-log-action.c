/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided's action log: the journal fields beside the readable line. */
#include "host/daemon-log-action.h"

/* The fields of the last message written. */
static GHashTable *captured;
static GLogLevelFlags captured_level;

static GLogWriterOutput
capture_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
        (void)user_data;
        g_hash_table_remove_all(captured);
        captured_level = level;
        for (gsize i = 0; i < n_fields; i++) {
                g_assert_cmpint(fields[i].length, ==, -1);
                g_assert_false(g_hash_table_contains(captured, fields[i].key));
                g_hash_table_insert(captured, g_strdup(fields[i].key), g_strdup(fields[i].value));
        }
        return G_LOG_WRITER_HANDLED;
}

typedef struct {
        const char *name;
        GLogLevelFlags level;
        VtDaemonLogAction action;
        const char *message;
        /* Every field expected, key then value, NULL-terminated. */
        const char *fields[20];
} ActionCase;

static const ActionCase action_cases[] = {
    {"give",
     G_LOG_LEVEL_MESSAGE,
     {"web1", "give", 1073741824, 1610612736, "under pressure", "plenty"},
     "guest 'web1': give 1024 MiB -> 1536 MiB: under pressure",
     {"GLIB_DOMAIN", "vmtided", "PRIORITY", "5", "MESSAGE",
      "guest 'web1': give 1024 MiB -> 1536 MiB: under pressure", "VT_GUEST", "web1", "VT_ACTION",
      "give", "VT_FROM_BYTES", "1073741824", "VT_TO_BYTES", "1610612736", "VT_REASON",
      "under pressure", "VT_HOST_STATE", "plenty", NULL}},
    {"stuck",
     G_LOG_LEVEL_WARNING,
     {"db", "stuck", 0, 536870912, "stopped short", "short"},
     "guest 'db': balloon stuck",
     {"GLIB_DOMAIN", "vmtided", "PRIORITY", "4", "MESSAGE", "guest 'db': balloon stuck", "VT_GUEST",
      "db", "VT_ACTION", "stuck", "VT_FROM_BYTES", "0", "VT_TO_BYTES", "536870912", "VT_REASON",
      "stopped short", "VT_HOST_STATE", "short", NULL}},
    /* The host's own actions have no guest and no sizes. */
    {"host-state",
     G_LOG_LEVEL_MESSAGE,
     {NULL, "host-state", VT_DAEMON_LOG_NO_BYTES, VT_DAEMON_LOG_NO_BYTES, "free below 10%",
      "tight"},
     "host: plenty -> tight: free below 10%",
     {"GLIB_DOMAIN", "vmtided", "PRIORITY", "5", "MESSAGE", "host: plenty -> tight: free below 10%",
      "VT_ACTION", "host-state", "VT_REASON", "free below 10%", "VT_HOST_STATE", "tight", NULL}},
    {"minimal",
     G_LOG_LEVEL_INFO,
     {NULL, "ksm", VT_DAEMON_LOG_NO_BYTES, VT_DAEMON_LOG_NO_BYTES, NULL, NULL},
     "KSM: run=1",
     {"GLIB_DOMAIN", "vmtided", "PRIORITY", "6", "MESSAGE", "KSM: run=1", "VT_ACTION", "ksm",
      NULL}},
};

static void
test_action_fields(gconstpointer data)
{
        const ActionCase *c = data;
        guint n = 0;

        vt_daemon_log_action(c->level, &c->action, "%s", c->message);
        g_assert_cmpint(captured_level, ==, c->level);
        for (n = 0; c->fields[n] != NULL; n += 2)
                g_assert_cmpstr(g_hash_table_lookup(captured, c->fields[n]), ==, c->fields[n + 1]);
        g_assert_cmpuint(g_hash_table_size(captured), ==, n / 2);
}

/* On a terminal the line reads as it did before the fields. */
static void
test_action_terminal_line(void)
{
        VtDaemonLogAction a = {"web1", "reclaim", 2, 1, "idle", "tight"};
        GLogField fields[16];
        GHashTableIter iter;
        gpointer key, value;
        gsize n = 0;
        g_autofree char *line = NULL;

        vt_daemon_log_action(G_LOG_LEVEL_MESSAGE, &a, "guest '%s': %s", "web1", "reclaim");
        g_hash_table_iter_init(&iter, captured);
        while (g_hash_table_iter_next(&iter, &key, &value))
                fields[n++] = (GLogField){.key = key, .value = value, .length = -1};
        line = g_log_writer_format_fields(G_LOG_LEVEL_MESSAGE, fields, n, FALSE);
        g_assert_true(g_str_has_prefix(line, "vmtided-Message: "));
        g_assert_true(g_str_has_suffix(line, ": guest 'web1': reclaim"));
        g_assert_null(strstr(line, "VT_"));
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        captured = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_log_set_writer_func(capture_writer, NULL, NULL);

        for (guint i = 0; i < G_N_ELEMENTS(action_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/host/log-action/fields/%s", action_cases[i].name);

                g_test_add_data_func(path, &action_cases[i], test_action_fields);
        }
        g_test_add_func("/host/log-action/terminal-line", test_action_terminal_line);
        return g_test_run();
}
