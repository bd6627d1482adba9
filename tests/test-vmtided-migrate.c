/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Integration: two vmtided on this machine, QMP-direct, moving guests
 * between them: by hand (`vmtide migrate g1 peer2`) and by the first
 * daemon's planner when its host turns critical.
 *
 * Theory of operation: the two daemons have their own directories, guest
 * sockets, control sockets and budgets ("hosts" d1 and d2). d1's
 * `[migrate] qmp-destination-command` is a small script: given the guest
 * and the peer, it links the receiving QEMU the test started beforehand
 * (`incoming`, listening on a unix socket) into d2's guest directory, so
 * that d2 discovers it as a destination vmtided would, and prints its
 * `unix:` URI. d1 reads d2's room from d2's control socket
 * (`[peer:peer2] control-socket`).
 *
 * (a) By hand: `vmtide migrate g1 peer2` follows the move to its end;
 *     d1 tells MIGRATION_FINISHED (completed) and only then drops g1
 *     (GUEST_REMOVED), d2 adds it (GUEST_ADDED), and the workload on the
 *     destination answers "check" with the allocation and checksum it had
 *     before the move.
 * (b) By itself: g2 and g3 arrive on d1 with `min` at their whole size
 *     (the balloon cannot take anything), g3 pinned; together they overrun
 *     d1's budget and d1 turns critical. Its planner waits out the
 *     hysteresis, measures g2's dirty rate (DIRTY_RATE), moves g2 to peer2
 *     (PLAN move, MIGRATION_STARTED, MIGRATION_FINISHED completed), and d1
 *     leaves critical; d2 adds g2, whose workload survived.
 *
 * What one machine leaves unproven: both "hosts" share /proc and the KSM
 * knobs, so KSM is off in both (its yield is not part of the test), and
 * each daemon's free memory is its budget's, not a machine's; the link is
 * a unix socket, not a network.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "tests/vt-test-daemon.h"

#define MIB          (G_GUINT64_CONSTANT(1024) * 1024)
#define GUEST_MEMORY (256 * MIB)
#define ALLOC_BYTES  (32 * MIB)
#define PHASE_US     (120 * G_USEC_PER_SEC)

typedef struct {
        char *dir;
        char *d1_dir;
        char *d2_dir;
        VtTestDaemon *d1;
        VtTestDaemon *d2;
        GPtrArray *guests; /* VtTestGuest, freed at the end */
} Fixture;

static char *
workload(VtTestGuest *guest, const char *command)
{
        g_autoptr(GError) error = NULL;
        char *reply = vt_test_guest_workload(guest, command, 0, &error);

        g_assert_no_error(error);
        g_assert_true(g_str_has_prefix(reply, "ok"));
        return reply;
}

static VtTestGuest *
guest_start(Fixture *fx, const char *name, gboolean incoming)
{
        const VtTestGuestOptions options = {
            .name = name, .memory_bytes = GUEST_MEMORY, .incoming = incoming, .migrates = TRUE};
        g_autoptr(GError) error = NULL;
        VtTestGuest *guest = vt_test_guest_start(&options, &error);

        g_assert_no_error(error);
        g_ptr_array_add(fx->guests, guest);
        return guest;
}

/* Starts the receiving QEMU of @name and leaves what the destination
 * script needs beside it: where its sockets are and its URI. */
static VtTestGuest *
destination_prepare(Fixture *fx, const char *name)
{
        VtTestGuest *in = guest_start(fx, name, TRUE);
        g_autofree char *base = g_build_filename(fx->dir, name, NULL);
        g_autofree char *qmp = g_strconcat(base, ".qmp-path", NULL);
        g_autofree char *agent = g_strconcat(base, ".agent-path", NULL);
        g_autofree char *uri = g_strconcat(base, ".uri", NULL);
        g_autoptr(GError) error = NULL;

        g_assert_true(g_file_set_contents(qmp, vt_test_guest_get_qmp_path(in), -1, &error));
        g_assert_true(g_file_set_contents(agent, vt_test_guest_get_agent_path(in), -1, &error));
        g_assert_true(g_file_set_contents(uri, vt_test_guest_get_incoming_uri(in), -1, &error));
        g_assert_no_error(error);
        return in;
}

