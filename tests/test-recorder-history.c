/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The recorder on disk: written and read back, cut at every byte, corrupted, rotated, refused. */
#include <errno.h>
#include <glib/gstdio.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "balloon/balloon-registry.h"
#include "host/recorder/recorder-hooks.h"
#include "host/recorder/recorder-reader.h"
#include "host/recorder/recorder-writer.h"
#include "tests/vt-test-util.h"

#define WALL0 G_GINT64_CONSTANT(1700000000000000)

typedef struct {
        char *tmp;
        char *dir;
        VtRecorderConfig config;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;

        f->tmp = g_dir_make_tmp("vt-recorder-XXXXXX", &error);
        g_assert_no_error(error);
        f->dir = g_build_filename(f->tmp, "history", NULL);
        vt_recorder_config_init(&f->config);
        f->config.dir = f->dir;
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
        vt_test_remove_tree(f->tmp);
        g_free(f->dir);
        g_free(f->tmp);
}

/* Three guests, their figures drawn from @i so that each tick differs. */
static void
add_tick(VtRecorder *recorder, gint64 wall_us, guint i)
{
        static const char *const names[] = {"g0", "g1", "g2"};
        VtBalloonHost host = {.mem_total = G_GUINT64_CONSTANT(16) << 30,
                              .mem_available = (G_GUINT64_CONSTANT(4) << 30) + i * 4096,
                              .psi_some_avg10 = i * 0.01,
                              .budget_limit = G_GUINT64_CONSTANT(8) << 30};
        VtBalloonGuest guests[3];
        VtBalloonGuestConfig configs[3] = {{0}};
        VtBalloonTarget targets[3];
        VtBalloonState before = {.host_state = VT_HOST_STATE_TIGHT, .host_state_since_us = i};
        VtBalloonDecision decision = {.host_state = VT_HOST_STATE_TIGHT, .targets = targets};
        VtBalloonInput input = {.host = &host,
                                .guests = guests,
                                .configs = configs,
                                .n_guests = 3,
                                .now_us = 1000 + (gint64)i};

        g_snprintf(decision.reason, sizeof(decision.reason), "tight: tick %u", i);
        for (guint g = 0; g < 3; g++) {
                guests[g] = (VtBalloonGuest){.name = names[g],
                                             .flags = VT_BALLOON_GUEST_HAS_BALLOON,
                                             .max_bytes = G_GUINT64_CONSTANT(512) << 20,
                                             .actual_bytes = (G_GUINT64_CONSTANT(400) << 20) + i,
                                             .agent_psi_some_avg10 = g * 1.5};
                targets[g] = (VtBalloonTarget){.action = VT_BALLOON_ACTION_NONE,
                                               .target_bytes = guests[g].actual_bytes};
                g_snprintf(targets[g].reason, sizeof(targets[g].reason), "enough: tick %u", i);
        }
        vt_recorder_add_tick(recorder, wall_us, NULL, &input, &before, &decision);
}

static void
add_policy(VtRecorder *recorder, gint64 wall_us)
{
        VtBalloonConfig config;

        vt_balloon_config_init(&config);
        vt_recorder_add_policy(recorder, wall_us, 1, "vmtide", &config);
}

typedef struct {
        GPtrArray *records; /* VtRecorderRecord */
        GPtrArray *damage;  /* GError */
} ReadBack;

static void
read_back_clear(ReadBack *back)
{
        g_ptr_array_unref(back->records);
        g_ptr_array_unref(back->damage);
}

static ReadBack
read_back_range(const char *path, const char *guest, gint64 since, gint64 until)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VtRecorderReader) reader = vt_recorder_reader_new(path, &error);
        ReadBack back = {
            g_ptr_array_new_with_free_func((GDestroyNotify)vt_recorder_record_free),
            g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free),
        };

        g_assert_no_error(error);
        vt_recorder_reader_set_guest(reader, guest);
        vt_recorder_reader_set_range(reader, since, until);
        for (guint guard = 0; guard < 100000; guard++) {
                GError *damage = NULL;
                VtRecorderRecord *record = NULL;

                if (vt_recorder_reader_next(reader, &record, &damage)) {
                        g_ptr_array_add(back.records, record);
                        continue;
                }
                if (damage == NULL)
                        break;
                g_test_message("damage: %s", damage->message);
                g_ptr_array_add(back.damage, damage);
        }
        g_assert_cmpuint(vt_recorder_reader_get_n_damaged(reader), ==, back.damage->len);
        return back;
}

static ReadBack
read_back(const char *path)
{
        return read_back_range(path, NULL, G_MININT64, G_MAXINT64);
}

static guint
count_type(const ReadBack *back, VtRecorderRecordType type)
{
        guint n = 0;

        for (guint i = 0; i < back->records->len; i++)
                n += ((VtRecorderRecord *)g_ptr_array_index(back->records, i))->type == type;
        return n;
}

