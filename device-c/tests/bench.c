/*
 * vs-bench: seal timing of the device-c core on the host port, driven by
 * bench/native.ts in slices interleaved with the JavaScript rows of
 * `vitalseal bench crypto` (same run, same machine). Commands on stdin, one
 * line each, one answer line each:
 *
 *   version                      -> ok sodium=<libsodium version> cc=<compiler version>
 *   key PKR                      recipient public key (hex); kid = SHA-256(pkR)[0:16]
 *   header ST TS                 sensor type (ASCII) and ts of the envelopes (default spo2, 2026-01-01)
 *   payload PT                   the plaintext every seal seals (hex)
 *   sample                       -> ok envelope=<hex>       one vs_seal_reading (for prechecks)
 *   hpke-sample                  -> ok enc=<hex> ct=<hex>   one single-shot HPKE seal, info = aad = ""
 *   time OP MS                   -> ok calls=<n> ns=<elapsed>  runs OP for about MS ms
 *        OP: seal            single-shot HPKE seal (encap + key schedule + AEAD), info = aad = "",
 *                            ephemeral keys from a pre-filled pool (as the JavaScript rows)
 *            envelope-seal   vs_seal_reading: the whole COSE envelope, ephemeral key from
 *                            vs_port_random (what a device does per reading)
 *            session-seal    vs_session_seal on one session (one AEAD call per reading)
 *
 * `vs-bench --once N` times the three operations on a 64-byte plaintext for about N ms in all.
 * `vs-bench --stack` measures the peak stack use of each public call of the sealing core, port
 * (libsodium) included, by painting the stack below the caller and scanning it afterwards
 * (run it on the -O2 build: the sanitizer build keeps locals on a fake stack).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "hpke.h"
#include "vs_port.h"
#include "vs_seal.h"

#define POOL 1024

static uint8_t pkR[32], kid[16];
static uint8_t pt[VS_ENVELOPE_MAX_BYTES];
static size_t pt_len = 64;
static uint8_t out[VS_ENVELOPE_MAX_BYTES + 64];
static uint8_t pool[POOL][32];
static vs_session session;
static char line[65536];
static volatile uint8_t sink;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static size_t unhex(uint8_t *dst, size_t cap, const char *s) {
  size_t n = strlen(s) / 2;
  if (n > cap) return (size_t)-1;
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    if (sscanf(s + 2 * i, "%2x", &v) != 1) return (size_t)-1;
    dst[i] = (uint8_t)v;
  }
  return n;
}

static void put_hex(const char *name, const uint8_t *p, size_t n) {
  printf(" %s=", name);
  for (size_t i = 0; i < n; i++) printf("%02x", p[i]);
}

static char header_st[40] = "spo2";
static vs_header HEADER = {"bench-c", 1, 1767225600000ull, header_st, 0, 0};

/* Single-shot HPKE seal with info = aad = "" (what the node/noble/libsodium rows measure). */
static int hpke_seal(const uint8_t skE[32], uint8_t enc[32], uint8_t *ct) {
  vs_hpke_ctx ctx;
  uint8_t ss[32];
  int rc = vs_hpke_encap(ss, enc, NULL, pkR, skE);
  if (rc == 0) rc = vs_hpke_key_schedule(&ctx, NULL, NULL, ss, NULL, 0, 0);
  if (rc == 0) rc = vs_port_aead_seal(ct, ctx.key, ctx.base_nonce, NULL, 0, pt, pt_len) == 0 ? 0 : VS_ERR_CRYPTO;
  vs_wipe(&ctx, sizeof ctx);
  vs_wipe(ss, sizeof ss);
  return rc;
}

