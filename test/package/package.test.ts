import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build as esbuild, type Metafile } from 'esbuild';
import { build } from '../../scripts/build.mjs';
import { tempDir } from '../support/services.ts';

// The package a device vendor installs: `npm pack` of the built project, installed from the tarball into
// a fresh project, used with plain `node` (no TypeScript loader) and bundled for the browser by esbuild.
//
// The tarball is installed with `npm ci --offline --ignore-scripts` from a lockfile written for the
// temporary project from the repository's own package-lock.json (its non-dev entries: the exact
// dependency versions, registry URLs and integrity hashes the repository was installed with), so the
// install is a real one (registry tarballs unpacked into the project's own node_modules, nothing linked
// to the repository) but needs no network: `npm ci` of the repository already put every tarball into the
// npm cache. If the cache lacks one (a different cache was used), the install is retried with
// --prefer-offline, which fetches only what is missing from the registry. --ignore-scripts: the protocol
// needs no native module, and better-sqlite3's from-source build (~50 s) or anvil's download would only
// slow the test down.

const REPO = join(import.meta.dirname, '../..');
const WORK = tempDir('vitalseal-pack-');
const CONSUMER = join(WORK, 'consumer');
const PKG = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  license: string;
  dependencies: Record<string, string>;
  bin: Record<string, string>;
  engines: Record<string, string>;
  files: string[];
  exports: Record<string, unknown>;
  overrides: Record<string, string>;
};
/** Child processes run with plain node: no loader options inherited from the test runner. */
const PLAIN_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS'));

let packedFiles: string[] = [];

function run(cmd: string, args: string[], cwd: string, timeout = 240_000): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: PLAIN_ENV, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The consumer's package-lock.json: the tarball plus the repository's locked production dependencies. */
function consumerLock(tgzName: string, integrity: string): unknown {
  const repoLock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', dependencies: { [PKG.name]: `file:../${tgzName}` } },
    [`node_modules/${PKG.name}`]: {
      version: PKG.version,
      resolved: `file:../${tgzName}`,
      integrity,
      license: PKG.license,
      dependencies: PKG.dependencies,
      bin: PKG.bin,
      engines: PKG.engines,
    },
  };
  for (const [path, entry] of Object.entries(repoLock.packages)) {
    if (path.startsWith('node_modules/') && entry.dev !== true) packages[path] = entry;
  }
  return { name: 'consumer', lockfileVersion: 3, requires: true, packages };
}

beforeAll(() => {
  // Stage exactly what package.json `files` names (dist/ freshly built), then pack it without scripts:
  // the repository's own dist/ is left alone (`npm pack` in the repository builds it through `prepack`).
  const stage = join(WORK, 'stage');
  build(join(stage, 'dist'));
  cpSync(join(REPO, 'package.json'), join(stage, 'package.json'));
  for (const entry of PKG.files) {
    if (entry.startsWith('!') || entry === 'dist' || !existsSync(join(REPO, entry))) continue;
    cpSync(join(REPO, entry), join(stage, entry), { recursive: true });
  }
  const packed = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', WORK], stage)) as Array<{
    filename: string;
    integrity: string;
    files: Array<{ path: string }>;
  }>;
  const info = packed[0]!;
  packedFiles = info.files.map((f) => f.path);

  mkdirSync(CONSUMER);
  // The consumer repeats the project's cbor-extract pin (package.json `overrides`, without which `npm ci` fails): `overrides` of a
  // dependency do not apply to the project that installs it.
  const consumerPkg = {
    name: 'consumer',
    private: true,
    type: 'module',
    dependencies: { [PKG.name]: `file:../${info.filename}` },
    overrides: PKG.overrides,
  };
  writeFileSync(join(CONSUMER, 'package.json'), JSON.stringify(consumerPkg, null, 2));
  writeFileSync(join(CONSUMER, 'package-lock.json'), JSON.stringify(consumerLock(info.filename, info.integrity), null, 2));
  const npmCi = ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'];
  try {
    run('npm', [...npmCi, '--offline'], CONSUMER);
  } catch (e) {
    if (!/ENOTCACHED/.test(String(e))) throw e;
    run('npm', [...npmCi, '--prefer-offline'], CONSUMER, 480_000);
  }
}, 600_000);

afterAll(() => rmSync(WORK, { recursive: true, force: true }));

