/*
 * vs-kat: known-answer driver of the device-c sealing core, for
 * test/deviceC/kat.test.ts. Reads one command per line on stdin and writes
 * one line per command on stdout:
 *
 *   ok name=hex name=hex ...      success (fields in the order listed below)
 *   err VS_ERR_NAME [canary=ok|hit]
 *
 * Arguments are separated by spaces; byte strings are hex ("-" = empty),
 * numbers decimal. Commands:
 *
 *   kid PK                                     -> kid
 *   sha256 MSG                                 -> hash
 *   reading ST TS UNIT VALUES CAP              -> plaintext   (ST, UNIT hex of UTF-8;
 *        VALUES comma-separated: i<decimal> for every value (ints), or f<16 hex> IEEE-754 bits
 *        (floats); CAP decimal or "max")
 *   seal DEV SEQ TS ST PT PKR KID SKE CAP      -> envelope    (SKE "-": fresh from vs_port_random)
 *   seal-auth DEV SEQ TS ST PT PKR KID SKS SKE CAP -> envelope (auth mode, identity key SKS)
 *   session-setup PKR SKE                      -> enc kid     (SKE "-": fresh)
 *   session-setup-auth PKR SKS SKE             -> enc kid     (SetupAuthS; SKE "-": fresh)
 *   session-seal DEV SEQ TS ST PT CAP          -> envelope hs
 *   session-set-hs N                           -> (sets next_hs: overflow tests)
 *   session-wipe
 *   encap PKR SKE                              -> enc dh shared_secret
 *   auth-encap PKR SKE SKS                     -> enc dh (64 bytes) shared_secret
 *   schedule SHARED_SECRET INFO                -> key_schedule_context secret key base_nonce exporter_secret
 *   schedule-auth SHARED_SECRET INFO           -> the same in mode_auth (0x02)
 *   hpke-seal PKR SKE INFO AAD PT SEQ          -> enc key base_nonce nonce ct
 *   hpke-open SKR ENC INFO AAD CT SEQ          -> key base_nonce nonce pt     (err VS_ERR_OPEN)
 *   export EXPORTER_SECRET CONTEXT L           -> value
 *   derive IKM                                 -> dkp_prk sk pk
 *   hkdf SALT IKM INFO L                       -> prk okm
 *   x25519 SK PK                               -> shared    (err VS_ERR_DH_ALL_ZERO)
 *   ed25519-verify SIG MSG PK                  -> (ok or err VS_ERR_SIGNATURE)
 *   err-name N                                 -> name=<ascii hex>
 *
 * The driver (not the library) allocates each output buffer with malloc at
 * exactly CAP bytes, so the ASan build catches any write past cap.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpke.h"
#include "vs_err.h"
#include "vs_port.h"
#include "vs_seal.h"

#define MAX_ARGS 16
#define MAX_BYTES 70000

static char line[1 << 20];
static uint8_t bufs[MAX_ARGS][MAX_BYTES];
static size_t lens[MAX_ARGS];
static char *argv_[MAX_ARGS];
static int argc_;
static vs_session session;
static int64_t ivals[VS_READING_MAX_VALUES + 8];
static double fvals[VS_READING_MAX_VALUES + 8];

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Parses argument i as hex into bufs[i] / lens[i]; 0 on success. */
static int hex_arg(int i) {
  const char *s = argv_[i];
  size_t n = strlen(s);
  lens[i] = 0;
  if (strcmp(s, "-") == 0) return 0;
  if (n % 2 || n / 2 > MAX_BYTES) return -1;
  for (size_t k = 0; k < n / 2; k++) {
    int hi = hexval(s[2 * k]), lo = hexval(s[2 * k + 1]);
    if (hi < 0 || lo < 0) return -1;
    bufs[i][k] = (uint8_t)(hi << 4 | lo);
  }
  lens[i] = n / 2;
  return 0;
}

static int hex_args(int from, int to) {
  for (int i = from; i <= to; i++)
    if (hex_arg(i) != 0) return -1;
  return 0;
}

