import { WalletError } from '../../wallet/errors.ts';

/** The ward operator's admin API (bearer token from the agent's data dir). */
export function adminCall(api: string, token: string) {
  return async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await res.json()) as { error?: { code: string } };
    if (!res.ok)
      throw new WalletError('WALLET_API_REFUSED', `admin ${path}`, {
        ...(json.error ? { apiCode: json.error.code } : {}),
        status: res.status,
      });
    return json;
  };
}
