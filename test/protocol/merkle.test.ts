import { outcome } from './fuzzInputs.ts';
import { readFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, concatBytes } from '../../protocol/bytes.ts';
import type { ErrorCode } from '../../protocol/errors.ts';
import {
  HASH_SIZE,
  MemoryNodeStore,
  MerkleLog,
  consistencyProof,
  emptyRoot,
  inclusionProof,
  leafHash,
  merkleRoot,
  nodeHash,
  rootFromConsistencyProof,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
  type NodeStore,
} from '../../protocol/merkle/index.ts';
import { decomposeInclusionProof } from '../../protocol/merkle/inclusion.ts';
import { runs } from '../support/fuzz.ts';

// ---------------------------------------------------------------- helpers

const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

/** Naive MTH straight from RFC 6962 §2.1, on slices. */
function naiveRoot(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha256(new Uint8Array(0));
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(naiveRoot(leaves.slice(0, k)), naiveRoot(leaves.slice(k)));
}

function flipBit(b: Uint8Array, bit: number): Uint8Array {
  const out = b.slice();
  const i = Math.floor(bit / 8) % out.length;
  out[i] = out[i]! ^ (1 << (bit % 8));
  return out;
}

/** Sides (L = proof hash on the left) the verifier uses for each inclusion proof hash. */
function inclusionShape(index: number, size: number): string {
  let inner = 0;
  while (2 ** inner <= (index ^ (size - 1))) inner++; // sizes here < 2^31
  let s = '';
  for (let i = 0; i < inner; i++) s += (index >> i) & 1 ? 'L' : 'R';
  for (let rest = index >> inner; rest > 0; rest >>= 1) if (rest & 1) s += 'L';
  return s;
}

// ---------------------------------------------------------------- vectors

/** Parses the vector file keeping integers above 2^53 exact (they become bigint). */
function loadVectors(): { inclusion: InclusionCase[]; consistency: ConsistencyCase[] } {
  const text = readFileSync(new URL('../vectors/rfc6962-merkle-proofs.json', import.meta.url), 'utf8');
  const quoted = text.replace(/("(?:leafIdx|treeSize|size1|size2)":\s*)(\d{16,})/g, '$1"$2"');
  const raw = JSON.parse(quoted) as { inclusion: Record<string, unknown>[]; consistency: Record<string, unknown>[] };
  const int = (v: unknown): bigint => BigInt(v as string | number);
  return {
    inclusion: raw.inclusion.map((c) => ({
      leafIdx: int(c.leafIdx),
      treeSize: int(c.treeSize),
      root: b64(c.root as string),
      leafHash: b64(c.leafHash as string),
      proof: ((c.proof as string[] | null) ?? []).map(b64),
      desc: c.desc as string,
      wantErr: c.wantErr as boolean,
      file: c.file as string,
    })),
    consistency: raw.consistency.map((c) => ({
      size1: int(c.size1),
      size2: int(c.size2),
      root1: b64(c.root1 as string),
      root2: b64(c.root2 as string),
      proof: ((c.proof as string[] | null) ?? []).map(b64),
      desc: c.desc as string,
      wantErr: c.wantErr as boolean,
      file: c.file as string,
    })),
  };
}
interface InclusionCase {
  leafIdx: bigint;
  treeSize: bigint;
  root: Uint8Array;
  leafHash: Uint8Array;
  proof: Uint8Array[];
  desc: string;
  wantErr: boolean;
  file: string;
}
interface ConsistencyCase {
  size1: bigint;
  size2: bigint;
  root1: Uint8Array;
  root2: Uint8Array;
  proof: Uint8Array[];
  desc: string;
  wantErr: boolean;
  file: string;
}

/** The API takes numbers; an integer above 2^53 becomes an unsafe number, which it must refuse. */
const apiNumber = (v: bigint): number => Number(v);

const vectors = loadVectors();

