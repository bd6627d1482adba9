/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided's control-socket commands (docs/control-protocol.md). */
#include <math.h>

#include "common/vt-size.h"
#include "host/control/control-args.h"
#include "host/control/control-memdev.h"
#include "host/daemon-private.h"
#include "host/daemon-recorder.h"
#include "vt-config.h"

#define MAX_BYTES      (G_GUINT64_CONSTANT(16) << 40)
#define MAX_SHARES     100000
#define EVENT_NEVER_MS (-1)

/* Commands without arguments. */
static const char *const no_args[] = {NULL};

static json_object *
json_bytes(guint64 bytes)
{
        return json_object_new_int64((gint64)MIN(bytes, (guint64)G_MAXINT64));
}

/* A percentage that is NaN or negative (unknown) reads as null. */
static json_object *
json_percent(double value)
{
        return isfinite(value) && value >= 0 ? json_object_new_double(value) : NULL;
}

static gint64
age_ms(gint64 now_us, gint64 then_us)
{
        return then_us > 0 ? (now_us - then_us) / 1000 : EVENT_NEVER_MS;
}

/* The most the guest can hold: its boot memory, plus its virtio-mem
 * device's maximum when that device is driven (as the policy sees it). */
static guint64
guest_ceiling(VtGuest *guest)
{
        VtBalloonGuest snapshot;

        vt_guest_snapshot(guest, g_get_monotonic_time(), &snapshot);
        return MAX(snapshot.max_bytes, vt_guest_get_max_bytes(guest));
}

/* What the guest holds in the policy's currency (its targets' and
 * decisions'): the balloon's actual, plus what virtio-mem plugged when the
 * device is driven (QEMU's actual does not count it). */
static guint64
guest_memory(VtGuest *guest)
{
        VtBalloonGuest snapshot;

        vt_guest_snapshot(guest, g_get_monotonic_time(), &snapshot);
        return snapshot.actual_bytes;
}

static json_object *
policy_to_json(VtDaemonGuest *dg)
{
        VtBalloonGuestConfig c = dg->policy;
        guint64 max = guest_ceiling(dg->guest);
        json_object *o = json_object_new_object();

        json_object_object_add(o, "min", c.min_bytes > 0 ? json_bytes(c.min_bytes) : NULL);
        json_object_object_add(
            o, "max", json_bytes(c.max_bytes > 0 && c.max_bytes < max ? c.max_bytes : max));
        json_object_object_add(o, "shares",
                               json_object_new_int((int)vt_balloon_guest_config_get_shares(&c)));
        json_object_object_add(o, "opt_out", json_object_new_boolean(c.opt_out));
        json_object_object_add(o, "ksm_opt_out", json_object_new_boolean(dg->ksm_opt_out));
        json_object_object_add(o, "source", json_object_new_string(dg->policy_source));
        return o;
}

static json_object *
stats_to_json(VtGuest *guest, gint64 now_us)
{
        const VtGuestStats *s = vt_guest_get_stats(guest);
        json_object *o;

        if (s == NULL || s->updated_us == 0)
                return NULL;
        o = json_object_new_object();
        json_object_object_add(o, "total", s->total > 0 ? json_bytes(s->total) : NULL);
        json_object_object_add(o, "free", json_bytes(s->free));
        json_object_object_add(o, "available", s->available > 0 ? json_bytes(s->available) : NULL);
        json_object_object_add(o, "disk_caches", json_bytes(s->disk_caches));
        json_object_object_add(o, "major_faults", json_bytes(s->major_faults));
        json_object_object_add(o, "swap_in", json_bytes(s->swap_in));
        json_object_object_add(o, "swap_out", json_bytes(s->swap_out));
        json_object_object_add(o, "age_ms", json_object_new_int64(age_ms(now_us, s->updated_us)));
        return o;
}

/* A rate that is NaN or negative reads as null. */
static json_object *
json_rate(double value)
{
        return isfinite(value) && value >= 0 ? json_object_new_double(value) : NULL;
}

