/**
 * The kit's intake in HPKE Auth mode (issue #20, docs/PROTOCOL.md §3.6, §5.7): under a ticket that
 * certifies an identity key (the `senders` lookup) a reading opens only in Auth mode with that key
 * (origin 'auth'); base mode there, or Auth mode with another key, is ENVELOPE_ORIGIN_UNVERIFIED;
 * Auth mode under a v1 ticket has no sender key (ENVELOPE_NO_SENDER_KEY). The status parser keeps "idk".
 */
import { describe, expect, it } from 'vitest';
import { x25519 } from '@noble/curves/ed25519.js';
import { toHex } from '../../protocol/bytes.ts';
import { createHpke } from '../../protocol/node.ts';
import { tempKeyPairGen } from '../../protocol/keys/index.ts';
import { seededRng } from '../../protocol/rng.ts';
import { sealReading } from '../../protocol/envelope/index.ts';
import { envelopeStructureProblems, inspectReading, parseMqttStatus } from '../../conform/intake.ts';

const hpke = createHpke('node');
const patient = tempKeyPairGen('auth-patient', seededRng('conform-auth-patient'), hpke);
const skS = seededRng('conform-auth-identity')(32);
const idk = x25519.getPublicKey(skS);
const other = x25519.getPublicKey(seededRng('conform-auth-other')(32));

function envelope(auth: boolean, seq: number): Uint8Array {
  return sealReading({
    reading: { st: 'spo2', ts: 1_767_225_600_000, v: [97, 60], u: '%,bpm' },
    header: { dev: 'auth-dev', seq, ts: 1_767_225_600_000, st: 'spo2' },
    recipient: { publicKey: patient.publicKey, kid: patient.kid },
    rng: seededRng(`auth-eph-${seq}`),
    hpke,
    ...(auth ? { senderSecretKey: skS } : {}),
  });
}

const inspect = (bytes: Uint8Array, sender: Uint8Array | undefined) =>
  inspectReading(bytes, { index: 0, at: 0, keys: () => patient.secretKey, senders: () => sender, hpke, recordId: () => 'x' });

describe('conform intake: HPKE Auth mode', () => {
  it('opens an Auth-mode reading with the certified idk only, and a base-mode one only under a v1 ticket', () => {
    const a = envelope(true, 1);
    const b = envelope(false, 2);
    const ok = inspect(a, idk);
    expect(ok.header?.m).toBe(2);
    expect(ok.origin).toBe('auth');
    expect(ok.reading?.v).toEqual([97, 60]);
    expect(inspect(a, other).openError).toBe('ENVELOPE_ORIGIN_UNVERIFIED');
    expect(inspect(a, undefined).openError).toBe('ENVELOPE_NO_SENDER_KEY');
    expect(inspect(b, idk).openError).toBe('ENVELOPE_ORIGIN_UNVERIFIED');
    expect(inspect(b, undefined).origin).toBe('base');
    expect(envelopeStructureProblems(a)).toEqual([]);
  });

  it('keeps the idk of a status', () => {
    const s = parseMqttStatus(new TextEncoder().encode(JSON.stringify({ state: 'online', seq: 0, boot: 1, idk: toHex(idk) })));
    expect(s.problems).toEqual([]);
    expect(s.idk).toBe(toHex(idk));
    expect(parseMqttStatus(new TextEncoder().encode(JSON.stringify({ state: 'online', idk: 'AB' }))).problems).toContain(
      'idk is not 64 lower-case hex digits',
    );
  });
});
