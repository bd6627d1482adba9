/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the balloon policies: vmtide's, and the MoM and Proxmox baselines. */
#include <math.h>
#include <string.h>

#include "balloon/balloon-policy.h"
#include "common/vt-size.h"

#define MiB        (G_GUINT64_CONSTANT(1) << 20)
#define MAX_GUESTS 4
#define MAX_STEPS  10

/* Where a guest's figures come from. */
typedef enum {
        SRC_AGENT,        /* agent and balloon stats, both fresh */
        SRC_STATS,        /* balloon stats only */
        SRC_STALE,        /* both 45 s old */
        SRC_NONE,         /* neither */
        SRC_NO_AVAILABLE, /* stats without stat-available-memory, no agent */
} Source;

/* One guest, in MiB. */
typedef struct {
        double boot;   /* 0: no guest */
        double actual; /* 0: boot */
        double used;   /* actual - MemAvailable, constant over the steps */
        double cache;  /* page cache: MemFree = MemAvailable - cache */
        Source src;
        guint32 flags;       /* added on the first step: PUSH, STUCK, MOVING */
        gboolean no_balloon; /* HAS_BALLOON off */
        double psi;          /* agent PSI some avg10 */
        double changed_ago;  /* s before the first step; 0: never */
        double target;       /* with MOVING: the move in flight; 0: to half of actual */
        /* its configuration */
        double min, max;
        guint shares;
        gboolean opt_out;
        double held; /* held by hand at this size (MiB); 0: not held */
        /* compressed swap (agent revision 2): either set makes the figures known */
        double zram;    /* MiB its zram holds, uncompressed; its pool takes a third */
        double swap_in; /* pages/s it swaps in */
} GuestSpec;

/* An expected action: 0 is "any". */
enum {
        X_ANY,
        X_NONE,
        X_GIVE,
        X_RECLAIM,
        X_SKIP,
};

typedef struct {
        int action;
        double lo, hi;      /* target in MiB, inclusive; 0, 0: any */
        const char *reason; /* a substring; NULL: any */
} Expect;

/* One decision: the host at @t, and what must come out. */
typedef struct {
        double t;     /* s */
        double avail; /* host MemAvailable at the first step's sizes, MiB; 0: 8192 */
        double psi_some, psi_full, swap_in;
        guint32 push;       /* guests (bits) whose agent pushes before this step */
        int state;          /* expected VtHostState + 1; 0: any */
        const char *reason; /* host reason substring; NULL ends the steps */
        Expect g[MAX_GUESTS];
        gboolean paused; /* automation paused for this decision */
} Step;

typedef struct {
        const char *policy;
        VtBalloonPolicyFunc decide;
        const char *name;
        double total;  /* host MemTotal, MiB; 0: 16384 */
        double budget; /* MiB; 0: none */
        GuestSpec guests[MAX_GUESTS];
        Step steps[MAX_STEPS];
} PolicyCase;

#define VMTIDE  "vmtide", vt_balloon_policy_decide
#define MOM     "mom", vt_balloon_policy_mom_decide
#define PROXMOX "proxmox", vt_balloon_policy_proxmox_decide

#define PLENTY   (VT_HOST_STATE_PLENTY + 1)
#define TIGHT    (VT_HOST_STATE_TIGHT + 1)
#define SHORT    (VT_HOST_STATE_SHORT + 1)
#define CRITICAL (VT_HOST_STATE_CRITICAL + 1)

#define PUSH      VT_BALLOON_GUEST_PRESSURE_PUSH
#define RECLAIMED VT_BALLOON_GUEST_LAST_RECLAIM
#define STUCK     VT_BALLOON_GUEST_STUCK
#define MOVING    VT_BALLOON_GUEST_MOVING

/* Expectations. */
#define NONE(r)                                                                                    \
        {                                                                                          \
                X_NONE, 0, 0, r                                                                    \
        }
#define SKIP(r)                                                                                    \
        {                                                                                          \
                X_SKIP, 0, 0, r                                                                    \
        }
#define GIVE(lo, hi, r)                                                                            \
        {                                                                                          \
                X_GIVE, lo, hi, r                                                                  \
        }
#define RECLAIM(lo, hi, r)                                                                         \
        {                                                                                          \
                X_RECLAIM, lo, hi, r                                                               \
        }

/*
 * With the defaults and a 1536 MiB budget (three 512 MiB guests): lines at
 * 230.4 (plenty), 153.6 (tight) and 76.8 MiB (short) of guest free memory,
 * hysteresis 46.08 MiB; a 512 MiB guest's headroom is 76.8 MiB, its
 * minimum 128 MiB, its steps 25.6 / 51.2 / 102.4 MiB.
 */
