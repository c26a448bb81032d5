/*
 * envelope.c: single-shot sealing of a reading envelope (PROTOCOL §5.5):
 *
 *   16([ protected = {1: 42, "m"?, "st", "ts", "dev", "seq"}   (deterministic, §5.2)
 *        {4: kid, -4: enc},                               (§5.3)
 *        ct = ChaCha20Poly1305(key, base_nonce, aad, pt) ])
 *   aad = ["Encrypt0", protected, h'']                    (§5.4)
 *   (enc, key, base_nonce) = SetupBaseS(pkR, info = "") with skE = rand(32), or in auth mode
 *   (§3.6, "m": 2) SetupAuthS(pkR, info = "", skS) with the device identity key skS
 *
 * The ciphertext is written in place into the caller's buffer; the only
 * copies are the protected header (into the envelope) and the AAD plan on
 * the stack. No heap.
 */
#include <string.h>

#include "cbor_enc.h"
#include "envelope.h"
#include "fields.h"
#include "hpke.h"
#include "vs_port.h"
#include "vs_seal.h"

static const uint8_t AAD_PREFIX[10] = {0x83, 0x68, 'E', 'n', 'c', 'r', 'y', 'p', 't', '0'};
/* {4: kid (16 bytes), -4: enc (32 bytes)}: a2 04 50 <kid> 23 58 20 <enc> */
#define UNPROTECTED_BYTES (3 + 16 + 3 + 32)

void vs_kid_of(uint8_t kid[16], const uint8_t pk[32]) {
  uint8_t h[32];
  vs_port_sha256(h, pk, 32);
  memcpy(kid, h, 16);
}

int vs_envelope_plan_make(vs_envelope_plan *p, const vs_header *h, int auth, size_t pt_len, size_t cap) {
  vs_cbor_w w;
  size_t dev_len, st_len;
  if (!h || !h->dev || !h->st) return VS_ERR_INPUT;
  dev_len = strlen(h->dev);
  st_len = strlen(h->st);
  if (!vs_is_device_id(h->dev, dev_len) || !vs_is_sensor_type(h->st, st_len)) return VS_ERR_INPUT;
  if (h->seq > VS_UINT53_MAX || h->ts_ms > VS_UINT53_MAX || (h->has_hs && h->hs > VS_UINT53_MAX)) return VS_ERR_INPUT;
  if (pt_len > VS_ENVELOPE_MAX_BYTES) return VS_ERR_TOO_LARGE;

  /* Protected header, in deterministic key order 1, "m", "hs", "st", "ts", "dev", "seq" (§5.2). */
  vs_cbor_init(&w, p->aad + VS_AAD_PREFIX_BYTES, VS_PROTECTED_MAX_BYTES);
  vs_cbor_head(&w, VS_CBOR_MAP, 5 + (h->has_hs ? 1 : 0) + (auth ? 1 : 0));
  vs_cbor_uint(&w, 1);
  vs_cbor_uint(&w, VS_ALG_HPKE4);
  if (auth) {
    vs_cbor_tstr(&w, "m", 1);
    vs_cbor_uint(&w, 2); /* HPKE mode_auth (§3.6) */
  }
  if (h->has_hs) {
    vs_cbor_tstr(&w, "hs", 2);
    vs_cbor_uint(&w, h->hs);
  }
  vs_cbor_tstr(&w, "st", 2);
  vs_cbor_tstr(&w, h->st, st_len);
  vs_cbor_tstr(&w, "ts", 2);
  vs_cbor_uint(&w, h->ts_ms);
  vs_cbor_tstr(&w, "dev", 3);
  vs_cbor_tstr(&w, h->dev, dev_len);
  vs_cbor_tstr(&w, "seq", 3);
  vs_cbor_uint(&w, h->seq);
  /* The shortest protected header has 24 bytes and the longest 151: its bstr head is 58 xx. */
  if (w.overflow || w.len < 24 || w.len > 255) return VS_ERR_INPUT;
  p->protected_len = w.len;

  memcpy(p->aad, AAD_PREFIX, sizeof AAD_PREFIX);
  p->aad[10] = 0x58;
  p->aad[11] = (uint8_t)w.len;
  p->aad[VS_AAD_PREFIX_BYTES + w.len] = 0x40; /* external_aad h'' */
  p->aad_len = VS_AAD_PREFIX_BYTES + w.len + 1;

  /* d0 83 | 58 len protected | unprotected | ct head | ct */
  size_t ct_len = pt_len + VS_TAG_BYTES;
  p->total = 2 + 2 + w.len + UNPROTECTED_BYTES + vs_cbor_head_size(ct_len) + ct_len;
  if (p->total > VS_ENVELOPE_MAX_BYTES) return VS_ERR_TOO_LARGE;
  if (p->total > cap) return VS_ERR_BUFFER;
  return VS_OK;
}

int vs_envelope_write(uint8_t *out, const vs_envelope_plan *p, const uint8_t kid[16], const uint8_t enc[32],
                      const uint8_t key[32], const uint8_t nonce[12], const uint8_t *pt, size_t pt_len) {
  vs_cbor_w w;
  size_t ct_len = pt_len + VS_TAG_BYTES;
  vs_cbor_init(&w, out, p->total);
  vs_cbor_head(&w, VS_CBOR_TAG, VS_TAG_ENCRYPT0);
  vs_cbor_head(&w, VS_CBOR_ARRAY, 3);
  vs_cbor_bstr(&w, p->aad + VS_AAD_PREFIX_BYTES, p->protected_len);
  vs_cbor_head(&w, VS_CBOR_MAP, 2);
  vs_cbor_uint(&w, 4);
  vs_cbor_bstr(&w, kid, 16);
  vs_cbor_int(&w, VS_HEADER_EK);
  vs_cbor_bstr(&w, enc, 32);
  vs_cbor_head(&w, VS_CBOR_BSTR, ct_len);
  if (w.overflow || w.len + ct_len != p->total) return VS_ERR_BUFFER;
  if (vs_port_aead_seal(out + w.len, key, nonce, p->aad, p->aad_len, pt, pt_len) != 0) return VS_ERR_CRYPTO;
  return VS_OK;
}

