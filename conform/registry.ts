/** Every conformance case, in the order the runner takes them (docs: conform/README.md, generated from this list). */
import { CASE_GROUPS, type ConformCase } from './case.ts';
import { AUTH_CASES } from './cases/auth.ts';
import { ENVELOPE_CASES } from './cases/envelope.ts';
import { FRAMING_CASES } from './cases/framing.ts';
import { MQTT_CASES } from './cases/mqtt.ts';
import { OUTBOX_CASES } from './cases/outbox.ts';
import { PLAINTEXT_CASES } from './cases/plaintext.ts';
import { RETRANSMISSION_CASES } from './cases/retransmission.ts';
import { ROTATION_CASES } from './cases/rotation.ts';
import { SEQUENCE_CASES } from './cases/sequence.ts';
import { SESSION_CASES } from './cases/session.ts';
import { STATUS_CASES } from './cases/status.ts';
import { TICKET_CASES } from './cases/tickets.ts';
import { TLS_CASES } from './cases/tls.ts';
import { WHOLE_RUN_CASES } from './cases/wholeRun.ts';
import { ConformError } from './errors.ts';

const DEFINED: readonly ConformCase[] = [
  ...STATUS_CASES,
  ...ENVELOPE_CASES,
  ...PLAINTEXT_CASES,
  ...SEQUENCE_CASES,
  ...MQTT_CASES,
  ...TLS_CASES,
  ...RETRANSMISSION_CASES,
  ...FRAMING_CASES,
  ...TICKET_CASES,
  ...SESSION_CASES,
  ...AUTH_CASES,
  ...OUTBOX_CASES,
  ...ROTATION_CASES,
  ...WHOLE_RUN_CASES,
];

/** All cases, ordered by group (CASE_GROUPS), then as defined. */
export const ALL_CASES: readonly ConformCase[] = CASE_GROUPS.flatMap((g) => DEFINED.filter((c) => c.group === g));

/** The cases named by `--cases` (comma-separated ids, or "all"), in the registry's order. */
export function selectCases(spec: string | readonly string[] = 'all'): ConformCase[] {
  const ids = (typeof spec === 'string' ? spec.split(',') : [...spec]).map((s) => s.trim()).filter(Boolean);
  if (ids.length === 0 || ids.includes('all')) return [...ALL_CASES];
  const known = new Set(ALL_CASES.map((c) => c.id));
  const unknown = ids.filter((id) => !known.has(id.toUpperCase()));
  if (unknown.length > 0) throw new ConformError('CONFORM_CASE_UNKNOWN', `unknown case id: ${unknown.join(', ')}`);
  const want = new Set(ids.map((id) => id.toUpperCase()));
  return ALL_CASES.filter((c) => want.has(c.id));
}

/** The markdown table of every case (conform/README.md holds it; a test keeps it current). */
export function caseTableMarkdown(): string {
  const rows = ALL_CASES.map((c) => `| ${c.id} | ${c.title.replaceAll('|', '\\|')} | ${c.section} | ${c.group} |`);
  return ['| id | checks | spec | group |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
