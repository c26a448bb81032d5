/**
 * The agent's reading of device statuses (agent/deviceStatus.ts; docs/PROTOCOL.md §8.4, §9.6): a strict,
 * bounded decoder (oversize, non-UTF-8, non-JSON, non-object, bad fields → malformed, never a throw),
 * refusals counted in vitalseal_device_ticket_refusals_total{code} with a fixed label set (any other code
 * is `other`), a warning per device and code at most once a minute without key material, and one entry
 * per provisioned device only (a status naming an unknown device is counted and dropped).
 */
import { Writable } from 'node:stream';
import fc from 'fast-check';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DeviceStatusBook, decodeMqttStatus, MAX_STATUS_BYTES, STATUS_RESULTS, TICKET_REFUSAL_CODES } from '../../agent/deviceStatus.ts';
import { AgentMetrics } from '../../agent/metrics.ts';
import { runs } from '../support/fuzz.ts';

const enc = (v: unknown): Uint8Array => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));
const IDK = 'ab'.repeat(32);
const KID = 'c4c7c33f594ff0842e9ea6d6f0f75ddb';

describe('decodeMqttStatus', () => {
  it('reads the statuses of §9.6 (unknown keys ignored)', () => {
    expect(decodeMqttStatus(enc({ state: 'online', boot: 3, seq: 43, kid: KID }))).toEqual({ state: 'online', boot: 3, seq: 43, kid: KID });
    expect(decodeMqttStatus(enc({ state: 'error', code: 'TICKET_EXPIRED' }))).toEqual({ state: 'error', code: 'TICKET_EXPIRED' });
    expect(decodeMqttStatus(enc({ state: 'offline' }))).toEqual({ state: 'offline' });
    expect(
      decodeMqttStatus(
        enc({ state: 'online', boot: 1, seq: 0, fw: 'vitalseal-sim/0.1.0', idk: IDK, last: { v: [97], u: '%' }, x: [[[1]]] }),
      ),
    ).toEqual({ state: 'online', boot: 1, seq: 0, idk: IDK });
  });

  it('refuses what is not a status: too large, empty, not UTF-8, not JSON, not an object, bad state or fields', () => {
    const bad: Uint8Array[] = [
      new Uint8Array(0),
      enc({ state: 'error', code: 'TICKET_EXPIRED', pad: 'x'.repeat(MAX_STATUS_BYTES) }),
      new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
      enc('online'),
      enc('{"state":"online"'),
      enc([{ state: 'online' }]),
      enc('null'),
      enc('42'),
      enc({}),
      enc({ state: 'ONLINE' }),
      enc({ state: 'sleeping' }),
      enc({ state: 7 }),
      enc({ state: 'error', code: 'ticket_expired' }),
      enc({ state: 'error', code: `T${'X'.repeat(64)}` }),
      enc({ state: 'error', code: 12 }),
      enc({ state: 'error', code: 'TICKET EXPIRED' }),
      enc({ state: 'online', kid: KID.toUpperCase() }),
      enc({ state: 'online', idk: IDK.slice(2) }),
      enc({ state: 'online', seq: -1 }),
      enc({ state: 'online', seq: 1.5 }),
      enc({ state: 'online', seq: 2 ** 53 }),
      enc({ state: 'online', boot: '3' }),
      enc(`${'['.repeat(500)}${']'.repeat(500)}`),
    ];
    for (const b of bad) expect(decodeMqttStatus(b), Buffer.from(b).toString('utf8').slice(0, 60)).toBeUndefined();
    // a __proto__ key is an own property of the parsed object, nothing is polluted
    expect(decodeMqttStatus(enc('{"__proto__":{"state":"error"},"state":"online"}'))).toEqual({ state: 'online' });
    expect(({} as Record<string, unknown>)['state']).toBeUndefined();
  });

  it('never throws on random bytes or random JSON', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (b) => {
        decodeMqttStatus(b);
      }),
      { numRuns: runs(2000), seed: 20 },
    );
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const r = decodeMqttStatus(enc(JSON.stringify(v) ?? 'null'));
        if (r !== undefined) expect(['online', 'ticketed', 'error', 'offline']).toContain(r.state);
      }),
      { numRuns: runs(2000), seed: 21 },
    );
  });
});

function book(known: ReadonlySet<string>) {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  let now = 1_767_225_600_000;
  const metrics = new AgentMetrics({ defaultMetrics: false });
  const b = new DeviceStatusBook({
    metrics,
    logger: pino({ level: 'debug' }, stream),
    clock: { now: () => now },
    known: (d) => known.has(d),
  });
  const counts = async (): Promise<Record<string, number>> =>
    Object.fromEntries((await metrics.ticketRefusals.get()).values.map((v) => [String(v.labels.code), v.value]));
  const results = async (): Promise<Record<string, number>> =>
    Object.fromEntries((await metrics.deviceStatus.get()).values.map((v) => [String(v.labels.result), v.value]));
  const warnings = () => lines.filter((l) => l['level'] === 40);
  return { b, lines, warnings, counts, results, advance: (ms: number) => (now += ms), now: () => now };
}

