/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A real vmtided for tests, benchmarks and the demo: started, watched, told. */

/*
 * The daemon is the installed program, built in this tree (VT_VMTIDED),
 * run as a child with its own control socket and guest directory under
 * the caller's directory, and its log in vmtided.log there. Readiness is
 * systemd's: the child gets NOTIFY_SOCKET pointing at a datagram socket
 * of ours and says READY=1 once its control socket listens, so nothing
 * polls for the socket to appear. A control client then records every
 * event the daemon sends. The child dies with the test (PDEATHSIG) and is
 * ended by its pid.
 */
#include "tests/vt-test-daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libvirt/libvirt.h>

#include "qmp/qmp-client.h"
#include "vt-autocleanups.h"
#include "tests/vt-test-libvirt.h"
#include "tests/vt-test-util.h"

#define READY_GUARD_US (30 * G_USEC_PER_SEC)

struct _VtTestDaemon {
        char *dir;
        char *config_path;
        char *socket_path;
        char *guest_dir;
        char *history_dir;
        char *notify_path;
        char *log_path;
        GSocket *notify;
        GSource *notify_source;
        gboolean ready;
        GPid pid;
        guint child_watch;
        gboolean exited;
        int status;
        VtQmpClient *client;
        GPtrArray *events;
        VtTestDaemonDumpFunc dump_func;
        gpointer dump_data;
        char **wrapper; /* argv before vmtided's, or NULL */
        char **env;     /* KEY=VALUE set for vmtided, or NULL */
};

static void
event_free(gpointer data)
{
        VtTestDaemonEvent *event = data;

        g_free(event->name);
        json_object_put(event->data);
        g_free(event);
}

static gboolean
on_notify(GSocket *socket, GIOCondition condition, gpointer user_data)
{
        VtTestDaemon *daemon = user_data;
        char buf[512];
        gssize n;

        (void)condition;
        n = g_socket_receive(socket, buf, sizeof(buf) - 1, NULL, NULL);
        if (n > 0) {
                buf[n] = '\0';
                if (strstr(buf, "READY=1") != NULL)
                        daemon->ready = TRUE;
        }
        return G_SOURCE_CONTINUE;
}

static gboolean
notify_open(VtTestDaemon *daemon, GError **error)
{
        g_autoptr(GSocketAddress) address = NULL;

        daemon->notify = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM,
                                      G_SOCKET_PROTOCOL_DEFAULT, error);
        if (daemon->notify == NULL)
                return FALSE;
        address = g_unix_socket_address_new(daemon->notify_path);
        if (!g_socket_bind(daemon->notify, address, FALSE, error))
                return FALSE;
        daemon->notify_source = g_socket_create_source(daemon->notify, G_IO_IN, NULL);
        g_source_set_callback(daemon->notify_source, G_SOURCE_FUNC(on_notify), daemon, NULL);
        g_source_attach(daemon->notify_source, g_main_context_get_thread_default());
        return TRUE;
}

static void
child_setup(gpointer data)
{
        (void)data;
        prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static void
on_child_exit(GPid pid, gint status, gpointer user_data)
{
        VtTestDaemon *daemon = user_data;

        g_spawn_close_pid(pid);
        daemon->exited = TRUE;
        daemon->status = status;
        daemon->child_watch = 0;
}

static void
on_event(VtQmpClient *client, const char *name, gpointer data, gint64 timestamp_us,
         gpointer user_data)
{
        VtTestDaemon *daemon = user_data;
        VtTestDaemonEvent *event = g_new0(VtTestDaemonEvent, 1);

        (void)client;
        (void)timestamp_us;
        event->name = g_strdup(name);
        event->data = json_object_get(data);
        event->at_us = g_get_monotonic_time();
        g_ptr_array_add(daemon->events, event);
}

static gboolean
ready_or_exited(gpointer data)
{
        VtTestDaemon *daemon = data;

        return daemon->ready || daemon->exited;
}

static gboolean
daemon_spawn(VtTestDaemon *daemon, GError **error)
{
        const char *args[] = {
            VT_VMTIDED,          "--config",  daemon->config_path, "--control-socket",
            daemon->socket_path, "--qmp-dir", daemon->guest_dir,   "--verbose",
        };
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_auto(GStrv) envp = g_get_environ();
        g_autoptr(VtQmpClient) client = vt_qmp_client_new();
        VtTestWaiter waiter = {0};
        gboolean connected;
        int log_fd;

        for (guint i = 0; daemon->wrapper != NULL && daemon->wrapper[i] != NULL; i++)
                g_ptr_array_add(argv, daemon->wrapper[i]);
        for (guint i = 0; i < G_N_ELEMENTS(args); i++)
                g_ptr_array_add(argv, (char *)args[i]);
        g_ptr_array_add(argv, NULL);
        for (guint i = 0; daemon->env != NULL && daemon->env[i] != NULL; i++) {
                g_auto(GStrv) kv = g_strsplit(daemon->env[i], "=", 2);

                envp = g_environ_setenv(envp, kv[0], kv[1] != NULL ? kv[1] : "", TRUE);
        }
        envp = g_environ_setenv(envp, "NOTIFY_SOCKET", daemon->notify_path, TRUE);
        log_fd = open(daemon->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (log_fd < 0) {
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s",
                            daemon->log_path, g_strerror(errno));
                return FALSE;
        }
        daemon->ready = FALSE;
        daemon->exited = FALSE;
        if (!g_spawn_async_with_pipes_and_fds(NULL, (const char *const *)argv->pdata,
                                              (const char *const *)envp, G_SPAWN_DO_NOT_REAP_CHILD,
                                              child_setup, NULL, -1, log_fd, log_fd, NULL, NULL, 0,
                                              &daemon->pid, NULL, NULL, NULL, error)) {
                close(log_fd);
                return FALSE;
        }
        close(log_fd);
        daemon->child_watch = g_child_watch_add(daemon->pid, on_child_exit, daemon);

        if (!vt_test_run_until(ready_or_exited, daemon, READY_GUARD_US) || daemon->exited) {
                g_autofree char *log = vt_test_daemon_read_log(daemon);

                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                            "vmtided %s before it was ready; its log:\n%s",
                            daemon->exited ? "exited" : "hung", log);
                return FALSE;
        }

        vt_qmp_client_connect_async(client, daemon->socket_path, vt_test_waiter_callback, &waiter);
        connected = vt_qmp_client_connect_finish(client, vt_test_waiter_wait(&waiter), error);
        vt_test_waiter_clear(&waiter);
        if (!connected)
                return FALSE;
        g_signal_connect(client, "event", G_CALLBACK(on_event), daemon);
        g_clear_object(&daemon->client);
        daemon->client = g_steal_pointer(&client);
        return TRUE;
}

