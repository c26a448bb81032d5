/**
 * The whole pipeline, device → agent → chain → query:
 *  - durable ingest vs plain aedes QoS 1 and PUBACK latency at 1,000 readings/s (bench/ingest.ts,
 *    imported when present);
 *  - gas per reading, batched vs per record (bench/anchor.ts);
 *  - time from PUBACK to the on-chain anchor covering the reading, p50/p99, at fixed rates: the
 *    real agent (child process) with `chain: {mode: 'embedded'}`, paced QoS 1 publishers, the
 *    anchor confirmation times read from the agent's own anchor table afterwards;
 *  - query latency: fetching 1,000 records with inclusion proofs (and anchor references) over
 *    the agent's HTTP API (GET /v1/records/:id), and straight from `core.recordWithProof`;
 *    every proof is verified against the root it names (correctness precheck, not timed).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import pino from 'pino';
import type { MqttClient } from 'mqtt';
import { fromHex } from '../protocol/bytes.ts';
import type { ServedRecord } from '../protocol/api/servedRecord.ts';
import { readingTopic } from '../protocol/topics.ts';
import { leafHash, verifyInclusion } from '../protocol/merkle/index.ts';
import { systemClock } from '../protocol/rng.ts';
import { runAnchorBench, type AnchorBenchResult } from './anchor.ts';
import { startAgentChild } from './lib/agentChild.ts';
import { connectDevices, endDevices } from './lib/mqttClients.ts';
import { ALLOWED_SPREAD, measurement, quantileSorted, round, sortedCopy, type Measurement } from './lib/stats.ts';
import { BenchWard, devName } from './lib/ward.ts';
import type { Precheck } from './crypto.ts';

export interface PipelineBenchOptions {
  readonly quick?: boolean;
  /** Which parts to run (default all). */
  readonly parts?: ReadonlyArray<'ingest' | 'anchor' | 'e2e'>;
  readonly onProgress?: (message: string) => void;
}

export interface AnchorLatencyRun {
  readonly rate: number;
  readonly seconds: number;
  readonly readings: number;
  readonly achievedRate: number;
  readonly failed: number;
  readonly puback: { readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number };
  /** PUBACK → confirmation of the first anchor covering the reading. */
  readonly pubackToAnchor: { readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number };
  readonly anchors: number;
  readonly readingsPerAnchor: number;
}

export interface QueryResult {
  readonly records: number;
  /** Sequential GETs /v1/records/:id (with inclusion proof and anchor reference). */
  readonly http: { readonly totalMs: number; readonly p50Ms: number; readonly p99Ms: number; readonly perSecond: number };
  /** 8 GETs in flight. */
  readonly httpConcurrent8: { readonly totalMs: number; readonly perSecond: number };
  /** core.recordWithProof in process (no HTTP), same records, agent stopped. */
  readonly core: { readonly totalMs: number; readonly perRecordUs: number };
  readonly proofHashes: number;
  readonly withAnchor: number;
}

/**
 * The signed query API (POST /v1/query/records: EIP-712 RecordQuery, consent checked on-chain
 * with an eth_call, the access logged as a leaf), on the ward demo's flow: the patient fetches
 * its 1,000 records with proofs and anchor references (in the demo the clinician's grant is
 * scoped and later revoked, so the patient is the reader with access to all of them).
 */
export interface SignedQueryResult {
  readonly records: number;
  readonly pageSize: number;
  readonly requests: number;
  readonly totalMs: number;
  readonly perRecordUs: number;
  /** Records whose proof verified against the root of the Ledger's Anchored event (wallet/verifyRecords.ts; not timed). */
  readonly verified: number;
}

