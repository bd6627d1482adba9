/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The history format's records: each type's fields, encoded and decoded by one walk (pure). */

/*
 * Theory of operation
 *
 * Each record type has one function that walks its fields in order
 * (walk_tick(), walk_ksm(), ...). The walk is given a codec that either
 * appends each field to a byte array (encoding) or reads it from a body
 * and stores it (decoding), so the two directions cannot drift apart: the
 * order in these functions *is* the format of docs/recorder.md.
 *
 * Integers are LEB128 varints (signed ones zigzag-mapped first), so a
 * size of 512 MiB takes 5 bytes and a flag 1. A double is its IEEE-754
 * bits, byte-swapped, as a varint: 0.0 (idle PSI, no swapping) takes one
 * byte, 1.0 three, any other at most ten, and every value comes back bit
 * for bit (NaN payloads, -0.0 and infinities included), which replaying a
 * policy needs. Strings are a varint (length + 1, 0 for none) and bytes.
 *
 * Decoding never trusts a count or a length: each is checked against the
 * bytes left before anything is allocated, and a body that runs out,
 * overflows a varint or names a value out of range is damage. Bytes after
 * the fields this version knows are skipped: later versions append.
 *
 * Pure: no I/O, no clock.
 */
#include "host/recorder/recorder-format.h"

#include <string.h>

typedef struct {
        GByteArray *out;  /* encoding: appended to; NULL when decoding */
        const guint8 *in; /* decoding: the body */
        gsize len;        /* its length */
        gsize off;        /* where the next field starts */
        gboolean bad;     /* decoding ran out or met a bad value */
} Codec;

static gboolean
decoding(const Codec *c)
{
        return c->out == NULL;
}

static void
put_uvarint(GByteArray *out, guint64 value)
{
        guint8 bytes[10];
        guint n = 0;

        do {
                bytes[n] = value & 0x7f;
                value >>= 7;
                if (value != 0)
                        bytes[n] |= 0x80;
                n++;
        } while (value != 0);
        g_byte_array_append(out, bytes, n);
}

static guint64
get_uvarint(Codec *c)
{
        guint64 value = 0;

        for (guint shift = 0; shift < 64; shift += 7) {
                guint8 byte;

                if (c->bad || c->off >= c->len) {
                        c->bad = TRUE;
                        return 0;
                }
                byte = c->in[c->off++];
                if (shift == 63 && byte > 1)
                        break;
                value |= (guint64)(byte & 0x7f) << shift;
                if ((byte & 0x80) == 0)
                        return value;
        }
        c->bad = TRUE;
        return 0;
}

/* Every field helper writes only when decoding, so an encoded record is
 * only read even though the walks take it by pointer. */
static void
c_u64(Codec *c, guint64 *value)
{
        if (!decoding(c))
                put_uvarint(c->out, *value);
        else
                *value = get_uvarint(c);
}

static void
c_i64(Codec *c, gint64 *value)
{
        if (!decoding(c)) {
                put_uvarint(c->out, ((guint64)*value << 1) ^ (guint64)(*value >> 63));
        } else {
                guint64 zz = get_uvarint(c);

                *value = (gint64)(zz >> 1) ^ -(gint64)(zz & 1);
        }
}

static void
c_uint(Codec *c, guint *value)
{
        guint64 wide = *value;

        c_u64(c, &wide);
        if (decoding(c)) {
                if (wide > G_MAXUINT)
                        c->bad = TRUE;
                *value = (guint)wide;
        }
}

static void
c_u32(Codec *c, guint32 *value)
{
        guint wide = *value;

        c_uint(c, &wide);
        if (decoding(c))
                *value = wide;
}

static void
c_bool(Codec *c, gboolean *value)
{
        guint64 wide = *value != 0;

        c_u64(c, &wide);
        if (decoding(c)) {
                if (wide > 1)
                        c->bad = TRUE;
                *value = wide != 0;
        }
}

/* An enum: below @max; @min is the first valid value. */
static void
c_enum(Codec *c, guint *value, guint min, guint max)
{
        c_uint(c, value);
        if (decoding(c) && (*value < min || *value >= max))
                c->bad = TRUE;
}

