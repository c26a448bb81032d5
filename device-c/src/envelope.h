/*
 * envelope.h: assembly of a reading envelope (PROTOCOL §5), shared by
 * single-shot sealing (envelope.c) and session mode (session.c). Internal.
 */
#ifndef VS_ENVELOPE_H
#define VS_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "vs_seal.h"

/* aad = Enc_structure ["Encrypt0", protected, h''] = 83 68 "Encrypt0" 58 len protected 40. */
#define VS_AAD_PREFIX_BYTES 12 /* 83, 68 "Encrypt0", 58 len */
#define VS_AAD_MAX_BYTES (VS_AAD_PREFIX_BYTES + VS_PROTECTED_MAX_BYTES + 1)

typedef struct {
  uint8_t aad[VS_AAD_MAX_BYTES]; /* holds the protected header at aad + VS_AAD_PREFIX_BYTES */
  size_t aad_len;
  size_t protected_len;
  size_t total;                  /* bytes of the whole envelope */
} vs_envelope_plan;

/* Checks the header (§5.2; hs only when h->has_hs), encodes the protected header ("m": 2 when
 * auth is nonzero) and the AAD, and checks the envelope of a pt_len-byte plaintext fits 4096 bytes
 * and cap. */
int vs_envelope_plan_make(vs_envelope_plan *p, const vs_header *h, int auth, size_t pt_len, size_t cap);

/* (enc, key, base_nonce) of SetupBaseS(pkR, "") with skE, or of SetupAuthS(pkR, "", skS) when skS
 * is non-NULL (§3.1, §3.6). */
int vs_envelope_setup(uint8_t enc[32], uint8_t key[32], uint8_t base_nonce[12], const uint8_t pkR[32],
                      const uint8_t skE[32], const uint8_t *skS);

/* Writes 16([protected, {4: kid, -4: enc}, AEAD(key, nonce, aad, pt)]) into out (p->total bytes). */
int vs_envelope_write(uint8_t *out, const vs_envelope_plan *p, const uint8_t kid[16], const uint8_t enc[32],
                      const uint8_t key[32], const uint8_t nonce[12], const uint8_t *pt, size_t pt_len);

#endif /* VS_ENVELOPE_H */
