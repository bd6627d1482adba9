/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bounded reads of small kernel files (/proc, sysfs, cgroupfs) into a buffer
 * the caller owns. libc only, no GLib: the static guest agent links it as
 * well as the daemon. Errors are -errno; the GLib callers turn them into a
 * GError at their module boundary, with the path in the message.
 */
#include "common/vt-file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

/**
 * read_fd() - Read from @fd until end of file or @size bytes.
 * @fd: an open file
 * @buf: receives the bytes
 * @size: at most this many
 *
 * Return: the number of bytes read, or -errno
 */
static ssize_t
read_fd(int fd, char *buf, size_t size)
{
        size_t used = 0;

        while (used < size) {
                ssize_t n = read(fd, buf + used, size - used);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                used += (size_t)n;
        }
        return (ssize_t)used;
}

/**
 * read_bounded() - Read @path into @buf, NUL-terminated, at most @size - 1 bytes.
 * @path: the file
 * @buf: receives its contents
 * @size: size of @buf, with room for the NUL
 * @ret_more: receives whether the file had more than fitted; NULL to not look
 *
 * Return: the number of bytes read (without the NUL), or -errno
 */
static ssize_t
read_bounded(const char *path, char *buf, size_t size, bool *ret_more)
{
        ssize_t len, extra = 0;
        char probe;
        int fd;

        if (!path || !buf || size == 0)
                return -EINVAL;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        len = read_fd(fd, buf, size - 1);
        /* Full: one more byte says whether the file went on. */
        if (len >= 0 && ret_more && (size_t)len == size - 1)
                extra = read_fd(fd, &probe, 1);
        close(fd);
        if (len < 0)
                return len;
        if (extra < 0)
                return extra;
        buf[len] = '\0';
        if (ret_more)
                *ret_more = extra > 0;
        return len;
}

/**
 * vt_file_read() - Read a small file whole.
 * @path: the file
 * @buf: receives its contents, NUL-terminated; undefined on failure
 * @size: size of @buf: the file may have at most @size - 1 bytes
 *
 * Return: the file's length, or -errno: -EFBIG if it does not fit in @buf,
 * -EINVAL for a NULL @path or @buf or a @size of 0
 */
ssize_t
vt_file_read(const char *path, char *buf, size_t size)
{
        bool more = false;
        ssize_t len = read_bounded(path, buf, size, &more);

        if (len >= 0 && more)
                return -EFBIG;
        return len;
}

/**
 * vt_file_read_lines() - Read the whole lines of a text file that fit.
 * @path: the file
 * @buf: receives its contents, NUL-terminated; undefined on failure
 * @size: size of @buf
 *
 * A file that fills @buf is cut after its last newline, so that no line (a
 * number) is read cut short; a buffer without one is left empty.
 *
 * Return: the length of what @buf holds, or -errno (-EINVAL as for
 * vt_file_read())
 */
ssize_t
vt_file_read_lines(const char *path, char *buf, size_t size)
{
        ssize_t len = read_bounded(path, buf, size, NULL);
        char *last;

        if (len < 0 || (size_t)len < size - 1)
                return len;
        last = strrchr(buf, '\n');
        if (last)
                last[1] = '\0';
        else
                buf[0] = '\0';
        return (ssize_t)strlen(buf);
}
