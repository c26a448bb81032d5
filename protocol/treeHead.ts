import { decodeStrict, encodeCanonical, isBytes, isCborMap } from './cbor/index.ts';
import { decodeSign1, signSign1, verifySign1 } from './cose/index.ts';
import { fail, isVitalsealError } from './errors.ts';

/** A signed tree head of a vitalseal log: what the agent anchors on-chain (logId, size, root). */
export interface TreeHead {
  /** SHA-256 of the log's Ed25519 public key. */
  readonly logId: Uint8Array;
  readonly size: number;
  /** RFC 6962 root of the first `size` leaves. */
  readonly root: Uint8Array;
  /** Signing time, ms since the epoch. */
  readonly ts: number;
}

/** Payload = canonical CBOR map {"v":1, "log", "size", "root", "ts"}, signed as COSE_Sign1 (EdDSA). */
export function encodeTreeHeadPayload(h: TreeHead): Uint8Array {
  return encodeCanonical(
    new Map<string, number | Uint8Array>([
      ['v', 1],
      ['log', h.logId],
      ['size', h.size],
      ['root', h.root],
      ['ts', h.ts],
    ]),
  );
}

export function signTreeHead(h: TreeHead, secretKey: Uint8Array): Uint8Array {
  return signSign1({ payload: encodeTreeHeadPayload(h), secretKey });
}

function parsePayload(payload: Uint8Array): TreeHead {
  let m: unknown;
  try {
    m = decodeStrict(payload, { maxBytes: 512, maxDepth: 2, maxItems: 8, floats: 'nowhere' });
  } catch (e) {
    fail('TREE_HEAD_MALFORMED', 'tree head payload is not CBOR', e);
  }
  if (!isCborMap(m)) fail('TREE_HEAD_MALFORMED');
  const logId = m.get('log');
  const size = m.get('size');
  const root = m.get('root');
  const ts = m.get('ts');
  if (m.get('v') !== 1 || !isBytes(logId) || logId.length !== 32 || !isBytes(root) || root.length !== 32) fail('TREE_HEAD_MALFORMED');
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || typeof ts !== 'number' || !Number.isSafeInteger(ts))
    fail('TREE_HEAD_MALFORMED');
  return { logId, size, root, ts };
}

/** Structure only (no signature check). */
export function decodeTreeHead(bytes: Uint8Array): TreeHead {
  try {
    return parsePayload(decodeSign1(bytes, { limits: { maxBytes: 1024 } }).payload);
  } catch (e) {
    if (isVitalsealError(e, 'TREE_HEAD_MALFORMED')) throw e;
    fail('TREE_HEAD_MALFORMED', undefined, e);
  }
}

/** Verifies the log's signature (COSE_BAD_SIGNATURE) and returns the head. */
export function verifyTreeHead(bytes: Uint8Array, logPublicKey: Uint8Array): TreeHead {
  decodeTreeHead(bytes);
  return parsePayload(verifySign1(bytes, logPublicKey));
}
