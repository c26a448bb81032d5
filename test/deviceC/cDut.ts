/**
 * device-c's host program `vitalseal-device-c` as a device under test for the conformance kit
 * (the C counterpart of test/conform/support/simDut.ts): one child on the device's end of a serial
 * line, provisioned with the kit's authority key and the device id, a file NVM directory and a
 * short measuring period, running until it is stopped. `reboot()` kills it with SIGKILL and starts
 * it again from the same NVM directory (a power cycle).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { rotateWhileOff, cRotateCommand } from '../conform/support/rotation.ts';
import { tempDir } from '../support/services.ts';
import { deviceC } from './build.ts';
import { startCDevice, writeProvisioning, type RunningCDevice } from './cDevice.ts';

export interface CDutOptions {
  readonly deviceId: string;
  /** The kit's ward authority public key (Ed25519, 32 bytes): pinned by the device. */
  readonly authorityPublicKey: Uint8Array;
  /** The device's end of the serial line (e.g. socat's second pty). */
  readonly serialPath: string;
  /** Measuring period (default 250 ms). */
  readonly periodMs?: number;
  /** Resend a reading not acknowledged after this long (default 1000 ms; the reference is 5 s). */
  readonly ackTimeoutMs?: number;
  /** Session mode (§6). */
  readonly session?: boolean;
}

export interface CDut {
  readonly nvmDir: string;
  readonly pid: number | undefined;
  /** stderr and the event lines of every run so far (diagnostics for a failed case). */
  readonly stderr: string;
  reboot(): Promise<void>;
  /** Identity rotation while off (AUTH-06): kill -9, `vitalseal-device-c --nvm <dir> --rotate-identity` (--rotate-cmd), start again. */
  rotateIdentity(): Promise<void>;
  stop(): Promise<void>;
}

export function startCDut(o: CDutOptions): CDut {
  const work = tempDir('vitalseal-conform-cdut-');
  const nvmDir = join(work, 'nvm');
  const provision = writeProvisioning(work, { dev: o.deviceId, authority: o.authorityPublicKey });
  const runs: RunningCDevice[] = [];
  const launch = (): void => {
    runs.push(
      startCDevice({
        serial: o.serialPath,
        nvm: nvmDir,
        provision,
        periodMs: o.periodMs ?? 250,
        ackTimeoutMs: o.ackTimeoutMs ?? 1000,
        ...(o.session ? { session: true } : {}),
      }),
    );
  };
  launch();
  return {
    nvmDir,
    get pid() {
      return runs.at(-1)?.proc.pid;
    },
    get stderr() {
      return runs.map((r, i) => `--- run ${i + 1}\n${r.stderr()}${r.lines.slice(-40).join('\n')}`).join('\n');
    },
    async reboot() {
      await runs.at(-1)?.kill9();
      launch();
    },
    async rotateIdentity() {
      const bin = deviceC().path('vitalseal-device-c');
      await rotateWhileOff(async () => runs.at(-1)?.kill9(), cRotateCommand(bin, nvmDir), launch);
    },
    async stop() {
      await runs.at(-1)?.kill9();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
