/*
 * device_kat.c: `vs-device-kat`, the known-answer driver of the device side (frames, tickets).
 * test/deviceC/frames.test.ts and ticket.test.ts feed it the vectors of
 * test/vectors/vitalseal/{frames,tickets}.json, one command per stdin line, and compare its
 * answers byte for byte. Commands (hex arguments, "-" for none):
 *   crc <hex>                          -> CRC-32 as sent: 4 bytes little endian, hex
 *   cobs <hex>                         -> COBS encoding
 *   unCobs <hex>                       -> decoded bytes | FRAME_BAD_COBS
 *   encode <type> <bodyhex>            -> wire hex (delimiter included) | error code
 *   decode <hex>                       -> "ok <type> <bodyhex>" | FRAME_* code (run without delimiter)
 *   stream <hex>                       -> one line per completed frame or drop, then "end <counters>"
 *   ack <bodyhex>                      -> "ok <dev> <seq>" | FRAME_BAD_BODY
 *   error <bodyhex>                    -> "ok <code> <seq|->" | FRAME_BAD_BODY
 *   status <dev> <state> <code|-> <kidhex|-> <seq|-> <fw|-> [<idkhex>]  -> body hex
 *   ticket <hex> <authorityhex> <dev> <nowMs> <skew>  -> "ok <kidhex> <pkhex> <nbf> <exp> <max|->[ idk=<hex>]" | code
 *                                      (idk= only for a v2 ticket)
 *   usable <hex> <nowMs> <used>        -> OK | code (§7.4 on a structurally valid ticket)
 *   stack <tickethex> <authorityhex> <dev> <nowMs> <ackbodyhex> <wirehex>
 *                                      -> "stack name=bytes …": peak stack of each call on these
 *                                         inputs, port and libsodium included (the -O2 build only)
 * Every answer is one line (stream: several), flushed.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vs_frame.h"
#include "vs_ticket.h"

static uint8_t A[1 << 19], B[1 << 19];

static int unhex(const char *s, uint8_t *out, size_t cap, size_t *len) {
  size_t n = strlen(s);
  if (strcmp(s, "-") == 0) {
    *len = 0;
    return 0;
  }
  if (n % 2 != 0 || n / 2 > cap) return -1;
  for (size_t i = 0; i < n / 2; i++) {
    unsigned v;
    if (sscanf(s + 2 * i, "%2x", &v) != 1) return -1;
    out[i] = (uint8_t)v;
  }
  *len = n / 2;
  return 0;
}

static void puthex(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) printf("%02x", p[i]);
}

static char *arg(char **save) { return strtok_r(NULL, " \t\r\n", save); }

/* ---- stack use: paint a region below the caller, call, find the deepest byte written (as
 * tests/bench.c --stack; a call using less than MARGIN reads as MARGIN) ---- */
#define PAINT_BYTES (64 * 1024)
#define PAINT 0xa5
#define MARGIN 256
typedef int (*stack_fn)(void);
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

static uint8_t S_ticket[1100], S_auth[32], S_ack[300], S_wire[5000], S_work[5000];
static size_t S_ticket_len, S_ack_len, S_wire_len;
static const char *S_dev;
static uint64_t S_now;
static vs_rx S_rx;

static int call_ticket_verify(void) {
  vs_ticket t;
  return vs_ticket_verify(S_ticket, S_ticket_len, S_auth, S_dev, S_now, 60, &t);
}
static int call_ticket_parse(void) {
  vs_ticket t;
  return vs_ticket_parse_unsigned(S_ticket, S_ticket_len, &t);
}
static int call_ack(void) {
  char dev[65];
  uint64_t seq;
  return vs_ack_decode(S_ack, S_ack_len, dev, &seq);
}
static int call_error(void) {
  char code[65];
  uint64_t seq;
  int has;
  return vs_error_decode(S_ack, S_ack_len, code, &has, &seq);
}
static int call_rx(void) {
  int result;
  vs_frame f;
  size_t at = 0;
  vs_rx_init(&S_rx);
  while (at < S_wire_len) at += vs_rx_feed(&S_rx, S_wire + at, S_wire_len - at, &result, &f);
  return S_rx.count.frames == 1 ? 0 : -1;
}
static int call_frame_encode(void) {
  size_t len;
  return vs_frame_encode(VS_FT_TICKET, S_ticket, S_ticket_len, S_work, sizeof S_work, &len);
}
static int call_status(void) {
  size_t len;
  static const uint8_t kid[16] = {1};
  static const uint8_t idk[32] = {7};
  vs_status st = {S_dev, "online", NULL, kid, 1, 9007199254740991ull, "vitalseal-device-c/0.1.0", idk};
  return vs_status_encode(S_work, sizeof S_work, &len, &st);
}
static int call_noop(void) { return 0; }