/* The agent's compressed-memory figures (revision 2): null where it sent none. */
static void
agent_compressed_to_json(json_object *o, const VtAgentReport *r)
{
        gboolean zram = (r->fields & VT_AGENT_HAS_ZRAM) != 0;
        gboolean zswap = (r->fields & VT_AGENT_HAS_ZSWAP) != 0;
        gboolean rates = (r->fields & VT_AGENT_HAS_SWAP_RATES) != 0;

        json_object_object_add(o, "zram_orig", zram ? json_bytes(r->zram_orig) : NULL);
        json_object_object_add(o, "zram_compr", zram ? json_bytes(r->zram_compr) : NULL);
        json_object_object_add(o, "zram_used", zram ? json_bytes(r->zram_used) : NULL);
        json_object_object_add(o, "zram_limit", zram ? json_bytes(r->zram_limit) : NULL);
        json_object_object_add(o, "zram_huge_pages", zram ? json_bytes(r->zram_huge_pages) : NULL);
        json_object_object_add(o, "zswap_pool", zswap ? json_bytes(r->zswap_pool) : NULL);
        json_object_object_add(o, "zswap_stored", zswap ? json_bytes(r->zswap_stored) : NULL);
        json_object_object_add(o, "swap_in_per_s", rates ? json_rate(r->swap_in_per_s) : NULL);
        json_object_object_add(o, "swap_out_per_s", rates ? json_rate(r->swap_out_per_s) : NULL);
}

static json_object *
agent_to_json(VtGuest *guest, gint64 now_us)
{
        VtAgentReader *reader = vt_guest_get_agent(guest);
        const VtAgentReport *r;
        json_object *o;

        if (reader == NULL)
                return NULL;
        o = json_object_new_object();
        json_object_object_add(o, "connected",
                               json_object_new_boolean(vt_agent_reader_is_connected(reader)));
        r = vt_agent_reader_get_report(reader);
        if (r == NULL || r->mem_total == 0)
                return o;
        json_object_object_add(o, "mem_total", json_bytes(r->mem_total));
        json_object_object_add(o, "mem_available",
                               (r->fields & VT_AGENT_HAS_AVAILABLE) ? json_bytes(r->mem_available)
                                                                    : NULL);
        json_object_object_add(o, "psi_some_avg10",
                               (r->fields & VT_AGENT_HAS_PSI_SOME) ? json_percent(r->psi_some.avg10)
                                                                   : NULL);
        json_object_object_add(o, "psi_full_avg10",
                               (r->fields & VT_AGENT_HAS_PSI_FULL) ? json_percent(r->psi_full.avg10)
                                                                   : NULL);
        json_object_object_add(
            o, "oom_kill", (r->fields & VT_AGENT_HAS_OOM_KILL) ? json_bytes(r->oom_kill) : NULL);
        json_object_object_add(o, "pgmajfault",
                               (r->fields & VT_AGENT_HAS_PGMAJFAULT) ? json_bytes(r->pgmajfault)
                                                                     : NULL);
        agent_compressed_to_json(o, r);
        json_object_object_add(o, "age_ms", json_object_new_int64(age_ms(now_us, r->received_us)));
        return o;
}

/* The guest's virtio-mem device; NULL (the member left out) without one. */
static json_object *
memdev_to_json(VtGuest *guest, gint64 now_us)
{
        const VtGuestMemdev *m = vt_guest_get_memdev(guest);
        VtControlMemdev wire;

        if (m == NULL || !m->present)
                return NULL;
        wire = (VtControlMemdev){
            .present = TRUE,
            .id = m->id,
            .block_size = m->block_size,
            .plugged = m->plugged_bytes,
            .requested = m->requested_bytes,
            .max = m->max_bytes,
            .strategy = vt_memdev_strategy_name(vt_guest_get_memdev_strategy(guest)),
            .unplug_stuck = vt_guest_is_unplug_stuck(guest, now_us),
        };
        return vt_control_memdev_to_json(&wire);
}

