/**
 * The kit's device commands (conform/reboot.ts): `--reboot-cmd` and `--rotate-cmd` run through the
 * shell; a zero exit resolves, anything else rejects with the command's own stable code
 * (CONFORM_REBOOT_FAILED, CONFORM_ROTATE_FAILED) naming the option, and a command that hangs is
 * killed at its timeout.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConformError, rebootByCommand, rotateByCommand } from '../../conform/index.ts';
import { tempDir } from '../support/services.ts';

async function outcome(run: () => Promise<void>): Promise<string> {
  try {
    await run();
    return 'ok';
  } catch (e) {
    return e instanceof ConformError ? `${e.code}: ${e.message}` : `other: ${String(e)}`;
  }
}

describe('--reboot-cmd / --rotate-cmd', () => {
  it('a zero exit resolves; the command really runs (through sh -c)', async () => {
    const dir = tempDir('vitalseal-devcmd-');
    const mark = join(dir, 'ran');
    expect(await outcome(rotateByCommand(`touch '${mark}' && test -f '${mark}'`, 10_000))).toBe('ok');
    expect(existsSync(mark)).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a non-zero exit rejects with the option’s code, the exit status and the start of stderr', async () => {
    expect(await outcome(rotateByCommand('echo "no jig on /dev/ttyUSB9" >&2; exit 7', 10_000))).toBe(
      'CONFORM_ROTATE_FAILED: --rotate-cmd exited with 7: no jig on /dev/ttyUSB9',
    );
    expect(await outcome(rebootByCommand('exit 1', 10_000))).toBe('CONFORM_REBOOT_FAILED: --reboot-cmd exited with 1: ');
    // a long stderr is cut (a report line, not a log)
    const long = await outcome(rotateByCommand(`printf 'x%.0s' $(seq 1 5000) >&2; exit 2`, 10_000));
    expect(long.length).toBeLessThan(300);
  });

  it('a command that does not finish is killed at its timeout, with what it started', async () => {
    const dir = tempDir('vitalseal-devcmd-');
    const pidFile = join(dir, 'pid');
    const started = Date.now();
    expect(await outcome(rotateByCommand(`sleep 31 & echo $! > '${pidFile}'; wait`, 500))).toBe(
      'CONFORM_ROTATE_FAILED: --rotate-cmd did not finish within 500 ms',
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((r) => setTimeout(r, 200));
    const alive = (): boolean => {
      try {
        process.kill(pid, 0);
        return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2]!.startsWith('Z'); // a zombie is dead
      } catch {
        return false;
      }
    };
    expect(alive()).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });
});
