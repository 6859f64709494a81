#include <stdatomic.h>
#include <stddef.h>

#include "testutil.h"

/* The counting allocator of the tests (testutil.h): every malloc-family
 * call of the program, on any thread, is counted while `counting` is set. */
static atomic_int counting;
static atomic_long allocations;

static void count_one(void)
{
	if (atomic_load(&counting))
		atomic_fetch_add(&allocations, 1);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
/* ASan and TSan replace the allocator; they tell hooks of every allocation
 * instead (sanitizer/allocator_interface.h, not shipped with GCC). */
int __sanitizer_install_malloc_and_free_hooks(void (*on_malloc)(const volatile void *, size_t),
					      void (*on_free)(const volatile void *));

static void on_malloc(const volatile void *p, size_t n)
{
	(void)p;
	(void)n;
	count_one();
}

static void on_free(const volatile void *p)
{
	(void)p;
}

static void install_counter(void)
{
	static int installed;

	if (!installed)
		installed = __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free) != 0;
}
#else
/* Elsewhere this program's malloc family comes first and forwards to glibc's
 * own entry points (__libc_*). */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

void *malloc(size_t n)
{
	count_one();
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	count_one();
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	count_one();
	return __libc_realloc(p, n);
}

int posix_memalign(void **p, size_t align, size_t n)
{
	count_one();
	*p = __libc_memalign(align, n);
	return *p ? 0 : 12; /* ENOMEM */
}

void *aligned_alloc(size_t align, size_t n)
{
	count_one();
	return __libc_memalign(align, n);
}

static void install_counter(void)
{
	/* Nothing to do: the functions above are this program's allocator. */
}
#endif

void ra_test_count_allocations(int on)
{
	install_counter();
	if (on)
		atomic_store(&allocations, 0);
	atomic_store(&counting, on);
}

long ra_test_allocations(void)
{
	return atomic_load(&allocations);
}
