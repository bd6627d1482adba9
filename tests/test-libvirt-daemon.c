/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Integration: the real vmtided with its libvirt backend, beside a real libvirtd. */

/*
 * Three 512 MiB TCG domains (the test guest, defined through libvirt with
 * the agent channel and a statistics period) under a 1200 MiB budget, and
 * vmtided with `backend = libvirt`: the same behaviour as the QMP-direct
 * test (tests/test-vmtided.c) asks for, through libvirt's API. Idle
 * domains are reclaimed; a domain's policy comes from its metadata and
 * the CLI writes it there (and nothing else); a workload gets memory back
 * on its agent's push, with no OOM kill; libvirtd restarted mid-run (when
 * the harness runs it) and vmtided carries on; a domain destroyed is
 * dropped; SIGTERM. The timing of the push is printed here and measured
 * in bench/bench-reaction.c.
 */
#include <libvirt/libvirt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/vt-test-daemon.h"
#include "tests/vt-test-guest.h"
#include "tests/vt-test-libvirt.h"
#include "tests/vt-test-util.h"

#define MIB             (G_GUINT64_CONSTANT(1) << 20)
#define N_GUESTS        3
#define GUEST_BYTES     (512 * MIB)
#define BUDGET_MIB      1200
#define PHASE_US        (120 * G_USEC_PER_SEC)
#define ALLOC_STEP      (32 * (gint64)MIB)
#define QUIET_WINDOW_US (6 * G_USEC_PER_SEC)
#define POLICY_NS       "https://vmtide.org/xmlns/policy/1"
#define OTHER_NS        "https://example.org/other-tool"

static const char config_text[] = "[daemon]\n"
                                  "backend = libvirt\n"
                                  "tick-interval-ms = 1000\n"
                                  "agent-interval-ms = 1000\n"
                                  "[libvirt]\n"
                                  "uri = qemu:///system\n"
                                  "[budget]\n"
                                  "total = 1200M\n"
                                  "reserve = 0\n"
                                  "[ksm]\n"
                                  "enabled = false\n";

/* Guest 1 comes with a policy of its own, and another tool's metadata. */
static const char guest1_metadata[] =
    "<vmtide:policy xmlns:vmtide='" POLICY_NS "'><vmtide:shares>2000</vmtide:shares>"
    "</vmtide:policy><other:note xmlns:other='" OTHER_NS "'>keep me</other:note>";

