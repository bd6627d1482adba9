/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmtided's configuration file.
 *
 * Theory of operation: the file is a GKeyFile. Parsing starts from the
 * defaults (vt_daemon_config_new_default(), which takes the policies'
 * own defaults from vt_balloon_config_init() and vt_ksm_tuner_config_init())
 * and walks the file's groups in order. Each known group has a table of
 * its keys (daemon-config-keys.c): the key's syntax (a size, a percentage,
 * milliseconds, a path, ...), its range, and where the value goes (an
 * offset into the VtDaemonConfig, or into a VtDaemonGuestConfig for
 * `[guest:NAME]` groups), so every key is parsed, checked and reported the
 * same way. The balloon policies and KSM tuners are chosen by name from
 * their registries, beside them (balloon/balloon-registry.c,
 * ksm/ksm-tuner-registry.c).
 * Values that relate to each other (plenty > tight > short, min <= max)
 * are checked once the whole file is read.
 *
 * A bad value is an error that names the file, the group, the key and the
 * value (and the line, from the scan, for a value wrong by itself): the
 * daemon refuses to start rather than run on a guess. An
 * unknown group or key is only a warning (a newer file on an older daemon
 * still starts), kept in the config for the daemon to log, so a typo
 * stays visible.
 *
 * Before GKeyFile sees the file, daemon-config-file.c reads it with a
 * bound (a regular file of at most VT_DAEMON_CONFIG_SIZE_MAX bytes) and
 * scans its text for what GKeyFile hides: a NUL byte (an error), a key or
 * a group given twice (warnings, beside the unknown keys).
 *
 * Units are part of the syntax, never guessed: durations carry theirs in
 * the key's name (`tick-interval-ms`, `stats-interval-s`), sizes take
 * binary suffixes (512M, 1.5G), percentages are plain numbers (an
 * optional `%` is allowed).
 */
#include "host/daemon-config.h"

#include <string.h>

#include "balloon/balloon-registry.h"
#include "host/daemon-config-file.h"
#include "host/daemon-config-keys.h"
#include "host/recorder/recorder-writer.h"
#include "ksm/ksm-tuner-registry.h"
#include "vt-control-protocol.h"

#ifndef VT_DAEMON_CONFIG_DEFAULT_PATH
#define VT_DAEMON_CONFIG_DEFAULT_PATH "/etc/vmtide/vmtided.conf"
#endif

#define DEFAULT_CONTROL_SOCKET VT_CONTROL_SOCKET_DEFAULT
#define DEFAULT_QMP_DIR        "/run/vmtide/guests"
#define DEFAULT_PROC_ROOT      "/proc"
#define DEFAULT_KSM_SYSFS_ROOT "/sys/kernel/mm/ksm"
#define DEFAULT_LIBVIRT_URI    "qemu:///system"
/* 150 ms of stalls within 2 s: a 2 s window works without CAP_SYS_RESOURCE. */
#define DEFAULT_HOST_PSI_TRIGGER "some 150000 2000000"
#define GUEST_GROUP_PREFIX       "guest:"
#define PEER_GROUP_PREFIX        "peer:"
/* QEMU 7.2's own max-bandwidth. */
#define DEFAULT_MIGRATE_BANDWIDTH (G_GUINT64_CONSTANT(128) << 20)
#define GUEST_NAME_MAX            255

/* clang-format off */
G_DEFINE_QUARK(vt-daemon-config-error-quark, vt_daemon_config_error)
/* clang-format on */

typedef struct {
        const char *origin;
        GKeyFile *file;
        VtDaemonConfig *config;
        GPtrArray *warnings;
        GHashTable *lines; /* "[GROUP] KEY" -> the line of its value (the scan's) */
} Parser;

/**
 * vt_daemon_config_get_default_path:
 *
 * Returns: where vmtided looks for its configuration when not told:
 *     SYSCONFDIR/vmtide/vmtided.conf (`/etc/vmtide/vmtided.conf`)
 */
const char *
vt_daemon_config_get_default_path(void)
{
        return VT_DAEMON_CONFIG_DEFAULT_PATH;
}