/**
 * vt_test_daemon_start:
 * @dir: an existing directory for the daemon's files
 * @config: the text of its vmtided.conf (its control socket and guest
 *     directory are set on the command line, under @dir; unless @config
 *     has a `[recorder]` group, its history goes to `history` in @dir,
 *     never to /var/lib)
 * @error: return location for a #GError
 *
 * Starts vmtided and waits until it is ready and a control client is
 * connected.
 *
 * Returns: (transfer full): the daemon, or %NULL with @error set (the
 *     daemon's log included)
 */
VtTestDaemon *
vt_test_daemon_start(const char *dir, const char *config, GError **error)
{
        return vt_test_daemon_start_full(dir, config, NULL, error);
}

/**
 * vt_test_daemon_start_full:
 * @dir: an existing directory for the daemon's files
 * @config: the text of its vmtided.conf
 * @options: (nullable): where its control socket goes, what it runs under
 * @error: return location for a #GError
 *
 * As vt_test_daemon_start(), with @options. The wrapper and environment
 * apply to every start (vt_test_daemon_restart() too).
 *
 * Returns: (transfer full): the daemon, or %NULL with @error set
 */
VtTestDaemon *
vt_test_daemon_start_full(const char *dir, const char *config, const VtTestDaemonOptions *options,
                          GError **error)
{
        g_autoptr(VtTestDaemon) daemon = g_new0(VtTestDaemon, 1);
        g_autofree char *text = NULL;

        daemon->dir = g_strdup(dir);
        daemon->config_path = g_build_filename(dir, "vmtided.conf", NULL);
        if (options != NULL && options->socket_path != NULL)
                daemon->socket_path = g_strdup(options->socket_path);
        else
                daemon->socket_path = g_build_filename(dir, "vmtided.sock", NULL);
        if (options != NULL) {
                daemon->wrapper = g_strdupv((char **)options->wrapper);
                daemon->env = g_strdupv((char **)options->env);
        }
        daemon->guest_dir = g_build_filename(dir, "guests", NULL);
        daemon->history_dir = g_build_filename(dir, "history", NULL);
        daemon->notify_path = g_build_filename(dir, "notify.sock", NULL);
        daemon->log_path = g_build_filename(dir, "vmtided.log", NULL);
        daemon->events = g_ptr_array_new_with_free_func(event_free);

        if (g_mkdir_with_parents(daemon->guest_dir, 0755) < 0) {
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s",
                            daemon->guest_dir, g_strerror(errno));
                return NULL;
        }
        /* Its history in its own directory, never in /var/lib. */
        if (strstr(config, "[recorder]") == NULL)
                text = g_strdup_printf("%s\n[recorder]\ndir = %s\n", config, daemon->history_dir);
        if (!g_file_set_contents(daemon->config_path, text != NULL ? text : config, -1, error) ||
            !notify_open(daemon, error) || !daemon_spawn(daemon, error))
                return NULL;
        return g_steal_pointer(&daemon);
}

/**
 * vt_test_daemon_restart:
 * @daemon: a daemon that has exited (vt_test_daemon_wait_exit())
 * @error: return location for a #GError
 *
 * Starts vmtided again with the same files. Events recorded so far stay.
 *
 * Returns: %TRUE once it is ready and connected
 */
gboolean
vt_test_daemon_restart(VtTestDaemon *daemon, GError **error)
{
        g_return_val_if_fail(daemon->exited, FALSE);
        return daemon_spawn(daemon, error);
}

/* The vmtided built in this tree, for a test that runs it by itself. */
const char *
vt_test_daemon_get_program(void)
{
        return VT_VMTIDED;
}

const char *
vt_test_daemon_get_socket(VtTestDaemon *daemon)
{
        return daemon->socket_path;
}

const char *
vt_test_daemon_get_guest_dir(VtTestDaemon *daemon)
{
        return daemon->guest_dir;
}

/* Where its history goes unless its configuration says otherwise. */
const char *
vt_test_daemon_get_history_dir(VtTestDaemon *daemon)
{
        return daemon->history_dir;
}

GPid
vt_test_daemon_get_pid(VtTestDaemon *daemon)
{
        return daemon->exited ? 0 : daemon->pid;
}

/**
 * vt_test_daemon_add_guest:
 * @daemon: the daemon
 * @guest: a running test guest
 * @error: return location for a #GError
 *
 * Puts the guest where the daemon discovers guests: NAME.qmp and
 * NAME.agent links to its sockets.
 */
gboolean
vt_test_daemon_add_guest(VtTestDaemon *daemon, VtTestGuest *guest, GError **error)
{
        const char *name = vt_test_guest_get_name(guest);
        g_autofree char *qmp = g_strdup_printf("%s/%s.qmp", daemon->guest_dir, name);
        g_autofree char *agent = g_strdup_printf("%s/%s.agent", daemon->guest_dir, name);

        /* The agent first: the daemon reads both when the .qmp appears. */
        if (symlink(vt_test_guest_get_agent_path(guest), agent) < 0 ||
            symlink(vt_test_guest_get_qmp_path(guest), qmp) < 0) {
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "linking %s: %s", name,
                            g_strerror(errno));
                return FALSE;
        }
        return TRUE;
}

