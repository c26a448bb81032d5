/**
 * Files only their owner may read: directories 0700, files 0600, set explicitly at creation (and
 * with chmod, as the mode given to open(2) is reduced by the umask and ignored for an existing
 * file) — never by changing the process umask, which belongs to the embedding application.
 * Used by the chain's data dir and the agent's (keys, SQLite store, state files), the agent's,
 * wallets' and the CLI's key files, and the device simulator's NVM.
 *
 * Layer: platform/ is the lowest layer that does I/O (Node built-ins only, nothing of vitalseal),
 * beside protocol/ (which stays pure): device-sim, chain, agent, wallet, scenarios, cli and bench
 * may all import it; it imports none of them. This is the ONE atomic-write helper (temp + fsync +
 * rename + directory fsync, 0600) and the one `fsyncDir`.
 */
import { chmodSync, closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** mkdir -p with 0700 for every directory created, and 0700 on `dir` itself even if it existed. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodSync(dir, PRIVATE_DIR_MODE);
}

/** chmod 0600 if the file exists (SQLite's -wal/-shm come and go). */
export function restrictFile(path: string): void {
  try {
    chmodSync(path, PRIVATE_FILE_MODE);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/**
 * Every directory under `dir` (and `dir`) 0700, every regular file 0600: repairs a data dir written
 * by an older version or another umask. Symbolic links are neither followed nor changed.
 */
export function restrictTree(dir: string): void {
  const st = lstatSync(dir, { throwIfNoEntry: false });
  if (!st) return;
  if (st.isDirectory()) {
    if ((st.mode & 0o777) !== PRIVATE_DIR_MODE) chmodSync(dir, PRIVATE_DIR_MODE);
    for (const name of readdirSync(dir)) restrictTree(join(dir, name));
  } else if (st.isFile() && (st.mode & 0o777) !== PRIVATE_FILE_MODE) {
    chmodSync(dir, PRIVATE_FILE_MODE);
  }
}

/** Creates `path` (0600) if it does not exist, without truncating it; 0600 either way. */
export function touchPrivateFile(path: string): void {
  closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
  chmodSync(path, PRIVATE_FILE_MODE);
}

/** fsyncs a directory so a rename inside it is durable (best effort where directories cannot be opened). */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // some file systems refuse fsync on a directory: the rename is still atomic
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Atomic replacement: a temp file beside `path` (created 0600, exclusively), written, fsync'd, renamed
 * over `path`, then the directory fsync'd. A crash leaves either the old file or the new one, whole.
 */
export function writePrivateFileAtomicSync(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  const fd = openSync(tmp, 'wx', PRIVATE_FILE_MODE);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

/** `writePrivateFileAtomicSync` off the event loop (large files: the embedded chain's state). */
export async function writePrivateFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  const fh = await open(tmp, 'wx', PRIVATE_FILE_MODE);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close();
    rmSync(tmp, { force: true });
    throw e;
  }
  await fh.close();
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}
