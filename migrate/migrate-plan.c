/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The migration planner: which guest to move off a critical host, where, and why. Pure. */
#include <string.h>

#include "migrate/migrate-plan.h"

#include "common/vt-size.h"

/*
 * Theory of operation (docs/migration.md, "Planner", says why).
 *
 * Gates, in this order; the first that holds answers NOTHING with its code:
 *   - the host is not critical;
 *   - the balloon and KSM can bring it back: the gap to the exit line
 *     (exit_fraction of the budget, else MemTotal, less the free memory) is
 *     no more than what is left to reclaim above every guest's floor plus
 *     the KSM yield expected. Otherwise a move is due, and what it should
 *     give back (the need) is the gap to the target line (target_fraction,
 *     the balloon's plenty line) less that: a move that leaves the host
 *     just out of critical is followed by another at the next rise;
 *   - max_outgoing migrations run already;
 *   - the host has been critical for fewer than hysteresis_ticks ticks, or
 *     its last outgoing migration ended less than host_cooldown_us ago:
 *     these two hold a move back but not a measurement (below), so that
 *     the rate is known when the move may start.
 *
 * Then every guest is weighed. A guest opted out, pinned, migrating, in
 * its cooldown, or relieving less than min_relief_bytes is skipped. The
 * relief of a move is what the host gets back beyond what the balloon
 * would take from that guest anyway: min(actual, want), since the
 * reclaimable figure already counts what it holds above want. Its cost is
 * the cost model's bytes on the wire; the figure compared is bytes on the
 * wire per byte of the need it meets, min(relief, need): a guest much
 * larger than the need pays for the excess, so the smallest guest that
 * meets the need wins over a larger one that is as quiet. A move that
 * relieves enough to take the host out of critical (the gap to the exit
 * line less what the balloon and KSM give) ranks before any that does not,
 * whatever their cost: one that does not is followed by another after the
 * cooldown, with the host critical meanwhile.
 *
 * For each guest, the peers that may take it: not short or critical, not
 * the peer that sent it within pingpong_us, and with room for it
 * (max(actual, want)) beyond what moves to it now and its own headroom.
 * Among them the cheapest (a peer may have its own bandwidth), then the
 * one left with the most room.
 *
 * A guest whose dirty rate is known (measured within dirty_max_age_us, no
 * measurement under way) gets its prediction; the moves that converge
 * compete. A guest whose rate is unknown gets a lower bound: the
 * prediction with no dirtying. When the best lower bound beats the best
 * known move (or there is none), measuring that guest comes first, over a
 * window equal to its first pass (a longer window reads a lower rate),
 * and over the shortest window too (the rate the later, shorter passes
 * meet; the first pass's reading then tells the working set):
 * the daemon measures on demand, at most max_measuring guests at a time,
 * only when the figure can change the choice; while the best of them is
 * being measured the plan waits for it. Ties go to the shorter downtime, then the
 * larger relief, then the first guest in the input.
 */

/* A move weighed: one guest, its best peer, the prediction. */
typedef struct {
        gboolean valid;
        guint guest;
        guint peer;
        guint64 relief;
        gboolean converges; /* the prediction's, for comparing */
        gint64 downtime_us; /* ditto */
        gboolean ends;      /* relieves enough to take the host out of critical */
        double cpb;         /* wire bytes per byte of the need met */
        double room;
        VtMigrateCost cost;
} Candidate;

/* Why a guest is not weighed. */
typedef enum {
        SKIP_OPT_OUT,
        SKIP_PINNED,
        SKIP_MIGRATING,
        SKIP_COOLDOWN,
        SKIP_SMALL,
        SKIP_NONE,
} Skip;

/* The weighing of every guest. */
typedef struct {
        guint64 need;      /* what a move should give back (to the target line) */
        guint64 need_exit; /* what takes the host out of critical (to the exit line) */
        Candidate move;    /* the best known move that converges */
        Candidate measure; /* the best lower bound among unknown rates not being measured */
        Candidate waiting; /* ... among those being measured */
        Candidate stuck;   /* the best known move that does not converge */
        guint skipped[SKIP_NONE];
        guint n_weighed;   /* guests that may move */
        guint n_fit;       /* ... and fit a peer */
        guint n_measuring; /* guests being measured, whatever else */
} Scan;

