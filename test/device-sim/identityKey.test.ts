/**
 * The reference firmware's identity key (issue #20, docs/PROTOCOL.md §3.6): generated on the device
 * at first boot into its NVM (kept across reboots), its public key reported in the online status
 * ("idk"); under a ticket that certifies it the device seals in HPKE Auth mode, single-shot and
 * session; a ticket that certifies another key is refused (SIM_IDENTITY_KEY_MISMATCH).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../protocol/bytes.ts';
import { decodeEnvelope, openReading } from '../../protocol/envelope/index.ts';
import { createHpke } from '../../protocol/node.ts';
import { seededRng } from '../../protocol/rng.ts';
import { issueTicket } from '../../protocol/ticket/index.ts';
import { tempKeyPairGen } from '../../protocol/keys/index.ts';
import { DeviceFirmware, type FirmwareEvent } from '../../device-sim/firmware/device.ts';
import type { SealMode } from '../../device-sim/crypto/sealer.ts';
import { MemoryNvm } from '../../device-sim/nvm/storage.ts';
import { PROFILES } from '../../device-sim/profiles/index.ts';
import { VirtualScheduler } from '../../device-sim/time/virtualScheduler.ts';
import { LoopbackHub } from '../../device-sim/transport/loopbackLink.ts';

const START = 1_767_225_600_000;
const S = START / 1000;
const authority = ed25519.keygen(new Uint8Array(32).fill(7));
const node = createHpke('node');

function rig(id: string, mode: SealMode, storage = new MemoryNvm()) {
  const sched = new VirtualScheduler(START);
  const hub = new LoopbackHub(sched, 2);
  const events: FirmwareEvent[] = [];
  const fw = new DeviceFirmware({
    provisioning: { id, profile: PROFILES['pulse-oximeter'], authorityPublicKey: authority.publicKey },
    scheduler: sched,
    storage,
    link: (dev, ev) => hub.link(dev.id, ev),
    seed: 'idk-test',
    runStartMs: START,
    backend: 'node',
    mode,
    ackTimeoutMs: 1000,
    onEvent: (e) => events.push(e),
  });
  const advance = async (ms: number): Promise<void> => {
    const end = sched.now() + ms;
    while (sched.now() < end) {
      sched.runUntil(Math.min(end, sched.now() + 250));
      await new Promise((r) => setImmediate(r));
    }
  };
  const statuses = () => hub.device(id).statuses;
  const reportedIdk = (): Uint8Array => {
    const s = statuses().find((x) => x.state === 'online' && x.idk !== undefined);
    if (!s?.idk) throw new Error('no idk in the online status');
    return fromHex(s.idk);
  };
  const sealed = () => events.filter((e): e is Extract<FirmwareEvent, { kind: 'sealed' }> => e.kind === 'sealed');
  return { sched, hub, fw, storage, advance, statuses, reportedIdk, sealed };
}

const ticketFor = (dev: string, idk: Uint8Array) => {
  const key = tempKeyPairGen(`patient:${dev}`, seededRng(`idk-test/${dev}`), node);
  const ticket = issueTicket(
    { dev, kid: key.kid, pk: key.publicKey, patient: `patient:${dev}`, nbf: S - 60, exp: S + 3600, idk },
    authority.secretKey,
  );
  return { ticket, key };
};

describe.each(['per-reading', 'session'] as const)('device identity key (%s sealing)', (mode) => {
  it('generated at first boot, kept in NVM across a reboot, reported as idk; Auth-mode readings under a ticket that certifies it', async () => {
    const id = `idk-${mode}`;
    const r = rig(id, mode);
    r.fw.start();
    await r.advance(2000);
    const idk = r.reportedIdk();
    const secret = r.storage.loadState()!.identityKey!;
    expect(node.publicKeyOf(fromHex(secret))).toEqual(idk);
    // the secret is nowhere in what the device sends
    expect(JSON.stringify(r.statuses())).not.toContain(secret);

    const { ticket, key } = ticketFor(id, idk);
    r.hub.pushTicket(id, ticket);
    await r.advance(10_000);
    const envs = r.sealed().map((e) => e.envelope);
    expect(envs.length).toBeGreaterThan(1);
    for (const env of envs) {
      expect(decodeEnvelope(env).header.m).toBe(2);
      expect(openReading(env, { secretKey: key.secretKey, hpke: node, senderPublicKey: idk }).header.dev).toBe(id);
    }
    if (mode === 'session') expect(new Set(envs.map((e) => decodeEnvelope(e).header.hs)).size).toBe(envs.length);

    r.fw.reboot();
    await r.advance(2000);
    expect(r.storage.loadState()!.identityKey).toBe(secret); // one key for the device's life, not one per boot
  });
});

describe('a ticket that certifies another identity key', () => {
  it('is refused with SIM_IDENTITY_KEY_MISMATCH on the status; nothing is sealed under it', async () => {
    const r = rig('idk-other', 'per-reading');
    r.fw.start();
    await r.advance(2000);
    const other = node.generateKeyPair(seededRng('idk-test/other'));
    r.hub.pushTicket('idk-other', ticketFor('idk-other', other.publicKey).ticket);
    await r.advance(5000);
    expect(r.statuses()).toContainEqual({ state: 'error', code: 'SIM_IDENTITY_KEY_MISMATCH' });
    expect(r.fw.stats.ticketRefusals).toEqual({ SIM_IDENTITY_KEY_MISMATCH: 1 });
    expect(r.sealed()).toEqual([]);
  });
});
