/*
 * vs_device.h: the device state machine (the C counterpart of device-sim/firmware/device.ts):
 * boots from NVM, takes tickets from the serial line and verifies them (§7.3), measures and seals
 * (§5.5 or session mode §6; HPKE auth mode with the identity key under a v2 ticket, §3.6), keeps seq strictly increasing across restarts (§10.3: the high-water
 * mark is persisted before a seq is used), writes each envelope to the outbox before its first
 * transmission and sends the outbox in seq order, up to `window` in flight; when one is not
 * acknowledged within `ack_timeout_ms` it goes back and resends every unacknowledged reading, byte
 * for byte, in seq order (§8.7). Platform-independent: it only calls include/vs_port.h.
 * The host program (host/main.c) owns the line (open, close, backoff) and the loop.
 *
 * Stack use per call (gcc 12, x86-64, -O2, `make -C device-c stack`): see device-c/README.md.
 */
#ifndef VS_DEVICE_H
#define VS_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "vs_frame.h"
#include "vs_nvm.h"
#include "vs_seal.h"
#include "vs_ticket.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VS_DEVICE_FW "vitalseal-device-c/0.1.0"

typedef void (*vs_log_fn)(const char *line);

typedef struct {
  uint32_t period_ms;       /* measurement period (spo2: 1000) */
  uint32_t ack_timeout_ms;  /* §8.7: 5000 */
  unsigned window;          /* §8.7: 8 in flight */
  unsigned seq_block;       /* seq numbers reserved per NVM write (1: no gap after a crash) */
  int session_mode;         /* §6 */
  vs_log_fn log;            /* event lines (never a secret or a reading value); may be NULL */
} vs_device_config;

typedef struct {
  uint64_t sealed, acked, duplicate_acks, rejected, transmissions, resends, bad_bodies;
  uint64_t not_measured_no_ticket, not_measured_outbox_full, seal_errors, nvm_errors, tickets_accepted, tickets_refused;
} vs_device_stats;

typedef struct {
  vs_device_config cfg;
  vs_identity id;
  vs_rx rx;
  vs_outbox ob;
  /* the ticket in use */
  int has_ticket;
  uint8_t ticket_bytes[VS_TICKET_MAX_BYTES];
  size_t ticket_len;
  vs_ticket ticket;
  uint64_t ticket_start_seq;
  vs_session session;
  /* the device identity key (§3.6), from NVM ("idkey"); skS never leaves the device */
  uint8_t idk_sk[32];
  uint8_t idk_pk[32];
  /* after a rotation: the previous identity PUBLIC key ("idprev"), to refuse its tickets as ROTATED */
  int has_idk_prev;
  uint8_t idk_prev[32];
  /* seq */
  uint64_t next_seq;
  uint64_t seq_limit;
  /* refused tickets (SHA-256), reported once each (§7.3) */
  uint8_t refused[8][32];
  unsigned refused_n, refused_at;
  const char *pending_code; /* a refusal not yet reported (line down) */
  int line_up;
  int line_broken;          /* a write failed: the host closes and reopens the line */
  uint64_t next_measure_at; /* monotonic ms */
  uint32_t rng;             /* synthetic measurement values (not a secret) */
  vs_device_stats stats;
} vs_device;

/* Boots from NVM: identity (already in *id), identity key (generated and stored when absent, §3.6),
 * seq high-water mark, ticket, outbox. first_boot: the identity was just provisioned (its ticket,
 * if any, is checked and stored). 0 or <0. */
int vs_device_boot(vs_device *d, const vs_identity *id, const vs_device_config *cfg, int first_boot);
/* The line is open: a lone 0x00, the status {online}, a pending refusal, the outbox. */
void vs_device_line_up(vs_device *d);
/* The line is gone: nothing in flight any more (all resent, in seq order, at the next line up). */
void vs_device_line_down(vs_device *d);
/* Bytes from the line. */
void vs_device_on_bytes(vs_device *d, const uint8_t *p, size_t n);
/* Timers: measurement, resends. now_mono: vs_port_mono_ms(). */
void vs_device_poll(vs_device *d, uint64_t now_mono);
/* ms until the next timer (for the host's wait), at most 1000. */
int vs_device_wait_ms(const vs_device *d, uint64_t now_mono);

#ifdef __cplusplus
}
#endif

#endif
