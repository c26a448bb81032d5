import { request as httpsRequest } from 'node:https';

/**
 * A JSON request to the agent: over HTTPS with `ca` (the ward CA, when the agent's TLS is on: node's
 * fetch cannot take a private CA), else with fetch. Resolves with the status and the parsed body.
 */
export async function requestJson(
  url: URL,
  o: { method: string; headers: Record<string, string>; body?: string | undefined; ca?: string | undefined },
): Promise<{ ok: boolean; status: number; json: unknown }> {
  if (url.protocol !== 'https:' || o.ca === undefined) {
    const res = await fetch(url, { method: o.method, headers: o.headers, ...(o.body !== undefined ? { body: o.body } : {}) });
    return { ok: res.ok, status: res.status, json: await res.json() };
  }
  const ca = o.ca;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: o.method, headers: o.headers, ca, minVersion: 'TLSv1.2' }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
      });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        try {
          resolve({ ok: status >= 200 && status < 300, status, json: JSON.parse(text) });
        } catch (e) {
          reject(e);
        }
      });
    });
    req.on('error', reject);
    req.end(o.body);
  });
}
