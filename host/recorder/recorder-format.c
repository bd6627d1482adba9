/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The history format's frame: CRC-32C, the segment header, framing, filters (pure). */

/*
 * Theory of operation
 *
 * A segment is a header and records one after the other, each framed as
 * its body's length and its body's CRC-32C (docs/recorder.md has every
 * byte). A reader walks the frames with vt_recorder_frame_next(): a frame
 * whose length runs past the end of the data is a write cut short (the
 * daemon killed, or a power cut), one whose checksum does not match is
 * damage; either stops that segment, and everything before it stands.
 *
 * The checksum is CRC-32C (Castagnoli), table-driven, here: 40 lines, no
 * dependency (zlib's crc32() would add one to the daemon and the CLI for
 * a single call), and it detects every burst of up to 32 bits and every
 * odd number of flipped bits in a record; it is the checksum of ext4's
 * metadata, btrfs and iSCSI, and x86 has an instruction for it should the
 * table ever be too slow (it runs at about 500 MB/s, a day of history in
 * well under a second). GLib's g_compute_checksum() offers only
 * cryptographic sums (MD5, SHA-*), ten times slower, with a hex string
 * allocated per call, and nothing here needs to resist an adversary: the
 * history is the daemon's own, in a root-only directory.
 *
 * Pure: no I/O, no clock.
 */
#include "host/recorder/recorder-format.h"

#include <string.h>

G_DEFINE_QUARK(vt - recorder - error - quark, vt_recorder_error)

