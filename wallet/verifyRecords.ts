import { sha256 } from '@noble/hashes/sha2.js';
import type { Hex } from 'viem';
import { fromHex, toHex } from '../protocol/bytes.ts';
import { leafHash, verifyInclusion } from '../protocol/merkle/index.ts';
import type { ChainContracts } from '../chain/contracts.ts';
import type { ServedRecord } from '../protocol/api/servedRecord.ts';

/**
 * verified: the proof leads to the root the Ledger contract recorded for that tree size;
 * unanchored: no anchored head (yet) covers it, or the chain does not know the claimed one;
 * tampered: the envelope does not hash to its id, or the proof does not lead to the on-chain root;
 * foreign: the anchor names another chain or ledger than the verifier's.
 */
export type RecordStatus = 'verified' | 'unanchored' | 'tampered' | 'foreign';

export interface RecordCheck {
  status: RecordStatus;
  detail: string;
  /** Block of the on-chain anchor checked against (verified only). */
  block?: number;
}

/** On-chain roots by (logId, treeSize), read from the Ledger's Anchored events (never from the agent). */
export class AnchoredRoots {
  private readonly cache = new Map<string, Promise<{ root: string; blockNumber: number } | undefined>>();
  private readonly agents = new Map<string, Promise<boolean>>();
  constructor(
    private readonly contracts: ChainContracts,
    private readonly fromBlock: number,
  ) {}

  /** True if the Registrar binds `logId` to an active agent (only that agent can anchor it on the Ledger). */
  isWardLog(logId: Hex): Promise<boolean> {
    let p = this.agents.get(logId);
    if (!p) this.agents.set(logId, (p = this.contracts.activeAgentOf(logId).then((a) => !/^0x0{40}$/i.test(a))));
    return p;
  }

  rootAt(logId: Hex, treeSize: number): Promise<{ root: string; blockNumber: number } | undefined> {
    const key = `${logId}/${treeSize}`;
    let p = this.cache.get(key);
    if (!p) {
      p = this.contracts.anchoredEvents(logId, { treeSize, fromBlock: this.fromBlock }).then((ev) => {
        const last = ev[ev.length - 1];
        return last ? { root: last.root.toLowerCase(), blockNumber: last.blockNumber } : undefined;
      });
      this.cache.set(key, p);
    }
    return p;
  }
}

export function envelopeOf(r: ServedRecord): Uint8Array {
  return new Uint8Array(Buffer.from(r.envelope, 'base64'));
}

/** Checks one served record against the root anchored on-chain. */
export async function verifyServedRecord(
  r: ServedRecord,
  roots: AnchoredRoots,
  expect: { chainId: number; ledger: string },
): Promise<RecordCheck> {
  const env = envelopeOf(r);
  if (toHex(sha256(env)) !== r.recordId.toLowerCase()) return { status: 'tampered', detail: 'envelope does not hash to its record id' };
  if (!r.anchor) return { status: 'unanchored', detail: 'no anchored tree head covers this record yet' };
  if (r.anchor.chainId !== expect.chainId || r.anchor.ledger.toLowerCase() !== expect.ledger.toLowerCase())
    return { status: 'foreign', detail: 'anchor on another chain or ledger' };
  if (!(await roots.isWardLog(r.anchor.logId))) return { status: 'foreign', detail: 'the log is not bound to a registered agent on-chain' };
  if (r.anchor.treeSize !== r.treeSize) return { status: 'tampered', detail: 'proof is not for the anchored tree size' };
  const onChain = await roots.rootAt(r.anchor.logId, r.anchor.treeSize);
  if (!onChain) return { status: 'unanchored', detail: `no Anchored event for tree size ${r.anchor.treeSize} on-chain` };
  try {
    verifyInclusion(r.leafIndex, r.treeSize, leafHash(env), r.inclusionProof.map(fromHex), fromHex(onChain.root.slice(2)));
  } catch {
    return { status: 'tampered', detail: 'inclusion proof does not lead to the root anchored on-chain' };
  }
  return { status: 'verified', detail: `root anchored in block ${onChain.blockNumber}`, block: onChain.blockNumber };
}