/** Codes each kind of bad case may produce (the desc without its "@n" position). */
const inclusionCodes: Record<string, ErrorCode[]> = {
  'wrong leaf': ['PROOF_BAD_HASH'],
  'empty leaf': ['PROOF_BAD_HASH'],
  'empty root and leaf': ['PROOF_BAD_HASH'],
  'random leaf': ['PROOF_BAD_HASH', 'PROOF_BAD_INDEX'],
  'empty root': ['PROOF_MISMATCH', 'PROOF_BAD_HASH', 'PROOF_BAD_INDEX'],
  'empty root and random leaf': ['PROOF_MISMATCH', 'PROOF_BAD_INDEX'],
  'random root': ['PROOF_MISMATCH'],
  'modified proof[0] bit': ['PROOF_MISMATCH'],
  'modified proof[1] bit': ['PROOF_MISMATCH'],
  'modified proof[2] bit': ['PROOF_MISMATCH'],
  'preceding garbage': ['PROOF_WRONG_LENGTH'],
  'preceding root': ['PROOF_WRONG_LENGTH'],
  'trailing garbage': ['PROOF_WRONG_LENGTH'],
  'trailing root': ['PROOF_WRONG_LENGTH'],
  'inserted component': ['PROOF_WRONG_LENGTH'],
  'removed component': ['PROOF_WRONG_LENGTH'],
  'leafIdx XOR': ['PROOF_BAD_INDEX', 'PROOF_WRONG_LENGTH', 'PROOF_MISMATCH'],
  'leafIdx plus': ['PROOF_BAD_INDEX', 'PROOF_WRONG_LENGTH', 'PROOF_MISMATCH'],
  'leafIdx sub': ['PROOF_BAD_INDEX', 'PROOF_WRONG_LENGTH', 'PROOF_MISMATCH'],
  'treeSize div': ['PROOF_BAD_INDEX', 'PROOF_WRONG_LENGTH', 'PROOF_MISMATCH'],
  'treeSize mul': ['PROOF_BAD_INDEX', 'PROOF_WRONG_LENGTH', 'PROOF_MISMATCH'],
};
const consistencyCodes: Record<string, ErrorCode[]> = {
  'modified proof@0 bit': ['PROOF_MISMATCH'],
  'modified proof@1 bit': ['PROOF_MISMATCH'],
  'modified proof@2 bit': ['PROOF_MISMATCH'],
  'swapped roots': ['PROOF_MISMATCH'],
  'wrong root1': ['PROOF_BAD_HASH'],
  'wrong root2': ['PROOF_BAD_HASH'],
  'roots do not match and sizes are zero': ['PROOF_MISMATCH'],
  'roots do not not match and sizes are one': ['PROOF_MISMATCH'],
  'sizes are equal (one) but roots are not': ['PROOF_MISMATCH'],
  'sizes are equal (zero) but roots are not': ['PROOF_MISMATCH'],
  'sizes are equal (zero) and proof is empty': ['PROOF_MISMATCH'], // root1 is not the empty-tree root
  'empty proof': ['PROOF_WRONG_LENGTH'],
  'truncated proof': ['PROOF_WRONG_LENGTH'],
  'preceding garbage': ['PROOF_WRONG_LENGTH'],
  'preceding proof': ['PROOF_WRONG_LENGTH'],
  'preceding root1': ['PROOF_WRONG_LENGTH'],
  'preceding root2': ['PROOF_WRONG_LENGTH'],
  'trailing garbage': ['PROOF_WRONG_LENGTH'],
  'trailing root1': ['PROOF_WRONG_LENGTH'],
  'trailing root2': ['PROOF_WRONG_LENGTH'],
  'sizes do not watch and proof is empty': ['PROOF_WRONG_LENGTH'],
  'sizes match but proof is not empty and sizes are one': ['PROOF_WRONG_LENGTH'],
  'sizes match but proof is not empty and sizes are zero': ['PROOF_WRONG_LENGTH'],
  'size1 is greater than size2': ['PROOF_BAD_SIZE'],
  'size1 is greater than size2 again': ['PROOF_BAD_SIZE'],
  'size1 is zero and does not equal size2': ['PROOF_BAD_SIZE'],
  'size1 is zero and size2 is not zero': ['PROOF_BAD_SIZE'],
  'consistency check on empty tree (size1 is zero) is useless': ['PROOF_BAD_SIZE'],
  'size1 XOR': ['PROOF_BAD_SIZE', 'PROOF_WRONG_LENGTH', 'PROOF_MISMATCH'],
  'size1 plus': ['PROOF_BAD_SIZE', 'PROOF_WRONG_LENGTH', 'PROOF_MISMATCH'],
  'size1 sub': ['PROOF_BAD_SIZE', 'PROOF_WRONG_LENGTH', 'PROOF_MISMATCH'],
  'size2 div': ['PROOF_BAD_SIZE', 'PROOF_WRONG_LENGTH', 'PROOF_MISMATCH'],
  'size2 mul': ['PROOF_BAD_SIZE', 'PROOF_WRONG_LENGTH', 'PROOF_MISMATCH'],
};
const kind = (desc: string): string => desc.replace(/ @\d+$/, '');

