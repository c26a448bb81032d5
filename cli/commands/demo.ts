/**
 * `vitalseal demo` (what `npm start` runs): the ward scenario (scenarios/ward/) with a live console,
 * a summary and a clean stop on Ctrl-C.
 */
import type { Command } from 'commander';
import { printJson } from '../output.ts';
import { compareWithSent, EXPECTED_REFUSALS, runWardFlow } from '../../scenarios/ward/index.ts';
import { ScenarioError } from '../../scenarios/ward/errors.ts';
import { action } from '../action.ts';

interface DemoOptions {
  dataDir: string;
  reset?: boolean;
  readings: string;
  json?: boolean;
}

/** `npm start`: the ward demo on embedded defaults, a live console and a summary; Ctrl-C stops cleanly. */
async function runDemo(o: DemoOptions, cmd: Command): Promise<void> {
  const say = (s: string): void => {
    if (!o.json) process.stdout.write(`${s}\n`);
  };
  const abort = new AbortController();
  const onSigint = (): void => {
    if (abort.signal.aborted) process.exit(130);
    say('\ninterrupted: stopping the agent and the chain (Ctrl-C again to force)');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    say(`vitalseal ward demo (embedded chain, agent, broker, SQLite; data in ${o.dataDir})\n`);
    const r = await runWardFlow({
      dataDir: o.dataDir,
      ...(o.reset ? { reset: true } : {}),
      readingsPerDevice: Number(o.readings),
      say,
      signal: abort.signal,
    });
    const cmp = compareWithSent(r.sent, r.clinicianRead);
    const verified = r.clinicianRead.filter((x) => x.check.status === 'verified').length;
    const summary = {
      seconds: Math.round(r.seconds * 100) / 100,
      readingsSent: r.sent.length,
      clinicianDecryptedExact: cmp.matched,
      proofsVerifiedOnChain: verified,
      anchors: r.anchors.length,
      refusals: r.refusals,
      breakGlass: { drill: r.breakGlass.drill, block: r.breakGlass.blockNumber, patientSawIt: r.breakGlass.patientSaw !== undefined },
      disclosure: {
        proof: r.disclosure.opened.check.status,
        otherReadingsOpened: r.disclosure.otherReadingsOpened,
        otherReadingsTried: r.disclosure.otherReadingsTried,
      },
      logSize: r.logSize,
      logAudit: r.logAudit,
    };
    const ok =
      cmp.matched === r.sent.length &&
      verified === r.clinicianRead.length &&
      JSON.stringify(r.refusals) === JSON.stringify(EXPECTED_REFUSALS) &&
      r.accessLog.every((e) => e.status === 'verified') &&
      r.breakGlass.patientSaw !== undefined &&
      r.disclosure.opened.check.status === 'verified' &&
      r.disclosure.otherReadingsOpened === 0 &&
      r.logAudit;
    say(
      `\nsummary  ${r.sent.length} readings from ${new Set(r.sent.map((s) => s.device)).size} devices; clinician decrypted ${cmp.matched} exactly, ${verified} proofs verified against ${r.anchors.length} on-chain anchors`,
    );
    say(
      `         refused: ${Object.entries(r.refusals)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    say(
      `         break-glass drill seen by the patient: ${summary.breakGlass.patientSawIt}; disclosure opened 1 reading (${summary.disclosure.proof}), 0/${r.disclosure.otherReadingsTried} others: ${r.disclosure.otherReadingsOpened === 0}`,
    );
    say(
      `         log size ${r.logSize}, audit ${r.logAudit ? 'OK' : 'FAILED'}; ${summary.seconds} s  →  ${ok ? 'ALL CHECKS PASSED' : 'CHECKS FAILED'}`,
    );
    if (o.json) printJson({ ok, ...summary });
    if (!ok) throw new ScenarioError('DEMO_FAILED');
  } catch (e) {
    if (!(e instanceof ScenarioError && e.code === 'DEMO_INTERRUPTED')) throw e;
    say('stopped cleanly (agent, broker and chain closed; rerun to continue with the same data dir, --reset to start over)');
    (cmd as Command & { exitCodeValue?: number }).exitCodeValue = 130;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'the ward demo on embedded defaults (what `npm start` runs): chain, agent, wallets, consent, break-glass drill, research disclosure',
    )
    .option('-d, --data-dir <dir>', 'data directory (reused across runs)', '.vitalseal/demo')
    .option('--reset', 'start from an empty data directory')
    .option('--readings <n>', 'readings per device', '12')
    .option('--json', 'print the summary as JSON')
    .action(action((o: DemoOptions, cmd: Command) => runDemo(o, cmd)));
}
