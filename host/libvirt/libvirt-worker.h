/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Blocking calls run one at a time, in order, off the main loop. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _VtSerialWorker VtSerialWorker;

VtSerialWorker *vt_serial_worker_new(void);
void vt_serial_worker_run(VtSerialWorker *worker, GTask *task, GTaskThreadFunc func);
void vt_serial_worker_free(VtSerialWorker *worker);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtSerialWorker, vt_serial_worker_free)

G_END_DECLS
