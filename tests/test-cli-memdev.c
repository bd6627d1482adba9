/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Integration: a guest's virtio-mem device through a real vmtided to the control socket and the
 * CLI. */

/*
 * Two guests of 256 MiB boot memory under a real vmtided (QMP-direct):
 * one with a 256 MiB virtio-mem device and `memdev-strategy =
 * balloon-only` in its group (vmtided leaves the device's requested size
 * alone, so the test drives it), one without a device. What is checked
 * is the configuration, control-socket and CLI side of issue 17:
 * query-guest's `memdev` object (and its absence), `vmtide list`'s
 * PLUGGED column ("-" without a device, columns aligned) and `vmtide
 * stats`' Virtio-mem line, the MEMDEV event when QEMU plugs memory asked
 * of it over QMP, a reload (SIGHUP) that changes the guest's strategy, and
 * a set-target above the boot memory that vmtided plugs.
 */
#include <signal.h>
#include <string.h>

#include "tests/vt-test-daemon.h"
#include "tests/vt-test-guest.h"
#include "tests/vt-test-util.h"
#include "vt-autocleanups.h"

#define MIB       (G_GUINT64_CONSTANT(1) << 20)
#define BOOT      (256 * MIB)
#define VMEM_MAX  (256 * MIB)
#define PLUG      (128 * MIB)
#define GROW      (192 * MIB)
#define PHASE_US  (120 * G_USEC_PER_SEC)
#define DEV_GUEST "vtmd0"
#define RAW_GUEST "vtmd1"

#define CONFIG_HEAD                                                                                \
        "[daemon]\ntick-interval-ms = 1000\nagent-interval-ms = 1000\n"                            \
        "[ksm]\nenabled = false\n"

typedef struct {
        char *dir;
        VtTestGuest *guests[2];
        VtTestDaemon *daemon;
} Fixture;

static char *
config_text(const char *strategy)
{
        return g_strdup_printf(CONFIG_HEAD "[guest:" DEV_GUEST "]\nmemdev-strategy = %s\n",
                               strategy);
}

/* query-guest NAME's `memdev` object (owned by @ret_guest), or NULL. */
static json_object *
memdev_of(Fixture *fx, const char *name, json_object **ret_guest)
{
        g_autoptr(GError) error = NULL;
        json_object *memdev = NULL;

        *ret_guest = vt_test_daemon_query_guest(fx->daemon, name, &error);
        g_assert_no_error(error);
        if (!json_object_object_get_ex(*ret_guest, "memdev", &memdev))
                return NULL;
        return memdev;
}

static gint64
member_int(json_object *object, const char *member)
{
        json_object *value = NULL;

        g_assert_true(json_object_object_get_ex(object, member, &value));
        g_assert_true(json_object_is_type(value, json_type_int));
        return json_object_get_int64(value);
}

static const char *
member_string(json_object *object, const char *member)
{
        json_object *value = NULL;

        g_assert_true(json_object_object_get_ex(object, member, &value));
        return json_object_get_string(value);
}

/* `vmtide ARGS...`'s output; it must succeed and say nothing on stderr. */
static char *
run_cli(Fixture *fx, const char *first_arg, const char *second_arg)
{
        g_autofree char *err = NULL;
        char *out = NULL;
        int status;

        status = vt_test_daemon_run_cli(fx->daemon, &out, &err, first_arg, second_arg, NULL);
        g_test_message("vmtide %s %s:\n%s%s", first_arg, second_arg != NULL ? second_arg : "", out,
                       err);
        g_assert_cmpint(status, ==, 0);
        g_assert_cmpstr(err, ==, "");
        return out;
}

/* In `vmtide list`, @name's PLUGGED cell reads @expected and ends where the
 * header's PLUGGED does (right-aligned, as every size column). */