static void
guest_config_free(gpointer data)
{
        VtDaemonGuestConfig *guest = data;

        g_free(guest->name);
        g_free(guest->qmp_path);
        g_free(guest->agent_path);
        g_free(guest);
}

static void
peer_config_free(gpointer data)
{
        VtDaemonPeerConfig *peer = data;

        g_free(peer->name);
        g_free(peer->control_socket);
        g_free(peer->transport_uri);
        g_free(peer);
}

/* The `[migrate]` defaults: nothing moves by itself; oVirt's downtime ramp
 * (100 to 500 ms); one outgoing move; the planner's hysteresis and
 * cooldowns (migrate/migrate-plan.c). */
static void
migrate_config_init(VtDaemonMigrateConfig *m)
{
        m->enabled = FALSE;
        m->peers = g_new0(char *, 1);
        m->quit_after_migration = TRUE;
        m->bandwidth = DEFAULT_MIGRATE_BANDWIDTH;
        m->downtime_initial_us = 100 * G_TIME_SPAN_MILLISECOND;
        m->downtime_max_us = 500 * G_TIME_SPAN_MILLISECOND;
        m->auto_converge = FALSE;
        m->max_outgoing = 1;
        m->hysteresis_ticks = 3;
        m->cooldown_guest_us = 600 * G_TIME_SPAN_SECOND;
        m->cooldown_host_us = 60 * G_TIME_SPAN_SECOND;
        m->min_relief = G_GUINT64_CONSTANT(256) << 20;
        m->peer_interval_us = 10 * G_TIME_SPAN_SECOND;
        m->peer_configs = g_ptr_array_new_with_free_func(peer_config_free);
}

/* The `[recorder]` defaults: the writer's own (recorder-writer.c). */
static void
recorder_config_init(VtDaemonRecorderConfig *r)
{
        VtRecorderConfig defaults;

        vt_recorder_config_init(&defaults);
        r->enabled = TRUE;
        r->dir = g_strdup(defaults.dir);
        r->max_bytes = defaults.max_bytes;
        r->max_age_us = defaults.max_age_us;
        r->segment_bytes = defaults.segment_bytes;
        r->segment_age_us = defaults.segment_age_us;
}

/**
 * vt_daemon_config_new_default:
 *
 * The configuration of a host without a configuration file (documented
 * in docs/configuration.md).
 *
 * Returns: (transfer full): the defaults
 */
VtDaemonConfig *
vt_daemon_config_new_default(void)
{
        VtDaemonConfig *config = g_new0(VtDaemonConfig, 1);
        guint n_policies, n_tuners;
        /* The first of each registry is the default. */
        const VtBalloonPolicyInfo *policy = vt_balloon_registry_list(&n_policies);
        const VtKsmTunerInfo *tuner = vt_ksm_tuner_registry_list(&n_tuners);

        config->origin = g_strdup("defaults");
        config->tick_interval_us = 2 * G_USEC_PER_SEC;
        config->control_socket = g_strdup(DEFAULT_CONTROL_SOCKET);
        config->control_socket_mode = 0600;
        config->backend = VT_DAEMON_BACKEND_QMP;
        config->stats_interval_s = 2;
        /* The tick: each decision sees a report at most one tick old. */
        config->agent_interval_ms = 2000;
        config->host_psi_trigger = g_strdup(DEFAULT_HOST_PSI_TRIGGER);
        config->proc_root = g_strdup(DEFAULT_PROC_ROOT);
        config->log_level = G_LOG_LEVEL_INFO;
        vt_balloon_config_init(&config->balloon);
        config->balloon_policy = policy->decide;
        config->balloon_policy_name = policy->name;
        config->memdev_strategy = VT_MEMDEV_STRATEGY_MEMDEV_FIRST;
        config->ksm_enabled = TRUE;
        config->ksm_sysfs_root = g_strdup(DEFAULT_KSM_SYSFS_ROOT);
        vt_ksm_tuner_config_init(&config->ksm);
        config->ksm_tuner = tuner->decide;
        config->ksm_tuner_name = tuner->name;
        config->qmp_dir = g_strdup(DEFAULT_QMP_DIR);
        config->libvirt_uri = g_strdup(DEFAULT_LIBVIRT_URI);
        config->guests = g_ptr_array_new_with_free_func(guest_config_free);
        migrate_config_init(&config->migrate);
        recorder_config_init(&config->recorder);
        config->warnings = g_new0(char *, 1);
        return config;
}

