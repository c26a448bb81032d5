/**
 * viem clients for one JSON-RPC node and one locally held key: every transaction is
 * signed in this process (`privateKeyToAccount`), so the same code runs against the
 * embedded anvil, Besu, Geth or any other node. Fees and gas come from the node.
 */
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type Account,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { createNonceManager, jsonRpc } from 'viem/nonce';
import { privateKeyToAccount } from 'viem/accounts';
import { assertKeyAllowed } from './devKeys.ts';

export interface ChainClientOptions {
  rpcUrl: string;
  chainId: number;
  privateKey: Hex;
  /** 'external' refuses the public development keys (CHAIN_DEV_KEY_REFUSED). */
  target: 'embedded' | 'external';
  /** Receipt / block polling interval (default 20 ms embedded, 500 ms external). */
  pollingIntervalMs?: number;
  /** Per-request timeout (default 5 s). */
  requestTimeoutMs?: number;
}

export interface ChainClients {
  readonly rpcUrl: string;
  readonly chain: Chain;
  readonly account: Account;
  readonly publicClient: PublicClient<Transport, Chain>;
  readonly walletClient: WalletClient<Transport, Chain, Account>;
  readonly pollingIntervalMs: number;
  /** Forget locally counted nonces (after an outage or a rewind the node's count wins). */
  resetNonce(): void;
}

export function chainFor(chainId: number, rpcUrl: string): Chain {
  return defineChain({
    id: chainId,
    name: `vitalseal-${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
}

export function createChainClients(opts: ChainClientOptions): ChainClients {
  assertKeyAllowed(opts.privateKey, opts.target);
  const nonceManager = createNonceManager({ source: jsonRpc() });
  const account = privateKeyToAccount(opts.privateKey, { nonceManager });
  const chain = chainFor(opts.chainId, opts.rpcUrl);
  const pollingInterval = opts.pollingIntervalMs ?? (opts.target === 'embedded' ? 20 : 500);
  const transport = http(opts.rpcUrl, { retryCount: 0, timeout: opts.requestTimeoutMs ?? 5_000, batch: false });
  const publicClient = createPublicClient({ chain, transport, pollingInterval, cacheTime: 0 });
  const walletClient = createWalletClient({ chain, transport, account, pollingInterval, cacheTime: 0 });
  return {
    rpcUrl: opts.rpcUrl,
    chain,
    account,
    publicClient,
    walletClient,
    pollingIntervalMs: pollingInterval,
    resetNonce: () => nonceManager.reset({ address: account.address, chainId: chain.id }),
  };
}

/** The node's chain id (CHAIN_UNAVAILABLE style errors are left to the caller). */
export async function fetchChainId(rpcUrl: string, timeoutMs = 2_000): Promise<number> {
  const client = createPublicClient({ transport: http(rpcUrl, { retryCount: 0, timeout: timeoutMs }) });
  return client.getChainId();
}