export interface PipelineBenchResult {
  readonly ingest: unknown | null;
  readonly ingestSkipped?: string;
  readonly anchor: AnchorBenchResult | null;
  readonly e2e: {
    readonly config: {
      readonly anchorIntervalMs: number;
      readonly anchorMaxLeaves: number;
      readonly publishers: number;
      readonly mode: 'per-reading HPKE envelopes';
    };
    readonly runs: readonly AnchorLatencyRun[];
    readonly query: QueryResult | null;
    /** null with `signedQueryError` when the ward flow could not run. */
    readonly signedQuery: SignedQueryResult | null;
    readonly signedQueryError?: string;
  } | null;
  readonly prechecks: readonly Precheck[];
  /** Headline figures with their spread (flagged when unstable). */
  readonly measurements: Readonly<Record<string, Measurement>>;
}

const PUBLISHERS = 10;

async function e2eRun(
  ward: BenchWard,
  rate: number,
  seconds: number,
  anchorIntervalMs: number,
  anchorMaxLeaves: number,
  queryRecords: number,
  prechecks: Precheck[],
  progress: (m: string) => void,
): Promise<{ run: AnchorLatencyRun; query: QueryResult | null }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vitalseal-bench-e2e-'));
  const devices = Array.from({ length: PUBLISHERS }, (_, i) => devName(`e2e${rate}`, i));
  try {
    await ward.provision(dataDir, devices);
    const total = Math.round(rate * seconds);
    const perDevice = Math.ceil(total / PUBLISHERS);
    const t0s = Date.now();
    const payloads = devices.map((d) => Array.from({ length: perDevice }, (_, s) => ward.seal(d, s + 1, t0s + s)));
    progress(`e2e ${rate}/s: starting the agent with the embedded chain`);
    const agent = await startAgentChild({ dataDir, chain: { intervalMs: anchorIntervalMs, maxLeaves: anchorMaxLeaves } });
    let clients: MqttClient[] = [];
    const pubackAt = new Float64Array(total);
    const ids: string[] = new Array<string>(total);
    const lat: number[] = [];
    let failed = 0;
    let tEnd = 0;
    let served: Omit<QueryResult, 'core'> | null = null;
    try {
      clients = await connectDevices(agent.port, devices);
      progress(`e2e ${rate}/s: publishing ${total} readings over ${seconds} s`);
      const cursor = new Array<number>(PUBLISHERS).fill(0);
      const t0 = performance.now();
      let sent = 0;
      let answered = 0;
      await new Promise<void>((done) => {
        const tick = (): void => {
          const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
          while (sent < due) {
            const k = sent++;
            const d = k % PUBLISHERS;
            const payload = payloads[d]![cursor[d]!++]!;
            ids[k] = createHash('sha256').update(payload).digest('hex');
            const start = performance.now();
            clients[d]!.publish(readingTopic(devices[d]!), payload, { qos: 1 }, (err) => {
              pubackAt[k] = Date.now();
              if (err) failed++;
              else lat.push(performance.now() - start);
              if (++answered === total) {
                tEnd = performance.now();
                done();
              }
            });
          }
          if (sent < total) setTimeout(tick, 1);
        };
        tick();
      });
      const achievedRate = total / ((tEnd - t0) / 1000);
      // wait for the anchor covering the last reading (read from the agent's database)
      const db = new Database(join(dataDir, 'agent.sqlite'), { readonly: true, fileMustExist: true });
      try {
        const maxAnchored = db.prepare<[], { n: number | null }>("SELECT max(tree_size) AS n FROM anchors WHERE status = 'confirmed'");
        const deadline = Date.now() + 60_000;
        while ((maxAnchored.get()?.n ?? 0) < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        const anchors = db
          .prepare<[], { tree_size: number; confirmed_at: number }>(
            "SELECT tree_size, confirmed_at FROM anchors WHERE status = 'confirmed' ORDER BY tree_size",
          )
          .all();
        const leafOf = db.prepare<[Buffer], { leaf_idx: number }>('SELECT leaf_idx FROM records WHERE record_id = ?');
        const toAnchor: number[] = [];
        let missing = 0;
        for (let k = 0; k < total; k++) {
          const row = leafOf.get(Buffer.from(ids[k]!, 'hex'));
          if (!row) {
            missing++;
            continue;
          }
          const a = anchors.find((x) => x.tree_size > row.leaf_idx);
          if (!a) {
            missing++;
            continue;
          }
          toAnchor.push(a.confirmed_at - pubackAt[k]!);
        }
        prechecks.push({
          name: `e2e ${rate}/s: every acknowledged reading is stored and covered by a confirmed on-chain anchor`,
          payload: 'spo2 envelope',
          ok: missing === 0 && failed === 0,
          ...(missing || failed ? { detail: `${missing} not stored/anchored, ${failed} publishes failed` } : {}),
        });
        const l = sortedCopy(lat);
        const a = sortedCopy(toAnchor);
        const counted = anchors.filter((x) => x.tree_size > 0);
        const run: AnchorLatencyRun = {
          rate,
          seconds,
          readings: total,
          achievedRate: round(achievedRate),
          failed,
          puback: {
            p50Ms: round(quantileSorted(l, 0.5), 2),
            p99Ms: round(quantileSorted(l, 0.99), 2),
            maxMs: round(l[l.length - 1] ?? NaN, 2),
          },
          pubackToAnchor: {
            p50Ms: round(quantileSorted(a, 0.5)),
            p99Ms: round(quantileSorted(a, 0.99)),
            maxMs: round(a[a.length - 1] ?? NaN),
          },
          anchors: counted.length,
          readingsPerAnchor: round(total / Math.max(1, counted.length)),
        };
        // query: 1,000 records with proofs (and anchor references) over HTTP, then in process
        if (queryRecords > 0) {
          progress(`e2e: fetching ${Math.min(queryRecords, total)} records with proofs over HTTP`);
          served = await queryBench(agent.httpPort, ids.slice(0, Math.min(queryRecords, total)), prechecks);
        }
        await endDevices(clients);
        clients = [];
        const stopped = await agent.stop();
        if (!stopped) progress('e2e: the agent did not stop gracefully');
        const query: QueryResult | null = served ? { ...served, core: await coreQuery(dataDir, ids.slice(0, served.records)) } : null;
        return { run, query };
      } finally {
        db.close();
      }
    } finally {
      await endDevices(clients);
      await agent.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function queryBench(httpPort: number, ids: readonly string[], prechecks: Precheck[]): Promise<Omit<QueryResult, 'core'>> {
  const base = `http://127.0.0.1:${httpPort}/v1/records/`;
  const served: ServedRecord[] = [];
  const times: number[] = [];
  // warm-up (connection, JIT)
  for (const id of ids.slice(0, 20)) await (await fetch(base + id)).arrayBuffer();
  const t0 = performance.now();
  for (const id of ids) {
    const s = performance.now();
    const res = await fetch(base + id);
    const body = (await res.json()) as ServedRecord;
    times.push(performance.now() - s);
    served.push(body);
  }
  const totalMs = performance.now() - t0;
  const t1 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        await (await fetch(base + id)).arrayBuffer();
      }
    }),
  );
  const concurrentMs = performance.now() - t1;
  // precheck (not timed): every proof verifies against the root it names, and the anchored root when present
  let bad = 0;
  let withAnchor = 0;
  for (const r of served) {
    try {
      const root = fromHex(r.root);
      verifyInclusion(
        r.leafIndex,
        r.treeSize,
        leafHash(new Uint8Array(Buffer.from(r.envelope, 'base64'))),
        r.inclusionProof.map(fromHex),
        root,
      );
      if (r.anchor) {
        withAnchor++;
        if (r.anchor.treeSize !== r.treeSize || r.anchor.root.replace(/^0x/, '').toLowerCase() !== r.root.toLowerCase())
          throw new Error('anchor root differs');
      }
    } catch {
      bad++;
    }
  }
  prechecks.push({
    name: 'query: every served inclusion proof verifies (against the anchored root when present)',
    payload: `${served.length} records`,
    ok: bad === 0 && served.length === ids.length,
    ...(bad ? { detail: `${bad} proofs failed` } : {}),
  });
  const sorted = sortedCopy(times);
  return {
    records: ids.length,
    http: {
      totalMs: round(totalMs),
      p50Ms: round(quantileSorted(sorted, 0.5), 2),
      p99Ms: round(quantileSorted(sorted, 0.99), 2),
      perSecond: round((ids.length * 1000) / totalMs),
    },
    httpConcurrent8: { totalMs: round(concurrentMs), perSecond: round((ids.length * 1000) / concurrentMs) },
    proofHashes: round(served.reduce((n, r) => n + r.inclusionProof.length, 0) / Math.max(1, served.length), 1),
    withAnchor,
  };
}

