import type { Address, Hex } from 'viem';
import { consentAbi } from '../chain/abi.ts';
import type { ChainContracts } from '../chain/contracts.ts';
import { patientRefOf } from '../protocol/patientRef.ts';
import { isDrillReason } from '../protocol/escrow.ts';

/** What a patient's `watch` shows: its records anchored, its grants, break-glass on its data. */
export type PatientEvent =
  | { kind: 'updated'; block: number; logId: Hex; treeSize: number; txHash: Hex }
  | { kind: 'granted'; block: number; grantee: Address; scope: Hex; notAfter: number; txHash: Hex }
  | { kind: 'revoked'; block: number; grantee: Address; scope: Hex; txHash: Hex }
  | { kind: 'break-glass'; block: number; clinician: Address; reasonHash: Hex; notAfter: number; drill: boolean; txHash: Hex };

/** The patient's events in [fromBlock, toBlock], ordered by block. */
export async function patientEvents(c: ChainContracts, patient: Address, fromBlock: number, toBlock?: number): Promise<PatientEvent[]> {
  const range = { fromBlock, ...(toBlock !== undefined ? { toBlock } : {}) };
  const ref = patientRefOf(patient.toLowerCase());
  const p = c.clients.publicClient;
  const blocks = { fromBlock: BigInt(fromBlock), toBlock: toBlock === undefined ? ('latest' as const) : BigInt(toBlock) };
  const [updated, granted, revoked, glass] = await Promise.all([
    c.updatedEvents({ patientRef: ref, ...range }),
    p.getContractEvents({
      address: c.addresses.consent,
      abi: consentAbi,
      eventName: 'Granted',
      args: { patient },
      ...blocks,
      strict: true,
    }),
    p.getContractEvents({
      address: c.addresses.consent,
      abi: consentAbi,
      eventName: 'Revoked',
      args: { patient },
      ...blocks,
      strict: true,
    }),
    c.breakGlassEvents({ patient, ...range }),
  ]);
  const out: PatientEvent[] = [
    ...updated.map((u) => ({ kind: 'updated' as const, block: u.blockNumber, logId: u.logId, treeSize: u.treeSize, txHash: u.txHash })),
    ...granted.map((g) => ({
      kind: 'granted' as const,
      block: Number(g.blockNumber),
      grantee: g.args.grantee,
      scope: g.args.scope,
      notAfter: Number(g.args.notAfter),
      txHash: g.transactionHash,
    })),
    ...revoked.map((g) => ({
      kind: 'revoked' as const,
      block: Number(g.blockNumber),
      grantee: g.args.grantee,
      scope: g.args.scope,
      txHash: g.transactionHash,
    })),
    ...glass.map((g) => ({
      kind: 'break-glass' as const,
      block: g.blockNumber,
      clinician: g.clinician,
      reasonHash: g.reasonHash,
      notAfter: g.notAfter,
      drill: isDrillReason(g.reasonHash),
      txHash: g.txHash,
    })),
  ];
  return out.sort((a, b) => a.block - b.block);
}

/** Current grants of a patient (from Granted/Revoked events, checked with grantExpiry). */
export async function currentGrants(
  c: ChainContracts,
  patient: Address,
  fromBlock: number,
  nowSec: number,
): Promise<Array<{ grantee: Address; scope: Hex; notAfter: number }>> {
  const ev = await patientEvents(c, patient, fromBlock);
  const seen = new Map<string, { grantee: Address; scope: Hex }>();
  for (const e of ev) if (e.kind === 'granted') seen.set(`${e.grantee}/${e.scope}`, { grantee: e.grantee, scope: e.scope });
  const out = [];
  for (const g of seen.values()) {
    const notAfter = await c.grantExpiry(patient, g.grantee, g.scope);
    if (notAfter >= nowSec) out.push({ ...g, notAfter });
  }
  return out;
}

export function describeEvent(e: PatientEvent): string {
  switch (e.kind) {
    case 'updated':
      return `block ${e.block}  your data anchored (records or accesses): log ${e.logId.slice(0, 10)}… size ${e.treeSize}`;
    case 'granted':
      return `block ${e.block}  consent granted to ${e.grantee} scope ${e.scope.slice(0, 12)}… until ${new Date(e.notAfter * 1000).toISOString()}`;
    case 'revoked':
      return `block ${e.block}  consent revoked from ${e.grantee} scope ${e.scope.slice(0, 12)}…`;
    case 'break-glass':
      return `block ${e.block}  BREAK-GLASS${e.drill ? ' (drill)' : ''} by ${e.clinician} until ${new Date(e.notAfter * 1000).toISOString()}`;
  }
}

/** Follows the patient's events: polls new blocks every `intervalMs` until `signal` aborts. */
export async function watchPatient(
  c: ChainContracts,
  patient: Address,
  fromBlock: number,
  onEvent: (e: PatientEvent) => void,
  o: { intervalMs?: number; signal: AbortSignal },
): Promise<void> {
  let next = fromBlock;
  while (!o.signal.aborted) {
    const head = Number(await c.clients.publicClient.getBlockNumber());
    if (head >= next) {
      for (const e of await patientEvents(c, patient, next, head)) onEvent(e);
      next = head + 1;
    }
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 1000));
  }
}
