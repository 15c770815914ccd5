/*
 * The part of Criterion's API that tests/test_threads.c uses, for the one
 * build where Criterion cannot run: ThreadSanitizer. (Criterion's BoxFort
 * maps its inheritable arena at an address TSan's shadow memory owns, and
 * fails with "Could not initialize inheritable arena".) Tests register
 * themselves at start-up; main runs each in a child process of its own, as
 * Criterion does, and ends with "N passed, N failed". A failed assertion
 * prints its condition and message and ends that test's process.
 */
#ifndef TCONV_MINI_CRITERION_H
#define TCONV_MINI_CRITERION_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct mini_test {
    const char *name;
    void (*fn)(void);
} mini_test;

static mini_test mini_tests[64];
static int mini_count;

static void mini_register(const char *name, void (*fn)(void))
{
    if (mini_count < 64) mini_tests[mini_count++] = (mini_test){name, fn};
}

/* Test(suite, name, .timeout = ...): the options are Criterion's; here a
 * test's time is bounded by the caller's timeout instead. */
#define Test(suite, name, ...)                                                                   \
    static void suite##_##name(void);                                                            \
    __attribute__((constructor)) static void mini_register_##suite##_##name(void)                \
    {                                                                                            \
        mini_register(#suite "::" #name, suite##_##name);                                        \
    }                                                                                            \
    static void suite##_##name(void)

#define cr_assert(cond, ...)                                                                     \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "%s:%d: assertion failed: %s\n  ", __FILE__, __LINE__, #cond);       \
            fprintf(stderr, " " __VA_ARGS__);                                                    \
            fprintf(stderr, "\n");                                                               \
            exit(1);                                                                             \
        }                                                                                        \
    } while (0)
#define cr_assert_eq(a, b, ...) cr_assert((a) == (b), __VA_ARGS__)
#define cr_assert_neq(a, b, ...) cr_assert((a) != (b), __VA_ARGS__)
#define cr_assert_gt(a, b, ...) cr_assert((a) > (b), __VA_ARGS__)
#define cr_assert_geq(a, b, ...) cr_assert((a) >= (b), __VA_ARGS__)
#define cr_assert_leq(a, b, ...) cr_assert((a) <= (b), __VA_ARGS__)

/* Arguments: --skip NAME (repeatable) leaves a test out, saying so. */
int main(int argc, char **argv)
{
    int passed = 0, failed = 0, skipped = 0;
    for (int i = 0; i < mini_count; i++) {
        int skip = 0;
        for (int a = 1; a + 1 < argc; a++)
            if (strcmp(argv[a], "--skip") == 0 && strcmp(argv[a + 1], mini_tests[i].name) == 0)
                skip = 1;
        if (skip) {
            printf("[SKIP] %s (--skip)\n", mini_tests[i].name);
            skipped++;
            continue;
        }
        fflush(stdout);
        const pid_t pid = fork();
        if (pid == 0) {
            mini_tests[i].fn();
            exit(0);
        }
        int status = 0;
        const int ok = pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
                       WEXITSTATUS(status) == 0;
        printf("[%s] %s\n", ok ? "PASS" : "FAIL", mini_tests[i].name);
        ok ? passed++ : failed++;
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed != 0;
}

#endif /* TCONV_MINI_CRITERION_H */
