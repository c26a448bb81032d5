import { bytesToHex, verifyTypedData, type Address, type Hex } from 'viem';
import { sha256 } from '@noble/hashes/sha2.js';
import { fromHex, toHex, utf8 } from '../protocol/bytes.ts';
import type { Hpke } from '../protocol/hpke/index.ts';
import { discloseReadingKey, openDisclosedReading, type Reading } from '../protocol/envelope/index.ts';
import type { ChainContracts } from '../chain/contracts.ts';
import { typedDataOf, type ApiDomain } from '../protocol/api/typedData.ts';
import { WalletError } from './errors.ts';
import { AnchoredRoots, envelopeOf, verifyServedRecord, type RecordCheck } from './verifyRecords.ts';
import type { ServedRecord } from '../protocol/api/servedRecord.ts';
import type { Wallet } from './wallet.ts';
import { type AuthorityTrust, expectedSenderKey } from './origin.ts';

/**
 * A research disclosure: one reading's HPKE AEAD key and nonce (never the session secret key),
 * the served record (envelope, inclusion proof, anchor reference) and the patient's EIP-712
 * signature over a hash of all of it.
 */
export interface DisclosureFile {
  v: 1;
  kind: 'vitalseal-disclosure';
  domain: ApiDomain;
  patient: Address;
  recordId: Hex;
  key: string;
  nonce: string;
  scope: 'reading' | 'session';
  record: ServedRecord;
  issuedAt: number;
  signature: Hex;
}

function disclosureHash(d: Pick<DisclosureFile, 'recordId' | 'key' | 'nonce' | 'scope' | 'record'>): Hex {
  return bytesToHex(
    sha256(
      utf8(
        JSON.stringify([
          d.recordId,
          d.key,
          d.nonce,
          d.scope,
          d.record.envelope,
          d.record.leafIndex,
          d.record.treeSize,
          d.record.inclusionProof,
          d.record.anchor,
        ]),
      ),
    ),
  );
}

export async function createDisclosure(
  patient: Wallet,
  record: ServedRecord,
  o: { domain: ApiDomain; hpke: Hpke; nowSec: number; authorityPublicKey?: AuthorityTrust },
): Promise<DisclosureFile> {
  const sk = patient.sessionSecretFor(record.kid.toLowerCase());
  if (!sk) throw new WalletError('WALLET_NO_KEY');
  // an Auth-mode reading is disclosed only once it verified against its ward-signed ticket's idk (§13.1)
  const senderPublicKey = o.authorityPublicKey ? expectedSenderKey(record, o.authorityPublicKey) : undefined;
  const d = discloseReadingKey(envelopeOf(record), { secretKey: sk, hpke: o.hpke, ...(senderPublicKey ? { senderPublicKey } : {}) });
  const body = { recordId: `0x${toHex(d.recordId)}` as Hex, key: toHex(d.key), nonce: toHex(d.baseNonce), scope: d.scope, record };
  const signature = await patient.sign(o.domain, 'Disclosure', {
    patient: patient.address,
    recordId: body.recordId,
    disclosureHash: disclosureHash(body),
    issuedAt: o.nowSec,
  });
  return { v: 1, kind: 'vitalseal-disclosure', domain: o.domain, patient: patient.address, ...body, issuedAt: o.nowSec, signature };
}

export interface OpenedDisclosure {
  reading: Reading;
  check: RecordCheck;
  patient: Address;
}

/** `research open`: checks the patient's signature, decrypts that one reading, verifies its proof against the chain. */
export async function openDisclosure(
  d: DisclosureFile,
  o: { hpke: Hpke; contracts: ChainContracts; fromBlock: number; chainId: number; ledger: string; consent: string },
): Promise<OpenedDisclosure> {
  if (d?.v !== 1 || d.kind !== 'vitalseal-disclosure' || !d.record) throw new WalletError('DISCLOSURE_INVALID');
  if (d.domain.chainId !== o.chainId || d.domain.verifyingContract.toLowerCase() !== o.consent.toLowerCase())
    throw new WalletError('DISCLOSURE_INVALID', 'the disclosure is for another chain');
  const ok = await verifyTypedData({
    address: d.patient,
    signature: d.signature,
    ...typedDataOf(d.domain, 'Disclosure', {
      patient: d.patient,
      recordId: d.recordId,
      disclosureHash: disclosureHash(d),
      issuedAt: d.issuedAt,
    }),
  } as Parameters<typeof verifyTypedData>[0]).catch(() => false);
  if (!ok) throw new WalletError('DISCLOSURE_BAD_SIGNATURE');
  const opened = openDisclosedReading(
    envelopeOf(d.record),
    { key: fromHex(d.key), nonce: fromHex(d.nonce), recordId: fromHex(d.recordId.slice(2)) },
    o.hpke,
  );
  const check = await verifyServedRecord(d.record, new AnchoredRoots(o.contracts, o.fromBlock), { chainId: o.chainId, ledger: o.ledger });
  return { reading: opened.reading, check, patient: d.patient };
}

/** Tries a disclosure's key on another envelope (it must fail: a disclosure opens one reading only). */
export function tryDisclosureOn(d: DisclosureFile, envelope: Uint8Array, hpke: Hpke): boolean {
  try {
    openDisclosedReading(envelope, { key: fromHex(d.key), nonce: fromHex(d.nonce) }, hpke);
    return true;
  } catch {
    return false;
  }
}
