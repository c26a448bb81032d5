/**
 * Regenerates the case table of conform/README.md from the registry (between <!-- cases --> and
 * <!-- /cases -->): node --import tsx scripts/conformReadme.ts  (test/conform/readme.test.ts checks it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { caseTableMarkdown } from '../conform/index.ts';

const file = join(import.meta.dirname, '..', 'conform', 'README.md');
const text = readFileSync(file, 'utf8');
const next = text.replace(/<!-- cases -->\n[\s\S]*?\n<!-- \/cases -->/, `<!-- cases -->\n${caseTableMarkdown()}\n<!-- /cases -->`);
writeFileSync(file, next);
process.stdout.write(next === text ? 'conform/README.md: table already current\n' : 'conform/README.md: table regenerated\n');