/**
 * vt_test_daemon_execute:
 * @daemon: the daemon
 * @command: a control command
 * @arguments: (nullable) (transfer full): its arguments
 * @error: return location for a #GError
 *
 * Runs the command on the test's main context (events keep arriving).
 *
 * Returns: (transfer full): the return value, or %NULL with @error
 */
json_object *
vt_test_daemon_execute(VtTestDaemon *daemon, const char *command, json_object *arguments,
                       GError **error)
{
        VtTestWaiter waiter = {0};
        json_object *ret;

        if (daemon->client == NULL) {
                json_object_put(arguments);
                g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, "no daemon");
                return NULL;
        }
        vt_qmp_client_execute_async(daemon->client, command, arguments, 0, vt_test_waiter_callback,
                                    &waiter);
        json_object_put(arguments);
        ret = vt_qmp_client_execute_finish(daemon->client, vt_test_waiter_wait(&waiter), error);
        vt_test_waiter_clear(&waiter);
        return ret;
}

/* query-guest NAME; (transfer full) */
json_object *
vt_test_daemon_query_guest(VtTestDaemon *daemon, const char *name, GError **error)
{
        json_object *args = json_object_new_object();

        json_object_object_add(args, "name", json_object_new_string(name));
        return vt_test_daemon_execute(daemon, "query-guest", args, error);
}

/* An integer member of query-guest NAME ("actual", "max", ...), or -1. */
gint64
vt_test_daemon_guest_int(VtTestDaemon *daemon, const char *name, const char *member)
{
        json_object *guest = vt_test_daemon_query_guest(daemon, name, NULL);
        json_object *value = NULL;
        gint64 ret = -1;

        if (guest != NULL && json_object_object_get_ex(guest, member, &value) &&
            json_object_is_type(value, json_type_int))
                ret = json_object_get_int64(value);
        json_object_put(guest);
        return ret;
}

/**
 * vt_test_daemon_guest_member:
 * @daemon: the daemon
 * @name: the guest
 * @object: an object member of query-guest's reply (`agent`, `policy`)
 * @member: a member of that object
 *
 * Returns: (transfer full) (nullable): @object.@member of query-guest
 *     @name, or %NULL when the guest, the object or the member is absent
 */
json_object *
vt_test_daemon_guest_member(VtTestDaemon *daemon, const char *name, const char *object,
                            const char *member)
{
        json_object *guest = vt_test_daemon_query_guest(daemon, name, NULL);
        json_object *inner, *value = NULL;

        if (guest != NULL && json_object_object_get_ex(guest, object, &inner) &&
            json_object_object_get_ex(inner, member, &value))
                value = json_object_get(value);
        json_object_put(guest);
        return value;
}

/**
 * vt_test_daemon_guest_member_int:
 * @daemon: the daemon
 * @name: the guest
 * @object: an object member of query-guest's reply (`agent`, `stats`)
 * @member: an integer member of that object (`oom_kill`, `age_ms`)
 *
 * Returns: @object.@member of query-guest @name, or -1 when it is absent,
 *     null or not an integer
 */
gint64
vt_test_daemon_guest_member_int(VtTestDaemon *daemon, const char *name, const char *object,
                                const char *member)
{
        json_object *value = vt_test_daemon_guest_member(daemon, name, object, member);
        gint64 ret = json_object_is_type(value, json_type_int) ? json_object_get_int64(value) : -1;

        json_object_put(value);
        return ret;
}

/**
 * vt_test_daemon_sum_actual:
 * @daemon: the daemon
 * @guests: the guests; %NULL entries (guests gone) are skipped
 * @n_guests: how many entries @guests has
 *
 * Returns: the sum of the guests' balloon sizes (`actual`) in bytes, a
 *     guest the daemon does not know counting as 0
 */
guint64
vt_test_daemon_sum_actual(VtTestDaemon *daemon, VtTestGuest *const *guests, guint n_guests)
{
        guint64 sum = 0;

        for (guint i = 0; i < n_guests; i++)
                if (guests[i] != NULL)
                        sum +=
                            (guint64)MAX(vt_test_daemon_guest_int(
                                             daemon, vt_test_guest_get_name(guests[i]), "actual"),
                                         0);
        return sum;
}

guint
vt_test_daemon_get_n_events(VtTestDaemon *daemon)
{
        return daemon->events->len;
}

const VtTestDaemonEvent *
vt_test_daemon_get_event(VtTestDaemon *daemon, guint index)
{
        g_return_val_if_fail(index < daemon->events->len, NULL);
        return g_ptr_array_index(daemon->events, index);
}

static gboolean
event_matches(const VtTestDaemonEvent *event, const char *name, const char *guest)
{
        json_object *value;

        if (g_strcmp0(event->name, name) != 0)
                return FALSE;
        if (guest == NULL)
                return TRUE;
        return json_object_object_get_ex(event->data, "guest", &value) &&
               g_strcmp0(json_object_get_string(value), guest) == 0;
}

typedef struct {
        VtTestDaemon *daemon;
        guint *from;
        const char *name;
        const char *guest;
        const VtTestDaemonEvent *found;
} EventWait;

static gboolean
event_arrived(gpointer data)
{
        EventWait *w = data;
        GPtrArray *events = w->daemon->events;

        for (; *w->from < events->len; (*w->from)++) {
                const VtTestDaemonEvent *event = g_ptr_array_index(events, *w->from);

                if (event_matches(event, w->name, w->guest)) {
                        (*w->from)++;
                        w->found = event;
                        return TRUE;
                }
        }
        return FALSE;
}