/* hex argument as a NUL-terminated string (in bufs[i]). */
static const char *str_arg(int i) {
  if (hex_arg(i) != 0 || lens[i] >= MAX_BYTES) return NULL;
  bufs[i][lens[i]] = 0;
  return (const char *)bufs[i];
}

static int u64_arg(int i, uint64_t *v) {
  char *end;
  errno = 0;
  unsigned long long x = strtoull(argv_[i], &end, 10);
  if (errno || *end || argv_[i][0] == '-') return -1;
  *v = (uint64_t)x;
  return 0;
}

static int need(int n, int want) {
  if (n != want) {
    printf("err usage\n");
    return 0;
  }
  return 1;
}

static void put_hex(const char *name, const uint8_t *p, size_t n) {
  printf(" %s=", name);
  if (n == 0) printf("-");
  for (size_t i = 0; i < n; i++) printf("%02x", p[i]);
}

static void put_err(int rc) { printf("err %s", vs_err_name(rc)); }

/* An output buffer of exactly cap bytes (+ an 8-byte canary the library must not touch). */
typedef struct {
  uint8_t *p;
  size_t cap;
} outbuf;

static int out_alloc(outbuf *o, const char *cap_arg, size_t max) {
  uint64_t cap = max;
  if (strcmp(cap_arg, "max") != 0 && (sscanf(cap_arg, "%llu", (unsigned long long *)&cap) != 1 || cap > max)) return -1;
  o->cap = (size_t)cap;
  o->p = malloc(o->cap + 8);
  if (!o->p) return -1;
  memset(o->p + o->cap, 0xa5, 8);
  return 0;
}

static const char *out_canary(const outbuf *o) {
  for (size_t i = 0; i < 8; i++)
    if (o->p[o->cap + i] != 0xa5) return "hit";
  return "ok";
}

static void cmd_reading(void) {
  vs_reading r;
  outbuf o;
  size_t n = 0, len = 0;
  int floats = 0;
  if (!need(argc_, 6)) return;
  memset(&r, 0, sizeof r);
  r.st = str_arg(1);
  r.unit = str_arg(3);
  if (!r.st || !r.unit || u64_arg(2, &r.ts_ms) != 0) {
    printf("err usage\n");
    return;
  }
  /* "-": no values */
  char *list = strcmp(argv_[4], "-") == 0 ? NULL : argv_[4];
  for (char *tok = list ? strtok(list, ",") : NULL; tok; tok = strtok(NULL, ",")) {
    if (n >= VS_READING_MAX_VALUES + 8) break;
    if (tok[0] == 'i') {
      ivals[n] = strtoll(tok + 1, NULL, 10);
      fvals[n] = (double)ivals[n];
    } else if (tok[0] == 'f') {
      uint64_t bits = strtoull(tok + 1, NULL, 16);
      memcpy(&fvals[n], &bits, 8);
      floats = 1;
    } else {
      printf("err usage\n");
      return;
    }
    n++;
  }
  r.n = n;
  if (floats) r.fvals = fvals;
  else r.ivals = ivals;
  if (out_alloc(&o, argv_[5], VS_READING_MAX_BYTES + 64) != 0) {
    printf("err usage\n");
    return;
  }
  int rc = vs_reading_encode(o.p, o.cap, &len, &r);
  if (rc == VS_OK) {
    printf("ok");
    put_hex("plaintext", o.p, len);
  } else {
    put_err(rc);
    printf(" canary=%s", out_canary(&o));
  }
  printf("\n");
  free(o.p);
}

static int header_args(vs_header *h, int dev, int seq, int ts, int st) {
  memset(h, 0, sizeof *h);
  h->dev = str_arg(dev);
  h->st = str_arg(st);
  if (!h->dev || !h->st || u64_arg(seq, &h->seq) != 0 || u64_arg(ts, &h->ts_ms) != 0) return -1;
  return 0;
}