static int run(const char *op, uint64_t budget_ns, uint64_t *calls, uint64_t *elapsed) {
  uint64_t start = now_ns(), t = start, n = 0;
  size_t len = 0;
  uint8_t enc[32];
  int rc = 0;
  vs_header h = HEADER;
  if (strcmp(op, "session-seal") == 0 && !session.ready && vs_session_setup(&session, pkR) != 0) return -1;
  while (t - start < budget_ns && rc == 0) {
    for (int k = 0; k < 4 && rc == 0; k++, n++) {
      h.seq++;
      if (strcmp(op, "seal") == 0) rc = hpke_seal(pool[n & (POOL - 1)], enc, out);
      else if (strcmp(op, "envelope-seal") == 0) rc = vs_seal_reading(out, sizeof out, &len, &h, pt, pt_len, pkR, kid);
      else if (strcmp(op, "session-seal") == 0) {
        if (session.next_hs > VS_UINT53_MAX - 8) rc = vs_session_setup(&session, pkR);
        if (rc == 0) rc = vs_session_seal(&session, out, sizeof out, &len, &h, pt, pt_len);
      } else rc = -1;
      sink ^= out[40];
    }
    t = now_ns();
  }
  *calls = n;
  *elapsed = t - start;
  return rc;
}

/* ---- stack use: paint a region below the caller, call, find the deepest byte written ---- */
#define PAINT_BYTES (64 * 1024)
#define PAINT 0xa5

typedef int (*stack_fn)(void);

/* Paints PAINT_BYTES of unused stack starting MARGIN bytes below this function's frame, calls fn,
 * and returns how far below the frame the deepest byte fn's call chain wrote lies (the frame
 * pointer of this function stands for the caller's stack pointer; a call that uses less than
 * MARGIN reads as MARGIN). */
#define MARGIN 256
static __attribute__((noinline)) size_t stack_of(stack_fn fn, int *rc) {
  uint8_t *frame = (uint8_t *)__builtin_frame_address(0);
  volatile uint8_t *top = frame - MARGIN;
  volatile uint8_t *bottom = top - PAINT_BYTES;
  for (volatile uint8_t *p = bottom; p < top; p++) *p = PAINT;
  *rc = fn();
  volatile uint8_t *q = bottom;
  while (q < top && *q == PAINT) q++;
  return (size_t)(frame - (const uint8_t *)q);
}
static int64_t big_ivals[VS_READING_MAX_VALUES];

static int call_kid(void) {
  vs_kid_of(kid, pkR);
  return 0;
}
static int call_reading(void) {
  size_t len;
  vs_reading r = {"ecg", 1767225600000ull, "uV", big_ivals, NULL, VS_READING_MAX_VALUES};
  return vs_reading_encode(out, sizeof out, &len, &r);
}
static int call_seal(void) {
  size_t len;
  return vs_seal_reading(out, sizeof out, &len, &HEADER, pt, 64, pkR, kid);
}
static int call_seal_eph(void) {
  size_t len;
  return vs_seal_reading_with_ephemeral(out, sizeof out, &len, &HEADER, pt, 64, pkR, kid, pool[0]);
}
static int call_seal_auth(void) {
  size_t len;
  return vs_seal_reading_auth(out, sizeof out, &len, &HEADER, pt, 64, pkR, kid, pool[2]);
}
static int call_session_setup(void) { return vs_session_setup(&session, pkR); }
static int call_session_setup_auth(void) { return vs_session_setup_auth(&session, pkR, pool[2]); }
static int call_session_seal(void) {
  size_t len;
  return vs_session_seal(&session, out, sizeof out, &len, &HEADER, pt, 64);
}
static int call_aead(void) {
  uint8_t key[32] = {1}, nonce[12] = {2};
  return vs_port_aead_seal(out, key, nonce, out + 2048, 60, pt, 64);
}
static int call_x25519(void) {
  uint8_t shared[32];
  return vs_port_x25519(shared, pool[1], pkR);
}
static int call_noop(void) { return 0; }