static const PolicyCase policy_cases[] = {
    /* vmtide: guests under pressure */
    {VMTIDE, "pressure-push-one-step-to-max", .budget = 1536,
     .guests = {{512, 256, 230, .flags = PUSH}, {512, 256, 100}, {512, 256, 100}},
     .steps = {{.state = PLENTY,
                .reason = "plenty: guest free 768 MiB, 50.0 % of the budget",
                .g = {GIVE(512, 512, "pressure (agent push): give 256 MiB -> 512 MiB"),
                      NONE("plenty: spare"), NONE("plenty: spare")}}}},
    /* A push while the guest's own reclaim settles, with its headroom
     * left, is the balloon inflating, not pressure. */
    {VMTIDE, "push-during-reclaim-is-not-pressure", .budget = 1536,
     .guests = {{512, 300, 200, .flags = PUSH | RECLAIMED, .changed_ago = 1},
                {512, 256, 100},
                {512, 256, 100}},
     .steps = {{.state = PLENTY,
                .reason = "plenty",
                .g = {NONE("settling"), NONE("plenty: spare"), NONE("plenty: spare")}}}},
    /* ... and with less, it is. */
    {VMTIDE, "push-during-reclaim-low-is-pressure", .budget = 1536,
     .guests = {{512, 300, 240, .flags = PUSH | RECLAIMED, .changed_ago = 1},
                {512, 256, 100},
                {512, 256, 100}},
     .steps = {{.state = PLENTY,
                .reason = "plenty",
                .g = {GIVE(512, 512, "pressure (agent push): give 300 MiB -> 512 MiB")}}}},
    /* A give under way to about the same size is not asked for again as
     * the balloon deflates (each update would otherwise re-decide it). */
    {VMTIDE, "pressure-give-on-its-way", .budget = 1536,
     .guests = {{512, 300, 290, .flags = PUSH | MOVING, .target = 500},
                {512, 256, 100},
                {512, 256, 100}},
     .steps = {{.state = PLENTY,
                .reason = "plenty",
                .g = {NONE("pressure (agent push): on its way to 500 MiB")}}}},
    /* Two MiB short of its maximum: not worth a balloon command per push. */
    {VMTIDE, "pressure-few-mib-left", .budget = 1536,
     .guests = {{512, 510, 500, .flags = PUSH}, {512, 256, 100}, {512, 256, 100}},
     .steps = {{.state = PLENTY,
                .reason = "plenty",
                .g = {NONE("pressure (agent push), only 2 MiB more to give")}}}},
    /* A push otherwise is pressure, headroom or not: the guest's use grows
     * fast, and the memory has to be there before it runs out. */
    {VMTIDE, "push-with-headroom-is-pressure", .budget = 1536,
     .guests = {{512, 300, 200, .flags = PUSH}, {512, 256, 100}, {512, 256, 100}},
     .steps = {{.state = PLENTY,
                .reason = "plenty",
                .g = {GIVE(512, 512, "pressure (agent push): give 300 MiB -> 512 MiB")}}}},
    {VMTIDE, "pressure-agent-psi", .budget = 1536,
     .guests = {{512, 300, 100, .psi = 25}, {512, 256, 100}, {512, 256, 100}},
     .steps = {{.state = PLENTY,
                .reason = "plenty",
                .g = {GIVE(512, 512, "pressure (PSI some 25.0 %): give 300 MiB -> 512 MiB")}}}},
    {VMTIDE, "pressure-low-available", .budget = 1536,
     .guests = {{512, 300, 290}, {512, 256, 100}, {512, 256, 100}},
     .steps = {{.state = PLENTY,
                .reason = "plenty",
                .g = {GIVE(512, 512,
                           "pressure (available 10 MiB < 5 % of 300 MiB): give 300 MiB -> "
                           "512 MiB")}}}},
    /* free 112 MiB: 35.2 above the critical line, plus a 51.2 MiB step
     * reclaimed from the spare guest in the same decision */
    {VMTIDE, "pressure-host-short-free-plus-reclaim", .budget = 1536,
     .guests = {{512, 400, 370, .flags = PUSH}, {512, 512, 100}, {512, 512, 450}},
     .steps = {{.state = SHORT,
                .reason = "short: guest free 112 MiB, 7.3 % of the budget < 10 %",
                .g = {GIVE(486, 487, "all the host can; max 512 MiB"),
                      RECLAIM(460, 461, "short: spare 335 MiB, reclaim 51 MiB step"),
                      NONE("has what it wants")}}}},
    {VMTIDE, "pressure-ignores-settling", .budget = 1536,
     .guests = {{512, 256, 230, .flags = PUSH | MOVING}, {512, 256, 100}, {512, 256, 100}},
     .steps = {{.state = PLENTY, .reason = "plenty", .g = {GIVE(512, 512, "pressure")}}}},
    {VMTIDE, "pressure-stays-at-max", .budget = 1536,
     .guests = {{512, 256, 200, .psi = 30}, {512, 256, 100}, {512, 256, 100}},
     .steps = {{.state = PLENTY, .reason = "plenty", .g = {GIVE(512, 512, "pressure")}},
               {.t = 1,
                .state = PLENTY,
                .reason = "plenty",
                .g = {NONE("pressure (PSI some 30.0 %), already at its maximum")}}}},
    {VMTIDE, "pressure-at-max", .budget = 1536,
     .guests = {{512, 512, 500, .flags = PUSH}, {512, 256, 100}, {512, 256, 100}},
     .steps = {{.reason = "", .g = {NONE("pressure (agent push), already at its maximum 512")}}}},
    {VMTIDE, "pressure-host-has-nothing", .budget = 1536,
     .guests = {{512, 450, 440}, {512, 512, 480}, {512, 512, 480}},
     .steps = {{.state = CRITICAL,
                .reason = "critical: guest free 62 MiB",
                .g = {NONE("pressure (available 10 MiB < 5 % of 450 MiB), but the host has "
                           "nothing to give"),
                      NONE("has what it wants"), NONE("has what it wants")}}}},
    {VMTIDE, "pressure-move-in-flight", .budget = 1536,
     .guests = {{512, 256, 200, .flags = MOVING, .psi = 30, .target = 512}, {512, 256, 100}},
     .steps = {{.state = PLENTY,
                .reason = "plenty",
                .g = {NONE("pressure (PSI some 30.0 %): on its way to 512 MiB")}}}},
    /* two guests under pressure share what there is by shares */
    {VMTIDE, "pressure-competes-by-shares", .budget = 1536,
     .guests = {{512, 400, 390, .shares = 3000}, {512, 400, 390}, {512, 512, 480}},
     .steps = {{.state = TIGHT,
                .reason = "tight: guest free 224 MiB",
                .g = {GIVE(510, 512, "all the host can"), GIVE(436, 438, "all the host can"),
                      NONE("")}}}},

    /* vmtide: plenty */
    {VMTIDE, "plenty-no-reclaim", .budget = 1536,
     .guests = {{512, 512, 100}, {512, 300, 100}, {512, 300, 100}},
     .steps = {{.state = PLENTY,
                .reason = "plenty: guest free 424 MiB, 27.6 % of the budget >= 15 %",
                .g = {NONE("plenty: spare 335 MiB, kept"), NONE("plenty: spare"),
                      NONE("plenty: spare")}}}},
    {VMTIDE, "plenty-gives-back-what-is-wanted", .budget = 1536,
     .guests = {{512, 200, 180}, {512, 300, 250}, {512, 300, 100}},
     .steps = {{.state = PLENTY,
                .reason = "plenty",
                .g = {GIVE(256, 257, "plenty: wants 257 MiB, give back 200 MiB -> 257 MiB"),
                      GIVE(326, 327, "plenty: wants 327 MiB, give back"),
                      NONE("plenty: spare 123 MiB, kept")}}}},
    /* only 75 MiB above the plenty line for two guests wanting 53.6 each:
     * 2:1 by shares */
    {VMTIDE, "shares-when-two-compete", .budget = 1500,
     .guests = {{1024, 600, 500, .shares = 2000}, {1024, 600, 500}},
     .steps = {{.state = PLENTY,
                .reason = "plenty: guest free 300 MiB, 20.0 %",
                .g = {GIVE(649, 651, "its share of free memory"),
                      GIVE(624, 626, "its share of free memory")}}}},
    {VMTIDE, "min-change", .budget = 1536,
     .guests = {{512, 300, 233.2}, {512, 300, 100}, {512, 300, 100}},
     .steps = {{.state = PLENTY,
                .reason = "plenty",
                .g = {NONE("10 MiB more is under the 16 MiB minimum change")}}}},

    /* vmtide: reclaim */
    {VMTIDE, "tight-bounded-step-not-below-want", .budget = 1536,
     .guests = {{512, 480, 200}, {512, 450, 400}, {512, 400, 350}},
     .steps = {{.state = TIGHT,
                .reason = "tight: guest free 206 MiB, 13.4 % of the budget < 15 %",
                .g = {RECLAIM(454, 455, "tight: spare 203 MiB, reclaim 26 MiB step"),
                      NONE("tight: wants 477 MiB, nothing free above the plenty line"),
                      NONE("tight: wants 427 MiB, nothing free")}},
               {.t = 2, .state = TIGHT, .reason = "tight", .g = {NONE("settling: changed 2.0 s")}},
               {.t = 4,
                .state = TIGHT,
                .reason = "tight: guest free 232 MiB, 15.1 % of the budget, back to plenty at 18 %",
                .g = {RECLAIM(428, 430, "tight: spare")}},
               /* free is above the plenty line, still within the hysteresis:
                * what is above the line goes to the needy, the spare guest
                * keeps giving until free passes the line + hysteresis */
               /* free is above the plenty line, still within the hysteresis:
                * what is above the line goes to the needy (too little for
                * two: one takes it, the other's turn comes next), while the
                * spare guest gives until free passes the line + hysteresis */
               {.t = 8,
                .state = TIGHT,
                .reason = "tight",
                .g = {RECLAIM(403, 404, "tight: spare 152 MiB"),
                      GIVE(476, 477, "tight: wants 477 MiB, give back 450 MiB -> 477 MiB"),
                      NONE("nothing free above the plenty line")}},
               {.t = 12,
                .state = TIGHT,
                .reason = "tight",
                .g = {RECLAIM(377, 378, "tight: spare"), NONE("has what it wants"),
                      GIVE(425, 426, "its share of free memory")}},
               {.t = 16,
                .state = TIGHT,
                .reason = "tight",
                .g = {RECLAIM(355, 356, "reclaim 22 MiB step"), NONE(""),
                      NONE("1 MiB more is under the 16 MiB minimum change")}},
               {.t = 20,
                .state = PLENTY,
                .reason = "plenty: guest free 278 MiB, 18.1 % of the budget >= 15 %",
                .g = {NONE("plenty: spare 79 MiB, kept"), NONE("has what it wants"),
                      NONE("minimum change")}},
               {.t = 30,
                .state = PLENTY,
                .reason = "plenty",
                .g = {NONE(""), NONE(""), NONE("")}}}},
    {VMTIDE, "short-bigger-step", .budget = 1536,
     .guests = {{512, 512, 100}, {512, 512, 450}, {512, 420, 380}},
     .steps = {{.state = SHORT,
                .reason = "short: guest free 92 MiB",
                .g = {RECLAIM(460, 461, "short: spare 335 MiB, reclaim 51 MiB step")}}}},
    {VMTIDE, "critical-biggest-step", .budget = 1536,
     .guests = {{512, 512, 100}, {512, 512, 450}, {512, 476, 420}},
     .steps = {{.state = CRITICAL,
                .reason = "critical: guest free 36 MiB, 2.3 % of the budget < 5 %",
                .g = {RECLAIM(409, 410, "critical: spare 335 MiB, reclaim 102 MiB step"),
                      NONE("has what it wants"), NONE("critical: wants 497 MiB")}}}},
    /* spare is shared in proportion to spare / shares, up to the step:
     * 206 MiB to reclaim, g0 (fewest shares) gives its whole step */
    {VMTIDE, "reclaim-spread-by-spare-and-shares", .budget = 1536,
     .guests = {{512, 500, 100, .shares = 500}, {512, 500, 100, .shares = 2000}, {512, 466, 100}},
     .steps = {{.state = CRITICAL,
                .reason = "critical: guest free 70 MiB",
                .g = {RECLAIM(397, 398, "critical: spare 323 MiB, reclaim 102 MiB step"),
                      RECLAIM(462, 463.5, "critical: spare 323 MiB, reclaim 37 MiB step"),
                      RECLAIM(398.5, 400, "critical: spare 289 MiB, reclaim 67 MiB step")}}}},
    {VMTIDE, "critical-never-below-min", .budget = 1536,
     .guests = {{512, 512, 100, .min = 480}, {512, 512, 450}, {512, 476, 420}},
     .steps = {{.state = CRITICAL,
                .reason = "critical",
                .g = {RECLAIM(480, 480, "critical: spare 32 MiB, reclaim 32 MiB step")}}}},
    {VMTIDE, "spare-under-min-change", .budget = 1536,
     .guests = {{512, 357, 270}, {512, 512, 480}, {512, 512, 480}},
     .steps = {{.state = TIGHT,
                .reason = "tight",
                .g = {NONE("tight: spare 10 MiB, under the 16 MiB minimum change")}}}},
    {VMTIDE, "never-above-policy-max", .budget = 1536,
     .guests = {{512, 300, 280, .flags = PUSH, .max = 400}, {512, 256, 100}, {512, 256, 100}},
     .steps = {{.state = PLENTY,
                .reason = "plenty",
                .g = {GIVE(400, 400, "pressure (agent push): give 300 MiB -> 400 MiB")}}}},
    {VMTIDE, "above-max-brought-down", .budget = 1536,
     .guests = {{512, 512, 100, .max = 400}, {512, 256, 100}, {512, 256, 100}},
     .steps = {{.state = PLENTY,
                .reason = "plenty",
                .g = {RECLAIM(400, 400,
                              "above its maximum 400 MiB: reclaim 512 MiB -> 400 MiB")}}}},
    {VMTIDE, "below-min-brought-up", .budget = 1536,
     .guests = {{512, 200, 100, .min = 300}, {512, 256, 100}, {512, 256, 100}},
     .steps = {{.state = PLENTY,
                .reason = "plenty",
                .g = {GIVE(300, 300, "below its minimum 300 MiB: give 200 MiB -> 300 MiB")}}}},

    /* vmtide: the host state */
    {VMTIDE, "budget-makes-host-tight", .total = 65536, .budget = 1536,
     .guests = {{512, 480, 200}, {512, 450, 400}, {512, 400, 350}},
     .steps = {{.avail = 32768,
                .state = TIGHT,
                .reason = "tight: guest free 206 MiB, 13.4 % of the budget < 15 %",
                .g = {RECLAIM(454, 455, "tight")}}}},
    {VMTIDE, "no-budget-memtotal-reference", .total = 4096, .guests = {{512, 512, 100}},
     .steps = {{.avail = 256 + 500,
                .state = TIGHT,
                .reason = "tight: guest free 500 MiB, 12.2 % of MemTotal < 15 %",
                .g = {RECLAIM(486, 487, "tight")}}}},
    /* 4096 MiB host, 256 MiB reserve: lines at 614.4 / 409.6 / 204.8 MiB
     * of free, hysteresis 122.88 */
    {VMTIDE, "hysteresis", .total = 4096, .guests = {{512, 512, 440}},
     .steps = {{.avail = 256 + 700, .state = PLENTY, .reason = "plenty: guest free 700 MiB"},
               {.t = 2, .avail = 256 + 600, .state = TIGHT, .reason = "tight: guest free 600 MiB"},
               {.t = 4,
                .avail = 256 + 700,
                .state = TIGHT,
                .reason = "tight: guest free 700 MiB, 17.1 % of MemTotal, back to plenty at 18 %"},
               {.t = 6, .avail = 256 + 740, .state = PLENTY, .reason = "plenty"},
               {.t = 8, .avail = 256 + 100, .state = CRITICAL, .reason = "critical"},
               {.t = 10,
                .avail = 256 + 300,
                .state = CRITICAL,
                .reason = "critical: guest free 300 MiB, 7.3 % of MemTotal, back to short at 8 %"},
               {.t = 12,
                .avail = 256 + 340,
                .state = SHORT,
                .reason = "short: guest free 340 MiB, 8.3 % of MemTotal < 10 %"},
               {.t = 13,
                .avail = 256 + 420,
                .state = SHORT,
                .reason = "short: guest free 420 MiB, 10.3 % of MemTotal, back to tight at 13 %"},
               {.t = 14,
                .avail = 256 + 800,
                .state = PLENTY,
                .reason = "plenty",
                .g = {NONE("has what it wants")}}}},
    {VMTIDE, "host-psi-forces-short", .total = 16384, .guests = {{512, 512, 100}, {512, 256, 100}},
     .steps = {{.avail = 12000,
                .psi_some = 15,
                .state = SHORT,
                .reason = "short: host memory PSI some 15.0 % >= 10.0 %",
                .g = {RECLAIM(460, 461, "short: spare 335 MiB, reclaim 51 MiB step"),
                      RECLAIM(204, 205, "short: spare 79 MiB, reclaim 51 MiB step")}},
               /* PSI gone: back by the lines, at once, as free is ample */
               {.t = 4,
                .avail = 12000,
                .state = PLENTY,
                .reason = "plenty",
                .g = {NONE("plenty: spare"), NONE("plenty: spare")}}}},
    {VMTIDE, "host-psi-full-critical", .total = 16384, .guests = {{512, 512, 100}},
     .steps = {{.avail = 12000,
                .psi_full = 8,
                .state = CRITICAL,
                .reason = "critical: host memory PSI full 8.0 % >= 5.0 %",
                .g = {RECLAIM(409, 410, "critical")}}}},
    {VMTIDE, "host-swap-in-tight", .total = 16384, .guests = {{512, 512, 100}},
     .steps = {{.avail = 12000,
                .swap_in = 1000,
                .state = TIGHT,
                .reason = "tight: host swapping in 1000 pages/s >= 256",
                .g = {RECLAIM(486, 487, "tight")}}}},
    {VMTIDE, "host-psi-nan-ignored", .total = 16384, .guests = {{512, 512, 100}},
     .steps = {{.avail = 12000,
                .psi_some = NAN,
                .psi_full = NAN,
                .state = PLENTY,
                .reason = "plenty",
                .g = {NONE("plenty: spare")}}}},

    /* vmtide: guests left alone */
    {VMTIDE, "stale-stats-skip", .budget = 1536,
     .guests = {{512, 512, 100, .src = SRC_STALE}, {512, 512, 450}, {512, 476, 420}},
     .steps = {{.state = CRITICAL, .reason = "critical", .g = {SKIP("stats stale (45 s)")}}}},
    {VMTIDE, "no-stats-skip", .budget = 1536,
     .guests = {{512, 512, 100, .src = SRC_NONE}, {512, 512, 450}, {512, 476, 420}},
     .steps = {{.state = CRITICAL, .reason = "critical", .g = {SKIP("no stats")}}}},
    {VMTIDE, "stats-without-available-skip", .budget = 1536,
     .guests = {{512, 512, 100, .src = SRC_NO_AVAILABLE}, {512, 512, 450}, {512, 476, 420}},
     .steps = {{.state = CRITICAL,
                .reason = "critical",
                .g = {SKIP("no MemAvailable in the balloon stats")}}}},
    {VMTIDE, "balloon-stats-alone-suffice", .budget = 1536,
     .guests = {{512, 512, 100, .src = SRC_STATS}, {512, 512, 450}, {512, 476, 420}},
     .steps = {{.state = CRITICAL, .reason = "critical", .g = {RECLAIM(409, 410, "critical")}}}},
    {VMTIDE, "stuck-skip", .budget = 1536,
     .guests = {{512, 512, 100, .flags = STUCK}, {512, 512, 450}, {512, 476, 420}},
     .steps = {{.state = CRITICAL, .reason = "critical", .g = {SKIP("balloon stuck")}}}},
    {VMTIDE, "unreachable-skip", .budget = 1536,
     .guests = {{512, 512, 100, .flags = VT_BALLOON_GUEST_UNREACHABLE},
                {512, 512, 450},
                {512, 476, 420}},
     .steps = {{.state = CRITICAL, .reason = "critical", .g = {SKIP("unreachable")}}}},
    {VMTIDE, "no-balloon-skip", .budget = 1536,
     .guests = {{512, 512, 100, .no_balloon = TRUE}, {512, 512, 450}, {512, 476, 420}},
     .steps = {{.state = CRITICAL, .reason = "critical", .g = {SKIP("no balloon")}}}},
    {VMTIDE, "opt-out-skip", .budget = 1536,
     .guests = {{512, 512, 100, .opt_out = TRUE}, {512, 512, 450}, {512, 476, 420}},
     .steps = {{.state = CRITICAL, .reason = "critical", .g = {SKIP("opted out")}}}},
    {VMTIDE, "moving-and-settling-none", .budget = 1536,
     .guests = {{512, 512, 100, .flags = MOVING},
                {512, 512, 100, .changed_ago = 1},
                {512, 476, 420}},
     .steps = {{.state = CRITICAL,
                .reason = "critical",
                .g = {NONE("settling: move to"), NONE("settling: changed 1.0 s ago"),
                      NONE("critical: wants")}},
               {.t = 3.5,
                .state = CRITICAL,
                .reason = "critical",
                .g = {RECLAIM(409, 410, "critical"), RECLAIM(409, 410, "critical")}}}},
    /* MemAvailable counts the page cache: a guest full of cache is spare */
    {VMTIDE, "page-cache-is-available", .budget = 1536,
     .guests = {{512, 512, 100, 400}, {512, 512, 450}, {512, 420, 380}},
     .steps = {{.state = SHORT, .reason = "short", .g = {RECLAIM(460, 461, "short: spare")}}}},
    {VMTIDE, "idle-guest-not-grown", .budget = 1536, .guests = {{512, 256, 50}},
     .steps = {{.state = PLENTY, .reason = "plenty", .g = {NONE("plenty: spare")}}}},
    {VMTIDE, "busy-guest-grown-idle-not", .budget = 1536,
     .guests = {{512, 256, 50}, {512, 256, 200}},
     .steps = {{.state = PLENTY,
                .reason = "plenty",
                .g = {NONE("plenty: spare"), GIVE(276, 277, "plenty: wants 277 MiB")}}}},

    /* MoM: host free 6 % of the budget (< 20 %): shrink 5 % a tick toward
     * used (by MemFree) + 6 % */
    /* every guest, busy or idle, by its used-by-MemFree figure */
    {MOM, "shrinks-5-percent-a-tick", .budget = 1536,
     .guests = {{512, 512, 100}, {512, 512, 450}, {512, 420, 380}},
     .steps = {{.state = TIGHT,
                .reason = "mom: host free 6.0 % < 20 %: shrink every guest",
                .g = {RECLAIM(486, 487, "mom: shrink 512 MiB -> 486 MiB (used 100 MiB"),
                      RECLAIM(486, 487, "mom: shrink 512 MiB -> 486 MiB (used 450 MiB"),
                      RECLAIM(405, 406, "mom: shrink 420 MiB -> 405 MiB")}},
               {.t = 5,
                .state = TIGHT,
                .reason = "mom: tight, next tick in 5 s",
                .g = {NONE("mom: waits for its tick")}},
               {.t = 10,
                .state = TIGHT,
                .reason = "mom: host free 10.3 %",
                .g = {RECLAIM(462, 463, "mom: shrink 486 MiB -> 462 MiB")}}}},
    /* the same guest with its free memory in page cache: MoM counts it as
     * used and keeps it (vmtide reclaims it: page-cache-is-available) */
    {MOM, "page-cache-counts-as-used", .budget = 1536,
     .guests = {{512, 512, 100, 400}, {512, 512, 450}, {512, 420, 380}},
     .steps = {{.state = TIGHT,
                .reason = "mom: host free 6.0 %",
                .g = {NONE("mom: no shrink: used 500 MiB by MemFree")}}}},
    /* critical: the floor goes under what the guest uses */
    {MOM, "critical-squeezes-under-use", .budget = 1536,
     .guests = {{512, 512, 505}, {512, 512, 450}, {512, 476, 420}},
     .steps = {{.state = CRITICAL,
                .reason = "(critical): shrink every guest",
                .g = {RECLAIM(490, 492, "mom: shrink 512 MiB -> 491 MiB (used 505 MiB")}}}},
    /* no pressure: every guest below its maximum grows 5 % a tick, needed
     * or not (vmtide: idle-guest-not-grown) */
    {MOM, "grows-every-guest", .budget = 1536, .guests = {{512, 256, 50}},
     .steps = {{.state = PLENTY,
                .reason = "mom: host free 83.3 % >= 20 %: grow every guest",
                .g = {GIVE(268, 269, "mom: grow 256 MiB -> 269 MiB (5 % a tick)")}},
               {.t = 10, .state = PLENTY, .reason = "grow", .g = {GIVE(282, 283, "5 % a tick")}}}},
    {MOM, "grows-to-used-plus-20-percent", .budget = 1536, .guests = {{512, 256, 240}},
     .steps = {{.state = PLENTY,
                .reason = "grow",
                .g = {GIVE(291, 292, "(to used by MemFree + 20 % free)")}}}},
    /* the agent pushed (vmtide: pressure-host-short-free-plus-reclaim
     * gives it memory at once): MoM shrinks it with the others */
    {MOM, "ignores-push", .budget = 1536,
     .guests = {{512, 400, 300, .flags = PUSH}, {512, 512, 100}, {512, 512, 450}},
     .steps = {{.state = TIGHT,
                .reason = "shrink",
                .g = {RECLAIM(380, 380, "mom: shrink 400 MiB -> 380 MiB"),
                      RECLAIM(486, 487, "mom: shrink")}}}},
    {MOM, "skips", .budget = 1536,
     .guests = {{512, 512, 100, .opt_out = TRUE},
                {512, 512, 100, .src = SRC_STALE},
                {512, 512, 100, .flags = STUCK},
                {512, 512, 100, .src = SRC_NONE}},
     .steps = {{.reason = "mom",
                .g = {SKIP("opted out"), SKIP("stats stale (45 s)"), SKIP("balloon stuck"),
                      SKIP("no stats")}}}},
    {MOM, "respects-min", .budget = 1536,
     .guests = {{512, 512, 100, .min = 500}, {512, 512, 450}, {512, 420, 380}},
     .steps = {{.state = TIGHT,
                .reason = "shrink",
                .g = {RECLAIM(500, 500, "mom: shrink 512 MiB -> 500 MiB")}}}},

    /* Proxmox: goal = 80 % of 1536 - used; 100 MiB a guest a tick */
    /* g0 is short of MemFree: it grows first, 100 MiB a tick, however
     * short it is (vmtide: pressure-low-available, one step); once not
     * short it gets its shares' part like the others */
    {PROXMOX, "grows-100-mib-a-tick", .budget = 1536,
     .guests = {{512, 256, 246}, {512, 256, 100}, {512, 256, 100}},
     .steps = {{.state = PLENTY,
                .reason = "proxmox: host use 50.0 % of 1.5 GiB, goal 80 %: grow by 461 MiB",
                .g = {GIVE(356, 356, "proxmox: grow 256 MiB -> 356 MiB"),
                      NONE("proxmox: no change"), NONE("proxmox: no change")}},
               {.t = 5,
                .state = PLENTY,
                .reason = "next tick in 5 s",
                .g = {NONE("proxmox: waits for its tick")}},
               {.t = 10,
                .state = PLENTY,
                .reason = "grow by 361 MiB",
                .g = {GIVE(409, 410, "grow 356 MiB -> 410 MiB"), GIVE(356, 356, "grow"),
                      GIVE(356, 356, "grow")}},
               {.t = 20,
                .state = PLENTY,
                .reason = "grow by 107 MiB",
                .g = {NONE("no change"), GIVE(409, 410, "grow"), GIVE(409, 410, "grow")}}}},
    /* neither guest is short of MemFree: both grow alike, needed or not
     * (vmtide: busy-guest-grown-idle-not) */
    {PROXMOX, "grow-ignores-need", .budget = 1536, .guests = {{512, 256, 50}, {512, 256, 200}},
     .steps = {{.state = PLENTY,
                .reason = "grow",
                .g = {GIVE(356, 356, "proxmox: grow"), GIVE(356, 356, "proxmox: grow")}}}},
    {PROXMOX, "shrinks-guests-with-free-memory-first", .budget = 1536,
     .guests = {{512, 512, 480}, {512, 512, 100}, {512, 512, 100}},
     .steps = {{.state = TIGHT,
                .reason = "proxmox: host use 100.0 % of 1.5 GiB, goal 80 %: shrink by 307 MiB",
                .g = {NONE("proxmox: no change"), RECLAIM(412, 412, "proxmox: shrink"),
                      RECLAIM(412, 412, "proxmox: shrink")}}}},
    {PROXMOX, "within-10-mib-nothing", .budget = 1536,
     .guests = {{512, 400, 100}, {512, 400, 100}, {512, 429, 100}},
     .steps = {{.state = PLENTY,
                .reason = "nothing to do",
                .g = {NONE("no change"), NONE("no change"), NONE("no change")}}}},
    {PROXMOX, "ignores-push", .budget = 1536,
     .guests = {{512, 400, 300, .flags = PUSH}, {512, 400, 100}, {512, 429, 100}},
     .steps = {{.reason = "nothing to do", .g = {NONE("no change")}}}},
    {PROXMOX, "skips", .budget = 1536,
     .guests = {{512, 512, 100, .opt_out = TRUE},
                {512, 512, 100, .src = SRC_STALE},
                {512, 512, 100, .no_balloon = TRUE},
                {512, 512, 100, .src = SRC_NONE}},
     .steps = {{.reason = "proxmox",
                .g = {SKIP("opted out"), SKIP("stats stale (45 s)"), SKIP("no balloon"),
                      SKIP("no stats")}}}},

    /* Held by hand and paused: inputs of every policy (vt_balloon_decide()).
     * A guest held by hand is skipped before anything else, opted out
     * included, its size in whole MiB; paused, a move is shown, not made. */
    {VMTIDE, "held-by-hand", .budget = 1536,
     .guests = {{512, 256, 230, .flags = PUSH, .held = 256},
                {512, 256, 100, .opt_out = TRUE, .held = 300},
                {512, 256, 100}},
     .steps = {{.state = PLENTY,
                .reason = "plenty",
                .g = {SKIP("held by hand at 256 MiB"), SKIP("held by hand at 300 MiB"),
                      NONE("plenty: spare")}}}},
    {VMTIDE, "paused", .budget = 1536,
     .guests = {{512, 256, 230, .flags = PUSH}, {512, 256, 100}, {512, 256, 100}},
     .steps = {{.state = PLENTY,
                .reason = "plenty: guest free 768 MiB, 50.0 % of the budget",
                .paused = TRUE,
                .g = {NONE("paused; would give: pressure (agent push): give 256 MiB -> 512 MiB"),
                      NONE("plenty: spare"), NONE("plenty: spare")}},
               {.t = 2,
                .push = 1,
                .state = PLENTY,
                .reason = "plenty",
                .g = {GIVE(512, 512, "pressure (agent push): give 256 MiB -> 512 MiB")}}}},
    {VMTIDE, "paused-reclaim", .budget = 1536,
     .guests = {{512, 512, 100}, {512, 512, 450}, {512, 476, 420}},
     .steps = {{.state = CRITICAL,
                .reason = "critical: guest free 36 MiB, 2.3 % of the budget < 5 %",
                .paused = TRUE,
                .g = {NONE("paused; would reclaim: critical: spare 335 MiB, reclaim 102 MiB "
                           "step: 512 MiB -> 410 MiB"),
                      NONE("has what it wants"), NONE("critical: wants 497 MiB")}}}},
    /* The floor: a maximum of 1 byte (accepted by 0f17efb's config, CLI
     * and metadata) must not balloon a guest to nothing. Every policy keeps
     * 64 MiB (VT_BALLOON_FLOOR). */
    {VMTIDE, "max-1-byte", .budget = 1536,
     .guests = {{512, 512, 100, .max = 1.0 / 1048576}, {512, 512, 450}, {512, 476, 420}},
     .steps = {{.reason = "critical", .g = {RECLAIM(64, 64, "above its maximum 64 MiB")}}}},
    {VMTIDE, "min-1-byte", .budget = 1536,
     .guests = {{512, 512, 40, .min = 1.0 / 1048576}, {512, 512, 450}, {512, 476, 420}},
     .steps = {{.reason = "", .g = {{X_ANY, 64, 512, NULL}}},
               {.t = 60, .reason = "", .g = {{X_ANY, 64, 512, NULL}}},
               {.t = 120, .reason = "", .g = {{X_ANY, 64, 512, NULL}}},
               {.t = 180, .reason = "", .g = {{X_ANY, 64, 512, NULL}}}}},
    {MOM, "max-1-byte", .budget = 1536,
     .guests = {{512, 512, 100, .max = 1.0 / 1048576}, {512, 512, 450}, {512, 420, 380}},
     .steps = {{.reason = "mom", .g = {{X_ANY, 64, 512, NULL}}}}},
    {PROXMOX, "max-1-byte", .budget = 1536,
     .guests = {{512, 512, 100, .max = 1.0 / 1048576}, {512, 512, 450}, {512, 420, 380}},
     .steps = {{.reason = "proxmox", .g = {{X_ANY, 64, 512, NULL}}}}},
    /* A budget far above the machine (total = 4P on a 16 GiB host) is no
     * reference: half the host free is plenty, not "0.0 % of the budget". */
    {VMTIDE, "budget-above-host", .budget = 4.0 * 1024 * 1024 * 1024,
     .guests = {{512, 512, 100}, {512, 512, 450}, {512, 476, 420}},
     .steps = {{.state = PLENTY, .reason = "% of MemTotal", .g = {NONE(NULL)}}}},
    {VMTIDE, "held-and-paused", .budget = 1536,
     .guests = {{512, 256, 230, .flags = PUSH, .held = 2048}, {512, 256, 230, .flags = PUSH}},
     .steps = {{.state = PLENTY,
                .reason = "plenty",
                .paused = TRUE,
                .g = {SKIP("held by hand at 2048 MiB"),
                      NONE(
                          "paused; would give: pressure (agent push): give 256 MiB -> 512 MiB")}}}},
    {MOM, "held-by-hand", .budget = 1536,
     .guests = {{512, 512, 100, .held = 400}, {512, 512, 450}, {512, 420, 380}},
     .steps = {{.state = TIGHT,
                .reason = "mom: host free 6.0 % < 20 %: shrink every guest",
                .g = {SKIP("held by hand at 400 MiB"),
                      RECLAIM(486, 487, "mom: shrink 512 MiB -> 486 MiB (used 450 MiB"),
                      RECLAIM(405, 406, "mom: shrink 420 MiB -> 405 MiB")}},
               /* between its ticks too */
               {.t = 5,
                .state = TIGHT,
                .reason = "mom: tight, next tick in 5 s",
                .g = {SKIP("held by hand at 400 MiB"), NONE("mom: waits for its tick"),
                      NONE("mom: waits for its tick")}}}},
    {MOM, "paused", .budget = 1536, .guests = {{512, 512, 100}, {512, 512, 450}, {512, 420, 380}},
     .steps = {{.state = TIGHT,
                .reason = "mom: host free 6.0 % < 20 %: shrink every guest",
                .paused = TRUE,
                .g = {NONE("paused; would reclaim: mom: shrink 512 MiB -> 486 MiB (used 100 MiB"),
                      NONE("paused; would reclaim: mom: shrink 512 MiB -> 486 MiB (used 450 MiB"),
                      NONE("paused; would reclaim: mom: shrink 420 MiB -> 405 MiB")}},
               {.t = 10,
                .state = TIGHT,
                .reason = "mom: host free 6.0 % < 20 %: shrink every guest",
                .g = {RECLAIM(486, 487, "mom: shrink 512 MiB -> 486 MiB (used 100 MiB")}}}},
    {MOM, "held-and-paused", .budget = 1536,
     .guests = {{512, 512, 100, .held = 512}, {512, 512, 450, .opt_out = TRUE}, {512, 420, 380}},
     .steps = {{.state = TIGHT,
                .reason = "mom: host free 6.0 % < 20 %: shrink every guest",
                .paused = TRUE,
                .g = {SKIP("held by hand at 512 MiB"), SKIP("opted out"),
                      NONE("paused; would reclaim: mom: shrink 420 MiB -> 405 MiB")}}}},
    {PROXMOX, "held-by-hand", .budget = 1536,
     .guests = {{512, 256, 246, .held = 256}, {512, 256, 100}, {512, 256, 100}},
     .steps = {{.state = PLENTY,
                .reason = "proxmox: host use 50.0 % of 1.5 GiB, goal 80 %: grow by 461 MiB",
                .g = {SKIP("held by hand at 256 MiB"), GIVE(356, 356, "proxmox: grow"),
                      GIVE(356, 356, "proxmox: grow")}},
               {.t = 5,
                .state = PLENTY,
                .reason = "next tick in 5 s",
                .g = {SKIP("held by hand at 256 MiB"), NONE("proxmox: waits for its tick"),
                      NONE("proxmox: waits for its tick")}}}},
    {PROXMOX, "paused", .budget = 1536,
     .guests = {{512, 512, 480}, {512, 512, 100}, {512, 512, 100}},
     .steps = {{.state = TIGHT,
                .reason = "proxmox: host use 100.0 % of 1.5 GiB, goal 80 %: shrink by 307 MiB",
                .paused = TRUE,
                .g = {NONE("proxmox: no change"),
                      NONE("paused; would reclaim: proxmox: shrink 512 MiB -> 412 MiB"),
                      NONE("paused; would reclaim: proxmox: shrink 512 MiB -> 412 MiB")}}}},
    {PROXMOX, "held-and-paused", .budget = 1536,
     .guests = {{512, 512, 480}, {512, 512, 100, .held = 512}, {512, 512, 100}},
     .steps = {{.state = TIGHT,
                .reason = "proxmox: host use 100.0 % of 1.5 GiB, goal 80 %: shrink by 307 MiB",
                .paused = TRUE,
                .g = {NONE("proxmox: no change"), SKIP("held by hand at 512 MiB"),
                      NONE("paused; would reclaim: proxmox: shrink 512 MiB -> 412 MiB")}}}},
    /* vmtide: compressed swap (docs/balloon.md, "Compressed memory"). The
     * same guest as above, spare by its MemAvailable, with its zram: */
    /* swapping in 5000 pages/s without zram (or from an agent that does not
     * say): reclaimed as before */
    {VMTIDE, "compressed-none-reclaimed", .budget = 1536,
     .guests = {{512, 480, 200, .swap_in = 5000}, {512, 450, 400}, {512, 400, 350}},
     .steps = {{.state = TIGHT,
                .reason = "tight",
                .g = {RECLAIM(454, 455, "tight: spare 203 MiB, reclaim 26 MiB step")}}}},
    /* 150 MiB of cold data in zram (10 pages/s back): reclaimed as before */
    {VMTIDE, "compressed-idle-reclaimed", .budget = 1536,
     .guests = {{512, 480, 200, .zram = 150, .swap_in = 10}, {512, 450, 400}, {512, 400, 350}},
     .steps = {{.state = TIGHT,
                .reason = "tight",
                .g = {RECLAIM(454, 455, "tight: spare 203 MiB, reclaim 26 MiB step")}}}},
    /* 330 MiB in zram read back at 500 pages/s: the 220 MiB it stands for
     * beyond its pool count in want (200 + 220 + 76.8): not reclaimed */
    {VMTIDE, "compressed-in-use-kept", .budget = 1536,
     .guests = {{512, 480, 200, .zram = 330, .swap_in = 500}, {512, 450, 400}, {512, 400, 350}},
     .steps = {{.state = TIGHT,
                .reason = "tight",
                .g = {NONE("tight: wants 497 MiB, nothing free above the plenty line")}}}},
    /* ... and with 300 MiB: want 477 MiB, the 3 MiB left are not worth a move */
    {VMTIDE, "compressed-in-use-near-want", .budget = 1536,
     .guests = {{512, 480, 200, .zram = 300, .swap_in = 500}, {512, 450, 400}, {512, 400, 350}},
     .steps = {{.state = TIGHT,
                .reason = "tight",
                .g = {NONE("tight: spare 3 MiB, under the 16 MiB minimum change")}}}},
    /* thrashing (5000 pages/s back from zram) with MemAvailable fine:
     * pressure, given back to its maximum */
    {VMTIDE, "compressed-thrashing-given", .budget = 1536,
     .guests = {{512, 480, 200, .zram = 150, .swap_in = 5000}, {512, 450, 400}, {512, 400, 350}},
     .steps = {{.state = TIGHT,
                .reason = "tight",
                .g = {GIVE(512, 512,
                           "pressure (compressed swap thrashing: 5000 pages/s in, 150 MiB "
                           "stored): give 480 MiB -> 512 MiB")}}}},

};

