/** The report writers: JSON schema version and SHA-256, self-contained HTML that escapes what the device sent, markdown. */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  sha256Hex,
  reportHtml,
  reportMarkdown,
  REPORT_SCHEMA_VERSION,
  KIT_VERSION,
  summaryLine,
  writeReport,
  type ConformReport,
} from '../../conform/index.ts';
import { summarize } from '../../conform/report/json.ts';
import type { CaseResult } from '../../conform/runner.ts';
import { tempDir } from '../support/services.ts';

const EVIL = '<script>alert("x")</script>|`*_[]';

function report(cases: CaseResult[], firmware: string | null = EVIL): ConformReport {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    kit: { name: 'vitalseal conform', version: KIT_VERSION },
    spec: 'vitalseal protocol v1',
    device: { id: 'dut-1', firmware, transport: 'serial', link: '/dev/pts/9' },
    authorityPublicKey: 'ab'.repeat(32),
    startedAt: '2026-12-02T09:00:00.000Z',
    finishedAt: '2026-12-02T09:01:00.000Z',
    durationMs: 60_000,
    summary: summarize(cases),
    cases,
    observed: { readings: 10, statuses: 2, badFrames: 0, droppedEvents: 0 },
  };
}

const PASS: CaseResult = { id: 'ENV-01', title: 'decodes', section: '§5.6', group: 'envelope', verdict: 'pass', durationMs: 3 };
const FAIL: CaseResult = {
  id: 'RTX-01',
  title: 'resends',
  section: '§8.7',
  group: 'retransmission',
  verdict: 'fail',
  evidence: { expected: 'a resend', received: `device said ${EVIL}`, details: ['hex 00ff'] },
  durationMs: 5000,
};
const NA: CaseResult = {
  id: 'MQ-01',
  title: 'connect',
  section: '§9.2',
  group: 'mqtt',
  verdict: 'n/a',
  reason: 'MQTT only',
  durationMs: 0,
};

describe('conformance report', () => {
  const dir = tempDir('vitalseal-conform-report-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('summary: pass only when every applicable case passed (and at least one did)', () => {
    expect(summarize([PASS, NA]).verdict).toBe('pass');
    expect(summarize([PASS, FAIL, NA]).verdict).toBe('fail');
    expect(summarize([NA]).verdict).toBe('fail');
    expect(summaryLine(report([PASS, FAIL, NA]))).toBe('FAIL — 1 passed, 1 failed, 1 not applicable (3 cases)');
  });

  it('writes JSON with the schema version and a SHA-256 file that matches its bytes', () => {
    const w = writeReport(report([PASS, FAIL, NA]), dir);
    const json = readFileSync(w.json, 'utf8');
    const parsed = JSON.parse(json) as ConformReport;
    expect(parsed.schemaVersion).toBe(1);
    expect(parsed.cases.map((c) => c.verdict)).toEqual(['pass', 'fail', 'n/a']);
    expect(readFileSync(`${w.json}.sha256`, 'utf8')).toBe(`${sha256Hex(json)}  report.json\n`);
    expect(w.sha256).toBe(sha256Hex(json));
    expect(readFileSync(w.html, 'utf8')).toContain(w.sha256);
    expect(readFileSync(w.markdown, 'utf8')).toContain(w.sha256);
    // a byte changed in the JSON no longer matches
    expect(sha256Hex(json.replace('"fail"', '"pass"'))).not.toBe(w.sha256);
  });

  it('the HTML page is self-contained and escapes everything the device controls', () => {
    const html = reportHtml(report([PASS, FAIL, NA]), 'cd'.repeat(32));
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).not.toMatch(/<link|<img|src=|href=|@import|url\(/i);
    expect(html).toContain('<style>');
    expect(html).toContain('RTX-01');
    expect(html).toContain('not applicable: MQTT only');
    expect(reportHtml(report([PASS], null), 'x')).toContain('(not reported)');
  });

  it('the markdown keeps one table row per case whatever the device sent', () => {
    const md = reportMarkdown(report([PASS, FAIL, NA]), 'ef'.repeat(32));
    const rows = md.split('\n').filter((l) => /^\| (ENV|RTX|MQ)-/.test(l));
    expect(rows).toHaveLength(3);
    for (const r of rows) expect(r.replace(/\\\|/g, '').split('|')).toHaveLength(7);
    expect(md).not.toContain('<script>');
  });

  it('the kit version is the package version', () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };
    expect(KIT_VERSION).toBe(pkg.version);
  });
});
