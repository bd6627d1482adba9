/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the KSM tuners: vmtide's, the ksmtuned baseline and the advisor baseline. */
#include <string.h>

#include "ksm/ksm-tuner.h"

#define GiB        (G_GUINT64_CONSTANT(1) << 30)
#define MiB        (G_GUINT64_CONSTANT(1) << 20)
#define PAGE_SIZE  4096
#define MAX_STEPS  12
#define MAX_GUESTS 4

/* vmtide's tuner with the defaults, by its model (ksm-tuner.c). */
#define START   494 /* 0.09 × 20 ms / (4 us × 0.91) */
#define UNKNOWN 247 /* the same at 8 us a page */

typedef enum {
        GUESTS_FOUR,           /* 4 × 4 GiB, nothing merged yet, RSS 4 GiB each */
        GUESTS_NONE,           /* no guests */
        GUESTS_OPTED_OUT,      /* GUESTS_FOUR, all opted out */
        GUESTS_HALF_OPTED_OUT, /* GUESTS_FOUR, two opted out */
        GUESTS_NO_STATS,       /* GUESTS_FOUR, no ksm_merging_pages */
        GUESTS_MERGED,         /* GUESTS_FOUR, all but 100 MiB each merged */
} GuestSet;

typedef enum {
        ANY,
        YES,
        NO,
} Expect;

/* One decision: what the host looks like at @t, and what must come out. */
typedef struct {
        gint64 t;        /* seconds */
        double avail;    /* MemAvailable / MemTotal */
        double free;     /* (MemFree + Buffers + Cached) / MemTotal; 0: as @avail */
        double psi;      /* PSI some avg10, percent */
        double psi_full; /* PSI full avg10, percent */
        gboolean first;  /* no rates, as on a first decision (step 0 never has any) */
        gboolean cpu_unknown;
        double cpu;         /* ksmd CPU share over the interval */
        double yield_kib;   /* KiB saved per ksmd CPU-second */
        double saved_kib_s; /* KiB saved per second, when the CPU is unknown */
        guint64 scans;      /* full_scans */
        /* expected */
        guint run;
        guint64 lo, hi;     /* pages_to_scan in [lo, hi]; 0, 0: any */
        guint64 sleep_ms;   /* 0: any */
        guint64 target_s;   /* advisor target; 0: no advisor */
        Expect backoff;     /* backoff_until_us > now */
        const char *reason; /* a substring; NULL ends the steps */
} Step;

typedef struct {
        const char *policy;
        VtKsmTunerFunc decide;
        const char *name;
        GuestSet guests;
        guint64 total_gib;   /* 0: 64 */
        gboolean no_advisor; /* kernel without advisor_mode */
        guint64 kernel_max;  /* 0: 100000 */
        gboolean allow_unmerge;
        guint64 advisor_target_s;
        guint start_run;     /* the kernel's knobs before the first step */
        guint64 start_pages; /* 0: 100 */
        guint64 sharing_mib; /* pages_sharing, until an unmerge */
        Step steps[MAX_STEPS];
} TunerCase;

#define P(n)    .lo = (n), .hi = (n)
#define VMTIDE  "vmtide", vt_ksm_tuner_decide
#define TUNED   "ksmtuned", vt_ksm_tuner_ksmtuned_decide
#define ADVISOR "advisor", vt_ksm_tuner_advisor_decide