typedef struct {
        char *dir;
        VtTestLibvirt *libvirt;
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

static gint64
agent_int(Fixture *fx, guint i, const char *member)
{
        return vt_test_daemon_guest_member_int(fx->daemon, guest_name(fx, i), "agent", member);
}

/* Shown after vmtided's log when the test fails. */
static void
dump_libvirtd_log(gpointer user_data)
{
        g_autofree char *log = vt_test_libvirt_read_log(user_data);

        if (log != NULL && log[0] != '\0')
                g_printerr("# libvirtd's log (tail):\n%s\n",
                           strlen(log) > 4096 ? log + strlen(log) - 4096 : log);
}

static void
phase_reclaim(Fixture *fx)
{
        guint from = 0;

        vt_test_say("reclaim: 3 x 512 MiB domains under a %u MiB budget", BUDGET_MIB);
        while (vt_test_daemon_sum_actual(fx->daemon, fx->guests, N_GUESTS) >
               (guint64)BUDGET_MIB * MIB)
                vt_test_daemon_assert_event(fx->daemon, &from, "BALLOON_DONE", NULL, PHASE_US);
        vt_test_say("reclaim: domains at %" G_GUINT64_FORMAT " MiB in all after %u confirmed moves",
                    vt_test_daemon_sum_actual(fx->daemon, fx->guests, N_GUESTS) / MIB,
                    vt_test_daemon_count_events(fx->daemon, 0, "BALLOON_DONE", NULL));
        for (guint i = 0; i < N_GUESTS; i++) {
                gint64 actual = guest_int(fx, i, "actual");

                vt_test_say("  %s: %" G_GINT64_FORMAT " MiB", guest_name(fx, i),
                            actual / (gint64)MIB);
                g_assert_cmpint(actual, >=, (gint64)(GUEST_BYTES / 4));
                g_assert_cmpint(actual, <=, (gint64)GUEST_BYTES);
        }
}

/* libvirt's own view of a domain's current memory, bytes. */
static guint64
libvirt_memory(Fixture *fx, guint i)
{
        g_autoptr(GError) error = NULL;
        virConnectPtr conn = vt_test_libvirt_connect(vt_test_libvirt_get_uri(fx->libvirt), &error);
        virDomainPtr domain;
        virDomainInfo info = {0};

        g_assert_no_error(error);
        domain = virDomainLookupByName(conn, vt_test_guest_get_libvirt_name(fx->guests[i]));
        g_assert_nonnull(domain);
        g_assert_cmpint(virDomainGetInfo(domain, &info), ==, 0);
        virDomainFree(domain);
        virConnectClose(conn);
        return (guint64)info.memory * 1024;
}

static char *
libvirt_metadata(Fixture *fx, guint i, const char *uri)
{
        g_autoptr(GError) error = NULL;
        virConnectPtr conn = vt_test_libvirt_connect(vt_test_libvirt_get_uri(fx->libvirt), &error);
        virDomainPtr domain;
        char *text, *copy;

        g_assert_no_error(error);
        domain = virDomainLookupByName(conn, vt_test_guest_get_libvirt_name(fx->guests[i]));
        g_assert_nonnull(domain);
        text =
            virDomainGetMetadata(domain, VIR_DOMAIN_METADATA_ELEMENT, uri, VIR_DOMAIN_AFFECT_LIVE);
        copy = g_strdup(text);
        free(text);
        virDomainFree(domain);
        virConnectClose(conn);
        return copy;
}

typedef struct {
        Fixture *fx;
        guint i;
} BooksWait;

static gboolean
books_match(gpointer data)
{
        BooksWait *w = data;

        return ABS((gint64)libvirt_memory(w->fx, w->i) - guest_int(w->fx, w->i, "actual")) <=
               (gint64)(8 * MIB);
}

/* The CLI sees domain names; the policy comes from, and goes to, the
 * domain's metadata. */
static void
phase_cli_policy(Fixture *fx)
{
        g_autofree char *out = NULL;
        g_autofree char *policy = NULL;
        g_autofree char *other = NULL;
        json_object *value;
        guint from;

        g_assert_cmpint(vt_test_daemon_run_cli(fx->daemon, &out, NULL, "list", NULL), ==, 0);
        for (guint i = 0; i < N_GUESTS; i++)
                g_assert_nonnull(strstr(out, guest_name(fx, i)));
        g_clear_pointer(&out, g_free);

        /* The QEMU pid, for KSM's per-process figures, found locally. */
        for (guint i = 0; i < N_GUESTS; i++)
                g_assert_cmpint(guest_int(fx, i, "pid"), ==, vt_test_guest_get_pid(fx->guests[i]));
        /* What the domain's metadata said at start. */
        value = vt_test_daemon_guest_member(fx->daemon, guest_name(fx, 1), "policy", "shares");
        g_assert_cmpint(json_object_get_int(value), ==, 2000);
        json_object_put(value);
        value = vt_test_daemon_guest_member(fx->daemon, guest_name(fx, 1), "policy", "source");
        g_assert_cmpstr(json_object_get_string(value), ==, "domain metadata");
        json_object_put(value);
        /* libvirt's books match the balloon vmtided set (once QEMU's
         * BALLOON_CHANGE, at most one a second, reached libvirtd). */
        for (guint i = 0; i < N_GUESTS; i++) {
                BooksWait w = {fx, i};

                if (!vt_test_daemon_poll_until(books_match, &w, PHASE_US)) {
                        vt_test_say("%s: libvirt says %" G_GUINT64_FORMAT
                                    " MiB, vmtided %" G_GINT64_FORMAT " MiB",
                                    guest_name(fx, i), libvirt_memory(fx, i) / MIB,
                                    guest_int(fx, i, "actual") / (gint64)MIB);
                        vt_test_daemon_dump_log(fx->daemon);
                        g_assert_not_reached();
                }
        }

        vt_test_say("policy: vmtide policy %s --shares 500 --ksm-opt-out", guest_name(fx, 2));
        from = vt_test_daemon_get_n_events(fx->daemon);
        g_assert_cmpint(vt_test_daemon_run_cli(fx->daemon, &out, NULL, "policy", guest_name(fx, 2),
                                               "--shares", "500", "--ksm-opt-out", NULL),
                        ==, 0);
        vt_test_say("policy: %s", g_strstrip(out));
        g_assert_nonnull(strstr(out, "shares 500"));
        g_assert_nonnull(strstr(out, "from domain metadata"));
        policy = libvirt_metadata(fx, 2, POLICY_NS);
        g_assert_nonnull(policy);
        vt_test_say("policy: in the domain: %s", policy);
        g_assert_nonnull(strstr(policy, "<shares>500</shares>"));
        g_assert_nonnull(strstr(policy, "opt-out=\"yes\""));

        /* Guest 1: only vmtide's element is rewritten. */
        g_clear_pointer(&out, g_free);
        g_assert_cmpint(vt_test_daemon_run_cli(fx->daemon, &out, NULL, "policy", guest_name(fx, 1),
                                               "--shares", "1500", NULL),
                        ==, 0);
        other = libvirt_metadata(fx, 1, OTHER_NS);
        g_assert_nonnull(other);
        g_assert_nonnull(strstr(other, "keep me"));
        g_clear_pointer(&policy, g_free);
        policy = libvirt_metadata(fx, 1, POLICY_NS);
        g_assert_nonnull(strstr(policy, "<shares>1500</shares>"));
        (void)from;
}

static void
phase_pressure(Fixture *fx)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *reply = NULL;
        g_autofree char *command = NULL;
        const char *name;
        guint p = 0;
        gint64 oom[N_GUESTS];
        gint64 alloc, actual;
        const VtTestDaemonEvent *give = NULL, *done;
        json_object *ms;
        guint from;

        g_assert_true(
            vt_test_daemon_wait_agents(fx->daemon, fx->guests, N_GUESTS, "oom_kill", 0, PHASE_US));
        for (guint i = 0; i < N_GUESTS; i++)
                oom[i] = agent_int(fx, i, "oom_kill");
        if (!vt_test_daemon_wait_quiet(fx->daemon, QUIET_WINDOW_US, PHASE_US)) {
                vt_test_daemon_dump_log(fx->daemon);
                g_assert_not_reached();
        }
        /* The smallest domain: its workload needs the balloon to give. */
        for (guint i = 1; i < N_GUESTS; i++)
                if (guest_int(fx, i, "actual") < guest_int(fx, p, "actual"))
                        p = i;
        name = guest_name(fx, p);
        actual = guest_int(fx, p, "actual");
        alloc = agent_int(fx, p, "mem_available") + 64 * (gint64)MIB;
        alloc = (alloc + ALLOC_STEP - 1) / ALLOC_STEP * ALLOC_STEP;
        g_assert_cmpint(alloc, <=, (gint64)GUEST_BYTES - 128 * (gint64)MIB);
        vt_test_say("pressure: %s at %" G_GINT64_FORMAT " MiB allocates %" G_GINT64_FORMAT " MiB",
                    name, actual / (gint64)MIB, alloc / (gint64)MIB);

        from = vt_test_daemon_get_n_events(fx->daemon);
        for (gint64 step = 0; step < alloc; step += ALLOC_STEP) {
                g_free(command);
                g_free(reply);
                command = g_strdup_printf("alloc %" G_GINT64_FORMAT, ALLOC_STEP);
                reply = vt_test_guest_workload(fx->guests[p], command, PHASE_US, &error);
                g_assert_no_error(error);
                if (!g_str_has_prefix(reply, "ok"))
                        vt_test_daemon_dump_log(fx->daemon);
                g_assert_true(g_str_has_prefix(reply, "ok"));
        }
        do
                give = vt_test_daemon_assert_event(fx->daemon, &from, "DECISION", name, PHASE_US);
        while (g_strcmp0(vt_test_daemon_event_string(give, "action"), "give") != 0);
        vt_test_say("pressure: %s", vt_test_daemon_event_string(give, "reason"));
        g_assert_nonnull(strstr(vt_test_daemon_event_string(give, "reason"), "pressure"));
        done = vt_test_daemon_assert_event(fx->daemon, &from, "BALLOON_DONE", name, PHASE_US);
        g_assert_true(json_object_object_get_ex(done->data, "ms", &ms));
        vt_test_say("pressure: the balloon gave back in %" G_GINT64_FORMAT " ms from the decision "
                    "(the agent's report was %s ms old then)",
                    json_object_get_int64(ms), vt_test_daemon_event_string(give, "agent_age_ms"));

        g_assert_true(vt_test_daemon_wait_agents(fx->daemon, fx->guests, N_GUESTS, NULL,
                                                 g_get_monotonic_time(), PHASE_US));
        for (guint i = 0; i < N_GUESTS; i++)
                g_assert_cmpint(agent_int(fx, i, "oom_kill"), ==, oom[i]);
        g_free(reply);
        reply = vt_test_guest_workload(fx->guests[p], "free", PHASE_US, &error);
        g_assert_no_error(error);
}

