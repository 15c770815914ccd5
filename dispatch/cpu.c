/*
 * CPU feature detection and the ISA cap.
 *
 * Detection runs once (pthread_once): on x86-64, CPUID for the instructions
 * and XGETBV for the register state the OS saves (a CPU with AVX-512 under an
 * OS that does not save zmm state must not run zmm code); on AArch64 Linux,
 * getauxval(AT_HWCAP). Only ISAs built into this library (TCONV_HAVE_*) count.
 *
 * The cap starts from TCONV_ISA and is changed by tconv_set_max_isa(); plans
 * read the ISA in use when they are created.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/error.h"
#include "tconv.h"

#if defined(__x86_64__) || defined(_M_X64)
#define TCONV_X86 1
#include <cpuid.h>
#elif defined(__aarch64__)
#define TCONV_ARM64 1
#if defined(__linux__)
#include <sys/auxv.h>
#endif
#endif

static pthread_once_t detect_once = PTHREAD_ONCE_INIT;
static tconv_isa detected = TCONV_ISA_SCALAR;
/* The cap, as a tconv_isa, or NO_CAP. */
#define NO_CAP (-1)
static _Atomic int cap = NO_CAP;

#if TCONV_X86
static uint64_t xgetbv0(void)
{
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

static tconv_isa detect_x86(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return TCONV_ISA_SCALAR;
    const int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
    if (!osxsave || !avx || !fma) return TCONV_ISA_SCALAR;
    const uint64_t xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return TCONV_ISA_SCALAR; /* xmm and ymm state saved */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return TCONV_ISA_SCALAR;
    const int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1;
    if (!avx2) return TCONV_ISA_SCALAR;
    /* opmask, upper halves of zmm0-15 and zmm16-31 saved */
    if (avx512f && (xcr0 & 0xe0) == 0xe0) return TCONV_ISA_AVX512;
    return TCONV_ISA_AVX2;
}
#endif

static tconv_isa built_best(tconv_isa cpu)
{
    /* Lower the CPU's ISA to the best one compiled into this library. */
#if !TCONV_HAVE_AVX512
    if (cpu == TCONV_ISA_AVX512) cpu = TCONV_ISA_AVX2;
#endif
#if !TCONV_HAVE_AVX2
    if (cpu == TCONV_ISA_AVX2) cpu = TCONV_ISA_SCALAR;
#endif
#if !TCONV_HAVE_NEON
    if (cpu == TCONV_ISA_NEON) cpu = TCONV_ISA_SCALAR;
#endif
    return cpu;
}

static int parse_isa(const char *s, tconv_isa *isa)
{
    static const struct { const char *name; tconv_isa isa; } names[] = {
        {"scalar", TCONV_ISA_SCALAR}, {"avx2", TCONV_ISA_AVX2},
        {"avx512", TCONV_ISA_AVX512}, {"neon", TCONV_ISA_NEON}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0) {
            *isa = names[i].isa;
            return 1;
        }
    return 0;
}

/* Whether new plans may use isa on this CPU: SCALAR always; otherwise isa
 * must lie on the detected ISA's path (SCALAR < AVX2 < AVX512, or
 * SCALAR < NEON) at or below it. */
static int isa_available(tconv_isa isa)
{
    if (isa == TCONV_ISA_SCALAR) return 1;
    if (detected == TCONV_ISA_NEON) return isa == TCONV_ISA_NEON;
    return (isa == TCONV_ISA_AVX2 || isa == TCONV_ISA_AVX512) && isa <= detected &&
           detected != TCONV_ISA_SCALAR;
}

static void detect(void)
{
    tconv_isa cpu = TCONV_ISA_SCALAR;
#if TCONV_X86
    cpu = detect_x86();
#elif TCONV_ARM64 && defined(__linux__) && defined(HWCAP_ASIMD)
    if (getauxval(AT_HWCAP) & HWCAP_ASIMD) cpu = TCONV_ISA_NEON;
#elif TCONV_ARM64
    cpu = TCONV_ISA_NEON; /* Advanced SIMD is mandatory in AArch64 */
#endif
    detected = built_best(cpu);

    const char *env = getenv("TCONV_ISA");
    if (!env || !*env) return;
    tconv_isa want;
    if (!parse_isa(env, &want)) {
        fprintf(stderr, "tconv: warning: TCONV_ISA=%s is not scalar, avx2, avx512 or neon; "
                        "ignored, using %s\n", env, tconv_isa_name(detected));
    } else if (!isa_available(want)) {
        fprintf(stderr, "tconv: warning: TCONV_ISA=%s is not available on this CPU or build; "
                        "using %s\n", env, tconv_isa_name(detected));
    } else {
        atomic_store(&cap, (int)want);
    }
}

tconv_isa tconv_cpu_isa(void)
{
    pthread_once(&detect_once, detect);
    return detected;
}

const char *tconv_isa_name(tconv_isa isa)
{
    switch (isa) {
    case TCONV_ISA_SCALAR: return "scalar";
    case TCONV_ISA_AVX2: return "avx2";
    case TCONV_ISA_AVX512: return "avx512";
    case TCONV_ISA_NEON: return "neon";
    }
    return "unknown";
}

tconv_status tconv_set_max_isa(tconv_isa isa)
{
    pthread_once(&detect_once, detect);
    if ((int)isa < TCONV_ISA_SCALAR || (int)isa > TCONV_ISA_NEON)
        return tconv_fail(TCONV_EINVAL, "isa (%d) is not a tconv_isa", (int)isa);
    if (!isa_available(isa))
        return tconv_fail(TCONV_EUNSUPPORTED,
                          "isa (%d, %s) is not available: this CPU and build support up to %s",
                          (int)isa, tconv_isa_name(isa), tconv_isa_name(detected));
    atomic_store(&cap, (int)isa);
    return TCONV_OK;
}

tconv_isa tconv_get_isa(void)
{
    pthread_once(&detect_once, detect);
    /* A cap is always an available ISA (set_max_isa and detect check), so it
     * lies on the detected ISA's path at or below it. */
    const int c = atomic_load(&cap);
    return c == NO_CAP ? detected : (tconv_isa)c;
}
