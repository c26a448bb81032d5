/*
 * hpke.h: RFC 9180 for exactly one suite, DHKEM(X25519, HKDF-SHA256) 0x0020 /
 * HKDF-SHA256 0x0001 / ChaCha20Poly1305 0x0003, base and auth modes (PROTOCOL §3.1, §3.6),
 * on the crypto port (vs_port.h). Internal to the library; the KAT driver
 * uses it to check each intermediate value of the RFC's and vitalseal's vectors.
 *
 * No heap; each function uses one labeled-message buffer on the stack
 * (sizes in device-c/README.md, `make stack`).
 */
#ifndef VS_HPKE_H
#define VS_HPKE_H

#include <stddef.h>
#include <stdint.h>

/* Longest `info` accepted (vitalseal uses "" for readings; escrow labels are ~30 bytes). */
#define VS_HPKE_MAX_INFO 64
/* Longest DeriveKeyPair ikm (a 256-byte PatientID and 32 random bytes, PROTOCOL §3.2). */
#define VS_HPKE_MAX_IKM 320
/* Longest exporter_context of vs_hpke_export. */
#define VS_HPKE_MAX_EXPORTER_CONTEXT 64

typedef struct {
  uint8_t key[32];
  uint8_t base_nonce[12];
  uint8_t exporter_secret[32]; /* only when the key schedule was asked for it */
} vs_hpke_ctx;

/* Encap(pkR) with the ephemeral secret skE (RFC 9180 §4.1): enc = pk(skE),
 * shared_secret = ExtractAndExpand(DH(skE, pkR), enc || pkR). dh_out may be NULL.
 * VS_ERR_DH_ALL_ZERO, VS_ERR_CRYPTO. */
int vs_hpke_encap(uint8_t shared_secret[32], uint8_t enc[32], uint8_t *dh_out, const uint8_t pkR[32],
                  const uint8_t skE[32]);

/* AuthEncap(pkR, skS) with the ephemeral secret skE (RFC 9180 §4.1): enc = pk(skE),
 * dh = DH(skE, pkR) || DH(skS, pkR), shared_secret = ExtractAndExpand(dh, enc || pkR || pk(skS)).
 * dh_out (64 bytes) may be NULL. VS_ERR_DH_ALL_ZERO, VS_ERR_CRYPTO. */
int vs_hpke_auth_encap(uint8_t shared_secret[32], uint8_t enc[32], uint8_t *dh_out, const uint8_t pkR[32],
                       const uint8_t skE[32], const uint8_t skS[32]);

/* Decap(enc, skR) (RFC 9180 §4.1). */
int vs_hpke_decap(uint8_t shared_secret[32], const uint8_t enc[32], const uint8_t skR[32]);

/* KeySchedule(mode_base, shared_secret, info, "", "") (RFC 9180 §5.1). The exporter
 * secret costs one more HMAC and is computed only when want_exporter is nonzero.
 * ksc_out (65 bytes) and secret_out (32 bytes) may be NULL. VS_ERR_INPUT if info is too long. */
int vs_hpke_key_schedule(vs_hpke_ctx *ctx, uint8_t *ksc_out, uint8_t *secret_out, const uint8_t shared_secret[32],
                         const uint8_t *info, size_t info_len, int want_exporter);

#define VS_HPKE_MODE_BASE 0x00
#define VS_HPKE_MODE_AUTH 0x02
/* The same in `mode` (VS_HPKE_MODE_BASE or VS_HPKE_MODE_AUTH; psk and psk_id empty), VS_ERR_INPUT
 * for another mode. */
int vs_hpke_key_schedule_mode(vs_hpke_ctx *ctx, uint8_t *ksc_out, uint8_t *secret_out, const uint8_t shared_secret[32],
                              const uint8_t *info, size_t info_len, int want_exporter, uint8_t mode);

/* ComputeNonce(seq) = base_nonce XOR I2OSP(seq, 12) (RFC 9180 §5.2). */
void vs_hpke_nonce(uint8_t nonce[12], const uint8_t base_nonce[12], uint64_t seq);

/* Context.Export(exporter_context, L) for L <= 32 (RFC 9180 §5.3). */
int vs_hpke_export(uint8_t *out, size_t L, const uint8_t exporter_secret[32], const uint8_t *exporter_context,
                   size_t context_len);

/* DeriveKeyPair(ikm) (RFC 9180 §7.1.3); dkp_prk_out may be NULL. */
int vs_hpke_derive_key_pair(uint8_t sk[32], uint8_t pk[32], uint8_t *dkp_prk_out, const uint8_t *ikm, size_t ikm_len);

/* Overwrites n bytes with zeros in a way the compiler keeps. */
void vs_wipe(void *p, size_t n);

#endif /* VS_HPKE_H */