/**
 * vt_test_daemon_wait_event:
 * @daemon: the daemon
 * @from: (inout): the first event index to look at; on return, the index
 *     after the event found (or the number of events, if none)
 * @name: the event's name
 * @guest: (nullable): its `guest` member, or %NULL for any
 * @guard_us: how long to wait at most
 *
 * Returns: (transfer none) (nullable): the event, or %NULL at the guard
 */
const VtTestDaemonEvent *
vt_test_daemon_wait_event(VtTestDaemon *daemon, guint *from, const char *name, const char *guest,
                          gint64 guard_us)
{
        EventWait w = {.daemon = daemon, .from = from, .name = name, .guest = guest};

        vt_test_run_until(event_arrived, &w, guard_us);
        return w.found;
}

/**
 * vt_test_daemon_assert_event:
 * @daemon: the daemon
 * @from: (inout): as for vt_test_daemon_wait_event()
 * @name: the event's name
 * @guest: (nullable): its `guest` member, or %NULL for any
 * @guard_us: how long to wait at most
 *
 * As vt_test_daemon_wait_event(), for an event the test cannot go on
 * without: at the guard it says which event did not come, dumps the logs
 * (vt_test_daemon_dump_log()) and fails the test.
 *
 * Returns: (transfer none): the event
 */
const VtTestDaemonEvent *
vt_test_daemon_assert_event(VtTestDaemon *daemon, guint *from, const char *name, const char *guest,
                            gint64 guard_us)
{
        const VtTestDaemonEvent *event =
            vt_test_daemon_wait_event(daemon, from, name, guest, guard_us);

        if (event == NULL) {
                vt_test_say("no %s event for %s", name, guest != NULL ? guest : "any guest");
                vt_test_daemon_dump_log(daemon);
                g_assert_not_reached();
        }
        return event;
}

/**
 * vt_test_daemon_assert_guests_added:
 * @daemon: the daemon
 * @guests: the guests it should manage; %NULL entries are skipped
 * @n_guests: how many entries @guests has
 * @from: the first event index to look at
 * @guard_us: how long to wait for each guest at most
 *
 * Waits for a GUEST_ADDED of each guest, in any order, from event @from
 * on, as vt_test_daemon_assert_event() does: a guest not taken on fails
 * the test.
 */
void
vt_test_daemon_assert_guests_added(VtTestDaemon *daemon, VtTestGuest *const *guests, guint n_guests,
                                   guint from, gint64 guard_us)
{
        for (guint i = 0; i < n_guests; i++) {
                guint at = from;

                if (guests[i] != NULL)
                        vt_test_daemon_assert_event(daemon, &at, "GUEST_ADDED",
                                                    vt_test_guest_get_name(guests[i]), guard_us);
        }
}

/**
 * vt_test_daemon_event_string:
 * @event: an event
 * @member: a member of its data
 *
 * Returns: (transfer none): the member as a string (JSON text for what is
 *     not a string), or "" when the event has no such member
 */
const char *
vt_test_daemon_event_string(const VtTestDaemonEvent *event, const char *member)
{
        json_object *value;

        if (!json_object_object_get_ex(event->data, member, &value))
                return "";
        return json_object_get_string(value);
}

/**
 * vt_test_daemon_wait_quiet:
 * @daemon: the daemon
 * @window_us: how long no DECISION may come; longer than the policy's
 *     settle time, so that a move still to come would show
 * @guard_us: how long to keep trying at most
 *
 * Waits until the daemon has decided no balloon move for @window_us: the
 * next move is the test's doing, not the end of an earlier one. The guard
 * is checked after each DECISION, so this may take @guard_us + @window_us.
 *
 * Returns: %TRUE once quiet, %FALSE if moves still came at the guard
 */
gboolean
vt_test_daemon_wait_quiet(VtTestDaemon *daemon, gint64 window_us, gint64 guard_us)
{
        gint64 deadline_us = g_get_monotonic_time() + guard_us;

        for (;;) {
                guint from = vt_test_daemon_get_n_events(daemon);

                if (vt_test_daemon_wait_event(daemon, &from, "DECISION", NULL, window_us) == NULL)
                        return TRUE;
                if (g_get_monotonic_time() > deadline_us)
                        return FALSE;
        }
}

typedef struct {
        VtTestDaemon *daemon;
        VtTestGuest *const *guests;
        guint n_guests;
        const char *member;
        gint64 since_us;
} AgentsWait;

/* Every guest's agent report has w->member and arrived after w->since_us. */
static gboolean
agents_reported(gpointer data)
{
        AgentsWait *w = data;

        for (guint i = 0; i < w->n_guests; i++) {
                const char *name;
                gint64 age_ms;

                if (w->guests[i] == NULL)
                        continue;
                name = vt_test_guest_get_name(w->guests[i]);
                if (w->member != NULL &&
                    vt_test_daemon_guest_member_int(w->daemon, name, "agent", w->member) < 0)
                        return FALSE;
                if (w->since_us == 0)
                        continue;
                age_ms = vt_test_daemon_guest_member_int(w->daemon, name, "agent", "age_ms");
                if (age_ms < 0 || age_ms * 1000 >= g_get_monotonic_time() - w->since_us)
                        return FALSE;
        }
        return TRUE;
}

/**
 * vt_test_daemon_wait_agents:
 * @daemon: the daemon
 * @guests: the guests; %NULL entries are skipped
 * @n_guests: how many entries @guests has
 * @member: (nullable): an integer every agent report must have
 *     (`oom_kill`), or %NULL for any report
 * @since_us: a monotonic time the reports must have arrived after (the
 *     daemon's `age_ms` says when), or 0 for any time
 * @guard_us: how long to wait at most
 *
 * Agent reports come with no event: the daemon is asked every 250 ms
 * (vt_test_daemon_poll_until()) until it holds a report from every guest
 * with @member, arrived after @since_us.
 *
 * Returns: %TRUE if it did before the guard
 */
