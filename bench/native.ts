/**
 * The C rows of `vitalseal bench crypto` (issue #19): device-c's sealing core (C11, -O2) on its
 * libsodium host port, measured in the same run and the same interleaved 5 ms slices as the
 * node, noble, @hpke/core and libsodium rows.
 *
 * The C side runs as one child process (device-c/tests/bench.c, `vs-bench`); each slice of a C
 * operation asks it to seal for that many milliseconds and takes the calls and nanoseconds the
 * child measured itself (clock_gettime), so the pipe round trip is not counted. The rows:
 *
 * - `c.seal`: single-shot HPKE base-mode seal (encap + key schedule + ChaCha20-Poly1305), info =
 *   aad = "", ephemeral keys from a pre-filled pool: the same operation as `node.seal`;
 * - `c.envelope-seal`: `vs_seal_reading`, the whole COSE envelope with a fresh ephemeral key from
 *   the port's random generator: what a device does per reading;
 * - `c.session-seal`: `vs_session_seal`, one AEAD call per reading (session mode).
 *
 * Before anything is timed, the C output is checked: its HPKE ciphertext opens with vitalseal's
 * node and noble backends, its envelope opens with openReading on both (a tampered one does not).
 * When device-c cannot be built (no C compiler, make or libsodium-dev) the summary says so and
 * the report prints the reason where the rows would be; nothing is silently left out.
 *
 * `floorOf` names the fastest single-shot seal of a payload among every implementation measured.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { bytesEqual } from '../protocol/bytes.ts';
import { decodeEnvelope, envelopeAad, openReading, type Reading } from '../protocol/envelope/index.ts';
import type { Hpke, HpkeBackendName } from '../protocol/hpke/index.ts';
import { buildDeviceC } from './lib/deviceC.ts';

/** The operations the C child adds to a payload's interleaved slices. */
export const NATIVE_OPS = ['c.seal', 'c.envelope-seal', 'c.session-seal'] as const;

/** Single-shot seal rows compared for the floor (whichever of them were measured). */
export const SEAL_ROWS = ['node.seal', 'noble.seal', 'hpke-core.seal', 'libsodium.seal', 'c.seal'] as const;

/** A slice-driven operation: runs for about `ms` and returns [elapsed ms, calls]. */
export interface NativeOp {
  readonly slice: (ms: number) => Promise<[number, number]>;
}

export interface NativeCheck {
  readonly name: string;
  readonly payload: string;
  readonly ok: boolean;
  readonly detail?: string;
}

export interface NativeFloor {
  readonly op: string;
  readonly us: number;
  readonly rows: Readonly<Record<string, number>>;
  readonly fastOp?: string;
  readonly fastUs?: number;
}

export interface NativeSealSummary {
  /** 'measured': the C rows are in every payload's ops; 'unavailable': why not; 'failed': a precheck or the child failed. */
  readonly status: 'measured' | 'unavailable' | 'failed';
  readonly reason?: string;
  /** What was measured: library, compiler, libsodium version. */
  readonly implementation: string;
  readonly ops: readonly string[];
  /**
   * Per payload: the fastest single-shot seal row by median (µs) and every row's median it was chosen
   * from; `fastOp` / `fastUs` the same on each row's fastest 10 % of slices (the least disturbed
   * estimate on a loaded machine).
   */
  readonly floor: Readonly<Record<string, NativeFloor>>;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
const EMPTY = new Uint8Array(0);

/** Fields of a `ok a=b c=d` answer of vs-bench. */
function fields(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of line.split(' ').slice(1)) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

export class NativeSeal {
  private readonly child: ChildProcessWithoutNullStreams | undefined;
  private readonly lines: Interface | undefined;
  private readonly waiting: Array<(line: string) => void> = [];
  private implementation = 'device-c (C11, -O2) on libsodium';
  private status: NativeSealSummary['status'];
  private reason: string | undefined;
  private readonly floor: Record<string, NativeFloor> = {};

