/**
 * Device identity keys (issue #20, docs/PROTOCOL.md §3.6): the X25519 public key each device
 * generated for itself at provisioning, registered by the ward operator. The ward authority puts a
 * device's current key in every ticket it issues for it (`idk`, §7.1). The secret never reaches the
 * agent. A key stops being current when the operator registers a new one (`rotated`: tickets issued
 * under it stay valid, so readings sealed with it stay verifiable) or revokes it (`revoked`: no new
 * ticket for the device until a new key is registered, and readings under tickets that carry it are
 * quarantined, AGENT_IDENTITY_REVOKED). A rotated key can be revoked later too (the device's readings
 * sealed before the rotation have arrived; its secret may have leaked): readings under its tickets
 * judged from then on are quarantined.
 *
 * The table is created by an idempotent extra migration (like the anchor tables), not a numbered
 * schema step: it depends on nothing else in the schema.
 */
import type BetterSqlite3 from 'better-sqlite3';

type Database = BetterSqlite3.Database;

export type IdentityKeyEnd = 'rotated' | 'revoked';

export interface IdentityKeyRow {
  device: string;
  idk: Uint8Array;
  registeredAt: number;
  /** When and why it stopped being the device's current key (both null while current). */
  endedAt: number | null;
  ended: IdentityKeyEnd | null;
}

export function migrateIdentityKeyTables(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS device_identity_keys (
      device        TEXT    NOT NULL,
      idk           BLOB    NOT NULL CHECK (length(idk) = 32),   -- X25519 public key; the secret stays on the device
      registered_at INTEGER NOT NULL,
      ended_at      INTEGER,
      ended         TEXT    CHECK (ended IN ('rotated', 'revoked')),
      PRIMARY KEY (device, idk)
    ) WITHOUT ROWID;
    CREATE UNIQUE INDEX IF NOT EXISTS device_identity_current ON device_identity_keys(device) WHERE ended_at IS NULL;
  `);
}

interface Row {
  device: string;
  idk: Buffer;
  registered_at: number;
  ended_at: number | null;
  ended: IdentityKeyEnd | null;
}

const rowOf = (r: Row): IdentityKeyRow => ({
  device: r.device,
  idk: new Uint8Array(r.idk),
  registeredAt: r.registered_at,
  endedAt: r.ended_at,
  ended: r.ended,
});

/** SQL over device_identity_keys. */
export class IdentityKeyStore {
  private readonly s;
  constructor(private readonly db: Database) {
    migrateIdentityKeyTables(db);
    this.s = {
      keysOf: db.prepare<[string], Row>('SELECT * FROM device_identity_keys WHERE device = ? ORDER BY registered_at, idk'),
      revokedKeys: db.prepare<[], Row>("SELECT * FROM device_identity_keys WHERE ended = 'revoked'"),
      end: db.prepare<[number, IdentityKeyEnd, string]>(
        'UPDATE device_identity_keys SET ended_at = ?, ended = ? WHERE device = ? AND ended_at IS NULL',
      ),
      insert: db.prepare<[string, Uint8Array, number]>('INSERT INTO device_identity_keys(device, idk, registered_at) VALUES (?, ?, ?)'),
      revokeRotated: db.prepare<[string, Uint8Array]>(
        "UPDATE device_identity_keys SET ended = 'revoked' WHERE device = ? AND idk = ? AND ended = 'rotated'",
      ),
    };
  }

  keysOf(device: string): IdentityKeyRow[] {
    return this.s.keysOf.all(device).map(rowOf);
  }

  current(device: string): IdentityKeyRow | undefined {
    return this.keysOf(device).find((k) => k.endedAt === null);
  }

  revokedKeys(): IdentityKeyRow[] {
    return this.s.revokedKeys.all().map(rowOf);
  }

  /** Makes `idk` the device's current key; the previous current key (if any) ends as 'rotated'. */
  register(device: string, idk: Uint8Array, now: number): void {
    this.db.transaction(() => {
      this.s.end.run(now, 'rotated', device);
      this.s.insert.run(device, idk, now);
    })();
  }

  /**
   * Revokes one of the device's earlier keys that ended as 'rotated' (it stays ended when it was rotated:
   * `endedAt` keeps that time; only `ended` becomes 'revoked'). The key, or undefined if the device has
   * no such rotated key.
   */
  revokeRotated(device: string, idk: Uint8Array): IdentityKeyRow | undefined {
    return this.db.transaction(() => {
      if (this.s.revokeRotated.run(device, idk).changes !== 1) return undefined;
      return this.keysOf(device).find((k) => Buffer.compare(Buffer.from(k.idk), Buffer.from(idk)) === 0);
    })();
  }

  /** Ends the device's current key as 'revoked'; the revoked key, or undefined if the device had no current key. */
  revoke(device: string, now: number): IdentityKeyRow | undefined {
    return this.db.transaction(() => {
      const current = this.current(device);
      if (current) this.s.end.run(now, 'revoked', device);
      return current;
    })();
  }
}
