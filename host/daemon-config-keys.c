/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmtided's configuration keys: each group's table (a key's syntax, range
 * and destination) and the value parsers behind it (daemon-config.c reads
 * the file and checks what relates keys to each other).
 */
#include "host/daemon-config-keys.h"

#include <math.h>
#include <string.h>

#include "balloon/balloon-registry.h"
#include "common/vt-size.h"
#include "host/metrics/metrics-server.h"
#include "host/sensing/sensing-psi.h"
#include "ksm/ksm-tuner-registry.h"

typedef enum {
        KEY_BOOL,            /* gboolean */
        KEY_UINT,            /* guint, whole number in [min, max] */
        KEY_U64,             /* guint64, whole number in [min, max] */
        KEY_MS,              /* gint64 µs; the value is whole milliseconds in [min, max] */
        KEY_SECONDS,         /* gint64 µs; the value is whole seconds in [min, max] */
        KEY_SIZE,            /* guint64 bytes */
        KEY_SIZE_DOUBLE,     /* double bytes */
        KEY_FRACTION,        /* double fraction; the value is a percentage in [min, max] */
        KEY_PERCENT,         /* double percent in [min, max] */
        KEY_NUMBER,          /* double in [min, max] */
        KEY_PATH,            /* char *, an absolute path */
        KEY_PATH_OPTIONAL,   /* char *, an absolute path; empty: NULL */
        KEY_STRING,          /* char *, not empty */
        KEY_STRING_OPTIONAL, /* char *; empty: NULL */
        KEY_CUSTOM,          /* parsed by @custom */
} KeyType;

/* Parses @value into @base; on failure sets @ret_problem ("is not a backend"). */
typedef gboolean (*KeyParseFunc)(const char *value, gpointer base, char **ret_problem);

struct _VtDaemonConfigKey {
        const char *name;
        KeyType type;
        gsize offset;
        double min;
        double max;
        KeyParseFunc custom;
};

struct _VtDaemonConfigGroup {
        const char *name;
        const VtDaemonConfigKey *keys;
};

#define OFF(field)       offsetof(VtDaemonConfig, field)
#define GUEST_OFF(field) offsetof(VtDaemonGuestConfig, field)
#define PEER_OFF(field)  offsetof(VtDaemonPeerConfig, field)

static gboolean parse_backend(const char *value, gpointer base, char **ret_problem);
static gboolean parse_mode(const char *value, gpointer base, char **ret_problem);
static gboolean parse_psi_trigger(const char *value, gpointer base, char **ret_problem);
static gboolean parse_log_level(const char *value, gpointer base, char **ret_problem);
static gboolean parse_algorithm(const char *value, gpointer base, char **ret_problem);
static gboolean parse_tuner(const char *value, gpointer base, char **ret_problem);
static gboolean parse_peers(const char *value, gpointer base, char **ret_problem);
static gboolean parse_memdev_strategy(const char *value, gpointer base, char **ret_problem);
static gboolean parse_guest_memdev_strategy(const char *value, gpointer base, char **ret_problem);

static const VtDaemonConfigKey daemon_keys[] = {
    {"tick-interval-ms", KEY_MS, OFF(tick_interval_us), 100, 3600000},
    {"control-socket", KEY_PATH, OFF(control_socket)},
    {"control-socket-mode", KEY_CUSTOM, 0, 0, 0, parse_mode},
    {"backend", KEY_CUSTOM, 0, 0, 0, parse_backend},
    {"stats-interval-s", KEY_UINT, OFF(stats_interval_s), 1, 3600},
    {"agent-interval-ms", KEY_UINT, OFF(agent_interval_ms), 0, 3600000},
    {"host-psi-trigger", KEY_CUSTOM, 0, 0, 0, parse_psi_trigger},
    {"proc-root", KEY_PATH, OFF(proc_root)},
    {"log-level", KEY_CUSTOM, 0, 0, 0, parse_log_level},
    {NULL},
};

