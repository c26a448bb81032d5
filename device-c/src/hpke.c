/*
 * hpke.c: RFC 9180 base and auth modes for DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 /
 * ChaCha20Poly1305 (hpke.h), on the crypto port.
 *
 * LabeledExtract(salt, label, ikm) = HMAC(salt, "HPKE-v1" || suite_id || label || ikm)
 * LabeledExpand(prk, label, info, L) = HMAC(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info || 0x01)[0:L]
 * (one HKDF-Expand block: every L here is at most 32). The labeled message is
 * assembled in a stack buffer because the port's HMAC is one-shot.
 */
#include "hpke.h"

#include <string.h>

#include "vs_err.h"
#include "vs_port.h"

static const uint8_t SUITE_KEM[5] = {'K', 'E', 'M', 0x00, 0x20};
static const uint8_t SUITE_HPKE[10] = {'H', 'P', 'K', 'E', 0x00, 0x20, 0x00, 0x01, 0x00, 0x03};
static const uint8_t HPKE_V1[7] = {'H', 'P', 'K', 'E', '-', 'v', '1'};

void vs_wipe(void *p, size_t n) {
  volatile uint8_t *v = (volatile uint8_t *)p;
  while (n--) *v++ = 0;
}

/* Room for the longest labeled message: I2OSP(L, 2) || "HPKE-v1" || suite_id(10) || label(<=16) || data. */
#define LABELED_OVERHEAD (2 + 7 + 10 + 16)
#define LABELED_SMALL_DATA 96 /* KEM context enc || pkR || pkS (auth mode); key_schedule_context is 65 */

typedef struct {
  uint8_t *buf;
  size_t len;
} lbuf;

static void lput(lbuf *b, const void *p, size_t n) {
  if (n) memcpy(b->buf + b->len, p, n);
  b->len += n;
}

static void labeled_prefix(lbuf *b, const uint8_t *suite, size_t suite_len, const char *label) {
  lput(b, HPKE_V1, sizeof HPKE_V1);
  lput(b, suite, suite_len);
  lput(b, label, strlen(label));
}

/* LabeledExtract with a message buffer of `cap` bytes (checked by the callers' sizes). */
static void labeled_extract(uint8_t out[32], uint8_t *scratch, const uint8_t *salt, size_t salt_len, const uint8_t *suite,
                            size_t suite_len, const char *label, const uint8_t *ikm, size_t ikm_len) {
  lbuf b = {scratch, 0};
  labeled_prefix(&b, suite, suite_len, label);
  lput(&b, ikm, ikm_len);
  vs_port_hmac_sha256(out, salt, salt_len, b.buf, b.len);
  vs_wipe(scratch, b.len);
}

static void labeled_expand(uint8_t *out, size_t L, uint8_t *scratch, const uint8_t prk[32], const uint8_t *suite,
                           size_t suite_len, const char *label, const uint8_t *info, size_t info_len) {
  uint8_t t[32];
  lbuf b = {scratch, 0};
  uint8_t l2[2] = {(uint8_t)(L >> 8), (uint8_t)L};
  lput(&b, l2, 2);
  labeled_prefix(&b, suite, suite_len, label);
  lput(&b, info, info_len);
  b.buf[b.len++] = 0x01; /* HKDF-Expand counter of block 1 */
  vs_port_hmac_sha256(t, prk, 32, b.buf, b.len);
  memcpy(out, t, L);
  vs_wipe(t, sizeof t);
  vs_wipe(scratch, b.len);
}

/* ExtractAndExpand(dh, kem_context) (RFC 9180 §4.1): dh and kem_context are 32 and 64 bytes in
 * base mode, 64 and 96 in auth mode (§4.1 AuthEncap). */
