/**
 * How the kit power-cycles the device for the reboot cases: `--reboot-cmd` (a shell command, e.g. a
 * smart plug or a USB hub port switch, with a timeout), or a person at the bench asked on the
 * terminal (with a timeout). Without either the reboot cases are not applicable. The same for the
 * identity rotation case (AUTH-06): `--rotate-cmd`, a shell command only (no prompt: a rotation is
 * a vendor tool's job, and its result is checked by the device's new "idk", not by a person).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ConformError } from './errors.ts';

/** A device action the kit asks a shell command to perform: power-cycling it, or rotating its identity key. */
export interface DeviceCommand {
  /** The option that gave the command, for the error messages (`--reboot-cmd`, `--rotate-cmd`). */
  readonly flag: string;
  /** The error code when the command fails or does not finish. */
  readonly code: 'CONFORM_REBOOT_FAILED' | 'CONFORM_ROTATE_FAILED';
}

const REBOOT_COMMAND: DeviceCommand = { flag: '--reboot-cmd', code: 'CONFORM_REBOOT_FAILED' };
const ROTATE_COMMAND: DeviceCommand = { flag: '--rotate-cmd', code: 'CONFORM_ROTATE_FAILED' };

/**
 * Runs `command` through the shell; rejects with `what.code` on a non-zero exit, on a command that
 * cannot be started, or after `timeoutMs` (the command is then killed). Its stdout is ignored; the
 * first 200 characters of its stderr go into the error (a vendor's script: never given a secret).
 */
export function deviceCommand(command: string, timeoutMs: number, what: DeviceCommand): () => Promise<void> {
  return () =>
    new Promise((resolve, reject) => {
      // its own process group: at the timeout the whole command (a script and what it started) is killed
      const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => {
        if (err.length < 2000) err += d.toString();
      });
      const timer = setTimeout(() => {
        killGroup(child.pid);
        reject(new ConformError(what.code, `${what.flag} did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(new ConformError(what.code, `cannot run ${what.flag}`, { cause: e }));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new ConformError(what.code, `${what.flag} exited with ${code}: ${err.trim().slice(0, 200)}`));
      });
    });
}

/** SIGKILL to the process group `pid` leads (nothing when it is gone already). */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* exited meanwhile */
  }
}

/** `--reboot-cmd`: power-cycles the device (CONFORM_REBOOT_FAILED on a non-zero exit or after `timeoutMs`). */
export function rebootByCommand(command: string, timeoutMs = 60_000): () => Promise<void> {
  return deviceCommand(command, timeoutMs, REBOOT_COMMAND);
}

/**
 * `--rotate-cmd`: makes the device rotate its identity key (docs/PROTOCOL.md §3.6), e.g. power it
 * off, run the vendor's rotation tool on its NVM, power it on again — or a command a running device
 * takes. CONFORM_ROTATE_FAILED on a non-zero exit or after `timeoutMs`.
 */
export function rotateByCommand(command: string, timeoutMs = 60_000): () => Promise<void> {
  return deviceCommand(command, timeoutMs, ROTATE_COMMAND);
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