static const VtDaemonConfigKey budget_keys[] = {
    {"reserve", KEY_SIZE, OFF(balloon.host_reserve)},
    {"total", KEY_SIZE, OFF(budget_total)},
    {"cgroup", KEY_PATH_OPTIONAL, OFF(budget_cgroup)},
    {NULL},
};

static const VtDaemonConfigKey policy_keys[] = {
    {"algorithm", KEY_CUSTOM, 0, 0, 0, parse_algorithm},
    {"plenty", KEY_FRACTION, OFF(balloon.plenty_fraction), 0, 100},
    {"tight", KEY_FRACTION, OFF(balloon.tight_fraction), 0, 100},
    {"short", KEY_FRACTION, OFF(balloon.short_fraction), 0, 100},
    {"hysteresis", KEY_FRACTION, OFF(balloon.hysteresis_fraction), 0, 100},
    {"psi-short", KEY_PERCENT, OFF(balloon.psi_short), 0, 100},
    {"psi-critical", KEY_PERCENT, OFF(balloon.psi_critical), 0, 100},
    {"headroom", KEY_FRACTION, OFF(balloon.guest_headroom_fraction), 0, 100},
    {"headroom-min", KEY_SIZE, OFF(balloon.guest_headroom_min)},
    {"guest-pressure-psi", KEY_PERCENT, OFF(balloon.guest_pressure_psi), 0, 100},
    {"guest-low", KEY_FRACTION, OFF(balloon.guest_low_fraction), 0, 100},
    {"default-min", KEY_FRACTION, OFF(balloon.default_min_fraction), 0, 100},
    {"step-tight", KEY_FRACTION, OFF(balloon.step_fraction[VT_HOST_STATE_TIGHT]), 0, 100},
    {"step-short", KEY_FRACTION, OFF(balloon.step_fraction[VT_HOST_STATE_SHORT]), 0, 100},
    {"step-critical", KEY_FRACTION, OFF(balloon.step_fraction[VT_HOST_STATE_CRITICAL]), 0, 100},
    {"min-change", KEY_SIZE, OFF(balloon.min_change)},
    {"settle-ms", KEY_MS, OFF(balloon.settle_us), 0, 3600000},
    {"stale-ms", KEY_MS, OFF(balloon.stale_us), 100, 3600000},
    {"swap-in-tight", KEY_NUMBER, OFF(balloon.swap_in_tight), 0, 1e9},
    {"guest-swap-in-warm", KEY_NUMBER, OFF(balloon.guest_swap_in_warm), 0, 1e9},
    {"guest-swap-in-thrash", KEY_NUMBER, OFF(balloon.guest_swap_in_thrash), 0, 1e9},
    {"memdev-strategy", KEY_CUSTOM, 0, 0, 0, parse_memdev_strategy},
    {NULL},
};

static const VtDaemonConfigKey ksm_keys[] = {
    {"enabled", KEY_BOOL, OFF(ksm_enabled)},
    {"sysfs-root", KEY_PATH, OFF(ksm_sysfs_root)},
    {"tuner", KEY_CUSTOM, 0, 0, 0, parse_tuner},
    {"cpu-cap", KEY_FRACTION, OFF(ksm.cpu_cap), 0.1, 100},
    {"start-available", KEY_FRACTION, OFF(ksm.start_available), 0, 100},
    {"stop-available", KEY_FRACTION, OFF(ksm.stop_available), 0, 100},
    {"start-psi", KEY_PERCENT, OFF(ksm.start_psi_some), 0.01, 100},
    {"min-yield", KEY_SIZE_DOUBLE, OFF(ksm.min_yield_bytes_per_cpu_s)},
    {"pages-to-scan-min", KEY_U64, OFF(ksm.pages_to_scan_min), 1, 1000000},
    {"pages-to-scan-max", KEY_U64, OFF(ksm.pages_to_scan_max), 1, 1000000},
    {"sleep-ms", KEY_U64, OFF(ksm.sleep_millisecs), 1, 60000},
    {"allow-unmerge", KEY_BOOL, OFF(ksm.allow_unmerge)},
    {"advisor-target-scan-time-s", KEY_U64, OFF(ksm.advisor_target_scan_time_s), 0, 86400},
    {NULL},
};

