/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The soak's hostile peers: a fake guest that floods, and control-socket clients that misbehave. */

/*
 * Theory of operation
 *
 * Beside the three real guests, the soak gives vmtided a fourth guest,
 * `hostile`, that is nothing but trouble, and a stream of control-socket
 * clients that waste its slots. Each runs on a thread of its own with
 * blocking I/O and a stop flag, so none of them depends on the soak's
 * main loop and none can stall it:
 *
 * - the hostile agent listens on `hostile.agent` (linked into the
 *   daemon's guest directory before `hostile.qmp`, as a real guest's
 *   socket would be). Each time vmtided connects it streams, at a set
 *   rate (1 MiB/s by default, 32 times the agent budget of 32 KiB/s), a
 *   mix of valid `report` lines with a rising `seq`, random bytes, a
 *   64 KiB line, broken JSON and deep nesting, until vmtided closes the
 *   connection (it is over its budget) or the soak ends; then it waits
 *   for the next connection;
 * - the hostile QMP peer (tests/vt-fake-qmp.c) answers what vmtided asks
 *   a QEMU with a 512 MiB guest and a balloon, as bench-scale's model
 *   does, but sends a burst of BALLOON_CHANGE events (random sizes)
 *   before every reply, and hangs up every so many commands, so vmtided
 *   drops the guest and finds it again, over and over;
 * - a round of control clients every few seconds: two connect and never
 *   negotiate (vmtided closes them after 5 s), two send garbage (random
 *   bytes, an array, a half line) and read what comes back, two
 *   negotiate, run `query-guests` and leave.
 *
 * What each did is counted (atomically) for the soak's report.
 */
#include "bench/soak-peers.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/vt-fake-qmp.h"
#include "vt-autocleanups.h"

#define MIB                 (G_GUINT64_CONSTANT(1) << 20)
#define HOSTILE_MEMORY      (512 * MIB)
#define AGENT_TICK_MS       10
#define AGENT_GIANT_BYTES   (64 * 1024)
#define AGENT_NESTING       64
#define CONTROL_IDLE_US     (8 * G_USEC_PER_SEC)
#define CONTROL_IO_TIMEOUT  2 /* seconds */
#define N_IDLE_PER_ROUND    2
#define N_GARBAGE_PER_ROUND 2
#define N_GOOD_PER_ROUND    2

struct _VtSoakPeers {
        VtSoakPeerOptions options;
        char *control_socket;
        char *agent_path;
        int agent_listen_fd;
        GThread *agent_thread;
        GThread *control_thread;
        VtFakeQmp *qmp;
        gint stop;
        VtSoakCounts counts; /* each member updated with g_atomic_int_add() */

        /* The QMP peer's thread alone. */
        guint64 qmp_actual;
        guint qmp_seen_connections;
        guint qmp_connection_commands;
        GRand *qmp_rand;
};

static gboolean
peers_stopping(VtSoakPeers *peers)
{
        return g_atomic_int_get(&peers->stop) != 0;
}

/* --- the hostile agent ----------------------------------------------------- */

/* One valid report line, as vmtide-agent writes it. */
static void
agent_append_report(GString *out, guint64 seq)
{
        g_string_append_printf(
            out,
            "{\"v\":1,\"type\":\"report\",\"seq\":%" G_GUINT64_FORMAT
            ",\"reason\":\"periodic\",\"uptime_ms\":%" G_GUINT64_FORMAT
            ",\"interval_ms\":1000,\"mem\":{\"total\":479657984,\"free\":131457280,"
            "\"available\":252428800,\"buffers\":1048576,\"cached\":20971520,\"shmem\":0,"
            "\"anon\":198458880,\"swap_total\":0,\"swap_free\":0},\"vm\":{\"pgmajfault\":12,"
            "\"pswpin\":0,\"pswpout\":0,\"oom_kill\":0,\"allocstall\":0,\"pgscan_direct\":0}}\n",
            seq, seq * 10);
}

