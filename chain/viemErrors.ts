/** Maps viem's errors to ChainError codes: reverts vs an unreachable or failing node. */
import { BaseError, ContractFunctionRevertedError, ExecutionRevertedError, WaitForTransactionReceiptTimeoutError } from 'viem';
import { ChainError, isChainError } from './errors.ts';

export function toChainError(e: unknown, what: string): ChainError {
  if (isChainError(e)) return e;
  if (e instanceof BaseError) {
    const reverted = e.walk((x) => x instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError) {
      const name = reverted.data?.errorName ?? reverted.reason ?? 'revert';
      return new ChainError('CHAIN_TX_REVERTED', `${what} reverted: ${name}`, { cause: e, revertName: name });
    }
    if (e.walk((x) => x instanceof ExecutionRevertedError)) {
      return new ChainError('CHAIN_TX_REVERTED', `${what} reverted`, { cause: e, revertName: 'revert' });
    }
    if (e.walk((x) => x instanceof WaitForTransactionReceiptTimeoutError)) {
      return new ChainError('CHAIN_TX_TIMEOUT', `${what}: no receipt in time`, { cause: e });
    }
    return new ChainError('CHAIN_UNAVAILABLE', `${what}: ${e.shortMessage}`, { cause: e });
  }
  if (e instanceof Error && /fetch failed|ECONNREFUSED|ECONNRESET|socket hang up/i.test(e.message)) {
    return new ChainError('CHAIN_UNAVAILABLE', `${what}: ${e.message}`, { cause: e });
  }
  throw e;
}