/** The leaves of transparency-dev/merkle's test tree, from which the happy paths come. */
const referenceLeaves = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(fromHex);

describe('RFC 6962 vectors (transparency-dev/merkle testdata)', () => {
  it('has the 98 + 98 cases, 92 + 92 of them to reject', () => {
    expect(vectors.inclusion).toHaveLength(98);
    expect(vectors.consistency).toHaveLength(98);
    expect(vectors.inclusion.filter((c) => c.wantErr)).toHaveLength(92);
    expect(vectors.consistency.filter((c) => c.wantErr)).toHaveLength(92);
    expect(vectors.inclusion.some((c) => c.leafIdx === 2n ** 64n - 1n)).toBe(true);
  });

  describe('inclusion', () => {
    it.each(vectors.inclusion.map((c) => [c.file, c] as const))('%s', (_file, c) => {
      const args = [apiNumber(c.leafIdx), apiNumber(c.treeSize), c.leafHash, c.proof] as const;
      const got = outcome(() => verifyInclusion(...args, c.root));
      if (!c.wantErr) {
        expect(got).toBe('ok');
        const r = rootFromInclusionProof(...args);
        expect(r.ok && toHex(r.root)).toBe(toHex(c.root));
        return;
      }
      const allowed = inclusionCodes[kind(c.desc)];
      expect(allowed, `no expectation for "${c.desc}"`).toBeDefined();
      expect(allowed).toContain(got);
    });
  });

  describe('consistency', () => {
    it.each(vectors.consistency.map((c) => [c.file, c] as const))('%s', (_file, c) => {
      const got = outcome(() => verifyConsistency(apiNumber(c.size1), apiNumber(c.size2), c.root1, c.root2, c.proof));
      if (!c.wantErr) {
        expect(got).toBe('ok');
        return;
      }
      const allowed = consistencyCodes[kind(c.desc)];
      expect(allowed, `no expectation for "${c.desc}"`).toBeDefined();
      expect(allowed).toContain(got);
    });
  });

  it('MerkleLog over the reference leaves produces every happy-path proof byte for byte', () => {
    const log = new MerkleLog();
    for (const l of referenceLeaves) log.append(l);
    let checked = 0;
    for (const c of vectors.inclusion.filter((c) => !c.wantErr && c.file.startsWith('inclusion/') && /^inclusion\/\d\//.test(c.file))) {
      const idx = Number(c.leafIdx);
      const size = Number(c.treeSize);
      expect(toHex(log.leafHashAt(idx))).toBe(toHex(c.leafHash));
      expect(toHex(log.root(size))).toBe(toHex(c.root));
      expect(log.inclusionProof(idx, size).map(toHex)).toEqual(c.proof.map(toHex));
      expect(inclusionProof(referenceLeaves.map(leafHash), idx, size).map(toHex)).toEqual(c.proof.map(toHex));
      checked++;
    }
    for (const c of vectors.consistency.filter((c) => !c.wantErr && /^consistency\/\d\//.test(c.file))) {
      const [s1, s2] = [Number(c.size1), Number(c.size2)];
      expect(toHex(log.root(s1))).toBe(toHex(c.root1));
      expect(toHex(log.root(s2))).toBe(toHex(c.root2));
      expect(log.consistencyProof(s1, s2).map(toHex)).toEqual(c.proof.map(toHex));
      expect(consistencyProof(referenceLeaves.map(leafHash), s1, s2).map(toHex)).toEqual(c.proof.map(toHex));
      checked++;
    }
    expect(checked).toBe(10);
  });
});

// ---------------------------------------------------------------- hashes

describe('hashes', () => {
  it('match RFC 6962 with SHA-256', () => {
    expect(HASH_SIZE).toBe(32);
    expect(toHex(emptyRoot())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(toHex(leafHash(new Uint8Array(0)))).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
    const l = fromHex('11'.repeat(32));
    const r = fromHex('22'.repeat(32));
    expect(toHex(nodeHash(l, r))).toBe(toHex(sha256(concatBytes(new Uint8Array([1]), l, r))));
    expect(toHex(merkleRoot([]))).toBe(toHex(emptyRoot()));
    const e = emptyRoot();
    e[0] = 0;
    expect(toHex(emptyRoot()).slice(0, 2)).toBe('e3'); // callers cannot corrupt the constant
  });
});

describe('53-bit index arithmetic', () => {
  it('decomposes proofs like 64-bit Go does, for indices up to 2^53 - 1', () => {
    const len = (x: bigint): number => x.toString(2).replace(/^0+/, '').length;
    const ones = (x: bigint): number => [...x.toString(2)].filter((c) => c === '1').length;
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.maxSafeNat(), (a, b) => {
        const [index, size] = a < b ? [a, b] : [b, a + 1];
        if (!Number.isSafeInteger(size)) return;
        const inner = len(BigInt(index) ^ BigInt(size - 1));
        const border = ones(BigInt(index) >> BigInt(inner));
        expect(decomposeInclusionProof(index, size)).toEqual({ inner, border });
      }),
      { numRuns: runs(2_000) },
    );
    expect(decomposeInclusionProof(2 ** 53 - 2, 2 ** 53 - 1)).toEqual({ inner: 0, border: 52 });
    expect(decomposeInclusionProof(0, 2 ** 53 - 1)).toEqual({ inner: 53, border: 0 });
  });
});

// ---------------------------------------------------------------- log properties

const N = 2500;
const leafData = Array.from({ length: N }, (_, i) => sha256(new TextEncoder().encode(`leaf ${i}`)).subarray(0, (i % 40) + 1));
const leaves = leafData.map(leafHash);
const bigLog = new MerkleLog();
for (const d of leafData) bigLog.append(d);

describe('MerkleLog', () => {
  it('append returns the index and leaf hash, and size grows', () => {
    const log = new MerkleLog();
    expect(log.size).toBe(0);
    expect(toHex(log.root())).toBe(toHex(emptyRoot()));
    const a = log.append(new Uint8Array([1, 2, 3]));
    expect(a.index).toBe(0);
    expect(toHex(a.leafHash)).toBe(toHex(leafHash(new Uint8Array([1, 2, 3]))));
    expect(log.appendLeafHash(leafHash(new Uint8Array([4]))).index).toBe(1);
    expect(log.size).toBe(2);
    expect(outcome(() => log.appendLeafHash(new Uint8Array(31)))).toBe('INPUT_BAD_LENGTH');
  });

  it('root(size) equals the naive recursive root for every size up to 300', () => {
    for (let s = 0; s <= 300; s++) expect(toHex(bigLog.root(s))).toBe(toHex(naiveRoot(leaves.slice(0, s))));
    expect(toHex(merkleRoot(leaves.slice(0, 300)))).toBe(toHex(naiveRoot(leaves.slice(0, 300))));
  });

  it('root(size) equals the naive recursive root (random sizes up to N)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: N }), (s) => {
        expect(toHex(bigLog.root(s))).toBe(toHex(naiveRoot(leaves.slice(0, s))));
      }),
      { numRuns: runs(60) },
    );
    expect(toHex(bigLog.root())).toBe(toHex(merkleRoot(leaves)));
  });

  it('proofs equal the RFC 6962 reference provers for all small trees', () => {
    const small = leaves.slice(0, 40);
    for (let size = 1; size <= 40; size++) {
      for (let i = 0; i < size; i++) {
        expect(bigLog.inclusionProof(i, size).map(toHex)).toEqual(inclusionProof(small, i, size).map(toHex));
      }
      for (let s1 = 0; s1 <= size; s1++) {
        expect(bigLog.consistencyProof(s1, size).map(toHex)).toEqual(consistencyProof(small, s1, size).map(toHex));
      }
    }
  });

  it('inclusion proofs always verify, and tampered ones never do', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: N })
          .chain((size) => fc.tuple(fc.constant(size), fc.nat(size - 1), fc.nat(size - 1), fc.nat(), fc.integer({ min: 1, max: N }))),
        ([size, index, otherIndex, bit, otherSize]) => {
          const root = bigLog.root(size);
          const proof = bigLog.inclusionProof(index, size);
          const leaf = leaves[index]!;
          verifyInclusion(index, size, leaf, proof, root);
          const r = rootFromInclusionProof(index, size, leaf, proof);
          expect(r.ok && toHex(r.root)).toBe(toHex(root));

          expect(outcome(() => verifyInclusion(index, size, leaf, proof, flipBit(root, bit)))).toBe('PROOF_MISMATCH');
          expect(outcome(() => verifyInclusion(index, size, flipBit(leaf, bit), proof, root))).toBe('PROOF_MISMATCH');
          if (proof.length > 0) {
            const j = bit % proof.length;
            const tampered = proof.map((h, k) => (k === j ? flipBit(h, bit) : h));
            expect(outcome(() => verifyInclusion(index, size, leaf, tampered, root))).toBe('PROOF_MISMATCH');
            expect(outcome(() => verifyInclusion(index, size, leaf, proof.slice(1), root))).toBe('PROOF_WRONG_LENGTH');
          }
          expect(outcome(() => verifyInclusion(index, size, leaf, [...proof, root], root))).toBe('PROOF_WRONG_LENGTH');
          if (otherIndex !== index) expect(outcome(() => verifyInclusion(otherIndex, size, leaf, proof, root))).not.toBe('ok');
          expect(outcome(() => verifyInclusion(size, size, leaf, proof, root))).toBe('PROOF_BAD_INDEX');
          // The proof does not authenticate the tree size (the signed tree head does): another
          // size is accepted only where the verifier would hash exactly the same way.
          if (otherSize !== size) {
            const got = outcome(() => verifyInclusion(index, otherSize, leaf, proof, root));
            if (got === 'ok') expect(inclusionShape(index, otherSize)).toBe(inclusionShape(index, size));
          }
        },
      ),
      { numRuns: runs(400) },
    );
  });

  it('consistency proofs always verify, and tampered ones never do', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: N }).chain((size2) => fc.tuple(fc.integer({ min: 1, max: size2 }), fc.constant(size2), fc.nat())),
        ([size1, size2, bit]) => {
          const root1 = bigLog.root(size1);
          const root2 = bigLog.root(size2);
          const proof = bigLog.consistencyProof(size1, size2);
          verifyConsistency(size1, size2, root1, root2, proof);
          const r = rootFromConsistencyProof(size1, size2, root1, proof);
          expect(r.ok && toHex(r.root)).toBe(toHex(root2));
          expect(outcome(() => verifyConsistency(size1, size2, flipBit(root1, bit), root2, proof))).toBe('PROOF_MISMATCH');
          expect(outcome(() => verifyConsistency(size1, size2, root1, flipBit(root2, bit), proof))).toBe('PROOF_MISMATCH');
          if (proof.length > 0) {
            const j = bit % proof.length;
            const tampered = proof.map((h, k) => (k === j ? flipBit(h, bit) : h));
            expect(outcome(() => verifyConsistency(size1, size2, root1, root2, tampered))).toBe('PROOF_MISMATCH');
            expect(outcome(() => verifyConsistency(size1, size2, root1, root2, proof.slice(0, -1)))).toBe('PROOF_WRONG_LENGTH');
          }
          if (size1 < size2) {
            expect(outcome(() => verifyConsistency(size1, size2, root2, root1, proof))).not.toBe('ok');
            expect(outcome(() => verifyConsistency(size2, size1, root1, root2, proof))).toBe('PROOF_BAD_SIZE');
            expect(outcome(() => verifyConsistency(0, size2, emptyRoot(), root2, proof))).toBe('PROOF_BAD_SIZE');
          }
        },
      ),
      { numRuns: runs(400) },
    );
    expect(bigLog.consistencyProof(0, 10)).toEqual([]);
    verifyConsistency(0, 0, emptyRoot(), emptyRoot(), []);
  });

  it('rejects out-of-range indices and sizes with LOG_INDEX_OUT_OF_RANGE', () => {
    const log = new MerkleLog();
    for (let i = 0; i < 5; i++) log.append(new Uint8Array([i]));
    for (const f of [
      () => log.root(6),
      () => log.root(-1),
      () => log.root(1.5),
      () => log.inclusionProof(5),
      () => log.inclusionProof(0, 0),
      () => log.inclusionProof(0, 6),
      () => log.consistencyProof(3, 2),
      () => log.consistencyProof(1, 6),
      () => log.consistencyProof(Number.NaN),
      () => log.leafHashAt(5),
      () => inclusionProof(leaves.slice(0, 5), 5),
      () => consistencyProof(leaves.slice(0, 5), 1, 6),
    ]) {
      expect(outcome(f)).toBe('LOG_INDEX_OUT_OF_RANGE');
    }
  });

  it('reports a node store that lacks hashes with LOG_STORE_MISSING_NODE', () => {
    const store = new MemoryNodeStore();
    store.setSize(5);
    const log = new MerkleLog(store);
    expect(outcome(() => log.root())).toBe('LOG_STORE_MISSING_NODE');
    expect(outcome(() => log.inclusionProof(1))).toBe('LOG_STORE_MISSING_NODE');
  });

  it('hands out copies: mutating a proof or root does not corrupt the log', () => {
    const log = new MerkleLog();
    for (let i = 0; i < 8; i++) log.append(new Uint8Array([i]));
    const before = toHex(log.root());
    log.root().fill(0);
    for (const h of log.inclusionProof(3)) h.fill(0);
    for (const h of log.consistencyProof(3)) h.fill(0);
    log.leafHashAt(2).fill(0);
    expect(toHex(log.root())).toBe(before);
  });

  it('writes O(log n) nodes per append and reads O(log n) nodes per query', () => {
    let puts = 0;
    let gets = 0;
    const inner = new MemoryNodeStore();
    const counting: NodeStore = {
      get: (l, i) => (gets++, inner.get(l, i)),
      put: (l, i, h) => (puts++, inner.put(l, i, h)),
      size: () => inner.size(),
      setSize: (n) => inner.setSize(n),
    };
    const log = new MerkleLog(counting);
    const n = 4096 + 123;
    let maxPuts = 0;
    for (let i = 0; i < n; i++) {
      puts = 0;
      log.appendLeafHash(leaves[i % N]!);
      maxPuts = Math.max(maxPuts, puts);
    }
    const logN = Math.ceil(Math.log2(n));
    expect(maxPuts).toBeLessThanOrEqual(logN + 1);
    const countGets = (f: () => unknown): number => {
      gets = 0;
      f();
      return gets;
    };
    for (let k = 0; k < 200; k++) {
      const size = 1 + ((k * 7919) % n);
      const index = (k * 104729) % size;
      expect(countGets(() => log.root(size))).toBeLessThanOrEqual(logN + 1);
      expect(countGets(() => log.inclusionProof(index, size))).toBeLessThanOrEqual(3 * (logN + 1));
      expect(countGets(() => log.consistencyProof(1 + (index % size), size))).toBeLessThanOrEqual(3 * (logN + 1));
    }
  });
});

