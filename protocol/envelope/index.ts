export {
  AEAD_TAG_BYTES,
  ENC_BYTES,
  ENVELOPE_FIELD,
  ENVELOPE_HPKE_INFO,
  ENVELOPE_MAX_BYTES,
  ENVELOPE_MODE_AUTH,
  KID_BYTES,
} from './constants.ts';
export { isPatientRef, isSensorType, isUint, isUnit, SENSOR_TYPE_PATTERN, UNIT_PATTERN } from './fields.ts';
export { checkReading, decodeReading, encodeReading, READING_MAX_VALUES, type Reading } from './reading.ts';
export { encodeEnvelopeProtected, isAuthMode, type EnvelopeHeader, type ReadingHeader } from './header.ts';
export { envelopeAad } from './aad.ts';
export { decodeEnvelope, decodeEnvelopeHeaderView, decodeEnvelopeView, type DecodedEnvelope, type EnvelopeHeaderView } from './decode.ts';
export {
  tryDecodeCanonicalEnvelope,
  tryDecodeCanonicalHeader,
  type CanonicalEnvelopeView,
  type CanonicalHeaderView,
  type EnvelopeHeaderFields,
} from './fastHeader.ts';
export { sealReading, type ReadingRecipient, type SealReadingInput } from './seal.ts';
export { openReading, originOfOpened, type OpenedReading, type OpenReadingOptions } from './open.ts';
export { describeOrigin, identityFingerprint, type ReadingOrigin } from './origin.ts';
export { createSessionSealer, type SessionSealer } from './session.ts';
export { discloseReadingKey, openDisclosedReading, type DisclosedKey, type ReadingDisclosure } from './disclosure.ts';
