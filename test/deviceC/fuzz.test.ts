/**
 * Fuzz run of device-c's frame decoder, stream receiver, ack/error body decoders, ticket parser
 * and verifier and strict CBOR checker under AddressSanitizer + UndefinedBehaviorSanitizer
 * (`make -C device-c asan` -> build/asan/vs-device-fuzz, device-c/fuzz/fuzz_device.c). The inputs
 * come from the TypeScript fuzz generators (fuzz/mutate.ts nextInput: random bytes, corpus entries,
 * 1-4 stacked mutations) over the corpora of fuzz/targets.ts (framing.decodeFrame,
 * framing.FrameDecoder, framing.decodeAck, ticket.verifyTicket, cose.decodeSign1, cbor.decodeStrict),
 * plus ticket payloads mutated and then signed with the fuzz authority's key (node:crypto Ed25519),
 * so the payload rules behind the signature check are reached too, and ack / error bodies mutated
 * inside correctly framed runs (any type byte). At scale 1: 135,000 inputs.
 * Passes when the harness exits 0 with no sanitizer report, having seen every input and accepted
 * some frames, acks and tickets (the valid paths ran).
 */
import { spawnSync } from 'node:child_process';
import { createPrivateKey, sign as nodeSign } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../protocol/bytes.ts';
import { encodeCanonical, Tag } from '../../protocol/cbor/index.ts';
import { cobsEncode, crc32, encodeAck } from '../../protocol/framing/index.ts';
import { encodeTicketPayload } from '../../protocol/ticket/index.ts';
import { keyIdOf } from '../../protocol/keys/keyId.ts';
import { Sfc32, nextInput } from '../../fuzz/mutate.ts';
import { targetByName } from '../../fuzz/targets.ts';
import { runs } from '../support/fuzz.ts';
import { deviceC, skipDeviceC, skipDeviceCReason } from './build.ts';

const AUTHORITY_SEED = new Uint8Array(32).fill(7); // the fuzz fixtures' authority (fuzz/targets.ts)
const AUTHORITY_PK = ed25519.getPublicKey(AUTHORITY_SEED);
const NOW_MS = 1_750_000_000_000;
const authorityKey = createPrivateKey({
  key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), AUTHORITY_SEED]),
  format: 'der',
  type: 'pkcs8',
});

/** A tagged COSE_Sign1 of `payload`, signed (Ed25519) by the fuzz authority. */
function signed(payload: Uint8Array): Uint8Array {
  const protectedBytes = Uint8Array.of(0xa1, 0x01, 0x27);
  const sig = nodeSign(null, encodeCanonical(['Signature1', protectedBytes, new Uint8Array(0), payload]), authorityKey);
  return encodeCanonical(new Tag([protectedBytes, new Map(), payload, new Uint8Array(sig)], 18));
}

const seedsOf = (...names: string[]): Uint8Array[] => names.flatMap((n) => targetByName(n)!.seeds());

/** A frame run (COBS, no delimiter) with a correct CRC around `body`, for any type byte (0..255). */
function frameRun(type: number, body: Uint8Array): Uint8Array {
  const raw = new Uint8Array(1 + body.length + 4);
  raw[0] = type;
  raw.set(body, 1);
  new DataView(raw.buffer).setUint32(1 + body.length, crc32(raw.subarray(0, 1 + body.length)), true);
  return cobsEncode(raw);
}

describe.skipIf(skipDeviceC)(`device-c fuzz under ASan + UBSan ${skipDeviceCReason}`, () => {
  it('survives >= 100,000 generated inputs: exit 0, no sanitizer report', () => {
    const bin = deviceC({ asan: true }).path('vs-device-fuzz');
    const records: Buffer[] = [];
    const counts = [0, 0, 0];
    const add = (kind: number, b: Uint8Array): void => {
      const h = Buffer.alloc(5);
      h[0] = kind;
      h.writeUInt32LE(b.length, 1);
      records.push(h, Buffer.from(b));
      counts[kind]!++;
    };
    const frames = seedsOf('framing.decodeFrame', 'framing.FrameDecoder');
    const tickets = seedsOf('ticket.verifyTicket', 'cose.decodeSign1');
    const cbor = seedsOf('cbor.decodeStrict', 'framing.decodeAck');
    const fields = { dev: 'oxi-01', pk: new Uint8Array(32).fill(5), patient: 'p', nbf: 1_749_999_000, exp: 1_750_001_000 };
    const payloads = [
      encodeTicketPayload({ ...fields, kid: keyIdOf(fields.pk) }),
      encodeTicketPayload({ ...fields, kid: keyIdOf(fields.pk), maxReadings: 9, patient: 'é'.repeat(128) }),
    ];
    expect(tickets.length).toBeGreaterThan(0);
    const r = new Sfc32('device-c/fuzz/v1');
    for (let i = 0; i < runs(50_000); i++) add(0, nextInput(r, frames, 4200));
    for (let i = 0; i < runs(35_000); i++) add(1, nextInput(r, tickets, 1100));
    for (let i = 0; i < runs(15_000); i++) add(1, signed(nextInput(r, payloads, 1000)));
    for (let i = 0; i < runs(20_000); i++) add(2, nextInput(r, cbor, 4200));
    // bodies mutated INSIDE a correct frame (any type byte), so the ack / error decoders and the type check are reached
    const bodies = [
      encodeAck({ dev: 'oxi-01', seq: 7 }),
      encodeAck({ dev: 'x'.repeat(64), seq: 2 ** 53 - 1 }),
      encodeCanonical(
        new Map<string, string | number>([
          ['seq', 43],
          ['code', 'AGENT_UNKNOWN_KID'],
        ]),
      ),
      encodeCanonical(new Map<string, string>([['code', 'AGENT_DEVICE_REVOKED']])),
    ];
    for (let i = 0; i < runs(15_000); i++) add(0, frameRun(r.below(8) === 0 ? r.below(256) : 3 + r.below(3), nextInput(r, bodies, 600)));
    const total = counts[0]! + counts[1]! + counts[2]!;
    const res = spawnSync(bin, [toHex(AUTHORITY_PK), 'oxi-01', String(NOW_MS)], {
      input: Buffer.concat(records),
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
      timeout: 280_000,
      env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1', UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1' },
    });
    expect(res.stderr).not.toMatch(/AddressSanitizer|runtime error|LeakSanitizer/);
    expect(res.status, res.stderr.slice(-2000)).toBe(0);
    const line = res.stdout.trim();
    const num = (re: RegExp): number => Number(re.exec(line)?.[1] ?? Number.NaN);
    expect(num(/frames=(\d+)/) + num(/tickets=(\d+)/) + num(/cbor=(\d+);/)).toBe(total);
    if (runs(1) === 1) expect(total).toBeGreaterThanOrEqual(100_000);
    expect(num(/frames ok=(\d+)/)).toBeGreaterThan(0);
    expect(num(/acks=(\d+)/)).toBeGreaterThan(0);
    expect(num(/tickets ok=(\d+)/)).toBeGreaterThan(0);
    expect(num(/TICKET_BAD_SIGNATURE=(\d+)/)).toBeGreaterThan(0);
    expect(num(/TICKET_MALFORMED=(\d+)/)).toBeGreaterThan(0);
    expect(num(/FRAME_UNKNOWN_TYPE=(\d+)/)).toBeGreaterThan(0);
    expect(num(/errors=(\d+)/)).toBeGreaterThan(0);
    console.info(`device-c fuzz: ${total} inputs — ${line}`);
  }, 300_000);
});