/**
 * vt_daemon_config_free:
 * @config: (nullable): a configuration
 */
void
vt_daemon_config_free(VtDaemonConfig *config)
{
        if (config == NULL)
                return;
        g_free(config->origin);
        g_free(config->control_socket);
        g_free(config->host_psi_trigger);
        g_free(config->proc_root);
        g_free(config->budget_cgroup);
        g_free(config->ksm_sysfs_root);
        g_free(config->qmp_dir);
        g_free(config->libvirt_uri);
        g_free(config->metrics_listen);
        g_free(config->recorder.dir);
        g_ptr_array_unref(config->guests);
        g_strfreev(config->migrate.peers);
        g_free(config->migrate.qmp_destination_command);
        g_ptr_array_unref(config->migrate.peer_configs);
        g_strfreev(config->warnings);
        g_free(config);
}

/**
 * vt_daemon_config_find_guest:
 * @config: a configuration
 * @name: a guest's name
 *
 * Returns: (transfer none) (nullable): its `[guest:NAME]` group, or %NULL
 */
const VtDaemonGuestConfig *
vt_daemon_config_find_guest(const VtDaemonConfig *config, const char *name)
{
        g_return_val_if_fail(config != NULL, NULL);
        g_return_val_if_fail(name != NULL, NULL);

        for (guint i = 0; i < config->guests->len; i++) {
                const VtDaemonGuestConfig *guest = g_ptr_array_index(config->guests, i);

                if (strcmp(guest->name, name) == 0)
                        return guest;
        }
        return NULL;
}

/**
 * vt_daemon_config_get_memdev_strategy:
 * @config: a configuration
 * @name: a guest's name
 *
 * Returns: the virtio-mem strategy for the guest @name: its `[guest:NAME]`
 *     group's `memdev-strategy` when it sets one, else `[policy]
 *     memdev-strategy`
 */
VtMemdevStrategy
vt_daemon_config_get_memdev_strategy(const VtDaemonConfig *config, const char *name)
{
        const VtDaemonGuestConfig *guest;

        g_return_val_if_fail(config != NULL, VT_MEMDEV_STRATEGY_MEMDEV_FIRST);
        g_return_val_if_fail(name != NULL, config->memdev_strategy);

        guest = vt_daemon_config_find_guest(config, name);
        if (guest != NULL && guest->has_memdev_strategy)
                return guest->memdev_strategy;
        return config->memdev_strategy;
}

/**
 * vt_daemon_config_find_peer:
 * @config: a configuration
 * @name: a peer's name, as `[migrate] peers` lists it
 *
 * Returns: (transfer none) (nullable): its `[peer:NAME]` group, or %NULL
 */
const VtDaemonPeerConfig *
vt_daemon_config_find_peer(const VtDaemonConfig *config, const char *name)
{
        g_return_val_if_fail(config != NULL, NULL);
        g_return_val_if_fail(name != NULL, NULL);

        for (guint i = 0; i < config->migrate.peer_configs->len; i++) {
                const VtDaemonPeerConfig *peer = g_ptr_array_index(config->migrate.peer_configs, i);

                if (strcmp(peer->name, name) == 0)
                        return peer;
        }
        return NULL;
}

/**
 * vt_daemon_config_get_warnings:
 * @config: a configuration
 *
 * What the parser ignored: "vmtided.conf: [daemon] tick-intervall: unknown
 * key, ignored", "vmtided.conf: [budget] reserve: repeated on line 7
 * (first on line 5), the last value is used", one message each, for the
 * daemon to log.
 *
 * Returns: (transfer none) (array zero-terminated=1): the warnings; empty,
 *     never %NULL, when there are none
 */
