/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `vmtide doctor`: one pass over the host and vmtided's guests, the
 * rules of host/doctor/ over two readings some seconds apart, each
 * finding with its rule, figures and advice, most severe first
 * (docs/doctor.md). Without vmtided the host rules still run.
 */
#include <stdio.h>

#include "cli/cli-commands.h"
#include "cli/cli-doctor-sample.h"
#include "common/vt-size.h"
#include "vt-autocleanups.h"

/* Bounds of --interval, seconds. */
#define DOCTOR_INTERVAL_MIN 0.2
#define DOCTOR_INTERVAL_MAX 300.0

/* Pages a second of a counter between the two readings; 0 without them. */
static double
doctor_rate(guint64 before, guint64 after, double interval_s)
{
        return after >= before && interval_s > 0 ? (double)(after - before) / interval_s : 0.0;
}

static json_object *
doctor_zram_json(const VtHostZram *z)
{
        json_object *o = json_object_new_object();

        json_object_object_add(o, "name", json_object_new_string(z->name));
        json_object_object_add(o, "algorithm", json_object_new_string(z->algorithm));
        json_object_object_add(o, "disksize", json_object_new_uint64(z->disksize));
        json_object_object_add(o, "is_swap", json_object_new_boolean(z->is_swap));
        json_object_object_add(o, "orig_data_size", json_object_new_uint64(z->orig_data_size));
        json_object_object_add(o, "compr_data_size", json_object_new_uint64(z->compr_data_size));
        json_object_object_add(o, "mem_used_total", json_object_new_uint64(z->mem_used_total));
        json_object_object_add(o, "mem_limit", json_object_new_uint64(z->mem_limit));
        json_object_object_add(o, "huge_pages", json_object_new_uint64(z->huge_pages));
        json_object_object_add(o, "same_pages", json_object_new_uint64(z->same_pages));
        return o;
}

/* The host figures the findings rest on, for --json. */
static json_object *
doctor_host_json(const VtCliDoctorSample *s)
{
        json_object *host = json_object_new_object();
        json_object *zram = json_object_new_array();
        const VtHostMmSample *mm = s->mm;

        json_object_object_add(host, "mem_total", json_object_new_uint64(s->host.mem_total));
        json_object_object_add(host, "mem_available",
                               json_object_new_uint64(s->host.mem_available));
        json_object_object_add(host, "swap_total", json_object_new_uint64(s->host.swap_total));
        json_object_object_add(host, "swap_in_per_s",
                               json_object_new_double(doctor_rate(s->host_prev.pswpin,
                                                                  s->host.pswpin, s->interval_s)));
        json_object_object_add(host, "swap_out_per_s",
                               json_object_new_double(doctor_rate(s->host_prev.pswpout,
                                                                  s->host.pswpout, s->interval_s)));
        json_object_object_add(host, "psi_some_avg10",
                               s->host.has_psi ? json_object_new_double(s->host.psi_some_avg10)
                                               : NULL);
        for (guint i = 0; i < mm->n_zram; i++)
                json_object_array_add(zram, doctor_zram_json(&mm->zram[i]));
        json_object_object_add(host, "zram", zram);
        json_object_object_add(host, "zswap_enabled",
                               mm->zswap.present ? json_object_new_boolean(mm->zswap.enabled)
                                                 : NULL);
        json_object_object_add(host, "ksm_writer",
                               s->ksm_writer ? json_object_new_string(s->ksm_writer) : NULL);
        return host;
}

static json_object *
doctor_finding_json(const VtDoctorFinding *f)
{
        json_object *o = json_object_new_object();

        json_object_object_add(o, "severity",
                               json_object_new_string(vt_doctor_severity_to_string(f->severity)));
        json_object_object_add(o, "rule", json_object_new_string(f->rule));
        json_object_object_add(o, "subject", json_object_new_string(f->subject));
        json_object_object_add(o, "title", json_object_new_string(f->title));
        json_object_object_add(o, "figures", json_object_new_string(f->figures));
        json_object_object_add(o, "advice", json_object_new_string(f->advice));
        return o;
}

