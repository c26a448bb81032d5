import { CodedError, type ExitClass } from '../protocol/errors.ts';
export { UsageError } from './errors.ts';

/** Exit codes of every vitalseal command (documented in --help). */
export const EXIT = {
  OK: 0,
  /** unexpected failure (a bug, an I/O error) */
  FAILURE: 1,
  /** bad command line or configuration */
  USAGE: 2,
  /** input is malformed (typed error with a stable code) */
  INVALID_INPUT: 3,
  /** cryptographic verification failed: decryption, signature, proof */
  VERIFICATION_FAILED: 4,
  /** a service (broker, chain, agent) could not be reached */
  UNAVAILABLE: 5,
} as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  unexpected failure
  2  bad command line or configuration
  3  invalid input (malformed file, envelope, ticket, proof; a stable error code is printed)
  4  verification failed (decryption, signature or proof does not verify)
  5  a service (agent, broker, chain) could not be reached`;

/** The exit code of each exit class of the error tables (protocol/errors.ts ExitClass). */
export const EXIT_OF_CLASS: Readonly<Record<ExitClass, number>> = {
  usage: EXIT.USAGE,
  'invalid-input': EXIT.INVALID_INPUT,
  verification: EXIT.VERIFICATION_FAILED,
  unavailable: EXIT.UNAVAILABLE,
  failure: EXIT.FAILURE,
};

/** The exit code of an error: its table's exit class; a Node system error's code; else an unexpected failure. */
export function exitCodeOf(e: unknown): number {
  if (e instanceof CodedError) return EXIT_OF_CLASS[e.exitClass];
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'ECONNREFUSED') return EXIT.UNAVAILABLE;
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code)) return EXIT.INVALID_INPUT;
  return EXIT.FAILURE;
}

/** Prints an error as JSON (--json) or one readable line; never a stack trace or secret for typed errors. */
export function printError(e: unknown, json: boolean): void {
  const apiCode = (e as { apiCode?: unknown } | null)?.apiCode; // the agent's code of a refusal relayed by a wallet or the admin client
  const code = typeof apiCode === 'string' ? apiCode : (e as { code?: unknown } | null)?.code;
  const message = e instanceof Error ? e.message : String(e);
  if (json)
    process.stdout.write(`${JSON.stringify({ ok: false, error: { code: typeof code === 'string' ? code : 'INTERNAL', message } })}\n`);
  else process.stderr.write(`error${typeof code === 'string' ? ` [${code}]` : ''}: ${message}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
}