static const char *
guest_state_str(VtDaemonGuestState state)
{
        switch (state) {
        case VT_DAEMON_GUEST_STARTING:
                return "starting";
        case VT_DAEMON_GUEST_RUNNING:
                return "running";
        case VT_DAEMON_GUEST_GONE:
        default:
                return "gone";
        }
}

static json_object *
guest_to_json(VtDaemonGuest *dg, gint64 now_us)
{
        VtGuest *g = dg->guest;
        json_object *o = json_object_new_object();
        json_object *ksm = NULL;
        json_object *memdev = memdev_to_json(g, now_us);
        guint64 rss = 0;

        json_object_object_add(o, "name", json_object_new_string(dg->name));
        json_object_object_add(
            o, "pid", vt_guest_get_pid(g) > 0 ? json_object_new_int(vt_guest_get_pid(g)) : NULL);
        json_object_object_add(o, "state", json_object_new_string(guest_state_str(dg->state)));
        json_object_object_add(o, "has_balloon", json_object_new_boolean(vt_guest_has_balloon(g)));
        json_object_object_add(o, "stuck", json_object_new_boolean(vt_guest_is_stuck(g)));
        json_object_object_add(o, "reachable", json_object_new_boolean(vt_guest_is_reachable(g)));
        json_object_object_add(o, "manual", json_object_new_boolean(dg->manual));
        json_object_object_add(o, "max", json_bytes(vt_guest_get_max_bytes(g)));
        json_object_object_add(o, "actual", json_bytes(vt_guest_get_actual_bytes(g)));
        json_object_object_add(o, "memory", json_bytes(guest_memory(g)));
        json_object_object_add(
            o, "target",
            vt_guest_get_target_bytes(g) > 0 ? json_bytes(vt_guest_get_target_bytes(g)) : NULL);
        json_object_object_add(
            o, "want",
            dg->has_last && dg->last.want_bytes > 0 ? json_bytes(dg->last.want_bytes) : NULL);
        json_object_object_add(o, "policy", policy_to_json(dg));
        json_object_object_add(o, "stats", stats_to_json(g, now_us));
        json_object_object_add(o, "agent", agent_to_json(g, now_us));
        if (memdev != NULL)
                json_object_object_add(o, "memdev", memdev);
        /* Read when asked: no policy needs it, and 200 reads a tick add up. */
        if (vt_guest_get_pid(g) > 0 && vt_host_read_process_rss(dg->daemon->config->proc_root,
                                                                vt_guest_get_pid(g), &rss, NULL))
                json_object_object_add(o, "rss", json_bytes(rss));
        else
                json_object_object_add(o, "rss", NULL);
        if (dg->ksm_merging_pages >= 0 || dg->ksm_profit >= 0) {
                ksm = json_object_new_object();
                json_object_object_add(ksm, "merging_pages",
                                       dg->ksm_merging_pages >= 0
                                           ? json_object_new_int64(dg->ksm_merging_pages)
                                           : NULL);
                json_object_object_add(ksm, "profit",
                                       dg->ksm_profit >= 0 ? json_object_new_int64(dg->ksm_profit)
                                                           : NULL);
        }
        json_object_object_add(o, "ksm", ksm);
        json_object_object_add(o, "action",
                               json_object_new_string(vt_balloon_action_to_string(
                                   dg->has_last ? dg->last.action : VT_BALLOON_ACTION_NONE)));
        json_object_object_add(
            o, "reason",
            json_object_new_string(dg->has_last ? dg->last.reason : "not decided yet"));
        json_object_object_add(o, "last_change_ms_ago",
                               dg->last_change_us > 0
                                   ? json_object_new_int64(age_ms(now_us, dg->last_change_us))
                                   : NULL);
        return o;
}

