/**
 * Runs the selected cases in order. Each case gets its own AbortSignal and time limit: a case that
 * hangs is aborted and fails ("timed out"), a case that throws fails with the error's code and
 * message; then the gateway is reset (acks on, withheld acks released, the current ticket handed
 * out) and the next case runs. Nothing a case or a device does ends the run early.
 */
import type { CaseOutcome, ConformCase, Evidence } from './case.ts';
import { CaseFailure, type ConformContext } from './context.ts';

export interface CaseResult {
  readonly id: string;
  readonly title: string;
  readonly section: string;
  readonly group: string;
  readonly verdict: CaseOutcome['verdict'];
  readonly evidence?: Evidence;
  /** Why the case is not applicable. */
  readonly reason?: string;
  readonly durationMs: number;
}

export interface RunCasesOptions {
  /** Time limit of a case without its own (default 120 s). */
  readonly caseTimeoutMs?: number;
  /** Called after each case (progress on a terminal). */
  readonly onResult?: (r: CaseResult, index: number, total: number) => void;
  /** Called before each case. */
  readonly onStart?: (c: ConformCase, index: number, total: number) => void;
  readonly now?: () => number;
}

/** The code and message of anything thrown (no stack: evidence is for a report). */
function describeThrown(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return `${e.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${e.message}`.slice(0, 500);
  }
  return String(e).slice(0, 500);
}

async function runOne(c: ConformCase, ctx: ConformContext, timeoutMs: number): Promise<CaseOutcome> {
  const controller = new AbortController();
  ctx.signal = controller.signal;
  const mark = ctx.observations.mark;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<CaseOutcome>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({
        verdict: 'fail',
        evidence: {
          expected: `the case completes within ${timeoutMs} ms`,
          received: `timed out; the device sent meanwhile: ${ctx.silenceSummary(mark)}`,
        },
      });
    }, timeoutMs);
  });
  const work = (async (): Promise<CaseOutcome> => {
    const reason = await c.applies?.(ctx);
    if (reason !== undefined) return { verdict: 'n/a', reason };
    return c.run(ctx);
  })().catch(
    (e: unknown): CaseOutcome =>
      e instanceof CaseFailure
        ? { verdict: 'fail', evidence: e.evidence }
        : { verdict: 'fail', evidence: { expected: 'the case runs to a verdict', received: `the case ended with ${describeThrown(e)}` } },
  );
  try {
    return await Promise.race([work, timedOut]);
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

/** Runs `cases` in order against `ctx`; never throws. */
export async function runCases(cases: readonly ConformCase[], ctx: ConformContext, o: RunCasesOptions = {}): Promise<CaseResult[]> {
  const now = o.now ?? (() => Date.now());
  const results: CaseResult[] = [];
  for (const [i, c] of cases.entries()) {
    o.onStart?.(c, i, cases.length);
    const started = now();
    const outcome = await runOne(c, ctx, c.timeoutMs ?? o.caseTimeoutMs ?? 120_000);
    try {
      // bounded: a device that does not read its line must not hold the run
      await Promise.race([ctx.resetGateway(), new Promise((r) => setTimeout(r, 5000).unref())]);
    } catch {
      /* the link is down: the next case will find out */
    }
    const r: CaseResult = {
      id: c.id,
      title: c.title,
      section: c.section,
      group: c.group,
      verdict: outcome.verdict,
      ...(outcome.verdict === 'n/a' ? { reason: outcome.reason } : outcome.evidence ? { evidence: outcome.evidence } : {}),
      durationMs: Math.max(0, Math.round(now() - started)),
    };
    results.push(r);
    o.onResult?.(r, i, cases.length);
  }
  return results;
}
