/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A strict reader of the Prometheus text exposition (version 0.0.4), as
 * the metrics tests hold vmtided's output to it: every family announced
 * once by `# HELP` then `# TYPE`; every sample right after its family,
 * named after it (a histogram's `_bucket` with `le`, `_sum`, `_count`);
 * names and label names valid; label values quoted with only the three
 * escapes; values a number, `NaN` or `±Inf`; no series twice; no blank
 * line, no other comment, no timestamp. Series are kept by their text
 * with labels as written: `name{a="x",b="y"}`.
 */
#include "tests/vt-test-metrics.h"

#include <math.h>
#include <string.h>

struct _VtTestMetrics {
        GHashTable *series; /* "name{labels}" -> double* */
        GHashTable *types;  /* family -> "gauge", ... */
};

static gboolean
valid_name(const char *p, gsize n, gboolean colon)
{
        if (n == 0 || g_ascii_isdigit(p[0]))
                return FALSE;
        for (gsize i = 0; i < n; i++) {
                if (!g_ascii_isalnum(p[i]) && p[i] != '_' && !(colon && p[i] == ':'))
                        return FALSE;
        }
        return TRUE;
}

static gboolean
parse_value(const char *text, double *ret_value)
{
        char *end = NULL;

        if (g_str_equal(text, "NaN"))
                *ret_value = NAN;
        else if (g_str_equal(text, "+Inf"))
                *ret_value = INFINITY;
        else if (g_str_equal(text, "-Inf"))
                *ret_value = -INFINITY;
        else {
                if (text[0] == '\0' || g_ascii_isspace(text[0]))
                        return FALSE;
                *ret_value = g_ascii_strtod(text, &end);
                return *end == '\0';
        }
        return TRUE;
}

/* Reads `{a="x",...}` at @p into @key (as written); sets @ret_le. */
static const char *
parse_labels(const char *p, GString *key, char **ret_le)
{
        g_autoptr(GHashTable) names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

        gsize open = key->len + 1;

        g_string_append_c(key, '{');
        p++;
        while (*p != '}') {
                const char *start = p;
                g_autoptr(GString) value = g_string_new(NULL);
                g_autofree char *name = NULL;

                while (g_ascii_isalnum(*p) || *p == '_')
                        p++;
                if (!valid_name(start, (gsize)(p - start), FALSE) || p[0] != '=' || p[1] != '"')
                        return NULL;
                name = g_strndup(start, (gsize)(p - start));
                if (!g_hash_table_add(names, g_strdup(name)))
                        return NULL;
                for (p += 2; *p != '"'; p++) {
                        if (*p == '\0' || *p == '\n')
                                return NULL;
                        if (*p == '\\') {
                                p++;
                                if (*p != '\\' && *p != '"' && *p != 'n')
                                        return NULL;
                                g_string_append_c(value, *p == 'n' ? '\n' : *p);
                        } else
                                g_string_append_c(value, *p);
                }
                p++;
                if (!g_utf8_validate(value->str, -1, NULL))
                        return NULL;
                if (g_str_equal(name, "le"))
                        *ret_le = g_strdup(value->str);
                g_string_append_printf(key, "%s%s=\"%.*s\"", key->len > open ? "," : "", name,
                                       (int)(p - start - (gssize)strlen(name) - 3),
                                       start + strlen(name) + 2);
                if (*p == ',' && p[1] != '}')
                        p++;
                else if (*p != '}')
                        return NULL;
        }
        g_string_append_c(key, '}');
        return p + 1;
}

static gboolean
sample_belongs(const char *name, const char *family, const char *type, const char *le)
{
        if (!g_str_equal(type, "histogram"))
                return g_str_equal(name, family) && le == NULL;
        if (!g_str_has_prefix(name, family))
                return FALSE;
        name += strlen(family);
        if (g_str_equal(name, "_bucket"))
                return le != NULL;
        return (g_str_equal(name, "_sum") || g_str_equal(name, "_count")) && le == NULL;
}

static gboolean
malformed(const char *what, const char *line, GError **error)
{
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s '%s'", what, line);
        return FALSE;
}

static gboolean
parse_sample(VtTestMetrics *m, const char *line, const char *family, GError **error)
{
        const char *p = line;
        g_autoptr(GString) key = g_string_new(NULL);
        g_autofree char *name = NULL;
        g_autofree char *le = NULL;
        double value;

        while (g_ascii_isalnum(*p) || *p == '_' || *p == ':')
                p++;
        name = g_strndup(line, (gsize)(p - line));
        if (!valid_name(name, strlen(name), TRUE))
                return malformed("malformed sample", line, error);
        g_string_append(key, name);
        if (*p == '{' && (p = parse_labels(p, key, &le)) == NULL)
                return malformed("malformed sample", line, error);
        if (*p != ' ' || !parse_value(p + 1, &value))
                return malformed("malformed sample", line, error);
        if (family == NULL ||
            !sample_belongs(name, family, g_hash_table_lookup(m->types, family), le)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            "sample '%s' is not of the family before it ('%s')", line,
                            family != NULL ? family : "none");
                return FALSE;
        }
        if (le != NULL && !parse_value(le, &(double){0}))
                return malformed("malformed sample", line, error);
        if (g_hash_table_contains(m->series, key->str)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "series '%s' twice",
                            key->str);
                return FALSE;
        }
        g_hash_table_insert(m->series, g_strdup(key->str), g_memdup2(&value, sizeof(value)));
        return TRUE;
}

