/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One live migration as data: names for its statuses. Pure. */
#include "migrate/migrate-job.h"

/**
 * vt_migrate_status_to_string:
 * @status: a status
 *
 * Returns: its name for logs, events and the CLI ("active", "completed");
 *     %NULL for a value out of range
 */
const char *
vt_migrate_status_to_string(VtMigrateStatus status)
{
        static const char *const names[VT_MIGRATE_STATUS_MAX] = {
            [VT_MIGRATE_STATUS_NONE] = "none",           [VT_MIGRATE_STATUS_SETUP] = "setup",
            [VT_MIGRATE_STATUS_ACTIVE] = "active",       [VT_MIGRATE_STATUS_STOPPED] = "stopped",
            [VT_MIGRATE_STATUS_COMPLETED] = "completed", [VT_MIGRATE_STATUS_FAILED] = "failed",
            [VT_MIGRATE_STATUS_CANCELLED] = "cancelled",
        };

        if ((guint)status >= VT_MIGRATE_STATUS_MAX)
                return NULL;
        return names[status];
}
