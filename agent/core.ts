import { join } from 'node:path';
import type { Logger } from 'pino';
import { toHex, fromHex } from '../protocol/bytes.ts';
import { merkleRoot } from '../protocol/merkle/index.ts';
import type { Clock } from '../protocol/rng.ts';
import { decodeEnvelopeHeaderView } from '../protocol/envelope/index.ts';
import type { ServedAnchor, ServedRecord } from '../protocol/api/servedRecord.ts';
import { isDeviceId } from '../protocol/deviceId.ts';
import { sha256Native } from './ingest/hashes.ts';
import { decodeTicket, verifyTicket } from '../protocol/ticket/index.ts';
import { AgentError } from './errors.ts';
import { migrateAnchorTables } from '../chain/anchor/sqliteAnchorStore.ts';
import { loadOrCreateIdentity, type AgentIdentity } from './identity.ts';
import { Ingestor } from './ingest/ingestor.ts';
import type { EnvelopeDecoder, IngestObserver } from './ingest/types.ts';
import { AgentMetrics } from './metrics.ts';
import { openDatabase, type Db } from './store/db.ts';
import type { Statement } from 'better-sqlite3';
import { AgentStore } from './store/agentStore.ts';
import { WalSync } from './store/walSync.ts';
import { InlineWriter, type StoreWriter } from './store/storeWriter.ts';
import { ThreadWriter, type WriterDurability } from './store/writerThread.ts';
import type { ExtraMigration } from './store/migrations.ts';
import { IdentityKeyStore } from './custody/identityKeys.ts';
import { DeviceStatusBook } from './deviceStatus.ts';
import type { StoreFault } from './store/storeFault.ts';

export interface AgentCoreOptions {
  dataDir: string;
  clock: Clock;
  logger: Logger;
  maxEnvelopeBytes: number;
  maxFutureSkewMs: number;
  quarantineMaxRows: number;
  /** Quarantine rows per device hint (default 1,000; AgentConfig ingest.quarantineMaxRowsPerDevice). */
  quarantineMaxRowsPerDevice?: number;
  /** Largest accepted seq jump (default 1,000,000; AgentConfig ingest.maxSeqJump). */
  maxSeqJump?: number;
  /** Quarantine every base-mode reading (AgentConfig ingest.requireAuthMode; default false). */
  requireAuthMode?: boolean;
  /** Durability of an acknowledged reading (see AgentConfig ingest.synchronous); default 'full'. */
  synchronous?: WriterDurability;
  /** Where group commits run (see AgentConfig ingest.writer); default 'thread'. */
  writer?: 'thread' | 'inline';
  /** Ward authority's Ed25519 key: when set, pushed tickets must carry its signature. */
  authorityPublicKey?: Uint8Array | undefined;
  extraMigrations?: readonly ExtraMigration[];
  defaultMetrics?: boolean;
}

/** Publishes a ticket to its device (embedded broker: retained on vs/v1/<dev>/ticket). */
export type TicketPublisher = (device: string, ticket: Uint8Array) => Promise<void>;

/** The strict key-less decode (canonical fast path, strict decoder otherwise) with a native SHA-256 for the record id. */
export const decodeEnvelopeHeader: EnvelopeDecoder = (bytes, maxBytes) =>
  decodeEnvelopeHeaderView(bytes, { maxBytes, sha256: sha256Native });

/**
 * Everything of the agent that is not a transport: store, ingest pipeline, log, identity,
 * metrics. Transports (embedded broker, external subscriber, serial ports) feed `ingestor`.
 */
export class AgentCore {
  readonly db: Db;
  readonly store: AgentStore;
  /** Device identity keys the operator registered (issue #20): the ward certifies the current one in each ticket. */
  readonly identityKeys: IdentityKeyStore;
  /** What provisioned devices last reported in their status (every transport): refusals counted and logged. */
  readonly deviceStatus: DeviceStatusBook;
  private ticketByKid: Statement<[string, Uint8Array], { ticket: Buffer }> | undefined;
  readonly ingestor: Ingestor;
  readonly metrics: AgentMetrics;
  readonly identity: AgentIdentity;
  readonly logger: Logger;
  readonly clock: Clock;
  private ticketPublishers: TicketPublisher[] = [];
  private readonly revocationListeners: Array<(device: string) => void> = [];
  private readonly walSync: WalSync | undefined;
  private readonly storeWriter: StoreWriter;
  private readonly authorityPublicKey: Uint8Array | undefined;

