import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRng } from '../../protocol/rng.ts';
import { ConformKit, TestAuthority, summaryLine } from '../../conform/index.ts';
import { tempDir } from '../support/services.ts';
import { SimChild } from './simChild.ts';

/**
 * The kit's own embedded broker against the reference firmware (the simulator as a child process,
 * MQTT on loopback, session mode so the session cases apply): every applicable case passes,
 * including the reboot cases (kill -9 and restart from the NVM directory).
 */
describe('vitalseal conform over MQTT (embedded broker, simulator child in session mode)', () => {
  const dir = tempDir('vitalseal-conform-mqtt-');
  let sim: SimChild | undefined;
  let kit: ConformKit | undefined;

  afterAll(async () => {
    await sim?.stop();
    await kit?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes every applicable case against the reference firmware', async () => {
    const authority = TestAuthority.generate(seededRng('conform-mqtt-authority'));
    const secret = 'conform-test-secret';
    kit = new ConformKit({
      deviceId: 'dut-mqtt-1',
      link: { kind: 'mqtt', port: 0, host: '127.0.0.1', secret },
      authority,
      rng: seededRng('conform-mqtt-kit'),
      bounds: { resendBoundMs: 5000, readingTimeoutMs: 5000, linkTimeoutMs: 20_000, backoffCapMs: 30_000 },
      caseTimeoutMs: 90_000,
      profile: 'pulse-oximeter',
      reboot: () => sim!.reboot(),
      rotateIdentity: () => sim!.rotateIdentity(),
    });
    await kit.start();
    sim = new SimChild({
      dir,
      deviceId: 'dut-mqtt-1',
      authorityPublicKey: authority.publicKeyHex,
      link: { broker: `mqtt://127.0.0.1:${kit.mqttPort}`, secret },
      session: true,
    });
    sim.start();
    const { report } = await kit.run();
    const failed = report.cases.filter((c) => c.verdict === 'fail');
    expect(failed, `${summaryLine(report)}\n${JSON.stringify(failed, null, 2)}\n${sim.output.slice(-2000)}`).toEqual([]);
    // N/A only for the serial framing cases, the TLS cases (no --tls: test/conform/tls.test.ts) and single-shot-only KEY-01
    const na = report.cases.filter((c) => c.verdict === 'n/a').map((c) => c.id);
    expect(
      na.every((id) => id.startsWith('FRM-') || id.startsWith('TLS-') || id === 'KEY-01'),
      na.join(', '),
    ).toBe(true);
    expect(report.summary.passed).toBeGreaterThanOrEqual(55);
    // the simulator has an identity key: Auth mode under v2 tickets, origin verified on every reading (issue #20)
    expect(report.cases.filter((c) => c.id.startsWith('AUTH-')).map((c) => `${c.id} ${c.verdict}`)).toEqual([
      'AUTH-01 pass',
      'AUTH-02 pass',
      'AUTH-03 pass',
      'AUTH-04 pass',
      'AUTH-05 pass', // the identity key and the v2 ticket survive a kill -9 reboot
      'AUTH-06 pass', // kill -9, `vitalseal sim --rotate-identity` (the kit's --rotate-cmd), restart: §3.6 rotation
    ]);
    expect(report.device.transport).toBe('mqtt');
  }, 600_000);
});
