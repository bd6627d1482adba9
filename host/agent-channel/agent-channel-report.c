/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Validation of what a guest's vmtide-agent sends.
 *
 * Theory of operation: the guest is untrusted, so a line becomes a
 * VtAgentReport only if every member this version knows has the right type
 * and a plausible value (docs/agent-protocol.md, "What the host does with
 * malformed input"). Members it does not know are ignored. A report is also
 * checked against the previous one: `seq` and the counters only go up,
 * except across a `hello`, which resets the baseline because the agent (or
 * the guest) restarted. Nothing here does I/O or reads a clock.
 */
#include "host/agent-channel/agent-channel-report.h"

#include <math.h>
#include <string.h>

/* clang-format off */
G_DEFINE_QUARK(vt-agent-error-quark, vt_agent_error)
/* clang-format on */

static const char *const agent_reasons[VT_AGENT_REASON_MAX] = {
    [VT_AGENT_REASON_PERIODIC] = "periodic",
    [VT_AGENT_REASON_PRESSURE] = "pressure",
    [VT_AGENT_REASON_DROP] = "drop",
    [VT_AGENT_REASON_REQUEST] = "request",
};

/**
 * vt_agent_reason_to_string:
 * @reason: a reason
 *
 * Returns: its protocol name, e.g. `pressure`
 */
const char *
vt_agent_reason_to_string(VtAgentReason reason)
{
        g_return_val_if_fail(reason < VT_AGENT_REASON_MAX, NULL);
        return agent_reasons[reason];
}

/* Looks up @name in @object; a member present with the wrong type fails. */
static gboolean
agent_get(json_object *object, const char *name, json_type type, gboolean required,
          json_object **ret_value, GError **error)
{
        json_object *value = NULL;

        if (!json_object_object_get_ex(object, name, &value)) {
                if (required) {
                        g_set_error(error, VT_AGENT_ERROR, VT_AGENT_ERROR_INVALID,
                                    "'%s' is missing", name);
                        return FALSE;
                }
                *ret_value = NULL;
                return TRUE;
        }
        if (!json_object_is_type(value, type)) {
                g_set_error(error, VT_AGENT_ERROR, VT_AGENT_ERROR_INVALID,
                            "'%s' should be of type %s", name, json_type_to_name(type));
                return FALSE;
        }
        *ret_value = value;
        return TRUE;
}

/*
 * An integer member within [min, max]. Returns FALSE on error; *ret_present
 * says whether it was there (optional members may be absent).
 */
static gboolean
agent_get_uint(json_object *object, const char *name, gboolean required, guint64 min, guint64 max,
               guint64 *ret_value, gboolean *ret_present, GError **error)
{
        json_object *value = NULL;
        gint64 v;

        if (object == NULL) {
                *ret_present = FALSE;
                return TRUE;
        }
        if (!agent_get(object, name, json_type_int, required, &value, error))
                return FALSE;
        *ret_present = value != NULL;
        if (value == NULL)
                return TRUE;
        /* json-c clamps what does not fit an int64 to G_MAXINT64. */
        v = json_object_get_int64(value);
        if (v < 0 || v == G_MAXINT64 || (guint64)v < min || (guint64)v > max) {
                g_set_error(error, VT_AGENT_ERROR, VT_AGENT_ERROR_INVALID,
                            "'%s' is out of range: %" G_GINT64_FORMAT, name, v);
                return FALSE;
        }
        *ret_value = (guint64)v;
        return TRUE;
}

typedef struct {
        const char *name;
        guint32 flag;
        gsize offset;
} AgentField;

#define FIELD(name, flag, member)                                                                  \
        {                                                                                          \
                name, flag, G_STRUCT_OFFSET(VtAgentReport, member)                                 \
        }

static const AgentField mem_fields[] = {
    FIELD("free", VT_AGENT_HAS_FREE, mem_free),
    FIELD("available", VT_AGENT_HAS_AVAILABLE, mem_available),
    FIELD("buffers", VT_AGENT_HAS_BUFFERS, mem_buffers),
    FIELD("cached", VT_AGENT_HAS_CACHED, mem_cached),
    FIELD("shmem", VT_AGENT_HAS_SHMEM, mem_shmem),
    FIELD("anon", VT_AGENT_HAS_ANON, mem_anon),
};

static const AgentField vm_fields[] = {
    FIELD("pgmajfault", VT_AGENT_HAS_PGMAJFAULT, pgmajfault),
    FIELD("pswpin", VT_AGENT_HAS_PSWPIN, pswpin),
    FIELD("pswpout", VT_AGENT_HAS_PSWPOUT, pswpout),
    FIELD("oom_kill", VT_AGENT_HAS_OOM_KILL, oom_kill),
    FIELD("allocstall", VT_AGENT_HAS_ALLOCSTALL, allocstall),
    FIELD("pgscan_direct", VT_AGENT_HAS_PGSCAN_DIRECT, pgscan_direct),
};

#undef FIELD

static guint64 *
agent_field(VtAgentReport *report, const AgentField *field)
{
        return G_STRUCT_MEMBER_P(report, field->offset);
}

static gboolean
agent_parse_fields(json_object *object, const AgentField *fields, guint n_fields, guint64 max,
                   VtAgentReport *report, GError **error)
{
        for (guint i = 0; i < n_fields; i++) {
                gboolean present = FALSE;

                if (!agent_get_uint(object, fields[i].name, FALSE, 0, max,
                                    agent_field(report, &fields[i]), &present, error))
                        return FALSE;
                if (present)
                        report->fields |= fields[i].flag;
        }
        return TRUE;
}

static gboolean
agent_parse_mem(json_object *object, VtAgentReport *report, GError **error)
{
        json_object *mem = NULL;
        gboolean present = FALSE;
        gboolean has_swap_total = FALSE;
        gboolean has_swap_free = FALSE;

        if (!agent_get(object, "mem", json_type_object, TRUE, &mem, error) ||
            !agent_get_uint(mem, "total", TRUE, 1, VT_AGENT_MAX_MEMORY, &report->mem_total,
                            &present, error) ||
            !agent_parse_fields(mem, mem_fields, G_N_ELEMENTS(mem_fields), VT_AGENT_MAX_MEMORY,
                                report, error) ||
            !agent_get_uint(mem, "swap_total", FALSE, 0, VT_AGENT_MAX_MEMORY, &report->swap_total,
                            &has_swap_total, error) ||
            !agent_get_uint(mem, "swap_free", FALSE, 0, VT_AGENT_MAX_MEMORY, &report->swap_free,
                            &has_swap_free, error))
                return FALSE;

        if (has_swap_total != has_swap_free) {
                g_set_error_literal(error, VT_AGENT_ERROR, VT_AGENT_ERROR_INVALID,
                                    "'swap_total' and 'swap_free' come together");
                return FALSE;
        }
        if (has_swap_total)
                report->fields |= VT_AGENT_HAS_SWAP;
        if (report->mem_free > report->mem_total || report->mem_available > report->mem_total ||
            report->mem_cached > report->mem_total || report->swap_free > report->swap_total) {
                g_set_error_literal(error, VT_AGENT_ERROR, VT_AGENT_ERROR_INVALID,
                                    "memory figures exceed their totals");
                return FALSE;
        }
        return TRUE;
}

static gboolean
agent_get_percent(json_object *object, const char *name, double *ret_value, GError **error)
{
        json_object *value = NULL;
        double v;

        if (!json_object_object_get_ex(object, name, &value) ||
            !(json_object_is_type(value, json_type_double) ||
              json_object_is_type(value, json_type_int))) {
                g_set_error(error, VT_AGENT_ERROR, VT_AGENT_ERROR_INVALID,
                            "'%s' is missing or not a number", name);
                return FALSE;
        }
        v = json_object_get_double(value);
        if (!isfinite(v) || v < 0.0 || v > 100.0) {
                g_set_error(error, VT_AGENT_ERROR, VT_AGENT_ERROR_INVALID,
                            "'%s' is not a percentage", name);
                return FALSE;
        }
        *ret_value = v;
        return TRUE;
}

/* psi.{some,full}_*: all four members of a line, or none of them. */
static gboolean
agent_parse_psi_line(json_object *psi, const char *line, VtAgentPsi *ret_psi, gboolean *ret_present,
                     GError **error)
{
        g_autofree char *avg10 = g_strconcat(line, "_avg10", NULL);
        g_autofree char *avg60 = g_strconcat(line, "_avg60", NULL);
        g_autofree char *avg300 = g_strconcat(line, "_avg300", NULL);
        g_autofree char *total = g_strconcat(line, "_total_us", NULL);
        gboolean present = FALSE;

        if (psi == NULL || !json_object_object_get_ex(psi, total, NULL)) {
                *ret_present = FALSE;
                return TRUE;
        }
        if (!agent_get_uint(psi, total, TRUE, 0, G_MAXINT64, &ret_psi->total_us, &present, error) ||
            !agent_get_percent(psi, avg10, &ret_psi->avg10, error) ||
            !agent_get_percent(psi, avg60, &ret_psi->avg60, error) ||
            !agent_get_percent(psi, avg300, &ret_psi->avg300, error))
                return FALSE;
        *ret_present = TRUE;
        return TRUE;
}

static gboolean
agent_parse_report(json_object *object, VtAgentReport *report, GError **error)
{
        json_object *reason = NULL;
        json_object *vm = NULL;
        json_object *psi = NULL;
        json_object *agent = NULL;
        gboolean present = FALSE;
        gboolean has_cpu = FALSE;
        gboolean has_rss = FALSE;
        gboolean has_some = FALSE;
        gboolean has_full = FALSE;
        guint i;

        if (!agent_get(object, "reason", json_type_string, TRUE, &reason, error) ||
            !agent_get_uint(object, "uptime_ms", TRUE, 0, G_MAXINT64, &report->uptime_ms, &present,
                            error))
                return FALSE;
        for (i = 0; i < VT_AGENT_REASON_MAX; i++) {
                if (g_str_equal(json_object_get_string(reason), agent_reasons[i]))
                        break;
        }
        if (i == VT_AGENT_REASON_MAX) {
                g_set_error_literal(error, VT_AGENT_ERROR, VT_AGENT_ERROR_INVALID,
                                    "unknown 'reason'");
                return FALSE;
        }
        report->reason = (VtAgentReason)i;

        if (!agent_parse_mem(object, report, error) ||
            !agent_get(object, "vm", json_type_object, FALSE, &vm, error) ||
            !agent_parse_fields(vm, vm_fields, G_N_ELEMENTS(vm_fields), G_MAXINT64, report,
                                error) ||
            !agent_get(object, "psi", json_type_object, FALSE, &psi, error) ||
            !agent_parse_psi_line(psi, "some", &report->psi_some, &has_some, error) ||
            !agent_parse_psi_line(psi, "full", &report->psi_full, &has_full, error) ||
            !agent_get(object, "agent", json_type_object, FALSE, &agent, error) ||
            !agent_get_uint(agent, "cpu_us", FALSE, 0, G_MAXINT64, &report->agent_cpu_us, &has_cpu,
                            error) ||
            !agent_get_uint(agent, "rss_bytes", FALSE, 0, VT_AGENT_MAX_MEMORY,
                            &report->agent_rss_bytes, &has_rss, error) ||
            !agent_get_uint(agent, "dropped_requests", FALSE, 0, G_MAXINT64,
                            &report->agent_dropped_requests, &present, error))
                return FALSE;
        if (has_some)
                report->fields |= VT_AGENT_HAS_PSI_SOME;
        if (has_full)
                report->fields |= VT_AGENT_HAS_PSI_FULL;
        if (has_cpu && has_rss)
                report->fields |= VT_AGENT_HAS_AGENT;
        return TRUE;
}

static gboolean
agent_parse_hello(json_object *object, VtAgentReport *report, GError **error)
{
        json_object *version = NULL;
        json_object *features = NULL;

        if (!agent_get(object, "version", json_type_string, TRUE, &version, error) ||
            !agent_get(object, "features", json_type_array, FALSE, &features, error))
                return FALSE;
        if (json_object_get_string_len(version) > 64 ||
            !g_utf8_validate(json_object_get_string(version), -1, NULL)) {
                g_set_error_literal(error, VT_AGENT_ERROR, VT_AGENT_ERROR_INVALID,
                                    "'version' is longer than 64 bytes");
                return FALSE;
        }
        report->version = g_strdup(json_object_get_string(version));
        for (size_t i = 0; features != NULL && i < json_object_array_length(features); i++) {
                json_object *feature = json_object_array_get_idx(features, i);

                if (json_object_is_type(feature, json_type_string) &&
                    g_str_equal(json_object_get_string(feature), "psi-trigger"))
                        report->has_psi_trigger = TRUE;
        }
        return TRUE;
}

/* Counters that only go up between two reports of one agent run. */
static gboolean
agent_check_monotonic(const VtAgentReport *previous, const VtAgentReport *report, GError **error)
{
        const char *what = NULL;

        if (report->seq <= previous->seq)
                what = "seq";
        else if (report->uptime_ms < previous->uptime_ms)
                what = "uptime_ms";
        for (guint i = 0; what == NULL && i < G_N_ELEMENTS(vm_fields); i++) {
                guint32 flag = vm_fields[i].flag;

                if ((report->fields & previous->fields & flag) &&
                    *agent_field((VtAgentReport *)report, &vm_fields[i]) <
                        *agent_field((VtAgentReport *)previous, &vm_fields[i]))
                        what = vm_fields[i].name;
        }
        if (what == NULL && (report->fields & previous->fields & VT_AGENT_HAS_PSI_SOME) &&
            report->psi_some.total_us < previous->psi_some.total_us)
                what = "some_total_us";
        if (what == NULL && (report->fields & previous->fields & VT_AGENT_HAS_PSI_FULL) &&
            report->psi_full.total_us < previous->psi_full.total_us)
                what = "full_total_us";
        if (what == NULL && (report->fields & previous->fields & VT_AGENT_HAS_AGENT) &&
            report->agent_cpu_us < previous->agent_cpu_us)
                what = "cpu_us";
        if (what == NULL)
                return TRUE;
        g_set_error(error, VT_AGENT_ERROR, VT_AGENT_ERROR_BACKWARDS,
                    "'%s' went backwards without a hello", what);
        return FALSE;
}

/**
 * vt_agent_report_parse:
 * @object: a JSON object the agent sent
 * @previous: (nullable): the last line accepted from this agent, to check
 *     that counters only go up; %NULL when there is none
 * @ret_report: (out caller-allocates): the validated line, written only
 *     on success; free its contents with vt_agent_report_clear()
 * @error: %VT_AGENT_ERROR_INVALID or %VT_AGENT_ERROR_BACKWARDS, saying why
 *     the line is dropped
 *
 * Returns: %TRUE if the line is a valid `report` or `hello`
 */
gboolean
vt_agent_report_parse(json_object *object, const VtAgentReport *previous, VtAgentReport *ret_report,
                      GError **error)
{
        VtAgentReport report = {0};
        json_object *type = NULL;
        json_object *version = NULL;
        gboolean present = FALSE;

        g_return_val_if_fail(ret_report != NULL, FALSE);

        if (!json_object_is_type(object, json_type_object)) {
                g_set_error_literal(error, VT_AGENT_ERROR, VT_AGENT_ERROR_INVALID,
                                    "not a JSON object");
                return FALSE;
        }
        if (!agent_get(object, "v", json_type_int, TRUE, &version, error) ||
            !agent_get(object, "type", json_type_string, TRUE, &type, error))
                return FALSE;
        if (json_object_get_int64(version) != 1) {
                g_set_error(error, VT_AGENT_ERROR, VT_AGENT_ERROR_INVALID,
                            "unsupported protocol version %" G_GINT64_FORMAT,
                            json_object_get_int64(version));
                return FALSE;
        }
        if (!agent_get_uint(object, "seq", TRUE, 1, G_MAXINT64 - 1, &report.seq, &present, error) ||
            !agent_get_uint(object, "interval_ms", TRUE, VT_AGENT_MIN_INTERVAL_MS,
                            VT_AGENT_MAX_INTERVAL_MS, &report.interval_ms, &present, error))
                return FALSE;

        if (g_str_equal(json_object_get_string(type), "hello")) {
                report.kind = VT_AGENT_MESSAGE_HELLO;
                if (!agent_parse_hello(object, &report, error))
                        return FALSE;
        } else if (g_str_equal(json_object_get_string(type), "report")) {
                report.kind = VT_AGENT_MESSAGE_REPORT;
                if (!agent_parse_report(object, &report, error))
                        return FALSE;
                if (previous != NULL && !agent_check_monotonic(previous, &report, error))
                        return FALSE;
        } else {
                g_set_error_literal(error, VT_AGENT_ERROR, VT_AGENT_ERROR_INVALID,
                                    "unknown 'type'");
                return FALSE;
        }
        *ret_report = report;
        return TRUE;
}

/**
 * vt_agent_report_clear:
 * @report: a report
 *
 * Frees what @report owns and zeroes it.
 */
void
vt_agent_report_clear(VtAgentReport *report)
{
        g_return_if_fail(report != NULL);
        g_free(report->version);
        memset(report, 0, sizeof(*report));
}

/**
 * vt_agent_report_copy:
 * @src: a report
 * @dest: (out caller-allocates): where to copy it, cleared first by the caller
 */
void
vt_agent_report_copy(const VtAgentReport *src, VtAgentReport *dest)
{
        g_return_if_fail(src != NULL && dest != NULL);
        *dest = *src;
        dest->version = g_strdup(src->version);
}