/* What the weighing concludes. */
typedef enum {
        PICK_MOVE,
        PICK_MEASURE,
        PICK_WAIT,
        PICK_NOBODY,
} Pick;

#define SIZE(bytes) VT_SIZE_STR(bytes, VT_SIZE_STYLE_SHORT)

/**
 * vt_migrate_plan_config_init:
 * @config: (out caller-allocates): the tunables to fill
 *
 * The defaults, and why each.
 */
void
vt_migrate_plan_config_init(VtMigratePlanConfig *config)
{
        g_return_if_fail(config != NULL);

        *config = (VtMigratePlanConfig){
            /* Proxmox CRS holds an imbalance 3 rounds before acting: a
             * burst the balloon absorbs in a tick or two moves nothing. */
            .hysteresis_ticks = 3,
            /* A guest that just arrived (or failed to leave) settles: its
             * rate and its want are the new host's to learn. */
            .guest_cooldown_us = 10 * 60 * G_TIME_SPAN_SECOND,
            /* The host's figures catch up with a move before the next. */
            .host_cooldown_us = 60 * G_TIME_SPAN_SECOND,
            /* A guest sent here is not sent back within the hour. */
            .pingpong_us = 60 * 60 * G_TIME_SPAN_SECOND,
            /* One at a time: a second stream halves the first's bandwidth
             * and doubles its passes (Watcher, oVirt, KubeVirt allow 2). */
            .max_outgoing = 1,
            /* Less than this is the balloon's business, not a move's. */
            .min_relief_bytes = 256 * VT_SIZE_MIB,
            /* The balloon policy leaves critical at its short line (5 %)
             * plus its hysteresis (3 %): balloon/balloon-policy-common.c. */
            .exit_fraction = 0.08,
            /* A move is costly: one that leaves the host just out of
             * critical is followed by another at the next rise. Aim for the
             * balloon's plenty line, where guests get what they want. */
            .target_fraction = 0.15,
            /* QEMU samples a few hundred pages per GiB: cheap, but each
             * measurement is a QMP or libvirt job of its own. */
            .max_measuring = 2,
            /* A rate two minutes old still describes the workload; older,
             * the choice is worth a fresh look. */
            .dirty_max_age_us = 120 * G_TIME_SPAN_SECOND,
            .window_min_us = VT_MIGRATE_PLAN_WINDOW_MIN_US,
            .window_max_us = VT_MIGRATE_PLAN_WINDOW_MAX_US,
        };
}

/**
 * vt_migrate_plan_link_init:
 * @link: (out caller-allocates): the link to fill
 *
 * QEMU 7.2's defaults (128 MiB/s, 300 ms downtime), 30 passes at most, no
 * switch-over time.
 */
void
vt_migrate_plan_link_init(VtMigratePlanLink *link)
{
        g_return_if_fail(link != NULL);

        *link = (VtMigratePlanLink){
            .bandwidth = VT_MIGRATE_COST_BANDWIDTH_DEFAULT,
            .downtime_limit_us = VT_MIGRATE_COST_DOWNTIME_DEFAULT,
            .max_passes = 30,
        };
}

const char *
vt_migrate_plan_action_to_string(VtMigratePlanAction action)
{
        static const char *const names[] = {"nothing", "move", "measure"};

        G_STATIC_ASSERT(G_N_ELEMENTS(names) == VT_MIGRATE_PLAN_ACTION_MAX);
        return (guint)action < VT_MIGRATE_PLAN_ACTION_MAX ? names[action] : "unknown";
}

const char *
vt_migrate_plan_why_to_string(VtMigratePlanWhy why)
{
        static const char *const names[] = {
            "move",     "measure",  "not-critical", "hysteresis",     "recoverable", "busy",
            "cooldown", "no-guest", "no-room",      "no-convergence", "measuring",
        };

        G_STATIC_ASSERT(G_N_ELEMENTS(names) == VT_MIGRATE_PLAN_WHY_MAX);
        return (guint)why < VT_MIGRATE_PLAN_WHY_MAX ? names[why] : "unknown";
}

