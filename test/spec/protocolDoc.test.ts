import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../protocol/bytes.ts';
import { decodeStrict, encodeCanonical, type CborValue } from '../../protocol/cbor/index.ts';
import { decodeFrame, frameTypeName, FRAME_TYPE } from '../../protocol/framing/index.ts';
import { normalizeDiag, printDiag } from './diag.ts';
import { cddlOfDocument, protocolExamplesSigned, renderDocument } from './protocolExamples.ts';
import {
  examplesOfDocument,
  headingsOfDocument,
  jsonToCbor,
  protocolSchema,
  readCddlFile,
  readProtocolDoc,
  schemaOfDocument,
} from './specDoc.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const doc = readProtocolDoc();
const examples = examplesOfDocument(doc);

/** The body rule of each frame type (docs/PROTOCOL.md §8.4). */
const FRAME_BODY_RULE: Record<string, string> = {
  ticket: 'session-ticket',
  reading: 'reading-envelope',
  ack: 'ack-body',
  status: 'serial-status-body',
  error: 'error-body',
};

/** Every byte string that `.cbor` embeds is itself deterministic CBOR (docs/PROTOCOL.md §2.3). */
function expectDeterministic(bytes: Uint8Array, value: CborValue, embedded: readonly string[], id: string): void {
  expect(bytesEqual(encodeCanonical(value), bytes), `${id}: the example is not deterministic CBOR`).toBe(true);
  for (const path of embedded) {
    const inner = embeddedBytes(value, path);
    const decoded = decodeStrict(inner, { allowedTags: [16, 18], maxBytes: 1 << 16, maxStringBytes: 1 << 16 });
    expect(bytesEqual(encodeCanonical(decoded), inner), `${id}: embedded CBOR at ${path} is not deterministic`).toBe(true);
  }
}

