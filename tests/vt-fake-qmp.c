/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A scripted QMP peer, for fault injection a real QEMU cannot do on
 * demand: replies out of order, split or merged writes, garbage, silence,
 * a hang-up in the middle of a command.
 *
 * The peer listens on a Unix socket in a temp dir of its own and serves
 * one connection at a time from a thread with blocking I/O, so it can
 * answer a client that blocks the main thread (the synchronous wrapper)
 * and push megabytes at a client without deadlocking on the socket buffer.
 */
#include "tests/vt-fake-qmp.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "qmp/qmp-framer.h"
#include "vt-autocleanups.h"

struct _VtFakeQmp {
        char *dir;
        char *path;
        char *address;
        char *greeting;
        VtFakeQmpHandler handler;
        gpointer user_data;
        int listen_fd;
        GThread *thread;

        GMutex lock; /* guards conn_fd and stopping across threads */
        int conn_fd;
        gboolean stopping;
        guint n_connections;
};

/**
 * vt_test_load_recorded_qmp:
 * @name: a file under tests/data/qmp/qemu-7.2, without `.json`
 *
 * Returns: (transfer full): its contents, the raw line QEMU sent
 */
char *
vt_test_load_recorded_qmp(const char *name)
{
        g_autofree char *file = g_strconcat(name, ".json", NULL);
        g_autofree char *path =
            g_test_build_filename(G_TEST_DIST, "data", "qmp", "qemu-7.2", file, NULL);
        g_autoptr(GError) error = NULL;
        char *contents = NULL;

        g_file_get_contents(path, &contents, NULL, &error);
        g_assert_no_error(error);
        return contents;
}

/**
 * vt_fake_qmp_send:
 * @peer: the peer
 * @data: raw bytes, sent as they are
 * @len: their length
 *
 * Call from the handler. Write errors (the client left) are ignored.
 */
void
vt_fake_qmp_send(VtFakeQmp *peer, const void *data, gsize len)
{
        const char *p = data;

        while (len > 0) {
                ssize_t n = send(peer->conn_fd, p, len, MSG_NOSIGNAL);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return;
                p += n;
                len -= (gsize)n;
        }
}

/**
 * vt_fake_qmp_stream:
 * @peer: the peer
 * @data: raw bytes
 * @len: their length, > 0
 *
 * Call from the handler: sends @data over and over, as fast as the client
 * lets it, until the client leaves or the peer is freed: a hostile peer.
 *
 * Returns: how many bytes the socket took
 */
guint64
vt_fake_qmp_stream(VtFakeQmp *peer, const void *data, gsize len)
{
        guint64 sent = 0;

        g_return_val_if_fail(len > 0, 0);
        for (;;) {
                ssize_t n = send(peer->conn_fd, data, len, MSG_NOSIGNAL);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return sent;
                sent += (guint64)n;
        }
}

/**
 * vt_fake_qmp_reply:
 * @peer: the peer
 * @command: the command to answer
 * @value: the JSON text of the return value
 */
void
vt_fake_qmp_reply(VtFakeQmp *peer, const VtQmpMessage *command, const char *value)
{
        g_autoptr(json_object) parsed = json_tokener_parse(value);
        g_autoptr(json_object) reply = vt_qmp_message_new_return(parsed, command->id);
        g_autofree char *text = g_strconcat(json_object_to_json_string(reply), "\r\n", NULL);

        vt_fake_qmp_send(peer, text, strlen(text));
}

/**
 * vt_fake_qmp_hangup:
 * @peer: the peer
 *
 * Call from the handler: closes the connection at once.
 */
void
vt_fake_qmp_hangup(VtFakeQmp *peer)
{
        shutdown(peer->conn_fd, SHUT_RDWR);
}

static void
fake_qmp_serve(VtFakeQmp *peer)
{
        g_autoptr(VtQmpFramer) framer = vt_qmp_framer_new(0, 0, 0);
        char buffer[4096];

        if (peer->greeting != NULL)
                vt_fake_qmp_send(peer, peer->greeting, strlen(peer->greeting));
        for (;;) {
                ssize_t n = recv(peer->conn_fd, buffer, sizeof(buffer), 0);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return;
                vt_qmp_framer_push(framer, buffer, (gsize)n);
                for (;;) {
                        g_autoptr(json_object) object = NULL;
                        VtQmpFramerStatus status = vt_qmp_framer_next(framer, &object, NULL);
                        VtQmpMessage message;

                        if (status == VT_QMP_FRAMER_NEED_MORE)
                                break;
                        if (status != VT_QMP_FRAMER_MESSAGE ||
                            !vt_qmp_message_parse(object, &message, NULL) ||
                            message.kind != VT_QMP_MESSAGE_COMMAND)
                                continue;
                        if (g_str_equal(message.name, "qmp_capabilities"))
                                vt_fake_qmp_reply(peer, &message, "{}");
                        else if (peer->handler != NULL)
                                peer->handler(peer, &message, peer->user_data);
                        else
                                vt_fake_qmp_reply(peer, &message, "{}");
                }
        }
}