// ---------------------------------------------------------------- fuzz

describe('fuzz: verifiers only ever throw typed PROOF_* errors', () => {
  const anySize = fc.oneof(
    fc.integer({ min: 0, max: 70 }),
    fc.integer({ min: -3, max: 3 }),
    fc.maxSafeNat(),
    fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, 2 ** 64, -1, 0.5, Number.NaN, Infinity, -Infinity),
    fc.double(),
  );
  const anyHash = fc.oneof(
    { weight: 4, arbitrary: fc.uint8Array({ minLength: 32, maxLength: 32 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  );
  const anyProof = fc.array(anyHash, { maxLength: 66 });
  const isProofCode = (c: string): boolean => c === 'ok' || c.startsWith('PROOF_');

  it('verifyInclusion / rootFromInclusionProof (10,000 inputs)', () => {
    fc.assert(
      fc.property(anySize, anySize, anyHash, anyProof, anyHash, (index, size, leaf, proof, root) => {
        expect(isProofCode(outcome(() => verifyInclusion(index, size, leaf, proof, root)))).toBe(true);
        const r = rootFromInclusionProof(index, size, leaf, proof);
        if (r.ok) expect(r.root).toHaveLength(32);
        else expect(r.error.code.startsWith('PROOF_')).toBe(true);
      }),
      { numRuns: runs(10_000) },
    );
  });

  it('random proofs of the right length are rejected with PROOF_MISMATCH (2,000 inputs)', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 2, max: N })
          .chain((size) => fc.tuple(fc.constant(size), fc.nat(size - 1), fc.integer({ min: 1, max: size - 1 }))),
        fc.nat(),
        ([size, index, size1], seed) => {
          const pool = Array.from({ length: 26 }, (_, i) => sha256(new TextEncoder().encode(`${seed}/${i}`)));
          const incl = pool.slice(0, bigLog.inclusionProof(index, size).length);
          expect(outcome(() => verifyInclusion(index, size, leaves[index]!, incl, bigLog.root(size)))).toBe('PROOF_MISMATCH');
          const cons = pool.slice(0, bigLog.consistencyProof(size1, size).length);
          expect(outcome(() => verifyConsistency(size1, size, bigLog.root(size1), bigLog.root(size), cons))).toBe('PROOF_MISMATCH');
        },
      ),
      { numRuns: runs(2_000) },
    );
  });

  it('verifyConsistency / rootFromConsistencyProof (10,000 inputs)', () => {
    fc.assert(
      fc.property(anySize, anySize, anyHash, anyHash, anyProof, (size1, size2, root1, root2, proof) => {
        expect(isProofCode(outcome(() => verifyConsistency(size1, size2, root1, root2, proof)))).toBe(true);
        const r = rootFromConsistencyProof(size1, size2, root1, proof);
        if (!r.ok) expect(r.error.code.startsWith('PROOF_')).toBe(true);
      }),
      { numRuns: runs(10_000) },
    );
  });
});
