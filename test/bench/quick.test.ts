import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { tempDir } from '../support/services.ts';
import { deviceCMissing } from '../../bench/lib/deviceC.ts';

/**
 * `npm run bench -- --quick` end to end (cli/benchBin.ts): checks the shape of the JSON it writes
 * and that every correctness precheck passed. Timings are never asserted (the machine may be
 * loaded): only that they are numbers.
 */
const REPO = resolve(import.meta.dirname, '..', '..');
const outDir = tempDir('vitalseal-bench-test-');
let exitCode: number | null = null;
let stderr = '';
let stdout = '';

const num = z.number();
const measurement = z.object({
  unit: z.string(),
  median: num,
  min: num,
  max: num,
  n: z.number().int().positive(),
  spread: num,
  allowedSpread: num,
  flagged: z.boolean(),
  samples: z.array(num),
});
const precheck = z.object({
  suite: z.enum(['crypto', 'mcu', 'ingest', 'tls', 'anchor', 'e2e', 'scaling']),
  name: z.string().min(1),
  payload: z.string(),
  ok: z.boolean(),
  detail: z.string().optional(),
});
const outcome = <T extends z.ZodType>(result: T) => z.object({ status: z.literal('ok'), seconds: num, result });

const schema = z.object({
  schema: z.literal('vitalseal-bench/v1'),
  mode: z.literal('quick'),
  suitesRequested: z.array(z.string()).length(7),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  seconds: num,
  command: z.string(),
  machine: z.object({
    cpu: z.string().min(1),
    cores: z.number().int().positive(),
    memGiB: num,
    node: z.string().regex(/^v\d+\./),
    openssl: z.string(),
    vitalseal: z.object({ version: z.string(), commit: z.string().nullable(), dirty: z.boolean().nullable() }),
    packages: z.record(z.string(), z.string().nullable()),
    loadavgStart: z.array(num).length(3),
    loadavgEnd: z.array(num).length(3),
  }),
  suites: z.object({
    crypto: outcome(
      z.object({
        prechecks: z.array(z.object({ ok: z.boolean() })).min(1),
        payloads: z
          .array(
            z.object({
              payload: z.string(),
              bytes: z.number().int().positive(),
              ops: z.record(z.string(), measurement),
              ratios: z.record(z.string(), num),
              skipped: z.array(z.string()).length(0),
            }),
          )
          .length(3),
        targets: z.object({
          nodeVsLibsodium: z.object({ value: num, met: z.boolean() }),
          nodeVsHpkeCore: z.object({ value: num, met: z.boolean() }),
          nodeVsPrimitiveSum: z.object({ value: num, met: z.boolean() }),
          nobleVsPrimitiveSum: z.object({ value: num, met: z.boolean() }),
          nodeOpenVsPrimitiveSum: z.object({ value: num, met: z.boolean() }),
        }),
        // the C rows (device-c, bench/native.ts) and the fastest single-shot seal per payload
        native: z.object({
          status: z.enum(['measured', 'unavailable', 'failed']),
          reason: z.string().optional(),
          floor: z.record(z.string(), z.object({ op: z.string(), us: num, rows: z.record(z.string(), num) })),
        }),
      }),
    ),
    mcu: outcome(
      z.object({
        rows: z
          .array(
            z.object({
              profile: z.string(),
              core: z.enum(['cortex-m4', 'cortex-m0plus']),
              mode: z.enum(['per-reading', 'session']),
              kcyclesPerReading: num,
              totalUj: num,
              cryptoShare: num,
              batteryDays: num,
            }),
          )
          .min(4),
      }),
    ),
    ingest: outcome(
      z.object({
        ingest: z.object({
          machine: z.object({
            fdatasync: z.object({ p50Ms: z.number().positive(), p90Ms: z.number().positive(), samples: z.number().int().positive() }),
          }),
          throughput: z.array(z.object({ publishers: num, agentPerSecond: num, aedesPerSecond: num, ratio: num })).min(1),
          latency: z.object({ p50Ms: num, p99Ms: num, failed: z.literal(0) }),
        }),
      }),
    ),
    tls: outcome(
      z.object({
        throughput: z.object({
          plain: z.object({ perSecond: num, agentCpuUsPerReading: num }),
          tls: z.object({ perSecond: num, agentCpuUsPerReading: num }),
          mtls: z.object({ perSecond: num, agentCpuUsPerReading: num }),
        }),
        ratioTlsToPlain: num,
        cpuRatioTlsToPlain: num,
        // quick mode: one round per transport, so the target is judged on the agent's CPU per reading
        judgement: z.object({ basis: z.literal('agent-cpu'), value: num, met: z.boolean(), reason: z.string().min(1) }),
        latency: z.object({ plain: z.object({ p99Ms: num }), tls: z.object({ p99Ms: num }), mtls: z.object({ p99Ms: num }) }),
      }),
    ),
    anchor: outcome(z.object({ anchor: z.object({ gas: z.object({ perRecordTx: num, batchedPerReading: num, ratio: num }) }) })),
    e2e: outcome(
      z.object({
        e2e: z.object({
          runs: z
            .array(
              z.object({
                rate: num,
                readings: num,
                failed: z.literal(0),
                puback: z.object({ p50Ms: num, p99Ms: num }),
                pubackToAnchor: z.object({ p50Ms: num, p99Ms: num }),
              }),
            )
            .min(1),
          query: z.object({
            records: z.literal(1000),
            withAnchor: num,
            http: z.object({ totalMs: num }),
            core: z.object({ totalMs: num }),
          }),
          signedQuery: z.object({ records: num.min(1000), requests: num, totalMs: num, verified: num.min(1000) }),
        }),
      }),
    ),
    scaling: outcome(
      z.object({
        devices: z
          .array(
            z.object({
              devices: num,
              perSecond: num,
              agentRssMiB: z.object({ idle: num, connected: num, peak: num }),
              failed: z.literal(0),
            }),
          )
          .length(2),
        log: z
          .array(
            z.object({
              store: z.enum(['memory', 'sqlite']),
              points: z.array(z.object({ leaves: num, appendUs: num, proofHashes: num, log2Ceil: num, proofUs: num })).min(2),
              logarithmic: z.boolean(),
            }),
          )
          .length(2),
      }),
    ),
  }),
  prechecks: z.array(precheck).min(10),
  prechecksPassed: z.boolean(),
  targets: z
    .array(
      z.object({
        name: z.string(),
        value: num.nullable(),
        comparison: z.enum(['>=', '<=']),
        target: num,
        unit: z.string(),
        met: z.boolean().nullable(),
      }),
    )
    .length(9),
  flagged: z.array(z.object({ suite: z.string(), name: z.string(), spread: num, allowedSpread: num })),
  ok: z.boolean(),
  files: z.object({ json: z.string(), markdown: z.string(), svg: z.string() }),
});

