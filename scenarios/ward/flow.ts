/**
 * The ward scenario behind `npm start` (cli/commands/demo.ts), test/e2e/ward.test.ts and the
 * pipeline benchmark's signed query (bench/pipeline.ts): embedded chain + contracts, the
 * agent with its broker, a ward authority, a patient, clinicians and a researcher (funded dev
 * accounts of the embedded chain), sessions on several devices, consent, streamed readings,
 * anchoring, then the reading side: verified + decrypted readings, refusals, a revocation, a
 * break-glass drill and a research disclosure. Every step's outcome is returned for checking.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { devPrivateKey } from '../../chain/devKeys.ts';
import type { RoleName } from '../../chain/contracts.ts';
import { createHpke } from '../../protocol/node.ts';
import { decodeEnvelope, identityFingerprint, sealReading } from '../../protocol/envelope/index.ts';
import type { X25519KeyPair } from '../../protocol/hpke/types.ts';
import { toHex } from '../../protocol/bytes.ts';
import { seededRng, type Rng } from '../../protocol/rng.ts';
import { PROFILES, ScenarioTimeline, type ProfileName } from '../../device-sim/profiles/index.ts';
import { Wallet } from '../../wallet/wallet.ts';
import { AgentClient } from '../../wallet/agentClient.ts';
import { contractsFor, registerByAdmin, registerPatient, type ChainLink } from '../../wallet/chainLink.ts';
import { requestPairing, startSession } from '../../wallet/sessions.ts';
import { grantConsent, revokeConsent, sessionsCoveredBy } from '../../wallet/consent.ts';
import { importKeyShare, sealKeyShare } from '../../wallet/keyShare.ts';
import { fetchRecords } from '../../wallet/fetchRecords.ts';
import { openServedRecord, verifyAndDecrypt, toRows, toTable } from '../../wallet/readings.ts';
import { breakGlassAndRelease, initEmergency, type EmergencyProfile } from '../../wallet/emergency.ts';
import { patientEvents, describeEvent } from '../../wallet/chainEvents.ts';
import { createDisclosure, openDisclosure, tryDisclosureOn } from '../../wallet/disclosure.ts';
import { AnchoredRoots, envelopeOf } from '../../wallet/verifyRecords.ts';
import type { ServedRecord } from '../../protocol/api/servedRecord.ts';
import { readingTopic } from '../../protocol/topics.ts';
import { fetchAccessEvents } from '../../wallet/accessEvents.ts';
import { WalletError } from '../../wallet/errors.ts';
import { ScenarioError } from './errors.ts';
import { adminCall } from './operator.ts';
import { retainedTicket } from './retainedTicket.ts';
import type { SentReading, WardFlowOptions, WardFlowResult } from './types.ts';

const DEVICES: ReadonlyArray<{ dev: string; profile: ProfileName }> = [
  { dev: 'oxi-01', profile: 'pulse-oximeter' },
  { dev: 'nibp-01', profile: 'nibp-cuff' },
  { dev: 'temp-01', profile: 'thermometer' },
  { dev: 'cgm-01', profile: 'cgm' },
];

/** Dev accounts (indices of anvil's public mnemonic; 0 = ward authority, 1 = agent). */
const ACCOUNTS = { patient: 2, clinician: 3, emergency: 4, researcher: 5, stranger: 6, unregistered: 7, intruder: 8 } as const;
const PASSPHRASE = 'vitalseal-demo-only';

async function refusalCode(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    if (e instanceof WalletError && e.code === 'WALLET_API_REFUSED') return e.apiCode;
    throw e;
  }
}

function openOrCreateWallet(dir: string, name: string, index: number, rng: Rng, scryptN: number | undefined): Wallet {
  const path = join(dir, `${name}.wallet.json`);
  if (existsSync(path)) return Wallet.open(path, PASSPHRASE, rng);
  return Wallet.create(path, PASSPHRASE, { rng, ethPrivateKey: devPrivateKey(index), ...(scryptN ? { scryptN } : {}) });
}

