/*
 * vs_port.h: the port layer of the vitalseal C device library, one header.
 *
 * A port implements these functions for one platform. The host port
 * (port/sodium/crypto_sodium.c) uses libsodium; device-c/README.md maps each
 * function to PSA Crypto for an MCU. Every int function returns 0 on success
 * and nonzero on failure. None of them may allocate from a heap in the seal
 * path; all buffers are the caller's.
 */
#ifndef VS_PORT_H
#define VS_PORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ===================================================================== */
/* Crypto (owned by the sealing core; fixed interface)                   */
/* ===================================================================== */

/* Cryptographically secure random bytes (PROTOCOL §3.5). Nonzero: no bytes. */
int vs_port_random(uint8_t *out, size_t len);

/* X25519 public key of a secret key (RFC 7748; clamping inside). */
int vs_port_x25519_base(uint8_t pk[32], const uint8_t sk[32]);

/* X25519 shared secret. MUST return nonzero when the output is all zero
 * (RFC 7748 §6.1, RFC 9180 §7.1.4). */
int vs_port_x25519(uint8_t shared[32], const uint8_t sk[32], const uint8_t pk[32]);

/* HMAC-SHA256 with a key of any length (RFC 2104). */
void vs_port_hmac_sha256(uint8_t out[32], const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len);

/* SHA-256 (FIPS 180-4). */
void vs_port_sha256(uint8_t out[32], const uint8_t *msg, size_t len);

/* ChaCha20-Poly1305 (RFC 8439) seal: ct gets pt_len + 16 bytes (ciphertext || tag).
 * ct and pt may be the same buffer; they must not overlap otherwise. */
int vs_port_aead_seal(uint8_t *ct, const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                      const uint8_t *pt, size_t pt_len);

/* ChaCha20-Poly1305 open: ct_len >= 16; pt gets ct_len - 16 bytes. Nonzero on a bad tag
 * (then pt holds nothing usable). */
int vs_port_aead_open(uint8_t *pt, const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                      const uint8_t *ct, size_t ct_len);

/* Ed25519 verification, strict RFC 8032 §5.1.7 (PROTOCOL §7.2: no ZIP-215
 * relaxation; S >= L and non-canonical R or A refused). 0 = valid. */
int vs_port_ed25519_verify(const uint8_t sig[64], const uint8_t *msg, size_t msg_len, const uint8_t pk[32]);

/* ===================================================================== */
/* Storage, clock, transport (owned by the device side; appended below)  */
/* ===================================================================== */

#ifdef __cplusplus
}
#endif

#endif /* VS_PORT_H */
