/**
 * The conformance kit (`vitalseal conform --serial`, conform/) against device-c's host program
 * over a socat pty pair: the kit plays the gateway on one end, `vitalseal-device-c` (provisioned
 * with the kit's authority key) runs on the other; reboot cases kill it with SIGKILL and restart it
 * from the same NVM directory, AUTH-06 rotates its identity key in between (`--rotate-identity`). Every case that applies to a serial device must pass, once sealing
 * single-shot and once in session mode (§6), the profile declared (spo2, PT-07); only the MQTT
 * cases, the session cases of the single-shot run and the per-reading-key case of the session run
 * may be N/A.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ConformKit, TestAuthority, type CaseResult } from '../../conform/index.ts';
import { seededRng } from '../../protocol/rng.ts';
import { startPtyPair } from '../support/services.ts';
import { skipDeviceC, skipDeviceCReason } from './build.ts';
import { startCDut, type CDut } from './cDut.ts';

describe.skipIf(skipDeviceC)(`vitalseal conform --serial against vitalseal-device-c ${skipDeviceCReason}`, () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  async function conform(deviceId: string, session: boolean): Promise<CaseResult[]> {
    const pty = await startPtyPair();
    cleanup.push(() => pty.stop());
    const authority = TestAuthority.generate(seededRng(`device-c-conform/${deviceId}`));
    let dut: CDut | undefined;
    const kit = new ConformKit({
      deviceId,
      link: { kind: 'serial', path: pty.a },
      authority,
      profile: 'spo2', // PT-07: the sensor type the device declares
      reboot: async () => {
        await dut!.reboot();
      },
      rotateIdentity: async () => {
        await dut!.rotateIdentity();
      },
      bounds: { resendBoundMs: 10_000, readingTimeoutMs: 10_000, linkTimeoutMs: 30_000 },
      caseTimeoutMs: 90_000,
    });
    await kit.start();
    cleanup.push(() => kit.stop());
    dut = startCDut({ deviceId, authorityPublicKey: authority.publicKey, serialPath: pty.b, periodMs: 250, ackTimeoutMs: 1000, session });
    cleanup.push(() => dut!.stop());
    const { report, results } = await kit.run();
    console.info(
      `device-c conformance (${session ? 'session mode' : 'single-shot'}): ${JSON.stringify(report.summary)}\n` +
        results.map((r) => `${r.verdict.padEnd(4)} ${r.id} ${r.reason ?? ''}`).join('\n'),
    );
    const failed = results.filter((r) => r.verdict === 'fail');
    const show = (r: CaseResult): string => `${r.id} ${r.title}: expected ${r.evidence?.expected} — received ${r.evidence?.received}`;
    expect(failed.map(show), dut.stderr.slice(-3000)).toEqual([]);
    return results;
  }

  it('single-shot: every applicable case passes (MQTT and session cases N/A), reboots included', async () => {
    const results = await conform('c-conform-1', false);
    expect(results.filter((r) => r.verdict === 'pass').length).toBeGreaterThanOrEqual(50);
    expect(results.filter((r) => r.group === 'reboot' && r.verdict === 'pass').length).toBeGreaterThan(0);
    // §3.6 rotation while off: kill -9, `vitalseal-device-c --nvm <dir> --rotate-identity` (the kit's --rotate-cmd), restart
    expect(results.filter((r) => r.id === 'AUTH-06').map((r) => r.verdict)).toEqual(['pass']);
    for (const r of results.filter((x) => x.verdict === 'n/a'))
      expect(/^MQTT only/.test(r.reason ?? '') || r.id.startsWith('SES-'), `${r.id}: ${r.reason}`).toBe(true);
  }, 900_000);

  it('session mode: every applicable case passes, the session cases included', async () => {
    const results = await conform('c-conform-2', true);
    const ses = results.filter((r) => r.id.startsWith('SES-'));
    expect(ses.length).toBeGreaterThan(0);
    expect(ses.map((r) => `${r.id} ${r.verdict}`)).toEqual(ses.map((r) => `${r.id} pass`));
    expect(results.filter((r) => r.id === 'AUTH-06').map((r) => r.verdict)).toEqual(['pass']); // rotation in session mode too
    for (const r of results.filter((x) => x.verdict === 'n/a'))
      expect(/^MQTT only|^session mode: /.test(r.reason ?? ''), `${r.id}: ${r.reason}`).toBe(true);
  }, 900_000);
});
