/**
 * The published vectors are not merely self-consistent: every envelope of
 * test/vectors/vitalseal/envelopes.json and session.json is opened with @hpke/core (hpke-js, an
 * independent RFC 9180 implementation) from the vector's recipient secret key, enc, info and AAD,
 * and gives the vector's plaintext (and so are escrow.json's escrow and release); the AEAD key and nonces it derives are the vector's key schedule.
 * keys.json's DeriveKeyPair outputs are re-derived with @hpke/core too, and the KEM intermediates
 * (dkp_prk, dh, shared_secret) are recomputed with node:crypto from the RFC 9180 labels written out.
 *
 * @hpke/core ships no ChaCha20Poly1305 (that is the @hpke/chacha20poly1305 extension, not installed),
 * so the AEAD below is node:crypto's chacha20-poly1305 behind @hpke/core's AeadInterface; KEM, KDF,
 * key schedule, nonce computation and sequence numbers are all @hpke/core's. Nothing here uses the
 * project's CBOR, COSE or HPKE code: the envelope layout and the Enc_structure are rebuilt by hand.
 */
import { createCipheriv, createDecipheriv, createHmac, createPrivateKey, createPublicKey, diffieHellman, hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AeadId, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256, type AeadEncryptionContext, type AeadInterface } from '@hpke/core';
import { describe, expect, it } from 'vitest';

// biome-ignore lint/suspicious/noExplicitAny: vectors are untyped JSON, checked field by field
type Json = any;

const load = (name: string): Json => JSON.parse(readFileSync(new URL(`../vectors/vitalseal/${name}`, import.meta.url), 'utf8'));
const buf = (hex: string): Buffer => Buffer.from(hex, 'hex');
const ab = (hex: string): ArrayBuffer => new Uint8Array(buf(hex)).buffer;
const u8 = (x: ArrayBufferLike | ArrayBufferView): Buffer =>
  ArrayBuffer.isView(x) ? Buffer.from(x.buffer, x.byteOffset, x.byteLength) : Buffer.from(x);
const hexOf = (x: ArrayBufferLike | ArrayBufferView): string => u8(x).toString('hex');

/** Every (key, nonce) the AEAD was asked to open with, to compare with the vectors' key schedule. */
const opened: Array<{ key: string; nonce: string }> = [];

class NodeChaChaContext implements AeadEncryptionContext {
  constructor(private readonly key: Buffer) {}
  async seal(
    iv: ArrayBufferLike | ArrayBufferView,
    data: ArrayBufferLike | ArrayBufferView,
    aad: ArrayBufferLike | ArrayBufferView,
  ): Promise<ArrayBuffer> {
    const c = createCipheriv('chacha20-poly1305', this.key, u8(iv), { authTagLength: 16 });
    c.setAAD(u8(aad), { plaintextLength: u8(data).length });
    const out = Buffer.concat([c.update(u8(data)), c.final(), c.getAuthTag()]);
    return new Uint8Array(out).buffer;
  }
  async open(
    iv: ArrayBufferLike | ArrayBufferView,
    data: ArrayBufferLike | ArrayBufferView,
    aad: ArrayBufferLike | ArrayBufferView,
  ): Promise<ArrayBuffer> {
    opened.push({ key: this.key.toString('hex'), nonce: hexOf(iv) });
    const bytes = u8(data);
    const d = createDecipheriv('chacha20-poly1305', this.key, u8(iv), { authTagLength: 16 });
    d.setAAD(u8(aad), { plaintextLength: bytes.length - 16 });
    d.setAuthTag(bytes.subarray(bytes.length - 16));
    const out = Buffer.concat([d.update(bytes.subarray(0, bytes.length - 16)), d.final()]);
    return new Uint8Array(out).buffer;
  }
}

class NodeChaCha20Poly1305 implements AeadInterface {
  readonly id = AeadId.Chacha20Poly1305;
  readonly keySize = 32;
  readonly nonceSize = 12;
  readonly tagSize = 16;
  createEncryptionContext(key: ArrayBufferLike | ArrayBufferView): AeadEncryptionContext {
    return new NodeChaChaContext(Buffer.from(u8(key)));
  }
}

const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new NodeChaCha20Poly1305() });
const importSecret = (hex: string) => suite.kem.importKey('raw', ab(hex), false);

/** X25519 public key of a raw secret key via node:crypto (RFC 8410 PKCS#8 prefix, SPKI suffix). */
function x25519PublicOf(secretHex: string): string {
  return createPublicKey(x25519Private(secretHex)).export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
}