const char *const *
vt_daemon_config_get_warnings(const VtDaemonConfig *config)
{
        g_return_val_if_fail(config != NULL, NULL);

        return (const char *const *)config->warnings;
}

static void parser_error(Parser *parser, GError **error, const char *group, const char *format, ...)
    G_GNUC_PRINTF(4, 5);

/* Sets an INVALID error "ORIGIN: [GROUP] " + the formatted text. */
static void
parser_error(Parser *parser, GError **error, const char *group, const char *format, ...)
{
        g_autofree char *text = NULL;
        va_list args;

        va_start(args, format);
        text = g_strdup_vprintf(format, args);
        va_end(args);
        g_set_error(error, VT_DAEMON_CONFIG_ERROR, VT_DAEMON_CONFIG_ERROR_INVALID, "%s: [%s] %s",
                    parser->origin, group, text);
}

static void parser_key_error(Parser *parser, GError **error, const char *group, const char *key,
                             const char *format, ...) G_GNUC_PRINTF(5, 6);

/* Sets an INVALID error "ORIGIN: [GROUP] KEY (line N): " + the formatted
 * text: a value's own problem, on the line that gave the value. */
static void
parser_key_error(Parser *parser, GError **error, const char *group, const char *key,
                 const char *format, ...)
{
        g_autofree char *where = g_strdup_printf("[%s] %s", group, key);
        g_autofree char *text = NULL;
        guint line = GPOINTER_TO_UINT(g_hash_table_lookup(parser->lines, where));
        va_list args;

        va_start(args, format);
        text = g_strdup_vprintf(format, args);
        va_end(args);
        if (line > 0)
                g_set_error(error, VT_DAEMON_CONFIG_ERROR, VT_DAEMON_CONFIG_ERROR_INVALID,
                            "%s: %s (line %u): %s", parser->origin, where, line, text);
        else
                g_set_error(error, VT_DAEMON_CONFIG_ERROR, VT_DAEMON_CONFIG_ERROR_INVALID,
                            "%s: %s: %s", parser->origin, where, text);
}

static void
parser_warn(Parser *parser, const char *group, const char *key)
{
        if (key == NULL)
                g_ptr_array_add(
                    parser->warnings,
                    g_strdup_printf("%s: [%s]: unknown group, ignored", parser->origin, group));
        else
                g_ptr_array_add(parser->warnings,
                                g_strdup_printf("%s: [%s] %s: unknown key, ignored", parser->origin,
                                                group, key));
}

/* Parses every key of the file's @group into @base through @keys; unknown
 * ones are warnings. */
static gboolean
parser_group(Parser *parser, const char *group, const VtDaemonConfigGroup *keys, gpointer base,
             GError **error)
{
        g_auto(GStrv) names = g_key_file_get_keys(parser->file, group, NULL, NULL);

        for (guint i = 0; names != NULL && names[i] != NULL; i++) {
                g_autofree char *raw = NULL;
                g_autofree char *problem = NULL;
                g_autoptr(GError) escape_error = NULL;
                const VtDaemonConfigKey *key = vt_daemon_config_group_find_key(keys, names[i]);

                if (key == NULL) {
                        parser_warn(parser, group, names[i]);
                        continue;
                }
                raw = g_key_file_get_string(parser->file, group, names[i], &escape_error);
                if (escape_error != NULL) {
                        /* Bytes that are not UTF-8, or a bad escape sequence
                         * (a lone backslash); GLib may return a string anyway. */
                        gboolean utf8 = !g_error_matches(escape_error, G_KEY_FILE_ERROR,
                                                         G_KEY_FILE_ERROR_UNKNOWN_ENCODING);
                        g_autofree char *value = NULL;

                        g_free(raw);
                        raw = g_key_file_get_value(parser->file, group, names[i], NULL);
                        value = g_utf8_make_valid(raw != NULL ? raw : "", -1);
                        parser_key_error(parser, error, group, names[i], "'%s' %s", value,
                                         utf8 ? "has an invalid escape" : "is not UTF-8");
                        return FALSE;
                }
                g_strstrip(raw);
                if (!vt_daemon_config_key_parse(key, raw, base, &problem)) {
                        parser_key_error(parser, error, group, names[i], "'%s' %s", raw, problem);
                        return FALSE;
                }
        }
        return TRUE;
}

