/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `vmtide top`: a live view of the host, its budget, KSM and the guests by pressure. */

/*
 * Theory of operation: plain ANSI, no curses (docs/cli.md says why). The
 * view asks vmtided `query-status` and `query-guests` every --interval and
 * at once after any event on the connection (a decision, a balloon done, a
 * host state change), then redraws the whole screen from the top: home,
 * each line cleared to its end, the rest of the screen cleared. The loop
 * runs the CLI client's own main context; sources (the timer, stdin, the
 * signals, the client's "event" and "disconnected") only set flags, and the
 * loop acts on them between iterations, so no call is made from a callback.
 *
 * The terminal is the user's: it is switched to the alternate screen with
 * the cursor hidden and stdin unbuffered without echo (ISIG kept, so
 * Ctrl-C is a SIGINT), and every way out (q, SIGINT, SIGTERM, SIGHUP,
 * vmtided going away) goes through top_terminal_restore(), which puts
 * back the saved termios, the cursor and the main screen. Guest names and
 * reasons come from the daemon, and through it from guests' owners: control
 * characters are replaced before they reach the terminal.
 */
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli-commands.h"
#include "vt-autocleanups.h"

#define TOP_INTERVAL_DEFAULT_S 2.0

typedef enum {
        TOP_SORT_PRESSURE,
        TOP_SORT_NAME,
        TOP_SORT_MEMORY,
} TopSort;

typedef struct {
        VtCli *cli;
        TopSort sort;
        gboolean done;
        gboolean lost;
        gboolean refresh;
        gboolean redraw;
        gboolean tty;
        struct termios saved;
        gboolean saved_termios;
        json_object *status;
        json_object *guests;
        char *last_event;
        GError *error;
} TopState;

static const char *const sort_names[] = {"pressure", "name", "memory"};

/* @text with every control character replaced: nothing the daemon relays
 * may move the cursor or change the terminal. */
static char *
top_sanitize(const char *text)
{
        char *copy = g_strdup(text != NULL ? text : "-");

        for (char *p = copy; *p != '\0'; p++) {
                if ((guchar)*p < 0x20 || *p == 0x7f)
                        *p = '?';
        }
        if (!g_utf8_validate(copy, -1, NULL)) {
                char *valid = g_utf8_make_valid(copy, -1);

                g_free(copy);
                return valid;
        }
        return copy;
}

/* The agent's PSI some (avg10, %), or -1; the available share of the
 * balloon, or 2 when unknown. */
static void
top_guest_pressure(json_object *guest, double *ret_psi, double *ret_free)
{
        gint64 actual = 0, available = -1;
        gboolean connected = FALSE;

        *ret_psi = -1;
        *ret_free = 2;
        if (vt_cli_json_get_bool(guest, "agent.connected", &connected) && connected)
                vt_cli_json_get_double(guest, "agent.psi_some_avg10", ret_psi);
        if (!vt_cli_json_get_int(guest, "agent.mem_available", &available) || !connected)
                if (!vt_cli_json_get_int(guest, "stats.available", &available))
                        available = -1;
        if (available >= 0 && vt_cli_json_get_int(guest, vt_cli_guest_memory(guest), &actual) &&
            actual > 0)
                *ret_free = (double)available / (double)actual;
}

static gint
top_compare(gconstpointer a, gconstpointer b, gpointer user_data)
{
        json_object *ga = *(json_object *const *)a, *gb = *(json_object *const *)b;
        const TopState *state = user_data;
        const char *na = vt_cli_or_dash(vt_cli_json_get_string(ga, "name"));
        const char *nb = vt_cli_or_dash(vt_cli_json_get_string(gb, "name"));
        double psi_a, psi_b, free_a, free_b;
        gint64 ma = 0, mb = 0;

        if (state->sort == TOP_SORT_MEMORY) {
                vt_cli_json_get_int(ga, vt_cli_guest_memory(ga), &ma);
                vt_cli_json_get_int(gb, vt_cli_guest_memory(gb), &mb);
                if (ma != mb)
                        return ma > mb ? -1 : 1;
        } else if (state->sort == TOP_SORT_PRESSURE) {
                top_guest_pressure(ga, &psi_a, &free_a);
                top_guest_pressure(gb, &psi_b, &free_b);
                if (psi_a != psi_b)
                        return psi_a > psi_b ? -1 : 1;
                if (free_a != free_b)
                        return free_a < free_b ? -1 : 1;
        }
        return g_strcmp0(na, nb);
}

