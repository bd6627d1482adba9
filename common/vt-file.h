/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bounded reads of small kernel files (/proc, sysfs, cgroupfs): libc only, for the agent too. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Larger than any sysfs knob, cgroup file, ksm_stat, stat or statm: a bound on what is read. */
#define VT_FILE_SMALL_MAX 4096

ssize_t vt_file_read(const char *path, char *buf, size_t size);
ssize_t vt_file_read_lines(const char *path, char *buf, size_t size);
