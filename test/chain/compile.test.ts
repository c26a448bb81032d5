/** The committed artifacts are exactly what the pinned solc produces from the sources. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHAIN_DIR, compileContracts } from '../../chain/compile.ts';
import { anvilBinaryPath } from '../../chain/embedded.ts';
import { CONTRACT_NAMES } from '../../chain/solcVersion.ts';
import * as abi from '../../chain/abi.ts';

describe('compiled artifacts', () => {
  it('recompile byte for byte with the pinned solc', { timeout: 60_000 }, () => {
    const files = compileContracts();
    expect([...files.keys()].sort()).toEqual([...CONTRACT_NAMES.map((n) => `chain/artifacts/${n}.json`), 'chain/abi.ts'].sort());
    for (const [path, content] of files) {
      const committed = readFileSync(join(CHAIN_DIR, '..', path), 'utf8');
      expect(committed === content, `${path} differs from a fresh compile: run node --import tsx chain/compile.ts`).toBe(true);
    }
  });

  it('abi.ts carries the same ABI and bytecode as the JSON artifacts', () => {
    for (const name of CONTRACT_NAMES) {
      const art = JSON.parse(readFileSync(join(CHAIN_DIR, 'artifacts', `${name}.json`), 'utf8')) as { abi: unknown; bytecode: string };
      const lower = name.charAt(0).toLowerCase() + name.slice(1);
      expect((abi as Record<string, unknown>)[`${lower}Abi`]).toEqual(art.abi);
      expect((abi as Record<string, unknown>)[`${lower}Bytecode`]).toBe(art.bytecode);
    }
  });

  it('finds the anvil binary shipped in the npm package', () => {
    expect(existsSync(anvilBinaryPath())).toBe(true);
  });
});
