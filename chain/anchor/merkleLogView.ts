/**
 * LogView over protocol/merkle's in-memory `MerkleLog` plus a per-leaf patient ref
 * lookup: what tests and benchmarks anchor, and a template for the agent's own view.
 */
import type { Hex } from 'viem';
import type { MerkleLog } from '../../protocol/merkle/index.ts';
import type { LogView } from './types.ts';

export function merkleLogView(log: MerkleLog, patientRefOf: (leafIndex: number) => Hex | undefined): LogView {
  return {
    size: () => log.size,
    root: (size) => log.root(size),
    consistencyProof: (a, b) => log.consistencyProof(a, b),
    patientRefsBetween: (a, b) => {
      const refs = new Set<Hex>();
      for (let i = a; i < b; i++) {
        const ref = patientRefOf(i);
        if (ref !== undefined) refs.add(ref.toLowerCase() as Hex);
      }
      return [...refs];
    },
  };
}
