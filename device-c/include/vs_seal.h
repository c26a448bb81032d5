/*
 * vs_seal.h: the sealing core of the vitalseal C device library.
 *
 * What a device needs to turn a measurement into a reading envelope
 * (docs/PROTOCOL.md §4 reading plaintext, §5 envelope, §6 session mode):
 *
 *   vs_reading_encode()  §4   deterministic CBOR {"u", "v", "st", "ts"}
 *   vs_seal_reading()    §5.5 single-shot HPKE base mode, fresh ephemeral key
 *   vs_seal_reading_auth()    the same in HPKE auth mode with the device identity key (§3.6, "m": 2)
 *   vs_session_*()       §6   one HPKE sender context per session, "hs" in the header
 *                             (vs_session_setup_auth: SetupAuthS, "m": 2 in every envelope)
 *   vs_kid_of()          §3.3 kid = SHA-256(pk)[0:16]
 *
 * No function here allocates memory; every output goes to a caller buffer of
 * `cap` bytes, and a too small buffer is VS_ERR_BUFFER (never a write past
 * cap). Inputs are checked against the spec's value rules (§2.5) and
 * refused with VS_ERR_INPUT. Stack use is stated per function below: the
 * library's own frames down to the port call (gcc 12, x86-64, -O2,
 * -fstack-usage) and the measured peak on the host with libsodium
 * (`make stack`; table in device-c/README.md).
 *
 * Errors: negative enum vs_err values (vs_err.h).
 */
#ifndef VS_SEAL_H
#define VS_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "vs_err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VS_KID_BYTES 16
#define VS_PK_BYTES 32
#define VS_SK_BYTES 32
#define VS_ENC_BYTES 32
#define VS_AEAD_KEY_BYTES 32
#define VS_AEAD_NONCE_BYTES 12
#define VS_TAG_BYTES 16
#define VS_ENVELOPE_MAX_BYTES 4096   /* §5.8 */
#define VS_READING_MAX_VALUES 400    /* §4.1 */
#define VS_DEVICE_ID_MAX_CHARS 64    /* §2.5 */
#define VS_SENSOR_TYPE_MAX_CHARS 32  /* §2.5 */
#define VS_UNIT_MAX_CHARS 16         /* §2.5, code points */
#define VS_UINT53_MAX 9007199254740991ULL
#define VS_ALG_HPKE4 42              /* §3.1 (tentative) */
#define VS_HEADER_EK (-4)            /* §3.1 (tentative) */
#define VS_TAG_ENCRYPT0 16

/* Longest protected header: {1: 42, "m": 2, "hs", "st" (32), "ts", "dev" (64), "seq"}, all uint53 at 9 bytes. */
#define VS_PROTECTED_MAX_BYTES 151
/* Longest reading plaintext: 400 float64 values, a 16-code-point unit of 64 UTF-8 bytes, a 32-char st. */
#define VS_READING_MAX_BYTES 3723
/* An envelope of a pt_len-byte plaintext never exceeds this (tag, array, protected bstr,
 * {4: kid, -4: ek}, ciphertext bstr head, ciphertext, AEAD tag). */
#define VS_ENVELOPE_BOUND(pt_len) ((size_t)(pt_len) + 228u)

/* The clear header of one envelope (§5.2). `hs` is used only in session mode and
 * filled by vs_session_seal (has_hs must be 0 for vs_seal_reading). */
typedef struct {
  const char *dev;   /* device id, NUL-terminated, §2.5 */
  uint64_t seq;      /* uint53 */
  uint64_t ts_ms;    /* uint53, ms since the epoch */
  const char *st;    /* sensor type, NUL-terminated, §2.5 */
  int has_hs;
  uint64_t hs;       /* uint53 */
} vs_header;

/* One measurement block (§4). Exactly one of ivals / fvals is non-NULL:
 * ivals are integers (int53); fvals are finite doubles, each encoded as an
 * integer when integral and within int53 (as §2.3 item 3 and the reference
 * encoder do), else as a float64. n is 1..400. */
typedef struct {
  const char *st;       /* the header's st */
  uint64_t ts_ms;       /* the header's ts */
  const char *unit;     /* 1..16 code points of UTF-8, no control characters */
  const int64_t *ivals;
  const double *fvals;
  size_t n;
} vs_reading;

/* §3.3: kid = SHA-256(pk)[0:16].
 * Stack: 48 B of its own + vs_port_sha256 (host total, libsodium: 664 B). */
void vs_kid_of(uint8_t kid[16], const uint8_t pk[32]);

/* §4: deterministic CBOR of the reading into out[0..cap). At most VS_READING_MAX_BYTES.
 * VS_ERR_INPUT (bad st/unit/ts/values/count), VS_ERR_BUFFER.
 * Stack: 192 B (no port call). */