/* ---- one guest ---- */

static guint64
guest_want(const VtMigratePlanGuest *g)
{
        return g->want_bytes != 0 ? g->want_bytes : g->actual_bytes;
}

/* What the host gets back beyond what the balloon would take anyway. */
static guint64
guest_relief(const VtMigratePlanGuest *g)
{
        return MIN(g->actual_bytes, guest_want(g));
}

/* What it takes on the peer: it arrives at actual and grows to want. */
static guint64
guest_arrival(const VtMigratePlanGuest *g)
{
        guint64 a = MAX(g->actual_bytes, guest_want(g));

        return g->mem_bytes != 0 ? MIN(a, g->mem_bytes) : a;
}

static gboolean
since_within(gint64 now_us, gint64 then_us, gint64 span_us)
{
        return then_us != 0 && now_us - then_us < span_us;
}

static Skip
guest_skip(const VtMigratePlanGuest *g, const VtMigratePlanConfig *config, gint64 now_us)
{
        if (g->opt_out)
                return SKIP_OPT_OUT;
        if (g->pinned)
                return SKIP_PINNED;
        if (g->migrating)
                return SKIP_MIGRATING;
        if (since_within(now_us, g->last_migrated_us, config->guest_cooldown_us))
                return SKIP_COOLDOWN;
        if (guest_relief(g) < config->min_relief_bytes || guest_relief(g) == 0)
                return SKIP_SMALL;
        return SKIP_NONE;
}

static gboolean
guest_rate_known(const VtMigratePlanGuest *g, const VtMigratePlanConfig *config, gint64 now_us)
{
        return g->dirty_measured_us != 0 && !g->measuring &&
               now_us - g->dirty_measured_us <= config->dirty_max_age_us;
}

/* The prediction for @g over @bandwidth; without @known, dirtying nothing. */
static void
guest_predict(const VtMigratePlanGuest *g, const VtMigratePlanLink *link, guint64 bandwidth,
              gboolean known, VtMigrateCost *ret_cost)
{
        VtMigrateCostInput in;

        vt_migrate_cost_input_init(&in);
        in.mem_bytes = g->mem_bytes != 0 ? g->mem_bytes : g->actual_bytes;
        in.resident_bytes = g->resident_bytes != 0 ? g->resident_bytes : g->actual_bytes;
        if (known) {
                in.dirty_rate = g->dirty_rate;
                in.dirty_window_us = g->dirty_window_us;
                in.dirty_rate_short = g->dirty_rate_short;
                in.dirty_window_short_us = g->dirty_window_short_us;
        }
        in.bandwidth = bandwidth;
        in.downtime_limit_us = link->downtime_limit_us;
        in.max_passes = link->max_passes;
        in.switchover_us = link->switchover_us;
        vt_migrate_cost_predict(&in, ret_cost);
}

/* ---- the peers ---- */

/* Room left on @p once @g is there, bytes; negative: it does not fit. */
static double
peer_room_after(const VtMigratePlanPeer *p, const VtMigratePlanGuest *g)
{
        return (double)p->free_bytes - (double)p->incoming_bytes - (double)guest_arrival(g) -
               (double)p->headroom_bytes;
}

static gboolean
peer_may_take(const VtMigratePlanPeer *p, const VtMigratePlanGuest *g,
              const VtMigratePlanConfig *config, gint64 now_us)
{
        if (p->state >= VT_HOST_STATE_SHORT)
                return FALSE;
        if (p->last_sent_guest != NULL && g->name != NULL &&
            strcmp(p->last_sent_guest, g->name) == 0 &&
            since_within(now_us, p->last_sent_us, config->pingpong_us))
                return FALSE;
        return peer_room_after(p, g) >= 0;
}

/* Is @a a better move than @b? Converging first, then ending the critical
 * state, then cheaper, shorter downtime, larger relief, more room left; a
 * tie keeps @b. */