static const VtDaemonConfigKey qmp_keys[] = {
    {"dir", KEY_PATH, OFF(qmp_dir)},
    {NULL},
};

static const VtDaemonConfigKey libvirt_keys[] = {
    {"uri", KEY_STRING, OFF(libvirt_uri)},
    {NULL},
};

static const VtDaemonConfigKey guest_keys[] = {
    {"qmp", KEY_PATH_OPTIONAL, GUEST_OFF(qmp_path)},
    {"agent", KEY_PATH_OPTIONAL, GUEST_OFF(agent_path)},
    {"min", KEY_SIZE, GUEST_OFF(balloon.min_bytes)},
    {"max", KEY_SIZE, GUEST_OFF(balloon.max_bytes)},
    {"shares", KEY_UINT, GUEST_OFF(balloon.shares), 1, 100000},
    {"opt-out", KEY_BOOL, GUEST_OFF(balloon.opt_out)},
    {"ksm-opt-out", KEY_BOOL, GUEST_OFF(ksm_opt_out)},
    {"migrate-opt-out", KEY_BOOL, GUEST_OFF(migrate_opt_out)},
    {"migrate-pinned", KEY_BOOL, GUEST_OFF(migrate_pinned)},
    {"memdev-strategy", KEY_CUSTOM, 0, 0, 0, parse_guest_memdev_strategy},
    {NULL},
};

/* Bandwidths are sizes per second: `128M` is 128 MiB/s. */
static const VtDaemonConfigKey migrate_keys[] = {
    {"enabled", KEY_BOOL, OFF(migrate.enabled)},
    {"peers", KEY_CUSTOM, 0, 0, 0, parse_peers},
    {"qmp-destination-command", KEY_STRING_OPTIONAL, OFF(migrate.qmp_destination_command)},
    {"quit-after-migration", KEY_BOOL, OFF(migrate.quit_after_migration)},
    {"bandwidth", KEY_SIZE, OFF(migrate.bandwidth)},
    {"downtime-initial-ms", KEY_MS, OFF(migrate.downtime_initial_us), 1, 60000},
    {"downtime-max-ms", KEY_MS, OFF(migrate.downtime_max_us), 1, 60000},
    {"auto-converge", KEY_BOOL, OFF(migrate.auto_converge)},
    {"max-outgoing", KEY_UINT, OFF(migrate.max_outgoing), 1, 16},
    {"hysteresis-ticks", KEY_UINT, OFF(migrate.hysteresis_ticks), 1, 1000},
    {"cooldown-guest-s", KEY_SECONDS, OFF(migrate.cooldown_guest_us), 0, 604800},
    {"cooldown-host-s", KEY_SECONDS, OFF(migrate.cooldown_host_us), 0, 604800},
    {"min-relief", KEY_SIZE, OFF(migrate.min_relief)},
    {"peer-interval-ms", KEY_MS, OFF(migrate.peer_interval_us), 100, 3600000},
    {NULL},
};

static const VtDaemonConfigKey peer_keys[] = {
    {"control-socket", KEY_PATH_OPTIONAL, PEER_OFF(control_socket)},
    {"bandwidth", KEY_SIZE, PEER_OFF(bandwidth)},
    {"transport-uri", KEY_STRING_OPTIONAL, PEER_OFF(transport_uri)},
    {NULL},
};

static gboolean parse_metrics_listen(const char *value, gpointer base, char **ret_problem);

static const VtDaemonConfigKey metrics_keys[] = {
    {"listen", KEY_CUSTOM, 0, 0, 0, parse_metrics_listen},
    {NULL},
};

static gboolean parse_recorder_max_age(const char *value, gpointer base, char **ret_problem);
static gboolean parse_recorder_segment_size(const char *value, gpointer base, char **ret_problem);
static gboolean parse_recorder_segment_age(const char *value, gpointer base, char **ret_problem);

