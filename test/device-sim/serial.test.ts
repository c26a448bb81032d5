import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReading } from '../../protocol/envelope/index.ts';
import { createHpke } from '../../protocol/node.ts';
import { parseFaults } from '../../device-sim/faults/faultPlan.ts';
import { runFleet } from '../../device-sim/fleet/fleetRunner.ts';
import { startPtyPair } from '../support/services.ts';
import { authority, nowS, patientTicket, startTestAgent } from './helpers.ts';

/**
 * A wired device on a real serial line: a socat pty pair between the simulator (serialport)
 * and the agent's serial ingress. A missing socat fails the test (never a skip).
 */
describe('serial link end to end (socat pty pair, real agent)', () => {
  let pty: Awaited<ReturnType<typeof startPtyPair>>;
  let t: Awaited<ReturnType<typeof startTestAgent>>;

  beforeAll(async () => {
    pty = await startPtyPair(); // throws (fails) when socat is missing
    t = await startTestAgent([pty.a]);
  });
  afterAll(async () => {
    await t?.stop();
    await pty?.stop();
  });

  it('gets its ticket over the line, frames survive drop/dup/corrupt/reorder/delay/outages, every reading is stored once', async () => {
    const A = authority(5);
    const { ticket, key } = patientTicket('wired-1', A, { nbf: nowS() - 7200, exp: nowS() + 7200 });
    await t.agent.core.pushTicket(ticket); // delivered on the device's status frame
    const { report } = await runFleet({
      devices: [{ id: 'wired-1', profile: 'ecg-patch', authorityPublicKey: A.publicKey, serialPath: pty.b, periodMs: 50 }],
      link: { kind: 'serial' },
      durationMs: 3000,
      time: 'real',
      seed: 'serial-1',
      backend: 'node',
      faults: parseFaults('drop=0.05,dup=0.05,corrupt=0.06,reorder=0.05,delay=0.05:300ms,link=0.01:300ms'),
      ackTimeoutMs: 400,
      drainTimeoutMs: 15_000,
    });
    const d = report.devices[0]!;
    expect(report.drained).toBe(true);
    expect(d.ticketsAccepted).toBe(1);
    expect(d.measured).toBeGreaterThan(30);
    expect(d.faults['corrupt']).toBeGreaterThan(0);
    const records = t.agent.core.store.recordsOfDevice('wired-1', 0, 100_000);
    // every sealed seq stored exactly once, and intact: a corrupted frame fails the CRC, is dropped by the agent and resent
    expect(records.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: d.measured }, (_, i) => i));
    for (const r of records)
      expect(openReading(r.envelope, { secretKey: key.secretKey, hpke: createHpke('node') }).reading.v).toHaveLength(250);
    const c = t.agent.core.store.getDevice('wired-1')!;
    expect(c.received).toBe(d.acknowledged);
    expect(c.gaps).toBe(0);
    expect(c.duplicates).toBeGreaterThanOrEqual(d.duplicates);
    expect(d.retried).toBeGreaterThan(0);
    expect(t.agent.core.store.quarantineCounts()).toEqual({});
  });
});
