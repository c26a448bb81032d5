/**
 * A small CDDL (RFC 8610) parser and validator of decoded CBOR values, for the subset of CDDL that
 * docs/PROTOCOL.md uses. Test tooling only (nothing outside test/ imports it).
 *
 * Why our own: the npm package `cddl` (webdriverio, 0.21.x) parses CDDL into an AST for JSON
 * validation, but its parser refuses integer map keys (`{ 1 => 42 }`, every COSE header and
 * COSE_Key) and the `.cbor` control, and it has no CBOR validator. No other CDDL tool is on npm.
 *
 * Supported:
 * - rules `name = type` and group rules `name = ( entries )`; comments `; …`;
 * - types: prelude names (any, uint, nint, int, float, float16/32/64, number, bstr/bytes,
 *   tstr/text, bool, true, false, null/nil), literals (integers, floats, "text", h'hex'),
 *   rule references, choices `a / b`, ranges `a..b` and `a...b` (bounds: numbers or rules naming
 *   a number), tags `#6.n(type)`, maps `{ group }`, arrays `[ group ]`, parenthesised types;
 * - controls .size, .regexp, .cbor, .lt, .le, .gt, .ge, .eq, .ne, .and, .within, .default;
 * - groups: entries with occurrence (`?`, `*`, `+`, `n*m`), keys `bareword:`, `value:`,
 *   `type =>` (`^` accepted), unkeyed entries, inline groups `( … )`, group references, group
 *   choices `//`. In maps every key match cuts (a key that matches an entry's key type must
 *   have a value of that entry's value type), and no pair may be left over.
 * Not supported (refused when parsed): generics `<…>`, sockets `$…`, `/=` `//=`, `~`, `&`, `.bits`.
 *
 * The value model is protocol/cbor's (`CborValue`): integers are numbers or bigints, floats are
 * non-integral numbers (a float with an integral value decodes as a number like an integer, so it
 * counts as an int; vitalseal's encoder writes integral numbers as integers anyway).
 */
import { decodeStrict, Tag, type CborValue } from '../../protocol/cbor/index.ts';
import { bytesEqual, fromHex } from '../../protocol/bytes.ts';

// ------------------------------------------------------------------ AST

type Literal = number | bigint | string | boolean | null | Uint8Array;

export type CddlType =
  | { readonly k: 'prim'; readonly name: PrimName }
  | { readonly k: 'lit'; readonly value: Literal; readonly isFloat: boolean }
  | { readonly k: 'ref'; readonly name: string }
  | { readonly k: 'range'; readonly min: CddlType; readonly max: CddlType; readonly exclusive: boolean }
  | { readonly k: 'ctl'; readonly op: ControlOp; readonly target: CddlType; readonly arg: CddlType }
  | { readonly k: 'choice'; readonly options: readonly CddlType[] }
  | { readonly k: 'map'; readonly group: CddlGroup }
  | { readonly k: 'array'; readonly group: CddlGroup }
  | { readonly k: 'tag'; readonly tag: number; readonly type: CddlType };

/** Group choices (`//`), each a sequence of entries. */
export interface CddlGroup {
  readonly choices: readonly (readonly CddlEntry[])[];
}

export interface Occurrence {
  readonly min: number;
  readonly max: number;
}

export type CddlEntry =
  | { readonly k: 'member'; readonly occ: Occurrence; readonly key: CddlType | undefined; readonly type: CddlType }
  | { readonly k: 'group'; readonly occ: Occurrence; readonly group: CddlGroup | string };

export type CddlRule = { readonly k: 'type'; readonly type: CddlType } | { readonly k: 'group'; readonly group: CddlGroup };

type PrimName = 'any' | 'uint' | 'nint' | 'int' | 'float' | 'number' | 'bstr' | 'tstr' | 'bool' | 'null';
type ControlOp = 'size' | 'regexp' | 'cbor' | 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne' | 'and' | 'within' | 'default';

