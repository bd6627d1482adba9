/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmtided's configuration file.
 *
 * Theory of operation: the file is a GKeyFile. Parsing starts from the
 * defaults (vt_daemon_config_new_default(), which takes the policies'
 * own defaults from vt_balloon_config_init() and vt_ksm_tuner_config_init())
 * and walks the file's groups in order. Each known group has a table of
 * its keys: the key's syntax (a size, a percentage, milliseconds, a path,
 * ...), its range, and where the value goes (an offset into the
 * VtDaemonConfig, or into a VtDaemonGuestConfig for `[guest:NAME]`
 * groups), so every key is parsed, checked and reported the same way.
 * Values that relate to each other (plenty > tight > short, min <= max)
 * are checked once the whole file is read.
 *
 * A bad value is an error that names the file, the group, the key and the
 * value: the daemon refuses to start rather than run on a guess. An
 * unknown group or key is only a warning (a newer file on an older daemon
 * still starts), kept in the config for the daemon to log, so a typo
 * stays visible.
 *
 * Units are part of the syntax, never guessed: durations carry theirs in
 * the key's name (`tick-interval-ms`, `stats-interval-s`), sizes take
 * binary suffixes (512M, 1.5G), percentages are plain numbers (an
 * optional `%` is allowed).
 */
#include "host/daemon-config.h"

#include "common/vt-size.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "host/sensing/sensing-psi.h"

#ifndef VT_DAEMON_CONFIG_DEFAULT_PATH
#define VT_DAEMON_CONFIG_DEFAULT_PATH "/etc/vmtide/vmtided.conf"
#endif

#define DEFAULT_CONTROL_SOCKET "/run/vmtide/vmtided.sock"
#define DEFAULT_QMP_DIR        "/run/vmtide/guests"
#define DEFAULT_PROC_ROOT      "/proc"
#define DEFAULT_KSM_SYSFS_ROOT "/sys/kernel/mm/ksm"
#define DEFAULT_LIBVIRT_URI    "qemu:///system"
/* 150 ms of stalls within 2 s: a 2 s window works without CAP_SYS_RESOURCE. */
#define DEFAULT_HOST_PSI_TRIGGER "some 150000 2000000"
#define GUEST_GROUP_PREFIX       "guest:"
#define GUEST_NAME_MAX           255

/* clang-format off */
G_DEFINE_QUARK(vt-daemon-config-error-quark, vt_daemon_config_error)
/* clang-format on */

typedef enum {
        KEY_BOOL,          /* gboolean */
        KEY_UINT,          /* guint, whole number in [min, max] */
        KEY_U64,           /* guint64, whole number in [min, max] */
        KEY_MS,            /* gint64 µs; the value is whole milliseconds in [min, max] */
        KEY_SIZE,          /* guint64 bytes */
        KEY_SIZE_DOUBLE,   /* double bytes */
        KEY_FRACTION,      /* double fraction; the value is a percentage in [min, max] */
        KEY_PERCENT,       /* double percent in [min, max] */
        KEY_NUMBER,        /* double in [min, max] */
        KEY_PATH,          /* char *, an absolute path */
        KEY_PATH_OPTIONAL, /* char *, an absolute path; empty: NULL */
        KEY_STRING,        /* char *, not empty */
        KEY_CUSTOM,        /* parsed by @custom */
} KeyType;

/* Parses @value into @base; on failure sets @ret_problem ("is not a backend"). */
typedef gboolean (*KeyParseFunc)(const char *value, gpointer base, char **ret_problem);

typedef struct {
        const char *name;
        KeyType type;
        gsize offset;
        double min;
        double max;
        KeyParseFunc custom;
} Key;

typedef struct {
        const char *name;
        const Key *keys;
} Group;

typedef struct {
        const char *origin;
        GKeyFile *file;
        VtDaemonConfig *config;
        GPtrArray *warnings;
} Parser;

#define OFF(field)       offsetof(VtDaemonConfig, field)
#define GUEST_OFF(field) offsetof(VtDaemonGuestConfig, field)