#define C_ENUM(c, field, min, max)                                                                 \
        do {                                                                                       \
                guint enum_ = (guint)(field);                                                      \
                c_enum((c), &enum_, (min), (max));                                                 \
                if (decoding(c))                                                                   \
                        (field) = enum_;                                                           \
        } while (0)

static void
c_double(Codec *c, double *value)
{
        guint64 bits;

        if (!decoding(c)) {
                memcpy(&bits, value, sizeof(bits));
                put_uvarint(c->out, GUINT64_SWAP_LE_BE(bits));
        } else {
                bits = GUINT64_SWAP_LE_BE(get_uvarint(c));
                memcpy(value, &bits, sizeof(bits));
        }
}

/* Reads a string's length and checks it against what is left. */
static gboolean
get_str_len(Codec *c, gsize *ret_len)
{
        guint64 n = get_uvarint(c);

        if (c->bad || n == 0)
                return FALSE;
        if (n - 1 > c->len - c->off) {
                c->bad = TRUE;
                return FALSE;
        }
        *ret_len = (gsize)(n - 1);
        return TRUE;
}

/* A nullable string; decoded as a new string. */
static void
c_str(Codec *c, char **value)
{
        gsize n;

        if (!decoding(c)) {
                n = *value != NULL ? strlen(*value) : 0;
                put_uvarint(c->out, *value != NULL ? (guint64)n + 1 : 0);
                if (*value != NULL)
                        g_byte_array_append(c->out, (const guint8 *)*value, (guint)n);
                return;
        }
        *value = NULL;
        if (!get_str_len(c, &n))
                return;
        *value = g_strndup((const char *)c->in + c->off, n);
        c->off += n;
}

/* A string into a fixed buffer of @size bytes (a reason), cut to fit. */
static void
c_buf(Codec *c, const char **encoded, char *buf, gsize size)
{
        gsize n;

        if (!decoding(c)) {
                const char *s = encoded != NULL && *encoded != NULL ? *encoded : buf;

                n = strnlen(s, size - 1);
                put_uvarint(c->out, (guint64)n + 1);
                g_byte_array_append(c->out, (const guint8 *)s, (guint)n);
                return;
        }
        buf[0] = '\0';
        if (!get_str_len(c, &n))
                return;
        memcpy(buf, c->in + c->off, MIN(n, size - 1));
        buf[MIN(n, size - 1)] = '\0';
        c->off += n;
}

/* A count of array entries, each at least @min_bytes long when encoded:
 * a count the bytes left cannot hold is damage, caught before allocating. */
static void
c_count(Codec *c, guint *value, gsize min_bytes)
{
        c_uint(c, value);
        if (decoding(c) && !c->bad && (gsize)*value > (c->len - c->off) / min_bytes)
                c->bad = TRUE;
}

static void
walk_balloon_config(Codec *c, VtBalloonConfig *config)
{
        guint n_steps = VT_HOST_STATE_MAX;

        c_u64(c, &config->host_reserve);
        c_double(c, &config->plenty_fraction);
        c_double(c, &config->tight_fraction);
        c_double(c, &config->short_fraction);
        c_double(c, &config->hysteresis_fraction);
        c_double(c, &config->psi_short);
        c_double(c, &config->psi_critical);
        c_double(c, &config->guest_headroom_fraction);
        c_u64(c, &config->guest_headroom_min);
        c_double(c, &config->guest_pressure_psi);
        c_double(c, &config->guest_low_fraction);
        c_double(c, &config->default_min_fraction);
        c_uint(c, &n_steps);
        if (n_steps != VT_HOST_STATE_MAX) {
                c->bad = TRUE;
                return;
        }
        for (guint i = 0; i < VT_HOST_STATE_MAX; i++)
                c_double(c, &config->step_fraction[i]);
        c_u64(c, &config->min_change);
        c_i64(c, &config->stale_us);
        c_i64(c, &config->settle_us);
        c_double(c, &config->swap_in_tight);
}

static void
walk_policy(Codec *c, VtRecorderPolicy *policy)
{
        c_str(c, &policy->name);
        walk_balloon_config(c, &policy->config);
}

