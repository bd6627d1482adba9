/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Integration tests of the test guest as a libvirt domain and of the
 * harness's libvirtd: boot, libvirt's view of the domain (pid, metadata,
 * balloon stats), destroy, a libvirtd restart under a running domain, and
 * the clean-up of domains left behind by dead tests.
 *
 * The whole executable shares one VtTestLibvirt: the host's libvirtd if it
 * answers, else one the harness starts (and stops after the last test).
 * Each test boots its own domain from the fixture and tears it down,
 * domain, QEMU and temp dir included, whatever happened in the test.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "tests/vt-test-guest.h"
#include "tests/vt-test-libvirt.h"
#include "tests/vt-test-util.h"

#define MIB             (G_GUINT64_CONSTANT(1024) * 1024)
#define GUEST_MEMORY    (512 * MIB)
#define STATS_GUARD_US  (60 * G_USEC_PER_SEC)
#define STATS_POLL_MS   200
#define PROBE_URI       "https://vmtide.org/xmlns/test-probe/1"
#define PROBE_METADATA  "<probe:probe xmlns:probe='" PROBE_URI "' value='a&amp;b'/>"
#define OWNER_URI       "https://vmtide.org/xmlns/test-owner/1"
#define AGENT_PORT      "org.vmtide.agent.0"
#define LIBVIRT_LOG_DIR "/var/log/libvirt/qemu"

/* Shared by every test; freed after the last one. */
static VtTestLibvirt *test_libvirt;
static guint domain_serial;

typedef struct {
        VtTestGuest *guest;
        virConnectPtr conn;
        char *name;
        char *dir;
        GPid pid;
} GuestFixture;

/**
 * libvirt_get() - The shared libvirtd, started on first use.
 *
 * Return: (transfer none) the handle, or NULL if the test was skipped
 */
static VtTestLibvirt *
libvirt_get(void)
{
        g_autofree char *reason = NULL;
        g_autoptr(GError) error = NULL;

        if (!vt_test_skip_unless(vt_test_libvirt_available(&reason), reason))
                return NULL;
        if (test_libvirt == NULL) {
                test_libvirt = vt_test_libvirt_ensure(&error);
                g_assert_no_error(error);
                g_test_message("libvirtd: %s", vt_test_libvirt_owns_daemon(test_libvirt)
                                                   ? "started by the harness"
                                                   : "the host's");
        }
        return test_libvirt;
}

/**
 * domain_name_new() - A domain name unique on the host: vt-lv-<pid>-<n>.
 *
 * Return: the name (transfer full)
 */
static char *
domain_name_new(void)
{
        return g_strdup_printf("vt-lv-%d-%u", (int)getpid(), ++domain_serial);
}

/**
 * connect_or_fail() - A fresh connection to the test libvirtd; the test fails without one.
 *
 * Return: the connection (transfer full)
 */
static virConnectPtr
connect_or_fail(void)
{
        g_autoptr(GError) error = NULL;
        virConnectPtr conn = vt_test_libvirt_connect(vt_test_libvirt_get_uri(test_libvirt), &error);

        g_assert_no_error(error);
        return conn;
}

static void
fixture_setup(GuestFixture *fixture, gconstpointer data)
{
}

/**
 * fixture_boot() - Boot a libvirt-mode guest for the test.
 * @fixture: the fixture
 *
 * Return: TRUE if booted, FALSE if the test was skipped
 */
static gboolean
fixture_boot(GuestFixture *fixture)
{
        VtTestLibvirt *lv = libvirt_get();
        VtTestGuestOptions options = {0};
        g_autoptr(GError) error = NULL;

        if (lv == NULL)
                return FALSE;
        fixture->name = domain_name_new();
        options.name = fixture->name;
        options.memory_bytes = GUEST_MEMORY;
        options.libvirt_uri = vt_test_libvirt_get_uri(lv);
        options.libvirt_metadata = PROBE_METADATA;
        fixture->guest = vt_test_guest_start(&options, &error);
        if (error != NULL) {
                g_autofree char *log = vt_test_libvirt_read_log(lv);

                g_test_message("libvirtd's log:\n%s", log);
        }
        g_assert_no_error(error);
        fixture->dir = g_strdup(vt_test_guest_get_dir(fixture->guest));
        fixture->pid = vt_test_guest_get_pid(fixture->guest);
        fixture->conn = connect_or_fail();
        g_test_message("domain '%s' ready in %.2f s, QEMU pid %d", fixture->name,
                       (double)vt_test_guest_get_ready_us(fixture->guest) / G_USEC_PER_SEC,
                       (int)fixture->pid);
        return TRUE;
}