static json_object *
ksm_knobs_to_json(VtDaemon *daemon)
{
        const VtKsmDecision *d;
        json_object *o;

        if (daemon->ksm == NULL)
                return NULL;
        d = vt_ksm_step_get_decision(daemon->ksm);
        o = json_object_new_object();
        /* Another writer of the knobs (ksmtuned...): vmtided stands back. */
        if (vt_ksm_step_get_other_writer(daemon->ksm) != NULL)
                json_object_object_add(
                    o, "other_writer",
                    json_object_new_string(vt_ksm_step_get_other_writer(daemon->ksm)));
        if (d == NULL) {
                json_object_object_add(
                    o, "reason",
                    json_object_new_string(daemon->paused ? "paused" : "not decided yet"));
                return o;
        }
        json_object_object_add(o, "run", json_object_new_int(d->run));
        json_object_object_add(o, "pages_to_scan", json_bytes(d->pages_to_scan));
        json_object_object_add(o, "sleep_millisecs", json_bytes(d->sleep_millisecs));
        json_object_object_add(o, "reason", json_object_new_string(d->reason));
        return o;
}

/* Free memory under which the host is short (the balloon policy's tight
 * line of its reference): what a peer sending guests here must leave. */
static guint64
short_line(VtDaemon *daemon)
{
        const VtBalloonHost *bh = &daemon->balloon_host;
        guint64 reference = daemon->host_sample.mem_total;

        if (bh->budget_limit > 0 && bh->budget_limit < reference)
                reference = bh->budget_limit;
        return (guint64)(daemon->balloon_config.tight_fraction * (double)reference);
}

static json_object *
host_to_json(VtDaemon *daemon)
{
        const VtHostSample *hs = &daemon->host_sample;
        const VtBalloonHost *bh = &daemon->balloon_host;
        g_autoptr(GPtrArray) guests = vt_daemon_sorted_guests(daemon);
        guint64 actual = 0;
        json_object *o = json_object_new_object();

        for (guint i = 0; i < guests->len; i++) {
                VtDaemonGuest *dg = g_ptr_array_index(guests, i);
                const VtGuestMemdev *m;

                if (dg->state != VT_DAEMON_GUEST_RUNNING)
                        continue;
                /* What virtio-mem plugged is beside QEMU's balloon figure. */
                m = vt_guest_get_memdev(dg->guest);
                actual += vt_guest_get_actual_bytes(dg->guest) +
                          (m != NULL && m->present ? m->plugged_bytes : 0);
        }
        json_object_object_add(o, "mem_total", json_bytes(hs->mem_total));
        json_object_object_add(o, "mem_available", json_bytes(hs->mem_available));
        json_object_object_add(o, "psi_some_avg10",
                               hs->has_psi ? json_percent(hs->psi_some_avg10) : NULL);
        json_object_object_add(o, "psi_full_avg10",
                               hs->has_psi ? json_percent(hs->psi_full_avg10) : NULL);
        json_object_object_add(o, "reserve", json_bytes(daemon->balloon_config.host_reserve));
        json_object_object_add(o, "budget",
                               bh->budget_limit > 0 ? json_bytes(bh->budget_limit) : NULL);
        json_object_object_add(o, "guests_actual", json_bytes(actual));
        json_object_object_add(o, "guest_free", json_object_new_int64(daemon->host_free));
        json_object_object_add(o, "short_line", json_bytes(short_line(daemon)));
        json_object_object_add(o, "state",
                               json_object_new_string(vt_host_state_to_string(daemon->host_state)));
        json_object_object_add(o, "reason", json_object_new_string(daemon->host_reason));
        return o;
}