async function coreQuery(dataDir: string, ids: readonly string[]): Promise<QueryResult['core']> {
  const { AgentCore } = await import('../agent/core.ts');
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
    for (const id of ids.slice(0, 20)) await core.recordWithProof(id);
    const t0 = performance.now();
    for (const id of ids) await core.recordWithProof(id);
    const ms = performance.now() - t0;
    return { totalMs: round(ms, 1), perRecordUs: round((ms * 1000) / ids.length, 1) };
  } finally {
    await core.close();
  }
}

async function signedQueryBench(prechecks: Precheck[]): Promise<SignedQueryResult> {
  const { runWardFlow } = await import('../scenarios/ward/index.ts');
  const { AgentClient } = await import('../wallet/agentClient.ts');
  const { fetchRecords } = await import('../wallet/fetchRecords.ts');
  const { AnchoredRoots, verifyServedRecord } = await import('../wallet/verifyRecords.ts');
  const { ChainContracts } = await import('../chain/contracts.ts');
  const { seededRng } = await import('../protocol/rng.ts');
  const dataDir = mkdtempSync(join(tmpdir(), 'vitalseal-bench-query-'));
  let out: SignedQueryResult | undefined;
  try {
    await runWardFlow({
      dataDir,
      reset: true,
      readingsPerDevice: 250,
      say: () => undefined,
      scryptN: 1 << 12,
      logLevel: 'silent',
      rng: seededRng('bench-signed-query'),
      beforeStop: async ({ agent, link, api, ca, wallets }) => {
        await agent.anchoring?.service.waitForAnchored(agent.core.ingestor.log.size, 30_000);
        const client = AgentClient.withCa(api, seededRng('bench-query-client'), ca);
        const pageSize = 500;
        // warm-up: one small signed query
        await fetchRecords(wallets.patient, client, wallets.patient.address, { pageSize: 10, max: 10 });
        const t0 = performance.now();
        const res = await fetchRecords(wallets.patient, client, wallets.patient.address, { pageSize, max: 1000 });
        const ms = performance.now() - t0;
        const records = res.records.slice(0, 1000);
        const roots = new AnchoredRoots(
          new ChainContracts(agent.anchoring!.embedded!.devClients(9), link.deployment),
          link.deployment.deployBlock,
        );
        let verified = 0;
        for (const r of records)
          if (
            (await verifyServedRecord(r, roots, { chainId: link.deployment.chainId, ledger: link.deployment.ledger })).status === 'verified'
          )
            verified++;
        prechecks.push({
          name: "signed query API: every record served to the patient verifies against the Ledger's anchored root",
          payload: `${records.length} records`,
          ok: records.length >= 1000 && verified === records.length,
          ...(verified !== records.length || records.length < 1000 ? { detail: `${verified} of ${records.length} verified` } : {}),
        });
        out = {
          records: res.records.length,
          pageSize,
          requests: res.accessLeaves.length,
          totalMs: round(ms),
          perRecordUs: round((ms * 1000) / Math.max(1, res.records.length)),
          verified,
        };
      },
    });
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (!out) throw new Error('the ward flow ended before the query');
  return out;
}

export async function runPipelineBench(o: PipelineBenchOptions = {}): Promise<PipelineBenchResult> {
  const quick = o.quick ?? false;
  const parts = new Set(o.parts ?? ['ingest', 'anchor', 'e2e']);
  const progress = o.onProgress ?? (() => undefined);
  const prechecks: Precheck[] = [];
  const measurements: Record<string, Measurement> = {};

  let ingest: unknown | null = null;
  let ingestSkipped: string | undefined;
  if (parts.has('ingest')) {
    // bench/ingest.ts is written by another engineer: use it when it is there
    let mod: { runIngestBench: (opts: { quick?: boolean; onProgress?: (l: string) => void }) => Promise<unknown> } | undefined;
    try {
      mod = (await import('./ingest.ts')) as typeof mod;
    } catch (e) {
      ingestSkipped = `bench/ingest.ts not available: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
    }
    if (mod) {
      ingest = await mod.runIngestBench({ quick, onProgress: (l) => progress(l) });
      const r = ingest as { throughput?: { publishers: number; runs: { broker: string; perSecond: number }[] }[] };
      for (const t of r.throughput ?? []) {
        const agentRuns = t.runs.filter((x) => x.broker === 'agent').map((x) => x.perSecond);
        const aedesRuns = t.runs.filter((x) => x.broker === 'aedes').map((x) => x.perSecond);
        measurements[`ingest.agent.${t.publishers}pub`] = measurement(agentRuns, 'readings/s', ALLOWED_SPREAD.io);
        measurements[`ingest.aedes.${t.publishers}pub`] = measurement(aedesRuns, 'readings/s', ALLOWED_SPREAD.io);
      }
    }
  }

  let anchor: AnchorBenchResult | null = null;
  if (parts.has('anchor')) {
    progress('gas per reading and append → anchored (bench/anchor.ts)');
    anchor = await runAnchorBench({ quick, onProgress: (m) => progress(m) });
  }

  let e2e: PipelineBenchResult['e2e'] = null;
  if (parts.has('e2e')) {
    const ward = new BenchWard('bench-e2e');
    const anchorIntervalMs = 1000;
    const anchorMaxLeaves = 1000;
    const rates = quick ? [1000] : [100, 1000];
    const seconds = quick ? 3 : 10;
    const runs: AnchorLatencyRun[] = [];
    let query: QueryResult | null = null;
    for (const rate of rates) {
      const wantQuery = rate === Math.max(...rates) ? 1000 : 0;
      const { run, query: q } = await e2eRun(
        ward,
        rate,
        Math.max(seconds, Math.ceil(1000 / rate) + 1),
        anchorIntervalMs,
        anchorMaxLeaves,
        wantQuery,
        prechecks,
        progress,
      );
      runs.push(run);
      if (q) query = q;
      progress(
        `e2e ${rate}/s: PUBACK p99 ${run.puback.p99Ms} ms; PUBACK → anchored p50 ${run.pubackToAnchor.p50Ms} ms, p99 ${run.pubackToAnchor.p99Ms} ms`,
      );
    }
    progress('signed query API: the ward flow with 4 devices × 250 readings, then a 1,000-record RecordQuery');
    let signedQuery: SignedQueryResult | null = null;
    let signedQueryError: string | undefined;
    try {
      signedQuery = await signedQueryBench(prechecks);
      progress(`signed query API: ${signedQuery.records} records in ${signedQuery.totalMs} ms (${signedQuery.requests} signed requests)`);
    } catch (e) {
      signedQueryError = e instanceof Error ? e.message.split('\n')[0] : String(e);
      progress(`signed query API: not measured (${signedQueryError})`);
    }
    e2e = {
      config: { anchorIntervalMs, anchorMaxLeaves, publishers: PUBLISHERS, mode: 'per-reading HPKE envelopes' },
      runs,
      query,
      signedQuery,
      ...(signedQueryError ? { signedQueryError } : {}),
    };
  }
  return { ingest, ...(ingestSkipped ? { ingestSkipped } : {}), anchor, e2e, prechecks, measurements };
}