static void stack_report(void) {
  static const struct {
    const char *name;
    stack_fn fn;
  } calls[] = {
      {"baseline", call_noop},          {"vs_ticket_verify", call_ticket_verify}, {"vs_ticket_parse_unsigned", call_ticket_parse},
      {"vs_ack_decode", call_ack},      {"vs_error_decode", call_error},          {"vs_rx_feed", call_rx},
      {"vs_frame_encode", call_frame_encode}, {"vs_status_encode", call_status},
  };
  printf("stack");
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
    int rc = 0;
    (void)calls[i].fn(); /* warm up (sodium_init, lazy binding) */
    size_t used = stack_of(calls[i].fn, &rc);
    printf(" %s=%zu%s", calls[i].name, used, rc == 0 || calls[i].fn == call_error ? "" : "(failed)");
  }
  printf("\n");
}

int main(void) {
  static char line[1 << 21];
  static vs_rx rx;
  while (fgets(line, sizeof line, stdin)) {
    char *save = NULL;
    char *cmd = strtok_r(line, " \t\r\n", &save);
    size_t n = 0, m = 0;
    if (!cmd) continue;
    char *a1 = arg(&save);
    if (strcmp(cmd, "crc") == 0 && a1 && unhex(a1, A, sizeof A, &n) == 0) {
      uint32_t c = vs_crc32(A, n);
      printf("%02x%02x%02x%02x\n", c & 0xffu, (c >> 8) & 0xffu, (c >> 16) & 0xffu, c >> 24);
    } else if (strcmp(cmd, "cobs") == 0 && a1 && unhex(a1, A, sizeof A, &n) == 0) {
      size_t len = vs_cobs_encode(A, n, B);
      puthex(B, len);
      printf("\n");
    } else if (strcmp(cmd, "unCobs") == 0 && a1 && unhex(a1, A, sizeof A, &n) == 0) {
      if (vs_cobs_decode(A, n, B, &m) == 0) {
        puthex(B, m);
        printf("\n");
      } else {
        printf("FRAME_BAD_COBS\n");
      }
    } else if (strcmp(cmd, "encode") == 0 && a1) {
      char *a2 = arg(&save);
      if (!a2 || unhex(a2, A, sizeof A, &n) != 0) {
        printf("usage\n");
      } else {
        int rc = vs_frame_encode((uint8_t)atoi(a1), A, n, B, sizeof B, &m);
        if (rc == 0) {
          puthex(B, m);
          printf("\n");
        } else {
          printf("%s\n", vs_frame_code_name(rc));
        }
      }
    } else if (strcmp(cmd, "decode") == 0 && a1 && unhex(a1, A, sizeof A, &n) == 0) {
      vs_frame f;
      int rc = vs_frame_decode(A, n, &f);
      if (rc == 0) {
        printf("ok %u ", f.type);
        puthex(f.body, f.body_len);
        printf("\n");
      } else {
        printf("%s\n", vs_frame_code_name(rc));
      }
    } else if (strcmp(cmd, "stream") == 0 && a1 && unhex(a1, A, sizeof A, &n) == 0) {
      vs_rx_init(&rx);
      size_t at = 0;
      while (at < n) {
        int result;
        vs_frame f;
        at += vs_rx_feed(&rx, A + at, n - at, &result, &f);
        if (result == 1) {
          printf("ok %u ", f.type);
          puthex(f.body, f.body_len);
          printf("\n");
        } else if (result < 0) {
          printf("%s\n", vs_frame_code_name(result));
        }
      }
      printf("end frames=%u badCobs=%u badCrc=%u oversize=%u tooShort=%u unknownType=%u pending=%zu\n", rx.count.frames,
             rx.count.bad_cobs, rx.count.bad_crc, rx.count.oversize, rx.count.too_short, rx.count.unknown_type, rx.len);
    } else if (strcmp(cmd, "ack") == 0 && a1 && unhex(a1, A, sizeof A, &n) == 0) {
      char dev[65];
      uint64_t seq;
      if (vs_ack_decode(A, n, dev, &seq) == 0) printf("ok %s %llu\n", dev, (unsigned long long)seq);
      else printf("FRAME_BAD_BODY\n");
    } else if (strcmp(cmd, "error") == 0 && a1 && unhex(a1, A, sizeof A, &n) == 0) {
      char code[65];
      int has_seq;
      uint64_t seq;
      if (vs_error_decode(A, n, code, &has_seq, &seq) == 0) {
        if (has_seq) printf("ok %s %llu\n", code, (unsigned long long)seq);
        else printf("ok %s -\n", code);
      } else {
        printf("FRAME_BAD_BODY\n");
      }
    } else if (strcmp(cmd, "status") == 0 && a1) {
      char *state = arg(&save), *code = arg(&save), *kid = arg(&save), *seq = arg(&save), *fw = arg(&save);
      char *idk = arg(&save);
      uint8_t kidb[16], idkb[32];
      size_t kl = 0, il = 0;
      if (!state || !code || !kid || !seq || !fw || unhex(kid, kidb, 16, &kl) != 0 ||
          (idk && (unhex(idk, idkb, 32, &il) != 0 || il != 32))) {
        printf("usage\n");
        continue;
      }
      vs_status s = {a1, state, strcmp(code, "-") ? code : NULL, kl == 16 ? kidb : NULL, strcmp(seq, "-") != 0,
                     strcmp(seq, "-") ? strtoull(seq, NULL, 10) : 0, strcmp(fw, "-") ? fw : NULL, idk ? idkb : NULL};
      if (vs_status_encode(B, sizeof B, &m, &s) == 0) {
        puthex(B, m);
        printf("\n");
      } else {
        printf("buffer\n");
      }
    } else if (strcmp(cmd, "ticket") == 0 && a1 && unhex(a1, A, sizeof A, &n) == 0) {
      char *auth = arg(&save), *dev = arg(&save), *now = arg(&save), *skew = arg(&save);
      uint8_t pk[32];
      size_t pl;
      if (!auth || !dev || !now || !skew || unhex(auth, pk, 32, &pl) != 0 || pl != 32) {
        printf("usage\n");
        continue;
      }
      vs_ticket t;
      int rc = vs_ticket_verify(A, n, pk, dev, strtoull(now, NULL, 10), (unsigned)atoi(skew), &t);
      if (rc == 0) {
        printf("ok ");
        puthex(t.kid, 16);
        printf(" ");
        puthex(t.pk, 32);
        printf(" %.*s %llu %llu ", (int)t.dev_len, (const char *)t.dev, (unsigned long long)t.nbf, (unsigned long long)t.exp);
        if (t.has_max_readings) printf("%llu", (unsigned long long)t.max_readings);
        else printf("-");
        if (t.has_idk) {
          printf(" idk=");
          puthex(t.idk, 32);
        }
        printf("\n");
      } else {
        printf("%s\n", vs_ticket_code_name(rc));
      }
    } else if (strcmp(cmd, "usable") == 0 && a1 && unhex(a1, A, sizeof A, &n) == 0) {
      char *now = arg(&save), *used = arg(&save);
      vs_ticket t;
      if (!now || !used) {
        printf("usage\n");
        continue;
      }
      int rc = vs_ticket_parse_unsigned(A, n, &t);
      if (rc == 0) rc = vs_ticket_usable(&t, strtoull(now, NULL, 10), strtoull(used, NULL, 10));
      printf("%s\n", vs_ticket_code_name(rc));
    } else if (strcmp(cmd, "stack") == 0 && a1 && unhex(a1, S_ticket, sizeof S_ticket, &S_ticket_len) == 0) {
      char *auth = arg(&save), *dev = arg(&save), *now = arg(&save), *ack = arg(&save), *wire = arg(&save);
      size_t al;
      if (!auth || !dev || !now || !ack || !wire || unhex(auth, S_auth, 32, &al) != 0 || al != 32 ||
          unhex(ack, S_ack, sizeof S_ack, &S_ack_len) != 0 || unhex(wire, S_wire, sizeof S_wire, &S_wire_len) != 0) {
        printf("usage\n");
        continue;
      }
      S_dev = dev;
      S_now = strtoull(now, NULL, 10);
      stack_report();
    } else {
      printf("usage\n");
    }
    fflush(stdout);
  }
  return 0;
}