static int stack_report(void) {
  static const struct {
    const char *name;
    stack_fn fn;
  } calls[] = {
      {"(baseline: an empty call)", call_noop},
      {"vs_kid_of", call_kid},
      {"vs_reading_encode (400 values)", call_reading},
      {"vs_seal_reading (64-byte plaintext)", call_seal},
      {"vs_seal_reading_with_ephemeral", call_seal_eph},
      {"vs_seal_reading_auth (64-byte plaintext)", call_seal_auth},
      {"vs_session_setup", call_session_setup},
      {"vs_session_setup_auth", call_session_setup_auth},
      {"vs_session_seal (64-byte plaintext)", call_session_seal},
      {"vs_port_x25519 (libsodium)", call_x25519},
      {"vs_port_aead_seal (libsodium)", call_aead},
  };
  /* warm up: sodium_init, lazy binding of libsodium's symbols */
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
    if (calls[i].fn() != 0) return 1;
  printf("peak stack bytes per call (host port, this build; includes the port and libsodium):\n");
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
    int rc = 0;
    size_t used = stack_of(calls[i].fn, &rc);
    if (rc != 0) return 1;
    printf("%-40s %6zu\n", calls[i].name, used);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (vs_port_random(pt, sizeof pt) != 0 || vs_port_random(&pool[0][0], sizeof pool) != 0) return 1;
  {
    uint8_t sk[32];
    if (vs_port_random(sk, 32) != 0 || vs_port_x25519_base(pkR, sk) != 0) return 1;
    vs_kid_of(kid, pkR);
  }
  if (argc == 2 && strcmp(argv[1], "--stack") == 0) return stack_report();
  if (argc == 3 && strcmp(argv[1], "--once") == 0) {
    long n = atol(argv[2]);
    const char *ops[] = {"seal", "envelope-seal", "session-seal"};
    for (int i = 0; i < 3; i++) {
      uint64_t calls = 0, ns = 0;
      (void)n;
      if (run(ops[i], (uint64_t)(n > 0 ? n : 1000) * 1000000u / 10, &calls, &ns) != 0) return 1;
      printf("%-14s %8.2f us/call (%llu calls)\n", ops[i], (double)ns / 1000.0 / (double)calls, (unsigned long long)calls);
    }
    return 0;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  while (fgets(line, sizeof line, stdin)) {
    char cmd[32] = {0}, a[sizeof line] = {0}, b[64] = {0};
    line[strcspn(line, "\r\n")] = 0;
    int n = sscanf(line, "%31s %65000s %63s", cmd, a, b);
    if (n < 1) continue;
    if (strcmp(cmd, "version") == 0) {
      printf("ok sodium=%s cc=%s\n", sodium_version_string(), __VERSION__);
    } else if (strcmp(cmd, "header") == 0 && n == 3 && strlen(a) < sizeof header_st) {
      memcpy(header_st, a, strlen(a) + 1);
      HEADER.ts_ms = strtoull(b, NULL, 10);
      vs_session_wipe(&session);
      printf("ok\n");
    } else if (strcmp(cmd, "key") == 0 && n == 2 && unhex(pkR, 32, a) == 32) {
      vs_kid_of(kid, pkR);
      vs_session_wipe(&session);
      printf("ok");
      put_hex("kid", kid, 16);
      printf("\n");
    } else if (strcmp(cmd, "payload") == 0 && n == 2) {
      size_t len = unhex(pt, sizeof pt - 512, a);
      if (len == (size_t)-1) printf("err payload\n");
      else {
        pt_len = len;
        printf("ok bytes=%zu\n", pt_len);
      }
    } else if (strcmp(cmd, "sample") == 0) {
      size_t len = 0;
      int rc = vs_seal_reading(out, sizeof out, &len, &HEADER, pt, pt_len, pkR, kid);
      if (rc != 0) printf("err %s\n", vs_err_name(rc));
      else {
        printf("ok");
        put_hex("envelope", out, len);
        printf("\n");
      }
    } else if (strcmp(cmd, "hpke-sample") == 0) {
      uint8_t enc[32], skE[32];
      int rc = vs_port_random(skE, 32) == 0 ? hpke_seal(skE, enc, out) : VS_ERR_RANDOM;
      if (rc != 0) printf("err %s\n", vs_err_name(rc));
      else {
        printf("ok");
        put_hex("enc", enc, 32);
        put_hex("ct", out, pt_len + 16);
        printf("\n");
      }
    } else if (strcmp(cmd, "time") == 0 && n == 3) {
      uint64_t calls = 0, ns = 0;
      double ms = atof(b);
      if (run(a, (uint64_t)(ms * 1e6), &calls, &ns) != 0) printf("err %s\n", a);
      else printf("ok calls=%llu ns=%llu\n", (unsigned long long)calls, (unsigned long long)ns);
    } else {
      printf("err usage\n");
    }
  }
  return (int)(sink & 0);
}