static void
walk_balloon_host(Codec *c, VtBalloonHost *host)
{
        c_u64(c, &host->mem_total);
        c_u64(c, &host->mem_available);
        c_double(c, &host->psi_some_avg10);
        c_double(c, &host->psi_full_avg10);
        c_double(c, &host->swap_in_per_s);
        c_double(c, &host->swap_out_per_s);
        c_u64(c, &host->budget_limit);
}

static void
walk_balloon_guest(Codec *c, VtBalloonGuest *guest)
{
        c_u32(c, &guest->flags);
        c_u64(c, &guest->max_bytes);
        c_u64(c, &guest->actual_bytes);
        c_u64(c, &guest->target_bytes);
        c_i64(c, &guest->last_change_us);
        c_u64(c, &guest->stats_total);
        c_u64(c, &guest->stats_free);
        c_u64(c, &guest->stats_available);
        c_i64(c, &guest->stats_age_us);
        c_u64(c, &guest->agent_mem_total);
        c_u64(c, &guest->agent_mem_available);
        c_double(c, &guest->agent_psi_some_avg10);
        c_double(c, &guest->agent_psi_full_avg10);
        c_i64(c, &guest->agent_age_us);
        c_u64(c, &guest->rss_bytes);
}

static void
walk_guest_config(Codec *c, VtBalloonGuestConfig *config)
{
        c_u64(c, &config->min_bytes);
        c_u64(c, &config->max_bytes);
        c_uint(c, &config->shares);
        c_bool(c, &config->opt_out);
        c_bool(c, &config->held);
        c_u64(c, &config->held_bytes);
}

static void
walk_target(Codec *c, VtBalloonTarget *target)
{
        C_ENUM(c, target->action, 0, VT_BALLOON_ACTION_MAX);
        c_u64(c, &target->target_bytes);
        c_u64(c, &target->want_bytes);
        c_buf(c, NULL, target->reason, sizeof(target->reason));
}

/* Decoding: the arrays of @n guests, allocated once the count is checked. */
static void
tick_alloc(VtRecorderTick *tick, guint n)
{
        tick->names = g_new0(char *, n + 1);
        tick->guests = g_new0(VtBalloonGuest, MAX(n, 1));
        tick->configs = g_new0(VtBalloonGuestConfig, MAX(n, 1));
        tick->decision.targets = g_new0(VtBalloonTarget, MAX(n, 1));
}

static void
walk_tick(Codec *c, VtRecorderTick *tick)
{
        c_str(c, &tick->why);
        c_bool(c, &tick->paused);
        walk_balloon_host(c, &tick->host);
        C_ENUM(c, tick->state.host_state, 0, VT_HOST_STATE_MAX);
        c_i64(c, &tick->state.host_state_since_us);
        c_i64(c, &tick->state.scratch);
        C_ENUM(c, tick->decision.host_state, 0, VT_HOST_STATE_MAX);
        c_i64(c, &tick->decision.host_free);
        c_buf(c, NULL, tick->decision.reason, sizeof(tick->decision.reason));
        /* A guest takes at least 28 bytes: 24 fields, a name, a reason. */
        c_count(c, &tick->n_guests, 28);
        if (c->bad)
                return;
        if (decoding(c))
                tick_alloc(tick, tick->n_guests);
        for (guint i = 0; i < tick->n_guests && !c->bad; i++) {
                char *name = (char *)tick->guests[i].name;

                c_str(c, &name);
                if (decoding(c)) {
                        tick->names[i] = name;
                        tick->guests[i].name = name;
                        c->bad = c->bad || name == NULL;
                }
                walk_balloon_guest(c, &tick->guests[i]);
                walk_guest_config(c, &tick->configs[i]);
                walk_target(c, &tick->decision.targets[i]);
        }
}

static void
walk_move(Codec *c, VtRecorderMove *move)
{
        c_str(c, &move->guest);
        C_ENUM(c, move->outcome, VT_RECORDER_MOVE_DONE, VT_RECORDER_MOVE_MAX);
        c_u64(c, &move->actual_bytes);
        c_u64(c, &move->target_bytes);
        c_i64(c, &move->elapsed_us);
        c_str(c, &move->detail);
        if (decoding(c) && move->guest == NULL)
                c->bad = TRUE;
}

