/**
 * Runs device-c's known-answer driver `vs-device-kat` (device-c/tests/device_kat.c): one command
 * per line in, one answer per line out (`stream` answers with several lines ending in `end …`).
 */
import { spawnSync } from 'node:child_process';
import { deviceC } from './build.ts';

/** Runs `commands` through one vs-device-kat process and returns its answers, one per command. */
export function runDeviceKat(commands: readonly string[]): string[] {
  const bin = deviceC().path('vs-device-kat');
  const r = spawnSync(bin, [], { input: `${commands.join('\n')}\n`, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`vs-device-kat exited ${r.status ?? r.signal}: ${r.stderr}`);
  const lines = r.stdout.split('\n');
  const answers: string[] = [];
  let i = 0;
  for (const cmd of commands) {
    if (cmd.startsWith('stream ')) {
      const start = i;
      while (i < lines.length && !lines[i]!.startsWith('end ')) i++;
      answers.push(lines.slice(start, i + 1).join('\n'));
      i++;
    } else {
      answers.push(lines[i++] ?? '');
    }
  }
  return answers;
}
