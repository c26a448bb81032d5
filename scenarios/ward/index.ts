/** The ward scenario (what `npm start`, test/e2e/ward.test.ts and the pipeline benchmark run): its one entry. */
export { runWardFlow } from './flow.ts';
export { compareWithSent, EXPECTED_REFUSALS } from './checks.ts';
export type { SentReading, WardFlowContext, WardFlowOptions, WardFlowResult } from './types.ts';