describe('npm pack → install the tarball → plain node', () => {
  it('the tarball ships the compiled JavaScript, declarations and the CLI, not the TypeScript sources', () => {
    for (const f of [
      'dist/protocol/index.js',
      'dist/protocol/index.d.ts',
      'dist/protocol/node.js',
      'dist/protocol/node.d.ts',
      'dist/cli/bin.js',
      'dist/agent/store/writerThread.worker.js',
      'dist/agent/store/batchWriter.d.ts',
      'bin/vitalseal.js',
      'package.json',
    ]) {
      expect(packedFiles).toContain(f);
    }
    expect(packedFiles.filter((f) => !f.startsWith('dist/') && /\.(ts|mts)$/.test(f))).toEqual([]);
    expect(packedFiles.filter((f) => f.endsWith('.map'))).toEqual([]);
    // Every `exports` target is in the tarball.
    for (const target of Object.values(PKG.exports)) {
      const paths = typeof target === 'string' ? [target] : Object.values(target as Record<string, string>);
      for (const p of paths) expect(packedFiles).toContain(p.replace(/^\.\//, ''));
    }
    const installed = join(CONSUMER, 'node_modules', PKG.name);
    expect(existsSync(join(installed, 'dist', 'protocol', 'index.js'))).toBe(true);
    expect(existsSync(join(installed, 'protocol'))).toBe(false); // no sources: nothing a loader could pick up
  });

  it('the installed `vitalseal` command runs the compiled CLI (bin/vitalseal.js → dist/cli/bin.js)', () => {
    const help = run(join(CONSUMER, 'node_modules', '.bin', 'vitalseal'), ['--help'], CONSUMER, 60_000);
    expect(help).toMatch(/Usage: vitalseal/);
  }, 60_000);

  it('seals and opens a reading through vitalseal/protocol (noble) and vitalseal/protocol/node with plain node', () => {
    const script = `
      import { sealReading, openReading, tempKeyPairGen, createHpke, systemRng, isVitalsealError } from 'vitalseal/protocol';
      import { createHpke as createHpkeNode, HPKE_BACKENDS } from 'vitalseal/protocol/node';
      import { openReading as openFromSubpath } from 'vitalseal/protocol/envelope';
      const key = tempKeyPairGen('patient:pack-test', systemRng);
      const reading = { st: 'spo2', ts: 1767225600000, v: [97], u: '%' };
      const header = { dev: 'dev-pack', seq: 1, ts: reading.ts, st: reading.st };
      const out = {};
      for (const [name, hpke] of [['noble', createHpke()], ['node', createHpkeNode('node')]]) {
        const envelope = sealReading({ reading, header, recipient: { publicKey: key.publicKey, kid: key.kid }, hpke, rng: systemRng });
        const a = openReading(envelope, { secretKey: key.secretKey, hpke: createHpke() });
        const b = openFromSubpath(envelope, { secretKey: key.secretKey, hpke: createHpkeNode('node') });
        out[name] = { backend: hpke.backend, reading: a.reading, same: JSON.stringify(a.reading) === JSON.stringify(b.reading), bytes: envelope.length };
      }
      const other = tempKeyPairGen('patient:other', systemRng);
      const sealed = sealReading({ reading, header, recipient: { publicKey: key.publicKey, kid: key.kid }, hpke: createHpke(), rng: systemRng });
      try { openReading(sealed, { secretKey: other.secretKey, hpke: createHpke() }); out.wrongKey = 'opened'; }
      catch (e) { out.wrongKey = isVitalsealError(e) ? e.code : String(e); }
      try { createHpke('node'); out.coreNode = 'created'; } catch (e) { out.coreNode = e.code; }
      out.backends = HPKE_BACKENDS;
      out.loaders = process.execArgv;
      console.log(JSON.stringify(out));
    `;
    writeFileSync(join(CONSUMER, 'seal-open.mjs'), script);
    const out = JSON.parse(run(process.execPath, ['seal-open.mjs'], CONSUMER, 60_000)) as Record<string, unknown>;
    const reading = { st: 'spo2', ts: 1767225600000, v: [97], u: '%' };
    expect(out).toMatchObject({
      noble: { backend: 'noble', reading, same: true },
      node: { backend: 'node', reading, same: true },
      wrongKey: expect.stringMatching(/^ENVELOPE_/),
      coreNode: 'HPKE_BAD_MODE',
      backends: ['noble', 'node'],
      loaders: [],
    });
  }, 60_000);

  it('the declarations resolve for a TypeScript consumer (node16 and bundler resolution), core without Node types', () => {
    const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    writeFileSync(
      join(CONSUMER, 'core.ts'),
      `
      import { sealReading, openReading, tempKeyPairGen, createHpke, systemRng, type Reading } from 'vitalseal/protocol';
      import { decodeTicket } from 'vitalseal/protocol/ticket';
      const key = tempKeyPairGen('patient:types', systemRng);
      const reading: Reading = { st: 'spo2', ts: 1, v: [97], u: '%' };
      const envelope: Uint8Array = sealReading({ reading, header: { dev: 'd', seq: 1, ts: 1, st: 'spo2' }, recipient: key, hpke: createHpke(), rng: systemRng });
      const values: readonly number[] = openReading(envelope, { secretKey: key.secretKey, hpke: createHpke() }).reading.v;
      // @ts-expect-error the core's createHpke has the noble backend only (node is in vitalseal/protocol/node)
      createHpke('node');
      // @ts-expect-error a reading needs a header, a recipient, an HPKE and an Rng
      sealReading({ reading });
      export { values, decodeTicket };
    `,
    );
    writeFileSync(
      join(CONSUMER, 'node.ts'),
      `
      import { createHpke, type HpkeBackendName } from 'vitalseal/protocol/node';
      import { tempKeyPairGen } from 'vitalseal/protocol/keys';
      const name: HpkeBackendName = 'node';
      export const kid: Uint8Array = tempKeyPairGen('patient:types', () => new Uint8Array(32), createHpke(name)).kid;
    `,
    );
    const tsconfig = (file: string, options: Record<string, unknown>, files: string[]) =>
      writeFileSync(
        join(CONSUMER, file),
        JSON.stringify({
          compilerOptions: { noEmit: true, strict: true, target: 'ES2022', lib: ['ES2022', 'DOM'], skipLibCheck: true, ...options },
          files,
        }),
      );
    // Core: no @types/node at all, so a Node type leaking into the core's declarations fails here.
    tsconfig('tsconfig.core.json', { module: 'node16', moduleResolution: 'node16', types: [] }, ['core.ts']);
    tsconfig(
      'tsconfig.node.json',
      { module: 'esnext', moduleResolution: 'bundler', typeRoots: [join(REPO, 'node_modules', '@types')], types: ['node'] },
      ['core.ts', 'node.ts'],
    );
    run(process.execPath, [tsc, '-p', 'tsconfig.core.json'], CONSUMER, 120_000);
    run(process.execPath, [tsc, '-p', 'tsconfig.node.json'], CONSUMER, 120_000);
  }, 240_000);
});

describe('browser bundle of vitalseal/protocol (esbuild, platform browser)', () => {
  /** Protocol-core code must not touch these (third-party code is allowed guarded uses, checked by running it without them). */
  const NODE_ONLY = /\bBuffer\b|\bprocess\b|\brequire\s*\(|['"]node:|__dirname|__filename/;
  const stripComments = (js: string) => js.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');

  it('bundles with no Node built-in and no Node-only global in the protocol core, and seals + opens without Buffer/process', async () => {
    const result = await esbuild({
      stdin: { contents: "export * from 'vitalseal/protocol';", resolveDir: CONSUMER, loader: 'js' },
      absWorkingDir: CONSUMER,
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const inputs = Object.keys((result.metafile as Metafile).inputs).map((p) => relative(CONSUMER, join(CONSUMER, p)).split(sep).join('/'));
    const own = inputs.filter((p) => p.startsWith(`node_modules/${PKG.name}/`));
    const third = inputs.filter((p) => p.startsWith('node_modules/') && !own.includes(p));
    expect(own.length).toBeGreaterThan(40);
    expect(own.every((p) => p.startsWith(`node_modules/${PKG.name}/dist/protocol/`))).toBe(true);
    expect(own.filter((p) => /\/(node|hpke\/node)\.js$/.test(p))).toEqual([]); // the node:crypto backend stays out
    expect(
      [
        ...new Set(
          third.map((p) =>
            p
              .split('/')
              .slice(1, p.startsWith('node_modules/@') ? 3 : 2)
              .join('/'),
          ),
        ),
      ].sort(),
    ).toEqual(['@noble/ciphers', '@noble/curves', '@noble/hashes', 'cbor-x']);
    for (const p of own) {
      const offending = stripComments(readFileSync(join(CONSUMER, p), 'utf8'))
        .split('\n')
        .filter((l) => NODE_ONLY.test(l));
      expect({ file: p, offending }).toEqual({ file: p, offending: [] });
    }
    const bundle = result.outputFiles[0]!.text;
    expect(bundle).not.toMatch(/__require|\brequire\s*\(|from\s*['"]node:/);

    // Run it where Buffer, process, global and setImmediate do not exist (as in a browser).
    const bundleFile = join(WORK, 'protocol.browser.mjs');
    writeFileSync(bundleFile, bundle);
    const script = `
      for (const g of ['Buffer', 'process', 'global', 'setImmediate', 'clearImmediate']) delete globalThis[g];
      const p = await import(${JSON.stringify(pathToFileURL(bundleFile).href)});
      const key = p.tempKeyPairGen('patient:browser', p.systemRng);
      const reading = { st: 'ecg', ts: 1767225600000, v: Array.from({ length: 250 }, (_, i) => Math.sin(i / 10)), u: 'mV' };
      const envelope = p.sealReading({ reading, header: { dev: 'dev-browser', seq: 7, ts: reading.ts, st: 'ecg' }, recipient: key, hpke: p.createHpke(), rng: p.systemRng });
      const opened = p.openReading(envelope, { secretKey: key.secretKey, hpke: p.createHpke() });
      console.log(JSON.stringify({ globals: [typeof Buffer, typeof process, typeof global], same: JSON.stringify(opened.reading) === JSON.stringify(reading), kid: p.toHex(key.kid).length }));
    `;
    const out = JSON.parse(run(process.execPath, ['--input-type=module', '-e', script], WORK, 60_000)) as unknown;
    expect(out).toEqual({ globals: ['undefined', 'undefined', 'undefined'], same: true, kid: expect.any(Number) });
  }, 120_000);
});
