import { encodeCanonical } from '../../protocol/cbor/index.ts';
import { ALG, HEADER, encodeEncrypt0 } from '../../protocol/cose/index.ts';
import {
  ENVELOPE_HPKE_INFO,
  createSessionSealer,
  envelopeAad,
  encodeEnvelopeProtected,
  encodeReading,
  sealReading,
  type Reading,
  type ReadingHeader,
  type ReadingRecipient,
} from '../../protocol/envelope/index.ts';
import type { Hpke } from '../../protocol/hpke/types.ts';
import { createHpke } from '../../protocol/node.ts';
import type { Rng } from '../../protocol/rng.ts';
import type { FirmwareBugName } from '../firmware/bugs.ts';

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
  /** A broken firmware variant (firmware/bugs.ts; tests only): `wrong-aad` and `non-canonical-cbor` change per-reading sealing. */
  readonly bug?: FirmwareBugName;
  /** The device identity secret key when the ticket certifies its public key: HPKE Auth mode (docs/PROTOCOL.md §3.6). */
  readonly senderSecretKey?: Uint8Array;
}

export function createReadingSealer(o: SealerOptions): ReadingSealer {
  const { backend, mode, recipient, rng } = o;
  const sender = o.senderSecretKey === undefined ? {} : { senderSecretKey: o.senderSecretKey };
  if (backend === 'none') return noCryptoSealer(mode, recipient);
  const hpke = createHpke(backend);
  if (mode === 'session') {
    const session = createSessionSealer({ recipient, hpke, rng, ...sender });
    return { backend, mode, seal: (reading, header) => session.seal({ reading, header }) };
  }
  const bug = o.bug;
  if (bug === 'wrong-aad' || bug === 'non-canonical-cbor')
    return { backend, mode, seal: (reading, header) => buggySeal(bug, { reading, header, recipient, hpke, rng }) };
  return { backend, mode, seal: (reading, header) => sealReading({ reading, header, recipient, hpke, rng, ...sender }) };
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

/**
 * Firmware-bug hooks (firmware/bugs.ts) of per-reading sealing, otherwise as sealReading:
 * - `wrong-aad`: the AAD is the Enc_structure of an empty protected header (§5.4 broken: a
 *   reader's open fails);
 * - `non-canonical-cbor`: the protected header map in declaration order, not sorted (§2.3
 *   broken; the AAD is over the bytes sent, so the envelope still opens).
 */
function buggySeal(
  bug: 'wrong-aad' | 'non-canonical-cbor',
  i: { reading: Reading; header: ReadingHeader; recipient: ReadingRecipient; hpke: Hpke; rng: Rng },
): Uint8Array {
  const { reading, header, recipient, hpke, rng } = i;
  const plaintext = encodeReading(reading);
  const protectedBytes =
    bug === 'non-canonical-cbor'
      ? declarationOrderMap([HEADER.alg, ALG.HPKE4], ['dev', header.dev], ['seq', header.seq], ['ts', header.ts], ['st', header.st])
      : encodeEnvelopeProtected(header);
  const aad = envelopeAad(bug === 'wrong-aad' ? new Uint8Array(0) : protectedBytes);
  const { enc, ciphertext } = hpke.seal(recipient.publicKey, ENVELOPE_HPKE_INFO, aad, plaintext, { rng });
  const unprotected = new Map<number, Uint8Array>([
    [HEADER.kid, recipient.kid],
    [HEADER.ek, enc],
  ]);
  return encodeEncrypt0({ protectedBytes, unprotected, ciphertext });
}

/** A CBOR map of at most 23 entries whose keys are in the given order (each key and value encoded canonically). */
function declarationOrderMap(...entries: Array<[number | string, number | string]>): Uint8Array {
  const parts = [Uint8Array.of(0xa0 + entries.length), ...entries.flatMap(([k, v]) => [encodeCanonical(k), encodeCanonical(v)])];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
