/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The QMP-direct backend: guests are QEMU processes whose QMP sockets sit
 * in a directory (plus guests the configuration lists one by one).
 *
 * Theory of operation: in the directory, every `NAME.qmp` that is a Unix
 * socket (or a symlink to one) is a guest named NAME, with `NAME.agent`
 * beside it, when it is a socket too, as its agent channel. Names are
 * bounded and printable (vt_backend_qmp_name_is_valid()), and not hidden;
 * anything else in the directory is ignored. A GFileMonitor on the directory schedules a
 * scan on any change (so a burst of changes costs one scan), and the
 * daemon calls vt_backend_rescan() now and then for what a monitor can
 * miss.
 *
 * A scan compares what is there with what the backend follows:
 *
 * - a new socket: a new guest, announced with "guest-added";
 * - a socket gone: its guest is announced with "guest-removed";
 * - a socket replaced (another inode or mtime: QEMU restarted): the old
 *   guest is removed and a new one added.
 *
 * The daemon starts each guest. A guest that cannot start (connect
 * refused: QEMU died and left its socket) or loses its connection emits
 * "gone": the backend announces its removal and remembers the socket
 * file. That file gets a new guest only once it changes, or after a
 * backoff (VT_BACKEND_QMP_RETRY_MIN_US, doubling to _MAX_US, starting
 * over once a guest did start), so a dead QEMU's socket costs one connect
 * attempt per backoff, not one per tick. A QEMU that is a spent migration
 * source (`postmigrate`, qmp-direct-status.c) is left alone, said once at
 * warning level, and tried again at the shortest backoff, without
 * doubling: one resumed by hand is taken on at the next try. (A filesystem that reuses an
 * inode within its timestamp granularity can hide a replacement; the
 * backoff still catches it.)
 *
 * Every signal is emitted from an idle source on the backend's main
 * context, in the order the changes were seen, never from within a call
 * the daemon made or from within a guest's signal.
 */
#include "host/qmp-direct/qmp-direct-backend.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "host/qmp-direct/qmp-direct-guest.h"

#define QMP_SUFFIX   ".qmp"
#define AGENT_SUFFIX ".agent"

/* What tells one socket file from the next at the same path. */
typedef struct {
        guint64 dev;
        guint64 ino;
        gint64 mtime_ns;
        guint64 link_ino; /* the symlink itself, when it is one; else 0 */
        gint64 link_mtime_ns;
} FileId;

typedef struct {
        char *name;
        char *qmp_path;   /* what is stat()ed: a path */
        char *address;    /* what the guest connects to */
        char *agent_path; /* static: as configured; directory: found at add */
        gboolean is_static;
        gboolean seen; /* in the current scan */

        VtGuest *guest; /* announced and alive; NULL otherwise */
        gulong gone_id;
        FileId file;           /* the socket file the guest was made for */
        gboolean dead;         /* the last guest went; wait for a change or retry_us */
        gint64 retry_us;       /* when a dead socket is tried again */
        gint64 backoff_us;     /* the next backoff */
        gboolean spent_logged; /* "a spent migration source" said for this QEMU */
        VtBackendQmp *self;    /* borrowed */
} Entry;

struct _VtBackendQmp {
        GObject parent_instance;

        char *dir;
        guint stats_interval_s;
        char *destination_command;  /* for every guest; NULL: none */
        gboolean keep_spent_source; /* no `quit` after a completed migration */
        GMainContext *context;
        gboolean running;
        gint64 retry_min_us;
        gint64 retry_max_us;

        GFileMonitor *monitor;
        GSource *scan_source; /* a scan scheduled after a monitor event */
        VtBackendAnnouncer *announcer;
        GHashTable *entries; /* name → Entry *, owned */
        gboolean overflow_logged;
};