static void cmd_seal(void) {
  vs_header h;
  outbuf o;
  size_t len = 0;
  int rc;
  if (!need(argc_, 10)) return;
  if (header_args(&h, 1, 2, 3, 4) != 0 || hex_args(5, 8) != 0 || lens[6] != 32 || lens[7] != 16 ||
      (lens[8] != 32 && lens[8] != 0) || out_alloc(&o, argv_[9], VS_ENVELOPE_MAX_BYTES + 64) != 0) {
    printf("err usage\n");
    return;
  }
  if (lens[8] == 32)
    rc = vs_seal_reading_with_ephemeral(o.p, o.cap, &len, &h, bufs[5], lens[5], bufs[6], bufs[7], bufs[8]);
  else
    rc = vs_seal_reading(o.p, o.cap, &len, &h, bufs[5], lens[5], bufs[6], bufs[7]);
  if (rc == VS_OK) {
    printf("ok");
    put_hex("envelope", o.p, len);
  } else {
    put_err(rc);
    printf(" canary=%s len=%zu", out_canary(&o), len);
  }
  printf("\n");
  free(o.p);
}

static void cmd_seal_auth(void) {
  vs_header h;
  outbuf o;
  size_t len = 0;
  int rc;
  if (!need(argc_, 11)) return;
  if (header_args(&h, 1, 2, 3, 4) != 0 || hex_args(5, 9) != 0 || lens[6] != 32 || lens[7] != 16 || lens[8] != 32 ||
      (lens[9] != 32 && lens[9] != 0) || out_alloc(&o, argv_[10], VS_ENVELOPE_MAX_BYTES + 64) != 0) {
    printf("err usage\n");
    return;
  }
  if (lens[9] == 32)
    rc = vs_seal_reading_auth_with_ephemeral(o.p, o.cap, &len, &h, bufs[5], lens[5], bufs[6], bufs[7], bufs[8], bufs[9]);
  else
    rc = vs_seal_reading_auth(o.p, o.cap, &len, &h, bufs[5], lens[5], bufs[6], bufs[7], bufs[8]);
  if (rc == VS_OK) {
    printf("ok");
    put_hex("envelope", o.p, len);
  } else {
    put_err(rc);
    printf(" canary=%s len=%zu", out_canary(&o), len);
  }
  printf("\n");
  free(o.p);
}

static void cmd_session_setup_auth(void) {
  int rc;
  if (!need(argc_, 4)) return;
  if (hex_args(1, 3) != 0 || lens[1] != 32 || lens[2] != 32 || (lens[3] != 32 && lens[3] != 0)) {
    printf("err usage\n");
    return;
  }
  rc = lens[3] ? vs_session_setup_auth_with_ephemeral(&session, bufs[1], bufs[2], bufs[3])
               : vs_session_setup_auth(&session, bufs[1], bufs[2]);
  if (rc == VS_OK) {
    printf("ok");
    put_hex("enc", session.enc, 32);
    put_hex("kid", session.kid, 16);
  } else {
    put_err(rc);
  }
  printf("\n");
}

static void cmd_auth_encap(void) {
  uint8_t ss[32], enc[32], dh[64];
  if (!need(argc_, 4)) return;
  if (hex_args(1, 3) != 0 || lens[1] != 32 || lens[2] != 32 || lens[3] != 32) {
    printf("err usage\n");
    return;
  }
  int rc = vs_hpke_auth_encap(ss, enc, dh, bufs[1], bufs[2], bufs[3]);
  if (rc != VS_OK) {
    put_err(rc);
    printf("\n");
    return;
  }
  printf("ok");
  put_hex("enc", enc, 32);
  put_hex("dh", dh, 64);
  put_hex("shared_secret", ss, 32);
  printf("\n");
}

static void cmd_session_setup(void) {
  int rc;
  if (!need(argc_, 3)) return;
  if (hex_args(1, 2) != 0 || lens[1] != 32 || (lens[2] != 32 && lens[2] != 0)) {
    printf("err usage\n");
    return;
  }
  rc = lens[2] ? vs_session_setup_with_ephemeral(&session, bufs[1], bufs[2]) : vs_session_setup(&session, bufs[1]);
  if (rc == VS_OK) {
    printf("ok");
    put_hex("enc", session.enc, 32);
    put_hex("kid", session.kid, 16);
  } else {
    put_err(rc);
  }
  printf("\n");
}

