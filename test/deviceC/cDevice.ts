/**
 * Runs device-c's host program `vitalseal-device-c` as a child process for the tests: writes its
 * provisioning file (device-c/README.md "Provisioning file"), collects its event lines (stdout) and
 * stops it by pid (SIGTERM: clean exit; kill9: a crash, NVM kept).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '../../protocol/bytes.ts';
import { stopProcess, waitFor } from '../support/services.ts';
import { deviceC } from './build.ts';

export interface Provisioning {
  readonly dev: string;
  readonly authority?: Uint8Array;
  readonly ticket?: Uint8Array;
}

/** Writes the provisioning text into `dir` and returns its path. */
export function writeProvisioning(dir: string, p: Provisioning, name = 'provision.txt'): string {
  const lines = ['# vitalseal-device-c provisioning', 'v=1', `dev=${p.dev}`];
  if (p.authority) lines.push(`authority=${toHex(p.authority)}`);
  if (p.ticket) lines.push(`ticket=${toHex(p.ticket)}`);
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

export interface RunningCDevice {
  readonly proc: ChildProcess;
  /** Event lines so far (stdout). */
  readonly lines: string[];
  readonly stderr: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits for a line matching `re` (at or after line index `from`) and returns it. */
  waitLine(re: RegExp, timeoutMs?: number, from?: number): Promise<string>;
  /** Seqs of the "sealed seq=N" lines. */
  sealedSeqs(): number[];
  stop(): Promise<void>;
  kill9(): Promise<void>;
}

export function startCDevice(o: {
  serial: string;
  nvm: string;
  provision?: string;
  periodMs?: number;
  ackTimeoutMs?: number;
  session?: boolean;
  extra?: string[];
  /** The -fsanitize=address,undefined build (a sanitizer report goes to stderr and exits non-zero). */
  asan?: boolean;
}): RunningCDevice {
  const bin = deviceC({ asan: o.asan ?? false }).path('vitalseal-device-c');
  const args = ['--serial', o.serial, '--nvm', o.nvm, '--period-ms', String(o.periodMs ?? 100)];
  if (o.provision) args.push('--provision', o.provision);
  if (o.ackTimeoutMs) args.push('--ack-timeout-ms', String(o.ackTimeoutMs));
  if (o.session) args.push('--session');
  args.push(...(o.extra ?? []));
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let err = '';
  let partial = '';
  proc.stdout!.on('data', (d: Buffer) => {
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    proc,
    lines,
    stderr: () => err,
    exited,
    async waitLine(re, timeoutMs = 10_000, from = 0) {
      let found: string | undefined;
      await waitFor(
        () => {
          found = lines.slice(from).find((l) => re.test(l));
          return found !== undefined;
        },
        timeoutMs,
        `device line ${String(re)} (stderr: ${err.slice(-300)})`,
      );
      return found!;
    },
    sealedSeqs: () => lines.flatMap((l) => (/^sealed seq=(\d+)/.exec(l) ? [Number(/^sealed seq=(\d+)/.exec(l)![1])] : [])),
    stop: () => stopProcess(proc, 'SIGTERM'),
    kill9: () => stopProcess(proc, 'SIGKILL'),
  };
}
