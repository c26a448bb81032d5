/** The markdown report of one benchmark run (printed by `npm run bench` and saved next to the JSON). */
import type { BenchResult } from './result.ts';
import { fmtMeasurement, fmtNum } from './lib/stats.ts';
import { nativeReportLines } from './native.ts';

type Row = ReadonlyArray<string | number>;

export function mdTable(header: Row, rows: readonly Row[], align?: readonly ('l' | 'r')[]): string {
  const a = align ?? header.map((_, i) => (i === 0 ? 'l' : 'r'));
  const line = (r: Row): string => `| ${r.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), `|${a.map((x) => (x === 'l' ? ' :-- ' : ' --: ')).join('|')}|`, ...rows.map(line)].join('\n');
}

const yes = (b: boolean | null): string => (b === null ? 'not run' : b ? '**met**' : '**MISSED**');

/** HPKE alone, 64 B (information since issue #21: users call the envelope). */
function hpkeOnlyNote(r: BenchResult): string {
  const h = r.suites.crypto?.result?.targets.hpkeOnly;
  if (!h) return '';
  return ` HPKE seal alone (information): node ${fmtNum(h.nodeVsLibsodium)}× faster than libsodium, ${fmtNum(h.nodeVsHpkeCore)}× faster than @hpke/core, ${fmtNum(h.nodeVsPrimitiveSum)}× its primitive sum (noble ${fmtNum(h.nobleVsPrimitiveSum)}×); HPKE open ${fmtNum(h.nodeOpenVsPrimitiveSum)}× its primitive sum.`;
}

interface IngestView {
  readonly mode: string;
  readonly throughput: ReadonlyArray<{
    publishers: number;
    window: number;
    readingsPerRun: number;
    agentPerSecond: number;
    aedesPerSecond: number;
    ratio: number;
    runs: ReadonlyArray<{ broker: string; perSecond: number }>;
  }>;
  /** bench/ingest/types.ts OnePublisherBound (absent in results from before it). */
  readonly onePublisher?: {
    window: number;
    agentPerSecond: number;
    boundPerSecond: number;
    shareOfBound: number;
    impliedLatencyMs: number;
    avgCommitMs: number;
    fdatasyncP50Ms: number;
    fdatasyncP99Ms: number;
  } | null;
  readonly latency: {
    targetRate: number;
    publishers: number;
    seconds: number;
    readings: number;
    achievedRate: number;
    p50Ms: number;
    p90Ms: number;
    p99Ms: number;
    maxMs: number;
    failed: number;
    commit: { avgBatch: number; avgCommitMs: number };
  };
  readonly fleet: {
    devices: number;
    seconds: number;
    acked: number;
    achievedRate: number;
    p50Ms: number;
    p99Ms: number;
    rssMiB: { idle: number; connected: number; peak: number };
    zeroLoss: boolean;
    heapFlags?: string;
  } | null;
}

export function formatReport(r: BenchResult): string {
  const m = r.machine;
  const out: string[] = [];
  out.push(`## vitalseal benchmark — ${r.mode} run, ${r.startedAt}`);
  out.push('');
  out.push(
    `\`${r.command}\` — ${r.seconds} s. ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, ${m.platform} ${m.kernel} ${m.arch}, Node ${m.node} (OpenSSL ${m.openssl}), vitalseal ${m.vitalseal.version} @ ${m.vitalseal.commit?.slice(0, 10) ?? '?'}${m.vitalseal.dirty ? ' (dirty tree)' : ''}.`,
  );
  out.push(
    `Load average (1/5/15 min) ${m.loadavgStart.join(' / ')} at start → ${m.loadavgEnd.join(' / ')} at end${(m.loadavgStart[0] ?? 0) > m.cores ? ` — **above the core count: other processes compete for the CPU; timings are pessimistic and noisy**` : ''}.`,
  );
  out.push(
    `Packages: ${Object.entries(m.packages)
      .map(([k, v]) => `${k} ${v ?? '–'}`)
      .join(', ')}.`,
  );
  out.push('');

  out.push('### Targets');
  out.push('');
  out.push(
    mdTable(
      ['target', 'measured', 'goal', 'result'],
      r.targets.map((t) => [
        t.name,
        t.value === null ? '–' : `${fmtNum(t.value)}${t.unit === 'ms' ? ' ms' : '×'}`,
        `${t.comparison === '>=' ? '≥' : '≤'} ${t.target === 1 / 500 ? '1/500 (0.002)' : t.target}${t.unit === 'ms' ? ' ms' : '×'}${t.goal === undefined ? '' : ` (goal ${t.goal}${t.unit === 'ms' ? ' ms' : '×'})`}`,
        yes(t.met),
      ]),
      ['l', 'r', 'r', 'l'],
    ),
  );
  const one = (r.suites.ingest?.result?.ingest as IngestView | null | undefined)?.onePublisher;
  if (one)
    out.push(
      `\nReported, not judged: one publisher × ${one.window} in flight ${fmtNum(one.agentPerSecond)} readings/s against its Little's-law bound ${one.window} / fdatasync p50 ${one.fdatasyncP50Ms} ms (same run) = ${fmtNum(one.boundPerSecond)}/s, ${Math.round(one.shareOfBound * 100)} % of it (fdatasync p99 ${one.fdatasyncP99Ms} ms; implied mean PUBACK latency ${one.impliedLatencyMs} ms, mean group commit ${one.avgCommitMs} ms).`,
    );
  const fs = r.suites.crypto?.result?.targets.fastSlices;
  if (fs)
    out.push(
      `\nTargets are judged on the medians, on what users call: sealReading / openReading, the full COSE envelope (issue #21). Least disturbed estimate (each operation's fastest 10 % of 5 ms slices, for a loaded machine): node sealReading ${fmtNum(fs.nodeVsLibsodium)}× faster than libsodium, ${fmtNum(fs.nodeVsHpkeCore)}× faster than @hpke/core, ${fmtNum(fs.nodeVsPrimitiveSum)}× its primitive sum (noble ${fmtNum(fs.nobleVsPrimitiveSum)}×); node openReading ${fmtNum(fs.nodeOpenVsPrimitiveSum)}× its primitive sum.${hpkeOnlyNote(r)}`,
    );
  out.push('');
  const failed = r.prechecks.filter((p) => !p.ok);
  out.push(
    `**Correctness prechecks:** ${r.prechecks.length - failed.length}/${r.prechecks.length} passed${failed.length ? ` — FAILED: ${failed.map((p) => `${p.suite}/${p.payload}: ${p.name}${p.detail ? ` (${p.detail})` : ''}`).join('; ')}` : ''}.`,
  );
  const errors = Object.entries(r.suites).filter(([, v]) => v?.status === 'error');
  if (errors.length) out.push(`**Suites that failed:** ${errors.map(([k, v]) => `${k} (${(v?.error ?? '').split('\n')[0]})`).join('; ')}.`);
  out.push(
    `**Unstable figures** (spread over rounds above what the kind of measurement allows, marked ⚠): ${r.flagged.length === 0 ? 'none' : r.flagged.length}.`,
  );
  out.push('');

  const c = r.suites.crypto?.result;
  if (c) {
    out.push('### Per-reading seal/open cost (µs per operation, median (min–max) over rounds)');
    out.push('');
    out.push(
      `${c.config.rounds} rounds × ${c.config.sampleMs} ms per operation in ${c.config.sliceMs} ms interleaved slices; info = "", aad = "" for raw payloads. Peers: ${c.peers.hpkeCore}; ${c.peers.libsodium}.`,
    );
    out.push('');
    const names = [...new Set(c.payloads.flatMap((p) => Object.keys(p.ops)))];
    out.push(
      mdTable(
        ['operation', ...c.payloads.map((p) => `${p.payload} (${p.bytes} B)`)],
        names.map((n) => [n, ...c.payloads.map((p) => (p.ops[n] ? fmtMeasurement(p.ops[n]!) : '–'))]),
      ),
    );
    out.push('');
    const native = nativeReportLines(c.native); // the C rows (device-c) and each payload's floor, bench/native.ts
    if (native.length) out.push(...native, '');
    const ratioNames = [...new Set(c.payloads.flatMap((p) => Object.keys(p.ratios)))];
    out.push(
      mdTable(
        ['ratio: median of per-round ratios [on the fastest 10 % of slices]', ...c.payloads.map((p) => p.payload)],
        ratioNames.map((n) => [
          n,
          ...c.payloads.map((p) => (p.ratios[n] === undefined ? '–' : `${fmtNum(p.ratios[n]!)}× [${fmtNum(p.fastRatios[n] ?? NaN)}×]`)),
        ]),
      ),
    );
    out.push('');
    const prim = c.payloads.filter((p) => p.primitives);
    if (prim.length) {
      out.push(
        'Lower bound: the sum of the primitives on the same backend (seal: X25519 keygen + DH + HKDF + ChaCha20-Poly1305 seal; open: DH + HKDF + ChaCha20-Poly1305 open), against the full envelope (sealReading / openReading) and HPKE alone, all in the same interleaved rounds (bench/seal.ts), each operation charged the scavenges of its own garbage (GC_ACCOUNTING there); ratios: median (min–max) of per-round ratios [fastest 10 % of slices]:',
      );
      out.push('');
      out.push(
        mdTable(
          [
            'payload',
            'backend',
            'seal sum µs',
            'sealReading µs',
            'HPKE seal µs',
            'sealReading / sum',
            'HPKE seal / sum',
            'sealReading / HPKE',
            'open sum µs',
            'openReading µs',
            'openReading / sum',
            'HPKE open / sum',
            'openReading / HPKE',
          ],
          prim.flatMap((p) =>
            (['node', 'noble'] as const).map((b) => {
              const x = p.primitives![b];
              return [
                p.payload,
                b,
                fmtNum(x.primitiveSumUs),
                fmtNum(x.sealReadingUs),
                fmtNum(x.sealUs),
                `${x.sealReadingRatio} (${x.sealReadingRatioRange[0]}–${x.sealReadingRatioRange[1]}) [${x.sealReadingRatioFastSlices}]`,
                `${x.sealRatio} [${x.sealRatioFastSlices}]`,
                x.sealReadingVsHpke,
                fmtNum(x.openPrimitiveSumUs),
                fmtNum(x.openReadingUs),
                `${x.openReadingRatio} (${x.openReadingRatioRange[0]}–${x.openReadingRatioRange[1]}) [${x.openReadingRatioFastSlices}]`,
                x.openRatio,
                x.openReadingVsHpke,
              ];
            }),
          ),
        ),
      );
      out.push('');
    }
  }

  const mcu = r.suites.mcu?.result;
  if (mcu) {
    out.push('### Microcontroller estimate (energy model, per reading)');
    out.push('');
    out.push(
      mdTable(
        ['profile', 'core', 'mode', 'kcycles', 'CPU ms', 'crypto µJ', 'radio µJ', 'crypto share', `${mcu.assumptions.battery.name} days`],
        mcu.rows.map((x) => [
          x.profile,
          x.core,
          x.mode,
          fmtNum(x.kcyclesPerReading),
          fmtNum(x.cpuMsPerReading),
          fmtNum(x.cryptoUj),
          fmtNum(x.radioUj),
          `${Math.round(x.cryptoShare * 100)} %`,
          fmtNum(x.batteryDays),
        ]),
        ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
    );
    out.push('');
    out.push(
      `Session mode cuts cycles per ECG reading by ${Object.entries(mcu.sessionSavings)
        .map(([k, v]) => `${v}× on ${k}`)
        .join(
          ', ',
        )} (one X25519 keygen + DH per ${mcu.assumptions.sessionHours} h ticket). Battery: ${mcu.assumptions.battery.name} ${mcu.assumptions.battery.capacityMah} mAh; sleep ${mcu.assumptions.sleep.currentUa} µA; radio ${mcu.assumptions.radio.name}. Sensor front-end not included.`,
    );
    out.push('');
  }

  const ing = r.suites.ingest?.result;
  if (ing) {
    out.push('### Pipeline: durable ingest vs plain aedes (bench/ingest.ts)');
    out.push('');
    const x = ing.ingest as IngestView | null;
    if (!x) out.push(`skipped: ${ing.ingestSkipped ?? 'no result'}`);
    else {
      out.push(
        mdTable(
          ['publishers', 'readings/run', 'agent readings/s', 'aedes (no store) readings/s', 'agent / aedes', 'runs agent; aedes'],
          x.throughput.map((t) => [
            t.publishers,
            t.readingsPerRun,
            fmtNum(t.agentPerSecond),
            fmtNum(t.aedesPerSecond),
            t.ratio,
            `${t.runs
              .filter((y) => y.broker === 'agent')
              .map((y) => fmtNum(y.perSecond))
              .join(', ')}; ${t.runs
              .filter((y) => y.broker === 'aedes')
              .map((y) => fmtNum(y.perSecond))
              .join(', ')}`,
          ]),
        ),
      );
      out.push('');
      const l = x.latency;
      out.push(
        `PUBACK latency at ${l.targetRate} readings/s (${l.publishers} paced publishers, ${l.seconds} s, achieved ${fmtNum(l.achievedRate)}/s): p50 ${l.p50Ms} ms, p90 ${l.p90Ms} ms, **p99 ${l.p99Ms} ms**, max ${l.maxMs} ms; ${l.failed} failed; group commits of ${l.commit.avgBatch} readings, ${l.commit.avgCommitMs} ms each.`,
      );
      if (x.fleet)
        out.push(
          `${x.fleet.devices} devices × 1 reading/s × ${x.fleet.seconds} s: ${fmtNum(x.fleet.achievedRate)} readings/s, PUBACK p50 ${x.fleet.p50Ms} ms / p99 ${x.fleet.p99Ms} ms, agent RSS ${x.fleet.rssMiB.idle} → ${x.fleet.rssMiB.connected} MiB (peak ${x.fleet.rssMiB.peak}; agent flags: ${x.fleet.heapFlags || "Node's defaults"}), ${x.fleet.zeroLoss ? 'zero loss' : 'LOSS'}.`,
        );
    }
    out.push('');
  }

  const tl = r.suites.tls?.result;
  if (tl) {
    out.push('### Durable ingest over TLS vs plain TCP (bench/tls.ts)');
    out.push('');
    out.push(
      mdTable(
        ['transport', 'readings/s (median)', 'runs', 'agent CPU µs/reading', 'PUBACK p50 / p99 at 1,000/s'],
        (['plain', 'tls', 'mtls'] as const).map((k) => [
          k === 'mtls' ? 'mutual TLS' : k === 'tls' ? 'TLS (password)' : 'plain TCP',
          fmtNum(tl.throughput[k].perSecond),
          tl.throughput[k].runs.map((x) => fmtNum(x)).join(', '),
          tl.throughput[k].agentCpuUsPerReading,
          `${tl.latency[k].p50Ms} / ${tl.latency[k].p99Ms} ms`,
        ]),
        ['l', 'r', 'r', 'r', 'r'],
      ),
    );
    out.push('');
    out.push(
      `${tl.publishers} publishers × ${tl.window} in flight, ${fmtNum(tl.readingsPerRun)} readings/run, ${tl.rounds} round(s). Throughput TLS / plain ${tl.ratioTlsToPlain}×, mutual TLS / plain ${tl.ratioMtlsToPlain}×; agent CPU per reading TLS / plain ${tl.cpuRatioTlsToPlain}×. Target judged on **${tl.judgement.basis}** (${tl.judgement.reason}): ${tl.judgement.value}× → ${tl.judgement.met ? 'met' : 'missed'}.`,
    );
    out.push('');
  }

  const an = r.suites.anchor?.result?.anchor;
  if (an) {
    out.push('### Pipeline: anchoring gas (bench/anchor.ts, embedded chain)');
    out.push('');
    const g = an.gas;
    out.push(
      mdTable(
        ['figure', 'value'],
        [
          ['gas per reading, one anchor transaction per record', fmtNum(g.perRecordTx)],
          [
            `gas per anchor, batched (${g.batchedAnchors} anchors, ${an.config.patients} patients notified each)`,
            fmtNum(g.batchedGasPerAnchor),
          ],
          ['readings per anchor', fmtNum(g.readingsPerAnchor)],
          ['gas per reading, batched', fmtNum(g.batchedPerReading)],
          ['batched / per record', `1/${Math.round(1 / g.ratio)} (${g.ratio.toExponential(2)})`],
          [`append → anchored at ${an.latency.achievedRate}/s, p50 / p99`, `${an.latency.p50Ms} / ${an.latency.p99Ms} ms`],
          ...g.byPatients.map(
            (b): Row => [
              `one anchor of ${an.config.maxLeaves} readings notifying ${b.patients} patient(s)`,
              `${fmtNum(b.gasPerAnchor)} gas = ${fmtNum(b.perReading)}/reading`,
            ],
          ),
        ],
        ['l', 'r'],
      ),
    );
    out.push('');
  }

  const e2e = r.suites.e2e?.result?.e2e;
  if (e2e) {
    out.push(
      `### Pipeline: PUBACK → on-chain anchor, and queries (agent with the embedded chain, head every ${e2e.config.anchorIntervalMs} ms or ${e2e.config.anchorMaxLeaves} leaves)`,
    );
    out.push('');
    out.push(
      mdTable(
        [
          'rate (readings/s)',
          'readings',
          'achieved/s',
          'PUBACK p50 / p99 ms',
          'PUBACK → anchored p50 ms',
          'p99 ms',
          'max ms',
          'anchors',
          'readings/anchor',
        ],
        e2e.runs.map((x) => [
          x.rate,
          x.readings,
          fmtNum(x.achievedRate),
          `${x.puback.p50Ms} / ${x.puback.p99Ms}`,
          fmtNum(x.pubackToAnchor.p50Ms),
          fmtNum(x.pubackToAnchor.p99Ms),
          fmtNum(x.pubackToAnchor.maxMs),
          x.anchors,
          x.readingsPerAnchor,
        ]),
      ),
    );
    out.push('');
    const q = e2e.query;
    if (q) {
      out.push(
        mdTable(
          [
            `query: ${q.records} records with inclusion proofs (${q.proofHashes} hashes on average, ${q.withAnchor} with anchor reference)`,
            'total ms',
            'per record',
          ],
          [
            [
              'HTTP GET /v1/records/:id, sequential',
              fmtNum(q.http.totalMs),
              `p50 ${q.http.p50Ms} ms, p99 ${q.http.p99Ms} ms (${fmtNum(q.http.perSecond)}/s)`,
            ],
            ['HTTP, 8 requests in flight', fmtNum(q.httpConcurrent8.totalMs), `${fmtNum(q.httpConcurrent8.perSecond)}/s`],
            ['core.recordWithProof in process', fmtNum(q.core.totalMs), `${fmtNum(q.core.perRecordUs)} µs`],
            ...(e2e.signedQuery
              ? [
                  [
                    `signed query API (POST /v1/query/records, EIP-712, on-chain consent check), ${e2e.signedQuery.records} records in ${e2e.signedQuery.requests} requests of ≤ ${e2e.signedQuery.pageSize}; ${e2e.signedQuery.verified} verified on-chain`,
                    fmtNum(e2e.signedQuery.totalMs),
                    `${fmtNum(e2e.signedQuery.perRecordUs)} µs`,
                  ] as Row,
                ]
              : [[`signed query API: not measured (${e2e.signedQueryError ?? '?'})`, '–', '–'] as Row]),
          ],
          ['l', 'r', 'l'],
        ),
      );
      out.push('');
    }
  }

  const sc = r.suites.scaling?.result;
  if (sc) {
    out.push('### Scaling');
    out.push('');
    if (sc.devices.length) {
      out.push(
        mdTable(
          [
            'devices',
            'readings/s (1 in flight each)',
            'PUBACK p50 / p99 ms',
            'connect s',
            'agent RSS idle / connected / peak MiB',
            'KiB per device',
            'stored',
          ],
          sc.devices.map((d) => [
            d.devices,
            fmtNum(d.perSecond),
            `${d.pubackP50Ms} / ${d.pubackP99Ms}`,
            d.connectSeconds,
            `${d.agentRssMiB.idle} / ${d.agentRssMiB.connected} / ${d.agentRssMiB.peak}`,
            d.kibPerDevice,
            d.stored,
          ]),
        ),
      );
      out.push('');
    }
    for (const l of sc.log) {
      out.push(
        mdTable(
          [
            `log (${l.store}) leaves`,
            'append µs',
            'inclusion proof hashes',
            '⌈log2 n⌉',
            'proof µs',
            'verify µs',
            'consistency hashes',
            'heap MiB',
          ],
          l.points.map((p) => [
            p.leaves.toLocaleString('en-US'),
            fmtNum(p.appendUs),
            p.proofHashes,
            p.log2Ceil,
            fmtNum(p.proofUs),
            fmtNum(p.verifyUs),
            p.consistencyHashes,
            p.heapMiB,
          ]),
        ),
      );
      out.push('');
      out.push(
        `Logarithmic (${l.store}): **${l.logarithmic ? 'yes' : 'NO'}** — append grew ${l.growth.append}×, proof ${l.growth.proof}× (allowed ${l.growth.allowed}×); ${l.criterion}.`,
      );
      out.push('');
    }
    if (r.files.svg) out.push(`Plot: \`${r.files.svg.split('/').slice(-3).join('/')}\``);
  }
  if (r.flagged.length) {
    out.push('');
    const worst = [...r.flagged].sort((a, b) => b.spread - a.spread).slice(0, 5);
    out.push(
      `⚠ ${r.flagged.length} unstable figure(s) (spread over rounds > allowed; all listed under \`flagged\` in the JSON), worst: ${worst.map((f) => `${f.suite} ${f.name} ${Math.round(f.spread * 100)} % > ${Math.round(f.allowedSpread * 100)} %`).join('; ')}.`,
    );
  }
  return out.join('\n');
}