static void backend_qmp_iface_init(VtBackendInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE(VtBackendQmp, vt_backend_qmp, G_TYPE_OBJECT,
                              G_IMPLEMENT_INTERFACE(VT_TYPE_BACKEND, backend_qmp_iface_init))

static void backend_qmp_rescan(VtBackend *backend);

/* Lets go of the live guest, without announcing anything. */
static void
entry_release_guest(Entry *entry)
{
        if (entry->guest == NULL)
                return;
        g_clear_signal_handler(&entry->gone_id, entry->guest);
        g_clear_object(&entry->guest);
}

static void
entry_free(Entry *entry)
{
        entry_release_guest(entry);
        g_free(entry->name);
        g_free(entry->qmp_path);
        g_free(entry->address);
        g_free(entry->agent_path);
        g_free(entry);
}

/**
 * vt_backend_qmp_name_is_valid:
 * @name: a guest name
 *
 * The rule the daemon's configuration follows too.
 *
 * Returns: %TRUE if @name is valid UTF-8 of 1 to %VT_BACKEND_QMP_MAX_NAME
 *     bytes without control characters, spaces or '/', and not "." or ".."
 */
gboolean
vt_backend_qmp_name_is_valid(const char *name)
{
        gsize len;

        if (name == NULL || name[0] == '\0' || g_str_equal(name, ".") || g_str_equal(name, ".."))
                return FALSE;
        len = strnlen(name, VT_BACKEND_QMP_MAX_NAME + 1);
        if (len > VT_BACKEND_QMP_MAX_NAME)
                return FALSE;
        for (gsize i = 0; i < len; i++) {
                if (g_ascii_iscntrl(name[i]) || name[i] == ' ' || name[i] == '/')
                        return FALSE;
        }
        return g_utf8_validate(name, (gssize)len, NULL);
}

/* Identifies the socket at @path (following a symlink); FALSE if it is
 * not a socket. */
static gboolean
socket_file_id(const char *path, FileId *ret_id)
{
        struct stat st, lst;
        FileId id = {0};

        if (g_lstat(path, &lst) < 0 || g_stat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
                return FALSE;
        id.dev = st.st_dev;
        id.ino = st.st_ino;
        id.mtime_ns = (gint64)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        if (S_ISLNK(lst.st_mode)) {
                id.link_ino = lst.st_ino;
                id.link_mtime_ns = (gint64)lst.st_mtim.tv_sec * 1000000000 + lst.st_mtim.tv_nsec;
        }
        *ret_id = id;
        return TRUE;
}

static gboolean
file_id_equal(const FileId *a, const FileId *b)
{
        return a->dev == b->dev && a->ino == b->ino && a->mtime_ns == b->mtime_ns &&
               a->link_ino == b->link_ino && a->link_mtime_ns == b->link_mtime_ns;
}

static void
backend_queue(VtBackendQmp *self, gboolean added, VtGuest *guest)
{
        vt_backend_announcer_push(self->announcer, added, guest);
}

/* Announces the removal of the entry's live guest. */
static void
entry_retire(Entry *entry, const char *why)
{
        if (entry->guest == NULL)
                return;
        g_debug("QMP guest '%s' removed: %s", entry->name, why);
        backend_queue(entry->self, FALSE, entry->guest);
        entry_release_guest(entry);
}

static void
entry_on_gone(VtGuest *guest, gpointer error, gpointer user_data)
{
        Entry *entry = user_data;
        VtBackendQmp *self = entry->self;
        const GError *reason = error;

        /* A guest that ran had a working QEMU: its successor starts over. */
        if (vt_guest_is_started(guest)) {
                entry->backoff_us = self->retry_min_us;
                entry->spent_logged = FALSE;
        }
        /* Not a dead QEMU but one to leave alone: never quit it, as it may
         * be the guest's only copy; try again at the shortest backoff. */
        if (g_error_matches(reason, VT_GUEST_QMP_ERROR, VT_GUEST_QMP_ERROR_SPENT_SOURCE)) {
                if (!entry->spent_logged)
                        g_warning("guest '%s': its QEMU is a spent migration source "
                                  "(postmigrate): left alone; quit it or resume it by hand",
                                  entry->name);
                entry->spent_logged = TRUE;
                entry->backoff_us = self->retry_min_us;
        }
        entry->dead = TRUE;
        entry->retry_us = g_get_monotonic_time() + entry->backoff_us;
        g_debug("QMP guest '%s' gone (%s); its socket is tried again when it changes or in "
                "%.0f s",
                entry->name, reason != NULL ? reason->message : "-",
                (double)entry->backoff_us / G_USEC_PER_SEC);
        entry->backoff_us = MIN(entry->backoff_us * 2, self->retry_max_us);
        entry_retire(entry, "its QEMU is gone");
}

static char *
entry_find_agent(Entry *entry)
{
        g_autofree char *file = NULL;
        char *path;
        FileId unused;

        if (entry->is_static)
                return g_strdup(entry->agent_path);
        file = g_strconcat(entry->name, AGENT_SUFFIX, NULL);
        path = g_build_filename(entry->self->dir, file, NULL);
        if (!socket_file_id(path, &unused))
                g_clear_pointer(&path, g_free);
        return path;
}

/* What the daemon set for migrations, on one guest. */
static void
backend_configure_guest(VtBackendQmp *self, VtGuestQmp *guest)
{
        g_autoptr(GError) error = NULL;

        /* Parsed once already by vt_backend_qmp_set_destination_command(). */
        if (!vt_guest_qmp_set_destination_command(guest, self->destination_command, &error))
                g_debug("QMP guest '%s': %s", vt_guest_get_name(VT_GUEST(guest)), error->message);
        vt_guest_qmp_set_quit_after_migration(guest, !self->keep_spent_source);
}

static void
entry_add_guest(Entry *entry, const FileId *file)
{
        VtBackendQmp *self = entry->self;
        g_autofree char *agent = entry_find_agent(entry);

        if (!entry->is_static) {
                g_free(entry->agent_path);
                entry->agent_path = g_strdup(agent);
        }
        entry->file = *file;
        entry->dead = FALSE;
        entry->guest = vt_guest_qmp_new(entry->name, entry->address, agent, self->stats_interval_s);
        backend_configure_guest(self, VT_GUEST_QMP(entry->guest));
        entry->gone_id = g_signal_connect(entry->guest, "gone", G_CALLBACK(entry_on_gone), entry);
        g_debug("QMP guest '%s' added: '%s'%s%s", entry->name, entry->address,
                agent != NULL ? ", agent " : "", agent != NULL ? agent : "");
        backend_queue(self, TRUE, entry->guest);
}

/* The entry's socket is there as @file: add, keep or replace its guest. */
static void
entry_consider(Entry *entry, const FileId *file, gint64 now_us)
{
        entry->seen = TRUE;
        if (entry->guest != NULL) {
                if (file_id_equal(file, &entry->file)) {
                        /* An agent socket that appeared after the guest. */
                        if (!entry->is_static && entry->agent_path == NULL) {
                                entry->agent_path = entry_find_agent(entry);
                                if (entry->agent_path != NULL)
                                        vt_guest_set_agent_path(entry->guest, entry->agent_path);
                        }
                        return;
                }
                entry_retire(entry, "its socket was replaced");
                entry->backoff_us = entry->self->retry_min_us;
        } else if (entry->dead && file_id_equal(file, &entry->file) && now_us < entry->retry_us) {
                return;
        }
        if (!file_id_equal(file, &entry->file))
                entry->spent_logged = FALSE; /* another QEMU */
        entry_add_guest(entry, file);
}

static Entry *
backend_new_entry(VtBackendQmp *self, const char *name, const char *qmp_path, const char *address)
{
        Entry *entry = g_new0(Entry, 1);

        entry->self = self;
        entry->name = g_strdup(name);
        entry->qmp_path = g_strdup(qmp_path);
        entry->address = g_strdup(address);
        entry->backoff_us = self->retry_min_us;
        g_hash_table_insert(self->entries, entry->name, entry);
        return entry;
}

static void
backend_scan_dir(VtBackendQmp *self, gint64 now_us)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GDir) dir = g_dir_open(self->dir, 0, &error);
        const char *file;

        if (dir == NULL) {
                g_debug("QMP socket directory: %s", error->message);
                return;
        }
        while ((file = g_dir_read_name(dir)) != NULL) {
                g_autofree char *name = NULL;
                g_autofree char *path = NULL;
                Entry *entry;
                FileId id;

                if (!g_str_has_suffix(file, QMP_SUFFIX))
                        continue;
                name = g_strndup(file, strlen(file) - strlen(QMP_SUFFIX));
                /* Hidden files are someone's temporaries. */
                if (name[0] == '.' || !vt_backend_qmp_name_is_valid(name))
                        continue;
                path = g_build_filename(self->dir, file, NULL);
                if (!socket_file_id(path, &id))
                        continue;
                entry = g_hash_table_lookup(self->entries, name);
                if (entry != NULL && entry->is_static)
                        continue; /* the configuration wins */
                if (entry == NULL) {
                        if (g_hash_table_size(self->entries) >= VT_BACKEND_QMP_MAX_GUESTS) {
                                if (!self->overflow_logged)
                                        g_debug("more than %u QMP guests: '%s' and others ignored",
                                                VT_BACKEND_QMP_MAX_GUESTS, name);
                                self->overflow_logged = TRUE;
                                continue;
                        }
                        entry = backend_new_entry(self, name, path, path);
                }
                entry_consider(entry, &id, now_us);
        }
}

