/*
 * vs_frame.h: serial framing (docs/PROTOCOL.md §8): COBS, CRC-32, frames, the receive state
 * machine (§8.5) and the ack / error / status bodies (§8.4). No heap: the receiver is one
 * fixed buffer of the largest encoded frame; decoding happens in place.
 *
 * Stack use per call (gcc 12, x86-64, -O2, `make -C device-c stack`): see device-c/README.md.
 */
#ifndef VS_FRAME_H
#define VS_FRAME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VS_FRAME_MAX_BODY 4096u
#define VS_FRAME_OVERHEAD 5u /* type byte + CRC-32 */
#define VS_COBS_BOUND(n) ((size_t)(n) + 1u + (size_t)(n) / 254u)
#define VS_FRAME_MAX_ENCODED VS_COBS_BOUND(VS_FRAME_MAX_BODY + VS_FRAME_OVERHEAD) /* 4118 */
#define VS_FRAME_WIRE_BOUND(body_len) (VS_COBS_BOUND((body_len) + VS_FRAME_OVERHEAD) + 1u)

enum vs_frame_type { VS_FT_TICKET = 1, VS_FT_READING = 2, VS_FT_ACK = 3, VS_FT_STATUS = 4, VS_FT_ERROR = 5 };

/* Why a frame was dropped (§8.5, §15). */
enum vs_frame_code {
  VS_FRAME_OK = 0,
  VS_FRAME_OVERSIZE = -1,
  VS_FRAME_BAD_COBS = -2,
  VS_FRAME_TOO_SHORT = -3,
  VS_FRAME_BAD_CRC = -4,
  VS_FRAME_UNKNOWN_TYPE = -5,
  VS_FRAME_BAD_BODY = -6,
};
/* "FRAME_BAD_CRC" etc.; "FRAME_OK" for 0. */
const char *vs_frame_code_name(int code);

uint32_t vs_crc32(const uint8_t *p, size_t n);
uint32_t vs_crc32_update(uint32_t crc, const uint8_t *p, size_t n);

/* COBS-encodes in[0..n) into out (room for VS_COBS_BOUND(n)); returns the length. No 0x00, no delimiter. */
size_t vs_cobs_encode(const uint8_t *in, size_t n, uint8_t *out);
/* Decodes one COBS run (delimiter removed); out may equal in (in place). 0, or -1 on a code 0x00,
 * a 0x00 in a block, a block running past the end, or an empty run. */
int vs_cobs_decode(const uint8_t *in, size_t n, uint8_t *out, size_t *out_len);

/* wire = COBS(type ‖ body ‖ CRC-32 LE) ‖ 0x00 into out[0..cap). VS_FRAME_UNKNOWN_TYPE,
 * VS_FRAME_OVERSIZE (body > 4096), or -7 when cap < VS_FRAME_WIRE_BOUND(n). */
int vs_frame_encode(uint8_t type, const uint8_t *body, size_t n, uint8_t *out, size_t cap, size_t *out_len);

/* One received frame: body points into the decoder's buffer (valid until the next feed). */
typedef struct {
  uint8_t type;
  const uint8_t *body;
  size_t body_len;
} vs_frame;

/* Decodes one encoded run (delimiter removed) IN PLACE, checking in §8.5 order. */
int vs_frame_decode(uint8_t *buf, size_t n, vs_frame *f);

typedef struct {
  uint32_t frames, bad_cobs, bad_crc, oversize, too_short, unknown_type, bad_body;
} vs_frame_counters;

/* The §8.5 stream receiver: resynchronises at every 0x00, ignores empty runs, reports an
 * over-long run once and discards it up to the next 0x00. Errors are counted, never fatal. */
typedef struct {
  uint8_t buf[VS_FRAME_MAX_ENCODED];
  size_t len;
  int discarding;
  vs_frame_counters count;
} vs_rx;

void vs_rx_init(vs_rx *rx);
/* Forgets a partial frame (line reopened); counters stay. */
void vs_rx_reset(vs_rx *rx);
/* Consumes bytes of p[0..n) up to and including the first frame end. *result: 1 = a frame in *f,
 * a negative VS_FRAME_* code = a dropped run, 0 = nothing completed. Returns the bytes consumed;
 * call again with the rest. */
size_t vs_rx_feed(vs_rx *rx, const uint8_t *p, size_t n, int *result, vs_frame *f);
/* Counts a frame dropped above this layer (invalid body for its type). */
void vs_rx_count_bad_body(vs_rx *rx);

/* §8.4 ack body, strict: exactly {"dev": device-id, "seq": uint53}. 0 or VS_FRAME_BAD_BODY.
 * dev gets the NUL-terminated id (65 bytes). */
int vs_ack_decode(const uint8_t *b, size_t n, char dev[65], uint64_t *seq);
/* §8.4 error body: a map; "code" (an error-code text, else "UNKNOWN") and optional "seq" (uint53);
 * other keys ignored. 0 or VS_FRAME_BAD_BODY. */
int vs_error_decode(const uint8_t *b, size_t n, char code[65], int *has_seq, uint64_t *seq);

typedef struct {
  const char *dev;
  const char *state;      /* "online", "ticketed", "error", "offline" */
  const char *code;       /* NULL or an error code */
  const uint8_t *kid;     /* NULL or 16 bytes (sent as 32 lower-case hex digits) */
  int has_seq;
  uint64_t seq;
  const char *fw;         /* NULL or the firmware version ("fw", ignored by receivers) */
  const uint8_t *idk;     /* NULL or the device identity public key, 32 bytes (sent as 64 hex digits, §8.4) */
} vs_status;
/* Deterministic CBOR (§2.3) of a serial status body. 0 or -7 (buffer). At most 320 bytes (every
 * field at its longest; the device's online status with fw, idk, kid and seq: at most 235). */
int vs_status_encode(uint8_t *out, size_t cap, size_t *out_len, const vs_status *s);

#ifdef __cplusplus
}
#endif

#endif