/* The value as written, for a message; or the effective one, marked as the default. */
static char *
parser_describe(Parser *parser, const char *group, const char *key, double value)
{
        g_autofree char *raw = g_key_file_get_value(parser->file, group, key, NULL);

        if (raw != NULL)
                return g_strdup_printf("'%s'", g_strstrip(raw));
        return g_strdup_printf("%g (the default)", value);
}

/*
 * Checks @lo < @hi (@lo <= @hi with @equal_ok), percentages or plain
 * numbers of two keys of @group. The key blamed is the one the file sets
 * (the lower one when it sets both).
 */
static gboolean
parser_check_order(Parser *parser, const char *group, const char *lo_key, double lo,
                   const char *hi_key, double hi, gboolean equal_ok, GError **error)
{
        g_autofree char *lo_text = NULL;
        g_autofree char *hi_text = NULL;

        if (lo < hi || (equal_ok && lo == hi))
                return TRUE;
        lo_text = parser_describe(parser, group, lo_key, lo);
        hi_text = parser_describe(parser, group, hi_key, hi);
        if (g_key_file_has_key(parser->file, group, lo_key, NULL))
                parser_error(parser, error, group, "%s: %s must be %s %s (%s)", lo_key, lo_text,
                             equal_ok ? "at most" : "below", hi_key, hi_text);
        else
                parser_error(parser, error, group, "%s: %s must be %s %s (%s)", hi_key, hi_text,
                             equal_ok ? "at least" : "above", lo_key, lo_text);
        return FALSE;
}

static gboolean
parser_check(Parser *parser, GError **error)
{
        const VtDaemonConfig *c = parser->config;
        const VtBalloonConfig *b = &c->balloon;

        if (!parser_check_order(parser, "policy", "tight", b->tight_fraction * 100, "plenty",
                                b->plenty_fraction * 100, FALSE, error) ||
            !parser_check_order(parser, "policy", "short", b->short_fraction * 100, "tight",
                                b->tight_fraction * 100, FALSE, error) ||
            !parser_check_order(parser, "ksm", "start-available", c->ksm.start_available * 100,
                                "stop-available", c->ksm.stop_available * 100, FALSE, error) ||
            !parser_check_order(parser, "ksm", "pages-to-scan-min",
                                (double)c->ksm.pages_to_scan_min, "pages-to-scan-max",
                                (double)c->ksm.pages_to_scan_max, TRUE, error))
                return FALSE;
        if (!parser_check_order(parser, "migrate", "downtime-initial-ms",
                                (double)c->migrate.downtime_initial_us / 1000, "downtime-max-ms",
                                (double)c->migrate.downtime_max_us / 1000, TRUE, error))
                return FALSE;
        for (guint i = 0; i < c->migrate.peer_configs->len; i++) {
                const VtDaemonPeerConfig *peer = g_ptr_array_index(c->migrate.peer_configs, i);

                if (!g_strv_contains((const char *const *)c->migrate.peers, peer->name))
                        g_ptr_array_add(parser->warnings,
                                        g_strdup_printf("%s: [peer:%s]: not in [migrate] peers, "
                                                        "ignored",
                                                        parser->origin, peer->name));
        }
        if (c->agent_interval_ms != 0 && c->agent_interval_ms < 100) {
                parser_error(parser, error, "daemon",
                             "agent-interval-ms: '%u' is out of range "
                             "(0, or 100 to 3600000)",
                             c->agent_interval_ms);
                return FALSE;
        }
        return TRUE;
}

static gboolean
guest_name_is_valid(const char *name)
{
        if (name[0] == '\0' || strlen(name) > GUEST_NAME_MAX || strcmp(name, ".") == 0 ||
            strcmp(name, "..") == 0)
                return FALSE;
        for (const char *p = name; *p != '\0'; p++) {
                if (*p == '/' || g_ascii_iscntrl(*p) || *p == ' ')
                        return FALSE;
        }
        return g_utf8_validate(name, -1, NULL);
}

