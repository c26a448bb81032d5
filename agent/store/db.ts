import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { AgentError } from '../errors.ts';
import { PRIVATE_DIR_MODE, restrictFile, touchPrivateFile } from '../../platform/privateFiles.ts';
import { MIGRATIONS, SCHEMA_VERSION, type ExtraMigration } from './migrations.ts';

export type Db = Database.Database;

/**
 * Opens the agent database with the durability settings the acknowledgement rule depends on:
 * WAL + synchronous=FULL, so a COMMIT returns only after the WAL is fsync'd — a reading whose
 * PUBACK was sent survives power loss and kill -9.
 */
export function openDatabase(file: string, extra: readonly ExtraMigration[] = [], synchronous: 'full' | 'normal' = 'full'): Db {
  mkdirSync(dirname(file), { recursive: true, mode: PRIVATE_DIR_MODE });
  const onDisk = file !== ':memory:' && !file.startsWith('file:');
  // The database file is created 0600 before SQLite opens it: SQLite gives the -wal, -shm and -journal
  // files it creates later (lazily, again after a checkpoint or restart) the mode of the database file.
  if (onDisk) privatizeDatabaseFiles(file, true);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  for (const m of extra) m(db);
  if (onDisk) privatizeDatabaseFiles(file, false);
  return db;
}

/** agent.sqlite (created if `create`) and its -wal, -shm and -journal files, if present, to mode 0600. */
export function privatizeDatabaseFiles(file: string, create: boolean): void {
  if (create) touchPrivateFile(file);
  else restrictFile(file);
  for (const suffix of ['-wal', '-shm', '-journal']) restrictFile(file + suffix);
}

export function migrate(db: Db): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new AgentError('STORE_SCHEMA_TOO_NEW', `database schema v${current} is newer than this agent (v${SCHEMA_VERSION})`);
  }
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return db.pragma('user_version', { simple: true }) as number;
}
