import type { Address, Hex } from 'viem';
import { fromHex, toHex, utf8 } from '../protocol/bytes.ts';
import type { Hpke } from '../protocol/hpke/index.ts';
import type { Rng } from '../protocol/rng.ts';
import { WalletError } from './errors.ts';
import type { SessionKeyEntry, Wallet } from './wallet.ts';

/**
 * Session secret keys a patient shares with a grantee (clinician), HPKE-sealed to the X25519
 * key the grantee registered on-chain. The agent never sees them: the file travels out of band.
 */
export interface KeyShareFile {
  v: 1;
  kind: 'vitalseal-key-share';
  patient: Address;
  grantee: Address;
  enc: string;
  ct: string;
}

const INFO = utf8('vitalseal/v1/key-share');
const aad = (patient: string, grantee: string) => utf8(`${patient.toLowerCase()}/${grantee.toLowerCase()}`);

export function sealKeyShare(
  patient: Wallet,
  sessions: readonly SessionKeyEntry[],
  grantee: Address,
  granteeKey: Hex,
  hpke: Hpke,
  rng: Rng,
): KeyShareFile {
  const pt = utf8(JSON.stringify(sessions.map((s) => ({ ...s, source: 'shared', endedAt: undefined }))));
  const { enc, ciphertext } = hpke.seal(fromHex(granteeKey.slice(2)), INFO, aad(patient.address, grantee), pt, { rng });
  pt.fill(0);
  return {
    v: 1,
    kind: 'vitalseal-key-share',
    patient: patient.address,
    grantee: grantee.toLowerCase() as Address,
    enc: toHex(enc),
    ct: Buffer.from(ciphertext).toString('base64'),
  };
}

/** Opens a key share with the grantee wallet's X25519 key and adds its sessions; returns how many. */
export function importKeyShare(grantee: Wallet, share: KeyShareFile, hpke: Hpke): number {
  if (share?.v !== 1 || share.kind !== 'vitalseal-key-share') throw new WalletError('WALLET_SHARE_INVALID', 'not a key share file');
  if (share.grantee.toLowerCase() !== grantee.address)
    throw new WalletError('WALLET_SHARE_INVALID', 'the key share is for another grantee');
  let pt: Uint8Array;
  try {
    pt = hpke.open(
      fromHex(share.enc),
      grantee.vitalsealSecretKey,
      INFO,
      aad(share.patient, share.grantee),
      new Uint8Array(Buffer.from(share.ct, 'base64')),
    );
  } catch (e) {
    throw new WalletError('WALLET_SHARE_INVALID', undefined, { cause: e });
  }
  const sessions = JSON.parse(new TextDecoder().decode(pt)) as SessionKeyEntry[];
  for (const s of sessions) grantee.addSession({ ...s, source: 'shared', patient: share.patient });
  grantee.save();
  return sessions.length;
}
