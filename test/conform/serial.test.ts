import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRng } from '../../protocol/rng.ts';
import { ConformKit, TestAuthority, summaryLine } from '../../conform/index.ts';
import { startPtyPair, tempDir } from '../support/services.ts';
import { SimChild } from './simChild.ts';

/**
 * The kit against the reference firmware (the simulator as a child process) over a real pty pair
 * (socat): every applicable case passes, including the reboot cases (kill -9 and restart from NVM).
 */
describe('vitalseal conform over a serial line (socat pty pair, simulator child)', () => {
  let pty: Awaited<ReturnType<typeof startPtyPair>>;
  const dir = tempDir('vitalseal-conform-serial-');
  let sim: SimChild | undefined;

  beforeAll(async () => {
    pty = await startPtyPair(); // fails (never skips) when socat is missing
  });
  afterAll(async () => {
    await sim?.stop();
    await pty?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes every applicable case against the reference firmware', async () => {
    const authority = TestAuthority.generate(seededRng('conform-serial-authority'));
    sim = new SimChild({ dir, deviceId: 'dut-serial-1', authorityPublicKey: authority.publicKeyHex, link: { serial: pty.b } });
    const kit = new ConformKit({
      deviceId: 'dut-serial-1',
      link: { kind: 'serial', path: pty.a },
      authority,
      reboot: sim.reboot,
      rotateIdentity: sim.rotateIdentity,
      rng: seededRng('conform-serial-kit'),
      bounds: { resendBoundMs: 5000, readingTimeoutMs: 5000, linkTimeoutMs: 20_000, backoffCapMs: 5000 },
      caseTimeoutMs: 60_000,
    });
    await kit.start();
    sim.start();
    try {
      const { report } = await kit.run();
      const failed = report.cases.filter((c) => c.verdict === 'fail');
      expect(failed, `${summaryLine(report)}\n${JSON.stringify(failed, null, 2)}\n${sim.output.slice(-2000)}`).toEqual([]);
      // N/A only for the MQTT and TLS cases, the session-mode cases (the device seals single-shot) and PT-07 (no --profile)
      const na = report.cases.filter((c) => c.verdict === 'n/a').map((c) => c.id);
      expect(
        na.every((id) => id.startsWith('MQ-') || id.startsWith('TLS-') || id.startsWith('SES-') || id === 'PT-07'),
        na.join(', '),
      ).toBe(true);
      expect(report.summary.passed).toBeGreaterThanOrEqual(50);
      // the simulator has an identity key: Auth mode under v2 tickets, origin verified on every reading (issue #20)
      expect(report.cases.filter((c) => c.id.startsWith('AUTH-')).map((c) => `${c.id} ${c.verdict}`)).toEqual([
        'AUTH-01 pass',
        'AUTH-02 pass',
        'AUTH-03 pass',
        'AUTH-04 pass',
        'AUTH-05 pass', // the identity key and the v2 ticket survive a kill -9 reboot
        'AUTH-06 pass', // kill -9, `vitalseal sim --rotate-identity` (the kit's --rotate-cmd), restart: §3.6 rotation
      ]);
      expect(sim.starts).toBe(4); // two kill -9 reboots (the reboot cases' one, AUTH-05's) and AUTH-06's rotation while off
    } finally {
      await kit.stop();
    }
  }, 600_000);
});
