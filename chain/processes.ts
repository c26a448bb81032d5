/**
 * What /proc says about a process (Linux): its start time (tells a pid from a reused one), its
 * command line and executable. Elsewhere these return undefined and callers fall back to
 * `process.kill(pid, 0)`.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';

export const HAS_PROC = process.platform === 'linux' && existsSync('/proc/self/stat');

/** Identity of a process across pid reuse: start time in clock ticks since boot, and the boot id. */
export interface ProcessIdentity {
  pid: number;
  /** /proc/<pid>/stat field 22; undefined where /proc is absent. */
  startTime?: number;
  bootId?: string;
}

interface ProcStat {
  state: string;
  startTime: number;
}

function procStat(pid: number): ProcStat | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    const startTime = Number(rest[19]);
    return rest[0] !== undefined && Number.isSafeInteger(startTime) ? { state: rest[0], startTime } : undefined;
  } catch {
    return undefined;
  }
}

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** This process (or `pid`) as a ProcessIdentity. */
export function processIdentity(pid = process.pid): ProcessIdentity {
  if (!HAS_PROC) return { pid };
  const st = procStat(pid);
  const boot = bootId();
  return { pid, ...(st ? { startTime: st.startTime } : {}), ...(boot ? { bootId: boot } : {}) };
}

/** Is the process `id` names still running (same pid, same start, same boot; zombies count as dead)? */
export function isRunning(id: ProcessIdentity): boolean {
  if (!Number.isSafeInteger(id.pid) || id.pid <= 0) return false;
  if (HAS_PROC && id.startTime !== undefined) {
    const st = procStat(id.pid);
    if (!st || st.state === 'Z' || st.startTime !== id.startTime) return false;
    return id.bootId === undefined || id.bootId === bootId();
  }
  try {
    process.kill(id.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** argv of `pid` from /proc/<pid>/cmdline (undefined if gone, a zombie, or no /proc). */
export function processArgv(pid: number): string[] | undefined {
  if (!HAS_PROC) return undefined;
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (raw === '') return undefined;
    return raw.replace(/\0$/, '').split('\0');
  } catch {
    return undefined;
  }
}

/** Path of the executable of `pid` (" (deleted)" removed: a binary replaced by an upgrade). */
export function processExe(pid: number): string | undefined {
  if (!HAS_PROC) return undefined;
  try {
    return readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
  } catch {
    return undefined;
  }
}

export interface ChainProcess extends ProcessIdentity {
  startTime: number;
  argv: string[];
  /** The value of `--port` in its arguments. */
  port: number | undefined;
}

/**
 * The anvil processes that run on `statePath`: the executable is an `anvil` binary AND its arguments
 * give exactly `statePath` to `--state`, `--load-state` or `--dump-state`. A pid that was reused by
 * anything else cannot match both. Linux only (empty elsewhere).
 */
export function findChainProcesses(statePath: string): ChainProcess[] {
  if (!HAS_PROC) return [];
  const found: ChainProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const argv = processArgv(pid);
    if (!argv || basename(argv[0] ?? '') !== 'anvil') continue;
    const names = argv.some((a, i) => a === statePath && i > 0 && ['--state', '--load-state', '--dump-state'].includes(argv[i - 1]!));
    if (!names) continue;
    const exe = processExe(pid);
    if (exe === undefined || basename(exe) !== 'anvil') continue;
    const st = procStat(pid);
    if (!st || st.state === 'Z') continue;
    const p = argv.indexOf('--port');
    const port = p >= 0 ? Number(argv[p + 1]) : undefined;
    const boot = bootId();
    found.push({
      pid,
      startTime: st.startTime,
      ...(boot ? { bootId: boot } : {}),
      argv,
      port: port !== undefined && Number.isInteger(port) ? port : undefined,
    });
  }
  return found;
}