gboolean
vt_test_daemon_wait_agents(VtTestDaemon *daemon, VtTestGuest *const *guests, guint n_guests,
                           const char *member, gint64 since_us, gint64 guard_us)
{
        AgentsWait w = {daemon, guests, n_guests, member, since_us};

        return vt_test_daemon_poll_until(agents_reported, &w, guard_us);
}

/* How many events named @name (for @guest, if not %NULL) arrived from @from on. */
guint
vt_test_daemon_count_events(VtTestDaemon *daemon, guint from, const char *name, const char *guest)
{
        guint n = 0;

        for (guint i = from; i < daemon->events->len; i++)
                n += event_matches(g_ptr_array_index(daemon->events, i), name, guest);
        return n;
}

typedef struct {
        VtTestCondition done;
        gpointer data;
        gboolean due; /* the tick came since @done was last asked */
} PollWait;

static gboolean
on_poll_tick(gpointer data)
{
        ((PollWait *)data)->due = TRUE;
        return G_SOURCE_CONTINUE;
}

/* @done asks the daemon: once per tick, not after every main loop
 * iteration (its replies are iterations too, and the control client's
 * read budget would pause it). */
static gboolean
poll_due(gpointer data)
{
        PollWait *w = data;

        if (!w->due)
                return FALSE;
        w->due = FALSE;
        return w->done(w->data);
}

/**
 * vt_test_daemon_poll_until:
 * @done: checked at once, then every 250 ms
 * @data: for @done
 * @guard_us: how long to wait at most
 *
 * For state the daemon has no event for (an agent's latest report): @done
 * asks the daemon, and a periodic wakeup makes sure it is asked again.
 *
 * Returns: %TRUE if @done held before the guard
 */
gboolean
vt_test_daemon_poll_until(VtTestCondition done, gpointer data, gint64 guard_us)
{
        GSource *tick = g_timeout_source_new(250);
        PollWait w = {done, data, TRUE};
        gboolean ok;

        g_source_set_callback(tick, on_poll_tick, &w, NULL);
        g_source_attach(tick, g_main_context_get_thread_default());
        ok = vt_test_run_until(poll_due, &w, guard_us);
        g_source_destroy(tick);
        g_source_unref(tick);
        return ok;
}

void
vt_test_daemon_kill(VtTestDaemon *daemon, int signo)
{
        if (!daemon->exited && daemon->pid > 0)
                kill(daemon->pid, signo);
}

static gboolean
has_exited(gpointer data)
{
        return ((VtTestDaemon *)data)->exited;
}

/**
 * vt_test_daemon_wait_exit:
 * @daemon: the daemon
 * @guard_us: how long to wait at most
 * @ret_status: (out) (optional): its wait status
 *
 * Returns: %TRUE once it has exited
 */
gboolean
vt_test_daemon_wait_exit(VtTestDaemon *daemon, gint64 guard_us, int *ret_status)
{
        if (!vt_test_run_until(has_exited, daemon, guard_us))
                return FALSE;
        g_clear_object(&daemon->client);
        if (ret_status != NULL)
                *ret_status = daemon->status;
        return TRUE;
}

/**
 * vt_test_daemon_set_dump_func:
 * @daemon: the daemon
 * @func: (nullable): prints what else a failure should show (another
 *     daemon's log), or %NULL for nothing
 * @user_data: for @func; it must outlive @daemon or be unset first
 *
 * Sets what vt_test_daemon_dump_log() prints after vmtided's log.
 */
void
vt_test_daemon_set_dump_func(VtTestDaemon *daemon, VtTestDaemonDumpFunc func, gpointer user_data)
{
        daemon->dump_func = func;
        daemon->dump_data = user_data;
}

/**
 * vt_test_daemon_dump_log:
 * @daemon: (nullable): the daemon
 *
 * Before a test fails: prints vmtided's log so far on stderr, then what
 * the dump function (vt_test_daemon_set_dump_func()) prints.
 */
void
vt_test_daemon_dump_log(VtTestDaemon *daemon)
{
        g_autofree char *log = NULL;

        if (daemon == NULL)
                return;
        log = vt_test_daemon_read_log(daemon);
        g_printerr("# vmtided's log:\n%s\n", log);
        if (daemon->dump_func != NULL)
                daemon->dump_func(daemon->dump_data);
}

/* Its log so far; (transfer full) */
char *
vt_test_daemon_read_log(VtTestDaemon *daemon)
{
        char *text = NULL;

        if (!g_file_get_contents(daemon->log_path, &text, NULL, NULL))
                return g_strdup("(no log)");
        return text;
}

/**
 * vt_test_daemon_run_cli:
 * @daemon: the daemon
 * @ret_stdout: (out) (optional): what the CLI printed
 * @ret_stderr: (out) (optional): its errors
 * @first_arg: the CLI's arguments after `--socket PATH`, %NULL-terminated
 *
 * Runs `vmtide --socket PATH ARGS...` (VT_CLI) to completion.
 *
 * Returns: its exit status, or -1 when it could not run
 */