static void
backend_qmp_rescan(VtBackend *backend)
{
        VtBackendQmp *self = VT_BACKEND_QMP(backend);
        gint64 now_us = g_get_monotonic_time();
        GHashTableIter iter;
        Entry *entry;

        if (!self->running)
                return;
        g_hash_table_iter_init(&iter, self->entries);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&entry))
                entry->seen = FALSE;

        if (self->dir != NULL)
                backend_scan_dir(self, now_us);

        g_hash_table_iter_init(&iter, self->entries);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&entry)) {
                FileId id = {0};

                if (!entry->is_static)
                        continue;
                /* A TCP address has no file: it is always there. */
                if (entry->qmp_path == NULL || socket_file_id(entry->qmp_path, &id))
                        entry_consider(entry, &id, now_us);
        }

        g_hash_table_iter_init(&iter, self->entries);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&entry)) {
                if (entry->seen)
                        continue;
                entry_retire(entry, "its socket is gone");
                entry->dead = FALSE;
                if (!entry->is_static)
                        g_hash_table_iter_remove(&iter);
        }
        if (g_hash_table_size(self->entries) < VT_BACKEND_QMP_MAX_GUESTS)
                self->overflow_logged = FALSE;
}

static gboolean
backend_on_scan(gpointer user_data)
{
        VtBackendQmp *self = user_data;

        g_clear_pointer(&self->scan_source, g_source_unref);
        backend_qmp_rescan(VT_BACKEND(self));
        return G_SOURCE_REMOVE;
}

