/**
 * Smoke test of the long fuzz run (`npm run fuzz`, fuzz/run.ts) so it cannot rot: every decoder
 * on 2,000 seeded inputs, resume from the saved progress, determinism from the seed, and planted
 * bugs (an untyped exception, an endless loop) caught with their reproducing inputs saved.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FuzzSummary } from '../../fuzz/run.ts';
import { TARGETS } from '../../fuzz/targets.ts';
import { FUZZ_SMOKE_INPUTS } from '../support/fuzz.ts';
import { tempDir } from '../support/services.ts';

const root = join(import.meta.dirname, '..', '..');
const dir = tempDir('vitalseal-fuzz-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fuzz(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'fuzz/run.ts', ...args],
      { cwd: root, env: { ...process.env, ...env }, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const summaryOf = (stdout: string) => JSON.parse(stdout) as FuzzSummary;

// counts from the one fuzz setting (test/support/fuzz.ts; 2,000 / 1,000 / 3,000 at the default scale)
const N = FUZZ_SMOKE_INPUTS;
const CHUNK = Math.ceil(N / 2);
const RESUMED = N + CHUNK;
const fmt = (x: number) => x.toLocaleString('en-US');

describe('npm run fuzz (smoke: 2,000 inputs per decoder)', () => {
  const corpus = join(dir, 'all');

  it('runs every decoder on 2,000 seeded inputs without a failure, then resumes from the saved progress', {
    timeout: 180_000,
  }, async () => {
    const first = await fuzz(['--inputs', String(N), '--chunk', String(CHUNK), '--corpus', corpus, '--seed', 'smoke', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const s1 = summaryOf(first.stdout);
    expect(s1.decoders.map((d) => d.decoder)).toEqual(TARGETS.map((t) => t.name));
    for (const d of s1.decoders) {
      expect(d, d.decoder).toMatchObject({ inputs: N, failures: 0 });
      expect(
        Object.values(d.outcomes).reduce((a, b) => a + b, 0),
        d.decoder,
      ).toBe(N);
      expect(d.corpus, d.decoder).toBeGreaterThan(0);
      expect(readdirSync(join(corpus, 'corpus', d.decoder)).length, d.decoder).toBe(d.corpus);
    }
    // the mutations reach both sides: accepted inputs and typed refusals
    expect(s1.decoders.filter((d) => d.distinctErrorCodes > 0).length).toBeGreaterThanOrEqual(TARGETS.filter((t) => !t.neverThrows).length);
    expect(s1.decoders.every((d) => d.returned > 0)).toBe(true);
    expect(s1).toMatchObject({ complete: true, totalInputs: N * TARGETS.length, totalFailures: 0, runs: 1 });
    expect(readFileSync(join(corpus, 'summary.txt'), 'utf8')).toMatch(/total [\d,]+ inputs, 0 failures/);

    // the second run continues at input 2,000 of each decoder with the saved corpus
    const second = await fuzz(['--inputs', String(RESUMED), '--chunk', String(CHUNK), '--corpus', corpus, '--json']);
    expect(second.code, second.stderr).toBe(0);
    const s2 = summaryOf(second.stdout);
    expect(s2).toMatchObject({ complete: true, runs: 2, seed: 'smoke', totalFailures: 0 });
    for (const d of s2.decoders) {
      const before = s1.decoders.find((x) => x.decoder === d.decoder)!;
      expect(d.inputs, d.decoder).toBe(RESUMED);
      expect(d.corpus).toBeGreaterThanOrEqual(before.corpus);
      for (const [k, v] of Object.entries(before.outcomes)) expect(d.outcomes[k] ?? 0, `${d.decoder} ${k}`).toBeGreaterThanOrEqual(v);
    }
    const progress = second.stderr.split('\n').filter((l) => l.startsWith('cbor.decodeStrict:'));
    expect(progress).toEqual([expect.stringMatching(new RegExp(`^cbor\\.decodeStrict: ${fmt(RESUMED)}/${fmt(RESUMED)} inputs`))]); // one chunk: N → N + CHUNK
  });

  it('refuses to mix seeds in one corpus directory', { timeout: 60_000 }, async () => {
    const r = await fuzz(['--inputs', String(N), '--corpus', corpus, '--seed', 'another']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/FUZZ_SEED_MISMATCH/);
  });

  it('is reproducible from its seed', { timeout: 120_000 }, async () => {
    const run = async (name: string, seed: string) => {
      const r = await fuzz([
        '--inputs',
        String(N),
        '--targets',
        'cbor.decodeStrict,envelope.fastPath',
        '--corpus',
        join(dir, name),
        '--seed',
        seed,
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      return summaryOf(r.stdout).decoders.map((d) => d.outcomes);
    };
    const a = await run('a', 's1');
    expect(await run('b', 's1')).toEqual(a);
    expect(await run('c', 's2')).not.toEqual(a);
  });

  it('catches planted bugs (an untyped exception, an endless loop) and saves the reproducing inputs', { timeout: 120_000 }, async () => {
    const c = join(dir, 'canary');
    // the canary count stays fixed: it must reach both planted bugs whatever the scale
    const r = await fuzz(
      [
        '--inputs',
        '2000',
        '--chunk',
        '500',
        '--hang-ms',
        '1000',
        '--max-broken',
        '2',
        '--targets',
        'canary.untyped,canary.hang',
        '--corpus',
        c,
        '--json',
      ],
      { VITALSEAL_FUZZ_CANARY: '1' },
    );
    expect(r.code, r.stderr).toBe(1);
    const s = summaryOf(r.stdout);
    expect(s.decoders.find((d) => d.decoder === 'canary.untyped')!.failures).toBeGreaterThan(0);
    expect(s.decoders.find((d) => d.decoder === 'canary.hang')!.failures).toBe(2);
    const files = readdirSync(join(c, 'failures'));
    const meta = files
      .filter((f) => f.endsWith('.json'))
      .map(
        (f) =>
          JSON.parse(readFileSync(join(c, 'failures', f), 'utf8')) as { decoder: string; kind: string; inputHex: string; error: string },
      );
    const untyped = meta.filter((m) => m.decoder === 'canary.untyped');
    const hangs = meta.filter((m) => m.decoder === 'canary.hang');
    expect(untyped.length).toBeGreaterThan(0);
    for (const m of untyped)
      expect(m).toMatchObject({ kind: 'untyped-error', inputHex: expect.stringMatching(/^42/), error: 'TypeError: planted untyped error' });
    expect(hangs).toHaveLength(2);
    for (const m of hangs) expect(m).toMatchObject({ kind: 'hang', inputHex: expect.stringMatching(/^4300/) });
    for (const f of files.filter((x) => x.endsWith('.bin'))) expect(existsSync(join(c, 'failures', f))).toBe(true);
  });
});
