/**
 * protocol/ is the one home of the wire contracts: the wallet imports nothing from the agent,
 * protocol/ imports nothing from agent/, wallet/, chain/, device-sim/, cli/ or viem, and the
 * contracts that moved there keep their exact bytes (patientRef, escrow parameters, access-event
 * leaves, leaf kinds, topics).
 */
import { join, relative } from 'node:path';
import { sha256 as viemSha256, toBytes } from 'viem';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { toHex, utf8 } from '../../protocol/bytes.ts';
import { patientRefOf } from '../../protocol/patientRef.ts';
import { DRILL_PREFIX, ESCROW_INFO, RELEASE_INFO, escrowAad, isDrillReason, releaseAad } from '../../protocol/escrow.ts';
import { decodeAccessEvent, encodeAccessEvent } from '../../protocol/log/accessEvent.ts';
import { LEAF_KIND, isLeafKind } from '../../protocol/log/leafKinds.ts';
import { READING_TOPIC_FILTER, STATUS_TOPIC_FILTER, parseTopic, readingTopic, statusTopic, ticketTopic } from '../../protocol/topics.ts';
import { API_TYPES, apiDomain, typedDataOf } from '../../protocol/api/typedData.ts';
import type { ServedAnchor, ServedRecord } from '../../protocol/api/servedRecord.ts';
import { SERVED_RECORD } from '../../agent/api/schemas.ts';
import { REPO_ROOT as ROOT, sourceFiles, specifiersOf, targetOf } from '../support/importGraph.ts';

describe('import graph', () => {
  it('the import scanner sees static, re-export and dynamic imports', () => {
    const probe = join(ROOT, 'test/protocol/wireContracts.test.ts');
    expect(specifiersOf(probe)).toEqual(expect.arrayContaining(['node:path', '../../protocol/patientRef.ts', 'viem']));
    expect(targetOf(join(ROOT, 'wallet/x.ts'), '../agent/core.ts')).toBe('agent');
  });

  it('wallet/ imports nothing from agent/', () => {
    const offending = sourceFiles(join(ROOT, 'wallet')).flatMap((f) =>
      specifiersOf(f)
        .filter((s) => targetOf(f, s) === 'agent')
        .map((s) => `${relative(ROOT, f)}: ${s}`),
    );
    expect(offending).toEqual([]);
  });

  it('protocol/ imports only noble, cbor-x and its own files (the node:crypto backend is protocol/hpke/node.ts behind protocol/node.ts)', () => {
    const nodeBackend = new Set(['protocol/hpke/node.ts', 'protocol/node.ts'].map((p) => join(ROOT, p)));
    const offending = sourceFiles(join(ROOT, 'protocol'))
      .filter((f) => !nodeBackend.has(f))
      .flatMap((f) =>
        specifiersOf(f)
          .filter((s) => (s.startsWith('.') ? targetOf(f, s) !== 'protocol' : !/^(@noble\/|cbor-x)/.test(s)))
          .map((s) => `${relative(ROOT, f)}: ${s}`),
      );
    expect(offending).toEqual([]);
  });
});