int
vt_test_daemon_run_cli(VtTestDaemon *daemon, char **ret_stdout, char **ret_stderr,
                       const char *first_arg, ...)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autoptr(GError) error = NULL;
        int status = 0;
        va_list ap;

        g_ptr_array_add(argv, (char *)VT_CLI);
        g_ptr_array_add(argv, (char *)"--socket");
        g_ptr_array_add(argv, daemon->socket_path);
        va_start(ap, first_arg);
        for (const char *arg = first_arg; arg != NULL; arg = va_arg(ap, const char *))
                g_ptr_array_add(argv, (char *)arg);
        va_end(ap);
        g_ptr_array_add(argv, NULL);
        /* The CLI is a separate process; blocking here only delays our events. */
        /* What is not asked for is dropped: a test's stdout is TAP. */
        if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL,
                          (ret_stdout == NULL ? G_SPAWN_STDOUT_TO_DEV_NULL : 0) |
                              (ret_stderr == NULL ? G_SPAWN_STDERR_TO_DEV_NULL : 0),
                          NULL, NULL, ret_stdout, ret_stderr, &status, &error)) {
                g_printerr("%s: %s\n", VT_CLI, error->message);
                return -1;
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void
vt_test_daemon_free(VtTestDaemon *daemon)
{
        if (daemon == NULL)
                return;
        g_clear_object(&daemon->client);
        if (!daemon->exited && daemon->pid > 0) {
                kill(daemon->pid, SIGTERM);
                if (!vt_test_run_until(has_exited, daemon, 10 * G_USEC_PER_SEC)) {
                        kill(daemon->pid, SIGKILL);
                        vt_test_run_until(has_exited, daemon, 10 * G_USEC_PER_SEC);
                }
        }
        g_clear_handle_id(&daemon->child_watch, g_source_remove);
        if (daemon->notify_source != NULL) {
                g_source_destroy(daemon->notify_source);
                g_source_unref(daemon->notify_source);
        }
        g_clear_object(&daemon->notify);
        if (daemon->notify_path != NULL)
                unlink(daemon->notify_path);
        g_clear_pointer(&daemon->events, g_ptr_array_unref);
        g_free(daemon->dir);
        g_free(daemon->config_path);
        g_free(daemon->socket_path);
        g_free(daemon->guest_dir);
        g_free(daemon->history_dir);
        g_free(daemon->notify_path);
        g_free(daemon->log_path);
        g_strfreev(daemon->wrapper);
        g_strfreev(daemon->env);
        g_free(daemon);
}

/* libvirt's view of a domain's balloon (KiB in libvirt), bytes; -1 with @error. */
static gint64
libvirt_balloon(VtTestGuest *guest, GError **error)
{
        virConnectPtr conn = vt_test_libvirt_connect(vt_test_guest_get_libvirt_uri(guest), error);
        virDomainMemoryStatStruct stats[VIR_DOMAIN_MEMORY_STAT_NR];
        virDomainPtr domain;
        gint64 ret = -1;
        int n;

        if (conn == NULL)
                return -1;
        domain = virDomainLookupByName(conn, vt_test_guest_get_libvirt_name(guest));
        n = domain != NULL && virDomainIsActive(domain) == 1
                ? virDomainMemoryStats(domain, stats, VIR_DOMAIN_MEMORY_STAT_NR, 0)
                : -1;
        for (int i = 0; i < n; i++)
                if (stats[i].tag == VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON)
                        ret = (gint64)stats[i].val * 1024;
        if (ret < 0)
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                            "domain '%s': not active, or no balloon size from libvirt",
                            vt_test_guest_get_libvirt_name(guest));
        if (domain != NULL)
                virDomainFree(domain);
        virConnectClose(conn);
        return ret;
}

/**
 * vt_test_daemon_qemu_balloon:
 * @guest: a test guest
 * @error: return location for a #GError
 *
 * Asks QEMU itself, not vmtided: `query-balloon` on the guest's second
 * monitor (vt_test_guest_get_monitor_path()) in direct mode, libvirt's
 * `virDomainMemoryStats()` actual balloon (what `virsh dommemstat` shows)
 * in libvirt mode. An answer also says QEMU (or the domain) is alive.
 *
 * Returns: the balloon's size in bytes, or -1 with @error set
 */
gint64
vt_test_daemon_qemu_balloon(VtTestGuest *guest, GError **error)
{
        const char *monitor = vt_test_guest_get_monitor_path(guest);
        g_autoptr(VtQmpClient) client = NULL;
        VtTestWaiter waiter = {0};
        json_object *reply, *actual;
        gint64 ret = -1;
        gboolean ok;

        if (monitor == NULL)
                return libvirt_balloon(guest, error);
        client = vt_qmp_client_new();
        vt_qmp_client_connect_async(client, monitor, vt_test_waiter_callback, &waiter);
        ok = vt_qmp_client_connect_finish(client, vt_test_waiter_wait(&waiter), error);
        vt_test_waiter_clear(&waiter);
        if (!ok)
                return -1;
        vt_qmp_client_execute_async(client, "query-balloon", NULL, 10 * G_USEC_PER_SEC,
                                    vt_test_waiter_callback, &waiter);
        reply = vt_qmp_client_execute_finish(client, vt_test_waiter_wait(&waiter), error);
        vt_test_waiter_clear(&waiter);
        if (reply == NULL)
                return -1;
        if (json_object_object_get_ex(reply, "actual", &actual))
                ret = json_object_get_int64(actual);
        else
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            "guest '%s': query-balloon without 'actual'",
                            vt_test_guest_get_name(guest));
        json_object_put(reply);
        return ret;
}

/* What the nothing-lost check found of one guest. */
typedef struct {
        gint64 qemu;   /* QEMU's balloon, -1 unknown */
        gint64 actual; /* vmtided's view */
        gint64 target; /* vmtided's last decision or hold */
        gint64 min;    /* the guest's minimum */
        const char *state;
        gboolean stuck;
        char *why; /* what is not yet right, NULL when settled */
} LostCheck;