static void
assert_list_plugged(const char *list, const char *name, const char *expected)
{
        g_auto(GStrv) lines = g_strsplit(list, "\n", -1);
        const char *plugged = strstr(lines[0], "PLUGGED");
        g_autofree char *cell = g_strdup_printf(" %s", expected);
        gsize end;

        g_assert_nonnull(plugged);
        end = (gsize)(plugged - lines[0]) + strlen("PLUGGED");
        for (guint i = 1; lines[i] != NULL; i++) {
                g_autofree char *head = NULL;

                if (!g_str_has_prefix(lines[i], name) || lines[i][strlen(name)] != ' ')
                        continue;
                g_assert_cmpuint(strlen(lines[i]), >, end);
                g_assert_true(lines[i][end] == ' ');
                head = g_strndup(lines[i], end);
                if (!g_str_has_suffix(head, cell))
                        g_error("PLUGGED of '%s' is not '%s':\n%s", name, expected, list);
                return;
        }
        g_error("no line for '%s' in vmtide list:\n%s", name, list);
}

static void
phase_shown(Fixture *fx)
{
        g_autoptr(json_object) dev_guest = NULL;
        g_autoptr(json_object) raw_guest = NULL;
        json_object *memdev;
        g_autofree char *list = NULL;
        g_autofree char *stats = NULL;
        g_autofree char *raw_stats = NULL;

        vt_test_say("the device as the control socket and the CLI show it");
        memdev = memdev_of(fx, DEV_GUEST, &dev_guest);
        g_assert_nonnull(memdev);
        g_assert_cmpstr(member_string(memdev, "id"), ==, "vm0");
        g_assert_cmpint(member_int(memdev, "block_size"), ==, 2 * MIB);
        g_assert_cmpint(member_int(memdev, "max"), ==, VMEM_MAX);
        g_assert_cmpint(member_int(memdev, "plugged"), ==, 0);
        g_assert_cmpint(member_int(memdev, "requested"), ==, 0);
        g_assert_cmpstr(member_string(memdev, "strategy"), ==, "balloon-only");
        /* Not driven (balloon-only): the currency is the balloon's. */
        g_assert_cmpint(member_int(dev_guest, "memory"), ==, member_int(dev_guest, "actual"));
        g_assert_false(json_object_get_boolean(json_object_object_get(memdev, "unplug_stuck")));
        /* No device, no member. */
        g_assert_null(memdev_of(fx, RAW_GUEST, &raw_guest));

        list = run_cli(fx, "list", NULL);
        assert_list_plugged(list, DEV_GUEST, "0 B");
        assert_list_plugged(list, RAW_GUEST, "-");

        stats = run_cli(fx, "stats", DEV_GUEST);
        g_assert_nonnull(strstr(stats, "Virtio-mem:     plugged 0 B, requested 0 B, max 256.0 MiB, "
                                       "blocks of 2.0 MiB, balloon-only, device 'vm0'\n"));
        raw_stats = run_cli(fx, "stats", RAW_GUEST);
        g_assert_nonnull(strstr(raw_stats, "Virtio-mem:     -\n"));
}

static gboolean
requested_is_plug(gpointer data)
{
        g_autoptr(json_object) guest = NULL;
        json_object *memdev = memdev_of(data, DEV_GUEST, &guest);

        return memdev != NULL && member_int(memdev, "requested") == (gint64)PLUG;
}

