/*
 * vs_ticket.h: session ticket verification by a device (docs/PROTOCOL.md §7.1-§7.4), as
 * protocol/ticket/verify.ts and device-sim/firmware/ticketCheck.ts. No heap. The parsed ticket
 * points into the caller's ticket bytes (keep them while the ticket is used).
 *
 * Stack use per call (gcc 12, x86-64, -O2, `make -C device-c stack`): see device-c/README.md.
 */
#ifndef VS_TICKET_H
#define VS_TICKET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VS_TICKET_MAX_BYTES 1024u
#define VS_TICKET_SKEW_S 60u

/* §7.3 / §7.4 results, in check order. */
enum vs_ticket_code {
  VS_TICKET_OK = 0,
  VS_TICKET_MALFORMED = -1,
  VS_TICKET_BAD_SIGNATURE = -2,
  VS_TICKET_WRONG_DEVICE = -3,
  VS_TICKET_NOT_YET_VALID = -4,
  VS_TICKET_EXPIRED = -5,
  VS_TICKET_EXHAUSTED = -6,        /* SIM_TICKET_EXHAUSTED (§7.4) */
  VS_TICKET_NO_AUTHORITY_KEY = -7, /* SIM_NO_AUTHORITY_KEY (§7.3) */
  VS_TICKET_IDENTITY_KEY_MISMATCH = -8, /* SIM_IDENTITY_KEY_MISMATCH (§3.6): idk is not this device's */
  VS_TICKET_IDENTITY_KEY_ROTATED = -9,  /* SIM_IDENTITY_KEY_ROTATED (§3.6): idk is this device's previous key */
};
/* The spec's code: "TICKET_EXPIRED", "SIM_TICKET_EXHAUSTED", ... */
const char *vs_ticket_code_name(int code);

typedef struct {
  const uint8_t *dev;   /* into the ticket bytes, dev_len bytes (not NUL-terminated) */
  size_t dev_len;
  uint8_t kid[16];
  uint8_t pk[32];
  uint64_t nbf, exp;    /* seconds */
  int has_max_readings;
  uint64_t max_readings;
  int has_idk;          /* v 2: the device identity key the ticket certifies (§3.6, §7.1) */
  uint8_t idk[32];
} vs_ticket;

/* §7.3 steps 1-6 in order: structure, alg and signature with the pinned Ed25519 key, payload
 * (§7.1), device, time with `skew_s`. now_ms: device clock, ms since the epoch. */
int vs_ticket_verify(const uint8_t *t, size_t n, const uint8_t authority_pk[32], const char *device_id, uint64_t now_ms,
                     unsigned skew_s, vs_ticket *out);

/* Structure (steps 1 and 3) without the signature: for a ticket loaded at provisioning on a
 * device without a pinned key, and for one re-read from NVM. */
int vs_ticket_parse_unsigned(const uint8_t *t, size_t n, vs_ticket *out);

/* §7.4: usable at now_ms (no skew) for reading number `used` (0-based)? VS_TICKET_OK or
 * VS_TICKET_EXPIRED / VS_TICKET_NOT_YET_VALID / VS_TICKET_EXHAUSTED. */
int vs_ticket_usable(const vs_ticket *t, uint64_t now_ms, uint64_t used);

#ifdef __cplusplus
}
#endif

#endif
