/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vt-history-gen: writes a realistic history (tests/vt-test-history.c's scenario) for docs and
 * demos. */
#include <stdio.h>
#include <stdlib.h>

#include "tests/vt-test-history.h"

int
main(int argc, char **argv)
{
        g_autofree char *policy = NULL;
        gint minutes = 60, seed = 13;
        const GOptionEntry entries[] = {
            {"policy", 'p', 0, G_OPTION_ARG_STRING, &policy,
             "The balloon policy that runs (vmtide, mom, proxmox)", "NAME"},
            {"minutes", 'm', 0, G_OPTION_ARG_INT, &minutes, "How long (default 60)", "N"},
            {"seed", 0, 0, G_OPTION_ARG_INT, &seed, "The scenario's noise (default 13)", "N"},
            G_OPTION_ENTRY_NULL,
        };
        g_autoptr(GOptionContext) context = g_option_context_new("DIR");
        g_autoptr(GError) error = NULL;
        VtTestHistoryOptions options;

        g_option_context_set_summary(context,
                                     "Writes an hour of three guests on an overcommitted host, "
                                     "decided by a real balloon policy, as a vmtided history.");
        g_option_context_add_main_entries(context, entries, NULL);
        if (!g_option_context_parse(context, &argc, &argv, &error) || argc != 2 || minutes <= 0 ||
            minutes > 24 * 60) {
                fprintf(stderr,
                        "vt-history-gen: %s\nUsage: vt-history-gen [--policy NAME] "
                        "[--minutes N] [--seed N] DIR\n",
                        error != NULL ? error->message : "one DIR, and 1 to 1440 minutes");
                return 2;
        }
        vt_test_history_options_init(&options, argv[1]);
        if (policy != NULL)
                options.policy = policy;
        options.n_ticks = (guint)minutes * 30;
        options.seed = (guint32)seed;
        if (!vt_test_history_write(&options, &error)) {
                fprintf(stderr, "vt-history-gen: %s\n", error->message);
                return 1;
        }
        printf("%s: %u ticks of %s\n", argv[1], options.n_ticks, options.policy);
        return 0;
}
