/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The main job's demo: vmtided moves memory between three real guests, seen with the vmtide CLI. */

/*
 * Theory of operation
 *
 * Three 512 MiB test guests boot under QEMU (tests/vt-test-guest.c), each
 * with its vmtide-agent, and a real vmtided (tests/vt-test-daemon.c) is
 * given them with a 1200 MiB budget: less than their 1536 MiB, so it
 * takes memory back from the idle guests. Then:
 *
 *   1. guest 0 allocates 352 MiB, 32 MiB at a time: the daemon gives it
 *      memory (a give on its agent's push once it runs low) and takes
 *      what that costs from the other two;
 *   2. guest 0 frees it: that memory is spare now, but the budget has
 *      room, and vmtide reclaims only what is needed (docs/balloon.md),
 *      so it stays with guest 0 for the moment;
 *   3. guest 1 allocates 256 MiB: it gets memory at once, and guest 0's
 *      spare memory is reclaimed to pay for it;
 *   4. `vmtide doctor`, `vmtide risk` and `vmtide capacity --add 1 --size
 *      512M` (over the history recorded so far) look at the daemon and
 *      its guests as they are then, and vmtided stops.
 *
 * What is shown is what the real `vmtide` CLI prints: `vmtide list` at
 * each resting point, and the lines of a `vmtide events` that runs
 * alongside (marked `|`, the date cut), between the demo's own lines.
 *
 * Each step of a workload waits until the guest's agent has reported
 * after it and the daemon has ticked after that report and finished the
 * moves it made: the workload grows about as fast as the agent reports
 * (once a second here), like a program warming up, and takes no more
 * than the guest has available (a smaller last step before a give). A
 * burst at full speed (about 250 MiB/s under TCG) can outrun the agent's
 * 200 ms sampling and the balloon; test-vmtided runs that one.
 *
 * Every step waits for what it needs with a guard and nothing sleeps:
 * daemon events (recorded by the test daemon's own control connection)
 * where there are some, query-status and query-guest every 250 ms for
 * what has no event (an agent's report, a tick that decided nothing). A
 * step that does not finish within its guard ends the demo with a
 * message, the daemon's log tail, and status 1; every process is ended
 * by its pid and every file removed, also on Ctrl-C.
 *
 * `vmtide events` prints only what happens after it connected, and the
 * daemon has no event for a new client. So before the guests are handed
 * over, while no event can come from them, the demo pauses and resumes
 * automation until the child prints one of those AUTOMATION lines (they
 * are not shown): from then on the child prints one line for each other
 * event recorded, and before a `vmtide list` the demo waits until it has,
 * so that the list comes after the events that led to it.
 */
#include <errno.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/vt-test-daemon.h"
#include "tests/vt-test-guest.h"
#include "tests/vt-test-util.h"
#include "vt-config.h"

#define MIB          (G_GUINT64_CONSTANT(1) << 20)
#define N_GUESTS     3
#define GUEST_BYTES  (512 * MIB)
#define BUDGET_MIB   1200
#define ALLOC_STEP   (32 * MIB)
#define ALLOC_BYTES  (352 * MIB)
#define ALLOC2_BYTES (256 * MIB)
#define LOW_MARGIN   (8 * MIB)
#define MIN_STEP     (8 * MIB)
#define STEP_US      (60 * G_USEC_PER_SEC)
#define SYNC_US      (5 * G_USEC_PER_SEC)
#define HELLO_US     (250 * 1000)
#define HELLO_TRIES  40
#define LOG_TAIL     25
#define EVENT_PREFIX "  | "

static const char config_text[] = "[daemon]\n"
                                  "tick-interval-ms = 1000\n"
                                  "agent-interval-ms = 1000\n"
                                  "[budget]\n"
                                  "total = " G_STRINGIFY(BUDGET_MIB) "M\n"
                                                                     "reserve = 0\n"
                                                                     "[ksm]\n"
                                                                     "enabled = false\n";

typedef struct {
        gint64 start_us;
        gboolean interrupted;
        char *dir;
        char *history; /* the flight recorder's directory, kept after the demo */
        VtTestGuest *guests[N_GUESTS];
        VtTestDaemon *daemon;

        /* `vmtide events`, running alongside */
        GPid events_pid;
        guint events_watch;
        gboolean events_exited;
        int events_status;
        int events_fd;
        guint events_fd_source;
        GString *events_buf;
        gboolean events_hello;    /* it printed an AUTOMATION line: connected */
        guint events_shown;       /* lines shown: one per other event */
        gboolean events_relaying; /* lines are printed (not only counted) */
} Demo;

static void say(Demo *demo, const char *format, ...) G_GNUC_PRINTF(2, 3);

static void
say(Demo *demo, const char *format, ...)
{
        g_autofree char *text = NULL;
        va_list ap;

        va_start(ap, format);
        text = g_strdup_vprintf(format, ap);
        va_end(ap);
        printf("[%5.1fs] %s\n", (double)(g_get_monotonic_time() - demo->start_us) / G_USEC_PER_SEC,
               text);
}