const x25519Private = (secretHex: string) =>
  createPrivateKey({ key: Buffer.concat([buf('302e020100300506032b656e04220420'), buf(secretHex)]), format: 'der', type: 'pkcs8' });
const x25519Public = (publicHex: string) =>
  createPublicKey({ key: Buffer.concat([buf('302a300506032b656e032100'), buf(publicHex)]), format: 'der', type: 'spki' });

/** RFC 9180 labels of DHKEM(X25519, HKDF-SHA256), written out: "HPKE-v1" ‖ "KEM" ‖ I2OSP(0x0020, 2). */
const KEM_LABEL_PREFIX = Buffer.concat([Buffer.from('HPKE-v1'), Buffer.from('KEM'), buf('0020')]);

/** dkp_prk = LabeledExtract("", "dkp_prk", ikm) with node:crypto's HMAC. */
const dkpPrkOf = (ikmHex: string): string =>
  createHmac('sha256', Buffer.alloc(0))
    .update(Buffer.concat([KEM_LABEL_PREFIX, Buffer.from('dkp_prk'), buf(ikmHex)]))
    .digest('hex');

/** Decap with node:crypto: dh = X25519(skR, enc); shared_secret = HKDF(salt "", labeled "eae_prk" ‖ dh, labeled info "shared_secret" ‖ enc ‖ pkR, 32). */
function kemOf(secretHex: string, encHex: string): { dh: string; sharedSecret: string } {
  const dh = diffieHellman({ privateKey: x25519Private(secretHex), publicKey: x25519Public(encHex) });
  const ikm = Buffer.concat([KEM_LABEL_PREFIX, Buffer.from('eae_prk'), dh]);
  const info = Buffer.concat([buf('0020'), KEM_LABEL_PREFIX, Buffer.from('shared_secret'), buf(encHex), buf(x25519PublicOf(secretHex))]);
  return { dh: dh.toString('hex'), sharedSecret: Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), info, 32)).toString('hex') };
}

/** Auth-mode KEM (RFC 9180 §4.1 AuthDecap) with node:crypto: dh = X25519(skR, enc) ‖ X25519(skR, pkS), kem_context = enc ‖ pkR ‖ pkS. */
function kemAuthOf(secretHex: string, encHex: string, senderHex: string): { dh: string; kemContext: string; sharedSecret: string } {
  const dh = Buffer.concat([
    diffieHellman({ privateKey: x25519Private(secretHex), publicKey: x25519Public(encHex) }),
    diffieHellman({ privateKey: x25519Private(secretHex), publicKey: x25519Public(senderHex) }),
  ]);
  const kemContext = Buffer.concat([buf(encHex), buf(x25519PublicOf(secretHex)), buf(senderHex)]);
  const ikm = Buffer.concat([KEM_LABEL_PREFIX, Buffer.from('eae_prk'), dh]);
  const info = Buffer.concat([buf('0020'), KEM_LABEL_PREFIX, Buffer.from('shared_secret'), kemContext]);
  return {
    dh: dh.toString('hex'),
    kemContext: kemContext.toString('hex'),
    sharedSecret: Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), info, 32)).toString('hex'),
  };
}

/** The canonical envelope layout read back by hand: d0 83, bstr protected, a2 04 50 kid 23 58 20 ek, bstr ciphertext. */
function decodeLayout(envelopeHex: string): { protected: string; enc: string; ciphertext: string } {
  const b = buf(envelopeHex);
  let p = 2; // d0 83
  const bstrAt = (): Buffer => {
    const head = b[p]!;
    let n = head & 0x1f;
    p++;
    if (n === 24) n = b[p++]!;
    else if (n === 25) {
      n = b.readUInt16BE(p);
      p += 2;
    }
    const out = b.subarray(p, p + n);
    p += n;
    return out;
  };
  const prot = bstrAt();
  p += 3 + 16 + 3; // a2 04 50 <kid> 23 58 20
  const enc = b.subarray(p, p + 32);
  p += 32;
  const ciphertext = bstrAt();
  return { protected: prot.toString('hex'), enc: enc.toString('hex'), ciphertext: ciphertext.toString('hex') };
}