  constructor(o: AgentCoreOptions) {
    this.clock = o.clock;
    this.logger = o.logger;
    this.identity = loadOrCreateIdentity(o.dataDir);
    const dbFile = join(o.dataDir, 'agent.sqlite');
    const durability = o.synchronous ?? 'full';
    // 'full': SQLite commits without syncing, then the WAL is fdatasync'd (writer thread, or the thread pool
    // when inline) before anything is acknowledged; 'sqlite-full': SQLite fsyncs inside each COMMIT
    this.db = openDatabase(dbFile, [migrateAnchorTables, ...(o.extraMigrations ?? [])], durability === 'sqlite-full' ? 'full' : 'normal');
    if ((o.writer ?? 'thread') === 'thread') {
      this.storeWriter = new ThreadWriter(dbFile, durability);
    } else {
      this.walSync = durability === 'full' ? new WalSync(`${dbFile}-wal`) : undefined;
      this.storeWriter = new InlineWriter(this.db, this.walSync);
    }
    this.store = new AgentStore(this.db);
    this.store.setAllOffline();
    this.metrics = new AgentMetrics({ defaultMetrics: o.defaultMetrics ?? true });
    this.authorityPublicKey = o.authorityPublicKey;
    this.ingestor = new Ingestor({
      store: this.store,
      decode: decodeEnvelopeHeader,
      clock: o.clock,
      maxEnvelopeBytes: o.maxEnvelopeBytes,
      maxFutureSkewMs: o.maxFutureSkewMs,
      quarantineMaxRows: o.quarantineMaxRows,
      ...(o.quarantineMaxRowsPerDevice !== undefined ? { quarantineMaxRowsPerDevice: o.quarantineMaxRowsPerDevice } : {}),
      ...(o.maxSeqJump !== undefined ? { maxSeqJump: o.maxSeqJump } : {}),
      ...(o.requireAuthMode !== undefined ? { requireAuthMode: o.requireAuthMode } : {}),
      observer: this.withStoreHealthLog(this.metrics.ingestObserver()),
      writer: this.storeWriter,
    });
    this.metrics.logSize.set(this.ingestor.size);
    this.identityKeys = new IdentityKeyStore(this.db);
    for (const k of this.identityKeys.revokedKeys()) this.ingestor.revokeIdentityKey(k.idk);
    this.deviceStatus = new DeviceStatusBook({
      metrics: this.metrics,
      logger: this.logger,
      clock: this.clock,
      // a device the agent knows: provisioned, or one the ward issued a ticket for (external broker mode
      // provisions on the broker, not here); a revoked device's status is not its word any more
      known: (device) =>
        (this.store.getDevice(device) !== undefined || this.store.latestTicket(device) !== undefined) && !this.ingestor.isRevoked(device),
    });
  }

  addTicketPublisher(p: TicketPublisher): void {
    this.ticketPublishers.push(p);
  }

  /** /healthz: not ok while group commits fail (`error`: STORE_FULL, STORE_SYNC_FAILED or STORE_COMMIT_FAILED, since when). */
  health(): { ok: boolean; logSize: number; records: number; pending: number; logId: string; error?: string; failingSince?: number } {
    const s = this.ingestor.storeHealth;
    return {
      ok: s.kind === 'healthy',
      ...(s.kind === 'failing' ? { error: s.code, failingSince: s.since } : {}),
      logSize: this.ingestor.size,
      records: this.ingestor.records,
      pending: this.ingestor.pending,
      logId: toHex(this.identity.logId),
    };
  }

  /**
   * Fault injection for tests only (no configuration or route reaches it): plays a full disk (a real
   * SQLITE_FULL on the writer's connection) or a failing fdatasync until `{ kind: 'none' }`.
   */
  injectStoreFault(fault: StoreFault): void {
    this.storeWriter.injectFault(fault);
  }

  /** The store's health changes, logged: an error line with the cause when commits start failing (no payload), info when they succeed again. */
  private withStoreHealthLog(o: IngestObserver): IngestObserver {
    return {
      ...o,
      onStoreHealth: (h, prev) => {
        o.onStoreHealth?.(h, prev);
        if (h.kind === 'failing') {
          this.logger.error(
            { code: h.code, cause: h.error.message, since: h.since },
            'store commits fail: no reading is acknowledged until a commit succeeds',
          );
        } else if (prev.kind === 'failing') {
          this.logger.info(
            { code: prev.code, failures: prev.failures, failingMs: this.clock.now() - prev.since },
            'store commits succeed again',
          );
        }
      },
    };
  }

  refreshGauges(): void {
    this.metrics.logSize.set(this.ingestor.size);
  }

  signedTreeHead(size = this.ingestor.size): { size: number; root: Uint8Array; sth: Uint8Array } {
    const root = this.ingestor.log.root(size);
    return { size, root, sth: this.identity.signTreeHead(size, root, this.clock.now()) };
  }

  signedTreeHeadJson(): { logId: string; publicKey: string; size: number; root: string; sth: string } {
    const h = this.signedTreeHead();
    return {
      logId: toHex(this.identity.logId),
      publicKey: toHex(this.identity.publicKey),
      size: h.size,
      root: toHex(h.root),
      sth: Buffer.from(h.sth).toString('base64'),
    };
  }

  /** Set when the agent anchors on a chain: the anchored head covering a leaf. */
  anchorFor: ((leafIndex: number) => Promise<ServedAnchor | undefined>) | undefined;

