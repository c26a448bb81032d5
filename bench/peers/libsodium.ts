/**
 * Peer: libsodium's sealed box (crypto_box_seal: ephemeral X25519 + XSalsa20-Poly1305, nonce =
 * BLAKE2b(epk ‖ pk)) through libsodium-wrappers (libsodium compiled to WebAssembly). It is the
 * closest widely used "encrypt to a public key with a fresh ephemeral key" primitive; it is not
 * HPKE, so its output is checked with libsodium's own open, not with vitalseal.
 */
import sodiumModule from 'libsodium-wrappers';

export type Sodium = typeof sodiumModule;

let ready: Promise<Sodium> | undefined;

export function loadSodium(): Promise<Sodium> {
  ready ??= sodiumModule.ready.then(() => sodiumModule);
  return ready;
}

export function sodiumVersion(s: Sodium): string {
  return s.sodium_version_string();
}
