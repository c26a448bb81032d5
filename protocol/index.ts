/**
 * Entry point `vitalseal/protocol`: the protocol core a device vendor, a wallet or a browser uses.
 * Pure: it imports noble, cbor-x and its own files only, never a Node built-in, so it bundles for
 * browsers and runs in any JavaScript runtime. HPKE here is the pure-JS noble backend
 * (`createHpke()`); the node:crypto backend is in `vitalseal/protocol/node`.
 *
 *   import { sealReading, openReading, tempKeyPairGen, createHpke, systemRng } from 'vitalseal/protocol';
 */
export * from './bytes.ts';
export * from './errors.ts';
export * from './rng.ts';
export * from './backoff.ts';
export * from './cbor/index.ts';
export * from './cose/index.ts';
export * from './hpke/index.ts';
export * from './keys/index.ts';
export * from './envelope/index.ts';
export * from './ticket/index.ts';
export * from './framing/index.ts';
export * from './merkle/index.ts';
export * from './treeHead.ts';
// Wire contracts shared by devices, the agent and wallets.
export * from './deviceId.ts';
export * from './patientRef.ts';
export * from './topics.ts';
export * from './escrow.ts';
export * from './log/leafKinds.ts';
export * from './log/accessEvent.ts';
export * from './api/typedData.ts';
export * from './api/servedRecord.ts';
