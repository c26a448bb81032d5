/*
 * vs-bench: seal timing of the device-c core on the host port, driven by
 * bench/native.ts in slices interleaved with the JavaScript rows of
 * `vitalseal bench crypto` (same run, same machine). Commands on stdin, one
 * line each, one answer line each:
 *
 *   key PKR                      recipient public key (hex); kid = SHA-256(pkR)[0:16]
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
 * `vs-bench --once N` seals N envelopes of a 64-byte plaintext and prints µs per call.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static const vs_header HEADER = {"bench-c", 1, 1767225600000ull, "spo2", 0, 0};

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

int main(int argc, char **argv) {
  if (vs_port_random(pt, sizeof pt) != 0 || vs_port_random(&pool[0][0], sizeof pool) != 0) return 1;
  {
    uint8_t sk[32];
    if (vs_port_random(sk, 32) != 0 || vs_port_x25519_base(pkR, sk) != 0) return 1;
    vs_kid_of(kid, pkR);
  }
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
    if (strcmp(cmd, "key") == 0 && n == 2 && unhex(pkR, 32, a) == 32) {
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