/**
 * domain_exists() - Whether libvirt knows a domain of that name.
 * @conn: a connection
 * @name: the domain name
 *
 * Return: TRUE if found; the test fails on errors other than "no domain"
 */
static gboolean
domain_exists(virConnectPtr conn, const char *name)
{
        virDomainPtr domain = virDomainLookupByName(conn, name);

        if (domain == NULL) {
                g_assert_cmpint(virGetLastErrorCode(), ==, VIR_ERR_NO_DOMAIN);
                return FALSE;
        }
        virDomainFree(domain);
        return TRUE;
}

/* Leaves nothing behind: no domain, no QEMU, no temp dir, no libvirt log. */
static void
fixture_teardown(GuestFixture *fixture, gconstpointer data)
{
        g_clear_pointer(&fixture->guest, vt_test_guest_free);
        if (fixture->pid > 0)
                g_assert_true(kill(fixture->pid, 0) < 0 && errno == ESRCH);
        if (fixture->dir != NULL)
                g_assert_false(g_file_test(fixture->dir, G_FILE_TEST_EXISTS));
        if (fixture->conn != NULL) {
                g_autofree char *log_file = g_strdup_printf("%s.log", fixture->name);
                g_autofree char *log_path = g_build_filename(LIBVIRT_LOG_DIR, log_file, NULL);

                g_assert_false(domain_exists(fixture->conn, fixture->name));
                g_assert_false(g_file_test(log_path, G_FILE_TEST_EXISTS));
                virConnectClose(fixture->conn);
        }
        g_free(fixture->name);
        g_free(fixture->dir);
}

/**
 * workload_ping() - The workload must answer "pong".
 * @guest: the guest
 */
static void
workload_ping(VtTestGuest *guest)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *reply = vt_test_guest_workload(guest, "ping", 0, &error);

        g_assert_no_error(error);
        g_assert_cmpstr(reply, ==, "pong");
}

/**
 * cmdline_has_arg() - Whether a process's command line has @arg (followed by @value).
 * @pid: the process
 * @arg: an argument, e.g. "-uuid"
 * @value: (nullable) the argument that must follow it
 *
 * Return: TRUE if found
 */
static gboolean
cmdline_has_arg(GPid pid, const char *arg, const char *value)
{
        g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", (int)pid);
        g_autofree char *contents = NULL;
        gsize len = 0;

        if (!g_file_get_contents(path, &contents, &len, NULL))
                return FALSE;
        for (gsize i = 0; i < len; i += strlen(contents + i) + 1) {
                const char *next = contents + i + strlen(contents + i) + 1;

                if (strcmp(contents + i, arg) != 0)
                        continue;
                if (value == NULL)
                        return TRUE;
                if (next < contents + len && strcmp(next, value) == 0)
                        return TRUE;
        }
        return FALSE;
}

typedef struct {
        virDomainPtr domain;
        guint64 usable_kib;
} StatsWait;

static gboolean
stats_have_usable(gpointer data)
{
        StatsWait *wait = data;
        virDomainMemoryStatStruct stats[VIR_DOMAIN_MEMORY_STAT_NR];
        int n = virDomainMemoryStats(wait->domain, stats, VIR_DOMAIN_MEMORY_STAT_NR, 0);

        for (int i = 0; i < n; i++) {
                if (stats[i].tag == VIR_DOMAIN_MEMORY_STAT_USABLE && stats[i].val > 0) {
                        wait->usable_kib = stats[i].val;
                        return TRUE;
                }
        }
        return FALSE;
}

static gboolean
on_stats_poll(gpointer data)
{
        return G_SOURCE_CONTINUE;
}

/**
 * wait_usable_kib() - Wait until libvirt reports the guest's usable memory.
 * @domain: the domain
 *
 * The guest's balloon driver reports every 2 s (<stats period='2'/>), and
 * libvirt offers no event for it: the stats are asked for every 200 ms.
 *
 * Return: usable memory in KiB, 0 if none came within the guard
 */
