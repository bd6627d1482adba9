/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmtided.conf's parser on hostile files. A configuration that parses
 * must hold what VtDaemonConfig promises: every guest's limits consistent
 * (minimum under maximum) and no maximum under the balloon floor, its
 * warnings a list, its guests found by name.
 */
#include <stdlib.h>
#include <string.h>

#include "host/daemon-config.h"
#include "tests/fuzz/fuzz-common.h"

static void
check_config(const VtDaemonConfig *config)
{
        const char *const *warnings = vt_daemon_config_get_warnings(config);

        if (warnings == NULL || vt_daemon_backend_to_string(config->backend) == NULL)
                abort();
        for (guint i = 0; i < config->guests->len; i++) {
                const VtDaemonGuestConfig *guest = g_ptr_array_index(config->guests, i);
                const VtBalloonGuestConfig *b = &guest->balloon;

                if (guest->name == NULL || vt_daemon_config_find_guest(config, guest->name) == NULL)
                        abort();
                if (b->max_bytes != 0 && b->max_bytes < VT_BALLOON_FLOOR)
                        abort();
                if (b->min_bytes != 0 && b->max_bytes != 0 && b->min_bytes > b->max_bytes)
                        abort();
        }
}

/**
 * LLVMFuzzerTestOneInput:
 * @data: one input: a configuration file
 * @size: its length
 *
 * Returns: 0
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VtDaemonConfig) config = NULL;

        /* A copy of exactly @size bytes (one for an empty file, which is
         * not NULL), so that a read past it is caught. */
        g_autofree char *copy = g_malloc(MAX(size, 1));

        memcpy(copy, data, size);

        config = vt_daemon_config_parse(copy, size, "fuzz.conf", &error);
        if (config == NULL) {
                if (error == NULL || error->domain != VT_DAEMON_CONFIG_ERROR)
                        abort();
                return 0;
        }
        check_config(config);
        return 0;
}
