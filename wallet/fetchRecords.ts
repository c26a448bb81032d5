import type { Address } from 'viem';
import type { AgentClient } from './agentClient.ts';
import type { ServedRecord } from '../protocol/api/servedRecord.ts';
import type { Wallet } from './wallet.ts';

export interface FetchResult {
  records: ServedRecord[];
  withheld: number;
  /** Leaf indices of the access events the agent logged for these queries. */
  accessLeaves: number[];
}

/** Pages through a patient's records with signed RecordQuery requests (one nonce each). */
export async function fetchRecords(
  wallet: Wallet,
  client: AgentClient,
  patient: Address,
  o: { device?: string; fromLeaf?: number; pageSize?: number; max?: number } = {},
): Promise<FetchResult> {
  const out: FetchResult = { records: [], withheld: 0, accessLeaves: [] };
  let from = o.fromLeaf ?? 0;
  const page = o.pageSize ?? 500;
  for (;;) {
    const res = (await client.call(wallet, '/v1/query/records', 'RecordQuery', {
      patient,
      device: o.device ?? '',
      fromLeaf: from,
      limit: page,
    })) as {
      records: ServedRecord[];
      withheld: number;
      nextFromLeaf: number;
      access: { leafIndex: number };
    };
    out.records.push(...res.records);
    out.withheld += res.withheld;
    out.accessLeaves.push(res.access.leafIndex);
    if (res.records.length + res.withheld < page || res.nextFromLeaf <= from || (o.max !== undefined && out.records.length >= o.max)) break;
    from = res.nextFromLeaf;
  }
  return out;
}
