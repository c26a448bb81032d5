/** The report as markdown (for a submission's text, a PR, a ticket). Device-controlled text is escaped for tables. */
import { summaryLine, type ConformReport } from './json.ts';

/** One table cell: no line breaks, pipes and backticks escaped, HTML-significant characters neutralised. */
export function mdCell(s: string): string {
  return s
    .replace(/[\r\n]+/g, ' ')
    .replace(/[\\|`*_[\]<>]/g, (c) => `\\${c}`)
    .slice(0, 2000);
}

export function reportMarkdown(r: ConformReport, jsonSha256: string): string {
  const lines = [
    `# vitalseal conformance report: ${mdCell(r.device.id)}`,
    '',
    `**${summaryLine(r)}**`,
    '',
    '| | |',
    '| --- | --- |',
    `| device | ${mdCell(r.device.id)} |`,
    `| firmware | ${mdCell(r.device.firmware ?? '(not reported)')} |`,
    `| link | ${mdCell(`${r.device.transport} ${r.device.link}`)} |`,
    `| kit | ${mdCell(`${r.kit.name} ${r.kit.version}`)} |`,
    `| specification | ${mdCell(r.spec)} |`,
    `| date | ${mdCell(r.startedAt)} (${Math.round(r.durationMs / 1000)} s) |`,
    `| test authority key | ${mdCell(r.authorityPublicKey)} |`,
    `| SHA-256 of the JSON report | ${jsonSha256} |`,
    '',
    '| case | checks | spec | verdict | evidence |',
    '| --- | --- | --- | --- | --- |',
    ...r.cases.map((c) => {
      const ev =
        c.verdict === 'n/a'
          ? `not applicable: ${c.reason ?? ''}`
          : c.evidence
            ? [`expected: ${c.evidence.expected}`, `received: ${c.evidence.received}`, ...(c.evidence.details ?? [])].join(' — ')
            : '';
      return `| ${c.id} | ${mdCell(c.title)} | ${c.section} | ${c.verdict === 'n/a' ? 'N/A' : c.verdict.toUpperCase()} | ${mdCell(ev)} |`;
    }),
    '',
  ];
  return lines.join('\n');
}
