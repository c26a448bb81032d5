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

/* --- Storage: small named records, written atomically (a crash leaves the old or the new
 * content, never a mix), plus one fixed-slot outbox. Names are short [a-z0-9_.] words. --- */

/* Reads record `name` into buf[0..cap). 0 and *len; 1 when the record does not exist; <0 on an
 * I/O error or a record longer than cap. */
int vs_port_storage_read(const char *name, uint8_t *buf, size_t cap, size_t *len);
/* Replaces record `name` durably before returning (POSIX: temp file, fsync, rename, directory
 * fsync). 0 or <0. */
int vs_port_storage_write_atomic(const char *name, const uint8_t *buf, size_t len);
/* Removes record `name` durably; 0 also when it did not exist. */
int vs_port_storage_remove(const char *name);

/* The outbox: `slots` fixed slots of `slot_size` bytes each (a flash sector per slot on an MCU).
 * Opened (created when missing) once at boot. */
int vs_port_outbox_open(size_t slots, size_t slot_size);
/* Writes rec[0..len) into slot `i` and makes it durable (fdatasync) before returning. */
int vs_port_outbox_write(size_t i, const uint8_t *rec, size_t len);
/* Reads slot `i` (slot_size bytes) into rec. */
int vs_port_outbox_read(size_t i, uint8_t *rec, size_t slot_size);
/* Marks slot `i` free (its first 4 bytes zeroed). Not synced: a lost free only causes one resend,
 * which the agent acknowledges as a duplicate (PROTOCOL §10.5). */
int vs_port_outbox_free(size_t i);

/* --- Clock --- */

/* Wall clock, ms since the Unix epoch (UTC): timestamps and ticket validity. */
uint64_t vs_port_now_ms(void);
/* Monotonic ms (any origin): timeouts and periods. */
uint64_t vs_port_mono_ms(void);

/* --- Transport: the serial line (a byte stream) --- */

/* Writes all len bytes (blocking until handed to the line). 0, or <0 when the line is down. */
int vs_port_transport_write(const uint8_t *buf, size_t len);
/* Reads up to cap bytes, waiting at most timeout_ms. >0 bytes read, 0 on timeout, <0 when the
 * line is down (then the device closes it and reopens with backoff, PROTOCOL §8.7). */
int vs_port_transport_read(uint8_t *buf, size_t cap, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* VS_PORT_H */