static const VtDaemonConfigKey recorder_keys[] = {
    {"enabled", KEY_BOOL, OFF(recorder.enabled)},
    {"dir", KEY_PATH, OFF(recorder.dir)},
    {"max-size", KEY_SIZE, OFF(recorder.max_bytes)},
    {"max-age", KEY_CUSTOM, 0, 0, 0, parse_recorder_max_age},
    {"segment-size", KEY_CUSTOM, 0, 0, 0, parse_recorder_segment_size},
    {"segment-age", KEY_CUSTOM, 0, 0, 0, parse_recorder_segment_age},
    {NULL},
};

static const VtDaemonConfigGroup groups[] = {
    {"daemon", daemon_keys},   {"budget", budget_keys},   {"policy", policy_keys},
    {"ksm", ksm_keys},         {"qmp", qmp_keys},         {"libvirt", libvirt_keys},
    {"migrate", migrate_keys}, {"metrics", metrics_keys}, {"recorder", recorder_keys},
};

static const char *const backend_names[VT_DAEMON_BACKEND_MAX] = {
    [VT_DAEMON_BACKEND_QMP] = "qmp",
    [VT_DAEMON_BACKEND_LIBVIRT] = "libvirt",
};

static const struct {
        const char *name;
        GLogLevelFlags level;
} log_levels[] = {
    {"error", G_LOG_LEVEL_ERROR},     {"critical", G_LOG_LEVEL_CRITICAL},
    {"warning", G_LOG_LEVEL_WARNING}, {"message", G_LOG_LEVEL_MESSAGE},
    {"info", G_LOG_LEVEL_INFO},       {"debug", G_LOG_LEVEL_DEBUG},
};

static const VtDaemonConfigGroup guest_group = {"guest:NAME", guest_keys};
static const VtDaemonConfigGroup peer_group = {"peer:NAME", peer_keys};

/**
 * vt_daemon_backend_to_string:
 * @backend: a backend
 *
 * Returns: its name in the configuration ("qmp", "libvirt")
 */
const char *
vt_daemon_backend_to_string(VtDaemonBackend backend)
{
        return backend < VT_DAEMON_BACKEND_MAX ? backend_names[backend] : "unknown";
}

/**
 * vt_daemon_config_group_find:
 * @name: a group's name in the file
 *
 * Returns: (transfer none) (nullable): the known group @name (not a
 *     `[guest:NAME]` one), or %NULL
 */
const VtDaemonConfigGroup *
vt_daemon_config_group_find(const char *name)
{
        for (guint i = 0; i < G_N_ELEMENTS(groups); i++)
                if (strcmp(groups[i].name, name) == 0)
                        return &groups[i];
        return NULL;
}

/**
 * vt_daemon_config_group_get_guest:
 *
 * Returns: (transfer none): the keys of every `[guest:NAME]` group
 */
const VtDaemonConfigGroup *
vt_daemon_config_group_get_guest(void)
{
        return &guest_group;
}

/**
 * vt_daemon_config_group_get_peer:
 *
 * Returns: (transfer none): the keys of every `[peer:NAME]` group
 */
const VtDaemonConfigGroup *
vt_daemon_config_group_get_peer(void)
{
        return &peer_group;
}

/**
 * vt_daemon_config_group_find_key:
 * @group: a group
 * @name: a key's name in the file
 *
 * Returns: (transfer none) (nullable): @group's key @name, or %NULL
 */
const VtDaemonConfigKey *
vt_daemon_config_group_find_key(const VtDaemonConfigGroup *group, const char *name)
{
        for (const VtDaemonConfigKey *k = group->keys; k->name != NULL; k++)
                if (strcmp(k->name, name) == 0)
                        return k;
        return NULL;
}

/* A size (common/vt-size.c), blanks around it allowed, at most
 * VT_SIZE_MEMORY_MAX: nothing the file says can overflow the sums and
 * differences of sizes downstream ([budget] total = 16383P once read as a
 * negative free figure). */
static gboolean
parse_size(const char *value, guint64 *ret_bytes, char **ret_problem)
{
        g_autofree char *text = g_strstrip(g_strdup(value));
        guint64 bytes;

        if (!vt_size_parse(text, &bytes, NULL)) {
                *ret_problem = g_strdup("is not a size (bytes, or a number with K, M, G, T or P: "
                                        "512M, 1.5G)");
                return FALSE;
        }
        if (bytes > VT_SIZE_MEMORY_MAX) {
                *ret_problem = g_strdup("is too large (at most 4P: 4 PiB, the most memory a "
                                        "machine can address)");
                return FALSE;
        }
        *ret_bytes = bytes;
        return TRUE;
}

