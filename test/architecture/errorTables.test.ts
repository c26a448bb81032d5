/**
 * The error tables (issue #17 "one error and exit path"): every code of every layer's table
 * (protocol/errors.ts defineErrors) has an exit class, the codes the agent's HTTP layer can answer
 * with have an HTTP status, codes are unique across tables, and the CLI's exit code and the
 * agent's HTTP status are read from the tables.
 */
import { describe, expect, it } from 'vitest';
import { CodedError, defineErrors, errorTables, PROTOCOL_ERRORS, VitalsealError, type AnyErrorTable } from '../../protocol/errors.ts';
import { AGENT_ERRORS, AgentError } from '../../agent/errors.ts';
import { API_ERRORS, API_TABLE, ApiError } from '../../agent/api/apiError.ts';
import { errorReplyOf } from '../../agent/http/errorReply.ts';
import { CHAIN_ERRORS, ChainError } from '../../chain/errors.ts';
import { WALLET_ERRORS, WalletError } from '../../wallet/errors.ts';
import { SIM_ERRORS, SimError } from '../../device-sim/errors.ts';
import { FUZZ_ERRORS } from '../../fuzz/run.ts';
import { CLI_ERRORS, UsageError } from '../../cli/errors.ts';
import { SCENARIO_ERRORS } from '../../scenarios/ward/errors.ts';
import { CONFORM_ERRORS } from '../../conform/errors.ts';
import { EXIT, exitCodeOf } from '../../cli/output.ts';

const TABLES: AnyErrorTable[] = [
  PROTOCOL_ERRORS,
  AGENT_ERRORS,
  API_TABLE,
  CHAIN_ERRORS,
  WALLET_ERRORS,
  SIM_ERRORS,
  FUZZ_ERRORS,
  CLI_ERRORS,
  SCENARIO_ERRORS,
  CONFORM_ERRORS,
];
/** The tables whose errors the agent's HTTP layer answers with (agent/http/errorReply.ts); the others' errors are a 500 there. */
const HTTP_TABLES: AnyErrorTable[] = [PROTOCOL_ERRORS, AGENT_ERRORS, API_TABLE];
const EXIT_CLASSES = ['usage', 'invalid-input', 'verification', 'unavailable', 'failure'];

describe('error tables', () => {
  it('lists every table built (a new table must be added to this test)', () => {
    expect(new Set(errorTables().map((t) => t.name))).toEqual(new Set(TABLES.map((t) => t.name)));
  });

  it('every code of every table has a short message and an exit class', () => {
    for (const t of TABLES) {
      expect(t.codes.length, t.name).toBeGreaterThan(0);
      for (const code of t.codes) {
        expect(code, t.name).toMatch(/^[A-Z][A-Z0-9_]+$/);
        expect(t.messages[code]!.length, code).toBeGreaterThan(0);
        expect(t.messages[code]!.length, code).toBeLessThanOrEqual(160);
        expect(EXIT_CLASSES, code).toContain(t.exitOf(code));
      }
    }
  });

  it('every code the HTTP layer can answer with has an HTTP status; the other tables have none', () => {
    for (const t of HTTP_TABLES) {
      for (const code of t.codes) {
        const s = t.httpStatusOf(code);
        expect(s, code).toBeTypeOf('number');
        expect(s! >= 400 && s! < 600, code).toBe(true);
      }
    }
    for (const t of TABLES.filter((x) => !HTTP_TABLES.includes(x)))
      for (const code of t.codes) expect(t.httpStatusOf(code), code).toBeUndefined();
  });

  it('codes are unique across tables, and a duplicate is refused when its table is built', () => {
    const all = TABLES.flatMap((t) => t.codes);
    expect(new Set(all).size).toBe(all.length);
    expect(() => defineErrors('duplicate', { TICKET_EXPIRED: { message: 'again', exit: 'usage' } })).toThrow(/TICKET_EXPIRED/);
  });

  it('each table gives its error class: code, default message, exit class, HTTP status', () => {
    const e = new VitalsealError('PROOF_MISMATCH');
    expect(e).toBeInstanceOf(CodedError);
    expect(e.message).toBe(PROTOCOL_ERRORS.messages.PROOF_MISMATCH);
    expect(e.exitClass).toBe('verification');
    expect(e.httpStatus).toBe(400);
    expect(new ApiError('API_RATE_LIMITED').status).toBe(429);
    expect(API_ERRORS.API_RATE_LIMITED).toEqual({ status: 429, message: API_TABLE.messages.API_RATE_LIMITED });
    expect(new AgentError('AGENT_NOT_FOUND').httpStatus).toBe(404);
    expect(new ChainError('CHAIN_UNAVAILABLE').httpStatus).toBeUndefined();
    expect(Object.keys(new AgentError('CONFIG_INVALID'))).not.toContain('exitClass');
  });
});

describe('the CLI exit code and the HTTP status come from the tables', () => {
  it('exitCodeOf maps each exit class (as the CLI tests expect)', () => {
    expect(exitCodeOf(new VitalsealError('ENVELOPE_DECRYPT_FAILED'))).toBe(EXIT.VERIFICATION_FAILED);
    expect(exitCodeOf(new VitalsealError('ENVELOPE_BAD_TAG'))).toBe(EXIT.INVALID_INPUT);
    expect(exitCodeOf(new AgentError('CONFIG_INVALID'))).toBe(EXIT.USAGE);
    expect(exitCodeOf(new UsageError('--x is bad'))).toBe(EXIT.USAGE);
    expect(exitCodeOf(new ChainError('CHAIN_UNAVAILABLE'))).toBe(EXIT.UNAVAILABLE);
    expect(exitCodeOf(new ChainError('CHAIN_DEV_KEY_REFUSED'))).toBe(EXIT.USAGE);
    expect(exitCodeOf(new SimError('SIM_LINK_DOWN'))).toBe(EXIT.UNAVAILABLE);
    expect(exitCodeOf(new WalletError('WALLET_BAD_PASSPHRASE'))).toBe(EXIT.VERIFICATION_FAILED);
    expect(exitCodeOf(new WalletError('WALLET_API_REFUSED', 'x', { apiCode: 'API_CHAIN_UNAVAILABLE', status: 503 }))).toBe(
      EXIT.UNAVAILABLE,
    );
    expect(exitCodeOf(new WalletError('WALLET_API_REFUSED', 'x', { apiCode: 'API_CONSENT_DENIED', status: 403 }))).toBe(EXIT.INVALID_INPUT);
    expect(exitCodeOf(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(EXIT.UNAVAILABLE);
    expect(exitCodeOf(new Error('a bug'))).toBe(EXIT.FAILURE);
  });

  it('errorReplyOf answers a coded error with its table status, and anything else with 500 INTERNAL', () => {
    expect(errorReplyOf(new AgentError('AGENT_SHUTTING_DOWN')).status).toBe(503);
    expect(errorReplyOf(new VitalsealError('INPUT_BAD_HEX')).status).toBe(400);
    expect(errorReplyOf(new ApiError('API_CONSENT_DENIED')).status).toBe(403);
    expect(errorReplyOf(new ChainError('CHAIN_UNAVAILABLE'))).toEqual({ status: 500, code: 'INTERNAL', message: 'internal error' });
    expect(errorReplyOf(new Error('a bug')).status).toBe(500);
  });
});
