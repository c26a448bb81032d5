/**
 * The deliberately broken firmware variants (device-sim/firmware/bugs.ts): each one really changes
 * what the device does. Table-driven: per variant a probe returns what a receiver would observe;
 * the probe of the correct firmware and of the variant must differ, and the correct one must be the
 * conforming value. The MQTT-only variants are probed against a real broker in bugsMqtt.test.ts.
 */
import { readFileSync } from 'node:fs';
import { SerialPortMock } from 'serialport';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../protocol/bytes.ts';
import { decodeStrict } from '../../protocol/cbor/index.ts';
import { decodeEnvelope, encodeEnvelopeProtected, openReading } from '../../protocol/envelope/index.ts';
import { FRAME_TYPE, FrameDecoder, encodeAck, encodeFrame } from '../../protocol/framing/index.ts';
import { tempKeyPairGen } from '../../protocol/keys/index.ts';
import { createHpke } from '../../protocol/node.ts';
import { seededRng } from '../../protocol/rng.ts';
import { issueTicket } from '../../protocol/ticket/index.ts';
import { SimError } from '../../device-sim/errors.ts';
import { parseFaults } from '../../device-sim/faults/faultPlan.ts';
import {
  FIRMWARE_BUG_NAMES,
  FIRMWARE_BUGS,
  FIRMWARE_BUGS_ENV,
  firmwareBugFromCli,
  type FirmwareBugName,
} from '../../device-sim/firmware/bugs.ts';
import { DeviceFirmware, type FirmwareEvent, type FirmwareOptions } from '../../device-sim/firmware/device.ts';
import { FIRMWARE_ID, FIRMWARE_VERSION } from '../../device-sim/firmware/version.ts';
import { MemoryNvm } from '../../device-sim/nvm/storage.ts';
import { PROFILES } from '../../device-sim/profiles/index.ts';
import { VirtualScheduler } from '../../device-sim/time/virtualScheduler.ts';
import { LoopbackHub } from '../../device-sim/transport/loopbackLink.ts';
import { SerialLink } from '../../device-sim/transport/serialLink.ts';
import { authority, patientTicket } from './helpers.ts';

const START = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const S = START / 1000;
const A = authority(11);
const OTHER = authority(12);
const node = createHpke('node');
const VALID = { nbf: S - 60, exp: S + 3600 };

interface Rig {
  hub: LoopbackHub;
  fw: DeviceFirmware;
  events: FirmwareEvent[];
  advance(ms: number): Promise<void>;
}

function rig(id: string, bug: FirmwareBugName | undefined, o: Partial<FirmwareOptions> & { ticket?: Uint8Array } = {}): Rig {
  const sched = new VirtualScheduler(START);
  const hub = new LoopbackHub(sched, 2);
  const events: FirmwareEvent[] = [];
  const fw = new DeviceFirmware({
    provisioning: {
      id,
      profile: PROFILES['pulse-oximeter'],
      authorityPublicKey: A.publicKey,
      ...(o.ticket ? { ticket: o.ticket } : {}),
    },
    scheduler: sched,
    storage: new MemoryNvm(),
    link: (dev, ev) => hub.link(dev.id, ev),
    seed: 'bugs-test',
    runStartMs: START,
    backend: 'node',
    ackTimeoutMs: 1000,
    onEvent: (e) => events.push(e),
    ...(bug ? { bug } : {}),
    ...o,
  });
  const advance = async (ms: number): Promise<void> => {
    const end = sched.now() + ms;
    while (sched.now() < end) {
      sched.runUntil(Math.min(end, sched.now() + 250));
      await new Promise((r) => setImmediate(r));
    }
  };
  return { hub, fw, events, advance };
}

const sealedOf = (r: Rig) => r.events.filter((e): e is Extract<FirmwareEvent, { kind: 'sealed' }> => e.kind === 'sealed');

