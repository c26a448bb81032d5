/*
 * cobs.c: Consistent Overhead Byte Stuffing (docs/PROTOCOL.md §8.2), as protocol/framing/cobs.ts:
 * blocks of a code byte c (1..255) and c - 1 non-zero bytes; no trailing 0x01 block after a final
 * full block on encoding, either form accepted on decoding.
 */
#include "vs_frame.h"

size_t vs_cobs_encode(const uint8_t *in, size_t n, uint8_t *out) {
  size_t code_at = 0, o = 1;
  uint8_t code = 1;
  for (size_t i = 0; i < n; i++) {
    uint8_t b = in[i];
    if (b == 0) {
      out[code_at] = code;
      code_at = o++;
      code = 1;
      continue;
    }
    out[o++] = b;
    if (++code == 0xff) {
      out[code_at] = code;
      code = 1;
      if (i + 1 == n) return o; /* ends on a full block */
      code_at = o++;
    }
  }
  out[code_at] = code;
  return o;
}

int vs_cobs_decode(const uint8_t *in, size_t n, uint8_t *out, size_t *out_len) {
  size_t i = 0, o = 0;
  if (n == 0) return -1;
  while (i < n) {
    uint8_t code = in[i++];
    if (code == 0) return -1;
    size_t end = i + code - 1;
    if (end > n) return -1; /* block runs past the end */
    for (; i < end; i++) {
      uint8_t b = in[i];
      if (b == 0) return -1;
      out[o++] = b; /* o < i: safe in place */
    }
    if (code != 0xff && i < n) out[o++] = 0;
  }
  *out_len = o;
  return 0;
}
