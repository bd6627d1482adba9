/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the migration planner: which guest, where, when not, and measuring first, from
 * tables. */
#include <string.h>

#include "migrate/migrate-plan.h"

#define MiB    (G_GUINT64_CONSTANT(1) << 20)
#define GiB    (G_GUINT64_CONSTANT(1) << 30)
#define SEC    G_TIME_SPAN_SECOND
#define MINUTE (60 * SEC)

/* Every case's clock: well past 0, so "never" (0) is long ago. */
#define NOW (100000 * SEC)

#define MAX_GUESTS 4
#define MAX_PEERS  3

/* A guest whose rate was measured 10 s ago over 2 s. */
#define MEASURED .dirty_window_us = 2 * SEC, .dirty_measured_us = NOW - 10 * SEC

/* 1.5 GiB held and wanted, quiet (4 MiB/s): relieves 1.5 GiB for about 1.5 GiB sent. */
#define QUIET_A                                                                                    \
        {                                                                                          \
                .name = "a", .mem_bytes = 2 * GiB, .actual_bytes = 1536 * MiB,                     \
                .want_bytes = 1536 * MiB, .dirty_rate = 4 * MiB, MEASURED                          \
        }
/* 3 GiB, as quiet: twice the bytes for the same need met. */
#define QUIET_B                                                                                    \
        {                                                                                          \
                .name = "b", .mem_bytes = 4 * GiB, .actual_bytes = 3 * GiB, .want_bytes = 3 * GiB, \
                .dirty_rate = 4 * MiB, MEASURED                                                    \
        }
/* 1 GiB dirtying 200 MiB/s: never converges at 128 MiB/s. */
#define BUSY_C                                                                                     \
        {                                                                                          \
                .name = "c", .mem_bytes = GiB, .actual_bytes = GiB, .want_bytes = GiB,             \
                .dirty_rate = 200 * MiB, MEASURED                                                  \
        }

/* A as it is before anyone measured it. */
#define UNKNOWN_A                                                                                  \
        {                                                                                          \
                .name = "a", .mem_bytes = 2 * GiB, .actual_bytes = 1536 * MiB,                     \
                .want_bytes = 1536 * MiB                                                           \
        }

/* Plenty of room: 8 GiB free, keeps 1 GiB. */
#define PEER_1                                                                                     \
        {                                                                                          \
                .name = "p1", .free_bytes = 8 * GiB, .headroom_bytes = GiB                         \
        }
#define PEER_2                                                                                     \
        {                                                                                          \
                .name = "p2", .free_bytes = 6 * GiB, .headroom_bytes = GiB                         \
        }

/*
 * The host of most cases: a 16 GiB budget, 256 MiB free, critical for 3
 * ticks; the exit line is 8 % (1.28 GiB): 1.03 GiB short, 128 MiB of it
 * reclaimable, so a move is due; it aims at the 15 % line (2.4 GiB): with
 * the 128 MiB the balloon gives, 2.0 GiB to free.
 */
#define HOST_SHORT                                                                                 \
        {                                                                                          \
                .mem_total = 32 * GiB, .budget_bytes = 16 * GiB, .free_bytes = 256 * MiB,          \
                .critical = TRUE, .critical_ticks = 3, .reclaimable_bytes = 128 * MiB              \
        }

typedef void (*Tweak)(VtMigratePlanConfig *config, VtMigratePlanLink *link);

typedef struct {
        const char *name;
        VtMigratePlanHost host;
        VtMigratePlanGuest guests[MAX_GUESTS];
        VtMigratePlanPeer peers[MAX_PEERS];
        Tweak tweak; /* NULL: the defaults */
        /* expected */
        VtMigratePlanAction action;
        VtMigratePlanWhy why; /* with NOTHING */
        const char *guest;    /* NULL: none */
        const char *peer;     /* NULL: none */
        gint64 window_us;     /* with MEASURE; 0: not checked */
        const char *reason;   /* a substring; NULL: not checked */
} PlanCase;

static void
tweak_two_outgoing(VtMigratePlanConfig *config, VtMigratePlanLink *link)
{
        (void)link;
        config->max_outgoing = 2;
}

