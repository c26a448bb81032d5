/**
 * device-c's host program `vitalseal-device-c` against the REAL agent over socat pty pairs
 * (docs/PROTOCOL.md §8.6, §8.7, §10.3): the agent (line bound to the device) pushes its ticket on
 * the online status, stores the readings, and the patient key opens them; then the agent stops
 * committing (no acks), the device is killed with SIGKILL and restarted from its NVM directory:
 * every reading it had sealed is delivered once (replayed from the outbox), no seq is reused, nothing
 * is quarantined. Session mode (§6) on a second, unbound line: one ek, hs 0, 1, 2, … per boot.
 * HPKE Auth mode (§3.6) on a third line: the operator registers the identity key the device
 * generated (its NVM record), the agent's v2 ticket certifies it, and every stored reading opens
 * with openReading({ senderPublicKey: idk }).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { x25519 } from '@noble/curves/ed25519.js';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import type { IngestItem } from '../../agent/ingest/types.ts';
import { toHex } from '../../protocol/bytes.ts';
import { decodeEnvelope, openReading } from '../../protocol/envelope/index.ts';
import { issueTicket } from '../../protocol/ticket/index.ts';
import { startPtyPair, tempDir, waitFor } from '../support/services.ts';
import { WardFixture } from '../support/ward.ts';
import { skipDeviceC, skipDeviceCReason } from './build.ts';
import { startCDevice, writeProvisioning, type RunningCDevice } from './cDevice.ts';

const DEV = 'c-oxi-1';
const DEV_SESSION = 'c-oxi-2';
const DEV_AUTH = 'c-oxi-3';
const ward = new WardFixture('device-c-agent');

describe.skipIf(skipDeviceC)(`vitalseal-device-c with the real agent over a pty ${skipDeviceCReason}`, () => {
  let pty: Awaited<ReturnType<typeof startPtyPair>>;
  let pty2: Awaited<ReturnType<typeof startPtyPair>>;
  let pty3: Awaited<ReturnType<typeof startPtyPair>>;
  let agent: RunningAgent;
  const devices: RunningCDevice[] = [];
  const work = tempDir('vitalseal-devc-agent-');

  const stored = (dev: string) => agent.core.store.recordsOfDevice(dev, 0, 100_000);
  const open = (envelope: Uint8Array) => openReading(envelope, { secretKey: ward.patient.secretKey, hpke: ward.hpke });

  beforeAll(async () => {
    pty = await startPtyPair();
    pty2 = await startPtyPair();
    pty3 = await startPtyPair();
    const config = parseAgentConfig({
      dataDir: `${work}/agent`,
      mode: 'embedded',
      mqtt: { port: 0 },
      serial: [`${pty.a}=${DEV}`, pty2.a, `${pty3.a}=${DEV_AUTH}`],
      http: { port: 0 },
      logLevel: 'silent',
    });
    agent = await startAgent(config, { defaultMetrics: false, authorityPublicKey: ward.authorityPublic });
    await agent.core.pushTicket(ward.ticketFor(DEV));
    await agent.core.pushTicket(ward.ticketFor(DEV_SESSION));
  });

  afterAll(async () => {
    for (const d of devices) await d.kill9();
    await agent?.stop();
    await pty?.stop();
    await pty2?.stop();
    await pty3?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('gets its ticket from the agent, readings are stored and open with the patient key; kill -9 and restart: replayed once, no seq reused', async () => {
    const provision = writeProvisioning(work, { dev: DEV, authority: ward.authorityPublic });
    const nvm = `${work}/nvm-1`;
    const run1 = startCDevice({ serial: pty.b, nvm, provision, periodMs: 100, ackTimeoutMs: 1000 });
    devices.push(run1);
    await run1.waitLine(/^ticket accepted kid=/, 15_000);
    await waitFor(() => stored(DEV).length >= 15, 20_000, '15 readings stored');

    // the agent stops committing: nothing more is acknowledged; the device keeps sealing into its outbox
    const ingestor = agent.core.ingestor;
    const submit = ingestor.submit.bind(ingestor);
    const held: IngestItem[] = [];
    ingestor.submit = (item) => void held.push(item);
    const sealedBefore = run1.sealedSeqs().length;
    try {
      await waitFor(() => run1.sealedSeqs().length >= sealedBefore + 6 && held.length >= 3, 15_000, 'readings sealed, not acknowledged');
      await run1.kill9();
    } finally {
      ingestor.submit = submit; // the held ones are never committed (as after a failed commit)
    }
    const sealed1 = run1.sealedSeqs();
    const max1 = Math.max(...sealed1);
    const storedBefore = new Set(stored(DEV).map((r) => r.seq));
    const unacked = sealed1.filter((s) => !storedBefore.has(s));
    expect(unacked.length).toBeGreaterThanOrEqual(6);

    // restart from the same NVM directory (the same provisioning file is accepted)
    const run2 = startCDevice({ serial: pty.b, nvm, provision, periodMs: 100, ackTimeoutMs: 1000 });
    devices.push(run2);
    const boot = await run2.waitLine(/^boot /, 10_000);
    expect(boot).toMatch(/ ticket=yes/);
    expect(Number(/ seq=(\d+)/.exec(boot)![1])).toBeGreaterThan(max1);
    expect(Number(/ outbox=(\d+)/.exec(boot)![1])).toBeGreaterThanOrEqual(unacked.length);
    await waitFor(
      () => {
        const seqs = new Set(stored(DEV).map((r) => r.seq));
        return sealed1.every((s) => seqs.has(s)) && run2.sealedSeqs().filter((s) => seqs.has(s)).length >= 5;
      },
      30_000,
      'every sealed reading stored after the restart',
    );
    const sealed2 = run2.sealedSeqs();
    expect(Math.min(...sealed2)).toBeGreaterThan(max1); // no seq reused across the crash
    const records = stored(DEV);
    const seqs = records.map((r) => r.seq);
    expect(new Set(seqs).size).toBe(seqs.length); // each stored once
    for (const s of [...sealed1, ...sealed2.filter((x) => seqs.includes(x))]) expect(seqs).toContain(s);
    expect(agent.core.store.quarantineCounts()).toEqual({}); // no AGENT_SEQ_REPLAY: resends are the stored bytes
    for (const r of records) {
      const o = open(r.envelope);
      expect(o.header).toMatchObject({ dev: DEV, seq: r.seq, st: 'spo2' });
      expect(o.reading.u).toBe('%,bpm');
    }
    await run2.stop();
    expect(await run2.exited).toEqual({ code: 0, signal: null });
  }, 120_000);

  it('session mode (§6): one ek and hs 0, 1, 2, … per boot on an unbound line; the patient key opens every reading', async () => {
    const provision = writeProvisioning(work, { dev: DEV_SESSION, authority: ward.authorityPublic }, 'provision-2.txt');
    const d = startCDevice({ serial: pty2.b, nvm: `${work}/nvm-2`, provision, periodMs: 100, session: true });
    devices.push(d);
    await waitFor(() => stored(DEV_SESSION).length >= 6, 20_000, 'session readings stored');
    await d.stop();
    const records = stored(DEV_SESSION).sort((a, b) => a.seq - b.seq);
    const opened = records.map((r) => open(r.envelope));
    expect(opened.map((o) => o.header.hs)).toEqual(opened.map((_, i) => i));
    expect(opened.every((o) => o.header.dev === DEV_SESSION && o.reading.u === '%,bpm')).toBe(true);
    expect(new Set(records.map((r) => toHex(decodeEnvelope(r.envelope).enc))).size).toBe(1); // one ek for the boot
    expect(agent.core.store.quarantineCounts()).toEqual({});
  }, 60_000);

  it('HPKE Auth mode (§3.6): the operator registers the idk the device generated, the v2 ticket certifies it, every stored reading opens with it', async () => {
    const provision = writeProvisioning(work, { dev: DEV_AUTH, authority: ward.authorityPublic }, 'provision-3.txt');
    const nvm = `${work}/nvm-3`;
    const d = startCDevice({ serial: pty3.b, nvm, provision, periodMs: 100 });
    devices.push(d);
    await d.waitLine(/^line up/, 10_000);
    // the operator reads the device's identity public key (the online status "idk"; here from its NVM) and registers it
    const idk = x25519.getPublicKey(new Uint8Array(readFileSync(`${nvm}/idkey`).subarray(4, 36)));
    agent.custody.registerIdentityKey(DEV_AUTH, idk);
    const nowS = Math.floor(Date.now() / 1000);
    await agent.core.pushTicket(
      issueTicket(
        {
          dev: DEV_AUTH,
          kid: ward.patient.kid,
          pk: ward.patient.publicKey,
          patient: 'patient-ref-1',
          nbf: nowS - 60,
          exp: nowS + 3600,
          idk,
        },
        ward.authoritySecret,
      ),
    );
    await waitFor(() => stored(DEV_AUTH).length >= 5, 20_000, 'auth-mode readings stored');
    await d.stop();
    for (const r of stored(DEV_AUTH)) {
      const o = openReading(r.envelope, { secretKey: ward.patient.secretKey, hpke: ward.hpke, senderPublicKey: idk });
      expect(o.header).toMatchObject({ dev: DEV_AUTH, m: 2, seq: r.seq });
    }
    expect(agent.core.store.quarantineCounts()).toEqual({});
  }, 60_000);
});
