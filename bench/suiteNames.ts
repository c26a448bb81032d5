/** The suites of the benchmark (a light module: the CLI lists them without loading the benches). */
export const SUITE_NAMES = ['crypto', 'mcu', 'ingest', 'tls', 'anchor', 'e2e', 'scaling'] as const;
export type SuiteName = (typeof SUITE_NAMES)[number];

export const SUITE_HELP: Record<SuiteName, string> = {
  crypto: 'per-reading seal/open: vitalseal node/noble, per-reading and session, vs @hpke/core, libsodium, primitive sum',
  mcu: 'Cortex-M0+/M4 estimate: cycles, µJ per reading, battery life, crypto vs radio share (energy model)',
  ingest: 'durable ingest vs plain aedes QoS 1, PUBACK latency at 1,000 readings/s (bench/ingest.ts)',
  tls: 'durable ingest over TLS and mutual TLS vs plain TCP (same agent build), agent CPU per reading, PUBACK latency (bench/tls.ts)',
  anchor: 'gas per reading, batched vs per record, on the embedded chain (bench/anchor.ts)',
  e2e: 'PUBACK → on-chain anchor p50/p99 at fixed rates; 1,000-record fetch with proofs',
  scaling: 'throughput and memory vs devices; append/proof cost vs log size (and the SVG plot)',
};
