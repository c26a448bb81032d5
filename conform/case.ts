/**
 * One conformance case (docs/PROTOCOL.md, issue #18): an id (`ENV-01`), a title, the section of the
 * spec it checks, and a `run` that judges the device under test through the kit's context. A case
 * returns a verdict with its evidence; it may also throw or hang: the runner turns either into a fail.
 */
import type { ConformContext } from './context.ts';
import type { Evidence } from './evidence.ts';

export type { Evidence };

export type CaseOutcome =
  | { readonly verdict: 'pass'; readonly evidence?: Evidence }
  | { readonly verdict: 'fail'; readonly evidence: Evidence }
  | { readonly verdict: 'n/a'; readonly reason: string };

export type Verdict = CaseOutcome['verdict'];

/** Groups, in the order the runner takes them (passive observation first, disruptive cases last). */
export const CASE_GROUPS = [
  'status',
  'envelope',
  'plaintext',
  'sequence',
  'mqtt',
  'tls',
  'retransmission',
  'framing',
  'tickets',
  'session',
  'auth',
  'outbox',
  'reboot',
  'rotation',
  'whole-run',
] as const;
export type CaseGroup = (typeof CASE_GROUPS)[number];

export interface ConformCase {
  /** Stable id, `GRP-nn`. */
  readonly id: string;
  readonly title: string;
  /** Section of docs/PROTOCOL.md, e.g. '§5.2'. */
  readonly section: string;
  readonly group: CaseGroup;
  /** Why the case does not apply to this device or run (undefined: it applies). Called just before `run`. */
  applies?(ctx: ConformContext): string | undefined | Promise<string | undefined>;
  run(ctx: ConformContext): Promise<CaseOutcome>;
  /** Per-case time limit (default: the runner's). */
  readonly timeoutMs?: number;
}

export const pass = (evidence?: Evidence): CaseOutcome => (evidence ? { verdict: 'pass', evidence } : { verdict: 'pass' });
export const fail = (expected: string, received: string, details?: readonly string[]): CaseOutcome => ({
  verdict: 'fail',
  evidence: details && details.length > 0 ? { expected, received, details } : { expected, received },
});
export const notApplicable = (reason: string): CaseOutcome => ({ verdict: 'n/a', reason });
