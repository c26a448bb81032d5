/**
 * Receipt polling that works on automining nodes: viem's waitForTransactionReceipt may
 * wait for a further block after a race, which an automining node (anvil) never mines
 * while we wait. This polls `eth_getTransactionReceipt` until found or timeout.
 */
import {
  BaseError,
  TransactionReceiptNotFoundError,
  type Chain,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
} from 'viem';
import { ChainError } from './errors.ts';
import { toChainError } from './viemErrors.ts';

export async function pollReceipt(
  client: PublicClient<Transport, Chain>,
  txHash: Hex,
  opts: { timeoutMs: number; pollingIntervalMs: number; what: string },
): Promise<TransactionReceipt> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    try {
      return await client.getTransactionReceipt({ hash: txHash });
    } catch (e) {
      if (!(e instanceof BaseError && e.walk((x) => x instanceof TransactionReceiptNotFoundError))) throw toChainError(e, opts.what);
    }
    if (Date.now() >= deadline) throw new ChainError('CHAIN_TX_TIMEOUT', `${opts.what}: no receipt within ${opts.timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, opts.pollingIntervalMs));
  }
}
