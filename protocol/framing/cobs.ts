/**
 * Consistent Overhead Byte Stuffing (Cheshire & Baker, 1999), hand-written as a
 * firmware would: the encoded form has no 0x00 byte, so 0x00 delimits frames.
 * Each block is a code byte c (1..255) followed by c - 1 non-zero data bytes; a
 * block with c < 0xFF stands for its bytes plus one 0x00, except the last block.
 * The encoder emits no trailing 0x01 block after a final full 0xFF block (as in
 * the paper's examples); the decoder accepts either form.
 */
import { fail } from '../errors.ts';

/** Upper bound of the COBS encoding of n bytes (without the 0x00 delimiter). */
export function cobsMaxEncodedLength(n: number): number {
  return n + 1 + Math.floor(n / 254);
}

/** COBS-encodes `data`; the result contains no 0x00 and no delimiter. */
export function cobsEncode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(cobsMaxEncodedLength(data.length));
  let codeAt = 0; // where the current block's code byte goes
  let o = 1;
  let code = 1;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (b === 0) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
      continue;
    }
    out[o++] = b;
    code++;
    if (code === 0xff) {
      out[codeAt] = code;
      code = 1;
      if (i + 1 === data.length) return out.slice(0, o); // ends on a full block
      codeAt = o++;
    }
  }
  out[codeAt] = code;
  return out.slice(0, o);
}

/** Decodes one COBS frame (delimiter removed). Throws FRAME_BAD_COBS on any 0x00 or a block running past the end. */
export function cobsDecode(encoded: Uint8Array): Uint8Array {
  return cobsDecodeOrUndefined(encoded) ?? fail('FRAME_BAD_COBS');
}

/** cobsDecode without throwing (the stream decoder's hot path): undefined when malformed or empty. */
export function cobsDecodeOrUndefined(encoded: Uint8Array): Uint8Array | undefined {
  if (encoded.length === 0) return undefined;
  const out = new Uint8Array(encoded.length); // decoding never grows the data
  let o = 0;
  let i = 0;
  while (i < encoded.length) {
    const code = encoded[i++]!;
    if (code === 0) return undefined;
    const end = i + code - 1;
    if (end > encoded.length) return undefined; // block runs past the end
    for (; i < end; i++) {
      const b = encoded[i]!;
      if (b === 0) return undefined;
      out[o++] = b;
    }
    if (code !== 0xff && i < encoded.length) out[o++] = 0;
  }
  return out.slice(0, o);
}
