/* The instruction sets this CPU offers the kernels that have several
 * builds (the biquad cascade, the sample converter, the level pass).
 * Internal to the library. */
#ifndef RUSTYAUDIO_CPU_H
#define RUSTYAUDIO_CPU_H

#if defined(__x86_64__)
#define RA_HAVE_X86 1
#include <immintrin.h>
#if __has_include(<sys/platform/x86.h>)
#include <sys/platform/x86.h>
#endif
#endif

enum ra_isa { RA_ISA_SCALAR, RA_ISA_AVX2, RA_ISA_AVX512 };

/* The name a kernel built for ISA goes by: "avx512f", "avx2", "scalar". */
static inline const char *ra_isa_name(enum ra_isa isa)
{
	return isa == RA_ISA_AVX512 ? "avx512f" : isa == RA_ISA_AVX2 ? "avx2" : "scalar";
}

#ifdef RA_HAVE_X86
/* glibc's view of the CPU, where there is one, honours
 * GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX512F,-AVX2,-FMA: an administrator can
 * turn a kernel off, and the tests reach every kernel on one machine. */
static inline int ra_cpu_has_fma(void)
{
#ifdef CPU_FEATURE_ACTIVE
	return CPU_FEATURE_ACTIVE(FMA);
#else
	__builtin_cpu_init();
	return __builtin_cpu_supports("fma");
#endif
}

/* AVX512VL, the 256-bit AVX-512 operations: asked of GCC, as it is bit
 * 31 of its word and glibc's CPU_FEATURE_ACTIVE() shifts an int that far,
 * which UBSan rejects. Only AVX-512 kernels ask, so turning AVX512F off
 * still turns them off. */
static inline int ra_cpu_has_avx512vl(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512vl");
}

/* AVX2 counts only with FMA, which every CPU that has it has too. */
static inline enum ra_isa ra_cpu_isa(void)
{
#ifdef CPU_FEATURE_ACTIVE
	if (CPU_FEATURE_ACTIVE(AVX512F))
		return RA_ISA_AVX512;
	if (CPU_FEATURE_ACTIVE(AVX2) && CPU_FEATURE_ACTIVE(FMA))
		return RA_ISA_AVX2;
#else
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f"))
		return RA_ISA_AVX512;
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return RA_ISA_AVX2;
#endif
	return RA_ISA_SCALAR;
}
#else
static inline enum ra_isa ra_cpu_isa(void)
{
	return RA_ISA_SCALAR;
}
#endif

/* Of a kernel's builds, the one for ISA; where there is no x86, only the
 * baseline build exists (and the others are not named). */
#ifdef RA_HAVE_X86
#define RA_CPU_PICK(isa, generic, avx2, avx512)                                                    \
	((isa) == RA_ISA_AVX512 ? (avx512) : (isa) == RA_ISA_AVX2 ? (avx2) : (generic))
#else
#define RA_CPU_PICK(isa, generic, avx2, avx512) (generic)
#endif

#endif