static gboolean
candidate_better(const Candidate *a, const Candidate *b)
{
        if (!b->valid)
                return TRUE;
        if (a->converges != b->converges)
                return a->converges;
        if (a->ends != b->ends)
                return a->ends;
        if (a->cpb != b->cpb)
                return a->cpb < b->cpb;
        if (a->downtime_us != b->downtime_us)
                return a->downtime_us < b->downtime_us;
        if (a->relief != b->relief)
                return a->relief > b->relief;
        return a->room > b->room;
}

static double
cost_per_byte(const VtMigrateCost *cost, guint64 relief, guint64 need)
{
        guint64 met = MIN(relief, need);

        return met != 0 ? (double)cost->bytes_sent / (double)met : G_MAXDOUBLE;
}

/*
 * The best peer for guest @gi: fills @ret (invalid when no peer may take
 * it). @link_cost is its prediction over the plan's link, reused for every
 * peer without a bandwidth of its own.
 */
static void
guest_best_peer(const VtMigratePlanInput *input, const VtMigratePlanConfig *config, guint gi,
                gboolean known, const Scan *scan, const VtMigrateCost *link_cost, Candidate *ret)
{
        const VtMigratePlanGuest *g = &input->guests[gi];
        Candidate c = {.valid = TRUE, .guest = gi, .relief = guest_relief(g)};
        VtMigrateCost own, own_best;
        const VtMigrateCost *best_cost = link_cost;

        c.ends = c.relief >= scan->need_exit;
        ret->valid = FALSE;
        /* The prediction is copied once, for the peer chosen: with hundreds
         * of peers the copies would cost more than the rest. */
        for (guint pi = 0; pi < input->n_peers; pi++) {
                const VtMigratePlanPeer *p = &input->peers[pi];
                const VtMigrateCost *cost = link_cost;

                if (!peer_may_take(p, g, config, input->now_us))
                        continue;
                if (p->bandwidth != 0 && p->bandwidth != input->link->bandwidth) {
                        guest_predict(g, input->link, p->bandwidth, known, &own);
                        cost = &own;
                }
                c.peer = pi;
                c.room = peer_room_after(p, g);
                c.converges = cost->converges;
                c.downtime_us = cost->downtime_us;
                c.cpb = cost_per_byte(cost, c.relief, scan->need);
                if (!candidate_better(&c, ret))
                        continue;
                *ret = c;
                if (cost == &own) {
                        own_best = own;
                        best_cost = &own_best;
                } else {
                        best_cost = link_cost;
                }
        }
        if (ret->valid)
                ret->cost = *best_cost;
}

/* ---- the scan ---- */

static void
scan_keep(Candidate *best, const Candidate *c)
{
        if (candidate_better(c, best))
                *best = *c;
}

static void
scan_guests(const VtMigratePlanInput *input, const VtMigratePlanConfig *config, Scan *scan)
{
        for (guint gi = 0; gi < input->n_guests; gi++) {
                const VtMigratePlanGuest *g = &input->guests[gi];
                Skip skip = guest_skip(g, config, input->now_us);
                gboolean known;
                VtMigrateCost link_cost;
                Candidate c;

                scan->n_measuring += g->measuring ? 1 : 0;
                if (skip != SKIP_NONE) {
                        scan->skipped[skip]++;
                        continue;
                }
                scan->n_weighed++;
                known = guest_rate_known(g, config, input->now_us);
                guest_predict(g, input->link, input->link->bandwidth, known, &link_cost);
                guest_best_peer(input, config, gi, known, scan, &link_cost, &c);
                if (!c.valid)
                        continue;
                scan->n_fit++;
                if (!known)
                        scan_keep(g->measuring ? &scan->waiting : &scan->measure, &c);
                else if (c.cost.converges)
                        scan_keep(&scan->move, &c);
                else
                        scan_keep(&scan->stuck, &c);
        }
}

/* ---- the decision ---- */

static void
decision_reset(VtMigratePlanDecision *d)
{
        *d = (VtMigratePlanDecision){
            .action = VT_MIGRATE_PLAN_NOTHING,
            .guest_index = VT_MIGRATE_PLAN_NONE_INDEX,
            .peer_index = VT_MIGRATE_PLAN_NONE_INDEX,
        };
}

