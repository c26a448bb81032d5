/*
 * session.c: session mode (PROTOCOL §6): one HPKE sender context,
 * SetupBaseS(pkR, info = ""), per session; every envelope carries the
 * context's enc and a protected "hs" = the sequence number it is sealed at,
 * nonce = base_nonce XOR I2OSP(hs, 12). The context lives in RAM only.
 */
#include <string.h>

#include "envelope.h"
#include "hpke.h"
#include "vs_port.h"
#include "vs_seal.h"

int vs_session_setup_with_ephemeral(vs_session *s, const uint8_t pkR[32], const uint8_t skE[32]) {
  vs_hpke_ctx ctx;
  uint8_t shared_secret[32];
  int rc;
  if (!s || !pkR || !skE) return VS_ERR_INPUT;
  vs_session_wipe(s);
  rc = vs_hpke_encap(shared_secret, s->enc, NULL, pkR, skE);
  if (rc == VS_OK) rc = vs_hpke_key_schedule(&ctx, NULL, NULL, shared_secret, NULL, 0, 0);
  if (rc == VS_OK) {
    memcpy(s->key, ctx.key, sizeof s->key);
    memcpy(s->base_nonce, ctx.base_nonce, sizeof s->base_nonce);
    vs_kid_of(s->kid, pkR);
    s->next_hs = 0;
    s->ready = 1;
  } else {
    vs_session_wipe(s);
  }
  vs_wipe(shared_secret, sizeof shared_secret);
  vs_wipe(&ctx, sizeof ctx);
  return rc;
}

int vs_session_setup(vs_session *s, const uint8_t pkR[32]) {
  uint8_t skE[32];
  int rc;
  if (!s || !pkR) return VS_ERR_INPUT;
  if (vs_port_random(skE, sizeof skE) != 0) {
    vs_session_wipe(s);
    return VS_ERR_RANDOM;
  }
  rc = vs_session_setup_with_ephemeral(s, pkR, skE);
  vs_wipe(skE, sizeof skE);
  return rc;
}

int vs_session_seal(vs_session *s, uint8_t *out, size_t cap, size_t *out_len, const vs_header *h, const uint8_t *pt,
                    size_t pt_len) {
  vs_envelope_plan plan;
  vs_header hh;
  uint8_t nonce[12];
  int rc;
  if (!out_len) return VS_ERR_INPUT;
  *out_len = 0;
  if (!s || !out || !h || (pt_len && !pt)) return VS_ERR_INPUT;
  if (!s->ready) return VS_ERR_STATE;
  if (s->next_hs > VS_UINT53_MAX) return VS_ERR_SEQ_OVERFLOW;
  hh = *h;
  hh.has_hs = 1;
  hh.hs = s->next_hs;
  rc = vs_envelope_plan_make(&plan, &hh, pt_len, cap);
  if (rc != VS_OK) return rc;
  vs_hpke_nonce(nonce, s->base_nonce, s->next_hs);
  rc = vs_envelope_write(out, &plan, s->kid, s->enc, s->key, nonce, pt, pt_len);
  if (rc != VS_OK) return rc;
  s->next_hs++; /* never reuse (ek, hs), §6.1 */
  *out_len = plan.total;
  return VS_OK;
}

void vs_session_wipe(vs_session *s) {
  if (s) vs_wipe(s, sizeof *s);
}