static void
doctor_print_json(const VtCliDoctorSample *s, GPtrArray *findings)
{
        g_autoptr(json_object) out = json_object_new_object();
        json_object *list = json_object_new_array();

        json_object_object_add(out, "interval_s", json_object_new_double(s->interval_s));
        json_object_object_add(out, "guests_checked", json_object_new_boolean(s->guests_checked));
        json_object_object_add(out, "guests_note",
                               s->guests_note ? json_object_new_string(s->guests_note) : NULL);
        json_object_object_add(out, "n_guests", json_object_new_int((int)s->n_guests));
        json_object_object_add(out, "host", doctor_host_json(s));
        for (guint i = 0; i < findings->len; i++)
                json_object_array_add(list, doctor_finding_json(findings->pdata[i]));
        json_object_object_add(out, "findings", list);
        vt_cli_print_json(out);
}

/* "zram0 lzo-rle, swap: 120 MiB in 40 MiB (3.0x)" for each device in use. */
static char *
doctor_zram_text(const VtHostMmSample *mm)
{
        GString *text = g_string_new(NULL);

        for (guint i = 0; i < mm->n_zram; i++) {
                const VtHostZram *z = &mm->zram[i];

                if (text->len > 0)
                        g_string_append(text, "; ");
                if (z->disksize == 0) {
                        g_string_append_printf(text, "%s unused", z->name);
                        continue;
                }
                g_string_append_printf(text, "%s %s%s: %s stored in %s", z->name, z->algorithm,
                                       z->is_swap ? ", swap" : "",
                                       VT_SIZE_STR(z->orig_data_size, VT_SIZE_STYLE_SHORT),
                                       VT_SIZE_STR(z->mem_used_total, VT_SIZE_STYLE_SHORT));
                if (z->mem_used_total > 0)
                        g_string_append_printf(text, " (%.1fx)",
                                               (double)z->orig_data_size /
                                                   (double)z->mem_used_total);
        }
        if (text->len == 0)
                g_string_append(text, "none");
        return g_string_free(text, FALSE);
}

static void
doctor_print_host(const VtCliDoctorSample *s)
{
        g_autoptr(VtCliTable) table = vt_cli_table_new_fields();
        const VtHostMmSample *mm = s->mm;

        vt_cli_table_add_field(
            table, "Memory:",
            g_strdup_printf("%s available of %s",
                            VT_SIZE_STR(s->host.mem_available, VT_SIZE_STYLE_SHORT),
                            VT_SIZE_STR(s->host.mem_total, VT_SIZE_STYLE_SHORT)));
        vt_cli_table_add_field(
            table, "Swap:",
            g_strdup_printf("%u device(s), %s; %.0f pages/s in, %.0f out", mm->n_swaps_total,
                            VT_SIZE_STR(s->host.swap_total, VT_SIZE_STYLE_SHORT),
                            doctor_rate(s->host_prev.pswpin, s->host.pswpin, s->interval_s),
                            doctor_rate(s->host_prev.pswpout, s->host.pswpout, s->interval_s)));
        vt_cli_table_add_field(table, "zram:", doctor_zram_text(mm));
        vt_cli_table_add_field(table, "zswap:",
                               g_strdup(!mm->zswap.present  ? "not in this kernel"
                                        : mm->zswap.enabled ? "enabled"
                                                            : "disabled"));
        vt_cli_table_add_field(table, "Memory PSI:",
                               s->host.has_psi
                                   ? g_strdup_printf("some %.1f %% (avg10)", s->host.psi_some_avg10)
                                   : g_strdup("not in this kernel"));
        vt_cli_table_add_field(table, "KSM:",
                               s->has_ksm
                                   ? g_strdup_printf("run %u, %" G_GUINT64_FORMAT " pages sharing",
                                                     s->ksm.run, s->ksm.pages_sharing)
                                   : g_strdup("not in this kernel"));
        vt_cli_table_add_field(
            table, "Other KSM writer:", g_strdup(s->ksm_writer ? s->ksm_writer : "none"));
        vt_cli_print_table(table);
}

static void
doctor_print_text(const VtCliDoctorSample *s, GPtrArray *findings)
{
        guint counts[VT_DOCTOR_SEVERITY_MAX] = {0};
        guint n_rules = 0;

        printf("vmtide doctor: two readings %.1f s apart (--interval); ", s->interval_s);
        if (s->guests_checked)
                printf("host and %u guest(s) checked\n\n", s->n_guests);
        else
                printf("host only: guests not checked (%s)\n\n", s->guests_note);
        doctor_print_host(s);
        for (guint i = 0; i < findings->len; i++) {
                const VtDoctorFinding *f = findings->pdata[i];
                g_autofree char *severity =
                    g_ascii_strup(vt_doctor_severity_to_string(f->severity), -1);

                counts[f->severity]++;
                printf("\n%-8s %s  [%s]\n  %s\n  figures: %s\n  what to do: %s\n", severity,
                       f->subject, f->rule, f->title, f->figures, f->advice);
        }
        vt_doctor_rules_get(&n_rules);
        if (findings->len == 0)
                printf("\nNo findings: none of the %u rules fired (vmtide doctor --list-rules).\n",
                       n_rules);
        else
                printf("\n%u finding(s): %u critical, %u warning, %u advice, %u info\n",
                       findings->len, counts[VT_DOCTOR_SEVERITY_CRITICAL],
                       counts[VT_DOCTOR_SEVERITY_WARNING], counts[VT_DOCTOR_SEVERITY_ADVICE],
                       counts[VT_DOCTOR_SEVERITY_INFO]);
}

