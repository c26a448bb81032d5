import { isVitalsealError } from '../protocol/errors.ts';

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

const VERIFICATION_CODES = new Set([
  'HPKE_OPEN_FAILED',
  'ENVELOPE_DECRYPT_FAILED',
  'COSE_DECRYPT_FAILED',
  'COSE_BAD_SIGNATURE',
  'TICKET_BAD_SIGNATURE',
  'PROOF_MISMATCH',
]);

export function exitCodeOf(e: unknown): number {
  const code = (e as { code?: unknown }).code;
  if (isVitalsealError(e)) return VERIFICATION_CODES.has(e.code) ? EXIT.VERIFICATION_FAILED : EXIT.INVALID_INPUT;
  if (code === 'CONFIG_INVALID' || code === 'CONFIG_FILE_UNREADABLE' || code === 'USAGE') return EXIT.USAGE;
  if (code === 'ECONNREFUSED' || code === 'CHAIN_UNAVAILABLE') return EXIT.UNAVAILABLE;
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code)) return EXIT.INVALID_INPUT;
  return EXIT.FAILURE;
}

/** Prints an error as JSON (--json) or one readable line; never a stack trace or secret for typed errors. */
export function printError(e: unknown, json: boolean): void {
  const code = (e as { code?: unknown }).code;
  const message = e instanceof Error ? e.message : String(e);
  if (json) process.stdout.write(JSON.stringify({ ok: false, error: { code: typeof code === 'string' ? code : 'INTERNAL', message } }) + '\n');
  else process.stderr.write(`error${typeof code === 'string' ? ` [${code}]` : ''}: ${message}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n');
}

export class UsageError extends Error {
  readonly code = 'USAGE';
}