/* The figures a guest reports for its size @actual (MiB). */
static void
guest_fill(const GuestSpec *s, guint i, double actual, VtBalloonGuest *g)
{
        static const char *const names[] = {"g0", "g1", "g2", "g3"};
        double avail = MAX(actual - s->used, 0.0);

        g->name = names[i];
        g->flags = s->no_balloon ? 0 : VT_BALLOON_GUEST_HAS_BALLOON;
        g->max_bytes = (guint64)(s->boot * MiB);
        g->actual_bytes = (guint64)(actual * MiB);
        if (s->src != SRC_NONE)
                g->flags |= VT_BALLOON_GUEST_HAS_STATS;
        if (s->src == SRC_AGENT || s->src == SRC_STALE)
                g->flags |= VT_BALLOON_GUEST_HAS_AGENT;
        g->stats_total = g->actual_bytes;
        g->stats_free = (guint64)(MAX(avail - s->cache, 0.0) * MiB);
        g->stats_available = s->src == SRC_NO_AVAILABLE ? 0 : (guint64)(avail * MiB);
        g->stats_age_us = (s->src == SRC_STALE ? 45 : 2) * G_USEC_PER_SEC;
        g->agent_mem_total = g->actual_bytes;
        g->agent_mem_available = (guint64)(avail * MiB);
        g->agent_psi_some_avg10 = s->psi;
        g->agent_psi_full_avg10 = 0;
        g->agent_age_us = (s->src == SRC_STALE ? 45 : 1) * G_USEC_PER_SEC;
        if ((g->flags & VT_BALLOON_GUEST_HAS_AGENT) && (s->zram > 0 || s->swap_in > 0)) {
                g->flags |= VT_BALLOON_GUEST_HAS_COMPRESSED | VT_BALLOON_GUEST_HAS_SWAP_RATES;
                g->agent_zram_stored = (guint64)(s->zram * MiB);
                g->agent_zram_pool = (guint64)(s->zram / 3 * MiB);
                g->agent_swap_in_per_s = s->swap_in;
        }
}

