/*
 * reading.c: the reading plaintext (PROTOCOL §4), deterministic CBOR
 * {"u": unit, "v": [values], "st": st, "ts": ts} (key order of §2.3:
 * "u" < "v" < "st" < "ts").
 */
#include <math.h>
#include <string.h>

#include "cbor_enc.h"
#include "fields.h"
#include "vs_seal.h"

#define INT53_MAX 9007199254740991LL

int vs_reading_encode(uint8_t *out, size_t cap, size_t *out_len, const vs_reading *r) {
  vs_cbor_w w;
  size_t st_len, unit_len;
  if (!out_len) return VS_ERR_INPUT;
  *out_len = 0;
  if (!out || !r || !r->st || !r->unit) return VS_ERR_INPUT;
  st_len = strlen(r->st);
  unit_len = strlen(r->unit);
  if (!vs_is_sensor_type(r->st, st_len) || !vs_is_unit(r->unit, unit_len)) return VS_ERR_INPUT;
  if (r->ts_ms > VS_UINT53_MAX || r->n == 0 || r->n > VS_READING_MAX_VALUES) return VS_ERR_INPUT;
  if ((r->ivals == NULL) == (r->fvals == NULL)) return VS_ERR_INPUT; /* exactly one of them */
  for (size_t i = 0; i < r->n; i++) {
    if (r->ivals && (r->ivals[i] < -INT53_MAX || r->ivals[i] > INT53_MAX)) return VS_ERR_INPUT;
    if (r->fvals && !isfinite(r->fvals[i])) return VS_ERR_INPUT;
  }

  vs_cbor_init(&w, out, cap);
  vs_cbor_head(&w, VS_CBOR_MAP, 4);
  vs_cbor_tstr(&w, "u", 1);
  vs_cbor_tstr(&w, r->unit, unit_len);
  vs_cbor_tstr(&w, "v", 1);
  vs_cbor_head(&w, VS_CBOR_ARRAY, r->n);
  for (size_t i = 0; i < r->n && !w.overflow; i++) {
    if (r->ivals) vs_cbor_int(&w, r->ivals[i]);
    else vs_cbor_number(&w, r->fvals[i]);
  }
  vs_cbor_tstr(&w, "st", 2);
  vs_cbor_tstr(&w, r->st, st_len);
  vs_cbor_tstr(&w, "ts", 2);
  vs_cbor_uint(&w, r->ts_ms);
  if (w.overflow) return VS_ERR_BUFFER;
  *out_len = w.len;
  return VS_OK;
}