static int
doctor_list_rules(VtCli *cli)
{
        guint n = 0;
        const VtDoctorRule *rules = vt_doctor_rules_get(&n);
        g_autoptr(VtCliTable) table = vt_cli_table_new();
        g_autoptr(json_object) list = json_object_new_array();

        vt_cli_table_add_column(table, "RULE", VT_CLI_ALIGN_LEFT);
        vt_cli_table_add_column(table, "LOOKS FOR", VT_CLI_ALIGN_LEFT);
        for (guint i = 0; i < n; i++) {
                json_object *o = json_object_new_object();

                json_object_object_add(o, "rule", json_object_new_string(rules[i].id));
                json_object_object_add(o, "summary", json_object_new_string(rules[i].summary));
                json_object_array_add(list, o);
                vt_cli_table_add_cell(table, rules[i].id);
                vt_cli_table_add_cell(table, rules[i].summary);
        }
        if (cli->json)
                vt_cli_print_json(list);
        else
                vt_cli_print_table(table);
        return VT_CLI_EXIT_OK;
}

/* Asks vmtided for its guests; without it, says why in the sample. */
static void
doctor_query_guests(VtCli *cli, VtCliDoctorSample *s)
{
        g_autoptr(GError) error = NULL;
        json_object *reply = vt_cli_call(cli, VT_CONTROL_COMMAND_QUERY_GUESTS, NULL, &error);

        if (reply == NULL) {
                s->guests_note = g_strdup_printf("vmtided: %s", error->message);
                return;
        }
        vt_cli_doctor_sample_take_guests(s, reply, "/proc");
}

/**
 * vt_cli_doctor:
 * @cli: the invocation
 * @argc: arguments, `doctor` first
 * @argv: (array length=argc): the arguments
 *
 * Returns: the exit status: 0 once the rules ran (whatever they found),
 *     1 if the host's memory could not be read
 */
int
vt_cli_doctor(VtCli *cli, int argc, char **argv)
{
        double interval = 2.0;
        gboolean list_rules = FALSE;
        const GOptionEntry entries[] = {
            {"interval", 0, 0, G_OPTION_ARG_DOUBLE, &interval,
             "Seconds between the two readings the rates come from (default 2)", "SECONDS"},
            {"list-rules", 0, 0, G_OPTION_ARG_NONE, &list_rules, "List the rules and exit", NULL},
            {NULL},
        };
        g_auto(VtCliDoctorSample) sample = {0};
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) findings = NULL;
        VtDoctorInput input;
        gint64 started;
        gint64 left_us;

        if (!vt_cli_parse_args(cli, entries, &argc, &argv, 0, 0))
                return VT_CLI_EXIT_USAGE;
        if (list_rules)
                return doctor_list_rules(cli);
        if (!(interval >= DOCTOR_INTERVAL_MIN && interval <= DOCTOR_INTERVAL_MAX))
                return vt_cli_usage_error(cli, "--interval %g: between %g and %g seconds", interval,
                                          DOCTOR_INTERVAL_MIN, DOCTOR_INTERVAL_MAX);
        started = g_get_monotonic_time();
        if (!vt_cli_doctor_sample_first(&sample, &error))
                return vt_cli_fail(error);
        doctor_query_guests(cli, &sample);
        left_us = (gint64)(interval * G_USEC_PER_SEC) - (g_get_monotonic_time() - started);
        if (left_us > 0)
                g_usleep((gulong)left_us);
        if (!vt_cli_doctor_sample_second(&sample, &error))
                return vt_cli_fail(error);
        vt_cli_doctor_sample_input(&sample, &input);
        findings = vt_doctor_run(&input);
        if (cli->json)
                doctor_print_json(&sample, findings);
        else
                doctor_print_text(&sample, findings);
        return VT_CLI_EXIT_OK;
}