/* CRC-32C, reflected polynomial 0x82F63B78. */
static const guint32 crc32c_table[256] = {
    0x00000000, 0xf26b8303, 0xe13b70f7, 0x1350f3f4, 0xc79a971f, 0x35f1141c, 0x26a1e7e8, 0xd4ca64eb,
    0x8ad958cf, 0x78b2dbcc, 0x6be22838, 0x9989ab3b, 0x4d43cfd0, 0xbf284cd3, 0xac78bf27, 0x5e133c24,
    0x105ec76f, 0xe235446c, 0xf165b798, 0x030e349b, 0xd7c45070, 0x25afd373, 0x36ff2087, 0xc494a384,
    0x9a879fa0, 0x68ec1ca3, 0x7bbcef57, 0x89d76c54, 0x5d1d08bf, 0xaf768bbc, 0xbc267848, 0x4e4dfb4b,
    0x20bd8ede, 0xd2d60ddd, 0xc186fe29, 0x33ed7d2a, 0xe72719c1, 0x154c9ac2, 0x061c6936, 0xf477ea35,
    0xaa64d611, 0x580f5512, 0x4b5fa6e6, 0xb93425e5, 0x6dfe410e, 0x9f95c20d, 0x8cc531f9, 0x7eaeb2fa,
    0x30e349b1, 0xc288cab2, 0xd1d83946, 0x23b3ba45, 0xf779deae, 0x05125dad, 0x1642ae59, 0xe4292d5a,
    0xba3a117e, 0x4851927d, 0x5b016189, 0xa96ae28a, 0x7da08661, 0x8fcb0562, 0x9c9bf696, 0x6ef07595,
    0x417b1dbc, 0xb3109ebf, 0xa0406d4b, 0x522bee48, 0x86e18aa3, 0x748a09a0, 0x67dafa54, 0x95b17957,
    0xcba24573, 0x39c9c670, 0x2a993584, 0xd8f2b687, 0x0c38d26c, 0xfe53516f, 0xed03a29b, 0x1f682198,
    0x5125dad3, 0xa34e59d0, 0xb01eaa24, 0x42752927, 0x96bf4dcc, 0x64d4cecf, 0x77843d3b, 0x85efbe38,
    0xdbfc821c, 0x2997011f, 0x3ac7f2eb, 0xc8ac71e8, 0x1c661503, 0xee0d9600, 0xfd5d65f4, 0x0f36e6f7,
    0x61c69362, 0x93ad1061, 0x80fde395, 0x72966096, 0xa65c047d, 0x5437877e, 0x4767748a, 0xb50cf789,
    0xeb1fcbad, 0x197448ae, 0x0a24bb5a, 0xf84f3859, 0x2c855cb2, 0xdeeedfb1, 0xcdbe2c45, 0x3fd5af46,
    0x7198540d, 0x83f3d70e, 0x90a324fa, 0x62c8a7f9, 0xb602c312, 0x44694011, 0x5739b3e5, 0xa55230e6,
    0xfb410cc2, 0x092a8fc1, 0x1a7a7c35, 0xe811ff36, 0x3cdb9bdd, 0xceb018de, 0xdde0eb2a, 0x2f8b6829,
    0x82f63b78, 0x709db87b, 0x63cd4b8f, 0x91a6c88c, 0x456cac67, 0xb7072f64, 0xa457dc90, 0x563c5f93,
    0x082f63b7, 0xfa44e0b4, 0xe9141340, 0x1b7f9043, 0xcfb5f4a8, 0x3dde77ab, 0x2e8e845f, 0xdce5075c,
    0x92a8fc17, 0x60c37f14, 0x73938ce0, 0x81f80fe3, 0x55326b08, 0xa759e80b, 0xb4091bff, 0x466298fc,
    0x1871a4d8, 0xea1a27db, 0xf94ad42f, 0x0b21572c, 0xdfeb33c7, 0x2d80b0c4, 0x3ed04330, 0xccbbc033,
    0xa24bb5a6, 0x502036a5, 0x4370c551, 0xb11b4652, 0x65d122b9, 0x97baa1ba, 0x84ea524e, 0x7681d14d,
    0x2892ed69, 0xdaf96e6a, 0xc9a99d9e, 0x3bc21e9d, 0xef087a76, 0x1d63f975, 0x0e330a81, 0xfc588982,
    0xb21572c9, 0x407ef1ca, 0x532e023e, 0xa145813d, 0x758fe5d6, 0x87e466d5, 0x94b49521, 0x66df1622,
    0x38cc2a06, 0xcaa7a905, 0xd9f75af1, 0x2b9cd9f2, 0xff56bd19, 0x0d3d3e1a, 0x1e6dcdee, 0xec064eed,
    0xc38d26c4, 0x31e6a5c7, 0x22b65633, 0xd0ddd530, 0x0417b1db, 0xf67c32d8, 0xe52cc12c, 0x1747422f,
    0x49547e0b, 0xbb3ffd08, 0xa86f0efc, 0x5a048dff, 0x8ecee914, 0x7ca56a17, 0x6ff599e3, 0x9d9e1ae0,
    0xd3d3e1ab, 0x21b862a8, 0x32e8915c, 0xc083125f, 0x144976b4, 0xe622f5b7, 0xf5720643, 0x07198540,
    0x590ab964, 0xab613a67, 0xb831c993, 0x4a5a4a90, 0x9e902e7b, 0x6cfbad78, 0x7fab5e8c, 0x8dc0dd8f,
    0xe330a81a, 0x115b2b19, 0x020bd8ed, 0xf0605bee, 0x24aa3f05, 0xd6c1bc06, 0xc5914ff2, 0x37faccf1,
    0x69e9f0d5, 0x9b8273d6, 0x88d28022, 0x7ab90321, 0xae7367ca, 0x5c18e4c9, 0x4f48173d, 0xbd23943e,
    0xf36e6f75, 0x0105ec76, 0x12551f82, 0xe03e9c81, 0x34f4f86a, 0xc69f7b69, 0xd5cf889d, 0x27a40b9e,
    0x79b737ba, 0x8bdcb4b9, 0x988c474d, 0x6ae7c44e, 0xbe2da0a5, 0x4c4623a6, 0x5f16d052, 0xad7d5351,
};

/**
 * vt_recorder_crc32c:
 * @crc: the CRC so far (0 to start)
 * @data: the bytes
 * @len: how many
 *
 * Returns: the CRC-32C of what came before and @data; of "123456789"
 *     from 0, 0xE3069283.
 */
