/* Built by tests/cmake-consumer/CMakeLists.txt: the version find_package
 * found (TCONV_PACKAGE_VERSION) must be the linked library's, and a plan
 * must run, through the imported target alone. Exit 0 when both hold. */
#include <stdio.h>
#include <string.h>

#include <tconv.h>

int main(void)
{
    if (strcmp(tconv_version(), TCONV_PACKAGE_VERSION) != 0) {
        fprintf(stderr, "version_check: find_package found tconv %s, the library says %s\n",
                TCONV_PACKAGE_VERSION, tconv_version());
        return 1;
    }
    tconv_desc d;
    tconv_desc_init(&d);
    d.channels = 2; d.in_h = 3; d.in_w = 3; d.filters = 2; d.filter_h = 2; d.filter_w = 2;
    tconv_plan *plan = NULL;
    const tconv_status st = tconv_plan_create(&plan, &d, TCONV_TUNE_NONE);
    if (st != TCONV_OK) {
        fprintf(stderr, "version_check: %s: %s\n", tconv_strerror(st), tconv_last_error());
        return 1;
    }
    printf("tconv %s through CMake: %s\n", tconv_version(), tconv_plan_info(plan));
    tconv_plan_destroy(plan);
    return 0;
}
