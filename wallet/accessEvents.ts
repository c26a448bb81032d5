import { fromHex } from '../protocol/bytes.ts';
import { leafHash, verifyInclusion } from '../protocol/merkle/index.ts';
import type { AgentClient } from './agentClient.ts';
import type { AnchoredRoots, RecordCheck } from './verifyRecords.ts';
import type { ServedRecord } from '../protocol/api/servedRecord.ts';
import type { Wallet } from './wallet.ts';

/** An access event about the patient as the agent serves it (a kind-2 leaf with its proof). */
export interface ServedAccessEvent {
  leafIndex: number;
  at: number;
  event: Record<string, unknown>;
  body: string;
  treeSize: number;
  inclusionProof: string[];
  anchor: ServedRecord['anchor'];
}

/** The patient's view of who accessed what: every access event about it, each checked against the chain. */
export async function fetchAccessEvents(
  patient: Wallet,
  client: AgentClient,
  roots: AnchoredRoots,
  o: { fromLeaf?: number; limit?: number } = {},
): Promise<Array<ServedAccessEvent & { check: RecordCheck }>> {
  const res = (await client.call(patient, '/v1/access', 'AccessQuery', { fromLeaf: o.fromLeaf ?? 0, limit: o.limit ?? 500 })) as {
    events: ServedAccessEvent[];
  };
  const out = [];
  for (const e of res.events) out.push({ ...e, check: await verifyAccessEvent(e, roots) });
  return out;
}

export async function verifyAccessEvent(e: ServedAccessEvent, roots: AnchoredRoots): Promise<RecordCheck> {
  if (!e.anchor) return { status: 'unanchored', detail: 'no anchored tree head covers this event yet' };
  if (!(await roots.isWardLog(e.anchor.logId))) return { status: 'foreign', detail: 'the log is not bound to a registered agent on-chain' };
  const onChain = await roots.rootAt(e.anchor.logId, e.anchor.treeSize);
  if (!onChain || e.treeSize !== e.anchor.treeSize) return { status: 'unanchored', detail: 'no matching Anchored event on-chain' };
  try {
    verifyInclusion(
      e.leafIndex,
      e.treeSize,
      leafHash(new Uint8Array(Buffer.from(e.body, 'base64'))),
      e.inclusionProof.map(fromHex),
      fromHex(onChain.root.slice(2)),
    );
  } catch {
    return { status: 'tampered', detail: 'inclusion proof does not lead to the root anchored on-chain' };
  }
  return { status: 'verified', detail: `root anchored in block ${onChain.blockNumber}`, block: onChain.blockNumber };
}
