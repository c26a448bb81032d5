/**
 * Cycle counts of the primitives a reading costs on a microcontroller, each with its
 * source. `kind` says how much to trust it:
 *  - 'published': a measured figure from the cited work (checked against the source);
 *  - 'quoted':    a figure given in the vitalseal issue/design for this model, of the order
 *                 the cited work reports, not re-measured here;
 *  - 'estimate':  derived by us (reasoning in `note`), to be replaced by a measurement.
 * X25519 dominates every per-reading total (> 90 %), so the estimates move results little.
 */
export type FigureKind = 'published' | 'quoted' | 'estimate';

export interface CycleFigure {
  readonly value: number;
  readonly unit: 'cycles' | 'cycles/byte' | 'cycles/block';
  readonly kind: FigureKind;
  readonly source: string;
  readonly note?: string;
}

export type CoreName = 'cortex-m4' | 'cortex-m0plus';
export const CORE_NAMES: readonly CoreName[] = ['cortex-m4', 'cortex-m0plus'];

export interface CoreCycles {
  /** One X25519 scalar multiplication (key generation and DH each cost one). */
  readonly x25519: CycleFigure;
  readonly chacha20PerByte: CycleFigure;
  readonly poly1305PerByte: CycleFigure;
  /** One SHA-256 compression (64-byte block). */
  readonly sha256PerBlock: CycleFigure;
  /**
   * Building the envelope around the ciphertext, per byte of CBOR written: the reading plaintext,
   * the protected header inside its Enc_structure, the COSE_Encrypt0 framing (with the field
   * checks the encoder runs). Issue #21: the per-reading energy is the whole operation's.
   */
  readonly cborEncodePerByte: CycleFigure;
}

/**
 * Measured on the development machine (2026-12-02): device-c's encoder (src/cbor_enc.c, reading.c,
 * envelope.c, fields.c at 3a66057; gcc 12 -O2, x86-64) run under `valgrind --tool=callgrind`
 * around vs_reading_encode + vs_envelope_plan_make + vs_envelope_write with a no-op AEAD, 1,000
 * calls each: an ECG block of 250 integer samples (650-byte plaintext, 814 CBOR bytes written)
 * 22,649 instructions = 27.8 per byte; a pulse-oximeter, temperature or NIBP reading (197–202
 * bytes) 2,700–2,860 = 13.3–14.2 per byte. The model takes the larger (per-value head writes
 * dominate it) and converts x86-64 instructions to cycles below.
 */
const CBOR_X86_INSTRUCTIONS_PER_BYTE = 27.8;

export const CYCLES: Readonly<Record<CoreName, CoreCycles>> = {
  'cortex-m4': {
    x25519: {
      value: 548_873,
      unit: 'cycles',
      kind: 'published',
      source:
        'E. Lenngren, "X25519 for ARM Cortex-M4" (github.com/Emill/X25519-Cortex-M4, 2017–2019): 548 873 cycles per scalar multiplication',
      note: 'The issue attributes this figure to Haase–Labrique / Fujii–Aranha; it is Lenngren’s. Fujii & Aranha, "Curve25519 for the Cortex-M4 and beyond" (LATINCRYPT 2017) and Haase & Labrique (TCHES 2019) report slower constant-time implementations.',
    },
    chacha20PerByte: {
      value: 26,
      unit: 'cycles/byte',
      kind: 'quoted',
      source:
        'vitalseal issue (≈ 26 c/B); cf. De Santis, Schauer, Sigl, "ChaCha20-Poly1305 Authenticated Encryption for High-Speed Embedded IoT Applications", DATE 2017 (Cortex-M4)',
    },
    poly1305PerByte: {
      value: 11,
      unit: 'cycles/byte',
      kind: 'quoted',
      source: 'vitalseal issue (≈ 11 c/B); cf. De Santis, Schauer, Sigl, DATE 2017 (Cortex-M4)',
    },
    sha256PerBlock: {
      value: 3_000,
      unit: 'cycles/block',
      kind: 'estimate',
      source: 'estimate',
      note: '64 rounds × ~35 single-cycle ARMv7-M instructions (rotations folded into operands) + 48 schedule words × ~15 ≈ 3 000 cycles; replace with a measurement on the target.',
    },
    cborEncodePerByte: {
      value: Math.round(2 * CBOR_X86_INSTRUCTIONS_PER_BYTE),
      unit: 'cycles/byte',
      kind: 'estimate',
      source:
        "measured instruction count of device-c's C encoder on x86-64 (valgrind callgrind: 27.8 instructions per CBOR byte for an ECG block, 13–14 for short readings), × 2 for ARMv7-M",
      note: "Factor 2: the encoder's 64-bit head arguments and range checks take two 32-bit operations each on ARMv7-M, and its loads, taken branches and calls cost 2–4 cycles (CPI ≈ 1.3). Replace with a cycle count on the target (DWT_CYCCNT).",
    },
  },
  'cortex-m0plus': {
    x25519: {
      value: 3_589_850,
      unit: 'cycles',
      kind: 'published',
      source:
        'Düll, Haase, Hinterwälder, Hutter, Paar, Sánchez, Schwabe, "High-speed Curve25519 on 8-bit, 16-bit, and 32-bit microcontrollers", Des. Codes Cryptogr. 77:493 (2015): 3 589 850 cycles on Cortex-M0',
      note: 'Measured on a Cortex-M0; the M0+ runs the same ARMv6-M code with a 2-stage pipeline and single-cycle multiplier, so its count is comparable (the issue quotes 3.2–3.6 M).',
    },
    chacha20PerByte: {
      value: 45,
      unit: 'cycles/byte',
      kind: 'estimate',
      source: 'estimate',
      note: 'ARMv6-M has no rotate-with-operand and 8 low registers: ≈ 1.7× the Cortex-M4 figure.',
    },
    poly1305PerByte: {
      value: 45,
      unit: 'cycles/byte',
      kind: 'estimate',
      source: 'estimate',
      note: 'ARMv6-M MULS gives only the low 32 bits of a product; 32×32→64 products are assembled from 16-bit halves (as in Düll et al.), ≈ 4× the Cortex-M4 figure.',
    },
    sha256PerBlock: {
      value: 5_500,
      unit: 'cycles/block',
      kind: 'estimate',
      source: 'estimate',
      note: 'ARMv6-M needs separate rotate and register moves: ≈ 1.8× the Cortex-M4 estimate.',
    },
    cborEncodePerByte: {
      value: Math.round(3 * CBOR_X86_INSTRUCTIONS_PER_BYTE),
      unit: 'cycles/byte',
      kind: 'estimate',
      source:
        "measured instruction count of device-c's C encoder on x86-64 (valgrind callgrind: 27.8 instructions per CBOR byte for an ECG block), × 3 for ARMv6-M",
      note: "Factor 3: as on the Cortex-M4, plus ARMv6-M's 8 low registers (spills) and no conditional execution or shifted operands: ≈ 1.5× the Cortex-M4 estimate.",
    },
  },
};