  private constructor(bin: string | undefined, reason: string | undefined) {
    this.status = bin ? 'measured' : 'unavailable';
    this.reason = reason;
    if (!bin) return;
    this.child = spawn(bin, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.lines = createInterface({ input: this.child.stdout });
    this.lines.on('line', (line) => {
      this.waiting.shift()?.(line);
      if (this.waiting.length === 0) this.idle();
    });
    this.child.on('exit', (code, signal) => {
      for (const w of this.waiting.splice(0)) w(`err exited ${code ?? signal}`);
    });
    this.idle(); // an idle child never keeps the bench's process alive (it exits on stdin's EOF)
  }

  /** Holds the event loop only while an answer is awaited (the child's pipes are sockets). */
  private idle(): void {
    this.child?.unref();
    for (const s of [this.child?.stdout, this.child?.stdin]) (s as unknown as { unref?: () => void } | undefined)?.unref?.();
  }

  private busy(): void {
    this.child?.ref();
    for (const s of [this.child?.stdout, this.child?.stdin]) (s as unknown as { ref?: () => void } | undefined)?.ref?.();
  }

  /** Builds device-c (make; a no-op when it is up to date) and starts vs-bench; never throws. */
  static async start(recipientPublicKey: Uint8Array): Promise<NativeSeal> {
    const built = buildDeviceC();
    if (!built.ok) return new NativeSeal(undefined, built.reason);
    const n = new NativeSeal(built.build.path('vs-bench'), undefined);
    try {
      const v = fields(await n.ask('version'));
      n.implementation = `device-c (C11, -O2, ${(v.cc ?? '?').split(' ')[0]}) on libsodium ${v.sodium ?? '?'} (host port)`;
      await n.expectOk(`key ${hex(recipientPublicKey)}`);
    } catch (e) {
      n.fail(e);
    }
    return n;
  }

  get available(): boolean {
    return this.status === 'measured';
  }

  private ask(line: string): Promise<string> {
    const child = this.child;
    if (!child || child.exitCode !== null) return Promise.resolve('err no child');
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.busy();
      child.stdin.write(`${line}\n`);
    });
  }

  private async expectOk(line: string): Promise<Record<string, string>> {
    const answer = await this.ask(line);
    if (!answer.startsWith('ok')) throw new Error(`vs-bench ${line.split(' ')[0]}: ${answer}`);
    return fields(answer);
  }

  private fail(e: unknown): void {
    this.status = 'failed';
    this.reason = e instanceof Error ? e.message : String(e);
  }

  /**
   * Sets the payload the C rows seal and checks the C output on it: HPKE ciphertexts open with
   * vitalseal's node and noble backends, envelopes with openReading (when the payload is a
   * reading) or HPKE open of the envelope's parts; a tampered envelope is refused.
   */
  async prepare(
    payload: string,
    plaintext: Uint8Array,
    reading: Reading | undefined,
    skR: Uint8Array,
    hpke: Record<HpkeBackendName, Hpke>,
  ): Promise<NativeCheck[]> {
    if (!this.available) return [];
    const checks: NativeCheck[] = [];
    const check = async (name: string, fn: () => Promise<void>): Promise<void> => {
      try {
        await fn();
        checks.push({ name, payload, ok: true });
      } catch (e) {
        checks.push({ name, payload, ok: false, detail: e instanceof Error ? e.message : String(e) });
        this.fail(new Error(`precheck failed (${payload}): ${name}`));
      }
    };
    await check('device-c: its single-shot HPKE ciphertext opens with vitalseal node and noble', async () => {
      await this.expectOk(`payload ${hex(plaintext)}`);
      if (reading) await this.expectOk(`header ${reading.st} ${reading.ts}`);
      const s = await this.expectOk('hpke-sample');
      for (const b of ['node', 'noble'] as const)
        if (!bytesEqual(hpke[b].open(unhex(s.enc!), skR, EMPTY, EMPTY, unhex(s.ct!)), plaintext))
          throw new Error(`${b}: plaintext differs`);
    });
    await check('device-c: its envelope (vs_seal_reading) opens on node and noble, a tampered one is refused', async () => {
      const env = unhex((await this.expectOk('sample')).envelope!);
      for (const b of ['node', 'noble'] as const) {
        if (reading) {
          const opened = openReading(env, { secretKey: skR, hpke: hpke[b] });
          if (opened.reading.v.length !== reading.v.length || opened.reading.st !== reading.st) throw new Error(`${b}: reading differs`);
        } else {
          const d = decodeEnvelope(env);
          if (!bytesEqual(hpke[b].open(d.enc, skR, EMPTY, envelopeAad(d.protectedBytes), d.ciphertext), plaintext))
            throw new Error(`${b}: plaintext differs`);
        }
        const bad = env.slice();
        bad[bad.length - 1]! ^= 1;
        const d = decodeEnvelope(bad);
        let refused = false;
        try {
          hpke[b].open(d.enc, skR, EMPTY, envelopeAad(d.protectedBytes), d.ciphertext);
        } catch {
          refused = true;
        }
        if (!refused) throw new Error(`${b}: a tampered C envelope was accepted`);
      }
    });
    return checks;
  }

