/*
 * A minimal PNG writer for the examples: 8-bit RGB, no external library.
 * The pixel data is stored uncompressed (zlib "stored" deflate blocks), so
 * files are a little larger than the image's raw bytes, and any PNG reader
 * accepts them.
 */
#ifndef TCONV_EXAMPLES_PNG_H
#define TCONV_EXAMPLES_PNG_H

#include <stddef.h>
#include <stdint.h>

/* Writes rgb (height rows of width pixels, each R, G, B: width*height*3
 * bytes, row-major, interleaved) to path. Returns 0 on success, -1 if the
 * file cannot be written or memory runs out (errno says why). */
int png_write_rgb(const char *path, const uint8_t *rgb, uint32_t width, uint32_t height);

#endif /* TCONV_EXAMPLES_PNG_H */
