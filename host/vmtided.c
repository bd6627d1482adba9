/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided: the host daemon. Options, signals (TERM, INT stop; HUP reloads), logging, the
 * watchdog's ping; the work is in daemon.c. */
#include <glib-unix.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/vt-size.h"
#include "host/daemon.h"
#include "host/daemon-log.h"
#include "host/daemon-notify.h"
#include "host/daemon-reload.h"
#include "vt-config.h"

static gboolean
on_quit_signal(gpointer data)
{
        g_message("stopping on signal");
        g_main_loop_quit(data);
        return G_SOURCE_CONTINUE;
}

/* What the command line says: %NULL or %FALSE where it says nothing. */
typedef struct {
        char *config_path;
        char *control_socket;
        char *qmp_dir;
        char *budget;
        gboolean verbose;
        gboolean version;
        gboolean check;
} Options;

static void
options_clear(Options *options)
{
        g_free(options->config_path);
        g_free(options->control_socket);
        g_free(options->qmp_dir);
        g_free(options->budget);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Options, options_clear)

static gboolean
options_parse(Options *options, int *argc, char ***argv, GError **error)
{
        const GOptionEntry entries[] = {
            {"config", 'c', 0, G_OPTION_ARG_FILENAME, &options->config_path,
             "Configuration file (default /etc/vmtide/vmtided.conf)", "FILE"},
            {"control-socket", 's', 0, G_OPTION_ARG_FILENAME, &options->control_socket,
             "Control socket (overrides [daemon] control-socket)", "PATH"},
            {"qmp-dir", 'd', 0, G_OPTION_ARG_FILENAME, &options->qmp_dir,
             "Directory of guests' QMP sockets (overrides [qmp] dir)", "DIR"},
            {"budget", 'b', 0, G_OPTION_ARG_STRING, &options->budget,
             "Memory the guests may use in all, e.g. 12G (overrides [budget] total)", "SIZE"},
            {"check", 0, 0, G_OPTION_ARG_NONE, &options->check,
             "Check the configuration, print warnings, and exit", NULL},
            {"verbose", 'v', 0, G_OPTION_ARG_NONE, &options->verbose, "Log debug messages", NULL},
            {"version", 'V', 0, G_OPTION_ARG_NONE, &options->version, "Print the version and exit",
             NULL},
            {NULL},
        };
        g_autoptr(GOptionContext) context =
            g_option_context_new("- vmtide's host daemon: balloon, KSM, and more guests");

        g_option_context_add_main_entries(context, entries, NULL);
        return g_option_context_parse(context, argc, argv, error);
}

/*
 * Loads the configuration, logs its warnings and lets the command line
 * override it; at start-up and on each reload. On failure sets @error and
 * writes the exit status it calls for.
 */
static VtDaemonConfig *
config_load(Options *options, int *ret_status, GError **error)
{
        g_autoptr(VtDaemonConfig) config = NULL;
        guint64 budget_bytes = 0;
        const char *const *warnings;

        *ret_status = 1;
        config = options->config_path != NULL ? vt_daemon_config_load(options->config_path, error)
                                              : vt_daemon_config_load_optional(NULL, error);
        if (config == NULL)
                return NULL;
        warnings = vt_daemon_config_get_warnings(config);
        for (guint i = 0; warnings != NULL && warnings[i] != NULL; i++)
                g_warning("%s", warnings[i]);
        if (options->control_socket != NULL) {
                g_free(config->control_socket);
                config->control_socket = g_strdup(options->control_socket);
        }
        if (options->qmp_dir != NULL) {
                g_free(config->qmp_dir);
                config->qmp_dir = g_strdup(options->qmp_dir);
        }
        if (options->budget != NULL) {
                if (!vt_size_parse_memory(options->budget, &budget_bytes, error)) {
                        g_prefix_error(error, "--budget: ");
                        *ret_status = 2;
                        return NULL;
                }
                config->budget_total = budget_bytes;
        }
        *ret_status = 0;
        return g_steal_pointer(&config);
}

/* The reload's loader (VtDaemonConfigLoader). */
static VtDaemonConfig *
config_reload(gpointer user_data, GError **error)
{
        int status;

        return config_load(user_data, &status, error);
}

/* What SIGHUP and the watchdog need beside the loop. */
typedef struct {
        GMainLoop *loop;
        VtDaemon *daemon;
        Options *options;
} Running;

