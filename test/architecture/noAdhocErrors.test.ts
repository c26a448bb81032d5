/**
 * No ad-hoc error objects (issue #17 "one error and exit path"): nothing outside node_modules and
 * test/ builds `Object.assign(new Error(…), …)`, and the layers above the protocol (agent/, wallet/,
 * chain/, cli/, device-sim/, scenarios/) throw or reject only typed errors of their tables
 * (protocol/errors.ts defineErrors), never `throw new Error(` / `reject(new Error(`, except the
 * genuine internal invariants allowed below (each with why it never reaches another layer).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const LAYERS = ['agent', 'wallet', 'chain', 'cli', 'device-sim', 'scenarios', 'conform'];
const SKIP_DIRS = new Set(['node_modules', 'test', 'dist', '.git', '.vitalseal', 'results']);

/** `file (without extension): a piece of the message` → why it is not an error of the layer's contract. */
const ALLOWED: Record<string, string> = {
  'agent/config: not a JSON object': 'caught three lines below and rethrown as AgentError CONFIG_FILE_UNREADABLE',
  'agent/broker/publishWindow: PublishWindow cannot be installed':
    "invariant on aedes's internals, checked when the broker starts (a dependency upgrade broke it)",
  'agent/broker/embeddedBroker: PacketSizeScanner cannot be installed': "invariant on aedes's internals, checked when the broker starts",
  'agent/broker/embeddedBroker: broker has no TCP address': 'unreachable: the broker listens on TCP before it is asked its address',
  'agent/store/sqliteNodeStore: outside a write batch': 'invariant: the log writes nodes only inside a write batch (a bug otherwise)',
  'agent/store/packedRows: packRows: wrote': 'invariant of the row packer (sizes computed just before)',
  'agent/store/packedRows: unpackRows: read': "invariant of the row packer (the buffer is the packer's own)",
  'agent/store/packedRows: packRows: a hash of': 'invariant: hashes are 32 bytes by construction',
  'agent/store/packedRows: packRows: a string over 255 bytes': 'invariant: device ids and kinds are validated before they are stored',
  'agent/store/storeFault: checkpoint after a failed fdatasync': 'inside the writer thread: the store turns it into STORE_SYNC_FAILED',
};

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) out.push(...sources(join(dir, e.name)));
    } else if (/\.(ts|mts|mjs|js)$/.test(e.name) && !e.name.endsWith('.d.ts') && !e.name.endsWith('.d.mts')) out.push(join(dir, e.name));
  }
  return out;
}

function hits(files: string[], pattern: RegExp): string[] {
  const found: string[] = [];
  for (const f of files) {
    const lines = readFileSync(f, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (pattern.test(line)) found.push(`${relative(ROOT, f)}:${i + 1}: ${line.trim()}`);
    });
  }
  return found;
}

/** Whether a hit (`path:line: text`) is the allowlist entry `k` (its file with any extension). */
const matches = (hit: string, k: string): boolean => {
  const [file, piece] = k.split(': ', 2) as [string, string];
  return new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.[a-z]+:`).test(hit) && hit.includes(piece);
};
const allowed = (hit: string): boolean => Object.keys(ALLOWED).some((k) => matches(hit, k));

describe('no ad-hoc errors across a layer boundary', () => {
  it('no Object.assign(new Error(…)) anywhere outside test/', () => {
    const top = readdirSync(ROOT, { withFileTypes: true }).filter(
      (e) => e.isDirectory() && !SKIP_DIRS.has(e.name) && !e.name.startsWith('.'),
    );
    const files = top.flatMap((d) => sources(join(ROOT, d.name)));
    expect(files.length).toBeGreaterThan(50);
    expect(hits(files, /Object\.assign\(\s*new Error\b/)).toEqual([]);
  });

  it('the layers throw or reject only typed errors (allowlist: internal invariants)', () => {
    const files = LAYERS.flatMap((d) => sources(join(ROOT, d)));
    const bad = hits(files, /\b(throw|reject\()\s*new Error\(/).filter((h) => !allowed(h));
    expect(bad).toEqual([]);
  });

  it('every allowlist entry still matches a line (a fixed one leaves the list)', () => {
    const files = LAYERS.flatMap((d) => sources(join(ROOT, d)));
    const found = hits(files, /\b(throw|reject\()\s*new Error\(/);
    for (const k of Object.keys(ALLOWED))
      expect(
        found.some((h) => matches(h, k)),
        k,
      ).toBe(true);
  });
});