static void cmd_session_seal(void) {
  vs_header h;
  outbuf o;
  size_t len = 0;
  uint64_t hs = session.next_hs;
  if (!need(argc_, 7)) return;
  if (header_args(&h, 1, 2, 3, 4) != 0 || hex_arg(5) != 0 || out_alloc(&o, argv_[6], VS_ENVELOPE_MAX_BYTES + 64) != 0) {
    printf("err usage\n");
    return;
  }
  int rc = vs_session_seal(&session, o.p, o.cap, &len, &h, bufs[5], lens[5]);
  if (rc == VS_OK) {
    printf("ok");
    put_hex("envelope", o.p, len);
    printf(" hs=%llu", (unsigned long long)hs);
  } else {
    put_err(rc);
    printf(" canary=%s len=%zu next_hs=%llu", out_canary(&o), len, (unsigned long long)session.next_hs);
  }
  printf("\n");
  free(o.p);
}

static void cmd_encap(void) {
  uint8_t ss[32], enc[32], dh[32];
  if (!need(argc_, 3)) return;
  if (hex_args(1, 2) != 0 || lens[1] != 32 || lens[2] != 32) {
    printf("err usage\n");
    return;
  }
  int rc = vs_hpke_encap(ss, enc, dh, bufs[1], bufs[2]);
  if (rc != VS_OK) {
    put_err(rc);
    printf("\n");
    return;
  }
  printf("ok");
  put_hex("enc", enc, 32);
  put_hex("dh", dh, 32);
  put_hex("shared_secret", ss, 32);
  printf("\n");
}

static void print_schedule(const uint8_t ksc[65], const uint8_t secret[32], const vs_hpke_ctx *ctx) {
  put_hex("key_schedule_context", ksc, 65);
  put_hex("secret", secret, 32);
  put_hex("key", ctx->key, 32);
  put_hex("base_nonce", ctx->base_nonce, 12);
  put_hex("exporter_secret", ctx->exporter_secret, 32);
}

static void cmd_schedule(uint8_t mode) {
  vs_hpke_ctx ctx;
  uint8_t ksc[65], secret[32];
  if (!need(argc_, 3)) return;
  if (hex_args(1, 2) != 0 || lens[1] != 32) {
    printf("err usage\n");
    return;
  }
  int rc = mode == VS_HPKE_MODE_BASE ? vs_hpke_key_schedule(&ctx, ksc, secret, bufs[1], bufs[2], lens[2], 1)
                                     : vs_hpke_key_schedule_mode(&ctx, ksc, secret, bufs[1], bufs[2], lens[2], 1, mode);
  if (rc != VS_OK) {
    put_err(rc);
    printf("\n");
    return;
  }
  printf("ok");
  print_schedule(ksc, secret, &ctx);
  printf("\n");
}

static uint8_t pt_out[MAX_BYTES];

static void cmd_hpke_seal(void) {
  vs_hpke_ctx ctx;
  uint8_t ss[32], enc[32], nonce[12];
  uint64_t seq;
  if (!need(argc_, 7)) return;
  if (hex_args(1, 5) != 0 || lens[1] != 32 || lens[2] != 32 || u64_arg(6, &seq) != 0 || lens[5] + 16 > MAX_BYTES) {
    printf("err usage\n");
    return;
  }
  int rc = vs_hpke_encap(ss, enc, NULL, bufs[1], bufs[2]);
  if (rc == VS_OK) rc = vs_hpke_key_schedule(&ctx, NULL, NULL, ss, bufs[3], lens[3], 1);
  if (rc == VS_OK) {
    vs_hpke_nonce(nonce, ctx.base_nonce, seq);
    if (vs_port_aead_seal(pt_out, ctx.key, nonce, bufs[4], lens[4], bufs[5], lens[5]) != 0) rc = VS_ERR_CRYPTO;
  }
  if (rc != VS_OK) {
    put_err(rc);
    printf("\n");
    return;
  }
  printf("ok");
  put_hex("enc", enc, 32);
  put_hex("key", ctx.key, 32);
  put_hex("base_nonce", ctx.base_nonce, 12);
  put_hex("nonce", nonce, 12);
  put_hex("ct", pt_out, lens[5] + 16);
  printf("\n");
}

