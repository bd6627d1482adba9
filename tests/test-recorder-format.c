/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The history format: every record type round-trips bit for bit; damage is refused, named. */
#include <math.h>
#include <string.h>

#include "host/recorder/recorder-format.h"

/* Doubles that a careless codec loses: signs, NaN payloads, denormals. */
static double
weird(guint i)
{
        static const guint64 bits[] = {
            G_GUINT64_CONSTANT(0x0000000000000000), /* 0.0 */
            G_GUINT64_CONSTANT(0x8000000000000000), /* -0.0 */
            G_GUINT64_CONSTANT(0x7ff8000000000001), /* a NaN with a payload */
            G_GUINT64_CONSTANT(0xfff0000000000000), /* -inf */
            G_GUINT64_CONSTANT(0x0000000000000001), /* the least denormal */
            G_GUINT64_CONSTANT(0x3fb999999999999a), /* 0.1 */
            G_GUINT64_CONSTANT(0x7fefffffffffffff), /* the largest double */
            G_GUINT64_CONSTANT(0xbff0000000000000), /* -1.0 */
        };
        double d;

        memcpy(&d, &bits[i % G_N_ELEMENTS(bits)], sizeof(d));
        return d;
}

#define assert_same_double(a, b)                                                                   \
        do {                                                                                       \
                double a_ = (a), b_ = (b);                                                         \
                g_assert_cmpmem(&a_, sizeof(a_), &b_, sizeof(b_));                                 \
        } while (0)