static void
write_script(Fixture *fx)
{
        g_autofree char *path = g_build_filename(fx->dir, "destination.sh", NULL);
        g_autofree char *text = g_strdup_printf(
            "#!/bin/sh\n"
            "# GUEST PEER: hand the receiving QEMU to the second daemon, print its URI.\n"
            "set -e\n"
            "t='%s'\n"
            "ln -s \"$(cat \"$t/$1.agent-path\")\" \"$t/d2/guests/$1.agent\"\n"
            "ln -s \"$(cat \"$t/$1.qmp-path\")\" \"$t/d2/guests/$1.qmp\"\n"
            "cat \"$t/$1.uri\"\n"
            "echo\n",
            fx->dir);
        g_autoptr(GError) error = NULL;

        g_assert_true(g_file_set_contents(path, text, -1, &error));
        g_assert_no_error(error);
}

static void
daemons_start(Fixture *fx)
{
        g_autofree char *d1_config =
            g_strdup_printf("[daemon]\ntick-interval-ms = 1000\nagent-interval-ms = 1000\n"
                            "[budget]\ntotal = 400M\nreserve = 0\n"
                            "[ksm]\nenabled = false\n"
                            "[migrate]\nenabled = true\npeers = peer2\n"
                            "qmp-destination-command = /bin/sh %s/destination.sh\n"
                            "hysteresis-ticks = 2\ncooldown-guest-s = 0\ncooldown-host-s = 0\n"
                            "min-relief = 64M\npeer-interval-ms = 1000\n"
                            "[peer:peer2]\ncontrol-socket = %s/vmtided.sock\n"
                            "[guest:g2]\nmin = 256M\n"
                            "[guest:g3]\nmin = 256M\nmigrate-pinned = true\n",
                            fx->dir, fx->d2_dir);
        static const char d2_config[] = "[daemon]\ntick-interval-ms = 1000\n"
                                        "agent-interval-ms = 1000\n"
                                        "[budget]\ntotal = 3G\nreserve = 0\n"
                                        "[ksm]\nenabled = false\n";
        g_autoptr(GError) error = NULL;

        g_assert_cmpint(g_mkdir(fx->d1_dir, 0755), ==, 0);
        g_assert_cmpint(g_mkdir(fx->d2_dir, 0755), ==, 0);
        fx->d2 = vt_test_daemon_start(fx->d2_dir, d2_config, &error);
        g_assert_no_error(error);
        fx->d1 = vt_test_daemon_start(fx->d1_dir, d1_config, &error);
        g_assert_no_error(error);
}

/* The workload answers "check" as @before did: its memory survived. */
static void
assert_check_survived(VtTestGuest *guest, const char *before)
{
        g_autofree char *check = workload(guest, "check");
        g_auto(GStrv) was = g_strsplit(before, " ", -1);
        g_auto(GStrv) now = g_strsplit(check, " ", -1);

        g_test_message("check before '%s', now '%s'", before, check);
        g_assert_cmpuint(g_strv_length(now), ==, 5);
        g_assert_cmpstr(now[1], ==, was[1]);
        g_assert_cmpstr(now[2], ==, was[2]);
        g_assert_cmpstr(now[4], ==, "0");
}

static const char *
event_string(const VtTestDaemonEvent *event, const char *path)
{
        g_auto(GStrv) parts = g_strsplit(path, ".", 2);
        json_object *o = event->data;
        json_object *v = NULL;

        if (parts[1] != NULL && !json_object_object_get_ex(o, parts[0], &o))
                return NULL;
        if (!json_object_object_get_ex(o, parts[1] != NULL ? parts[1] : parts[0], &v))
                return NULL;
        return json_object_get_string(v);
}