const PRELUDE: Readonly<Record<string, CddlType>> = {
  any: { k: 'prim', name: 'any' },
  uint: { k: 'prim', name: 'uint' },
  nint: { k: 'prim', name: 'nint' },
  int: { k: 'prim', name: 'int' },
  float: { k: 'prim', name: 'float' },
  float16: { k: 'prim', name: 'float' },
  float32: { k: 'prim', name: 'float' },
  float64: { k: 'prim', name: 'float' },
  'float16-32': { k: 'prim', name: 'float' },
  'float32-64': { k: 'prim', name: 'float' },
  number: { k: 'prim', name: 'number' },
  bstr: { k: 'prim', name: 'bstr' },
  bytes: { k: 'prim', name: 'bstr' },
  tstr: { k: 'prim', name: 'tstr' },
  text: { k: 'prim', name: 'tstr' },
  bool: { k: 'prim', name: 'bool' },
  true: { k: 'lit', value: true, isFloat: false },
  false: { k: 'lit', value: false, isFloat: false },
  null: { k: 'prim', name: 'null' },
  nil: { k: 'prim', name: 'null' },
};

const CONTROL_OPS = new Set<string>(['size', 'regexp', 'cbor', 'lt', 'le', 'gt', 'ge', 'eq', 'ne', 'and', 'within', 'default']);

export class CddlError extends Error {
  override readonly name = 'CddlError';
}

// ------------------------------------------------------------------ lexer

type Token =
  | { readonly t: 'id'; readonly v: string; readonly at: number }
  | { readonly t: 'num'; readonly v: string; readonly at: number }
  | { readonly t: 'text'; readonly v: string; readonly at: number }
  | { readonly t: 'bytes'; readonly v: Uint8Array; readonly at: number }
  | { readonly t: 'tag'; readonly v: number; readonly at: number }
  | { readonly t: 'ctl'; readonly v: string; readonly at: number }
  | { readonly t: 'p'; readonly v: string; readonly at: number }
  | { readonly t: 'eof'; readonly v: ''; readonly at: number };

const PUNCT = [
  '...',
  '..',
  '//=',
  '/=',
  '//',
  '=>',
  '/',
  '=',
  '(',
  ')',
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '?',
  '*',
  '+',
  '^',
  '~',
  '&',
  '<',
  '>',
  '$',
];
const ID_START = /[A-Za-z@_$]/;
const ID_CHAR = /[A-Za-z0-9@_$.-]/;