  /** The C operations for the current payload (empty when unavailable or a precheck failed). */
  ops(): Map<string, NativeOp> {
    const out = new Map<string, NativeOp>();
    if (!this.available) return out;
    for (const name of NATIVE_OPS) {
      const op = name.slice(2);
      out.set(name, {
        slice: async (ms) => {
          const f = await this.expectOk(`time ${op} ${ms}`);
          return [Number(f.ns) / 1e6, Number(f.calls)];
        },
      });
    }
    return out;
  }

  /** Records the payload's floor: the fastest single-shot seal among the measured rows (medians and fastest slices, µs). */
  floorOf(
    payload: string,
    result: { readonly ops: Readonly<Record<string, { readonly median: number }>>; readonly fastSlices?: Readonly<Record<string, number>> },
  ): void {
    const pick = (get: (k: string) => number | undefined): [Record<string, number>, [string, number] | undefined] => {
      const rows: Record<string, number> = {};
      for (const k of SEAL_ROWS) {
        const v = get(k);
        if (v !== undefined && Number.isFinite(v)) rows[k] = v;
      }
      return [rows, Object.entries(rows).sort((a, b) => a[1] - b[1])[0]];
    };
    const [rows, best] = pick((k) => result.ops[k]?.median);
    const [, fast] = pick((k) => result.fastSlices?.[k]);
    if (best) this.floor[payload] = { op: best[0], us: best[1], rows, ...(fast ? { fastOp: fast[0], fastUs: fast[1] } : {}) };
  }

  summary(): NativeSealSummary {
    return {
      status: this.status,
      ...(this.reason === undefined ? {} : { reason: this.reason }),
      implementation: this.implementation,
      ops: this.available ? [...NATIVE_OPS] : [],
      floor: this.floor,
    };
  }

  close(): void {
    this.lines?.close();
    if (this.child && this.child.exitCode === null) {
      this.child.stdin.end();
      this.child.kill();
    }
  }
}

/** One line for the report: the floor of a payload and what the C rows are (or why they are missing). */
export function nativeReportLines(s: NativeSealSummary | undefined): string[] {
  if (!s) return [];
  const out: string[] = [];
  if (s.status === 'measured') out.push(`C rows (\`c.*\`): ${s.implementation}, same run, same slices.`);
  else out.push(`C rows (\`c.seal\`, \`c.envelope-seal\`, \`c.session-seal\`): ${s.status} — ${s.reason ?? 'no reason given'}.`);
  for (const [payload, f] of Object.entries(s.floor))
    out.push(
      `Floor for ${payload} (fastest single-shot seal): \`${f.op}\` ${f.us.toFixed(1)} µs (${Object.entries(f.rows)
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(', ')})${f.fastOp ? `; on the fastest 10 % of slices \`${f.fastOp}\` ${f.fastUs?.toFixed(1)} µs` : ''}.`,
    );
  return out;
}