static guint64
wait_usable_kib(virDomainPtr domain)
{
        StatsWait wait = {.domain = domain};
        guint poll_id = g_timeout_add(STATS_POLL_MS, on_stats_poll, NULL);

        vt_test_run_until(stats_have_usable, &wait, STATS_GUARD_US);
        g_source_remove(poll_id);
        return wait.usable_kib;
}

/**
 * agent_socket_path() - The host path libvirt chose for the agent channel.
 * @domain: the domain
 *
 * Return: the path (transfer full), or NULL if the XML has none
 */
static char *
agent_socket_path(virDomainPtr domain)
{
        g_autofree char *xml = virDomainGetXMLDesc(domain, 0);
        const char *target = xml != NULL ? strstr(xml, "name='" AGENT_PORT "'") : NULL;
        const char *source, *path, *end;
        g_autofree char *channel = NULL;

        if (target == NULL)
                return NULL;
        /* The <source> comes before the <target> in the channel element. */
        channel = g_strndup(xml, (gsize)(target - xml));
        source = g_strrstr(channel, "<source mode='bind' path='");
        if (source == NULL)
                return NULL;
        path = source + strlen("<source mode='bind' path='");
        end = strchr(path, '\'');
        return end != NULL ? g_strndup(path, (gsize)(end - path)) : NULL;
}

static void
test_libvirt_guest_boot(GuestFixture *fixture, gconstpointer data)
{
        g_autofree char *uuid_arg = NULL;
        g_autofree char *workload_sock = NULL;
        g_autofree char *agent_sock = NULL;
        g_autofree char *metadata = NULL;
        char uuid[VIR_UUID_STRING_BUFLEN];
        g_autoptr(GError) error = NULL;
        g_autofree char *reply = NULL;
        virDomainPtr domain;
        guint64 usable_kib;

        if (!fixture_boot(fixture))
                return;
        g_assert_cmpstr(vt_test_guest_get_libvirt_name(fixture->guest), ==, fixture->name);
        g_assert_null(vt_test_guest_get_qmp_path(fixture->guest));
        g_assert_null(vt_test_guest_get_agent_path(fixture->guest));
        g_assert_cmpuint(vt_test_guest_get_mem_total(fixture->guest), >, 256 * MIB);
        workload_ping(fixture->guest);
        workload_sock = g_build_filename(fixture->dir, "workload.sock", NULL);
        g_assert_true(g_file_test(workload_sock, G_FILE_TEST_EXISTS));

        domain = virDomainLookupByName(fixture->conn, fixture->name);
        g_assert_nonnull(domain);
        g_assert_cmpint(virDomainIsActive(domain), ==, 1);
        g_assert_cmpint(virDomainGetUUIDString(domain, uuid), ==, 0);

        /* The pid is libvirt's QEMU of this very domain. */
        g_assert_cmpint(kill(fixture->pid, 0), ==, 0);
        g_assert_true(cmdline_has_arg(fixture->pid, "-uuid", uuid));

        /* The agent channel is where the domain XML says. */
        agent_sock = agent_socket_path(domain);
        g_assert_nonnull(agent_sock);
        g_test_message("agent socket '%s'", agent_sock);
        g_assert_true(g_file_test(agent_sock, G_FILE_TEST_EXISTS));

        metadata = virDomainGetMetadata(domain, VIR_DOMAIN_METADATA_ELEMENT, PROBE_URI,
                                        VIR_DOMAIN_AFFECT_LIVE);
        g_assert_nonnull(metadata);
        g_assert_nonnull(strstr(metadata, "value=\"a&amp;b\""));

        usable_kib = wait_usable_kib(domain);
        g_test_message("usable memory %" G_GUINT64_FORMAT " KiB", usable_kib);
        g_assert_cmpuint(usable_kib, >, 0);
        g_assert_cmpuint(usable_kib * 1024, <=, GUEST_MEMORY);
        virDomainFree(domain);

        vt_test_guest_kill(fixture->guest);
        g_assert_false(domain_exists(fixture->conn, fixture->name));
        g_assert_true(kill(fixture->pid, 0) < 0 && errno == ESRCH);
        reply = vt_test_guest_workload(fixture->guest, "ping", 0, &error);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CLOSED);
        g_assert_null(reply);
        /* Idempotent. */
        vt_test_guest_kill(fixture->guest);
}

