import { bytesToHex, keccak256, type Address, type Hex } from 'viem';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, fromHex, utf8 } from '../protocol/bytes.ts';
import { decryptEncrypt0ChaCha, encryptEncrypt0ChaCha } from '../protocol/cose/index.ts';
import type { Hpke } from '../protocol/hpke/index.ts';
import { emergencyKeyGen } from '../protocol/keys/index.ts';
import type { Rng } from '../protocol/rng.ts';
import type { ChainContracts } from '../chain/contracts.ts';
import { DRILL_PREFIX, ESCROW_INFO, RELEASE_INFO, escrowAad, releaseAad } from '../protocol/escrow.ts';
import type { AgentClient } from './agentClient.ts';
import type { Wallet } from './wallet.ts';

export interface EmergencyProfile {
  bloodType: string;
  allergies: string[];
  medication: string[];
  notes?: string;
}

const COSE_KID = 4;

/**
 * `wallet emergency init`: EmergencyKeyGen, the profile as COSE_Encrypt0 (ChaCha20/Poly1305,
 * alg 24) under K with the patient address as external AAD, K HPKE-sealed to the ward's
 * emergency X25519 key, uploaded in a signed EscrowUpload. K stays in the wallet too.
 */
export async function initEmergency(
  wallet: Wallet,
  client: AgentClient,
  profile: EmergencyProfile,
  o: { hpke: Hpke; rng: Rng },
): Promise<{ kid: string; leafIndex: number }> {
  const ward = await client.ward();
  const k = emergencyKeyGen(wallet.address, o.rng);
  const cose = encryptEncrypt0ChaCha({
    key: k.key,
    iv: o.rng(12),
    plaintext: utf8(JSON.stringify(profile)),
    externalAad: utf8(wallet.address),
    unprotected: new Map([[COSE_KID, k.kid]]),
  });
  const { enc, ciphertext } = o.hpke.seal(fromHex(ward.emergencyPublicKey), ESCROW_INFO, escrowAad(wallet.address), k.key, { rng: o.rng });
  const res = (await client.call(
    wallet,
    '/v1/emergency/escrow',
    'EscrowUpload',
    { profileHash: bytesToHex(sha256(cose)), escrowHash: bytesToHex(sha256(concatBytes(enc, ciphertext))) },
    { profile: Buffer.from(cose).toString('base64'), enc: bytesToHex(enc), sealed: Buffer.from(ciphertext).toString('base64') },
  )) as { access: { leafIndex: number } };
  wallet.setEmergencyKey(k.key, k.kid);
  wallet.save();
  return { kid: Buffer.from(k.kid).toString('hex'), leafIndex: res.access.leafIndex };
}

/** On-chain reasonHash of a break-glass: keccak256(reason); a drill carries the "DRILL" prefix. */
export function reasonHashOf(reason: string, drill: boolean): Hex {
  const h = keccak256(utf8(reason));
  return drill ? (`${DRILL_PREFIX}${h.slice(2 + DRILL_PREFIX.length - 2)}` as Hex) : h;
}

/** An emergency clinician breaks the glass on-chain, then asks the agent for the escrowed profile. */
export async function breakGlassAndRelease(
  clinician: Wallet,
  c: ChainContracts,
  client: AgentClient,
  patient: Address,
  o: { reason: string; drill: boolean; hpke: Hpke },
): Promise<{ profile: EmergencyProfile; drill: boolean; until: number; txHash: Hex; blockNumber: number; leafIndex: number }> {
  const tx = await c.breakGlass(patient, reasonHashOf(o.reason, o.drill));
  const rel = (await client.call(clinician, '/v1/emergency/release', 'EmergencyRelease', {
    patient,
    recipientKey: clinician.vitalsealPublicKey,
  })) as {
    profile: string;
    enc: string;
    sealedKey: string;
    drill: boolean;
    until: number;
    access: { leafIndex: number };
  };
  const profile = openRelease(clinician, patient, rel, o.hpke);
  return { profile, drill: rel.drill, until: rel.until, txHash: tx.txHash, blockNumber: tx.blockNumber, leafIndex: rel.access.leafIndex };
}

/** Opens a release: K with the clinician's X25519 key, then the COSE_Encrypt0 profile with K. */
export function openRelease(
  clinician: Wallet,
  patient: Address,
  rel: { profile: string; enc: string; sealedKey: string },
  hpke: Hpke,
): EmergencyProfile {
  const k = hpke.open(
    fromHex(rel.enc.replace(/^0x/, '')),
    clinician.vitalsealSecretKey,
    RELEASE_INFO,
    releaseAad(patient, clinician.address),
    new Uint8Array(Buffer.from(rel.sealedKey, 'base64')),
  );
  try {
    const pt = decryptEncrypt0ChaCha(new Uint8Array(Buffer.from(rel.profile, 'base64')), k, utf8(patient.toLowerCase()));
    return JSON.parse(new TextDecoder().decode(pt)) as EmergencyProfile;
  } finally {
    k.fill(0);
  }
}