/* The only segment of @dir. */
static char *
only_segment(const char *dir)
{
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *name;
        char *path = NULL;

        g_assert_nonnull(d);
        while ((name = g_dir_read_name(d)) != NULL) {
                g_assert_null(path);
                path = g_build_filename(dir, name, NULL);
        }
        g_assert_nonnull(path);
        return path;
}

static void
test_round_trip(Fixture *f, gconstpointer data)
{
        g_autoptr(VtRecorder) recorder = vt_recorder_new(&f->config);
        g_autoptr(GError) error = NULL;
        VtMigrateExecResult result = {.outcome = VT_MIGRATE_EXEC_CANCELLED,
                                      .prediction = {.passes = 3, .total_us = 4000000},
                                      .total_us = 9000000,
                                      .passes = 7,
                                      .bytes = 1 << 30,
                                      .by_hand = TRUE,
                                      .reason = "cancelled by hand",
                                      .summary = "9.0 s (predicted 4.0 s)"};
        VtMigrateExecProgress progress = {.status = VT_MIGRATE_STATUS_ACTIVE, .pass = 2};
        VtRecorderStats stats;
        ReadBack back;
        VtRecorderRecord *r;

        add_policy(recorder, WALL0);
        add_policy(recorder, WALL0 + 1); /* unchanged: not written again */
        for (guint i = 0; i < 10; i++)
                add_tick(recorder, WALL0 + i * G_USEC_PER_SEC, i);
        vt_recorder_add_move(recorder, WALL0 + 11 * G_USEC_PER_SEC, 11, "g1",
                             VT_RECORDER_MOVE_STUCK, 1, 2, 3, NULL);
        vt_recorder_add_control(recorder, WALL0 + 12 * G_USEC_PER_SEC, 12,
                                VT_RECORDER_CONTROL_PAUSE, NULL, 0, "by hand");
        vt_recorder_add_migration_pass(recorder, WALL0 + 13 * G_USEC_PER_SEC, 13, "g2", "peer",
                                       &progress);
        vt_recorder_add_migration_end(recorder, WALL0 + 14 * G_USEC_PER_SEC, 14, "g2", "peer",
                                      &result);
        g_assert_true(vt_recorder_flush(recorder, WALL0 + 15 * G_USEC_PER_SEC, &error));
        g_assert_no_error(error);
        vt_recorder_get_stats(recorder, &stats);
        g_assert_true(stats.recording);
        g_assert_cmpuint(stats.records, ==, 15);
        g_assert_cmpuint(stats.dropped, ==, 0);
        g_assert_cmpuint(stats.n_segments, ==, 1);
        g_assert_true(g_str_has_prefix(stats.path, f->dir));

        back = read_back(f->dir);
        g_assert_cmpuint(back.damage->len, ==, 0);
        g_assert_cmpuint(back.records->len, ==, 15);
        r = g_ptr_array_index(back.records, 0);
        g_assert_cmpint(r->type, ==, VT_RECORDER_RECORD_POLICY);
        g_assert_cmpstr(r->u.policy.name, ==, "vmtide");
        r = g_ptr_array_index(back.records, 4);
        g_assert_cmpint(r->type, ==, VT_RECORDER_RECORD_TICK);
        g_assert_cmpint(r->mono_us, ==, 1003);
        g_assert_cmpuint(r->u.tick.n_guests, ==, 3);
        g_assert_cmpuint(r->u.tick.guests[2].actual_bytes, ==, (G_GUINT64_CONSTANT(400) << 20) + 3);
        g_assert_cmpfloat(r->u.tick.guests[2].agent_psi_some_avg10, ==, 3.0);
        g_assert_cmpstr(r->u.tick.decision.targets[1].reason, ==, "enough: tick 3");
        r = g_ptr_array_index(back.records, 14);
        g_assert_cmpint(r->type, ==, VT_RECORDER_RECORD_MIGRATION);
        g_assert_cmpint(r->u.migration.phase, ==, VT_RECORDER_MIGRATION_END);
        g_assert_cmpuint(r->u.migration.outcome, ==, VT_MIGRATE_EXEC_CANCELLED);
        g_assert_cmpuint(r->u.migration.predicted_passes, ==, 3);
        g_assert_cmpint(r->u.migration.predicted_total_us, ==, 4000000);
        g_assert_cmpint(r->u.migration.elapsed_us, ==, 9000000);
        g_assert_cmpuint(r->u.migration.pass, ==, 7);
        g_assert_true(r->u.migration.by_hand);
        g_assert_cmpstr(r->u.migration.summary, ==, result.summary);
        read_back_clear(&back);

        /* One guest: its ticks (pruned to it), its move, the host's pause and the policy. */
        back = read_back_range(f->dir, "g1", G_MININT64, G_MAXINT64);
        g_assert_cmpuint(back.records->len, ==, 13);
        r = g_ptr_array_index(back.records, 1);
        g_assert_cmpuint(r->u.tick.n_guests, ==, 1);
        g_assert_cmpstr(r->u.tick.guests[0].name, ==, "g1");
        read_back_clear(&back);

        /* A time range: ticks 2 to 4, and the policy in force. */
        back =
            read_back_range(f->dir, NULL, WALL0 + 2 * G_USEC_PER_SEC, WALL0 + 5 * G_USEC_PER_SEC);
        g_assert_cmpuint(back.records->len, ==, 4);
        g_assert_cmpuint(count_type(&back, VT_RECORDER_RECORD_TICK), ==, 3);
        read_back_clear(&back);
}