static void
test_libvirt_guest_restart(GuestFixture *fixture, gconstpointer data)
{
        VtTestLibvirt *lv = libvirt_get();
        g_autoptr(GError) error = NULL;
        virConnectPtr conn;
        virDomainPtr domain;
        int state = 0, reason = 0;

        if (lv == NULL)
                return;
        if (!vt_test_libvirt_owns_daemon(lv)) {
                g_test_skip("the host's libvirtd is running: the harness does not restart it");
                return;
        }
        if (!fixture_boot(fixture))
                return;
        virConnectClose(g_steal_pointer(&fixture->conn));

        g_assert_true(vt_test_libvirt_stop_daemon(lv, &error));
        g_assert_no_error(error);
        conn = vt_test_libvirt_connect(vt_test_libvirt_get_uri(lv), &error);
        g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
        g_assert_null(conn);
        g_clear_error(&error);
        /* QEMU runs on without libvirtd, and so does the guest. */
        g_assert_cmpint(kill(fixture->pid, 0), ==, 0);
        workload_ping(fixture->guest);

        g_assert_true(vt_test_libvirt_start_daemon(lv, &error));
        g_assert_no_error(error);
        fixture->conn = connect_or_fail();
        domain = virDomainLookupByName(fixture->conn, fixture->name);
        g_assert_nonnull(domain);
        g_assert_cmpint(virDomainGetState(domain, &state, &reason, 0), ==, 0);
        g_assert_cmpint(state, ==, VIR_DOMAIN_RUNNING);
        virDomainFree(domain);
        g_assert_cmpint(kill(fixture->pid, 0), ==, 0);
        workload_ping(fixture->guest);
}

/**
 * dead_pid() - A pid that no process has now: a reaped child's.
 *
 * Return: the pid
 */
static GPid
dead_pid(void)
{
        const char *argv[] = {"/bin/true", NULL};
        g_autoptr(GError) error = NULL;
        GPid pid = 0;

        g_assert_true(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                    NULL, &pid, &error));
        g_assert_no_error(error);
        g_assert_cmpint(waitpid(pid, NULL, 0), ==, pid);
        g_spawn_close_pid(pid);
        return pid;
}

static void
test_libvirt_guest_reap_orphan(GuestFixture *fixture, gconstpointer data)
{
        VtTestLibvirt *lv = libvirt_get();
        g_autofree char *orphan = NULL;
        g_autofree char *xml = NULL;
        virConnectPtr conn;
        virDomainPtr domain;

        if (lv == NULL)
                return;
        /* A domain a crashed test left: firmware only, with no disk to boot. */
        orphan = domain_name_new();
        xml = g_strdup_printf("<domain type='qemu'><name>%s</name>"
                              "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
                              "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
                              "<metadata><o:owner xmlns:o='" OWNER_URI "' pid='%d'/></metadata>"
                              "<devices><memballoon model='none'/></devices>"
                              "<seclabel type='static' model='dac' relabel='no'>"
                              "<label>+0:+0</label></seclabel></domain>",
                              orphan, (int)dead_pid());
        conn = connect_or_fail();
        domain = virDomainCreateXML(conn, xml, VIR_DOMAIN_NONE);
        if (domain == NULL)
                g_error("cannot create domain '%s': %s", orphan, virGetLastErrorMessage());
        virDomainFree(domain);
        g_assert_true(domain_exists(conn, orphan));

        /* The next libvirt-mode guest cleans it up. */
        if (!fixture_boot(fixture)) {
                virConnectClose(conn);
                return;
        }
        g_assert_false(domain_exists(conn, orphan));
        g_assert_true(domain_exists(conn, fixture->name));
        virConnectClose(conn);
}

int
main(int argc, char **argv)
{
        int ret;

        g_test_init(&argc, &argv, NULL);
        g_test_add("/libvirt/guest/boot", GuestFixture, NULL, fixture_setup,
                   test_libvirt_guest_boot, fixture_teardown);
        g_test_add("/libvirt/guest/restart", GuestFixture, NULL, fixture_setup,
                   test_libvirt_guest_restart, fixture_teardown);
        g_test_add("/libvirt/guest/reap-orphan", GuestFixture, NULL, fixture_setup,
                   test_libvirt_guest_reap_orphan, fixture_teardown);
        ret = g_test_run();
        g_clear_pointer(&test_libvirt, vt_test_libvirt_free);
        return ret;
}
