import { defineErrors } from '../protocol/errors.ts';

/** Codes of the command line itself (the layers' own errors carry their layer's codes). */
export const CLI_ERRORS = defineErrors('cli', {
  USAGE: { message: 'bad command line or configuration', exit: 'usage' },
  CLI_AGENT_REFUSED: { message: 'the agent refused the admin request', exit: 'invalid-input' },
});

export type CliErrorCode = (typeof CLI_ERRORS.codes)[number];

/** A bad command line: exit 2. */
export class UsageError extends CLI_ERRORS.Error {
  override readonly name = 'UsageError';
  constructor(message?: string) {
    super('USAGE', message);
  }
}

/** The agent's admin API refused a request; `apiCode` is the agent's stable code (printed instead of this one). */
export class AgentRefusedError extends CLI_ERRORS.Error {
  override readonly name = 'AgentRefusedError';
  constructor(
    readonly apiCode: string,
    message?: string,
  ) {
    super('CLI_AGENT_REFUSED', message);
  }
}
