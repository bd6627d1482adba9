/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A real vmtided for tests, benchmarks and the demo: started, watched, told. */
#pragma once

#include <gio/gio.h>
#include <json-c/json.h>

#include "tests/vt-test-guest.h"
#include "tests/vt-test-util.h"

G_BEGIN_DECLS

/**
 * VtTestDaemonEvent:
 * @name: the event's name
 * @data: its data
 * @at_us: local monotonic time it arrived
 */
typedef struct {
        char *name;
        json_object *data;
        gint64 at_us;
} VtTestDaemonEvent;

/* How far vmtided's and QEMU's balloon sizes may differ (the tracker's slack is 4 MiB). */
#define VT_TEST_BALLOON_SLACK ((gint64)8 << 20)

/* The floor no balloon goes under (balloon.md), unless the guest is smaller. */
#define VT_TEST_BALLOON_FLOOR ((gint64)64 << 20)

typedef struct _VtTestDaemon VtTestDaemon;

/**
 * VtTestDaemonOptions:
 * @socket_path: (nullable): its control socket; %NULL: `vmtided.sock` in
 *     its directory
 * @wrapper: (nullable): a %NULL-terminated argv run before vmtided's
 *     (`faketime`, `-f`, `+1y`), or %NULL
 * @env: (nullable): `KEY=VALUE` strings set in its environment, or %NULL
 */
typedef struct {
        const char *socket_path;
        const char *const *wrapper;
        const char *const *env;
} VtTestDaemonOptions;

/**
 * VtTestDaemonDumpFunc:
 * @user_data: as given to vt_test_daemon_set_dump_func()
 *
 * Prints, on stderr, what a failing test should show beside vmtided's log.
 */
typedef void (*VtTestDaemonDumpFunc)(gpointer user_data);

VtTestDaemon *vt_test_daemon_start(const char *dir, const char *config, GError **error);
VtTestDaemon *vt_test_daemon_start_full(const char *dir, const char *config,
                                        const VtTestDaemonOptions *options, GError **error);
gboolean vt_test_daemon_restart(VtTestDaemon *daemon, GError **error);
const char *vt_test_daemon_get_program(void);
const char *vt_test_daemon_get_socket(VtTestDaemon *daemon);
const char *vt_test_daemon_get_guest_dir(VtTestDaemon *daemon);
const char *vt_test_daemon_get_history_dir(VtTestDaemon *daemon);
GPid vt_test_daemon_get_pid(VtTestDaemon *daemon);
gboolean vt_test_daemon_add_guest(VtTestDaemon *daemon, VtTestGuest *guest, GError **error);

json_object *vt_test_daemon_execute(VtTestDaemon *daemon, const char *command,
                                    json_object *arguments, GError **error);
json_object *vt_test_daemon_query_guest(VtTestDaemon *daemon, const char *name, GError **error);
gint64 vt_test_daemon_guest_int(VtTestDaemon *daemon, const char *name, const char *member);
json_object *vt_test_daemon_guest_member(VtTestDaemon *daemon, const char *name, const char *object,
                                         const char *member);
gint64 vt_test_daemon_guest_member_int(VtTestDaemon *daemon, const char *name, const char *object,
                                       const char *member);
guint64 vt_test_daemon_sum_actual(VtTestDaemon *daemon, VtTestGuest *const *guests, guint n_guests);

guint vt_test_daemon_get_n_events(VtTestDaemon *daemon);
const VtTestDaemonEvent *vt_test_daemon_get_event(VtTestDaemon *daemon, guint index);
const VtTestDaemonEvent *vt_test_daemon_wait_event(VtTestDaemon *daemon, guint *from,
                                                   const char *name, const char *guest,
                                                   gint64 guard_us);
guint vt_test_daemon_count_events(VtTestDaemon *daemon, guint from, const char *name,
                                  const char *guest);
const VtTestDaemonEvent *vt_test_daemon_assert_event(VtTestDaemon *daemon, guint *from,
                                                     const char *name, const char *guest,
                                                     gint64 guard_us);
void vt_test_daemon_assert_guests_added(VtTestDaemon *daemon, VtTestGuest *const *guests,
                                        guint n_guests, guint from, gint64 guard_us);
const char *vt_test_daemon_event_string(const VtTestDaemonEvent *event, const char *member);
gboolean vt_test_daemon_wait_quiet(VtTestDaemon *daemon, gint64 window_us, gint64 guard_us);
gboolean vt_test_daemon_wait_agents(VtTestDaemon *daemon, VtTestGuest *const *guests,
                                    guint n_guests, const char *member, gint64 since_us,
                                    gint64 guard_us);

gboolean vt_test_daemon_poll_until(VtTestCondition done, gpointer data, gint64 guard_us);
void vt_test_daemon_kill(VtTestDaemon *daemon, int signo);
gboolean vt_test_daemon_wait_exit(VtTestDaemon *daemon, gint64 guard_us, int *ret_status);
char *vt_test_daemon_read_log(VtTestDaemon *daemon);
void vt_test_daemon_set_dump_func(VtTestDaemon *daemon, VtTestDaemonDumpFunc func,
                                  gpointer user_data);
void vt_test_daemon_dump_log(VtTestDaemon *daemon);
int vt_test_daemon_run_cli(VtTestDaemon *daemon, char **ret_stdout, char **ret_stderr,
                           const char *first_arg, ...) G_GNUC_NULL_TERMINATED;
gint64 vt_test_daemon_qemu_balloon(VtTestGuest *guest, GError **error);
void vt_test_daemon_assert_nothing_lost(VtTestDaemon *daemon, VtTestGuest *const *guests,
                                        guint n_guests, gint64 guard_us);
json_object *vt_test_daemon_qemu_execute(VtTestGuest *guest, const char *command,
                                         json_object *arguments, GError **error);
char *vt_test_daemon_qemu_status(VtTestGuest *guest);
guint vt_test_daemon_assert_runs_once(VtTestGuest *const *copies, guint n_copies, gint64 guard_us);
void vt_test_daemon_free(VtTestDaemon *daemon);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtTestDaemon, vt_test_daemon_free)

G_END_DECLS
