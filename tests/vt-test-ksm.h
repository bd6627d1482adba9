/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* KSM inputs read from running test guests, for the KSM test and benchmark. */
#pragma once

#include "ksm/ksm-tuner.h"
#include "tests/vt-test-guest.h"

G_BEGIN_DECLS

gint64 vt_test_ksm_guest_merging(VtTestGuest *guest);
void vt_test_ksm_guest_read(VtTestGuest *guest, guint64 mergeable_bytes, VtKsmGuest *ret_guest);

G_END_DECLS
