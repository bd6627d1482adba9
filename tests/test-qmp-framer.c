/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the incremental JSON framer: splits, bursts, hostile input. */
#include <string.h>

#include "qmp/qmp-error.h"
#include "qmp/qmp-framer.h"
#include "vt-autocleanups.h"

/* Drains @framer; returns the messages and counts what was malformed. */
static GPtrArray *
drain(VtQmpFramer *framer, guint *n_malformed)
{
        GPtrArray *messages = g_ptr_array_new_with_free_func(vt_json_object_unref);

        for (;;) {
                json_object *message = NULL;
                g_autoptr(GError) error = NULL;
                VtQmpFramerStatus status = vt_qmp_framer_next(framer, &message, &error);

                if (status == VT_QMP_FRAMER_NEED_MORE) {
                        g_assert_no_error(error);
                        return messages;
                }
                if (status == VT_QMP_FRAMER_MALFORMED) {
                        g_assert_error(error, VT_QMP_ERROR, VT_QMP_ERROR_PROTOCOL);
                        g_assert_null(message);
                        if (n_malformed != NULL)
                                (*n_malformed)++;
                        continue;
                }
                g_assert_no_error(error);
                g_ptr_array_add(messages, message);
        }
}

static GPtrArray *
feed_all(VtQmpFramer *framer, const char *text, gsize chunk, guint *n_malformed)
{
        GPtrArray *all = g_ptr_array_new_with_free_func(vt_json_object_unref);
        gsize len = strlen(text);

        for (gsize off = 0; off < len; off += chunk) {
                g_autoptr(GPtrArray) some = NULL;

                vt_qmp_framer_push(framer, text + off, MIN(chunk, len - off));
                some = drain(framer, n_malformed);
                g_ptr_array_extend_and_steal(all, g_steal_pointer(&some));
        }
        return all;
}

static gint64
member_int(json_object *object, const char *name)
{
        json_object *member = NULL;

        g_assert_true(json_object_object_get_ex(object, name, &member));
        return json_object_get_int64(member);
}

static void
test_framer_split_everywhere(void)
{
        const char *text = "{\"return\": {\"actual\": 536870912}, \"id\": 7}\r\n";

        /* Every chunk size from one byte to the whole message. */
        for (gsize chunk = 1; chunk <= strlen(text); chunk++) {
                g_autoptr(VtQmpFramer) framer = vt_qmp_framer_new(0, 0, 0);
                guint n_malformed = 0;
                g_autoptr(GPtrArray) messages = feed_all(framer, text, chunk, &n_malformed);

                g_assert_cmpuint(messages->len, ==, 1);
                g_assert_cmpuint(n_malformed, ==, 0);
                g_assert_cmpint(member_int(messages->pdata[0], "id"), ==, 7);
        }
}

static void
test_framer_several_in_one_read(void)
{
        g_autoptr(VtQmpFramer) framer = vt_qmp_framer_new(0, 0, 0);
        const char *text = "{\"id\": 1}\r\n{\"id\": 2}{\"id\": 3}\n  \n{\"id\":\n4}\r\n";
        g_autoptr(GPtrArray) messages = feed_all(framer, text, strlen(text), NULL);

        g_assert_cmpuint(messages->len, ==, 4);
        for (guint i = 0; i < messages->len; i++)
                g_assert_cmpint(member_int(messages->pdata[i], "id"), ==, i + 1);
        g_assert_cmpuint(vt_qmp_framer_get_n_malformed(framer), ==, 0);
}

/* Every reply recorded from QEMU 7.2, back to back, in awkward chunks. */
static void
test_framer_recorded(void)
{
        g_autofree char *dir = g_test_build_filename(G_TEST_DIST, "data", "qmp", "qemu-7.2", NULL);
        g_autoptr(GDir) gdir = g_dir_open(dir, 0, NULL);
        g_autoptr(GString) stream = g_string_new(NULL);
        g_autoptr(GPtrArray) expected = g_ptr_array_new_with_free_func(vt_json_object_unref);
        const char *name;

        g_assert_nonnull(gdir);
        while ((name = g_dir_read_name(gdir)) != NULL) {
                g_autofree char *path = g_build_filename(dir, name, NULL);
                g_autofree char *contents = NULL;

                g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
                g_string_append(stream, contents);
                g_ptr_array_add(expected, json_tokener_parse(contents));
        }
        g_assert_cmpuint(expected->len, >=, 15);

        for (gsize chunk = 1; chunk < 200; chunk += 37) {
                g_autoptr(VtQmpFramer) framer = vt_qmp_framer_new(0, 0, 0);
                g_autoptr(GPtrArray) messages = feed_all(framer, stream->str, chunk, NULL);

                g_assert_cmpuint(messages->len, ==, expected->len);
                for (guint i = 0; i < messages->len; i++)
                        g_assert_true(json_object_equal(messages->pdata[i], expected->pdata[i]));
        }
}