/* The guests' table, sorted as asked. */
static char *
top_render_guests(TopState *state)
{
        g_autoptr(GPtrArray) rows = g_ptr_array_new();
        g_autoptr(VtCliTable) table = vt_cli_table_new();
        static const char *const headers[] = {"NAME",  "STATE", "BALLOON", "MAX",
                                              "AVAIL", "PSI",   "ACTION",  "REASON"};

        for (size_t i = 0; json_object_is_type(state->guests, json_type_array) &&
                           i < json_object_array_length(state->guests);
             i++)
                g_ptr_array_add(rows, json_object_array_get_idx(state->guests, i));
        if (rows->len == 0)
                return g_strdup("no guests\n");
        g_ptr_array_sort_with_data(rows, top_compare, state);
        for (guint i = 0; i < G_N_ELEMENTS(headers); i++)
                vt_cli_table_add_column(table, headers[i],
                                        i >= 2 && i <= 5 ? VT_CLI_ALIGN_RIGHT : VT_CLI_ALIGN_LEFT);
        for (guint i = 0; i < rows->len; i++) {
                json_object *g = g_ptr_array_index(rows, i);
                double psi, free_share;
                const char *avail_path = vt_cli_json_get(g, "agent.mem_available") != NULL
                                             ? "agent.mem_available"
                                             : "stats.available";

                top_guest_pressure(g, &psi, &free_share);
                vt_cli_table_take_cell(table, top_sanitize(vt_cli_json_get_string(g, "name")));
                vt_cli_table_take_cell(table, top_sanitize(vt_cli_json_get_string(g, "state")));
                vt_cli_table_take_cell(table, vt_cli_json_format_size(g, vt_cli_guest_memory(g)));
                vt_cli_table_take_cell(table, vt_cli_json_format_size(g, "max"));
                vt_cli_table_take_cell(table, vt_cli_json_format_size(g, avail_path));
                vt_cli_table_take_cell(table, psi >= 0 ? g_strdup_printf("%.2f%%", psi) : NULL);
                vt_cli_table_take_cell(table, top_sanitize(vt_cli_json_get_string(g, "action")));
                vt_cli_table_take_cell(table, top_sanitize(vt_cli_json_get_string(g, "reason")));
        }
        return vt_cli_table_render(table);
}

/* The header: daemon, host, budget, KSM. */
static void
top_render_header(TopState *state, GString *out)
{
        json_object *s = state->status;
        g_autofree char *avail = vt_cli_json_format_size(s, "host.mem_available");
        g_autofree char *total = vt_cli_json_format_size(s, "host.mem_total");
        g_autofree char *budget = vt_cli_json_format_size(s, "host.budget");
        g_autofree char *reserve = vt_cli_json_format_size(s, "host.reserve");
        g_autofree char *held = vt_cli_json_format_size(s, "host.guests_actual");
        g_autofree char *knobs = vt_cli_format_ksm_knobs(vt_cli_json_get(s, "ksm"));
        g_autofree char *host_reason = top_sanitize(vt_cli_json_get_string(s, "host.reason"));
        g_autofree char *ksm_reason = top_sanitize(vt_cli_json_get_string(s, "ksm.reason"));
        const char *other = vt_cli_json_get_string(s, "ksm.other_writer");
        g_autoptr(GDateTime) now = g_date_time_new_now_local();
        g_autofree char *clock = g_date_time_format(now, "%T");
        double some = -1, full = -1;
        gboolean paused = FALSE;

        vt_cli_json_get_bool(s, "paused", &paused);
        vt_cli_json_get_double(s, "host.psi_some_avg10", &some);
        vt_cli_json_get_double(s, "host.psi_full_avg10", &full);
        g_string_append_printf(out, "vmtide top: vmtided %s, backend %s, automation %s  %s\n",
                               vt_cli_or_dash(vt_cli_json_get_string(s, "version")),
                               vt_cli_or_dash(vt_cli_json_get_string(s, "backend")),
                               paused ? "PAUSED" : "running", clock);
        g_string_append_printf(out, "Host:    %s (%s); available %s of %s",
                               vt_cli_or_dash(vt_cli_json_get_string(s, "host.state")), host_reason,
                               vt_cli_or_dash(avail), vt_cli_or_dash(total));
        if (some >= 0 && full >= 0)
                g_string_append_printf(out, "; PSI some %.2f %%, full %.2f %%", some, full);
        g_string_append_printf(out, "\nBudget:  %s; reserve %s; guests hold %s\n",
                               budget != NULL ? budget : "none", vt_cli_or_dash(reserve),
                               vt_cli_or_dash(held));
        if (other != NULL) {
                g_autofree char *who = top_sanitize(other);

                g_string_append_printf(out, "KSM:     left to another writer (%s)\n", who);
        } else {
                g_string_append_printf(out, "KSM:     %s (%s)\n", vt_cli_or_dash(knobs),
                                       ksm_reason);
        }
}

