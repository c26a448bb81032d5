#!/usr/bin/env node
// Entry point. In a checkout (cli/bin.ts present) it registers tsx so the TypeScript sources run as
// they are, then runs the CLI; in the installed package (npm pack ships dist/, not the sources) it
// runs the compiled CLI. A gateway can run the compiled build directly: `npm run build && node dist/cli/bin.js agent`.
import { existsSync } from 'node:fs';

if (existsSync(new URL('../cli/bin.ts', import.meta.url))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/bin.ts');
} else {
  await import('../dist/cli/bin.js');
}
