/*
 * cbor_enc.h: the few CBOR heads the fixed vitalseal structures need
 * (PROTOCOL §2.3 deterministic encoding: shortest heads, definite lengths,
 * float64 for non-integral numbers). Not a general encoder: callers write
 * their map keys in the spec's order themselves.
 *
 * The writer never writes past cap: the first overflow sets `overflow` and
 * later writes are dropped, so a caller checks once at the end.
 * Stack: every function is a leaf or calls only leaves; at most 32 bytes.
 */
#ifndef VS_CBOR_ENC_H
#define VS_CBOR_ENC_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint8_t *buf;
  size_t cap;
  size_t len;
  int overflow;
} vs_cbor_w;

#define VS_CBOR_UINT 0u
#define VS_CBOR_NINT 1u
#define VS_CBOR_BSTR 2u
#define VS_CBOR_TSTR 3u
#define VS_CBOR_ARRAY 4u
#define VS_CBOR_MAP 5u
#define VS_CBOR_TAG 6u

static inline void vs_cbor_init(vs_cbor_w *w, uint8_t *buf, size_t cap) {
  w->buf = buf;
  w->cap = cap;
  w->len = 0;
  w->overflow = 0;
}

/* Bytes of the shortest head for argument v (1, 2, 3, 5 or 9). */
size_t vs_cbor_head_size(uint64_t v);
/* The shortest head of major type `major` (0..7) with argument v. */
void vs_cbor_head(vs_cbor_w *w, unsigned major, uint64_t v);
/* Raw bytes (an already encoded item, or a string's content). */
void vs_cbor_raw(vs_cbor_w *w, const uint8_t *p, size_t n);
void vs_cbor_uint(vs_cbor_w *w, uint64_t v);
/* An integer, positive or negative (major 0 or 1). */
void vs_cbor_int(vs_cbor_w *w, int64_t v);
void vs_cbor_bstr(vs_cbor_w *w, const uint8_t *p, size_t n);
void vs_cbor_tstr(vs_cbor_w *w, const char *s, size_t n);
/* A finite number as §2.3 item 3 says: an integer when integral and within int53
 * (-0 is 0), else an 8-byte float (0xfb). */
void vs_cbor_number(vs_cbor_w *w, double d);

#endif /* VS_CBOR_ENC_H */
