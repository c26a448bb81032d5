import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import mqtt from 'mqtt';
import { build } from '../../scripts/build.mjs';
import { tempDir } from '../support/services.ts';
import { WardFixture } from '../support/ward.ts';

// `npm run build` (scripts/build.mjs) and the compiled agent a gateway runs: `node dist/cli/bin.js agent`.
// Built inside node_modules/.cache so the output resolves the project's packages, like dist/ does.

const REPO = join(import.meta.dirname, '../..');
const OUT = join(REPO, 'node_modules', '.cache', 'vitalseal', `test-build-${process.pid}`);
const ward = new WardFixture('build-test');
let agent: ChildProcess | undefined;

afterAll(async () => {
  if (agent && agent.exitCode === null) {
    const exited = new Promise((r) => agent!.once('exit', r));
    agent.kill('SIGTERM');
    await exited;
  }
  rmSync(OUT, { recursive: true, force: true });
});

describe('production build (scripts/build.mjs → node dist/cli/bin.js)', () => {
  it('compiles, and the compiled agent stores readings through its writer thread (no TypeScript loader)', async () => {
    build(OUT);
    const bin = join(OUT, 'cli', 'bin.js');
    const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8', timeout: 60_000 });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/Usage: vitalseal/);

    const dataDir = tempDir('vitalseal-built-');
    agent = spawn(
      process.execPath,
      [bin, 'agent', '--data-dir', dataDir, '--chain', 'off', '--mqtt-port', '0', '--http-port', '0', '--log-level', 'info'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    agent.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const started = await new Promise<{ mqtt: { port: number }; http: { port: number } }>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`built agent did not start: ${stderr}`)), 60_000);
      agent!.once('exit', (code) => reject(new Error(`built agent exited ${code}: ${stderr}`)));
      createInterface({ input: agent!.stdout! }).on('line', (line) => {
        const m = JSON.parse(line) as { msg?: string; mqtt: { port: number }; http: { port: number } };
        if (m.msg === 'agent started') {
          clearTimeout(t);
          resolve(m);
        }
      });
    });
    const http = `http://127.0.0.1:${started.http.port}`;
    const headers = {
      authorization: `Bearer ${readFileSync(join(dataDir, 'admin-token'), 'utf8').trim()}`,
      'content-type': 'application/json',
    };
    const dev = (await (
      await fetch(`${http}/admin/devices`, { method: 'POST', headers, body: JSON.stringify({ id: 'dev-b' }) })
    ).json()) as { secret: string };
    const pushed = await fetch(`${http}/admin/tickets`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ ticket: Buffer.from(ward.ticketFor('dev-b')).toString('base64') }),
    });
    expect(pushed.status).toBe(200);

    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${started.mqtt.port}`, {
      clientId: 'dev-b',
      username: 'dev-b',
      password: dev.secret,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    try {
      for (let seq = 1; seq <= 3; seq++) await client.publishAsync('vs/v1/dev-b/r', Buffer.from(ward.seal('dev-b', seq)), { qos: 1 });
    } finally {
      await client.endAsync();
    }
    const health = (await (await fetch(`${http}/healthz`)).json()) as { ok: boolean; records: number; logSize: number };
    expect(health).toMatchObject({ ok: true, records: 3, logSize: 3 });
  }, 180_000);
});