guint32
vt_recorder_crc32c(guint32 crc, const void *data, gsize len)
{
        const guint8 *p = data;

        crc = ~crc;
        for (gsize i = 0; i < len; i++)
                crc = crc32c_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
        return ~crc;
}

static void
put_le(GByteArray *out, guint64 value, guint n_bytes)
{
        guint8 bytes[8];

        for (guint i = 0; i < n_bytes; i++)
                bytes[i] = (guint8)(value >> (8 * i));
        g_byte_array_append(out, bytes, n_bytes);
}

static guint64
get_le(const guint8 *p, guint n_bytes)
{
        guint64 value = 0;

        for (guint i = 0; i < n_bytes; i++)
                value |= (guint64)p[i] << (8 * i);
        return value;
}

/**
 * vt_recorder_header_encode:
 * @out: appended to
 * @header: the header; its version is written as %VT_RECORDER_VERSION
 *
 * Appends a segment header, %VT_RECORDER_HEADER_SIZE bytes.
 */
void
vt_recorder_header_encode(GByteArray *out, const VtRecorderHeader *header)
{
        guint start;

        g_return_if_fail(out != NULL && header != NULL);

        start = out->len;
        g_byte_array_append(out, (const guint8 *)VT_RECORDER_MAGIC, 8);
        put_le(out, VT_RECORDER_VERSION, 2);
        put_le(out, VT_RECORDER_HEADER_SIZE, 2);
        put_le(out, header->sequence, 8);
        put_le(out, (guint64)header->wall_us, 8);
        put_le(out, (guint64)header->mono_us, 8);
        put_le(out, vt_recorder_crc32c(0, out->data + start, out->len - start), 4);
}

/**
 * vt_recorder_header_decode:
 * @data: a segment's first bytes
 * @len: how many
 * @ret_header: (out): the header, on success
 * @error: #VT_RECORDER_ERROR_TRUNCATED (fewer bytes than a header),
 *     #VT_RECORDER_ERROR_CORRUPT (not a segment, or its checksum fails),
 *     #VT_RECORDER_ERROR_VERSION (a newer format)
 *
 * Returns: %TRUE with @ret_header filled
 */
gboolean
vt_recorder_header_decode(const guint8 *data, gsize len, VtRecorderHeader *ret_header,
                          GError **error)
{
        guint version;
        guint32 crc;

        g_return_val_if_fail(ret_header != NULL, FALSE);

        if (len < VT_RECORDER_HEADER_SIZE) {
                g_set_error(error, VT_RECORDER_ERROR, VT_RECORDER_ERROR_TRUNCATED,
                            "the header is cut short (%" G_GSIZE_FORMAT " of %d bytes)", len,
                            VT_RECORDER_HEADER_SIZE);
                return FALSE;
        }
        if (memcmp(data, VT_RECORDER_MAGIC, 8) != 0) {
                g_set_error_literal(error, VT_RECORDER_ERROR, VT_RECORDER_ERROR_CORRUPT,
                                    "not a vmtide history segment (no 'VTRECORD' at offset 0)");
                return FALSE;
        }
        crc = vt_recorder_crc32c(0, data, VT_RECORDER_HEADER_SIZE - 4);
        if (crc != (guint32)get_le(data + VT_RECORDER_HEADER_SIZE - 4, 4)) {
                g_set_error_literal(error, VT_RECORDER_ERROR, VT_RECORDER_ERROR_CORRUPT,
                                    "the header's checksum does not match (offset 0)");
                return FALSE;
        }
        version = (guint)get_le(data + 8, 2);
        if (version == 0 || version > VT_RECORDER_VERSION) {
                g_set_error(error, VT_RECORDER_ERROR, VT_RECORDER_ERROR_VERSION,
                            "format version %u, this reader knows 1 to %d", version,
                            VT_RECORDER_VERSION);
                return FALSE;
        }
        if (get_le(data + 10, 2) != VT_RECORDER_HEADER_SIZE) {
                g_set_error(error, VT_RECORDER_ERROR, VT_RECORDER_ERROR_CORRUPT,
                            "header size %u, version %u has %d", (guint)get_le(data + 10, 2),
                            version, VT_RECORDER_HEADER_SIZE);
                return FALSE;
        }
        *ret_header = (VtRecorderHeader){
            .version = version,
            .sequence = get_le(data + 12, 8),
            .wall_us = (gint64)get_le(data + 20, 8),
            .mono_us = (gint64)get_le(data + 28, 8),
        };
        return TRUE;
}

