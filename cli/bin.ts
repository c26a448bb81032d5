// The CLI's process entry: `node dist/cli/bin.js …` after `npm run build` (plain JavaScript, no
// TypeScript loader); bin/vitalseal.js loads this same file through tsx from the sources.
import { main } from './main.ts';

// `vitalseal … | head`: a reader that closes the pipe early ends the command quietly (no EPIPE trace)
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
});

process.exitCode = await main(process.argv);
