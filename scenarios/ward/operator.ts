import { agentRequest } from '../../wallet/agentHttp.ts';
import { WalletError } from '../../wallet/errors.ts';

/** The ward operator's admin API (bearer token from the agent's data dir; an https:// API verified against `ca`). */
export function adminCall(api: string, token: string, ca?: string) {
  return async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await agentRequest(new URL(`${api}${path}`), {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      ca,
    });
    const json = res.json as { error?: { code: string } };
    if (!res.ok)
      throw new WalletError('WALLET_API_REFUSED', `admin ${path}`, {
        ...(json.error ? { apiCode: json.error.code } : {}),
        status: res.status,
      });
    return json;
  };
}
