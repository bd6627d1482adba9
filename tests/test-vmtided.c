/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Integration: the real vmtided and vmtide CLI driving three real test guests. */

/*
 * Three 512 MiB guests under a 1200 MiB budget: the daemon has to take
 * memory back from idle guests. One guest then allocates; its agent pushes
 * and the daemon gives memory back in one step, before the guest runs
 * out. Then a quiet minute, a daemon killed with SIGKILL and restarted, a
 * guest's QEMU killed, bad input on the control socket, and SIGTERM. The
 * phases share the guests because booting them is the slow part.
 */
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/vt-test-daemon.h"
#include "tests/vt-test-guest.h"
#include "tests/vt-test-util.h"

#define MIB         (G_GUINT64_CONSTANT(1) << 20)
#define N_GUESTS    3
#define GUEST_BYTES (512 * MIB)
#define BUDGET_MIB  1200
#define PHASE_US    (120 * G_USEC_PER_SEC)
#define QUIET_US    (60 * G_USEC_PER_SEC)
#define ALLOC_STEP  (32 * (gint64)MIB)
/* Longer than the policy's settle time (4 s): moves would show. */
#define QUIET_WINDOW_US (6 * G_USEC_PER_SEC)

static const char config_text[] = "[daemon]\n"
                                  "tick-interval-ms = 1000\n"
                                  "agent-interval-ms = 1000\n"
                                  "[budget]\n"
                                  "total = 1200M\n"
                                  "reserve = 0\n"
                                  "[ksm]\n"
                                  "enabled = false\n";

typedef struct {
        char *dir;
        VtTestGuest *guests[N_GUESTS];
        VtTestDaemon *daemon;
} Fixture;

static const char *
guest_name(Fixture *fx, guint i)
{
        return vt_test_guest_get_name(fx->guests[i]);
}

static gint64
guest_int(Fixture *fx, guint i, const char *member)
{
        return vt_test_daemon_guest_int(fx->daemon, guest_name(fx, i), member);
}

/* An integer inside query-guest's "agent" object, or -1. */
static gint64
agent_int(Fixture *fx, guint i, const char *member)
{
        return vt_test_daemon_guest_member_int(fx->daemon, guest_name(fx, i), "agent", member);
}

/* Waits for a BALLOON_DONE of @guest after event @from; its actual size. */
static gint64
wait_done(Fixture *fx, guint *from, const char *guest)
{
        const VtTestDaemonEvent *event =
            vt_test_daemon_assert_event(fx->daemon, from, "BALLOON_DONE", guest, PHASE_US);
        json_object *actual;

        g_assert_true(json_object_object_get_ex(event->data, "actual", &actual));
        return json_object_get_int64(actual);
}

static void
phase_reclaim(Fixture *fx)
{
        guint from = 0;
        guint n_done;

        vt_test_say("reclaim: 3 x 512 MiB under a %u MiB budget", BUDGET_MIB);
        /* Wait on events: each confirmed move is a moment to look. */
        while (vt_test_daemon_sum_actual(fx->daemon, fx->guests, N_GUESTS) >
               (guint64)BUDGET_MIB * MIB)
                vt_test_daemon_assert_event(fx->daemon, &from, "BALLOON_DONE", NULL, PHASE_US);
        n_done = vt_test_daemon_count_events(fx->daemon, 0, "BALLOON_DONE", NULL);
        vt_test_say("reclaim: guests at %" G_GUINT64_FORMAT " MiB in all after %u confirmed moves",
                    vt_test_daemon_sum_actual(fx->daemon, fx->guests, N_GUESTS) / MIB, n_done);
        for (guint i = 0; i < N_GUESTS; i++) {
                gint64 actual = guest_int(fx, i, "actual");

                vt_test_say("  %s: %" G_GINT64_FORMAT " MiB", guest_name(fx, i),
                            actual / (gint64)MIB);
                /* The default minimum is a quarter of the maximum. */
                g_assert_cmpint(actual, >=, (gint64)(GUEST_BYTES / 4));
                g_assert_cmpint(actual, <=, (gint64)GUEST_BYTES);
        }
        g_assert_cmpuint(vt_test_daemon_count_events(fx->daemon, 0, "DECISION", NULL), >, 0);
}

/* The CLI sees what the control socket says. */
static void
phase_cli(Fixture *fx)
{
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autofree char *json_out = NULL;
        json_object *parsed;
        int status;

        status = vt_test_daemon_run_cli(fx->daemon, &out, &err, "list", NULL);
        g_assert_cmpint(status, ==, 0);
        for (guint i = 0; i < N_GUESTS; i++)
                g_assert_nonnull(strstr(out, guest_name(fx, i)));

        status = vt_test_daemon_run_cli(fx->daemon, &json_out, NULL, "--json", "list", NULL);
        g_assert_cmpint(status, ==, 0);
        parsed = json_tokener_parse(json_out);
        g_assert_nonnull(parsed);
        json_object_put(parsed);

        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);
        status = vt_test_daemon_run_cli(fx->daemon, &out, &err, "stats", "no-such-guest", NULL);
        g_assert_cmpint(status, !=, 0);
        g_assert_nonnull(strstr(err, "no-such-guest"));
}

