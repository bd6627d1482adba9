/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Validation of what a guest's vmtide-agent sends (docs/agent-protocol.md). */
#pragma once

#include <glib.h>
#include <json-c/json.h>

#include "vt-agent-protocol.h"

G_BEGIN_DECLS

#define VT_AGENT_ERROR (vt_agent_error_quark())
GQuark vt_agent_error_quark(void);

/**
 * VtAgentError:
 * @VT_AGENT_ERROR_INVALID: the line breaks the protocol; it is dropped
 * @VT_AGENT_ERROR_BACKWARDS: `seq` or a counter went backwards without a
 *     `hello`; the line is dropped
 */
typedef enum {
        VT_AGENT_ERROR_INVALID,
        VT_AGENT_ERROR_BACKWARDS,
} VtAgentError;

/* Swap rates are measured over at least this much guest time (ms); closer
 * reports (a push right after a periodic one) carry the last rates over. */
#define VT_AGENT_RATE_MIN_MS 500

typedef enum {
        VT_AGENT_MESSAGE_HELLO,
        VT_AGENT_MESSAGE_REPORT,
} VtAgentMessageKind;

/* Fields that may be missing from a report, one bit each. */
typedef enum {
        VT_AGENT_HAS_FREE = 1 << 0,
        VT_AGENT_HAS_AVAILABLE = 1 << 1,
        VT_AGENT_HAS_BUFFERS = 1 << 2,
        VT_AGENT_HAS_CACHED = 1 << 3,
        VT_AGENT_HAS_SHMEM = 1 << 4,
        VT_AGENT_HAS_ANON = 1 << 5,
        VT_AGENT_HAS_SWAP = 1 << 6, /* swap_total and swap_free */
        VT_AGENT_HAS_PGMAJFAULT = 1 << 7,
        VT_AGENT_HAS_PSWPIN = 1 << 8,
        VT_AGENT_HAS_PSWPOUT = 1 << 9,
        VT_AGENT_HAS_OOM_KILL = 1 << 10,
        VT_AGENT_HAS_ALLOCSTALL = 1 << 11,
        VT_AGENT_HAS_PGSCAN_DIRECT = 1 << 12,
        VT_AGENT_HAS_PSI_SOME = 1 << 13,
        VT_AGENT_HAS_PSI_FULL = 1 << 14,
        VT_AGENT_HAS_AGENT = 1 << 15, /* the agent's own cpu_us and rss_bytes */
        VT_AGENT_HAS_ZSWAP = 1 << 16, /* zswap_pool and zswap_stored (revision 2) */
        VT_AGENT_HAS_ZSWPIN = 1 << 17,
        VT_AGENT_HAS_ZSWPOUT = 1 << 18,
        VT_AGENT_HAS_ZRAM = 1 << 19,       /* the zram_* figures: a "zram" array came */
        VT_AGENT_HAS_SWAP_RATES = 1 << 20, /* swap_in_per_s and swap_out_per_s */
} VtAgentFields;

/**
 * VtAgentPsi:
 * @avg10: percent of the last 10 s some (or all) tasks stalled, 0–100
 * @avg60: the same over 60 s
 * @avg300: the same over 300 s
 * @total_us: total stall time since boot
 */
typedef struct {
        double avg10;
        double avg60;
        double avg300;
        guint64 total_us;
} VtAgentPsi;