static void
backend_schedule_scan(VtBackendQmp *self)
{
        if (!self->running || self->scan_source != NULL)
                return;
        self->scan_source = g_idle_source_new();
        g_source_set_callback(self->scan_source, backend_on_scan, self, NULL);
        g_source_attach(self->scan_source, self->context);
}

static void
backend_on_dir_changed(GFileMonitor *monitor, GFile *file, GFile *other_file,
                       GFileMonitorEvent event, gpointer user_data)
{
        if (event == G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT)
                return;
        backend_schedule_scan(user_data);
}

static void
backend_clear_source(GSource **source)
{
        if (*source == NULL)
                return;
        g_source_destroy(*source);
        g_clear_pointer(source, g_source_unref);
}

static gboolean
backend_qmp_start(VtBackend *backend, GError **error)
{
        VtBackendQmp *self = VT_BACKEND_QMP(backend);

        if (self->running)
                return TRUE;
        if (self->dir != NULL) {
                g_autoptr(GFile) file = g_file_new_for_path(self->dir);

                if (!g_file_test(self->dir, G_FILE_TEST_IS_DIR)) {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                                    "QMP socket directory '%s' is not a directory", self->dir);
                        return FALSE;
                }
                g_main_context_push_thread_default(self->context);
                self->monitor =
                    g_file_monitor_directory(file, G_FILE_MONITOR_WATCH_MOVES, NULL, error);
                g_main_context_pop_thread_default(self->context);
                if (self->monitor == NULL) {
                        g_prefix_error(error,
                                       "cannot follow QMP socket directory '%s': ", self->dir);
                        return FALSE;
                }
                g_signal_connect(self->monitor, "changed", G_CALLBACK(backend_on_dir_changed),
                                 self);
        }
        self->running = TRUE;
        backend_qmp_rescan(backend);
        return TRUE;
}