static json_object *
policy_args(const char *name, gint64 min)
{
        json_object *args = json_object_new_object();

        json_object_object_add(args, "name", json_object_new_string(name));
        json_object_object_add(args, "min", json_object_new_int64(min));
        return args;
}

typedef struct {
        Fixture *fx;
        guint i;
        const char *text;
} ReasonWait;

/* The guest's last decision's reason has w->text in it. */
static gboolean
reason_contains(gpointer data)
{
        ReasonWait *w = data;
        json_object *guest =
            vt_test_daemon_query_guest(w->fx->daemon, guest_name(w->fx, w->i), NULL);
        json_object *reason;
        gboolean ok = guest != NULL && json_object_object_get_ex(guest, "reason", &reason) &&
                      strstr(json_object_get_string(reason), w->text) != NULL;

        json_object_put(guest);
        return ok;
}

/* Paused, the daemon decides but moves nothing; resumed, it moves. */
static void
phase_pause(Fixture *fx)
{
        g_autoptr(GError) error = NULL;
        const char *name = guest_name(fx, 1);
        gint64 actual = guest_int(fx, 1, "actual");
        gint64 min = MIN(actual + 64 * (gint64)MIB, (gint64)GUEST_BYTES);
        json_object *reply, *reason;
        ReasonWait w;
        guint from;

        vt_test_say("pause: %s at %" G_GINT64_FORMAT " MiB, minimum raised to %" G_GINT64_FORMAT
                    " MiB",
                    name, actual / (gint64)MIB, min / (gint64)MIB);
        g_assert_cmpint(vt_test_daemon_run_cli(fx->daemon, NULL, NULL, "pause", NULL), ==, 0);
        from = vt_test_daemon_get_n_events(fx->daemon);
        reply = vt_test_daemon_execute(fx->daemon, "set-policy", policy_args(name, min), &error);
        g_assert_no_error(error);
        json_object_put(reply);
        /* The daemon decides the give (once the guest has settled), and
         * does not make it. */
        w = (ReasonWait){fx, 1, "paused; would give"};
        if (!vt_test_daemon_poll_until(reason_contains, &w, PHASE_US)) {
                vt_test_daemon_dump_log(fx->daemon);
                g_assert_not_reached();
        }
        g_assert_cmpuint(vt_test_daemon_count_events(fx->daemon, from, "DECISION", name), ==, 0);
        reply = vt_test_daemon_query_guest(fx->daemon, name, &error);
        g_assert_no_error(error);
        g_assert_true(json_object_object_get_ex(reply, "reason", &reason));
        vt_test_say("pause: %s", json_object_get_string(reason));
        json_object_put(reply);

        from = vt_test_daemon_get_n_events(fx->daemon);
        g_assert_cmpint(vt_test_daemon_run_cli(fx->daemon, NULL, NULL, "resume", NULL), ==, 0);
        vt_test_daemon_assert_event(fx->daemon, &from, "DECISION", name, PHASE_US);
        g_assert_cmpint(wait_done(fx, &from, name), >=, min - (gint64)(4 * MIB));
        reply = vt_test_daemon_execute(fx->daemon, "set-policy", policy_args(name, 0), &error);
        g_assert_no_error(error);
        json_object_put(reply);
}

