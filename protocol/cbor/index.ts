export { DEFAULT_CBOR_LIMITS, type CborLimits, type FloatPlaces, type StrictDecodeOptions } from './limits.ts';
export { checkWellFormed } from './wellFormed.ts';
export { decodeStrict } from './decode.ts';
export { encodeCanonical } from './encode.ts';
export { Tag, isCborMap, isBytes, type CborKey, type CborMap, type CborValue } from './types.ts';