static gboolean
parser_guest(Parser *parser, const char *group, GError **error)
{
        const char *name = group + strlen(GUEST_GROUP_PREFIX);
        g_autofree char *problem = NULL;
        VtDaemonGuestConfig *guest;

        if (!guest_name_is_valid(name)) {
                g_set_error(error, VT_DAEMON_CONFIG_ERROR, VT_DAEMON_CONFIG_ERROR_INVALID,
                            "%s: [%s]: '%s' is not a guest name (1 to %d characters, no '/', "
                            "blanks or control characters)",
                            parser->origin, group, name, GUEST_NAME_MAX);
                return FALSE;
        }
        guest = g_new0(VtDaemonGuestConfig, 1);
        guest->name = g_strdup(name);
        g_ptr_array_add(parser->config->guests, guest);
        if (!parser_group(parser, group, vt_daemon_config_group_get_guest(), guest, error))
                return FALSE;
        if (guest->balloon.min_bytes != 0 && guest->balloon.max_bytes != 0 &&
            guest->balloon.min_bytes > guest->balloon.max_bytes) {
                g_autofree char *min = g_key_file_get_value(parser->file, group, "min", NULL);
                g_autofree char *max = g_key_file_get_value(parser->file, group, "max", NULL);

                parser_error(parser, error, group, "min: '%s' must be at most max ('%s')",
                             g_strstrip(min), g_strstrip(max));
                return FALSE;
        }
        if (!vt_balloon_guest_config_check(&guest->balloon, 0, &problem)) {
                parser_error(parser, error, group, "%s", problem);
                return FALSE;
        }
        if (guest->agent_path == NULL && guest->qmp_path != NULL &&
            g_str_has_suffix(guest->qmp_path, ".qmp")) {
                gsize stem = strlen(guest->qmp_path) - strlen(".qmp");

                guest->agent_path = g_strdup_printf("%.*s.agent", (int)stem, guest->qmp_path);
        }
        return TRUE;
}

static gboolean
parser_peer(Parser *parser, const char *group, GError **error)
{
        const char *name = group + strlen(PEER_GROUP_PREFIX);
        VtDaemonPeerConfig *peer;

        if (name[0] == '\0') {
                g_set_error(error, VT_DAEMON_CONFIG_ERROR, VT_DAEMON_CONFIG_ERROR_INVALID,
                            "%s: [%s]: no peer name", parser->origin, group);
                return FALSE;
        }
        peer = g_new0(VtDaemonPeerConfig, 1);
        peer->name = g_strdup(name);
        g_ptr_array_add(parser->config->migrate.peer_configs, peer);
        return parser_group(parser, group, vt_daemon_config_group_get_peer(), peer, error);
}

/**
 * vt_daemon_config_parse:
 * @data: the file's content
 * @length: its length, or -1 when NUL-terminated
 * @origin: the file's name, for messages
 * @error: %VT_DAEMON_CONFIG_ERROR_SYNTAX when @data is not a key file or
 *     holds a NUL byte (the message names the line),
 *     %VT_DAEMON_CONFIG_ERROR_INVALID for a bad value; the message names
 *     @origin, the group, the key and the value
 *
 * Parses a configuration over the defaults. Unknown groups and keys, and
 * groups or keys given twice, are not errors: see
 * vt_daemon_config_get_warnings().
 *
 * Returns: (transfer full): the configuration, or %NULL on error
 */