static void
tweak_no_bandwidth(VtMigratePlanConfig *config, VtMigratePlanLink *link)
{
        (void)config;
        link->bandwidth = 0;
}

static void
tweak_fast_link(VtMigratePlanConfig *config, VtMigratePlanLink *link)
{
        (void)config;
        link->bandwidth = GiB;
}

static const PlanCase plan_cases[] = {
    /* ---- which guest, where ---- */
    {
        .name = "cheapest-per-byte",
        .host = HOST_SHORT,
        .guests = {QUIET_B, QUIET_A},
        .peers = {PEER_1},
        .action = VT_MIGRATE_PLAN_MOVE,
        .why = VT_MIGRATE_PLAN_WHY_MOVE,
        .guest = "a",
        .peer = "p1",
        .reason = "move 'a' to 'p1': critical 3 ticks, 2.0 GiB to free after balloon and KSM "
                  "(128 MiB); relieves 1.5 GiB at 1.03 bytes sent per byte; converges in 3 passes",
    },
    /* Relief counts only what the balloon cannot take: B holds 3 GiB but
     * wants 768 MiB, so moving it gives back less than A does beyond what
     * the balloon would. */
    {
        .name = "relief-is-want-not-actual",
        .host = HOST_SHORT,
        .guests = {{.name = "b",
                    .mem_bytes = 4 * GiB,
                    .actual_bytes = 3 * GiB,
                    .want_bytes = 768 * MiB,
                    .dirty_rate = 4 * MiB,
                    MEASURED},
                   QUIET_A},
        .peers = {PEER_1},
        .action = VT_MIGRATE_PLAN_MOVE,
        .guest = "a",
        .peer = "p1",
    },
    /* The larger guest wins when the smaller does not meet the need and
     * costs more per byte it meets: the need is 4.4 GiB here. */
    {
        .name = "larger-when-need-is-large",
        .host = {.mem_total = 32 * GiB,
                 .budget_bytes = 16 * GiB,
                 .free_bytes = -2 * (gint64)GiB,
                 .critical = TRUE,
                 .critical_ticks = 5},
        .guests = {{.name = "a",
                    .mem_bytes = 2 * GiB,
                    .actual_bytes = 1536 * MiB,
                    .want_bytes = 1536 * MiB,
                    .dirty_rate = 30 * MiB,
                    MEASURED},
                   QUIET_B},
        .peers = {PEER_1},
        .action = VT_MIGRATE_PLAN_MOVE,
        .guest = "b",
        .peer = "p1",
    },
    {
        .name = "non-converging-skipped-for-converging",
        .host = HOST_SHORT,
        .guests = {BUSY_C, QUIET_B},
        .peers = {PEER_1},
        .action = VT_MIGRATE_PLAN_MOVE,
        .guest = "b",
        .peer = "p1",
        .reason = "converges in",
    },
    {
        .name = "none-converges",
        .host = HOST_SHORT,
        .guests = {BUSY_C},
        .peers = {PEER_1},
        .action = VT_MIGRATE_PLAN_NOTHING,
        .why = VT_MIGRATE_PLAN_WHY_NO_CONVERGENCE,
        .reason = "none of the 1 guests that fit converges; best 'c' to 'p1': does not converge: "
                  "dirties 200 MiB/s",
    },
    {
        .name = "destination-would-become-short",
        .host = HOST_SHORT,
        .guests = {QUIET_A},
        .peers = {{.name = "p1", .free_bytes = 2 * GiB, .headroom_bytes = GiB}},
        .action = VT_MIGRATE_PLAN_NOTHING,
        .why = VT_MIGRATE_PLAN_WHY_NO_ROOM,
        .reason = "no peer of 1 keeps its headroom with any of the 1 guests that may move",
    },
    {
        .name = "destination-with-room-chosen",
        .host = HOST_SHORT,
        .guests = {QUIET_A},
        .peers = {{.name = "p1", .free_bytes = 2 * GiB, .headroom_bytes = GiB}, PEER_2},
        .action = VT_MIGRATE_PLAN_MOVE,
        .guest = "a",
        .peer = "p2",
    },
    /* What moves to a peer now counts against its room. */
    {
        .name = "destination-incoming-counted",
        .host = HOST_SHORT,
        .guests = {QUIET_A},
        .peers =
            {{.name = "p1", .free_bytes = 3 * GiB, .headroom_bytes = GiB, .incoming_bytes = GiB},
             {.name = "p2", .free_bytes = 2816 * MiB, .headroom_bytes = GiB}},
        .action = VT_MIGRATE_PLAN_MOVE,
        .guest = "a",
        .peer = "p2",
    },
    {
        .name = "destination-short-refused",
        .host = HOST_SHORT,
        .guests = {QUIET_A},
        .peers = {{.name = "p1", .free_bytes = 8 * GiB, .state = VT_HOST_STATE_SHORT}},
        .action = VT_MIGRATE_PLAN_NOTHING,
        .why = VT_MIGRATE_PLAN_WHY_NO_ROOM,
    },
    {
        .name = "destination-tight-accepted",
        .host = HOST_SHORT,
        .guests = {QUIET_A},
        .peers = {{.name = "p1", .free_bytes = 8 * GiB, .state = VT_HOST_STATE_TIGHT}},
        .action = VT_MIGRATE_PLAN_MOVE,
        .guest = "a",
        .peer = "p1",
    },
    /* Same link: the peer left with more room. */
    {
        .name = "most-room-left",
        .host = HOST_SHORT,
        .guests = {QUIET_A},
        .peers = {PEER_2, PEER_1},
        .action = VT_MIGRATE_PLAN_MOVE,
        .guest = "a",
        .peer = "p1",
    },
    /* A faster link to p2 sends fewer dirty pages: cheaper, whatever the room. */
    {
        .name = "faster-link-cheaper",
        .host = HOST_SHORT,
        .guests = {QUIET_A},
        .peers = {PEER_1, {.name = "p2", .free_bytes = 3 * GiB, .bandwidth = GiB}},
        .action = VT_MIGRATE_PLAN_MOVE,
        .guest = "a",
        .peer = "p2",
    },
    {
        .name = "no-peers",
        .host = HOST_SHORT,
        .guests = {QUIET_A},
        .action = VT_MIGRATE_PLAN_NOTHING,
        .why = VT_MIGRATE_PLAN_WHY_NO_ROOM,
    },
    {
        .name = "no-bandwidth",
        .host = HOST_SHORT,
        .guests = {QUIET_A},
        .peers = {PEER_1},
        .tweak = tweak_no_bandwidth,
        .action = VT_MIGRATE_PLAN_NOTHING,
        .why = VT_MIGRATE_PLAN_WHY_NO_CONVERGENCE,
        .reason = "never completes",
    },
    /* ---- when not ---- */
    {
        .name = "not-critical",
        .host = {.mem_total = 32 * GiB, .budget_bytes = 16 * GiB, .free_bytes = 256 * MiB},
        .guests = {QUIET_A},
        .peers = {PEER_1},
        .action = VT_MIGRATE_PLAN_NOTHING,
        .why = VT_MIGRATE_PLAN_WHY_NOT_CRITICAL,
        .reason = "host not critical",
    },
    {
        .name = "one-tick-of-shortage",
        .host = {.mem_total = 32 * GiB,
                 .budget_bytes = 16 * GiB,
                 .free_bytes = 256 * MiB,
                 .critical = TRUE,
                 .critical_ticks = 1},
        .guests = {QUIET_A},
        .peers = {PEER_1},
        .action = VT_MIGRATE_PLAN_NOTHING,
        .why = VT_MIGRATE_PLAN_WHY_HYSTERESIS,
        .reason = "critical for 1 tick of the 3 a move waits for",
    },
    {
        .name = "balloon-and-ksm-can-help",
        .host = {.mem_total = 32 * GiB,
                 .budget_bytes = 16 * GiB,
                 .free_bytes = 256 * MiB,
                 .critical = TRUE,
                 .critical_ticks = 9,
                 .reclaimable_bytes = 768 * MiB,
                 .ksm_yield_bytes = 512 * MiB},
        .guests = {QUIET_A},
        .peers = {PEER_1},
        .action = VT_MIGRATE_PLAN_NOTHING,
        .why = VT_MIGRATE_PLAN_WHY_RECOVERABLE,
        .reason = "short of the exit line; balloon (768 MiB) and KSM (512 MiB) can give it back",
    },
    /* Critical by stalls with free memory above the exit line. */
    {
        .name = "above-exit-line",
        .host = {.mem_total = 32 * GiB,
                 .budget_bytes = 16 * GiB,
                 .free_bytes = 2 * GiB,
                 .critical = TRUE,
                 .critical_ticks = 9},
        .guests = {QUIET_A},
        .peers = {PEER_1},
        .action = VT_MIGRATE_PLAN_NOTHING,
        .why = VT_MIGRATE_PLAN_WHY_RECOVERABLE,
        .reason = "above the exit line",
    },
    /* Without a budget, MemTotal is the reference: 8 % of 32 GiB. */
    {
        .name = "no-budget-memtotal-reference",
        .host =
            {.mem_total = 32 * GiB, .free_bytes = 2 * GiB, .critical = TRUE, .critical_ticks = 9},
        .guests = {QUIET_A},
        .peers = {PEER_1},
        .action = VT_MIGRATE_PLAN_MOVE,
        .guest = "a",
        .peer = "p1",
    },
    {
        .name = "max-concurrent-reached",
        .host = {.mem_total = 32 * GiB,
                 .budget_bytes = 16 * GiB,
                 .free_bytes = 256 * MiB,
                 .critical = TRUE,
                 .critical_ticks = 3,
                 .outgoing = 1},
        .guests = {QUIET_A},
        .peers = {PEER_1},
        .action = VT_MIGRATE_PLAN_NOTHING,
        .why = VT_MIGRATE_PLAN_WHY_BUSY,
        .reason = "1 outgoing migration under way, 1 allowed",
    },
    {
        .name = "max-concurrent-two",
        .host = {.mem_total = 32 * GiB,
                 .budget_bytes = 16 * GiB,
                 .free_bytes = 256 * MiB,
                 .critical = TRUE,
                 .critical_ticks = 3,
                 .outgoing = 1},
        .guests = {QUIET_A},
        .peers = {PEER_1},
        .tweak = tweak_two_outgoing,
        .action = VT_MIGRATE_PLAN_MOVE,
        .guest = "a",
        .peer = "p1",
    },
    {
        .name = "host-cooldown",
        .host = {.mem_total = 32 * GiB,
                 .budget_bytes = 16 * GiB,
                 .free_bytes = 256 * MiB,
                 .critical = TRUE,
                 .critical_ticks = 3,
                 .last_outgoing_end_us = NOW - 30 * SEC},
        .guests = {QUIET_A},
        .peers = {PEER_1},
        .action = VT_MIGRATE_PLAN_NOTHING,
        .why = VT_MIGRATE_PLAN_WHY_HOST_COOLDOWN,
        .reason = "last outgoing migration ended 30.0 s ago, cooldown 60.0 s",
    },
    {
        .name = "host-cooldown-over",
        .host = {.mem_total = 32 * GiB,
                 .budget_bytes = 16 * GiB,
                 .free_bytes = 256 * MiB,
                 .critical = TRUE,
                 .critical_ticks = 3,
                 .last_outgoing_end_us = NOW - 61 * SEC},
        .guests = {QUIET_A},
        .peers = {PEER_1},
        .action = VT_MIGRATE_PLAN_MOVE,
        .guest = "a",
        .peer = "p1",
    },
    {
        .name = "guest-cooldown",
        .host = HOST_SHORT,
        .guests = {{.name = "a",
                    .mem_bytes = 2 * GiB,
                    .actual_bytes = 1536 * MiB,
                    .want_bytes = 1536 * MiB,
                    .dirty_rate = 4 * MiB,
                    MEASURED,
                    .last_migrated_us = NOW - 5 * MINUTE},
                   QUIET_B},
        .peers = {PEER_1},
        .action = VT_MIGRATE_PLAN_MOVE,
        .guest = "b",
        .peer = "p1",
    },
    {
        .name = "pinned-skipped",
        .host = HOST_SHORT,
        .guests = {{.name = "a",
                    .mem_bytes = 2 * GiB,
                    .actual_bytes = 1536 * MiB,
                    .want_bytes = 1536 * MiB,
                    .dirty_rate = 4 * MiB,
                    MEASURED,
                    .pinned = TRUE},
                   QUIET_B},
        .peers = {PEER_1},
        .action = VT_MIGRATE_PLAN_MOVE,
        .guest = "b",
        .peer = "p1",
    },
    {
        .name = "opted-out-skipped",
        .host = HOST_SHORT,
        .guests = {{.name = "a",
                    .mem_bytes = 2 * GiB,
                    .actual_bytes = 1536 * MiB,
                    .want_bytes = 1536 * MiB,
                    .dirty_rate = 4 * MiB,
                    MEASURED,
                    .opt_out = TRUE},
                   QUIET_B},
        .peers = {PEER_1},
        .action = VT_MIGRATE_PLAN_MOVE,
        .guest = "b",
        .peer = "p1",
    },
    {
        .name = "no-guest-may-move",
        .host = HOST_SHORT,
        .guests =
            {{.name = "a",
              .mem_bytes = 2 * GiB,
              .actual_bytes = 1536 * MiB,
              .dirty_rate = 4 * MiB,
              MEASURED,
              .opt_out = TRUE},
             {.name = "b", .mem_bytes = 4 * GiB, .actual_bytes = 3 * GiB, MEASURED, .pinned = TRUE},
             {.name = "c",
              .mem_bytes = 4 * GiB,
              .actual_bytes = 3 * GiB,
              MEASURED,
              .migrating = TRUE},
             {.name = "d", .mem_bytes = GiB, .actual_bytes = 128 * MiB, MEASURED}},
        .peers = {PEER_1},
        .action = VT_MIGRATE_PLAN_NOTHING,
        .why = VT_MIGRATE_PLAN_WHY_NO_GUEST,
        .reason = "no guest may move: 1 opted out, 1 pinned, 1 migrating, 0 in cooldown, "
                  "1 relieving too little",
    },
    /* ---- ping-pong ---- */
    {
        .name = "no-ping-pong",
        .host = HOST_SHORT,
        .guests = {QUIET_A, QUIET_B},
        .peers = {{.name = "p1",
                   .free_bytes = 8 * GiB,
                   .headroom_bytes = GiB,
                   .last_sent_us = NOW - 20 * MINUTE,
                   .last_sent_guest = "a"}},
        .action = VT_MIGRATE_PLAN_MOVE,
        .guest = "b",
        .peer = "p1",
    },
    {
        .name = "no-ping-pong-other-peer",
        .host = HOST_SHORT,
        .guests = {QUIET_A},
        .peers = {{.name = "p1",
                   .free_bytes = 8 * GiB,
                   .headroom_bytes = GiB,
                   .last_sent_us = NOW - 20 * MINUTE,
                   .last_sent_guest = "a"},
                  PEER_2},
        .action = VT_MIGRATE_PLAN_MOVE,
        .guest = "a",
        .peer = "p2",
    },
    {
        .name = "ping-pong-window-over",
        .host = HOST_SHORT,
        .guests = {QUIET_A},
        .peers = {{.name = "p1",
                   .free_bytes = 8 * GiB,
                   .headroom_bytes = GiB,
                   .last_sent_us = NOW - 2 * 60 * MINUTE,
                   .last_sent_guest = "a"}},
        .action = VT_MIGRATE_PLAN_MOVE,
        .guest = "a",
        .peer = "p1",
    },
    /* ---- measure first ---- */
    /* A's rate was never measured and it may be the cheapest: measure it
     * over its first pass: 1.5 GiB at 128 MiB/s = 12 s, and its 512 MiB
     * ballooned out as zero pages, 9 bytes each (1.1 MiB, 8.8 ms). */
    {
        .name = "measure-unknown",
        .host = HOST_SHORT,
        .guests = {{.name = "a",
                    .mem_bytes = 2 * GiB,
                    .actual_bytes = 1536 * MiB,
                    .want_bytes = 1536 * MiB},
                   QUIET_B},
        .peers = {PEER_1},
        .action = VT_MIGRATE_PLAN_MEASURE,
        .why = VT_MIGRATE_PLAN_WHY_MEASURE,
        .guest = "a",
        .window_us = 12008789,
        .reason = "measure 'a' over 12.0 s:",
    },
    {
        .name = "measure-stale",
        .host = HOST_SHORT,
        .guests = {{.name = "a",
                    .mem_bytes = 2 * GiB,
                    .actual_bytes = 1536 * MiB,
                    .want_bytes = 1536 * MiB,
                    .dirty_rate = 4 * MiB,
                    .dirty_window_us = 2 * SEC,
                    .dirty_measured_us = NOW - 10 * MINUTE}},
        .peers = {PEER_1},
        .action = VT_MIGRATE_PLAN_MEASURE,
        .guest = "a",
        .window_us = 12008789,
        .reason = "no known move converges",
    },
    /* B unknown cannot beat A known even dirtying nothing: no measurement. */
    {
        .name = "unknown-but-dearer-not-measured",
        .host = HOST_SHORT,
        .guests =
            {{.name = "b", .mem_bytes = 4 * GiB, .actual_bytes = 3 * GiB, .want_bytes = 3 * GiB},
             QUIET_A},
        .peers = {PEER_1},
        .action = VT_MIGRATE_PLAN_MOVE,
        .guest = "a",
        .peer = "p1",
    },
    {
        .name = "measuring-wait",
        .host = HOST_SHORT,
        .guests = {{.name = "a",
                    .mem_bytes = 2 * GiB,
                    .actual_bytes = 1536 * MiB,
                    .want_bytes = 1536 * MiB,
                    .measuring = TRUE},
                   QUIET_B},
        .peers = {PEER_1},
        .action = VT_MIGRATE_PLAN_NOTHING,
        .why = VT_MIGRATE_PLAN_WHY_MEASURING,
        .guest = "a",
        .reason = "waiting for the dirty rate of 'a'",
    },
    /* A guest that fits nowhere is not measured. */
    {
        .name = "unknown-without-room-not-measured",
        .host = HOST_SHORT,
        .guests =
            {{.name = "a", .mem_bytes = 8 * GiB, .actual_bytes = 7 * GiB, .want_bytes = 7 * GiB},
             QUIET_B},
        .peers = {PEER_2},
        .action = VT_MIGRATE_PLAN_MOVE,
        .guest = "b",
        .peer = "p2",
    },
    /* The hysteresis holds a move back, not its measurement: the rate is
     * there by the time the move may start. */
    {
        .name = "measure-during-hysteresis",
        .host = {.mem_total = 32 * GiB,
                 .budget_bytes = 16 * GiB,
                 .free_bytes = 256 * MiB,
                 .critical = TRUE,
                 .critical_ticks = 1},
        .guests = {UNKNOWN_A, QUIET_B},
        .peers = {PEER_1},
        .action = VT_MIGRATE_PLAN_MEASURE,
        .guest = "a",
        .window_us = 12008789,
        .reason = "ahead of a move (critical for 1 tick of the 3 a move waits for)",
    },
    {
        .name = "measure-during-host-cooldown",
        .host = {.mem_total = 32 * GiB,
                 .budget_bytes = 16 * GiB,
                 .free_bytes = 256 * MiB,
                 .critical = TRUE,
                 .critical_ticks = 3,
                 .last_outgoing_end_us = NOW - 30 * SEC},
        .guests = {UNKNOWN_A, QUIET_B},
        .peers = {PEER_1},
        .action = VT_MIGRATE_PLAN_MEASURE,
        .guest = "a",
        .reason = "ahead of a move (last outgoing migration ended 30.0 s ago",
    },
    /* ... but not while this host's migrations are under way. */
    {
        .name = "busy-no-measure",
        .host = {.mem_total = 32 * GiB,
                 .budget_bytes = 16 * GiB,
                 .free_bytes = 256 * MiB,
                 .critical = TRUE,
                 .critical_ticks = 3,
                 .outgoing = 1},
        .guests = {UNKNOWN_A, QUIET_B},
        .peers = {PEER_1},
        .action = VT_MIGRATE_PLAN_NOTHING,
        .why = VT_MIGRATE_PLAN_WHY_BUSY,
    },
    /* A balloon that can bring the host back: nothing measured either. */
    {
        .name = "recoverable-no-measure",
        .host = {.mem_total = 32 * GiB,
                 .budget_bytes = 16 * GiB,
                 .free_bytes = 256 * MiB,
                 .critical = TRUE,
                 .critical_ticks = 1,
                 .reclaimable_bytes = 2 * GiB},
        .guests = {UNKNOWN_A},
        .peers = {PEER_1},
        .action = VT_MIGRATE_PLAN_NOTHING,
        .why = VT_MIGRATE_PLAN_WHY_RECOVERABLE,
    },
    /* A is being measured; D may be as cheap: measured beside it. */
    {
        .name = "measure-second-in-parallel",
        .host = HOST_SHORT,
        .guests = {{.name = "a",
                    .mem_bytes = 2 * GiB,
                    .actual_bytes = 1536 * MiB,
                    .want_bytes = 1536 * MiB,
                    .measuring = TRUE},
                   {.name = "d",
                    .mem_bytes = 2 * GiB,
                    .actual_bytes = 1536 * MiB,
                    .want_bytes = 1536 * MiB},
                   QUIET_B},
        .peers = {PEER_1},
        .action = VT_MIGRATE_PLAN_MEASURE,
        .guest = "d",
    },
    {
        .name = "measure-limit-wait",
        .host = HOST_SHORT,
        .guests = {{.name = "a",
                    .mem_bytes = 4 * GiB,
                    .actual_bytes = 3 * GiB,
                    .want_bytes = 3 * GiB,
                    .measuring = TRUE},
                   {.name = "d",
                    .mem_bytes = 2 * GiB,
                    .actual_bytes = 1536 * MiB,
                    .want_bytes = 1536 * MiB,
                    .measuring = TRUE},
                   UNKNOWN_A},
        .peers = {PEER_1},
        .action = VT_MIGRATE_PLAN_NOTHING,
        .why = VT_MIGRATE_PLAN_WHY_MEASURING,
        .guest = "d",
        .reason = "waiting for the dirty rate of 'd'",
    },
    /* 512 MiB at 1 GiB/s: a 0.5 s pass, measured over QEMU's least, 1 s. */
    {
        .name = "measure-window-clamped",
        .host = {.mem_total = 32 * GiB,
                 .budget_bytes = 4 * GiB,
                 .free_bytes = -256 * (gint64)MiB,
                 .critical = TRUE,
                 .critical_ticks = 3},
        .guests = {{.name = "a", .mem_bytes = 512 * MiB, .actual_bytes = 512 * MiB}},
        .peers = {PEER_1},
        .tweak = tweak_fast_link,
        .action = VT_MIGRATE_PLAN_MEASURE,
        .guest = "a",
        .window_us = SEC,
    },
};

