import { fail } from '../errors.ts';
import { resolveDecodeOptions, type ResolvedDecodeOptions, type StrictDecodeOptions } from './limits.ts';

/**
 * Hand-written, iterative pre-scan of raw CBOR bytes (RFC 8949 §5.3.1
 * well-formedness plus vitalseal's strict profile), run BEFORE any general
 * decoder sees the input. O(n) time; memory bounded by `maxDepth` frames, so a
 * nesting bomb or a huge declared length is refused after a few bytes.
 *
 * Refused, with the code thrown:
 * - input larger than `maxBytes`                                  CBOR_TOO_LARGE
 * - empty input, truncated heads, lengths running past the end,
 *   reserved additional info 28..30, a stray break (0xff),
 *   two-byte simple values < 32, invalid UTF-8 in a text string   CBOR_MALFORMED
 * - nesting of arrays/maps/tags deeper than `maxDepth`            CBOR_TOO_DEEP
 * - arrays/maps with more than `maxItems` entries, strings longer
 *   than `maxStringBytes`                                         CBOR_TOO_MANY_ITEMS
 * - indefinite lengths, tags not in `allowedTags`, map keys that
 *   are not integers or text, duplicate map keys, `undefined` and
 *   unassigned simple values, a float where `floats` allows none  CBOR_UNSUPPORTED
 * - bytes after the single top-level item                         CBOR_TRAILING_BYTES
 */
export function checkWellFormed(bytes: Uint8Array, decodeOptions?: StrictDecodeOptions): void {
  const options = resolveDecodeOptions(decodeOptions);
  if (!(bytes instanceof Uint8Array)) fail('CBOR_MALFORMED', 'input is not a byte array');
  if (bytes.length > options.maxBytes) fail('CBOR_TOO_LARGE');
  if (bytes.length === 0) fail('CBOR_MALFORMED', 'empty input');
  new Scanner(bytes, options).scanOneItem();
}

/** An open array, map or tag: how many items it still expects. */
interface Frame {
  remaining: number;
  /** Set for maps: identities of the keys seen so far (duplicate detection). */
  readonly keys: Set<string> | null;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const MAJOR_UINT = 0;
const MAJOR_NEGINT = 1;
const MAJOR_BYTES = 2;
const MAJOR_TEXT = 3;
const MAJOR_ARRAY = 4;
const MAJOR_MAP = 5;
const MAJOR_TAG = 6;
const MAJOR_SIMPLE = 7;

class Scanner {
  private pos = 0;
  private readonly stack: Frame[] = [];
  private readonly view: DataView;
  private readonly allowedTags: ReadonlySet<number>;
  /** Argument of the head just read: high and low 32 bits (hi is non-zero only for 8-byte arguments). */
  private argHi = 0;
  private argLo = 0;
  /**
   * `floats: 'array-elements'` only: whether the open container at each depth is an array (kept beside
   * the frames, not in them: a bigger frame costs a 100,000-deep nesting bomb twice the time).
   */
  private readonly arrayAt: boolean[] | undefined;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly options: ResolvedDecodeOptions,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.allowedTags = new Set(options.allowedTags);
    this.arrayAt = options.floats === 'array-elements' ? [] : undefined;
  }

  scanOneItem(): void {
    do {
      const parent = this.stack[this.stack.length - 1];
      const isMapKey = parent !== undefined && parent.keys !== null && parent.remaining % 2 === 0;
      if (this.scanItemHead(parent, isMapKey)) continue; // opened a container: scan its first item
      this.completeItem();
    } while (this.stack.length > 0);
    if (this.pos !== this.bytes.length) fail('CBOR_TRAILING_BYTES');
  }

  /** Reads one item's head (and a string's content). Returns true if it opened a non-empty container. */
  private scanItemHead(parent: Frame | undefined, isMapKey: boolean): boolean {
    const initial = this.readInitialByte();
    const major = initial >> 5;
    const additional = initial & 0x1f;
    this.readArgument(major, additional);
    if (isMapKey && major !== MAJOR_UINT && major !== MAJOR_NEGINT && major !== MAJOR_TEXT) {
      fail('CBOR_UNSUPPORTED', 'map keys must be integers or text strings');
    }
    switch (major) {
      case MAJOR_UINT:
      case MAJOR_NEGINT:
        if (isMapKey) this.addMapKey(parent!, `${major}:${this.argHi}:${this.argLo}`);
        return false;
      case MAJOR_BYTES:
      case MAJOR_TEXT:
        this.scanString(major, parent, isMapKey);
        return false;
      case MAJOR_ARRAY:
        return this.openContainer(this.declaredCount(1), null, true);
      case MAJOR_MAP:
        return this.openContainer(this.declaredCount(2), new Set());
      case MAJOR_TAG:
        if (this.argHi !== 0 || !this.allowedTags.has(this.argLo)) fail('CBOR_UNSUPPORTED', 'CBOR tag not allowed here');
        return this.openContainer(1, null);
      default:
        this.checkSimpleOrFloat(additional, parent);
        return false;
    }
  }