static void
backend_qmp_stop(VtBackend *backend)
{
        VtBackendQmp *self = VT_BACKEND_QMP(backend);
        GHashTableIter iter;
        Entry *entry;

        self->running = FALSE;
        if (self->monitor != NULL) {
                g_signal_handlers_disconnect_by_data(self->monitor, self);
                g_file_monitor_cancel(self->monitor);
                g_clear_object(&self->monitor);
        }
        backend_clear_source(&self->scan_source);
        vt_backend_announcer_clear(self->announcer);
        /* The guests are the daemon's: forget them, keep the configuration. */
        g_hash_table_iter_init(&iter, self->entries);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&entry)) {
                entry_release_guest(entry);
                entry->dead = FALSE;
                entry->backoff_us = self->retry_min_us;
                if (!entry->is_static)
                        g_hash_table_iter_remove(&iter);
        }
}

static const char *
backend_qmp_get_name(VtBackend *backend)
{
        return "qmp";
}

/**
 * vt_backend_qmp_new:
 * @dir: (nullable): the directory of QMP sockets to follow; %NULL for
 *     configured guests only
 * @stats_interval_s: the balloon statistics polling interval each guest's
 *     QEMU is set to, seconds
 *
 * Returns: (transfer full): a backend bound to the thread-default main
 *     context; call vt_backend_start()
 */
VtBackend *
vt_backend_qmp_new(const char *dir, guint stats_interval_s)
{
        VtBackendQmp *self = g_object_new(VT_TYPE_BACKEND_QMP, NULL);

        self->dir = g_strdup(dir);
        self->stats_interval_s = stats_interval_s;
        return VT_BACKEND(self);
}

/**
 * vt_backend_qmp_add_static:
 * @backend: a backend
 * @name: the guest's name; one that vt_backend_qmp_name_is_valid() refuses
 *     is ignored
 * @qmp_path: its QMP socket (a path or `unix:PATH`; `tcp:HOST:PORT` is
 *     taken as always there)
 * @agent_path: (nullable): its agent socket
 *
 * Follows a guest listed in the configuration: it is added whenever its
 * socket exists, like a socket in the directory, and wins over a socket
 * there with the same name. Adding a name again replaces its paths.
 */
void
vt_backend_qmp_add_static(VtBackendQmp *backend, const char *name, const char *qmp_path,
                          const char *agent_path)
{
        Entry *entry;
        const char *path = qmp_path;

        g_return_if_fail(VT_IS_BACKEND_QMP(backend));
        g_return_if_fail(name != NULL);
        g_return_if_fail(qmp_path != NULL);

        if (!vt_backend_qmp_name_is_valid(name)) {
                g_debug("configured QMP guest '%s' ignored: not a valid name", name);
                return;
        }

        if (g_str_has_prefix(qmp_path, "unix:"))
                path = qmp_path + strlen("unix:");
        else if (g_str_has_prefix(qmp_path, "tcp:"))
                path = NULL;

        entry = g_hash_table_lookup(backend->entries, name);
        if (entry != NULL)
                entry_retire(entry, "replaced by the configuration");
        g_hash_table_remove(backend->entries, name);
        entry = backend_new_entry(backend, name, path, qmp_path);
        entry->is_static = TRUE;
        entry->agent_path = g_strdup(agent_path);
        backend_schedule_scan(backend);
}

/**
 * vt_backend_qmp_set_retry:
 * @backend: a backend
 * @min_us: the first backoff for a dead socket, > 0
 * @max_us: the longest, >= @min_us
 *
 * Tests shorten them; the daemon keeps the defaults.
 */
void
vt_backend_qmp_set_retry(VtBackendQmp *backend, gint64 min_us, gint64 max_us)
{
        GHashTableIter iter;
        Entry *entry;

        g_return_if_fail(VT_IS_BACKEND_QMP(backend));
        g_return_if_fail(min_us > 0 && max_us >= min_us);

        backend->retry_min_us = min_us;
        backend->retry_max_us = max_us;
        g_hash_table_iter_init(&iter, backend->entries);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&entry))
                entry->backoff_us = CLAMP(entry->backoff_us, min_us, max_us);
}

