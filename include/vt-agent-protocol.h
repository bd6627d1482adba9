/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The agent protocol (docs/agent-protocol.md): what the guest agent and the host reader agree on.
 */
#pragma once

/*
 * Both ends include this header: the guest agent (agent/, libc and json-c
 * only, linked statically) and the host reader (host/agent-channel/). So it
 * is libc only: no GLib here.
 */

#include <stddef.h>
#include <stdint.h>

/* The virtio-serial port; in the guest /dev/virtio-ports/VT_AGENT_PORT_NAME. */
#define VT_AGENT_PORT_NAME "org.vmtide.agent.0"

/*
 * The "v" member of every line, both ways: the major version. It changes
 * only with a change an older peer would misread; a receiver drops lines of
 * another major version. Members added later leave it alone (a receiver
 * ignores members it does not know) and raise VT_AGENT_PROTOCOL_REVISION.
 */
#define VT_AGENT_PROTOCOL_VERSION 1

/*
 * The "revision" member of a hello: which members this agent may send.
 * 1 (or no "revision"): the first set. 2: "mem.zswap", "mem.zswapped",
 * "vm.zswpin", "vm.zswpout" and the "zram" array.
 */
#define VT_AGENT_PROTOCOL_REVISION 2

/* A line is at most this long including its newline, and nests at most VT_AGENT_LINE_MAX_DEPTH. */
#define VT_AGENT_LINE_MAX       4096
#define VT_AGENT_LINE_MAX_DEPTH 8

/* The periodic interval ("interval_ms", "set-interval"), ms. */
#define VT_AGENT_INTERVAL_MIN_MS 100
#define VT_AGENT_INTERVAL_MAX_MS 3600000

/* No memory figure of a report is above this (bytes): the host drops the line. */
#define VT_AGENT_MEMORY_MAX (UINT64_C(16) << 40) /* 16 TiB */

/* A hello's "version" is at most this long (bytes). */
#define VT_AGENT_VERSION_MAX 64

/* The "type" of a line. */
#define VT_AGENT_TYPE_HELLO        "hello"        /* both ways */
#define VT_AGENT_TYPE_REPORT       "report"       /* guest -> host */
#define VT_AGENT_TYPE_SET_INTERVAL "set-interval" /* host -> guest */
#define VT_AGENT_TYPE_REPORT_NOW   "report-now"   /* host -> guest */

/* A hello's "features". */
#define VT_AGENT_FEATURE_PSI "psi-trigger" /* the kernel took the PSI trigger */

/* Members of every line. */
#define VT_AGENT_KEY_VERSION     "v"
#define VT_AGENT_KEY_TYPE        "type"
#define VT_AGENT_KEY_SEQ         "seq"
#define VT_AGENT_KEY_INTERVAL_MS "interval_ms"

/* Members of a hello. */
#define VT_AGENT_KEY_AGENT_VERSION "version"
#define VT_AGENT_KEY_REVISION      "revision"
#define VT_AGENT_KEY_FEATURES      "features"

/* Members of a report, and the objects it nests. */
#define VT_AGENT_KEY_REASON    "reason"
#define VT_AGENT_KEY_UPTIME_MS "uptime_ms"
#define VT_AGENT_KEY_MEM       "mem"
#define VT_AGENT_KEY_VM        "vm"
#define VT_AGENT_KEY_PSI       "psi"
#define VT_AGENT_KEY_AGENT     "agent"
#define VT_AGENT_KEY_ZRAM      "zram" /* revision 2: an array, one object per zram device */

/* Members of "mem" (bytes). */
#define VT_AGENT_KEY_MEM_TOTAL      "total"
#define VT_AGENT_KEY_MEM_FREE       "free"
#define VT_AGENT_KEY_MEM_AVAILABLE  "available"
#define VT_AGENT_KEY_MEM_BUFFERS    "buffers"
#define VT_AGENT_KEY_MEM_CACHED     "cached"
#define VT_AGENT_KEY_MEM_SHMEM      "shmem"
#define VT_AGENT_KEY_MEM_ANON       "anon"
#define VT_AGENT_KEY_MEM_SWAP_TOTAL "swap_total"
#define VT_AGENT_KEY_MEM_SWAP_FREE  "swap_free"
#define VT_AGENT_KEY_MEM_ZSWAP      "zswap"    /* revision 2: Zswap, the zswap pool */
#define VT_AGENT_KEY_MEM_ZSWAPPED   "zswapped" /* revision 2: Zswapped, what it holds */