/* Writes a policy and three ticks; returns the segment's bytes and the
 * offset of the last record. */
static GBytes *
three_ticks(Fixture *f, gsize *ret_last_offset)
{
        g_autoptr(VtRecorder) recorder = vt_recorder_new(&f->config);
        g_autoptr(GError) error = NULL;
        g_autoptr(VtRecorderReader) reader = NULL;
        g_autoptr(VtRecorderRecord) record = NULL;
        g_autofree char *path = NULL;
        char *contents;
        gsize len;

        add_policy(recorder, WALL0);
        for (guint i = 0; i < 3; i++)
                add_tick(recorder, WALL0 + i, i);
        g_assert_true(vt_recorder_flush(recorder, WALL0 + 3, &error));
        path = only_segment(f->dir);
        reader = vt_recorder_reader_new(path, &error);
        g_assert_no_error(error);
        for (guint i = 0; i < 4; i++) {
                g_clear_pointer(&record, vt_recorder_record_free);
                g_assert_true(vt_recorder_reader_next(reader, &record, &error));
        }
        *ret_last_offset = vt_recorder_reader_get_offset(reader);
        g_assert_true(g_file_get_contents(path, &contents, &len, &error));
        return g_bytes_new_take(contents, len);
}

/* A write cut at every byte of the last record: everything before it
 * reads, the cut is named by file and offset. */
static void
test_truncated_tail(Fixture *f, gconstpointer data)
{
        gsize last, len;
        g_autoptr(GBytes) bytes = three_ticks(f, &last);
        const char *contents = g_bytes_get_data(bytes, &len);
        g_autofree char *cut_path = g_build_filename(f->tmp, "vmtide-0000000001-0.vtrec", NULL);
        g_autofree char *where = g_strdup_printf("offset %" G_GSIZE_FORMAT ":", last);

        g_assert_cmpuint(last, >, VT_RECORDER_HEADER_SIZE);
        for (gsize cut = last; cut < len; cut++) {
                g_autoptr(GError) error = NULL;
                ReadBack back;

                g_assert_true(g_file_set_contents(cut_path, contents, (gssize)cut, &error));
                back = read_back(cut_path);
                g_assert_cmpuint(back.records->len, ==, 3);
                g_assert_cmpuint(count_type(&back, VT_RECORDER_RECORD_TICK), ==, 2);
                if (cut == last) {
                        g_assert_cmpuint(back.damage->len, ==, 0);
                } else {
                        GError *damage = g_ptr_array_index(back.damage, 0);

                        g_assert_cmpuint(back.damage->len, ==, 1);
                        g_assert_error(damage, VT_RECORDER_ERROR, VT_RECORDER_ERROR_TRUNCATED);
                        g_assert_nonnull(strstr(damage->message, cut_path));
                        g_assert_nonnull(strstr(damage->message, where));
                        g_assert_nonnull(strstr(damage->message, "3 record(s) before it read"));
                }
                read_back_clear(&back);
        }
}

/* A byte flipped in the middle of the first segment: read up to it, with
 * file and offset named; the next segment reads whole. */
static void
test_corrupt_middle(Fixture *f, gconstpointer data)
{
        g_autoptr(VtRecorder) recorder = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *first = NULL;
        g_autofree char *contents = NULL;
        gsize len, last;
        VtRecorderStats stats;
        ReadBack back;
        GError *damage;

        /* The first segment, and where its last record starts. */
        g_bytes_unref(three_ticks(f, &last));
        first = only_segment(f->dir);
        /* A second segment: a new writer never appends to an old one. */
        recorder = vt_recorder_new(&f->config);
        add_policy(recorder, WALL0 + 10);
        for (guint i = 0; i < 5; i++)
                add_tick(recorder, WALL0 + 10 + i, 10 + i);
        g_assert_true(vt_recorder_flush(recorder, WALL0 + 20, &error));
        vt_recorder_get_stats(recorder, &stats);
        g_assert_cmpuint(stats.n_segments, ==, 2);

        g_assert_true(g_file_get_contents(first, &contents, &len, &error));
        contents[last + VT_RECORDER_FRAME_SIZE + 10] ^= 0x40;
        g_assert_true(g_file_set_contents(first, contents, (gssize)len, &error));

        back = read_back(f->dir);
        g_assert_cmpuint(back.damage->len, ==, 1);
        damage = g_ptr_array_index(back.damage, 0);
        g_assert_error(damage, VT_RECORDER_ERROR, VT_RECORDER_ERROR_CORRUPT);
        g_assert_nonnull(strstr(damage->message, first));
        g_assert_nonnull(strstr(damage->message, "checksum"));
        /* 1 policy + 2 ticks before the damage, 1 policy + 5 ticks after. */
        g_assert_cmpuint(back.records->len, ==, 9);
        g_assert_cmpuint(count_type(&back, VT_RECORDER_RECORD_TICK), ==, 7);
        read_back_clear(&back);
}