/* What goes out in one tick: valid lines first, then one kind of garbage. */
static void
agent_fill(GString *out, GRand *rand, guint64 *seq, gsize bytes)
{
        guint kind = (guint)g_rand_int_range(rand, 0, 5);

        g_string_truncate(out, 0);
        while (out->len < bytes / 2)
                agent_append_report(out, ++*seq);
        switch (kind) {
        case 0: /* random bytes, newlines among them */
                while (out->len < bytes)
                        g_string_append_c(out, (char)g_rand_int_range(rand, 0, 256));
                break;
        case 1: /* one line longer than any the reader takes */
                for (guint i = 0; i < AGENT_GIANT_BYTES; i++)
                        g_string_append_c(out, 'x');
                g_string_append_c(out, '\n');
                break;
        case 2: /* broken JSON */
                g_string_append(out, "{\"v\":1,\"type\":\"report\",\"seq\":\n{\"v\":\"1\"}\n");
                break;
        case 3: /* deep nesting */
                for (guint i = 0; i < AGENT_NESTING; i++)
                        g_string_append(out, "{\"a\":");
                g_string_append(out, "1");
                for (guint i = 0; i < AGENT_NESTING; i++)
                        g_string_append_c(out, '}');
                g_string_append_c(out, '\n');
                break;
        default: /* a report whose seq goes backwards */
                agent_append_report(out, 1);
                break;
        }
}

/* Streams to one connection until it closes or the soak ends. */
static void
agent_serve(VtSoakPeers *peers, int fd, GRand *rand)
{
        g_autoptr(GString) out = g_string_new(NULL);
        gsize per_tick = (gsize)peers->options.agent_kib_per_s * 1024 * AGENT_TICK_MS / 1000;
        guint64 seq = 0;
        struct timeval timeout = {.tv_sec = 0, .tv_usec = 200 * 1000};

        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
        while (!peers_stopping(peers)) {
                gsize sent = 0;
                guint64 first = seq;

                agent_fill(out, rand, &seq, MAX(per_tick, 1));
                g_atomic_int_add(&peers->counts.agent_lines, (gint)(seq - first));
                while (sent < out->len && !peers_stopping(peers)) {
                        ssize_t n = send(fd, out->str + sent, out->len - sent, MSG_NOSIGNAL);

                        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (n <= 0)
                                return;
                        sent += (gsize)n;
                }
                g_atomic_int_add(&peers->counts.agent_kib, (gint)(sent / 1024));
                g_usleep(AGENT_TICK_MS * 1000);
        }
}

static gpointer
agent_thread(gpointer data)
{
        VtSoakPeers *peers = data;
        g_autoptr(GRand) rand = g_rand_new_with_seed(16);

        while (!peers_stopping(peers)) {
                struct pollfd pfd = {.fd = peers->agent_listen_fd, .events = POLLIN};
                int fd;

                if (poll(&pfd, 1, 200) <= 0)
                        continue;
                fd = accept4(peers->agent_listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0)
                        continue;
                g_atomic_int_inc(&peers->counts.agent_connections);
                agent_serve(peers, fd, rand);
                close(fd);
        }
        return NULL;
}

static int
unix_listen(const char *path, GError **error)
{
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        int fd;

        if (strlen(path) >= sizeof(addr.sun_path)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG, "'%s': too long",
                            path);
                return -1;
        }
        strcpy(addr.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 8) < 0) {
                int saved_errno = errno;

                if (fd >= 0)
                        close(fd);
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
                            "listening on '%s': %s", path, g_strerror(saved_errno));
                return -1;
        }
        return fd;
}

/* --- the hostile QMP peer --------------------------------------------------- */

static const char *
qmp_arg_string(const VtQmpMessage *command, const char *name)
{
        json_object *member = NULL;

        if (command->value == NULL || !json_object_object_get_ex(command->value, name, &member))
                return "";
        return json_object_get_string(member);
}

static void
qmp_send_event(VtFakeQmp *qmp, guint64 actual)
{
        g_autofree char *text = g_strdup_printf(
            "{\"event\": \"BALLOON_CHANGE\", \"data\": {\"actual\": %" G_GUINT64_FORMAT
            "}, \"timestamp\": {\"seconds\": %" G_GINT64_FORMAT ", \"microseconds\": 0}}\r\n",
            actual, g_get_real_time() / G_USEC_PER_SEC);

        vt_fake_qmp_send(qmp, text, strlen(text));
}