static void
lost_check_read(VtTestDaemon *daemon, VtTestGuest *guest, LostCheck *c)
{
        g_autoptr(GError) error = NULL;
        const char *name = vt_test_guest_get_name(guest);
        json_object *info = vt_test_daemon_query_guest(daemon, name, &error);
        json_object *value, *policy;
        gboolean manual = FALSE;
        gint64 max = -1;

        g_clear_pointer(&c->why, g_free);
        c->qemu = vt_test_daemon_qemu_balloon(guest, NULL);
        c->actual = c->target = c->min = -1;
        c->state = "unknown";
        c->stuck = FALSE;
        if (info == NULL) {
                c->why = g_strdup_printf("vmtided does not know it: %s", error->message);
                return;
        }
        if (json_object_object_get_ex(info, "actual", &value))
                c->actual = json_object_get_int64(value);
        if (json_object_object_get_ex(info, "target", &value))
                c->target = json_object_get_int64(value);
        if (json_object_object_get_ex(info, "stuck", &value))
                c->stuck = json_object_get_boolean(value);
        if (json_object_object_get_ex(info, "manual", &value))
                manual = json_object_get_boolean(value);
        if (json_object_object_get_ex(info, "max", &value))
                max = json_object_get_int64(value);
        /* Automation keeps the policy's minimum (unset: a quarter of the
         * maximum, balloon.md); a hold by hand, the 64 MiB floor. */
        if (!manual && json_object_object_get_ex(info, "policy", &policy) &&
            json_object_object_get_ex(policy, "min", &value) && value != NULL)
                c->min = json_object_get_int64(value);
        else if (!manual)
                c->min = max / 4;
        c->min = MAX(c->min, MIN(max, VT_TEST_BALLOON_FLOOR));
        if (json_object_object_get_ex(info, "state", &value))
                c->state = g_intern_string(json_object_get_string(value));
        json_object_put(info);

        if (c->qemu < 0)
                c->why = g_strdup("QEMU does not answer");
        else if (g_strcmp0(c->state, "running") != 0)
                c->why = g_strdup_printf("vmtided says it is '%s'", c->state);
        else if (ABS(c->actual - c->qemu) > VT_TEST_BALLOON_SLACK)
                c->why = g_strdup("vmtided's size is not QEMU's");
        else if (c->stuck || ABS(c->target - c->qemu) > VT_TEST_BALLOON_SLACK)
                c->why = g_strdup("the balloon is not where vmtided last decided");
        else if (c->qemu + VT_TEST_BALLOON_SLACK < c->min)
                c->why = g_strdup("the guest is under its minimum");
}

typedef struct {
        VtTestDaemon *daemon;
        VtTestGuest *const *guests;
        guint n_guests;
        LostCheck *checks;
} LostWait;

static gboolean
lost_settled(gpointer data)
{
        LostWait *w = data;
        gboolean settled = TRUE;

        for (guint i = 0; i < w->n_guests; i++) {
                if (w->guests[i] == NULL)
                        continue;
                lost_check_read(w->daemon, w->guests[i], &w->checks[i]);
                settled = settled && w->checks[i].why == NULL;
        }
        return settled;
}

/* The guest's kernel killed nothing for want of memory, and its workload answers. */
static void
assert_guest_unharmed(VtTestDaemon *daemon, VtTestGuest *guest)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *console = vt_test_guest_read_console(guest);
        g_autofree char *pong = vt_test_guest_workload(guest, "ping", 60 * G_USEC_PER_SEC, &error);

        if (error != NULL || strstr(console, "Out of memory") != NULL ||
            strstr(console, "oom-kill") != NULL) {
                vt_test_say("guest '%s': workload %s; console tail:\n%s",
                            vt_test_guest_get_name(guest), error != NULL ? error->message : pong,
                            strlen(console) > 4096 ? console + strlen(console) - 4096 : console);
                vt_test_daemon_dump_log(daemon);
                g_assert_not_reached();
        }
}

/**
 * vt_test_daemon_assert_nothing_lost:
 * @daemon: the daemon
 * @guests: the guests it should manage; %NULL entries are skipped
 * @n_guests: how many entries @guests has
 * @guard_us: how long the balloons may take to settle
 *
 * The end of every fault-injection case. Waits (asking every 250 ms, at
 * most @guard_us) until, for every guest: QEMU answers (its second monitor,
 * or libvirt for a domain) and vmtided says it is running; vmtided's size
 * is QEMU's balloon, and so is its last decision or hold (not stuck), each
 * within %VT_TEST_BALLOON_SLACK; the balloon is not under the guest's
 * minimum. Then: the guest's kernel logged no OOM kill and its workload
 * answers, and vmtided itself still runs. At the guard, prints each
 * guest's figures and the daemon's log, and fails the test.
 */
void
vt_test_daemon_assert_nothing_lost(VtTestDaemon *daemon, VtTestGuest *const *guests, guint n_guests,
                                   gint64 guard_us)
{
        g_autofree LostCheck *checks = g_new0(LostCheck, n_guests);
        LostWait w = {daemon, guests, n_guests, checks};
        gboolean settled;

        g_assert_false(daemon->exited);
        settled = vt_test_daemon_poll_until(lost_settled, &w, guard_us);
        for (guint i = 0; i < n_guests; i++) {
                LostCheck *c = &checks[i];

                if (guests[i] == NULL)
                        continue;
                vt_test_say("  %s: QEMU %" G_GINT64_FORMAT " MiB, vmtided %" G_GINT64_FORMAT
                            " MiB, target %" G_GINT64_FORMAT " MiB, min %" G_GINT64_FORMAT
                            " MiB, %s%s%s",
                            vt_test_guest_get_name(guests[i]), c->qemu >> 20, c->actual >> 20,
                            c->target >> 20, c->min >> 20, c->state, c->why != NULL ? ": " : "",
                            c->why != NULL ? c->why : "");
        }
        if (!settled) {
                vt_test_daemon_dump_log(daemon);
                g_assert_not_reached();
        }
        for (guint i = 0; i < n_guests; i++) {
                g_free(checks[i].why);
                if (guests[i] != NULL)
                        assert_guest_unharmed(daemon, guests[i]);
        }
        g_assert_false(daemon->exited);
        g_assert_cmpint(kill(daemon->pid, 0), ==, 0);
}

