/*
 * ticket.c: session ticket verification (docs/PROTOCOL.md §7): COSE_Sign1 structure, EdDSA
 * signature over the Sig_structure with the pinned authority key, the §7.1 payload rules, the
 * device and the time, in the §7.3 order. The payload is interpreted only after its signature
 * verified. No heap; the Sig_structure is built in one stack buffer (the ticket is <= 1024 bytes).
 */
#include "vs_ticket.h"

#include <string.h>

#include "fields.h"
#include "vs_cbor_dec.h"
#include "vs_port.h"

static const vs_cbor_limits TICKET_LIM = {VS_TICKET_MAX_BYTES, 8, 1024, 4096, 18};
static const vs_cbor_limits PROTECTED_LIM = {4096, 8, 1024, 4096, -1};
static const vs_cbor_limits PAYLOAD_LIM = {VS_TICKET_MAX_BYTES, 2, 16, 4096, -1};

const char *vs_ticket_code_name(int code) {
  switch (code) {
    case VS_TICKET_OK: return "OK";
    case VS_TICKET_MALFORMED: return "TICKET_MALFORMED";
    case VS_TICKET_BAD_SIGNATURE: return "TICKET_BAD_SIGNATURE";
    case VS_TICKET_WRONG_DEVICE: return "TICKET_WRONG_DEVICE";
    case VS_TICKET_NOT_YET_VALID: return "TICKET_NOT_YET_VALID";
    case VS_TICKET_EXPIRED: return "TICKET_EXPIRED";
    case VS_TICKET_EXHAUSTED: return "SIM_TICKET_EXHAUSTED";
    case VS_TICKET_NO_AUTHORITY_KEY: return "SIM_NO_AUTHORITY_KEY";
    case VS_TICKET_IDENTITY_KEY_MISMATCH: return "SIM_IDENTITY_KEY_MISMATCH";
    case VS_TICKET_IDENTITY_KEY_ROTATED: return "SIM_IDENTITY_KEY_ROTATED";
    default: return "TICKET_MALFORMED";
  }
}

typedef struct {
  const uint8_t *prot;
  size_t prot_len;
  const uint8_t *payload;
  size_t payload_len;
  const uint8_t *sig;
  size_t sig_len;
  int alg_eddsa; /* protected alg (label 1) is -8 */
} sign1_t;

/* Step 1 (and the header rules of §7.2): a strict COSE_Sign1, tag 18 or none. */
static int decode_sign1(const uint8_t *t, size_t n, sign1_t *m) {
  if (n > VS_TICKET_MAX_BYTES) return VS_TICKET_MALFORMED;
  if (vs_cbor_check(t, n, &TICKET_LIM) != VS_CBOR_OK) return VS_TICKET_MALFORMED;
  vs_cbor_rd r = {t, n, 0};
  vs_cbor_item it, unprot, payload, sig;
  if (vs_cbor_next(&r, &it) != 0) return VS_TICKET_MALFORMED;
  if (it.major == VS_CB_TAG && vs_cbor_next(&r, &it) != 0) return VS_TICKET_MALFORMED;
  if (it.major != VS_CB_ARRAY || it.arg != 4) return VS_TICKET_MALFORMED;
  if (vs_cbor_next(&r, &it) != 0 || it.major != VS_CB_BYTES) return VS_TICKET_MALFORMED;
  m->prot = it.str;
  m->prot_len = (size_t)it.arg;
  size_t unprot_at = r.pos;
  if (vs_cbor_next(&r, &unprot) != 0 || unprot.major != VS_CB_MAP) return VS_TICKET_MALFORMED;
  r.pos = unprot_at;
  if (vs_cbor_skip(&r) != 0) return VS_TICKET_MALFORMED;
  if (vs_cbor_next(&r, &payload) != 0 || payload.major != VS_CB_BYTES) return VS_TICKET_MALFORMED;
  if (vs_cbor_next(&r, &sig) != 0 || sig.major != VS_CB_BYTES) return VS_TICKET_MALFORMED;
  m->payload = payload.str;
  m->payload_len = (size_t)payload.arg;
  m->sig = sig.str;
  m->sig_len = (size_t)sig.arg;
  m->alg_eddsa = 0;
  if (m->prot_len == 0) return VS_TICKET_OK; /* the empty map: no alg (refused at step 2) */
  if (vs_cbor_check(m->prot, m->prot_len, &PROTECTED_LIM) != VS_CBOR_OK) return VS_TICKET_MALFORMED;
  vs_cbor_rd pr = {m->prot, m->prot_len, 0};
  vs_cbor_item pm, pk;
  if (vs_cbor_next(&pr, &pm) != 0 || pm.major != VS_CB_MAP) return VS_TICKET_MALFORMED;
  for (uint64_t i = 0; i < pm.arg; i++) {
    if (vs_cbor_next(&pr, &pk) != 0) return VS_TICKET_MALFORMED;
    /* a label in both buckets is refused (§7.2) */
    vs_cbor_rd ur = {t, n, unprot_at};
    vs_cbor_item um, uk;
    if (vs_cbor_next(&ur, &um) != 0) return VS_TICKET_MALFORMED;
    for (uint64_t j = 0; j < um.arg; j++) {
      if (vs_cbor_next(&ur, &uk) != 0) return VS_TICKET_MALFORMED;
      if (vs_cbor_same_key(&pk, &uk)) return VS_TICKET_MALFORMED;
      if (vs_cbor_skip(&ur) != 0) return VS_TICKET_MALFORMED;
    }
    size_t value_at = pr.pos;
    vs_cbor_item v;
    if (vs_cbor_next(&pr, &v) != 0) return VS_TICKET_MALFORMED;
    if (pk.major == VS_CB_UINT && pk.arg == 1) m->alg_eddsa = v.major == VS_CB_NEGINT && v.arg == 7;
    pr.pos = value_at;
    if (vs_cbor_skip(&pr) != 0) return VS_TICKET_MALFORMED;
  }
  return VS_TICKET_OK;
}