function lex(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const err = (msg: string): never => {
    throw new CddlError(`${msg} at ${lineCol(src, i)}`);
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === ';') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = i;
    if (c === '"') {
      let s = '';
      i++;
      for (;;) {
        if (i >= src.length) err('unterminated text string');
        const d = src[i]!;
        if (d === '"') break;
        if (d === '\\') {
          const e = src[i + 1];
          if (e === undefined) err('bad escape');
          if (e === 'u') {
            s += String.fromCharCode(parseInt(src.slice(i + 2, i + 6), 16));
            i += 6;
            continue;
          }
          s += ({ n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' } as Record<string, string>)[e!] ?? e;
          i += 2;
          continue;
        }
        s += d;
        i++;
      }
      i++;
      out.push({ t: 'text', v: s, at });
      continue;
    }
    if (c === 'h' && src[i + 1] === "'") {
      const end = src.indexOf("'", i + 2);
      if (end < 0) err('unterminated byte string');
      out.push({ t: 'bytes', v: fromHex(src.slice(i + 2, end).replace(/\s+/g, '')), at });
      i = end + 1;
      continue;
    }
    if (c === '#') {
      const m = /^#6\.(\d+)/.exec(src.slice(i));
      if (!m) err('only #6.n tags are supported');
      out.push({ t: 'tag', v: Number(m![1]), at });
      i += m![0].length;
      continue;
    }
    if (c === '.' && ID_START.test(src[i + 1] ?? '')) {
      let j = i + 1;
      while (j < src.length && /[A-Za-z0-9_-]/.test(src[j]!)) j++;
      out.push({ t: 'ctl', v: src.slice(i + 1, j), at });
      i = j;
      continue;
    }
    const num = /^-?(?:0x[0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(src.slice(i));
    if (num && (c !== '-' || /\d/.test(src[i + 1] ?? ''))) {
      out.push({ t: 'num', v: num[0], at });
      i += num[0].length;
      continue;
    }
    if (ID_START.test(c)) {
      let j = i + 1;
      while (j < src.length && ID_CHAR.test(src[j]!)) j++;
      while (j > i + 1 && (src[j - 1] === '.' || src[j - 1] === '-')) j--; // an id never ends in '.' or '-'
      out.push({ t: 'id', v: src.slice(i, j), at });
      i = j;
      continue;
    }
    const p = PUNCT.find((q) => src.startsWith(q, i));
    if (p === undefined) err(`unexpected character ${JSON.stringify(c)}`);
    out.push({ t: 'p', v: p!, at });
    i += p!.length;
  }
  out.push({ t: 'eof', v: '', at: src.length });
  return out;
}

function lineCol(src: string, at: number): string {
  const before = src.slice(0, at).split('\n');
  return `line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
}

// ------------------------------------------------------------------ parser

class Parser {
  private pos = 0;
  constructor(
    private readonly src: string,
    private readonly toks: Token[],
  ) {}

  private get tok(): Token {
    return this.toks[this.pos]!;
  }
  private peek(n = 1): Token {
    return this.toks[Math.min(this.pos + n, this.toks.length - 1)]!;
  }
  private isP(v: string, tok = this.tok): boolean {
    return tok.t === 'p' && tok.v === v;
  }
  private fail(msg: string, tok = this.tok): never {
    throw new CddlError(`${msg} at ${lineCol(this.src, tok.at)}`);
  }
  private expectP(v: string): void {
    if (!this.isP(v)) this.fail(`expected "${v}"`);
    this.pos++;
  }

  rules(): Map<string, CddlRule> {
    const rules = new Map<string, CddlRule>();
    while (this.tok.t !== 'eof') {
      const name = this.tok;
      if (name.t !== 'id') this.fail('expected a rule name');
      this.pos++;
      if (this.isP('<')) this.fail('generic rules are not supported');
      if (this.isP('/=') || this.isP('//=')) this.fail('choice extensions (/=, //=) are not supported');
      this.expectP('=');
      if (rules.has(name.v)) this.fail(`rule ${name.v} is defined twice`, name);
      if (PRELUDE[name.v] !== undefined) this.fail(`rule ${name.v} redefines a prelude name`, name);
      if (this.isP('(')) {
        this.pos++;
        const group = this.group([')']);
        this.expectP(')');
        rules.set(name.v, { k: 'group', group });
      } else {
        rules.set(name.v, { k: 'type', type: this.type() });
      }
    }
    return rules;
  }

  /** type = type1 *("/" type1) */
  private type(): CddlType {
    const options = [this.type1()];
    while (this.isP('/')) {
      this.pos++;
      options.push(this.type1());
    }
    return options.length === 1 ? options[0]! : { k: 'choice', options };
  }

  /** type1 = type2 [(rangeop / ctlop) type2] */
  private type1(): CddlType {
    const target = this.type2();
    if (this.isP('..') || this.isP('...')) {
      const exclusive = this.tok.v === '...';
      this.pos++;
      return { k: 'range', min: target, max: this.type2(), exclusive };
    }
    if (this.tok.t === 'ctl') {
      const op = this.tok.v;
      if (!CONTROL_OPS.has(op)) this.fail(`control .${op} is not supported`);
      this.pos++;
      return { k: 'ctl', op: op as ControlOp, target, arg: this.type2() };
    }
    return target;
  }

  private type2(): CddlType {
    const tok = this.tok;
    switch (tok.t) {
      case 'num':
        this.pos++;
        return numberLiteral(tok.v);
      case 'text':
        this.pos++;
        return { k: 'lit', value: tok.v, isFloat: false };
      case 'bytes':
        this.pos++;
        return { k: 'lit', value: tok.v, isFloat: false };
      case 'tag': {
        this.pos++;
        this.expectP('(');
        const type = this.type();
        this.expectP(')');
        return { k: 'tag', tag: tok.v, type };
      }
      case 'id':
        this.pos++;
        if (this.isP('<')) this.fail('generic arguments are not supported');
        return PRELUDE[tok.v] ?? { k: 'ref', name: tok.v };
      case 'p':
        if (tok.v === '(') {
          this.pos++;
          const type = this.type();
          this.expectP(')');
          return type;
        }
        if (tok.v === '{' || tok.v === '[') {
          this.pos++;
          const close = tok.v === '{' ? '}' : ']';
          const group = this.group([close]);
          this.expectP(close);
          return { k: tok.v === '{' ? 'map' : 'array', group };
        }
        return this.fail(`unexpected "${tok.v}" (~, & and sockets are not supported)`);
      default:
        return this.fail('expected a type');
    }
  }

  /** group = grpchoice *("//" grpchoice); stops before one of `closers`. */
  private group(closers: readonly string[]): CddlGroup {
    const choices: CddlEntry[][] = [this.groupChoice(closers)];
    while (this.isP('//')) {
      this.pos++;
      choices.push(this.groupChoice(closers));
    }
    return { choices };
  }

  private groupChoice(closers: readonly string[]): CddlEntry[] {
    const entries: CddlEntry[] = [];
    while (!closers.some((c) => this.isP(c)) && !this.isP('//') && this.tok.t !== 'eof') {
      entries.push(this.entry(closers));
      if (this.isP(',')) this.pos++;
    }
    return entries;
  }

  private occurrence(): Occurrence {
    const tok = this.tok;
    if (this.isP('?')) {
      this.pos++;
      return { min: 0, max: 1 };
    }
    if (this.isP('+')) {
      this.pos++;
      return { min: 1, max: Infinity };
    }
    let min = 0;
    if (tok.t === 'num' && this.isP('*', this.peek())) {
      min = Number(tok.v);
      this.pos++;
    }
    if (this.isP('*')) {
      this.pos++;
      let max = Infinity;
      if (this.tok.t === 'num' && /^\d+$/.test(this.tok.v)) {
        max = Number(this.tok.v);
        this.pos++;
      }
      return { min, max };
    }
    return { min: 1, max: 1 };
  }

  private entry(closers: readonly string[]): CddlEntry {
    const occ = this.occurrence();
    if (this.isP('(')) {
      this.pos++;
      const group = this.group([')']);
      this.expectP(')');
      return { k: 'group', occ, group };
    }
    const tok = this.tok;
    // bareword ":" and value ":" keys
    if ((tok.t === 'id' || tok.t === 'num' || tok.t === 'text' || tok.t === 'bytes') && this.isP(':', this.peek())) {
      this.pos += 2;
      const key: CddlType =
        tok.t === 'id'
          ? { k: 'lit', value: tok.v, isFloat: false }
          : tok.t === 'num'
            ? numberLiteral(tok.v)
            : { k: 'lit', value: tok.v, isFloat: false };
      return { k: 'member', occ, key, type: this.type() };
    }
    const first = this.type1();
    if (this.isP('^')) this.pos++;
    if (this.isP('=>')) {
      this.pos++;
      return { k: 'member', occ, key: first, type: this.type() };
    }
    let type = first;
    if (this.isP('/')) {
      const options = [first];
      while (this.isP('/')) {
        this.pos++;
        options.push(this.type1());
      }
      type = { k: 'choice', options };
    }
    if (!this.isP(',') && !closers.some((c) => this.isP(c)) && !this.isP('//')) this.fail('expected "," or the end of the group');
    // an unkeyed bare name may be a group rule: decided when the schema is checked
    if (type.k === 'ref') return { k: 'group', occ, group: type.name };
    return { k: 'member', occ, key: undefined, type };
  }
}

function numberLiteral(text: string): CddlType {
  if (/^-?0x/i.test(text)) {
    const neg = text.startsWith('-');
    const n = BigInt(neg ? text.slice(1) : text);
    return { k: 'lit', value: narrow(neg ? -n : n), isFloat: false };
  }
  if (/[.eE]/.test(text)) return { k: 'lit', value: Number(text), isFloat: true };
  return { k: 'lit', value: narrow(BigInt(text)), isFloat: false };
}

function narrow(n: bigint): number | bigint {
  return n <= BigInt(Number.MAX_SAFE_INTEGER) && n >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(n) : n;
}

// ------------------------------------------------------------------ validator

export type ValidationResult = { readonly ok: true; readonly embedded: readonly string[] } | { readonly ok: false; readonly error: string };

/** Paths name a place in a value: `[i]` array item, `{key}` map value (key in diagnostic form), `#n` tag content, `<<>>` embedded CBOR. */
export const pathOf = {
  item: (path: string, i: number): string => `${path}[${i}]`,
  value: (path: string, key: CborValue): string => `${path}{${typeof key === 'string' ? JSON.stringify(key) : String(key)}}`,
  tag: (path: string, tag: number | bigint): string => `${path}#${tag}`,
  embedded: (path: string): string => `${path}<<>>`,
};

/** Tags a `.cbor`-embedded item may carry (COSE messages inside a byte string). */
const EMBEDDED_TAGS = [16, 18, 96];

interface Ctx {
  embedded: string[];
}

export class CddlSchema {
  private constructor(readonly rules: ReadonlyMap<string, CddlRule>) {}

  /** Parses CDDL text; throws CddlError on anything outside the supported subset or a reference to an undefined rule. */
  static parse(source: string): CddlSchema {
    const schema = new CddlSchema(new Parser(source, lex(source)).rules());
    for (const [name, rule] of schema.rules) schema.checkRefs(name, rule);
    return schema;
  }

  /** Validates a decoded CBOR value (protocol/cbor data model) against rule `name`. */
  validate(value: CborValue, name: string): ValidationResult {
    const rule = this.rules.get(name);
    if (rule === undefined) throw new CddlError(`no rule ${name}`);
    if (rule.k !== 'type') throw new CddlError(`${name} is a group, not a type`);
    const ctx: Ctx = { embedded: [] };
    const error = this.check(rule.type, value, '', ctx);
    return error === null ? { ok: true, embedded: ctx.embedded } : { ok: false, error };
  }

  private checkRefs(ruleName: string, rule: CddlRule): void {
    const seenType = (t: CddlType): void => {
      switch (t.k) {
        case 'ref': {
          const r = this.rules.get(t.name);
          if (r === undefined) throw new CddlError(`rule ${ruleName} refers to undefined ${t.name}`);
          if (r.k !== 'type') throw new CddlError(`rule ${ruleName} uses group ${t.name} as a type`);
          return;
        }
        case 'range':
          seenType(t.min);
          seenType(t.max);
          return;
        case 'ctl':
          seenType(t.target);
          seenType(t.arg);
          return;
        case 'choice':
          t.options.forEach(seenType);
          return;
        case 'map':
        case 'array':
          seenGroup(t.group);
          return;
        case 'tag':
          seenType(t.type);
          return;
        default:
          return;
      }
    };
    const seenGroup = (g: CddlGroup): void => {
      for (const choice of g.choices) {
        for (const e of choice) {
          if (e.k === 'member') {
            if (e.key) seenType(e.key);
            seenType(e.type);
          } else if (typeof e.group === 'string') {
            if (!this.rules.has(e.group)) throw new CddlError(`rule ${ruleName} refers to undefined ${e.group}`);
          } else {
            seenGroup(e.group);
          }
        }
      }
    };
    if (rule.k === 'type') seenType(rule.type);
    else seenGroup(rule.group);
  }

  private resolve(t: CddlType): CddlType {
    let cur = t;
    for (let i = 0; cur.k === 'ref'; i++) {
      if (i > 64) throw new CddlError(`reference loop at ${cur.name}`);
      const r = this.rules.get(cur.name)!;
      if (r.k !== 'type') throw new CddlError(`${cur.name} is a group, not a type`);
      cur = r.type;
    }
    return cur;
  }

  /** An error message, or null when `v` matches `t`. Embedded paths are added to ctx only on success. */
  private check(t: CddlType, v: CborValue, path: string, ctx: Ctx): string | null {
    const at = path === '' ? 'the value' : path;
    switch (t.k) {
      case 'ref':
        return this.check(this.resolve(t), v, path, ctx);
      case 'prim':
        return primMatches(t.name, v) ? null : `${at}: expected ${t.name}, got ${describe(v)}`;
      case 'lit':
        return literalMatches(t.value, v) ? null : `${at}: expected ${describeLiteral(t.value)}, got ${describe(v)}`;
      case 'range':
        return this.checkRange(t, v, at);
      case 'choice': {
        const errors: string[] = [];
        for (const option of t.options) {
          const local: Ctx = { embedded: [] };
          const e = this.check(option, v, path, local);
          if (e === null) {
            ctx.embedded.push(...local.embedded);
            return null;
          }
          errors.push(e);
        }
        return `${at}: no choice matches (${errors.join(' | ')})`;
      }
      case 'tag':
        if (!(v instanceof Tag) || Number(v.tag) !== t.tag) return `${at}: expected tag ${t.tag}, got ${describe(v)}`;
        return this.check(t.type, v.value as CborValue, pathOf.tag(path, t.tag), ctx);
      case 'map':
        if (!(v instanceof Map)) return `${at}: expected a map, got ${describe(v)}`;
        return this.checkMap(t.group, v, path, ctx);
      case 'array':
        if (!Array.isArray(v)) return `${at}: expected an array, got ${describe(v)}`;
        return this.checkArray(t.group, v, path, ctx);
      case 'ctl':
        return this.checkControl(t, v, path, ctx);
    }
  }

  private numberOf(t: CddlType): { value: number | bigint; isFloat: boolean } {
    const r = this.resolve(t);
    if (r.k !== 'lit' || (typeof r.value !== 'number' && typeof r.value !== 'bigint'))
      throw new CddlError('a range bound or control argument is not a number');
    return { value: r.value, isFloat: r.isFloat };
  }

  private checkRange(t: Extract<CddlType, { k: 'range' }>, v: CborValue, at: string): string | null {
    const min = this.numberOf(t.min);
    const max = this.numberOf(t.max);
    const bounds = `${String(min.value)}${t.exclusive ? '...' : '..'}${String(max.value)}`;
    if (min.isFloat || max.isFloat) {
      if (typeof v !== 'number' || Number.isNaN(v)) return `${at}: expected a number in ${bounds}, got ${describe(v)}`;
    } else if (!isInteger(v)) {
      return `${at}: expected an integer in ${bounds}, got ${describe(v)}`;
    }
    const x = v as number | bigint;
    const ok = compare(x, min.value) >= 0 && (t.exclusive ? compare(x, max.value) < 0 : compare(x, max.value) <= 0);
    return ok ? null : `${at}: ${String(x)} is outside ${bounds}`;
  }

  private checkControl(t: Extract<CddlType, { k: 'ctl' }>, v: CborValue, path: string, ctx: Ctx): string | null {
    const at = path === '' ? 'the value' : path;
    if (t.op === 'cbor') {
      if (!(v instanceof Uint8Array)) return `${at}: expected a byte string holding CBOR, got ${describe(v)}`;
      const targetError = this.check(t.target, v, path, { embedded: [] });
      if (targetError !== null) return targetError;
      let inner: CborValue;
      try {
        inner = decodeStrict(v, { allowedTags: EMBEDDED_TAGS, maxBytes: 1 << 20, maxStringBytes: 1 << 20 });
      } catch (e) {
        return `${at}: the byte string is not strict CBOR (${(e as Error).message})`;
      }
      const local: Ctx = { embedded: [] };
      const e = this.check(t.arg, inner, pathOf.embedded(path), local);
      if (e !== null) return e;
      ctx.embedded.push(path, ...local.embedded);
      return null;
    }
    const local: Ctx = { embedded: [] };
    const targetError = this.check(t.target, v, path, local);
    if (targetError !== null) return targetError;
    const fail = (why: string): string => `${at}: ${why}`;
    switch (t.op) {
      case 'default':
        break;
      case 'and':
      case 'within': {
        const e = this.check(t.arg, v, path, local);
        if (e !== null) return e;
        break;
      }
      case 'size': {
        const size = sizeOf(v);
        if (size === undefined) return fail(`.size applies to bstr, tstr and uint, got ${describe(v)}`);
        const arg = this.resolve(t.arg);
        if (typeof v === 'number' || typeof v === 'bigint') {
          const n = this.numberOf(arg).value;
          if (BigInt(v) >= 256n ** BigInt(n)) return fail(`${String(v)} does not fit in ${String(n)} bytes`);
          break;
        }
        const e =
          arg.k === 'range'
            ? this.checkRange(arg, size, `${at} size`)
            : literalMatches(this.numberOf(arg).value, size)
              ? null
              : `${at}: size ${size}, expected ${String(this.numberOf(arg).value)}`;
        if (e !== null) return e;
        break;
      }
      case 'regexp': {
        const arg = this.resolve(t.arg);
        if (arg.k !== 'lit' || typeof arg.value !== 'string') throw new CddlError('.regexp needs a text literal');
        if (typeof v !== 'string' || !new RegExp(`^(?:${arg.value})$`, 'u').test(v))
          return fail(`${describe(v)} does not match /${arg.value}/`);
        break;
      }
      case 'lt':
      case 'le':
      case 'gt':
      case 'ge': {
        if (typeof v !== 'number' && typeof v !== 'bigint') return fail(`.${t.op} applies to numbers, got ${describe(v)}`);
        const c = compare(v, this.numberOf(t.arg).value);
        const ok = t.op === 'lt' ? c < 0 : t.op === 'le' ? c <= 0 : t.op === 'gt' ? c > 0 : c >= 0;
        if (!ok) return fail(`${String(v)} is not .${t.op} ${String(this.numberOf(t.arg).value)}`);
        break;
      }
      case 'eq':
      case 'ne': {
        const arg = this.resolve(t.arg);
        if (arg.k !== 'lit') throw new CddlError(`.${t.op} needs a literal`);
        if (literalMatches(arg.value, v) !== (t.op === 'eq')) return fail(`${describe(v)} is not .${t.op} ${describeLiteral(arg.value)}`);
        break;
      }
    }
    ctx.embedded.push(...local.embedded);
    return null;
  }

  /** An unkeyed reference to a type rule is a positional entry of that type (arrays), not a group. */
  private asMember(e: CddlEntry): CddlEntry {
    if (e.k !== 'group' || typeof e.group !== 'string' || this.rules.get(e.group)!.k === 'group') return e;
    return { k: 'member', occ: e.occ, key: undefined, type: { k: 'ref', name: e.group } };
  }

  private groupOf(g: CddlGroup | string): CddlGroup {
    if (typeof g !== 'string') return g;
    const r = this.rules.get(g)!;
    if (r.k !== 'group') throw new CddlError(`${g} is a type, not a group`);
    return r.group;
  }

  // ---------------------------------------------------------------- maps

  private checkMap(group: CddlGroup, v: Map<CborValue, CborValue>, path: string, ctx: Ctx): string | null {
    const pairs = [...v.entries()] as Array<[CborValue, CborValue]>;
    const errors: string[] = [];
    for (const entries of group.choices) {
      const local: Ctx = { embedded: [] };
      const e = this.matchMap(entries, 0, new Set(pairs.map((_, i) => i)), pairs, path, local);
      if (e === null) {
        ctx.embedded.push(...local.embedded);
        return null;
      }
      errors.push(e);
    }
    return errors.length === 1 ? errors[0]! : `${path || 'the value'}: no group choice matches (${errors.join(' | ')})`;
  }

  private matchMap(
    entries: readonly CddlEntry[],
    i: number,
    left: Set<number>,
    pairs: Array<[CborValue, CborValue]>,
    path: string,
    ctx: Ctx,
  ): string | null {
    const at = path === '' ? 'the map' : path;
    if (i === entries.length) {
      if (left.size === 0) return null;
      return `${at}: unexpected key ${[...left].map((j) => describeKey(pairs[j]![0])).join(', ')}`;
    }
    const e = this.asMember(entries[i]!);
    if (e.k === 'group') {
      const g = this.groupOf(e.group);
      const tries: CddlEntry[][] = [];
      // a group entry in a map occurs at most once here (enough for this spec); absent if optional
      for (const choice of g.choices) tries.push([...choice, ...entries.slice(i + 1)]);
      if (e.occ.min === 0) tries.push([...entries.slice(i + 1)]);
      let last = '';
      for (const rest of tries) {
        const local: Ctx = { embedded: [] };
        const r = this.matchMap(rest, 0, new Set(left), pairs, path, local);
        if (r === null) {
          ctx.embedded.push(...local.embedded);
          return null;
        }
        last = r;
      }
      return last;
    }
    if (e.key === undefined) throw new CddlError('a map entry needs a key');
    const matched: number[] = [];
    for (const j of left) {
      const key = pairs[j]![0];
      if (this.check(e.key, key, path, { embedded: [] }) === null) matched.push(j);
    }
    if (matched.length < e.occ.min) return `${at}: missing key ${describeKeyType(this.resolve(e.key))}`;
    if (matched.length > e.occ.max) return `${at}: too many keys matching ${describeKeyType(this.resolve(e.key))}`;
    const local: Ctx = { embedded: [] };
    for (const j of matched) {
      const [key, value] = pairs[j]!;
      const err = this.check(e.type, value, pathOf.value(path, key), local); // cut: a matching key must have a matching value
      if (err !== null) return err;
    }
    const rest = new Set(left);
    for (const j of matched) rest.delete(j);
    const r = this.matchMap(entries, i + 1, rest, pairs, path, local);
    if (r === null) ctx.embedded.push(...local.embedded);
    return r;
  }

  // ---------------------------------------------------------------- arrays

  private checkArray(group: CddlGroup, items: CborValue[], path: string, ctx: Ctx): string | null {
    const errors: string[] = [];
    for (const entries of group.choices) {
      const local: Ctx = { embedded: [] };
      const e = this.matchArray(entries, items, 0, path, local);
      if (e === null) {
        ctx.embedded.push(...local.embedded);
        return null;
      }
      errors.push(e);
    }
    return errors.length === 1 ? errors[0]! : `${path || 'the value'}: no group choice matches (${errors.join(' | ')})`;
  }

  private matchArray(entries: readonly CddlEntry[], items: CborValue[], j: number, path: string, ctx: Ctx): string | null {
    const at = path === '' ? 'the array' : path;
    if (entries.length === 0) return j === items.length ? null : `${at}: unexpected item ${pathOf.item('', j)} (${describe(items[j]!)})`;
    const [first, ...rest] = entries as [CddlEntry, ...CddlEntry[]];
    const e = this.asMember(first);
    if (e.k === 'group') {
      const g = this.groupOf(e.group);
      let last = `${at}: group does not match`;
      // expand the group c times, most first (occurrences of groups in arrays are small here)
      const maxTimes = Math.min(e.occ.max, items.length - j + 1);
      for (let c = maxTimes; c >= e.occ.min; c--) {
        for (const expanded of repeatChoices(g.choices, c)) {
          const local: Ctx = { embedded: [] };
          const r = this.matchArray([...expanded, ...rest], items, j, path, local);
          if (r === null) {
            ctx.embedded.push(...local.embedded);
            return null;
          }
          last = r;
        }
      }
      return last;
    }
    // longest run of items matching this entry, then back off
    const runs: Ctx[] = [];
    let firstError = '';
    while (runs.length < e.occ.max && j + runs.length < items.length) {
      const local: Ctx = { embedded: [] };
      const err = this.check(e.type, items[j + runs.length]!, pathOf.item(path, j + runs.length), local);
      if (err !== null) {
        firstError = err;
        break;
      }
      runs.push(local);
    }
    if (runs.length < e.occ.min) return firstError || `${at}: too few items (${items.length})`;
    let last = firstError;
    for (let c = runs.length; c >= e.occ.min; c--) {
      const local: Ctx = { embedded: [] };
      const r = this.matchArray(rest, items, j + c, path, local);
      if (r === null) {
        for (let x = 0; x < c; x++) ctx.embedded.push(...runs[x]!.embedded);
        ctx.embedded.push(...local.embedded);
        return null;
      }
      if (c === runs.length) last = r; // where the rest failed after the longest run says most
    }
    return last;
  }
}

function repeatChoices(choices: readonly (readonly CddlEntry[])[], times: number): CddlEntry[][] {
  let out: CddlEntry[][] = [[]];
  for (let i = 0; i < times; i++) out = out.flatMap((prefix) => choices.map((c) => [...prefix, ...c]));
  return out;
}

function isInteger(v: CborValue): v is number | bigint {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
}

function primMatches(name: PrimName, v: CborValue): boolean {
  switch (name) {
    case 'any':
      return true;
    case 'uint':
      return isInteger(v) && v >= 0;
    case 'nint':
      return isInteger(v) && v < 0;
    case 'int':
      return isInteger(v);
    case 'float':
      return typeof v === 'number' && !Number.isInteger(v);
    case 'number':
      return typeof v === 'number' || typeof v === 'bigint';
    case 'bstr':
      return v instanceof Uint8Array;
    case 'tstr':
      return typeof v === 'string';
    case 'bool':
      return typeof v === 'boolean';
    case 'null':
      return v === null;
  }
}

function literalMatches(lit: Literal, v: CborValue): boolean {
  if (typeof lit === 'number' || typeof lit === 'bigint') {
    if (typeof v !== 'number' && typeof v !== 'bigint') return false;
    if (typeof lit === 'number' && !Number.isInteger(lit)) return v === lit;
    return isInteger(v) && BigInt(v) === BigInt(lit);
  }
  if (lit instanceof Uint8Array) return v instanceof Uint8Array && bytesEqual(lit, v);
  return v === lit;
}

function compare(a: number | bigint, b: number | bigint): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'number' && !Number.isInteger(a)) return a < Number(b) ? -1 : a > Number(b) ? 1 : 0;
  if (typeof b === 'number' && !Number.isInteger(b)) return Number(a) < b ? -1 : Number(a) > b ? 1 : 0;
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function sizeOf(v: CborValue): number | bigint | undefined {
  if (v instanceof Uint8Array) return v.length;
  if (typeof v === 'string') return new TextEncoder().encode(v).length;
  if (isInteger(v) && v >= 0) return v;
  return undefined;
}

function describe(v: CborValue): string {
  if (v === null) return 'null';
  if (v instanceof Uint8Array) return `a ${v.length}-byte bstr`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v instanceof Map) return `a map of ${v.size}`;
  if (v instanceof Tag) return `tag ${String(v.tag)}`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return String(v);
}

function describeLiteral(v: Literal): string {
  return v instanceof Uint8Array ? `h'${Buffer.from(v).toString('hex')}'` : typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function describeKey(k: CborValue): string {
  return typeof k === 'string' ? JSON.stringify(k) : String(k);
}

function describeKeyType(t: CddlType): string {
  return t.k === 'lit' ? describeLiteral(t.value) : t.k === 'prim' ? t.name : 'of its type';
}