/**
 * vt_backend_qmp_get_n_guests:
 * @backend: a backend
 *
 * Returns: how many guests it follows now (announced and not gone)
 */
guint
vt_backend_qmp_get_n_guests(VtBackendQmp *backend)
{
        GHashTableIter iter;
        Entry *entry;
        guint n = 0;

        g_return_val_if_fail(VT_IS_BACKEND_QMP(backend), 0);
        g_hash_table_iter_init(&iter, backend->entries);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&entry))
                n += entry->guest != NULL;
        return n;
}

/* Applies the migration settings to every guest followed now. */
static void
backend_configure_guests(VtBackendQmp *backend)
{
        GHashTableIter iter;
        Entry *entry;

        g_hash_table_iter_init(&iter, backend->entries);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&entry)) {
                if (entry->guest != NULL)
                        backend_configure_guest(backend, VT_GUEST_QMP(entry->guest));
        }
}

/**
 * vt_backend_qmp_set_destination_command:
 * @backend: a backend
 * @command: (nullable): the command that starts a migration's receiving
 *     QEMU (config `[migrate] qmp-destination-command`; shell quoting; the
 *     guest's name and the peer are appended), or %NULL for none
 * @error: %G_SHELL_ERROR when @command does not parse
 *
 * Sets it for the guests followed now and those found later (see
 * vt_guest_qmp_set_destination_command()).
 *
 * Returns: %TRUE if set; on error nothing changes
 */
gboolean
vt_backend_qmp_set_destination_command(VtBackendQmp *backend, const char *command, GError **error)
{
        g_auto(GStrv) argv = NULL;

        g_return_val_if_fail(VT_IS_BACKEND_QMP(backend), FALSE);
        if (command != NULL && *command != '\0' && !g_shell_parse_argv(command, NULL, &argv, error))
                return FALSE;
        g_free(backend->destination_command);
        backend->destination_command = g_strdup(command);
        backend_configure_guests(backend);
        return TRUE;
}

/**
 * vt_backend_qmp_set_quit_after_migration:
 * @backend: a backend
 * @quit: %TRUE (the default): each guest sends `quit` to its source QEMU
 *     once a migration completed (vt_guest_qmp_set_quit_after_migration())
 */
void
vt_backend_qmp_set_quit_after_migration(VtBackendQmp *backend, gboolean quit)
{
        g_return_if_fail(VT_IS_BACKEND_QMP(backend));
        backend->keep_spent_source = !quit;
        backend_configure_guests(backend);
}

static void
vt_backend_qmp_dispose(GObject *object)
{
        backend_qmp_stop(VT_BACKEND(object));
        G_OBJECT_CLASS(vt_backend_qmp_parent_class)->dispose(object);
}

static void
vt_backend_qmp_finalize(GObject *object)
{
        VtBackendQmp *self = VT_BACKEND_QMP(object);

        g_hash_table_unref(self->entries);
        vt_backend_announcer_free(self->announcer);
        g_main_context_unref(self->context);
        g_free(self->dir);
        g_free(self->destination_command);
        G_OBJECT_CLASS(vt_backend_qmp_parent_class)->finalize(object);
}

static void
vt_backend_qmp_init(VtBackendQmp *self)
{
        self->context = g_main_context_ref_thread_default();
        self->retry_min_us = VT_BACKEND_QMP_RETRY_MIN_US;
        self->retry_max_us = VT_BACKEND_QMP_RETRY_MAX_US;
        self->entries =
            g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)entry_free);
        self->announcer = vt_backend_announcer_new(VT_BACKEND(self), self->context);
}

static void
vt_backend_qmp_class_init(VtBackendQmpClass *klass)
{
        GObjectClass *object_class = G_OBJECT_CLASS(klass);

        object_class->dispose = vt_backend_qmp_dispose;
        object_class->finalize = vt_backend_qmp_finalize;
}

static void
backend_qmp_iface_init(VtBackendInterface *iface)
{
        iface->start = backend_qmp_start;
        iface->stop = backend_qmp_stop;
        iface->rescan = backend_qmp_rescan;
        iface->get_name = backend_qmp_get_name;
}