static int uint53(const vs_cbor_item *v, uint64_t *out) {
  if (v->major != VS_CB_UINT || v->arg > VS_UINT53_MAX_DEC) return 0;
  *out = v->arg;
  return 1;
}

/* The COSE_Key {1: 1, -1: 4, -2: x, 3: 42} exactly (§3.4); the reader is at the map head. */
static int read_cose_key(vs_cbor_rd *r, uint8_t pk[32]) {
  vs_cbor_item m, k, v;
  if (vs_cbor_next(r, &m) != 0 || m.major != VS_CB_MAP || m.arg != 4) return 0;
  int seen = 0;
  for (int i = 0; i < 4; i++) {
    if (vs_cbor_next(r, &k) != 0 || vs_cbor_next(r, &v) != 0) return 0;
    if (k.major == VS_CB_UINT && k.arg == 1 && v.major == VS_CB_UINT && v.arg == 1) seen |= 1;        /* kty OKP */
    else if (k.major == VS_CB_NEGINT && k.arg == 0 && v.major == VS_CB_UINT && v.arg == 4) seen |= 2; /* crv X25519 */
    else if (k.major == VS_CB_NEGINT && k.arg == 1 && v.major == VS_CB_BYTES && v.arg == 32) {      /* x */
      memcpy(pk, v.str, 32);
      seen |= 4;
    } else if (k.major == VS_CB_UINT && k.arg == 3 && v.major == VS_CB_UINT && v.arg == 42) seen |= 8; /* alg HPKE-4 */
    else return 0;
  }
  return seen == 15;
}

/* Step 3: the payload satisfies §7.1. */
static int parse_payload(const uint8_t *p, size_t n, vs_ticket *t) {
  enum { F_V = 1, F_DEV = 2, F_KID = 4, F_PK = 8, F_PATIENT = 16, F_NBF = 32, F_EXP = 64, F_MAX = 128, F_IDK = 256 };
  uint64_t version = 0;
  if (vs_cbor_check(p, n, &PAYLOAD_LIM) != VS_CBOR_OK) return VS_TICKET_MALFORMED;
  vs_cbor_rd r = {p, n, 0};
  vs_cbor_item m, k, v;
  if (vs_cbor_next(&r, &m) != 0 || m.major != VS_CB_MAP) return VS_TICKET_MALFORMED;
  unsigned seen = 0;
  memset(t, 0, sizeof *t);
  for (uint64_t i = 0; i < m.arg; i++) {
    if (vs_cbor_next(&r, &k) != 0 || k.major != VS_CB_TEXT) return VS_TICKET_MALFORMED;
    if (vs_cbor_is_text(&k, "pk")) {
      if (!read_cose_key(&r, t->pk)) return VS_TICKET_MALFORMED;
      seen |= F_PK;
      continue;
    }
    if (vs_cbor_is_text(&k, "idk")) { /* the device identity key (§3.6), a COSE_Key as pk */
      if (!read_cose_key(&r, t->idk)) return VS_TICKET_MALFORMED;
      t->has_idk = 1;
      seen |= F_IDK;
      continue;
    }
    if (vs_cbor_next(&r, &v) != 0) return VS_TICKET_MALFORMED;
    if (vs_cbor_is_text(&k, "v")) {
      if (v.major != VS_CB_UINT || (v.arg != 1 && v.arg != 2)) return VS_TICKET_MALFORMED;
      version = v.arg;
      seen |= F_V;
    } else if (vs_cbor_is_text(&k, "dev")) {
      if (v.major != VS_CB_TEXT || !vs_is_device_id((const char *)v.str, (size_t)v.arg)) return VS_TICKET_MALFORMED;
      t->dev = v.str;
      t->dev_len = (size_t)v.arg;
      seen |= F_DEV;
    } else if (vs_cbor_is_text(&k, "kid")) {
      if (v.major != VS_CB_BYTES || v.arg != 16) return VS_TICKET_MALFORMED;
      memcpy(t->kid, v.str, 16);
      seen |= F_KID;
    } else if (vs_cbor_is_text(&k, "patient")) {
      if (v.major != VS_CB_TEXT || !vs_text_no_cc(v.str, (size_t)v.arg, 128)) return VS_TICKET_MALFORMED;
      seen |= F_PATIENT;
    } else if (vs_cbor_is_text(&k, "nbf")) {
      if (!uint53(&v, &t->nbf)) return VS_TICKET_MALFORMED;
      seen |= F_NBF;
    } else if (vs_cbor_is_text(&k, "exp")) {
      if (!uint53(&v, &t->exp)) return VS_TICKET_MALFORMED;
      seen |= F_EXP;
    } else if (vs_cbor_is_text(&k, "maxReadings")) {
      if (!uint53(&v, &t->max_readings) || t->max_readings == 0) return VS_TICKET_MALFORMED;
      t->has_max_readings = 1;
      seen |= F_MAX;
    } else {
      return VS_TICKET_MALFORMED; /* any other key */
    }
  }
  if ((seen & 0x7f) != 0x7f) return VS_TICKET_MALFORMED;
  if ((version == 2) != ((seen & F_IDK) != 0)) return VS_TICKET_MALFORMED; /* idk present exactly in v 2 (§7.1) */
  uint8_t h[32];
  vs_port_sha256(h, t->pk, 32);
  if (memcmp(h, t->kid, 16) != 0) return VS_TICKET_MALFORMED; /* kid = SHA-256(x)[0:16] */
  if (t->exp <= t->nbf) return VS_TICKET_MALFORMED;
  return VS_TICKET_OK;
}

