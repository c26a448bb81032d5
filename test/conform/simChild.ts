/**
 * The device under test for the kit's own tests: the reference firmware (`vitalseal sim`) as a
 * child process with one device, a pinned authority key and an NVM directory, on a serial path or
 * against the kit's MQTT broker. `reboot()` is a power cut: kill -9, then a restart from the same
 * NVM directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stopProcess } from '../support/services.ts';
import { rotateWhileOff, simRotateCommand } from './support/rotation.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SIM_CLI = join(ROOT, 'test/device-sim/fixtures/simCli.ts');

export interface SimChildOptions {
  readonly dir: string;
  readonly deviceId: string;
  readonly authorityPublicKey: string;
  readonly link: { readonly serial: string } | { readonly broker: string; readonly secret: string };
  readonly profile?: string;
  readonly periodMs?: number;
  readonly ackTimeout?: string;
  readonly session?: boolean;
  /** Extra `vitalseal sim` flags (e.g. a broken firmware variant). */
  readonly extraArgs?: readonly string[];
}

export class SimChild {
  child: ChildProcess | undefined;
  private readonly args: string[];
  private readonly nvmDir: string;
  private readonly deviceId: string;
  output = '';
  starts = 0;

  constructor(o: SimChildOptions) {
    const fleet = join(o.dir, 'fleet.json');
    const device = {
      id: o.deviceId,
      profile: o.profile ?? 'pulse-oximeter',
      authorityPublicKey: o.authorityPublicKey,
      ...('secret' in o.link ? { secret: o.link.secret } : {}),
      periodMs: o.periodMs ?? 300,
    };
    writeFileSync(fleet, JSON.stringify({ version: 1, devices: [device] }));
    this.nvmDir = join(o.dir, 'nvm');
    this.deviceId = o.deviceId;
    this.args = [
      '--import',
      'tsx',
      SIM_CLI,
      'sim',
      '--fleet',
      fleet,
      ...('serial' in o.link ? ['--serial', o.link.serial] : ['--broker', o.link.broker]),
      '--nvm-dir',
      this.nvmDir,
      '--duration',
      '2h',
      '--ack-timeout',
      o.ackTimeout ?? '1s',
      '--backend',
      'node',
      '--no-progress',
      '--json',
      ...(o.session ? ['--session'] : []),
      ...(o.extraArgs ?? []),
    ];
  }

  start(): void {
    this.starts++;
    const child = spawn(process.execPath, this.args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer): void => {
      if (this.output.length < 20_000) this.output += d.toString();
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.child = child;
  }

  /** kill -9 and restart from the same NVM directory. */
  readonly reboot = async (): Promise<void> => {
    await stopProcess(this.child, 'SIGKILL');
    this.start();
  };

  /** Identity rotation while off (AUTH-06): kill -9, `vitalseal sim --rotate-identity` on the NVM directory (--rotate-cmd), start again. */
  readonly rotateIdentity = async (): Promise<void> => {
    await rotateWhileOff(
      () => stopProcess(this.child, 'SIGKILL'),
      simRotateCommand(this.deviceId, this.nvmDir),
      () => this.start(),
    );
  };

  async stop(): Promise<void> {
    await stopProcess(this.child, 'SIGKILL');
  }
}