/* `# HELP name text` then `# TYPE name type`: sets @family. */
static gboolean
parse_comment(VtTestMetrics *m, char **lines, guint *i, char **family, GError **error)
{
        g_auto(GStrv) help = g_strsplit(lines[*i], " ", 4);
        g_auto(GStrv) type = NULL;

        if (g_strv_length(help) < 4 || !g_str_equal(help[1], "HELP") ||
            !valid_name(help[2], strlen(help[2]), TRUE) || lines[*i + 1] == NULL)
                return malformed("not # HELP then # TYPE", lines[*i], error);
        (*i)++;
        type = g_strsplit(lines[*i], " ", 0);
        if (g_strv_length(type) != 4 || !g_str_equal(type[0], "#") ||
            !g_str_equal(type[1], "TYPE") || !g_str_equal(type[2], help[2]) ||
            !g_strv_contains(
                (const char *const[]){"gauge", "counter", "histogram", "summary", "untyped", NULL},
                type[3]))
                return malformed("not # HELP then # TYPE", lines[*i], error);
        if (g_hash_table_contains(m->types, help[2])) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "family '%s' twice",
                            help[2]);
                return FALSE;
        }
        g_hash_table_insert(m->types, g_strdup(help[2]), g_strdup(type[3]));
        g_free(*family);
        *family = g_strdup(help[2]);
        return TRUE;
}

/**
 * vt_test_metrics_parse:
 * @text: an exposition
 * @error: what is not in the format, and where
 *
 * Returns: (transfer full): its families and series, or %NULL
 */
VtTestMetrics *
vt_test_metrics_parse(const char *text, GError **error)
{
        g_autoptr(VtTestMetrics) m = g_new0(VtTestMetrics, 1);
        g_auto(GStrv) lines = NULL;
        g_autofree char *family = NULL;
        guint n;

        m->series = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        m->types = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        if (!g_utf8_validate(text, -1, NULL) || text[0] == '\0' || !g_str_has_suffix(text, "\n")) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            "not UTF-8 text ending in a newline");
                return NULL;
        }
        lines = g_strsplit(text, "\n", 0);
        n = g_strv_length(lines) - 1; /* after the last newline: "" */
        g_clear_pointer(&lines[n], g_free);
        for (guint i = 0; i < n; i++) {
                if (lines[i][0] == '#') {
                        if (!parse_comment(m, lines, &i, &family, error))
                                return NULL;
                } else if (!parse_sample(m, lines[i], family, error))
                        return NULL;
        }
        return g_steal_pointer(&m);
}

/**
 * vt_test_metrics_free:
 * @metrics: (nullable): what vt_test_metrics_parse() read
 */
void
vt_test_metrics_free(VtTestMetrics *metrics)
{
        if (metrics == NULL)
                return;
        g_clear_pointer(&metrics->series, g_hash_table_destroy);
        g_clear_pointer(&metrics->types, g_hash_table_destroy);
        g_free(metrics);
}

/**
 * vt_test_metrics_get:
 * @metrics: an exposition read
 * @series: `name` or `name{a="x"}`, labels in the order written
 * @ret_value: (out) (optional): its value
 *
 * Returns: whether the series is there
 */
gboolean
vt_test_metrics_get(VtTestMetrics *metrics, const char *series, double *ret_value)
{
        const double *value = g_hash_table_lookup(metrics->series, series);

        if (value != NULL && ret_value != NULL)
                *ret_value = *value;
        return value != NULL;
}

/**
 * vt_test_metrics_get_type:
 * @metrics: an exposition read
 * @family: a family's name
 *
 * Returns: (nullable): its `# TYPE`, or %NULL if it is not there
 */
const char *
vt_test_metrics_get_type(VtTestMetrics *metrics, const char *family)
{
        return g_hash_table_lookup(metrics->types, family);
}

/**
 * vt_test_metrics_count:
 * @metrics: an exposition read
 * @prefix: the start of series' names
 *
 * Returns: how many series start with @prefix
 */
