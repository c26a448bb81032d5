import { randomBytes } from 'node:crypto';
import { fromHex, toHex } from '../../protocol/bytes.ts';
import type { X25519KeyPair } from '../../protocol/hpke/types.ts';
import { createHpke } from '../../protocol/node.ts';
import type { Rng } from '../../protocol/rng.ts';
import type { SealBackend } from '../crypto/sealer.ts';
import { simFail } from '../errors.ts';
import type { DeviceNvmState } from '../nvm/deviceState.ts';
import type { NvmStorage } from '../nvm/storage.ts';

/**
 * The device identity key of the reference firmware (docs/PROTOCOL.md §3.6): generated on the device,
 * kept in its NVM (`identityKey`, the secret; the NVM file is 0600), its public key reported as "idk".
 * Rotation (device side, §3.6 "Rotating the identity key"): a new secret from a CSPRNG replaces the
 * old one in NVM, the old SECRET is not kept anywhere (the state file is replaced; the firmware zeroes
 * its RAM copy — a JavaScript string cannot be wiped, a C firmware wipes its buffer), and only the
 * old PUBLIC key is remembered (`previousIdentityPublicKey`) so that a ticket certifying it is refused
 * as SIM_IDENTITY_KEY_ROTATED (an expected consequence of the rotation, not a misregistration).
 */

/** The identity key pair of a stored identity secret (public key computed on the sealing backend; noble for 'none'). */
export function identityOf(secretKey: Uint8Array, backend: SealBackend | undefined): X25519KeyPair {
  const hpke = backend === 'node' ? createHpke('node') : createHpke('noble');
  return { secretKey, publicKey: hpke.publicKeyOf(secretKey) };
}

/** The public key (hex) of an NVM state's identity secret, or undefined when it has none yet. */
export function identityPublicKeyOf(state: DeviceNvmState): string | undefined {
  return state.identityKey === undefined ? undefined : toHex(identityOf(fromHex(state.identityKey), 'noble').publicKey);
}

/** What a rotation reports: the new public key (to register at the ward) and the previous one (hex). */
export interface IdentityRotation {
  readonly device: string;
  readonly idk: string;
  readonly previous: string;
}

/**
 * The NVM state after a rotation: a fresh identity secret (`rng`, a CSPRNG by default), the previous
 * public key remembered, the previous secret gone. The ticket in use is left to the caller (a
 * running firmware drops it at once; a device rotated while off drops it at its next boot: a ticket
 * that certifies the previous key is refused as SIM_IDENTITY_KEY_ROTATED wherever it is found).
 */
export function rotatedIdentityState(
  state: DeviceNvmState,
  rng: Rng = (n) => new Uint8Array(randomBytes(n)),
): { state: DeviceNvmState; rotation: IdentityRotation } {
  const previous = identityPublicKeyOf(state);
  if (previous === undefined) simFail('SIM_NO_IDENTITY_KEY');
  const secret = rng(32);
  // an all-zero or repeated secret would be a broken generator: refuse rather than use it
  if (secret.length !== 32 || secret.every((b) => b === 0) || toHex(secret) === state.identityKey)
    simFail('SIM_CONFIG_INVALID', 'the random generator gave no usable identity secret');
  const next: DeviceNvmState = { ...state, identityKey: toHex(secret), previousIdentityPublicKey: previous };
  const idk = toHex(identityOf(secret, 'noble').publicKey);
  secret.fill(0);
  return { state: next, rotation: { device: state.dev, idk, previous } };
}

/**
 * `vitalseal sim --rotate-identity`: rotates the identity key of a device whose NVM is `storage`
 * (the device is off: the caller holds the NVM directory's lock). Durable once it returns: the new
 * state replaces the old one atomically (temp file 0600, fsync, rename), the old secret with it.
 */
export function rotateIdentityInNvm(storage: NvmStorage, rng?: Rng): IdentityRotation {
  const state = storage.loadState();
  if (state === undefined)
    simFail('SIM_NO_IDENTITY_KEY', 'the device has no NVM state yet: boot it once (it generates its identity key at its first boot)');
  const { state: next, rotation } = rotatedIdentityState(state, rng);
  storage.saveState(next);
  return rotation;
}

/**
 * SIM_IDENTITY_KEY_ROTATED when a ticket certifies this device's previous identity key,
 * SIM_IDENTITY_KEY_MISMATCH when it certifies any other key not its own, undefined when it certifies
 * none (v1) or this device's key.
 */
export function identityRefusal(
  t: { readonly idk?: Uint8Array },
  own: Uint8Array | undefined,
  previous: string | undefined,
): 'SIM_IDENTITY_KEY_MISMATCH' | 'SIM_IDENTITY_KEY_ROTATED' | undefined {
  if (t.idk === undefined || own === undefined) return undefined;
  const idk = toHex(t.idk);
  if (idk === toHex(own)) return undefined;
  return idk === previous ? 'SIM_IDENTITY_KEY_ROTATED' : 'SIM_IDENTITY_KEY_MISMATCH';
}