typedef struct {
        Fixture *fx;
        gboolean reachable;
} ReachWait;

static gboolean
all_reachable_is(gpointer data)
{
        ReachWait *w = data;

        for (guint i = 0; i < N_GUESTS; i++) {
                json_object *guest =
                    vt_test_daemon_query_guest(w->fx->daemon, guest_name(w->fx, i), NULL);
                json_object *value;
                gboolean ok = guest != NULL &&
                              json_object_object_get_ex(guest, "reachable", &value) &&
                              json_object_get_boolean(value) == w->reachable;

                json_object_put(guest);
                if (!ok)
                        return FALSE;
        }
        return TRUE;
}

static void
phase_libvirtd_restart(Fixture *fx)
{
        g_autoptr(GError) error = NULL;
        const VtTestDaemonEvent *event;
        json_object *status, *connected;
        ReachWait w = {fx, FALSE};
        BooksWait w2;
        guint from;
        gint64 before = guest_int(fx, 2, "actual");
        gint64 target;
        g_autofree char *size = NULL;

        if (!vt_test_libvirt_owns_daemon(fx->libvirt)) {
                /* The host's libvirtd is not the test's to restart. */
                vt_test_say("libvirtd restart: skipped, libvirtd is the host's");
                g_assert_true(vt_test_skip_unless(FALSE, "libvirtd is the host's, not the test's"));
                return;
        }
        vt_test_say("libvirtd restart: stopping libvirtd");
        from = vt_test_daemon_get_n_events(fx->daemon);
        g_assert_true(vt_test_libvirt_stop_daemon(fx->libvirt, &error));
        g_assert_no_error(error);
        event = vt_test_daemon_assert_event(fx->daemon, &from, "BACKEND", NULL, PHASE_US);
        vt_test_say("libvirtd restart: %s", vt_test_daemon_event_string(event, "message"));
        g_assert_cmpstr(vt_test_daemon_event_string(event, "connected"), ==, "false");
        /* The guests stay, with their last state, left alone. */
        status = vt_test_daemon_execute(fx->daemon, "query-status", NULL, &error);
        g_assert_no_error(error);
        g_assert_true(json_object_object_get_ex(status, "backend_connected", &connected));
        g_assert_false(json_object_get_boolean(connected));
        json_object_put(status);
        g_assert_true(vt_test_daemon_poll_until(all_reachable_is, &w, PHASE_US));
        g_assert_cmpint(guest_int(fx, 2, "actual"), ==, before);

        vt_test_say("libvirtd restart: starting libvirtd");
        g_assert_true(vt_test_libvirt_start_daemon(fx->libvirt, &error));
        g_assert_no_error(error);
        do
                event = vt_test_daemon_assert_event(fx->daemon, &from, "BACKEND", NULL, PHASE_US);
        while (g_strcmp0(vt_test_daemon_event_string(event, "connected"), "true") != 0);
        vt_test_say("libvirtd restart: %s", vt_test_daemon_event_string(event, "message"));
        w.reachable = TRUE;
        g_assert_true(vt_test_daemon_poll_until(all_reachable_is, &w, PHASE_US));
        g_assert_cmpuint(vt_test_daemon_count_events(fx->daemon, from, "GUEST_REMOVED", NULL), ==,
                         0);

        /* And it carries on: a move through the new connection. */
        target = MAX(before - 64 * (gint64)MIB, (gint64)(GUEST_BYTES / 4) + 16 * (gint64)MIB);
        size = g_strdup_printf("%" G_GINT64_FORMAT "M", target / (gint64)MIB);
        vt_test_say("libvirtd restart: vmtide setmem %s %s", guest_name(fx, 2), size);
        /* The move's own BALLOON_DONE, not one of a move the policy made
         * since the reconnect. */
        from = vt_test_daemon_get_n_events(fx->daemon);
        g_assert_cmpint(
            vt_test_daemon_run_cli(fx->daemon, NULL, NULL, "setmem", guest_name(fx, 2), size, NULL),
            ==, 0);
        do
                event = vt_test_daemon_assert_event(fx->daemon, &from, "BALLOON_DONE",
                                                    guest_name(fx, 2), PHASE_US);
        while (ABS(json_object_get_int64(json_object_object_get(event->data, "actual")) - target) >
               (gint64)(4 * MIB));
        w2 = (BooksWait){fx, 2};
        g_assert_true(vt_test_daemon_poll_until(books_match, &w2, PHASE_US));
        g_assert_cmpint(ABS(guest_int(fx, 2, "actual") - target), <=, (gint64)(4 * MIB));
        g_assert_cmpint(vt_test_daemon_run_cli(fx->daemon, NULL, NULL, "setmem", guest_name(fx, 2),
                                               "auto", NULL),
                        ==, 0);
}

