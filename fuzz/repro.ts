/**
 * Replays one saved input: `node --import tsx fuzz/repro.ts <decoder> <file.bin>`.
 * Prints the outcome (ok label or error code) or the full exception; exit 1 if it is a failure.
 */
import { readFileSync } from 'node:fs';
import { outcomeOf, targetByName, TARGETS } from './targets.ts';

const [name, file] = process.argv.slice(2);
const target = name === undefined ? undefined : targetByName(name);
if (!target || file === undefined) {
  console.error(`usage: node --import tsx fuzz/repro.ts <decoder> <file.bin>\ndecoders: ${TARGETS.map((t) => t.name).join(', ')}`);
  process.exitCode = 2;
} else {
  const input = new Uint8Array(readFileSync(file));
  try {
    console.log(`${target.name}: ${outcomeOf(target, input)} (${input.length} bytes)`);
  } catch (e) {
    console.error(`${target.name}: FAILURE on ${input.length} bytes`);
    console.error(e);
    process.exitCode = 1;
  }
}
