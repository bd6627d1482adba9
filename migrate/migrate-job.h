/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One live migration as data: what is asked for and how it goes. Pure. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * VtMigrateRequest:
 * @peer: where to: a libvirt connection URI for the libvirt backend
 *     (`qemu+ssh://host/system`, `qemu+unix:///system?socket=...`); for
 *     the QMP-direct backend the peer's name, handed to the configured
 *     destination command, which starts the QEMU that receives
 * @transport_uri: (nullable): the migration stream's URI when it is not
 *     the backend's default (libvirt `migrate_uri`, e.g.
 *     `unix:///run/peer/migrate.sock`; QMP-direct: set by the destination
 *     command's output, e.g. `unix:/run/peer/g1.migrate`)
 * @bandwidth: the cap for the stream, bytes per second; 0: the backend's
 *     default (QEMU 7.2: 128 MiB/s)
 * @downtime_limit_us: the downtime QEMU may take for the last copy at the
 *     start; 0: QEMU's default (300 ms). The executor raises it within its
 *     cap while the move runs
 * @auto_converge: let QEMU throttle the guest's vCPUs when passes stop
 *     shrinking (the policy decides; off by default)
 *
 * What the executor asks a backend for. Strings are borrowed.
 */
typedef struct {
        const char *peer;
        const char *transport_uri;
        guint64 bandwidth;
        gint64 downtime_limit_us;
        gboolean auto_converge;
} VtMigrateRequest;

/**
 * VtMigrateStatus:
 * @VT_MIGRATE_STATUS_NONE: no migration (or its status is not known yet)
 * @VT_MIGRATE_STATUS_SETUP: set up, no RAM sent yet
 * @VT_MIGRATE_STATUS_ACTIVE: pre-copy passes under way
 * @VT_MIGRATE_STATUS_STOPPED: the guest is stopped for the last copy
 *     (QEMU `device`, `pre-switchover`)
 * @VT_MIGRATE_STATUS_COMPLETED: the guest runs on the destination
 * @VT_MIGRATE_STATUS_FAILED: it failed; the guest runs on the source
 * @VT_MIGRATE_STATUS_CANCELLED: cancelled; the guest runs on the source
 *
 * Where a migration is. QEMU's `query-migrate` statuses and libvirt's job
 * types map onto these.
 */
typedef enum {
        VT_MIGRATE_STATUS_NONE,
        VT_MIGRATE_STATUS_SETUP,
        VT_MIGRATE_STATUS_ACTIVE,
        VT_MIGRATE_STATUS_STOPPED,
        VT_MIGRATE_STATUS_COMPLETED,
        VT_MIGRATE_STATUS_FAILED,
        VT_MIGRATE_STATUS_CANCELLED,
        VT_MIGRATE_STATUS_MAX,
} VtMigrateStatus;

/**
 * VtMigrateProgress:
 * @status: where it is
 * @pass: the pass under way, 1 for the first full copy (QEMU
 *     `dirty-sync-count`, libvirt `memory_iteration`); 0: not started
 * @total_bytes: the guest's RAM, bytes
 * @transferred_bytes: RAM bytes sent so far, every pass
 * @remaining_bytes: what is left to send in this pass, bytes
 * @dirty_rate: the job's own dirty rate, bytes per second (QEMU
 *     `dirty-pages-rate` × page size); 0: not known yet
 * @throughput: what the stream carries now, bytes per second (QEMU
 *     `mbps`); 0: not known
 * @elapsed_us: since the migration started
 * @downtime_us: the downtime the guest had (when completed) or QEMU's
 *     expected downtime (while active); 0: not known
 * @error: why it failed, when @status is %VT_MIGRATE_STATUS_FAILED (QEMU
 *     `error-desc`, libvirt's message); empty otherwise
 *
 * How a migration goes, from `query-migrate` or `virDomainGetJobStats`.
 */
typedef struct {
        VtMigrateStatus status;
        guint pass;
        guint64 total_bytes;
        guint64 transferred_bytes;
        guint64 remaining_bytes;
        guint64 dirty_rate;
        guint64 throughput;
        gint64 elapsed_us;
        gint64 downtime_us;
        char error[160];
} VtMigrateProgress;

const char *vt_migrate_status_to_string(VtMigrateStatus status);

/* The guest runs on neither side's QEMU any more than once: finished. */
static inline gboolean
vt_migrate_status_is_final(VtMigrateStatus status)
{
        return status == VT_MIGRATE_STATUS_COMPLETED || status == VT_MIGRATE_STATUS_FAILED ||
               status == VT_MIGRATE_STATUS_CANCELLED;
}

G_END_DECLS