static void
walk_ksm_sample(Codec *c, VtKsmSample *sample)
{
        c_i64(c, &sample->time_us);
        c_uint(c, &sample->run);
        c_u64(c, &sample->pages_to_scan);
        c_u64(c, &sample->sleep_millisecs);
        c_u64(c, &sample->pages_shared);
        c_u64(c, &sample->pages_sharing);
        c_u64(c, &sample->pages_unshared);
        c_u64(c, &sample->pages_volatile);
        c_u64(c, &sample->full_scans);
        c_u64(c, &sample->pages_scanned);
        c_bool(c, &sample->has_pages_scanned);
        c_i64(c, &sample->general_profit);
        c_bool(c, &sample->has_general_profit);
        c_u64(c, &sample->ksm_zero_pages);
        c_i64(c, &sample->ksmd_cpu_us);
}

static void
walk_ksm_head(Codec *c, VtRecorderKsm *ksm)
{
        VtKsmDecision *d = &ksm->decision;

        c_u64(c, &ksm->host.mem_total);
        c_u64(c, &ksm->host.mem_available);
        c_u64(c, &ksm->host.mem_free);
        c_double(c, &ksm->host.psi_some_avg10);
        c_double(c, &ksm->host.psi_full_avg10);
        c_uint(c, &ksm->host.n_cpus);
        walk_ksm_sample(c, &ksm->sample);
        c_uint(c, &d->run);
        c_u64(c, &d->pages_to_scan);
        c_u64(c, &d->sleep_millisecs);
        c_bool(c, &d->use_advisor);
        c_u64(c, &d->advisor_target_scan_time_s);
        c_buf(c, &d->reason, d->reason_buf, sizeof(d->reason_buf));
        if (decoding(c))
                d->reason = d->reason_buf;
        c_bool(c, &ksm->applied);
        c_double(c, &ksm->cpu_share);
}

static void
walk_ksm(Codec *c, VtRecorderKsm *ksm)
{
        walk_ksm_head(c, ksm);
        /* A guest takes at least 6 bytes. */
        c_count(c, &ksm->n_guests, 6);
        if (c->bad)
                return;
        if (decoding(c)) {
                ksm->names = g_new0(char *, ksm->n_guests + 1);
                ksm->guests = g_new0(VtKsmGuest, MAX(ksm->n_guests, 1));
                ksm->profits = g_new0(gint64, MAX(ksm->n_guests, 1));
        }
        for (guint i = 0; i < ksm->n_guests && !c->bad; i++) {
                c_str(c, &ksm->names[i]);
                if (decoding(c) && ksm->names[i] == NULL)
                        c->bad = TRUE;
                c_u64(c, &ksm->guests[i].mergeable_bytes);
                c_i64(c, &ksm->guests[i].merging_pages);
                c_u64(c, &ksm->guests[i].rss_bytes);
                c_bool(c, &ksm->guests[i].opt_out);
                c_i64(c, &ksm->profits[i]);
        }
}

static void
walk_migration(Codec *c, VtRecorderMigration *m)
{
        c_str(c, &m->guest);
        c_str(c, &m->peer);
        C_ENUM(c, m->phase, VT_RECORDER_MIGRATION_START, VT_RECORDER_MIGRATION_MAX);
        c_uint(c, &m->predicted_outcome);
        c_uint(c, &m->predicted_passes);
        c_u64(c, &m->predicted_bytes);
        c_i64(c, &m->predicted_total_us);
        c_i64(c, &m->predicted_downtime_us);
        c_u64(c, &m->predicted_dirty_rate);
        c_uint(c, &m->status);
        c_uint(c, &m->outcome);
        c_uint(c, &m->pass);
        c_u64(c, &m->remaining_bytes);
        c_u64(c, &m->transferred_bytes);
        c_u64(c, &m->dirty_rate);
        c_u64(c, &m->throughput);
        c_i64(c, &m->elapsed_us);
        c_i64(c, &m->downtime_limit_us);
        c_i64(c, &m->predicted_left_us);
        c_i64(c, &m->downtime_us);
        c_uint(c, &m->steps);
        c_uint(c, &m->cause);
        c_bool(c, &m->by_hand);
        c_bool(c, &m->source_gone);
        c_str(c, &m->reason);
        c_str(c, &m->summary);
        if (decoding(c) && m->guest == NULL)
                c->bad = TRUE;
}