static void
config_fill(const GuestSpec *s, VtBalloonGuestConfig *c)
{
        *c = (VtBalloonGuestConfig){
            .min_bytes = (guint64)(s->min * MiB),
            .max_bytes = (guint64)(s->max * MiB),
            .shares = s->shares,
            .opt_out = s->opt_out,
            .held = s->held > 0,
            .held_bytes = (guint64)(s->held * MiB),
        };
}

/* What holds for every decision of every policy. */
static void
check_invariants(const VtBalloonInput *input, const VtBalloonConfig *config,
                 const VtBalloonDecision *d, gboolean is_vmtide)
{
        g_assert_cmpuint(strlen(d->reason), >, 0);
        g_assert_cmpint(d->host_state, <, VT_HOST_STATE_MAX);
        for (guint i = 0; i < input->n_guests; i++) {
                const VtBalloonGuest *g = &input->guests[i];
                const VtBalloonTarget *t = &d->targets[i];
                VtBalloonLimits limits;

                g_assert_cmpuint(strlen(t->reason), >, 0);
                g_assert_cmpint(t->action, <, VT_BALLOON_ACTION_MAX);
                switch (t->action) {
                case VT_BALLOON_ACTION_GIVE:
                case VT_BALLOON_ACTION_RECLAIM:
                        vt_balloon_limits_get(g, &input->configs[i], config, &limits);
                        g_assert_cmpuint(t->target_bytes, >=, limits.min_bytes);
                        g_assert_cmpuint(t->target_bytes, <=, limits.max_bytes);
                        if (t->action == VT_BALLOON_ACTION_GIVE)
                                g_assert_cmpuint(t->target_bytes, >, g->actual_bytes);
                        else
                                g_assert_cmpuint(t->target_bytes, <, g->actual_bytes);
                        /* vmtide never reclaims below what a guest wants */
                        if (is_vmtide && t->action == VT_BALLOON_ACTION_RECLAIM)
                                g_assert_cmpuint(t->target_bytes, >=, t->want_bytes);
                        break;
                default:
                        g_assert_cmpuint(t->target_bytes, ==, g->actual_bytes);
                        break;
                }
        }
}

