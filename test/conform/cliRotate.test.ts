/**
 * `vitalseal conform --rotate-cmd` end to end (AUTH-06, docs/PROTOCOL.md §3.6), the way a vendor runs
 * it: the CLI's own broker, the reference simulator on a bench supervised by the template script
 * conform/examples/sim-bench.sh (`run`), and `--reboot-cmd` / `--rotate-cmd` that are that script's
 * `reboot` and `rotate` (a power cut; power off, `vitalseal sim --rotate-identity` on the NVM, power on).
 * A command that fails makes the case fail (exit 4) with the kit's CONFORM_ROTATE_FAILED in the
 * evidence; a bad --rotate-timeout is a usage error (exit 2). Unit tests of the command runner
 * itself: test/conform/deviceCommand.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main.ts';
import { loadOrCreateAuthority } from '../../conform/index.ts';
import { seededRng } from '../../protocol/rng.ts';
import { stopProcess, tempDir } from '../support/services.ts';

const BENCH = resolve(import.meta.dirname, '../../conform/examples/sim-bench.sh');

/** A TCP port free on loopback now (the CLI's broker needs a fixed one the device is told in advance). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('vitalseal conform --rotate-cmd (CLI, embedded broker, the simulator on conform/examples/sim-bench.sh)', () => {
  const dir = tempDir('vitalseal-conform-rotate-');
  const bench = join(dir, 'bench');
  let supervisor: ChildProcess | undefined;
  let benchLog = '';
  afterEach(() => vi.restoreAllMocks());
  afterAll(async () => {
    if (supervisor) {
      await new Promise<void>((r) => spawn('sh', [BENCH, 'stop', bench], { stdio: 'ignore' }).once('exit', () => r()));
      await stopProcess(supervisor, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  });

  async function conform(args: string[]): Promise<{ code: number; err: string }> {
    let err = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const code = await main(['node', 'vitalseal', 'conform', ...args]);
    vi.restoreAllMocks();
    return { code, err };
  }

  it('AUTH-05 and AUTH-06 pass through the bench script; a failing command fails AUTH-06 with CONFORM_ROTATE_FAILED', async () => {
    const deviceId = 'dut-cli-rotate';
    const secret = 'cli-rotate-secret';
    const keyFile = join(dir, 'authority.key');
    const { authority } = loadOrCreateAuthority(keyFile, seededRng('conform-cli-rotate'));
    const port = await freePort();
    const secretFile = join(dir, 'secret');
    writeFileSync(secretFile, secret, { mode: 0o600 });
    supervisor = spawn(
      'sh',
      [
        BENCH,
        'run',
        bench,
        '--device',
        deviceId,
        '--authority-key',
        authority.publicKeyHex,
        '--broker',
        `mqtt://127.0.0.1:${port}`,
        '--secret-file',
        secretFile,
        '--period',
        '250ms',
        '--ack-timeout',
        '1s',
        '--backend',
        'node',
        '--duration',
        '1h',
        '--no-progress',
        '--json',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    supervisor.stderr!.on('data', (d: Buffer) => {
      if (benchLog.length < 20_000) benchLog += d.toString();
    });
    const common = [
      '--mqtt',
      '--mqtt-port',
      String(port),
      '--mqtt-host',
      '127.0.0.1',
      '--device',
      deviceId,
      '--secret',
      secret,
      '--authority-key',
      keyFile,
      '--no-prompt',
      '--resend-bound',
      '5s',
      '--reading-timeout',
      '5s',
      '--link-timeout',
      '30s',
      '--reboot-cmd',
      `sh '${BENCH}' reboot '${bench}'`,
    ];
    const ok = await conform([
      ...common,
      '--cases',
      'AUTH-01,AUTH-05,AUTH-06',
      '--rotate-cmd',
      `sh '${BENCH}' rotate '${bench}' ${deviceId}`,
      '--report',
      join(dir, 'ok'),
    ]);
    expect(ok.code, `${ok.err.slice(-3000)}\n${benchLog.slice(-2000)}`).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'ok', 'report.json'), 'utf8')) as {
      cases: { id: string; verdict: string; evidence?: { received: string } }[];
    };
    expect(report.cases.map((c) => `${c.id} ${c.verdict}`)).toEqual(['AUTH-01 pass', 'AUTH-05 pass', 'AUTH-06 pass']);
    expect(report.cases[2]!.evidence?.received).toMatch(/→ .*SIM_IDENTITY_KEY_ROTATED.*resent identical/);
    // the NVM tool printed the new key, never the secret
    const rotated = JSON.parse(readFileSync(join(bench, 'rotated'), 'utf8')) as { idk: string; previous: string };
    expect(report.cases[2]!.evidence?.received).toContain(`→ ${rotated.idk.slice(0, 16)}…`);
    expect(Object.keys(rotated).sort()).toEqual(['device', 'idk', 'previous']);

    // the same device, a rotate command that fails: the case fails (exit 4), the device is not rotated
    const bad = await conform([
      ...common,
      '--cases',
      'AUTH-06',
      '--rotate-cmd',
      'echo "jig not connected" >&2; exit 3',
      '--report',
      join(dir, 'bad'),
    ]);
    expect(bad.code, bad.err.slice(-2000)).toBe(4);
    expect(bad.err).toContain('CONFORM_ROTATE_FAILED');
    expect(bad.err).toContain('--rotate-cmd exited with 3: jig not connected');
    expect(JSON.parse(readFileSync(join(bench, 'rotated'), 'utf8'))).toEqual(rotated);
  }, 240_000);

  it('refuses a bad --rotate-timeout and an empty --rotate-cmd (exit 2, before opening anything)', async () => {
    for (const args of [
      ['--rotate-cmd', 'true', '--rotate-timeout', 'soon'],
      ['--rotate-cmd', '  '],
    ]) {
      const r = await conform(['--mqtt', '--device', 'oxi-01', '--authority-key', '/nonexistent/key', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toContain('CONFORM_CONFIG_INVALID');
    }
  });
});