static gboolean demo_fail(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

static gboolean
demo_fail(GError **error, const char *format, ...)
{
        g_autofree char *message = NULL;
        va_list ap;

        va_start(ap, format);
        message = g_strdup_vprintf(format, ap);
        va_end(ap);
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, message);
        return FALSE;
}

static const char *
guest_name(Demo *demo, guint i)
{
        return vt_test_guest_get_name(demo->guests[i]);
}

static gint64
guest_mib(Demo *demo, guint i, const char *member)
{
        gint64 bytes = vt_test_daemon_guest_int(demo->daemon, guest_name(demo, i), member);

        return bytes < 0 ? -1 : bytes / (gint64)MIB;
}

/* An integer in query-guest's "agent" object, or -1. */
static gint64
agent_int(Demo *demo, guint i, const char *member)
{
        json_object *guest = vt_test_daemon_query_guest(demo->daemon, guest_name(demo, i), NULL);
        json_object *agent, *value;
        gint64 ret = -1;

        if (guest != NULL && json_object_object_get_ex(guest, "agent", &agent) &&
            json_object_object_get_ex(agent, member, &value) &&
            json_object_is_type(value, json_type_int))
                ret = json_object_get_int64(value);
        json_object_put(guest);
        return ret;
}

static gint64
agent_mib(Demo *demo, guint i, const char *member)
{
        gint64 bytes = agent_int(demo, i, member);

        return bytes < 0 ? -1 : bytes / (gint64)MIB;
}

static gint64
guests_actual_mib(Demo *demo)
{
        gint64 sum = 0;

        for (guint i = 0; i < N_GUESTS; i++)
                sum += MAX(guest_mib(demo, i, "actual"), 0);
        return sum;
}

/* --- `vmtide events` alongside ------------------------------------------ */