/* Memory plugged by QEMU is told (MEMDEV) and shown. */
static void
phase_plugged(Fixture *fx)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) guest = NULL;
        g_autoptr(json_object) ret = NULL;
        json_object *args = json_object_new_object();
        json_object *memdev;
        const VtTestDaemonEvent *event = NULL;
        g_autofree char *list = NULL;
        guint from = vt_test_daemon_get_n_events(fx->daemon);
        gint64 deadline = g_get_monotonic_time() + PHASE_US;

        vt_test_say("QEMU plugs %" G_GUINT64_FORMAT " MiB", PLUG / MIB);
        json_object_object_add(args, "path", json_object_new_string("/machine/peripheral/vm0"));
        json_object_object_add(args, "property", json_object_new_string("requested-size"));
        json_object_object_add(args, "value", json_object_new_int64((gint64)PLUG));
        ret = vt_test_daemon_qemu_execute(fx->guests[0], "qom-set", args, &error);
        g_assert_no_error(error);

        /* Plugging goes in blocks: the events until the whole of it. */
        while (TRUE) {
                event = vt_test_daemon_wait_event(fx->daemon, &from, "MEMDEV", DEV_GUEST,
                                                  MAX(deadline - g_get_monotonic_time(), 1));
                g_assert_nonnull(event);
                g_assert_true(
                    json_object_get_boolean(json_object_object_get(event->data, "present")));
                g_assert_cmpstr(member_string(event->data, "id"), ==, "vm0");
                g_assert_cmpint(member_int(event->data, "max"), ==, VMEM_MAX);
                g_assert_cmpint(member_int(event->data, "plugged"), <=, PLUG);
                if (member_int(event->data, "plugged") == (gint64)PLUG)
                        break;
        }
        g_assert_cmpuint(vt_test_daemon_count_events(fx->daemon, 0, "MEMDEV", RAW_GUEST), ==, 0);

        /* QEMU's event carries the size alone: the requested size asked
         * behind vmtided's back is read on the guest's next refresh. */
        g_assert_true(vt_test_daemon_poll_until(requested_is_plug, fx, PHASE_US));
        memdev = memdev_of(fx, DEV_GUEST, &guest);
        g_assert_nonnull(memdev);
        g_assert_cmpint(member_int(memdev, "plugged"), ==, PLUG);
        list = run_cli(fx, "list", NULL);
        assert_list_plugged(list, DEV_GUEST, "128.0 MiB");
        assert_list_plugged(list, RAW_GUEST, "-");
}

typedef struct {
        Fixture *fx;
        const char *strategy;
} StrategyWait;

static gboolean
strategy_is(gpointer data)
{
        StrategyWait *w = data;
        g_autoptr(json_object) guest = NULL;
        json_object *memdev = memdev_of(w->fx, DEV_GUEST, &guest);

        return memdev != NULL && g_strcmp0(member_string(memdev, "strategy"), w->strategy) == 0;
}

/* memory is actual plus plugged for the driven guest, actual for the other,
 * each read in one reply. */
static gboolean
memory_adds_up(gpointer data)
{
        Fixture *fx = data;
        g_autoptr(json_object) dev = NULL;
        g_autoptr(json_object) raw = NULL;
        json_object *memdev = memdev_of(fx, DEV_GUEST, &dev);

        g_assert_null(memdev_of(fx, RAW_GUEST, &raw));
        g_assert_cmpint(member_int(raw, "memory"), ==, member_int(raw, "actual"));
        return memdev != NULL && member_int(memdev, "plugged") > 0 &&
               member_int(dev, "memory") ==
                   member_int(dev, "actual") + member_int(memdev, "plugged");
}

/* A reload gives the guest the strategy its group now names. */
static void
phase_reload(Fixture *fx)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *path = g_build_filename(fx->dir, "vmtided.conf", NULL);
        g_autofree char *config = config_text("virtio-mem-only");
        g_autofree char *text = g_strdup_printf("%s[recorder]\ndir = %s\n", config,
                                                vt_test_daemon_get_history_dir(fx->daemon));
        g_autofree char *log = NULL;
        StrategyWait wait = {fx, "virtio-mem-only"};

        vt_test_say("reload: virtio-mem-only");
        g_assert_true(g_file_set_contents(path, text, -1, &error));
        g_assert_no_error(error);
        vt_test_daemon_kill(fx->daemon, SIGHUP);
        g_assert_true(vt_test_daemon_poll_until(strategy_is, &wait, PHASE_US));
        /* Driven now: the guest holds its balloon's actual and what is plugged. */
        g_assert_true(vt_test_daemon_poll_until(memory_adds_up, fx, PHASE_US));
        log = vt_test_daemon_read_log(fx->daemon);
        g_assert_nonnull(strstr(log, "guest '" DEV_GUEST "': memory strategy 'virtio-mem-only' "
                                     "from the reloaded configuration"));
        g_assert_nonnull(strstr(log, "[guest:" DEV_GUEST "] policy"));
}