static void extract_and_expand(uint8_t shared_secret[32], const uint8_t *dh, size_t dh_len, const uint8_t *kem_context,
                               size_t kem_context_len) {
  uint8_t scratch[LABELED_OVERHEAD + LABELED_SMALL_DATA + 1];
  uint8_t eae_prk[32];
  labeled_extract(eae_prk, scratch, NULL, 0, SUITE_KEM, sizeof SUITE_KEM, "eae_prk", dh, dh_len);
  labeled_expand(shared_secret, 32, scratch, eae_prk, SUITE_KEM, sizeof SUITE_KEM, "shared_secret", kem_context,
                 kem_context_len);
  vs_wipe(eae_prk, sizeof eae_prk);
}

int vs_hpke_encap(uint8_t shared_secret[32], uint8_t enc[32], uint8_t *dh_out, const uint8_t pkR[32],
                  const uint8_t skE[32]) {
  uint8_t dh[32];
  uint8_t kem_context[64];
  if (vs_port_x25519_base(enc, skE) != 0) return VS_ERR_CRYPTO;
  if (vs_port_x25519(dh, skE, pkR) != 0) {
    vs_wipe(dh, sizeof dh);
    return VS_ERR_DH_ALL_ZERO;
  }
  memcpy(kem_context, enc, 32);
  memcpy(kem_context + 32, pkR, 32);
  extract_and_expand(shared_secret, dh, 32, kem_context, 64);
  if (dh_out) memcpy(dh_out, dh, 32);
  vs_wipe(dh, sizeof dh);
  return VS_OK;
}

int vs_hpke_auth_encap(uint8_t shared_secret[32], uint8_t enc[32], uint8_t *dh_out, const uint8_t pkR[32],
                       const uint8_t skE[32], const uint8_t skS[32]) {
  uint8_t dh[64];          /* DH(skE, pkR) || DH(skS, pkR) */
  uint8_t kem_context[96]; /* enc || pkR || pkS */
  int rc = VS_OK;
  if (vs_port_x25519_base(enc, skE) != 0 || vs_port_x25519_base(kem_context + 64, skS) != 0) return VS_ERR_CRYPTO;
  if (vs_port_x25519(dh, skE, pkR) != 0 || vs_port_x25519(dh + 32, skS, pkR) != 0) rc = VS_ERR_DH_ALL_ZERO;
  if (rc == VS_OK) {
    memcpy(kem_context, enc, 32);
    memcpy(kem_context + 32, pkR, 32);
    extract_and_expand(shared_secret, dh, 64, kem_context, 96);
    if (dh_out) memcpy(dh_out, dh, 64);
  }
  vs_wipe(dh, sizeof dh);
  return rc;
}

int vs_hpke_decap(uint8_t shared_secret[32], const uint8_t enc[32], const uint8_t skR[32]) {
  uint8_t dh[32];
  uint8_t kem_context[64];
  if (vs_port_x25519(dh, skR, enc) != 0) {
    vs_wipe(dh, sizeof dh);
    return VS_ERR_DH_ALL_ZERO;
  }
  memcpy(kem_context, enc, 32);
  if (vs_port_x25519_base(kem_context + 32, skR) != 0) {
    vs_wipe(dh, sizeof dh);
    return VS_ERR_CRYPTO;
  }
  extract_and_expand(shared_secret, dh, 32, kem_context, 64);
  vs_wipe(dh, sizeof dh);
  return VS_OK;
}

int vs_hpke_key_schedule(vs_hpke_ctx *ctx, uint8_t *ksc_out, uint8_t *secret_out, const uint8_t shared_secret[32],
                         const uint8_t *info, size_t info_len, int want_exporter) {
  return vs_hpke_key_schedule_mode(ctx, ksc_out, secret_out, shared_secret, info, info_len, want_exporter,
                                   VS_HPKE_MODE_BASE);
}

