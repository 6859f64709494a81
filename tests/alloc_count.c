/* The tests' heap-allocation counter (testutil.h): counts every heap
 * allocation the process makes while counting is on, on every thread, to
 * prove that a code path allocates nothing; plain builds can also make the
 * next ones fail. malloc takes no context, so its state is global.
 *
 * Plain builds replace the allocator: the program defines malloc, calloc,
 * realloc, free, posix_memalign, aligned_alloc and memalign, which the
 * dynamic linker binds in preference to libc's for the whole process (the
 * library, libc and libcheck included); each counts and forwards to glibc's
 * exported entry points (__libc_malloc and friends), so every block still
 * comes from and returns to the one glibc heap.
 *
 * Sanitizer builds must not replace malloc: ASan and TSan interpose it
 * themselves, and a block from one allocator freed by the other corrupts
 * both. Under ASan the runtime's malloc hook counts instead (it sees every
 * allocation, aligned ones included); failures cannot be injected there.
 * TSan (GCC 12) runs the hook for malloc, calloc and realloc but not for
 * posix_memalign or aligned_alloc, so it would miss the very allocations
 * the pools make: TSan builds count nothing, and the tests that count are
 * left out there (RA_TEST_ALLOC_COUNTED). */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "testutil.h"

#ifdef RA_TEST_ALLOC_COUNTED
static atomic_bool counting;
static atomic_ulong count;
static atomic_int failures; /* the next this many allocations fail */

/* Note one allocation; true when it is to fail. */
static bool alloc_seen(void)
{
	int fail;

	if (!atomic_load_explicit(&counting, memory_order_relaxed))
		return false;
	atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
	fail = atomic_load_explicit(&failures, memory_order_relaxed);
	while (fail > 0 &&
	       !atomic_compare_exchange_weak_explicit(&failures, &fail, fail - 1,
						      memory_order_relaxed, memory_order_relaxed))
		;
	return fail > 0;
}

#ifndef RA_TEST_ALLOC_FAILABLE
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
					      void (*free_hook)(const volatile void *));

static void count_malloc(const volatile void *ptr, size_t size)
{
	(void)ptr;
	(void)size;
	alloc_seen();
}

static void count_free(const volatile void *ptr)
{
	(void)ptr;
}

static void install(void)
{
	static bool installed;

	if (!installed)
		installed =
			__sanitizer_install_malloc_and_free_hooks(count_malloc, count_free) != 0;
}
#else
void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *ptr, size_t size);
void __libc_free(void *ptr);
void *__libc_memalign(size_t align, size_t size);
void *memalign(size_t align, size_t size);

void *malloc(size_t size)
{
	return alloc_seen() ? NULL : __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	return alloc_seen() ? NULL : __libc_calloc(n, size);
}

void *realloc(void *ptr, size_t size)
{
	return alloc_seen() ? NULL : __libc_realloc(ptr, size);
}

void free(void *ptr)
{
	__libc_free(ptr);
}

void *memalign(size_t align, size_t size)
{
	return alloc_seen() ? NULL : __libc_memalign(align, size);
}

void *aligned_alloc(size_t align, size_t size)
{
	return alloc_seen() ? NULL : __libc_memalign(align, size);
}

int posix_memalign(void **out, size_t align, size_t size)
{
	void *ptr;

	if (!align || align % sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	if (alloc_seen())
		return ENOMEM;
	ptr = __libc_memalign(align, size);
	if (!ptr)
		return ENOMEM;
	*out = ptr;
	return 0;
}

static void install(void)
{
}
#endif

void ra_test_alloc_start(int fail)
{
	install();
	atomic_store(&count, 0);
	atomic_store(&failures, fail);
	atomic_store(&counting, true);
}

unsigned long ra_test_alloc_stop(void)
{
	atomic_store(&counting, false);
	atomic_store(&failures, 0);
	return atomic_load(&count);
}
#else
void ra_test_alloc_start(int fail)
{
	(void)fail;
}

unsigned long ra_test_alloc_stop(void)
{
	return 0;
}
#endif