static const TunerCase tuner_cases[] = {
    /* vmtide: on and off */
    {VMTIDE, "ample-memory-off",
     .steps = {{.avail = 0.60, .run = 0, .reason = "host MemAvailable 60 % > 40 %"},
               {.t = 10, .avail = 0.90, .run = 0, .reason = "KSM off"}}},
    {VMTIDE, "ample-memory-stops-running-ksm", .start_run = 1, .start_pages = 1000,
     .steps = {{.avail = 0.60, .run = 0, .reason = "KSM off"}}},
    {VMTIDE, "low-available-ramps",
     .steps = {{.avail = 0.22,
                .run = 1,
                P(START),
                .sleep_ms = 20,
                .reason = "host MemAvailable 22 % < 30 %: start, 16.0 GiB mergeable left"}}},
    {VMTIDE, "psi-ramps",
     .steps = {{.avail = 0.50,
                .psi = 8,
                .run = 1,
                P(START),
                .reason = "host memory PSI some 8.0 % >= 5.0 %: start"}}},
    {VMTIDE, "hysteresis-available",
     .steps = {{.avail = 0.35, .run = 0, .reason = "MemAvailable 35 % (start < 30 %, stop > 40 %)"},
               {.t = 10, .avail = 0.29, .run = 1, P(START), .reason = "29 % < 30 %: start"},
               {.t = 20,
                .avail = 0.35,
                .cpu = 0.06,
                .yield_kib = 4096,
                .run = 1,
                P(START),
                .reason = "within cap"},
               {.t = 30,
                .avail = 0.39,
                .cpu = 0.06,
                .yield_kib = 4096,
                .run = 1,
                P(START),
                .reason = "within cap"},
               {.t = 40,
                .avail = 0.41,
                .cpu = 0.06,
                .yield_kib = 4096,
                .run = 0,
                .reason = "41 % > 40 %"},
               {.t = 50, .avail = 0.31, .run = 0, .reason = "stay off"},
               {.t = 60, .avail = 0.39, .run = 0, .reason = "stay off"},
               {.t = 70, .avail = 0.28, .run = 1, P(START), .reason = "start"}}},
    {VMTIDE, "hysteresis-psi",
     .steps = {{.avail = 0.5, .psi = 6, .run = 1, P(START), .reason = "PSI some 6.0 % >= 5.0 %"},
               {.t = 10,
                .avail = 0.5,
                .psi = 3,
                .cpu = 0.06,
                .yield_kib = 4096,
                .run = 1,
                P(START),
                .reason = "within cap"},
               {.t = 20,
                .avail = 0.5,
                .psi = 2,
                .cpu = 0.06,
                .run = 0,
                .reason = "PSI some 2.0 % < 2.5 %: KSM off"},
               {.t = 30, .avail = 0.5, .psi = 4, .run = 0, .reason = "stay off"},
               {.t = 40, .avail = 0.5, .psi = 5, .run = 1, P(START), .reason = "start"}}},

    /* vmtide: the CPU cap */
    {VMTIDE, "cpu-over-cap-slows-down", .start_run = 1, .start_pages = 4000,
     .steps = {{.avail = 0.2, .run = 1, P(4000), .reason = "no rates yet: pages_to_scan 4000"},
               {.t = 10,
                .avail = 0.2,
                .cpu = 0.14,
                .yield_kib = 10240,
                .scans = 1,
                .run = 1,
                .lo = 2570,
                .hi = 2572,
                .reason = "ksmd 14.0 % CPU > cap 10 %: pages_to_scan 4000 -> 257"},
               {.t = 20,
                .avail = 0.2,
                .cpu = 0.09,
                .yield_kib = 10240,
                .scans = 2,
                .run = 1,
                .lo = 2570,
                .hi = 2572,
                .reason = "ksmd 9.0 % CPU within cap 10 %"}}},
    /* The pace grows only on an interval the yield alone judges: here the
     * one after critical memory ended a back-off. */
    /* Critical memory ends a back-off with a new run of two passes: fresh
     * memory's first pass yields nothing, and must not back off again. */
    {VMTIDE, "critical-ends-backoff-starts-new-run",
     .steps = {{.avail = 0.2, .run = 1, P(START), .reason = "start"},
               {.t = 10,
                .avail = 0.2,
                .cpu = 0.08,
                .yield_kib = 100,
                .scans = 2,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "back off"},
               {.t = 20,
                .avail = 0.12,
                .cpu = 0.01,
                .scans = 2,
                .run = 1,
                P(START),
                .sleep_ms = 20,
                .backoff = NO,
                .reason = "end back-off, pages_to_scan 100 -> 494"},
               /* the new memory's checksum pass: no yield, no back-off */
               {.t = 25,
                .avail = 0.12,
                .cpu = 0.03,
                .yield_kib = 100,
                .scans = 3,
                .run = 1,
                P(START),
                .backoff = NO,
                .reason = "first passes (merging costs more): pages_to_scan 494"},
               {.t = 30,
                .avail = 0.12,
                .cpu = 0.07,
                .yield_kib = 20480,
                .scans = 3,
                .run = 1,
                P(START),
                .reason = "within cap"},
               /* two passes since the critical start: done */
               {.t = 35,
                .avail = 0.12,
                .cpu = 0.07,
                .yield_kib = 20480,
                .scans = 5,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "3 full scans since the start"}}},
    /* The first passes only checksum: their low cost must not raise the
     * rate, not even once merging pays. */
    {VMTIDE, "first-passes-hold-rate",
     .steps = {{.avail = 0.2, .scans = 5, .run = 1, P(START), .reason = "start"},
               {.t = 5,
                .avail = 0.2,
                .cpu = 0.03,
                .scans = 6,
                .run = 1,
                P(START),
                .reason = "first passes (merging costs more): pages_to_scan 494"},
               {.t = 10,
                .avail = 0.2,
                .cpu = 0.03,
                .yield_kib = 20480,
                .scans = 6,
                .run = 1,
                P(START),
                .backoff = NO,
                .reason = "first passes (merging costs more): pages_to_scan 494"}}},
    {VMTIDE, "kernel-max-bounds-start", .kernel_max = 300,
     .steps = {{.avail = 0.2,
                .run = 1,
                P(300),
                .reason = "start, 16.0 GiB mergeable left, pages_to_scan 300"}}},
    {VMTIDE, "kernel-max-bounds-speed-up", .kernel_max = 300, .start_run = 1, .start_pages = 250,
     .steps = {{.avail = 0.2, .run = 1, P(250), .reason = "no rates yet: pages_to_scan 250"},
               {.t = 5,
                .avail = 0.2,
                .cpu = 0.01,
                .scans = 2,
                .yield_kib = 20480,
                .run = 1,
                P(300),
                .reason = "yield 20.0 MiB per CPU-second: pages_to_scan 250 -> 300"}}},

    {VMTIDE, "speed-up-to-model-rate", .start_run = 1, .start_pages = 100,
     .steps = {{.avail = 0.2, .run = 1, P(100), .reason = "no rates yet"},
               {.t = 5,
                .avail = 0.2,
                .cpu = 0.003,
                .scans = 2,
                .yield_kib = 4096,
                .run = 1,
                P(START),
                .reason = "ksmd 0.3 % CPU < cap 10 %, yield 4.0 MiB per CPU-second: "
                          "pages_to_scan 100 -> 494"},
               {.t = 10,
                .avail = 0.2,
                .cpu = 0.001,
                .yield_kib = 4096,
                .run = 1,
                P(START),
                .reason = "ksmd idle (0.1 % CPU): pages_to_scan 494"}}},
    /* A rate already measured outweighs the model: half again, not back to 494. */
    {VMTIDE, "speed-up-below-model-half-again", .start_run = 1, .start_pages = 300,
     .steps = {{.avail = 0.2, .run = 1, P(300), .reason = "no rates yet"},
               {.t = 5,
                .avail = 0.2,
                .cpu = 0.04,
                .scans = 2,
                .yield_kib = 4096,
                .run = 1,
                P(450),
                .reason = "pages_to_scan 300 -> 450"}}},
    {VMTIDE, "speed-up-past-model-half-again", .start_run = 1, .start_pages = 1000,
     .steps = {{.avail = 0.2, .run = 1, P(1000), .reason = "no rates yet"},
               {.t = 5,
                .avail = 0.2,
                .cpu = 0.003,
                .scans = 2,
                .yield_kib = 4096,
                .run = 1,
                P(1500),
                .reason = "pages_to_scan 1000 -> 1500"}}},

    /* vmtide: the yield */
    {VMTIDE, "yield-gone-backs-off",
     .steps = {{.avail = 0.2, .run = 1, P(START), .reason = "start"},
               /* first passes: no yield expected yet */
               {.t = 10,
                .avail = 0.2,
                .cpu = 0.08,
                .yield_kib = 0,
                .scans = 1,
                .run = 1,
                P(START),
                .backoff = NO,
                .reason = "within cap"},
               {.t = 20,
                .avail = 0.2,
                .cpu = 0.08,
                .yield_kib = 100,
                .scans = 2,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "yield 100.0 KiB per CPU-second < 1.0 MiB: back off, pages_to_scan 494 "
                          "-> 100 every 200 ms for 60 s"},
               {.t = 40,
                .avail = 0.2,
                .cpu = 0.01,
                .yield_kib = 8192,
                .scans = 2,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "backed off 40 s more"},
               {.t = 50,
                .avail = 0.2,
                .psi = 9,
                .cpu = 0.01,
                .yield_kib = 8192,
                .scans = 2,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "backed off 30 s more"},
               {.t = 60,
                .avail = 0.12,
                .cpu = 0.01,
                .scans = 2,
                .run = 1,
                P(START),
                .sleep_ms = 20,
                .backoff = NO,
                .reason = "memory critical (MemAvailable 12 % < 15 %): end back-off, "
                          "pages_to_scan 100 -> 494"}}},
    /* Two full passes since the start merged what there was: back off even
     * while the yield is good (counted from the start's full_scans). */
    {VMTIDE, "two-passes-done-backs-off",
     .steps = {{.avail = 0.2, .scans = 5, .run = 1, P(START), .reason = "start"},
               {.t = 10,
                .avail = 0.2,
                .cpu = 0.06,
                .yield_kib = 20480,
                .scans = 6,
                .run = 1,
                P(START),
                .sleep_ms = 20,
                .backoff = NO,
                .reason = "within cap"},
               /* two steps of full_scans: the first may have been a partial
                * pass, and merging still pays: go on */
               {.t = 15,
                .avail = 0.2,
                .cpu = 0.06,
                .yield_kib = 20480,
                .scans = 7,
                .run = 1,
                P(START),
                .sleep_ms = 20,
                .backoff = NO,
                .reason = "within cap"},
               {.t = 20,
                .avail = 0.2,
                .cpu = 0.06,
                .yield_kib = 20480,
                .scans = 8,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "3 full scans since the start (yield 20.0 MiB): back off, "
                          "pages_to_scan 494 -> 100 every 200 ms for 60 s"},
               {.t = 30,
                .avail = 0.2,
                .cpu = 0.01,
                .yield_kib = 20480,
                .scans = 8,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "backed off 50 s more"}}},
    /* Merging seen paying, then two low intervals: done before the grace. */
    {VMTIDE, "yield-merging-done-before-grace",
     .steps = {{.avail = 0.2, .run = 1, P(START), .reason = "start"},
               {.t = 5, .avail = 0.2, .cpu = 0.001, .run = 1, P(START), .reason = "ksmd idle"},
               {.t = 6,
                .avail = 0.2,
                .cpu = 0.08,
                .yield_kib = 100,
                .run = 1,
                P(START),
                .backoff = NO,
                .reason = "within cap"},
               {.t = 7,
                .avail = 0.2,
                .cpu = 0.08,
                .yield_kib = 100,
                .run = 1,
                P(START),
                .backoff = NO,
                .reason = "within cap"},
               {.t = 8,
                .avail = 0.2,
                .cpu = 0.08,
                .yield_kib = 20480,
                .run = 1,
                P(START),
                .backoff = NO,
                .reason = "within cap"},
               {.t = 9,
                .avail = 0.2,
                .cpu = 0.08,
                .yield_kib = 100,
                .run = 1,
                P(START),
                .backoff = NO,
                .reason = "within cap"},
               {.t = 10,
                .avail = 0.2,
                .cpu = 0.08,
                .yield_kib = 100,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "yield 100.0 KiB per CPU-second < 1.0 MiB: back off"}}},
    {VMTIDE, "yield-backoff-expires",
     .steps = {{.avail = 0.2, .run = 1, P(START), .reason = "start"},
               {.t = 10,
                .avail = 0.2,
                .cpu = 0.08,
                .scans = 2,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "yield 0 bytes per CPU-second < 1.0 MiB: back off"},
               /* over: the yield measured at the trickle is still low */
               {.t = 70,
                .avail = 0.2,
                .cpu = 0.01,
                .yield_kib = 200,
                .scans = 3,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "yield 200.0 KiB per CPU-second < 1.0 MiB: stay backed off, "
                          "pages_to_scan 100 every 200 ms for 60 s"},
               {.t = 100,
                .avail = 0.2,
                .cpu = 0.01,
                .yield_kib = 200,
                .scans = 3,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "backed off 30 s more"},
               /* over: the trickle is too idle to judge, so the minimum at
                * the full sleep measures it */
               {.t = 130,
                .avail = 0.2,
                .cpu = 0.001,
                .yield_kib = 4096,
                .scans = 4,
                .run = 1,
                P(100),
                .sleep_ms = 20,
                .backoff = NO,
                .reason = "ksmd idle (0.1 % CPU): pages_to_scan 100"},
               /* paying again: from the minimum straight to the model's rate */
               {.t = 131,
                .avail = 0.2,
                .cpu = 0.01,
                .yield_kib = 4096,
                .scans = 4,
                .run = 1,
                P(START),
                .sleep_ms = 20,
                .backoff = NO,
                .reason = "pages_to_scan 100 -> 494"}}},
    /* Over a back-off, a paying yield starts a new run of two passes. */
    {VMTIDE, "backoff-expiry-paying-starts-new-run",
     .steps = {{.avail = 0.2, .run = 1, P(START), .reason = "start"},
               {.t = 10,
                .avail = 0.2,
                .cpu = 0.06,
                .yield_kib = 20480,
                .scans = 3,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "3 full scans since the start (yield 20.0 MiB): back off"},
               /* measured at the trickle: 10 pages per 20 ms at 0.7 % */
               {.t = 70,
                .avail = 0.2,
                .cpu = 0.007,
                .yield_kib = 8192,
                .scans = 3,
                .run = 1,
                P(128),
                .sleep_ms = 20,
                .backoff = NO,
                .reason = "ksmd 0.7 % CPU < cap 10 %, yield 8.0 MiB per CPU-second: "
                          "pages_to_scan 100 -> 128"},
               {.t = 80,
                .avail = 0.2,
                .cpu = 0.03,
                .yield_kib = 8192,
                .scans = 4,
                .run = 1,
                P(128),
                .sleep_ms = 20,
                .backoff = NO,
                .reason = "first passes (merging costs more): pages_to_scan 128"},
               {.t = 90,
                .avail = 0.2,
                .cpu = 0.03,
                .yield_kib = 8192,
                .scans = 6,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "3 full scans since the start (yield 8.0 MiB): back off, "
                          "pages_to_scan 128 -> 100 every 200 ms for 60 s"},
               {.t = 100,
                .avail = 0.2,
                .cpu = 0.01,
                .yield_kib = 8192,
                .scans = 6,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "backed off 50 s more"}}},
    /* Merging ended before the grace: over the back-off the paying yield
     * still lets the pace grow at once, before the old run's passes. */
    {VMTIDE, "backoff-before-grace-expiry-speeds-up",
     .steps = {{.avail = 0.2, .run = 1, P(START), .reason = "start"},
               {.t = 5,
                .avail = 0.2,
                .cpu = 0.08,
                .yield_kib = 20480,
                .run = 1,
                P(START),
                .reason = "within cap"},
               {.t = 6,
                .avail = 0.2,
                .cpu = 0.08,
                .yield_kib = 100,
                .run = 1,
                P(START),
                .reason = "within cap"},
               {.t = 7,
                .avail = 0.2,
                .cpu = 0.08,
                .yield_kib = 100,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "yield 100.0 KiB per CPU-second < 1.0 MiB: back off"},
               {.t = 67,
                .avail = 0.2,
                .cpu = 0.007,
                .yield_kib = 8192,
                .scans = 1,
                .run = 1,
                P(128),
                .sleep_ms = 20,
                .backoff = NO,
                .reason = "yield 8.0 MiB per CPU-second: pages_to_scan 100 -> 128"}}},
    /* The trickle's pace is read per the tuner's sleep: 100 pages per 200 ms
     * at 1 % of a CPU is 10 per 20 ms, so the cap allows 90 (the minimum),
     * not the 494 that 100 per 20 ms at 1 % would. */
    {VMTIDE, "trickle-pace-per-own-sleep",
     .steps = {{.avail = 0.2, .run = 1, P(START), .reason = "start"},
               {.t = 10,
                .avail = 0.2,
                .cpu = 0.08,
                .yield_kib = 100,
                .scans = 2,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "back off"},
               {.t = 70,
                .avail = 0.2,
                .cpu = 0.01,
                .yield_kib = 8192,
                .scans = 2,
                .run = 1,
                P(100),
                .sleep_ms = 20,
                .backoff = NO,
                .reason = "ksmd 1.0 % CPU < cap 10 %, yield 8.0 MiB per CPU-second: "
                          "pages_to_scan 100"}}},
    /* A KSM found running is a run at its pace: two whole passes, held
     * (its first interval may be the guests' checksum pass), then done. */
    {VMTIDE, "adopt-running-paying-runs-two-passes", .start_run = 1, .start_pages = 494,
     .steps = {{.avail = 0.2,
                .scans = 7,
                .run = 1,
                P(START),
                .reason = "KSM running, no rates yet: pages_to_scan 494"},
               {.t = 10,
                .avail = 0.2,
                .cpu = 0.03,
                .yield_kib = 20480,
                .scans = 7,
                .run = 1,
                P(START),
                .backoff = NO,
                .reason = "first passes (merging costs more): pages_to_scan 494"},
               {.t = 20,
                .avail = 0.2,
                .cpu = 0.06,
                .yield_kib = 20480,
                .scans = 8,
                .run = 1,
                P(START),
                .backoff = NO,
                .reason = "within cap"},
               {.t = 30,
                .avail = 0.2,
                .cpu = 0.06,
                .yield_kib = 20480,
                .scans = 10,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "3 full scans since the start (yield 20.0 MiB): back off, "
                          "pages_to_scan 494 -> 100"}}},
    /* Its first interval yielding nothing does not stop it: only a low
     * yield once the passes are made does. */
    {VMTIDE, "adopt-running-low-yield-backs-off-after-passes", .start_run = 1, .start_pages = 494,
     .steps = {{.avail = 0.2, .scans = 7, .run = 1, P(START), .reason = "no rates yet"},
               {.t = 10,
                .avail = 0.2,
                .cpu = 0.06,
                .yield_kib = 200,
                .scans = 7,
                .run = 1,
                P(START),
                .backoff = NO,
                .reason = "within cap"},
               {.t = 20,
                .avail = 0.2,
                .cpu = 0.06,
                .yield_kib = 200,
                .scans = 9,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "yield 200.0 KiB per CPU-second < 1.0 MiB: back off, "
                          "pages_to_scan 494 -> 100 every 200 ms for 60 s"}}},
    {VMTIDE, "yield-backoff-under-critical-memory-holds",
     .steps = {{.avail = 0.1, .run = 1, P(START), .reason = "10 % < 30 %: start"},
               {.t = 10,
                .avail = 0.1,
                .cpu = 0.08,
                .scans = 2,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "back off"},
               {.t = 20,
                .avail = 0.1,
                .cpu = 0.01,
                .scans = 2,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "(memory critical)"},
               {.t = 30,
                .avail = 0.05,
                .psi = 30,
                .psi_full = 10,
                .cpu = 0.01,
                .scans = 2,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "backed off 40 s more"}}},
    {VMTIDE, "yield-backoff-ends-on-psi-full",
     .steps = {{.avail = 0.2, .run = 1, P(START), .reason = "start"},
               {.t = 10,
                .avail = 0.2,
                .cpu = 0.08,
                .scans = 2,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "back off"},
               {.t = 20,
                .avail = 0.2,
                .psi = 4,
                .psi_full = 1.5,
                .cpu = 0.01,
                .scans = 2,
                .run = 1,
                P(START),
                .sleep_ms = 20,
                .backoff = NO,
                .reason = "PSI full 1.5 % >= 1.0 %"}}},
    {VMTIDE, "restart-during-backoff-stays-low",
     .steps = {{.avail = 0.2, .run = 1, P(START), .reason = "start"},
               {.t = 10,
                .avail = 0.2,
                .cpu = 0.08,
                .scans = 2,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "back off"},
               {.t = 20, .avail = 0.5, .cpu = 0.01, .scans = 2, .run = 0, .reason = "KSM off"},
               {.t = 30,
                .avail = 0.25,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "start at pages_to_scan 100, backed off 40 s more"},
               {.t = 80, .avail = 0.45, .run = 0, .reason = "KSM off"},
               {.t = 90,
                .avail = 0.25,
                .run = 1,
                P(START),
                .sleep_ms = 20,
                .reason = "start, 16.0 GiB"}}},
    /* A start inside a back-off trickles on, and when the back-off is over
     * the yield alone decides, as after any back-off: not the passes. */
    {VMTIDE, "restart-during-backoff-remeasures",
     .steps = {{.avail = 0.2, .run = 1, P(START), .reason = "start"},
               {.t = 10,
                .avail = 0.2,
                .cpu = 0.08,
                .scans = 2,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "back off"},
               {.t = 20, .avail = 0.5, .cpu = 0.01, .scans = 2, .run = 0, .reason = "KSM off"},
               {.t = 30,
                .avail = 0.25,
                .scans = 2,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "backed off 40 s more"},
               {.t = 70,
                .avail = 0.25,
                .cpu = 0.01,
                .yield_kib = 200,
                .scans = 2,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "yield 200.0 KiB per CPU-second < 1.0 MiB: stay backed off"}}},
    {VMTIDE, "trajectory-ramp-cap-backoff",
     .steps = {{.avail = 0.25, .run = 1, P(START), .reason = "start"},
               {.t = 5,
                .avail = 0.25,
                .cpu = 0.03,
                .yield_kib = 30720,
                .run = 1,
                P(START),
                .reason = "first passes"},
               {.t = 10,
                .avail = 0.24,
                .cpu = 0.12,
                .yield_kib = 20480,
                .scans = 1,
                .run = 1,
                P(370),
                .reason = "ksmd 12.0 % CPU > cap 10 %: pages_to_scan 494 -> 370"},
               {.t = 15,
                .avail = 0.26,
                .cpu = 0.085,
                .yield_kib = 8192,
                .scans = 1,
                .run = 1,
                P(370),
                .reason = "within cap"},
               {.t = 20,
                .avail = 0.27,
                .cpu = 0.09,
                .yield_kib = 300,
                .scans = 2,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "yield 300.0 KiB per CPU-second < 1.0 MiB: back off, pages_to_scan 370 "
                          "-> 100 every 200 ms"},
               {.t = 30,
                .avail = 0.28,
                .cpu = 0.01,
                .scans = 2,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "backed off"},
               {.t = 40, .avail = 0.45, .cpu = 0.01, .scans = 2, .run = 0, .reason = "KSM off"}}},

    /* vmtide: missing inputs */
    {VMTIDE, "kernel-without-advisor", .no_advisor = TRUE,
     .steps = {{.avail = 0.2, .run = 1, P(START), .reason = "start"},
               {.t = 5,
                .avail = 0.2,
                .cpu = 0.2,
                .yield_kib = 4096,
                .scans = 1,
                .run = 1,
                .lo = 220,
                .hi = 224,
                .reason = "ksmd 20.0 % CPU > cap 10 %"}}},
    {VMTIDE, "no-per-process-stats", .guests = GUESTS_NO_STATS, .sharing_mib = 1024,
     .steps = {{.avail = 0.2, .run = 1, P(START), .reason = "start, 14.9 GiB mergeable left"}}},
    {VMTIDE, "no-per-process-stats-all-merged", .guests = GUESTS_NO_STATS, .sharing_mib = 15000,
     .start_run = 1, .start_pages = 2000,
     .steps = {{.avail = 0.2, .run = 1, P(100), .reason = "only 0 bytes left to merge"}}},
    {VMTIDE, "nothing-left-to-merge", .guests = GUESTS_MERGED,
     .steps = {{.avail = 0.2,
                .run = 1,
                P(100),
                .reason = "start at pages_to_scan 100, only 400.0 MiB left to merge"}}},
    {VMTIDE, "cpu-unknown",
     .steps = {{.avail = 0.2, .cpu_unknown = TRUE, .run = 1, P(UNKNOWN), .reason = "start"},
               {.t = 10,
                .avail = 0.2,
                .cpu_unknown = TRUE,
                .saved_kib_s = 10240,
                .scans = 1,
                .run = 1,
                P(UNKNOWN),
                .reason = "ksmd CPU unknown: pages_to_scan 247 (9 % of a CPU"},
               {.t = 20,
                .avail = 0.2,
                .cpu_unknown = TRUE,
                .saved_kib_s = 1,
                .scans = 2,
                .run = 1,
                P(100),
                .sleep_ms = 200,
                .backoff = YES,
                .reason = "< 1.0 MiB: back off, pages_to_scan 247 -> 100 every 200 ms"}}},
    {VMTIDE, "cpu-unknown-caps-running-ksm", .start_run = 1, .start_pages = 4000,
     .steps = {{.avail = 0.2, .cpu_unknown = TRUE, .run = 1, P(UNKNOWN), .reason = "no rates yet"},
               {.t = 10,
                .avail = 0.2,
                .cpu_unknown = TRUE,
                .saved_kib_s = 4096,
                .run = 1,
                P(UNKNOWN),
                .reason = "CPU unknown"}}},
    {VMTIDE, "no-guests", .guests = GUESTS_NONE, .start_run = 1,
     .steps = {{.avail = 0.1, .run = 0, .reason = "no guests: KSM off"}}},
    {VMTIDE, "all-guests-opted-out", .guests = GUESTS_OPTED_OUT, .start_run = 1,
     .start_pages = 1000,
     .steps =
         {{.avail = 0.1, .psi = 20, .run = 0, .reason = "all 4 guests opted out of KSM: KSM off"}}},
    {VMTIDE, "half-opted-out", .guests = GUESTS_HALF_OPTED_OUT,
     .steps = {{.avail = 0.2, .run = 1, P(START), .reason = "start, 8.0 GiB mergeable left"}}},
    {VMTIDE, "never-unmerges-unless-allowed", .start_run = 1, .sharing_mib = 1024,
     .steps = {{.avail = 0.8, .run = 0, .reason = "KSM off"}}},
    {VMTIDE, "unmerges-when-allowed", .allow_unmerge = TRUE, .start_run = 1, .sharing_mib = 1024,
     .steps = {{.avail = 0.6, .run = 2, .reason = "KSM off, unmerge 1.0 GiB (allowed)"},
               {.t = 10, .avail = 0.58, .run = 0, .reason = "KSM off"}}},
    {VMTIDE, "unmerge-allowed-but-would-start-again", .allow_unmerge = TRUE, .start_run = 1,
     .sharing_mib = 8192,
     .steps = {{.avail = 0.45,
                .run = 0,
                .reason = "KSM off, not unmerging 8.0 GiB: would fall under 40 %"}}},

    /* ksmtuned: 16 GiB host, 16 GiB of guest RSS, so it runs */
    {TUNED, "cadence-60s", .total_gib = 16,
     .steps = {{.avail = 0.1, .run = 0, .reason = "next adjustment in 60 s"},
               {.t = 30, .avail = 0.1, .run = 0, .reason = "next adjustment in 30 s"},
               {.t = 60,
                .avail = 0.1,
                .run = 1,
                P(300),
                .sleep_ms = 10,
                .reason = "ksmtuned: free 1677721 < thres 3355443 kB: boost, pages_to_scan 300"},
               {.t = 61, .avail = 0.1, .run = 1, P(300), .reason = "next adjustment in 59 s"},
               {.t = 119, .avail = 0.1, .run = 1, P(300), .reason = "next adjustment in 1 s"},
               {.t = 125, .avail = 0.1, .run = 1, P(600), .reason = "boost"},
               {.t = 180, .avail = 0.1, .run = 1, P(600), .reason = "next adjustment in 5 s"},
               {.t = 185, .avail = 0.1, .run = 1, P(900), .reason = "boost"}}},
    {TUNED, "boost-clamps-at-1250", .total_gib = 16,
     .steps = {{.avail = 0.1, .run = 0, .reason = "next adjustment"},
               {.t = 60, .avail = 0.1, .run = 1, P(300), .reason = "boost"},
               {.t = 120, .avail = 0.1, .run = 1, P(600), .reason = "boost"},
               {.t = 180, .avail = 0.1, .run = 1, P(900), .reason = "boost"},
               {.t = 240, .avail = 0.1, .run = 1, P(1200), .reason = "boost"},
               {.t = 300, .avail = 0.1, .run = 1, P(1250), .reason = "boost"},
               {.t = 360, .avail = 0.1, .run = 1, P(1250), .reason = "boost, pages_to_scan 1250"}}},
    {TUNED, "decay-clamps-at-64", .total_gib = 16,
     .steps = {{.avail = 0.5, .run = 0, .reason = "next adjustment"},
               {.t = 60, .avail = 0.5, .run = 1, P(64), .reason = ">= thres 3355443 kB: decay"},
               {.t = 120, .avail = 0.1, .run = 1, P(364), .reason = "boost"},
               {.t = 180, .avail = 0.5, .run = 1, P(314), .reason = "decay"},
               /* exactly at the threshold is a decay (-lt is strict) */
               {.t = 240, .avail = 0.2, .run = 1, P(264), .reason = "decay"}}},
    {TUNED, "stops-when-committed-fits", .total_gib = 64, .start_run = 1, .start_pages = 1000,
     .steps = {{.avail = 0.5, .run = 1, P(1000), .reason = "next adjustment"},
               {.t = 60,
                .avail = 0.5,
                .run = 0,
                .reason = "committed 16777216 + thres 13421772 < total 67108864 kB"},
               /* ...but not while free is under the threshold */
               {.t = 120, .avail = 0.1, .run = 1, P(300), .sleep_ms = 10, .reason = "boost"}}},
    {TUNED, "sleep-8gib-20ms", .total_gib = 8,
     .steps = {{.avail = 0.1, .run = 0, .reason = "next adjustment"},
               {.t = 60, .avail = 0.1, .run = 1, P(300), .sleep_ms = 20, .reason = "sleep 20 ms"}}},
    {TUNED, "sleep-4gib-40ms", .total_gib = 4,
     .steps = {{.avail = 0.1, .run = 0, .reason = "next adjustment"},
               {.t = 60, .avail = 0.1, .run = 1, P(300), .sleep_ms = 40, .reason = "sleep 40 ms"}}},
    {TUNED, "sleep-64gib-10ms", .total_gib = 64,
     .steps = {{.avail = 0.1, .run = 0, .reason = "next adjustment"},
               {.t = 60, .avail = 0.1, .run = 1, P(300), .sleep_ms = 10, .reason = "sleep 10 ms"}}},
    {TUNED, "uses-free-not-available", .total_gib = 16,
     .steps = {{.avail = 0.6, .free = 0.1, .run = 0, .reason = "next adjustment"},
               {.t = 60, .avail = 0.6, .free = 0.1, .run = 1, P(300), .reason = "boost"}}},
    {TUNED, "ignores-cpu-and-opt-out", .total_gib = 16, .guests = GUESTS_OPTED_OUT,
     .allow_unmerge = TRUE,
     .steps = {{.avail = 0.1, .run = 0, .reason = "next adjustment"},
               {.t = 60, .avail = 0.1, .cpu = 0.9, .run = 1, P(300), .reason = "boost"},
               {.t = 120, .avail = 0.1, .cpu = 0.9, .run = 1, P(600), .reason = "boost"}}},
    {TUNED, "no-guests", .total_gib = 16, .guests = GUESTS_NONE,
     .steps = {{.avail = 0.5, .run = 0, .reason = "next adjustment"},
               {.t = 60, .avail = 0.5, .run = 0, .reason = "committed 0 + thres"},
               /* the script runs KSM on low free memory, guests or not */
               {.t = 120, .avail = 0.1, .run = 1, P(300), .reason = "boost"}}},

    /* the advisor alone */
    {ADVISOR, "always-on",
     .steps = {{.avail = 0.9, .run = 1, .target_s = 200, .reason = "advisor_mode=scan-time"},
               {.t = 10,
                .avail = 0.1,
                .cpu = 0.5,
                .run = 1,
                .target_s = 200,
                .reason = "target 200 s"}}},
    {ADVISOR, "configured-target", .advisor_target_s = 120,
     .steps = {{.avail = 0.5, .run = 1, .target_s = 120, .reason = "target 120 s"}}},
    {ADVISOR, "kernel-without-advisor", .no_advisor = TRUE,
     .steps = {{.avail = 0.5,
                .run = 1,
                P(100),
                .sleep_ms = 20,
                .reason = "kernel has no advisor_mode: run=1 at its defaults"}}},
    {ADVISOR, "ignores-opt-out", .guests = GUESTS_OPTED_OUT, .allow_unmerge = TRUE,
     .steps = {{.avail = 0.9, .run = 1, .target_s = 200, .reason = "scan-time"}}},
};