/* The whole screen as text, one line per row, without escapes. */
static char *
top_render(TopState *state)
{
        GString *out = g_string_new(NULL);
        g_autofree char *guests = top_render_guests(state);

        top_render_header(state, out);
        g_string_append_printf(out,
                               "Guests sorted by %s.  Keys: p pressure, n name, m memory, q quit\n",
                               sort_names[state->sort]);
        if (state->last_event != NULL)
                g_string_append_printf(out, "Last event: %s\n", state->last_event);
        g_string_append_c(out, '\n');
        g_string_append(out, guests);
        return g_string_free(out, FALSE);
}

/* Draws @text from the top, each line cut to the terminal's width. */
static void
top_draw(const char *text)
{
        struct winsize ws = {0};
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        guint cols = ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;
        guint rows = ws.ws_row > 0 ? ws.ws_row : 24;
        GString *out = g_string_new("\033[H");

        for (guint i = 0; lines[i] != NULL && i < rows; i++) {
                g_autofree char *cut =
                    g_utf8_substring(lines[i], 0, MIN(g_utf8_strlen(lines[i], -1), (glong)cols));

                if (lines[i + 1] == NULL && lines[i][0] == '\0')
                        break;
                g_string_append(out, cut);
                g_string_append(out, "\033[K");
                if (lines[i + 1] != NULL && i + 1 < rows)
                        g_string_append(out, "\r\n");
        }
        g_string_append(out, "\033[J");
        fwrite(out->str, 1, out->len, stdout);
        fflush(stdout);
        g_string_free(out, TRUE);
}

static void
top_terminal_setup(TopState *state)
{
        struct termios raw;

        if (tcgetattr(STDIN_FILENO, &state->saved) == 0) {
                state->saved_termios = TRUE;
                raw = state->saved;
                raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
                raw.c_cc[VMIN] = 1;
                raw.c_cc[VTIME] = 0;
                tcsetattr(STDIN_FILENO, TCSANOW, &raw);
        }
        fputs("\033[?1049h\033[?25l\033[H\033[2J", stdout);
        fflush(stdout);
}

/* Every way out comes here: the user's terminal as it was. */
static void
top_terminal_restore(TopState *state)
{
        fputs("\033[?25h\033[?1049l", stdout);
        fflush(stdout);
        if (state->saved_termios)
                tcsetattr(STDIN_FILENO, TCSANOW, &state->saved);
}

static gboolean
top_refresh(TopState *state)
{
        g_autoptr(GError) error = NULL;
        json_object *status, *guests;

        status = vt_cli_call(state->cli, VT_CONTROL_COMMAND_QUERY_STATUS, NULL, &error);
        guests = status != NULL
                     ? vt_cli_call(state->cli, VT_CONTROL_COMMAND_QUERY_GUESTS, NULL, &error)
                     : NULL;
        if (guests == NULL) {
                if (status != NULL)
                        json_object_put(status);
                g_clear_error(&state->error);
                state->error = g_steal_pointer(&error);
                return FALSE;
        }
        g_clear_pointer(&state->status, json_object_put);
        g_clear_pointer(&state->guests, json_object_put);
        state->status = status;
        state->guests = json_object_get(vt_cli_json_get(guests, "guests"));
        json_object_put(guests);
        return TRUE;
}

