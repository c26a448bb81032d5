import { bytesToHex, type Hex } from 'viem';
import type { Rng } from '../protocol/rng.ts';
import type { ApiDomain, ApiPrimaryType, MessageOf } from '../protocol/api/typedData.ts';
import { WalletError } from './errors.ts';
import type { Wallet } from './wallet.ts';

export interface WardInfo {
  authorityPublicKey: string;
  emergencyPublicKey: string;
  logId: string;
  chain: { chainId: number; registrar: string; consent: string; ledger: string; domain: ApiDomain } | null;
}

type Unsigned<P extends ApiPrimaryType> = Omit<MessageOf[P], 'requester' | 'nonce' | 'expiry'>;

/** HTTP client of the agent's signed API: every request gets a fresh nonce, a short expiry and the wallet's EIP-712 signature. */
export class AgentClient {
  private info: WardInfo | undefined;
  constructor(
    readonly baseUrl: string,
    private readonly rng: Rng,
    private readonly nowMs: () => number = Date.now,
    private readonly lifetimeSec = 120,
  ) {}

  async ward(): Promise<WardInfo> {
    return (this.info ??= (await this.get('/v1/ward')) as WardInfo);
  }

  async get(path: string): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(this.baseUrl + path);
    } catch (e) {
      throw new WalletError('WALLET_AGENT_UNREACHABLE', `agent at ${this.baseUrl} does not answer`, { cause: e });
    }
    return this.answer(res);
  }

  /** Builds and signs a message (nonce, expiry added); exposed so tests can replay or alter it. */
  async signed<P extends Exclude<ApiPrimaryType, 'Disclosure'>>(
    wallet: Wallet,
    primaryType: P,
    fields: Unsigned<P>,
    o: { expiry?: number } = {},
  ) {
    const w = await this.ward();
    if (!w.chain)
      throw new WalletError('WALLET_API_REFUSED', 'the agent runs without a chain', { apiCode: 'API_CHAIN_UNAVAILABLE', status: 503 });
    const message = {
      ...fields,
      requester: wallet.address,
      nonce: bytesToHex(this.rng(32)),
      expiry: o.expiry ?? Math.floor(this.nowMs() / 1000) + this.lifetimeSec,
    } as MessageOf[P];
    const signature = await wallet.sign(w.chain.domain, primaryType, message);
    return { message, signature };
  }

  async post(path: string, body: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(this.baseUrl + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    } catch (e) {
      throw new WalletError('WALLET_AGENT_UNREACHABLE', `agent at ${this.baseUrl} does not answer`, { cause: e });
    }
    return this.answer(res);
  }

  async call<P extends Exclude<ApiPrimaryType, 'Disclosure'>>(
    wallet: Wallet,
    path: string,
    primaryType: P,
    fields: Unsigned<P>,
    extra: Record<string, unknown> = {},
  ): Promise<unknown> {
    return this.post(path, { ...(await this.signed(wallet, primaryType, fields)), ...extra });
  }

  private async answer(res: Response): Promise<unknown> {
    const body = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    if (!res.ok) {
      const code = body.error?.code ?? 'UNKNOWN';
      throw new WalletError('WALLET_API_REFUSED', `agent refused: ${code} (${res.status})`, { apiCode: code, status: res.status });
    }
    return body;
  }
}

export type { Hex };
