/**
 * The one entry of bench/ for the layer above it (the CLI's `bench` command, cli/commands/bench.ts):
 * the suite names (light: --help and --list load nothing else) and a loader of the runner and
 * the report, so the benches and their dependencies load only when a run starts.
 */
export { SUITE_HELP, SUITE_NAMES, type SuiteName } from './suiteNames.ts';
export type { BenchResult, RunBenchOptions } from './result.ts';

/** The runner (bench/suite.ts) and the markdown report (bench/report.ts), loaded on demand. */
export async function loadBench(): Promise<{
  runBench: typeof import('./suite.ts').runBench;
  formatReport: typeof import('./report.ts').formatReport;
}> {
  const [{ runBench }, { formatReport }] = await Promise.all([import('./suite.ts'), import('./report.ts')]);
  return { runBench, formatReport };
}