static void
top_on_event(VtQmpClient *client, const char *name, json_object *data, gint64 timestamp_us,
             gpointer user_data)
{
        TopState *state = user_data;
        g_autoptr(GDateTime) time = g_date_time_new_now_local();
        g_autofree char *when = g_date_time_format(time, "%T");
        g_autofree char *event = top_sanitize(name);
        g_autofree char *guest = top_sanitize(vt_cli_json_get_string(data, "guest"));

        g_free(state->last_event);
        state->last_event = g_strdup_printf("%s %s %s", when, event,
                                            vt_cli_json_get(data, "guest") != NULL ? guest : "");
        state->refresh = TRUE;
}

static void
top_on_disconnected(VtQmpClient *client, const GError *error, gpointer user_data)
{
        TopState *state = user_data;

        state->lost = TRUE;
        state->done = TRUE;
}

static void
top_prepare(VtQmpClient *client, gpointer user_data)
{
        g_signal_connect(client, "event", G_CALLBACK(top_on_event), user_data);
        g_signal_connect(client, "disconnected", G_CALLBACK(top_on_disconnected), user_data);
}

static gboolean
top_on_quit_signal(gpointer user_data)
{
        ((TopState *)user_data)->done = TRUE;
        return G_SOURCE_CONTINUE;
}

static gboolean
top_on_resize(gpointer user_data)
{
        ((TopState *)user_data)->redraw = TRUE;
        return G_SOURCE_CONTINUE;
}

static gboolean
top_on_timer(gpointer user_data)
{
        ((TopState *)user_data)->refresh = TRUE;
        return G_SOURCE_CONTINUE;
}

/* A key: q quits, p, n and m sort; the rest is ignored. */
static gboolean
top_on_key(int fd, GIOCondition condition, gpointer user_data)
{
        TopState *state = user_data;
        char keys[32];
        ssize_t n = read(fd, keys, sizeof(keys));

        if (n <= 0)
                return G_SOURCE_REMOVE; /* stdin closed: the view goes on */
        for (ssize_t i = 0; i < n; i++) {
                switch (g_ascii_tolower(keys[i])) {
                case 'q':
                        state->done = TRUE;
                        break;
                case 'p':
                        state->sort = TOP_SORT_PRESSURE;
                        break;
                case 'n':
                        state->sort = TOP_SORT_NAME;
                        break;
                case 'm':
                        state->sort = TOP_SORT_MEMORY;
                        break;
                default:
                        continue;
                }
                state->redraw = TRUE;
        }
        return G_SOURCE_CONTINUE;
}

static GSource *
top_attach(GSource *source, GSourceFunc func, TopState *state, GMainContext *context)
{
        g_source_set_callback(source, func, state, NULL);
        g_source_attach(source, context);
        return source;
}

/* The loop: refresh and redraw on the flags the sources set. */
static void
top_run(TopState *state, GMainContext *context)
{
        while (!state->done) {
                if (state->refresh) {
                        state->refresh = FALSE;
                        if (!top_refresh(state)) {
                                state->done = TRUE;
                                break;
                        }
                        state->redraw = TRUE;
                }
                if (state->redraw) {
                        g_autofree char *text = top_render(state);

                        state->redraw = FALSE;
                        top_draw(text);
                }
                g_main_context_iteration(context, TRUE);
        }
}

static gboolean
top_parse_sort(const char *text, TopSort *ret_sort)
{
        for (guint i = 0; i < G_N_ELEMENTS(sort_names); i++) {
                if (g_ascii_strcasecmp(text, sort_names[i]) == 0 ||
                    (text[0] == sort_names[i][0] && text[1] == '\0')) {
                        *ret_sort = (TopSort)i;
                        return TRUE;
                }
        }
        return FALSE;
}

static void
top_state_clear(TopState *state)
{
        g_clear_pointer(&state->status, json_object_put);
        g_clear_pointer(&state->guests, json_object_put);
        g_clear_pointer(&state->last_event, g_free);
        g_clear_error(&state->error);
}