static void
check_expect(guint step, guint i, const Expect *x, const VtBalloonTarget *t)
{
        double target_mib = (double)t->target_bytes / MiB;

        if (x->action != X_ANY && (int)t->action != x->action - 1)
                g_error("step %u guest %u: %s, expected %s ('%s')", step, i,
                        vt_balloon_action_to_string(t->action),
                        vt_balloon_action_to_string(x->action - 1), t->reason);
        if ((x->lo != 0 || x->hi != 0) && (target_mib < x->lo || target_mib > x->hi))
                g_error("step %u guest %u: target %.2f MiB not in [%.2f, %.2f] ('%s')", step, i,
                        target_mib, x->lo, x->hi, t->reason);
        if (x->reason != NULL && strstr(t->reason, x->reason) == NULL)
                g_error("step %u guest %u: reason '%s' lacks '%s'", step, i, t->reason, x->reason);
}

/* Feeds the steps in order; between them each balloon reaches its target at
 * once (as the driver confirms it), and the host gets back what the guests
 * gave up (or loses what they took). */
static void
test_policy_case(gconstpointer data)
{
        const PolicyCase *pc = data;
        gboolean is_vmtide = pc->decide == vt_balloon_policy_decide;
        VtBalloonConfig config;
        VtBalloonState state = {0};
        VtBalloonGuest guests[MAX_GUESTS];
        VtBalloonGuestConfig configs[MAX_GUESTS];
        VtBalloonTarget targets[MAX_GUESTS];
        double actual[MAX_GUESTS], actual0 = 0;
        guint64 target_bytes[MAX_GUESTS] = {0};
        gint64 last_change[MAX_GUESTS] = {0};
        guint n = 0;

        vt_balloon_config_init(&config);
        while (n < MAX_GUESTS && pc->guests[n].boot > 0) {
                actual[n] = pc->guests[n].actual > 0 ? pc->guests[n].actual : pc->guests[n].boot;
                actual0 += actual[n];
                n++;
        }

        for (guint s = 0; s < MAX_STEPS && pc->steps[s].reason != NULL; s++) {
                const Step *st = &pc->steps[s];
                gint64 now = (gint64)((1000 + st->t) * G_USEC_PER_SEC);
                double sum = 0;
                VtBalloonHost host;
                VtBalloonInput input = {.host = &host,
                                        .guests = guests,
                                        .configs = configs,
                                        .n_guests = n,
                                        .now_us = now,
                                        .paused = st->paused};
                VtBalloonDecision d = {.targets = targets};

                for (guint i = 0; i < n; i++) {
                        const GuestSpec *gs = &pc->guests[i];

                        guests[i] = (VtBalloonGuest){0};
                        guest_fill(gs, i, actual[i], &guests[i]);
                        config_fill(gs, &configs[i]);
                        guests[i].target_bytes = target_bytes[i];
                        guests[i].last_change_us = last_change[i];
                        if (s == 0) {
                                guests[i].flags |= gs->flags;
                                if (gs->changed_ago > 0)
                                        guests[i].last_change_us =
                                            now - (gint64)(gs->changed_ago * G_USEC_PER_SEC);
                                if (gs->flags & MOVING)
                                        guests[i].target_bytes = gs->target > 0
                                                                     ? (guint64)(gs->target * MiB)
                                                                     : guests[i].actual_bytes / 2;
                        } else if (gs->flags & STUCK) {
                                guests[i].flags |= STUCK;
                        }
                        if (st->push & (1u << i))
                                guests[i].flags |= PUSH;
                        sum += actual[i];
                }
                host = (VtBalloonHost){
                    .mem_total = (guint64)((pc->total > 0 ? pc->total : 16384) * MiB),
                    .mem_available =
                        (guint64)(((st->avail > 0 ? st->avail : 8192) + actual0 - sum) * MiB),
                    .psi_some_avg10 = st->psi_some,
                    .psi_full_avg10 = st->psi_full,
                    .swap_in_per_s = st->swap_in,
                    .budget_limit = (guint64)(pc->budget * MiB),
                };

                vt_balloon_decide(pc->decide, &input, &config, &state, &d);

                g_test_message("step %u, t=%.1f s: %s, free %" G_GINT64_FORMAT " MiB: %s", s, st->t,
                               vt_host_state_to_string(d.host_state), d.host_free / (gint64)MiB,
                               d.reason);
                for (guint i = 0; i < n; i++)
                        g_test_message("  %s %.1f MiB: %s -> %.2f MiB (want %.1f): %s",
                                       guests[i].name, actual[i],
                                       vt_balloon_action_to_string(targets[i].action),
                                       (double)targets[i].target_bytes / MiB,
                                       (double)targets[i].want_bytes / MiB, targets[i].reason);

                check_invariants(&input, &config, &d, is_vmtide);
                if (st->state != 0 && (int)d.host_state != st->state - 1)
                        g_error("step %u: host %s, expected %s ('%s')", s,
                                vt_host_state_to_string(d.host_state),
                                vt_host_state_to_string(st->state - 1), d.reason);
                if (strstr(d.reason, st->reason) == NULL)
                        g_error("step %u: reason '%s' lacks '%s'", s, d.reason, st->reason);
                for (guint i = 0; i < n; i++)
                        check_expect(s, i, &st->g[i], &targets[i]);

                /* The driver applies it, and the balloon gets there. */
                for (guint i = 0; i < n; i++) {
                        if (targets[i].action != VT_BALLOON_ACTION_GIVE &&
                            targets[i].action != VT_BALLOON_ACTION_RECLAIM)
                                continue;
                        actual[i] = (double)targets[i].target_bytes / MiB;
                        target_bytes[i] = targets[i].target_bytes;
                        last_change[i] = now;
                }
        }
}