/** The byte string at a cddl.ts path (only the steps the examples use: tags, items, map values, embedded). */
function embeddedBytes(root: CborValue, path: string): Uint8Array {
  let v: unknown = root;
  for (const step of path.match(/#\d+|\[\d+\]|\{[^}]*\}|<<>>/g) ?? []) {
    if (step.startsWith('#')) v = (v as { value: unknown }).value;
    else if (step.startsWith('[')) v = (v as unknown[])[Number(step.slice(1, -1))];
    else if (step === '<<>>') v = decodeStrict(v as Uint8Array, { allowedTags: [16, 18], maxBytes: 1 << 16, maxStringBytes: 1 << 16 });
    else {
      const key = step.slice(1, -1);
      v = (v as Map<unknown, unknown>).get(key.startsWith('"') ? JSON.parse(key) : Number(key));
    }
  }
  return v as Uint8Array;
}

describe('docs/PROTOCOL.md', () => {
  it('its CDDL blocks are docs/vitalseal.cddl, and the CDDL parses (every rule defined)', () => {
    expect(readCddlFile()).toBe(cddlOfDocument(doc));
    const schema = protocolSchema();
    expect(schema.rules.size).toBeGreaterThan(40);
  });

  it('has examples: CBOR ones with diagnostic notation and hex, JSON ones as JSON, frames with their wire bytes', () => {
    expect(examples.length).toBeGreaterThanOrEqual(30);
    for (const ex of examples) {
      if (ex.json !== undefined) continue;
      expect(ex.diag, ex.id).toBeDefined();
      expect(ex.bytes, ex.id).toBeDefined();
    }
    expect(examples.filter((e) => e.wire !== undefined).map((e) => e.id)).toEqual([
      'frame-ack',
      'frame-error',
      'frame-status',
      'frame-reading',
    ]);
  });

  it.each(examples.filter((e) => e.bytes !== undefined).map((e) => [e.id, e] as const))(
    'CBOR example %s: hex decodes strictly, matches its rule and its diagnostic notation, is deterministic',
    (_id, ex) => {
      const bytes = ex.bytes!;
      const value = decodeStrict(bytes, { allowedTags: [16, 18], maxBytes: 1 << 16, maxStringBytes: 1 << 16 });
      const result = protocolSchema().validate(value, ex.rule);
      expect(result.ok ? 'ok' : result.error).toBe('ok');
      const embedded = result.ok ? result.embedded : [];
      expect(normalizeDiag(ex.diag!)).toBe(normalizeDiag(printDiag(value, { embedded: new Set(embedded) })));
      expectDeterministic(bytes, value, embedded, ex.id);
    },
  );

  it.each(examples.filter((e) => e.wire !== undefined).map((e) => [e.id, e] as const))(
    'frame example %s: the wire bytes are one frame of the example body',
    (_id, ex) => {
      const wire = ex.wire!;
      expect(wire[wire.length - 1]).toBe(0);
      expect(wire.subarray(0, -1).includes(0)).toBe(false);
      const frame = decodeFrame(wire.subarray(0, -1));
      expect(bytesEqual(frame.body, ex.bytes!)).toBe(true);
      expect(FRAME_BODY_RULE[frameTypeName(frame.type)]).toBe(ex.rule);
      expect(Object.values(FRAME_TYPE)).toContain(frame.type);
    },
  );

  it.each(examples.filter((e) => e.json !== undefined).map((e) => [e.id, e] as const))('JSON example %s matches its rule', (_id, ex) => {
    const result = protocolSchema().validate(jsonToCbor(JSON.parse(ex.json!)), ex.rule);
    expect(result.ok ? 'ok' : result.error).toBe('ok');
  });

  it('every example is still what the project encoders produce from the fixed inputs (regenerated and compared)', async () => {
    expect(renderDocument(doc, await protocolExamplesSigned(), schemaOfDocument(doc))).toBe(doc);
  });

  it('every section that a source comment or the README cites exists (by number "§3.2", "Appendix A" or by title)', () => {
    const headings = headingsOfDocument(doc);
    const titles = [...headings.values()];
    const problems: string[] = [];
    for (const file of [...sourceFiles(), join(REPO, 'README.md')]) {
      const text = readFileSync(file, 'utf8').replace(/\n\s*(?:\*|\/\/)\s*/g, ' '); // comments continued over lines
      // the README cites bare "§7.3" after naming docs/PROTOCOL.md once; source comments name the file each time
      const citations = file.endsWith('README.md')
        ? [['', text] as const]
        : text.matchAll(/PROTOCOL\.md[^§\n"]{0,3}((?:§[0-9A-Z]+(?:\.\d+)*(?:,?\s*(?:and\s*)?)?)+)/g);
      for (const m of citations) {
        for (const n of m[1]!.match(/§([0-9A-Z]+(?:\.\d+)*)/g) ?? [])
          if (!headings.has(n.slice(1))) problems.push(`${relative(REPO, file)}: ${n}`);
      }
      for (const m of text.matchAll(/PROTOCOL\.md,? Appendix ([A-Z])\b/g))
        if (!headings.has(m[1]!)) problems.push(`${relative(REPO, file)}: Appendix ${m[1]}`);
      for (const m of text.matchAll(/PROTOCOL\.md, "([^"]+)"/g)) {
        if (!titles.some((t) => t.startsWith(m[1]!))) problems.push(`${relative(REPO, file)}: "${m[1]}"`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('no source comment cites the design draft any more (the spec is docs/PROTOCOL.md)', () => {
    const draft = ['DESIGN', 'md'].join('.'); // spelled apart so this file does not cite it either
    const citing = sourceFiles().filter((f) => readFileSync(f, 'utf8').includes(draft));
    expect(citing.map((f) => relative(REPO, f))).toEqual([]);
  });
});

/** Every .ts and .mjs file of the repository outside node_modules, dist and dot-directories. */
function sourceFiles(dir = REPO): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules' || entry.name === 'dist') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(?:ts|mjs)$/.test(entry.name)) out.push(path);
  }
  return out;
}