static guint
guests_fill(GuestSet set, VtKsmGuest *guests)
{
        guint n = set == GUESTS_NONE ? 0 : 4;

        for (guint i = 0; i < n; i++) {
                guests[i] = (VtKsmGuest){
                    .mergeable_bytes = 4 * GiB,
                    .merging_pages = 0,
                    .rss_bytes = 4 * GiB,
                };
                if (set == GUESTS_OPTED_OUT || (set == GUESTS_HALF_OPTED_OUT && i % 2 == 0))
                        guests[i].opt_out = TRUE;
                if (set == GUESTS_NO_STATS)
                        guests[i].merging_pages = -1;
                if (set == GUESTS_MERGED)
                        guests[i].merging_pages = (gint64)((4 * GiB - 100 * MiB) / PAGE_SIZE);
        }
        return n;
}

/* Feeds the steps in order; between them the kernel's knobs follow each
 * decision, as the driver applies it. */
static void
test_tuner_case(gconstpointer data)
{
        const TunerCase *tc = data;
        guint64 total = (tc->total_gib ? tc->total_gib : 64) * GiB;
        VtKsmGuest guests[MAX_GUESTS];
        guint n_guests = guests_fill(tc->guests, guests);
        VtKsmKernel kernel = {
            .has_advisor = !tc->no_advisor,
            .has_pages_scanned = TRUE,
            .page_size = PAGE_SIZE,
            .pages_to_scan_max = tc->kernel_max ? tc->kernel_max : 100000,
        };
        VtKsmSample sample = {
            .run = tc->start_run,
            .pages_to_scan = tc->start_pages ? tc->start_pages : 100,
            .sleep_millisecs = 20,
            .pages_sharing = tc->sharing_mib * MiB / PAGE_SIZE,
            .pages_shared = tc->sharing_mib * MiB / PAGE_SIZE / 8,
            .has_pages_scanned = TRUE,
        };
        VtKsmTunerConfig config;
        VtKsmTunerState state = {0};
        gint64 prev_t = 0;
        double cpu_us = 0;

        vt_ksm_tuner_config_init(&config);
        config.allow_unmerge = tc->allow_unmerge;
        if (tc->advisor_target_s)
                config.advisor_target_scan_time_s = tc->advisor_target_s;

        for (guint i = 0; i < MAX_STEPS && tc->steps[i].reason != NULL; i++) {
                const Step *s = &tc->steps[i];
                gint64 now = (1000 + s->t) * G_USEC_PER_SEC;
                VtKsmHost host = {
                    .mem_total = total,
                    .mem_available = (guint64)(s->avail * (double)total),
                    .mem_free = (guint64)((s->free > 0 ? s->free : s->avail) * (double)total),
                    .psi_some_avg10 = s->psi,
                    .psi_full_avg10 = s->psi_full,
                    .n_cpus = 8,
                };
                VtKsmRates rates = {0};
                gboolean have_rates = i > 0 && !s->first && s->t > prev_t;
                VtKsmTunerInput input = {
                    .host = &host,
                    .guests = guests,
                    .n_guests = n_guests,
                    .kernel = &kernel,
                    .sample = &sample,
                    .rates = have_rates ? &rates : NULL,
                    .now_us = now,
                };
                VtKsmDecision d;

                if (have_rates) {
                        double interval_s = (double)(s->t - prev_t);

                        rates.interval_us = (s->t - prev_t) * G_USEC_PER_SEC;
                        rates.saved_bytes = sample.pages_sharing * PAGE_SIZE;
                        rates.ksmd_cpu_share = s->cpu_unknown ? -1 : s->cpu;
                        rates.yield_bytes_per_cpu_s = s->cpu_unknown ? 0 : s->yield_kib * 1024;
                        rates.saved_per_s =
                            s->cpu_unknown ? s->saved_kib_s * 1024 : s->yield_kib * 1024 * s->cpu;
                        rates.scanned_per_s = (double)sample.pages_to_scan * 50;
                        cpu_us += s->cpu * interval_s * G_USEC_PER_SEC;
                }
                sample.time_us = now;
                sample.full_scans = s->scans;
                sample.ksmd_cpu_us = s->cpu_unknown ? -1 : (gint64)cpu_us;

                tc->decide(&input, &config, &state, &d);

                g_test_message("step %u, t=%" G_GINT64_FORMAT
                               " s: run=%u pages_to_scan=%" G_GUINT64_FORMAT
                               " sleep=%" G_GUINT64_FORMAT " advisor=%d/%" G_GUINT64_FORMAT
                               " backoff_until=%" G_GINT64_FORMAT ": %s",
                               i, s->t, d.run, d.pages_to_scan, d.sleep_millisecs, d.use_advisor,
                               d.advisor_target_scan_time_s, state.backoff_until_us, d.reason);

                /* What holds for every decision. */
                g_assert_nonnull(d.reason);
                g_assert_cmpuint(strlen(d.reason), >, 0);
                g_assert_cmpuint(d.run, <=, 2);
                if (d.run == 2)
                        g_assert_true(config.allow_unmerge);
                if (d.use_advisor)
                        g_assert_true(kernel.has_advisor);
                if (d.run == 1 && !d.use_advisor) {
                        g_assert_cmpuint(d.pages_to_scan, >=, 1);
                        g_assert_cmpuint(d.pages_to_scan, <=, kernel.pages_to_scan_max);
                        g_assert_cmpuint(d.sleep_millisecs, >=, 1);
                }

                /* What this step expects. */
                g_assert_cmpuint(d.run, ==, s->run);
                if (s->lo || s->hi) {
                        g_assert_false(d.use_advisor);
                        g_assert_cmpuint(d.pages_to_scan, >=, s->lo);
                        g_assert_cmpuint(d.pages_to_scan, <=, s->hi);
                }
                if (s->sleep_ms)
                        g_assert_cmpuint(d.sleep_millisecs, ==, s->sleep_ms);
                g_assert_cmpint(d.use_advisor, ==, s->target_s > 0);
                if (s->target_s)
                        g_assert_cmpuint(d.advisor_target_scan_time_s, ==, s->target_s);
                if (s->backoff == YES)
                        g_assert_cmpint(state.backoff_until_us, >, now);
                else if (s->backoff == NO)
                        g_assert_cmpint(state.backoff_until_us, <=, now);
                if (strstr(d.reason, s->reason) == NULL)
                        g_error("step %u: reason '%s' lacks '%s'", i, d.reason, s->reason);

                /* The driver applies it. */
                if (d.run == 2) {
                        sample.pages_sharing = 0;
                        sample.pages_shared = 0;
                        sample.run = 0;
                } else {
                        sample.run = d.run;
                }
                if (!d.use_advisor && d.pages_to_scan > 0)
                        sample.pages_to_scan = d.pages_to_scan;
                if (d.sleep_millisecs > 0)
                        sample.sleep_millisecs = d.sleep_millisecs;
                prev_t = s->t;
        }
}

