/** conform/README.md lists every case of the registry (generated table), and every cited section exists in docs/PROTOCOL.md. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_CASES, caseTableMarkdown } from '../../conform/index.ts';

const ROOT = join(import.meta.dirname, '../..');

describe('conform/README.md', () => {
  it('holds the case table generated from the registry (regenerate: node --import tsx scripts/conformReadme.ts)', () => {
    const readme = readFileSync(join(ROOT, 'conform/README.md'), 'utf8');
    const m = /<!-- cases -->\n([\s\S]*?)\n<!-- \/cases -->/.exec(readme);
    expect(m, 'the <!-- cases --> markers').not.toBeNull();
    expect(m![1]).toBe(caseTableMarkdown());
  });

  it('every section a case cites is a heading of docs/PROTOCOL.md', () => {
    const spec = readFileSync(join(ROOT, 'docs/PROTOCOL.md'), 'utf8');
    const headings = new Set([...spec.matchAll(/^#{2,3} (\d+(?:\.\d+)?)[. ]/gm)].map((h) => h[1]));
    for (const c of ALL_CASES)
      for (const s of c.section.matchAll(/§(\d+(?:\.\d+)?)/g)) expect(headings.has(s[1]!), `${c.id} cites §${s[1]}`).toBe(true);
  });
});
