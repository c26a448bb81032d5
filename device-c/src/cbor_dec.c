/*
 * cbor_dec.c: strict CBOR well-formedness check (docs/PROTOCOL.md §2.2) and a cursor
 * for reading checked bytes. Same checks and codes as protocol/cbor/wellFormed.ts.
 * No heap, no recursion: one fixed array of VS_CBOR_MAX_DEPTH frames on the stack.
 */
#include "vs_cbor_dec.h"

#include "fields.h"

#include <string.h>

typedef struct {
  uint64_t remaining; /* items still expected (maps: 2 per entry) */
  uint64_t total;     /* items declared */
  size_t first;       /* maps: offset of the first key */
  int is_map;
} frame_t;

static int read_arg(const uint8_t *p, size_t n, size_t *pos, uint8_t major, uint8_t ai, uint64_t *arg) {
  if (ai < 24) {
    *arg = ai;
    return VS_CBOR_OK;
  }
  if (ai <= 27) {
    size_t size = (size_t)1 << (ai - 24);
    if (n - *pos < size) return VS_CBOR_MALFORMED;
    uint64_t v = 0;
    for (size_t i = 0; i < size; i++) v = (v << 8) | p[*pos + i];
    *pos += size;
    *arg = v;
    return VS_CBOR_OK;
  }
  if (ai == 31) {
    if (major == VS_CB_SIMPLE) return VS_CBOR_MALFORMED; /* stray break */
    if (major >= VS_CB_BYTES && major <= VS_CB_MAP) return VS_CBOR_UNSUPPORTED; /* indefinite length */
  }
  return VS_CBOR_MALFORMED; /* reserved 28..30, or 31 on an integer or tag */
}

int vs_utf8_valid(const uint8_t *s, size_t len) {
  size_t i = 0;
  while (i < len) {
    uint8_t c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t need;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      cp = c & 0x07;
    } else {
      return 0;
    }
    if (len - i - 1 < need) return 0;
    for (size_t k = 1; k <= need; k++) {
      uint8_t d = s[i + k];
      if ((d & 0xc0) != 0x80) return 0;
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    i += need + 1;
  }
  return 1;
}

int vs_text_no_cc(const uint8_t *s, size_t len, size_t max_cp) {
  size_t cps = 0;
  return vs_utf8_count(s, len, &cps, 1) && cps >= 1 && cps <= max_cp;
}

int vs_cbor_next(vs_cbor_rd *r, vs_cbor_item *it) {
  if (r->pos >= r->n) return -1;
  uint8_t ib = r->p[r->pos++];
  it->major = (uint8_t)(ib >> 5);
  it->ai = (uint8_t)(ib & 0x1f);
  it->str = NULL;
  if (it->major == VS_CB_SIMPLE && it->ai >= 25 && it->ai <= 27) {
    size_t size = (size_t)1 << (it->ai - 24);
    if (r->n - r->pos < size) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < size; i++) v = (v << 8) | r->p[r->pos + i];
    r->pos += size;
    it->arg = v;
    return 0;
  }
  if (read_arg(r->p, r->n, &r->pos, it->major, it->ai, &it->arg) != VS_CBOR_OK) return -1;
  if (it->major == VS_CB_BYTES || it->major == VS_CB_TEXT) {
    if (it->arg > r->n - r->pos) return -1;
    it->str = r->p + r->pos;
    r->pos += (size_t)it->arg;
  }
  return 0;
}

int vs_cbor_skip(vs_cbor_rd *r) {
  uint64_t pending = 1;
  while (pending > 0) {
    vs_cbor_item it;
    if (vs_cbor_next(r, &it) != 0) return -1;
    pending--;
    if (it.major == VS_CB_ARRAY || it.major == VS_CB_MAP || it.major == VS_CB_TAG) {
      if (it.arg > r->n) return -1; /* cannot fit: never on checked input */
      pending += it.major == VS_CB_MAP ? 2 * it.arg : it.major == VS_CB_TAG ? 1 : it.arg;
    }
  }
  return 0;
}

int vs_cbor_is_text(const vs_cbor_item *it, const char *s) {
  size_t len = strlen(s);
  return it->major == VS_CB_TEXT && it->arg == len && memcmp(it->str, s, len) == 0;
}

int vs_cbor_same_key(const vs_cbor_item *a, const vs_cbor_item *b) {
  if (a->major != b->major || a->arg != b->arg) return 0;
  if (a->major == VS_CB_TEXT) return memcmp(a->str, b->str, (size_t)a->arg) == 0;
  return 1;
}