static void
phase_pressure(Fixture *fx)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *reply = NULL;
        const char *name = guest_name(fx, 0);
        gint64 oom[N_GUESTS];
        gint64 actual = guest_int(fx, 0, "actual");
        gint64 alloc;
        g_autofree char *command = NULL;
        guint from;
        const VtTestDaemonEvent *give = NULL;
        json_object *reason = NULL;

        g_assert_true(
            vt_test_daemon_wait_agents(fx->daemon, fx->guests, N_GUESTS, "oom_kill", 0, PHASE_US));
        for (guint i = 0; i < N_GUESTS; i++)
                oom[i] = agent_int(fx, i, "oom_kill");
        /* Start from a settled daemon: a reclaim decided on the report from
         * before the workload would race it. */
        if (!vt_test_daemon_wait_quiet(fx->daemon, QUIET_WINDOW_US, PHASE_US)) {
                vt_test_daemon_dump_log(fx->daemon);
                g_assert_not_reached();
        }
        actual = guest_int(fx, 0, "actual");
        /* More than the guest has available now (it needs the balloon to
         * give), well within what the budget can fund at once. */
        alloc = agent_int(fx, 0, "mem_available") + 96 * (gint64)MIB;
        alloc = (alloc + ALLOC_STEP - 1) / ALLOC_STEP * ALLOC_STEP;
        g_assert_cmpint(alloc, <, (gint64)GUEST_BYTES - 128 * (gint64)MIB);
        vt_test_say("pressure: %s at %" G_GINT64_FORMAT " MiB allocates %" G_GINT64_FORMAT " MiB",
                    name, actual / (gint64)MIB, alloc / (gint64)MIB);

        from = vt_test_daemon_get_n_events(fx->daemon);
        /* In steps, as programs grow: one mmap larger than the guest's
         * ballooned RAM is refused by its overcommit heuristic at once. */
        for (gint64 done = 0; done < alloc; done += ALLOC_STEP) {
                g_free(command);
                g_free(reply);
                command = g_strdup_printf("alloc %" G_GINT64_FORMAT, ALLOC_STEP);
                reply = vt_test_guest_workload(fx->guests[0], command, PHASE_US, &error);
                g_assert_no_error(error);
                if (!g_str_has_prefix(reply, "ok")) {
                        vt_test_say("pressure: the workload says '%s' after %" G_GINT64_FORMAT
                                    " MiB",
                                    reply, done / (gint64)MIB);
                        vt_test_daemon_dump_log(fx->daemon);
                }
                g_assert_true(g_str_has_prefix(reply, "ok"));
        }

        /* The daemon gave memory back because the agent pushed. */
        do
                give = vt_test_daemon_assert_event(fx->daemon, &from, "DECISION", name, PHASE_US);
        while (g_strcmp0(vt_test_daemon_event_string(give, "action"), "give") != 0);
        g_assert_true(json_object_object_get_ex(give->data, "reason", &reason));
        vt_test_say("pressure: %s", json_object_get_string(reason));
        g_assert_nonnull(strstr(json_object_get_string(reason), "pressure"));
        wait_done(fx, &from, name);

        /* Reports sent after the allocation: nobody was OOM-killed. */
        g_assert_true(vt_test_daemon_wait_agents(fx->daemon, fx->guests, N_GUESTS, NULL,
                                                 g_get_monotonic_time(), PHASE_US));
        for (guint i = 0; i < N_GUESTS; i++)
                g_assert_cmpint(agent_int(fx, i, "oom_kill"), ==, oom[i]);
        g_free(reply);
        reply = vt_test_guest_workload(fx->guests[0], "free", PHASE_US, &error);
        g_assert_no_error(error);
}

static void
phase_quiet(Fixture *fx)
{
        guint from = vt_test_daemon_get_n_events(fx->daemon);
        guint start;
        guint n;

        /* Let the release after "free" settle, then watch a quiet minute. */
        vt_test_daemon_wait_event(fx->daemon, &from, "BALLOON_DONE", guest_name(fx, 0),
                                  30 * G_USEC_PER_SEC);
        start = from = vt_test_daemon_get_n_events(fx->daemon);
        vt_test_say("quiet: watching %d s of idle guests", (int)(QUIET_US / G_USEC_PER_SEC));
        /* An observation window, not a wait for something to happen. */
        g_assert_null(
            vt_test_daemon_wait_event(fx->daemon, &from, "NO_SUCH_EVENT", NULL, QUIET_US));
        n = vt_test_daemon_count_events(fx->daemon, start, "DECISION", NULL);
        vt_test_say("quiet: %u balloon moves in a quiet minute", n);
        g_assert_cmpuint(n, <=, 4);
}

static void
phase_restart(Fixture *fx)
{
        g_autoptr(GError) error = NULL;
        gint64 before[N_GUESTS];
        guint from;
        int status = 0;

        for (guint i = 0; i < N_GUESTS; i++)
                before[i] = guest_int(fx, i, "actual");
        vt_test_say("restart: SIGKILL vmtided");
        vt_test_daemon_kill(fx->daemon, SIGKILL);
        g_assert_true(vt_test_daemon_wait_exit(fx->daemon, PHASE_US, &status));
        g_assert_true(WIFSIGNALED(status));

        from = vt_test_daemon_get_n_events(fx->daemon);
        g_assert_true(vt_test_daemon_restart(fx->daemon, &error));
        g_assert_no_error(error);
        vt_test_daemon_assert_guests_added(fx->daemon, fx->guests, N_GUESTS, from, PHASE_US);
        for (guint i = 0; i < N_GUESTS; i++) {
                gint64 after = guest_int(fx, i, "actual");

                vt_test_say("  %s: %" G_GINT64_FORMAT " MiB before, %" G_GINT64_FORMAT " MiB after",
                            guest_name(fx, i), before[i] / (gint64)MIB, after / (gint64)MIB);
                /* Picked up where it was, not reset to its maximum. */
                g_assert_cmpint(after, <, (gint64)GUEST_BYTES);
                g_assert_cmpint(ABS(after - before[i]), <=, (gint64)(64 * MIB));
        }
}

