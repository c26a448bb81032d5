/*
 * session.c: session mode (PROTOCOL §6): one HPKE sender context,
 * SetupBaseS(pkR, info = "") (or SetupAuthS(pkR, info = "", skS) in auth mode, "m": 2), per session; every envelope carries the
 * context's enc and a protected "hs" = the sequence number it is sealed at,
 * nonce = base_nonce XOR I2OSP(hs, 12). The context lives in RAM only.
 */
#include <string.h>

#include "envelope.h"
#include "hpke.h"
#include "vs_port.h"
#include "vs_seal.h"

/* SetupBaseS (skS NULL) or SetupAuthS (skS the identity key) with skE. */
static int setup(vs_session *s, const uint8_t pkR[32], const uint8_t *skS, const uint8_t skE[32]) {
  int rc;
  vs_session_wipe(s);
  rc = vs_envelope_setup(s->enc, s->key, s->base_nonce, pkR, skE, skS);
  if (rc == VS_OK) {
    vs_kid_of(s->kid, pkR);
    s->next_hs = 0;
    s->auth = skS != NULL;
    s->ready = 1;
  } else {
    vs_session_wipe(s);
  }
  return rc;
}

static int setup_fresh(vs_session *s, const uint8_t pkR[32], const uint8_t *skS) {
  uint8_t skE[32];
  int rc;
  if (vs_port_random(skE, sizeof skE) != 0) {
    vs_session_wipe(s);
    return VS_ERR_RANDOM;
  }
  rc = setup(s, pkR, skS, skE);
  vs_wipe(skE, sizeof skE);
  return rc;
}

int vs_session_setup_with_ephemeral(vs_session *s, const uint8_t pkR[32], const uint8_t skE[32]) {
  if (!s || !pkR || !skE) return VS_ERR_INPUT;
  return setup(s, pkR, NULL, skE);
}

int vs_session_setup(vs_session *s, const uint8_t pkR[32]) {
  if (!s || !pkR) return VS_ERR_INPUT;
  return setup_fresh(s, pkR, NULL);
}

int vs_session_setup_auth_with_ephemeral(vs_session *s, const uint8_t pkR[32], const uint8_t skS[32],
                                         const uint8_t skE[32]) {
  if (!s || !pkR || !skS || !skE) return VS_ERR_INPUT;
  return setup(s, pkR, skS, skE);
}

int vs_session_setup_auth(vs_session *s, const uint8_t pkR[32], const uint8_t skS[32]) {
  if (!s || !pkR || !skS) return VS_ERR_INPUT;
  return setup_fresh(s, pkR, skS);
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
  rc = vs_envelope_plan_make(&plan, &hh, s->auth, pt_len, cap);
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
