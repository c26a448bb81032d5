/**
 * HPKE parameters of the emergency escrow (docs/PROTOCOL.md §14.3, §14.5), shared by the
 * wallet and the agent: the profile key K is sealed to the ward's emergency X25519 key with info
 * ESCROW_INFO and aad = utf8(patient), and re-sealed by the agent to the clinician's X25519 key
 * with RELEASE_INFO and aad = utf8(patient ‖ "/" ‖ clinician) (addresses lower-case 0x hex).
 */
import { utf8 } from './bytes.ts';

export const ESCROW_INFO = utf8('vitalseal/v1/emergency-escrow');
export const RELEASE_INFO = utf8('vitalseal/v1/emergency-release');

export function escrowAad(patient: string): Uint8Array {
  return utf8(patient.toLowerCase());
}

export function releaseAad(patient: string, clinician: string): Uint8Array {
  return utf8(`${patient.toLowerCase()}/${clinician.toLowerCase()}`);
}

/** Break-glass reasons of a drill carry this 5-byte prefix in their on-chain reasonHash ("DRILL"). */
export const DRILL_PREFIX = '0x4452494c4c';

export function isDrillReason(reasonHash: string): boolean {
  return reasonHash.toLowerCase().startsWith(DRILL_PREFIX);
}