/* Is the key `key` (index k of the map whose first key is at `first`) a repeat of an earlier one? */
static int duplicate_key(const uint8_t *p, size_t n, size_t first, uint64_t k, const vs_cbor_item *key) {
  vs_cbor_rd r = {p, n, first};
  for (uint64_t i = 0; i < k; i++) {
    vs_cbor_item prev;
    if (vs_cbor_next(&r, &prev) != 0) return 1;
    if (vs_cbor_same_key(&prev, key)) return 1;
    if (vs_cbor_skip(&r) != 0) return 1;
  }
  return 0;
}

int vs_cbor_check(const uint8_t *p, size_t n, const vs_cbor_limits *lim) {
  frame_t st[VS_CBOR_MAX_DEPTH];
  unsigned depth = 0;
  unsigned max_depth = lim->max_depth > VS_CBOR_MAX_DEPTH ? VS_CBOR_MAX_DEPTH : lim->max_depth;
  size_t pos = 0;
  if (n > lim->max_bytes) return VS_CBOR_TOO_LARGE;
  if (n == 0) return VS_CBOR_MALFORMED;
  do {
    frame_t *parent = depth > 0 ? &st[depth - 1] : NULL;
    int is_key = parent != NULL && parent->is_map && parent->remaining % 2 == 0;
    if (pos >= n) return VS_CBOR_MALFORMED;
    size_t item_at = pos;
    uint8_t ib = p[pos++];
    uint8_t major = (uint8_t)(ib >> 5), ai = (uint8_t)(ib & 0x1f);
    uint64_t arg;
    int rc = read_arg(p, n, &pos, major, ai, &arg);
    if (rc != VS_CBOR_OK) return rc;
    if (is_key && major != VS_CB_UINT && major != VS_CB_NEGINT && major != VS_CB_TEXT) return VS_CBOR_UNSUPPORTED;
    int opened = 0;
    uint64_t count = 0;
    int is_map = 0;
    switch (major) {
      case VS_CB_UINT:
      case VS_CB_NEGINT:
        break;
      case VS_CB_BYTES:
      case VS_CB_TEXT:
        if (arg > n - pos) return VS_CBOR_MALFORMED;
        if (arg > lim->max_string) return VS_CBOR_TOO_MANY_ITEMS;
        if (major == VS_CB_TEXT && !vs_utf8_valid(p + pos, (size_t)arg)) return VS_CBOR_MALFORMED;
        pos += (size_t)arg;
        break;
      case VS_CB_ARRAY:
      case VS_CB_MAP: {
        uint64_t per = major == VS_CB_MAP ? 2 : 1;
        if (arg > (n - pos) / per) return VS_CBOR_MALFORMED;
        if (arg > lim->max_items) return VS_CBOR_TOO_MANY_ITEMS;
        count = arg * per;
        is_map = major == VS_CB_MAP;
        opened = 1;
        break;
      }
      case VS_CB_TAG:
        if (lim->allowed_tag < 0 || arg != (uint64_t)lim->allowed_tag) return VS_CBOR_UNSUPPORTED;
        count = 1;
        opened = 1;
        break;
      default: /* simple values and floats */
        if (ai == 20 || ai == 21 || ai == 22) break;
        if (ai >= 25 && ai <= 27) break;
        if (ai == 24 && arg < 32) return VS_CBOR_MALFORMED;
        return VS_CBOR_UNSUPPORTED;
    }
    if (is_key) {
      vs_cbor_rd kr = {p, n, item_at};
      vs_cbor_item key;
      if (vs_cbor_next(&kr, &key) != 0) return VS_CBOR_MALFORMED;
      uint64_t k = (parent->total - parent->remaining) / 2;
      if (duplicate_key(p, n, parent->first, k, &key)) return VS_CBOR_UNSUPPORTED;
    }
    if (opened) {
      if (depth + 1 > max_depth) return VS_CBOR_TOO_DEEP;
      if (count > 0) {
        st[depth].remaining = count;
        st[depth].total = count;
        st[depth].first = pos;
        st[depth].is_map = is_map;
        depth++;
        continue;
      }
    }
    /* one item complete: count it, closing every container it completes */
    while (depth > 0) {
      if (--st[depth - 1].remaining > 0) break;
      depth--;
    }
  } while (depth > 0);
  if (pos != n) return VS_CBOR_TRAILING_BYTES;
  return VS_CBOR_OK;
}
