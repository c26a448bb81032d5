/*
 * vs_nvm.h: the device's non-volatile state on the storage port (include/vs_port.h):
 *   "identity"   provisioning text (device-c/README.md "Provisioning file"): dev, authority, ticket
 *   "seq"        the seq high-water mark: every seq below it may have been used (PROTOCOL §10.3)
 *   "ticket"     the ticket in use and the seq it started at (maxReadings counting, §7.4)
 *   "idkey"      the device identity secret key skS (§3.6): "VSIK" || skS || CRC-32, never sent or logged
 *   "idprev"     after a rotation: the PUBLIC key of the previous identity key, "VSIP" || pk || CRC-32
 *   outbox       fixed slots of sealed envelopes not yet acknowledged (§8.7)
 * Every record carries a magic and a CRC-32; a torn or corrupt record reads as absent.
 *
 * Stack use per call (gcc 12, x86-64, -O2, `make -C device-c stack`): see device-c/README.md.
 */
#ifndef VS_NVM_H
#define VS_NVM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VS_IDENTITY_MAX_BYTES 4096u

typedef struct {
  char dev[65];
  int has_authority;
  uint8_t authority[32];
  size_t ticket_len;        /* 0: none */
  uint8_t ticket[1024];
} vs_identity;

/* Parses provisioning text (key=value lines, '#' comments): v=1, dev=<id>, authority=<64 hex>
 * (optional), ticket=<hex> (optional). 0, or -1 naming the bad line in *bad_line (1-based). */
int vs_identity_parse(const char *text, size_t len, vs_identity *id, int *bad_line);

/* The seq high-water mark: 0 when never written. 0 or <0 (I/O; corrupt reads as 0 only when absent). */
int vs_nvm_seq_load(uint64_t *limit);
int vs_nvm_seq_store(uint64_t limit);

/* The ticket in use. 1 = none stored. */
int vs_nvm_ticket_load(uint8_t *ticket, size_t cap, size_t *len, uint64_t *start_seq);
int vs_nvm_ticket_store(const uint8_t *ticket, size_t len, uint64_t start_seq);
int vs_nvm_ticket_remove(void);

/* The device identity key (§3.6): loaded from the record "idkey", or, when there is none,
 * generated with vs_port_random (skS = rand(32)) and stored atomically (POSIX port: a 0600 file)
 * before it is returned (*created = 1). pk = X25519(skS). 0, or <0 (I/O, a corrupt record, no
 * randomness): a device never replaces an identity key it cannot read. */
int vs_nvm_identity_key(uint8_t sk[32], uint8_t pk[32], int *created);

/* Rotation of the identity key (§3.6 "Rotating the identity key"), on a device that is not running:
 * the current public key is stored as "idprev" first, then a fresh skS (vs_port_random) replaces the
 * record "idkey" atomically — the old secret is not kept anywhere (the RAM copies are wiped). pk_new
 * and pk_old receive the new and the previous public key. 0; 1 when there is no identity key yet
 * (it is generated at the first boot); <0 (I/O, a corrupt record, no randomness). */
int vs_nvm_identity_key_rotate(uint8_t pk_new[32], uint8_t pk_old[32]);

/* The previous identity public key ("idprev"): 0, 1 when there is none, <0 when unreadable or corrupt. */
int vs_nvm_identity_previous(uint8_t pk[32]);

/* ---- outbox: VS_OUTBOX_SLOTS slots, each one sealed envelope ---- */
#define VS_OUTBOX_SLOTS 256u /* 64 s of spo2 at 4 Hz without an ack; a full outbox stops measuring (§8.7) */
#define VS_OUTBOX_HEADER 16u /* magic u32, seq u64, len u16, reserved u16 */
#define VS_OUTBOX_SLOT_SIZE (VS_OUTBOX_HEADER + 4096u + 4u) /* + CRC-32 after the envelope */

typedef struct {
  uint8_t used;
  uint8_t inflight;
  uint16_t len;
  uint32_t attempts;
  uint64_t seq;
  uint64_t sent_at;   /* monotonic ms of the last transmission */
} vs_outbox_entry;

typedef struct {
  vs_outbox_entry e[VS_OUTBOX_SLOTS];
  uint32_t torn;      /* slots found corrupt at boot (a write cut by a crash) */
} vs_outbox;

/* Opens the port's outbox and rebuilds the index from the slots. 0 or <0. */
int vs_outbox_restore(vs_outbox *ob);
/* A free slot index, or -1 when full. */
int vs_outbox_free_slot(const vs_outbox *ob);
/* Persists envelope env (len bytes) as `seq` in slot i: header, envelope and CRC written and
 * synced before it returns (§8.7: in NVM before the first transmission). `rec` is a work buffer
 * of VS_OUTBOX_SLOT_SIZE bytes whose bytes [VS_OUTBOX_HEADER..) already hold the envelope. */
int vs_outbox_commit(vs_outbox *ob, int i, uint64_t seq, uint8_t *rec, size_t len);
/* Reads slot i's envelope into rec (VS_OUTBOX_SLOT_SIZE bytes); *env points into it. 0 or <0. */
int vs_outbox_load(const vs_outbox *ob, int i, uint8_t *rec, const uint8_t **env, size_t *len);
/* Slot holding `seq`, or -1. */
int vs_outbox_find(const vs_outbox *ob, uint64_t seq);
void vs_outbox_remove(vs_outbox *ob, int i);
/* Next to send: the used, not-in-flight slot of lowest seq, or -1. */
int vs_outbox_next(const vs_outbox *ob);
unsigned vs_outbox_count(const vs_outbox *ob, int inflight_only);
/* Highest seq stored + 1, or 0 when empty. */
uint64_t vs_outbox_seq_end(const vs_outbox *ob);

#ifdef __cplusplus
}
#endif

#endif