/* The answer of a QEMU 7.2 with a 512 MiB guest and balloon0, or NULL. */
static char *
qmp_answer(VtSoakPeers *peers, const VtQmpMessage *command)
{
        const char *name = command->name;
        guint64 actual = peers->qmp_actual;

        if (g_str_equal(name, "query-memory-size-summary"))
                return g_strdup_printf("{\"base-memory\": %" G_GUINT64_FORMAT
                                       ", \"plugged-memory\": 0}",
                                       HOSTILE_MEMORY);
        if (g_str_equal(name, "query-balloon"))
                return g_strdup_printf("{\"actual\": %" G_GUINT64_FORMAT "}", actual);
        if (g_str_equal(name, "qom-list"))
                return g_strdup(g_str_equal(qmp_arg_string(command, "path"), "/machine/peripheral")
                                    ? "[{\"name\": \"type\", \"type\": \"string\"}, {\"name\": "
                                      "\"balloon0\", \"type\": \"child<virtio-balloon-pci>\"}]"
                                    : "[{\"name\": \"type\", \"type\": \"string\"}]");
        if (g_str_equal(name, "qom-set") || g_str_equal(name, "balloon"))
                return g_strdup("{}");
        if (g_str_equal(name, "qom-get"))
                return g_strdup_printf(
                    "{\"stats\": {\"stat-swap-out\": 0, \"stat-swap-in\": 0, "
                    "\"stat-major-faults\": 1, \"stat-minor-faults\": 1, \"stat-total-memory\": "
                    "%" G_GUINT64_FORMAT ", \"stat-free-memory\": %" G_GUINT64_FORMAT
                    ", \"stat-available-memory\": %" G_GUINT64_FORMAT
                    ", \"stat-disk-caches\": 0}, \"last-update\": %" G_GINT64_FORMAT "}",
                    actual, actual / 4, actual / 2, g_get_real_time() / G_USEC_PER_SEC);
        return NULL;
}

/* Runs in the peer's thread: a flood of events, then the answer; a hang-up now and then. */
static void
qmp_handle(VtFakeQmp *qmp, const VtQmpMessage *command, gpointer user_data)
{
        VtSoakPeers *peers = user_data;
        guint n_connections = vt_fake_qmp_get_n_connections(qmp);
        g_autofree char *reply = NULL;
        json_object *value = NULL;

        if (n_connections != peers->qmp_seen_connections) {
                peers->qmp_seen_connections = n_connections;
                peers->qmp_connection_commands = 0;
                g_atomic_int_inc(&peers->counts.qmp_connections);
        }
        g_atomic_int_inc(&peers->counts.qmp_commands);
        if (g_str_equal(command->name, "balloon") && command->value != NULL &&
            json_object_object_get_ex(command->value, "value", &value) &&
            json_object_get_int64(value) > 0)
                peers->qmp_actual = MIN(json_object_get_uint64(value), HOSTILE_MEMORY);
        for (guint i = 0; i < peers->options.qmp_burst && !peers_stopping(peers); i++)
                qmp_send_event(qmp, (guint64)g_rand_int_range(peers->qmp_rand, 1, 513) * MIB);
        g_atomic_int_add(&peers->counts.qmp_events, (gint)peers->options.qmp_burst);

        reply = qmp_answer(peers, command);
        if (reply != NULL) {
                vt_fake_qmp_reply(qmp, command, reply);
        } else {
                g_autoptr(json_object) error = vt_qmp_message_new_error(
                    "CommandNotFound", "The command has not been found", command->id);
                const char *text = json_object_to_json_string(error);

                vt_fake_qmp_send(qmp, text, strlen(text));
                vt_fake_qmp_send(qmp, "\r\n", 2);
        }
        if (peers->options.qmp_hangup_every > 0 &&
            ++peers->qmp_connection_commands >= peers->options.qmp_hangup_every)
                vt_fake_qmp_hangup(qmp);
}

/* --- control-socket clients ----------------------------------------------- */

