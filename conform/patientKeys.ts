/**
 * The kit's test patients (docs/PROTOCOL.md §3.2): a fresh X25519 temporary key pair for every
 * ticket the kit issues, kept in memory only, so the kit can open the device's envelopes. Each key
 * is looked up by its kid (hex).
 */
import { toHex } from '../protocol/bytes.ts';
import type { Hpke } from '../protocol/hpke/types.ts';
import { tempKeyPairGen, type TempKeyPair } from '../protocol/keys/index.ts';
import type { Rng } from '../protocol/rng.ts';

export class PatientKeys {
  private readonly byKid = new Map<string, TempKeyPair>();
  private count = 0;

  constructor(
    private readonly rng: Rng,
    private readonly hpke: Hpke,
  ) {}

  /** A new test patient's temporary key. */
  create(): TempKeyPair {
    const key = tempKeyPairGen(`conform-patient-${++this.count}`, this.rng, this.hpke);
    this.byKid.set(toHex(key.kid), key);
    return key;
  }

  secretKeyOf(kidHex: string): Uint8Array | undefined {
    return this.byKid.get(kidHex)?.secretKey;
  }

  has(kidHex: string): boolean {
    return this.byKid.has(kidHex);
  }
}
