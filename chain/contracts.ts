/**
 * Typed helpers over the three contracts. Writes are signed locally by the clients'
 * account; `send*` returns as soon as the node accepted the transaction (so a caller
 * can record the hash first), the plain method also waits for the receipt.
 * Every failure is a ChainError (CHAIN_TX_REVERTED carries the Solidity error name).
 */
import { BaseError, BlockNotFoundError, TransactionNotFoundError, TransactionReceiptNotFoundError, type Address, type Hex } from 'viem';
import { consentAbi, ledgerAbi, registrarAbi } from './abi.ts';
import type { ChainClients } from './client.ts';
import { ChainError } from './errors.ts';
import { pollReceipt } from './receipt.ts';
import { toChainError } from './viemErrors.ts';

export interface ContractAddresses {
  registrar: Address;
  consent: Address;
  ledger: Address;
}

export const ROLE = {
  None: 0,
  Patient: 1,
  Provider: 2,
  Agent: 3,
  Clinician: 4,
  EmergencyClinician: 5,
  Researcher: 6,
} as const;
export type RoleName = keyof typeof ROLE;
const ROLE_NAMES = Object.keys(ROLE) as RoleName[];

export interface Registration {
  id: Hex;
  pubKey: Hex;
  logId: Hex;
  role: RoleName;
  revoked: boolean;
  registeredAt: number;
}

export interface TxResult {
  txHash: Hex;
  blockNumber: number;
  blockHash: Hex;
  gasUsed: bigint;
  effectiveGasPrice: bigint;
}

export interface SentTx {
  txHash: Hex;
  /** Waits for the receipt; CHAIN_TX_REVERTED if it failed, CHAIN_TX_TIMEOUT after `timeoutMs`. */
  wait(timeoutMs?: number): Promise<TxResult>;
}

export interface LatestHead {
  treeSize: number;
  root: Hex;
  blockNumber: number;
  timestamp: number;
  count: number;
}

export interface AnchoredEvent {
  logId: Hex;
  treeSize: number;
  root: Hex;
  prevTreeSize: number;
  txHash: Hex;
  blockNumber: number;
  blockHash: Hex;
  logIndex: number;
}

export interface UpdatedEvent {
  patientRef: Hex;
  logId: Hex;
  treeSize: number;
  txHash: Hex;
  blockNumber: number;
}

export interface BreakGlassEvent {
  patientRef: Hex;
  patient: Address;
  clinician: Address;
  reasonHash: Hex;
  notAfter: number;
  txHash: Hex;
  blockNumber: number;
}

export interface EventRange {
  fromBlock?: number;
  toBlock?: number;
}

const DEFAULT_RECEIPT_TIMEOUT_MS = 30_000;

function blockRange(r: EventRange | undefined): { fromBlock: bigint | 'earliest'; toBlock: bigint | 'latest' } {
  return {
    fromBlock: r?.fromBlock === undefined ? 'earliest' : BigInt(r.fromBlock),
    toBlock: r?.toBlock === undefined ? 'latest' : BigInt(r.toBlock),
  };
}

/** A clock reading (Unix seconds) as the contracts' uint64; refuses what is not one. */
function clockArg(atSec: number): bigint {
  if (!Number.isSafeInteger(atSec) || atSec < 0)
    throw new ChainError('CHAIN_BAD_ARGUMENT', 'a clock reading must be a non-negative integer of seconds');
  return BigInt(atSec);
}

export class ChainContracts {
  constructor(
    readonly clients: ChainClients,
    readonly addresses: ContractAddresses,
  ) {}

  get address(): Address {
    return this.clients.account.address;
  }

  // ---------------------------------------------------------------- transactions

  private async submit(what: string, send: () => Promise<Hex>): Promise<SentTx> {
    let txHash: Hex;
    try {
      txHash = await send();
    } catch (e) {
      // A failed send may leave the local nonce counter ahead of the node.
      this.clients.resetNonce();
      throw toChainError(e, what);
    }
    return { txHash, wait: (timeoutMs) => this.waitFor(txHash, what, timeoutMs) };
  }

  /** Waits for the receipt of any transaction and checks its status (see receipt.ts). */
  async waitFor(txHash: Hex, what = 'transaction', timeoutMs = DEFAULT_RECEIPT_TIMEOUT_MS): Promise<TxResult> {
    const receipt = await pollReceipt(this.p, txHash, { timeoutMs, pollingIntervalMs: this.clients.pollingIntervalMs, what });
    if (receipt.status !== 'success') throw new ChainError('CHAIN_TX_REVERTED', `${what} reverted in block ${receipt.blockNumber}`);
    return {
      txHash,
      blockNumber: Number(receipt.blockNumber),
      blockHash: receipt.blockHash,
      gasUsed: receipt.gasUsed,
      effectiveGasPrice: receipt.effectiveGasPrice,
    };
  }

