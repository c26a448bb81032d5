/*
 * fuzz_device.c: `vs-device-fuzz`, the fuzz harness of the device side's decoders, built with
 * -fsanitize=address,undefined (`make -C device-c fuzz`). test/deviceC/fuzz.test.ts generates the
 * inputs with the TypeScript fuzz generators (fuzz/mutate.ts over the corpora of fuzz/targets.ts)
 * and pipes them in as records:  kind (1 byte) ‖ length (4 bytes LE) ‖ bytes.
 *   kind 0  frame run (delimiter removed): vs_frame_decode, then the ack / error body decoders on
 *           the body; and the same bytes through the stream receiver vs_rx_feed
 *   kind 1  ticket: vs_ticket_verify (authority, device and clock of the fuzz fixtures), then
 *           vs_ticket_parse_unsigned and vs_ticket_usable
 *   kind 2  raw CBOR: vs_cbor_check under the ticket, payload, ack and error limits
 * Each input is copied into a heap block of exactly its length, so a read past the end is an ASan
 * report. At the end it prints one line of outcome counts. Exit 0, or 2 on a bad record stream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vs_cbor_dec.h"
#include "vs_frame.h"
#include "vs_ticket.h"

static int read_exact(uint8_t *p, size_t n) { return fread(p, 1, n, stdin) == n ? 0 : -1; }

int main(int argc, char **argv) {
  uint8_t authority[32] = {0};
  const char *dev = "oxi-01";
  uint64_t now_ms = 1750000000000ull;
  if (argc >= 2) { /* authority public key, hex */
    for (int i = 0; i < 32 && argv[1][2 * i] && argv[1][2 * i + 1]; i++) {
      unsigned v;
      if (sscanf(argv[1] + 2 * i, "%2x", &v) != 1) return 2;
      authority[i] = (uint8_t)v;
    }
  }
  if (argc >= 3) dev = argv[2];
  if (argc >= 4) now_ms = strtoull(argv[3], NULL, 10);
  static vs_rx rx;
  vs_rx_init(&rx);
  unsigned long inputs[3] = {0, 0, 0}, frames_ok = 0, acks_ok = 0, errors_ok = 0, tickets_ok = 0, cbor_ok = 0;
  unsigned long ticket_codes[8] = {0}, frame_codes[8] = {0};
  static const vs_cbor_limits lims[4] = {{1024, 8, 1024, 4096, 18}, {1024, 2, 16, 4096, -1}, {256, 1, 2, 4096, -1}, {512, 1, 4, 4096, -1}};
  for (;;) {
    uint8_t hdr[5];
    size_t got = fread(hdr, 1, 5, stdin);
    if (got == 0) break;
    if (got != 5 || hdr[0] > 2) return 2;
    size_t n = (size_t)hdr[1] | (size_t)hdr[2] << 8 | (size_t)hdr[3] << 16 | (size_t)hdr[4] << 24;
    if (n > (1u << 20)) return 2;
    uint8_t *in = malloc(n ? n : 1);
    if (!in || read_exact(in, n) != 0) return 2;
    uint8_t *p = n ? malloc(n) : NULL; /* exactly n bytes: ASan sees any overread */
    if (n) memcpy(p, in, n);
    inputs[hdr[0]]++;
    if (hdr[0] == 0) {
      vs_frame f;
      int rc = vs_frame_decode(p, n, &f); /* in place */
      frame_codes[-rc < 8 ? -rc : 7]++;
      if (rc == VS_FRAME_OK) {
        char d[65], code[65];
        uint64_t seq;
        int has_seq;
        frames_ok++;
        uint8_t *body = malloc(f.body_len ? f.body_len : 1);
        memcpy(body, f.body, f.body_len);
        if (vs_ack_decode(body, f.body_len, d, &seq) == VS_FRAME_OK) acks_ok++;
        if (vs_error_decode(body, f.body_len, code, &has_seq, &seq) == VS_FRAME_OK) errors_ok++;
        free(body);
      }
      /* the same run through the stream receiver, delimited, after a partial one */
      static const uint8_t zero = 0;
      int result;
      size_t at = 0;
      while (at < n) at += vs_rx_feed(&rx, in + at, n - at, &result, &f);
      vs_rx_feed(&rx, &zero, 1, &result, &f);
    } else if (hdr[0] == 1) {
      vs_ticket t;
      int rc = vs_ticket_verify(p, n, authority, dev, now_ms, 60, &t);
      ticket_codes[-rc < 8 ? -rc : 7]++;
      if (rc == VS_TICKET_OK) tickets_ok++;
      if (vs_ticket_parse_unsigned(p, n, &t) == VS_TICKET_OK) (void)vs_ticket_usable(&t, now_ms, 0);
    } else {
      for (int k = 0; k < 4; k++) cbor_ok += vs_cbor_check(p, n, &lims[k]) == VS_CBOR_OK;
    }
    free(p);
    free(in);
  }
  printf("inputs frames=%lu tickets=%lu cbor=%lu; frames ok=%lu acks=%lu errors=%lu streamFrames=%u; tickets ok=%lu", inputs[0],
         inputs[1], inputs[2], frames_ok, acks_ok, errors_ok, rx.count.frames, tickets_ok);
  printf("; ticket codes");
  for (int i = 1; i < 6; i++) printf(" %s=%lu", vs_ticket_code_name(-i), ticket_codes[i]);
  printf("; frame codes");
  for (int i = 1; i < 6; i++) printf(" %s=%lu", vs_frame_code_name(-i), frame_codes[i]);
  printf("; cbor ok=%lu\n", cbor_ok);
  return 0;
}
