/*
 * frame.c: serial frames (docs/PROTOCOL.md §8.1, §8.4, §8.5), as protocol/framing/{frame,decoder,ack}.ts.
 * Encoding streams type ‖ body ‖ CRC through a COBS encoder straight into the output (no raw copy);
 * decoding is in place in the receiver's one buffer.
 */
#include "vs_frame.h"

#include <string.h>

#include "fields.h"
#include "vs_cbor_dec.h"

#define VS_FRAME_ERR_BUFFER (-7)

const char *vs_frame_code_name(int code) {
  switch (code) {
    case VS_FRAME_OK: return "FRAME_OK";
    case VS_FRAME_OVERSIZE: return "FRAME_OVERSIZE";
    case VS_FRAME_BAD_COBS: return "FRAME_BAD_COBS";
    case VS_FRAME_TOO_SHORT: return "FRAME_TOO_SHORT";
    case VS_FRAME_BAD_CRC: return "FRAME_BAD_CRC";
    case VS_FRAME_UNKNOWN_TYPE: return "FRAME_UNKNOWN_TYPE";
    case VS_FRAME_BAD_BODY: return "FRAME_BAD_BODY";
    default: return "FRAME_UNKNOWN_CODE";
  }
}

/* Streaming COBS encoder (same output as vs_cobs_encode on the concatenated input). */
typedef struct {
  uint8_t *out;
  size_t code_at, o;
  uint8_t code;
  int open_next; /* a full block just closed: the next byte opens a new one */
} cobs_stream;

static void cs_put(cobs_stream *c, uint8_t b) {
  if (c->open_next) {
    c->code_at = c->o++;
    c->code = 1;
    c->open_next = 0;
  }
  if (b == 0) {
    c->out[c->code_at] = c->code;
    c->code_at = c->o++;
    c->code = 1;
    return;
  }
  c->out[c->o++] = b;
  if (++c->code == 0xff) {
    c->out[c->code_at] = c->code;
    c->open_next = 1;
  }
}

static size_t cs_finish(cobs_stream *c) {
  if (!c->open_next) c->out[c->code_at] = c->code;
  return c->o;
}

int vs_frame_encode(uint8_t type, const uint8_t *body, size_t n, uint8_t *out, size_t cap, size_t *out_len) {
  if (type < VS_FT_TICKET || type > VS_FT_ERROR) return VS_FRAME_UNKNOWN_TYPE;
  if (n > VS_FRAME_MAX_BODY) return VS_FRAME_OVERSIZE;
  if (cap < VS_FRAME_WIRE_BOUND(n)) return VS_FRAME_ERR_BUFFER;
  uint32_t crc = vs_crc32_update(0, &type, 1);
  crc = vs_crc32_update(crc, body, n);
  cobs_stream c = {out, 0, 1, 1, 0};
  cs_put(&c, type);
  for (size_t i = 0; i < n; i++) cs_put(&c, body[i]);
  for (int k = 0; k < 4; k++) cs_put(&c, (uint8_t)(crc >> (8 * k)));
  size_t len = cs_finish(&c);
  out[len++] = 0x00;
  *out_len = len;
  return VS_FRAME_OK;
}

int vs_frame_decode(uint8_t *buf, size_t n, vs_frame *f) {
  size_t raw_len;
  if (n > VS_FRAME_MAX_ENCODED) return VS_FRAME_OVERSIZE;
  if (vs_cobs_decode(buf, n, buf, &raw_len) != 0) return VS_FRAME_BAD_COBS;
  if (raw_len < VS_FRAME_OVERHEAD) return VS_FRAME_TOO_SHORT;
  size_t body_end = raw_len - 4;
  if (body_end - 1 > VS_FRAME_MAX_BODY) return VS_FRAME_OVERSIZE;
  uint32_t expected = (uint32_t)buf[body_end] | (uint32_t)buf[body_end + 1] << 8 | (uint32_t)buf[body_end + 2] << 16 |
                      (uint32_t)buf[body_end + 3] << 24;
  if (vs_crc32(buf, body_end) != expected) return VS_FRAME_BAD_CRC;
  if (buf[0] < VS_FT_TICKET || buf[0] > VS_FT_ERROR) return VS_FRAME_UNKNOWN_TYPE;
  f->type = buf[0];
  f->body = buf + 1;
  f->body_len = body_end - 1;
  return VS_FRAME_OK;
}