/* ---- the anti-oscillation simulation ---- */

typedef struct {
        const char *name;
        double total;  /* MiB; 0: 16384 */
        double avail;  /* host MemAvailable at the start, MiB; 0: 8192 */
        double budget; /* MiB */
        GuestSpec guests[MAX_GUESTS];
        double push_at[MAX_GUESTS]; /* s: the guest's agent pushes once then; 0: never */
        guint max_moves;            /* in all, over the 60 s */
} SimCase;

static const SimCase sim_cases[] = {
    {"from-critical", .budget = 1536, .guests = {{512, 512, 150}, {512, 512, 200}, {512, 512, 300}},
     .max_moves = 6},
    {"from-tight", .budget = 1536, .guests = {{512, 480, 200}, {512, 450, 400}, {512, 400, 350}},
     .max_moves = 8},
    {"needy-from-plenty", .budget = 1536,
     .guests = {{512, 200, 180}, {512, 200, 150}, {512, 300, 250}}, .max_moves = 4},
    {"push-while-tight", .budget = 1536,
     .guests = {{512, 512, 100}, {512, 512, 150}, {512, 300, 250}}, .push_at = {0, 0, 10},
     .max_moves = 12},
    {"shares-differ", .budget = 2048,
     .guests = {{1024, 1024, 300, .shares = 500},
                {1024, 900, 200, .shares = 2000},
                {512, 200, 190}},
     .max_moves = 8},
    {"no-budget", .total = 4096, .avail = 256 + 450,
     .guests = {{1024, 1024, 300}, {1024, 1024, 900}, {512, 512, 100}}, .max_moves = 8},
};

/* The decisions fed back as the next input every 2 s for 60 s, the guests'
 * use constant: few moves, none after the first 40 s, and no guest given
 * memory after a reclaim unless its agent pushed in between. */
static void
test_policy_no_oscillation(gconstpointer data)
{
        const SimCase *sc = data;
        VtBalloonConfig config;
        VtBalloonState state = {0};
        VtBalloonGuest guests[MAX_GUESTS];
        VtBalloonGuestConfig configs[MAX_GUESTS];
        VtBalloonTarget targets[MAX_GUESTS];
        double actual[MAX_GUESTS], actual0 = 0;
        guint64 target_bytes[MAX_GUESTS] = {0};
        gint64 last_change[MAX_GUESTS] = {0};
        gboolean reclaimed[MAX_GUESTS] = {FALSE};
        guint n = 0, moves = 0, late_moves = 0, state_changes = 0, pushes = 0;
        VtHostState prev_state = VT_HOST_STATE_PLENTY;

        vt_balloon_config_init(&config);
        while (n < MAX_GUESTS && sc->guests[n].boot > 0) {
                actual[n] = sc->guests[n].actual;
                actual0 += actual[n];
                n++;
        }
        for (gint64 t = 0; t <= 60; t += 2) {
                gint64 now = (1000 + t) * G_USEC_PER_SEC;
                double sum = 0;
                VtBalloonHost host;
                VtBalloonInput input = {.host = &host,
                                        .guests = guests,
                                        .configs = configs,
                                        .n_guests = n,
                                        .now_us = now};
                VtBalloonDecision d = {.targets = targets};

                for (guint i = 0; i < n; i++) {
                        guests[i] = (VtBalloonGuest){0};
                        guest_fill(&sc->guests[i], i, actual[i], &guests[i]);
                        config_fill(&sc->guests[i], &configs[i]);
                        guests[i].target_bytes = target_bytes[i];
                        guests[i].last_change_us = last_change[i];
                        if (sc->push_at[i] > 0 && (gint64)sc->push_at[i] == t) {
                                guests[i].flags |= PUSH;
                                reclaimed[i] = FALSE; /* an input changed */
                                pushes++;
                        }
                        sum += actual[i];
                }
                host = (VtBalloonHost){
                    .mem_total = (guint64)((sc->total > 0 ? sc->total : 16384) * MiB),
                    .mem_available =
                        (guint64)(((sc->avail > 0 ? sc->avail : 8192) + actual0 - sum) * MiB),
                    .budget_limit = (guint64)(sc->budget * MiB),
                };

                vt_balloon_policy_decide(&input, &config, &state, &d);
                check_invariants(&input, &config, &d, TRUE);
                if (t > 0 && d.host_state != prev_state)
                        state_changes++;
                if (t == 0 || d.host_state != prev_state)
                        g_test_message("t=%2" G_GINT64_FORMAT " %s", t, d.reason);
                prev_state = d.host_state;

                for (guint i = 0; i < n; i++) {
                        const VtBalloonTarget *tg = &targets[i];

                        if (tg->action != VT_BALLOON_ACTION_GIVE &&
                            tg->action != VT_BALLOON_ACTION_RECLAIM)
                                continue;
                        g_test_message("t=%2" G_GINT64_FORMAT " %s %s: %s -> %.1f MiB: %s", t,
                                       vt_host_state_to_string(d.host_state), guests[i].name,
                                       vt_balloon_action_to_string(tg->action),
                                       (double)tg->target_bytes / MiB, tg->reason);
                        if (tg->action == VT_BALLOON_ACTION_GIVE && reclaimed[i])
                                g_error("t=%" G_GINT64_FORMAT " s: %s given memory after a reclaim "
                                        "without a change of input: %s",
                                        t, guests[i].name, tg->reason);
                        if (tg->action == VT_BALLOON_ACTION_RECLAIM)
                                reclaimed[i] = TRUE;
                        moves++;
                        if (t > 40)
                                late_moves++;
                        actual[i] = (double)tg->target_bytes / MiB;
                        target_bytes[i] = tg->target_bytes;
                        last_change[i] = now;
                }
        }
        g_test_message("%u moves, %u host state changes", moves, state_changes);
        g_assert_cmpuint(moves, >, 0);
        g_assert_cmpuint(moves, <=, sc->max_moves);
        g_assert_cmpuint(late_moves, ==, 0);
        /* into a state and out of it, and again for each push */
        g_assert_cmpuint(state_changes, <=, 2 + 2 * pushes);
}

