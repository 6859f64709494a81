/* Unit tests for the lane: items run once each, in post order, on the
 * lane's thread (or the caller's inline); a failure reaches every later
 * item and the poster, and is forgotten after wait; destroy runs what is
 * queued. Nothing here depends on how fast either thread runs. */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>

#include "rustyaudio/lane.h"
#include "testutil.h"

#define ITEMS 20000

/* What the items of one test record. Only the lane's thread writes it
 * while items run; the test reads it after wait or destroy. */
typedef struct record {
	pthread_t caller;
	int order[2 * ITEMS]; /* item index in the order they ran */
	int ran;
	int off_caller;		   /* items that ran on another thread than the caller */
	int fail_at;		   /* the item that fails, or -1 */
	ra_status seen[2 * ITEMS]; /* the SO_FAR each item was given */
} record;

static ra_status note(void *ctx, void *item, size_t len, ra_status so_far)
{
	record *r = ctx;
	int i = (int)(intptr_t)item;

	ck_assert_uint_eq(len, (size_t)i * 3);

	r->seen[r->ran] = so_far;
	r->order[r->ran++] = i;
	r->off_caller += !pthread_equal(pthread_self(), r->caller);
	return i == r->fail_at ? RA_ERR_WRITE : RA_OK;
}

static record *record_new(void)
{
	record *r = calloc(1, sizeof(*r));

	ck_assert_ptr_nonnull(r);
	r->caller = pthread_self();
	r->fail_at = -1;
	return r;
}

static ra_lane *lane_new(int threaded, size_t depth)
{
	ra_status st = RA_ERR_INVALID;
	ra_lane *l = ra_lane_create(threaded, depth, &st, NULL);

	ck_assert_int_eq(st, RA_OK);
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(ra_lane_threaded(l), threaded);
	return l;
}

static void post_range(ra_lane *l, record *r, int from, int to)
{
	for (int i = from; i < to; i++)
		ra_lane_post(l, note, r, (void *)(intptr_t)i, (size_t)i * 3);
}

static void assert_in_order(const record *r, int n)
{
	ck_assert_int_eq(r->ran, n);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(r->order[i], i);
}

START_TEST(test_threaded_runs_in_order_off_the_caller)
{
	static const size_t depths[] = { 1, 2, 7, RA_LANE_DEPTH_MAX };

	for (size_t d = 0; d < sizeof(depths) / sizeof(depths[0]); d++) {
		ra_lane *l = lane_new(1, depths[d]);
		record *r = record_new();
		ra_lane_stats stats;

		post_range(l, r, 0, ITEMS);
		ck_assert_int_eq(ra_lane_wait(l), RA_OK);
		assert_in_order(r, ITEMS);
		ck_assert_int_eq(r->off_caller, ITEMS);
		ra_lane_get_stats(l, &stats);
		ck_assert_uint_eq(stats.items, ITEMS);
		/* A second stream on the same lane carries on in order. */
		post_range(l, r, ITEMS / 2, ITEMS);
		ck_assert_int_eq(ra_lane_wait(l), RA_OK);
		ck_assert_int_eq(r->ran, ITEMS + ITEMS / 2);
		for (int i = 0; i < ITEMS / 2; i++)
			ck_assert_int_eq(r->order[ITEMS + i], ITEMS / 2 + i);
		ra_lane_destroy(l);
		free(r);
	}
}
END_TEST

START_TEST(test_inline_runs_at_post_on_the_caller)
{
	ra_lane *l = lane_new(0, 4);
	record *r = record_new();

	for (int i = 0; i < 100; i++) {
		ra_lane_post(l, note, r, (void *)(intptr_t)i, (size_t)i * 3);
		ck_assert_int_eq(r->ran, i + 1); /* already run */
	}
	ck_assert_int_eq(ra_lane_wait(l), RA_OK);
	assert_in_order(r, 100);
	ck_assert_int_eq(r->off_caller, 0);
	ra_lane_destroy(l);
	free(r);
}
END_TEST

/* Item 10 fails: every later item is told so, every item still runs, wait
 * returns the failure once and the next stream starts clean. */
static void check_failure(int threaded)
{
	ra_lane *l = lane_new(threaded, 3);
	record *r = record_new();

	r->fail_at = 10;
	post_range(l, r, 0, 50);
	ck_assert_int_eq(ra_lane_wait(l), RA_ERR_WRITE);
	assert_in_order(r, 50);
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(r->seen[i], i <= 10 ? RA_OK : RA_ERR_WRITE);
	r->fail_at = -1;
	post_range(l, r, 50, 60);
	ck_assert_int_eq(ra_lane_wait(l), RA_OK);
	ck_assert_int_eq(r->seen[55], RA_OK);
	ra_lane_destroy(l);
	free(r);
}

START_TEST(test_failure_reaches_later_items_threaded)
{
	check_failure(1);
}
END_TEST

START_TEST(test_failure_reaches_later_items_inline)
{
	check_failure(0);
}
END_TEST

