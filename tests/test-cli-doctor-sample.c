/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of `vmtide doctor`'s sampler: query-guests' agent figures
 * become each guest's compressed memory as the rules see it (issue 15).
 */
#include "cli/cli-doctor-sample.h"

#define NO_PROC "/nonexistent/proc"

/* Two guests: an agent with zram, zswap and rates; an older agent with none. */
static const char guests_json[] =
    "{\"guests\": ["
    " {\"name\": \"zr\", \"pid\": null, \"has_balloon\": true, \"stuck\": false,"
    "  \"agent\": {\"connected\": true, \"mem_total\": 400000000, \"psi_some_avg10\": 12.5,"
    "   \"zram_orig\": 52428800, \"zram_compr\": 9000000, \"zram_used\": 10485760,"
    "   \"zram_limit\": 0, \"zram_huge_pages\": 12, \"zswap_pool\": 4096,"
    "   \"zswap_stored\": 8192, \"swap_in_per_s\": 3.5, \"swap_out_per_s\": 120}},"
    " {\"name\": \"old\", \"pid\": null, \"has_balloon\": true, \"stuck\": false,"
    "  \"agent\": {\"connected\": true, \"mem_total\": 400000000, \"psi_some_avg10\": null,"
    "   \"zram_orig\": null, \"zswap_pool\": null, \"swap_in_per_s\": null,"
    "   \"swap_out_per_s\": null}},"
    " {\"name\": \"noagent\", \"pid\": null, \"agent\": null}"
    "]}";

static void
test_compressed_from_guests(void)
{
        VtCliDoctorSample sample = {0};
        const VtDoctorGuestCompressed *c;

        vt_cli_doctor_sample_take_guests(&sample, json_tokener_parse(guests_json), NO_PROC);
        g_assert_cmpuint(sample.n_guests, ==, 3);

        c = &sample.guests[0].compressed;
        g_assert_true(c->present);
        g_assert_cmpuint(c->zram_orig_bytes, ==, 52428800);
        g_assert_cmpuint(c->zram_compr_bytes, ==, 9000000);
        g_assert_cmpuint(c->zram_used_bytes, ==, 10485760);
        g_assert_cmpuint(c->zram_limit_bytes, ==, 0);
        g_assert_cmpuint(c->zram_huge_pages, ==, 12);
        g_assert_cmpuint(c->zswap_pool_bytes, ==, 4096);
        g_assert_true(c->has_swap_rates);
        g_assert_cmpfloat(c->swap_in_per_s, ==, 3.5);
        g_assert_cmpfloat(c->swap_out_per_s, ==, 120.0);
        g_assert_cmpfloat(c->psi_some_avg10, ==, 12.5);

        /* Nulls (an older agent, no zram in use) are absent, never zero figures. */
        for (guint i = 1; i < 3; i++) {
                c = &sample.guests[i].compressed;
                g_assert_false(c->present);
                g_assert_false(c->has_swap_rates);
                g_assert_cmpfloat(c->psi_some_avg10, ==, -1.0);
        }
        vt_cli_doctor_sample_clear(&sample);
}

/* Garbage where figures belong (a negative size, a string) reads as absent. */
static void
test_compressed_garbage(void)
{
        VtCliDoctorSample sample = {0};
        const VtDoctorGuestCompressed *c;

        vt_cli_doctor_sample_take_guests(
            &sample,
            json_tokener_parse("{\"guests\": [{\"name\": \"bad\", \"agent\": {\"connected\": true,"
                               " \"zram_orig\": -5, \"zswap_pool\": \"lots\","
                               " \"swap_in_per_s\": -1, \"swap_out_per_s\": 2,"
                               " \"psi_some_avg10\": -3}}]}"),
            NO_PROC);
        g_assert_cmpuint(sample.n_guests, ==, 1);
        c = &sample.guests[0].compressed;
        g_assert_false(c->present);
        g_assert_false(c->has_swap_rates);
        g_assert_cmpfloat(c->psi_some_avg10, ==, -1.0);
        vt_cli_doctor_sample_clear(&sample);
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/cli/doctor-sample/compressed", test_compressed_from_guests);
        g_test_add_func("/cli/doctor-sample/compressed-garbage", test_compressed_garbage);
        return g_test_run();
}
