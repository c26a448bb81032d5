/*
 * vs_err.h: error codes of the vitalseal C device library.
 *
 * Every public function of device-c returns 0 (VS_OK) on success and a
 * negative `enum vs_err` value on failure. The names are stable: tests and
 * the host program print them with vs_err_name(). New codes are appended
 * (never renumbered); the device side (frames, tickets, NVM) owns -32 and below.
 */
#ifndef VS_ERR_H
#define VS_ERR_H

#ifdef __cplusplus
extern "C" {
#endif

enum vs_err {
  VS_OK = 0,
  /* --- sealing core (cbor_enc, hpke, envelope, reading, session) --- */
  VS_ERR_BUFFER = -1,       /* output buffer too small (nothing usable written) */
  VS_ERR_CRYPTO = -2,       /* a port crypto call failed (AEAD, X25519 other than all-zero) */
  VS_ERR_INPUT = -3,        /* an argument breaks the spec: id/st/unit charset, range, count, NULL */
  VS_ERR_TOO_LARGE = -4,    /* the envelope would exceed 4096 bytes (PROTOCOL §5.5, ENVELOPE_TOO_LARGE) */
  VS_ERR_RANDOM = -5,       /* vs_port_random failed: no ephemeral key, nothing sealed */
  VS_ERR_DH_ALL_ZERO = -6,  /* X25519 output all zero (PROTOCOL §3.1, HPKE_DH_ALL_ZERO) */
  VS_ERR_SEQ_OVERFLOW = -7, /* session hs would leave uint53 (PROTOCOL §6.2) */
  VS_ERR_STATE = -8,        /* object not set up (session without vs_session_setup) */
  VS_ERR_OPEN = -9,         /* AEAD open failed (tag mismatch): KAT / self-test only */
  /* --- device side (decoders, ticket, NVM, transport): -32 and below --- */
  VS_ERR_MALFORMED = -32,   /* strict CBOR / frame decoding refused the input */
  VS_ERR_UNSUPPORTED = -33, /* well-formed but not allowed here (tag, indefinite length, ...) */
  VS_ERR_SIGNATURE = -34,   /* Ed25519 verification failed */
  VS_ERR_CRC = -35,         /* frame CRC mismatch */
  VS_ERR_STORAGE = -36,     /* storage port failed (read, write, fsync) */
  VS_ERR_CLOCK = -37,       /* clock port failed */
  VS_ERR_TRANSPORT = -38,   /* transport port failed */
};

/* Stable upper-case name of an error ("VS_ERR_BUFFER"); "VS_ERR_UNKNOWN" for other values. */
const char *vs_err_name(int err);

#ifdef __cplusplus
}
#endif

#endif /* VS_ERR_H */
