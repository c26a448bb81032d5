/**
 * The identity rotation of a device under test as the kit's `--rotate-cmd` performs it (AUTH-06,
 * docs/PROTOCOL.md §3.6): the device is powered off (SIGKILL: a device has no orderly shutdown),
 * the reference firmware's one-shot rotation tool runs on its NVM directory through the kit's own
 * `rotateByCommand` (a real shell command, as a vendor passes one), and the device is powered on
 * again from that NVM. The tools: `vitalseal sim --device <id> --nvm-dir <dir> --rotate-identity`,
 * `vitalseal-device-c --nvm <dir> --rotate-identity`.
 */
import { join, resolve } from 'node:path';
import { rotateByCommand } from '../../../conform/index.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const SIM_CLI = join(ROOT, 'test/device-sim/fixtures/simCli.ts');

/** A word for `sh -c`, quoted. */
const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/** The shell command that rotates the identity key of the stopped simulator device `deviceId` whose NVM directory is `nvmDir`. */
export function simRotateCommand(deviceId: string, nvmDir: string): string {
  return `cd ${quote(ROOT)} && ${quote(process.execPath)} --import tsx ${quote(SIM_CLI)} sim --device ${quote(deviceId)} --nvm-dir ${quote(nvmDir)} --rotate-identity --json`;
}

/** The same for device-c's host program `bin` (its NVM directory is the device's). */
export function cRotateCommand(bin: string, nvmDir: string): string {
  return `${quote(bin)} --nvm ${quote(nvmDir)} --rotate-identity`;
}

/** Power off (`stop`), rotate with `command` (60 s at most), power on (`start`). */
export async function rotateWhileOff(stop: () => Promise<void>, command: string, start: () => void): Promise<void> {
  await stop();
  try {
    await rotateByCommand(command, 60_000)();
  } finally {
    start(); // powered on again even when the rotation failed: the kit judges what the device does
  }
}