static void decision_nothing(VtMigratePlanDecision *d, VtMigratePlanWhy why, const char *format,
                             ...) G_GNUC_PRINTF(3, 4);

static void
decision_nothing(VtMigratePlanDecision *d, VtMigratePlanWhy why, const char *format, ...)
{
        va_list ap;

        d->action = VT_MIGRATE_PLAN_NOTHING;
        d->why = why;
        va_start(ap, format);
        g_vsnprintf(d->reason, sizeof(d->reason), format, ap);
        va_end(ap);
}

static void
decision_take(VtMigratePlanDecision *d, const VtMigratePlanInput *input, const Candidate *c)
{
        d->guest_index = c->guest;
        d->guest = input->guests[c->guest].name;
        d->relief_bytes = c->relief;
        d->cost_per_byte = c->cpb;
        d->cost = c->cost;
}

/* "3.2 s", "forever". */
static const char *
time_text(gint64 us, char *buf, gsize len)
{
        if (us == VT_MIGRATE_COST_FOREVER)
                g_snprintf(buf, len, "forever");
        else
                g_snprintf(buf, len, "%.1f s", (double)us / G_USEC_PER_SEC);
        return buf;
}

/*
 * The gates on the host's state. Returns TRUE with @d filled when one
 * holds; else sets the needs of @scan: what a move should give back (the
 * gap to the target line less what the balloon and KSM can) and what
 * takes the host out of critical (the same to the exit line).
 */
static gboolean
gates_host(const VtMigratePlanHost *h, const VtMigratePlanConfig *config, VtMigratePlanDecision *d,
           Scan *scan)
{
        guint64 reference = h->budget_bytes != 0 ? h->budget_bytes : h->mem_total;
        double exit_line = CLAMP(config->exit_fraction, 0.0, 1.0) * (double)reference;
        double target =
            MAX(CLAMP(config->target_fraction, 0.0, 1.0) * (double)reference, exit_line);
        double gap = exit_line - (double)h->free_bytes;
        double recoverable = (double)h->reclaimable_bytes + (double)h->ksm_yield_bytes;

        if (!h->critical) {
                decision_nothing(d, VT_MIGRATE_PLAN_WHY_NOT_CRITICAL, "host not critical");
                return TRUE;
        }
        if (gap <= 0) {
                decision_nothing(d, VT_MIGRATE_PLAN_WHY_RECOVERABLE,
                                 "free %s is above the exit line %s: the balloon answers the "
                                 "stalls",
                                 SIZE(h->free_bytes), SIZE(exit_line));
                return TRUE;
        }
        if (gap <= recoverable) {
                decision_nothing(d, VT_MIGRATE_PLAN_WHY_RECOVERABLE,
                                 "%s short of the exit line; balloon (%s) and KSM (%s) can give "
                                 "it back",
                                 SIZE(gap), SIZE(h->reclaimable_bytes), SIZE(h->ksm_yield_bytes));
                return TRUE;
        }
        scan->need = d->need_bytes = (guint64)(target - (double)h->free_bytes - recoverable + 0.5);
        scan->need_exit = (guint64)(gap - recoverable + 0.5);
        return FALSE;
}

/*
 * What holds a move back for now: the hysteresis, the outgoing migrations
 * under way, the host's cooldown. Returns the code (with @d filled), or
 * %VT_MIGRATE_PLAN_WHY_MOVE when nothing does.
 */
static VtMigratePlanWhy
gates_hold(const VtMigratePlanInput *input, const VtMigratePlanConfig *config,
           VtMigratePlanDecision *d)
{
        const VtMigratePlanHost *h = input->host;
        guint most = MAX(config->max_outgoing, 1);
        char t1[24], t2[24];

        if (h->outgoing >= most) {
                decision_nothing(d, VT_MIGRATE_PLAN_WHY_BUSY,
                                 "%u outgoing migration%s under way, %u allowed", h->outgoing,
                                 h->outgoing == 1 ? "" : "s", most);
                return d->why;
        }
        if (h->critical_ticks < config->hysteresis_ticks) {
                decision_nothing(d, VT_MIGRATE_PLAN_WHY_HYSTERESIS,
                                 "critical for %u tick%s of the %u a move waits for",
                                 h->critical_ticks, h->critical_ticks == 1 ? "" : "s",
                                 config->hysteresis_ticks);
                return d->why;
        }
        if (since_within(input->now_us, h->last_outgoing_end_us, config->host_cooldown_us)) {
                decision_nothing(d, VT_MIGRATE_PLAN_WHY_HOST_COOLDOWN,
                                 "last outgoing migration ended %s ago, cooldown %s",
                                 time_text(input->now_us - h->last_outgoing_end_us, t1, sizeof(t1)),
                                 time_text(config->host_cooldown_us, t2, sizeof(t2)));
                return d->why;
        }
        return VT_MIGRATE_PLAN_WHY_MOVE;
}

