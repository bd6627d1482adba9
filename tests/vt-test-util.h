/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the tests: waiting on the main loop for an event, saying what happens. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define VT_TEST_GUARD_US (60 * G_USEC_PER_SEC)

typedef gboolean (*VtTestCondition)(gpointer data);

gboolean vt_test_run_until(VtTestCondition done, gpointer data, gint64 guard_us);
gboolean vt_test_wait_above(const guint *counter, guint above, gint64 guard_us);

/**
 * VtTestWaiter:
 * @result: the result, once the operation completed
 *
 * Catches the result of one asynchronous call: pass
 * vt_test_waiter_callback() and the waiter as its user data.
 */
typedef struct {
        GAsyncResult *result;
} VtTestWaiter;

void vt_test_waiter_callback(GObject *source, GAsyncResult *result, gpointer user_data);
GAsyncResult *vt_test_waiter_wait(VtTestWaiter *waiter);
void vt_test_waiter_clear(VtTestWaiter *waiter);

gboolean vt_test_skip_unless(gboolean available, const char *reason);
void vt_test_remove_tree(const char *path);
void vt_test_default_srcdir(void);
void vt_test_say(const char *format, ...) G_GNUC_PRINTF(1, 2);

gboolean vt_test_write_file(const char *path, const char *text);
char *vt_test_read_text(const char *path);

G_END_DECLS