void vs_rx_init(vs_rx *rx) {
  memset(&rx->count, 0, sizeof rx->count);
  vs_rx_reset(rx);
}

void vs_rx_reset(vs_rx *rx) {
  rx->len = 0;
  rx->discarding = 0;
}

static int count_drop(vs_rx *rx, int code) {
  switch (code) {
    case VS_FRAME_OVERSIZE: rx->count.oversize++; break;
    case VS_FRAME_BAD_COBS: rx->count.bad_cobs++; break;
    case VS_FRAME_TOO_SHORT: rx->count.too_short++; break;
    case VS_FRAME_BAD_CRC: rx->count.bad_crc++; break;
    case VS_FRAME_UNKNOWN_TYPE: rx->count.unknown_type++; break;
    default: rx->count.bad_body++; break;
  }
  return code;
}

void vs_rx_count_bad_body(vs_rx *rx) { rx->count.bad_body++; }

size_t vs_rx_feed(vs_rx *rx, const uint8_t *p, size_t n, int *result, vs_frame *f) {
  *result = 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t b = p[i];
    if (b != 0) {
      if (rx->discarding) continue;
      if (rx->len == sizeof rx->buf) { /* the run outgrew the largest frame: report once, discard to the next 0x00 */
        rx->discarding = 1;
        rx->len = 0;
        *result = count_drop(rx, VS_FRAME_OVERSIZE);
        return i + 1;
      }
      rx->buf[rx->len++] = b;
      continue;
    }
    /* end of a run */
    if (rx->discarding) {
      rx->discarding = 0;
      continue;
    }
    if (rx->len == 0) continue; /* empty run: ignored, not counted */
    size_t len = rx->len;
    rx->len = 0;
    int rc = vs_frame_decode(rx->buf, len, f);
    if (rc == VS_FRAME_OK) {
      rx->count.frames++;
      *result = 1;
    } else {
      *result = count_drop(rx, rc);
    }
    return i + 1;
  }
  return n;
}

/* ------------------------------------------------------------------ bodies */

static int read_uint53(const vs_cbor_item *it, uint64_t *v) {
  if (it->major != VS_CB_UINT || it->arg > VS_UINT53_MAX_DEC) return 0;
  *v = it->arg;
  return 1;
}

int vs_ack_decode(const uint8_t *b, size_t n, char dev[65], uint64_t *seq) {
  static const vs_cbor_limits lim = {256, 1, 2, 4096, -1};
  if (vs_cbor_check(b, n, &lim) != VS_CBOR_OK) return VS_FRAME_BAD_BODY;
  vs_cbor_rd r = {b, n, 0};
  vs_cbor_item m, k, v;
  if (vs_cbor_next(&r, &m) != 0 || m.major != VS_CB_MAP || m.arg != 2) return VS_FRAME_BAD_BODY;
  int have_dev = 0, have_seq = 0;
  for (int i = 0; i < 2; i++) {
    if (vs_cbor_next(&r, &k) != 0 || vs_cbor_next(&r, &v) != 0) return VS_FRAME_BAD_BODY;
    if (vs_cbor_is_text(&k, "dev") && v.major == VS_CB_TEXT && vs_is_device_id((const char *)v.str, (size_t)v.arg)) {
      memcpy(dev, v.str, (size_t)v.arg);
      dev[v.arg] = '\0';
      have_dev = 1;
    } else if (vs_cbor_is_text(&k, "seq") && read_uint53(&v, seq)) {
      have_seq = 1;
    } else {
      return VS_FRAME_BAD_BODY;
    }
  }
  return have_dev && have_seq ? VS_FRAME_OK : VS_FRAME_BAD_BODY;
}

static int is_error_code(const uint8_t *s, size_t len) {
  if (len < 2 || len > 64 || s[0] < 'A' || s[0] > 'Z') return 0;
  for (size_t i = 1; i < len; i++)
    if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_')) return 0;
  return 1;
}