  /** A record as the agent serves it (protocol/api/servedRecord.ts), proved against `treeSize`. */
  async recordWithProof(idHex: string, treeSize?: number): Promise<ServedRecord> {
    const rec = this.store.getRecord(fromHex(idHex));
    if (!rec) throw new AgentError('AGENT_NOT_FOUND', 'no such record');
    // default: prove against the anchored head that covers the record (checkable on-chain), else the current head
    const anchor = this.anchorFor ? await this.anchorFor(rec.leafIndex) : undefined;
    const size = treeSize ?? anchor?.treeSize ?? this.ingestor.size;
    if (size <= rec.leafIndex || size > this.ingestor.size)
      throw new AgentError('AGENT_BAD_REQUEST', 'treeSize does not contain this record');
    return {
      recordId: idHex,
      device: rec.device,
      seq: rec.seq,
      ts: rec.ts,
      st: rec.st,
      kid: toHex(rec.kid),
      leafIndex: rec.leafIndex,
      treeSize: size,
      envelope: Buffer.from(rec.envelope).toString('base64'),
      inclusionProof: this.ingestor.log.inclusionProof(rec.leafIndex, size).map(toHex),
      root: toHex(this.ingestor.log.root(size)),
      anchor: anchor && anchor.treeSize === size ? anchor : null,
      ...this.ticketOfRecord(rec.device, rec.kid),
    };
  }

  /** The ward-signed ticket of (device, kid), base64: readers verify the reading's origin against its idk (§11.5). */
  private ticketOfRecord(device: string, kid: Uint8Array): { ticket?: string } {
    this.ticketByKid ??= this.db.prepare<[string, Uint8Array], { ticket: Buffer }>(
      'SELECT ticket FROM tickets WHERE device = ? AND kid = ?',
    );
    const row = this.ticketByKid.get(device, kid);
    return row ? { ticket: Buffer.from(row.ticket).toString('base64') } : {};
  }

  consistencyJson(from: number, to?: number): { from: number; to: number; proof: string[] } {
    const end = to ?? this.ingestor.size;
    if (end > this.ingestor.size) throw new AgentError('AGENT_BAD_REQUEST', 'tree size is beyond the current (durable) log');
    return { from, to: end, proof: this.ingestor.log.consistencyProof(from, end).map(toHex) };
  }

  provisionDevice(id: string): { id: string; secret: string } {
    if (!isDeviceId(id)) throw new AgentError('AGENT_BAD_REQUEST', 'not a device id');
    const secret = this.store.provisionDevice(id, this.clock.now()); // clears a revocation: new credentials
    this.ingestor.reinstateDevice(id);
    this.logger.info({ device: id }, 'device provisioned');
    return { id, secret };
  }

  /** A transport's way to cut a revoked device off at once (close its connection, tell its serial line). */
  addRevocationListener(l: (device: string) => void): void {
    this.revocationListeners.push(l);
  }

  /**
   * Revokes a device: its credentials stop working (stored flag), every reading of it judged from
   * now on is quarantined (AGENT_DEVICE_REVOKED), and each transport cuts it off where it can.
   * Throws AGENT_NOT_FOUND for an unknown device. Provisioning it again (new secret) undoes this.
   */
  revokeDevice(id: string): void {
    if (!this.store.revokeDevice(id)) throw new AgentError('AGENT_NOT_FOUND', 'no such device');
    this.ingestor.revokeDevice(id);
    for (const l of this.revocationListeners) {
      try {
        l(id);
      } catch (e) {
        this.logger.warn({ device: id, err: (e as Error).message }, 'a transport could not cut off a revoked device');
      }
    }
    this.logger.info({ device: id }, 'device revoked');
  }

  /** Stores a session ticket (its kid becomes valid for the device) and publishes it retained. */
  async pushTicket(ticket: Uint8Array): Promise<{ device: string; kid: string; patient: string }> {
    const t = decodeTicket(ticket);
    if (this.authorityPublicKey) verifyTicket(ticket, { authorityPublicKey: this.authorityPublicKey, deviceId: t.dev, clock: this.clock });
    const info = { device: t.dev, kid: t.kid, patient: t.patient, nbf: t.nbf, exp: t.exp, ticket, pushedAt: this.clock.now() };
    this.store.ensureDevice(t.dev, info.pushedAt);
    this.store.saveTicket(info);
    this.ingestor.rememberTicket(t.dev, t.kid, info);
    for (const p of this.ticketPublishers) await p(t.dev, ticket);
    this.logger.info({ device: t.dev, kid: toHex(t.kid) }, 'session ticket pushed');
    return { device: t.dev, kid: toHex(t.kid), patient: t.patient };
  }

  /** Recomputes the root from the stored leaves (audit) and compares with the node store's root. */
  auditLog(): { size: number; storedRoot: string; recomputedRoot: string; ok: boolean } {
    const size = this.ingestor.log.size;
    const leaves: Uint8Array[] = [];
    for (let from = 0; from < size; from += 10_000) leaves.push(...this.store.leafHashes(from, 10_000));
    const recomputed = merkleRoot(leaves);
    const stored = this.ingestor.log.root();
    return {
      size,
      storedRoot: toHex(stored),
      recomputedRoot: toHex(recomputed),
      ok: toHex(stored) === toHex(recomputed) && leaves.length === size,
    };
  }

  async close(): Promise<void> {
    await this.ingestor.close();
    await this.storeWriter.close();
    this.walSync?.close();
    this.db.close();
  }
}
