/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A scripted QMP peer on a Unix socket, served from a thread of its own. */
#pragma once

#include <glib.h>
#include <json-c/json.h>

#include "qmp/qmp-message.h"

G_BEGIN_DECLS

typedef struct _VtFakeQmp VtFakeQmp;

/**
 * VtFakeQmpHandler:
 * @peer: the fake peer
 * @command: the command received (`qmp_capabilities` is answered for you)
 * @user_data: as given to vt_fake_qmp_new()
 *
 * Runs in the peer's thread. Answer with vt_fake_qmp_send() or
 * vt_fake_qmp_reply(), or not at all, or hang up.
 */
typedef void (*VtFakeQmpHandler)(VtFakeQmp *peer, const VtQmpMessage *command, gpointer user_data);

VtFakeQmp *vt_fake_qmp_new(const char *greeting, VtFakeQmpHandler handler, gpointer user_data);
const char *vt_fake_qmp_get_address(VtFakeQmp *peer);
void vt_fake_qmp_send(VtFakeQmp *peer, const void *data, gsize len);
guint64 vt_fake_qmp_stream(VtFakeQmp *peer, const void *data, gsize len);
void vt_fake_qmp_reply(VtFakeQmp *peer, const VtQmpMessage *command, const char *value);
void vt_fake_qmp_hangup(VtFakeQmp *peer);
guint vt_fake_qmp_get_n_connections(VtFakeQmp *peer);
void vt_fake_qmp_free(VtFakeQmp *peer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtFakeQmp, vt_fake_qmp_free)

char *vt_test_load_recorded_qmp(const char *name);

G_END_DECLS
