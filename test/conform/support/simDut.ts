/**
 * The device simulator as a device under test for the conformance kit: one `vitalseal sim`
 * child process (test/device-sim/fixtures/simCli.ts) on a serial line (a socat pty) or on the
 * kit's MQTT broker, with the kit's authority key pinned, a file-backed NVM directory and a short
 * measuring period, running until it is stopped. `reboot()` kills it with SIGKILL and starts it
 * again from the same NVM directory (a power cycle). `bug` selects a deliberately broken
 * firmware variant (device-sim/firmware/bugs.ts), allowed by VITALSEAL_TEST_FIRMWARE_BUGS=1 in
 * the child's environment only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { toHex } from '../../../protocol/bytes.ts';
import { FIRMWARE_BUGS_ENV, type FirmwareBugName } from '../../../device-sim/firmware/bugs.ts';
import { stopProcess, tempDir } from '../../support/services.ts';
import { rotateWhileOff, simRotateCommand } from './rotation.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const CLI = join(ROOT, 'test/device-sim/fixtures/simCli.ts');

export interface SimDutOptions {
  readonly deviceId: string;
  /** The kit's ward authority public key (Ed25519, 32 bytes): pinned by the device. */
  readonly authorityPublicKey: Uint8Array;
  /** The device's end of a serial line (e.g. socat's second pty) … */
  readonly serialPath?: string;
  /** … or the kit's MQTT broker, mqtt://127.0.0.1:<port>, with the device secret. */
  readonly brokerUrl?: string;
  readonly secret?: string;
  /** Measuring period (default 250 ms). */
  readonly periodMs?: number;
  /** Resend a reading not acknowledged after this long (default 1000 ms; the reference is 5 s). */
  readonly ackTimeoutMs?: number;
  readonly profile?: string;
  readonly bug?: FirmwareBugName;
  /** Run seed (default: per device id). */
  readonly seed?: string;
  /** MQTT over TLS (`--tls --ca`), with a client certificate (`--cert --key`, mutual TLS): PEM file paths. */
  readonly tls?: { readonly ca: string; readonly cert?: string; readonly key?: string };
}

export interface SimDut {
  readonly nvmDir: string;
  /** pid of the running simulator (changes at every reboot). */
  readonly pid: number | undefined;
  /** Everything the simulator wrote on stderr since it was first started (diagnostics for a failed test). */
  readonly stderr: string;
  /** Power cycle: SIGKILL, then the same command again on the same NVM directory. */
  reboot(): Promise<void>;
  /** Identity rotation while off (AUTH-06): SIGKILL, `vitalseal sim --rotate-identity` on the NVM directory (--rotate-cmd), start again. */
  rotateIdentity(): Promise<void>;
  /** Stops the simulator (SIGKILL: a device has no orderly shutdown) and removes its NVM directory. */
  stop(): Promise<void>;
}

/** Starts the simulator as a device under test; it runs until `stop()`. */
export function startSimDut(o: SimDutOptions): SimDut {
  if ((o.serialPath === undefined) === (o.brokerUrl === undefined)) throw new TypeError('startSimDut needs serialPath or brokerUrl');
  const work = tempDir('vitalseal-conform-dut-');
  const nvmDir = join(work, 'nvm');
  const args = [
    '--import',
    'tsx',
    CLI,
    'sim',
    '--device',
    o.deviceId,
    '--authority-key',
    toHex(o.authorityPublicKey),
    '--nvm-dir',
    nvmDir,
    '--period',
    `${o.periodMs ?? 250}ms`,
    '--ack-timeout',
    `${o.ackTimeoutMs ?? 1000}ms`,
    '--profile',
    o.profile ?? 'pulse-oximeter',
    '--backend',
    'node',
    '--seed',
    o.seed ?? `dut-${o.deviceId}`,
    '--duration',
    '7d',
    '--no-progress',
    '--json',
  ];
  if (o.serialPath !== undefined) args.push('--serial', o.serialPath);
  else {
    const secretFile = join(work, 'secret');
    writeFileSync(secretFile, o.secret ?? 'conform-secret', { mode: 0o600 });
    args.push('--broker', o.brokerUrl!, '--secret-file', secretFile);
  }
  if (o.tls !== undefined) {
    args.push('--tls', '--ca', o.tls.ca);
    if (o.tls.cert !== undefined && o.tls.key !== undefined) args.push('--cert', o.tls.cert, '--key', o.tls.key);
  }
  if (o.bug !== undefined) args.push('--firmware-bug', o.bug);
  const env = { ...process.env, [FIRMWARE_BUGS_ENV]: o.bug === undefined ? '' : '1' };

  let child: ChildProcess | undefined;
  let stderr = '';
  const launch = (): void => {
    const c = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    c.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 64 * 1024) stderr += d.toString();
    });
    child = c;
  };
  launch();
  return {
    nvmDir,
    get pid() {
      return child?.pid;
    },
    get stderr() {
      return stderr;
    },
    async reboot() {
      await stopProcess(child, 'SIGKILL');
      launch();
    },
    async rotateIdentity() {
      await rotateWhileOff(() => stopProcess(child, 'SIGKILL'), simRotateCommand(o.deviceId, nvmDir), launch);
    },
    async stop() {
      await stopProcess(child, 'SIGKILL');
      child = undefined;
      rmSync(work, { recursive: true, force: true });
    },
  };
}
