import type { Hpke } from '../protocol/hpke/index.ts';
import { openReading, type Reading } from '../protocol/envelope/index.ts';
import { isVitalsealError } from '../protocol/errors.ts';
import type { Wallet } from './wallet.ts';
import { AnchoredRoots, envelopeOf, verifyServedRecord, type RecordCheck } from './verifyRecords.ts';
import type { ServedRecord } from '../protocol/api/servedRecord.ts';
import type { ChainContracts } from '../chain/contracts.ts';

export interface ReadRecord {
  record: ServedRecord;
  check: RecordCheck;
  /** Decrypted reading, or why not (no key for this session, decryption failed). */
  reading: Reading | undefined;
  decrypt: 'ok' | 'no-key' | 'failed';
}

/** Verifies every served record against the chain and decrypts those the wallet holds a session key for. */
export async function verifyAndDecrypt(
  records: readonly ServedRecord[],
  o: { wallet: Wallet; hpke: Hpke; contracts: ChainContracts; fromBlock: number; chainId: number; ledger: string },
): Promise<ReadRecord[]> {
  const roots = new AnchoredRoots(o.contracts, o.fromBlock);
  const out: ReadRecord[] = [];
  for (const record of records) {
    const check = await verifyServedRecord(record, roots, { chainId: o.chainId, ledger: o.ledger });
    const sk = o.wallet.sessionSecretFor(record.kid.toLowerCase());
    let reading: Reading | undefined;
    let decrypt: ReadRecord['decrypt'] = 'no-key';
    if (sk) {
      try {
        reading = openReading(envelopeOf(record), { secretKey: sk, hpke: o.hpke }).reading;
        decrypt = 'ok';
      } catch (e) {
        if (!isVitalsealError(e)) throw e;
        decrypt = 'failed';
      }
    }
    out.push({ record, check, reading, decrypt });
  }
  return out;
}

/** Table / CSV / NDJSON renderings of read records (plaintext goes to the caller's stdout or file only). */
export function toRows(rs: readonly ReadRecord[]): Array<Record<string, string | number>> {
  return rs.map((r) => ({
    device: r.record.device,
    seq: r.record.seq,
    ts: new Date(r.record.ts).toISOString(),
    sensor: r.record.st,
    values: r.reading ? r.reading.v.join(' ') : '',
    unit: r.reading?.u ?? '',
    leaf: r.record.leafIndex,
    proof: r.check.status,
    block: r.check.block ?? '',
    decrypt: r.decrypt,
    recordId: r.record.recordId,
  }));
}

export function toCsv(rows: ReadonlyArray<Record<string, string | number>>): string {
  if (rows.length === 0) return '';
  const cols = Object.keys(rows[0]!);
  const esc = (v: string | number) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  return `${[cols.join(','), ...rows.map((r) => cols.map((c) => esc(r[c] ?? '')).join(','))].join('\n')}\n`;
}

export function toNdjson(rows: ReadonlyArray<Record<string, string | number>>): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
}

export function toTable(
  rows: ReadonlyArray<Record<string, string | number>>,
  cols = ['device', 'seq', 'sensor', 'values', 'unit', 'leaf', 'proof', 'block', 'decrypt'],
): string {
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  return [line(cols), ...rows.map((r) => line(cols.map((c) => String(r[c] ?? ''))))].join('\n');
}
