/* cbor_enc.c: deterministic CBOR heads for the fixed vitalseal structures (cbor_enc.h). */
#include "cbor_enc.h"

#include <string.h>

size_t vs_cbor_head_size(uint64_t v) {
  if (v < 24) return 1;
  if (v <= 0xff) return 2;
  if (v <= 0xffff) return 3;
  if (v <= 0xffffffffu) return 5;
  return 9;
}

static void put(vs_cbor_w *w, const uint8_t *p, size_t n) {
  if (w->overflow || n > w->cap - w->len) {
    w->overflow = 1;
    return;
  }
  if (n) memcpy(w->buf + w->len, p, n);
  w->len += n;
}

void vs_cbor_head(vs_cbor_w *w, unsigned major, uint64_t v) {
  uint8_t h[9];
  size_t n = vs_cbor_head_size(v);
  uint8_t mt = (uint8_t)(major << 5);
  switch (n) {
    case 1: h[0] = (uint8_t)(mt | v); break;
    case 2: h[0] = (uint8_t)(mt | 24u); break;
    case 3: h[0] = (uint8_t)(mt | 25u); break;
    case 5: h[0] = (uint8_t)(mt | 26u); break;
    default: h[0] = (uint8_t)(mt | 27u); break;
  }
  for (size_t i = 1; i < n; i++) h[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
  put(w, h, n);
}

void vs_cbor_raw(vs_cbor_w *w, const uint8_t *p, size_t n) { put(w, p, n); }

void vs_cbor_uint(vs_cbor_w *w, uint64_t v) { vs_cbor_head(w, VS_CBOR_UINT, v); }

void vs_cbor_int(vs_cbor_w *w, int64_t v) {
  if (v >= 0) vs_cbor_head(w, VS_CBOR_UINT, (uint64_t)v);
  else vs_cbor_head(w, VS_CBOR_NINT, (uint64_t)(-(v + 1))); /* -1 - v without overflow */
}

void vs_cbor_bstr(vs_cbor_w *w, const uint8_t *p, size_t n) {
  vs_cbor_head(w, VS_CBOR_BSTR, n);
  put(w, p, n);
}

void vs_cbor_tstr(vs_cbor_w *w, const char *s, size_t n) {
  vs_cbor_head(w, VS_CBOR_TSTR, n);
  put(w, (const uint8_t *)s, n);
}

#define INT53_MAX_D 9007199254740991.0

void vs_cbor_number(vs_cbor_w *w, double d) {
  if (d >= -INT53_MAX_D && d <= INT53_MAX_D) {
    int64_t i = (int64_t)d; /* in range: defined */
    if ((double)i == d) {  /* integral (and -0.0 == 0) */
      vs_cbor_int(w, i);
      return;
    }
  }
  uint64_t bits;
  uint8_t b[9];
  memcpy(&bits, &d, sizeof bits);
  b[0] = 0xfb;
  for (int k = 0; k < 8; k++) b[1 + k] = (uint8_t)(bits >> (56 - 8 * k));
  put(w, b, sizeof b);
}