static guint64
directory_bytes(const char *dir, guint *ret_n)
{
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *name;
        guint64 total = 0;

        *ret_n = 0;
        while ((name = g_dir_read_name(d)) != NULL) {
                g_autofree char *path = g_build_filename(dir, name, NULL);
                GStatBuf st;

                g_assert_cmpint(g_stat(path, &st), ==, 0);
                total += (guint64)st.st_size;
                (*ret_n)++;
        }
        return total;
}

/* Past max_bytes the oldest segments go; each kept one replays alone. */
static void
test_rotation_size(Fixture *f, gconstpointer data)
{
        g_autoptr(VtRecorder) recorder = NULL;
        g_autoptr(GError) error = NULL;
        VtRecorderStats stats;
        ReadBack back;
        guint n_files, n_policies;

        f->config.max_bytes = 64 << 10;
        f->config.segment_bytes = 16 << 10;
        f->config.segment_age_us = 0;
        recorder = vt_recorder_new(&f->config);
        add_policy(recorder, WALL0);
        for (guint i = 0; i < 2000; i++) {
                add_tick(recorder, WALL0 + i, i);
                g_assert_true(vt_recorder_flush(recorder, WALL0 + i, &error));
                vt_recorder_get_stats(recorder, &stats);
                g_assert_cmpuint(stats.disk_bytes, <=, f->config.max_bytes);
        }
        g_assert_cmpuint(directory_bytes(f->dir, &n_files), ==, stats.disk_bytes);
        g_assert_cmpuint(n_files, ==, stats.n_segments);
        g_assert_cmpuint(n_files, >=, 3);
        g_assert_cmpuint(stats.records, ==, 2001);

        back = read_back(f->dir);
        g_assert_cmpuint(back.damage->len, ==, 0);
        n_policies = count_type(&back, VT_RECORDER_RECORD_POLICY);
        g_assert_cmpuint(n_policies, ==, n_files);
        /* The newest ticks are all there, the oldest gone. */
        {
                VtRecorderRecord *r = g_ptr_array_index(back.records, back.records->len - 1);

                g_assert_cmpint(r->mono_us, ==, 1000 + 1999);
                r = g_ptr_array_index(back.records, 1);
                g_assert_cmpint(r->mono_us, >, 1000);
        }
        read_back_clear(&back);
}

/* A segment whose records are all older than max_age goes; the clock is
 * the caller's. */
static void
test_rotation_age(Fixture *f, gconstpointer data)
{
        g_autoptr(VtRecorder) recorder = NULL;
        g_autoptr(GError) error = NULL;
        const gint64 step = 10 * G_TIME_SPAN_MINUTE;
        gint64 now = WALL0;
        VtRecorderStats stats;
        ReadBack back;
        VtRecorderRecord *oldest;

        f->config.max_age_us = 3 * G_TIME_SPAN_HOUR;
        f->config.segment_age_us = G_TIME_SPAN_HOUR;
        recorder = vt_recorder_new(&f->config);
        add_policy(recorder, now);
        for (guint i = 0; i < 60; i++, now += step) {
                add_tick(recorder, now, i);
                g_assert_true(vt_recorder_flush(recorder, now, &error));
        }
        now -= step;
        vt_recorder_get_stats(recorder, &stats);
        /* Three hours of segments of an hour, the one being written and
         * the one straddling the limit. */
        g_assert_cmpuint(stats.n_segments, >=, 3);
        g_assert_cmpuint(stats.n_segments, <=, 5);

        back = read_back(f->dir);
        oldest = g_ptr_array_index(back.records, 1);
        g_assert_cmpint(oldest->type, ==, VT_RECORDER_RECORD_TICK);
        g_assert_cmpint(oldest->wall_us, >=, now - f->config.max_age_us - f->config.segment_age_us);
        g_assert_cmpint(oldest->wall_us, <, now - f->config.max_age_us + step);
        read_back_clear(&back);
}

/* A directory that cannot be made: the error names it, recording pauses,
 * records are dropped and counted, nothing crashes, and it tries again. */