VtDaemonConfig *
vt_daemon_config_parse(const char *data, gsize length, const char *origin, GError **error)
{
        g_autoptr(VtDaemonConfig) config = NULL;
        g_autoptr(GKeyFile) file = g_key_file_new();
        g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GHashTable) lines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr(GError) local_error = NULL;
        g_auto(GStrv) names = NULL;
        Parser parser;

        g_return_val_if_fail(data != NULL, NULL);
        g_return_val_if_fail(origin != NULL, NULL);
        g_return_val_if_fail(error == NULL || *error == NULL, NULL);

        if (length == (gsize)-1)
                length = strlen(data);
        if (!vt_daemon_config_file_scan(origin, data, length, warnings, lines, error))
                return NULL;
        if (!g_key_file_load_from_data(file, data, length, G_KEY_FILE_NONE, &local_error)) {
                g_set_error(error, VT_DAEMON_CONFIG_ERROR, VT_DAEMON_CONFIG_ERROR_SYNTAX, "%s: %s",
                            origin, local_error->message);
                return NULL;
        }

        config = vt_daemon_config_new_default();
        g_free(config->origin);
        config->origin = g_strdup(origin);
        parser = (Parser){
            .origin = origin, .file = file, .config = config, .warnings = warnings, .lines = lines};

        names = g_key_file_get_groups(file, NULL);
        for (guint i = 0; names[i] != NULL; i++) {
                const VtDaemonConfigGroup *group;

                if (g_str_has_prefix(names[i], GUEST_GROUP_PREFIX)) {
                        if (!parser_guest(&parser, names[i], error))
                                return NULL;
                        continue;
                }
                if (g_str_has_prefix(names[i], PEER_GROUP_PREFIX)) {
                        if (!parser_peer(&parser, names[i], error))
                                return NULL;
                        continue;
                }
                group = vt_daemon_config_group_find(names[i]);
                if (group == NULL) {
                        parser_warn(&parser, names[i], NULL);
                        continue;
                }
                if (!parser_group(&parser, names[i], group, config, error))
                        return NULL;
        }
        if (!parser_check(&parser, error))
                return NULL;

        g_strfreev(config->warnings);
        g_ptr_array_add(warnings, NULL);
        config->warnings = (GStrv)g_ptr_array_steal(warnings, NULL);
        return g_steal_pointer(&config);
}

static VtDaemonConfig *
config_load(const char *path, gboolean optional, GError **error)
{
        g_autoptr(GByteArray) data = NULL;
        gboolean missing;

        data = vt_daemon_config_file_read(path, &missing, error);
        if (data != NULL)
                return vt_daemon_config_parse(data->len > 0 ? (const char *)data->data : "",
                                              data->len, path, error);
        if (!missing)
                return NULL;
        if (optional)
                return vt_daemon_config_new_default();
        g_set_error(error, VT_DAEMON_CONFIG_ERROR, VT_DAEMON_CONFIG_ERROR_NOT_FOUND,
                    "%s: no such configuration file", path);
        return NULL;
}

/**
 * vt_daemon_config_load:
 * @path: (nullable): the file given on the command line; %NULL for the
 *     default path (vt_daemon_config_get_default_path())
 * @error: %VT_DAEMON_CONFIG_ERROR_NOT_FOUND when @path was given and does
 *     not exist, %VT_DAEMON_CONFIG_ERROR_READ when it cannot be read, is
 *     not a regular file or is larger than %VT_DAEMON_CONFIG_SIZE_MAX, or
 *     an error of vt_daemon_config_parse()
 *
 * Loads the configuration. A file named explicitly must exist; the default
 * one need not (a host without one runs on the defaults, with origin
 * "defaults").
 *
 * Returns: (transfer full): the configuration, or %NULL on error
 */
VtDaemonConfig *
vt_daemon_config_load(const char *path, GError **error)
{
        g_return_val_if_fail(error == NULL || *error == NULL, NULL);

        if (path == NULL)
                return config_load(vt_daemon_config_get_default_path(), TRUE, error);
        return config_load(path, FALSE, error);
}

/**
 * vt_daemon_config_load_optional:
 * @path: (nullable): a configuration file that may be missing; %NULL for
 *     the default path
 * @error: as vt_daemon_config_load(), but never NOT_FOUND
 *
 * Loads @path as vt_daemon_config_load() loads the default path: a missing
 * file gives the defaults.
 *
 * Returns: (transfer full): the configuration, or %NULL on error
 */
VtDaemonConfig *
vt_daemon_config_load_optional(const char *path, GError **error)
{
        g_return_val_if_fail(error == NULL || *error == NULL, NULL);

        return config_load(path != NULL ? path : vt_daemon_config_get_default_path(), TRUE, error);
}