/*
 * SIGHUP: re-reads the configuration (host/daemon-reload.c). A bad one
 * is refused, its error logged, the one in force kept.
 */
static gboolean
on_reload_signal(gpointer data)
{
        Running *running = data;
        g_autoptr(GError) error = NULL;
        g_autofree char *status = NULL;

        if (running->daemon == NULL)
                return G_SOURCE_CONTINUE;
        vt_sd_notify("RELOADING=1", NULL);
        g_message("reloading the configuration on SIGHUP");
        if (!vt_daemon_reload(running->daemon, config_reload, running->options, &error)) {
                g_warning("configuration reload refused, the configuration in force is kept: %s",
                          error->message);
                status = g_strdup_printf("READY=1\nSTATUS=reload refused: %s", error->message);
        } else {
                if (!running->options->verbose)
                        vt_daemon_log_set_threshold(
                            vt_daemon_get_config(running->daemon)->log_level);
                status = g_strdup("READY=1\nSTATUS=running");
        }
        vt_sd_notify(status, NULL);
        return G_SOURCE_CONTINUE;
}

/* The watchdog's ping: from the main loop, so that a hung loop misses it. */
static gboolean
on_watchdog(gpointer data)
{
        vt_sd_notify("WATCHDOG=1", NULL);
        return G_SOURCE_CONTINUE;
}

/* Pings systemd's watchdog at half the interval it asks for, if it asks. */
static void
watchdog_start(void)
{
        gint64 interval_us = vt_sd_watchdog_interval_us();

        if (interval_us <= 0)
                return;
        g_timeout_add((guint)MAX(interval_us / 2 / 1000, 1), on_watchdog, NULL);
        g_message("watchdog: pinging systemd every %" G_GINT64_FORMAT " ms", interval_us / 2000);
}

/* Runs the daemon until a signal stops it; returns the exit status. */
static int
daemon_run(VtDaemonConfig *config, Options *options)
{
        g_autoptr(VtDaemonConfig) owned = config;
        g_autoptr(GError) error = NULL;
        g_autoptr(VtDaemon) daemon = NULL;
        g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
        Running running = {.loop = loop, .options = options};

        /* Before anything is created: a TERM during start-up still cleans up. */
        g_unix_signal_add(SIGTERM, on_quit_signal, loop);
        g_unix_signal_add(SIGINT, on_quit_signal, loop);
        /* A HUP reloads; one during start-up is ignored. */
        g_unix_signal_add(SIGHUP, on_reload_signal, &running);
        daemon = vt_daemon_new(g_steal_pointer(&owned), &error);
        if (daemon == NULL || !vt_daemon_start(daemon, &error)) {
                g_autoptr(GError) notify_error = NULL;
                g_autofree char *status = g_strdup_printf("STATUS=%s", error->message);

                fprintf(stderr, "vmtided: %s\n", error->message);
                vt_sd_notify(status, &notify_error);
                return 1;
        }
        running.daemon = daemon;
        if (!vt_sd_notify("READY=1", &error)) {
                g_warning("%s", error->message);
                g_clear_error(&error);
        }
        watchdog_start();

        g_main_loop_run(loop);

        running.daemon = NULL;
        vt_sd_notify("STOPPING=1", NULL);
        vt_daemon_stop(daemon);
        g_message("stopped");
        return 0;
}

int
main(int argc, char **argv)
{
        g_auto(Options) options = {0};
        g_autoptr(GError) error = NULL;
        g_autoptr(VtDaemonConfig) config = NULL;
        int status = 0;

        setlocale(LC_ALL, "");
        if (!options_parse(&options, &argc, &argv, &error)) {
                fprintf(stderr, "vmtided: %s\n", error->message);
                return 2;
        }
        if (options.version) {
                printf("vmtided %s\n", VT_VERSION);
                return 0;
        }
        config = config_load(&options, &status, &error);
        if (config == NULL) {
                fprintf(stderr, "vmtided: %s\n", error->message);
                return status;
        }
        /* Every level to stderr (or the journal), none to stdout. */
        vt_daemon_log_setup(options.verbose ? G_LOG_LEVEL_DEBUG : config->log_level);
        if (options.check) {
                printf("configuration OK\n");
                return 0;
        }
        return daemon_run(g_steal_pointer(&config), &options);
}
