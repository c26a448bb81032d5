import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../protocol/bytes.ts';
import { decodeLog } from '../../device-sim/nvm/logRecord.ts';
import type { FleetReport } from '../../device-sim/report/fleetReport.ts';
import { stopProcess, tempDir, waitFor } from '../support/services.ts';
import { authority, nowS, patientTicket, startTestAgent } from './helpers.ts';

/**
 * kill -9 of the simulator mid-run, restart from its NVM directory: every reading that was
 * not acknowledged is delivered (stored once), and seq never repeats.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'test/device-sim/fixtures/simCli.ts');
const IDS = ['kill-1', 'kill-2'];

describe('reboot: kill -9 and restart from NVM', () => {
  let t: Awaited<ReturnType<typeof startTestAgent>>;
  const children: ChildProcess[] = [];
  const work = tempDir('vitalseal-sim-kill-');

  beforeAll(async () => {
    t = await startTestAgent();
  });
  afterAll(async () => {
    for (const c of children) await stopProcess(c, 'SIGKILL');
    await t?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  function sim(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; out: string; err: string }> } {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'sim', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CI: process.env['CI'] ?? '' },
    });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const done = new Promise<{ code: number | null; out: string; err: string }>((res) =>
      child.once('exit', (code) => res({ code, out, err })),
    );
    return { child, done };
  }

  it('replays every unacknowledged reading once and never reuses a seq', async () => {
    const A = authority(6);
    const devices = [];
    for (const id of IDS) {
      const { secret } = t.agent.core.provisionDevice(id);
      await t.agent.core.pushTicket(patientTicket(id, A, { nbf: nowS() - 600, exp: nowS() + 3600 }).ticket);
      devices.push({ id, secret, profile: 'pulse-oximeter', authorityPublicKey: toHex(A.publicKey) });
    }
    const fleet = join(work, 'fleet.json');
    writeFileSync(fleet, JSON.stringify({ version: 1, broker: `mqtt://127.0.0.1:${t.agent.mqttAddress!.port}`, devices }));
    const nvm = join(work, 'nvm');
    const common = [
      '--fleet',
      fleet,
      '--nvm-dir',
      nvm,
      '--period',
      '25ms',
      '--backend',
      'node',
      '--seed',
      'kill',
      '--no-progress',
      '--json',
    ];

    // run 1: a lossy link (30 % of transmissions dropped, resent after 1 s), killed mid-run
    const first = sim([...common, '--duration', '120s', '--faults', 'drop=0.3,delay=0.1:1500ms', '--ack-timeout', '1s']);
    await waitFor(
      () => IDS.every((id) => t.agent.core.store.recordsOfDevice(id, 0, 100_000).length >= 30),
      30_000,
      'readings from the first run',
    );
    first.child.kill('SIGKILL');
    const r1 = await first.done;
    expect(r1.code).toBeNull(); // killed, no report

    // what each device's NVM says was sealed and not acknowledged at the kill
    const unacked = new Map<string, number[]>();
    const maxSeq1 = new Map<string, number>();
    for (const id of IDS) {
      const { records } = decodeLog(new Uint8Array(readFileSync(join(nvm, id, 'outbox.log'))));
      const open = new Map<number, true>();
      let max = -1;
      for (const r of records) {
        if (r.t === 'sealed') {
          open.set(r.seq, true);
          max = Math.max(max, r.seq);
        } else if (r.t === 'checkpoint') max = Math.max(max, r.maxSeq);
        else open.delete(r.seq);
      }
      unacked.set(id, [...open.keys()]);
      maxSeq1.set(id, max);
    }
    expect(IDS.some((id) => unacked.get(id)!.length > 0)).toBe(true);
    expect(existsSync(join(nvm, 'LOCK'))).toBe(true); // left behind by the killed process

    // run 2: same NVM directory, clean link, short: boots, replays, measures a little, drains
    const second = sim([...common, '--duration', '1s']);
    const r2 = await second.done;
    expect(r2.code, r2.err).toBe(0);
    const report = JSON.parse(r2.out) as FleetReport;
    expect(report.drained).toBe(true);
    for (const id of IDS) {
      const d = report.devices.find((x) => x.id === id)!;
      const u = unacked.get(id)!;
      expect(d.replayedAtBoot).toBe(u.length);
      expect(d.firstSeq!).toBeGreaterThan(maxSeq1.get(id)!); // seq never repeats
      const seqs = t.agent.core.store.recordsOfDevice(id, 0, 100_000).map((r) => r.seq);
      expect(new Set(seqs).size).toBe(seqs.length); // each stored once
      for (const s of u) expect(seqs).toContain(s); // every unacknowledged reading delivered
      expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: d.lastSeq! + 1 }, (_, i) => i)); // nothing lost
      expect(d.pending).toBe(0);
    }
    expect(t.agent.core.store.quarantineCounts()).toEqual({}); // in particular no AGENT_SEQ_REPLAY
  });
});
