/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtided's configuration keys by group, and their value parsers (inside host/ only). */
#pragma once

#include "host/daemon-config.h"

G_BEGIN_DECLS

/* A key of the file: its name, syntax, range and destination (opaque). */
typedef struct _VtDaemonConfigKey VtDaemonConfigKey;
/* A group of the file and its keys (opaque). */
typedef struct _VtDaemonConfigGroup VtDaemonConfigGroup;

const VtDaemonConfigGroup *vt_daemon_config_group_find(const char *name);
const VtDaemonConfigGroup *vt_daemon_config_group_get_guest(void);
const VtDaemonConfigGroup *vt_daemon_config_group_get_peer(void);
const VtDaemonConfigKey *vt_daemon_config_group_find_key(const VtDaemonConfigGroup *group,
                                                         const char *name);
gboolean vt_daemon_config_key_parse(const VtDaemonConfigKey *key, const char *value, gpointer base,
                                    char **ret_problem);

G_END_DECLS
