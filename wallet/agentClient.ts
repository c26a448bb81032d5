import { bytesToHex, type Hex } from 'viem';
import type { Rng } from '../protocol/rng.ts';
import type { ApiDomain, ApiPrimaryType, MessageOf } from '../protocol/api/typedData.ts';
import { agentRequest, type AgentAnswer } from './agentHttp.ts';
import { WalletError } from './errors.ts';
import type { TrustedAuthority } from './origin.ts';
import type { Wallet } from './wallet.ts';

export interface WardInfo {
  authorityPublicKey: string;
  /** The current authority key and the retired ones with the time they stopped signing (ms); absent from older agents. */
  authorityKeys?: Array<{ publicKey: string; from: number; until?: number; current: boolean }>;
  emergencyPublicKey: string;
  logId: string;
  chain: { chainId: number; registrar: string; consent: string; ledger: string; domain: ApiDomain } | null;
}

type Unsigned<P extends ApiPrimaryType> = Omit<MessageOf[P], 'requester' | 'nonce' | 'expiry'>;

/**
 * HTTP client of the agent's signed API: every request gets a fresh nonce, a short expiry and the wallet's
 * EIP-712 signature. An https:// agent is verified against `ca` (the ward CA, PEM) when given, else against
 * the system's roots; a certificate that does not verify is WALLET_AGENT_UNTRUSTED.
 */
export class AgentClient {
  private info: WardInfo | undefined;
  constructor(
    readonly baseUrl: string,
    private readonly rng: Rng,
    private readonly nowMs: () => number = Date.now,
    private readonly lifetimeSec = 120,
    private readonly ca?: string,
  ) {}

  /** A client of an agent whose HTTPS certificate is issued by a private CA (PEM). */
  static withCa(baseUrl: string, rng: Rng, ca: string | undefined): AgentClient {
    return new AgentClient(baseUrl, rng, Date.now, 120, ca);
  }

  async ward(): Promise<WardInfo> {
    return (this.info ??= (await this.get('/v1/ward')) as WardInfo);
  }

  async get(path: string): Promise<unknown> {
    return this.answer(await agentRequest(new URL(this.baseUrl + path), { method: 'GET', ca: this.ca }));
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
    return this.answer(await this.postRaw(path, body));
  }

  /** A POST whose refusal is returned, not thrown (status and body as the agent sent them). */
  postRaw(path: string, body: unknown): Promise<AgentAnswer> {
    return agentRequest(new URL(this.baseUrl + path), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      ca: this.ca,
    });
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

  private answer(res: AgentAnswer): unknown {
    const body = res.json as { error?: { code?: string; message?: string } };
    if (!res.ok) {
      const code = body.error?.code ?? 'UNKNOWN';
      throw new WalletError('WALLET_API_REFUSED', `agent refused: ${code} (${res.status})`, { apiCode: code, status: res.status });
    }
    return body;
  }
}

export type { Hex };

/** The ward authority keys a wallet trusts from GET /v1/ward: the current one and the retired ones with their end (ms). */
export function trustedAuthorities(w: WardInfo): TrustedAuthority[] {
  const hex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/^0x/, ''), 'hex'));
  if (!w.authorityKeys?.length) return [{ publicKey: hex(w.authorityPublicKey) }];
  return w.authorityKeys.map((k) => ({ publicKey: hex(k.publicKey), ...(k.current || k.until === undefined ? {} : { until: k.until }) }));
}
