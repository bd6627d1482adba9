/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bounded reads of small kernel files (sysfs knobs, /proc/PID files). */
#include "ksm/ksm-file.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/**
 * vt_ksm_file_read:
 * @path: the file
 * @ret_text: (out) (transfer full): its contents, NUL-terminated; written
 *     only on success
 *
 * Reads @path whole, at most %VT_KSM_FILE_MAX bytes.
 *
 * Returns: 0, or -errno; -EFBIG if the file is larger than the bound
 */
int
vt_ksm_file_read(const char *path, char **ret_text)
{
        g_autofree char *buf = g_malloc(VT_KSM_FILE_MAX + 1);
        gsize len = 0;
        int fd;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t n = read(fd, buf + len, VT_KSM_FILE_MAX + 1 - len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int saved = errno;

                        close(fd);
                        return -saved;
                }
                if (n == 0)
                        break;
                len += (gsize)n;
                if (len > VT_KSM_FILE_MAX) {
                        close(fd);
                        return -EFBIG;
                }
        }
        close(fd);
        buf[len] = '\0';
        *ret_text = g_steal_pointer(&buf);
        return 0;
}
