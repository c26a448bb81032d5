/**
 * The on-chain patientRef (bytes32) of a ticket's patient pseudonym (docs/PROTOCOL.md
 * §7.1): the Consent and Ledger contracts index patients by it, the agent emits it, the wallet
 * looks its events up by it.
 *   - 0x + 64 hex digits (already a bytes32): itself, lower-cased;
 *   - any other 0x hex string (e.g. a 20-byte address): SHA-256 of the bytes it encodes (an odd
 *     number of digits is read with a leading 0);
 *   - anything else: SHA-256 of its UTF-8.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { fromHex, toHex, utf8 } from './bytes.ts';

export type PatientRef = `0x${string}`;

const BYTES32 = /^0x[0-9a-fA-F]{64}$/;
const HEX = /^0x[0-9a-fA-F]*$/;

export function patientRefOf(patient: string): PatientRef {
  if (BYTES32.test(patient)) return patient.toLowerCase() as PatientRef;
  let bytes: Uint8Array;
  if (HEX.test(patient)) {
    const digits = patient.slice(2);
    bytes = fromHex(digits.length % 2 === 1 ? `0${digits}` : digits);
  } else {
    bytes = utf8(patient);
  }
  return `0x${toHex(sha256(bytes))}`;
}
