/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bounded reads of small kernel files (sysfs knobs, /proc/PID files), as GLib strings. */
#include "ksm/ksm-file.h"

/**
 * vt_ksm_file_read:
 * @path: the file
 * @ret_text: (out) (transfer full): its contents, NUL-terminated; written
 *     only on success
 *
 * Reads @path whole, at most %VT_KSM_FILE_MAX bytes, with vt_file_read().
 *
 * Returns: 0, or -errno; -EFBIG if the file is larger than the bound
 */
int
vt_ksm_file_read(const char *path, char **ret_text)
{
        g_autofree char *buf = g_malloc(VT_KSM_FILE_MAX + 1);
        gssize len = vt_file_read(path, buf, VT_KSM_FILE_MAX + 1);

        if (len < 0)
                return (int)len;
        *ret_text = g_steal_pointer(&buf);
        return 0;
}
