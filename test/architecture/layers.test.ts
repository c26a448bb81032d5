/**
 * One direction of dependencies (issue #17): the import graph of every .ts/.mts/.mjs/.js file
 * outside node_modules/ and dist/ (test/support/importGraph.ts) has no cycle, and every import
 * follows the layer order
 *
 *   protocol → {device-sim, conform, chain} → agent → wallet → scenarios → {cli, bench}
 *
 * A module imports only from its own layer or lower ones, and within a layer:
 * - device-sim and chain never import each other; agent never imports device-sim;
 * - bench/ never imports cli/; cli/ reaches bench/ only through bench/index.ts.
 * platform/ (node I/O helpers: atomic private files) sits beside protocol/ at the bottom; the two
 * never import each other (protocol/ stays pure).
 * Tools — fuzz/, scripts/, test/, bin/ and the root's config files — may import anything (bin/
 * also the build in dist/), and no layer imports them. A new top-level directory must be placed
 * in the table below before a layer imports it or it imports anything.
 */
import { describe, expect, it } from 'vitest';
import { findCycles, importEdges, importGraph, specifiersIn, targetOf, REPO_ROOT, type ImportEdge } from '../support/importGraph.ts';
import { join } from 'node:path';

/** Layer of each top-level directory (lower imports nothing from higher). */
const LAYER: Readonly<Record<string, number>> = {
  protocol: 0,
  platform: 0,
  'device-sim': 1,
  conform: 1,
  chain: 1,
  agent: 2,
  wallet: 3,
  scenarios: 4,
  cli: 5,
  bench: 5,
};
/** Pairs in an allowed direction that are still forbidden: [importer, imported]. */
const FORBIDDEN: ReadonlyArray<readonly [string, string]> = [
  ['protocol', 'platform'],
  ['platform', 'protocol'],
  ['device-sim', 'chain'],
  ['chain', 'device-sim'],
  ['agent', 'device-sim'],
  ['bench', 'cli'],
  // the conformance kit judges a device by the spec (protocol/), never by the reference firmware's code
  ['conform', 'device-sim'],
  ['device-sim', 'conform'],
  ['conform', 'chain'],
  ['chain', 'conform'],
];
/** The one file of bench/ the CLI may import. */
const BENCH_ENTRY = 'bench/index.ts';
const TOOLS = new Set(['fuzz', 'scripts', 'test', 'bin']);
/** The build of the sources (scripts/build.mjs): only the package's entry (bin/) loads it. */
const BUILD_OUTPUT = 'dist';