static json_object *
cmd_query_status(VtControlServer *server, json_object *args, gpointer user_data, GError **error)
{
        VtDaemon *daemon = user_data;
        gint64 now_us = g_get_monotonic_time();
        json_object *o;

        (void)server;
        if (!vt_control_args_check(args, no_args, error))
                return NULL;
        o = json_object_new_object();
        json_object_object_add(o, "version", json_object_new_string(VT_VERSION));
        json_object_object_add(o, "backend",
                               json_object_new_string(vt_backend_get_name(daemon->backend)));
        json_object_object_add(o, "backend_connected",
                               json_object_new_boolean(vt_backend_is_connected(daemon->backend)));
        json_object_object_add(o, "policy",
                               json_object_new_string(daemon->config->balloon_policy_name));
        json_object_object_add(o, "paused", json_object_new_boolean(daemon->paused));
        json_object_object_add(o, "uptime_ms",
                               json_object_new_int64(age_ms(now_us, daemon->started_us)));
        json_object_object_add(o, "tick_interval_ms",
                               json_object_new_int64(daemon->config->tick_interval_us / 1000));
        json_object_object_add(o, "ticks", json_bytes(daemon->n_ticks));
        json_object_object_add(o, "tick_cost_us", json_object_new_int64(daemon->tick_cost_us));
        json_object_object_add(o, "n_guests",
                               json_object_new_int((int)g_hash_table_size(daemon->guests)));
        json_object_object_add(o, "n_actions", json_bytes(daemon->n_actions));
        json_object_object_add(o, "host", host_to_json(daemon));
        json_object_object_add(o, "ksm", ksm_knobs_to_json(daemon));
        json_object_object_add(o, "history", vt_daemon_recorder_to_json(daemon));
        return o;
}

static json_object *
cmd_query_guests(VtControlServer *server, json_object *args, gpointer user_data, GError **error)
{
        VtDaemon *daemon = user_data;
        g_autoptr(GPtrArray) guests = vt_daemon_sorted_guests(daemon);
        gint64 now_us = g_get_monotonic_time();
        json_object *array;
        json_object *o;

        (void)server;
        if (!vt_control_args_check(args, no_args, error))
                return NULL;
        array = json_object_new_array_ext((int)guests->len);
        for (guint i = 0; i < guests->len; i++)
                json_object_array_add(array, guest_to_json(g_ptr_array_index(guests, i), now_us));
        o = json_object_new_object();
        json_object_object_add(o, "guests", array);
        return o;
}

static VtDaemonGuest *
lookup_arg(VtDaemon *daemon, json_object *args, GError **error)
{
        const char *name = vt_control_args_get_string(args, "name", error);
        VtDaemonGuest *dg;

        if (name == NULL)
                return NULL;
        dg = g_hash_table_lookup(daemon->guests, name);
        if (dg == NULL)
                vt_control_set_error_guest_not_found(error, name);
        return dg;
}

static json_object *
cmd_query_guest(VtControlServer *server, json_object *args, gpointer user_data, GError **error)
{
        static const char *const allowed[] = {"name", NULL};
        VtDaemonGuest *dg;

        (void)server;
        if (!vt_control_args_check(args, allowed, error))
                return NULL;
        dg = lookup_arg(user_data, args, error);
        return dg != NULL ? guest_to_json(dg, g_get_monotonic_time()) : NULL;
}

typedef struct {
        VtDaemon *daemon;
        char *name;
        VtControlReply *reply;
} PolicyCtx;

static void
on_policy_stored(GObject *source, GAsyncResult *result, gpointer user_data)
{
        PolicyCtx *ctx = user_data;
        g_autoptr(GError) error = NULL;
        VtDaemonGuest *dg;

        if (!vt_guest_store_policy_finish(VT_GUEST(source), result, &error)) {
                g_message("guest '%s': policy not stored: %s", ctx->name, error->message);
                /* Not ctx->daemon: it may be gone (see below). */
                g_prefix_error(&error, "the guest's backend did not store the policy: ");
                vt_control_reply_return_error(
                    ctx->reply, g_error_new_literal(VT_CONTROL_ERROR, VT_CONTROL_ERROR_GENERIC,
                                                    error->message));
        } else {
                /* Read back from the domain: "policy-changed" applied it.
                 * A guest dropped (or a daemon freed) stopped the guest
                 * first: then the daemon is not touched. */
                dg = vt_guest_is_started(VT_GUEST(source))
                         ? g_hash_table_lookup(ctx->daemon->guests, ctx->name)
                         : NULL;
                if (dg != NULL && dg->guest == VT_GUEST(source)) {
                        vt_control_reply_return(ctx->reply, policy_to_json(dg));
                } else {
                        GError *gone = NULL;

                        vt_control_set_error_guest_not_found(&gone, ctx->name);
                        vt_control_reply_return_error(ctx->reply, gone);
                }
        }
        g_free(ctx->name);
        g_free(ctx);
}

