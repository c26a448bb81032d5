/**
 * What the ward CA (agent/tls/wardCa.ts) and the conformance kit's test CA (conform/tlsCa.ts) share:
 * @peculiar/x509 on node's WebCrypto, the ECDSA P-256 / SHA-256 algorithms of every vitalseal
 * certificate, and the URI SAN that names a device in its client certificate (docs/PROTOCOL.md §9.8).
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** Key generation and import parameters of every vitalseal certificate key. */
export const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
/** Signature algorithm of every vitalseal certificate and CRL. */
export const EC_SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
export const DAY_MS = 86_400_000;

/** The URI SAN that names a device in its client certificate (§9.8). */
export const deviceUri = (device: string): string => `urn:vitalseal:device:${device}`;