/* "critical 5 ticks, 1.2 GiB to free after balloon and KSM (300 MiB)". */
static void
host_text(const VtMigratePlanInput *input, guint64 need, char *buf, gsize len)
{
        const VtMigratePlanHost *h = input->host;

        g_snprintf(buf, len, "critical %u ticks, %s to free after balloon and KSM (%s)",
                   h->critical_ticks, SIZE(need),
                   SIZE((double)h->reclaimable_bytes + (double)h->ksm_yield_bytes));
}

/*
 * A guest whose rate is unknown and whose least cost beats the best known
 * move is measured first, up to max_measuring at once; while the best of
 * them is being measured, the plan waits for it.
 */
static Pick
scan_pick(const Scan *scan, const VtMigratePlanConfig *config)
{
        const Candidate *unknown =
            candidate_better(&scan->waiting, &scan->measure) ? &scan->waiting : &scan->measure;
        const Candidate *move = &scan->move;

        if (unknown->valid && candidate_better(unknown, move)) {
                if (scan->measure.valid && candidate_better(&scan->measure, move) &&
                    scan->n_measuring < MAX(config->max_measuring, 1))
                        return PICK_MEASURE;
                return PICK_WAIT;
        }
        return move->valid ? PICK_MOVE : PICK_NOBODY;
}

static void
decide_nobody(const Scan *scan, VtMigratePlanDecision *d, const VtMigratePlanInput *input)
{
        if (scan->n_weighed == 0) {
                decision_nothing(d, VT_MIGRATE_PLAN_WHY_NO_GUEST,
                                 "no guest may move: %u opted out, %u pinned, %u migrating, "
                                 "%u in cooldown, %u relieving too little",
                                 scan->skipped[SKIP_OPT_OUT], scan->skipped[SKIP_PINNED],
                                 scan->skipped[SKIP_MIGRATING], scan->skipped[SKIP_COOLDOWN],
                                 scan->skipped[SKIP_SMALL]);
        } else if (scan->n_fit == 0) {
                decision_nothing(d, VT_MIGRATE_PLAN_WHY_NO_ROOM,
                                 "no peer of %u keeps its headroom with any of the %u guests "
                                 "that may move",
                                 input->n_peers, scan->n_weighed);
        } else {
                const Candidate *s = &scan->stuck;

                decision_nothing(d, VT_MIGRATE_PLAN_WHY_NO_CONVERGENCE,
                                 "none of the %u guests that fit converges; best '%s' to '%s': %s",
                                 scan->n_fit, input->guests[s->guest].name,
                                 input->peers[s->peer].name, s->cost.reason);
        }
}

static void
decide_measure(const Scan *scan, VtMigratePlanDecision *d, const VtMigratePlanInput *input,
               const VtMigratePlanConfig *config, const char *host)
{
        const Candidate *m = &scan->measure;
        const VtMigratePlanGuest *g = &input->guests[m->guest];
        char against[160], t[24];

        decision_take(d, input, m);
        d->action = VT_MIGRATE_PLAN_MEASURE;
        d->why = VT_MIGRATE_PLAN_WHY_MEASURE;
        d->window_us = CLAMP(m->cost.first_pass_us, config->window_min_us,
                             MAX(config->window_max_us, config->window_min_us));
        d->window_short_us = d->window_us > config->window_min_us ? config->window_min_us : 0;
        if (scan->move.valid)
                g_snprintf(against, sizeof(against), "against %.2f for '%s'", scan->move.cpb,
                           input->guests[scan->move.guest].name);
        else
                g_snprintf(against, sizeof(against), "no known move converges");
        g_snprintf(d->reason, sizeof(d->reason),
                   "measure '%s' over %s: %s; relieves %s at %.2f bytes sent per byte or more, %s",
                   g->name, time_text(d->window_us, t, sizeof(t)), host, SIZE(m->relief), m->cpb,
                   against);
}

