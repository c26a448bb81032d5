/**
 * Every CBOR item of the positive vitalseal vectors (test/vectors/vitalseal/*.json) validates
 * against the CDDL of docs/PROTOCOL.md. The negative vectors are the decoders' business: each must
 * be refused with its exact code, which test/protocol/vectors.test.ts checks; the CDDL does not
 * have to refuse them (many are refused for cryptographic or contextual reasons no schema sees).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../protocol/bytes.ts';
import { decodeStrict } from '../../protocol/cbor/index.ts';
import { decodeFrame, frameTypeName } from '../../protocol/framing/index.ts';
import { jsonToCbor, protocolSchema } from './specDoc.ts';

const DIR = fileURLToPath(new URL('../vectors/vitalseal/', import.meta.url));
const schema = protocolSchema();
const TAGS = { allowedTags: [16, 18], maxBytes: 1 << 16, maxStringBytes: 1 << 16 };

type Json = Record<string, unknown>;
const load = (file: string): { positive: Json[] } => JSON.parse(readFileSync(`${DIR}${file}`, 'utf8')) as { positive: Json[] };

/** What to validate in each positive vector of each file: [field, CDDL rule, 'cbor' hex or 'json' value]. */
const CHECKS: Record<string, ReadonlyArray<readonly [string, string, 'cbor' | 'json']>> = {
  'envelopes.json': [
    ['envelope', 'reading-envelope', 'cbor'],
    ['plaintext', 'reading', 'cbor'],
    ['protected', 'envelope-protected', 'cbor'],
    ['aad', 'enc-structure', 'cbor'],
    ['reading', 'reading', 'json'],
  ],
  'tickets.json': [
    ['ticket', 'session-ticket', 'cbor'],
    ['payload', 'ticket-payload', 'cbor'],
    ['protected', 'eddsa-protected', 'cbor'],
    ['sigStructure', 'sig-structure', 'cbor'],
  ],
  'tree-head.json': [
    ['treeHead', 'signed-tree-head', 'cbor'],
    ['payload', 'tree-head-payload', 'cbor'],
    ['protected', 'eddsa-protected', 'cbor'],
  ],
  'disclosure.json': [
    ['envelope', 'reading-envelope', 'cbor'],
    ['reading', 'reading', 'json'],
  ],
};

/** Frame vectors of the framing layer only: their bodies are not meant as bodies of their type (§8.5 drops them above the framing layer). */
const FRAMING_ONLY = new Set(['zero-bytes-in-body', 'empty-body']);

/** Files without CBOR: key derivation (keys.json) and the HPKE escrow of K (escrow.json) are byte strings, no CDDL. */
const NO_CBOR = new Set(['keys.json', 'escrow.json']);

function expectRule(value: Parameters<typeof schema.validate>[0], rule: string, where: string): void {
  const r = schema.validate(value, rule);
  expect(r.ok ? 'ok' : `${where}: ${r.error}`).toBe('ok');
}

const cborOf = (hex: string) => decodeStrict(fromHex(hex), TAGS);

describe('test/vectors/vitalseal: positive vectors validate against docs/vitalseal.cddl', () => {
  const files = readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();

  it('every vector file is covered here', () => {
    expect(files.length).toBeGreaterThan(0);
    for (const f of files)
      expect(
        f in CHECKS || NO_CBOR.has(f) || f === 'frames.json' || f === 'session.json' || f === 'log.json' || f === 'auth-envelopes.json',
        `${f} has no CDDL check`,
      ).toBe(true);
  });

  it.each(Object.keys(CHECKS).map((f) => [f]))('%s', (file) => {
    const { positive } = load(file);
    expect(positive.length).toBeGreaterThan(0);
    for (const v of positive) {
      for (const [field, rule, kind] of CHECKS[file]!) {
        const x = v[field];
        expect(x, `${file} ${String(v['name'])}.${field}`).toBeDefined();
        expectRule(kind === 'cbor' ? cborOf(x as string) : jsonToCbor(x), rule, `${file} ${String(v['name'])}.${field}`);
      }
    }
  });

  it('session.json: every message of every session', () => {
    let n = 0;
    for (const v of load('session.json').positive) {
      for (const m of v['messages'] as Json[]) {
        for (const [field, rule] of [
          ['envelope', 'reading-envelope'],
          ['plaintext', 'reading'],
          ['protected', 'envelope-protected'],
          ['aad', 'enc-structure'],
        ] as const) {
          expectRule(cborOf(m[field] as string), rule, `session.json ${String(v['name'])} hs=${String(m['hs'])}.${field}`);
        }
        n++;
      }
    }
    expect(n).toBeGreaterThan(1);
  });

  it('auth-envelopes.json: every single-shot envelope and every session message (protected with "m": 2)', () => {
    let n = 0;
    for (const v of load('auth-envelopes.json').positive) {
      for (const m of (v['messages'] as Json[] | undefined) ?? [v]) {
        for (const [field, rule] of [
          ['envelope', 'reading-envelope'],
          ['plaintext', 'reading'],
          ['protected', 'envelope-protected'],
          ['aad', 'enc-structure'],
        ] as const) {
          expectRule(cborOf(m[field] as string), rule, `auth-envelopes.json ${String(v['name'])}.${field}`);
        }
        expect((cborOf(m['protected'] as string) as Map<unknown, unknown>).get('m')).toBe(2);
        n++;
      }
    }
    expect(n).toBe(5);
  });

  it('frames.json: every frame is one frame whose body satisfies its type (framing-only vectors excepted)', () => {
    const rules: Record<string, string> = {
      ticket: 'session-ticket',
      reading: 'reading-envelope',
      ack: 'ack-body',
      status: 'serial-status-body',
      error: 'error-body',
    };
    for (const v of load('frames.json').positive) {
      const wire = fromHex(v['wire'] as string);
      const frame = decodeFrame(wire.subarray(0, -1));
      expect(frameTypeName(frame.type)).toBe(v['typeName']);
      if (FRAMING_ONLY.has(v['name'] as string)) continue;
      expectRule(decodeStrict(frame.body, TAGS), rules[frameTypeName(frame.type)]!, `frames.json ${String(v['name'])}`);
    }
  });

  it('log.json: leaf bodies of kind 1 are envelopes, of kind 2 access events', () => {
    let kinds = 0;
    for (const v of load('log.json').positive) {
      for (const leaf of v['leaves'] as Json[]) {
        expectRule(
          cborOf(leaf['body'] as string),
          leaf['kind'] === 1 ? 'reading-envelope' : 'access-event',
          `log.json leaf ${String(leaf['index'])}`,
        );
        kinds |= leaf['kind'] as number;
      }
    }
    expect(kinds).toBe(3);
  });
});