static void
test_plan_case(gconstpointer data)
{
        const PlanCase *c = data;
        VtMigratePlanConfig config;
        VtMigratePlanLink link;
        VtMigratePlanInput in = {0};
        VtMigratePlanDecision d;
        guint n_guests = 0, n_peers = 0;
        /* A move and a measure have one code each: the table leaves it out. */
        VtMigratePlanWhy why = c->action == VT_MIGRATE_PLAN_MOVE      ? VT_MIGRATE_PLAN_WHY_MOVE
                               : c->action == VT_MIGRATE_PLAN_MEASURE ? VT_MIGRATE_PLAN_WHY_MEASURE
                                                                      : c->why;

        vt_migrate_plan_config_init(&config);
        vt_migrate_plan_link_init(&link);
        if (c->tweak != NULL)
                c->tweak(&config, &link);
        while (n_guests < MAX_GUESTS && c->guests[n_guests].name != NULL)
                n_guests++;
        while (n_peers < MAX_PEERS && c->peers[n_peers].name != NULL)
                n_peers++;
        in = (VtMigratePlanInput){.host = &c->host,
                                  .guests = c->guests,
                                  .n_guests = n_guests,
                                  .peers = c->peers,
                                  .n_peers = n_peers,
                                  .link = &link,
                                  .now_us = NOW};
        vt_migrate_plan_decide(&in, &config, &d);
        g_test_message("%s: %s (%s): %s", c->name, vt_migrate_plan_action_to_string(d.action),
                       vt_migrate_plan_why_to_string(d.why), d.reason);

        g_assert_cmpstr(vt_migrate_plan_action_to_string(d.action), ==,
                        vt_migrate_plan_action_to_string(c->action));
        g_assert_cmpstr(vt_migrate_plan_why_to_string(d.why), ==,
                        vt_migrate_plan_why_to_string(why));
        g_assert_cmpstr(d.guest, ==, c->guest);
        g_assert_cmpstr(d.peer, ==, c->peer);
        if (c->guest != NULL)
                g_assert_cmpstr(c->guests[d.guest_index].name, ==, c->guest);
        else
                g_assert_cmpuint(d.guest_index, ==, VT_MIGRATE_PLAN_NONE_INDEX);
        if (c->peer != NULL)
                g_assert_cmpstr(c->peers[d.peer_index].name, ==, c->peer);
        else
                g_assert_cmpuint(d.peer_index, ==, VT_MIGRATE_PLAN_NONE_INDEX);
        if (c->action == VT_MIGRATE_PLAN_MOVE) {
                g_assert_true(d.cost.converges);
                g_assert_nonnull(strstr(d.reason, d.cost.reason));
        }
        if (c->window_us != 0)
                g_assert_cmpint(d.window_us, ==, c->window_us);
        if (c->reason != NULL && strstr(d.reason, c->reason) == NULL)
                g_error("%s: reason '%s' lacks '%s'", c->name, d.reason, c->reason);
}

