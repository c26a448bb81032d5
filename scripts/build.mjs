#!/usr/bin/env node
// Production build: compiles the TypeScript sources to JavaScript in dist/ (tsc with
// rewriteRelativeImportExtensions, tsconfig.build.json), so a gateway runs the agent with plain
// `node dist/cli/bin.js …` — no TypeScript loader at run time (tsx's loader thread costs ~40 MiB of
// RSS, measured by bench/ingest.ts's 10,000-device run; the agent's writer thread, too, runs the
// compiled agent/store/writerThread.worker.js there). The chain's Solidity sources and artifacts are
// copied as they are. Declarations (.d.ts) are emitted beside the
// JavaScript for the package's `exports` (package.json); their relative `./x.ts` specifiers are
// rewritten to `./x.js` like the JavaScript's, so a consumer's TypeScript resolves them under any
// moduleResolution without allowImportingTsExtensions.
//
//   node scripts/build.mjs [--out-dir DIR]     (npm run build)
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const COPIED_DIRS = ['chain/contracts', 'chain/artifacts'];

/** Builds into `outDir` (default <repo>/dist, emptied first); returns outDir. Throws when tsc fails. */
export function build(outDir = join(REPO, 'dist')) {
  rmSync(outDir, { recursive: true, force: true });
  const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(REPO, 'tsconfig.build.json'), '--outDir', outDir], {
    cwd: REPO,
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error(`tsc failed (exit ${r.status ?? r.signal})`);
  for (const file of filesUnder(outDir)) {
    if (file.endsWith('.d.ts')) writeFileSync(file, rewriteTsSpecifiers(readFileSync(file, 'utf8')));
  }
  for (const dir of COPIED_DIRS) cpSync(join(REPO, dir), join(outDir, dir), { recursive: true });
  return outDir;
}

/** `from './a.ts'` / `import('../b.ts')` → `.js` (relative specifiers only; .mts/.mjs ones are left as they are). */
export function rewriteTsSpecifiers(text) {
  return text.replace(/(['"])(\.\.?\/[^'"\n]*?)\.ts\1/g, '$1$2.js$1');
}

function* filesUnder(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'node_modules' && name !== 'results') yield* filesUnder(path);
    } else yield path;
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out-dir');
  const out = build(i > 0 && process.argv[i + 1] ? resolve(process.argv[i + 1]) : undefined);
  console.log(`built ${relative(process.cwd(), out) || '.'}`);
}
