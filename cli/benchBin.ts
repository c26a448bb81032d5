/**
 * Process entry of `npm run bench [-- --quick] [-- suite…]`: the same command as `vitalseal bench`
 * (cli/commands/bench.ts, which reaches the benchmarks through bench/index.ts). See bench/README.md.
 */
import { Command, CommanderError } from 'commander';
import { configureBenchCommand } from './commands/bench.ts';
import { EXIT, exitCodeOf, printError } from './output.ts';

const program = configureBenchCommand(new Command('npm run bench --')).exitOverride();
let code: number = EXIT.OK;
program.hook('postAction', (_this, action) => {
  const c = (action as Command & { exitCodeValue?: number }).exitCodeValue;
  if (typeof c === 'number') code = c;
});
try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) code = e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  else {
    printError(e, process.argv.includes('--json'));
    code = exitCodeOf(e);
  }
}
// every suite stops what it started; exit explicitly so a stray handle in a dependency cannot hold the run
process.exit(code);
