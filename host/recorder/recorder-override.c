/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A replay's tunable overrides: vmtided.conf's [policy] keys and [budget] reserve, by name. Pure.
 */
#include <math.h>
#include <stddef.h>

#include "common/vt-size.h"
#include "host/recorder/recorder-replay.h"

/*
 * The keys and units are vmtided.conf's (docs/configuration.md), so that
 * `vmtide replay --set tight=12` means what `[policy] tight = 12` does.
 * Kept in step with host/daemon-config*.c by hand: the daemon's parser
 * reads a GKeyFile with the daemon's warnings, which the CLI must not link.
 */

typedef enum {
        OVERRIDE_PERCENT, /* 0 to 100, stored as a fraction */
        OVERRIDE_NUMBER,  /* a plain number, 0 or more */
        OVERRIDE_SIZE,    /* a size: 512M */
        OVERRIDE_MS,      /* milliseconds, stored as µs */
} OverrideKind;

typedef struct {
        const char *key;
        OverrideKind kind;
        gsize offset;
} Override;

#define FIELD(name) offsetof(VtBalloonConfig, name)

static const Override overrides[] = {
    {"plenty", OVERRIDE_PERCENT, FIELD(plenty_fraction)},
    {"tight", OVERRIDE_PERCENT, FIELD(tight_fraction)},
    {"short", OVERRIDE_PERCENT, FIELD(short_fraction)},
    {"hysteresis", OVERRIDE_PERCENT, FIELD(hysteresis_fraction)},
    {"psi-short", OVERRIDE_NUMBER, FIELD(psi_short)},
    {"psi-critical", OVERRIDE_NUMBER, FIELD(psi_critical)},
    {"swap-in-tight", OVERRIDE_NUMBER, FIELD(swap_in_tight)},
    {"headroom", OVERRIDE_PERCENT, FIELD(guest_headroom_fraction)},
    {"headroom-min", OVERRIDE_SIZE, FIELD(guest_headroom_min)},
    {"guest-pressure-psi", OVERRIDE_NUMBER, FIELD(guest_pressure_psi)},
    {"guest-low", OVERRIDE_PERCENT, FIELD(guest_low_fraction)},
    {"guest-swap-in-warm", OVERRIDE_NUMBER, FIELD(guest_swap_in_warm)},
    {"guest-swap-in-thrash", OVERRIDE_NUMBER, FIELD(guest_swap_in_thrash)},
    {"default-min", OVERRIDE_PERCENT, FIELD(default_min_fraction)},
    {"step-tight", OVERRIDE_PERCENT, FIELD(step_fraction[VT_HOST_STATE_TIGHT])},
    {"step-short", OVERRIDE_PERCENT, FIELD(step_fraction[VT_HOST_STATE_SHORT])},
    {"step-critical", OVERRIDE_PERCENT, FIELD(step_fraction[VT_HOST_STATE_CRITICAL])},
    {"min-change", OVERRIDE_SIZE, FIELD(min_change)},
    {"settle-ms", OVERRIDE_MS, FIELD(settle_us)},
    {"stale-ms", OVERRIDE_MS, FIELD(stale_us)},
    {"reserve", OVERRIDE_SIZE, FIELD(host_reserve)},
};

static gboolean
parse_number(const char *key, const char *value, double max, double *ret_number, GError **error)
{
        char *end = NULL;
        double number = g_ascii_strtod(value, &end);

        if (value[0] == '\0' || end == value || *end != '\0' || !isfinite(number) || number < 0 ||
            number > max) {
                g_set_error(error, VT_RECORDER_REPLAY_ERROR, VT_RECORDER_REPLAY_ERROR_INVALID,
                            "'%s=%s': not a number from 0 to %g", key, value, max);
                return FALSE;
        }
        *ret_number = number;
        return TRUE;
}

static gboolean
override_apply(const Override *o, guint8 *base, const char *value, GError **error)
{
        double number = 0;
        guint64 bytes = 0;
        g_autoptr(GError) size_error = NULL;

        switch (o->kind) {
        case OVERRIDE_PERCENT:
                if (!parse_number(o->key, value, 100, &number, error))
                        return FALSE;
                *(double *)(base + o->offset) = number / 100;
                return TRUE;
        case OVERRIDE_NUMBER:
                if (!parse_number(o->key, value, 1e12, &number, error))
                        return FALSE;
                *(double *)(base + o->offset) = number;
                return TRUE;
        case OVERRIDE_MS:
                if (!parse_number(o->key, value, 3600000, &number, error))
                        return FALSE;
                *(gint64 *)(base + o->offset) = (gint64)(number * 1000);
                return TRUE;
        case OVERRIDE_SIZE:
        default:
                if (!vt_size_parse(value, &bytes, &size_error)) {
                        g_set_error(error, VT_RECORDER_REPLAY_ERROR,
                                    VT_RECORDER_REPLAY_ERROR_INVALID, "'%s=%s': %s", o->key, value,
                                    size_error->message);
                        return FALSE;
                }
                *(guint64 *)(base + o->offset) = bytes;
                return TRUE;
        }
}

/**
 * vt_recorder_config_override:
 * @config: (inout): tunables; changed only on success
 * @key: a `[policy]` key of vmtided.conf (`tight`, `step-short`,
 *     `min-change`, `settle-ms`...) or `reserve` (`[budget] reserve`)
 * @value: its value, in the configuration file's units (percentages,
 *     sizes, milliseconds)
 * @error: where a wrong key or value is told, naming both
 *
 * Sets one tunable as vmtided.conf would.
 *
 * Returns: %FALSE with @error set when the key is unknown or the value wrong
 */
gboolean
vt_recorder_config_override(VtBalloonConfig *config, const char *key, const char *value,
                            GError **error)
{
        g_autoptr(GString) keys = g_string_new(NULL);

        g_return_val_if_fail(config != NULL && key != NULL && value != NULL, FALSE);

        for (guint i = 0; i < G_N_ELEMENTS(overrides); i++) {
                if (g_str_equal(overrides[i].key, key))
                        return override_apply(&overrides[i], (guint8 *)config, value, error);
                g_string_append_printf(keys, "%s%s", i > 0 ? ", " : "", overrides[i].key);
        }
        g_set_error(error, VT_RECORDER_REPLAY_ERROR, VT_RECORDER_REPLAY_ERROR_INVALID,
                    "'%s': no such tunable (one of %s)", key, keys->str);
        return FALSE;
}
