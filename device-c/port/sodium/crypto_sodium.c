/*
 * crypto_sodium.c: the crypto part of vs_port.h on the host, with libsodium
 * (Debian libsodium-dev). Stack use per call is in device-c/README.md
 * (`make stack`); libsodium itself allocates nothing on these paths.
 *
 * For an MCU, replace this file by one that calls the MCU's crypto API;
 * device-c/README.md maps every function to PSA Crypto.
 */
#include <sodium.h>
#include <string.h>

#include "vs_port.h"

static int sodium_ready;

/* libsodium declares its pointer arguments nonnull even for zero lengths: empty inputs point here. */
static const uint8_t EMPTY[1] = {0};
#define OR_EMPTY(p) ((p) ? (const unsigned char *)(p) : EMPTY)

/* sodium_init() picks the fastest ChaCha20/Poly1305/SHA-256 code for this CPU and seeds the RNG. */
static int ensure_sodium(void) {
  if (sodium_ready) return 0;
  if (sodium_init() < 0) return -1;
  sodium_ready = 1;
  return 0;
}

int vs_port_random(uint8_t *out, size_t len) {
  if (ensure_sodium() != 0) return -1;
  randombytes_buf(out, len);
  return 0;
}

int vs_port_x25519_base(uint8_t pk[32], const uint8_t sk[32]) {
  if (ensure_sodium() != 0) return -1;
  return crypto_scalarmult_curve25519_base(pk, sk) == 0 ? 0 : -1;
}

int vs_port_x25519(uint8_t shared[32], const uint8_t sk[32], const uint8_t pk[32]) {
  if (ensure_sodium() != 0) return -1;
  /* libsodium returns -1 when the result is all zero (RFC 7748 §6.1). */
  return crypto_scalarmult_curve25519(shared, sk, pk) == 0 ? 0 : -1;
}

void vs_port_hmac_sha256(uint8_t out[32], const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len) {
  crypto_auth_hmacsha256_state st;
  (void)ensure_sodium();
  crypto_auth_hmacsha256_init(&st, OR_EMPTY(key), key_len);
  crypto_auth_hmacsha256_update(&st, OR_EMPTY(msg), (unsigned long long)msg_len);
  crypto_auth_hmacsha256_final(&st, out);
  sodium_memzero(&st, sizeof st);
}

void vs_port_sha256(uint8_t out[32], const uint8_t *msg, size_t len) {
  (void)ensure_sodium();
  crypto_hash_sha256(out, OR_EMPTY(msg), (unsigned long long)len);
}

int vs_port_aead_seal(uint8_t *ct, const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                      const uint8_t *pt, size_t pt_len) {
  unsigned long long ct_len = 0;
  if (ensure_sodium() != 0) return -1;
  return crypto_aead_chacha20poly1305_ietf_encrypt(ct, &ct_len, OR_EMPTY(pt), (unsigned long long)pt_len, OR_EMPTY(aad),
                                                   (unsigned long long)aad_len, NULL, nonce, key) == 0
             ? 0
             : -1;
}

int vs_port_aead_open(uint8_t *pt, const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                      const uint8_t *ct, size_t ct_len) {
  unsigned long long pt_len = 0;
  if (ensure_sodium() != 0) return -1;
  if (ct_len < crypto_aead_chacha20poly1305_ietf_ABYTES) return -1;
  return crypto_aead_chacha20poly1305_ietf_decrypt(pt, &pt_len, NULL, ct, (unsigned long long)ct_len, OR_EMPTY(aad),
                                                   (unsigned long long)aad_len, nonce, key) == 0
             ? 0
             : -1;
}

/* L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
static const uint8_t ED25519_L[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                      0xa2, 0xde, 0xf9, 0xde, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};

/* S < L (RFC 8032 §5.1.7 step 1). Public data: no constant time needed. */
static int scalar_is_canonical(const uint8_t s[32]) {
  for (int i = 31; i >= 0; i--) {
    if (s[i] < ED25519_L[i]) return 1;
    if (s[i] > ED25519_L[i]) return 0;
  }
  return 0; /* S == L */
}

/* The y coordinate of an encoded point is < p = 2^255 - 19 (RFC 8032 §5.1.3 step 1). */
static int point_is_canonical(const uint8_t p[32]) {
  if ((p[31] & 0x7f) != 0x7f) return 1;
  for (int i = 30; i >= 1; i--)
    if (p[i] != 0xff) return 1;
  return p[0] < 0xed;
}

int vs_port_ed25519_verify(const uint8_t sig[64], const uint8_t *msg, size_t msg_len, const uint8_t pk[32]) {
  if (ensure_sodium() != 0) return -1;
  /* libsodium (without ED25519_COMPAT) already refuses S >= L and non-canonical A, and a
   * non-canonical R never equals the recomputed encoding; the explicit checks make the
   * PROTOCOL §7.2 rule independent of the library version. libsodium also refuses
   * small-order A and R, which no honest authority key or signature has. */
  if (!scalar_is_canonical(sig + 32) || !point_is_canonical(sig) || !point_is_canonical(pk)) return -1;
  return crypto_sign_verify_detached(sig, OR_EMPTY(msg), (unsigned long long)msg_len, pk) == 0 ? 0 : -1;
}