int vs_envelope_setup(uint8_t enc[32], uint8_t key[32], uint8_t base_nonce[12], const uint8_t pkR[32],
                      const uint8_t skE[32], const uint8_t *skS) {
  vs_hpke_ctx ctx;
  uint8_t shared_secret[32];
  int rc = skS ? vs_hpke_auth_encap(shared_secret, enc, NULL, pkR, skE, skS) : vs_hpke_encap(shared_secret, enc, NULL, pkR, skE);
  if (rc == VS_OK)
    rc = vs_hpke_key_schedule_mode(&ctx, NULL, NULL, shared_secret, NULL, 0, 0, skS ? VS_HPKE_MODE_AUTH : VS_HPKE_MODE_BASE);
  if (rc == VS_OK) {
    memcpy(key, ctx.key, 32);
    memcpy(base_nonce, ctx.base_nonce, 12);
  }
  vs_wipe(shared_secret, sizeof shared_secret);
  vs_wipe(&ctx, sizeof ctx);
  return rc;
}

/* HPKE SetupBaseS / SetupAuthS with skE, then the envelope at sequence number 0 (§5.5: the nonce is base_nonce). */
static int seal_planned(uint8_t *out, const vs_envelope_plan *plan, const uint8_t *pt, size_t pt_len, const uint8_t pkR[32],
                        const uint8_t kid[16], const uint8_t skE[32], const uint8_t *skS) {
  uint8_t key[32], base_nonce[12], enc[32];
  int rc = vs_envelope_setup(enc, key, base_nonce, pkR, skE, skS);
  if (rc == VS_OK) rc = vs_envelope_write(out, plan, kid, enc, key, base_nonce, pt, pt_len);
  vs_wipe(key, sizeof key);
  vs_wipe(base_nonce, sizeof base_nonce);
  return rc;
}

/* Single-shot seal; skE NULL: a fresh one from vs_port_random; skS non-NULL: auth mode. */
static int seal(uint8_t *out, size_t cap, size_t *out_len, const vs_header *h, const uint8_t *pt, size_t pt_len,
                const uint8_t pkR[32], const uint8_t kid[16], const uint8_t *skS, const uint8_t *skE) {
  uint8_t fresh[32];
  vs_envelope_plan plan;
  int rc;
  if (!out_len) return VS_ERR_INPUT;
  *out_len = 0;
  if (!out || !pkR || !kid || (pt_len && !pt) || !h || h->has_hs) return VS_ERR_INPUT;
  /* Refuse a bad header or a too small buffer before drawing randomness or doing any X25519. */
  rc = vs_envelope_plan_make(&plan, h, skS != NULL, pt_len, cap);
  if (rc != VS_OK) return rc;
  if (!skE) {
    if (vs_port_random(fresh, sizeof fresh) != 0) return VS_ERR_RANDOM;
    skE = fresh;
  }
  rc = seal_planned(out, &plan, pt, pt_len, pkR, kid, skE, skS);
  vs_wipe(fresh, sizeof fresh);
  if (rc == VS_OK) *out_len = plan.total;
  return rc;
}

int vs_seal_reading_with_ephemeral(uint8_t *out, size_t cap, size_t *out_len, const vs_header *h, const uint8_t *pt,
                                   size_t pt_len, const uint8_t pkR[32], const uint8_t kid[16], const uint8_t skE[32]) {
  if (!skE) {
    if (out_len) *out_len = 0;
    return VS_ERR_INPUT;
  }
  return seal(out, cap, out_len, h, pt, pt_len, pkR, kid, NULL, skE);
}

int vs_seal_reading(uint8_t *out, size_t cap, size_t *out_len, const vs_header *h, const uint8_t *pt, size_t pt_len,
                    const uint8_t pkR[32], const uint8_t kid[16]) {
  return seal(out, cap, out_len, h, pt, pt_len, pkR, kid, NULL, NULL);
}

int vs_seal_reading_auth_with_ephemeral(uint8_t *out, size_t cap, size_t *out_len, const vs_header *h, const uint8_t *pt,
                                        size_t pt_len, const uint8_t pkR[32], const uint8_t kid[16], const uint8_t skS[32],
                                        const uint8_t skE[32]) {
  if (!skE || !skS) {
    if (out_len) *out_len = 0;
    return VS_ERR_INPUT;
  }
  return seal(out, cap, out_len, h, pt, pt_len, pkR, kid, skS, skE);
}

int vs_seal_reading_auth(uint8_t *out, size_t cap, size_t *out_len, const vs_header *h, const uint8_t *pt, size_t pt_len,
                         const uint8_t pkR[32], const uint8_t kid[16], const uint8_t skS[32]) {
  if (!skS) {
    if (out_len) *out_len = 0;
    return VS_ERR_INPUT;
  }
  return seal(out, cap, out_len, h, pt, pt_len, pkR, kid, skS, NULL);
}