/* ---- compressed swap on a trace ---- */

/*
 * A 1 GiB guest with zram, the host critical for a minute (it needs far
 * more than this guest can give). Its workload: 100 MiB of kernel and
 * daemons, a hot anonymous set of 600 MiB; its kernel keeps 30 % of its
 * RAM as page cache (swappiness high, as zram setups have it) and
 * compresses what of the hot set does not fit into zram at 3:1. Every MiB
 * of the hot set in zram is touched 24 times a second (pages read back).
 * So MemAvailable (cache + pool-free) stays around 30 % however far the
 * balloon goes: the guest looks fine while it decompresses. The same
 * guest twice: once with its compressed swap reported (agent revision 2),
 * once without (an older agent). Printed side by side (--verbose).
 */
typedef struct {
        double actual, comp, swap_in, total_in;
} TraceGuest;

static void
trace_guest_fill(TraceGuest *tg, gboolean visible, VtBalloonGuest *g)
{
        const double base = 100, hot = 600, cache_share = 0.3, touch = 24;
        double resident = CLAMP(tg->actual * (1 - cache_share) - base, 0, hot);
        double used;

        tg->comp = hot - resident;
        tg->swap_in = touch * tg->comp;
        used = base + resident + tg->comp / 3;
        *g = (VtBalloonGuest){
            .name = visible ? "zram-seen" : "zram-unseen",
            .flags = VT_BALLOON_GUEST_HAS_BALLOON | VT_BALLOON_GUEST_HAS_AGENT |
                     VT_BALLOON_GUEST_HAS_STATS,
            .max_bytes = 1024 * MiB,
            .actual_bytes = (guint64)(tg->actual * MiB),
            .stats_total = (guint64)(tg->actual * MiB),
            .stats_available = (guint64)((tg->actual - used) * MiB),
            .stats_age_us = G_USEC_PER_SEC,
            .agent_mem_total = (guint64)(tg->actual * MiB),
            .agent_mem_available = (guint64)((tg->actual - used) * MiB),
            .agent_psi_some_avg10 = 1.0, /* zram reads barely stall */
            .agent_age_us = G_USEC_PER_SEC,
        };
        if (visible) {
                g->flags |= VT_BALLOON_GUEST_HAS_COMPRESSED | VT_BALLOON_GUEST_HAS_SWAP_RATES;
                g->agent_zram_stored = (guint64)(tg->comp * MiB);
                g->agent_zram_pool = (guint64)(tg->comp / 3 * MiB);
                g->agent_swap_in_per_s = tg->swap_in;
        }
}

static void
test_policy_compressed_trace(void)
{
        VtBalloonConfig config;
        VtBalloonState states[2] = {{0}};
        TraceGuest tg[2] = {{.actual = 1024}, {.actual = 1024}};
        gint64 last_change[2] = {0};

        vt_balloon_config_init(&config);
        g_test_message("  t | unseen: MiB  in pages/s | seen: MiB  in pages/s | seen: reason");
        for (gint64 t = 0; t <= 60; t += 2) {
                gint64 now = (1000 + t) * G_USEC_PER_SEC;
                const char *reason = "";

                for (guint v = 0; v < 2; v++) {
                        VtBalloonGuest g;
                        VtBalloonGuestConfig gc = {0};
                        VtBalloonTarget target;
                        VtBalloonHost host = {.mem_total = 16384 * MiB,
                                              .mem_available = 300 * MiB,
                                              .psi_some_avg10 = -1,
                                              .psi_full_avg10 = -1};
                        VtBalloonInput input = {.host = &host,
                                                .guests = &g,
                                                .configs = &gc,
                                                .n_guests = 1,
                                                .now_us = now};
                        VtBalloonDecision d = {.targets = &target};

                        trace_guest_fill(&tg[v], v == 1, &g);
                        g.last_change_us = last_change[v];
                        vt_balloon_policy_decide(&input, &config, &states[v], &d);
                        g_assert_cmpint(d.host_state, ==, VT_HOST_STATE_CRITICAL);
                        if (target.action == VT_BALLOON_ACTION_GIVE ||
                            target.action == VT_BALLOON_ACTION_RECLAIM) {
                                tg[v].actual = (double)target.target_bytes / MiB;
                                last_change[v] = now;
                        }
                        trace_guest_fill(&tg[v], v == 1, &g);
                        tg[v].total_in += tg[v].swap_in * 2;
                        if (v == 1)
                                reason = target.reason;
                }
                g_test_message("%3" G_GINT64_FORMAT " | %11.0f %11.0f | %9.0f %11.0f | %s", t,
                               tg[0].actual, tg[0].swap_in, tg[1].actual, tg[1].swap_in, reason);
        }
        g_test_message("swapped in over 60 s: unseen %.0f pages, seen %.0f pages", tg[0].total_in,
                       tg[1].total_in);
        /* Unseen, the guest is reclaimed into thrashing and stays there... */
        g_assert_cmpfloat(tg[0].swap_in, >=, config.guest_swap_in_thrash);
        /* ...seen, it is held where the data it reads back fits. */
        g_assert_cmpfloat(tg[1].swap_in, <, config.guest_swap_in_thrash);
        g_assert_cmpfloat(tg[1].actual, >, tg[0].actual + 64);
        g_assert_cmpfloat(tg[1].total_in, <, tg[0].total_in / 1.5);
}

/* ---- the rest ---- */

static void
test_policy_config_defaults(void)
{
        VtBalloonConfig c;

        vt_balloon_config_init(&c);
        g_assert_cmpuint(c.host_reserve, ==, 256 * MiB);
        g_assert_cmpfloat(c.plenty_fraction, >, c.tight_fraction);
        g_assert_cmpfloat(c.tight_fraction, >, c.short_fraction);
        g_assert_cmpfloat(c.short_fraction, >, 0);
        /* the hysteresis is narrower than the gaps between the lines are wide... */
        g_assert_cmpfloat(c.hysteresis_fraction, >, 0);
        g_assert_cmpfloat(c.hysteresis_fraction, <, c.plenty_fraction - c.tight_fraction);
        g_assert_cmpfloat(c.psi_critical, >, 0);
        g_assert_cmpfloat(c.psi_short, >, 0);
        /* ...and a guest at want is well clear of the low-available pressure line */
        g_assert_cmpfloat(c.guest_headroom_fraction, >=, 2 * c.guest_low_fraction);
        g_assert_cmpuint(c.guest_headroom_min, ==, 64 * MiB);
        g_assert_cmpfloat(c.step_fraction[VT_HOST_STATE_PLENTY], ==, 0);
        g_assert_cmpfloat(c.step_fraction[VT_HOST_STATE_TIGHT], <,
                          c.step_fraction[VT_HOST_STATE_SHORT]);
        g_assert_cmpfloat(c.step_fraction[VT_HOST_STATE_SHORT], <,
                          c.step_fraction[VT_HOST_STATE_CRITICAL]);
        g_assert_cmpuint(c.min_change, ==, 16 * MiB);
        g_assert_cmpint(c.settle_us, ==, 4 * G_USEC_PER_SEC);
        g_assert_cmpint(c.stale_us, ==, 30 * G_USEC_PER_SEC);
        g_assert_cmpfloat(c.swap_in_tight, >, 0);
}

static void
test_policy_strings(void)
{
        g_assert_cmpstr(vt_host_state_to_string(VT_HOST_STATE_PLENTY), ==, "plenty");
        g_assert_cmpstr(vt_host_state_to_string(VT_HOST_STATE_CRITICAL), ==, "critical");
        g_assert_cmpstr(vt_host_state_to_string(VT_HOST_STATE_MAX), ==, "unknown");
        g_assert_cmpstr(vt_balloon_action_to_string(VT_BALLOON_ACTION_GIVE), ==, "give");
        g_assert_cmpstr(vt_balloon_action_to_string(VT_BALLOON_ACTION_SKIP), ==, "skip");
        g_assert_cmpstr(vt_balloon_action_to_string(VT_BALLOON_ACTION_MAX), ==, "unknown");
        g_assert_cmpstr(vt_size_to_text(512.0 * MiB, VT_SIZE_STYLE_SHORT).str, ==, "512 MiB");
        g_assert_cmpstr(vt_size_to_text(1536.0 * MiB, VT_SIZE_STYLE_SHORT).str, ==, "1.5 GiB");
        g_assert_cmpstr(vt_size_to_text(-40.0 * MiB, VT_SIZE_STYLE_SHORT).str, ==, "-40 MiB");
        g_assert_cmpstr(vt_size_to_text(0, VT_SIZE_STYLE_SHORT).str, ==, "0 B");
        g_assert_cmpstr(vt_size_to_text(NAN, VT_SIZE_STYLE_SHORT).str, ==, "?");
}

static void
test_policy_limits(void)
{
        VtBalloonConfig config;
        VtBalloonGuest g = {.max_bytes = 512 * MiB};
        VtBalloonGuestConfig gc = {0};
        VtBalloonLimits l;

        vt_balloon_config_init(&config);
        vt_balloon_limits_get(&g, NULL, &config, &l);
        g_assert_cmpuint(l.max_bytes, ==, 512 * MiB);
        g_assert_cmpuint(l.min_bytes, ==, 128 * MiB);
        g_assert_cmpuint(l.shares, ==, 1000);
        /* a maximum above the boot memory is the boot memory */
        gc.max_bytes = 1024 * MiB;
        vt_balloon_limits_get(&g, &gc, &config, &l);
        g_assert_cmpuint(l.max_bytes, ==, 512 * MiB);
        /* a minimum above the maximum is the maximum */
        gc = (VtBalloonGuestConfig){.min_bytes = 600 * MiB, .max_bytes = 400 * MiB, .shares = 7};
        vt_balloon_limits_get(&g, &gc, &config, &l);
        g_assert_cmpuint(l.max_bytes, ==, 400 * MiB);
        g_assert_cmpuint(l.min_bytes, ==, 400 * MiB);
        g_assert_cmpuint(l.shares, ==, 7);
}

