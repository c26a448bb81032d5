/* err.c: names of enum vs_err (vs_err.h). Stack: 0 bytes (leaf, no locals). */
#include "vs_err.h"

const char *vs_err_name(int err) {
  switch (err) {
    case VS_OK: return "VS_OK";
    case VS_ERR_BUFFER: return "VS_ERR_BUFFER";
    case VS_ERR_CRYPTO: return "VS_ERR_CRYPTO";
    case VS_ERR_INPUT: return "VS_ERR_INPUT";
    case VS_ERR_TOO_LARGE: return "VS_ERR_TOO_LARGE";
    case VS_ERR_RANDOM: return "VS_ERR_RANDOM";
    case VS_ERR_DH_ALL_ZERO: return "VS_ERR_DH_ALL_ZERO";
    case VS_ERR_SEQ_OVERFLOW: return "VS_ERR_SEQ_OVERFLOW";
    case VS_ERR_STATE: return "VS_ERR_STATE";
    case VS_ERR_OPEN: return "VS_ERR_OPEN";
    case VS_ERR_MALFORMED: return "VS_ERR_MALFORMED";
    case VS_ERR_UNSUPPORTED: return "VS_ERR_UNSUPPORTED";
    case VS_ERR_SIGNATURE: return "VS_ERR_SIGNATURE";
    case VS_ERR_CRC: return "VS_ERR_CRC";
    case VS_ERR_STORAGE: return "VS_ERR_STORAGE";
    case VS_ERR_CLOCK: return "VS_ERR_CLOCK";
    case VS_ERR_TRANSPORT: return "VS_ERR_TRANSPORT";
    default: return "VS_ERR_UNKNOWN";
  }
}
