/**
 * Re-provisioning of the pinned ward authority key (docs/PROTOCOL.md §7.7): after a ward authority
 * rotation the operator provisions the device again with the new key (the simulator's --authority-key
 * or fleet file); at its next boot the device replaces the key in its NVM, keeps the ticket it holds,
 * and from then on takes tickets signed by the new key and refuses the old key's.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../protocol/bytes.ts';
import { createHpke } from '../../protocol/node.ts';
import { seededRng } from '../../protocol/rng.ts';
import { issueTicket } from '../../protocol/ticket/index.ts';
import { tempKeyPairGen } from '../../protocol/keys/index.ts';
import { DeviceFirmware } from '../../device-sim/firmware/device.ts';
import { MemoryNvm } from '../../device-sim/nvm/storage.ts';
import { PROFILES } from '../../device-sim/profiles/index.ts';
import { VirtualScheduler } from '../../device-sim/time/virtualScheduler.ts';
import { LoopbackHub } from '../../device-sim/transport/loopbackLink.ts';

const START = 1_767_225_600_000;
const S = START / 1000;
const oldKey = ed25519.keygen(new Uint8Array(32).fill(21));
const newKey = ed25519.keygen(new Uint8Array(32).fill(22));
const node = createHpke('node');
const ID = 'reprov-1';

const ticket = (by: { secretKey: Uint8Array }, seed: string) => {
  const key = tempKeyPairGen(`patient:${seed}`, seededRng(`reprov/${seed}`), node);
  return issueTicket({ dev: ID, kid: key.kid, pk: key.publicKey, patient: `patient:${seed}`, nbf: S - 60, exp: S + 3600 }, by.secretKey);
};

describe('re-provisioning the pinned authority key', () => {
  it('the next boot pins the newly provisioned key in NVM, keeps the ticket in use, then takes only the new key’s tickets', async () => {
    const sched = new VirtualScheduler(START);
    const hub = new LoopbackHub(sched, 2);
    const storage = new MemoryNvm();
    const firmware = (authorityPublicKey: Uint8Array) =>
      new DeviceFirmware({
        provisioning: { id: ID, profile: PROFILES['pulse-oximeter'], authorityPublicKey },
        scheduler: sched,
        storage,
        link: (dev, ev) => hub.link(dev.id, ev),
        seed: 'reprov',
        runStartMs: START,
        backend: 'node',
        ackTimeoutMs: 1000,
      });
    const advance = async (ms: number): Promise<void> => {
      const end = sched.now() + ms;
      while (sched.now() < end) {
        sched.runUntil(Math.min(end, sched.now() + 250));
        await new Promise((r) => setImmediate(r));
      }
    };
    const first = firmware(oldKey.publicKey);
    first.start();
    await advance(2000);
    const t1 = ticket(oldKey, 'one');
    hub.pushTicket(ID, t1);
    await advance(5000);
    expect(storage.loadState()!.ticket).toBe(toHex(t1));
    await first.shutdown();

    // the operator re-provisions with the new key; the same NVM boots
    const second = firmware(newKey.publicKey);
    second.start();
    await advance(2000);
    expect(storage.loadState()!.authorityPublicKey).toBe(toHex(newKey.publicKey));
    expect(storage.loadState()!.ticket).toBe(toHex(t1)); // the ticket in use stays
    const measured = second.stats.measured;
    await advance(3000);
    expect(second.stats.measured).toBeGreaterThan(measured); // still sealing under it

    hub.pushTicket(ID, ticket(oldKey, 'two'));
    await advance(3000);
    expect(second.stats.ticketRefusals).toEqual({ TICKET_BAD_SIGNATURE: 1 });
    const t3 = ticket(newKey, 'three');
    hub.pushTicket(ID, t3);
    await advance(3000);
    expect(storage.loadState()!.ticket).toBe(toHex(t3));
    await second.shutdown();
  });
});