static size_t put_bstr_head(uint8_t *o, uint8_t major, size_t len) {
  if (len < 24) {
    o[0] = (uint8_t)(major << 5 | len);
    return 1;
  }
  if (len <= 0xff) {
    o[0] = (uint8_t)(major << 5 | 24);
    o[1] = (uint8_t)len;
    return 2;
  }
  o[0] = (uint8_t)(major << 5 | 25);
  o[1] = (uint8_t)(len >> 8);
  o[2] = (uint8_t)len;
  return 3;
}

int vs_ticket_verify(const uint8_t *t, size_t n, const uint8_t authority_pk[32], const char *device_id, uint64_t now_ms,
                     unsigned skew_s, vs_ticket *out) {
  sign1_t m;
  int rc = decode_sign1(t, n, &m);
  if (rc != VS_TICKET_OK) return rc;
  /* step 2: alg, then the signature over ["Signature1", protected, h'', payload] */
  if (!m.alg_eddsa) return VS_TICKET_MALFORMED;
  if (m.sig_len != 64) return VS_TICKET_BAD_SIGNATURE;
  uint8_t sig_structure[VS_TICKET_MAX_BYTES + 32]; /* protected + payload < 1024 (they are inside the ticket) */
  size_t o = 0;
  sig_structure[o++] = 0x84;
  o += put_bstr_head(sig_structure + o, 3, 10);
  memcpy(sig_structure + o, "Signature1", 10);
  o += 10;
  o += put_bstr_head(sig_structure + o, 2, m.prot_len);
  memcpy(sig_structure + o, m.prot, m.prot_len);
  o += m.prot_len;
  sig_structure[o++] = 0x40;
  o += put_bstr_head(sig_structure + o, 2, m.payload_len);
  memcpy(sig_structure + o, m.payload, m.payload_len);
  o += m.payload_len;
  if (vs_port_ed25519_verify(m.sig, sig_structure, o, authority_pk) != 0) return VS_TICKET_BAD_SIGNATURE;
  /* step 3 */
  rc = parse_payload(m.payload, m.payload_len, out);
  if (rc != VS_TICKET_OK) return rc;
  /* step 4 */
  size_t id_len = strlen(device_id);
  if (out->dev_len != id_len || memcmp(out->dev, device_id, id_len) != 0) return VS_TICKET_WRONG_DEVICE;
  /* steps 5 and 6: now in whole seconds, skew tolerated */
  int64_t now = (int64_t)(now_ms / 1000), skew = (int64_t)skew_s;
  if (now + skew < (int64_t)out->nbf) return VS_TICKET_NOT_YET_VALID;
  if (now - skew >= (int64_t)out->exp) return VS_TICKET_EXPIRED;
  return VS_TICKET_OK;
}

int vs_ticket_parse_unsigned(const uint8_t *t, size_t n, vs_ticket *out) {
  sign1_t m;
  int rc = decode_sign1(t, n, &m);
  if (rc != VS_TICKET_OK) return rc;
  return parse_payload(m.payload, m.payload_len, out);
}

int vs_ticket_usable(const vs_ticket *t, uint64_t now_ms, uint64_t used) {
  if (now_ms >= t->exp * 1000) return VS_TICKET_EXPIRED;
  if (now_ms < t->nbf * 1000) return VS_TICKET_NOT_YET_VALID;
  if (t->has_max_readings && used >= t->max_readings) return VS_TICKET_EXHAUSTED;
  return VS_TICKET_OK;
}
