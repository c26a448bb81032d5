/** Patient keys: TempKeyPairGen, EmergencyKeyGen, key ids and key files. */
export { TempKeyPair, tempKeyPairGen } from './tempKeyPair.ts';
export { EmergencyKey, emergencyKeyGen, EMERGENCY_KEY_SALT, EMERGENCY_KEY_LENGTH } from './emergencyKey.ts';
export { KEY_ID_LENGTH, keyIdOf, keyIdMatches, keyIdHex } from './keyId.ts';
export { PATIENT_ID_MAX_BYTES, patientIdBytes } from './patientId.ts';
export { type VitalsealKey, KEY_FILE_VERSION, KEY_FILE_MAX_LENGTH, encodeKeyFile, decodeKeyFile } from './keyFile.ts';