static void
test_unwritable(Fixture *f, gconstpointer data)
{
        g_autofree char *file = g_build_filename(f->tmp, "a-file", NULL);
        g_autofree char *dir = g_build_filename(file, "history", NULL);
        g_autoptr(VtRecorder) recorder = NULL;
        g_autoptr(GError) error = NULL;
        VtRecorderStats stats;

        g_assert_true(g_file_set_contents(file, "", 0, &error));
        f->config.dir = dir;
        recorder = vt_recorder_new(&f->config);
        add_tick(recorder, WALL0, 0);
        g_assert_false(vt_recorder_flush(recorder, WALL0, &error));
        g_assert_error(error, VT_RECORDER_ERROR, VT_RECORDER_ERROR_IO);
        g_assert_nonnull(strstr(error->message, dir));
        g_clear_error(&error);

        /* Paused: dropped quietly, no error again until the retry. */
        g_assert_true(vt_recorder_add_control(recorder, WALL0 + 1, 1, VT_RECORDER_CONTROL_PAUSE,
                                              NULL, 0, NULL));
        g_assert_true(vt_recorder_flush(recorder, WALL0 + 1, &error));
        vt_recorder_get_stats(recorder, &stats);
        g_assert_false(stats.recording);
        g_assert_cmpuint(stats.dropped, ==, 2);
        g_assert_cmpuint(stats.records, ==, 0);

        /* The retry: the directory can be made now. */
        g_assert_cmpint(g_unlink(file), ==, 0);
        add_tick(recorder, WALL0 + f->config.retry_us, 1);
        g_assert_true(vt_recorder_flush(recorder, WALL0 + f->config.retry_us, &error));
        g_assert_no_error(error);
        vt_recorder_get_stats(recorder, &stats);
        g_assert_true(stats.recording);
        g_assert_cmpuint(stats.records, ==, 1);
}

/* Mode 0555 stops writers that are not root. As root, the check runs in
 * a child that gives up root for nobody (65534) first, so that it is
 * proven here too instead of skipped. */
static void
read_only_check(Fixture *f)
{
        g_autoptr(VtRecorder) recorder = NULL;
        g_autoptr(GError) error = NULL;

        recorder = vt_recorder_new(&f->config);
        add_tick(recorder, WALL0, 0);
        g_assert_false(vt_recorder_flush(recorder, WALL0, &error));
        g_assert_error(error, VT_RECORDER_ERROR, VT_RECORDER_ERROR_IO);
        g_assert_nonnull(strstr(error->message, f->dir));
}

static void
test_read_only(Fixture *f, gconstpointer data)
{
        g_assert_cmpint(g_mkdir(f->dir, 0555), ==, 0);
        if (geteuid() != 0) {
                read_only_check(f);
        } else if (g_test_subprocess()) {
                g_assert_cmpint(setgid(65534), ==, 0);
                g_assert_cmpint(setuid(65534), ==, 0);
                read_only_check(f);
                /* nobody cannot tear down root's directory: the parent does. */
                _exit(0);
        } else {
                /* nobody must reach the directory to find it read-only. */
                g_assert_cmpint(g_chmod(f->tmp, 0755), ==, 0);
                g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
                g_test_trap_assert_passed();
        }
        g_chmod(f->dir, 0755);
}

/* In a private mount namespace, a 64 KiB tmpfs fills up: the flush that
 * fails says so, the segment ends on a whole record, nothing is damaged. */
static void
disk_full_child(Fixture *f)
{
        g_autoptr(VtRecorder) recorder = NULL;
        g_autoptr(GError) error = NULL;
        VtRecorderStats stats;
        ReadBack back;
        guint i;

        g_assert_cmpint(unshare(CLONE_NEWNS), ==, 0);
        g_assert_cmpint(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), ==, 0);
        g_assert_cmpint(mount("tmpfs", f->tmp, "tmpfs", 0, "size=64k"), ==, 0);
        recorder = vt_recorder_new(&f->config);
        add_policy(recorder, WALL0);
        for (i = 0; i < 10000; i++) {
                add_tick(recorder, WALL0 + i, i);
                if (!vt_recorder_flush(recorder, WALL0 + i, &error))
                        break;
        }
        g_assert_cmpuint(i, <, 10000);
        g_assert_error(error, VT_RECORDER_ERROR, VT_RECORDER_ERROR_IO);
        g_assert_nonnull(strstr(error->message, g_strerror(ENOSPC)));
        g_assert_nonnull(strstr(error->message, f->dir));
        vt_recorder_get_stats(recorder, &stats);
        g_assert_false(stats.recording);
        g_assert_cmpuint(stats.dropped, >=, 1);

        back = read_back(f->dir);
        g_assert_cmpuint(back.damage->len, ==, 0);
        g_assert_cmpuint(back.records->len, ==, stats.records);
        read_back_clear(&back);
        umount(f->tmp);
}

