/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Incremental framing of a stream of JSON objects.
 *
 * Theory of operation: bytes are pushed as they arrive from the socket and
 * fed to one json-c tokener, which keeps its own state between reads, so a
 * message split across reads and several messages in one read both come
 * out whole. Only top-level objects are messages.
 *
 * The peer is untrusted. The tokener is created with a depth bound, and the
 * framer never feeds it more than max_message bytes of one message, nor
 * more than max_values values (counted as the `{`, `[` and `,` bytes fed,
 * inside strings too, which only errs on the strict side): past either the
 * message is dropped. The value bound matters as much as the byte bound:
 * json-c spends hundreds of bytes on each empty object, so 8 MiB of `{},`
 * would otherwise cost gigabytes. After any malformed input the framer
 * skips to the next newline, where QEMU and well-behaved clients end every
 * message, and starts afresh. A giant line therefore costs at most what
 * one message within both bounds costs, whatever its length. Numbers that
 * are not finite (json-c accepts NaN and Infinity) make a message
 * malformed too.
 *
 * The tokener is fed one line at a time: json-c checks the UTF-8 of all
 * it is given, past the end of the object it returns, so a message fed
 * together with garbage after it would be dropped with the garbage.
 */
#include "qmp/qmp-framer.h"

#include <math.h>
#include <string.h>

#include "qmp/qmp-error.h"
#include "vt-autocleanups.h"

/* The most fed to json-c in one call (see framer_feed_len()). */
#define FRAMER_FEED_MAX 4096

struct _VtQmpFramer {
        json_tokener *tokener;
        GByteArray *buffer; /* pushed bytes not yet consumed, from @pos */
        gsize pos;
        gsize message_len;    /* bytes of the current message fed so far */
        gsize message_values; /* values of the current message fed so far */
        gsize max_message;
        gsize max_values;
        gboolean skipping; /* dropping input up to the next newline */
        guint64 n_malformed;
};

/**
 * vt_qmp_framer_new:
 * @max_message: largest message accepted, in bytes, at most %G_MAXINT
 *     (0 for the default)
 * @max_depth: deepest nesting accepted (0 for the default)
 * @max_values: most values (objects, arrays, members) in one message
 *     (0 for the default)
 *
 * Returns: (transfer full): a new framer
 */
VtQmpFramer *
vt_qmp_framer_new(gsize max_message, guint max_depth, gsize max_values)
{
        VtQmpFramer *framer = g_new0(VtQmpFramer, 1);

        framer->max_message =
            max_message > 0 ? MIN(max_message, (gsize)G_MAXINT) : VT_QMP_FRAMER_DEFAULT_MAX_MESSAGE;
        framer->max_values = max_values > 0 ? max_values : VT_QMP_FRAMER_DEFAULT_MAX_VALUES;
        /* json-c counts the level it is at: depth N admits N - 1 levels. */
        framer->tokener = json_tokener_new_ex(
            (max_depth > 0 ? (int)MIN(max_depth, 10000u) : VT_QMP_FRAMER_DEFAULT_MAX_DEPTH) + 1);
        /* Strict JSON, checked UTF-8; what follows a message is the next one. */
        json_tokener_set_flags(framer->tokener, JSON_TOKENER_STRICT |
                                                    JSON_TOKENER_ALLOW_TRAILING_CHARS |
                                                    JSON_TOKENER_VALIDATE_UTF8);
        framer->buffer = g_byte_array_new();
        return framer;
}

/**
 * vt_qmp_framer_free:
 * @framer: (nullable): a framer
 */
void
vt_qmp_framer_free(VtQmpFramer *framer)
{
        if (framer == NULL)
                return;
        json_tokener_free(framer->tokener);
        g_byte_array_unref(framer->buffer);
        g_free(framer);
}

/**
 * vt_qmp_framer_push:
 * @framer: a framer
 * @data: bytes read from the peer
 * @len: their length
 *
 * Appends @data. Callers drain the framer with vt_qmp_framer_next() after
 * each push, so that the buffer holds at most one read.
 */
