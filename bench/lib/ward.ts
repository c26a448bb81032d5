/**
 * Bench fixtures: a ward authority, one patient session key, per-device tickets and
 * credentials, provisioned straight into an agent data dir (before the agent starts).
 */
import pino from 'pino';
import type { Hpke } from '../../protocol/hpke/index.ts';
import { createHpke } from '../../protocol/node.ts';
import { tempKeyPairGen, type TempKeyPair } from '../../protocol/keys/index.ts';
import { decodeTicket, issueTicket } from '../../protocol/ticket/index.ts';
import { createSessionSealer, sealReading } from '../../protocol/envelope/index.ts';
import { seededRng, systemClock, type Rng } from '../../protocol/rng.ts';

export const devName = (prefix: string, i: number): string => `${prefix}-${String(i).padStart(5, '0')}`;
export const secretOf = (dev: string): string => `bench-secret-${dev}`;

export class BenchWard {
  readonly rng: Rng;
  readonly hpke: Hpke = createHpke('node');
  readonly authoritySecret: Uint8Array;
  readonly patient: TempKeyPair;

  constructor(seed: string) {
    this.rng = seededRng(seed);
    this.authoritySecret = this.rng(32);
    this.patient = tempKeyPairGen('bench-patient', this.rng, this.hpke);
  }

  ticketFor(dev: string): Uint8Array {
    const now = Math.floor(Date.now() / 1000);
    return issueTicket(
      { dev, kid: this.patient.kid, pk: this.patient.publicKey, patient: 'bench-patient-ref', nbf: now - 3600, exp: now + 86_400 },
      this.authoritySecret,
    );
  }

  /** A per-reading (single-shot HPKE) envelope. */
  seal(dev: string, seq: number, ts = Date.now()): Buffer {
    return Buffer.from(
      sealReading({
        reading: { st: 'spo2', ts, v: [97, 72], u: '%' },
        header: { dev, seq, ts, st: 'spo2' },
        recipient: { publicKey: this.patient.publicKey, kid: this.patient.kid },
        hpke: this.hpke,
        rng: this.rng,
      }),
    );
  }

  /** A session-mode sealer for one device. */
  sessionSealer(dev: string): (seq: number, ts: number) => Buffer {
    const s = createSessionSealer({
      recipient: { publicKey: this.patient.publicKey, kid: this.patient.kid },
      hpke: this.hpke,
      rng: this.rng,
    });
    return (seq, ts) => Buffer.from(s.seal({ reading: { st: 'spo2', ts, v: [97, 72], u: '%' }, header: { dev, seq, ts, st: 'spo2' } }));
  }

  /** Provisions `devices` (credentials from secretOf) with their tickets into an agent data dir. */
  async provision(dataDir: string, devices: readonly string[]): Promise<void> {
    const { AgentCore } = await import('../../agent/core.ts');
    const core = new AgentCore({
      dataDir,
      clock: systemClock,
      logger: pino({ level: 'silent' }),
      maxEnvelopeBytes: 4096,
      maxFutureSkewMs: 300_000,
      quarantineMaxRows: 10_000,
      defaultMetrics: false,
    });
    try {
      const now = Date.now();
      const tickets = devices.map((dev) => [dev, this.ticketFor(dev)] as const);
      core.db.transaction(() => {
        for (const [dev, ticket] of tickets) {
          core.store.provisionDevice(dev, now, secretOf(dev));
          const t = decodeTicket(ticket);
          core.store.saveTicket({ device: t.dev, kid: t.kid, patient: t.patient, nbf: t.nbf, exp: t.exp, ticket, pushedAt: now });
        }
      })();
    } finally {
      await core.close();
    }
  }
}