static void
test_disk_full(Fixture *f, gconstpointer data)
{
        const char *argv[] = {"unshare", "-m", "true", NULL};
        int status = -1;

        if (g_test_subprocess()) {
                disk_full_child(f);
                return;
        }
        if (!g_spawn_sync(NULL, (char **)argv, NULL,
                          G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                          &status, NULL) ||
            !g_spawn_check_wait_status(status, NULL)) {
                g_test_skip("no private mount namespace here (unshare -m) for a small tmpfs");
                return;
        }
        g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
        g_test_trap_assert_passed();
}

/* The buffer's bound: past it records are dropped and counted. */
static void
test_buffer_bound(Fixture *f, gconstpointer data)
{
        g_autoptr(VtRecorder) recorder = NULL;
        g_autoptr(GError) error = NULL;
        VtRecorderStats stats;
        guint kept = 0;

        f->config.buffer_bytes = 4096;
        recorder = vt_recorder_new(&f->config);
        for (guint i = 0; i < 100; i++)
                kept += vt_recorder_add_control(recorder, WALL0, 0, VT_RECORDER_CONTROL_HOLD,
                                                "a-guest", i, "held by hand at some size");
        g_assert_cmpuint(kept, >, 10);
        g_assert_cmpuint(kept, <, 100);
        g_assert_true(vt_recorder_flush(recorder, WALL0, &error));
        vt_recorder_get_stats(recorder, &stats);
        g_assert_cmpuint(stats.records, ==, kept);
        g_assert_cmpuint(stats.dropped, ==, 100 - kept);
}

static void
test_reader_paths(Fixture *f, gconstpointer data)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(VtRecorderReader) reader = vt_recorder_reader_new(f->dir, &error);
        g_autofree char *other = g_build_filename(f->dir, "notes.txt", NULL);
        ReadBack back;

        g_assert_null(reader);
        g_assert_error(error, VT_RECORDER_ERROR, VT_RECORDER_ERROR_IO);
        g_assert_nonnull(strstr(error->message, f->dir));

        /* Other files are not segments; an empty history reads empty. */
        g_assert_cmpint(g_mkdir(f->dir, 0755), ==, 0);
        g_assert_true(g_file_set_contents(other, "hello", -1, NULL));
        back = read_back(f->dir);
        g_assert_cmpuint(back.records->len, ==, 0);
        g_assert_cmpuint(back.damage->len, ==, 0);
        read_back_clear(&back);

        /* A file that is not a segment, read as one: named, not crashed on. */
        back = read_back(other);
        g_assert_cmpuint(back.damage->len, ==, 1);
        g_assert_error((GError *)g_ptr_array_index(back.damage, 0), VT_RECORDER_ERROR,
                       VT_RECORDER_ERROR_TRUNCATED);
        read_back_clear(&back);
}

/* Guests whose figures wander on a host whose free memory swings, so that
 * every policy gives, reclaims, skips and changes host state. */
static void
simulate_step(GRand *rand, VtBalloonHost *host, VtBalloonGuest *guests, guint n, gint64 now_us)
{
        host->mem_available = (guint64)g_rand_int_range(rand, 1, 12) << 30;
        host->psi_some_avg10 =
            g_rand_int_range(rand, 0, 4) == 0 ? g_rand_double_range(rand, 0, 30) : 0;
        host->swap_in_per_s = g_rand_double_range(rand, 0, 5);
        for (guint i = 0; i < n; i++) {
                VtBalloonGuest *g = &guests[i];
                gint64 avail =
                    (gint64)g->agent_mem_available + g_rand_int_range(rand, -(64 << 20), 64 << 20);

                g->agent_mem_available = (guint64)CLAMP(avail, 16 << 20, (gint64)g->actual_bytes);
                g->stats_available = g->agent_mem_available;
                g->agent_psi_some_avg10 =
                    g_rand_int_range(rand, 0, 5) == 0 ? g_rand_double_range(rand, 0, 40) : 0;
                g->agent_age_us = g_rand_int_range(rand, 0, 3000000);
                g->stats_age_us = g_rand_int_range(rand, 0, 3000000);
                g->flags = VT_BALLOON_GUEST_HAS_BALLOON | VT_BALLOON_GUEST_HAS_STATS |
                           VT_BALLOON_GUEST_HAS_AGENT |
                           (g_rand_int_range(rand, 0, 6) == 0 ? VT_BALLOON_GUEST_PRESSURE_PUSH : 0);
        }
        (void)now_us;
}

/* Records a run of @policy_name, then runs the same policy again on the
 * recorded inputs alone: every decision comes back identical (open loop). */
