import { VitalsealError, type ErrorCode } from '../errors.ts';

/** Outcome of the non-throwing proof functions: the root a proof leads to, or why it is invalid. */
export type ProofResult = { readonly ok: true; readonly root: Uint8Array } | { readonly ok: false; readonly error: VitalsealError };

export const proofOk = (root: Uint8Array): ProofResult => ({ ok: true, root });
export const proofError = (code: ErrorCode): ProofResult => ({ ok: false, error: new VitalsealError(code) });