int vs_hpke_key_schedule_mode(vs_hpke_ctx *ctx, uint8_t *ksc_out, uint8_t *secret_out, const uint8_t shared_secret[32],
                              const uint8_t *info, size_t info_len, int want_exporter, uint8_t mode) {
  uint8_t scratch[LABELED_OVERHEAD + VS_HPKE_MAX_INFO + 1];
  uint8_t ksc[65]; /* mode || psk_id_hash || info_hash */
  uint8_t secret[32];
  if (info_len > VS_HPKE_MAX_INFO || (info_len && !info)) return VS_ERR_INPUT;
  if (mode != VS_HPKE_MODE_BASE && mode != VS_HPKE_MODE_AUTH) return VS_ERR_INPUT;
  ksc[0] = mode; /* mode_base 0x00 or mode_auth 0x02; psk and psk_id are empty in both */
  labeled_extract(ksc + 1, scratch, NULL, 0, SUITE_HPKE, sizeof SUITE_HPKE, "psk_id_hash", NULL, 0);
  labeled_extract(ksc + 33, scratch, NULL, 0, SUITE_HPKE, sizeof SUITE_HPKE, "info_hash", info, info_len);
  labeled_extract(secret, scratch, shared_secret, 32, SUITE_HPKE, sizeof SUITE_HPKE, "secret", NULL, 0);
  labeled_expand(ctx->key, 32, scratch, secret, SUITE_HPKE, sizeof SUITE_HPKE, "key", ksc, sizeof ksc);
  labeled_expand(ctx->base_nonce, 12, scratch, secret, SUITE_HPKE, sizeof SUITE_HPKE, "base_nonce", ksc, sizeof ksc);
  if (want_exporter)
    labeled_expand(ctx->exporter_secret, 32, scratch, secret, SUITE_HPKE, sizeof SUITE_HPKE, "exp", ksc, sizeof ksc);
  else
    memset(ctx->exporter_secret, 0, sizeof ctx->exporter_secret);
  if (ksc_out) memcpy(ksc_out, ksc, sizeof ksc);
  if (secret_out) memcpy(secret_out, secret, sizeof secret);
  vs_wipe(secret, sizeof secret);
  return VS_OK;
}

void vs_hpke_nonce(uint8_t nonce[12], const uint8_t base_nonce[12], uint64_t seq) {
  memcpy(nonce, base_nonce, 12);
  for (int i = 0; i < 8; i++) nonce[11 - i] ^= (uint8_t)(seq >> (8 * i));
}

int vs_hpke_export(uint8_t *out, size_t L, const uint8_t exporter_secret[32], const uint8_t *exporter_context,
                   size_t context_len) {
  uint8_t scratch[LABELED_OVERHEAD + VS_HPKE_MAX_EXPORTER_CONTEXT + 1];
  if (L > 32 || context_len > VS_HPKE_MAX_EXPORTER_CONTEXT || (context_len && !exporter_context)) return VS_ERR_INPUT;
  labeled_expand(out, L, scratch, exporter_secret, SUITE_HPKE, sizeof SUITE_HPKE, "sec", exporter_context, context_len);
  return VS_OK;
}

int vs_hpke_derive_key_pair(uint8_t sk[32], uint8_t pk[32], uint8_t *dkp_prk_out, const uint8_t *ikm, size_t ikm_len) {
  uint8_t scratch[LABELED_OVERHEAD + VS_HPKE_MAX_IKM + 1];
  uint8_t dkp_prk[32];
  if (ikm_len > VS_HPKE_MAX_IKM || (ikm_len && !ikm)) return VS_ERR_INPUT;
  labeled_extract(dkp_prk, scratch, NULL, 0, SUITE_KEM, sizeof SUITE_KEM, "dkp_prk", ikm, ikm_len);
  labeled_expand(sk, 32, scratch, dkp_prk, SUITE_KEM, sizeof SUITE_KEM, "sk", NULL, 0);
  if (dkp_prk_out) memcpy(dkp_prk_out, dkp_prk, 32);
  vs_wipe(dkp_prk, sizeof dkp_prk);
  return vs_port_x25519_base(pk, sk) == 0 ? VS_OK : VS_ERR_CRYPTO;
}