static void cmd_hpke_open(void) {
  vs_hpke_ctx ctx;
  uint8_t ss[32], nonce[12];
  uint64_t seq;
  if (!need(argc_, 7)) return;
  if (hex_args(1, 5) != 0 || lens[1] != 32 || lens[2] != 32 || u64_arg(6, &seq) != 0) {
    printf("err usage\n");
    return;
  }
  int rc = vs_hpke_decap(ss, bufs[2], bufs[1]);
  if (rc == VS_OK) rc = vs_hpke_key_schedule(&ctx, NULL, NULL, ss, bufs[3], lens[3], 1);
  if (rc == VS_OK) {
    vs_hpke_nonce(nonce, ctx.base_nonce, seq);
    if (lens[5] < 16 || vs_port_aead_open(pt_out, ctx.key, nonce, bufs[4], lens[4], bufs[5], lens[5]) != 0)
      rc = VS_ERR_OPEN;
  }
  if (rc != VS_OK) {
    put_err(rc);
    printf("\n");
    return;
  }
  printf("ok");
  put_hex("key", ctx.key, 32);
  put_hex("base_nonce", ctx.base_nonce, 12);
  put_hex("nonce", nonce, 12);
  put_hex("pt", pt_out, lens[5] - 16);
  printf("\n");
}

static void cmd_export(void) {
  uint8_t out[32];
  uint64_t L;
  if (!need(argc_, 4)) return;
  if (hex_args(1, 2) != 0 || lens[1] != 32 || u64_arg(3, &L) != 0 || L > 32) {
    printf("err usage\n");
    return;
  }
  int rc = vs_hpke_export(out, (size_t)L, bufs[1], bufs[2], lens[2]);
  if (rc != VS_OK) put_err(rc);
  else {
    printf("ok");
    put_hex("value", out, (size_t)L);
  }
  printf("\n");
}

static void cmd_derive(void) {
  uint8_t sk[32], pk[32], prk[32];
  if (!need(argc_, 2)) return;
  if (hex_arg(1) != 0) {
    printf("err usage\n");
    return;
  }
  int rc = vs_hpke_derive_key_pair(sk, pk, prk, bufs[1], lens[1]);
  if (rc != VS_OK) put_err(rc);
  else {
    printf("ok");
    put_hex("dkp_prk", prk, 32);
    put_hex("sk", sk, 32);
    put_hex("pk", pk, 32);
  }
  printf("\n");
}

/* HKDF-SHA256 (RFC 5869) with L <= 32, on the port's HMAC: prk = HMAC(salt, ikm); okm = HMAC(prk, info || 1). */
static void cmd_hkdf(void) {
  uint8_t prk[32], okm[32];
  static uint8_t msg[MAX_BYTES + 1];
  uint64_t L;
  if (!need(argc_, 5)) return;
  if (hex_args(1, 3) != 0 || u64_arg(4, &L) != 0 || L > 32 || lens[3] + 1 > sizeof msg) {
    printf("err usage\n");
    return;
  }
  vs_port_hmac_sha256(prk, bufs[1], lens[1], bufs[2], lens[2]);
  memcpy(msg, bufs[3], lens[3]);
  msg[lens[3]] = 1;
  vs_port_hmac_sha256(okm, prk, 32, msg, lens[3] + 1);
  printf("ok");
  put_hex("prk", prk, 32);
  put_hex("okm", okm, (size_t)L);
  printf("\n");
}