describe('DeviceStatusBook', () => {
  it('counts a refusal by its code, warns naming device and code (no key material), keeps the last report and the reported idk', async () => {
    const t = book(new Set(['oxi-01']));
    // every series exists from the start, at 0
    expect(await t.counts()).toEqual(Object.fromEntries([...TICKET_REFUSAL_CODES, 'other'].map((c) => [c, 0])));
    expect(Object.keys(await t.results()).sort()).toEqual([...STATUS_RESULTS].sort());
    t.b.reportPayload('oxi-01', enc({ state: 'online', boot: 2, seq: 10, kid: KID, fw: 'x', idk: IDK }), 'mqtt');
    t.b.reportPayload('oxi-01', enc({ state: 'error', code: 'SIM_IDENTITY_KEY_MISMATCH' }), 'mqtt');
    expect((await t.counts())['SIM_IDENTITY_KEY_MISMATCH']).toBe(1);
    expect(await t.results()).toMatchObject({ online: 1, error: 1 });
    expect(t.warnings()).toHaveLength(1);
    expect(t.warnings()[0]).toMatchObject({ device: 'oxi-01', code: 'SIM_IDENTITY_KEY_MISMATCH', via: 'mqtt' });
    expect(JSON.stringify(t.lines)).not.toContain(IDK);
    expect(JSON.stringify(t.lines)).not.toContain(KID);
    expect(t.b.reported('oxi-01')).toEqual({
      state: 'error',
      at: t.now(),
      lastError: { code: 'SIM_IDENTITY_KEY_MISMATCH', at: t.now() },
      idk: { idk: IDK, at: t.now() },
      kid: KID,
      seq: 10,
    });
    // an online status without kid: no ticket in use any more
    t.b.report('oxi-01', { state: 'online', seq: 11 }, 'serial');
    expect(t.b.reported('oxi-01')).toMatchObject({ state: 'online', seq: 11, idk: { idk: IDK } });
    expect(t.b.reported('oxi-01')!.kid).toBeUndefined();
  });

  it('keeps the label set fixed: thousands of distinct codes all count as other', async () => {
    const t = book(new Set(['oxi-01']));
    for (let i = 0; i < 2000; i++) t.b.reportPayload('oxi-01', enc({ state: 'error', code: `EVIL_${i}` }), 'mqtt');
    t.b.reportPayload('oxi-01', enc({ state: 'error' }), 'mqtt'); // no code: other
    const c = await t.counts();
    expect(Object.keys(c).sort()).toEqual([...TICKET_REFUSAL_CODES, 'other'].sort());
    expect(c['other']).toBe(2001);
  });

  it('rate-limits warnings per device: the same code at most once a minute, a new code at once', async () => {
    const t = book(new Set(['oxi-01', 'oxi-02']));
    for (let i = 0; i < 100; i++) t.b.reportPayload('oxi-01', enc({ state: 'error', code: 'TICKET_EXPIRED' }), 'mqtt');
    expect(t.warnings()).toHaveLength(1);
    t.b.reportPayload('oxi-02', enc({ state: 'error', code: 'TICKET_EXPIRED' }), 'mqtt');
    expect(t.warnings()).toHaveLength(2);
    t.b.reportPayload('oxi-01', enc({ state: 'error', code: 'TICKET_BAD_SIGNATURE' }), 'mqtt');
    expect(t.warnings()).toHaveLength(3);
    t.advance(61_000);
    t.b.reportPayload('oxi-01', enc({ state: 'error', code: 'TICKET_BAD_SIGNATURE' }), 'mqtt');
    expect(t.warnings()).toHaveLength(4);
    expect((await t.counts())['TICKET_EXPIRED']).toBe(101);
  });

  it('drops statuses of unknown devices (counted, nothing kept) and malformed ones (counted, the last report kept)', async () => {
    const t = book(new Set(['oxi-01']));
    for (let i = 0; i < 1000; i++) t.b.reportPayload(`ghost-${i}`, enc({ state: 'error', code: 'TICKET_EXPIRED' }), 'external');
    expect(t.b.reported('ghost-1')).toBeUndefined();
    expect((await t.results())['unknown_device']).toBe(1000);
    expect((await t.counts())['TICKET_EXPIRED']).toBe(0);
    expect(t.warnings()).toHaveLength(0);
    t.b.reportPayload('oxi-01', enc({ state: 'ticketed', kid: KID, seq: 5 }), 'mqtt');
    t.b.reportPayload('oxi-01', new Uint8Array(8000).fill(0x41), 'mqtt');
    t.b.report('oxi-01', undefined, 'serial');
    expect((await t.results())['malformed']).toBe(2);
    expect(t.b.reported('oxi-01')).toMatchObject({ state: 'ticketed', kid: KID, seq: 5 });
  });
});
