import { defineErrors } from '../../protocol/errors.ts';

/** Codes of the ward scenario (`vitalseal demo`, the e2e test and the pipeline benchmark run it). */
export const SCENARIO_ERRORS = defineErrors('scenario', {
  DEMO_INTERRUPTED: { message: 'interrupted', exit: 'invalid-input' },
  DEMO_FAILED: { message: 'demo verification failed', exit: 'invalid-input' },
  DEMO_NO_TICKET: { message: 'a device got no session ticket in time', exit: 'failure' },
});

export class ScenarioError extends SCENARIO_ERRORS.Error {
  override readonly name = 'ScenarioError';
}