int vs_reading_encode(uint8_t *out, size_t cap, size_t *out_len, const vs_reading *r);

/* §5.5: seals plaintext pt (a §4 reading; pt must not overlap out) to pkR as a tagged
 * COSE_Encrypt0 with a fresh ephemeral key from vs_port_random. The envelope is at most
 * VS_ENVELOPE_BOUND(pt_len) bytes (base mode: 3 bytes fewer, no "m"). kid is the ticket's kid. On any error *out_len is 0
 * and out holds nothing usable. VS_ERR_INPUT, VS_ERR_BUFFER, VS_ERR_TOO_LARGE,
 * VS_ERR_RANDOM, VS_ERR_DH_ALL_ZERO, VS_ERR_CRYPTO.
 * Stack: 1,184 B of the library's own frames down to a port call, + the port's X25519 / HMAC /
 * AEAD (host total with libsodium: 3,168 B, X25519 being 2,400 of it). */
int vs_seal_reading(uint8_t *out, size_t cap, size_t *out_len, const vs_header *h, const uint8_t *pt, size_t pt_len,
                    const uint8_t pkR[32], const uint8_t kid[16]);

/* The same with a given ephemeral secret key (known-answer tests only: never reuse skE).
 * Stack: 1,184 B + port (host total 3,200 B). */
int vs_seal_reading_with_ephemeral(uint8_t *out, size_t cap, size_t *out_len, const vs_header *h, const uint8_t *pt,
                                   size_t pt_len, const uint8_t pkR[32], const uint8_t kid[16], const uint8_t skE[32]);

/* §3.6, §5: the same in HPKE auth mode (RFC 9180 mode_auth, AuthEncap(pkR, skS)) with the device's
 * identity secret key skS; the protected header carries "m": 2 (in the deterministic position after
 * label 1). The recipient opens it only with the ticket's idk = pk(skS). Same errors.
 * Stack: 1,264 B + port (host total 3,264 B; two X25519 more than base mode). */
int vs_seal_reading_auth(uint8_t *out, size_t cap, size_t *out_len, const vs_header *h, const uint8_t *pt, size_t pt_len,
                         const uint8_t pkR[32], const uint8_t kid[16], const uint8_t skS[32]);
/* The same with a given ephemeral secret key (known-answer tests only: never reuse skE). */
int vs_seal_reading_auth_with_ephemeral(uint8_t *out, size_t cap, size_t *out_len, const vs_header *h, const uint8_t *pt,
                                        size_t pt_len, const uint8_t pkR[32], const uint8_t kid[16], const uint8_t skS[32],
                                        const uint8_t skE[32]);

/* §6: one HPKE sender context. Lives in RAM only: never persist it (§6.1). */
typedef struct {
  uint8_t key[32];        /* AEAD key of the context */
  uint8_t base_nonce[12];
  uint8_t enc[32];        /* ek of every envelope of the session */
  uint8_t kid[16];        /* kid of pkR */
  uint64_t next_hs;       /* hs of the next envelope */
  int ready;              /* 1 after a successful setup */
  int auth;               /* 1: SetupAuthS, every envelope carries "m": 2 */
} vs_session;

/* SetupBaseS(pkR, info = "") with a fresh ephemeral key; kid = vs_kid_of(pkR).
 * Stack: 888 B + port (host total 2,848 B). */
int vs_session_setup(vs_session *s, const uint8_t pkR[32]);
/* The same with a given ephemeral secret key (known-answer tests only). */
int vs_session_setup_with_ephemeral(vs_session *s, const uint8_t pkR[32], const uint8_t skE[32]);
/* SetupAuthS(pkR, info = "", skS) (§3.6, §6): the same in HPKE auth mode with the device identity
 * secret key skS; every envelope of the session carries "m": 2. */
int vs_session_setup_auth(vs_session *s, const uint8_t pkR[32], const uint8_t skS[32]);
/* The same with a given ephemeral secret key (known-answer tests only). */
int vs_session_setup_auth_with_ephemeral(vs_session *s, const uint8_t pkR[32], const uint8_t skS[32],
                                         const uint8_t skE[32]);
/* Seals pt at hs = s->next_hs (h->has_hs / h->hs are ignored: the session fills them),
 * then advances next_hs. On error the session is unchanged. VS_ERR_STATE before setup,
 * VS_ERR_SEQ_OVERFLOW past uint53, and the errors of vs_seal_reading.
 * Stack: 544 B + vs_port_aead_seal (host total 2,256 B). */
int vs_session_seal(vs_session *s, uint8_t *out, size_t cap, size_t *out_len, const vs_header *h, const uint8_t *pt,
                    size_t pt_len);
/* Erases the context (key, nonce) and marks it not ready. */
void vs_session_wipe(vs_session *s);

#ifdef __cplusplus
}
#endif

#endif /* VS_SEAL_H */
