#include "tconv.h"

#define TCONV_STR2(v) #v
#define TCONV_STR(v) TCONV_STR2(v)

const char *tconv_version(void)
{
    return TCONV_STR(TCONV_VERSION_MAJOR) "." TCONV_STR(TCONV_VERSION_MINOR) "." TCONV_STR(
        TCONV_VERSION_PATCH);
}