/**
 * vt_test_daemon_qemu_execute:
 * @guest: a direct-mode guest (it has a second monitor)
 * @command: a QMP command
 * @arguments: (nullable) (transfer full): its arguments
 * @error: return location for a #GError
 *
 * Runs @command on the guest's second monitor
 * (vt_test_guest_get_monitor_path()), beside whoever holds its main one:
 * a question to QEMU itself, whatever vmtided believes.
 *
 * Returns: (transfer full): the return value, or %NULL with @error set
 *     (QEMU gone, no second monitor, or an error reply)
 */
json_object *
vt_test_daemon_qemu_execute(VtTestGuest *guest, const char *command, json_object *arguments,
                            GError **error)
{
        g_autoptr(json_object) args = arguments;
        const char *monitor = vt_test_guest_get_monitor_path(guest);
        g_autoptr(VtQmpClient) client = NULL;
        VtTestWaiter waiter = {0};
        json_object *reply;
        gboolean ok;

        if (monitor == NULL) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                            "guest '%s' has no second monitor", vt_test_guest_get_name(guest));
                return NULL;
        }
        client = vt_qmp_client_new();
        vt_qmp_client_connect_async(client, monitor, vt_test_waiter_callback, &waiter);
        ok = vt_qmp_client_connect_finish(client, vt_test_waiter_wait(&waiter), error);
        vt_test_waiter_clear(&waiter);
        if (!ok)
                return NULL;
        vt_qmp_client_execute_async(client, command, args, 10 * G_USEC_PER_SEC,
                                    vt_test_waiter_callback, &waiter);
        reply = vt_qmp_client_execute_finish(client, vt_test_waiter_wait(&waiter), error);
        vt_test_waiter_clear(&waiter);
        return reply;
}

/**
 * vt_test_daemon_qemu_status:
 * @guest: a direct-mode guest
 *
 * Returns: (transfer full): QEMU's own run state (`query-status`:
 *     `running`, `paused`, `inmigrate`, `postmigrate`, ...), or "gone"
 *     when its monitor does not answer (QEMU exited)
 */
char *
vt_test_daemon_qemu_status(VtTestGuest *guest)
{
        json_object *reply = vt_test_daemon_qemu_execute(guest, "query-status", NULL, NULL);
        json_object *status;
        char *ret;

        if (reply == NULL)
                return g_strdup("gone");
        ret = g_strdup(json_object_object_get_ex(reply, "status", &status)
                           ? json_object_get_string(status)
                           : "unknown");
        json_object_put(reply);
        return ret;
}

typedef struct {
        VtTestGuest *const *copies;
        guint n_copies;
        guint running; /* how many read 'running' at the last look */
        guint index;   /* the last one that did */
        GString *seen; /* each copy's state at the last look */
} OnceWait;

static gboolean
once_settled(gpointer data)
{
        OnceWait *w = data;

        w->running = 0;
        g_string_truncate(w->seen, 0);
        for (guint i = 0; i < w->n_copies; i++) {
                g_autofree char *status = NULL;

                if (w->copies[i] == NULL)
                        continue;
                status = vt_test_daemon_qemu_status(w->copies[i]);
                g_string_append_printf(w->seen, "%s%s QEMU %d '%s'", w->seen->len ? ", " : "",
                                       vt_test_guest_get_name(w->copies[i]),
                                       (int)vt_test_guest_get_pid(w->copies[i]), status);
                if (g_strcmp0(status, "running") == 0) {
                        w->running++;
                        w->index = i;
                }
        }
        /* Two copies running at once is the failure this guards against. */
        if (w->running > 1)
                g_error("the guest runs twice: %s", w->seen->str);
        return w->running == 1;
}

/* What a failing check shows of one copy: QEMU's stderr and the console's tails. */
static void
copy_dump(VtTestGuest *guest)
{
        g_autofree char *log_path =
            g_build_filename(vt_test_guest_get_dir(guest), "qemu.log", NULL);
        g_autofree char *log = NULL;
        g_autofree char *console = vt_test_guest_read_console(guest);
        gsize len = 0;

        g_file_get_contents(log_path, &log, &len, NULL);
        vt_test_say("QEMU %d of '%s': stderr:\n%s\nconsole tail:\n%s",
                    (int)vt_test_guest_get_pid(guest), vt_test_guest_get_name(guest),
                    log != NULL ? (len > 2048 ? log + len - 2048 : log) : "(none)",
                    strlen(console) > 2048 ? console + strlen(console) - 2048 : console);
}

/**
 * vt_test_daemon_assert_runs_once:
 * @copies: every QEMU that holds (or held) a copy of one guest: the
 *     migration's source and destination; %NULL entries are skipped
 * @n_copies: how many entries @copies has
 * @guard_us: how long to wait for one copy to run
 *
 * The end of every migration fault case: asks each QEMU itself
 * (`query-status` on its second monitor, vt_test_daemon_qemu_status())
 * every 250 ms until exactly one of them is `running`, at most @guard_us.
 * Fails the test at once if two ever are, and at the guard if none is.
 * Exited QEMUs count as not running.
 *
 * Returns: the index in @copies of the copy that runs
 */
guint
vt_test_daemon_assert_runs_once(VtTestGuest *const *copies, guint n_copies, gint64 guard_us)
{
        g_autoptr(GString) seen = g_string_new(NULL);
        OnceWait w = {copies, n_copies, 0, 0, seen};

        if (!vt_test_daemon_poll_until(once_settled, &w, guard_us)) {
                for (guint i = 0; i < n_copies; i++)
                        if (copies[i] != NULL)
                                copy_dump(copies[i]);
                g_error("no copy of the guest runs: %s", seen->str);
        }
        vt_test_say("  runs once: %s", seen->str);
        return w.index;
}