export async function runWardFlow(o: WardFlowOptions): Promise<WardFlowResult> {
  const t0 = performance.now();
  const say = o.say;
  const rng: Rng = o.rng ?? ((n) => new Uint8Array(randomBytes(n)));
  const hpke = createHpke('node');
  const checkAbort = (): void => {
    if (o.signal?.aborted) throw new ScenarioError('DEMO_INTERRUPTED');
  };
  if (o.reset) rmSync(o.dataDir, { recursive: true, force: true });
  const agentDir = join(o.dataDir, 'agent');
  const walletDir = join(o.dataDir, 'wallets');
  mkdirSync(walletDir, { recursive: true });

  const agent: RunningAgent = await startAgent(
    parseAgentConfig({
      dataDir: agentDir,
      mqtt: { port: 0 },
      http: { port: 0 },
      logLevel: o.logLevel ?? 'error',
      chain: { mode: 'embedded', intervalMs: 250, maxLeaves: 200 },
      // the ward requires proof of origin: a base-mode reading is quarantined (AGENT_BASE_MODE_REFUSED)
      ingest: { requireAuthMode: true },
      // devices on MQTT over TLS only, each with its client certificate of the ward CA (made in the demo's data dir);
      // the API on HTTPS, its certificate issued by the same ward CA: wallets and the operator verify it against that CA only
      tls: { enabled: true, port: 0, requireTls: true, clientCerts: 'required', https: true },
    }),
    { defaultMetrics: false, rng },
  );
  const mqttClients: MqttClient[] = [];
  try {
    const anchoring = agent.anchoring!;
    const embedded = anchoring.embedded!;
    const link: ChainLink = { rpcUrl: embedded.chain.rpcUrl, deployment: anchoring.deployment, embedded: true };
    const api = `https://127.0.0.1:${agent.httpAddress.port}`;
    const wardCaPem = agent.tls!.caPem;
    const mqttUrl = `mqtts://127.0.0.1:${agent.mqttTlsAddress!.port}`;
    const startBlock = Number(await anchoring.contracts.clients.publicClient.getBlockNumber());
    const startLogSize = agent.core.ingestor.log.size;
    say(`chain    embedded anvil ${link.rpcUrl}  chain id ${link.deployment.chainId}  block ${startBlock}`);
    say(`         Registrar ${link.deployment.registrar}  Consent ${link.deployment.consent}  Ledger ${link.deployment.ledger}`);
    say(
      `tls      ward CA ${agent.tls!.ca!.fingerprint.slice(0, 23)}…  MQTT over TLS ≥ 1.2 only, mutual TLS required (plain MQTT closed); API on HTTPS (same CA)`,
    );
    say(`agent    MQTT ${mqttUrl}  HTTPS ${api}  log ${anchoring.logId.slice(0, 18)}…  size ${agent.core.ingestor.log.size}`);

    // ------------------------------------------------------------ identities
    const names = Object.keys(ACCOUNTS) as Array<keyof typeof ACCOUNTS>;
    const wallets = Object.fromEntries(names.map((n) => [n, openOrCreateWallet(walletDir, n, ACCOUNTS[n], rng, o.scryptN)])) as Record<
      keyof typeof ACCOUNTS,
      Wallet
    >;
    const { patient, clinician, emergency, researcher, stranger, unregistered, intruder } = wallets;
    const pc = contractsFor(patient, link);
    const admin = embedded.adminContracts;
    const ensure = async (w: Wallet, role: RoleName, register: () => Promise<unknown>): Promise<string> => {
      const r = await admin.registration(w.address);
      if (r.role === role && !r.revoked) return 'registered earlier';
      await register();
      return 'registered';
    };
    say(
      `ward     authority key ${Buffer.from(agent.ward.authorityPublicKey).toString('hex').slice(0, 16)}… (in the agent's data dir), emergency key ${Buffer.from(agent.ward.emergencyPublicKey).toString('hex').slice(0, 16)}…`,
    );
    say(`patient  ${patient.address}  ${await ensure(patient, 'Patient', () => registerPatient(pc, patient))} (self, Registrar)`);
    say(
      `clinician ${clinician.address}  ${await ensure(clinician, 'Clinician', () => registerByAdmin(admin, clinician, 'Clinician'))} by the ward authority`,
    );
    say(
      `emergency ${emergency.address}  ${await ensure(emergency, 'EmergencyClinician', () => registerByAdmin(admin, emergency, 'EmergencyClinician'))} (emergency clinician)`,
    );
    say(
      `research ${researcher.address}  ${await ensure(researcher, 'Researcher', () => registerByAdmin(admin, researcher, 'Researcher'))}`,
    );
    say(
      `other    ${stranger.address}  ${await ensure(stranger, 'Clinician', () => registerByAdmin(admin, stranger, 'Clinician'))} clinician without consent; ${unregistered.address} not registered`,
    );
    say(
      `intruder ${intruder.address}  ${await ensure(intruder, 'Patient', () => registerPatient(contractsFor(intruder, link), intruder))} (self-registered patient of the same ward)`,
    );
    checkAbort();

    // ------------------------------------------------------------ devices: provisioned, then assigned at the bedside
    const client = (): AgentClient => AgentClient.withCa(api, rng, wardCaPem);
    const patientApi = client();
    const operator = adminCall(api, agent.adminToken, wardCaPem);
    for (const d of DEVICES) agent.core.provisionDevice(d.dev);
    // each device's TLS key and certificate (CN = device id), issued by the ward CA
    const certs = new Map<string, { certPem: string; keyPem: string }>();
    for (const d of DEVICES) certs.set(d.dev, await agent.tls!.ca!.issueDeviceWithKey(d.dev));
    const assignments: WardFlowResult['assignments'] = [];
    for (const d of DEVICES) {
      // the patient's wallet asks to pair (signed); the operator checks the wristband and types the code the wallet shows
      const pairing = await requestPairing(patient, patientApi, d.dev);
      const a = (await operator('POST', '/admin/assignments', { device: d.dev, code: pairing.code })) as { patient: string; via: string };
      assignments.push({ device: d.dev, patient: a.patient, via: a.via });
    }
    say(
      `assign   ${DEVICES.length} devices provisioned; the patient's wallet asks to pair with each (signed), shows a one-time code, the ward operator confirms it at the bedside:`,
    );
    say(`         ${assignments.map((a) => `${a.device} → ${a.patient.slice(0, 10)}… (${a.via})`).join(', ')}`);
    checkAbort();

    // ------------------------------------------------------------ device identity keys (issue #20)
    // each device generates its X25519 identity key; only the public half leaves it (status "idk"), and the
    // operator registers it: every ticket the ward signs for the device certifies it (idk, ticket v2)
    const identities = new Map<string, X25519KeyPair>();
    for (const d of DEVICES) {
      const identity = hpke.generateKeyPair(rng);
      identities.set(d.dev, identity);
      await operator('PUT', `/admin/devices/${encodeURIComponent(d.dev)}/identity`, { idk: toHex(identity.publicKey) });
    }
    say(
      `identity ${DEVICES.length} devices generated X25519 identity keys; the operator registered the public keys: ${DEVICES.map((d) => `${d.dev} ${identityFingerprint(identities.get(d.dev)!.publicKey).slice(0, 8)}…`).join(', ')}`,
    );

    // ------------------------------------------------------------ sessions on the devices
    const nowSec = () => Math.floor(Date.now() / 1000);
    const sessions = new Map<string, string>();
    for (const d of DEVICES) {
      const s = await startSession(patient, patientApi, { device: d.dev, hpke, rng, nowSec: nowSec() });
      sessions.set(d.dev, s.kid);
    }
    say(
      `sessions ${DEVICES.length} devices, TempKeyPairGen in the wallet, tickets signed by the ward authority and pushed: ${DEVICES.map((d) => `${d.dev} kid ${sessions.get(d.dev)!.slice(0, 8)}…`).join(', ')}`,
    );
    const intruderApi = client();
    const otherPatientsDevice = await refusalCode(startSession(intruder, intruderApi, { device: 'oxi-01', hpke, rng, nowSec: nowSec() }));
    say(`refused  another registered patient asks for a session on oxi-01 (not assigned to it) → ${otherPatientsDevice}`);

    // ------------------------------------------------------------ consent + key share
    const grant = await grantConsent(pc, clinician.address, { kind: 'all' }, nowSec() + 3600);
    const reg = await admin.registration(clinician.address);
    const share = sealKeyShare(patient, sessionsCoveredBy(patient, { kind: 'all' }), clinician.address, reg.pubKey, hpke, rng);
    const shared = importKeyShare(clinician, share, hpke);
    say(
      `consent  patient → clinician scope all until +1 h (block ${grant.blockNumber}); ${shared} session keys shared, sealed to the clinician's registered X25519 key`,
    );
    checkAbort();

    // ------------------------------------------------------------ readings
    const sent: SentReading[] = [];
    const tickets = new Map<string, { publicKey: Uint8Array; kid: Uint8Array; client: MqttClient }>();
    const runStart = Date.now();
    const scenarios = new ScenarioTimeline([{ kind: 'desaturation', atMs: 0, durationMs: o.readingsPerDevice * 1000, severity: 0.8 }]);
    const dataRng = seededRng('vitalseal-ward-demo');
    for (const d of DEVICES) {
      const profile = PROFILES[d.profile];
      const gen = profile.createGenerator({ rng: dataRng, scenarios, runStartMs: runStart - o.readingsPerDevice * 1000 });
      const c = await mqtt.connectAsync(mqttUrl, {
        clientId: d.dev,
        username: d.dev,
        ca: agent.tls!.caPem,
        cert: certs.get(d.dev)!.certPem,
        key: certs.get(d.dev)!.keyPem,
        protocolVersion: 4,
        reconnectPeriod: 0,
      });
      mqttClients.push(c);
      // the device takes the patient's session key from its retained ticket, checked against the pinned ward authority key
      const ticket = await retainedTicket(c, d.dev, sessions.get(d.dev)!, agent.ward.authorityPublicKey);
      tickets.set(d.dev, { publicKey: ticket.pk, kid: ticket.kid, client: c });
      const base = agent.core.store.getDevice(d.dev)?.maxSeq ?? 0;
      const kid = Buffer.from(ticket.kid).toString('hex');
      const publishes: Array<Promise<unknown>> = [];
      for (let i = 0; i < o.readingsPerDevice; i++) {
        const ts = runStart - (o.readingsPerDevice - i) * 1000;
        const reading = gen.next(ts);
        const seq = base + 1 + i;
        const env = sealReading({
          reading,
          header: { dev: d.dev, seq, ts, st: reading.st },
          recipient: { publicKey: ticket.pk, kid: ticket.kid },
          hpke,
          rng,
          // HPKE Auth mode with the device's identity key: readers verify the reading came from this device
          senderSecretKey: identities.get(d.dev)!.secretKey,
        });
        publishes.push(c.publishAsync(readingTopic(d.dev), Buffer.from(env), { qos: 1 }));
        sent.push({ device: d.dev, seq, kid, reading });
      }
      await Promise.all(publishes);
      say(
        `device   ${d.dev.padEnd(8)} ${profile.title.padEnd(22)} ticket verified (pinned ward key), ${o.readingsPerDevice} ${profile.st} readings sealed in HPKE Auth mode, PUBACKed after commit`,
      );
    }
    checkAbort();

    // ------------------------------------------------------------ anchoring
    const size = agent.core.ingestor.log.size;
    await anchoring.service.waitForAnchored(size, 20_000);
    const anchored = await anchoring.contracts.anchoredEvents(anchoring.logId, { fromBlock: startBlock });
    const anchors = anchored.map((a) => ({ treeSize: a.treeSize, blockNumber: a.blockNumber, txHash: a.txHash }));
    say(`anchors  ${anchors.map((a) => `size ${a.treeSize} @ block ${a.blockNumber}`).join(', ')}  (log size ${size})`);
    checkAbort();

    // ------------------------------------------------------------ clinician reads
    const clinApi = client();
    const clinicianContracts = contractsFor(clinician, link);
    const verifyOpts = {
      wallet: clinician,
      hpke,
      contracts: clinicianContracts,
      fromBlock: link.deployment.deployBlock,
      chainId: link.deployment.chainId,
      ledger: link.deployment.ledger,
      authorityPublicKey: agent.ward.authorityPublicKey,
    };
    const fetched = await fetchRecords(clinician, clinApi, patient.address);
    const thisRun = new Set(sessions.values());
    const clinicianRead = (await verifyAndDecrypt(fetched.records, verifyOpts)).filter((r) => thisRun.has(r.record.kid));
    const ok = clinicianRead.filter((r) => r.check.status === 'verified' && r.decrypt === 'ok');
    say(
      `\nclinician query: ${fetched.records.length} records served (this run ${clinicianRead.length}), ${ok.length} proof-verified against the root read from the Ledger + decrypted`,
    );
    const rows = toRows(clinicianRead);
    const shown = DEVICES.flatMap((d) => rows.filter((r) => r.device === d.dev).slice(0, 2));
    say(
      toTable(shown)
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    );
    say(`  … ${rows.length - shown.length} more rows (vitalseal records fetch --csv for all)`);
    const fromDevice = clinicianRead.filter((r) => r.origin === 'device').length;
    say(
      `  origin: ${fromDevice} of ${clinicianRead.length} verified as sealed by their device's identity key (${clinicianRead[0]?.originDetail ?? ''})`,
    );
    checkAbort();

    // ------------------------------------------------------------ a forged reading (issue #20)
    // a gateway-side forger read the retained ticket of oxi-01: it has the patient's public key, not the device's identity key
    const victim = tickets.get('oxi-01')!;
    const forgerKey = hpke.generateKeyPair(rng);
    const forgedSeq = (agent.core.store.getDevice('oxi-01')?.maxSeq ?? 0) + 1;
    const forgedReading = { st: 'spo2', ts: Date.now() - 500, v: [71], u: '%' };
    const forgedHeader = { dev: 'oxi-01', seq: forgedSeq, ts: forgedReading.ts, st: 'spo2' };
    const forged = sealReading({
      reading: forgedReading,
      header: forgedHeader,
      recipient: victim,
      hpke,
      rng,
      senderSecretKey: forgerKey.secretKey,
    });
    const forgedBase = sealReading({
      reading: forgedReading,
      header: { ...forgedHeader, seq: forgedSeq + 1 },
      recipient: victim,
      hpke,
      rng,
    });
    const quarantinedBefore = agent.core.ingestor.deviceCounters('oxi-01')?.quarantined ?? 0;
    await victim.client.publishAsync(readingTopic('oxi-01'), Buffer.from(forged), { qos: 1 });
    await victim.client.publishAsync(readingTopic('oxi-01'), Buffer.from(forgedBase), { qos: 1 });
    const forgedQuarantined = (agent.core.ingestor.deviceCounters('oxi-01')?.quarantined ?? 0) - quarantinedBefore;
    const forgedId = toHex(decodeEnvelope(forged).recordId);
    const servedForgery = (await patientApi.get(`/v1/records/${forgedId}`)) as ServedRecord;
    const forgedOpen = openServedRecord(servedForgery, {
      secretKey: clinician.sessionSecretFor(servedForgery.kid)!,
      hpke,
      authorityPublicKey: agent.ward.authorityPublicKey,
    });
    say(
      `
forgery  a gateway with oxi-01's retained ticket seals "SpO2 71 %" with its own key: the agent (no key) stores it at leaf ${servedForgery.leafIndex};`,
    );
    say(
      `         the clinician's wallet: ${forgedOpen.originDetail}; the base-mode forgery: quarantined (AGENT_BASE_MODE_REFUSED) ×${forgedQuarantined}`,
    );
    if (forgedOpen.origin !== 'not-from-device') throw new ScenarioError('DEMO_FAILED', 'the forged reading was not rejected');
    checkAbort();

    // ------------------------------------------------------------ refusals
    const refusals: WardFlowResult['refusals'] = {
      unregistered: undefined,
      unauthorized: undefined,
      replayed: undefined,
      expired: undefined,
      revoked: undefined,
      otherPatientsDevice,
      otherPatientsKey: undefined,
    };
    refusals.unregistered = await refusalCode(fetchRecords(unregistered, client(), patient.address));
    refusals.unauthorized = await refusalCode(fetchRecords(stranger, client(), patient.address));
    const once = await clinApi.signed(clinician, 'RecordQuery', { patient: patient.address, device: 'oxi-01', fromLeaf: 0, limit: 5 });
    await clinApi.post('/v1/query/records', once);
    refusals.replayed = await refusalCode(clinApi.post('/v1/query/records', once));
    const stale = await clinApi.signed(
      clinician,
      'RecordQuery',
      { patient: patient.address, device: '', fromLeaf: 0, limit: 5 },
      { expiry: nowSec() - 1 },
    );
    refusals.expired = await refusalCode(clinApi.post('/v1/query/records', stale));
    say(`\nrefused  unregistered requester → ${refusals.unregistered}; registered clinician without consent → ${refusals.unauthorized}`);
    say(`         replayed request → ${refusals.replayed}; expired request → ${refusals.expired}`);
    const rev = await revokeConsent(pc, clinician.address, { kind: 'all' });
    refusals.revoked = await refusalCode(fetchRecords(clinician, clinApi, patient.address));
    say(`revoked  patient revokes the clinician (block ${rev.blockNumber}); the next query → ${refusals.revoked}`);
    // a former grantee kept the session key from the key share: registering it again under another patient account fails
    const sharedKey = clinician.sessions.find((x) => x.kid === sessions.get('oxi-01'))!;
    refusals.otherPatientsKey = await refusalCode(
      intruderApi.call(intruder, '/v1/sessions', 'SessionRequest', {
        device: 'oxi-01',
        pk: `0x${sharedKey.pk}`,
        nbf: nowSec() - 60,
        exp: nowSec() + 3600,
      }),
    );
    say(
      `         a former grantee re-registers the patient's session key from another patient account → ${refusals.otherPatientsKey} (the patient's access log shows the attempt)`,
    );
    checkAbort();

    // ------------------------------------------------------------ break-glass drill
    const profile: EmergencyProfile = {
      bloodType: 'A+',
      allergies: ['penicillin'],
      medication: ['metformin 500 mg'],
      notes: 'demo profile',
    };
    const esc = await initEmergency(patient, patientApi, profile, { hpke, rng });
    const bg = await breakGlassAndRelease(emergency, contractsFor(emergency, link), client(), patient.address, {
      reason: 'drill: unresponsive patient, ward 3',
      drill: true,
      hpke,
    });
    const watchNow = await patientEvents(pc, patient.address, startBlock);
    const patientSaw = watchNow.find((e) => e.kind === 'break-glass' && e.block === bg.blockNumber);
    say(
      `\nbreak-glass drill: emergency key escrowed (kid ${esc.kid.slice(0, 8)}…, sealed to the ward); emergency clinician breaks the glass on-chain (block ${bg.blockNumber}, drill=${bg.drill})`,
    );
    say(
      `         released to that clinician only, re-sealed to its key: blood ${bg.profile.bloodType}, allergies ${bg.profile.allergies.join(', ')}, medication ${bg.profile.medication.join(', ')}`,
    );
    say(`         patient's watch: ${patientSaw ? describeEvent(patientSaw) : 'NOT SEEN'}`);
    checkAbort();

    // ------------------------------------------------------------ research disclosure
    const own = await fetchRecords(patient, patientApi, patient.address, { device: 'oxi-01' });
    const ownThisRun = own.records.filter((r) => r.kid === sessions.get('oxi-01'));
    const target: ServedRecord = ownThisRun[Math.floor(ownThisRun.length / 2)]!;
    const domain = (await patientApi.ward()).chain!.domain;
    const disclosure = await createDisclosure(patient, target, {
      domain,
      hpke,
      nowSec: nowSec(),
      authorityPublicKey: agent.ward.authorityPublicKey,
    });
    const researcherContracts = contractsFor(researcher, link);
    const opened = await openDisclosure(disclosure, {
      hpke,
      contracts: researcherContracts,
      fromBlock: link.deployment.deployBlock,
      chainId: link.deployment.chainId,
      ledger: link.deployment.ledger,
      consent: link.deployment.consent,
    });
    const others = ownThisRun.filter((r) => r.recordId !== target.recordId);
    const otherOpened = others.filter((r) => tryDisclosureOn(disclosure, envelopeOf(r), hpke)).length;
    say(
      `\nresearch patient discloses one reading's AEAD key + nonce (signed, not the session key): ${opened.reading.st} ${opened.reading.v.join(' ')} ${opened.reading.u}, proof ${opened.check.status}`,
    );
    say(`         the same disclosure opens ${otherOpened} of the ${others.length} other readings of that session`);

    await anchoring.service.waitForAnchored(agent.core.ingestor.log.size, 20_000);
    const roots = new AnchoredRoots(pc, link.deployment.deployBlock);
    const accessLog = await fetchAccessEvents(patient, patientApi, roots, { fromLeaf: startLogSize });
    const kinds = accessLog.reduce<Record<string, number>>((a, e) => {
      a[String(e.event['t'])] = (a[String(e.event['t'])] ?? 0) + 1;
      return a;
    }, {});
    const accessVerified = accessLog.filter((e) => e.check.status === 'verified').length;
    say(
      `\naccess log (kind-2 leaves about the patient, this run): ${Object.entries(kinds)
        .map(([k, n]) => `${k} ×${n}`)
        .join(', ')}; ${accessVerified}/${accessLog.length} proofs verified on-chain`,
    );

    const watch = await patientEvents(pc, patient.address, startBlock);
    say(`\npatient watch (chain events since block ${startBlock}):`);
    for (const e of watch.slice(-8)) say(`  ${describeEvent(e)}`);
    if (o.beforeStop) await o.beforeStop({ agent, link, api, ca: wardCaPem, wallets, clinicianRecords: fetched.records });
    const audit = agent.core.auditLog();
    return {
      seconds: (performance.now() - t0) / 1000,
      accounts: Object.fromEntries(names.map((n) => [n, wallets[n].address])),
      sent,
      anchors,
      clinicianRead,
      refusals,
      assignments,
      breakGlass: { profile: bg.profile, drill: bg.drill, until: bg.until, blockNumber: bg.blockNumber, patientSaw },
      disclosure: { opened, recordId: target.recordId, otherReadingsOpened: otherOpened, otherReadingsTried: others.length },
      watch,
      accessLog: accessLog.map((e) => ({
        kind: String(e.event['t']),
        requester: e.event['requester'] as string | undefined,
        clinician: e.event['clinician'] as string | undefined,
        drill: e.event['drill'] as boolean | undefined,
        status: e.check.status,
      })),
      logSize: agent.core.ingestor.log.size,
      logAudit: audit.ok,
    };
  } finally {
    for (const c of mqttClients) await c.endAsync().catch(() => undefined);
    await agent.stop();
  }
}