/* A policy set on the control socket, logged once. */
static void
policy_log(VtDaemonGuest *dg, const VtBalloonGuestConfig *policy, gboolean ksm_opt_out)
{
        /* Whole MiB rounded down, as this line always wrote them. */
        g_autofree char *detail = g_strdup_printf(
            "min %s, max %s, shares %u%s%s",
            VT_SIZE_STR(policy->min_bytes / VT_SIZE_MIB * VT_SIZE_MIB, VT_SIZE_STYLE_MIB),
            VT_SIZE_STR(policy->max_bytes / VT_SIZE_MIB * VT_SIZE_MIB, VT_SIZE_STYLE_MIB),
            vt_balloon_guest_config_get_shares(policy),
            policy->opt_out ? ", balloon opted out" : "", ksm_opt_out ? ", KSM opted out" : "");

        g_message("guest '%s': policy %s (control socket)", dg->name, detail);
        vt_daemon_recorder_control(dg->daemon, VT_RECORDER_CONTROL_POLICY_SET, dg->name, 0, detail);
}

static void
cmd_set_policy(VtControlServer *server, json_object *args, VtControlReply *reply,
               gpointer user_data)
{
        static const char *const allowed[] = {"name",    "min",         "max", "shares",
                                              "opt_out", "ksm_opt_out", NULL};
        VtDaemon *daemon = user_data;
        VtBalloonGuestConfig policy;
        g_autofree char *problem = NULL;
        VtDaemonGuest *dg;
        GError *error = NULL;
        guint64 boot_max, min = 0, max = 0;
        gint64 shares = 0;
        gboolean opt_out = FALSE, ksm_opt_out = FALSE;
        gboolean has_min = FALSE, has_max = FALSE, has_shares = FALSE, has_opt_out = FALSE,
                 has_ksm_opt_out = FALSE;
        PolicyCtx *ctx;

        (void)server;
        if (!vt_control_args_check(args, allowed, &error)) {
                vt_control_reply_return_error(reply, error);
                return;
        }
        dg = lookup_arg(daemon, args, &error);
        if (dg == NULL) {
                vt_control_reply_return_error(reply, error);
                return;
        }
        boot_max = guest_ceiling(dg->guest);
        if (boot_max == 0)
                boot_max = MAX_BYTES;
        if (!vt_control_args_get_optional_size(args, "min", 0, boot_max, &min, &has_min, &error) ||
            !vt_control_args_get_optional_size(args, "max", 1, boot_max, &max, &has_max, &error) ||
            !vt_control_args_get_optional_int(args, "shares", 1, MAX_SHARES, &shares, &has_shares,
                                              &error) ||
            !vt_control_args_get_optional_bool(args, "opt_out", &opt_out, &has_opt_out, &error) ||
            !vt_control_args_get_optional_bool(args, "ksm_opt_out", &ksm_opt_out, &has_ksm_opt_out,
                                               &error)) {
                vt_control_reply_return_error(reply, error);
                return;
        }

        policy = dg->policy;
        if (has_min)
                policy.min_bytes = min;
        if (has_max)
                policy.max_bytes = max;
        if (has_shares)
                policy.shares = (guint)shares;
        if (has_opt_out)
                policy.opt_out = opt_out;
        if (!has_ksm_opt_out)
                ksm_opt_out = dg->ksm_opt_out;
        /* The floor, the guest's size, min against max: as the configuration
         * and libvirt metadata are checked. */
        if (!vt_balloon_guest_config_check(&policy, guest_ceiling(dg->guest), &problem)) {
                vt_control_reply_return_error(
                    reply, g_error_new(VT_CONTROL_ERROR, VT_CONTROL_ERROR_GENERIC, "guest '%s': %s",
                                       dg->name, problem));
                return;
        }
        policy_log(dg, &policy, ksm_opt_out);

        /* A backend that keeps the guest's policy with it (a libvirt
         * domain's metadata) stores it there; it comes back through
         * "policy-changed". */
        if (vt_guest_can_store_policy(dg->guest)) {
                ctx = g_new0(PolicyCtx, 1);
                ctx->daemon = daemon;
                ctx->name = g_strdup(dg->name);
                ctx->reply = reply;
                vt_guest_store_policy_async(dg->guest, &policy, ksm_opt_out, on_policy_stored, ctx);
                return;
        }
        dg->policy = policy;
        dg->ksm_opt_out = ksm_opt_out;
        dg->policy_source = "control socket";
        vt_guest_set_config(dg->guest, &policy);
        vt_daemon_tick_soon(daemon, "policy changed");
        vt_control_reply_return(reply, policy_to_json(dg));
}