/* A number, locale-independent, with an optional '%' after it. */
static gboolean
parse_decimal(const char *value, double *ret_value)
{
        char *end = NULL;
        double v;

        if (!g_ascii_isdigit(value[0]) && value[0] != '.')
                return FALSE;
        v = g_ascii_strtod(value, &end);
        if (end == value || !isfinite(v))
                return FALSE;
        while (g_ascii_isspace(*end))
                end++;
        if (*end == '%')
                end++;
        if (*end != '\0')
                return FALSE;
        *ret_value = v;
        return TRUE;
}

static gboolean
parse_bool(const char *value, gboolean *ret_value)
{
        static const char *const yes[] = {"true", "yes", "on", "1"};
        static const char *const no[] = {"false", "no", "off", "0"};

        for (guint i = 0; i < G_N_ELEMENTS(yes); i++) {
                if (g_ascii_strcasecmp(value, yes[i]) == 0) {
                        *ret_value = TRUE;
                        return TRUE;
                }
                if (g_ascii_strcasecmp(value, no[i]) == 0) {
                        *ret_value = FALSE;
                        return TRUE;
                }
        }
        return FALSE;
}

static gboolean
parse_whole(const char *value, const VtDaemonConfigKey *key, guint64 *ret_value, char **ret_problem)
{
        guint64 v;

        if (!g_ascii_string_to_unsigned(value, 10, 0, G_MAXUINT64, &v, NULL)) {
                *ret_problem = g_strdup("is not a whole number");
                return FALSE;
        }
        if ((double)v < key->min || (double)v > key->max) {
                *ret_problem =
                    g_strdup_printf("is out of range (%.0f to %.0f)", key->min, key->max);
                return FALSE;
        }
        *ret_value = v;
        return TRUE;
}

static gboolean
parse_path(const char *value, gboolean optional, char **field, char **ret_problem)
{
        if (value[0] == '\0' && optional) {
                g_clear_pointer(field, g_free);
                return TRUE;
        }
        if (!g_path_is_absolute(value)) {
                *ret_problem = g_strdup("is not an absolute path");
                return FALSE;
        }
        g_free(*field);
        *field = g_strdup(value);
        return TRUE;
}

static gboolean
parse_backend(const char *value, gpointer base, char **ret_problem)
{
        VtDaemonConfig *config = base;

        for (guint i = 0; i < VT_DAEMON_BACKEND_MAX; i++) {
                if (strcmp(value, backend_names[i]) == 0) {
                        config->backend = i;
                        return TRUE;
                }
        }
        *ret_problem = g_strdup("is not a backend (qmp or libvirt)");
        return FALSE;
}

static gboolean
parse_mode(const char *value, gpointer base, char **ret_problem)
{
        VtDaemonConfig *config = base;
        guint64 mode;

        if (!g_ascii_string_to_unsigned(value, 8, 0, 0777, &mode, NULL)) {
                *ret_problem = g_strdup("is not a permission mode (octal, 0600)");
                return FALSE;
        }
        config->control_socket_mode = (guint)mode;
        return TRUE;
}

static gboolean
parse_psi_trigger(const char *value, gpointer base, char **ret_problem)
{
        VtDaemonConfig *config = base;
        g_autoptr(GError) error = NULL;
        VtPsiTriggerSpec spec;

        if (value[0] == '\0') {
                g_clear_pointer(&config->host_psi_trigger, g_free);
                return TRUE;
        }
        if (!vt_psi_trigger_spec_parse(value, &spec, &error)) {
                *ret_problem = g_strdup_printf("is not a PSI trigger: %s", error->message);
                return FALSE;
        }
        g_free(config->host_psi_trigger);
        config->host_psi_trigger = vt_psi_trigger_spec_to_string(&spec);
        return TRUE;
}

