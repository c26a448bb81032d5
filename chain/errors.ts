/**
 * Errors of the on-chain layer. Every failure carries a stable `code`; messages are
 * short and never contain a private key, a key file's content or a mnemonic.
 */
import { CodedError } from '../protocol/errors.ts';

export const CHAIN_ERROR_CODES = {
  CHAIN_UNAVAILABLE: 'the chain node does not answer',
  CHAIN_START_FAILED: 'the embedded chain (anvil) did not start',
  CHAIN_STATE_LOCKED: 'another live process runs the embedded chain on this data dir',
  CHAIN_WRONG_CHAIN_ID: 'the node reports another chain id than the deployment',
  CHAIN_TX_REVERTED: 'a transaction or call reverted',
  CHAIN_TX_TIMEOUT: 'no receipt arrived in time',
  CHAIN_DEV_KEY_REFUSED: 'a well-known development key is refused outside the embedded chain',
  CHAIN_KEY_FILE_INVALID: 'the key file does not hold one 32-byte hex private key',
  CHAIN_CONTRACT_MISSING: 'no contract code at a recorded address',
  CHAIN_DEPLOYMENT_MISSING: 'no deployment record (chain.json) for this chain',
  CHAIN_DEPLOYMENT_INVALID: 'the deployment record is malformed',
  CHAIN_DEPLOYMENT_OUTDATED: 'the recorded contracts were deployed from another build: deploy again',
  CHAIN_COMPILER_MISMATCH: 'the solc compiler is not the pinned version',
  CHAIN_COMPILE_FAILED: 'the contracts do not compile',
  CHAIN_BAD_ARGUMENT: 'an argument is out of range or malformed',
  ANCHOR_INCONSISTENT: 'the log is not consistent with its anchored head: anchoring stopped',
  ANCHOR_HALTED: 'anchoring is halted after an inconsistency',
  ANCHOR_STORE_INVALID: 'the anchor store holds an impossible state',
} as const;

export type ChainErrorCode = keyof typeof CHAIN_ERROR_CODES;

export class ChainError extends CodedError<ChainErrorCode> {
  override readonly name = 'ChainError';
  /** Name of the Solidity custom error when the failure is a revert (e.g. `StaleHead`). */
  readonly revertName: string | undefined;
  constructor(code: ChainErrorCode, message?: string, options?: { cause?: unknown; revertName?: string }) {
    super(code, CHAIN_ERROR_CODES, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.revertName = options?.revertName;
  }
}

export function isChainError(e: unknown, code?: ChainErrorCode): e is ChainError {
  return e instanceof ChainError && (code === undefined || e.code === code);
}