static void
test_replay_open_loop(Fixture *f, gconstpointer data)
{
        const char *policy_name = data;
        const VtBalloonPolicyInfo *policy = vt_balloon_registry_lookup(policy_name);
        g_autoptr(VtRecorder) recorder = vt_recorder_new(&f->config);
        g_autoptr(GError) error = NULL;
        g_autoptr(GRand) rand = g_rand_new_with_seed(13);
        VtBalloonHost host = {.mem_total = G_GUINT64_CONSTANT(16) << 30,
                              .budget_limit = G_GUINT64_CONSTANT(12) << 30};
        VtBalloonGuest guests[4];
        VtBalloonGuestConfig configs[4] = {
            {0}, {.min_bytes = 1 << 30}, {.shares = 3000}, {.held = TRUE, .held_bytes = 2u << 30}};
        VtBalloonTarget targets[4];
        VtBalloonState state = {0};
        VtBalloonConfig config;
        const char *names[] = {"a", "b", "c", "d"};
        VtRecorderRecord *policy_record = NULL;
        guint n_ticks = 0, n_moves = 0;
        ReadBack back;

        g_assert_nonnull(policy);
        vt_balloon_config_init(&config);
        config.psi_short = 7.3; /* not a default: the recorded one must be used */
        for (guint i = 0; i < 4; i++)
                guests[i] = (VtBalloonGuest){.name = names[i],
                                             .max_bytes = G_GUINT64_CONSTANT(4) << 30,
                                             .actual_bytes = G_GUINT64_CONSTANT(4) << 30,
                                             .stats_total = G_GUINT64_CONSTANT(4) << 30,
                                             .agent_mem_total = G_GUINT64_CONSTANT(4) << 30,
                                             .agent_mem_available = 1u << 30};
        for (guint t = 0; t < 300; t++) {
                gint64 now_us = 5000000 + (gint64)t * 2000000;
                VtBalloonState before = state;
                VtBalloonDecision decision = {.targets = targets};
                VtBalloonInput input = {.host = &host,
                                        .guests = guests,
                                        .configs = configs,
                                        .n_guests = 4,
                                        .now_us = now_us,
                                        .paused = t % 50 == 49};

                simulate_step(rand, &host, guests, 4, now_us);
                vt_balloon_decide(policy->decide, &input, &config, &state, &decision);
                vt_recorder_add_policy(recorder, WALL0 + now_us, now_us, policy_name, &config);
                vt_recorder_add_tick(recorder, WALL0 + now_us, NULL, &input, &before, &decision);
                for (guint i = 0; i < 4; i++) {
                        guests[i].flags &= ~VT_BALLOON_GUEST_PRESSURE_PUSH;
                        if (targets[i].action != VT_BALLOON_ACTION_GIVE &&
                            targets[i].action != VT_BALLOON_ACTION_RECLAIM)
                                continue;
                        guests[i].actual_bytes = targets[i].target_bytes;
                        guests[i].target_bytes = targets[i].target_bytes;
                        guests[i].last_change_us = now_us;
                        n_moves++;
                }
                g_assert_true(vt_recorder_flush(recorder, WALL0 + now_us, &error));
        }
        g_assert_cmpuint(n_moves, >, 10);

        back = read_back(f->dir);
        g_assert_cmpuint(back.damage->len, ==, 0);
        for (guint r = 0; r < back.records->len; r++) {
                VtRecorderRecord *record = g_ptr_array_index(back.records, r);
                const VtRecorderTick *tick = &record->u.tick;
                VtBalloonTarget again[4];
                VtBalloonDecision decision = {.targets = again};
                VtBalloonState replay_state;
                VtBalloonInput input;

                if (record->type == VT_RECORDER_RECORD_POLICY) {
                        policy_record = record;
                        continue;
                }
                g_assert_nonnull(policy_record);
                g_assert_cmpstr(policy_record->u.policy.name, ==, policy_name);
                replay_state = tick->state;
                vt_recorder_tick_get_input(tick, record->mono_us, &input);
                vt_balloon_decide(vt_balloon_registry_lookup(policy_record->u.policy.name)->decide,
                                  &input, &policy_record->u.policy.config, &replay_state,
                                  &decision);
                g_assert_cmpint(decision.host_state, ==, tick->decision.host_state);
                g_assert_cmpint(decision.host_free, ==, tick->decision.host_free);
                g_assert_cmpstr(decision.reason, ==, tick->decision.reason);
                for (guint i = 0; i < tick->n_guests; i++) {
                        const VtBalloonTarget *want = &tick->decision.targets[i];

                        g_assert_cmpint(again[i].action, ==, want->action);
                        g_assert_cmpuint(again[i].target_bytes, ==, want->target_bytes);
                        g_assert_cmpuint(again[i].want_bytes, ==, want->want_bytes);
                        g_assert_cmpstr(again[i].reason, ==, want->reason);
                }
                /* The state it leaves is the next tick's "before". */
                if (r + 1 < back.records->len) {
                        VtRecorderRecord *next = g_ptr_array_index(back.records, r + 1);

                        g_assert_cmpmem(&replay_state, sizeof(replay_state), &next->u.tick.state,
                                        sizeof(next->u.tick.state));
                }
                n_ticks++;
        }
        g_assert_cmpuint(n_ticks, ==, 300);
        read_back_clear(&back);
}