/* Every code has a name, and an unknown one reads "unknown". */
static void
test_plan_names(void)
{
        for (guint i = 0; i < VT_MIGRATE_PLAN_WHY_MAX; i++)
                g_assert_cmpstr(vt_migrate_plan_why_to_string(i), !=, "unknown");
        for (guint i = 0; i < VT_MIGRATE_PLAN_ACTION_MAX; i++)
                g_assert_cmpstr(vt_migrate_plan_action_to_string(i), !=, "unknown");
        g_assert_cmpstr(vt_migrate_plan_why_to_string(VT_MIGRATE_PLAN_WHY_MAX), ==, "unknown");
        g_assert_cmpstr(vt_migrate_plan_action_to_string(VT_MIGRATE_PLAN_ACTION_MAX), ==,
                        "unknown");
}

/* The same snapshot twice gives the same decision, byte for byte: nothing
 * but the input shapes it. */
static void
test_plan_deterministic(void)
{
        const PlanCase *c = &plan_cases[0];
        VtMigratePlanConfig config;
        VtMigratePlanLink link;
        VtMigratePlanInput in;
        VtMigratePlanDecision d1, d2;

        vt_migrate_plan_config_init(&config);
        vt_migrate_plan_link_init(&link);
        in = (VtMigratePlanInput){.host = &c->host,
                                  .guests = c->guests,
                                  .n_guests = 2,
                                  .peers = c->peers,
                                  .n_peers = 1,
                                  .link = &link,
                                  .now_us = NOW};
        memset(&d1, 0xa5, sizeof(d1));
        memset(&d2, 0x5a, sizeof(d2));
        vt_migrate_plan_decide(&in, &config, &d1);
        vt_migrate_plan_decide(&in, &config, &d2);
        g_assert_cmpint(d1.action, ==, d2.action);
        g_assert_cmpstr(d1.reason, ==, d2.reason);
        g_assert_cmpfloat(d1.cost_per_byte, ==, d2.cost_per_byte);
        g_assert_cmpuint(d1.cost.bytes_sent, ==, d2.cost.bytes_sent);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        for (guint i = 0; i < G_N_ELEMENTS(plan_cases); i++) {
                g_autofree char *path = g_strdup_printf("/migrate/plan/%s", plan_cases[i].name);

                g_test_add_data_func(path, &plan_cases[i], test_plan_case);
        }
        g_test_add_func("/migrate/plan/names", test_plan_names);
        g_test_add_func("/migrate/plan/deterministic", test_plan_deterministic);
        return g_test_run();
}
