import { request as httpsRequest } from 'node:https';
import { WalletError } from './errors.ts';

/** An answer of the agent's API: status and parsed JSON body ({} when the body is not JSON). */
export interface AgentAnswer {
  readonly ok: boolean;
  readonly status: number;
  readonly json: unknown;
}

/** OpenSSL / node codes of a server certificate that does not verify against the trusted CA. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function unreachable(url: URL, e: unknown): WalletError {
  const code = (e as { code?: unknown } | undefined)?.code ?? (e as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  if (typeof code === 'string' && UNTRUSTED.has(code))
    return new WalletError('WALLET_AGENT_UNTRUSTED', `agent at ${url.origin}: its certificate does not verify (${code})`, { cause: e });
  return new WalletError('WALLET_AGENT_UNREACHABLE', `agent at ${url.origin} does not answer`, { cause: e });
}

/**
 * One JSON request to the agent. An https:// URL with `ca` (the ward CA, PEM) goes through node:https
 * verified against that CA only (fetch takes no private CA); anything else through fetch. A server
 * certificate that does not verify is WALLET_AGENT_UNTRUSTED; no answer at all WALLET_AGENT_UNREACHABLE.
 */
export async function agentRequest(
  url: URL,
  o: { method: string; headers?: Record<string, string>; body?: string | undefined; ca?: string | undefined },
): Promise<AgentAnswer> {
  const headers = o.headers ?? {};
  if (url.protocol !== 'https:' || o.ca === undefined) {
    let res: Response;
    try {
      res = await fetch(url, { method: o.method, headers, ...(o.body !== undefined ? { body: o.body } : {}) });
    } catch (e) {
      throw unreachable(url, e);
    }
    return { ok: res.ok, status: res.status, json: await res.json().catch(() => ({})) };
  }
  const ca = o.ca;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: o.method, headers, ca, minVersion: 'TLSv1.2' }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
      });
      res.on('error', (e) => reject(unreachable(url, e)));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        let json: unknown = {};
        try {
          json = JSON.parse(text);
        } catch {
          // not JSON: an empty body
        }
        resolve({ ok: status >= 200 && status < 300, status, json });
      });
    });
    req.on('error', (e) => reject(unreachable(url, e)));
    req.end(o.body);
  });
}
