#!/usr/bin/env node
// Entry point: registers tsx so the TypeScript sources run as they are, then runs the CLI
// (cli/bin.ts). A gateway can run the compiled build instead: `npm run build && node dist/cli/bin.js agent`.
import { register } from 'tsx/esm/api';

register();
await import('../cli/bin.ts');
