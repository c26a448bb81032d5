import { rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import mqtt, { type MqttClient } from 'mqtt';
import { ed25519 } from '@noble/curves/ed25519.js';
import { startAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { fromHex, toHex } from '../../protocol/bytes.ts';
import { createHpke } from '../../protocol/hpke/index.ts';
import { tempKeyPairGen } from '../../protocol/keys/index.ts';
import { issueTicket } from '../../protocol/ticket/index.ts';
import { openReading, sealReading, type Reading } from '../../protocol/envelope/index.ts';
import { leafHash, verifyInclusion } from '../../protocol/merkle/index.ts';
import { verifyTreeHead } from '../../protocol/treeHead.ts';
import { seededRng, type Rng } from '../../protocol/rng.ts';
import { printJson } from '../output.ts';

interface DemoOptions {
  dataDir: string;
  reset?: boolean;
  readings: string;
  json?: boolean;
}

const DEVICES = [
  { dev: 'oxi-01', st: 'spo2', u: '%', gen: (r: Rng, i: number) => [Math.round(96 + (r(1)[0]! % 4) - (i > 6 ? 6 : 0)), 70 + (r(1)[0]! % 10)] },
  { dev: 'temp-01', st: 'temp', u: 'Cel', gen: (r: Rng) => [Math.round((36.6 + (r(1)[0]! % 10) / 20) * 10) / 10] },
  { dev: 'cgm-01', st: 'glucose', u: 'mmol/L', gen: (r: Rng) => [Math.round((5.5 + (r(1)[0]! % 20) / 10) * 10) / 10] },
];

/**
 * The local ward demo on embedded defaults: an agent with its MQTT broker and SQLite store, a ward
 * authority, a patient session key, tickets pushed to three devices, sealed readings over MQTT,
 * then the patient's side: records fetched with inclusion proofs, verified against the agent's
 * signed tree head, decrypted with the session key. (Chain anchoring and consent join the demo
 * with the chain and query-API work.)
 */
async function runDemo(o: DemoOptions): Promise<void> {
  const say = (s: string): void => {
    if (!o.json) process.stdout.write(s + '\n');
  };
  if (o.reset) rmSync(o.dataDir, { recursive: true, force: true });
  const t0 = performance.now();
  const rng: Rng = (n) => new Uint8Array(randomBytes(n));
  const dataRng = seededRng('vitalseal-demo');
  const hpke = createHpke('node');

  say('vitalseal ward demo');
  const agent = await startAgent(parseAgentConfig({ dataDir: o.dataDir, mqtt: { port: 0 }, http: { port: 0 }, logLevel: 'warn' }), { defaultMetrics: false });
  const clients: MqttClient[] = [];
  try {
    const mqttUrl = `mqtt://127.0.0.1:${agent.mqttAddress!.port}`;
    const api = `http://127.0.0.1:${agent.httpAddress.port}`;
    say(`  agent    MQTT ${mqttUrl}   HTTP ${api}   data ${o.dataDir}   log size ${agent.core.ingestor.log.size}`);

    const authoritySecret = rng(32);
    const authorityPublic = ed25519.getPublicKey(authoritySecret);
    const patient = tempKeyPairGen('patient-0042', rng, hpke);
    say(`  ward     authority key ${toHex(authorityPublic).slice(0, 16)}…`);
    say(`  patient  session key kid ${toHex(patient.kid)} (secret stays with the patient)`);

    const now = Math.floor(Date.now() / 1000);
    const perDevice = Number(o.readings);
    const sent: Array<{ dev: string; seq: number; reading: Reading }> = [];
    for (const d of DEVICES) {
      const { secret } = agent.core.provisionDevice(d.dev);
      await agent.core.pushTicket(issueTicket({ dev: d.dev, kid: patient.kid, pk: patient.publicKey, patient: 'pseudo-7f3a', nbf: now - 60, exp: now + 3600 }, authoritySecret));
      const c = await mqtt.connectAsync(mqttUrl, { clientId: d.dev, username: d.dev, password: secret, protocolVersion: 4, reconnectPeriod: 0 });
      clients.push(c);
      const base = agent.core.store.getDevice(d.dev)?.maxSeq ?? 0;
      for (let i = 0; i < perDevice; i++) {
        const ts = Date.now() - (perDevice - i) * 1000;
        const reading: Reading = { st: d.st, ts, v: d.gen(dataRng, i), u: d.u };
        const seq = base + 1 + i;
        const env = sealReading({ reading, header: { dev: d.dev, seq, ts, st: d.st }, recipient: { publicKey: patient.publicKey, kid: patient.kid }, hpke, rng });
        await c.publishAsync(`vs/v1/${d.dev}/r`, Buffer.from(env), { qos: 1 });
        sent.push({ dev: d.dev, seq, reading });
      }
      say(`  device   ${d.dev.padEnd(8)} ticket verified, ${perDevice} sealed ${d.st} readings, all PUBACKed after commit`);
    }
    // one malformed packet: acknowledged, quarantined with a stable reason, nothing else disturbed
    await clients[0]!.publishAsync('vs/v1/oxi-01/r', Buffer.from([0xde, 0xad, 0xbe, 0xef]), { qos: 1 });
    say(`  agent    quarantined 1 malformed packet: ${JSON.stringify(agent.core.store.quarantineCounts())}`);

    const sth = (await (await fetch(`${api}/v1/log/sth`)).json()) as { sth: string; publicKey: string; size: number; root: string };
    const head = verifyTreeHead(new Uint8Array(Buffer.from(sth.sth, 'base64')), fromHex(sth.publicKey));
    say(`  log      signed tree head verified: size ${head.size}, root ${toHex(head.root).slice(0, 16)}…`);

    say('\n  patient reads back (fetch → verify inclusion proof against the signed head → decrypt):');
    say(`  ${'device'.padEnd(8)} ${'seq'.padStart(4)}  ${'sensor'.padEnd(8)} ${'values'.padEnd(12)} ${'leaf'.padStart(5)}  proof`);
    const rows: Array<Record<string, unknown>> = [];
    let verified = 0;
    for (const d of DEVICES) {
      for (const rec of agent.core.store.recordsOfDevice(d.dev, 0, 100_000).slice(-perDevice)) {
        const r = (await (await fetch(`${api}/v1/records/${toHex(rec.recordId)}?treeSize=${head.size}`)).json()) as { envelope: string; leafIndex: number; treeSize: number; inclusionProof: string[] };
        const env = new Uint8Array(Buffer.from(r.envelope, 'base64'));
        verifyInclusion(r.leafIndex, r.treeSize, leafHash(env), r.inclusionProof.map(fromHex), head.root);
        const opened = openReading(env, { secretKey: patient.secretKey, hpke });
        const expected = sent.find((s) => s.dev === d.dev && s.seq === opened.header.seq);
        if (!expected || JSON.stringify(expected.reading.v) !== JSON.stringify(opened.reading.v)) throw new Error('decrypted reading differs from what the device sent');
        verified++;
        rows.push({ dev: d.dev, seq: opened.header.seq, st: opened.reading.st, v: opened.reading.v, u: opened.reading.u, leaf: r.leafIndex });
        say(`  ${d.dev.padEnd(8)} ${String(opened.header.seq).padStart(4)}  ${opened.reading.st.padEnd(8)} ${(opened.reading.v.join(' ') + ' ' + opened.reading.u).padEnd(12)} ${String(r.leafIndex).padStart(5)}  ok (${r.inclusionProof.length} hashes)`);
      }
    }
    const audit = agent.core.auditLog();
    const seconds = (performance.now() - t0) / 1000;
    const summary = { devices: DEVICES.length, sent: sent.length, verifiedAndDecrypted: verified, quarantined: agent.core.store.quarantineCounts(), logSize: head.size, logAudit: audit.ok, seconds: Math.round(seconds * 100) / 100, rows };
    say(`\n  summary  ${sent.length} readings sent, ${verified} fetched + proof-verified + decrypted to the exact plaintext,`);
    say(`           log audit (root recomputed from ${audit.size} stored leaves) ${audit.ok ? 'OK' : 'FAILED'}, ${summary.seconds} s`);
    if (o.json) printJson(summary);
    if (!audit.ok || verified !== sent.length) throw Object.assign(new Error('demo verification failed'), { code: 'DEMO_FAILED' });
  } finally {
    for (const c of clients) await c.endAsync().catch(() => undefined);
    await agent.stop();
  }
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('local ward demo on embedded defaults (what `npm start` runs)')
    .option('-d, --data-dir <dir>', 'data directory (reused across runs)', '.vitalseal/demo')
    .option('--reset', 'start from an empty data directory')
    .option('--readings <n>', 'readings per device', '8')
    .option('--json', 'print the summary as JSON')
    .action((o: DemoOptions) => runDemo(o));
}