/** A device with a valid ticket, measuring for `ms` (1 reading/s). */
async function measuring(id: string, bug: FirmwareBugName | undefined, ms = 6000, o: Partial<FirmwareOptions> = {}) {
  const t = patientTicket(id, A, VALID);
  const r = rig(id, bug, { ticket: t.ticket, ...o });
  r.fw.start();
  await r.advance(ms);
  return { r, key: t.key, kid: toHex(t.key.kid), sealed: sealedOf(r) };
}

/** A ticket arriving over the link: did the device take it (and seal), and which refusal code did it report? */
async function offerTicket(id: string, bug: FirmwareBugName | undefined, ticket: Uint8Array) {
  const r = rig(id, bug);
  r.hub.pushTicket(id, ticket);
  r.fw.start();
  await r.advance(4000);
  const error = r.hub.device(id).statuses.find((s) => s.state === 'error');
  return { measured: r.fw.stats.measured, code: error?.code };
}

/** A reboot with readings left unacknowledged (hub unreachable), then the link back. */
async function rebootWithPending(id: string, bug: FirmwareBugName | undefined) {
  const { r } = await measuring(id, bug, 3000);
  const acked = [...r.hub.device(id).stored.keys()];
  r.hub.available = false;
  r.hub.disconnect(id);
  await r.advance(3000);
  const pending = r.fw.outbox!.pendingSeqs();
  r.fw.reboot(200);
  r.hub.available = true;
  await r.advance(40_000);
  const d = r.hub.device(id);
  return { acked, pending, stored: [...d.stored.keys()], duplicates: d.duplicates, seqReplays: d.seqReplays, sealed: sealedOf(r) };
}

/** Frames a SerialLink writes and receives on serialport's mock binding. */
async function serialLink(bug: FirmwareBugName | undefined, path: string) {
  const mock = SerialPortMock.binding;
  mock.createPort(path, { record: true });
  let port: { recording: Buffer; emitData(d: Buffer): void } | undefined;
  const binding = {
    ...mock,
    list: () => mock.list(),
    open: async (o: Parameters<typeof mock.open>[0]) => (port = (await mock.open(o)) as unknown as typeof port),
  };
  const got = { acks: [] as number[], tickets: 0 };
  const link = new SerialLink(
    { path, deviceId: 'wire-1', binding, ...(bug ? { bug } : {}) },
    { onDown() {}, onAck: (s) => got.acks.push(s), onRejected() {}, onTicket: () => got.tickets++ },
  );
  await link.open();
  const settle = () => new Promise((r) => setTimeout(r, 30));
  return {
    link,
    got,
    /** Every frame the device wrote, decoded: its body, or the drop code. */
    written: async () => {
      await settle();
      return new FrameDecoder().push(new Uint8Array(port!.recording)).map((x) => (x.ok ? x.frame.body : x.code));
    },
    feed: async (bytes: Uint8Array) => {
      port!.emitData(Buffer.from(bytes));
      await settle();
    },
    close: async () => {
      await link.close('graceful');
      mock.reset();
    },
  };
}

/**
 * Identity key (issue #20, §3.6): the device comes up, reports its idk, and gets a v2 ticket certifying
 * `certify(idk)` (its own by default); what it sealed, with the patient key and the reported idk.
 */
async function underV2(id: string, bug: FirmwareBugName | undefined, certify = (idk: Uint8Array) => idk) {
  const r = rig(id, bug);
  r.fw.start();
  await r.advance(2000);
  const idkHex = r.hub.device(id).statuses.find((s) => s.state === 'online')?.idk;
  if (idkHex === undefined) throw new Error('no idk in the online status');
  const idk = fromHex(idkHex);
  const key = tempKeyPairGen(`patient:${id}`, seededRng(`bugs-test/${id}`), node);
  r.hub.pushTicket(
    id,
    issueTicket({ dev: id, kid: key.kid, pk: key.publicKey, patient: `patient:${id}`, ...VALID, idk: certify(idk) }, A.secretKey),
  );
  await r.advance(4000);
  return { r, key, idk, sealed: sealedOf(r) };
}

