export * from './constants.ts';
export { encStructure } from './encStructure.ts';
export {
  decodeCoseArray,
  decodeHeaders,
  decodeProtectedHeader,
  encodeProtectedHeader,
  headerParam,
  leadingTag,
  type CoseDecodeOptions,
  type CoseHeaders,
} from './message.ts';
export {
  decodeEncrypt0,
  decryptEncrypt0ChaCha,
  encodeEncrypt0,
  encryptEncrypt0ChaCha,
  type ChaChaEncrypt0Input,
  type Encrypt0Message,
} from './encrypt0.ts';
export { decodeEncryptDirect, decryptDirectChaCha, encryptDirectChaCha, type EncryptDirectMessage } from './encrypt.ts';
export { decodeSign1, sigStructure1, signSign1, verifySign1, type Sign1Message } from './sign1.ts';
export { decodeX25519CoseKey, encodeX25519CoseKey, x25519CoseKeyMap, x25519PublicKeyFromCoseKey } from './coseKey.ts';