int vs_error_decode(const uint8_t *b, size_t n, char code[65], int *has_seq, uint64_t *seq) {
  static const vs_cbor_limits lim = {512, 1, 4, 4096, -1};
  strcpy(code, "UNKNOWN");
  *has_seq = 0;
  if (vs_cbor_check(b, n, &lim) != VS_CBOR_OK) return VS_FRAME_BAD_BODY;
  vs_cbor_rd r = {b, n, 0};
  vs_cbor_item m, k, v;
  if (vs_cbor_next(&r, &m) != 0 || m.major != VS_CB_MAP) return VS_FRAME_BAD_BODY;
  for (uint64_t i = 0; i < m.arg; i++) {
    if (vs_cbor_next(&r, &k) != 0 || vs_cbor_next(&r, &v) != 0) return VS_FRAME_BAD_BODY;
    if (vs_cbor_is_text(&k, "code") && v.major == VS_CB_TEXT && is_error_code(v.str, (size_t)v.arg)) {
      memcpy(code, v.str, (size_t)v.arg);
      code[v.arg] = '\0';
    } else if (vs_cbor_is_text(&k, "seq") && read_uint53(&v, seq)) {
      *has_seq = 1;
    }
  }
  return VS_FRAME_OK;
}

/* ------------------------------------------------------------------ status encoding */

typedef struct {
  uint8_t *out;
  size_t cap, len;
  int overflow;
} enc_t;

static void put(enc_t *e, const uint8_t *p, size_t n) {
  if (e->overflow || e->cap - e->len < n) {
    e->overflow = 1;
    return;
  }
  memcpy(e->out + e->len, p, n);
  e->len += n;
}

static void head(enc_t *e, uint8_t major, uint64_t v) {
  uint8_t h[9];
  size_t n;
  if (v < 24) {
    h[0] = (uint8_t)(major << 5 | v);
    n = 1;
  } else if (v <= 0xff) {
    h[0] = (uint8_t)(major << 5 | 24);
    h[1] = (uint8_t)v;
    n = 2;
  } else if (v <= 0xffff) {
    h[0] = (uint8_t)(major << 5 | 25);
    h[1] = (uint8_t)(v >> 8);
    h[2] = (uint8_t)v;
    n = 3;
  } else if (v <= 0xffffffffu) {
    h[0] = (uint8_t)(major << 5 | 26);
    for (int i = 0; i < 4; i++) h[1 + i] = (uint8_t)(v >> (24 - 8 * i));
    n = 5;
  } else {
    h[0] = (uint8_t)(major << 5 | 27);
    for (int i = 0; i < 8; i++) h[1 + i] = (uint8_t)(v >> (56 - 8 * i));
    n = 9;
  }
  put(e, h, n);
}

static void text(enc_t *e, const char *s) {
  size_t n = strlen(s);
  head(e, VS_CB_TEXT, n);
  put(e, (const uint8_t *)s, n);
}

int vs_status_encode(uint8_t *out, size_t cap, size_t *out_len, const vs_status *s) {
  enc_t e = {out, cap, 0, 0};
  /* deterministic order of the encoded keys: "fw", "dev", "idk", "kid", "seq", "code", "state" */
  static const char HEX[] = "0123456789abcdef";
  uint64_t entries = 2 + (s->fw != NULL) + (s->idk != NULL) + (s->kid != NULL) + (s->has_seq != 0) + (s->code != NULL);
  head(&e, VS_CB_MAP, entries);
  if (s->fw) {
    text(&e, "fw");
    text(&e, s->fw);
  }
  text(&e, "dev");
  text(&e, s->dev);
  if (s->idk) {
    char hex[65];
    for (int i = 0; i < 32; i++) {
      hex[2 * i] = HEX[s->idk[i] >> 4];
      hex[2 * i + 1] = HEX[s->idk[i] & 15];
    }
    hex[64] = '\0';
    text(&e, "idk");
    text(&e, hex);
  }
  if (s->kid) {
    char hex[33];
    for (int i = 0; i < 16; i++) {
      hex[2 * i] = HEX[s->kid[i] >> 4];
      hex[2 * i + 1] = HEX[s->kid[i] & 15];
    }
    hex[32] = '\0';
    text(&e, "kid");
    text(&e, hex);
  }
  if (s->has_seq) {
    text(&e, "seq");
    head(&e, VS_CB_UINT, s->seq);
  }
  if (s->code) {
    text(&e, "code");
    text(&e, s->code);
  }
  text(&e, "state");
  text(&e, s->state);
  if (e.overflow) return VS_FRAME_ERR_BUFFER;
  *out_len = e.len;
  return VS_FRAME_OK;
}