typedef struct {
        const char *name;
        const char *input;
        guint n_messages; /* each good message is {"ok": N} with N counting from 1 */
        guint n_malformed;
} FramerCase;

static const FramerCase framer_cases[] = {
    {"garbage", "hello world\n{\"ok\": 1}\n", 1, 1},
    {"truncated-then-next", "{\"return\": tru\n{\"ok\": 1}\n", 1, 1},
    {"truncated-at-eof", "{\"ok\": 1}\n{\"return\": {\"actual\": 5", 1, 0},
    {"array", "[1, 2]\n{\"ok\": 1}\n", 1, 1},
    {"string", "\"qmp\"\n{\"ok\": 1}\n", 1, 1},
    {"number", "42\n{\"ok\": 1}\n", 1, 1},
    {"bad-utf8", "{\"desc\": \"\xff\xfe\"}\n{\"ok\": 1}\n", 1, 1},
    {"nul-byte", "{\"desc\": \"a\\u0000b\"}\n{\"ok\": 1}\n", 2, 0},
    {"nan", "{\"actual\": NaN}\n{\"ok\": 1}\n", 1, 1},
    {"infinity", "{\"a\": [1, -Infinity]}\n{\"ok\": 1}\n", 1, 1},
    {"overflowing-double", "{\"a\": 1e999}\n{\"ok\": 1}\n", 1, 1},
    {"trailing-comma", "{\"a\": 1,}\n{\"ok\": 1}\n", 1, 1},
    /* json-c, like QEMU's own parser, accepts single-quoted strings. */
    {"single-quotes", "{'a': 1}\n{\"ok\": 1}\n", 2, 0},
    {"unknown-fields", "{\"ok\": 1, \"x-unknown\": [1, {\"y\": null}]}\n", 1, 0},
    {"several-bad-lines", "}\n]\n{{\n{\"ok\": 1}\n:\n{\"ok\": 2}\n", 2, 4},
};

static void
test_framer_case(gconstpointer data)
{
        const FramerCase *c = data;

        /* One read, then one byte at a time: the same outcome. */
        for (gsize chunk = strlen(c->input); chunk >= 1; chunk = chunk == 1 ? 0 : 1) {
                g_autoptr(VtQmpFramer) framer = vt_qmp_framer_new(0, 0, 0);
                guint n_malformed = 0;
                g_autoptr(GPtrArray) messages = feed_all(framer, c->input, chunk, &n_malformed);

                g_assert_cmpuint(messages->len, ==, c->n_messages);
                g_assert_cmpuint(n_malformed, ==, c->n_malformed);
                g_assert_cmpuint(vt_qmp_framer_get_n_malformed(framer), ==, c->n_malformed);
        }
}

static void
test_framer_nul_raw(void)
{
        g_autoptr(VtQmpFramer) framer = vt_qmp_framer_new(0, 0, 0);
        static const char input[] = "{\"desc\": \"a\0b\"}\n{\"ok\": 1}\n";
        guint n_malformed = 0;
        g_autoptr(GPtrArray) messages = NULL;

        vt_qmp_framer_push(framer, input, sizeof(input) - 1);
        messages = drain(framer, &n_malformed);
        g_assert_cmpuint(messages->len, ==, 1);
        g_assert_cmpuint(n_malformed, ==, 1);
}