  private readInitialByte(): number {
    if (this.pos >= this.bytes.length) fail('CBOR_MALFORMED', 'input ends inside an item');
    return this.bytes[this.pos++]!;
  }

  private readArgument(major: number, additional: number): void {
    this.argHi = 0;
    if (additional < 24) {
      this.argLo = additional;
      return;
    }
    if (additional <= 27) {
      const size = 1 << (additional - 24);
      if (this.bytes.length - this.pos < size) fail('CBOR_MALFORMED', 'input ends inside an item head');
      const at = this.pos;
      if (size === 1) this.argLo = this.bytes[at]!;
      else if (size === 2) this.argLo = this.view.getUint16(at);
      else if (size === 4) this.argLo = this.view.getUint32(at);
      else {
        this.argHi = this.view.getUint32(at);
        this.argLo = this.view.getUint32(at + 4);
      }
      this.pos += size;
      return;
    }
    if (additional === 31) {
      if (major === MAJOR_SIMPLE) fail('CBOR_MALFORMED', 'break outside an indefinite-length item');
      if (major >= MAJOR_BYTES && major <= MAJOR_MAP) fail('CBOR_UNSUPPORTED', 'indefinite lengths are not accepted');
    }
    fail('CBOR_MALFORMED', 'reserved additional information');
  }

  /** Number of items a container declares, after checking they can fit in the remaining bytes (each item takes >= 1 byte). */
  private declaredCount(itemsPerEntry: 1 | 2): number {
    const remainingBytes = this.bytes.length - this.pos;
    if (this.argHi !== 0 || this.argLo * itemsPerEntry > remainingBytes) {
      fail('CBOR_MALFORMED', 'declared length runs past the end of the input');
    }
    if (this.argLo > this.options.maxItems) fail('CBOR_TOO_MANY_ITEMS');
    return this.argLo * itemsPerEntry;
  }

  private openContainer(itemCount: number, keys: Set<string> | null, isArray = false): boolean {
    if (this.stack.length + 1 > this.options.maxDepth) fail('CBOR_TOO_DEEP');
    if (itemCount === 0) return false;
    if (this.arrayAt !== undefined) this.arrayAt[this.stack.length] = isArray;
    this.stack.push({ remaining: itemCount, keys });
    return true;
  }

  private scanString(major: number, parent: Frame | undefined, isMapKey: boolean): void {
    const length = this.argLo;
    if (this.argHi !== 0 || length > this.bytes.length - this.pos) {
      fail('CBOR_MALFORMED', 'declared length runs past the end of the input');
    }
    if (length > this.options.maxStringBytes) fail('CBOR_TOO_MANY_ITEMS', 'a CBOR string exceeds the length limit');
    const content = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    if (major !== MAJOR_TEXT) return;
    let text: string;
    try {
      text = strictUtf8.decode(content);
    } catch (e) {
      fail('CBOR_MALFORMED', 'text string is not valid UTF-8', e);
    }
    if (isMapKey) this.addMapKey(parent!, `t:${text}`);
  }

  private checkSimpleOrFloat(additional: number, parent: Frame | undefined): void {
    if (additional === 20 || additional === 21 || additional === 22) return; // false, true, null
    if (additional >= 25 && additional <= 27) {
      // half, single, double float: only where the format's CDDL has a number that may be a float
      const floats = this.options.floats;
      if (floats === 'anywhere' || (parent !== undefined && this.arrayAt?.[this.stack.length - 1] === true)) return;
      fail('CBOR_UNSUPPORTED', 'a floating-point number where the format allows only integers');
    }
    if (additional === 24 && this.argLo < 32) fail('CBOR_MALFORMED', 'two-byte simple value below 32');
    fail('CBOR_UNSUPPORTED', 'undefined and unassigned simple values are not accepted');
  }

  private addMapKey(map: Frame, identity: string): void {
    const keys = map.keys!;
    if (keys.has(identity)) fail('CBOR_UNSUPPORTED', 'duplicate map key');
    keys.add(identity);
  }

  /** One item finished: count it in its parent, closing every container it completes. */
  private completeItem(): void {
    for (;;) {
      const top = this.stack[this.stack.length - 1];
      if (top === undefined) return;
      top.remaining -= 1;
      if (top.remaining > 0) return;
      this.stack.pop();
    }
  }
}
