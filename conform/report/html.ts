/**
 * A self-contained HTML page of the report: inline CSS, no script, no external asset. Everything
 * that came from the device (ids, firmware string, evidence) is HTML-escaped.
 */
import { summaryLine, type ConformReport } from './json.ts';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;color:#1b1f24;padding:0 1rem}
h1{font-size:1.5rem;margin:0 0 .5rem}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:1rem 0;font-size:13px}
.meta dt{color:#57606a}.meta dd{margin:0;font-family:ui-monospace,monospace;word-break:break-all}
.summary{padding:.8rem 1rem;border-radius:6px;font-weight:600;font-size:1.1rem;margin:1rem 0}
.summary.pass{background:#dafbe1;color:#116329}.summary.fail{background:#ffebe9;color:#a40e26}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.v{font-weight:700;white-space:nowrap}.v.pass{color:#116329}.v.fail{color:#a40e26}.v.na{color:#6e7781}
.ev{font-family:ui-monospace,monospace;font-size:12px;white-space:pre-wrap;word-break:break-all;color:#24292f}
.id{font-family:ui-monospace,monospace;white-space:nowrap}
footer{margin-top:1.5rem;font-size:12px;color:#57606a;word-break:break-all}
`;

function evidenceText(c: ConformReport['cases'][number]): string {
  if (c.verdict === 'n/a') return `not applicable: ${c.reason ?? ''}`;
  const e = c.evidence;
  if (!e) return '';
  return [`expected: ${e.expected}`, `received: ${e.received}`, ...(e.details ?? [])].join('\n');
}

export function reportHtml(r: ConformReport, jsonSha256: string): string {
  const e = escapeHtml;
  const rows = r.cases
    .map((c) => {
      const cls = c.verdict === 'n/a' ? 'na' : c.verdict;
      return `<tr><td class="id">${e(c.id)}</td><td>${e(c.title)}</td><td>${e(c.section)}</td><td class="v ${cls}">${e(c.verdict.toUpperCase())}</td><td class="ev">${e(evidenceText(c))}</td></tr>`;
    })
    .join('\n');
  const meta: Array<[string, string]> = [
    ['device', r.device.id],
    ['firmware', r.device.firmware ?? '(not reported)'],
    ['link', `${r.device.transport} ${r.device.link}`],
    ['kit', `${r.kit.name} ${r.kit.version}`],
    ['specification', r.spec],
    ['date', `${r.startedAt} (${Math.round(r.durationMs / 1000)} s)`],
    ['test authority key', r.authorityPublicKey],
    ['observed', `${r.observed.readings} readings, ${r.observed.statuses} statuses, ${r.observed.badFrames} bad frames`],
  ];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vitalseal conformance — ${e(r.device.id)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>vitalseal conformance report</h1>
<dl class="meta">${meta.map(([k, v]) => `<dt>${e(k)}</dt><dd>${e(v)}</dd>`).join('')}</dl>
<div class="summary ${r.summary.verdict}">${e(summaryLine(r))}</div>
<table>
<thead><tr><th>case</th><th>checks</th><th>spec</th><th>verdict</th><th>evidence</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<footer>SHA-256 of the JSON report: ${e(jsonSha256)}</footer>
</body>
</html>
`;
}