/* A 100 MiB line is dropped without being stored; the stream goes on. */
static void
test_framer_giant_line(void)
{
        const gsize max_message = 1024 * 1024;
        const gsize total = 100 * 1024 * 1024;
        const gsize chunk = 64 * 1024;
        g_autoptr(VtQmpFramer) framer = vt_qmp_framer_new(max_message, 0, 0);
        g_autofree char *filler = g_malloc(chunk);
        const char *head = "{\"return\": \"";
        const char *tail = "\"}\r\n{\"ok\": 1}\r\n";
        g_autoptr(GPtrArray) messages = NULL;
        guint n_malformed = 0;

        memset(filler, 'x', chunk);
        vt_qmp_framer_push(framer, head, strlen(head));
        messages = drain(framer, &n_malformed);
        for (gsize sent = 0; sent < total; sent += chunk) {
                g_autoptr(GPtrArray) more = NULL;

                vt_qmp_framer_push(framer, filler, chunk);
                more = drain(framer, &n_malformed);
                g_assert_cmpuint(more->len, ==, 0);
        }
        g_assert_cmpuint(n_malformed, ==, 1);
        vt_qmp_framer_push(framer, tail, strlen(tail));
        g_clear_pointer(&messages, g_ptr_array_unref);
        messages = drain(framer, &n_malformed);
        g_assert_cmpuint(messages->len, ==, 1);
        g_assert_cmpint(member_int(messages->pdata[0], "ok"), ==, 1);
        g_assert_cmpuint(n_malformed, ==, 1);
}

/* A message exactly at the bound passes; one byte more does not. */
static void
test_framer_size_bound(void)
{
        g_autofree char *payload = g_strnfill(100, 'y');
        g_autofree char *message = g_strdup_printf("{\"a\": \"%s\"}", payload);
        gsize len = strlen(message);
        g_autofree char *stream = g_strdup_printf("%s\n%s\n", message, message);

        for (gsize max = len - 1; max <= len; max++) {
                g_autoptr(VtQmpFramer) framer = vt_qmp_framer_new(max, 0, 0);
                guint n_malformed = 0;
                g_autoptr(GPtrArray) messages = feed_all(framer, stream, 7, &n_malformed);

                g_assert_cmpuint(messages->len, ==, max == len ? 2 : 0);
                g_assert_cmpuint(n_malformed, ==, max == len ? 0 : 2);
        }
}

static void
test_framer_deep_nesting(void)
{
        const guint depth = 10000;
        g_autoptr(GString) input = g_string_new("{\"return\": ");
        g_autoptr(VtQmpFramer) framer = vt_qmp_framer_new(0, 0, 0);
        guint n_malformed = 0;
        g_autoptr(GPtrArray) messages = NULL;

        for (guint i = 0; i < depth; i++)
                g_string_append(input, i % 2 ? "[" : "{\"a\": ");
        g_string_append(input, "\n{\"ok\": 1}\n");
        messages = feed_all(framer, input->str, 4096, &n_malformed);
        g_assert_cmpuint(messages->len, ==, 1);
        g_assert_cmpuint(n_malformed, ==, 1);
}

/*
 * Values cost json-c far more than their bytes: a megabyte of "{}," would
 * take gigabytes if the framer counted bytes alone.
 */
static void
test_framer_amplification(void)
{
        static const char *const units[] = {"{},", "[],", "1,", "\"\","};

        for (guint u = 0; u < G_N_ELEMENTS(units); u++) {
                g_autoptr(VtQmpFramer) framer = vt_qmp_framer_new(0, 0, 0);
                g_autoptr(GString) input = g_string_new("{\"return\": [");
                g_autoptr(GPtrArray) messages = NULL;
                guint n_malformed = 0;

                while (input->len < 1000 * 1000)
                        g_string_append(input, units[u]);
                g_string_append(input, "0]}\n{\"ok\": 1}\n");
                messages = feed_all(framer, input->str, 64 * 1024, &n_malformed);
                g_assert_cmpuint(messages->len, ==, 1);
                g_assert_cmpuint(n_malformed, ==, 1);
        }
}

/* The value bound is exact, like the byte bound. */
static void
test_framer_values_bound(void)
{
        const char *message = "{\"a\": [1, 2, 3], \"b\": {}}\n"; /* { [ , , , { : 6 */

        for (gsize max = 5; max <= 6; max++) {
                g_autoptr(VtQmpFramer) framer = vt_qmp_framer_new(0, 0, max);
                guint n_malformed = 0;
                g_autoptr(GPtrArray) messages = feed_all(framer, message, 3, &n_malformed);

                g_assert_cmpuint(messages->len, ==, max == 6 ? 1 : 0);
                g_assert_cmpuint(n_malformed, ==, max == 6 ? 0 : 1);
        }
}