static void
phase_guest_killed(Fixture *fx)
{
        guint last = N_GUESTS - 1;
        g_autofree char *name = g_strdup(guest_name(fx, last));
        guint from = vt_test_daemon_get_n_events(fx->daemon);
        json_object *status;

        vt_test_say("guest killed: %s", name);
        vt_test_guest_kill(fx->guests[last]);
        vt_test_daemon_assert_event(fx->daemon, &from, "GUEST_REMOVED", name, PHASE_US);
        g_clear_pointer(&fx->guests[last], vt_test_guest_free);
        status = vt_test_daemon_execute(fx->daemon, "query-status", NULL, NULL);
        g_assert_nonnull(status);
        json_object_put(status);
}

/* Raw bytes at the control socket; the daemon must keep answering. */
static void
send_raw(const char *path, const char *data, gsize len)
{
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        g_assert_cmpint(fd, >=, 0);
        g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
        g_assert_cmpint(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
        /* Errors past the limit (the daemon hangs up) are expected. */
        (void)!send(fd, data, len, MSG_NOSIGNAL);
        close(fd);
}

static void
phase_bad_input(Fixture *fx)
{
        const char *path = vt_test_daemon_get_socket(fx->daemon);
        static const char *const inputs[] = {
            "{\"execute\": \"qmp_capabilities\"}\n{\"execute\":",
            "garbage\n\n{]\n",
            "{\"execute\": \"qmp_capabilities\"}\n{\"execute\": \"set-target\", "
            "\"arguments\": {\"name\": 7, \"bytes\": \"lots\"}}\n",
            "{\"execute\": \"qmp_capabilities\"}\n{\"execute\": \"no-such\"}\n",
        };
        gsize big_len = 512 * 1024;
        g_autofree char *big = g_malloc(big_len);
        json_object *status;

        vt_test_say("bad input on the control socket");
        for (guint i = 0; i < G_N_ELEMENTS(inputs); i++)
                send_raw(path, inputs[i], strlen(inputs[i]));
        memset(big, '[', big_len);
        send_raw(path, big, big_len);

        status = vt_test_daemon_execute(fx->daemon, "query-status", NULL, NULL);
        g_assert_nonnull(status);
        json_object_put(status);
        g_assert_cmpint(kill(vt_test_daemon_get_pid(fx->daemon), 0), ==, 0);
}

static void
phase_sigterm(Fixture *fx)
{
        int status = -1;

        vt_test_say("SIGTERM");
        vt_test_daemon_kill(fx->daemon, SIGTERM);
        g_assert_true(vt_test_daemon_wait_exit(fx->daemon, PHASE_US, &status));
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 0);
        g_assert_false(g_file_test(vt_test_daemon_get_socket(fx->daemon), G_FILE_TEST_EXISTS));
}

static void
test_vmtided_guests(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *reason = NULL;
        Fixture fx = {0};

        if (!vt_test_skip_unless(vt_test_guest_available(&reason), reason))
                return;
        fx.dir = g_dir_make_tmp("vt-vmtided-XXXXXX", &error);
        g_assert_no_error(error);
        for (guint i = 0; i < N_GUESTS; i++) {
                g_autofree char *name = g_strdup_printf("vtd%u", i);
                const VtTestGuestOptions options = {.name = name, .memory_bytes = GUEST_BYTES};

                fx.guests[i] = vt_test_guest_start(&options, &error);
                g_assert_no_error(error);
        }
        fx.daemon = vt_test_daemon_start(fx.dir, config_text, &error);
        g_assert_no_error(error);
        for (guint i = 0; i < N_GUESTS; i++) {
                vt_test_daemon_add_guest(fx.daemon, fx.guests[i], &error);
                g_assert_no_error(error);
        }
        vt_test_daemon_assert_guests_added(fx.daemon, fx.guests, N_GUESTS, 0, PHASE_US);

        phase_reclaim(&fx);
        phase_cli(&fx);
        phase_pause(&fx);
        phase_pressure(&fx);
        phase_quiet(&fx);
        phase_restart(&fx);
        phase_guest_killed(&fx);
        phase_bad_input(&fx);
        phase_sigterm(&fx);

        g_clear_pointer(&fx.daemon, vt_test_daemon_free);
        for (guint i = 0; i < N_GUESTS; i++)
                g_clear_pointer(&fx.guests[i], vt_test_guest_free);
        vt_test_remove_tree(fx.dir);
        g_free(fx.dir);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/vmtided/guests", test_vmtided_guests);
        return g_test_run();
}
