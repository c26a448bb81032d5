import { ed25519 } from '@noble/curves/ed25519.js';
import { createHpke } from '../../protocol/node.ts';
import { tempKeyPairGen, type TempKeyPair } from '../../protocol/keys/index.ts';
import { issueTicket } from '../../protocol/ticket/index.ts';
import { sealReading } from '../../protocol/envelope/index.ts';
import { seededRng, type Rng } from '../../protocol/rng.ts';

/** A ward authority, a patient session key and tickets: the fixtures every ingest test needs. */
export class WardFixture {
  readonly rng: Rng;
  readonly authoritySecret: Uint8Array;
  readonly authorityPublic: Uint8Array;
  readonly patient: TempKeyPair;
  readonly hpke = createHpke('node');

  constructor(seed = 'ward-fixture') {
    this.rng = seededRng(seed);
    this.authoritySecret = this.rng(32);
    this.authorityPublic = ed25519.getPublicKey(this.authoritySecret);
    this.patient = tempKeyPairGen('patient-1', this.rng, this.hpke);
  }

  ticketFor(dev: string, opts: { nbf?: number; exp?: number; patient?: string } = {}): Uint8Array {
    const now = Math.floor(Date.now() / 1000);
    return issueTicket(
      {
        dev,
        kid: this.patient.kid,
        pk: this.patient.publicKey,
        patient: opts.patient ?? 'patient-ref-1',
        nbf: opts.nbf ?? now - 3600,
        exp: opts.exp ?? now + 86_400,
      },
      this.authoritySecret,
    );
  }

  seal(dev: string, seq: number, opts: { ts?: number; value?: number; st?: string; kid?: Uint8Array } = {}): Uint8Array {
    const ts = opts.ts ?? Date.now();
    const st = opts.st ?? 'spo2';
    return sealReading({
      reading: { st, ts, v: [opts.value ?? 97, 72], u: '%' },
      header: { dev, seq, ts, st },
      recipient: { publicKey: this.patient.publicKey, kid: opts.kid ?? this.patient.kid },
      hpke: this.hpke,
      rng: this.rng,
    });
  }
}