/* max_depth levels of nesting pass, one more does not. */
static void
test_framer_depth_bound(void)
{
        for (guint depth = 7; depth <= 9; depth++) {
                g_autoptr(VtQmpFramer) framer = vt_qmp_framer_new(0, 8, 0);
                g_autoptr(GString) input = g_string_new(NULL);
                g_autoptr(GPtrArray) messages = NULL;
                guint n_malformed = 0;

                for (guint i = 0; i < depth; i++)
                        g_string_append(input, "{\"a\": ");
                g_string_append(input, "1");
                for (guint i = 0; i < depth; i++)
                        g_string_append_c(input, '}');
                g_string_append_c(input, '\n');
                messages = feed_all(framer, input->str, input->len, &n_malformed);
                g_assert_cmpuint(messages->len, ==, depth <= 8 ? 1 : 0);
                g_assert_cmpuint(n_malformed, ==, depth <= 8 ? 0 : 1);
        }
}

/* What a peer that closes now leaves behind. */
static void
test_framer_partial(void)
{
        static const struct {
                const char *input;
                gboolean partial;
        } cases[] = {
            {"", FALSE},
            {"\r\n  \n", FALSE},
            {"{\"ok\": 1}\r\n", FALSE},
            {"{\"ok\": 1}\r\n{\"return\": {\"act", TRUE},
            {"{", TRUE},
            {"garbage\n", FALSE},
            {"garbage without end", FALSE},
        };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(VtQmpFramer) framer = vt_qmp_framer_new(0, 0, 0);
                g_autoptr(GPtrArray) messages =
                    feed_all(framer, cases[i].input, MAX(strlen(cases[i].input), 1), NULL);

                g_assert_cmpint(vt_qmp_framer_has_partial(framer), ==, cases[i].partial);
        }
}

/*
 * A message followed, in the same read, by bytes that are not UTF-8: the
 * message still comes out, the garbage is dropped (json-c checked the
 * UTF-8 of all it was fed, past the end of the message, and the reply
 * before a stream of random bytes was lost with them).
 */
static void
test_framer_message_then_garbage(void)
{
        static const char text[] = "{\"return\": {}, \"id\": 1}\r\n\xff\xfe{\x80\n"
                                   "{\"event\": \"STOP\"}\n";
        g_autoptr(VtQmpFramer) framer = vt_qmp_framer_new(0, 0, 0);
        g_autoptr(GPtrArray) messages = NULL;
        guint n_malformed = 0;

        vt_qmp_framer_push(framer, text, sizeof(text) - 1);
        messages = drain(framer, &n_malformed);
        g_assert_cmpuint(messages->len, ==, 2);
        g_assert_cmpint(member_int(messages->pdata[0], "id"), ==, 1);
        g_assert_true(json_object_object_get_ex(messages->pdata[1], "event", NULL));
        g_assert_cmpuint(n_malformed, ==, 1);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/qmp/framer/split-everywhere", test_framer_split_everywhere);
        g_test_add_func("/qmp/framer/several-in-one-read", test_framer_several_in_one_read);
        g_test_add_func("/qmp/framer/recorded", test_framer_recorded);
        for (guint i = 0; i < G_N_ELEMENTS(framer_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/qmp/framer/hostile/%s", framer_cases[i].name);

                g_test_add_data_func(path, &framer_cases[i], test_framer_case);
        }
        g_test_add_func("/qmp/framer/hostile/nul-raw", test_framer_nul_raw);
        g_test_add_func("/qmp/framer/hostile/giant-line", test_framer_giant_line);
        g_test_add_func("/qmp/framer/hostile/deep-nesting", test_framer_deep_nesting);
        g_test_add_func("/qmp/framer/size-bound", test_framer_size_bound);
        g_test_add_func("/qmp/framer/partial", test_framer_partial);
        g_test_add_func("/qmp/framer/hostile/amplification", test_framer_amplification);
        g_test_add_func("/qmp/framer/values-bound", test_framer_values_bound);
        g_test_add_func("/qmp/framer/depth-bound", test_framer_depth_bound);
        g_test_add_func("/qmp/framer/hostile/message-then-garbage",
                        test_framer_message_then_garbage);
        return g_test_run();
}