/**
 * vt_recorder_frame_next:
 * @data: a segment's bytes
 * @len: how many
 * @offset: where the frame starts (below @len)
 * @ret_body: (out) (transfer none): the record's body, inside @data
 * @ret_body_len: (out): its length; the next frame starts at @offset +
 *     %VT_RECORDER_FRAME_SIZE + @ret_body_len
 * @error: #VT_RECORDER_ERROR_TRUNCATED when the data ends inside the
 *     frame, #VT_RECORDER_ERROR_CORRUPT when its length is out of range
 *     or its checksum does not match; the message names @offset
 *
 * Returns: %TRUE with a body whose checksum matched
 */
gboolean
vt_recorder_frame_next(const guint8 *data, gsize len, gsize offset, const guint8 **ret_body,
                       gsize *ret_body_len, GError **error)
{
        gsize left = len - offset;
        guint32 body_len, crc, expected;

        g_return_val_if_fail(offset < len, FALSE);

        if (left < VT_RECORDER_FRAME_SIZE) {
                g_set_error(error, VT_RECORDER_ERROR, VT_RECORDER_ERROR_TRUNCATED,
                            "the record at offset %" G_GSIZE_FORMAT
                            " is cut short (%" G_GSIZE_FORMAT " of its %d frame bytes)",
                            offset, left, VT_RECORDER_FRAME_SIZE);
                return FALSE;
        }
        body_len = (guint32)get_le(data + offset, 4);
        expected = (guint32)get_le(data + offset + 4, 4);
        if (body_len == 0 || body_len > VT_RECORDER_RECORD_BYTES_MAX) {
                g_set_error(error, VT_RECORDER_ERROR, VT_RECORDER_ERROR_CORRUPT,
                            "the record at offset %" G_GSIZE_FORMAT
                            " has length %u, out of range (1 to %u)",
                            offset, body_len, VT_RECORDER_RECORD_BYTES_MAX);
                return FALSE;
        }
        if (left - VT_RECORDER_FRAME_SIZE < body_len) {
                g_set_error(error, VT_RECORDER_ERROR, VT_RECORDER_ERROR_TRUNCATED,
                            "the record at offset %" G_GSIZE_FORMAT
                            " is cut short (%" G_GSIZE_FORMAT " of %u bytes)",
                            offset, left, body_len + VT_RECORDER_FRAME_SIZE);
                return FALSE;
        }
        crc = vt_recorder_crc32c(0, data + offset + VT_RECORDER_FRAME_SIZE, body_len);
        if (crc != expected) {
                g_set_error(error, VT_RECORDER_ERROR, VT_RECORDER_ERROR_CORRUPT,
                            "the record at offset %" G_GSIZE_FORMAT
                            " is corrupt (checksum 0x%08x, its frame says 0x%08x)",
                            offset, crc, expected);
                return FALSE;
        }
        *ret_body = data + offset + VT_RECORDER_FRAME_SIZE;
        *ret_body_len = body_len;
        return TRUE;
}

static void
names_free(char **names, guint n)
{
        if (names == NULL)
                return;
        for (guint i = 0; i < n; i++)
                g_free(names[i]);
        g_free(names);
}

/**
 * vt_recorder_record_free:
 * @record: (nullable): a decoded record
 *
 * Frees @record with the strings and arrays it owns.
 */
