import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRng } from '../../protocol/rng.ts';
import { ConformKit, TestAuthority, prepareKitTls, summaryLine } from '../../conform/index.ts';
import { tempDir } from '../support/services.ts';
import { startSimDut, type SimDut } from './support/simDut.ts';

/**
 * `vitalseal conform --mqtt --tls --client-certs required` against the reference firmware (the
 * simulator child, `vitalseal sim --device … --tls --ca kit-ca.crt --cert device.crt --key device.key`):
 * the kit makes its test CA, its broker's server certificate and the device's client certificate
 * (written to the report directory), listens MQTT over TLS with mutual TLS, and every applicable
 * case passes — the TLS cases (TLS ≥ 1.2, the client certificate names the device, a server
 * certificate of another CA is refused) and the Auth-mode cases among them.
 */
describe('vitalseal conform over MQTT with mutual TLS (simulator child)', () => {
  const dir = tempDir('vitalseal-conform-tls-');
  let dut: SimDut | undefined;
  let kit: ConformKit | undefined;

  afterAll(async () => {
    await dut?.stop();
    await kit?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes every applicable case, TLS and AUTH cases included', async () => {
    const deviceId = 'dut-tls-1';
    const secret = 'conform-tls-secret';
    const authority = TestAuthority.generate(seededRng('conform-tls-authority'));
    const tls = await prepareKitTls({ dir, deviceId, host: '127.0.0.1', requireClientCert: true });
    expect(tls.written.map((p) => p.slice(dir.length + 1)).sort()).toEqual([
      'device.crt',
      'device.key',
      'kit-ca.crt',
      'kit-server.crt',
      'kit-server.key',
    ]);
    kit = new ConformKit({
      deviceId,
      link: {
        kind: 'mqtt',
        port: 0,
        host: '127.0.0.1',
        secret,
        tls: { key: tls.key, cert: tls.cert, ca: tls.ca!, requireClientCert: true },
      },
      authority,
      rng: seededRng('conform-tls-kit'),
      bounds: { resendBoundMs: 5000, readingTimeoutMs: 5000, linkTimeoutMs: 20_000, backoffCapMs: 30_000 },
      caseTimeoutMs: 90_000,
      reboot: () => dut!.reboot(),
      rotateIdentity: () => dut!.rotateIdentity(),
    });
    await kit.start();
    dut = startSimDut({
      deviceId,
      authorityPublicKey: authority.publicKey,
      brokerUrl: `mqtt://127.0.0.1:${kit.mqttPort}`,
      secret,
      periodMs: 300,
      tls: { ca: join(dir, 'kit-ca.crt'), cert: join(dir, 'device.crt'), key: join(dir, 'device.key') },
    });
    const { report } = await kit.run();
    const failed = report.cases.filter((c) => c.verdict === 'fail');
    expect(failed, `${summaryLine(report)}\n${JSON.stringify(failed, null, 2)}\n${dut.stderr.slice(-2000)}`).toEqual([]);
    // N/A only for the serial framing cases, the session cases (the DUT seals single-shot) and PT-07 (no --profile)
    const na = report.cases.filter((c) => c.verdict === 'n/a').map((c) => c.id);
    expect(
      na.every((id) => id.startsWith('FRM-') || id.startsWith('SES-') || id === 'PT-07'),
      na.join(', '),
    ).toBe(true);
    const verdicts = (prefix: string): string[] => report.cases.filter((c) => c.id.startsWith(prefix)).map((c) => `${c.id} ${c.verdict}`);
    expect(verdicts('TLS-')).toEqual(['TLS-01 pass', 'TLS-02 pass', 'TLS-03 pass']);
    // AUTH-06: the identity rotated while off, the device back over mutual TLS with the same client certificate
    expect(verdicts('AUTH-')).toEqual(['AUTH-01 pass', 'AUTH-02 pass', 'AUTH-03 pass', 'AUTH-04 pass', 'AUTH-05 pass', 'AUTH-06 pass']);
    expect(existsSync(join(dir, 'kit-server.key'))).toBe(true);
  }, 600_000);

  it('server-only TLS (no client certificates): TLS-01 and TLS-03 pass, TLS-02 is N/A', async () => {
    await dut?.stop();
    await kit?.stop();
    const deviceId = 'dut-tls-2';
    const secret = 'conform-tls-secret-2';
    const sub = join(dir, 'server-only');
    const authority = TestAuthority.generate(seededRng('conform-tls-authority-2'));
    const tls = await prepareKitTls({ dir: sub, deviceId, requireClientCert: false });
    expect(tls.written.map((p) => p.slice(sub.length + 1)).sort()).toEqual(['kit-ca.crt', 'kit-server.crt', 'kit-server.key']);
    kit = new ConformKit({
      deviceId,
      link: { kind: 'mqtt', port: 0, host: '127.0.0.1', secret, tls: { key: tls.key, cert: tls.cert } },
      authority,
      cases: 'STAT-01,MQ-03,TLS-01,TLS-02,TLS-03,AUTH-02',
      rng: seededRng('conform-tls-kit-2'),
      bounds: { resendBoundMs: 5000, readingTimeoutMs: 5000, linkTimeoutMs: 20_000, backoffCapMs: 30_000 },
      caseTimeoutMs: 90_000,
    });
    await kit.start();
    dut = startSimDut({
      deviceId,
      authorityPublicKey: authority.publicKey,
      brokerUrl: `mqtt://127.0.0.1:${kit.mqttPort}`,
      secret,
      periodMs: 300,
      tls: { ca: join(sub, 'kit-ca.crt') },
    });
    const { report } = await kit.run();
    expect(
      report.cases.map((c) => `${c.id} ${c.verdict}`),
      `${JSON.stringify(
        report.cases.filter((c) => c.verdict === 'fail'),
        null,
        2,
      )}\n${dut.stderr.slice(-2000)}`,
    ).toEqual(['STAT-01 pass', 'MQ-03 pass', 'TLS-01 pass', 'TLS-02 n/a', 'TLS-03 pass', 'AUTH-02 pass']);
  }, 300_000);
});
