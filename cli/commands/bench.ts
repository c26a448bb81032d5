/**
 * `vitalseal bench [suite…]`: the benchmark suite (bench/). Progress bar on stderr, the
 * markdown table on stdout (or the JSON with --json), one JSON + markdown (+ SVG) file per
 * run under bench/results/. `npm run bench` (cli/benchBin.ts) is the same command.
 */
import { type Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { loadBench, SUITE_HELP, SUITE_NAMES, type BenchResult, type SuiteName } from '../../bench/index.ts';
import { EXIT, printJson, UsageError } from '../output.ts';
import { action, setExit } from '../action.ts';

interface BenchFlags {
  quick?: boolean;
  json?: boolean;
  outDir?: string;
  save: boolean;
  list?: boolean;
}

const SUITES_HELP = `
Suites (default: all, in this order):
${SUITE_NAMES.map((s) => `  ${s.padEnd(8)} ${SUITE_HELP[s]}`).join('\n')}

Every result is the median over several samples with its min–max; a figure whose spread
exceeds what its kind of measurement allows is marked ⚠ (listed under "flagged" in the JSON).
Correctness prechecks run before anything is timed (peers decrypt with vitalseal and back).

Exit code: 0 when every precheck passed and every suite ran (targets missed or not: see the
table); 4 when a correctness precheck failed; 1 when a suite failed to run.`;

/** Runs the suite with a progress bar on stderr; prints the report; returns the exit code. */
export async function runBenchCommand(suites: readonly string[], flags: BenchFlags, command: string): Promise<number> {
  if (flags.list) {
    for (const s of SUITE_NAMES) process.stdout.write(`${s.padEnd(8)} ${SUITE_HELP[s]}\n`);
    return EXIT.OK;
  }
  const unknown = suites.filter((s) => !(SUITE_NAMES as readonly string[]).includes(s));
  if (unknown.length) throw new UsageError(`unknown suite: ${unknown.join(', ')} (one of ${SUITE_NAMES.join(', ')})`);
  // the benches (and their dependencies) load only when the command runs
  const { runBench, formatReport } = await loadBench();
  const tty = process.stderr.isTTY === true;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: 'bench [{bar}] {percentage}% | {duration_formatted} | {step}',
          barsize: 30,
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(1000, 0, { step: 'starting' });
  let result: BenchResult;
  try {
    result = await runBench({
      quick: flags.quick === true,
      suites: suites as SuiteName[],
      outDir: flags.save ? (flags.outDir ?? undefined) : null,
      command,
      onProgress: (message, fraction) => {
        if (bar) bar.update(Math.round(fraction * 1000), { step: message.length > 90 ? `${message.slice(0, 89)}…` : message });
        else process.stderr.write(`[bench ${Math.round(fraction * 100)}%] ${message}\n`);
      },
    });
  } finally {
    bar?.stop();
  }
  if (flags.json) printJson(result);
  else {
    process.stdout.write(`${formatReport(result)}\n`);
    if (result.files.json) process.stdout.write(`\nresults: ${result.files.json}${result.files.svg ? `, ${result.files.svg}` : ''}\n`);
  }
  if (!result.prechecksPassed) return EXIT.VERIFICATION_FAILED;
  if (!result.ok) return EXIT.FAILURE;
  return EXIT.OK;
}

/** Arguments, options and action of the bench command (shared by the CLI and cli/benchBin.ts). */
export function configureBenchCommand(cmd: Command): Command {
  return cmd
    .description('benchmark suite: per-reading crypto cost vs peers and limits, microcontroller estimate, pipeline, scaling')
    .argument('[suite...]', `suites to run: ${SUITE_NAMES.join(', ')} (default: all)`)
    .option('--quick', 'short run (≤ 3 min here): fewer rounds, smaller counts, 100 → 1,000 devices, log to 10^5')
    .option('--json', 'print the result as JSON instead of the markdown table')
    .option('--out-dir <dir>', 'where to write <timestamp>.json/.md/.svg (default bench/results)')
    .addOption(new Option('--no-save', 'write no result files'))
    .option('--list', 'list the suites and exit')
    .addHelpText('after', SUITES_HELP)
    .action(
      action(async (suites: string[], flags: BenchFlags, self: Command) => {
        const code = await runBenchCommand(
          suites,
          flags,
          `vitalseal bench${process.argv.slice(3).length ? ` ${process.argv.slice(3).join(' ')}` : ''}`,
        );
        setExit(self, code);
      }),
    );
}

export function registerBenchCommands(program: Command): void {
  configureBenchCommand(program.command('bench'));
}