static gboolean
parse_log_level(const char *value, gpointer base, char **ret_problem)
{
        VtDaemonConfig *config = base;

        for (guint i = 0; i < G_N_ELEMENTS(log_levels); i++) {
                if (g_ascii_strcasecmp(value, log_levels[i].name) == 0) {
                        config->log_level = log_levels[i].level;
                        return TRUE;
                }
        }
        *ret_problem =
            g_strdup("is not a log level (error, critical, warning, message, info or debug)");
        return FALSE;
}

/* `[metrics] listen`: HOST:PORT with an IP literal (no name to resolve
 * on the main loop); empty: no metrics served. */
static gboolean
parse_metrics_listen(const char *value, gpointer base, char **ret_problem)
{
        VtDaemonConfig *config = base;

        if (value[0] != '\0' && !vt_metrics_address_parse(value, NULL, NULL)) {
                *ret_problem = g_strdup("is not HOST:PORT with an IP address and a port from 1 to "
                                        "65535 (127.0.0.1:9848, [::1]:9848)");
                return FALSE;
        }
        g_free(config->metrics_listen);
        config->metrics_listen = value[0] != '\0' ? g_strdup(value) : NULL;
        return TRUE;
}

/*
 * A duration of the recorder's: a whole number with a unit, s, m, h or d
 * (`7d`, `12h`), plain seconds without one; at most 10 years; 0: none.
 */
static gboolean
parse_duration(const char *value, gint64 *ret_us, char **ret_problem)
{
        static const struct {
                char unit;
                gint64 us;
        } units[] = {{'s', G_TIME_SPAN_SECOND},
                     {'m', G_TIME_SPAN_MINUTE},
                     {'h', G_TIME_SPAN_HOUR},
                     {'d', G_TIME_SPAN_DAY}};
        g_autofree char *text = g_strstrip(g_strdup(value));
        gsize len = strlen(text);
        gint64 scale = G_TIME_SPAN_SECOND;
        guint64 n;

        for (guint i = 0; len > 1 && i < G_N_ELEMENTS(units); i++) {
                if (g_ascii_tolower(text[len - 1]) == units[i].unit) {
                        scale = units[i].us;
                        text[--len] = '\0';
                        break;
                }
        }
        if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXINT32, &n, NULL) ||
            n > (guint64)(3650 * G_TIME_SPAN_DAY / scale)) {
                *ret_problem = g_strdup("is not a duration (a whole number with s, m, h or d: "
                                        "7d, 12h; at most 3650d)");
                return FALSE;
        }
        *ret_us = (gint64)n * scale;
        return TRUE;
}

/* `[recorder] max-age`: 0, no age limit. */
static gboolean
parse_recorder_max_age(const char *value, gpointer base, char **ret_problem)
{
        return parse_duration(value, &((VtDaemonConfig *)base)->recorder.max_age_us, ret_problem);
}

/* `[recorder] segment-age`: 0, segments end by size only. */
static gboolean
parse_recorder_segment_age(const char *value, gpointer base, char **ret_problem)
{
        return parse_duration(value, &((VtDaemonConfig *)base)->recorder.segment_age_us,
                              ret_problem);
}

/* `[recorder] segment-size`: 64 KiB to 1 GiB (a reader takes no larger
 * file for a segment). */
static gboolean
parse_recorder_segment_size(const char *value, gpointer base, char **ret_problem)
{
        guint64 bytes;

        if (!parse_size(value, &bytes, ret_problem))
                return FALSE;
        if (bytes < (64 << 10) || bytes > (G_GUINT64_CONSTANT(1) << 30)) {
                *ret_problem = g_strdup("is out of range (64K to 1G)");
                return FALSE;
        }
        ((VtDaemonConfig *)base)->recorder.segment_bytes = bytes;
        return TRUE;
}

/*
 * `[migrate] peers`: names or libvirt URIs separated by ';' (GKeyFile's
 * list separator) or blanks; each printable, no two alike. Empty: none.
 */