static int
control_connect(VtSoakPeers *peers)
{
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        struct timeval timeout = {.tv_sec = CONTROL_IO_TIMEOUT};
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -1;
        g_strlcpy(addr.sun_path, peers->control_socket, sizeof(addr.sun_path));
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

/* Reads until @needle has arrived (or anything, with NULL), EOF or the timeout. */
static gboolean
control_read_until(int fd, const char *needle)
{
        g_autoptr(GString) in = g_string_new(NULL);
        char buf[4096];

        for (;;) {
                ssize_t n = recv(fd, buf, sizeof(buf), 0);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return FALSE;
                g_string_append_len(in, buf, n);
                if (needle == NULL || strstr(in->str, needle) != NULL)
                        return TRUE;
        }
}

static gboolean
control_send(int fd, const char *text, gsize len)
{
        return send(fd, text, len, MSG_NOSIGNAL) == (ssize_t)len;
}

/* Greeting, capabilities, query-guests, and away. */
static gboolean
control_good(VtSoakPeers *peers)
{
        static const char request[] = "{\"execute\": \"qmp_capabilities\"}\n"
                                      "{\"execute\": \"query-guests\", \"id\": 1}\n";
        int fd = control_connect(peers);
        gboolean ok = fd >= 0 && control_read_until(fd, "\"QMP\"") &&
                      control_send(fd, request, sizeof(request) - 1) &&
                      control_read_until(fd, "\"id\"");

        if (fd >= 0)
                close(fd);
        return ok;
}

/* Random bytes, an array, a half line; whatever comes back is read. */
static gboolean
control_garbage(VtSoakPeers *peers, GRand *rand)
{
        static const char shapes[] = "[1, 2, 3]\n{\"execute\": 42}\n{\"execute\": \"qmp_cap";
        char noise[2048];
        int fd = control_connect(peers);
        gboolean ok;

        if (fd < 0)
                return FALSE;
        for (gsize i = 0; i < sizeof(noise); i++)
                noise[i] = (char)g_rand_int_range(rand, 0, 256);
        ok = control_read_until(fd, "\"QMP\"") && control_send(fd, noise, sizeof(noise)) &&
             control_send(fd, "\n", 1) && control_send(fd, shapes, sizeof(shapes) - 1) &&
             control_read_until(fd, "error");
        close(fd);
        return ok;
}

typedef struct {
        int fd;
        gint64 since_us;
} IdleClient;

/* Closes the idle clients connected more than CONTROL_IDLE_US ago (all of them with @all). */
static void
control_close_idle(GArray *idle, gboolean all)
{
        gint64 now_us = g_get_monotonic_time();

        for (guint i = idle->len; i-- > 0;) {
                IdleClient *c = &g_array_index(idle, IdleClient, i);

                if (all || now_us - c->since_us > CONTROL_IDLE_US) {
                        close(c->fd);
                        g_array_remove_index_fast(idle, i);
                }
        }
}

static void
control_round(VtSoakPeers *peers, GArray *idle, GRand *rand)
{
        for (guint i = 0; i < N_IDLE_PER_ROUND; i++) {
                IdleClient c = {control_connect(peers), g_get_monotonic_time()};

                if (c.fd < 0) {
                        g_atomic_int_inc(&peers->counts.control_failed);
                        continue;
                }
                g_array_append_val(idle, c);
                g_atomic_int_inc(&peers->counts.control_idle);
        }
        for (guint i = 0; i < N_GARBAGE_PER_ROUND; i++)
                g_atomic_int_inc(control_garbage(peers, rand) ? &peers->counts.control_garbage
                                                              : &peers->counts.control_failed);
        for (guint i = 0; i < N_GOOD_PER_ROUND; i++)
                g_atomic_int_inc(control_good(peers) ? &peers->counts.control_good
                                                     : &peers->counts.control_failed);
}

static gpointer
control_thread(gpointer data)
{
        VtSoakPeers *peers = data;
        g_autoptr(GArray) idle = g_array_new(FALSE, FALSE, sizeof(IdleClient));
        g_autoptr(GRand) rand = g_rand_new_with_seed(1600);

        while (!peers_stopping(peers)) {
                gint64 next_us =
                    g_get_monotonic_time() + (gint64)peers->options.control_round_ms * 1000;

                control_round(peers, idle, rand);
                control_close_idle(idle, FALSE);
                while (!peers_stopping(peers) && g_get_monotonic_time() < next_us)
                        g_usleep(100 * 1000);
        }
        control_close_idle(idle, TRUE);
        return NULL;
}

/* --- the peers ------------------------------------------------------------ */

static gboolean
link_into(const char *target, const char *guest_dir, const char *name, GError **error)
{
        g_autofree char *link = g_build_filename(guest_dir, name, NULL);

        if (symlink(target, link) < 0) {
                int saved_errno = errno;

                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
                            "linking '%s': %s", link, g_strerror(saved_errno));
                return FALSE;
        }
        return TRUE;
}