/* `set-target` with `bytes` answers once the backend took the target. */
static void
on_manual_set(GObject *source, GAsyncResult *result, gpointer user_data)
{
        VtControlReply *reply = user_data;
        GError *error = NULL;
        guint64 target = 0;
        json_object *o;

        (void)source;
        if (!vt_daemon_set_manual_finish(result, &target, &error)) {
                vt_control_reply_return_error(reply, error);
                return;
        }
        o = json_object_new_object();
        json_object_object_add(o, "target", json_bytes(target));
        vt_control_reply_return(reply, o);
}

static void
cmd_set_target(VtControlServer *server, json_object *args, VtControlReply *reply,
               gpointer user_data)
{
        static const char *const allowed[] = {"name", "bytes", "auto", NULL};
        VtDaemon *daemon = user_data;
        GError *error = NULL;
        VtDaemonGuest *dg;
        guint64 bytes = 0;
        gboolean has_bytes = FALSE, is_auto = FALSE, has_auto = FALSE;

        (void)server;
        if (!vt_control_args_check(args, allowed, &error) ||
            (dg = lookup_arg(daemon, args, &error)) == NULL ||
            !vt_control_args_get_optional_size(args, "bytes", 1, MAX_BYTES, &bytes, &has_bytes,
                                               &error) ||
            !vt_control_args_get_optional_bool(args, "auto", &is_auto, &has_auto, &error)) {
                vt_control_reply_return_error(reply, error);
                return;
        }
        if (has_bytes == (has_auto && is_auto)) {
                vt_control_reply_return_error(
                    reply, g_error_new_literal(VT_CONTROL_ERROR, VT_CONTROL_ERROR_GENERIC,
                                               "give either 'bytes' or 'auto': true"));
                return;
        }
        if (!has_bytes) {
                vt_daemon_clear_manual(daemon, dg);
                vt_control_reply_return(reply, json_object_new_object());
                return;
        }
        vt_daemon_set_manual_async(daemon, dg, bytes, on_manual_set, reply);
}

static json_object *
paused_reply(VtDaemon *daemon)
{
        json_object *o = json_object_new_object();

        json_object_object_add(o, "paused", json_object_new_boolean(daemon->paused));
        return o;
}

static json_object *
cmd_pause(VtControlServer *server, json_object *args, gpointer user_data, GError **error)
{
        (void)server;
        if (!vt_control_args_check(args, no_args, error))
                return NULL;
        vt_daemon_set_paused(user_data, TRUE);
        return paused_reply(user_data);
}