/* Input no collector should send, through every policy: no crash, every
 * guest answered with a reason, limits kept. */
static void
test_policy_robustness(void)
{
        static const VtBalloonPolicyFunc policies[] = {vt_balloon_policy_decide,
                                                       vt_balloon_policy_mom_decide,
                                                       vt_balloon_policy_proxmox_decide};
        VtBalloonConfig config;

        vt_balloon_config_init(&config);
        for (guint p = 0; p < G_N_ELEMENTS(policies); p++) {
                VtBalloonGuest guests[7];
                VtBalloonGuestConfig configs[7] = {
                    {0}, {.min_bytes = 600 * MiB, .max_bytes = 400 * MiB}, /* min > max */
                    {0}, {0},
                    {0}, {.min_bytes = 64 * MiB, .max_bytes = 64 * MiB, .shares = G_MAXUINT},
                };
                VtBalloonTarget targets[7];
                VtBalloonHost host = {.mem_total = 0,
                                      .mem_available = 0,
                                      .psi_some_avg10 = NAN,
                                      .psi_full_avg10 = -1};
                VtBalloonInput input = {.host = &host, .guests = guests, .configs = configs};
                VtBalloonDecision d = {.targets = targets};
                VtBalloonState state = {0};
                const GuestSpec spec = {512, 512, 100, .psi = NAN};

                /* zero guests, host unknown */
                memset(targets, 0, sizeof(targets));
                policies[p](&input, &config, &state, &d);
                g_assert_cmpuint(strlen(d.reason), >, 0);
                g_test_message("no guests, no host: %s", d.reason);

                for (guint i = 0; i < G_N_ELEMENTS(guests); i++) {
                        guests[i] = (VtBalloonGuest){0};
                        guest_fill(&spec, i % 4, 512, &guests[i]);
                }
                guests[0].actual_bytes = 900 * MiB; /* actual > max */
                guests[0].stats_free = G_MAXUINT64; /* MemFree > actual */
                guests[0].agent_mem_available = G_MAXUINT64;
                guests[2].max_bytes = 0;    /* boot unknown */
                guests[3].actual_bytes = 0; /* balloon size unknown */
                guests[4].agent_psi_some_avg10 = INFINITY;
                guests[4].stats_age_us = -5; /* clock skew */
                guests[4].last_change_us = G_MAXINT64;
                guests[6].max_bytes = G_MAXUINT64; /* beyond belief */
                guests[6].actual_bytes = G_MAXUINT64;
                input.n_guests = G_N_ELEMENTS(guests);

                /* MemTotal 0, no budget: nothing moves */
                for (gint64 t = 0; t < 30; t += 10) {
                        input.now_us = t * G_USEC_PER_SEC;
                        policies[p](&input, &config, &state, &d);
                        for (guint i = 0; i < input.n_guests; i++) {
                                g_assert_cmpint(targets[i].action, !=, VT_BALLOON_ACTION_GIVE);
                                g_assert_cmpint(targets[i].action, !=, VT_BALLOON_ACTION_RECLAIM);
                                g_assert_cmpuint(strlen(targets[i].reason), >, 0);
                        }
                }
                g_assert_nonnull(strstr(targets[2].reason, "boot memory unknown"));
                g_assert_nonnull(strstr(targets[3].reason, "balloon size unknown"));
                g_assert_nonnull(strstr(targets[6].reason, "implausible sizes"));

                /* a real host, then a budget far overrun, then PSI garbage */
                host = (VtBalloonHost){.mem_total = 4096 * MiB,
                                       .mem_available = 100 * MiB,
                                       .psi_some_avg10 = NAN,
                                       .psi_full_avg10 = INFINITY,
                                       .swap_in_per_s = NAN};
                for (guint round = 0; round < 3; round++) {
                        if (round == 1)
                                host.budget_limit = 1;
                        if (round == 2)
                                host = (VtBalloonHost){.mem_total = G_MAXUINT64,
                                                       .mem_available = G_MAXUINT64,
                                                       .budget_limit = G_MAXUINT64};
                        input.now_us = (100 + 20 * (gint64)round) * G_USEC_PER_SEC;
                        policies[p](&input, &config, &state, &d);
                        g_test_message("round %u: %s", round, d.reason);
                        check_invariants(&input, &config, &d, FALSE);
                        /* the guest above its maximum never gets more */
                        g_assert_cmpint(targets[0].action, !=, VT_BALLOON_ACTION_GIVE);
                }
        }
}

/* A policy that sends every guest to 1 byte: what a buggy or new policy
 * could do. vt_balloon_decide() must not pass it on. */
static void
policy_to_one_byte(const VtBalloonInput *input, const VtBalloonConfig *config,
                   VtBalloonState *state, VtBalloonDecision *decision)
{
        decision->host_state = VT_HOST_STATE_CRITICAL;
        g_strlcpy(decision->reason, "to one byte", sizeof(decision->reason));
        for (guint i = 0; i < input->n_guests; i++)
                vt_balloon_target_set(&decision->targets[i], VT_BALLOON_ACTION_RECLAIM, 1, 0,
                                      "reclaim to 1 B");
}

static void
test_policy_floor_decide(void)
{
        const VtBalloonHost host = {.mem_total = 16ULL << 30, .mem_available = 1ULL << 30};
        /* 512 MiB guest at 512, one at the floor already, one that booted
         * with less than the floor (never under its boot memory). */
        const VtBalloonGuest guests[] = {
            {.name = "big", .max_bytes = 512ULL << 20, .actual_bytes = 512ULL << 20},
            {.name = "at-floor", .max_bytes = 512ULL << 20, .actual_bytes = 64ULL << 20},
            {.name = "tiny", .max_bytes = 32ULL << 20, .actual_bytes = 32ULL << 20},
        };
        VtBalloonTarget targets[G_N_ELEMENTS(guests)] = {0};
        VtBalloonDecision decision = {.targets = targets};
        VtBalloonInput input = {.host = &host, .guests = guests, .n_guests = G_N_ELEMENTS(guests)};
        VtBalloonConfig config;
        VtBalloonState state = {0};

        vt_balloon_config_init(&config);
        vt_balloon_decide(policy_to_one_byte, &input, &config, &state, &decision);
        g_assert_cmpint(targets[0].action, ==, VT_BALLOON_ACTION_RECLAIM);
        g_assert_cmpuint(targets[0].target_bytes, ==, VT_BALLOON_FLOOR);
        g_assert_nonnull(strstr(targets[0].reason, "raised to the 64 MiB floor"));
        g_assert_cmpint(targets[1].action, ==, VT_BALLOON_ACTION_NONE);
        g_assert_cmpuint(targets[1].target_bytes, ==, VT_BALLOON_FLOOR);
        g_assert_cmpint(targets[2].action, ==, VT_BALLOON_ACTION_NONE);
        g_assert_cmpuint(targets[2].target_bytes, ==, 32ULL << 20);
}

typedef struct {
        double min, max, boot; /* MiB; 0: not set / unknown */
        const char *problem;   /* a substring; NULL: accepted */
} FloorCheckCase;

static void
test_policy_floor_check(void)
{
        static const FloorCheckCase cases[] = {
            {0, 0, 512, NULL},
            {64, 512, 512, NULL},
            {128, 256, 0, NULL},
            {0, 1.0 / 1048576, 512, "max 1 B is below the safe floor of 64 MiB"},
            {0, 1.0 / 1048576, 0, "max 1 B is below the safe floor of 64 MiB"},
            {1.0 / 1048576, 0, 512, "min 1 B is below the safe floor of 64 MiB"},
            {63, 0, 512, "min 63 MiB is below the safe floor"},
            {600, 0, 512, "min 600 MiB is above the guest's memory, 512 MiB"},
            {300, 200, 512, "min 300 MiB is above max 200 MiB"},
            /* a guest that booted with 32 MiB: its floor is 32 MiB */
            {32, 32, 32, NULL},
            {0, 16, 32, "max 16 MiB is below the safe floor of 32 MiB"},
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                const FloorCheckCase *c = &cases[i];
                VtBalloonGuestConfig gc = {
                    .min_bytes = (guint64)(c->min * 1048576),
                    .max_bytes = (guint64)(c->max * 1048576),
                };
                g_autofree char *problem = NULL;
                gboolean ok =
                    vt_balloon_guest_config_check(&gc, (guint64)(c->boot * 1048576), &problem);

                g_test_message("case %" G_GSIZE_FORMAT ": %s", i, problem ? problem : "accepted");
                if (c->problem == NULL) {
                        g_assert_true(ok);
                        g_assert_null(problem);
                } else {
                        g_assert_false(ok);
                        g_assert_nonnull(strstr(problem, c->problem));
                }
        }
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        for (gsize i = 0; i < G_N_ELEMENTS(policy_cases); i++) {
                g_autofree char *path = g_strdup_printf(
                    "/balloon/policy/%s/%s", policy_cases[i].policy, policy_cases[i].name);

                g_test_add_data_func(path, &policy_cases[i], test_policy_case);
        }
        for (gsize i = 0; i < G_N_ELEMENTS(sim_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/balloon/policy/vmtide/no-oscillation/%s", sim_cases[i].name);

                g_test_add_data_func(path, &sim_cases[i], test_policy_no_oscillation);
        }
        g_test_add_func("/balloon/policy/compressed/trace", test_policy_compressed_trace);
        g_test_add_func("/balloon/policy/config/defaults", test_policy_config_defaults);
        g_test_add_func("/balloon/policy/strings", test_policy_strings);
        g_test_add_func("/balloon/policy/limits", test_policy_limits);
        g_test_add_func("/balloon/policy/robustness", test_policy_robustness);
        g_test_add_func("/balloon/policy/floor/decide", test_policy_floor_decide);
        g_test_add_func("/balloon/policy/floor/check", test_policy_floor_check);

        return g_test_run();
}