static void
phase_domain_destroyed(Fixture *fx)
{
        guint last = N_GUESTS - 1;
        g_autofree char *name = g_strdup(guest_name(fx, last));
        guint from = vt_test_daemon_get_n_events(fx->daemon);
        const VtTestDaemonEvent *event;
        json_object *status;

        vt_test_say("domain destroyed: %s", name);
        vt_test_guest_kill(fx->guests[last]);
        event = vt_test_daemon_assert_event(fx->daemon, &from, "GUEST_REMOVED", name, PHASE_US);
        vt_test_say("domain destroyed: %s", vt_test_daemon_event_string(event, "reason"));
        /* Said by libvirt's event, or by the first call that found the
         * domain gone, whichever came first. */
        g_assert_true(
            strstr(vt_test_daemon_event_string(event, "reason"), "domain destroyed") != NULL ||
            strstr(vt_test_daemon_event_string(event, "reason"), "the domain is gone") != NULL);
        g_clear_pointer(&fx->guests[last], vt_test_guest_free);
        status = vt_test_daemon_execute(fx->daemon, "query-status", NULL, NULL);
        g_assert_nonnull(status);
        json_object_put(status);
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
}

static void
test_libvirt_daemon(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *reason = NULL;
        Fixture fx = {0};

        if (!vt_test_skip_unless(vt_test_libvirt_available(&reason), reason))
                return;
        fx.libvirt = vt_test_libvirt_ensure(&error);
        g_assert_no_error(error);
        fx.dir = g_dir_make_tmp("vt-libvirt-daemon-XXXXXX", &error);
        g_assert_no_error(error);
        for (guint i = 0; i < N_GUESTS; i++) {
                g_autofree char *name = g_strdup_printf("vt-lv-%d-%u", (int)getpid(), i);
                const VtTestGuestOptions options = {
                    .name = name,
                    .memory_bytes = GUEST_BYTES,
                    .libvirt_uri = vt_test_libvirt_get_uri(fx.libvirt),
                    .libvirt_metadata = i == 1 ? guest1_metadata : NULL,
                };

                fx.guests[i] = vt_test_guest_start(&options, &error);
                g_assert_no_error(error);
        }
        fx.daemon = vt_test_daemon_start(fx.dir, config_text, &error);
        g_assert_no_error(error);
        vt_test_daemon_set_dump_func(fx.daemon, dump_libvirtd_log, fx.libvirt);
        vt_test_daemon_assert_guests_added(fx.daemon, fx.guests, N_GUESTS, 0, PHASE_US);

        phase_reclaim(&fx);
        phase_cli_policy(&fx);
        phase_pressure(&fx);
        phase_libvirtd_restart(&fx);
        phase_domain_destroyed(&fx);
        phase_sigterm(&fx);

        g_clear_pointer(&fx.daemon, vt_test_daemon_free);
        for (guint i = 0; i < N_GUESTS; i++)
                g_clear_pointer(&fx.guests[i], vt_test_guest_free);
        g_clear_pointer(&fx.libvirt, vt_test_libvirt_free);
        vt_test_remove_tree(fx.dir);
        g_free(fx.dir);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/libvirt/daemon/domains", test_libvirt_daemon);
        return g_test_run();
}
