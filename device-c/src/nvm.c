/*
 * nvm.c: identity (provisioning text), seq high-water mark and ticket records on the storage
 * port. Records: magic ‖ fields (little endian) ‖ CRC-32 of everything before it.
 */
#include "vs_nvm.h"

#include "hpke.h"

#include <string.h>

#include "fields.h"
#include "vs_cbor_dec.h"
#include "vs_frame.h"
#include "vs_port.h"

static void le64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t rd64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}
static void le32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int unhex(const char *s, size_t n, uint8_t *out, size_t cap, size_t *len) {
  if (n % 2 != 0 || n / 2 > cap) return -1;
  for (size_t i = 0; i < n / 2; i++) {
    int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return -1;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  *len = n / 2;
  return 0;
}

int vs_identity_parse(const char *text, size_t len, vs_identity *id, int *bad_line) {
  memset(id, 0, sizeof *id);
  size_t at = 0;
  int line = 0, have_v = 0;
  *bad_line = 0;
  while (at < len) {
    size_t end = at;
    while (end < len && text[end] != '\n') end++;
    line++;
    size_t a = at, b = end;
    at = end + 1;
    while (a < b && (text[a] == ' ' || text[a] == '\t')) a++;
    while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' || text[b - 1] == '\r')) b--;
    if (a == b || text[a] == '#') continue;
    size_t eq = a;
    while (eq < b && text[eq] != '=') eq++;
    if (eq == b) goto bad;
    const char *key = text + a, *val = text + eq + 1;
    size_t klen = eq - a, vlen = b - eq - 1;
    size_t got;
    if (klen == 1 && memcmp(key, "v", 1) == 0) {
      if (vlen != 1 || val[0] != '1') goto bad;
      have_v = 1;
    } else if (klen == 3 && memcmp(key, "dev", 3) == 0) {
      if (!vs_is_device_id(val, vlen)) goto bad;
      memcpy(id->dev, val, vlen);
      id->dev[vlen] = '\0';
    } else if (klen == 9 && memcmp(key, "authority", 9) == 0) {
      if (unhex(val, vlen, id->authority, 32, &got) != 0 || got != 32) goto bad;
      id->has_authority = 1;
    } else if (klen == 6 && memcmp(key, "ticket", 6) == 0) {
      if (unhex(val, vlen, id->ticket, sizeof id->ticket, &got) != 0 || got == 0) goto bad;
      id->ticket_len = got;
    } else {
      goto bad;
    }
  }
  if (!have_v || id->dev[0] == '\0') {
    *bad_line = 0;
    return -1;
  }
  return 0;
bad:
  *bad_line = line;
  return -1;
}

#define SEQ_MAGIC 0x51535356u    /* "VSSQ" */
#define TICKET_MAGIC 0x4b545356u /* "VSTK" */
#define OUTBOX_MAGIC 0x424f5356u /* "VSOB" */

int vs_nvm_seq_load(uint64_t *limit) {
  uint8_t r[16];
  size_t n;
  int rc = vs_port_storage_read("seq", r, sizeof r, &n);
  *limit = 0;
  if (rc == 1) return 0;
  if (rc != 0) return -1;
  if (n != 16 || rd32(r) != SEQ_MAGIC || vs_crc32(r, 12) != rd32(r + 12)) return -1; /* never torn: written atomically */
  *limit = rd64(r + 4);
  return 0;
}

int vs_nvm_seq_store(uint64_t limit) {
  uint8_t r[16];
  le32(r, SEQ_MAGIC);
  le64(r + 4, limit);
  le32(r + 12, vs_crc32(r, 12));
  return vs_port_storage_write_atomic("seq", r, sizeof r);
}

int vs_nvm_ticket_load(uint8_t *ticket, size_t cap, size_t *len, uint64_t *start_seq) {
  uint8_t r[16 + 1024 + 4];
  size_t n;
  int rc = vs_port_storage_read("ticket", r, sizeof r, &n);
  if (rc != 0) return rc;
  if (n < 18 || rd32(r) != TICKET_MAGIC || vs_crc32(r, n - 4) != rd32(r + n - 4)) return -1;
  size_t tl = (size_t)r[12] | (size_t)r[13] << 8;
  if (tl != n - 18 || tl > cap) return -1;
  memcpy(ticket, r + 14, tl);
  *len = tl;
  *start_seq = rd64(r + 4);
  return 0;
}

int vs_nvm_ticket_store(const uint8_t *ticket, size_t len, uint64_t start_seq) {
  uint8_t r[16 + 1024 + 4];
  if (len > 1024) return -1;
  le32(r, TICKET_MAGIC);
  le64(r + 4, start_seq);
  r[12] = (uint8_t)len;
  r[13] = (uint8_t)(len >> 8);
  memcpy(r + 14, ticket, len);
  le32(r + 14 + len, vs_crc32(r, 14 + len));
  return vs_port_storage_write_atomic("ticket", r, 18 + len);
}

int vs_nvm_ticket_remove(void) { return vs_port_storage_remove("ticket"); }

/* ------------------------------------------------------- identity key (§3.6) */

#define IDKEY_MAGIC 0x4b495356u /* "VSIK" */

int vs_nvm_identity_key(uint8_t sk[32], uint8_t pk[32], int *created) {
  uint8_t r[40];
  size_t n;
  int rc;
  *created = 0;
  rc = vs_port_storage_read("idkey", r, sizeof r, &n);
  if (rc == 0) {
    if (n != sizeof r || rd32(r) != IDKEY_MAGIC || vs_crc32(r, 36) != rd32(r + 36)) rc = -1;
    else memcpy(sk, r + 4, 32);
  } else if (rc == 1) { /* first boot (of a firmware with identity keys): a fresh key, stored before use */
    le32(r, IDKEY_MAGIC);
    if (vs_port_random(r + 4, 32) != 0) rc = -1;
    else {
      le32(r + 36, vs_crc32(r, 36));
      rc = vs_port_storage_write_atomic("idkey", r, sizeof r) == 0 ? 0 : -1;
      if (rc == 0) {
        memcpy(sk, r + 4, 32);
        *created = 1;
      }
    }
  } else {
    rc = -1;
  }
  if (rc == 0 && vs_port_x25519_base(pk, sk) != 0) rc = -1;
  vs_wipe(r, sizeof r);
  if (rc != 0) {
    vs_wipe(sk, 32);
    *created = 0;
  }
  return rc;
}

#define IDPREV_MAGIC 0x50495356u /* "VSIP" */

int vs_nvm_identity_previous(uint8_t pk[32]) {
  uint8_t r[40];
  size_t n;
  int rc = vs_port_storage_read("idprev", r, sizeof r, &n);
  if (rc == 1) return 1;
  if (rc != 0 || n != sizeof r || rd32(r) != IDPREV_MAGIC || vs_crc32(r, 36) != rd32(r + 36)) return -1;
  memcpy(pk, r + 4, 32);
  return 0;
}

int vs_nvm_identity_key_rotate(uint8_t pk_new[32], uint8_t pk_old[32]) {
  uint8_t r[40], sk[32];
  size_t n;
  int created, rc = vs_port_storage_read("idkey", r, sizeof r, &n);
  vs_wipe(r, sizeof r);
  if (rc == 1) return 1; /* never booted: nothing to rotate (and nothing is created here) */
  if (rc != 0 || vs_nvm_identity_key(sk, pk_old, &created) != 0) return -1;
  vs_wipe(sk, sizeof sk);
  /* 1. the previous PUBLIC key, so that a ticket certifying it is refused as ROTATED */
  le32(r, IDPREV_MAGIC);
  memcpy(r + 4, pk_old, 32);
  le32(r + 36, vs_crc32(r, 36));
  if (vs_port_storage_write_atomic("idprev", r, sizeof r) != 0) return -1;
  /* 2. a fresh secret replaces the old one (an atomic replace: the old record is gone) */
  le32(r, IDKEY_MAGIC);
  if (vs_port_random(r + 4, 32) != 0) rc = -1;
  else {
    le32(r + 36, vs_crc32(r, 36));
    rc = vs_port_storage_write_atomic("idkey", r, sizeof r) == 0 ? 0 : -1;
    if (rc == 0 && vs_port_x25519_base(pk_new, r + 4) != 0) rc = -1;
  }
  vs_wipe(r, sizeof r);
  return rc;
}

/* ------------------------------------------------------------------ outbox */

int vs_outbox_restore(vs_outbox *ob) {
  static uint8_t rec[VS_OUTBOX_SLOT_SIZE]; /* boot only */
  memset(ob, 0, sizeof *ob);
  if (vs_port_outbox_open(VS_OUTBOX_SLOTS, VS_OUTBOX_SLOT_SIZE) != 0) return -1;
  for (unsigned i = 0; i < VS_OUTBOX_SLOTS; i++) {
    if (vs_port_outbox_read(i, rec, VS_OUTBOX_SLOT_SIZE) != 0) return -1;
    uint32_t magic = rd32(rec);
    if (magic == 0) continue;
    size_t len = (size_t)rec[12] | (size_t)rec[13] << 8;
    if (magic != OUTBOX_MAGIC || len == 0 || len > 4096 ||
        vs_crc32(rec, VS_OUTBOX_HEADER + len) != rd32(rec + VS_OUTBOX_HEADER + len)) {
      ob->torn++;
      vs_port_outbox_free(i);
      continue;
    }
    ob->e[i].used = 1;
    ob->e[i].seq = rd64(rec + 4);
    ob->e[i].len = (uint16_t)len;
  }
  return 0;
}

int vs_outbox_free_slot(const vs_outbox *ob) {
  for (unsigned i = 0; i < VS_OUTBOX_SLOTS; i++)
    if (!ob->e[i].used) return (int)i;
  return -1;
}

int vs_outbox_commit(vs_outbox *ob, int i, uint64_t seq, uint8_t *rec, size_t len) {
  if (i < 0 || (unsigned)i >= VS_OUTBOX_SLOTS || len == 0 || len > 4096) return -1;
  le32(rec, OUTBOX_MAGIC);
  le64(rec + 4, seq);
  rec[12] = (uint8_t)len;
  rec[13] = (uint8_t)(len >> 8);
  rec[14] = rec[15] = 0;
  le32(rec + VS_OUTBOX_HEADER + len, vs_crc32(rec, VS_OUTBOX_HEADER + len));
  if (vs_port_outbox_write((size_t)i, rec, VS_OUTBOX_HEADER + len + 4) != 0) return -1;
  vs_outbox_entry *e = &ob->e[i];
  memset(e, 0, sizeof *e);
  e->used = 1;
  e->seq = seq;
  e->len = (uint16_t)len;
  return 0;
}

int vs_outbox_load(const vs_outbox *ob, int i, uint8_t *rec, const uint8_t **env, size_t *len) {
  if (i < 0 || (unsigned)i >= VS_OUTBOX_SLOTS || !ob->e[i].used) return -1;
  if (vs_port_outbox_read((size_t)i, rec, VS_OUTBOX_SLOT_SIZE) != 0) return -1;
  size_t n = ob->e[i].len;
  if (rd32(rec) != OUTBOX_MAGIC || rd64(rec + 4) != ob->e[i].seq || vs_crc32(rec, VS_OUTBOX_HEADER + n) != rd32(rec + VS_OUTBOX_HEADER + n))
    return -1;
  *env = rec + VS_OUTBOX_HEADER;
  *len = n;
  return 0;
}

int vs_outbox_find(const vs_outbox *ob, uint64_t seq) {
  for (unsigned i = 0; i < VS_OUTBOX_SLOTS; i++)
    if (ob->e[i].used && ob->e[i].seq == seq) return (int)i;
  return -1;
}

void vs_outbox_remove(vs_outbox *ob, int i) {
  if (i < 0 || (unsigned)i >= VS_OUTBOX_SLOTS) return;
  vs_port_outbox_free((size_t)i);
  memset(&ob->e[i], 0, sizeof ob->e[i]);
}

int vs_outbox_next(const vs_outbox *ob) {
  int best = -1;
  for (unsigned i = 0; i < VS_OUTBOX_SLOTS; i++) {
    const vs_outbox_entry *e = &ob->e[i];
    if (e->used && !e->inflight && (best < 0 || e->seq < ob->e[best].seq)) best = (int)i;
  }
  return best;
}

unsigned vs_outbox_count(const vs_outbox *ob, int inflight_only) {
  unsigned n = 0;
  for (unsigned i = 0; i < VS_OUTBOX_SLOTS; i++) n += ob->e[i].used && (!inflight_only || ob->e[i].inflight);
  return n;
}

uint64_t vs_outbox_seq_end(const vs_outbox *ob) {
  uint64_t end = 0;
  for (unsigned i = 0; i < VS_OUTBOX_SLOTS; i++)
    if (ob->e[i].used && ob->e[i].seq + 1 > end) end = ob->e[i].seq + 1;
  return end;
}