/* Encodes @record, decodes it back, and checks that it encodes the same. */
static VtRecorderRecord *
round_trip(const VtRecorderRecord *record)
{
        g_autoptr(GByteArray) out = g_byte_array_new();
        g_autoptr(GByteArray) again = g_byte_array_new();
        g_autoptr(GError) error = NULL;
        VtRecorderRecord *decoded = NULL;
        const guint8 *body;
        gsize body_len;

        vt_recorder_encode(out, record);
        g_assert_true(vt_recorder_frame_next(out->data, out->len, 0, &body, &body_len, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(body_len + VT_RECORDER_FRAME_SIZE, ==, out->len);
        g_assert_true(vt_recorder_decode(body, body_len, &decoded, &error));
        g_assert_no_error(error);
        g_assert_cmpint(decoded->type, ==, record->type);
        g_assert_cmpint(decoded->wall_us, ==, record->wall_us);
        g_assert_cmpint(decoded->mono_us, ==, record->mono_us);
        vt_recorder_encode(again, decoded);
        g_assert_cmpmem(again->data, again->len, out->data, out->len);
        return decoded;
}

static void
test_crc32c(void)
{
        /* The check value of CRC-32C (RFC 3720, B.4). */
        g_assert_cmphex(vt_recorder_crc32c(0, "123456789", 9), ==, 0xe3069283);
        g_assert_cmphex(vt_recorder_crc32c(vt_recorder_crc32c(0, "1234", 4), "56789", 5), ==,
                        0xe3069283);
}

static void
test_policy(void)
{
        VtRecorderRecord record = {.type = VT_RECORDER_RECORD_POLICY,
                                   .wall_us = G_GINT64_CONSTANT(1700000000000000),
                                   .mono_us = -5};
        g_autoptr(VtRecorderRecord) back = NULL;
        VtBalloonConfig *a = &record.u.policy.config, *b;

        vt_balloon_config_init(a);
        a->psi_short = weird(2);
        a->step_fraction[VT_HOST_STATE_CRITICAL] = weird(4);
        a->swap_in_tight = weird(1);
        a->stale_us = G_MAXINT64;
        a->settle_us = G_MININT64;
        record.u.policy.name = (char *)"vmtide";
        back = round_trip(&record);
        b = &back->u.policy.config;
        g_assert_cmpstr(back->u.policy.name, ==, "vmtide");
        g_assert_cmpuint(b->host_reserve, ==, a->host_reserve);
        assert_same_double(b->plenty_fraction, a->plenty_fraction);
        assert_same_double(b->tight_fraction, a->tight_fraction);
        assert_same_double(b->short_fraction, a->short_fraction);
        assert_same_double(b->hysteresis_fraction, a->hysteresis_fraction);
        assert_same_double(b->psi_short, a->psi_short);
        assert_same_double(b->psi_critical, a->psi_critical);
        assert_same_double(b->guest_headroom_fraction, a->guest_headroom_fraction);
        g_assert_cmpuint(b->guest_headroom_min, ==, a->guest_headroom_min);
        assert_same_double(b->guest_pressure_psi, a->guest_pressure_psi);
        assert_same_double(b->guest_low_fraction, a->guest_low_fraction);
        assert_same_double(b->default_min_fraction, a->default_min_fraction);
        for (guint i = 0; i < VT_HOST_STATE_MAX; i++)
                assert_same_double(b->step_fraction[i], a->step_fraction[i]);
        g_assert_cmpuint(b->min_change, ==, a->min_change);
        g_assert_cmpint(b->stale_us, ==, a->stale_us);
        g_assert_cmpint(b->settle_us, ==, a->settle_us);
        assert_same_double(b->swap_in_tight, a->swap_in_tight);
}

static void
fill_guest(VtBalloonGuest *g, VtBalloonGuestConfig *c, VtBalloonTarget *t, guint i)
{
        *g = (VtBalloonGuest){
            .name = i == 0 ? "g0" : "guest-with-a-longer-name-\xc3\xa9",
            .flags = VT_BALLOON_GUEST_HAS_BALLOON | VT_BALLOON_GUEST_HAS_AGENT << i,
            .max_bytes = G_GUINT64_CONSTANT(512) << 20,
            .actual_bytes = (G_GUINT64_CONSTANT(384) << 20) + i,
            .target_bytes = G_MAXUINT64 - i,
            .last_change_us = -1 - (gint64)i,
            .stats_total = 1,
            .stats_free = 2,
            .stats_available = 3 + i,
            .stats_age_us = G_MININT64,
            .agent_mem_total = 4,
            .agent_mem_available = 5,
            .agent_psi_some_avg10 = weird(i),
            .agent_psi_full_avg10 = weird(i + 3),
            .agent_age_us = G_MAXINT64,
            .rss_bytes = 6,
        };
        *c = (VtBalloonGuestConfig){.min_bytes = 7,
                                    .max_bytes = 8,
                                    .shares = G_MAXUINT,
                                    .opt_out = i == 1,
                                    .held = i == 0,
                                    .held_bytes = 9};
        *t = (VtBalloonTarget){
            .action = VT_BALLOON_ACTION_RECLAIM - i, .target_bytes = 10, .want_bytes = 11};
        /* The longest reason a target holds. */
        memset(t->reason, 'r', sizeof(t->reason) - 1);
}

static void
check_guest(const VtRecorderTick *a, const VtRecorderTick *b, guint i)
{
        const VtBalloonGuest *ga = &a->guests[i], *gb = &b->guests[i];
        const VtBalloonGuestConfig *ca = &a->configs[i], *cb = &b->configs[i];
        const VtBalloonTarget *ta = &a->decision.targets[i], *tb = &b->decision.targets[i];

        g_assert_cmpstr(gb->name, ==, ga->name);
        g_assert_true(gb->name == b->names[i]);
        g_assert_cmpuint(gb->flags, ==, ga->flags);
        g_assert_cmpuint(gb->max_bytes, ==, ga->max_bytes);
        g_assert_cmpuint(gb->actual_bytes, ==, ga->actual_bytes);
        g_assert_cmpuint(gb->target_bytes, ==, ga->target_bytes);
        g_assert_cmpint(gb->last_change_us, ==, ga->last_change_us);
        g_assert_cmpuint(gb->stats_total, ==, ga->stats_total);
        g_assert_cmpuint(gb->stats_free, ==, ga->stats_free);
        g_assert_cmpuint(gb->stats_available, ==, ga->stats_available);
        g_assert_cmpint(gb->stats_age_us, ==, ga->stats_age_us);
        g_assert_cmpuint(gb->agent_mem_total, ==, ga->agent_mem_total);
        g_assert_cmpuint(gb->agent_mem_available, ==, ga->agent_mem_available);
        assert_same_double(gb->agent_psi_some_avg10, ga->agent_psi_some_avg10);
        assert_same_double(gb->agent_psi_full_avg10, ga->agent_psi_full_avg10);
        g_assert_cmpint(gb->agent_age_us, ==, ga->agent_age_us);
        g_assert_cmpuint(gb->rss_bytes, ==, ga->rss_bytes);
        g_assert_cmpuint(cb->min_bytes, ==, ca->min_bytes);
        g_assert_cmpuint(cb->max_bytes, ==, ca->max_bytes);
        g_assert_cmpuint(cb->shares, ==, ca->shares);
        g_assert_cmpint(cb->opt_out, ==, ca->opt_out);
        g_assert_cmpint(cb->held, ==, ca->held);
        g_assert_cmpuint(cb->held_bytes, ==, ca->held_bytes);
        g_assert_cmpint(tb->action, ==, ta->action);
        g_assert_cmpuint(tb->target_bytes, ==, ta->target_bytes);
        g_assert_cmpuint(tb->want_bytes, ==, ta->want_bytes);
        g_assert_cmpstr(tb->reason, ==, ta->reason);
}

static void
test_tick(void)
{
        VtBalloonGuest guests[2];
        VtBalloonGuestConfig configs[2];
        VtBalloonTarget targets[2];
        VtRecorderRecord record = {.type = VT_RECORDER_RECORD_TICK, .wall_us = 1, .mono_us = 2};
        VtRecorderTick *a = &record.u.tick, *b;
        g_autoptr(VtRecorderRecord) back = NULL;
        VtBalloonInput input;

        for (guint i = 0; i < 2; i++)
                fill_guest(&guests[i], &configs[i], &targets[i], i);
        *a = (VtRecorderTick){
            .why = (char *)"pressure push from 'g0'",
            .paused = TRUE,
            .host = {.mem_total = G_MAXUINT64,
                     .mem_available = 1,
                     .psi_some_avg10 = weird(2),
                     .psi_full_avg10 = NAN,
                     .swap_in_per_s = weird(5),
                     .swap_out_per_s = -0.0,
                     .budget_limit = 3},
            .state = {.host_state = VT_HOST_STATE_SHORT,
                      .host_state_since_us = -7,
                      .scratch = G_MAXINT64},
            .n_guests = 2,
            .guests = guests,
            .configs = configs,
            .decision = {.host_state = VT_HOST_STATE_CRITICAL,
                         .host_free = G_MININT64,
                         .reason = "critical: 1 % free < 5 %",
                         .targets = targets},
        };
        back = round_trip(&record);
        b = &back->u.tick;
        g_assert_cmpstr(b->why, ==, a->why);
        g_assert_true(b->paused);
        g_assert_cmpuint(b->host.mem_total, ==, a->host.mem_total);
        g_assert_cmpuint(b->host.mem_available, ==, a->host.mem_available);
        assert_same_double(b->host.psi_some_avg10, a->host.psi_some_avg10);
        assert_same_double(b->host.psi_full_avg10, a->host.psi_full_avg10);
        assert_same_double(b->host.swap_in_per_s, a->host.swap_in_per_s);
        assert_same_double(b->host.swap_out_per_s, a->host.swap_out_per_s);
        g_assert_cmpuint(b->host.budget_limit, ==, a->host.budget_limit);
        g_assert_cmpint(b->state.host_state, ==, a->state.host_state);
        g_assert_cmpint(b->state.host_state_since_us, ==, a->state.host_state_since_us);
        g_assert_cmpint(b->state.scratch, ==, a->state.scratch);
        g_assert_cmpint(b->decision.host_state, ==, a->decision.host_state);
        g_assert_cmpint(b->decision.host_free, ==, a->decision.host_free);
        g_assert_cmpstr(b->decision.reason, ==, a->decision.reason);
        g_assert_cmpuint(b->n_guests, ==, 2);
        g_assert_null(b->names[2]);
        for (guint i = 0; i < 2; i++)
                check_guest(a, b, i);

        vt_recorder_tick_get_input(b, back->mono_us, &input);
        g_assert_true(input.guests == b->guests && input.configs == b->configs);
        g_assert_cmpuint(input.n_guests, ==, 2);
        g_assert_cmpint(input.now_us, ==, 2);
        g_assert_true(input.paused);

        /* Filtered down to one guest, the host stays. */
        g_assert_true(vt_recorder_record_keep_guest(back, "g0"));
        g_assert_cmpuint(b->n_guests, ==, 1);
        g_assert_cmpstr(b->guests[0].name, ==, "g0");
        g_assert_false(vt_recorder_record_keep_guest(back, "other"));
        g_assert_cmpuint(b->n_guests, ==, 0);
}

static void
test_tick_empty(void)
{
        VtRecorderRecord record = {.type = VT_RECORDER_RECORD_TICK};
        g_autoptr(VtRecorderRecord) back = round_trip(&record);

        g_assert_null(back->u.tick.why);
        g_assert_cmpuint(back->u.tick.n_guests, ==, 0);
}

static void
test_move(void)
{
        VtRecorderRecord record = {
            .type = VT_RECORDER_RECORD_MOVE,
            .wall_us = 10,
            .mono_us = 20,
            .u.move = {.guest = (char *)"g1",
                       .outcome = VT_RECORDER_MOVE_REFUSED,
                       .actual_bytes = 1,
                       .target_bytes = 2,
                       .elapsed_us = 3,
                       .detail = (char *)"DeviceNotActive: No balloon device has been activated"},
        };
        g_autoptr(VtRecorderRecord) back = round_trip(&record);
        VtRecorderMove *m = &back->u.move;

        g_assert_cmpstr(m->guest, ==, "g1");
        g_assert_cmpint(m->outcome, ==, VT_RECORDER_MOVE_REFUSED);
        g_assert_cmpuint(m->actual_bytes, ==, 1);
        g_assert_cmpuint(m->target_bytes, ==, 2);
        g_assert_cmpint(m->elapsed_us, ==, 3);
        g_assert_cmpstr(m->detail, ==, record.u.move.detail);
        g_assert_true(vt_recorder_record_keep_guest(back, "g1"));
        g_assert_false(vt_recorder_record_keep_guest(back, "g2"));
}

static void
test_ksm(void)
{
        char *names[] = {(char *)"g0", (char *)"g1", NULL};
        VtKsmGuest guests[] = {{.mergeable_bytes = 1, .merging_pages = -1, .rss_bytes = 2},
                               {.mergeable_bytes = 3, .merging_pages = 4, .opt_out = TRUE}};
        gint64 profits[] = {-1, 12345};
        VtRecorderRecord record = {.type = VT_RECORDER_RECORD_KSM, .wall_us = 5, .mono_us = 6};
        VtRecorderKsm *a = &record.u.ksm, *b;
        g_autoptr(VtRecorderRecord) back = NULL;

        *a = (VtRecorderKsm){
            .host = {.mem_total = 1,
                     .mem_available = 2,
                     .mem_free = 3,
                     .psi_some_avg10 = weird(5),
                     .psi_full_avg10 = weird(6),
                     .n_cpus = 64},
            .sample = {.time_us = 7,
                       .run = 1,
                       .pages_to_scan = 8,
                       .sleep_millisecs = 9,
                       .pages_shared = 10,
                       .pages_sharing = 11,
                       .pages_unshared = 12,
                       .pages_volatile = 13,
                       .full_scans = 14,
                       .pages_scanned = 15,
                       .has_pages_scanned = TRUE,
                       .general_profit = -16,
                       .has_general_profit = TRUE,
                       .ksm_zero_pages = 17,
                       .ksmd_cpu_us = -1},
            .decision = {.run = 2,
                         .pages_to_scan = 18,
                         .sleep_millisecs = 19,
                         .use_advisor = TRUE,
                         .advisor_target_scan_time_s = 20,
                         .reason = "a static reason"},
            .applied = TRUE,
            .cpu_share = weird(7),
            .n_guests = 2,
            .names = names,
            .guests = guests,
            .profits = profits,
        };
        back = round_trip(&record);
        b = &back->u.ksm;
        g_assert_cmpmem(&b->host, sizeof(b->host), &a->host, sizeof(a->host));
        g_assert_cmpint(b->sample.time_us, ==, 7);
        g_assert_cmpuint(b->sample.pages_sharing, ==, 11);
        g_assert_cmpuint(b->sample.pages_scanned, ==, 15);
        g_assert_true(b->sample.has_pages_scanned && b->sample.has_general_profit);
        g_assert_cmpint(b->sample.general_profit, ==, -16);
        g_assert_cmpuint(b->sample.ksm_zero_pages, ==, 17);
        g_assert_cmpint(b->sample.ksmd_cpu_us, ==, -1);
        g_assert_cmpuint(b->decision.run, ==, 2);
        g_assert_cmpuint(b->decision.pages_to_scan, ==, 18);
        g_assert_cmpuint(b->decision.sleep_millisecs, ==, 19);
        g_assert_true(b->decision.use_advisor);
        g_assert_cmpuint(b->decision.advisor_target_scan_time_s, ==, 20);
        g_assert_cmpstr(b->decision.reason, ==, "a static reason");
        g_assert_true(b->decision.reason == b->decision.reason_buf);
        g_assert_true(b->applied);
        assert_same_double(b->cpu_share, a->cpu_share);
        g_assert_cmpuint(b->n_guests, ==, 2);
        for (guint i = 0; i < 2; i++) {
                g_assert_cmpstr(b->names[i], ==, names[i]);
                g_assert_cmpuint(b->guests[i].mergeable_bytes, ==, guests[i].mergeable_bytes);
                g_assert_cmpint(b->guests[i].merging_pages, ==, guests[i].merging_pages);
                g_assert_cmpuint(b->guests[i].rss_bytes, ==, guests[i].rss_bytes);
                g_assert_cmpint(b->guests[i].opt_out, ==, guests[i].opt_out);
                g_assert_cmpint(b->profits[i], ==, profits[i]);
        }
        g_assert_true(vt_recorder_record_keep_guest(back, "g1"));
        g_assert_cmpuint(b->n_guests, ==, 1);
        g_assert_cmpint(b->profits[0], ==, 12345);
}

static void
test_migration(void)
{
        VtRecorderRecord record = {
            .type = VT_RECORDER_RECORD_MIGRATION, .wall_us = 1, .mono_us = 2};
        VtRecorderMigration *a = &record.u.migration, *b;
        g_autoptr(VtRecorderRecord) back = NULL;

        *a = (VtRecorderMigration){
            .guest = (char *)"g1",
            .peer = (char *)"qemu+ssh://peer/system",
            .phase = VT_RECORDER_MIGRATION_END,
            .predicted_outcome = 1,
            .predicted_passes = 3,
            .predicted_bytes = 4,
            .predicted_total_us = 5,
            .predicted_downtime_us = 6,
            .predicted_dirty_rate = 7,
            .status = 8,
            .outcome = 2,
            .pass = 9,
            .remaining_bytes = 10,
            .transferred_bytes = 11,
            .dirty_rate = 12,
            .throughput = 13,
            .elapsed_us = 14,
            .downtime_limit_us = 15,
            .predicted_left_us = G_MAXINT64,
            .downtime_us = 16,
            .steps = 17,
            .cause = 3,
            .by_hand = TRUE,
            .source_gone = TRUE,
            .reason = (char *)"stalled at the cap",
            .summary = NULL,
        };
        back = round_trip(&record);
        b = &back->u.migration;
        g_assert_cmpstr(b->guest, ==, a->guest);
        g_assert_cmpstr(b->peer, ==, a->peer);
        g_assert_cmpint(b->phase, ==, a->phase);
        g_assert_cmpuint(b->predicted_outcome, ==, 1);
        g_assert_cmpuint(b->predicted_passes, ==, 3);
        g_assert_cmpuint(b->predicted_bytes, ==, 4);
        g_assert_cmpint(b->predicted_total_us, ==, 5);
        g_assert_cmpint(b->predicted_downtime_us, ==, 6);
        g_assert_cmpuint(b->predicted_dirty_rate, ==, 7);
        g_assert_cmpuint(b->status, ==, 8);
        g_assert_cmpuint(b->outcome, ==, 2);
        g_assert_cmpuint(b->pass, ==, 9);
        g_assert_cmpuint(b->remaining_bytes, ==, 10);
        g_assert_cmpuint(b->transferred_bytes, ==, 11);
        g_assert_cmpuint(b->dirty_rate, ==, 12);
        g_assert_cmpuint(b->throughput, ==, 13);
        g_assert_cmpint(b->elapsed_us, ==, 14);
        g_assert_cmpint(b->downtime_limit_us, ==, 15);
        g_assert_cmpint(b->predicted_left_us, ==, G_MAXINT64);
        g_assert_cmpint(b->downtime_us, ==, 16);
        g_assert_cmpuint(b->steps, ==, 17);
        g_assert_cmpuint(b->cause, ==, 3);
        g_assert_true(b->by_hand && b->source_gone);
        g_assert_cmpstr(b->reason, ==, a->reason);
        g_assert_null(b->summary);
}

static void
test_control(void)
{
        VtRecorderRecord record = {
            .type = VT_RECORDER_RECORD_CONTROL,
            .wall_us = 1,
            .mono_us = 2,
            .u.control = {.kind = VT_RECORDER_CONTROL_PAUSE, .detail = (char *)"by hand"},
        };
        g_autoptr(VtRecorderRecord) back = round_trip(&record);

        g_assert_cmpint(back->u.control.kind, ==, VT_RECORDER_CONTROL_PAUSE);
        g_assert_null(back->u.control.guest);
        g_assert_cmpstr(back->u.control.detail, ==, "by hand");
        /* The whole host's: kept whatever the guest filter. */
        g_assert_true(vt_recorder_record_keep_guest(back, "g1"));
        g_assert_cmpstr(vt_recorder_control_kind_to_string(VT_RECORDER_CONTROL_PAUSE), ==, "pause");
}

static void
test_header(void)
{
        g_autoptr(GByteArray) out = g_byte_array_new();
        g_autoptr(GError) error = NULL;
        VtRecorderHeader header = {.sequence = 42, .wall_us = -1, .mono_us = 99}, back;

        vt_recorder_header_encode(out, &header);
        g_assert_cmpuint(out->len, ==, VT_RECORDER_HEADER_SIZE);
        g_assert_cmpmem(out->data, 8, "VTRECORD", 8);
        g_assert_true(vt_recorder_header_decode(out->data, out->len, &back, &error));
        g_assert_cmpuint(back.version, ==, VT_RECORDER_VERSION);
        g_assert_cmpuint(back.sequence, ==, 42);
        g_assert_cmpint(back.wall_us, ==, -1);
        g_assert_cmpint(back.mono_us, ==, 99);

        g_assert_false(vt_recorder_header_decode(out->data, 39, &back, &error));
        g_assert_error(error, VT_RECORDER_ERROR, VT_RECORDER_ERROR_TRUNCATED);
        g_clear_error(&error);
        out->data[20] ^= 1;
        g_assert_false(vt_recorder_header_decode(out->data, out->len, &back, &error));
        g_assert_error(error, VT_RECORDER_ERROR, VT_RECORDER_ERROR_CORRUPT);
        g_clear_error(&error);
        out->data[20] ^= 1;
        /* A newer version, its checksum right. */
        out->data[8] = VT_RECORDER_VERSION + 1;
        {
                guint32 crc = vt_recorder_crc32c(0, out->data, 36);

                for (guint i = 0; i < 4; i++)
                        out->data[36 + i] = (guint8)(crc >> (8 * i));
        }
        g_assert_false(vt_recorder_header_decode(out->data, out->len, &back, &error));
        g_assert_error(error, VT_RECORDER_ERROR, VT_RECORDER_ERROR_VERSION);
}

/* A frame cut at every byte is reported cut short, never read. */
static void
test_frame_truncated(void)
{
        VtRecorderRecord record = {.type = VT_RECORDER_RECORD_CONTROL,
                                   .u.control = {.kind = VT_RECORDER_CONTROL_RESUME}};
        g_autoptr(GByteArray) out = g_byte_array_new();

        vt_recorder_encode(out, &record);
        for (guint cut = 1; cut < out->len; cut++) {
                g_autoptr(GError) error = NULL;
                const guint8 *body;
                gsize body_len;

                g_assert_false(vt_recorder_frame_next(out->data, cut, 0, &body, &body_len, &error));
                g_assert_error(error, VT_RECORDER_ERROR, VT_RECORDER_ERROR_TRUNCATED);
                g_assert_nonnull(strstr(error->message, "offset 0"));
        }
}

/* Every flipped bit of a record is caught by its checksum or its length. */
static void
test_frame_corrupt(void)
{
        VtRecorderRecord record = {.type = VT_RECORDER_RECORD_MOVE,
                                   .u.move = {.guest = (char *)"g", .outcome = 1}};
        g_autoptr(GByteArray) out = g_byte_array_new();

        vt_recorder_encode(out, &record);
        for (guint bit = 0; bit < out->len * 8; bit++) {
                g_autoptr(GError) error = NULL;
                const guint8 *body;
                gsize body_len;

                out->data[bit / 8] ^= 1 << (bit % 8);
                g_assert_false(
                    vt_recorder_frame_next(out->data, out->len, 0, &body, &body_len, &error));
                g_assert_nonnull(error);
                out->data[bit / 8] ^= 1 << (bit % 8);
        }
}

/* Bodies that pass a checksum but lie (counts, lengths, enums) are refused. */
static void
test_decode_hostile(void)
{
        static const struct {
                const char *what;
                guint8 body[24];
                gsize len;
        } cases[] = {
            {"type 0", {0, 0, 0}, 3},
            {"unknown type", {VT_RECORDER_RECORD_MAX, 0, 0}, 3},
            {"no times", {VT_RECORDER_RECORD_CONTROL}, 1},
            {"varint past 64 bits",
             {6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
             11},
            {"control kind 0", {6, 0, 0, 0, 0, 0, 0}, 7},
            {"string past the end", {6, 0, 0, 1, 100, 'a'}, 6},
            /* A tick: 17 fields of zeros before its count of guests. */
            {"a billion guests",
             {2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x04},
             23},
            {"move without a guest", {3, 0, 0, 0, 1, 0, 0, 0, 0}, 9},
            {"control without its kind", {6, 0, 0}, 3},
        };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                VtRecorderRecord *record = NULL;

                g_test_message("%s", cases[i].what);
                g_assert_false(vt_recorder_decode(cases[i].body, cases[i].len, &record, &error));
                g_assert_error(error, VT_RECORDER_ERROR, VT_RECORDER_ERROR_CORRUPT);
                g_assert_null(record);
        }
}

/* What a later version appends to a record is skipped. */
static void
test_decode_appended(void)
{
        VtRecorderRecord record = {.type = VT_RECORDER_RECORD_CONTROL,
                                   .u.control = {.kind = VT_RECORDER_CONTROL_HOLD,
                                                 .guest = (char *)"g",
                                                 .bytes = 1 << 30}};
        g_autoptr(GByteArray) out = g_byte_array_new();
        g_autoptr(VtRecorderRecord) back = NULL;
        g_autoptr(GError) error = NULL;

        vt_recorder_encode(out, &record);
        g_byte_array_append(out, (const guint8 *)"\x05more", 5);
        g_assert_true(vt_recorder_decode(out->data + VT_RECORDER_FRAME_SIZE,
                                         out->len - VT_RECORDER_FRAME_SIZE, &back, &error));
        g_assert_cmpuint(back->u.control.bytes, ==, 1 << 30);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/recorder/format/crc32c", test_crc32c);
        g_test_add_func("/recorder/format/policy", test_policy);
        g_test_add_func("/recorder/format/tick", test_tick);
        g_test_add_func("/recorder/format/tick-empty", test_tick_empty);
        g_test_add_func("/recorder/format/move", test_move);
        g_test_add_func("/recorder/format/ksm", test_ksm);
        g_test_add_func("/recorder/format/migration", test_migration);
        g_test_add_func("/recorder/format/control", test_control);
        g_test_add_func("/recorder/format/header", test_header);
        g_test_add_func("/recorder/format/frame-truncated", test_frame_truncated);
        g_test_add_func("/recorder/format/frame-corrupt", test_frame_corrupt);
        g_test_add_func("/recorder/format/decode-hostile", test_decode_hostile);
        g_test_add_func("/recorder/format/decode-appended", test_decode_appended);
        return g_test_run();
}
