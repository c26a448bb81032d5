/**
 * Entry point `vitalseal/wallet`: the patient's and the clinician's wallet (keys, sessions, consent,
 * verified records, disclosures, emergency access). The CLI (`vitalseal wallet …`) is a thin layer over these.
 */
export * from './wallet.ts';
export * from './errors.ts';
export * from './keyFile.ts';
export * from './agentClient.ts';
export * from './chainLink.ts';
export * from './chainEvents.ts';
export * from './sessions.ts';
export * from './consent.ts';
export * from './keyShare.ts';
export * from './fetchRecords.ts';
export * from './verifyRecords.ts';
export * from './readings.ts';
export * from './accessEvents.ts';
export * from './disclosure.ts';
export * from './emergency.ts';
