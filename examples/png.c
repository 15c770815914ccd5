/*
 * A minimal PNG writer: signature, IHDR, one IDAT, IEND (PNG specification,
 * ISO/IEC 15948). The IDAT holds a zlib stream (RFC 1950) of stored deflate
 * blocks (RFC 1951 section 3.2.4) over the filtered scanlines, each scanline
 * being filter byte 0 (None) followed by its RGB bytes.
 */
#include "png.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CRC-32 (ISO 3309, reflected polynomial 0xEDB88320), table-driven. */
static uint32_t crc_table[256];
static int crc_table_ready;

static void crc_init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
    crc_table_ready = 1;
}

static uint32_t crc_update(uint32_t crc, const uint8_t *buf, size_t len)
{
    if (!crc_table_ready) crc_init();
    for (size_t i = 0; i < len; i++) crc = crc_table[(crc ^ buf[i]) & 0xffu] ^ (crc >> 8);
    return crc;
}

/* Adler-32 of data (RFC 1950), reducing modulo 65521 often enough that the
 * sums never overflow 32 bits. */
static uint32_t adler32(const uint8_t *data, size_t len)
{
    uint32_t a = 1, b = 0;
    while (len > 0) {
        size_t n = len < 5552 ? len : 5552;
        len -= n;
        while (n--) {
            a += *data++;
            b += a;
        }
        a %= 65521u;
        b %= 65521u;
    }
    return (b << 16) | a;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* One chunk: length, type, data, CRC-32 of type and data. */
static int write_chunk(FILE *f, const char type[4], const uint8_t *data, uint32_t len)
{
    uint8_t head[8], tail[4];
    put_be32(head, len);
    memcpy(head + 4, type, 4);
    uint32_t crc = crc_update(0xffffffffu, head + 4, 4);
    crc = crc_update(crc, data, len);
    put_be32(tail, crc ^ 0xffffffffu);
    if (fwrite(head, 1, 8, f) != 8) return -1;
    if (len > 0 && fwrite(data, 1, len, f) != len) return -1;
    if (fwrite(tail, 1, 4, f) != 4) return -1;
    return 0;
}

int png_write_rgb(const char *path, const uint8_t *rgb, uint32_t width, uint32_t height)
{
    if (!path || !rgb || width == 0 || height == 0) return -1;
    /* Filtered image data: each scanline is filter byte 0, then the row. */
    const size_t row = (size_t)width * 3;
    if (row / 3 != width || (row + 1) > SIZE_MAX / height) return -1;
    const size_t raw_len = (row + 1) * height;
    /* zlib stream: 2-byte header, stored blocks of <= 65535 bytes with a
     * 5-byte header each (BFINAL/BTYPE byte, LEN, NLEN), Adler-32. */
    const size_t blocks = (raw_len + 65534) / 65535;
    const size_t z_len = 2 + raw_len + 5 * blocks + 4;
    if (z_len > 0x7fffffffu) return -1; /* a PNG chunk holds at most 2^31 - 1 bytes */

    uint8_t *raw = malloc(raw_len), *z = malloc(z_len);
    if (!raw || !z) {
        free(raw);
        free(z);
        return -1;
    }
    for (uint32_t y = 0; y < height; y++) {
        raw[y * (row + 1)] = 0;
        memcpy(raw + y * (row + 1) + 1, rgb + y * row, row);
    }

    size_t o = 0;
    z[o++] = 0x78; /* CMF: deflate, 32 KiB window */
    z[o++] = 0x01; /* FLG: no dictionary, fastest; (0x78 * 256 + 0x01) % 31 == 0 */
    for (size_t pos = 0; pos < raw_len;) {
        const size_t n = raw_len - pos < 65535 ? raw_len - pos : 65535;
        const int final = pos + n == raw_len;
        z[o++] = (uint8_t)final; /* BFINAL, BTYPE = 00 (stored) */
        z[o++] = (uint8_t)(n & 0xff);
        z[o++] = (uint8_t)(n >> 8);
        z[o++] = (uint8_t)(~n & 0xff);
        z[o++] = (uint8_t)((~n >> 8) & 0xff);
        memcpy(z + o, raw + pos, n);
        o += n;
        pos += n;
    }
    put_be32(z + o, adler32(raw, raw_len));
    o += 4;

    uint8_t ihdr[13];
    put_be32(ihdr, width);
    put_be32(ihdr + 4, height);
    ihdr[8] = 8;   /* bit depth */
    ihdr[9] = 2;   /* colour type: truecolour (RGB) */
    ihdr[10] = 0;  /* compression: deflate */
    ihdr[11] = 0;  /* filter method 0 */
    ihdr[12] = 0;  /* no interlace */

    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    int rc = -1;
    FILE *f = fopen(path, "wb");
    if (f) {
        rc = (fwrite(signature, 1, 8, f) == 8 && write_chunk(f, "IHDR", ihdr, 13) == 0 &&
              write_chunk(f, "IDAT", z, (uint32_t)o) == 0 &&
              write_chunk(f, "IEND", NULL, 0) == 0)
                 ? 0
                 : -1;
        if (fclose(f) != 0) rc = -1;
    }
    free(raw);
    free(z);
    return rc;
}