static gboolean
parse_peers(const char *value, gpointer base, char **ret_problem)
{
        VtDaemonConfig *config = base;
        g_auto(GStrv) parts = g_strsplit_set(value, "; \t", -1);
        g_autoptr(GPtrArray) peers = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; parts[i] != NULL; i++) {
                if (parts[i][0] == '\0')
                        continue;
                for (const char *p = parts[i]; *p != '\0'; p++) {
                        if (g_ascii_iscntrl(*p)) {
                                *ret_problem = g_strdup("holds a control character");
                                return FALSE;
                        }
                }
                for (guint j = 0; j < peers->len; j++) {
                        if (strcmp(g_ptr_array_index(peers, j), parts[i]) == 0) {
                                *ret_problem =
                                    g_strdup_printf("names the peer '%s' twice", parts[i]);
                                return FALSE;
                        }
                }
                g_ptr_array_add(peers, g_strdup(parts[i]));
        }
        g_ptr_array_add(peers, NULL);
        g_strfreev(config->migrate.peers);
        config->migrate.peers = (GStrv)g_ptr_array_free(g_steal_pointer(&peers), FALSE);
        return TRUE;
}

/* "vmtide, mom or proxmox": @names (@n of them) for a message. */
static char *
names_list(const char *const *names, guint n)
{
        GString *s = g_string_new(NULL);

        for (guint i = 0; i < n; i++)
                g_string_append_printf(s, "%s%s",
                                       i == 0      ? ""
                                       : i + 1 < n ? ", "
                                                   : " or ",
                                       names[i]);
        return g_string_free(s, FALSE);
}

static gboolean
parse_algorithm(const char *value, gpointer base, char **ret_problem)
{
        VtDaemonConfig *config = base;
        const VtBalloonPolicyInfo *policy = vt_balloon_registry_lookup(value);
        const VtBalloonPolicyInfo *all;
        g_autofree const char **names = NULL;
        g_autofree char *list = NULL;
        guint n;

        if (policy != NULL) {
                config->balloon_policy = policy->decide;
                config->balloon_policy_name = policy->name;
                return TRUE;
        }
        all = vt_balloon_registry_list(&n);
        names = g_new0(const char *, MAX(n, 1));
        for (guint i = 0; i < n; i++)
                names[i] = all[i].name;
        list = names_list(names, n);
        *ret_problem = g_strdup_printf("is not a balloon policy (%s)", list);
        return FALSE;
}

static gboolean
parse_tuner(const char *value, gpointer base, char **ret_problem)
{
        VtDaemonConfig *config = base;
        const VtKsmTunerInfo *tuner = vt_ksm_tuner_registry_lookup(value);
        const VtKsmTunerInfo *all;
        g_autofree const char **names = NULL;
        g_autofree char *list = NULL;
        guint n;

        if (tuner != NULL) {
                config->ksm_tuner = tuner->decide;
                config->ksm_tuner_name = tuner->name;
                return TRUE;
        }
        all = vt_ksm_tuner_registry_list(&n);
        names = g_new0(const char *, MAX(n, 1));
        for (guint i = 0; i < n; i++)
                names[i] = all[i].name;
        list = names_list(names, n);
        *ret_problem = g_strdup_printf("is not a KSM tuner (%s)", list);
        return FALSE;
}

/* A virtio-mem strategy by name (balloon/balloon-memdev.c). */
static gboolean
parse_strategy(const char *value, VtMemdevStrategy *ret_strategy, char **ret_problem)
{
        const char *names[VT_MEMDEV_STRATEGY_MAX];
        g_autofree char *list = NULL;

        if (vt_memdev_strategy_from_name(value, ret_strategy))
                return TRUE;
        for (guint i = 0; i < VT_MEMDEV_STRATEGY_MAX; i++)
                names[i] = vt_memdev_strategy_name((VtMemdevStrategy)i);
        list = names_list(names, VT_MEMDEV_STRATEGY_MAX);
        *ret_problem = g_strdup_printf("is not a virtio-mem strategy (%s)", list);
        return FALSE;
}