/* set-target above the boot memory is not clamped to it when the device is
 * driven: vmtided plugs the difference. */
static void
phase_set_target(Fixture *fx)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) ret = NULL;
        g_autoptr(json_object) guest = NULL;
        json_object *args = json_object_new_object();
        json_object *target = NULL;
        json_object *memdev;
        const VtTestDaemonEvent *event;
        guint from = vt_test_daemon_get_n_events(fx->daemon);
        gint64 deadline = g_get_monotonic_time() + PHASE_US;

        vt_test_say("set-target %" G_GUINT64_FORMAT " MiB", (BOOT + GROW) / MIB);
        json_object_object_add(args, "name", json_object_new_string(DEV_GUEST));
        json_object_object_add(args, "bytes", json_object_new_int64((gint64)(BOOT + GROW)));
        ret = vt_test_daemon_execute(fx->daemon, "set-target", args, &error);
        g_assert_no_error(error);
        g_assert_true(json_object_object_get_ex(ret, "target", &target));
        g_assert_cmpint(json_object_get_int64(target), ==, (gint64)(BOOT + GROW));
        /* The MEMDEV events as QEMU plugs, until the whole of it. */
        do {
                event = vt_test_daemon_wait_event(fx->daemon, &from, "MEMDEV", DEV_GUEST,
                                                  MAX(deadline - g_get_monotonic_time(), 1));
                g_assert_nonnull(event);
        } while (member_int(event->data, "plugged") != (gint64)GROW);
        memdev = memdev_of(fx, DEV_GUEST, &guest);
        g_assert_nonnull(memdev);
        g_assert_cmpint(member_int(memdev, "plugged"), ==, (gint64)GROW);
        g_assert_cmpint(member_int(memdev, "requested"), ==, (gint64)GROW);
        g_assert_cmpint(member_int(guest, "memory"), ==,
                        member_int(guest, "actual") + (gint64)GROW);
}

static void
test_cli_memdev(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *reason = NULL;
        g_autofree char *config = config_text("balloon-only");
        const char *names[] = {DEV_GUEST, RAW_GUEST};
        Fixture fx = {0};

        if (!vt_test_skip_unless(vt_test_guest_available(&reason), reason))
                return;
        fx.dir = g_dir_make_tmp("vt-cli-memdev-XXXXXX", &error);
        g_assert_no_error(error);
        for (guint i = 0; i < G_N_ELEMENTS(fx.guests); i++) {
                const VtTestGuestOptions options = {.name = names[i],
                                                    .memory_bytes = BOOT,
                                                    .virtio_mem_bytes = i == 0 ? VMEM_MAX : 0};

                fx.guests[i] = vt_test_guest_start(&options, &error);
                g_assert_no_error(error);
        }
        fx.daemon = vt_test_daemon_start(fx.dir, config, &error);
        g_assert_no_error(error);
        for (guint i = 0; i < G_N_ELEMENTS(fx.guests); i++) {
                vt_test_daemon_add_guest(fx.daemon, fx.guests[i], &error);
                g_assert_no_error(error);
        }
        vt_test_daemon_assert_guests_added(fx.daemon, fx.guests, G_N_ELEMENTS(fx.guests), 0,
                                           PHASE_US);

        phase_shown(&fx);
        phase_plugged(&fx);
        phase_reload(&fx);
        phase_set_target(&fx);

        g_clear_pointer(&fx.daemon, vt_test_daemon_free);
        for (guint i = 0; i < G_N_ELEMENTS(fx.guests); i++)
                g_clear_pointer(&fx.guests[i], vt_test_guest_free);
        vt_test_remove_tree(fx.dir);
        g_free(fx.dir);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/cli/memdev/vmtided", test_cli_memdev);
        return g_test_run();
}
