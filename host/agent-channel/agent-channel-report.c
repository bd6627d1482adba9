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
    FIELD(VT_AGENT_KEY_MEM_FREE, VT_AGENT_HAS_FREE, mem_free),
    FIELD(VT_AGENT_KEY_MEM_AVAILABLE, VT_AGENT_HAS_AVAILABLE, mem_available),
    FIELD(VT_AGENT_KEY_MEM_BUFFERS, VT_AGENT_HAS_BUFFERS, mem_buffers),
    FIELD(VT_AGENT_KEY_MEM_CACHED, VT_AGENT_HAS_CACHED, mem_cached),
    FIELD(VT_AGENT_KEY_MEM_SHMEM, VT_AGENT_HAS_SHMEM, mem_shmem),
    FIELD(VT_AGENT_KEY_MEM_ANON, VT_AGENT_HAS_ANON, mem_anon),
};

static const AgentField vm_fields[] = {
    FIELD(VT_AGENT_KEY_VM_PGMAJFAULT, VT_AGENT_HAS_PGMAJFAULT, pgmajfault),
    FIELD(VT_AGENT_KEY_VM_PSWPIN, VT_AGENT_HAS_PSWPIN, pswpin),
    FIELD(VT_AGENT_KEY_VM_PSWPOUT, VT_AGENT_HAS_PSWPOUT, pswpout),
    FIELD(VT_AGENT_KEY_VM_OOM_KILL, VT_AGENT_HAS_OOM_KILL, oom_kill),
    FIELD(VT_AGENT_KEY_VM_ALLOCSTALL, VT_AGENT_HAS_ALLOCSTALL, allocstall),
    FIELD(VT_AGENT_KEY_VM_PGSCAN_DIRECT, VT_AGENT_HAS_PGSCAN_DIRECT, pgscan_direct),
    FIELD(VT_AGENT_KEY_VM_ZSWPIN, VT_AGENT_HAS_ZSWPIN, zswpin),
    FIELD(VT_AGENT_KEY_VM_ZSWPOUT, VT_AGENT_HAS_ZSWPOUT, zswpout),
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
        gboolean has_zswap = FALSE;
        gboolean has_zswapped = FALSE;

        if (!agent_get(object, VT_AGENT_KEY_MEM, json_type_object, TRUE, &mem, error) ||
            !agent_get_uint(mem, VT_AGENT_KEY_MEM_TOTAL, TRUE, 1, VT_AGENT_MEMORY_MAX,
                            &report->mem_total, &present, error) ||
            !agent_parse_fields(mem, mem_fields, G_N_ELEMENTS(mem_fields), VT_AGENT_MEMORY_MAX,
                                report, error) ||
            !agent_get_uint(mem, VT_AGENT_KEY_MEM_SWAP_TOTAL, FALSE, 0, VT_AGENT_MEMORY_MAX,
                            &report->swap_total, &has_swap_total, error) ||
            !agent_get_uint(mem, VT_AGENT_KEY_MEM_SWAP_FREE, FALSE, 0, VT_AGENT_MEMORY_MAX,
                            &report->swap_free, &has_swap_free, error) ||
            !agent_get_uint(mem, VT_AGENT_KEY_MEM_ZSWAP, FALSE, 0, VT_AGENT_MEMORY_MAX,
                            &report->zswap_pool, &has_zswap, error) ||
            !agent_get_uint(mem, VT_AGENT_KEY_MEM_ZSWAPPED, FALSE, 0, VT_AGENT_MEMORY_MAX,
                            &report->zswap_stored, &has_zswapped, error))
                return FALSE;

        if (has_zswap != has_zswapped) {
                g_set_error_literal(error, VT_AGENT_ERROR, VT_AGENT_ERROR_INVALID,
                                    "'zswap' and 'zswapped' come together");
                return FALSE;
        }
        if (has_zswap)
                report->fields |= VT_AGENT_HAS_ZSWAP;

        if (has_swap_total != has_swap_free) {
                g_set_error_literal(error, VT_AGENT_ERROR, VT_AGENT_ERROR_INVALID,
                                    "'swap_total' and 'swap_free' come together");
                return FALSE;
        }
        if (has_swap_total)
                report->fields |= VT_AGENT_HAS_SWAP;
        if (report->mem_free > report->mem_total || report->mem_available > report->mem_total ||
            report->mem_cached > report->mem_total || report->swap_free > report->swap_total ||
            report->zswap_pool > report->mem_total) {
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

/* The members of one PSI line in "psi". */
typedef struct {
        const char *avg10;
        const char *avg60;
        const char *avg300;
        const char *total_us;
} AgentPsiLine;

static const AgentPsiLine psi_some = {
    VT_AGENT_KEY_PSI_SOME_AVG10,
    VT_AGENT_KEY_PSI_SOME_AVG60,
    VT_AGENT_KEY_PSI_SOME_AVG300,
    VT_AGENT_KEY_PSI_SOME_TOTAL_US,
};

static const AgentPsiLine psi_full = {
    VT_AGENT_KEY_PSI_FULL_AVG10,
    VT_AGENT_KEY_PSI_FULL_AVG60,
    VT_AGENT_KEY_PSI_FULL_AVG300,
    VT_AGENT_KEY_PSI_FULL_TOTAL_US,
};

/* psi.{some,full}_*: all four members of a line, or none of them. */
static gboolean
agent_parse_psi_line(json_object *psi, const AgentPsiLine *line, VtAgentPsi *ret_psi,
                     gboolean *ret_present, GError **error)
{
        gboolean present = FALSE;

        if (psi == NULL || !json_object_object_get_ex(psi, line->total_us, NULL)) {
                *ret_present = FALSE;
                return TRUE;
        }
        if (!agent_get_uint(psi, line->total_us, TRUE, 0, G_MAXINT64, &ret_psi->total_us, &present,
                            error) ||
            !agent_get_percent(psi, line->avg10, &ret_psi->avg10, error) ||
            !agent_get_percent(psi, line->avg60, &ret_psi->avg60, error) ||
            !agent_get_percent(psi, line->avg300, &ret_psi->avg300, error))
                return FALSE;
        *ret_present = TRUE;
        return TRUE;
}

/* Whether @name is "zram" followed by 1 to VT_AGENT_ZRAM_NAME_MAX digits. */
static gboolean
agent_zram_name_ok(const char *name, gsize len)
{
        if (len <= 4 || len > 4 + VT_AGENT_ZRAM_NAME_MAX || !g_str_has_prefix(name, "zram"))
                return FALSE;
        for (gsize i = 4; i < len; i++)
                if (!g_ascii_isdigit(name[i]))
                        return FALSE;
        return TRUE;
}

/* One device of "zram": every member there, each in range; adds it to the sums. */
static gboolean
agent_parse_zram_device(json_object *dev, VtAgentReport *report, GError **error)
{
        json_object *name = NULL, *swap = NULL;
        guint64 orig = 0, compr = 0, used = 0, limit = 0, huge = 0;
        gboolean present = FALSE;

        if (!json_object_is_type(dev, json_type_object)) {
                g_set_error_literal(error, VT_AGENT_ERROR, VT_AGENT_ERROR_INVALID,
                                    "'zram' holds something other than objects");
                return FALSE;
        }
        if (!agent_get(dev, VT_AGENT_KEY_ZRAM_NAME, json_type_string, TRUE, &name, error) ||
            !agent_get(dev, VT_AGENT_KEY_ZRAM_SWAP, json_type_boolean, TRUE, &swap, error) ||
            !agent_get_uint(dev, VT_AGENT_KEY_ZRAM_ORIG, TRUE, 0, VT_AGENT_MEMORY_MAX, &orig,
                            &present, error) ||
            !agent_get_uint(dev, VT_AGENT_KEY_ZRAM_COMPR, TRUE, 0, VT_AGENT_MEMORY_MAX, &compr,
                            &present, error) ||
            !agent_get_uint(dev, VT_AGENT_KEY_ZRAM_USED, TRUE, 0, VT_AGENT_MEMORY_MAX, &used,
                            &present, error) ||
            !agent_get_uint(dev, VT_AGENT_KEY_ZRAM_LIMIT, TRUE, 0, VT_AGENT_MEMORY_MAX, &limit,
                            &present, error) ||
            !agent_get_uint(dev, VT_AGENT_KEY_ZRAM_HUGE_PAGES, TRUE, 0, VT_AGENT_MEMORY_MAX >> 12,
                            &huge, &present, error))
                return FALSE;
        if (!agent_zram_name_ok(json_object_get_string(name),
                                (gsize)json_object_get_string_len(name))) {
                g_set_error_literal(error, VT_AGENT_ERROR, VT_AGENT_ERROR_INVALID,
                                    "a zram device's 'name' is not zram<N>");
                return FALSE;
        }
        /* Each figure is under VT_AGENT_MEMORY_MAX and there are at most
         * VT_AGENT_ZRAM_MAX devices: the sums cannot overflow. */
        report->zram_devices++;
        report->zram_swap_devices += json_object_get_boolean(swap) ? 1 : 0;
        report->zram_orig += orig;
        report->zram_compr += compr;
        report->zram_used += used;
        report->zram_limit += limit;
        report->zram_huge_pages += huge;
        return TRUE;
}

/* "zram" (revision 2): at most VT_AGENT_ZRAM_MAX devices whose pools fit in MemTotal. */
static gboolean
agent_parse_zram(json_object *object, VtAgentReport *report, GError **error)
{
        json_object *zram = NULL;
        gsize n;

        if (!agent_get(object, VT_AGENT_KEY_ZRAM, json_type_array, FALSE, &zram, error))
                return FALSE;
        if (zram == NULL)
                return TRUE;
        n = json_object_array_length(zram);
        if (n > VT_AGENT_ZRAM_MAX) {
                g_set_error(error, VT_AGENT_ERROR, VT_AGENT_ERROR_INVALID,
                            "'zram' lists %" G_GSIZE_FORMAT " devices, more than %d", n,
                            VT_AGENT_ZRAM_MAX);
                return FALSE;
        }
        for (gsize i = 0; i < n; i++)
                if (!agent_parse_zram_device(json_object_array_get_idx(zram, i), report, error))
                        return FALSE;
        if (report->zram_used > report->mem_total) {
                g_set_error_literal(error, VT_AGENT_ERROR, VT_AGENT_ERROR_INVALID,
                                    "zram pools exceed MemTotal");
                return FALSE;
        }
        report->fields |= VT_AGENT_HAS_ZRAM;
        return TRUE;
}

/* Pages swapped in or out, zswap included (its loads and stores bypass pswp*). */
static guint64
agent_swapped(const VtAgentReport *r, gboolean in)
{
        guint64 n = in ? r->pswpin : r->pswpout;

        if (r->fields & (in ? VT_AGENT_HAS_ZSWPIN : VT_AGENT_HAS_ZSWPOUT))
                n += in ? r->zswpin : r->zswpout;
        return n;
}

/* Swap rates since @previous (counters checked monotonic), or its rates
 * carried over when it is too close. */
static void
agent_swap_rates(const VtAgentReport *previous, VtAgentReport *report)
{
        guint32 need =
            VT_AGENT_HAS_PSWPIN | VT_AGENT_HAS_PSWPOUT | VT_AGENT_HAS_ZSWPIN | VT_AGENT_HAS_ZSWPOUT;
        guint32 both = report->fields & previous->fields;
        guint64 dt = report->uptime_ms - previous->uptime_ms;

        /* Only counters both reports have, and the same set of them. */
        if (!(both & VT_AGENT_HAS_PSWPIN) || !(both & VT_AGENT_HAS_PSWPOUT) ||
            (report->fields & need) != (previous->fields & need))
                return;
        if (dt < VT_AGENT_RATE_MIN_MS) {
                if (previous->fields & VT_AGENT_HAS_SWAP_RATES) {
                        report->swap_in_per_s = previous->swap_in_per_s;
                        report->swap_out_per_s = previous->swap_out_per_s;
                        report->fields |= VT_AGENT_HAS_SWAP_RATES;
                }
                return;
        }
        report->swap_in_per_s =
            (double)(agent_swapped(report, TRUE) - agent_swapped(previous, TRUE)) * 1000.0 / dt;
        report->swap_out_per_s =
            (double)(agent_swapped(report, FALSE) - agent_swapped(previous, FALSE)) * 1000.0 / dt;
        report->fields |= VT_AGENT_HAS_SWAP_RATES;
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

        if (!agent_get(object, VT_AGENT_KEY_REASON, json_type_string, TRUE, &reason, error) ||
            !agent_get_uint(object, VT_AGENT_KEY_UPTIME_MS, TRUE, 0, G_MAXINT64, &report->uptime_ms,
                            &present, error))
                return FALSE;
        for (i = 0; i < VT_AGENT_REASON_MAX; i++) {
                if (g_str_equal(json_object_get_string(reason),
                                vt_agent_reason_to_string((VtAgentReason)i)))
                        break;
        }
        if (i == VT_AGENT_REASON_MAX) {
                g_set_error_literal(error, VT_AGENT_ERROR, VT_AGENT_ERROR_INVALID,
                                    "unknown 'reason'");
                return FALSE;
        }
        report->reason = (VtAgentReason)i;

        if (!agent_parse_mem(object, report, error) ||
            !agent_get(object, VT_AGENT_KEY_VM, json_type_object, FALSE, &vm, error) ||
            !agent_parse_fields(vm, vm_fields, G_N_ELEMENTS(vm_fields), G_MAXINT64, report,
                                error) ||
            !agent_get(object, VT_AGENT_KEY_PSI, json_type_object, FALSE, &psi, error) ||
            !agent_parse_psi_line(psi, &psi_some, &report->psi_some, &has_some, error) ||
            !agent_parse_psi_line(psi, &psi_full, &report->psi_full, &has_full, error) ||
            !agent_get(object, VT_AGENT_KEY_AGENT, json_type_object, FALSE, &agent, error) ||
            !agent_get_uint(agent, VT_AGENT_KEY_AGENT_CPU_US, FALSE, 0, G_MAXINT64,
                            &report->agent_cpu_us, &has_cpu, error) ||
            !agent_get_uint(agent, VT_AGENT_KEY_AGENT_RSS_BYTES, FALSE, 0, VT_AGENT_MEMORY_MAX,
                            &report->agent_rss_bytes, &has_rss, error) ||
            !agent_get_uint(agent, VT_AGENT_KEY_AGENT_DROPPED_REQUESTS, FALSE, 0, G_MAXINT64,
                            &report->agent_dropped_requests, &present, error) ||
            !agent_parse_zram(object, report, error))
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
        gboolean present = FALSE;

        if (!agent_get(object, VT_AGENT_KEY_AGENT_VERSION, json_type_string, TRUE, &version,
                       error) ||
            !agent_get(object, VT_AGENT_KEY_FEATURES, json_type_array, FALSE, &features, error))
                return FALSE;
        if (json_object_get_string_len(version) > VT_AGENT_VERSION_MAX ||
            !g_utf8_validate(json_object_get_string(version), -1, NULL)) {
                g_set_error_literal(error, VT_AGENT_ERROR, VT_AGENT_ERROR_INVALID,
                                    "'version' is longer than 64 bytes");
                return FALSE;
        }
        if (!agent_get_uint(object, VT_AGENT_KEY_REVISION, FALSE, 1, G_MAXINT32, &report->revision,
                            &present, error))
                return FALSE;
        if (!present)
                report->revision = 1;
        report->version = g_strdup(json_object_get_string(version));
        for (size_t i = 0; features != NULL && i < json_object_array_length(features); i++) {
                json_object *feature = json_object_array_get_idx(features, i);

                if (json_object_is_type(feature, json_type_string) &&
                    g_str_equal(json_object_get_string(feature), VT_AGENT_FEATURE_PSI))
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
                what = VT_AGENT_KEY_SEQ;
        else if (report->uptime_ms < previous->uptime_ms)
                what = VT_AGENT_KEY_UPTIME_MS;
        for (guint i = 0; what == NULL && i < G_N_ELEMENTS(vm_fields); i++) {
                guint32 flag = vm_fields[i].flag;

                if ((report->fields & previous->fields & flag) &&
                    *agent_field((VtAgentReport *)report, &vm_fields[i]) <
                        *agent_field((VtAgentReport *)previous, &vm_fields[i]))
                        what = vm_fields[i].name;
        }
        if (what == NULL && (report->fields & previous->fields & VT_AGENT_HAS_PSI_SOME) &&
            report->psi_some.total_us < previous->psi_some.total_us)
                what = VT_AGENT_KEY_PSI_SOME_TOTAL_US;
        if (what == NULL && (report->fields & previous->fields & VT_AGENT_HAS_PSI_FULL) &&
            report->psi_full.total_us < previous->psi_full.total_us)
                what = VT_AGENT_KEY_PSI_FULL_TOTAL_US;
        if (what == NULL && (report->fields & previous->fields & VT_AGENT_HAS_AGENT) &&
            report->agent_cpu_us < previous->agent_cpu_us)
                what = VT_AGENT_KEY_AGENT_CPU_US;
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
        if (!agent_get(object, VT_AGENT_KEY_VERSION, json_type_int, TRUE, &version, error) ||
            !agent_get(object, VT_AGENT_KEY_TYPE, json_type_string, TRUE, &type, error))
                return FALSE;
        if (json_object_get_int64(version) != VT_AGENT_PROTOCOL_VERSION) {
                g_set_error(error, VT_AGENT_ERROR, VT_AGENT_ERROR_INVALID,
                            "unsupported protocol version %" G_GINT64_FORMAT,
                            json_object_get_int64(version));
                return FALSE;
        }
        if (!agent_get_uint(object, VT_AGENT_KEY_SEQ, TRUE, 1, G_MAXINT64 - 1, &report.seq,
                            &present, error) ||
            !agent_get_uint(object, VT_AGENT_KEY_INTERVAL_MS, TRUE, VT_AGENT_INTERVAL_MIN_MS,
                            VT_AGENT_INTERVAL_MAX_MS, &report.interval_ms, &present, error))
                return FALSE;

        if (g_str_equal(json_object_get_string(type), VT_AGENT_TYPE_HELLO)) {
                report.kind = VT_AGENT_MESSAGE_HELLO;
                if (!agent_parse_hello(object, &report, error))
                        return FALSE;
        } else if (g_str_equal(json_object_get_string(type), VT_AGENT_TYPE_REPORT)) {
                report.kind = VT_AGENT_MESSAGE_REPORT;
                if (!agent_parse_report(object, &report, error))
                        return FALSE;
                if (previous != NULL && !agent_check_monotonic(previous, &report, error))
                        return FALSE;
                if (previous != NULL && previous->kind == VT_AGENT_MESSAGE_REPORT)
                        agent_swap_rates(previous, &report);
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
