/**
 * Interfaces between the anchor service and the agent. All methods may be synchronous
 * or return promises (the service always awaits them).
 */
import type { Hex } from 'viem';

export type Awaitable<T> = T | Promise<T>;

/**
 * What the anchor service reads from the agent's RFC 6962 log. Only committed
 * (durably stored) leaves may be counted by `size()`.
 */
export interface LogView {
  /** Number of committed leaves. */
  size(): Awaitable<number>;
  /** RFC 6962 root (32 bytes) of the first `size` leaves; `size` ≤ size(). */
  root(size: number): Awaitable<Uint8Array>;
  /** RFC 6962 consistency proof from the tree of `a` leaves to the tree of `b` leaves (a ≤ b ≤ size()). */
  consistencyProof(a: number, b: number): Awaitable<Uint8Array[]>;
  /**
   * Distinct patient refs (bytes32 pseudonyms, 0x-hex) of the leaves with index in [a, b):
   * the patients that the anchor of head `b` notifies with `Updated` events.
   */
  patientRefsBetween(a: number, b: number): Awaitable<Hex[]>;
}

/** A head written before its transaction is sent; at most one per log. */
export interface PendingAnchor {
  status: 'pending';
  /** 'new': a head never confirmed (may be replaced by a newer head if it never reached
   *  the chain); 'reanchor': a confirmed head the chain lost, re-sent exactly as it was. */
  kind: 'new' | 'reanchor';
  logId: Hex;
  treeSize: number;
  root: Hex;
  createdAt: number;
  /** Hash of the last transaction sent for it (null until sent). */
  txHash: Hex | null;
  sentAt: number | null;
  /** How many times this head was confirmed on-chain before (re-anchors). */
  anchorCount: number;
}

/** A head whose anchoring transaction is in the block that currently holds it. */
export interface ConfirmedAnchor {
  status: 'confirmed';
  logId: Hex;
  treeSize: number;
  root: Hex;
  /** Chain's latest size for the log just before this anchor. */
  prevTreeSize: number;
  txHash: Hex;
  blockNumber: number;
  blockHash: Hex;
  createdAt: number;
  confirmedAt: number;
  /** Times it was confirmed (> 1 after re-anchoring following a chain rewind). */
  anchorCount: number;
}

export type AnchorRecord = PendingAnchor | ConfirmedAnchor;

export interface ConfirmedTx {
  txHash: Hex;
  blockNumber: number;
  blockHash: Hex;
  prevTreeSize: number;
  confirmedAt: number;
}

/**
 * Durable anchor bookkeeping. Every write must be durable when it returns (the SQLite
 * implementation relies on the agent's WAL + synchronous=FULL database).
 */
export interface AnchorStore {
  /** The pending head of the log, if any. */
  pending(logId: Hex): Awaitable<PendingAnchor | undefined>;
  /** The confirmed head with the largest tree size. */
  lastConfirmed(logId: Hex): Awaitable<ConfirmedAnchor | undefined>;
  get(logId: Hex, treeSize: number): Awaitable<AnchorRecord | undefined>;
  /** Confirmed heads with treeSize > `after`, ascending. */
  confirmedAfter(logId: Hex, after: number): Awaitable<ConfirmedAnchor[]>;
  /** Every record of the log, ascending by tree size. */
  list(logId: Hex): Awaitable<AnchorRecord[]>;
  /** The confirmed head that first covers leaf `leafIndex` (smallest treeSize > leafIndex):
   *  the anchor reference of an inclusion proof. */
  coveringAnchor(logId: Hex, leafIndex: number): Awaitable<ConfirmedAnchor | undefined>;
  /** Records a new head before sending it (ANCHOR_STORE_INVALID if one is pending). */
  addPending(p: { logId: Hex; treeSize: number; root: Hex; createdAt: number }): Awaitable<void>;
  /** Turns a confirmed head the chain lost back into a pending 'reanchor'. A larger head
   *  still pending 'reanchor' goes back to confirmed first (it is re-anchored after this one). */
  markReanchoring(logId: Hex, treeSize: number): Awaitable<void>;
  /** Records the hash of the transaction just sent for the pending head. */
  setSent(logId: Hex, treeSize: number, txHash: Hex, sentAt: number): Awaitable<void>;
  /** The pending head (or a confirmed head whose block moved) is in `tx`. */
  confirm(logId: Hex, treeSize: number, tx: ConfirmedTx): Awaitable<void>;
  /** A head found on-chain that the store lacked (crash between send and record). */
  adopt(rec: { logId: Hex; treeSize: number; root: Hex; createdAt: number } & ConfirmedTx): Awaitable<void>;
  /** Forgets a pending 'new' head that never reached the chain. */
  dropPending(logId: Hex, treeSize: number): Awaitable<void>;
}
