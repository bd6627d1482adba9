/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What every libFuzzer target in tests/fuzz shares (docs/testing.md, "Fuzzing"). */
#pragma once

#include <glib.h>
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

/* libFuzzer's entry points; each target defines LLVMFuzzerTestOneInput. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

const char *vt_fuzz_get_dir(void);
void vt_fuzz_write_file(const char *dir, const char *name, const void *data, gsize size);
char *vt_fuzz_strndup(const uint8_t *data, size_t size);

/* Called with each object framed from the input; borrowed for the call. */
typedef void (*VtFuzzMessageFunc)(json_object *object, gpointer user_data);

void vt_fuzz_each_message(const uint8_t *data, size_t size, gsize max_message, guint max_depth,
                          gsize max_values, VtFuzzMessageFunc func, gpointer user_data);

G_END_DECLS
