import type { Db } from '../store/db.ts';
import { ApiError } from './apiError.ts';

/**
 * Replay guard of the signed API: a (requester, nonce) pair is accepted once. Rows live in
 * SQLite (migration v2) until the request's own expiry, after which the request is refused
 * as expired anyway, so the table stays small.
 */
export class NonceStore {
  private readonly insert;
  private readonly prune;
  private lastPrune = 0;

  constructor(db: Db) {
    this.insert = db.prepare<[string, Uint8Array, number]>('INSERT OR IGNORE INTO api_nonces(requester, nonce, expiry) VALUES (?, ?, ?)');
    this.prune = db.prepare<[number]>('DELETE FROM api_nonces WHERE expiry < ?');
  }

  /** Records the nonce or throws API_REPLAYED. `nowSec` and `expiry` are Unix seconds. */
  claim(requester: string, nonce: Uint8Array, expiry: number, nowSec: number): void {
    if (nowSec - this.lastPrune >= 60) {
      this.prune.run(nowSec);
      this.lastPrune = nowSec;
    }
    const r = this.insert.run(requester.toLowerCase(), nonce, expiry);
    if (r.changes === 0) throw new ApiError('API_REPLAYED');
  }
}