void
vt_qmp_framer_push(VtQmpFramer *framer, const void *data, gsize len)
{
        g_return_if_fail(framer != NULL);

        if (framer->pos == framer->buffer->len) {
                g_byte_array_set_size(framer->buffer, 0);
                framer->pos = 0;
        }
        g_byte_array_append(framer->buffer, data, (guint)len);
}

static void
framer_drop(VtQmpFramer *framer)
{
        json_tokener_reset(framer->tokener);
        framer->message_len = 0;
        framer->message_values = 0;
        framer->skipping = TRUE;
        framer->n_malformed++;
}

/* Consumes input up to and including the next newline; FALSE if none yet. */
static gboolean
framer_skip_line(VtQmpFramer *framer)
{
        const guint8 *start = framer->buffer->data + framer->pos;
        gsize avail = framer->buffer->len - framer->pos;
        const guint8 *newline = memchr(start, '\n', avail);

        if (newline == NULL) {
                framer->pos = framer->buffer->len;
                return FALSE;
        }
        framer->pos += (gsize)(newline - start) + 1;
        framer->skipping = FALSE;
        return TRUE;
}

/*
 * How many of the @len bytes at @start can be fed without the message
 * going past max_values; *ret_values is the count up to there.
 */
static gsize
framer_values_room(VtQmpFramer *framer, const char *start, gsize len, gsize *ret_values)
{
        gsize values = framer->message_values;

        for (gsize i = 0; i < len; i++) {
                if (start[i] != '{' && start[i] != '[' && start[i] != ',')
                        continue;
                if (++values > framer->max_values) {
                        *ret_values = values - 1;
                        return i;
                }
        }
        *ret_values = values;
        return len;
}

/* TRUE if every number in @object is finite. */
static gboolean
framer_all_finite(json_object *object)
{
        switch (json_object_get_type(object)) {
        case json_type_double:
                return isfinite(json_object_get_double(object));
        case json_type_object: {
                json_object_object_foreach (object, key, value) {
                        (void)key;
                        if (!framer_all_finite(value))
                                return FALSE;
                }
                return TRUE;
        }
        case json_type_array:
                for (size_t i = 0; i < json_object_array_length(object); i++) {
                        if (!framer_all_finite(json_object_array_get_idx(object, i)))
                                return FALSE;
                }
                return TRUE;
        case json_type_null:
        case json_type_boolean:
        case json_type_int:
        case json_type_string:
        default:
                return TRUE;
        }
}

/*
 * How many of the @avail bytes at @start to feed now: no more than the
 * message may still grow by, a line at a time, since json-c checks the
 * UTF-8 of all it is fed, even past the end of a message, and at most
 * FRAMER_FEED_MAX, since the value count scans what is fed: many messages
 * on one line would otherwise cost a scan of the rest of the read each.
 */
static gsize
framer_feed_len(VtQmpFramer *framer, const char *start, gsize avail)
{
        gsize len = MIN(MIN(avail, framer->max_message - framer->message_len), FRAMER_FEED_MAX);
        const char *newline = memchr(start, '\n', len);

        return newline != NULL ? (gsize)(newline - start) + 1 : len;
}

/* Whitespace between messages does not count toward the size bound. */
static void
framer_skip_blanks(VtQmpFramer *framer)
{
        while (framer->pos < framer->buffer->len &&
               strchr(" \t\r\n", framer->buffer->data[framer->pos]) != NULL &&
               framer->buffer->data[framer->pos] != '\0')
                framer->pos++;
}

/**
 * vt_qmp_framer_next:
 * @framer: a framer
 * @ret_message: (out) (transfer full): the next message, set only when
 *     %VT_QMP_FRAMER_MESSAGE is returned
 * @error: set only when %VT_QMP_FRAMER_MALFORMED is returned, saying what
 *     was dropped (%VT_QMP_ERROR_PROTOCOL)
 *
 * Returns: whether a message, malformed input or nothing more was found
 */