describe('wire contracts keep their bytes', () => {
  it('patientRefOf: a bytes32 is itself; other 0x hex hashes its bytes, anything else its UTF-8 — as the agent always computed it with viem', () => {
    const table = [
      'patient-ref-1',
      'patient-ref-A',
      `0x${'Ab'.repeat(20)}`,
      `0x${'ab'.repeat(20)}`,
      `0x${'cD'.repeat(32)}`,
      `0x${'cd'.repeat(31)}`,
      '0xabc',
      '0x',
      '0xzz',
      'doctor:0x1234',
      'é',
      '',
    ];
    for (const p of table) {
      const viem = /^0x[0-9a-fA-F]{64}$/.test(p) ? p.toLowerCase() : viemSha256(toBytes(p));
      expect(patientRefOf(p), p).toBe(viem);
    }
  });

  it('escrow parameters', () => {
    expect(new TextDecoder().decode(ESCROW_INFO)).toBe('vitalseal/v1/emergency-escrow');
    expect(new TextDecoder().decode(RELEASE_INFO)).toBe('vitalseal/v1/emergency-release');
    expect(toHex(escrowAad('0xAB'))).toBe(toHex(utf8('0xab')));
    expect(toHex(releaseAad('0xAB', '0xCD'))).toBe(toHex(utf8('0xab/0xcd')));
    expect(DRILL_PREFIX).toBe(`0x${Buffer.from('DRILL').toString('hex')}`);
    expect(isDrillReason(`${DRILL_PREFIX}00`)).toBe(true);
    expect(isDrillReason('0x00')).toBe(false);
  });

  it('access-event leaf: canonical CBOR {"v": 1, ...} and its JSON view (bytes as hex)', () => {
    const body = encodeAccessEvent({ t: 'escrow', patient: '0xab', ts: 5 });
    // {"t": "escrow", "v": 1, "ts": 5, "patient": "0xab"} in canonical (length-first) key order
    expect(toHex(body)).toBe('a4617466657363726f77617601627473056770617469656e746430786162');
    expect(decodeAccessEvent(body)).toEqual({ v: 1, t: 'escrow', ts: 5, patient: '0xab' });
    const s = encodeAccessEvent({ t: 'session-end', patient: 'p', device: 'oxi-01', kid: Uint8Array.of(1, 2, 255), ts: 1 });
    expect(decodeAccessEvent(s)).toMatchObject({ kid: '0102ff', device: 'oxi-01' });
    expect(decodeAccessEvent(Uint8Array.of(0xa1, 0x61, 0x76, 0x02))).toBeUndefined(); // {"v": 2}
    expect(decodeAccessEvent(Uint8Array.of(0xff))).toBeUndefined();
  });

  it('leaf kinds and topics', () => {
    expect(LEAF_KIND).toEqual({ record: 1, accessEvent: 2 });
    expect([1, 2, 0, 3, '1'].map(isLeafKind)).toEqual([true, true, false, false, false]);
    expect([readingTopic('oxi-01'), ticketTopic('oxi-01'), statusTopic('oxi-01')]).toEqual([
      'vs/v1/oxi-01/r',
      'vs/v1/oxi-01/ticket',
      'vs/v1/oxi-01/status',
    ]);
    expect([READING_TOPIC_FILTER, STATUS_TOPIC_FILTER]).toEqual(['vs/v1/+/r', 'vs/v1/+/status']);
    expect(parseTopic('vs/v1/oxi-01/x')).toBeNull();
    expect(parseTopic('vs/v2/oxi-01/r')).toBeNull();
    expect(parseTopic('vs/v1/oxi-01/r/extra')).toBeNull();
  });

  it('EIP-712: the domain and the typed data viem signs', () => {
    const d = apiDomain(31337, `0x${'11'.repeat(20)}`, `0x${'22'.repeat(32)}`);
    expect(d).toEqual({
      name: 'vitalseal-agent',
      version: '1',
      chainId: 31337,
      verifyingContract: `0x${'11'.repeat(20)}`,
      salt: `0x${'22'.repeat(32)}`,
    });
    const t = typedDataOf(d, 'PairingRequest', {
      requester: `0x${'33'.repeat(20)}`,
      nonce: `0x${'44'.repeat(32)}`,
      expiry: 9,
      device: 'oxi-01',
    });
    expect(t.types).toEqual({ PairingRequest: API_TYPES.PairingRequest });
    expect(t.message).toEqual({ requester: `0x${'33'.repeat(20)}`, nonce: `0x${'44'.repeat(32)}`, expiry: 9n, device: 'oxi-01' });
  });

  it("served record: the agent's JSON schema (response serializer, /openapi.json) lists exactly the fields of ServedRecord and ServedAnchor", () => {
    expectTypeOf<keyof typeof SERVED_RECORD.properties>().toEqualTypeOf<keyof ServedRecord>();
    expectTypeOf<keyof typeof SERVED_RECORD.properties.anchor.properties>().toEqualTypeOf<keyof ServedAnchor>();
    const record: Record<keyof ServedRecord, true> = {
      recordId: true,
      device: true,
      seq: true,
      ts: true,
      st: true,
      kid: true,
      leafIndex: true,
      treeSize: true,
      envelope: true,
      inclusionProof: true,
      root: true,
      anchor: true,
      ticket: true,
    };
    const anchor: Record<keyof ServedAnchor, true> = {
      treeSize: true,
      root: true,
      txHash: true,
      blockNumber: true,
      blockHash: true,
      chainId: true,
      ledger: true,
      logId: true,
    };
    expect(Object.keys(SERVED_RECORD.properties).sort()).toEqual(Object.keys(record).sort());
    expect(Object.keys(SERVED_RECORD.properties.anchor.properties).sort()).toEqual(Object.keys(anchor).sort());
  });
});
