/**
 * CBOR diagnostic notation (RFC 8949 §8, with RFC 8610 Appendix G's `<<…>>` for embedded CBOR
 * and `/…/` comments) for the examples of docs/PROTOCOL.md. Test tooling only.
 *
 * - printDiag renders a decoded value (protocol/cbor data model); byte strings at the paths in
 *   `embedded` (cddl.ts path syntax, as CddlSchema.validate reports `.cbor` matches) print as
 *   `<<item>>`, and `comments` (path → text) follow the item they name as `/ text /`.
 * - normalizeDiag removes comments and whitespace outside text strings, so a pretty-printed,
 *   commented example compares equal to the compact rendering of its bytes.
 * Non-integral numbers are float64 in vitalseal (protocol/cbor encodeCanonical); where a float64
 * value would also fit a shorter float, `_3` marks the 8-byte encoding (RFC 8949 §8.1).
 */
import { decodeStrict, Tag, type CborValue } from '../../protocol/cbor/index.ts';
import { toHex } from '../../protocol/bytes.ts';
import { pathOf } from './cddl.ts';

export interface DiagOptions {
  readonly embedded?: ReadonlySet<string>;
  readonly comments?: ReadonlyMap<string, string>;
  /** Multi-line output, containers broken when longer than `width` (default: compact, one line). */
  readonly pretty?: boolean;
  readonly width?: number;
}

const EMBEDDED_TAGS = [16, 18, 96];

export function printDiag(value: CborValue, options: DiagOptions = {}): string {
  return new Printer(options).item(value, '', 0);
}

class Printer {
  private readonly embedded: ReadonlySet<string>;
  private readonly comments: ReadonlyMap<string, string>;
  private readonly pretty: boolean;
  private readonly width: number;

  constructor(o: DiagOptions) {
    this.embedded = o.embedded ?? new Set();
    this.comments = o.comments ?? new Map();
    this.pretty = o.pretty ?? false;
    this.width = o.width ?? 88;
  }

  /** The item at `path`, its comment appended. */
  item(v: CborValue, path: string, indent: number): string {
    const comment = this.comments.get(path);
    if (comment?.includes('/')) throw new Error(`a diagnostic comment cannot contain '/': ${comment}`);
    const text = this.bare(v, path, indent);
    return comment === undefined || !this.pretty ? text : `${text} / ${comment} /`;
  }

  private bare(v: CborValue, path: string, indent: number): string {
    if (v === null) return 'null';
    switch (typeof v) {
      case 'boolean':
        return String(v);
      case 'bigint':
        return v.toString();
      case 'number':
        return numberDiag(v);
      case 'string':
        return JSON.stringify(v);
    }
    if (v instanceof Uint8Array) {
      if (this.embedded.has(path) && v.length > 0) {
        const inner = decodeStrict(v, { allowedTags: EMBEDDED_TAGS, maxBytes: 1 << 20, maxStringBytes: 1 << 20 });
        return `<< ${this.item(inner, pathOf.embedded(path), indent + 3)} >>`;
      }
      return this.bytes(v, indent);
    }
    if (v instanceof Tag) return `${String(v.tag)}(${this.item(v.value as CborValue, pathOf.tag(path, v.tag), indent)})`;
    if (Array.isArray(v))
      return this.container(
        '[',
        ']',
        v.map((x, i) => this.item(x, pathOf.item(path, i), indent + 2)),
        indent,
        v.every(isScalar),
      );
    const entries = [...(v as Map<CborValue, CborValue>)].map(
      ([k, x]) => `${this.bare(k, '', 0)}: ${this.item(x, pathOf.value(path, k), indent + 2)}`,
    );
    return this.container('{', '}', entries, indent, false);
  }

  private bytes(v: Uint8Array, indent: number): string {
    const hex = toHex(v);
    const room = this.width - indent - 4;
    if (!this.pretty || hex.length <= room) return `h'${hex}'`;
    const per = Math.max(16, Math.floor(room / 2) * 2);
    const lines: string[] = [];
    for (let i = 0; i < hex.length; i += per) lines.push(hex.slice(i, i + per));
    return `h'${lines.join(`\n${' '.repeat(indent + 2)}`)}'`;
  }

  /** Inline when it fits (or is made of scalars, then wrapped), else one element per line. */
  private container(open: string, close: string, parts: string[], indent: number, scalars: boolean): string {
    const inline = `${open}${parts.join(', ')}${close}`;
    if (!this.pretty || (!inline.includes('\n') && indent + inline.length <= this.width)) return inline;
    const pad = ' '.repeat(indent + 2);
    if (scalars) {
      const lines: string[] = [];
      let line = '';
      for (const p of parts) {
        const next = line === '' ? p : `${line}, ${p}`;
        if (line !== '' && pad.length + next.length + 1 > this.width) {
          lines.push(`${line},`);
          line = p;
        } else {
          line = next;
        }
      }
      lines.push(line);
      return `${open}\n${lines.map((l) => pad + l).join('\n')}\n${' '.repeat(indent)}${close}`;
    }
    return `${open}\n${parts.map((p) => `${pad}${p}`).join(',\n')}\n${' '.repeat(indent)}${close}`;
  }
}

function isScalar(v: CborValue): boolean {
  return typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' || v === null;
}

function numberDiag(n: number): string {
  if (Number.isInteger(n)) return String(n);
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  let s = String(n);
  if (!/[.e]/.test(s)) s += '.0';
  return Math.fround(n) === n ? `${s}_3` : s;
}

/** Drops `/ comments /` and whitespace outside "text" strings (whitespace inside h'…' too). */
export function normalizeDiag(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      out += text.slice(start, i + 1);
      continue;
    }
    if (c === '/') {
      const end = text.indexOf('/', i + 1);
      i = end < 0 ? text.length : end;
      continue;
    }
    if (/\s/.test(c)) continue;
    out += c;
  }
  return out;
}