/* The view's life once connected; returns the exit status. */
static int
top_live(TopState *state, VtQmpClient *client, double interval_s)
{
        GMainContext *context = vt_qmp_client_get_context(client);
        int quit_signals[] = {SIGINT, SIGTERM, SIGHUP};
        GSource *sources[6];
        guint n = 0;

        for (guint i = 0; i < G_N_ELEMENTS(quit_signals); i++)
                sources[n++] = top_attach(g_unix_signal_source_new(quit_signals[i]),
                                          top_on_quit_signal, state, context);
        sources[n++] =
            top_attach(g_unix_signal_source_new(SIGWINCH), top_on_resize, state, context);
        sources[n++] = top_attach(g_timeout_source_new((guint)(interval_s * 1000)), top_on_timer,
                                  state, context);
        sources[n] = g_unix_fd_source_new(STDIN_FILENO, G_IO_IN | G_IO_HUP);
        g_source_set_callback(sources[n], G_SOURCE_FUNC(top_on_key), state, NULL);
        g_source_attach(sources[n++], context);

        top_terminal_setup(state);
        state->refresh = TRUE;
        top_run(state, context);
        top_terminal_restore(state);

        for (guint i = 0; i < n; i++) {
                g_source_destroy(sources[i]);
                g_source_unref(sources[i]);
        }
        g_signal_handlers_disconnect_by_data(client, state);
        if (state->error != NULL)
                return vt_cli_fail(state->error);
        if (state->lost) {
                fprintf(stderr, "vmtide: vmtided at %s went away\n", vt_cli_get_socket(state->cli));
                return VT_CLI_EXIT_FAILURE;
        }
        return VT_CLI_EXIT_OK;
}

/**
 * vt_cli_top:
 * @cli: the invocation
 * @argc: arguments, `top` first
 * @argv: (array length=argc): the arguments
 *
 * Returns: the exit status: 0 on q or a signal, 1 when vmtided cannot be
 *     reached or goes away
 */
int
vt_cli_top(VtCli *cli, int argc, char **argv)
{
        g_autofree char *interval_arg = NULL;
        g_autofree char *sort_arg = NULL;
        gboolean once = FALSE;
        const GOptionEntry entries[] = {
            {"interval", 'i', 0, G_OPTION_ARG_STRING, &interval_arg,
             "Seconds between refreshes, besides one after each event (default: 2)", "SECONDS"},
            {"sort", 0, 0, G_OPTION_ARG_STRING, &sort_arg,
             "Sort the guests by pressure, name or memory (default: pressure)", "KEY"},
            {"once", '1', 0, G_OPTION_ARG_NONE, &once,
             "Print one screen without escapes and exit (for a pipe or a script)", NULL},
            G_OPTION_ENTRY_NULL,
        };
        g_autoptr(GError) error = NULL;
        TopState state = {.cli = cli};
        double interval_s = TOP_INTERVAL_DEFAULT_S;
        VtQmpClient *client;
        int status;

        if (!vt_cli_parse_args(cli, entries, &argc, &argv, 0, 0))
                return VT_CLI_EXIT_USAGE;
        if (interval_arg != NULL) {
                char *end = NULL;

                interval_s = g_ascii_strtod(interval_arg, &end);
                if (end == interval_arg || *end != '\0' ||
                    !(interval_s >= 0.1 && interval_s <= 3600))
                        return vt_cli_usage_error(
                            cli, "--interval: '%s' is not a number of seconds from 0.1 to 3600",
                            interval_arg);
        }
        if (sort_arg != NULL && !top_parse_sort(sort_arg, &state.sort))
                return vt_cli_usage_error(cli, "--sort: '%s' is not pressure, name or memory",
                                          sort_arg);
        if (!once && (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)))
                return vt_cli_usage_error(cli, "'top' needs a terminal; without one, try "
                                               "'vmtide top --once', 'vmtide list' or "
                                               "'vmtide events'");
        client = vt_cli_connect_full(cli, once ? NULL : top_prepare, &state, &error);
        if (client == NULL)
                return vt_cli_fail(error);
        if (once) {
                g_autofree char *text = NULL;

                status = top_refresh(&state) ? VT_CLI_EXIT_OK : vt_cli_fail(state.error);
                if (status == VT_CLI_EXIT_OK) {
                        text = top_render(&state);
                        fputs(text, stdout);
                }
        } else {
                status = top_live(&state, client, interval_s);
        }
        top_state_clear(&state);
        return status;
}