/* With a queue of one, the third post can only enqueue once the second
 * item left the queue, so after the first (failing) item ran: that post
 * must report the failure, whatever the threads' speeds. */
START_TEST(test_post_reports_an_earlier_failure)
{
	ra_lane *l = lane_new(1, 1);
	record *r = record_new();

	r->fail_at = 0;
	ra_lane_post(l, note, r, (void *)(intptr_t)0, (size_t)0 * 3);
	ra_lane_post(l, note, r, (void *)(intptr_t)1, (size_t)1 * 3);
	ck_assert_int_eq(ra_lane_post(l, note, r, (void *)(intptr_t)2, (size_t)2 * 3),
			 RA_ERR_WRITE);
	ck_assert_int_eq(ra_lane_wait(l), RA_ERR_WRITE);
	assert_in_order(r, 3);
	ra_lane_destroy(l);
	free(r);
}
END_TEST

START_TEST(test_destroy_runs_what_is_queued)
{
	ra_lane *l = lane_new(1, RA_LANE_DEPTH_MAX);
	record *r = record_new();

	post_range(l, r, 0, RA_LANE_DEPTH_MAX);
	ra_lane_destroy(l);
	assert_in_order(r, RA_LANE_DEPTH_MAX);
	free(r);
}
END_TEST

/* An item that holds the lane's thread until the test lets it go. */
typedef struct gate {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	int started, open;
} gate;

static ra_status hold(void *ctx, void *item, size_t len, ra_status so_far)
{
	gate *g = ctx;

	(void)item;
	(void)len;
	pthread_mutex_lock(&g->lock);
	g->started = 1;
	pthread_cond_broadcast(&g->changed);
	while (!g->open)
		pthread_cond_wait(&g->changed, &g->lock);
	pthread_mutex_unlock(&g->lock);
	return so_far;
}

/* ra_lane_try_post queues only where a post would not wait: with the
 * lane's thread held by its first item, a queue of two takes two more
 * items and refuses a third (which never runs); an inline lane runs each
 * at once. */
START_TEST(test_try_post_refuses_when_a_post_would_wait)
{
	gate g = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };
	ra_lane *l = lane_new(1, 2);
	ra_lane_stats stats;
	ra_status st = RA_ERR_INVALID;

	ck_assert_int_eq(ra_lane_try_post(l, hold, &g, NULL, 0, &st), 1);
	ck_assert_int_eq(st, RA_OK);
	pthread_mutex_lock(&g.lock);
	while (!g.started)
		pthread_cond_wait(&g.changed, &g.lock);
	pthread_mutex_unlock(&g.lock);
	ck_assert_int_eq(ra_lane_try_post(l, hold, &g, NULL, 0, &st), 1);
	ck_assert_int_eq(ra_lane_try_post(l, hold, &g, NULL, 0, &st), 1);
	ck_assert_int_eq(ra_lane_try_post(l, hold, &g, NULL, 0, &st), 0);
	pthread_mutex_lock(&g.lock);
	g.open = 1;
	pthread_cond_broadcast(&g.changed);
	pthread_mutex_unlock(&g.lock);
	ck_assert_int_eq(ra_lane_wait(l), RA_OK);
	ra_lane_get_stats(l, &stats);
	ck_assert_uint_eq(stats.items, 3);
	ck_assert_int_eq(ra_lane_try_post(l, hold, &g, NULL, 0, &st), 1);
	ra_lane_destroy(l);

	l = lane_new(0, 1);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(ra_lane_try_post(l, hold, &g, NULL, 0, &st), 1);
	ra_lane_get_stats(l, &stats);
	ck_assert_uint_eq(stats.items, 3);
	ra_lane_destroy(l);
}
END_TEST

START_TEST(test_create_rejects_and_destroy_null)
{
	ra_status st = RA_OK;
	ra_diag diag = { "" };

	ck_assert_ptr_null(ra_lane_create(1, 0, &st, &diag));
	ck_assert_int_eq(st, RA_ERR_INVALID);
	ck_assert_str_ne(diag.text, "");
	ck_assert_ptr_null(ra_lane_create(0, RA_LANE_DEPTH_MAX + 1, NULL, NULL));
	ra_lane_destroy(NULL);
}
END_TEST

static Suite *lane_suite(void)
{
	Suite *s = suite_create("lane");
	TCase *tc = tcase_create("lane");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_threaded_runs_in_order_off_the_caller);
	tcase_add_test(tc, test_inline_runs_at_post_on_the_caller);
	tcase_add_test(tc, test_failure_reaches_later_items_threaded);
	tcase_add_test(tc, test_failure_reaches_later_items_inline);
	tcase_add_test(tc, test_post_reports_an_earlier_failure);
	tcase_add_test(tc, test_destroy_runs_what_is_queued);
	tcase_add_test(tc, test_try_post_refuses_when_a_post_would_wait);
	tcase_add_test(tc, test_create_rejects_and_destroy_null);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ra_test_main(lane_suite());
}