void
vt_recorder_record_free(VtRecorderRecord *record)
{
        if (record == NULL)
                return;
        switch (record->type) {
        case VT_RECORDER_RECORD_POLICY:
                g_free(record->u.policy.name);
                break;
        case VT_RECORDER_RECORD_TICK:
                g_free(record->u.tick.why);
                names_free(record->u.tick.names, record->u.tick.n_guests);
                g_free(record->u.tick.guests);
                g_free(record->u.tick.configs);
                g_free(record->u.tick.decision.targets);
                break;
        case VT_RECORDER_RECORD_MOVE:
                g_free(record->u.move.guest);
                g_free(record->u.move.detail);
                break;
        case VT_RECORDER_RECORD_KSM:
                names_free(record->u.ksm.names, record->u.ksm.n_guests);
                g_free(record->u.ksm.guests);
                g_free(record->u.ksm.profits);
                break;
        case VT_RECORDER_RECORD_MIGRATION:
                g_free(record->u.migration.guest);
                g_free(record->u.migration.peer);
                g_free(record->u.migration.reason);
                g_free(record->u.migration.summary);
                break;
        case VT_RECORDER_RECORD_CONTROL:
                g_free(record->u.control.guest);
                g_free(record->u.control.detail);
                break;
        case VT_RECORDER_RECORD_MAX:
        default:
                break;
        }
        g_free(record);
}

/* Keeps only @guest's entries of a tick; TRUE when it had one. */
static gboolean
tick_keep_guest(VtRecorderTick *tick, const char *guest)
{
        guint kept = 0;

        for (guint i = 0; i < tick->n_guests; i++) {
                if (g_strcmp0(tick->names[i], guest) != 0) {
                        g_free(tick->names[i]);
                        continue;
                }
                tick->names[kept] = tick->names[i];
                tick->guests[kept] = tick->guests[i];
                tick->configs[kept] = tick->configs[i];
                tick->decision.targets[kept] = tick->decision.targets[i];
                kept++;
        }
        tick->names[kept] = NULL;
        tick->n_guests = kept;
        return kept > 0;
}

static gboolean
ksm_keep_guest(VtRecorderKsm *ksm, const char *guest)
{
        guint kept = 0;

        for (guint i = 0; i < ksm->n_guests; i++) {
                if (g_strcmp0(ksm->names[i], guest) != 0) {
                        g_free(ksm->names[i]);
                        continue;
                }
                ksm->names[kept] = ksm->names[i];
                ksm->guests[kept] = ksm->guests[i];
                ksm->profits[kept] = ksm->profits[i];
                kept++;
        }
        ksm->n_guests = kept;
        return kept > 0;
}

/**
 * vt_recorder_record_keep_guest:
 * @record: a decoded record
 * @guest: a guest's name
 *
 * Filters @record down to @guest: a tick or a KSM step keeps only that
 * guest's entries (the host's stay); a move, a migration or a control
 * record is kept when it is that guest's, a control record about the
 * whole host (pause, resume, start, stop) always; a policy always.
 *
 * Returns: %TRUE when anything of @record concerns @guest (keep it)
 */
gboolean
vt_recorder_record_keep_guest(VtRecorderRecord *record, const char *guest)
{
        g_return_val_if_fail(record != NULL && guest != NULL, FALSE);

        switch (record->type) {
        case VT_RECORDER_RECORD_TICK:
                return tick_keep_guest(&record->u.tick, guest);
        case VT_RECORDER_RECORD_KSM:
                return ksm_keep_guest(&record->u.ksm, guest);
        case VT_RECORDER_RECORD_MOVE:
                return g_strcmp0(record->u.move.guest, guest) == 0;
        case VT_RECORDER_RECORD_MIGRATION:
                return g_strcmp0(record->u.migration.guest, guest) == 0;
        case VT_RECORDER_RECORD_CONTROL:
                return record->u.control.guest == NULL ||
                       g_strcmp0(record->u.control.guest, guest) == 0;
        case VT_RECORDER_RECORD_POLICY:
        case VT_RECORDER_RECORD_MAX:
        default:
                return TRUE;
        }
}