static json_object *
cmd_resume(VtControlServer *server, json_object *args, gpointer user_data, GError **error)
{
        (void)server;
        if (!vt_control_args_check(args, no_args, error))
                return NULL;
        vt_daemon_set_paused(user_data, FALSE);
        return paused_reply(user_data);
}

static json_object *
cmd_query_ksm(VtControlServer *server, json_object *args, gpointer user_data, GError **error)
{
        VtDaemon *daemon = user_data;
        g_autoptr(GPtrArray) guests = NULL;
        const VtKsmSample *s;
        json_object *o, *knobs, *array;
        double cpu;

        (void)server;
        if (!vt_control_args_check(args, no_args, error))
                return NULL;
        o = json_object_new_object();
        json_object_object_add(o, "managed", json_object_new_boolean(daemon->ksm != NULL));
        if (daemon->ksm == NULL)
                return o;
        json_object_object_add(o, "tuner", json_object_new_string(daemon->config->ksm_tuner_name));
        knobs = ksm_knobs_to_json(daemon);
        json_object_object_foreach (knobs, key, value) {
                json_object_object_add(o, key, json_object_get(value));
        }
        json_object_put(knobs);
        s = vt_ksm_step_get_sample(daemon->ksm);
        json_object_object_add(o, "pages_shared", json_bytes(s->pages_shared));
        json_object_object_add(o, "pages_sharing", json_bytes(s->pages_sharing));
        json_object_object_add(o, "full_scans", json_bytes(s->full_scans));
        cpu = vt_ksm_step_get_cpu_share(daemon->ksm);
        json_object_object_add(o, "ksmd_cpu_share", cpu >= 0 ? json_object_new_double(cpu) : NULL);
        json_object_object_add(
            o, "saved", json_bytes(s->pages_sharing * vt_ksm_step_get_page_size(daemon->ksm)));

        guests = vt_daemon_sorted_guests(daemon);
        array = json_object_new_array();
        for (guint i = 0; i < guests->len; i++) {
                VtDaemonGuest *dg = g_ptr_array_index(guests, i);
                json_object *g = json_object_new_object();

                json_object_object_add(g, "name", json_object_new_string(dg->name));
                json_object_object_add(g, "merging_pages",
                                       dg->ksm_merging_pages >= 0
                                           ? json_object_new_int64(dg->ksm_merging_pages)
                                           : NULL);
                json_object_object_add(g, "profit",
                                       dg->ksm_profit >= 0 ? json_object_new_int64(dg->ksm_profit)
                                                           : NULL);
                json_object_object_add(g, "opt_out", json_object_new_boolean(dg->ksm_opt_out));
                json_object_array_add(array, g);
        }
        json_object_object_add(o, "guests", array);
        return o;
}

/**
 * vt_daemon_register_commands:
 * @daemon: the daemon, whose control server is open
 *
 * Registers every command of docs/control-protocol.md.
 */
void
vt_daemon_register_commands(VtDaemon *daemon)
{
        static const struct {
                const char *name;
                VtControlHandler handler;
        } commands[] = {
            {VT_CONTROL_COMMAND_QUERY_STATUS, cmd_query_status},
            {VT_CONTROL_COMMAND_QUERY_GUESTS, cmd_query_guests},
            {VT_CONTROL_COMMAND_QUERY_GUEST, cmd_query_guest},
            {VT_CONTROL_COMMAND_PAUSE, cmd_pause},
            {VT_CONTROL_COMMAND_RESUME, cmd_resume},
            {VT_CONTROL_COMMAND_QUERY_KSM, cmd_query_ksm},
        };

        for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
                vt_control_server_add_command(daemon->control, commands[i].name,
                                              commands[i].handler, daemon);
        /* These answer once the guest's backend has answered. */
        vt_control_server_add_async_command(daemon->control, VT_CONTROL_COMMAND_SET_TARGET,
                                            cmd_set_target, daemon);
        vt_control_server_add_async_command(daemon->control, VT_CONTROL_COMMAND_SET_POLICY,
                                            cmd_set_policy, daemon);
}