static void
walk_control(Codec *c, VtRecorderControl *control)
{
        C_ENUM(c, control->kind, VT_RECORDER_CONTROL_DAEMON_START, VT_RECORDER_CONTROL_MAX);
        c_str(c, &control->guest);
        c_u64(c, &control->bytes);
        c_str(c, &control->detail);
}

static void
walk_record(Codec *c, VtRecorderRecord *record)
{
        C_ENUM(c, record->type, VT_RECORDER_RECORD_POLICY, VT_RECORDER_RECORD_MAX);
        c_i64(c, &record->wall_us);
        c_i64(c, &record->mono_us);
        if (c->bad)
                return;
        switch (record->type) {
        case VT_RECORDER_RECORD_POLICY:
                walk_policy(c, &record->u.policy);
                break;
        case VT_RECORDER_RECORD_TICK:
                walk_tick(c, &record->u.tick);
                break;
        case VT_RECORDER_RECORD_MOVE:
                walk_move(c, &record->u.move);
                break;
        case VT_RECORDER_RECORD_KSM:
                walk_ksm(c, &record->u.ksm);
                break;
        case VT_RECORDER_RECORD_MIGRATION:
                walk_migration(c, &record->u.migration);
                break;
        case VT_RECORDER_RECORD_CONTROL:
                walk_control(c, &record->u.control);
                break;
        case VT_RECORDER_RECORD_MAX:
        default:
                c->bad = TRUE;
                break;
        }
}

/**
 * vt_recorder_encode:
 * @out: appended to
 * @record: the record (only read; a tick's names are its guests' names)
 *
 * Appends @record, framed: its body's length and CRC-32C, then the body.
 */
void
vt_recorder_encode(GByteArray *out, const VtRecorderRecord *record)
{
        Codec c = {.out = out};
        guint start;
        guint32 body_len, crc;

        g_return_if_fail(out != NULL && record != NULL);
        g_return_if_fail(record->type >= VT_RECORDER_RECORD_POLICY &&
                         record->type < VT_RECORDER_RECORD_MAX);

        start = out->len;
        g_byte_array_set_size(out, start + VT_RECORDER_FRAME_SIZE);
        /* The walks take a mutable record; encoding only reads it. */
        walk_record(&c, (VtRecorderRecord *)record);
        body_len = out->len - start - VT_RECORDER_FRAME_SIZE;
        crc = vt_recorder_crc32c(0, out->data + start + VT_RECORDER_FRAME_SIZE, body_len);
        for (guint i = 0; i < 4; i++) {
                out->data[start + i] = (guint8)(body_len >> (8 * i));
                out->data[start + 4 + i] = (guint8)(crc >> (8 * i));
        }
}

/**
 * vt_recorder_decode:
 * @body: a record's body (vt_recorder_frame_next())
 * @len: its length
 * @ret_record: (out) (transfer full): the record, on success
 * @error: #VT_RECORDER_ERROR_CORRUPT when the body ends inside a field or
 *     holds a value out of range (the message says at which byte)
 *
 * Returns: %TRUE with a new record; free it with vt_recorder_record_free()
 */
gboolean
vt_recorder_decode(const guint8 *body, gsize len, VtRecorderRecord **ret_record, GError **error)
{
        g_autoptr(VtRecorderRecord) record = g_new0(VtRecorderRecord, 1);
        Codec c = {.in = body, .len = len};

        g_return_val_if_fail(body != NULL && ret_record != NULL, FALSE);

        walk_record(&c, record);
        if (c.bad) {
                g_set_error(error, VT_RECORDER_ERROR, VT_RECORDER_ERROR_CORRUPT,
                            "%s record of %" G_GSIZE_FORMAT
                            " bytes does not decode (at byte %" G_GSIZE_FORMAT ")",
                            vt_recorder_record_type_to_string(record->type), len, c.off);
                return FALSE;
        }
        *ret_record = g_steal_pointer(&record);
        return TRUE;
}
