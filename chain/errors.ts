/**
 * Errors of the on-chain layer. Every failure carries a stable `code`; messages are
 * short and never contain a private key, a key file's content or a mnemonic.
 */
import { defineErrors } from '../protocol/errors.ts';

export const CHAIN_ERRORS = defineErrors('chain', {
  CHAIN_UNAVAILABLE: { message: 'the chain node does not answer', exit: 'unavailable' },
  CHAIN_START_FAILED: { message: 'the embedded chain (anvil) did not start', exit: 'unavailable' },
  CHAIN_STATE_LOCKED: { message: 'another live process runs the embedded chain on this data dir', exit: 'invalid-input' },
  CHAIN_WRONG_CHAIN_ID: { message: 'the node reports another chain id than the deployment', exit: 'invalid-input' },
  CHAIN_TX_REVERTED: { message: 'a transaction or call reverted', exit: 'invalid-input' },
  CHAIN_TX_TIMEOUT: { message: 'no receipt arrived in time', exit: 'unavailable' },
  CHAIN_DEV_KEY_REFUSED: { message: 'a well-known development key is refused outside the embedded chain', exit: 'usage' },
  CHAIN_KEY_FILE_INVALID: { message: 'the key file does not hold one 32-byte hex private key', exit: 'usage' },
  CHAIN_CONTRACT_MISSING: { message: 'no contract code at a recorded address', exit: 'invalid-input' },
  CHAIN_DEPLOYMENT_MISSING: { message: 'no deployment record (chain.json) for this chain', exit: 'usage' },
  CHAIN_DEPLOYMENT_INVALID: { message: 'the deployment record is malformed', exit: 'invalid-input' },
  CHAIN_DEPLOYMENT_OUTDATED: { message: 'the recorded contracts were deployed from another build: deploy again', exit: 'invalid-input' },
  CHAIN_COMPILER_MISMATCH: { message: 'the solc compiler is not the pinned version', exit: 'invalid-input' },
  CHAIN_COMPILE_FAILED: { message: 'the contracts do not compile', exit: 'invalid-input' },
  CHAIN_BAD_ARGUMENT: { message: 'an argument is out of range or malformed', exit: 'usage' },
  ANCHOR_INCONSISTENT: { message: 'the log is not consistent with its anchored head: anchoring stopped', exit: 'invalid-input' },
  ANCHOR_HALTED: { message: 'anchoring is halted after an inconsistency', exit: 'invalid-input' },
  ANCHOR_STORE_INVALID: { message: 'the anchor store holds an impossible state', exit: 'invalid-input' },
});

/** Message of every chain code. */
export const CHAIN_ERROR_CODES = CHAIN_ERRORS.messages;

export type ChainErrorCode = keyof typeof CHAIN_ERROR_CODES;

export class ChainError extends CHAIN_ERRORS.Error {
  override readonly name = 'ChainError';
  /** Name of the Solidity custom error when the failure is a revert (e.g. `StaleHead`). */
  readonly revertName: string | undefined;
  constructor(code: ChainErrorCode, message?: string, options?: { cause?: unknown; revertName?: string }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.revertName = options?.revertName;
  }
}

export function isChainError(e: unknown, code?: ChainErrorCode): e is ChainError {
  return e instanceof ChainError && (code === undefined || e.code === code);
}