/* The event's name in a line of `vmtide events`: "DATE TIME  NAME  TEXT". */
static const char *
event_line_name(char **words)
{
        for (guint i = 0; words[i] != NULL; i++) {
                const char *w = words[i];

                if (w[0] != '\0' && w[strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_")] == '\0')
                        return w;
        }
        return NULL;
}

static void
events_on_line(Demo *demo, const char *line)
{
        g_auto(GStrv) words = g_strsplit(line, " ", 0);
        const char *shown = line;

        if (g_strcmp0(event_line_name(words), "AUTOMATION") == 0) {
                demo->events_hello = TRUE;
                return;
        }
        demo->events_shown++;
        if (!demo->events_relaying)
                return;
        /* The date is today's: the time is enough. */
        if (words[0] != NULL && strchr(words[0], '-') != NULL && strchr(line, ' ') != NULL)
                shown = strchr(line, ' ') + 1;
        printf(EVENT_PREFIX "%s\n", shown);
}

static gboolean
events_on_readable(int fd, GIOCondition condition, gpointer user_data)
{
        Demo *demo = user_data;
        char buf[4096];
        ssize_t n;
        char *nl;

        (void)condition;
        n = read(fd, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return G_SOURCE_CONTINUE;
        if (n <= 0) {
                demo->events_fd_source = 0;
                return G_SOURCE_REMOVE;
        }
        g_string_append_len(demo->events_buf, buf, n);
        while ((nl = memchr(demo->events_buf->str, '\n', demo->events_buf->len)) != NULL) {
                gsize len = (gsize)(nl - demo->events_buf->str);
                g_autofree char *line = g_strndup(demo->events_buf->str, len);

                g_string_erase(demo->events_buf, 0, (gssize)len + 1);
                events_on_line(demo, line);
        }
        return G_SOURCE_CONTINUE;
}

static void
events_on_exit(GPid pid, gint status, gpointer user_data)
{
        Demo *demo = user_data;

        g_spawn_close_pid(pid);
        demo->events_exited = TRUE;
        demo->events_status = status;
        demo->events_watch = 0;
}

static void
child_setup(gpointer data)
{
        (void)data;
        prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static gboolean
events_said_hello(gpointer data)
{
        Demo *demo = data;

        return demo->events_hello || demo->events_exited || demo->interrupted;
}

/* Starts `vmtide events` and makes sure it is connected (see the top). */
static gboolean
events_start(Demo *demo, GError **error)
{
        const char *argv[] = {VT_CLI, "--socket", vt_test_daemon_get_socket(demo->daemon), "events",
                              NULL};

        if (!g_spawn_async_with_pipes_and_fds(
                NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, child_setup, NULL, -1, -1, -1, NULL,
                NULL, 0, &demo->events_pid, NULL, &demo->events_fd, NULL, error))
                return FALSE;
        demo->events_watch = g_child_watch_add(demo->events_pid, events_on_exit, demo);
        demo->events_fd_source =
            g_unix_fd_add(demo->events_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, events_on_readable, demo);

        for (guint i = 0; i < HELLO_TRIES && !events_said_hello(demo); i++) {
                json_object *reply = vt_test_daemon_execute(demo->daemon, "pause", NULL, error);

                if (reply == NULL)
                        return FALSE;
                json_object_put(reply);
                reply = vt_test_daemon_execute(demo->daemon, "resume", NULL, error);
                if (reply == NULL)
                        return FALSE;
                json_object_put(reply);
                vt_test_run_until(events_said_hello, demo, HELLO_US);
        }
        if (demo->interrupted)
                return demo_fail(error, "interrupted");
        if (demo->events_exited)
                return demo_fail(error, "'vmtide events' exited at once (wait status %d)",
                                 demo->events_status);
        if (!demo->events_hello)
                return demo_fail(error, "'vmtide events' printed nothing in %d s",
                                 (int)(HELLO_US * HELLO_TRIES / G_USEC_PER_SEC));
        demo->events_relaying = TRUE;
        return TRUE;
}

static gboolean
events_caught_up(gpointer data)
{
        Demo *demo = data;
        guint n = vt_test_daemon_get_n_events(demo->daemon);
        guint others = n - vt_test_daemon_count_events(demo->daemon, 0, "AUTOMATION", NULL);

        return demo->events_shown >= others || demo->events_exited || demo->interrupted;
}

/* Lets `vmtide events` print the events recorded so far (display only:
 * at the guard, the demo goes on). */
static void
events_sync(Demo *demo)
{
        vt_test_run_until(events_caught_up, demo, SYNC_US);
        fflush(stdout);
}

static gboolean
events_has_exited(gpointer data)
{
        return ((Demo *)data)->events_exited;
}

static void
events_stop(Demo *demo)
{
        if (demo->events_pid > 0 && !demo->events_exited) {
                kill(demo->events_pid, SIGTERM);
                if (!vt_test_run_until(events_has_exited, demo, 10 * G_USEC_PER_SEC)) {
                        kill(demo->events_pid, SIGKILL);
                        vt_test_run_until(events_has_exited, demo, 10 * G_USEC_PER_SEC);
                }
        }
        g_clear_handle_id(&demo->events_watch, g_source_remove);
        g_clear_handle_id(&demo->events_fd_source, g_source_remove);
        if (demo->events_fd >= 0) {
                close(demo->events_fd);
                demo->events_fd = -1;
        }
}

/* --- waiting ------------------------------------------------------------- */

/* Something the demo waits for: @check runs after each main loop
 * iteration (each event recorded or line relayed is one). */
typedef struct {
        Demo *demo;
        gboolean (*check)(Demo *demo, gpointer data);
        gpointer data;
} DemoWait;

static gboolean
wait_done(gpointer data)
{
        DemoWait *w = data;

        return w->demo->interrupted || w->demo->events_exited || w->check(w->demo, w->data);
}

static gboolean
demo_wait_full(Demo *demo, gboolean (*check)(Demo *demo, gpointer data), gpointer data,
               gboolean poll, const char *what, GError **error)
{
        DemoWait w = {demo, check, data};
        gboolean ok = poll ? vt_test_daemon_poll_until(wait_done, &w, STEP_US)
                           : vt_test_run_until(wait_done, &w, STEP_US);

        if (!ok)
                return demo_fail(error, "%s: not within %d s", what,
                                 (int)(STEP_US / G_USEC_PER_SEC));
        if (demo->interrupted)
                return demo_fail(error, "interrupted");
        if (demo->events_exited)
                return demo_fail(error, "'vmtide events' exited (wait status %d)",
                                 demo->events_status);
        return TRUE;
}

/* Waits for @check, looked at after each event. */
static gboolean
demo_wait(Demo *demo, gboolean (*check)(Demo *demo, gpointer data), gpointer data, const char *what,
          GError **error)
{
        return demo_wait_full(demo, check, data, FALSE, what, error);
}

typedef struct {
        guint from;
        const char *name;
        const char *guest;
        const char *action; /* a DECISION's, or NULL for any */
        const VtTestDaemonEvent *found;
} EventMatch;

static gboolean
event_found(Demo *demo, gpointer data)
{
        EventMatch *m = data;
        guint n = vt_test_daemon_get_n_events(demo->daemon);

        for (; m->from < n; m->from++) {
                const VtTestDaemonEvent *event = vt_test_daemon_get_event(demo->daemon, m->from);
                json_object *value;

                if (g_strcmp0(event->name, m->name) != 0)
                        continue;
                if (m->guest != NULL && !(json_object_object_get_ex(event->data, "guest", &value) &&
                                          g_strcmp0(json_object_get_string(value), m->guest) == 0))
                        continue;
                if (m->action != NULL &&
                    !(json_object_object_get_ex(event->data, "action", &value) &&
                      g_strcmp0(json_object_get_string(value), m->action) == 0))
                        continue;
                m->found = event;
                m->from++;
                return TRUE;
        }
        return FALSE;
}

/* Waits for the event @name (of @guest, of @action) from event @from on. */
static const VtTestDaemonEvent *
demo_wait_event(Demo *demo, guint *from, const char *name, const char *guest, const char *action,
                const char *what, GError **error)
{
        EventMatch m = {.from = *from, .name = name, .guest = guest, .action = action};

        if (!demo_wait(demo, event_found, &m, what, error))
                return NULL;
        *from = m.from;
        return m.found;
}

/* A DECISION of a guest not yet followed by its BALLOON_DONE or _STUCK. */
static gboolean
moves_pending(Demo *demo)
{
        g_autoptr(GHashTable) pending =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        guint n = vt_test_daemon_get_n_events(demo->daemon);

        for (guint i = 0; i < n; i++) {
                const VtTestDaemonEvent *event = vt_test_daemon_get_event(demo->daemon, i);
                json_object *guest;

                if (!json_object_object_get_ex(event->data, "guest", &guest))
                        continue;
                if (g_str_equal(event->name, "DECISION"))
                        g_hash_table_add(pending, g_strdup(json_object_get_string(guest)));
                else if (g_str_equal(event->name, "BALLOON_DONE") ||
                         g_str_equal(event->name, "BALLOON_STUCK"))
                        g_hash_table_remove(pending, json_object_get_string(guest));
        }
        return g_hash_table_size(pending) > 0;
}

/*
 * The daemon is at rest: no move under way, the host has plenty, and a
 * whole tick ran after the last event without a new one (a tick that
 * decided nothing). Events come before a reply on the control
 * connection, so once query-status answers, every event of the ticks it
 * counts is recorded. There is no event for a quiet tick: ask again.
 */
typedef struct {
        guint n_events;
        gint64 ticks;
        guint64 below_mib; /* and the guests hold at most this much; 0: any */
} RestWait;

static gboolean
daemon_at_rest(Demo *demo, gpointer data)
{
        RestWait *w = data;
        json_object *status = vt_test_daemon_execute(demo->daemon, "query-status", NULL, NULL);
        json_object *host, *state, *ticks;
        gboolean plenty;
        gint64 n_ticks;
        guint n;

        if (status == NULL || !json_object_object_get_ex(status, "ticks", &ticks)) {
                json_object_put(status);
                return FALSE;
        }
        n_ticks = json_object_get_int64(ticks);
        plenty = json_object_object_get_ex(status, "host", &host) &&
                 json_object_object_get_ex(host, "state", &state) &&
                 g_strcmp0(json_object_get_string(state), "plenty") == 0;
        json_object_put(status);
        n = vt_test_daemon_get_n_events(demo->daemon);
        if (n != w->n_events) {
                w->n_events = n;
                w->ticks = n_ticks;
                return FALSE;
        }
        return n_ticks > w->ticks && plenty && !moves_pending(demo) &&
               (w->below_mib == 0 || (guint64)guests_actual_mib(demo) <= w->below_mib);
}

static gboolean
demo_wait_rest(Demo *demo, guint64 below_mib, const char *what, GError **error)
{
        RestWait w = {.n_events = G_MAXUINT, .below_mib = below_mib};

        return demo_wait_full(demo, daemon_at_rest, &w, TRUE, what, error);
}

/* --- the steps ----------------------------------------------------------- */

/* Runs `vmtide ARGS...` (at most eight) against the daemon and shows its output. */
static gboolean
demo_cli_args(Demo *demo, const char *const *args, GError **error)
{
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autofree char *shown = g_strjoinv(" ", (char **)args);
        const char *a[8] = {NULL};
        int status;

        for (guint i = 0; i < G_N_ELEMENTS(a) && args[i] != NULL; i++)
                a[i] = args[i];
        events_sync(demo);
        printf("$ vmtide %s\n", shown);
        status = vt_test_daemon_run_cli(demo->daemon, &out, &err, a[0], a[1], a[2], a[3], a[4],
                                        a[5], a[6], a[7], NULL);
        printf("%s", out != NULL ? out : "");
        if (status != 0)
                return demo_fail(error, "'vmtide %s' failed (%d): %s", shown, status,
                                 err != NULL ? err : "");
        fflush(stdout);
        return TRUE;
}

static gboolean
demo_cli(Demo *demo, const char *command, GError **error)
{
        const char *args[] = {command, NULL};

        return demo_cli_args(demo, args, error);
}

static gboolean
demo_boot(Demo *demo, GError **error)
{
        for (guint i = 0; i < N_GUESTS && !demo->interrupted; i++) {
                g_autofree char *name = g_strdup_printf("demo%u", i);
                const VtTestGuestOptions options = {.name = name, .memory_bytes = GUEST_BYTES};

                say(demo, "booting guest %s (%" G_GUINT64_FORMAT " MiB)...", name,
                    GUEST_BYTES / MIB);
                fflush(stdout);
                demo->guests[i] = vt_test_guest_start(&options, error);
                if (demo->guests[i] == NULL)
                        return FALSE;
                say(demo, "%s is up: QEMU pid %d, its workload and vmtide-agent running", name,
                    (int)vt_test_guest_get_pid(demo->guests[i]));
        }
        if (demo->interrupted)
                return demo_fail(error, "interrupted");
        return TRUE;
}

static gboolean
demo_start_daemon(Demo *demo, GError **error)
{
        g_autofree char *config = NULL;

        say(demo,
            "starting vmtided: a %d MiB budget for %d guests of %" G_GUINT64_FORMAT
            " MiB, a tick every second, KSM left alone",
            BUDGET_MIB, N_GUESTS, GUEST_BYTES / MIB);
        config = g_strdup_printf("%s[recorder]\ndir = %s\n", config_text, demo->history);
        demo->daemon = vt_test_daemon_start(demo->dir, config, error);
        if (demo->daemon == NULL)
                return FALSE;
        say(demo, "vmtided is ready: pid %d, control socket %s",
            vt_test_daemon_get_pid(demo->daemon), vt_test_daemon_get_socket(demo->daemon));
        if (!events_start(demo, error))
                return FALSE;
        say(demo, "'vmtide events' follows it; its lines are marked '|'");
        return TRUE;
}

static gboolean
demo_reclaim(Demo *demo, GError **error)
{
        g_autofree char *what = NULL;

        say(demo, "handing vmtided the guests: NAME.qmp and NAME.agent in %s",
            vt_test_daemon_get_guest_dir(demo->daemon));
        for (guint i = 0; i < N_GUESTS; i++) {
                if (!vt_test_daemon_add_guest(demo->daemon, demo->guests[i], error))
                        return FALSE;
        }
        for (guint i = 0; i < N_GUESTS; i++) {
                guint from = 0;

                what = g_strdup_printf("vmtided did not pick up %s", guest_name(demo, i));
                if (demo_wait_event(demo, &from, "GUEST_ADDED", guest_name(demo, i), NULL, what,
                                    error) == NULL)
                        return FALSE;
                g_clear_pointer(&what, g_free);
        }
        if (!demo_wait_rest(demo, BUDGET_MIB,
                            "vmtided did not bring the idle guests within the budget", error))
                return FALSE;
        events_sync(demo);
        say(demo,
            "the idle guests were reclaimed: they hold %" G_GINT64_FORMAT
            " MiB in all, within the %d MiB budget",
            guests_actual_mib(demo), BUDGET_MIB);
        return demo_cli(demo, "list", error);
}

/*
 * After a step of the workload: the guest's agent reported after it, and
 * the daemon ticked after that report and finished the moves it made, so
 * the next step comes once the daemon has seen this one. At full speed
 * (about 250 MiB/s under TCG) the workload can outrun the agent's 200 ms
 * sampling and the balloon: test-vmtided shows that burst; the demo shows
 * a program that grows by 32 MiB a second or so.
 */
typedef struct {
        guint i;
        gint64 step_us;
        gint64 ticks;
} StepWait;

static gint64
status_ticks(Demo *demo)
{
        json_object *status = vt_test_daemon_execute(demo->daemon, "query-status", NULL, NULL);
        json_object *ticks;
        gint64 ret = -1;

        if (status != NULL && json_object_object_get_ex(status, "ticks", &ticks))
                ret = json_object_get_int64(ticks);
        json_object_put(status);
        return ret;
}

static gboolean
step_seen(Demo *demo, gpointer data)
{
        StepWait *w = data;
        gint64 age_ms = agent_int(demo, w->i, "age_ms");

        if (age_ms < 0 || g_get_monotonic_time() - age_ms * 1000 < w->step_us)
                return FALSE;
        if (w->ticks < 0) {
                w->ticks = status_ticks(demo);
                return FALSE;
        }
        return status_ticks(demo) > w->ticks && !moves_pending(demo);
}

typedef struct {
        guint i;
        gint64 above;
} AvailableWait;

static gboolean
agent_available_above(Demo *demo, gpointer data)
{
        AvailableWait *w = data;

        return agent_int(demo, w->i, "mem_available") > w->above;
}

/*
 * The next step: 32 MiB, or 16 or 8 when the guest's latest report says
 * that is all it can take and keep LOW_MARGIN available; 0 when not even
 * 8 MiB fit. A step larger than what is available would have the guest's
 * kernel kill the workload before any balloon could answer; a program
 * whose allocator backs off when memory is low does the same.
 */
static guint64
next_step(Demo *demo, guint i, guint64 left)
{
        gint64 available = agent_int(demo, i, "mem_available");
        guint64 step = ALLOC_STEP;

        while (available >= 0 && step >= MIN_STEP && step + LOW_MARGIN > (guint64)available)
                step /= 2;
        return step < MIN_STEP ? 0 : MIN(step, left);
}

/* Allocates @bytes in guest @i, a step at a time, relaying events. */
static gboolean
run_workload(Demo *demo, guint i, guint64 bytes, GError **error)
{
        const char *name = guest_name(demo, i);

        for (guint64 done = 0; done < bytes;) {
                g_autofree char *command = NULL;
                g_autofree char *reply = NULL;
                StepWait w = {.i = i, .ticks = -1};
                guint64 step = next_step(demo, i, bytes - done);

                if (step == 0) {
                        AvailableWait aw = {.i = i, .above = (gint64)(LOW_MARGIN + MIN_STEP)};

                        say(demo, "%s: almost out of memory, its workload waits", name);
                        if (!demo_wait_full(demo, agent_available_above, &aw, TRUE,
                                            "vmtided gave the guest nothing", error))
                                return FALSE;
                        continue;
                }
                fflush(stdout);
                command = g_strdup_printf("alloc %" G_GUINT64_FORMAT, step);
                reply = vt_test_guest_workload(demo->guests[i], command, STEP_US, error);
                if (reply == NULL)
                        return FALSE;
                if (!g_str_has_prefix(reply, "ok"))
                        return demo_fail(error,
                                         "%s's workload answered '%s' with %" G_GUINT64_FORMAT
                                         " MiB allocated",
                                         name, reply, done / MIB);
                done += step;
                w.step_us = g_get_monotonic_time();
                if (!demo_wait_full(demo, step_seen, &w, TRUE,
                                    "vmtided did not see the workload's step", error))
                        return FALSE;
                events_sync(demo);
                say(demo,
                    "%s: %" G_GUINT64_FORMAT " MiB allocated, %" G_GINT64_FORMAT
                    " MiB available (agent), balloon %" G_GINT64_FORMAT " MiB",
                    name, done / MIB, agent_mib(demo, i, "mem_available"),
                    guest_mib(demo, i, "actual"));
        }
        return TRUE;
}

/* Guest 0 allocates: the daemon gives it memory, taking it from the others. */
static gboolean
demo_workload(Demo *demo, GError **error)
{
        const char *name = guest_name(demo, 0);
        gint64 before[N_GUESTS];
        guint from = vt_test_daemon_get_n_events(demo->daemon);
        gint64 after;

        for (guint i = 0; i < N_GUESTS; i++)
                before[i] = guest_mib(demo, i, "actual");
        say(demo,
            "%s starts a workload that allocates %" G_GUINT64_FORMAT " MiB, %" G_GUINT64_FORMAT
            " MiB at a time; it has %" G_GINT64_FORMAT " MiB, %" G_GINT64_FORMAT
            " MiB of it available",
            name, ALLOC_BYTES / MIB, ALLOC_STEP / MIB, before[0],
            agent_mib(demo, 0, "mem_available"));
        if (!run_workload(demo, 0, ALLOC_BYTES, error))
                return FALSE;
        if (demo_wait_event(demo, &from, "DECISION", name, "give",
                            "vmtided gave the working guest nothing", error) == NULL ||
            !demo_wait_rest(demo, 0, "vmtided did not come to rest", error))
                return FALSE;
        events_sync(demo);
        after = guest_mib(demo, 0, "actual");
        if (after < before[0] + (gint64)(ALLOC_STEP / MIB))
                return demo_fail(
                    error, "%s did not grow: %" G_GINT64_FORMAT " MiB -> %" G_GINT64_FORMAT " MiB",
                    name, before[0], after);
        say(demo,
            "memory followed the workload: %s %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT
            " MiB, %s %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT " MiB, %s %" G_GINT64_FORMAT
            " -> %" G_GINT64_FORMAT " MiB",
            name, before[0], after, guest_name(demo, 1), before[1], guest_mib(demo, 1, "actual"),
            guest_name(demo, 2), before[2], guest_mib(demo, 2, "actual"));
        return demo_cli(demo, "list", error);
}

/* Guest 0's workload stops: its memory is spare, and stays with it
 * while the budget has room (docs/balloon.md: only what is needed is
 * reclaimed). */
static gboolean
demo_free(Demo *demo, GError **error)
{
        const char *name = guest_name(demo, 0);
        AvailableWait w = {.i = 0, .above = (gint64)(ALLOC_BYTES - 64 * MIB)};
        g_autofree char *reply = NULL;

        say(demo, "%s's workload stops and frees its %" G_GUINT64_FORMAT " MiB", name,
            ALLOC_BYTES / MIB);
        reply = vt_test_guest_workload(demo->guests[0], "free", STEP_US, error);
        if (reply == NULL)
                return FALSE;
        if (!g_str_has_prefix(reply, "ok"))
                return demo_fail(error, "%s's workload answered '%s' to 'free'", name, reply);
        /* The agent's reports have no event: ask until one shows it. */
        if (!demo_wait_full(demo, agent_available_above, &w, TRUE,
                            "the agent did not report the memory freed", error))
                return FALSE;
        say(demo,
            "%s's agent reports %" G_GINT64_FORMAT " MiB available: spare, but the budget "
            "has room, so vmtided leaves it there until someone needs it",
            name, agent_mib(demo, 0, "mem_available"));
        return demo_cli(demo, "list", error);
}

/* Guest 1 needs memory: guest 0's spare memory goes back to the pool and on to it. */
static gboolean
demo_second_workload(Demo *demo, GError **error)
{
        const char *name = guest_name(demo, 1);
        gint64 before[N_GUESTS];
        gint64 after[N_GUESTS];
        guint from = vt_test_daemon_get_n_events(demo->daemon);
        guint reclaim_from = from;

        for (guint i = 0; i < N_GUESTS; i++)
                before[i] = guest_mib(demo, i, "actual");
        say(demo,
            "now %s needs memory: its workload allocates %" G_GUINT64_FORMAT
            " MiB; it has %" G_GINT64_FORMAT " MiB, %" G_GINT64_FORMAT " MiB of it available",
            name, ALLOC2_BYTES / MIB, before[1], agent_mib(demo, 1, "mem_available"));
        if (!run_workload(demo, 1, ALLOC2_BYTES, error))
                return FALSE;
        if (demo_wait_event(demo, &from, "DECISION", name, "give",
                            "vmtided gave the working guest nothing", error) == NULL ||
            demo_wait_event(demo, &reclaim_from, "DECISION", guest_name(demo, 0), "reclaim",
                            "vmtided took nothing back from the idle guest", error) == NULL ||
            !demo_wait_rest(demo, 0, "vmtided did not come to rest", error))
                return FALSE;
        events_sync(demo);
        for (guint i = 0; i < N_GUESTS; i++)
                after[i] = guest_mib(demo, i, "actual");
        if (after[0] >= before[0] || after[1] <= before[1])
                return demo_fail(error,
                                 "no memory went from %s (%" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT
                                 " MiB) to %s (%" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT " MiB)",
                                 guest_name(demo, 0), before[0], after[0], name, before[1],
                                 after[1]);
        say(demo,
            "%s's spare memory went back, on to %s: %s %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT
            " MiB, %s %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT " MiB, %s %" G_GINT64_FORMAT
            " -> %" G_GINT64_FORMAT " MiB",
            guest_name(demo, 0), name, guest_name(demo, 0), before[0], after[0], name, before[1],
            after[1], guest_name(demo, 2), before[2], after[2]);
        return demo_cli(demo, "list", error);
}

/*
 * Before it stops, the live daemon and its history are looked at as an
 * operator would: `vmtide doctor` (one pass over host and guests, rates
 * over a second), `vmtide risk` (the guests at risk now) and `vmtide
 * capacity` (would one more 512 MiB guest fit, and from where), the last
 * with the history the flight recorder has kept so far.
 */
static gboolean
demo_diagnose(Demo *demo, GError **error)
{
        const char *doctor[] = {"doctor", "--interval", "1", NULL};
        const char *risk[] = {"risk", "--interval", "1", "--history", demo->history, NULL};
        const char *capacity[] = {"capacity", "--add",     "1",           "--size",
                                  "512M",     "--history", demo->history, NULL};

        say(demo, "what vmtide doctor, risk and capacity make of this host and its guests now");
        return demo_cli_args(demo, doctor, error) && demo_cli_args(demo, risk, error) &&
               demo_cli_args(demo, capacity, error);
}

static gboolean
demo_stop(Demo *demo, GError **error)
{
        int status = 0;

        events_stop(demo);
        say(demo, "stopping vmtided (SIGTERM)");
        vt_test_daemon_kill(demo->daemon, SIGTERM);
        if (!vt_test_daemon_wait_exit(demo->daemon, STEP_US, &status))
                return demo_fail(error, "vmtided did not stop on SIGTERM");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return demo_fail(error, "vmtided stopped with wait status %d", status);
        say(demo, "vmtided stopped (exit status 0); the balloons stay where they are");
        return TRUE;
}

/* Where the flight recorder kept the run, and the commands that show it. */
static void
print_history(Demo *demo)
{
        g_autoptr(GDir) dir = NULL;
        g_autofree char *found = g_find_program_in_path("vmtide");
        /* This build's CLI when none is installed. */
        const char *cli = found != NULL ? "vmtide" : VT_CLI;
        const char *h = demo->history;
        const char *name;
        guint64 bytes = 0;
        guint n = 0;

        if (h == NULL)
                return;
        dir = g_dir_open(h, 0, NULL);
        while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
                g_autofree char *path = g_build_filename(h, name, NULL);
                GStatBuf st;

                if (g_str_has_suffix(name, ".vtrec") && g_stat(path, &st) == 0) {
                        bytes += (guint64)st.st_size;
                        n++;
                }
        }
        /* Nothing recorded (the demo failed before vmtided ran): nothing kept. */
        if (n == 0) {
                g_rmdir(h);
                return;
        }
        say(demo,
            "vmtided's flight recorder kept the run: %s (%u segment%s, %" G_GUINT64_FORMAT " KiB)",
            h, n, n == 1 ? "" : "s", (bytes + 1023) / 1024);
        printf("  what it decided, and why:        %s history --dir %s\n"
               "  its timelines, drawn:            %s plot %s -o run.svg\n"
               "  the same run under MoM's rules:  %s replay %s --policy mom\n",
               cli, h, cli, h, cli, h);
}

static void
print_log_tail(Demo *demo)
{
        g_autofree char *log = NULL;
        g_auto(GStrv) lines = NULL;
        guint n;

        if (demo->daemon == NULL)
                return;
        log = vt_test_daemon_read_log(demo->daemon);
        lines = g_strsplit(log, "\n", 0);
        n = g_strv_length(lines);
        fprintf(stderr, "vmtided's log (the last lines):\n");
        for (guint i = n > LOG_TAIL ? n - LOG_TAIL : 0; i < n; i++)
                if (lines[i][0] != '\0')
                        fprintf(stderr, "  %s\n", lines[i]);
}

static gboolean
on_signal(gpointer data)
{
        ((Demo *)data)->interrupted = TRUE;
        return G_SOURCE_CONTINUE;
}

static void
demo_cleanup(Demo *demo)
{
        events_stop(demo);
        g_clear_pointer(&demo->daemon, vt_test_daemon_free);
        for (guint i = 0; i < N_GUESTS; i++)
                g_clear_pointer(&demo->guests[i], vt_test_guest_free);
        if (demo->dir != NULL)
                vt_test_remove_tree(demo->dir);
        g_clear_pointer(&demo->dir, g_free);
        if (demo->events_buf != NULL)
                g_string_free(g_steal_pointer(&demo->events_buf), TRUE);
}

int
main(int argc, char **argv)
{
        g_autoptr(GOptionContext) options = g_option_context_new(
            "- three test guests and vmtided: memory follows a workload (vmtide list, events)");
        g_autoptr(GError) error = NULL;
        g_autofree char *reason = NULL;
        g_autofree char *history = NULL;
        const GOptionEntry entries[] = {
            {"history", 0, 0, G_OPTION_ARG_FILENAME, &history,
             "Keep vmtided's history in DIR (default: a new directory under $TMPDIR)", "DIR"},
            {NULL},
        };
        Demo demo = {.events_fd = -1};
        gboolean ok;

        g_option_context_add_main_entries(options, entries, NULL);
        if (!g_option_context_parse(options, &argc, &argv, &error)) {
                fprintf(stderr, "vt-daemon-demo: %s\n", error->message);
                return 2;
        }
        if (!vt_test_guest_available(&reason)) {
                fprintf(stderr, "vt-daemon-demo: %s\n", reason);
                return 1;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        g_unix_signal_add(SIGINT, on_signal, &demo);
        g_unix_signal_add(SIGTERM, on_signal, &demo);
        demo.start_us = g_get_monotonic_time();
        demo.events_buf = g_string_new(NULL);
        printf("vmtide %s: three test guests under QEMU (%s), vmtided, and the vmtide CLI\n",
               VT_VERSION, g_getenv("VT_TEST_ACCEL") ? g_getenv("VT_TEST_ACCEL") : "tcg");

        demo.dir = g_dir_make_tmp("vt-daemon-demo-XXXXXX", &error);
        /* The history outlives the demo: it is what vmtide plot draws. */
        if (history != NULL)
                demo.history = g_canonicalize_filename(history, NULL);
        else if (demo.dir != NULL)
                demo.history = g_dir_make_tmp("vmtide-demo-history-XXXXXX", &error);
        ok = demo.dir != NULL && demo.history != NULL && demo_boot(&demo, &error) &&
             demo_start_daemon(&demo, &error) && demo_reclaim(&demo, &error) &&
             demo_workload(&demo, &error) && demo_free(&demo, &error) &&
             demo_second_workload(&demo, &error) && demo_diagnose(&demo, &error) &&
             demo_stop(&demo, &error);
        if (!ok) {
                /* A Ctrl-C reaches the children too: tell it from their end. */
                while (g_main_context_iteration(NULL, FALSE))
                        ;
                fflush(stdout);
                if (demo.interrupted) {
                        fprintf(stderr, "vt-daemon-demo: interrupted\n");
                } else {
                        fprintf(stderr, "vt-daemon-demo: FAILED: %s\n", error->message);
                        print_log_tail(&demo);
                }
        }
        demo_cleanup(&demo);
        say(&demo, "guests stopped, %s", ok ? "done" : "cleaned up");
        print_history(&demo);
        g_free(demo.history);
        return ok ? 0 : 1;
}