  private async read<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      throw toChainError(e, what);
    }
  }

  private get w() {
    return this.clients.walletClient;
  }

  private get p() {
    return this.clients.publicClient;
  }

  // ---------------------------------------------------------------- Registrar

  async sendRegisterPatient(id: Hex, pubKey: Hex): Promise<SentTx> {
    return this.submit('registerPatient', () =>
      this.w.writeContract({ address: this.addresses.registrar, abi: registrarAbi, functionName: 'registerPatient', args: [id, pubKey] }),
    );
  }
  async registerPatient(id: Hex, pubKey: Hex): Promise<TxResult> {
    return (await this.sendRegisterPatient(id, pubKey)).wait();
  }

  /** Admin only: providers, clinicians, emergency clinicians, researchers. */
  async register(account: Address, id: Hex, role: RoleName, pubKey: Hex): Promise<TxResult> {
    const sent = await this.submit('register', () =>
      this.w.writeContract({
        address: this.addresses.registrar,
        abi: registrarAbi,
        functionName: 'register',
        args: [account, id, ROLE[role], pubKey],
      }),
    );
    return sent.wait();
  }

  /** Admin only: binds an agent account to its log. */
  async registerAgent(account: Address, id: Hex, logId: Hex, pubKey: Hex): Promise<TxResult> {
    const sent = await this.submit('registerAgent', () =>
      this.w.writeContract({
        address: this.addresses.registrar,
        abi: registrarAbi,
        functionName: 'registerAgent',
        args: [account, id, logId, pubKey],
      }),
    );
    return sent.wait();
  }

  async rotateKey(newPubKey: Hex): Promise<TxResult> {
    const sent = await this.submit('rotateKey', () =>
      this.w.writeContract({ address: this.addresses.registrar, abi: registrarAbi, functionName: 'rotateKey', args: [newPubKey] }),
    );
    return sent.wait();
  }

  async moveAccount(oldAccount: Address, newAccount: Address): Promise<TxResult> {
    const sent = await this.submit('moveAccount', () =>
      this.w.writeContract({
        address: this.addresses.registrar,
        abi: registrarAbi,
        functionName: 'moveAccount',
        args: [oldAccount, newAccount],
      }),
    );
    return sent.wait();
  }

  async revokeRegistration(account: Address): Promise<TxResult> {
    const sent = await this.submit('revokeRegistration', () =>
      this.w.writeContract({ address: this.addresses.registrar, abi: registrarAbi, functionName: 'revoke', args: [account] }),
    );
    return sent.wait();
  }

  async setAdmin(newAdmin: Address): Promise<TxResult> {
    const sent = await this.submit('setAdmin', () =>
      this.w.writeContract({ address: this.addresses.registrar, abi: registrarAbi, functionName: 'setAdmin', args: [newAdmin] }),
    );
    return sent.wait();
  }

  async admin(): Promise<Address> {
    return this.read('admin', () => this.p.readContract({ address: this.addresses.registrar, abi: registrarAbi, functionName: 'admin' }));
  }

  async registration(account: Address): Promise<Registration> {
    const r = await this.read('registration', () =>
      this.p.readContract({ address: this.addresses.registrar, abi: registrarAbi, functionName: 'registration', args: [account] }),
    );
    return {
      id: r.id,
      pubKey: r.pubKey,
      logId: r.logId,
      role: ROLE_NAMES[r.role] ?? 'None',
      revoked: r.revoked,
      registeredAt: Number(r.registeredAt),
    };
  }

  async isActive(account: Address): Promise<boolean> {
    return this.read('isActive', () =>
      this.p.readContract({ address: this.addresses.registrar, abi: registrarAbi, functionName: 'isActive', args: [account] }),
    );
  }

  async hasRole(account: Address, role: RoleName): Promise<boolean> {
    return this.read('hasRole', () =>
      this.p.readContract({ address: this.addresses.registrar, abi: registrarAbi, functionName: 'hasRole', args: [account, ROLE[role]] }),
    );
  }

  async activeAgentOf(logId: Hex): Promise<Address> {
    return this.read('activeAgentOf', () =>
      this.p.readContract({ address: this.addresses.registrar, abi: registrarAbi, functionName: 'activeAgentOf', args: [logId] }),
    );
  }

  // ---------------------------------------------------------------- Consent

  /** The caller (a patient) lets `grantee` read `scope` until `notAfter` (Unix seconds, inclusive). */
  async grant(grantee: Address, scope: Hex, notAfter: number): Promise<TxResult> {
    const sent = await this.submit('grant', () =>
      this.w.writeContract({
        address: this.addresses.consent,
        abi: consentAbi,
        functionName: 'grant',
        args: [grantee, scope, BigInt(notAfter)],
      }),
    );
    return sent.wait();
  }

  async revokeGrant(grantee: Address, scope: Hex): Promise<TxResult> {
    const sent = await this.submit('revokeGrant', () =>
      this.w.writeContract({ address: this.addresses.consent, abi: consentAbi, functionName: 'revoke', args: [grantee, scope] }),
    );
    return sent.wait();
  }

  /** Emergency clinicians only; `reasonHash` = hash of the recorded reason (never the reason). */
  async breakGlass(patient: Address, reasonHash: Hex): Promise<TxResult> {
    const sent = await this.submit('breakGlass', () =>
      this.w.writeContract({ address: this.addresses.consent, abi: consentAbi, functionName: 'breakGlass', args: [patient, reasonHash] }),
    );
    return sent.wait();
  }

  async hasAccess(patient: Address, grantee: Address, scope: Hex): Promise<boolean> {
    return this.read('hasAccess', () =>
      this.p.readContract({ address: this.addresses.consent, abi: consentAbi, functionName: 'hasAccess', args: [patient, grantee, scope] }),
    );
  }

  async canRead(patient: Address, grantee: Address, sensorScope: Hex, sessionScope: Hex): Promise<boolean> {
    return this.read('canRead', () =>
      this.p.readContract({
        address: this.addresses.consent,
        abi: consentAbi,
        functionName: 'canRead',
        args: [patient, grantee, sensorScope, sessionScope],
      }),
    );
  }

  /**
   * hasAccess as of `atSec` (the caller's clock, Unix seconds) or the latest block's time,
   * whichever is later: an idle chain's block time lags the wall clock, so readers that
   * enforce expiry pass their own clock (it can only make the check stricter).
   */
  async hasAccessAt(patient: Address, grantee: Address, scope: Hex, atSec: number): Promise<boolean> {
    return this.read('hasAccessAt', () =>
      this.p.readContract({
        address: this.addresses.consent,
        abi: consentAbi,
        functionName: 'hasAccessAt',
        args: [patient, grantee, scope, clockArg(atSec)],
      }),
    );
  }

  /** canRead as of `atSec` or the latest block's time, whichever is later (see hasAccessAt). */
  async canReadAt(patient: Address, grantee: Address, sensorScope: Hex, sessionScope: Hex, atSec: number): Promise<boolean> {
    return this.read('canReadAt', () =>
      this.p.readContract({
        address: this.addresses.consent,
        abi: consentAbi,
        functionName: 'canReadAt',
        args: [patient, grantee, sensorScope, sessionScope, clockArg(atSec)],
      }),
    );
  }

  async grantExpiry(patient: Address, grantee: Address, scope: Hex): Promise<number> {
    const v = await this.read('grantExpiry', () =>
      this.p.readContract({
        address: this.addresses.consent,
        abi: consentAbi,
        functionName: 'grantExpiry',
        args: [patient, grantee, scope],
      }),
    );
    return Number(v);
  }

  async emergencyAccessUntil(patient: Address, clinician: Address): Promise<number> {
    const v = await this.read('emergencyAccessUntil', () =>
      this.p.readContract({
        address: this.addresses.consent,
        abi: consentAbi,
        functionName: 'emergencyAccessUntil',
        args: [patient, clinician],
      }),
    );
    return Number(v);
  }

  async breakGlassCount(patient: Address): Promise<number> {
    const v = await this.read('breakGlassCount', () =>
      this.p.readContract({ address: this.addresses.consent, abi: consentAbi, functionName: 'breakGlassCount', args: [patient] }),
    );
    return Number(v);
  }

  async breakGlassEvents(filter: { patient?: Address; patientRef?: Hex } & EventRange = {}): Promise<BreakGlassEvent[]> {
    const logs = await this.read('breakGlassEvents', () =>
      this.p.getContractEvents({
        address: this.addresses.consent,
        abi: consentAbi,
        eventName: 'BreakGlass',
        args: { ...(filter.patient ? { patient: filter.patient } : {}), ...(filter.patientRef ? { patientRef: filter.patientRef } : {}) },
        ...blockRange(filter),
        strict: true,
      }),
    );
    return logs.map((l) => ({
      patientRef: l.args.patientRef,
      patient: l.args.patient,
      clinician: l.args.clinician,
      reasonHash: l.args.reasonHash,
      notAfter: Number(l.args.notAfter),
      txHash: l.transactionHash,
      blockNumber: Number(l.blockNumber),
    }));
  }

  // ---------------------------------------------------------------- Ledger

  async sendAnchor(logId: Hex, treeSize: number, root: Hex, patientRefs: readonly Hex[]): Promise<SentTx> {
    return this.submit('anchor', () =>
      this.w.writeContract({
        address: this.addresses.ledger,
        abi: ledgerAbi,
        functionName: 'anchor',
        args: [logId, BigInt(treeSize), root, patientRefs],
      }),
    );
  }

  async anchor(logId: Hex, treeSize: number, root: Hex, patientRefs: readonly Hex[]): Promise<TxResult> {
    return (await this.sendAnchor(logId, treeSize, root, patientRefs)).wait();
  }

  /** Anchors only if the chain's latest size for `logId` is `prevTreeSize` (StaleHead otherwise). */
  async sendAnchorAfter(logId: Hex, prevTreeSize: number, treeSize: number, root: Hex, patientRefs: readonly Hex[]): Promise<SentTx> {
    return this.submit('anchorAfter', () =>
      this.w.writeContract({
        address: this.addresses.ledger,
        abi: ledgerAbi,
        functionName: 'anchorAfter',
        args: [logId, BigInt(prevTreeSize), BigInt(treeSize), root, patientRefs],
      }),
    );
  }

  async anchorAfter(logId: Hex, prevTreeSize: number, treeSize: number, root: Hex, patientRefs: readonly Hex[]): Promise<TxResult> {
    return (await this.sendAnchorAfter(logId, prevTreeSize, treeSize, root, patientRefs)).wait();
  }

  async latest(logId: Hex): Promise<LatestHead> {
    const [treeSize, root, blockNumber, timestamp, count] = await this.read('latest', () =>
      this.p.readContract({ address: this.addresses.ledger, abi: ledgerAbi, functionName: 'latest', args: [logId] }),
    );
    return { treeSize: Number(treeSize), root, blockNumber: Number(blockNumber), timestamp: Number(timestamp), count: Number(count) };
  }

  async anchoredEvents(logId: Hex, filter: { treeSize?: number } & EventRange = {}): Promise<AnchoredEvent[]> {
    const logs = await this.read('anchoredEvents', () =>
      this.p.getContractEvents({
        address: this.addresses.ledger,
        abi: ledgerAbi,
        eventName: 'Anchored',
        args: { logId, ...(filter.treeSize !== undefined ? { treeSize: BigInt(filter.treeSize) } : {}) },
        ...blockRange(filter),
        strict: true,
      }),
    );
    return logs.map((l) => ({
      logId: l.args.logId,
      treeSize: Number(l.args.treeSize),
      root: l.args.root,
      prevTreeSize: Number(l.args.prevTreeSize),
      txHash: l.transactionHash,
      blockNumber: Number(l.blockNumber),
      blockHash: l.blockHash,
      logIndex: l.logIndex,
    }));
  }

  async updatedEvents(filter: { patientRef?: Hex; logId?: Hex } & EventRange = {}): Promise<UpdatedEvent[]> {
    const logs = await this.read('updatedEvents', () =>
      this.p.getContractEvents({
        address: this.addresses.ledger,
        abi: ledgerAbi,
        eventName: 'Updated',
        args: { ...(filter.patientRef ? { patientRef: filter.patientRef } : {}), ...(filter.logId ? { logId: filter.logId } : {}) },
        ...blockRange(filter),
        strict: true,
      }),
    );
    return logs.map((l) => ({
      patientRef: l.args.patientRef,
      logId: l.args.logId,
      treeSize: Number(l.args.treeSize),
      txHash: l.transactionHash,
      blockNumber: Number(l.blockNumber),
    }));
  }

  /** Receipt of a mined transaction, or undefined if the node does not know it as mined. */
  async receiptOf(txHash: Hex): Promise<TxResult | undefined> {
    try {
      const r = await this.p.getTransactionReceipt({ hash: txHash });
      return {
        txHash,
        blockNumber: Number(r.blockNumber),
        blockHash: r.blockHash,
        gasUsed: r.gasUsed,
        effectiveGasPrice: r.effectiveGasPrice,
      };
    } catch (e) {
      if (e instanceof BaseError && e.walk((x) => x instanceof TransactionReceiptNotFoundError)) return undefined;
      throw toChainError(e, 'receipt');
    }
  }

  /** True if the node holds `txHash` in its pool or chain. */
  async isKnownTransaction(txHash: Hex): Promise<boolean> {
    try {
      await this.p.getTransaction({ hash: txHash });
      return true;
    } catch (e) {
      if (e instanceof BaseError && e.walk((x) => x instanceof TransactionNotFoundError)) return false;
      throw toChainError(e, 'transaction');
    }
  }

  async blockHashAt(blockNumber: number): Promise<Hex | undefined> {
    try {
      const b = await this.p.getBlock({ blockNumber: BigInt(blockNumber) });
      return b.hash;
    } catch (e) {
      if (e instanceof BaseError && e.walk((x) => x instanceof BlockNotFoundError)) return undefined;
      throw toChainError(e, 'block');
    }
  }
}