static void
decide_wait(const Scan *scan, VtMigratePlanDecision *d, const VtMigratePlanInput *input,
            const VtMigratePlanConfig *config)
{
        if (scan->waiting.valid) {
                decision_take(d, input, &scan->waiting);
                decision_nothing(d, VT_MIGRATE_PLAN_WHY_MEASURING,
                                 "waiting for the dirty rate of '%s'", d->guest);
        } else {
                decision_nothing(d, VT_MIGRATE_PLAN_WHY_MEASURING,
                                 "waiting for the %u measurements under way (%u at once)",
                                 scan->n_measuring, MAX(config->max_measuring, 1));
        }
}

static void
decide_move(const Scan *scan, VtMigratePlanDecision *d, const VtMigratePlanInput *input,
            const char *host)
{
        const Candidate *c = &scan->move;

        decision_take(d, input, c);
        d->action = VT_MIGRATE_PLAN_MOVE;
        d->why = VT_MIGRATE_PLAN_WHY_MOVE;
        d->peer_index = c->peer;
        d->peer = input->peers[c->peer].name;
        g_snprintf(d->reason, sizeof(d->reason),
                   "move '%s' to '%s': %s; relieves %s at %.2f bytes sent per byte; %s", d->guest,
                   d->peer, host, SIZE(c->relief), c->cpb, c->cost.reason);
}

/**
 * vt_migrate_plan_decide:
 * @input: the snapshot (borrowed; names in the decision point into it)
 * @config: the tunables
 * @ret_decision: (out caller-allocates): the decision
 *
 * Decides whether this host moves a guest now, which and where, or first
 * measures a guest's dirty rate; or why nothing. Pure: reads no clock
 * (@input's now_us is the time), makes no call outside GLib and the cost
 * model. Never fails: absurd inputs give a decision to do nothing or a
 * prediction with clamped figures.
 */
void
vt_migrate_plan_decide(const VtMigratePlanInput *input, const VtMigratePlanConfig *config,
                       VtMigratePlanDecision *ret_decision)
{
        Scan scan = {0};
        char host[192];
        VtMigratePlanWhy hold;
        Pick pick;

        g_return_if_fail(ret_decision != NULL);
        decision_reset(ret_decision);
        g_return_if_fail(input != NULL && input->host != NULL && input->link != NULL &&
                         config != NULL);
        g_return_if_fail(input->n_guests == 0 || input->guests != NULL);
        g_return_if_fail(input->n_peers == 0 || input->peers != NULL);

        if (gates_host(input->host, config, ret_decision, &scan))
                return;
        hold = gates_hold(input, config, ret_decision);
        if (hold == VT_MIGRATE_PLAN_WHY_BUSY)
                return;
        scan_guests(input, config, &scan);
        pick = scan_pick(&scan, config);
        if (hold != VT_MIGRATE_PLAN_WHY_MOVE) {
                /* Held back: only a measurement goes ahead, so that the
                 * rate is there when the move may start. */
                if (pick == PICK_MEASURE) {
                        g_snprintf(host, sizeof(host), "ahead of a move (%s)",
                                   ret_decision->reason);
                        decide_measure(&scan, ret_decision, input, config, host);
                }
                return;
        }
        host_text(input, scan.need, host, sizeof(host));
        if (pick == PICK_MEASURE)
                decide_measure(&scan, ret_decision, input, config, host);
        else if (pick == PICK_WAIT)
                decide_wait(&scan, ret_decision, input, config);
        else if (pick == PICK_MOVE)
                decide_move(&scan, ret_decision, input, host);
        else
                decide_nobody(&scan, ret_decision, input);
}