/* A KSM step read from a fixture sysfs, recorded through the daemon's hook. */
static void
test_ksm_hook(Fixture *f, gconstpointer data)
{
        g_autoptr(VtRecorder) recorder = vt_recorder_new(&f->config);
        g_autoptr(GError) error = NULL;
        g_autofree char *sysfs = g_build_filename(f->tmp, "ksm", NULL);
        g_autoptr(VtKsmStep) step = NULL;
        VtKsmTunerConfig tuner;
        VtKsmHost host = {.mem_total = 16u << 30, .mem_available = 1u << 30, .n_cpus = 4};
        VtKsmStepGuest guests[] = {{.name = "g0", .mergeable_bytes = 1u << 30},
                                   {.name = "g1", .mergeable_bytes = 2u << 30, .opt_out = TRUE}};
        static const char *const knobs[][2] = {
            {"run", "0"},
            {"pages_to_scan", "100"},
            {"sleep_millisecs", "20"},
            {"pages_shared", "10"},
            {"pages_sharing", "40"},
            {"pages_unshared", "5"},
            {"pages_volatile", "1"},
            {"full_scans", "3"},
            {"merge_across_nodes", "1"},
        };
        gboolean changed;
        ReadBack back;
        VtRecorderRecord *r;

        g_assert_cmpint(g_mkdir_with_parents(sysfs, 0755), ==, 0);
        for (guint i = 0; i < G_N_ELEMENTS(knobs); i++) {
                g_autofree char *path = g_build_filename(sysfs, knobs[i][0], NULL);

                g_assert_true(g_file_set_contents(path, knobs[i][1], -1, &error));
        }
        vt_ksm_tuner_config_init(&tuner);
        step = vt_ksm_step_new(sysfs, f->tmp, vt_ksm_tuner_decide, &tuner, &error);
        g_assert_no_error(error);
        /* The knobs are the fixture's files: the decision is written there. */
        g_assert_true(vt_ksm_step_run(step, &host, guests, 2, TRUE, &changed, &error));
        g_assert_no_error(error);
        g_assert_nonnull(vt_ksm_step_get_decision(step));
        g_assert_true(vt_recorder_add_ksm_step(recorder, WALL0, 7, &host, guests, 2, step, TRUE));
        g_assert_true(vt_recorder_flush(recorder, WALL0, &error));

        back = read_back(f->dir);
        g_assert_cmpuint(back.records->len, ==, 1);
        r = g_ptr_array_index(back.records, 0);
        g_assert_cmpint(r->type, ==, VT_RECORDER_RECORD_KSM);
        g_assert_cmpuint(r->u.ksm.host.mem_available, ==, 1u << 30);
        g_assert_cmpuint(r->u.ksm.sample.pages_sharing, ==, 40);
        g_assert_cmpuint(r->u.ksm.sample.full_scans, ==, 3);
        g_assert_cmpstr(r->u.ksm.decision.reason, ==, vt_ksm_step_get_decision(step)->reason);
        g_assert_true(r->u.ksm.applied);
        g_assert_cmpuint(r->u.ksm.n_guests, ==, 2);
        g_assert_cmpstr(r->u.ksm.names[1], ==, "g1");
        g_assert_true(r->u.ksm.guests[1].opt_out);
        g_assert_cmpuint(r->u.ksm.guests[1].mergeable_bytes, ==, 2u << 30);
        read_back_clear(&back);
}

#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        ADD("/recorder/history/round-trip", test_round_trip);
        ADD("/recorder/history/truncated-tail", test_truncated_tail);
        ADD("/recorder/history/corrupt-middle", test_corrupt_middle);
        ADD("/recorder/history/rotation-size", test_rotation_size);
        ADD("/recorder/history/rotation-age", test_rotation_age);
        ADD("/recorder/history/unwritable", test_unwritable);
        ADD("/recorder/history/read-only", test_read_only);
        ADD("/recorder/history/disk-full", test_disk_full);
        ADD("/recorder/history/buffer-bound", test_buffer_bound);
        ADD("/recorder/history/reader-paths", test_reader_paths);
        ADD("/recorder/history/ksm-hook", test_ksm_hook);
        for (guint i = 0; i < 3; i++) {
                static const char *const policies[] = {"vmtide", "mom", "proxmox"};
                g_autofree char *path =
                    g_strdup_printf("/recorder/history/replay-open-loop/%s", policies[i]);

                g_test_add(path, Fixture, policies[i], fixture_setup, test_replay_open_loop,
                           fixture_teardown);
        }
        return g_test_run();
}
