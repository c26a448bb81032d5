/**
 * Device-side rotation of the identity key (issue #20, docs/PROTOCOL.md §3.6 "Rotating the identity
 * key"): a new secret replaces the old one in NVM (the old secret is not kept, only its public key);
 * readings in the outbox stay sealed under the old key and are resent byte for byte; the ticket in use
 * (it certifies the old key) is dropped at once and nothing is sealed until a ticket certifies the new
 * key; the new key is reported in an online status; a ticket that certifies the previous key is refused
 * as SIM_IDENTITY_KEY_ROTATED, one that certifies any other key as SIM_IDENTITY_KEY_MISMATCH. Also the
 * one-shot CLI, `vitalseal sim --rotate-identity`, on a file NVM (0600) of a stopped device.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { statSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../protocol/bytes.ts';
import { decodeEnvelope, openReading } from '../../protocol/envelope/index.ts';
import { createHpke } from '../../protocol/node.ts';
import { seededRng } from '../../protocol/rng.ts';
import { issueTicket } from '../../protocol/ticket/index.ts';
import { tempKeyPairGen } from '../../protocol/keys/index.ts';
import { DeviceFirmware, type FirmwareEvent } from '../../device-sim/firmware/device.ts';
import { identityPublicKeyOf } from '../../device-sim/firmware/identityKey.ts';
import { FileNvm } from '../../device-sim/nvm/fileNvm.ts';
import { MemoryNvm, type NvmStorage } from '../../device-sim/nvm/storage.ts';
import { PROFILES } from '../../device-sim/profiles/index.ts';
import { VirtualScheduler } from '../../device-sim/time/virtualScheduler.ts';
import { LoopbackHub } from '../../device-sim/transport/loopbackLink.ts';
import { tempDir } from '../support/services.ts';
import { runSimCli } from '../support/simCli.ts';

const START = 1_767_225_600_000;
const S = START / 1000;
const authority = ed25519.keygen(new Uint8Array(32).fill(9));
const node = createHpke('node');
const dir = tempDir('vitalseal-idk-rotation-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function rig(id: string, storage: NvmStorage = new MemoryNvm()) {
  const sched = new VirtualScheduler(START);
  const hub = new LoopbackHub(sched, 2);
  const events: FirmwareEvent[] = [];
  const fw = new DeviceFirmware({
    provisioning: { id, profile: PROFILES['pulse-oximeter'], authorityPublicKey: authority.publicKey, periodMs: 1000 },
    scheduler: sched,
    storage,
    link: (dev, ev) => hub.link(dev.id, ev),
    seed: 'idk-rotation',
    runStartMs: START,
    backend: 'node',
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
  const sealed = () => events.filter((e): e is Extract<FirmwareEvent, { kind: 'sealed' }> => e.kind === 'sealed');
  return { sched, hub, fw, storage, advance, statuses, sealed };
}

let n = 0;
const ticketFor = (dev: string, idk: Uint8Array | undefined) => {
  const key = tempKeyPairGen(`patient:${dev}`, seededRng(`idk-rotation/${dev}/${n++}`), node);
  const ticket = issueTicket(
    { dev, kid: key.kid, pk: key.publicKey, patient: `patient:${dev}`, nbf: S - 60, exp: S + 3600, ...(idk ? { idk } : {}) },
    authority.secretKey,
  );
  return { ticket, key };
};
const idkOf = (storage: NvmStorage): Uint8Array => fromHex(identityPublicKeyOf(storage.loadState()!)!);

describe('DeviceFirmware.rotateIdentity', () => {
  it('new key in NVM (old secret gone), outbox resent byte for byte under the old key, ticket dropped (ROTATED), new idk reported; a ticket for the new key resumes Auth mode', async () => {
    const id = 'rot-dev';
    const r = rig(id);
    r.fw.start();
    await r.advance(1500);
    const idk1 = idkOf(r.storage);
    const secret1 = r.storage.loadState()!.identityKey!;
    const t1 = ticketFor(id, idk1);
    r.hub.pushTicket(id, t1.ticket);
    await r.advance(3000);
    // the link goes away: readings pile up in the outbox, sealed under the old key
    r.hub.available = false;
    r.hub.disconnect(id);
    await r.advance(3000);
    expect(r.fw.pending).toBeGreaterThanOrEqual(2);
    const pendingBefore = r.fw.pending;
    const sealedBefore = r.sealed().length;

    const rotation = r.fw.rotateIdentity(seededRng('idk-rotation/new-key'));
    const state = r.storage.loadState()!;
    const idk2 = idkOf(r.storage);
    expect(rotation).toEqual({ device: id, idk: toHex(idk2), previous: toHex(idk1) });
    expect(toHex(idk2)).not.toBe(toHex(idk1));
    expect(state.previousIdentityPublicKey).toBe(toHex(idk1));
    expect(JSON.stringify(state)).not.toContain(secret1); // the old secret is not kept
    expect(state.ticket).toBeUndefined(); // the ticket that certifies the old key is dropped
    expect(r.fw.state.kind).toBe('provisioned');
    expect(r.fw.pending).toBe(pendingBefore); // the outbox is untouched

    // nothing is sealed without a ticket for the new key
    await r.advance(3000);
    expect(r.sealed().length).toBe(sealedBefore);

    // the link returns: the outbox goes out as it was sealed; the retained old ticket is refused as ROTATED
    r.hub.available = true;
    await r.advance(8000);
    expect(r.fw.pending).toBe(0);
    const stored = r.hub.device(id).stored;
    for (const e of r.sealed()) expect(toHex(stored.get(e.seq)!)).toBe(toHex(e.envelope));
    for (const e of r.sealed())
      expect(openReading(e.envelope, { secretKey: t1.key.secretKey, hpke: node, senderPublicKey: idk1 }).header.seq).toBe(e.seq);
    const online = r.statuses().filter((s) => s.state === 'online');
    expect(online.at(-1)).toMatchObject({ idk: toHex(idk2) });
    expect(online.at(-1)!.kid).toBeUndefined();
    expect(r.statuses()).toContainEqual({ state: 'error', code: 'SIM_IDENTITY_KEY_ROTATED' });
    expect(r.fw.stats.ticketRefusals).toEqual({ SIM_IDENTITY_KEY_ROTATED: 1 });
    expect(r.sealed().length).toBe(sealedBefore);

    // a ticket for some other key: MISMATCH, not ROTATED; then the ward's ticket for the new key
    r.hub.pushTicket(id, ticketFor(id, node.generateKeyPair(seededRng('idk-rotation/other')).publicKey).ticket);
    await r.advance(1000);
    expect(r.fw.stats.ticketRefusals).toEqual({ SIM_IDENTITY_KEY_ROTATED: 1, SIM_IDENTITY_KEY_MISMATCH: 1 });
    const t2 = ticketFor(id, idk2);
    r.hub.pushTicket(id, t2.ticket);
    await r.advance(5000);
    const after = r.sealed().slice(sealedBefore);
    expect(after.length).toBeGreaterThanOrEqual(3);
    expect(after[0]!.seq).toBe(r.sealed()[sealedBefore - 1]!.seq + 1); // seq goes on across the rotation
    for (const e of after) {
      expect(decodeEnvelope(e.envelope).header.m).toBe(2);
      expect(openReading(e.envelope, { secretKey: t2.key.secretKey, hpke: node, senderPublicKey: idk2 }).header.seq).toBe(e.seq);
      expect(() => openReading(e.envelope, { secretKey: t2.key.secretKey, hpke: node, senderPublicKey: idk1 })).toThrow(
        expect.objectContaining({ code: 'ENVELOPE_ORIGIN_UNVERIFIED' }),
      );
    }
    await r.fw.shutdown();
  });

  it('a v1 ticket (base mode, no idk) stays in use across a rotation', async () => {
    const id = 'rot-v1';
    const r = rig(id);
    r.fw.start();
    await r.advance(1500);
    r.hub.pushTicket(id, ticketFor(id, undefined).ticket);
    await r.advance(2000);
    const before = r.sealed().length;
    r.fw.rotateIdentity();
    expect(r.fw.state.kind).not.toBe('provisioned');
    await r.advance(3000);
    expect(r.sealed().length).toBeGreaterThan(before);
    expect(r.fw.stats.ticketRefusals).toEqual({});
    expect(
      r
        .statuses()
        .filter((s) => s.state === 'online')
        .at(-1)!.idk,
    ).toBe(toHex(idkOf(r.storage)));
    await r.fw.shutdown();
  });
});

const sim = runSimCli;

describe('vitalseal sim --rotate-identity (one-shot, file NVM)', () => {
  it('rotates a stopped device in its 0600 NVM file, prints only public keys; at its next boot the stored ticket is dropped as ROTATED and the new idk reported', async () => {
    const nvmDir = join(dir, 'nvm');
    const id = 'cli-dev';
    // first life: the device boots (generates its key) and takes a ticket for it
    let r = rig(id, new FileNvm(join(nvmDir, id)));
    r.fw.start();
    await r.advance(1500);
    const idk1 = idkOf(r.storage);
    const secret1 = r.storage.loadState()!.identityKey!;
    r.hub.pushTicket(id, ticketFor(id, idk1).ticket);
    await r.advance(2000);
    expect(r.storage.loadState()!.ticket).toBeDefined();
    await r.fw.shutdown();

    const out = await sim(['--device', id, '--nvm-dir', nvmDir, '--rotate-identity', '--json']);
    expect(out.code).toBe(0);
    const rotation = JSON.parse(out.out) as { device: string; idk: string; previous: string };
    expect(rotation.device).toBe(id);
    expect(rotation.previous).toBe(toHex(idk1));
    const file = join(nvmDir, id, 'state.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(secret1);
    const newSecret = (JSON.parse(text) as { identityKey: string }).identityKey;
    expect(out.out + out.err).not.toContain(newSecret);
    expect(toHex(node.publicKeyOf(fromHex(newSecret)))).toBe(rotation.idk);

    // second life: the ticket for the old key is dropped at boot and reported after the online status
    r = rig(id, new FileNvm(join(nvmDir, id)));
    r.fw.start();
    await r.advance(1500);
    expect(r.storage.loadState()!.ticket).toBeUndefined();
    const st = r.statuses();
    expect(st[0]).toMatchObject({ state: 'online', idk: rotation.idk });
    expect(st).toContainEqual({ state: 'error', code: 'SIM_IDENTITY_KEY_ROTATED' });
    await r.fw.shutdown();

    // a text run names the registration command
    const text2 = await sim(['--device', id, '--nvm-dir', nvmDir, '--rotate-identity']);
    expect(text2.code).toBe(0);
    expect(text2.out).toMatch(new RegExp(`register it at the ward: vitalseal device identity ${id} [0-9a-f]{64}`));
  });

  it('refuses: no NVM state yet (SIM_NO_IDENTITY_KEY), a running simulator on the directory (SIM_NVM_LOCKED), a missing --nvm-dir', async () => {
    const nvmDir = join(dir, 'empty');
    const none = await sim(['--device', 'nobody', '--nvm-dir', nvmDir, '--rotate-identity', '--json']);
    expect(none.code).not.toBe(0);
    expect(none.out).toContain('SIM_NO_IDENTITY_KEY');
    writeFileSync(join(nvmDir, 'LOCK'), String(process.ppid)); // a live process holds the directory
    const locked = await sim(['--device', 'nobody', '--nvm-dir', nvmDir, '--rotate-identity', '--json']);
    expect(locked.out).toContain('SIM_NVM_LOCKED');
    rmSync(join(nvmDir, 'LOCK'));
    const bare = await sim(['--device', 'nobody', '--rotate-identity', '--json']);
    expect(bare.out).toContain('SIM_CONFIG_INVALID');
  });
});
