/*
 * vs_cbor_dec.h: strict CBOR decoding (docs/PROTOCOL.md §2.2, §2.4) for the fixed
 * structures a device reads: the session ticket (COSE_Sign1 and its payload) and the
 * ack and error frame bodies. No heap; the checker is iterative with a fixed stack of
 * VS_CBOR_MAX_DEPTH frames, and duplicate map keys are found by re-reading the keys
 * already scanned (no key table).
 *
 * Stack use per call (gcc 12, x86-64, -O2, `make -C device-c stack`): see device-c/README.md.
 */
#ifndef VS_CBOR_DEC_H
#define VS_CBOR_DEC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VS_CBOR_MAX_DEPTH 8

/* §2.2 refusal codes (the format decoders map them to their own codes). */
enum vs_cbor_code {
  VS_CBOR_OK = 0,
  VS_CBOR_TOO_LARGE = -1,
  VS_CBOR_MALFORMED = -2,
  VS_CBOR_TOO_DEEP = -3,
  VS_CBOR_TOO_MANY_ITEMS = -4,
  VS_CBOR_UNSUPPORTED = -5,
  VS_CBOR_TRAILING_BYTES = -6,
};

/* Limits of one format (§2.4). allowed_tag < 0: no tag allowed. */
typedef struct {
  size_t max_bytes;
  unsigned max_depth;   /* <= VS_CBOR_MAX_DEPTH; a top-level array is depth 1 */
  uint64_t max_items;   /* entries of one array or map */
  uint64_t max_string;  /* bytes of one string */
  int allowed_tag;
} vs_cbor_limits;

/* Checks that p[0..n) is exactly one strict, well-formed CBOR item within `lim`.
 * Returns VS_CBOR_OK or the first refusal's code. */
int vs_cbor_check(const uint8_t *p, size_t n, const vs_cbor_limits *lim);

/* A cursor over bytes that vs_cbor_check accepted (reads never fail on such input;
 * on other input they return -1 rather than read out of bounds). */
typedef struct {
  const uint8_t *p;
  size_t n;
  size_t pos;
} vs_cbor_rd;

enum { VS_CB_UINT = 0, VS_CB_NEGINT = 1, VS_CB_BYTES = 2, VS_CB_TEXT = 3, VS_CB_ARRAY = 4, VS_CB_MAP = 5, VS_CB_TAG = 6, VS_CB_SIMPLE = 7 };

typedef struct {
  uint8_t major;
  uint8_t ai;            /* additional information */
  uint64_t arg;          /* value, length, count or tag */
  const uint8_t *str;    /* strings: the content */
} vs_cbor_item;

/* Reads one head (and, for strings, steps over the content). 0 or -1. */
int vs_cbor_next(vs_cbor_rd *r, vs_cbor_item *it);
/* Steps over one whole item (any nesting) with a counter, no stack. 0 or -1. */
int vs_cbor_skip(vs_cbor_rd *r);
/* 1 when the item is the text string `s` (NUL-terminated). */
int vs_cbor_is_text(const vs_cbor_item *it, const char *s);
/* Two map keys (integer or text) denote the same key. */
int vs_cbor_same_key(const vs_cbor_item *a, const vs_cbor_item *b);

/* Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, <= U+10FFFF). */
int vs_utf8_valid(const uint8_t *s, size_t len);
/* 1..max_cp code points of valid UTF-8 without a control character (Cc) (src/fields.c). */
int vs_text_no_cc(const uint8_t *s, size_t len, size_t max_cp);

#define VS_UINT53_MAX_DEC 9007199254740991ULL

#ifdef __cplusplus
}
#endif

#endif