static gpointer
fake_qmp_thread(gpointer data)
{
        VtFakeQmp *peer = data;

        for (;;) {
                int fd = accept4(peer->listen_fd, NULL, NULL, SOCK_CLOEXEC);

                if (fd < 0 && errno == EINTR)
                        continue;
                g_mutex_lock(&peer->lock);
                if (fd < 0 || peer->stopping) {
                        g_mutex_unlock(&peer->lock);
                        if (fd >= 0)
                                close(fd);
                        return NULL;
                }
                peer->conn_fd = fd;
                peer->n_connections++;
                g_mutex_unlock(&peer->lock);

                fake_qmp_serve(peer);

                g_mutex_lock(&peer->lock);
                peer->conn_fd = -1;
                g_mutex_unlock(&peer->lock);
                close(fd);
        }
}

/**
 * vt_fake_qmp_new:
 * @greeting: (nullable): raw greeting sent on connect; %NULL for none
 * @handler: (nullable): answers commands; %NULL answers `{}` to all
 * @user_data: for @handler
 *
 * Returns: (transfer full): a listening peer
 */
VtFakeQmp *
vt_fake_qmp_new(const char *greeting, VtFakeQmpHandler handler, gpointer user_data)
{
        VtFakeQmp *peer = g_new0(VtFakeQmp, 1);
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        g_autoptr(GError) error = NULL;

        peer->dir = g_dir_make_tmp("vt-fake-qmp-XXXXXX", &error);
        g_assert_no_error(error);
        peer->path = g_build_filename(peer->dir, "qmp.sock", NULL);
        peer->address = g_strconcat("unix:", peer->path, NULL);
        peer->greeting = g_strdup(greeting);
        peer->handler = handler;
        peer->user_data = user_data;
        peer->conn_fd = -1;
        g_mutex_init(&peer->lock);

        g_assert_cmpuint(strlen(peer->path), <, sizeof(addr.sun_path));
        strcpy(addr.sun_path, peer->path);
        peer->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        g_assert_cmpint(peer->listen_fd, >=, 0);
        g_assert_cmpint(bind(peer->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
        g_assert_cmpint(listen(peer->listen_fd, 8), ==, 0);
        peer->thread = g_thread_new("vt-fake-qmp", fake_qmp_thread, peer);
        return peer;
}

/**
 * vt_fake_qmp_get_address:
 * @peer: the peer
 *
 * Returns: `unix:PATH` of its socket
 */
const char *
vt_fake_qmp_get_address(VtFakeQmp *peer)
{
        return peer->address;
}

/**
 * vt_fake_qmp_get_n_connections:
 * @peer: the peer
 *
 * Returns: how many connections it accepted
 */
guint
vt_fake_qmp_get_n_connections(VtFakeQmp *peer)
{
        guint n;

        g_mutex_lock(&peer->lock);
        n = peer->n_connections;
        g_mutex_unlock(&peer->lock);
        return n;
}

/* Connects once so that a thread blocked in accept() sees it must stop. */
static void
fake_qmp_wake(VtFakeQmp *peer)
{
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        g_assert_cmpint(fd, >=, 0);
        strcpy(addr.sun_path, peer->path);
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
                g_assert_cmpint(errno, ==, ECONNREFUSED);
        close(fd);
}

/**
 * vt_fake_qmp_free:
 * @peer: (nullable): the peer
 *
 * Stops the thread, closes everything and removes the temp dir.
 */
void
vt_fake_qmp_free(VtFakeQmp *peer)
{
        if (peer == NULL)
                return;
        g_mutex_lock(&peer->lock);
        peer->stopping = TRUE;
        if (peer->conn_fd >= 0)
                shutdown(peer->conn_fd, SHUT_RDWR);
        g_mutex_unlock(&peer->lock);
        fake_qmp_wake(peer);
        g_thread_join(peer->thread);
        close(peer->listen_fd);
        g_unlink(peer->path);
        g_rmdir(peer->dir);
        g_mutex_clear(&peer->lock);
        g_free(peer->greeting);
        g_free(peer->address);
        g_free(peer->path);
        g_free(peer->dir);
        g_free(peer);
}
