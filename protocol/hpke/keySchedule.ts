/**
 * RFC 9180 §5.1 KeySchedule for the modes without PSK (base 0x00, auth 0x02).
 *
 * Everything that depends only on (mode, info) — psk_id_hash, info_hash,
 * key_schedule_context and the three labeled_info messages — is computed once per
 * info value and cached; per message only `secret`, `key` and `base_nonce` cost an
 * HMAC each. `exporter_secret` is derived on first use (see `exporterSecretOf`).
 */
import type { HpkeMode } from './types.ts';
import {
  AEAD_KEY_LENGTH,
  AEAD_NONCE_LENGTH,
  HASH_LENGTH,
  HPKE_SUITE_ID,
  type HmacSha256,
  labeledExtract,
  labeledIkmMessage,
  singleBlockExpandMessage,
} from './labeled.ts';

const EMPTY = new Uint8Array(0);
/** Infos longer than this are not cached (vitalseal uses info = ""). */
const MAX_CACHED_INFO_LENGTH = 256;
const MAX_CACHED_INFOS = 64;

/** The per-(mode, info) HMAC messages: labeled_info ‖ 0x01 for "key", "base_nonce" and "exp". */
interface InfoMessages {
  readonly key: Uint8Array;
  readonly baseNonce: Uint8Array;
  readonly exporterSecret: Uint8Array;
}

export interface ScheduledSecrets {
  readonly key: Uint8Array;
  readonly baseNonce: Uint8Array;
  /** The key schedule's `secret`, kept so `exporter_secret` can be derived lazily. */
  readonly secret: Uint8Array;
  readonly exporterMessage: Uint8Array;
}

export type KeyScheduleFn = (mode: HpkeMode, sharedSecret: Uint8Array, info: Uint8Array) => ScheduledSecrets;

export function createKeySchedule(hmac: HmacSha256): KeyScheduleFn {
  // secret = LabeledExtract(shared_secret, "secret", psk) with psk = "": a constant message.
  const secretMessage = labeledIkmMessage(HPKE_SUITE_ID, 'secret', EMPTY);
  // psk_id_hash = LabeledExtract("", "psk_id_hash", psk_id) with psk_id = "".
  const pskIdHash = labeledExtract(hmac, HPKE_SUITE_ID, EMPTY, 'psk_id_hash', EMPTY);
  const cache = new Map<string, InfoMessages>();

  function infoMessages(mode: HpkeMode, info: Uint8Array): InfoMessages {
    const cacheKey = info.length <= MAX_CACHED_INFO_LENGTH ? cacheKeyOf(mode, info) : undefined;
    if (cacheKey !== undefined) {
      const hit = cache.get(cacheKey);
      if (hit !== undefined) return hit;
    }
    const infoHash = labeledExtract(hmac, HPKE_SUITE_ID, EMPTY, 'info_hash', info);
    const context = new Uint8Array(1 + 2 * HASH_LENGTH);
    context[0] = mode;
    context.set(pskIdHash, 1);
    context.set(infoHash, 1 + HASH_LENGTH);
    const messages: InfoMessages = {
      key: singleBlockExpandMessage(HPKE_SUITE_ID, 'key', context, AEAD_KEY_LENGTH),
      baseNonce: singleBlockExpandMessage(HPKE_SUITE_ID, 'base_nonce', context, AEAD_NONCE_LENGTH),
      exporterSecret: singleBlockExpandMessage(HPKE_SUITE_ID, 'exp', context, HASH_LENGTH),
    };
    if (cacheKey !== undefined) {
      if (cache.size >= MAX_CACHED_INFOS) cache.delete(cache.keys().next().value!);
      cache.set(cacheKey, messages);
    }
    return messages;
  }

  return (mode, sharedSecret, info) => {
    const messages = infoMessages(mode, info);
    const secret = hmac(sharedSecret, secretMessage);
    return {
      key: hmac(secret, messages.key),
      baseNonce: hmac(secret, messages.baseNonce).subarray(0, AEAD_NONCE_LENGTH),
      secret,
      exporterMessage: messages.exporterSecret,
    };
  };
}

/** exporter_secret = LabeledExpand(secret, "exp", key_schedule_context, Nh). */
export function exporterSecretOf(hmac: HmacSha256, scheduled: ScheduledSecrets): Uint8Array {
  return hmac(scheduled.secret, scheduled.exporterMessage);
}

function cacheKeyOf(mode: HpkeMode, info: Uint8Array): string {
  let key = String.fromCharCode(mode);
  for (let i = 0; i < info.length; i++) key += String.fromCharCode(info[i]!);
  return key;
}
