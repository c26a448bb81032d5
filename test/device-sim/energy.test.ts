import { describe, expect, it } from 'vitest';
import {
  CYCLES,
  energyTable,
  formatEnergyTable,
  hmacBlocks,
  perReadingOps,
  readingEnergy,
  readingShapeOf,
  sessionOps,
  setupSha256Blocks,
  sha256Blocks,
} from '../../device-sim/energy/index.ts';
import { PROFILE_NAMES } from '../../device-sim/profiles/index.ts';

describe('energy model', () => {
  it('counts SHA-256 blocks of the HPKE key schedule from RFC 9180 message lengths', () => {
    expect(sha256Blocks(55)).toBe(1);
    expect(sha256Blocks(56)).toBe(2);
    expect(hmacBlocks(51)).toBe(4); // 64 + 51 → 2 blocks inner, 2 outer
    // eae_prk 4 + shared_secret 5 + secret 4 + key 5 + base_nonce 5 (constants precomputed)
    expect(setupSha256Blocks()).toBe(23);
    const ops = perReadingOps(20, 60);
    expect(ops.x25519).toBe(2);
    expect(ops.chacha20Bytes).toBe(128); // Poly1305 key block + one keystream block
    expect(ops.poly1305Bytes).toBe(64 + 32 + 16);
    expect(sessionOps(20, 60, 100).x25519).toBeCloseTo(0.02);
  });

  it('uses the published X25519 counts and cites a source for every figure', () => {
    expect(CYCLES['cortex-m4'].x25519.value).toBe(548_873);
    expect(CYCLES['cortex-m0plus'].x25519.value).toBe(3_589_850);
    for (const core of Object.values(CYCLES)) for (const fig of Object.values(core)) expect(fig.source.length).toBeGreaterThan(5);
  });

  it('gives µJ per reading, average current and CR2032 life, per-reading vs session', () => {
    const shape = readingShapeOf('pulse-oximeter');
    expect(shape.envelopeBytes).toBeGreaterThan(100);
    const per = readingEnergy(shape, { core: 'cortex-m4', mode: 'per-reading', periodMs: 1000 });
    // 2 × 548 873 cycles dominate: ≈ 1.1 M cycles ≈ 17 ms at 64 MHz
    expect(per.cycles.x25519).toBe(2 * 548_873);
    expect(per.cpuMs).toBeGreaterThan(17);
    expect(per.cpuMs).toBeLessThan(20);
    // E = t · I · V
    expect(per.cryptoUj).toBeCloseTo((per.cycles.total / 64e6) * 3.3e-3 * 3 * 1e6, 6);
    const session = readingEnergy(shape, { core: 'cortex-m4', mode: 'session', readingsPerSession: 86_400, periodMs: 1000 });
    // session mode saves the X25519s, not the envelope's encoding (counted since issue #21): ~70× less, not > 100×
    expect(session.cryptoUj).toBeLessThan(per.cryptoUj / 50);
    expect(session.radioUj).toBeCloseTo(per.radioUj, 0);
    // battery life = capacity / average current
    expect(per.batteryDays).toBeCloseTo(225_000 / per.averageCurrentUa / 24, 6);
    // the envelope's encoding is part of the reading's cycles (issue #21), per reading in both modes
    expect(shape.cborBytes).toBe(shape.plaintextBytes + shape.aadBytes + shape.envelopeBytes - (shape.plaintextBytes + 16));
    expect(per.cycles.cbor).toBe(shape.cborBytes * CYCLES['cortex-m4'].cborEncodePerByte.value);
    expect(per.cycles.total).toBe(per.cycles.x25519 + per.cycles.sha256 + per.cycles.chacha20 + per.cycles.poly1305 + per.cycles.cbor);
    expect(session.cycles.cbor).toBe(per.cycles.cbor);
    const m0 = readingEnergy(shape, { core: 'cortex-m0plus', mode: 'per-reading', periodMs: 1000 });
    expect(m0.cryptoUj).toBeGreaterThan(3 * per.cryptoUj);
    // more transmissions cost more radio energy
    expect(
      readingEnergy(shape, { core: 'cortex-m4', mode: 'per-reading', periodMs: 1000, transmissionsPerReading: 2 }).radioUj,
    ).toBeCloseTo(2 * per.radioUj, 6);
  });

  it('exports the table for the five profiles × two cores × two modes', () => {
    const t = energyTable();
    expect(t.rows).toHaveLength(PROFILE_NAMES.length * 2 * 2);
    const ecg = t.rows.find((r) => r.profile === 'ecg-patch' && r.core === 'cortex-m4' && r.mode === 'per-reading')!;
    const spo2 = t.rows.find((r) => r.profile === 'pulse-oximeter' && r.core === 'cortex-m4' && r.mode === 'per-reading')!;
    expect(ecg.envelopeBytes).toBeGreaterThan(3 * spo2.envelopeBytes);
    expect(ecg.radioUj).toBeGreaterThan(spo2.radioUj);
    const nibp = t.rows.find((r) => r.profile === 'nibp-cuff' && r.core === 'cortex-m4' && r.mode === 'per-reading')!;
    expect(nibp.batteryDays).toBeGreaterThan(10 * spo2.batteryDays);
    for (const r of t.rows) expect(r.totalUj).toBeCloseTo(r.cryptoUj + r.radioUj, 6);
    // building the ECG envelope (~800 CBOR bytes) is a few % of its per-reading cycles on a Cortex-M4, X25519 still dominates
    const ecgEnergy = readingEnergy(readingShapeOf('ecg-patch'), { core: 'cortex-m4', mode: 'per-reading', periodMs: 1000 });
    expect(ecgEnergy.cycles.cbor / ecgEnergy.cycles.total).toBeGreaterThan(0.01);
    expect(ecgEnergy.cycles.cbor / ecgEnergy.cycles.total).toBeLessThan(0.1);
    const text = formatEnergyTable(t);
    expect(text).toContain('CR2032 days');
    expect(text).toContain('548,873');
    expect(text).toContain('cycles per CBOR byte');
  });
});