/** The idk in the online status of each boot. */
const onlineIdks = (r: Rig) =>
  r.hub
    .device(r.fw.id)
    .statuses.filter((s) => s.state === 'online')
    .map((s) => s.idk);

const ticketFrame = (id: string) => encodeFrame(FRAME_TYPE.ticket, patientTicket(id, A, VALID).ticket);

/** Per variant: what a receiver observes, for the correct firmware (`bug` undefined) and for the variant. */
interface Probe {
  readonly conforming: unknown;
  probe(bug: FirmwareBugName | undefined): Promise<unknown>;
}
/** The variants only an MQTT broker can see (clean flag, will, QoS). */
const MQTT = 'probed against a broker in bugsMqtt.test.ts';
const PROBES: Record<FirmwareBugName, Probe | typeof MQTT> = {
  'seq-reuse-after-reboot': {
    conforming: 0,
    probe: async (bug) => (await rebootWithPending('p-seq', bug)).seqReplays, // same seq, other bytes (the agent's AGENT_SEQ_REPLAY)
  },
  'skip-outbox-replay': {
    conforming: true,
    probe: async (bug) => {
      const x = await rebootWithPending('p-replay', bug);
      return x.pending.length > 0 && x.pending.every((s) => x.stored.includes(s));
    },
  },
  'replay-acked': {
    conforming: 0,
    probe: async (bug) => (await rebootWithPending('p-acked', bug)).duplicates, // acknowledged readings sent again
  },
  'wrong-aad': {
    conforming: 'opens',
    probe: async (bug) => {
      const { sealed, key } = await measuring('p-aad', bug);
      try {
        openReading(sealed[0]!.envelope, { secretKey: key.secretKey, hpke: node });
        return 'opens';
      } catch (e) {
        return (e as { code?: string }).code;
      }
    },
  },
  'wrong-kid': {
    conforming: true,
    probe: async (bug) => {
      const { sealed, kid } = await measuring('p-kid', bug);
      return toHex(decodeEnvelope(sealed[0]!.envelope).kid) === kid;
    },
  },
  'ephemeral-key-reuse': {
    conforming: true,
    probe: async (bug) => {
      const { sealed } = await measuring('p-ek', bug);
      return new Set(sealed.map((e) => toHex(decodeEnvelope(e.envelope).enc))).size === sealed.length;
    },
  },
  'non-canonical-cbor': {
    conforming: true,
    probe: async (bug) => {
      const { sealed } = await measuring('p-cbor', bug);
      const env = decodeEnvelope(sealed[0]!.envelope);
      return toHex(env.protectedBytes) === toHex(encodeEnvelopeProtected(env.header));
    },
  },
  'accept-expired-ticket': {
    conforming: 0,
    probe: async (bug) => (await offerTicket('p-exp', bug, patientTicket('p-exp', A, { nbf: S - 7200, exp: S - 3600 }).ticket)).measured,
  },
  'accept-other-device-ticket': {
    conforming: 0,
    probe: async (bug) => (await offerTicket('p-dev', bug, patientTicket('someone-else', A, VALID).ticket)).measured,
  },
  'ignore-ticket-signature': {
    conforming: 0,
    probe: async (bug) => (await offerTicket('p-sig', bug, patientTicket('p-sig', OTHER, VALID).ticket)).measured,
  },
  'bad-crc': {
    conforming: ['frame'],
    probe: async (bug) => {
      const s = await serialLink(bug, `/dev/bugs-crc-${bug ?? 'ok'}`);
      s.link.sendStatus({ state: 'online', seq: 0 });
      const out = await s.written(); // the lone 0x00 sent at open is an empty run, no frame
      await s.close();
      return out.map((x) => (typeof x === 'string' ? x : 'frame'));
    },
  },
  'no-resync-after-garbage': {
    conforming: 1,
    probe: async (bug) => {
      const s = await serialLink(bug, `/dev/bugs-resync-${bug ?? 'ok'}`);
      await s.feed(Uint8Array.of(0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x00)); // a bad frame
      await s.feed(ticketFrame('wire-1'));
      await s.close();
      return s.got.tickets;
    },
  },
  'wrong-units': {
    conforming: '%,bpm',
    probe: async (bug) => {
      const { sealed, key } = await measuring('p-units', bug);
      return openReading(sealed[0]!.envelope, { secretKey: key.secretKey, hpke: node }).reading.u;
    },
  },
  'ts-in-seconds': {
    conforming: true,
    probe: async (bug) => {
      const { sealed } = await measuring('p-ts', bug);
      const ts = decodeEnvelope(sealed[0]!.envelope).header.ts;
      return ts >= START && ts < START + 60_000;
    },
  },
  'publish-qos0': MQTT,
  'wrong-refusal-code': {
    conforming: 'TICKET_EXPIRED',
    probe: async (bug) => (await offerTicket('p-code', bug, patientTicket('p-code', A, { nbf: S - 7200, exp: S - 3600 }).ticket)).code,
  },
  'ignore-ack-dev': {
    conforming: [],
    probe: async (bug) => {
      const s = await serialLink(bug, `/dev/bugs-ackdev-${bug ?? 'ok'}`);
      await s.feed(encodeFrame(FRAME_TYPE.ack, encodeAck({ dev: 'wire-2', seq: 5 })));
      await s.close();
      return s.got.acks;
    },
  },
  'no-last-will': MQTT,
  'persistent-session': MQTT,
  'resend-different-bytes': {
    conforming: 0,
    probe: async (bug) => {
      // half the copies arrive after the ack timeout (1 s), so they are resent: every resend must be the
      // same bytes (else the agent's AGENT_SEQ_REPLAY)
      const { r } = await measuring('p-resend', bug, 20_000, { faults: parseFaults('delay=0.5:3s') });
      expect(r.fw.stats.retried).toBeGreaterThan(0);
      return r.hub.device('p-resend').seqReplays;
    },
  },
  'seq-gap': {
    conforming: true,
    probe: async (bug) => {
      const seqs = (await measuring('p-gap', bug)).sealed.map((e) => e.seq);
      return seqs.every((s, i) => s === i);
    },
  },
  'plaintext-in-status': {
    conforming: false,
    probe: async (bug) => {
      const { r } = await measuring('p-status', bug);
      return r.hub.device('p-status').statuses.some((s) => 'last' in s);
    },
  },
  'base-mode-under-v2': {
    conforming: 2,
    probe: async (bug) => decodeEnvelope((await underV2('p-base', bug)).sealed[0]!.envelope).header.m,
  },
  'wrong-identity-key': {
    conforming: 'opens',
    probe: async (bug) => {
      const { sealed, key, idk } = await underV2('p-idk', bug);
      try {
        openReading(sealed[0]!.envelope, { secretKey: key.secretKey, hpke: node, senderPublicKey: idk });
        return 'opens';
      } catch (e) {
        return (e as { code?: string }).code;
      }
    },
  },
  'ignores-foreign-idk': {
    conforming: { measured: 0, code: 'SIM_IDENTITY_KEY_MISMATCH' },
    probe: async (bug) => {
      const other = node.generateKeyPair(seededRng('bugs-test/other-idk')).publicKey;
      const { r } = await underV2('p-foreign', bug, () => other);
      return { measured: r.fw.stats.measured, code: r.hub.device('p-foreign').statuses.find((s) => s.state === 'error')?.code };
    },
  },
  'idk-not-persisted': {
    conforming: 1,
    probe: async (bug) => {
      const { r } = await underV2('p-persist', bug);
      r.fw.reboot(200);
      await r.advance(3000);
      const idks = onlineIdks(r);
      expect(idks.length).toBeGreaterThanOrEqual(2);
      return new Set(idks).size;
    },
  },
  'rotation-keeps-ticket': {
    conforming: 0,
    probe: async (bug) => {
      const { r, key } = await underV2('p-rot-keep', bug);
      r.fw.rotateIdentity(seededRng('bugs-test/rotation'));
      const after = sealedOf(r).length;
      await r.advance(3000);
      // readings sealed after the rotation under the ticket that certifies the previous key
      return sealedOf(r)
        .slice(after)
        .filter((e) => toHex(decodeEnvelope(e.envelope).kid) === toHex(key.kid)).length;
    },
  },
  'rotation-silent': {
    conforming: ['SIM_IDENTITY_KEY_ROTATED'],
    probe: async (bug) => {
      const { r } = await underV2('p-rot-silent', bug);
      r.fw.rotateIdentity(seededRng('bugs-test/rotation'));
      await r.advance(1000);
      return r.hub
        .device('p-rot-silent')
        .statuses.filter((s) => s.state === 'error')
        .map((s) => s.code);
    },
  },
  'auth-mode-under-v1': {
    conforming: undefined,
    probe: async (bug) => decodeEnvelope((await measuring('p-v1', bug)).sealed[0]!.envelope).header.m,
  },
};