static void cmd_x25519(void) {
  uint8_t shared[32];
  if (!need(argc_, 3)) return;
  if (hex_args(1, 2) != 0 || lens[1] != 32 || lens[2] != 32) {
    printf("err usage\n");
    return;
  }
  if (vs_port_x25519(shared, bufs[1], bufs[2]) != 0) put_err(VS_ERR_DH_ALL_ZERO);
  else {
    printf("ok");
    put_hex("shared", shared, 32);
  }
  printf("\n");
}

static void cmd_ed25519_verify(void) {
  if (!need(argc_, 4)) return;
  if (hex_args(1, 3) != 0 || lens[1] != 64 || lens[3] != 32) {
    printf("err usage\n");
    return;
  }
  if (vs_port_ed25519_verify(bufs[1], bufs[2], lens[2], bufs[3]) == 0) printf("ok\n");
  else printf("err %s\n", vs_err_name(VS_ERR_SIGNATURE));
}

int main(void) {
  setvbuf(stdout, NULL, _IOFBF, 1 << 16);
  while (fgets(line, sizeof line, stdin)) {
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
    if (n == 0) continue;
    argc_ = 0;
    for (char *tok = strtok(line, " "); tok && argc_ < MAX_ARGS; tok = strtok(NULL, " ")) argv_[argc_++] = tok;
    const char *c = argv_[0];
    if (strcmp(c, "kid") == 0) {
      uint8_t kid[16];
      if (!need(argc_, 2)) continue;
      if (hex_arg(1) != 0 || lens[1] != 32) {
        printf("err usage\n");
        continue;
      }
      vs_kid_of(kid, bufs[1]);
      printf("ok");
      put_hex("kid", kid, 16);
      printf("\n");
    } else if (strcmp(c, "sha256") == 0) {
      uint8_t hsh[32];
      if (!need(argc_, 2)) continue;
      if (hex_arg(1) != 0) {
        printf("err usage\n");
        continue;
      }
      vs_port_sha256(hsh, bufs[1], lens[1]);
      printf("ok");
      put_hex("hash", hsh, 32);
      printf("\n");
    } else if (strcmp(c, "reading") == 0) cmd_reading();
    else if (strcmp(c, "seal") == 0) cmd_seal();
    else if (strcmp(c, "session-setup") == 0) cmd_session_setup();
    else if (strcmp(c, "session-seal") == 0) cmd_session_seal();
    else if (strcmp(c, "session-set-hs") == 0) {
      uint64_t v;
      if (!need(argc_, 2)) continue;
      if (u64_arg(1, &v) != 0) {
        printf("err usage\n");
        continue;
      }
      session.next_hs = v;
      printf("ok\n");
    } else if (strcmp(c, "session-wipe") == 0) {
      vs_session_wipe(&session);
      printf("ok\n");
    } else if (strcmp(c, "encap") == 0) cmd_encap();
    else if (strcmp(c, "schedule") == 0) cmd_schedule(VS_HPKE_MODE_BASE);
    else if (strcmp(c, "schedule-auth") == 0) cmd_schedule(VS_HPKE_MODE_AUTH);
    else if (strcmp(c, "auth-encap") == 0) cmd_auth_encap();
    else if (strcmp(c, "seal-auth") == 0) cmd_seal_auth();
    else if (strcmp(c, "session-setup-auth") == 0) cmd_session_setup_auth();
    else if (strcmp(c, "hpke-seal") == 0) cmd_hpke_seal();
    else if (strcmp(c, "hpke-open") == 0) cmd_hpke_open();
    else if (strcmp(c, "export") == 0) cmd_export();
    else if (strcmp(c, "derive") == 0) cmd_derive();
    else if (strcmp(c, "hkdf") == 0) cmd_hkdf();
    else if (strcmp(c, "x25519") == 0) cmd_x25519();
    else if (strcmp(c, "ed25519-verify") == 0) cmd_ed25519_verify();
    else if (strcmp(c, "err-name") == 0) {
      long v;
      if (!need(argc_, 2)) continue;
      v = strtol(argv_[1], NULL, 10);
      printf("ok name=%s\n", vs_err_name((int)v));
    } else {
      printf("err unknown-command\n");
    }
    fflush(stdout);
  }
  return 0;
}
