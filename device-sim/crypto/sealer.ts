import { HEADER, encodeEncrypt0 } from '../../protocol/cose/index.ts';
import {
  createSessionSealer,
  encodeEnvelopeProtected,
  encodeReading,
  sealReading,
  type Reading,
  type ReadingHeader,
  type ReadingRecipient,
} from '../../protocol/envelope/index.ts';
import { createHpke } from '../../protocol/node.ts';
import type { Rng } from '../../protocol/rng.ts';

/**
 * Which code seals readings:
 * - `noble` (default): pure JS, what a firmware port costs;
 * - `node`: node:crypto, for large fleets;
 * - `none`: NO encryption — a structurally valid envelope whose "ciphertext" is the
 *   plaintext plus 16 zero bytes; only the benchmark's no-crypto baseline uses it.
 */
export type SealBackend = 'noble' | 'node' | 'none';
export const SEAL_BACKENDS: readonly SealBackend[] = ['noble', 'node', 'none'];

/** Per-reading: a fresh ephemeral key per reading (default). Session: one HPKE context per ticket. */
export type SealMode = 'per-reading' | 'session';

export interface ReadingSealer {
  readonly backend: SealBackend;
  readonly mode: SealMode;
  seal(reading: Reading, header: ReadingHeader): Uint8Array;
}

export interface SealerOptions {
  readonly backend: SealBackend;
  readonly mode: SealMode;
  readonly recipient: ReadingRecipient;
  /** Ephemeral-key randomness: must never repeat for a recipient (the firmware reseeds it per boot). */
  readonly rng: Rng;
}

export function createReadingSealer(o: SealerOptions): ReadingSealer {
  const { backend, mode, recipient, rng } = o;
  if (backend === 'none') return noCryptoSealer(mode, recipient);
  const hpke = createHpke(backend);
  if (mode === 'session') {
    const session = createSessionSealer({ recipient, hpke, rng });
    return { backend, mode, seal: (reading, header) => session.seal({ reading, header }) };
  }
  return { backend, mode, seal: (reading, header) => sealReading({ reading, header, recipient, hpke, rng }) };
}

const ZERO_EK = new Uint8Array(32);
const ZERO_TAG = new Uint8Array(16);

function noCryptoSealer(mode: SealMode, recipient: ReadingRecipient): ReadingSealer {
  let hs = 0;
  return {
    backend: 'none',
    mode,
    seal(reading, header) {
      const plaintext = encodeReading(reading);
      const ciphertext = new Uint8Array(plaintext.length + ZERO_TAG.length);
      ciphertext.set(plaintext);
      const protectedBytes = encodeEnvelopeProtected(header, mode === 'session' ? hs++ : undefined);
      const unprotected = new Map<number, Uint8Array>([
        [HEADER.kid, recipient.kid],
        [HEADER.ek, ZERO_EK],
      ]);
      return encodeEncrypt0({ protectedBytes, unprotected, ciphertext });
    },
  };
}
