/**
 * Reading docs/PROTOCOL.md for the spec tests: its CDDL schema, its example regions, and JSON
 * values in the protocol/cbor data model (so one validator serves the JSON formats too).
 */
import { readFileSync } from 'node:fs';
import { fromHex } from '../../protocol/bytes.ts';
import type { CborValue } from '../../protocol/cbor/index.ts';
import { CddlSchema } from './cddl.ts';
import { CDDL_FILE, cddlOfDocument, EXAMPLE_REGION, PROTOCOL_MD } from './protocolExamples.ts';

export function readProtocolDoc(): string {
  return readFileSync(PROTOCOL_MD, 'utf8');
}

export function readCddlFile(): string {
  return readFileSync(CDDL_FILE, 'utf8');
}

let schema: CddlSchema | undefined;

/** The schema of docs/vitalseal.cddl (parsed once per test file). */
export function protocolSchema(): CddlSchema {
  return (schema ??= CddlSchema.parse(readCddlFile()));
}

export function schemaOfDocument(doc: string): CddlSchema {
  return CddlSchema.parse(cddlOfDocument(doc));
}

export interface DocExample {
  readonly id: string;
  readonly rule: string;
  /** The cbor-diag block (CBOR examples). */
  readonly diag?: string;
  /** The hex block (CBOR examples). */
  readonly bytes?: Uint8Array;
  /** The frame block: the bytes on a serial line. */
  readonly wire?: Uint8Array;
  /** The json block (JSON examples). */
  readonly json?: string;
}

function block(region: string, info: string): string | undefined {
  const m = new RegExp(`\`\`\`${info}\\n([\\s\\S]*?)\`\`\``).exec(region);
  return m?.[1];
}

const hexOf = (text: string): Uint8Array => fromHex(text.replace(/\s+/g, ''));

/** Every example region of the document, with its blocks. */
export function examplesOfDocument(doc: string): DocExample[] {
  return [...doc.matchAll(EXAMPLE_REGION)].map((m) => {
    const [, id, region] = m as unknown as [string, string, string];
    const rule = /CDDL rule `([a-z0-9-]+)`/.exec(region)?.[1];
    if (rule === undefined) throw new Error(`example ${id} names no CDDL rule`);
    const diag = block(region, 'cbor-diag');
    const hex = block(region, 'hex');
    const wire = block(region, 'frame');
    const json = block(region, 'json');
    return {
      id,
      rule,
      ...(diag !== undefined ? { diag } : {}),
      ...(hex !== undefined ? { bytes: hexOf(hex) } : {}),
      ...(wire !== undefined ? { wire: hexOf(wire) } : {}),
      ...(json !== undefined ? { json } : {}),
    };
  });
}

/** A parsed JSON value in the CBOR data model: objects become Maps with text keys. */
export function jsonToCbor(v: unknown): CborValue {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map(jsonToCbor);
  if (typeof v === 'object') return new Map(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, jsonToCbor(x)]));
  throw new Error(`not a JSON value: ${typeof v}`);
}

/** Section numbers and titles of the document's headings ("2.5" → "Device ids, sensor types and units"). */
export function headingsOfDocument(doc: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of doc.matchAll(/^#{2,4} (?:(\d+(?:\.\d+)*)\.? |Appendix ([A-Z])\. )(.+)$/gm)) {
    out.set(m[1] ?? m[2]!, m[3]!.trim());
  }
  return out;
}