VtQmpFramerStatus
vt_qmp_framer_next(VtQmpFramer *framer, json_object **ret_message, GError **error)
{
        g_return_val_if_fail(framer != NULL, VT_QMP_FRAMER_NEED_MORE);
        g_return_val_if_fail(ret_message != NULL, VT_QMP_FRAMER_NEED_MORE);

        for (;;) {
                g_autoptr(json_object) object = NULL;
                enum json_tokener_error jerr;
                const char *start;
                gsize avail, len, fed, used, values;

                if (framer->skipping && !framer_skip_line(framer))
                        return VT_QMP_FRAMER_NEED_MORE;
                if (framer->message_len == 0)
                        framer_skip_blanks(framer);
                avail = framer->buffer->len - framer->pos;
                if (avail == 0)
                        return VT_QMP_FRAMER_NEED_MORE;
                /* Only now: before the first push the buffer's data is NULL,
                 * and NULL + 0 is undefined (found by tests/fuzz). */
                start = (const char *)framer->buffer->data + framer->pos;
                if (framer->message_len == framer->max_message) {
                        framer_drop(framer);
                        g_set_error(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL,
                                    "message longer than %" G_GSIZE_FORMAT " bytes dropped",
                                    framer->max_message);
                        return VT_QMP_FRAMER_MALFORMED;
                }
                len = framer_feed_len(framer, start, avail);
                fed = framer_values_room(framer, start, len, &values);
                if (fed == 0) {
                        framer_drop(framer);
                        g_set_error(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL,
                                    "message with more than %" G_GSIZE_FORMAT " values dropped",
                                    framer->max_values);
                        return VT_QMP_FRAMER_MALFORMED;
                }

                object = json_tokener_parse_ex(framer->tokener, start, (int)fed);
                jerr = json_tokener_get_error(framer->tokener);
                used = json_tokener_get_parse_end(framer->tokener);
                g_assert(used <= fed);

                if (jerr == json_tokener_continue) {
                        framer->pos += fed;
                        framer->message_len += fed;
                        framer->message_values = values;
                        continue;
                }
                if (jerr != json_tokener_success) {
                        /* Resume at the offending byte: it may be the newline. */
                        framer->pos += used;
                        framer_drop(framer);
                        g_set_error(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL,
                                    "malformed JSON dropped: %s", json_tokener_error_desc(jerr));
                        return VT_QMP_FRAMER_MALFORMED;
                }

                framer->pos += used;
                framer->message_len = 0;
                framer->message_values = 0;
                json_tokener_reset(framer->tokener);
                if (!framer_all_finite(object)) {
                        framer->n_malformed++;
                        g_set_error_literal(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL,
                                            "message with a number that is not finite dropped");
                        return VT_QMP_FRAMER_MALFORMED;
                }
                if (!json_object_is_type(object, json_type_object)) {
                        framer->n_malformed++;
                        g_set_error(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL,
                                    "JSON %s dropped: a message must be an object",
                                    json_type_to_name(json_object_get_type(object)));
                        return VT_QMP_FRAMER_MALFORMED;
                }
                *ret_message = g_steal_pointer(&object);
                return VT_QMP_FRAMER_MESSAGE;
        }
}

/**
 * vt_qmp_framer_has_partial:
 * @framer: a framer
 *
 * Returns: %TRUE if part of a message has been pushed but not completed:
 *     a peer that closes now leaves a truncated message behind
 */
gboolean
vt_qmp_framer_has_partial(VtQmpFramer *framer)
{
        g_return_val_if_fail(framer != NULL, FALSE);
        return framer->message_len > 0 || (!framer->skipping && framer->pos < framer->buffer->len);
}

/**
 * vt_qmp_framer_get_n_malformed:
 * @framer: a framer
 *
 * Returns: how many malformed or oversized messages were dropped
 */
guint64
vt_qmp_framer_get_n_malformed(VtQmpFramer *framer)
{
        g_return_val_if_fail(framer != NULL, 0);
        return framer->n_malformed;
}