static void
test_tuner_config_defaults(void)
{
        VtKsmTunerConfig config;

        vt_ksm_tuner_config_init(&config);
        g_assert_cmpfloat(config.cpu_cap, ==, 0.10);
        g_assert_cmpfloat(config.start_available, <, config.stop_available);
        g_assert_cmpfloat(config.start_psi_some, >, 0);
        g_assert_cmpfloat(config.min_yield_bytes_per_cpu_s, ==, 1024.0 * 1024.0);
        g_assert_cmpuint(config.pages_to_scan_min, ==, 100);
        g_assert_cmpuint(config.pages_to_scan_max, >, config.pages_to_scan_min);
        g_assert_cmpuint(config.sleep_millisecs, ==, 20);
        g_assert_false(config.allow_unmerge);
        g_assert_cmpuint(config.advisor_target_scan_time_s, ==, 200);
}

/* A host whose MemTotal could not be read: nothing changes, nothing breaks. */
static void
test_tuner_mem_total_unknown(void)
{
        VtKsmHost host = {0};
        VtKsmKernel kernel = {.page_size = PAGE_SIZE, .pages_to_scan_max = 100000};
        VtKsmSample sample = {.run = 1, .pages_to_scan = 777, .sleep_millisecs = 20};
        VtKsmTunerInput input = {.host = &host, .kernel = &kernel, .sample = &sample};
        VtKsmTunerConfig config;
        VtKsmTunerState state = {0};
        VtKsmDecision d;

        vt_ksm_tuner_config_init(&config);
        vt_ksm_tuner_decide(&input, &config, &state, &d);
        g_assert_cmpuint(d.run, ==, 1);
        g_assert_cmpuint(d.pages_to_scan, ==, 777);
        g_assert_nonnull(strstr(d.reason, "MemTotal unknown"));

        state = (VtKsmTunerState){.scratch = 1};
        input.now_us = 10 * G_USEC_PER_SEC;
        vt_ksm_tuner_ksmtuned_decide(&input, &config, &state, &d);
        g_assert_cmpuint(d.run, ==, 1);
        g_assert_cmpuint(d.pages_to_scan, ==, 777);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        for (gsize i = 0; i < G_N_ELEMENTS(tuner_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/ksm/tuner/%s/%s", tuner_cases[i].policy, tuner_cases[i].name);

                g_test_add_data_func(path, &tuner_cases[i], test_tuner_case);
        }
        g_test_add_func("/ksm/tuner/config/defaults", test_tuner_config_defaults);
        g_test_add_func("/ksm/tuner/mem-total-unknown", test_tuner_mem_total_unknown);

        return g_test_run();
}
