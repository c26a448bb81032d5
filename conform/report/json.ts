/**
 * The machine-readable conformance report (schema version 1). The JSON is written with a SHA-256
 * of its bytes beside it (`<name>.sha256`, sha256sum format); the HTML and markdown pages quote it.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../../protocol/bytes.ts';
import type { CaseResult } from '../runner.ts';

export const REPORT_SCHEMA_VERSION = 1;
/** The kit's version (the package's; test/conform/report.test.ts keeps them equal). */
export const KIT_VERSION = '0.1.0';
export const SPEC_VERSION = 'vitalseal protocol v1, document 1.0 (docs/PROTOCOL.md)';

export interface ConformReport {
  readonly schemaVersion: typeof REPORT_SCHEMA_VERSION;
  readonly kit: { readonly name: 'vitalseal conform'; readonly version: string };
  readonly spec: string;
  readonly device: {
    readonly id: string;
    /** The firmware string the device reported (optional "fw" of its status), or null. */
    readonly firmware: string | null;
    readonly transport: 'serial' | 'mqtt';
    /** Serial path or MQTT listen address of the kit. */
    readonly link: string;
  };
  readonly authorityPublicKey: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  readonly summary: {
    readonly total: number;
    readonly passed: number;
    readonly failed: number;
    readonly notApplicable: number;
    /** pass: every applicable case passed. */
    readonly verdict: 'pass' | 'fail';
  };
  readonly cases: readonly CaseResult[];
  readonly observed: { readonly readings: number; readonly statuses: number; readonly badFrames: number; readonly droppedEvents: number };
}

export function summarize(cases: readonly CaseResult[]): ConformReport['summary'] {
  const passed = cases.filter((c) => c.verdict === 'pass').length;
  const failed = cases.filter((c) => c.verdict === 'fail').length;
  const notApplicable = cases.filter((c) => c.verdict === 'n/a').length;
  return { total: cases.length, passed, failed, notApplicable, verdict: failed === 0 && passed > 0 ? 'pass' : 'fail' };
}

/** One line: "PASS — 52 passed, 0 failed, 8 not applicable (60 cases)". */
export function summaryLine(r: Pick<ConformReport, 'summary'>): string {
  const s = r.summary;
  return `${s.verdict === 'pass' ? 'PASS' : 'FAIL'} — ${s.passed} passed, ${s.failed} failed, ${s.notApplicable} not applicable (${s.total} cases)`;
}

/** The JSON text of the report (what is hashed and written). */
export function reportJson(r: ConformReport): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

export function sha256Hex(text: string): string {
  return toHex(sha256(new TextEncoder().encode(text)));
}
