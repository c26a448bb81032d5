/**
 * Resource limits for strict CBOR decoding. Every decoder in vitalseal runs with
 * limits; the defaults fit a reading envelope (an ECG block of 250 float64
 * samples is ~2.4 KiB sealed) and are overridden per call where needed.
 */
export interface CborLimits {
  /** Largest accepted input, in bytes (CBOR_TOO_LARGE). */
  readonly maxBytes: number;
  /** Deepest nesting of arrays, maps and tags; a top-level array is depth 1 (CBOR_TOO_DEEP). */
  readonly maxDepth: number;
  /** Most elements of one array, or pairs of one map (CBOR_TOO_MANY_ITEMS). */
  readonly maxItems: number;
  /**
   * Longest byte or text string, in bytes (CBOR_TOO_MANY_ITEMS). Separate from
   * `maxItems` because a sealed ECG block is one ~2.3 KiB byte string.
   */
  readonly maxStringBytes: number;
}

export const DEFAULT_CBOR_LIMITS: CborLimits = Object.freeze({
  maxBytes: 4096,
  maxDepth: 8,
  maxItems: 1024,
  maxStringBytes: 4096,
});

/**
 * Where a format's CDDL allows a floating-point number (docs/PROTOCOL.md §2.2): `anywhere` (the
 * default), `nowhere` (every number of the format is an integer: a ticket payload, a COSE header,
 * an ack), or `array-elements` (only as an element of an array: the values "v" of a reading
 * plaintext, never one of its map values such as "ts"). A float is another CBOR value than the
 * integer of the same number (RFC 8949 §2), not another encoding of it: where the CDDL says int,
 * `1.0` is refused (CBOR_UNSUPPORTED).
 */
export type FloatPlaces = 'anywhere' | 'nowhere' | 'array-elements';

/** Options of a strict decode: limits, the only CBOR tags the caller accepts (none by default), where floats may be. */
export interface StrictDecodeOptions extends Partial<CborLimits> {
  readonly allowedTags?: readonly number[];
  readonly floats?: FloatPlaces;
}

export interface ResolvedDecodeOptions extends CborLimits {
  readonly allowedTags: readonly number[];
  readonly floats: FloatPlaces;
}

export function resolveDecodeOptions(options: StrictDecodeOptions = {}): ResolvedDecodeOptions {
  return {
    maxBytes: options.maxBytes ?? DEFAULT_CBOR_LIMITS.maxBytes,
    maxDepth: options.maxDepth ?? DEFAULT_CBOR_LIMITS.maxDepth,
    maxItems: options.maxItems ?? DEFAULT_CBOR_LIMITS.maxItems,
    maxStringBytes: options.maxStringBytes ?? DEFAULT_CBOR_LIMITS.maxStringBytes,
    allowedTags: options.allowedTags ?? [],
    floats: options.floats ?? 'anywhere',
  };
}
