/**
 * How the kit power-cycles the device for the reboot cases: `--reboot-cmd` (a shell command, e.g. a
 * smart plug or a USB hub port switch, with a timeout), or a person at the bench asked on the
 * terminal (with a timeout). Without either the reboot cases are not applicable.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ConformError } from './errors.ts';

/** Runs `command` through the shell; rejects (CONFORM_REBOOT_FAILED) on a non-zero exit or after `timeoutMs`. */
export function rebootByCommand(command: string, timeoutMs = 60_000): () => Promise<void> {
  return () =>
    new Promise((resolve, reject) => {
      const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => {
        if (err.length < 2000) err += d.toString();
      });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new ConformError('CONFORM_REBOOT_FAILED', `--reboot-cmd did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(new ConformError('CONFORM_REBOOT_FAILED', 'cannot run --reboot-cmd', { cause: e }));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new ConformError('CONFORM_REBOOT_FAILED', `--reboot-cmd exited with ${code}: ${err.trim().slice(0, 200)}`));
      });
    });
}

/** Asks a person to power-cycle the device and press Enter; rejects (CONFORM_REBOOT_FAILED) after `timeoutMs`. */
export function rebootByPrompt(input: NodeJS.ReadableStream, output: NodeJS.WritableStream, timeoutMs = 120_000): () => Promise<void> {
  return () =>
    new Promise((resolve, reject) => {
      const rl = createInterface({ input, output });
      const timer = setTimeout(() => {
        rl.close();
        reject(new ConformError('CONFORM_REBOOT_FAILED', `nobody confirmed the power cycle within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      rl.question(`\n>>> Power-cycle the device now (off, then on), then press Enter [${Math.round(timeoutMs / 1000)} s] `, () => {
        clearTimeout(timer);
        rl.close();
        resolve();
      });
    });
}