/**
 * VtAgentReport:
 * @kind: a report or a hello
 * @fields: which optional fields are present (#VtAgentFields)
 * @seq: the agent's line counter
 * @reason: why a report was sent
 * @uptime_ms: guest monotonic clock at the sample
 * @interval_ms: the agent's periodic interval
 * @version: (nullable): the agent's version, from a hello
 * @has_psi_trigger: a hello said the agent has a PSI trigger
 * @mem_total: MemTotal, bytes; always present in a report
 * @mem_free: MemFree, bytes
 * @mem_available: MemAvailable, bytes
 * @mem_buffers: Buffers, bytes
 * @mem_cached: Cached, bytes
 * @mem_shmem: Shmem, bytes
 * @mem_anon: AnonPages, bytes
 * @swap_total: SwapTotal, bytes
 * @swap_free: SwapFree, bytes
 * @pgmajfault: major faults since guest boot
 * @pswpin: pages swapped in since guest boot
 * @pswpout: pages swapped out since guest boot
 * @oom_kill: OOM kills since guest boot
 * @allocstall: direct reclaim stalls since guest boot
 * @pgscan_direct: pages scanned by direct reclaim since guest boot
 * @psi_some: memory pressure, some tasks stalled
 * @psi_full: memory pressure, all tasks stalled
 * @agent_cpu_us: the agent's own CPU time
 * @agent_rss_bytes: the agent's resident memory
 * @agent_dropped_requests: host requests the agent ignored
 * @revision: a hello's protocol revision (1 when it says none)
 * @zswap_pool: Zswap, bytes: guest RAM its zswap pool takes
 * @zswap_stored: Zswapped, bytes: what the pool holds, uncompressed
 * @zswpin: zswap loads since guest boot
 * @zswpout: zswap stores since guest boot
 * @zram_devices: zram devices in use in the guest (at most %VT_AGENT_ZRAM_MAX)
 * @zram_swap_devices: how many of them are swap
 * @zram_orig: what they hold, uncompressed, bytes (sum of orig_data_size)
 * @zram_compr: the same, compressed (sum of compr_data_size)
 * @zram_used: guest RAM their pools take (sum of mem_used_total)
 * @zram_limit: the sum of their mem_limit, bytes (0: none has a limit)
 * @zram_huge_pages: incompressible pages they hold
 * @swap_in_per_s: pages swapped in a second (pswpin + zswpin) since the
 *     previous report, or carried over from it when that was under
 *     %VT_AGENT_RATE_MIN_MS ago; with %VT_AGENT_HAS_SWAP_RATES
 * @swap_out_per_s: pages swapped out a second (pswpout + zswpout), as above
 * @received_us: host monotonic time the line arrived (set by the reader)
 *
 * A validated line from the agent. Plain data; @version is owned.
 */
typedef struct {
        VtAgentMessageKind kind;
        guint32 fields;
        guint64 seq;
        VtAgentReason reason;
        guint64 uptime_ms;
        guint64 interval_ms;
        char *version;
        gboolean has_psi_trigger;

        guint64 mem_total;
        guint64 mem_free;
        guint64 mem_available;
        guint64 mem_buffers;
        guint64 mem_cached;
        guint64 mem_shmem;
        guint64 mem_anon;
        guint64 swap_total;
        guint64 swap_free;

        guint64 pgmajfault;
        guint64 pswpin;
        guint64 pswpout;
        guint64 oom_kill;
        guint64 allocstall;
        guint64 pgscan_direct;

        VtAgentPsi psi_some;
        VtAgentPsi psi_full;

        guint64 agent_cpu_us;
        guint64 agent_rss_bytes;
        guint64 agent_dropped_requests;

        guint64 revision;
        guint64 zswap_pool;
        guint64 zswap_stored;
        guint64 zswpin;
        guint64 zswpout;
        guint zram_devices;
        guint zram_swap_devices;
        guint64 zram_orig;
        guint64 zram_compr;
        guint64 zram_used;
        guint64 zram_limit;
        guint64 zram_huge_pages;
        double swap_in_per_s;
        double swap_out_per_s;

        gint64 received_us;
} VtAgentReport;

gboolean vt_agent_report_parse(json_object *object, const VtAgentReport *previous,
                               VtAgentReport *ret_report, GError **error);
void vt_agent_report_clear(VtAgentReport *report);
void vt_agent_report_copy(const VtAgentReport *src, VtAgentReport *dest);

G_END_DECLS