beforeAll(async () => {
  // the whole quick run, as a user starts it; bounded so a hung run fails instead of blocking CI
  await new Promise<void>((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/benchBin.ts', '--quick', '--out-dir', outDir], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
    const kill = setTimeout(() => child.kill('SIGKILL'), 14 * 60_000);
    child.on('exit', (code) => {
      clearTimeout(kill);
      exitCode = code;
      done();
    });
  });
}, 15 * 60_000);

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe('npm run bench -- --quick', () => {
  it('exits 0 and writes one JSON, one markdown report and one SVG', () => {
    expect(exitCode, stderr).toBe(0);
    const files = readdirSync(outDir).sort();
    expect(files.filter((f) => f.endsWith('.json'))).toHaveLength(1);
    expect(files.filter((f) => f.endsWith('.md'))).toHaveLength(1);
    expect(files.filter((f) => f.endsWith('.svg'))).toHaveLength(1);
    expect(stdout).toContain('### Targets');
  });

  it('the JSON follows the result schema (machine info, every suite, targets)', () => {
    const file = readdirSync(outDir).find((f) => f.endsWith('.json'))!;
    const parsed = schema.safeParse(JSON.parse(readFileSync(join(outDir, file), 'utf8')));
    expect(parsed.success, parsed.success ? '' : z.prettifyError(parsed.error)).toBe(true);
    const r = parsed.data!;
    for (const p of ['@hpke/core', 'libsodium-wrappers', '@noble/curves', 'aedes', 'better-sqlite3'])
      expect(r.machine.packages[p], p).toMatch(/^\d+\.\d+/);
    expect(r.suites.scaling.result.devices.map((d) => d.devices)).toEqual([100, 1000]);
    for (const f of [r.files.json, r.files.markdown, r.files.svg]) expect(existsSync(f)).toBe(true);
    expect(readFileSync(r.files.svg, 'utf8')).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"[\s\S]*<\/svg>\s*$/);
  });

  it('every correctness precheck passed before anything was timed (peers decrypt with vitalseal and back)', () => {
    const file = readdirSync(outDir).find((f) => f.endsWith('.json'))!;
    const r = JSON.parse(readFileSync(join(outDir, file), 'utf8')) as z.infer<typeof schema>;
    const failed = r.prechecks.filter((p) => !p.ok);
    expect(failed, JSON.stringify(failed, null, 2)).toEqual([]);
    expect(r.prechecksPassed).toBe(true);
    expect(r.ok).toBe(true);
    const names = r.prechecks.map((p) => p.name).join('\n');
    expect(names).toMatch(/@hpke\/core ↔ vitalseal: each decrypts the other/);
    expect(names).toMatch(/@hpke\/core ↔ vitalseal: session contexts/);
    expect(names).toMatch(/libsodium crypto_box_seal/);
    expect(names).toMatch(/query: every served inclusion proof verifies/);
    expect(names).toMatch(/covered by a confirmed on-chain anchor/);
    expect(names).toMatch(/signed query API: every record served to the patient verifies/);
    // every peer was timed (none skipped because of a failed precheck)
    for (const p of r.suites.crypto.result.payloads)
      for (const op of [
        'node.seal',
        'noble.seal',
        'node.session-seal',
        'hpke-core.seal',
        'hpke-core.open',
        'libsodium.seal',
        'libsodium.open',
        // the full envelope on every payload (issue #21: the targets judge it)
        'node.envelope-seal',
        'noble.envelope-seal',
        'node.envelope-open',
        'noble.envelope-open',
      ])
        expect(Object.keys(p.ops)).toContain(op);
    // the C seal rows are measured wherever device-c builds (under CI always: the pretest step installs gcc, make, libsodium-dev)
    const native = r.suites.crypto.result.native;
    if (process.env.CI === 'true' || !deviceCMissing()) {
      expect(native.status, native.reason).toBe('measured');
      for (const p of r.suites.crypto.result.payloads)
        for (const op of ['c.seal', 'c.envelope-seal', 'c.session-seal']) expect(Object.keys(p.ops)).toContain(op);
      expect(names).toMatch(/device-c: its envelope \(vs_seal_reading\) opens/);
    } else expect(native.status).toBe('unavailable');
    for (const p of r.suites.crypto.result.payloads)
      expect(Object.keys(native.floor[p.payload]!.rows)).toContain(native.floor[p.payload]!.op);
  });
});