describe('broken firmware variants (conformance-kit mutation testing)', () => {
  it('at least the 15 variants of issue #18, each named once, with what it breaks and the rule', () => {
    expect(FIRMWARE_BUGS.length).toBeGreaterThanOrEqual(15);
    expect(new Set(FIRMWARE_BUG_NAMES).size).toBe(FIRMWARE_BUG_NAMES.length);
    for (const b of FIRMWARE_BUGS) {
      expect(b.breaks.length, b.name).toBeGreaterThan(10);
      expect(b.rule, b.name).toMatch(/§\d+/);
    }
    expect(Object.keys(PROBES).sort()).toEqual([...FIRMWARE_BUG_NAMES].sort());
  });

  for (const name of FIRMWARE_BUG_NAMES) {
    const p = PROBES[name];
    if (p === MQTT) continue;
    it(`${name}: the correct firmware conforms, the variant does not`, async () => {
      expect(await p.probe(undefined)).toEqual(p.conforming);
      expect(await p.probe(name)).not.toEqual(p.conforming);
    });
  }

  it('selectable from the command line only with VITALSEAL_TEST_FIRMWARE_BUGS=1, and only known names', () => {
    expect(firmwareBugFromCli(undefined, {})).toBeUndefined();
    const refused = (name: string, env: Record<string, string>) => {
      try {
        firmwareBugFromCli(name, env);
        return 'accepted';
      } catch (e) {
        return e instanceof SimError ? e.code : 'other';
      }
    };
    expect(refused('wrong-kid', {})).toBe('SIM_CONFIG_INVALID');
    expect(refused('wrong-kid', { [FIRMWARE_BUGS_ENV]: '0' })).toBe('SIM_CONFIG_INVALID');
    expect(refused('no-such-bug', { [FIRMWARE_BUGS_ENV]: '1' })).toBe('SIM_CONFIG_INVALID');
    expect(firmwareBugFromCli('wrong-kid', { [FIRMWARE_BUGS_ENV]: '1' })).toBe('wrong-kid');
  });

  it('the status says fw = vitalseal-sim/<package version>, the same whatever variant runs', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(FIRMWARE_VERSION).toBe(pkg.version);
    for (const bug of [undefined, 'wrong-kid'] as const) {
      const { r } = await measuring(`p-fw-${bug ?? 'ok'}`, bug, 1000);
      const online = r.hub.device(r.fw.id).statuses.find((s) => s.state === 'online');
      expect(online?.fw).toBe(FIRMWARE_ID);
    }
    const s = await serialLink(undefined, '/dev/bugs-fw');
    s.link.sendStatus({ state: 'online', seq: 0, fw: FIRMWARE_ID });
    const [body] = await s.written();
    await s.close();
    const status = decodeStrict(body as Uint8Array) as Map<string, unknown>;
    expect(status.get('fw')).toBe(FIRMWARE_ID);
  });
});