static gboolean parse_backend(const char *value, gpointer base, char **ret_problem);
static gboolean parse_mode(const char *value, gpointer base, char **ret_problem);
static gboolean parse_psi_trigger(const char *value, gpointer base, char **ret_problem);
static gboolean parse_log_level(const char *value, gpointer base, char **ret_problem);
static gboolean parse_algorithm(const char *value, gpointer base, char **ret_problem);
static gboolean parse_tuner(const char *value, gpointer base, char **ret_problem);

static const Key daemon_keys[] = {
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

static const Key budget_keys[] = {
    {"reserve", KEY_SIZE, OFF(balloon.host_reserve)},
    {"total", KEY_SIZE, OFF(budget_total)},
    {"cgroup", KEY_PATH_OPTIONAL, OFF(budget_cgroup)},
    {NULL},
};

static const Key policy_keys[] = {
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
    {NULL},
};

static const Key ksm_keys[] = {
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

static const Key qmp_keys[] = {
    {"dir", KEY_PATH, OFF(qmp_dir)},
    {NULL},
};

static const Key libvirt_keys[] = {
    {"uri", KEY_STRING, OFF(libvirt_uri)},
    {NULL},
};

static const Key guest_keys[] = {
    {"qmp", KEY_PATH_OPTIONAL, GUEST_OFF(qmp_path)},
    {"agent", KEY_PATH_OPTIONAL, GUEST_OFF(agent_path)},
    {"min", KEY_SIZE, GUEST_OFF(balloon.min_bytes)},
    {"max", KEY_SIZE, GUEST_OFF(balloon.max_bytes)},
    {"shares", KEY_UINT, GUEST_OFF(balloon.shares), 1, 100000},
    {"opt-out", KEY_BOOL, GUEST_OFF(balloon.opt_out)},
    {"ksm-opt-out", KEY_BOOL, GUEST_OFF(ksm_opt_out)},
    {NULL},
};

static const Group groups[] = {
    {"daemon", daemon_keys}, {"budget", budget_keys}, {"policy", policy_keys},
    {"ksm", ksm_keys},       {"qmp", qmp_keys},       {"libvirt", libvirt_keys},
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

static const struct {
        const char *name;
        VtBalloonPolicyFunc func;
} algorithms[] = {
    {"vmtide", vt_balloon_policy_decide},
    {"mom", vt_balloon_policy_mom_decide},
    {"proxmox", vt_balloon_policy_proxmox_decide},
};

static const struct {
        const char *name;
        VtKsmTunerFunc func;
} tuners[] = {
    {"vmtide", vt_ksm_tuner_decide},
    {"ksmtuned", vt_ksm_tuner_ksmtuned_decide},
    {"advisor", vt_ksm_tuner_advisor_decide},
};

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

static void
guest_config_free(gpointer data)
{
        VtDaemonGuestConfig *guest = data;

        g_free(guest->name);
        g_free(guest->qmp_path);
        g_free(guest->agent_path);
        g_free(guest);
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
        config->balloon_policy = algorithms[0].func;
        config->balloon_policy_name = algorithms[0].name;
        config->ksm_enabled = TRUE;
        config->ksm_sysfs_root = g_strdup(DEFAULT_KSM_SYSFS_ROOT);
        vt_ksm_tuner_config_init(&config->ksm);
        config->ksm_tuner = tuners[0].func;
        config->ksm_tuner_name = tuners[0].name;
        config->qmp_dir = g_strdup(DEFAULT_QMP_DIR);
        config->libvirt_uri = g_strdup(DEFAULT_LIBVIRT_URI);
        config->guests = g_ptr_array_new_with_free_func(guest_config_free);
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
        g_ptr_array_unref(config->guests);
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
 * vt_daemon_config_get_warnings:
 * @config: a configuration
 *
 * What the parser ignored: "vmtided.conf: [daemon] tick-intervall: unknown
 * key, ignored", one message each, for the daemon to log.
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

/* A size (common/vt-size.c), blanks around it allowed. */
static gboolean
parse_size(const char *value, guint64 *ret_bytes)
{
        g_autofree char *text = g_strstrip(g_strdup(value));

        return vt_size_parse(text, ret_bytes, NULL);
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
parse_whole(const char *value, const Key *key, guint64 *ret_value, char **ret_problem)
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

static gboolean
parse_algorithm(const char *value, gpointer base, char **ret_problem)
{
        VtDaemonConfig *config = base;

        for (guint i = 0; i < G_N_ELEMENTS(algorithms); i++) {
                if (strcmp(value, algorithms[i].name) == 0) {
                        config->balloon_policy = algorithms[i].func;
                        config->balloon_policy_name = algorithms[i].name;
                        return TRUE;
                }
        }
        *ret_problem = g_strdup("is not a balloon policy (vmtide, mom or proxmox)");
        return FALSE;
}

static gboolean
parse_tuner(const char *value, gpointer base, char **ret_problem)
{
        VtDaemonConfig *config = base;

        for (guint i = 0; i < G_N_ELEMENTS(tuners); i++) {
                if (strcmp(value, tuners[i].name) == 0) {
                        config->ksm_tuner = tuners[i].func;
                        config->ksm_tuner_name = tuners[i].name;
                        return TRUE;
                }
        }
        *ret_problem = g_strdup("is not a KSM tuner (vmtide, ksmtuned or advisor)");
        return FALSE;
}

/* Parses @value for @key into @base; on failure sets @ret_problem. */
static gboolean
key_parse(const Key *key, const char *value, gpointer base, char **ret_problem)
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
                if (!parse_whole(value, key, &whole, ret_problem))
                        return FALSE;
                *(gint64 *)field = (gint64)whole * G_TIME_SPAN_MILLISECOND;
                return TRUE;
        case KEY_SIZE:
        case KEY_SIZE_DOUBLE:
                if (!parse_size(value, &whole)) {
                        *ret_problem = g_strdup("is not a size (bytes, or a number with K, M, G "
                                                "or T: 512M, 1.5G)");
                        return FALSE;
                }
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

/* Parses every key of @group into @base through @keys; unknown ones are warnings. */
static gboolean
parser_group(Parser *parser, const char *group, const Key *keys, gpointer base, GError **error)
{
        g_auto(GStrv) names = g_key_file_get_keys(parser->file, group, NULL, NULL);

        for (guint i = 0; names != NULL && names[i] != NULL; i++) {
                g_autofree char *raw = NULL;
                g_autofree char *problem = NULL;
                g_autoptr(GError) escape_error = NULL;
                const Key *key = NULL;

                for (const Key *k = keys; k->name != NULL; k++) {
                        if (strcmp(k->name, names[i]) == 0) {
                                key = k;
                                break;
                        }
                }
                if (key == NULL) {
                        parser_warn(parser, group, names[i]);
                        continue;
                }
                raw = g_key_file_get_string(parser->file, group, names[i], &escape_error);
                if (escape_error != NULL) {
                        /* A bad escape sequence (a lone backslash); GLib may
                         * return a string anyway. */
                        g_free(raw);
                        raw = g_key_file_get_value(parser->file, group, names[i], NULL);
                        parser_error(parser, error, group, "%s: '%s' has an invalid escape",
                                     names[i], raw != NULL ? raw : "");
                        return FALSE;
                }
                g_strstrip(raw);
                if (!key_parse(key, raw, base, &problem)) {
                        parser_error(parser, error, group, "%s: '%s' %s", names[i], raw, problem);
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
        if (!parser_group(parser, group, guest_keys, guest, error))
                return FALSE;
        if (guest->balloon.min_bytes != 0 && guest->balloon.max_bytes != 0 &&
            guest->balloon.min_bytes > guest->balloon.max_bytes) {
                g_autofree char *min = g_key_file_get_value(parser->file, group, "min", NULL);
                g_autofree char *max = g_key_file_get_value(parser->file, group, "max", NULL);

                parser_error(parser, error, group, "min: '%s' must be at most max ('%s')",
                             g_strstrip(min), g_strstrip(max));
                return FALSE;
        }
        if (guest->agent_path == NULL && guest->qmp_path != NULL &&
            g_str_has_suffix(guest->qmp_path, ".qmp")) {
                gsize stem = strlen(guest->qmp_path) - strlen(".qmp");

                guest->agent_path = g_strdup_printf("%.*s.agent", (int)stem, guest->qmp_path);
        }
        return TRUE;
}

/**
 * vt_daemon_config_parse:
 * @data: the file's content
 * @length: its length, or -1 when NUL-terminated
 * @origin: the file's name, for messages
 * @error: %VT_DAEMON_CONFIG_ERROR_SYNTAX when @data is not a key file,
 *     %VT_DAEMON_CONFIG_ERROR_INVALID for a bad value; the message names
 *     @origin, the group, the key and the value
 *
 * Parses a configuration over the defaults. Unknown groups and keys are
 * not errors: see vt_daemon_config_get_warnings().
 *
 * Returns: (transfer full): the configuration, or %NULL on error
 */
VtDaemonConfig *
vt_daemon_config_parse(const char *data, gsize length, const char *origin, GError **error)
{
        g_autoptr(VtDaemonConfig) config = NULL;
        g_autoptr(GKeyFile) file = g_key_file_new();
        g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GError) local_error = NULL;
        g_auto(GStrv) names = NULL;
        Parser parser;

        g_return_val_if_fail(data != NULL, NULL);
        g_return_val_if_fail(origin != NULL, NULL);
        g_return_val_if_fail(error == NULL || *error == NULL, NULL);

        if (!g_key_file_load_from_data(file, data, length, G_KEY_FILE_NONE, &local_error)) {
                g_set_error(error, VT_DAEMON_CONFIG_ERROR, VT_DAEMON_CONFIG_ERROR_SYNTAX, "%s: %s",
                            origin, local_error->message);
                return NULL;
        }

        config = vt_daemon_config_new_default();
        g_free(config->origin);
        config->origin = g_strdup(origin);
        parser = (Parser){.origin = origin, .file = file, .config = config, .warnings = warnings};

        names = g_key_file_get_groups(file, NULL);
        for (guint i = 0; names[i] != NULL; i++) {
                const Group *group = NULL;

                if (g_str_has_prefix(names[i], GUEST_GROUP_PREFIX)) {
                        if (!parser_guest(&parser, names[i], error))
                                return NULL;
                        continue;
                }
                for (guint j = 0; j < G_N_ELEMENTS(groups); j++) {
                        if (strcmp(groups[j].name, names[i]) == 0)
                                group = &groups[j];
                }
                if (group == NULL) {
                        parser_warn(&parser, names[i], NULL);
                        continue;
                }
                if (!parser_group(&parser, names[i], group->keys, config, error))
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
        g_autoptr(GError) local_error = NULL;
        g_autofree char *data = NULL;
        gsize length;

        if (!g_file_get_contents(path, &data, &length, &local_error)) {
                if (!g_error_matches(local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
                        g_set_error(error, VT_DAEMON_CONFIG_ERROR, VT_DAEMON_CONFIG_ERROR_READ,
                                    "%s: %s", path, local_error->message);
                        return NULL;
                }
                if (optional)
                        return vt_daemon_config_new_default();
                g_set_error(error, VT_DAEMON_CONFIG_ERROR, VT_DAEMON_CONFIG_ERROR_NOT_FOUND,
                            "%s: no such configuration file", path);
                return NULL;
        }
        return vt_daemon_config_parse(data, length, path, error);
}

/**
 * vt_daemon_config_load:
 * @path: (nullable): the file given on the command line; %NULL for the
 *     default path (vt_daemon_config_get_default_path())
 * @error: %VT_DAEMON_CONFIG_ERROR_NOT_FOUND when @path was given and does
 *     not exist, %VT_DAEMON_CONFIG_ERROR_READ when it cannot be read, or an
 *     error of vt_daemon_config_parse()
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