/* Members of "vm" (counts since guest boot; also their /proc/vmstat names). */
#define VT_AGENT_KEY_VM_PGMAJFAULT    "pgmajfault"
#define VT_AGENT_KEY_VM_PSWPIN        "pswpin"
#define VT_AGENT_KEY_VM_PSWPOUT       "pswpout"
#define VT_AGENT_KEY_VM_OOM_KILL      "oom_kill"
#define VT_AGENT_KEY_VM_ALLOCSTALL    "allocstall"
#define VT_AGENT_KEY_VM_PGSCAN_DIRECT "pgscan_direct"
#define VT_AGENT_KEY_VM_ZSWPIN        "zswpin"  /* revision 2 */
#define VT_AGENT_KEY_VM_ZSWPOUT       "zswpout" /* revision 2 */

/* At most this many zram devices in a report; a guest with more reports the first ones. */
#define VT_AGENT_ZRAM_MAX 8
/* A zram device's "name" is "zram" and at most this many more bytes (digits). */
#define VT_AGENT_ZRAM_NAME_MAX 16

/* Members of a "zram" device (revision 2): its mm_stat figures, and whether it is swap. */
#define VT_AGENT_KEY_ZRAM_NAME       "name"            /* "zram0" */
#define VT_AGENT_KEY_ZRAM_ORIG       "orig_data_size"  /* bytes stored, uncompressed */
#define VT_AGENT_KEY_ZRAM_COMPR      "compr_data_size" /* bytes stored, compressed */
#define VT_AGENT_KEY_ZRAM_USED       "mem_used_total"  /* guest RAM the pool takes, bytes */
#define VT_AGENT_KEY_ZRAM_LIMIT      "mem_limit"       /* bytes; 0: no limit */
#define VT_AGENT_KEY_ZRAM_HUGE_PAGES "huge_pages"      /* incompressible pages stored */
#define VT_AGENT_KEY_ZRAM_SWAP       "swap"            /* boolean: in /proc/swaps */

/* Members of "psi": averages in percent, totals in µs. */
#define VT_AGENT_KEY_PSI_SOME_AVG10    "some_avg10"
#define VT_AGENT_KEY_PSI_SOME_AVG60    "some_avg60"
#define VT_AGENT_KEY_PSI_SOME_AVG300   "some_avg300"
#define VT_AGENT_KEY_PSI_SOME_TOTAL_US "some_total_us"
#define VT_AGENT_KEY_PSI_FULL_AVG10    "full_avg10"
#define VT_AGENT_KEY_PSI_FULL_AVG60    "full_avg60"
#define VT_AGENT_KEY_PSI_FULL_AVG300   "full_avg300"
#define VT_AGENT_KEY_PSI_FULL_TOTAL_US "full_total_us"

/* Members of "agent": the agent's own resource use. */
#define VT_AGENT_KEY_AGENT_CPU_US           "cpu_us"
#define VT_AGENT_KEY_AGENT_RSS_BYTES        "rss_bytes"
#define VT_AGENT_KEY_AGENT_DROPPED_REQUESTS "dropped_requests"

/**
 * VtAgentReason - Why a report is sent (its "reason" member).
 */
typedef enum {
        VT_AGENT_REASON_PERIODIC, /* "periodic": the interval elapsed */
        VT_AGENT_REASON_PRESSURE, /* "pressure": the PSI trigger fired */
        VT_AGENT_REASON_DROP,     /* "drop": MemAvailable fell fast */
        VT_AGENT_REASON_REQUEST,  /* "request": the host asked */
        VT_AGENT_REASON_MAX,
} VtAgentReason;

/**
 * vt_agent_reason_to_string() - The protocol name of a report reason.
 * @reason: the reason
 *
 * Return: a static string ("periodic", ...), NULL for an invalid reason
 */
static inline const char *
vt_agent_reason_to_string(VtAgentReason reason)
{
        static const char *const names[VT_AGENT_REASON_MAX] = {
            [VT_AGENT_REASON_PERIODIC] = "periodic",
            [VT_AGENT_REASON_PRESSURE] = "pressure",
            [VT_AGENT_REASON_DROP] = "drop",
            [VT_AGENT_REASON_REQUEST] = "request",
        };

        return (unsigned)reason < VT_AGENT_REASON_MAX ? names[reason] : NULL;
}