/* (a) */
static void
phase_by_hand(Fixture *fx)
{
        VtTestGuest *g1 = guest_start(fx, "g1", FALSE);
        VtTestGuest *g1_in = destination_prepare(fx, "g1");
        g_autofree char *alloc = g_strdup_printf("alloc %" G_GUINT64_FORMAT, ALLOC_BYTES);
        g_autofree char *reply = workload(g1, alloc);
        g_autofree char *before = workload(g1, "check");
        g_autofree char *out = NULL, *err = NULL;
        g_autoptr(GError) error = NULL;
        const VtTestDaemonEvent *ev;
        guint from1 = 0, from2 = vt_test_daemon_get_n_events(fx->d2);
        int status;

        vt_test_daemon_add_guest(fx->d1, g1, &error);
        g_assert_no_error(error);
        vt_test_daemon_assert_event(fx->d1, &from1, "GUEST_ADDED", "g1", PHASE_US);

        status = vt_test_daemon_run_cli(fx->d1, &out, &err, "migrate", "g1", "peer2", NULL);
        g_test_message("vmtide migrate: %d\n%s%s", status, out, err);
        g_assert_cmpint(status, ==, 0);
        g_assert_nonnull(strstr(out, "g1: migrating to peer2; predicted: "));
        g_assert_nonnull(strstr(out, "g1: completed to peer2"));

        ev = vt_test_daemon_assert_event(fx->d1, &from1, "MIGRATION_STARTED", "g1", PHASE_US);
        g_assert_cmpstr(event_string(ev, "peer"), ==, "peer2");
        ev = vt_test_daemon_assert_event(fx->d1, &from1, "MIGRATION_FINISHED", "g1", PHASE_US);
        g_test_message("g1: %s", event_string(ev, "summary"));
        g_assert_cmpstr(event_string(ev, "outcome"), ==, "completed");
        g_assert_nonnull(event_string(ev, "predicted.total_ms"));
        g_assert_nonnull(event_string(ev, "actual.total_ms"));
        /* Dropped after the move was told, not before. */
        vt_test_daemon_assert_event(fx->d1, &from1, "GUEST_REMOVED", "g1", PHASE_US);
        vt_test_daemon_assert_event(fx->d2, &from2, "GUEST_ADDED", "g1", PHASE_US);
        assert_check_survived(g1_in, before);
        g_assert_true(vt_test_guest_wait_exit(g1, PHASE_US));
}

static gboolean
host_state_is(const VtTestDaemonEvent *ev, const char *to)
{
        return g_strcmp0(vt_test_daemon_event_string(ev, "to"), to) == 0;
}

/* Waits for d1's HOST_STATE into (or, with @leave, out of) critical. */
static void
wait_critical(Fixture *fx, guint *from, gboolean leave)
{
        gint64 end = g_get_monotonic_time() + PHASE_US;

        while (g_get_monotonic_time() < end) {
                const VtTestDaemonEvent *ev = vt_test_daemon_wait_event(
                    fx->d1, from, "HOST_STATE", NULL, end - g_get_monotonic_time());

                g_assert_nonnull(ev);
                if (host_state_is(ev, "critical") != leave)
                        return;
        }
        g_error("d1 did not %s critical", leave ? "leave" : "turn");
}