/**
 * vt_soak_peers_start:
 * @options: what to start and where
 * @error: return location for a #GError
 *
 * Starts the hostile agent and QMP peer, links them into the daemon's
 * guest directory as the guest `hostile`, and starts the control clients.
 *
 * Returns: (transfer full): the running peers, or %NULL with @error
 */
VtSoakPeers *
vt_soak_peers_start(const VtSoakPeerOptions *options, GError **error)
{
        g_autoptr(VtSoakPeers) peers = g_new0(VtSoakPeers, 1);
        const char *qmp_path;

        peers->agent_listen_fd = -1;
        peers->options = *options;
        peers->control_socket = g_strdup(options->control_socket);
        peers->options.control_socket = peers->control_socket;
        peers->options.dir = peers->options.guest_dir = peers->options.greeting = NULL;
        peers->qmp_actual = HOSTILE_MEMORY;
        peers->qmp_rand = g_rand_new_with_seed(7);
        peers->agent_path = g_build_filename(options->dir, "hostile-agent.sock", NULL);
        peers->agent_listen_fd = unix_listen(peers->agent_path, error);
        if (peers->agent_listen_fd < 0)
                return NULL;
        peers->agent_thread = g_thread_new("soak-agent", agent_thread, peers);
        peers->qmp = vt_fake_qmp_new(options->greeting, qmp_handle, peers);
        qmp_path = vt_fake_qmp_get_address(peers->qmp) + strlen("unix:");
        /* The agent first: the daemon reads both when the .qmp appears. */
        if (!link_into(peers->agent_path, options->guest_dir, "hostile.agent", error) ||
            !link_into(qmp_path, options->guest_dir, "hostile.qmp", error))
                return NULL;
        peers->control_thread = g_thread_new("soak-control", control_thread, peers);
        return g_steal_pointer(&peers);
}

/**
 * vt_soak_peers_get_counts:
 * @peers: the peers
 * @ret_counts: (out): what they did so far
 */
void
vt_soak_peers_get_counts(VtSoakPeers *peers, VtSoakCounts *ret_counts)
{
        guint *to = (guint *)ret_counts;
        gint *from = (gint *)&peers->counts;

        G_STATIC_ASSERT(sizeof(VtSoakCounts) % sizeof(guint) == 0);
        for (gsize i = 0; i < sizeof(VtSoakCounts) / sizeof(guint); i++)
                to[i] = (guint)g_atomic_int_get(&from[i]);
}

/**
 * vt_soak_peers_free:
 * @peers: (nullable): the peers
 *
 * Stops every thread, closes every socket and removes the agent's.
 */
void
vt_soak_peers_free(VtSoakPeers *peers)
{
        if (peers == NULL)
                return;
        g_atomic_int_set(&peers->stop, 1);
        if (peers->control_thread != NULL)
                g_thread_join(peers->control_thread);
        if (peers->agent_thread != NULL)
                g_thread_join(peers->agent_thread);
        g_clear_pointer(&peers->qmp, vt_fake_qmp_free);
        if (peers->agent_listen_fd >= 0) {
                close(peers->agent_listen_fd);
                unlink(peers->agent_path);
        }
        g_clear_pointer(&peers->qmp_rand, g_rand_free);
        g_free(peers->agent_path);
        g_free(peers->control_socket);
        g_free(peers);
}