/* `[policy] memdev-strategy`: every guest's unless its group says. */
static gboolean
parse_memdev_strategy(const char *value, gpointer base, char **ret_problem)
{
        return parse_strategy(value, &((VtDaemonConfig *)base)->memdev_strategy, ret_problem);
}

/* `[guest:NAME] memdev-strategy`: this guest's, over `[policy]`'s. */
static gboolean
parse_guest_memdev_strategy(const char *value, gpointer base, char **ret_problem)
{
        VtDaemonGuestConfig *guest = base;

        if (!parse_strategy(value, &guest->memdev_strategy, ret_problem))
                return FALSE;
        guest->has_memdev_strategy = TRUE;
        return TRUE;
}

/**
 * vt_daemon_config_key_parse:
 * @key: a key of a group's table
 * @value: its value in the file, trimmed
 * @base: where the value goes: the #VtDaemonConfig, the
 *     #VtDaemonGuestConfig of a `[guest:NAME]` group or the
 *     #VtDaemonPeerConfig of a `[peer:NAME]` group
 * @ret_problem: (out) (transfer full): on failure, what is wrong with
 *     @value ("is not a size (...)"), for the caller's message
 *
 * Parses and checks @value by @key's syntax and range, into @base.
 *
 * Returns: %TRUE on success
 */
gboolean
vt_daemon_config_key_parse(const VtDaemonConfigKey *key, const char *value, gpointer base,
                           char **ret_problem)
{
        gpointer field = (char *)base + key->offset;
        guint64 whole;
        double number;

        switch (key->type) {
        case KEY_BOOL:
                if (!parse_bool(value, field)) {
                        *ret_problem = g_strdup("is not a boolean (true or false)");
                        return FALSE;
                }
                return TRUE;
        case KEY_UINT:
                if (!parse_whole(value, key, &whole, ret_problem))
                        return FALSE;
                *(guint *)field = (guint)whole;
                return TRUE;
        case KEY_U64:
                if (!parse_whole(value, key, &whole, ret_problem))
                        return FALSE;
                *(guint64 *)field = whole;
                return TRUE;
        case KEY_MS:
        case KEY_SECONDS:
                if (!parse_whole(value, key, &whole, ret_problem))
                        return FALSE;
                *(gint64 *)field = (gint64)whole * (key->type == KEY_MS ? G_TIME_SPAN_MILLISECOND
                                                                        : G_TIME_SPAN_SECOND);
                return TRUE;
        case KEY_SIZE:
        case KEY_SIZE_DOUBLE:
                if (!parse_size(value, &whole, ret_problem))
                        return FALSE;
                if (key->type == KEY_SIZE)
                        *(guint64 *)field = whole;
                else
                        *(double *)field = (double)whole;
                return TRUE;
        case KEY_FRACTION:
        case KEY_PERCENT:
        case KEY_NUMBER:
                if (!parse_decimal(value, &number) ||
                    (key->type == KEY_NUMBER && strchr(value, '%') != NULL)) {
                        *ret_problem = g_strdup(key->type == KEY_NUMBER ? "is not a number"
                                                                        : "is not a percentage");
                        return FALSE;
                }
                if (number < key->min || number > key->max) {
                        *ret_problem =
                            g_strdup_printf("is out of range (%g to %g%s)", key->min, key->max,
                                            key->type == KEY_NUMBER ? "" : " %");
                        return FALSE;
                }
                *(double *)field = key->type == KEY_FRACTION ? number / 100.0 : number;
                return TRUE;
        case KEY_PATH:
        case KEY_PATH_OPTIONAL:
                return parse_path(value, key->type == KEY_PATH_OPTIONAL, field, ret_problem);
        case KEY_STRING_OPTIONAL:
                g_free(*(char **)field);
                *(char **)field = value[0] != '\0' ? g_strdup(value) : NULL;
                return TRUE;
        case KEY_STRING:
                if (value[0] == '\0') {
                        *ret_problem = g_strdup("is empty");
                        return FALSE;
                }
                g_free(*(char **)field);
                *(char **)field = g_strdup(value);
                return TRUE;
        case KEY_CUSTOM:
                return key->custom(value, base, ret_problem);
        default:
                g_assert_not_reached();
        }
}