/** CBOR byte-string head + bytes, written out by hand (RFC 8949 §3.1, major type 2). */
function bstr(hex: string): string {
  const n = hex.length / 2;
  if (n < 24) return (0x40 + n).toString(16).padStart(2, '0') + hex;
  if (n < 0x100) return `58${n.toString(16).padStart(2, '0')}${hex}`;
  if (n < 0x10000) return `59${n.toString(16).padStart(4, '0')}${hex}`;
  throw new Error('longer than any envelope');
}

/** Enc_structure ["Encrypt0", protected, h''] by hand: array(3), tstr(8) "Encrypt0", bstr, bstr(0). */
const encStructure = (protectedHex: string): string => `8368${Buffer.from('Encrypt0').toString('hex')}${bstr(protectedHex)}40`;

/** Tagged COSE_Encrypt0 by hand: tag 16, array(3), protected, {4: kid, -4: enc} in canonical order, ciphertext. */
const envelopeLayout = (protectedHex: string, kid: string, enc: string, ciphertext: string): string =>
  `d083${bstr(protectedHex)}a204${bstr(kid)}23${bstr(enc)}${bstr(ciphertext)}`;

describe('test/vectors/vitalseal opened with @hpke/core (independent RFC 9180 implementation)', () => {
  it('keys.json: DeriveKeyPair(ikm) gives the same X25519 key pairs', async () => {
    const keys = load('keys.json');
    const temp = keys.positive.filter((v: Json) => v.kind === 'temp');
    expect(temp.length).toBeGreaterThan(0);
    for (const v of temp) {
      expect(dkpPrkOf(v.ikm), v.name).toBe(v.dkpPrk);
      expect(x25519PublicOf(v.secretKey), v.name).toBe(v.publicKey);
      const pair = await suite.kem.deriveKeyPair(ab(v.ikm));
      expect(hexOf(await suite.kem.serializePublicKey(pair.publicKey)), v.name).toBe(v.publicKey);
      expect(hexOf(await suite.kem.serializePrivateKey(pair.privateKey)), v.name).toBe(v.secretKey);
    }
  });

  it('envelopes.json: every single-shot envelope opens to its plaintext, with the vector key and base_nonce', async () => {
    const f = load('envelopes.json');
    const r = f.inputs.recipient;
    const recipientKey = await importSecret(r.secretKey);
    expect(f.positive.length).toBeGreaterThan(0);
    for (const v of f.positive) {
      expect(v.envelope, v.name).toBe(envelopeLayout(v.protected, r.kid, v.enc, v.ciphertext));
      expect(v.aad).toBe(encStructure(v.protected));
      opened.length = 0;
      const pt = await suite.open(
        { recipientKey, enc: ab(v.enc), info: ab(f.inputs.info) },
        ab(v.ciphertext),
        ab(encStructure(v.protected)),
      );
      expect(hexOf(pt), v.name).toBe(v.plaintext);
      expect(opened).toEqual([{ key: v.keySchedule.key, nonce: v.keySchedule.baseNonce }]);
      // enc is the X25519 public key of the vector's ephemeral secret key (node:crypto, PKCS#8 import)
      expect(x25519PublicOf(v.ephemeral.secretKey), v.name).toBe(v.enc);
      expect(v.ephemeral.publicKey).toBe(v.enc);
      expect(kemOf(r.secretKey, v.enc), v.name).toEqual(v.kem);
    }
  });

  it('session.json: one recipient context opens the stream in hs order, nonce = base_nonce XOR hs', async () => {
    const f = load('session.json');
    const r = f.inputs.recipient;
    const recipientKey = await importSecret(r.secretKey);
    for (const s of f.positive) {
      expect(x25519PublicOf(f.inputs.ephemeral.secretKey)).toBe(s.enc);
      expect(kemOf(r.secretKey, s.enc)).toEqual(s.kem);
      const context = await suite.createRecipientContext({ recipientKey, enc: ab(s.enc), info: ab(f.inputs.info) });
      opened.length = 0;
      for (const m of s.messages) {
        expect(m.envelope).toBe(envelopeLayout(m.protected, r.kid, s.enc, m.ciphertext));
        expect(m.aad).toBe(encStructure(m.protected));
        const pt = await context.open(ab(m.ciphertext), ab(encStructure(m.protected)));
        expect(hexOf(pt), `hs ${m.hs}`).toBe(m.plaintext);
      }
      expect(opened).toEqual(s.messages.map((m: Json) => ({ key: s.keySchedule.key, nonce: m.nonce })));
      expect(opened[0]!.nonce).toBe(s.keySchedule.baseNonce);
    }
  });

  it('escrow.json: the escrow and the release open to K with their info and aad', async () => {
    const f = load('escrow.json');
    expect(f.positive.length).toBe(2);
    for (const v of f.positive) {
      expect(x25519PublicOf(v.ephemeral.secretKey), v.name).toBe(v.enc);
      expect(kemOf(v.recipientSecretKey, v.enc), v.name).toEqual(v.kem);
      opened.length = 0;
      const pt = await suite.open(
        { recipientKey: await importSecret(v.recipientSecretKey), enc: ab(v.enc), info: ab(v.info) },
        ab(v.ciphertext),
        ab(v.aad),
      );
      expect(hexOf(pt), v.name).toBe(f.inputs.emergencyKey.key);
      expect(opened).toEqual([{ key: v.keySchedule.key, nonce: v.keySchedule.baseNonce }]);
      expect(Buffer.from(v.info, 'hex').toString()).toBe(v.infoText);
      expect(Buffer.from(v.aad, 'hex').toString()).toBe(v.aadText);
    }
  });

  it("auth-envelopes.json: @hpke/core in auth mode (senderPublicKey = the device idk) opens every envelope; the KEM intermediates are AuthDecap's", async () => {
    const f = load('auth-envelopes.json');
    const r = f.inputs.recipient;
    const recipientKey = await importSecret(r.secretKey);
    const senderPublicKey = await suite.kem.importKey('raw', ab(f.inputs.device.publicKey), true);
    expect(x25519PublicOf(f.inputs.device.secretKey)).toBe(f.inputs.device.publicKey);
    for (const v of f.positive) {
      expect(x25519PublicOf(v.ephemeral.secretKey), v.name).toBe(v.enc);
      // dh = X25519(skR, enc) ‖ X25519(skR, pkS), kem_context = enc ‖ pkR ‖ pkS (node:crypto, labels written out)
      expect(kemAuthOf(r.secretKey, v.enc, f.inputs.device.publicKey), v.name).toEqual(v.kem);
      const messages = v.messages ?? [v];
      const context = await suite.createRecipientContext({ recipientKey, enc: ab(v.enc), info: ab(f.inputs.info), senderPublicKey });
      opened.length = 0;
      for (const m of messages) {
        expect(m.envelope, v.name).toBe(envelopeLayout(m.protected, r.kid, v.enc, m.ciphertext));
        expect(m.protected).toMatch(/^a[67]01182a616d02/); // map, 1: 42, "m": 2 first after alg
        const pt = await context.open(ab(m.ciphertext), ab(encStructure(m.protected)));
        expect(hexOf(pt), v.name).toBe(m.plaintext);
      }
      expect(opened[0]).toEqual({ key: v.keySchedule.key, nonce: v.keySchedule.baseNonce });
    }
  });

  it('auth-envelopes.json: the forged envelope does not open with @hpke/core and the device idk (the check can fail)', async () => {
    const f = load('auth-envelopes.json');
    const forged = f.negative.find((n: Json) => n.name === 'sealed-by-another-identity-key');
    const layout = decodeLayout(forged.envelope);
    const recipientKey = await importSecret(f.inputs.recipient.secretKey);
    const senderPublicKey = await suite.kem.importKey('raw', ab(f.inputs.device.publicKey), true);
    await expect(
      suite.open(
        { recipientKey, enc: ab(layout.enc), info: ab(f.inputs.info), senderPublicKey },
        ab(layout.ciphertext),
        ab(encStructure(layout.protected)),
      ),
    ).rejects.toThrow();
    const forgerKey = await suite.kem.importKey('raw', ab(f.inputs.forger.publicKey), true);
    const pt = await suite.open(
      { recipientKey, enc: ab(layout.enc), info: ab(f.inputs.info), senderPublicKey: forgerKey },
      ab(layout.ciphertext),
      ab(encStructure(layout.protected)),
    );
    expect(pt.byteLength).toBeGreaterThan(0); // it is the forger's: it opens with the forger's public key
  });

  it('a tampered vector does not open (the check can fail)', async () => {
    const f = load('envelopes.json');
    const v = f.positive[0];
    const recipientKey = await importSecret(f.inputs.recipient.secretKey);
    const aad = buf(encStructure(v.protected));
    aad[aad.length - 2] = aad[aad.length - 2]! ^ 1; // one bit of the protected header
    await expect(suite.open({ recipientKey, enc: ab(v.enc) }, ab(v.ciphertext), new Uint8Array(aad).buffer)).rejects.toThrow();
  });
});