guint
vt_test_metrics_count(VtTestMetrics *metrics, const char *prefix)
{
        GHashTableIter iter;
        gpointer key;
        guint n = 0;

        g_hash_table_iter_init(&iter, metrics->series);
        while (g_hash_table_iter_next(&iter, &key, NULL))
                n += g_str_has_prefix(key, prefix);
        return n;
}

/**
 * vt_test_metrics_free_port:
 *
 * Returns: a loopback TCP port that was free a moment ago
 */
guint
vt_test_metrics_free_port(void)
{
        g_autoptr(GSocket) socket = NULL;
        g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
        g_autoptr(GSocketAddress) any = g_inet_socket_address_new(loopback, 0);
        g_autoptr(GSocketAddress) bound = NULL;
        g_autoptr(GError) error = NULL;

        socket =
            g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
        g_assert_no_error(error);
        g_socket_bind(socket, any, FALSE, &error);
        g_assert_no_error(error);
        bound = g_socket_get_local_address(socket, &error);
        g_assert_no_error(error);
        return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
}

/**
 * vt_test_metrics_fetch:
 * @port: a loopback port
 * @request: the whole HTTP request to send
 * @error: connecting, writing or reading failed
 *
 * Blocks: for a server in another process, or in a thread.
 *
 * Returns: (transfer full): the whole response, read until the server
 *     closed the connection (send `Connection: close`)
 */
char *
vt_test_metrics_fetch(guint port, const char *request, GError **error)
{
        g_autoptr(GSocketClient) client = g_socket_client_new();
        g_autoptr(GSocketConnection) connection = NULL;
        g_autoptr(GByteArray) response = g_byte_array_new();
        GInputStream *in;
        guint8 buf[4096];
        gssize n;

        g_socket_client_set_timeout(client, 10);
        /* Loopback: no proxy resolver (libproxy and dconf start threads that
         * are never joined, which valgrind counts). */
        g_socket_client_set_enable_proxy(client, FALSE);
        connection =
            g_socket_client_connect_to_host(client, "127.0.0.1", (guint16)port, NULL, error);
        if (connection == NULL)
                return NULL;
        if (!g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(connection)),
                                       request, strlen(request), NULL, NULL, error))
                return NULL;
        in = g_io_stream_get_input_stream(G_IO_STREAM(connection));
        while ((n = g_input_stream_read(in, buf, sizeof(buf), NULL, error)) > 0)
                g_byte_array_append(response, buf, (guint)n);
        if (n < 0)
                return NULL;
        g_byte_array_append(response, (const guint8 *)"", 1);
        return (char *)g_byte_array_free(g_steal_pointer(&response), FALSE);
}

typedef struct {
        guint port;
        const char *request;
        char *response;
        GError *error;
        gint done;
} FetchCtx;

static gpointer
fetch_thread(gpointer data)
{
        FetchCtx *ctx = data;

        ctx->response = vt_test_metrics_fetch(ctx->port, ctx->request, &ctx->error);
        g_atomic_int_set(&ctx->done, 1);
        g_main_context_wakeup(NULL);
        return NULL;
}

/**
 * vt_test_metrics_fetch_in_thread:
 * @port: a loopback port
 * @request: as for vt_test_metrics_fetch()
 * @error: as for vt_test_metrics_fetch()
 *
 * Fetches from a thread while this thread's default main context runs,
 * for a server on that context.
 *
 * Returns: (transfer full): the whole response
 */
char *
vt_test_metrics_fetch_in_thread(guint port, const char *request, GError **error)
{
        FetchCtx ctx = {.port = port, .request = request};
        GThread *thread = g_thread_new("fetch", fetch_thread, &ctx);

        while (!g_atomic_int_get(&ctx.done))
                g_main_context_iteration(NULL, TRUE);
        g_thread_join(thread);
        /* Let the server see the client's close and drop its connection
         * (left pending, it is still held when the server is freed). */
        while (g_main_context_iteration(NULL, FALSE))
                ;
        if (ctx.error != NULL)
                g_propagate_error(error, ctx.error);
        return ctx.response;
}

/**
 * vt_test_metrics_body:
 * @response: an HTTP/1.x response, not chunked
 * @ret_status: (out): its status code
 *
 * Returns: (transfer none): its body (after the blank line)
 */
const char *
vt_test_metrics_body(const char *response, guint *ret_status)
{
        const char *body = strstr(response, "\r\n\r\n");

        g_assert_nonnull(body);
        g_assert_true(g_str_has_prefix(response, "HTTP/1."));
        *ret_status = (guint)g_ascii_strtoull(response + 9, NULL, 10);
        return body + 4;
}
