/** Writes the report files into a directory: report.json, report.json.sha256, report.html, report.md. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConformError } from '../errors.ts';
import { reportHtml } from './html.ts';
import { reportJson, sha256Hex, type ConformReport } from './json.ts';
import { reportMarkdown } from './markdown.ts';

export interface WrittenReport {
  readonly dir: string;
  readonly json: string;
  readonly html: string;
  readonly markdown: string;
  readonly sha256: string;
}

export function writeReport(r: ConformReport, dir: string): WrittenReport {
  const json = reportJson(r);
  const sha = sha256Hex(json);
  const files = { json: join(dir, 'report.json'), html: join(dir, 'report.html'), markdown: join(dir, 'report.md') };
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(files.json, json);
    writeFileSync(`${files.json}.sha256`, `${sha}  report.json\n`);
    writeFileSync(files.html, reportHtml(r, sha));
    writeFileSync(files.markdown, reportMarkdown(r, sha));
  } catch (e) {
    throw new ConformError('CONFORM_REPORT_FAILED', `cannot write the report to ${dir}`, { cause: e });
  }
  return { dir, ...files, sha256: sha };
}