/**
 * vt_recorder_tick_get_input:
 * @tick: a tick
 * @now_us: its record's `mono_us`
 * @ret_input: (out): the policy's input, pointing into @tick
 *
 * What vt_balloon_decide() took, to run it again (with a copy of
 * @tick->state and the policy record's config).
 */
void
vt_recorder_tick_get_input(const VtRecorderTick *tick, gint64 now_us, VtBalloonInput *ret_input)
{
        g_return_if_fail(tick != NULL && ret_input != NULL);

        *ret_input = (VtBalloonInput){
            .host = &tick->host,
            .guests = tick->guests,
            .configs = tick->configs,
            .n_guests = tick->n_guests,
            .now_us = now_us,
            .paused = tick->paused,
        };
}

static const char *const type_names[VT_RECORDER_RECORD_MAX] = {
    [VT_RECORDER_RECORD_POLICY] = "policy",       [VT_RECORDER_RECORD_TICK] = "tick",
    [VT_RECORDER_RECORD_MOVE] = "move",           [VT_RECORDER_RECORD_KSM] = "ksm",
    [VT_RECORDER_RECORD_MIGRATION] = "migration", [VT_RECORDER_RECORD_CONTROL] = "control",
};

static const char *const move_names[VT_RECORDER_MOVE_MAX] = {
    [VT_RECORDER_MOVE_DONE] = "done",
    [VT_RECORDER_MOVE_STUCK] = "stuck",
    [VT_RECORDER_MOVE_REFUSED] = "refused",
};

static const char *const phase_names[VT_RECORDER_MIGRATION_MAX] = {
    [VT_RECORDER_MIGRATION_START] = "start",
    [VT_RECORDER_MIGRATION_PASS] = "pass",
    [VT_RECORDER_MIGRATION_END] = "end",
};

static const char *const control_names[VT_RECORDER_CONTROL_MAX] = {
    [VT_RECORDER_CONTROL_DAEMON_START] = "daemon-start",
    [VT_RECORDER_CONTROL_DAEMON_STOP] = "daemon-stop",
    [VT_RECORDER_CONTROL_PAUSE] = "pause",
    [VT_RECORDER_CONTROL_RESUME] = "resume",
    [VT_RECORDER_CONTROL_POLICY_SET] = "policy-set",
    [VT_RECORDER_CONTROL_HOLD] = "hold",
    [VT_RECORDER_CONTROL_RELEASE] = "release",
    [VT_RECORDER_CONTROL_GUEST_ADDED] = "guest-added",
    [VT_RECORDER_CONTROL_GUEST_REMOVED] = "guest-removed",
};

static const char *
name_of(const char *const *names, guint n, guint value)
{
        return value < n && names[value] != NULL ? names[value] : "unknown";
}

/* Returns: (transfer none): the record type's name ("tick"), "unknown" if none. */
const char *
vt_recorder_record_type_to_string(VtRecorderRecordType type)
{
        return name_of(type_names, G_N_ELEMENTS(type_names), type);
}

/* Returns: (transfer none): "done", "stuck", "refused" or "unknown". */
const char *
vt_recorder_move_outcome_to_string(VtRecorderMoveOutcome outcome)
{
        return name_of(move_names, G_N_ELEMENTS(move_names), outcome);
}

/* Returns: (transfer none): "start", "pass", "end" or "unknown". */
const char *
vt_recorder_migration_phase_to_string(VtRecorderMigrationPhase phase)
{
        return name_of(phase_names, G_N_ELEMENTS(phase_names), phase);
}

/* Returns: (transfer none): the kind's name ("pause"), "unknown" if none. */
const char *
vt_recorder_control_kind_to_string(VtRecorderControlKind kind)
{
        return name_of(control_names, G_N_ELEMENTS(control_names), kind);
}
