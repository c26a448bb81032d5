import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, mkdirSync, chownSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * External programs some tests need (mosquitto, socat). `.ci/run` installs them. Under CI=true a
 * missing program is a FAILURE (the test throws), never a skip.
 */
export function findBinary(name: string, extra: string[] = []): string | undefined {
  for (const p of [...extra, `/usr/sbin/${name}`, `/usr/bin/${name}`, `/usr/local/bin/${name}`]) if (existsSync(p)) return p;
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export function requireBinary(name: string): string {
  const bin = findBinary(name);
  if (!bin) throw new Error(`${name} is required for this test (install it: apt-get install ${name}; .ci/run does this)`);
  return bin;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix = 'vitalseal-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export function stopProcess(p: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => p.kill('SIGKILL'), 5000);
    p.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    p.kill(signal);
  });
}

/** A socat pty pair: two connected pseudo-terminals. */
export async function startPtyPair(): Promise<{ a: string; b: string; proc: ChildProcess; stop(): Promise<void> }> {
  const socat = requireBinary('socat');
  const proc = spawn(socat, ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const ptys: string[] = [];
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`socat did not open ptys: ${err}`)), 5000);
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      for (const m of d.toString().matchAll(/PTY is (\S+)/g)) ptys.push(m[1]!);
      if (ptys.length >= 2) {
        clearTimeout(t);
        resolve();
      }
    });
    proc.once('exit', (code) => reject(new Error(`socat exited ${code}: ${err}`)));
  });
  return { a: ptys[0]!, b: ptys[1]!, proc, stop: () => stopProcess(proc) };
}

/** A private mosquitto instance on a free loopback port, with on-disk persistence (the broker settings of docs/PROTOCOL.md §9.7). */
export async function startMosquitto(): Promise<{
  url: string;
  port: number;
  proc: ChildProcess;
  dir: string;
  stop(): Promise<void>;
  restart(): Promise<void>;
}> {
  const bin = requireBinary('mosquitto');
  const dir = tempDir('vitalseal-mosquitto-');
  const port = await freePort();
  const persist = join(dir, 'data');
  mkdirSync(persist, { recursive: true });
  try {
    const uid = spawnSync('id', ['-u', 'mosquitto'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'mosquitto'], { encoding: 'utf8' });
    if (uid.status === 0 && gid.status === 0) {
      chownSync(dir, Number(uid.stdout), Number(gid.stdout));
      chownSync(persist, Number(uid.stdout), Number(gid.stdout));
    }
  } catch {
    /* running as a non-root user: mosquitto keeps our uid */
  }
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${persist}/`,
      'autosave_interval 1',
      'max_queued_messages 0',
      'max_inflight_messages 0',
      'log_type error',
      '',
    ].join('\n'),
  );
  let proc: ChildProcess;
  const start = async (): Promise<ChildProcess> => {
    const p = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let out = '';
    p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(
      () =>
        new Promise<boolean>((resolve) => {
          if (p.exitCode !== null) throw new Error(`mosquitto exited: ${out}`);
          const s = connect(port, '127.0.0.1');
          s.once('connect', () => (s.destroy(), resolve(true)));
          s.once('error', () => resolve(false));
        }),
      10_000,
      'mosquitto to listen',
    );
    return p;
  };
  proc = await start();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    dir,
    get proc() {
      return proc;
    },
    stop: () => stopProcess(proc),
    restart: async () => {
      await stopProcess(proc);
      proc = await start();
    },
  };
}