/** Top-level directory of a repository path; '' for a file at the root (vitest.config.ts). */
function topOf(path: string): string {
  const i = path.indexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** Why an import from `from` to `to` (repository paths) breaks the layer rule, or undefined when it is allowed. */
function layerViolation(from: string, to: string): string | undefined {
  const a = topOf(from);
  const b = topOf(to);
  const importerIsTool = a === '' || TOOLS.has(a);
  if (b === BUILD_OUTPUT) return a === 'bin' ? undefined : `only bin/ loads the build (${BUILD_OUTPUT}/)`;
  if (b !== '' && !TOOLS.has(b) && !(b in LAYER)) return `${b}/ is in no layer (place it in test/architecture/layers.test.ts)`;
  if (importerIsTool) return undefined;
  if (b === '' || TOOLS.has(b)) return `${b || 'the repository root'} is a tool: no layer imports it`;
  if (!(a in LAYER)) return `${a}/ is in no layer (place it in test/architecture/layers.test.ts)`;
  if (a === b) return undefined;
  if (LAYER[b]! > LAYER[a]!) return `${a} (layer ${LAYER[a]}) imports the higher layer ${b} (layer ${LAYER[b]})`;
  if (FORBIDDEN.some(([x, y]) => x === a && y === b)) return `${a} never imports ${b}`;
  if (a === 'cli' && b === 'bench' && to !== BENCH_ENTRY) return `cli reaches bench only through ${BENCH_ENTRY}`;
  return undefined;
}

const edges: ImportEdge[] = importEdges();

describe('import layers', () => {
  it('the scanner sees static, type-only, re-export, side-effect and dynamic imports, and skips comments', () => {
    const text = [
      "import { a } from './a.ts';",
      "import type { B } from '../b/b.ts';",
      "export { c } from './c.ts';",
      "export * from './d.ts';",
      "import './e.mjs';",
      "const f = await import('./f.ts');",
      "type G = typeof import('./g.ts').g;",
      "// import { x } from './commented.ts';",
      "/* import('./block.ts') */",
    ].join('\n');
    expect(specifiersIn(text).sort()).toEqual(['../b/b.ts', './a.ts', './c.ts', './d.ts', './e.mjs', './f.ts', './g.ts']);
    expect(targetOf(join(REPO_ROOT, 'bench/x.ts'), '../cli/output.ts')).toBe('cli');
    // the real tree: the scanner finds the CLI's one way into bench/ and the demo's into the scenario
    expect(edges).toContainEqual(expect.objectContaining({ from: 'cli/commands/bench.ts', to: BENCH_ENTRY, exists: true }));
    expect(edges).toContainEqual(expect.objectContaining({ from: 'cli/commands/demo.ts', to: 'scenarios/ward/index.ts', exists: true }));
    expect(edges.length).toBeGreaterThan(500);
  });

  it('the layer rule refuses upward, sideways and tool imports and allows the rest', () => {
    const refused: Array<[string, string]> = [
      ['protocol/x.ts', 'agent/core.ts'],
      ['chain/x.ts', 'device-sim/index.ts'],
      ['device-sim/x.ts', 'chain/contracts.ts'],
      ['agent/x.ts', 'device-sim/index.ts'],
      ['agent/x.ts', 'wallet/wallet.ts'],
      ['wallet/x.ts', 'scenarios/ward/index.ts'],
      ['scenarios/ward/x.ts', 'cli/output.ts'],
      ['bench/run.ts', 'cli/output.ts'],
      ['cli/commands/bench.ts', 'bench/suite.ts'],
      ['bench/ingest.ts', 'scripts/build.mjs'],
      ['agent/x.ts', 'test/support/services.ts'],
      ['cli/x.ts', 'fuzz/run.ts'],
      ['protocol/x.ts', 'platform/privateFiles.ts'],
      ['platform/x.ts', 'protocol/bytes.ts'],
      ['platform/x.ts', 'chain/contracts.ts'],
      ['cli/x.ts', 'dist/cli/bin.js'],
      ['test/x.test.ts', 'newdir/y.ts'],
      ['newdir/x.ts', 'protocol/bytes.ts'],
      ['agent/x.ts', 'newdir/y.ts'],
      ['conform/x.ts', 'device-sim/index.ts'],
      ['conform/x.ts', 'agent/core.ts'],
      ['device-sim/x.ts', 'conform/index.ts'],
    ];
    for (const [from, to] of refused) expect(layerViolation(from, to), `${from} → ${to}`).toBeTypeOf('string');
    const allowed: Array<[string, string]> = [
      ['protocol/a.ts', 'protocol/b.ts'],
      ['chain/x.ts', 'protocol/bytes.ts'],
      ['agent/x.ts', 'chain/contracts.ts'],
      ['wallet/x.ts', 'chain/contracts.ts'],
      ['scenarios/ward/flow.ts', 'device-sim/profiles/index.ts'],
      ['cli/commands/demo.ts', 'scenarios/ward/index.ts'],
      ['cli/commands/bench.ts', BENCH_ENTRY],
      ['bench/pipeline.ts', 'scenarios/ward/index.ts'],
      ['test/x.test.ts', 'cli/main.ts'],
      ['test/x.test.ts', 'scripts/build.mjs'],
      ['test/x.test.ts', 'fuzz/run.ts'],
      ['fuzz/x.ts', 'protocol/index.ts'],
      ['bin/vitalseal.js', 'cli/bin.ts'],
      ['vitest.config.ts', 'test/support/x.ts'],
      ['scripts/x.ts', 'test/support/ward.ts'],
      ['bin/vitalseal.js', 'dist/cli/bin.js'],
      ['chain/x.ts', 'platform/privateFiles.ts'],
      ['wallet/x.ts', 'platform/privateFiles.ts'],
      ['conform/x.ts', 'protocol/bytes.ts'],
      ['conform/x.ts', 'platform/privateFiles.ts'],
      ['cli/commands/conform.ts', 'conform/index.ts'],
    ];
    for (const [from, to] of allowed) expect(layerViolation(from, to), `${from} → ${to}`).toBeUndefined();
  });

  it('every import follows the layer order (protocol → device-sim/chain → agent → wallet → scenarios → cli/bench)', () => {
    const violations = edges.flatMap((e) => {
      const why = layerViolation(e.from, e.to);
      return why === undefined ? [] : [`${e.from} → ${e.specifier}: ${why}`];
    });
    expect(violations).toEqual([]);
  });
});

describe('import cycles', () => {
  it('findCycles reports each cycle as a path that ends where it starts', () => {
    const g = new Map<string, string[]>([
      ['a', ['b']],
      ['b', ['c', 'x']],
      ['c', ['a']],
      ['x', ['y']],
      ['y', []],
      ['s', ['s']],
      ['p', ['q']],
      ['q', ['p', 'a']],
    ]);
    const cycles = findCycles(g)
      .map((c) => c.join(' → '))
      .sort();
    expect(cycles).toEqual(['a → b → c → a', 'p → q → p', 's → s']);
    expect(
      findCycles(
        new Map([
          ['a', ['b']],
          ['b', []],
        ]),
      ),
    ).toEqual([]);
  });

  it('no import cycle anywhere in the repository', () => {
    const cycles = findCycles(importGraph(edges)).map((c) => c.join(' → '));
    expect(cycles).toEqual([]);
  });
});