/* (b) */
static void
phase_automatic(Fixture *fx)
{
        VtTestGuest *g2 = guest_start(fx, "g2", FALSE);
        VtTestGuest *g3 = guest_start(fx, "g3", FALSE);
        VtTestGuest *g2_in = destination_prepare(fx, "g2");
        g_autofree char *alloc = g_strdup_printf("alloc %" G_GUINT64_FORMAT, ALLOC_BYTES);
        /* g2 does not dirty memory while it moves: QEMU 7.2 under TCG now and
         * then panics the guest after a move that ran with a dirtying
         * workload (docs/testing.md, "Migration faults"; twice in three CI
         * runs here); dirtying during a move is covered by test-qmp-migrate
         * and the accuracy benchmark. The planner still measures g2 first. */
        g_autofree char *r1 = workload(g2, alloc);
        g_autofree char *before = workload(g2, "check");
        g_autofree char *out = NULL, *err = NULL;
        g_autoptr(GError) error = NULL;
        const VtTestDaemonEvent *ev;
        guint from1 = vt_test_daemon_get_n_events(fx->d1);
        guint from2 = vt_test_daemon_get_n_events(fx->d2);
        guint at;

        vt_test_daemon_add_guest(fx->d1, g2, &error);
        g_assert_no_error(error);
        vt_test_daemon_add_guest(fx->d1, g3, &error);
        g_assert_no_error(error);
        wait_critical(fx, &from1, FALSE);

        at = from1;
        ev = vt_test_daemon_assert_event(fx->d1, &at, "DIRTY_RATE", "g2", PHASE_US);
        g_test_message("g2 dirties %s bytes/s", event_string(ev, "rate"));
        ev = vt_test_daemon_assert_event(fx->d1, &at, "MIGRATION_STARTED", "g2", PHASE_US);
        g_assert_cmpstr(event_string(ev, "peer"), ==, "peer2");
        g_test_message("g2 moves: %s", event_string(ev, "reason"));
        ev = vt_test_daemon_assert_event(fx->d1, &at, "MIGRATION_FINISHED", "g2", PHASE_US);
        g_test_message("g2: %s", event_string(ev, "summary"));
        g_assert_cmpstr(event_string(ev, "outcome"), ==, "completed");
        vt_test_daemon_assert_event(fx->d1, &at, "GUEST_REMOVED", "g2", PHASE_US);
        /* The planner said so before it moved: a PLAN with the move. */
        at = from1;
        do {
                ev = vt_test_daemon_assert_event(fx->d1, &at, "PLAN", NULL, PHASE_US);
        } while (g_strcmp0(event_string(ev, "action"), "move") != 0);
        g_assert_cmpstr(event_string(ev, "guest"), ==, "g2");
        g_assert_cmpuint(vt_test_daemon_count_events(fx->d1, from1, "MIGRATION_STARTED", "g3"), ==,
                         0);

        wait_critical(fx, &from1, TRUE);
        vt_test_daemon_assert_event(fx->d2, &from2, "GUEST_ADDED", "g2", PHASE_US);
        assert_check_survived(g2_in, before);

        /* What the CLI shows now: the peer and its room, the plan. */
        g_assert_cmpint(vt_test_daemon_run_cli(fx->d1, &out, &err, "hosts", NULL), ==, 0);
        g_test_message("vmtide hosts:\n%s", out);
        g_assert_nonnull(strstr(out, "peer2"));
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(vt_test_daemon_run_cli(fx->d1, &out, &err, "plan", NULL), ==, 0);
        g_test_message("vmtide plan:\n%s", out);
        g_assert_nonnull(strstr(out, "g3"));
        g_assert_nonnull(strstr(out, "pinned"));
}

static void
test_vmtided_migrate(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *reason = NULL;
        Fixture fx = {0};

        if (!vt_test_skip_unless(vt_test_guest_available(&reason), reason))
                return;
        fx.dir = g_dir_make_tmp("vt-migrate-XXXXXX", &error);
        g_assert_no_error(error);
        fx.d1_dir = g_build_filename(fx.dir, "d1", NULL);
        fx.d2_dir = g_build_filename(fx.dir, "d2", NULL);
        fx.guests = g_ptr_array_new_with_free_func((GDestroyNotify)vt_test_guest_free);
        write_script(&fx);
        daemons_start(&fx);

        phase_by_hand(&fx);
        phase_automatic(&fx);

        g_clear_pointer(&fx.d1, vt_test_daemon_free);
        g_clear_pointer(&fx.d2, vt_test_daemon_free);
        g_ptr_array_unref(fx.guests);
        vt_test_remove_tree(fx.dir);
        g_free(fx.d1_dir);
        g_free(fx.d2_dir);
        g_free(fx.dir);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/vmtided/migrate", test_vmtided_migrate);
        return g_test_run();
}
