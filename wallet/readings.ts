import type { Hpke } from '../protocol/hpke/index.ts';
import { describeOrigin, openReading, originOfOpened, type Reading } from '../protocol/envelope/index.ts';
import { isVitalsealError } from '../protocol/errors.ts';
import { type AuthorityTrust, expectedSenderKey } from './origin.ts';
import type { Wallet } from './wallet.ts';
import { AnchoredRoots, envelopeOf, verifyServedRecord, type RecordCheck } from './verifyRecords.ts';
import type { ServedRecord } from '../protocol/api/servedRecord.ts';
import type { ChainContracts } from '../chain/contracts.ts';

export interface ReadRecord {
  record: ServedRecord;
  check: RecordCheck;
  /** Decrypted reading, or why not (no key for this session, decryption failed, not sealed by the device). */
  reading: Reading | undefined;
  decrypt: 'ok' | 'no-key' | 'failed' | 'not-from-device';
  /**
   * Proof of origin (§3.6): 'device' — sealed with the identity key its ward-signed ticket certifies;
   * 'base' — base mode, origin not proven; 'not-from-device' — refused (typed error in `originError`);
   * 'unknown' — Auth mode but no ward-signed ticket to check it against; '' — not opened (no key).
   */
  origin: 'device' | 'base' | 'not-from-device' | 'unknown' | '';
  /** One line: "verified: sealed by device <dev> identity <fingerprint>", "base mode: origin not proven", or the refusal. */
  originDetail: string;
  /** The typed error code when the reading was refused as not from the device. */
  originError?: string;
}

/**
 * Verifies every served record against the chain and decrypts those the wallet holds a session key
 * for, checking each reading's origin against the identity key of its ward-signed ticket (the ward
 * authority's key: `authorityPublicKey`, from /v1/ward).
 */
export async function verifyAndDecrypt(
  records: readonly ServedRecord[],
  o: {
    wallet: Wallet;
    hpke: Hpke;
    contracts: ChainContracts;
    fromBlock: number;
    chainId: number;
    ledger: string;
    /** The ward authority's Ed25519 key: served tickets are trusted only with its signature (without it: none are). */
    authorityPublicKey?: AuthorityTrust;
  },
): Promise<ReadRecord[]> {
  const roots = new AnchoredRoots(o.contracts, o.fromBlock);
  const out: ReadRecord[] = [];
  for (const record of records) {
    const check = await verifyServedRecord(record, roots, { chainId: o.chainId, ledger: o.ledger });
    const sk = o.wallet.sessionSecretFor(record.kid.toLowerCase());
    const opened: OpenedRecord = sk
      ? openServedRecord(record, {
          secretKey: sk,
          hpke: o.hpke,
          ...(o.authorityPublicKey ? { authorityPublicKey: o.authorityPublicKey } : {}),
        })
      : { reading: undefined, decrypt: 'no-key', origin: '', originDetail: '' };
    out.push({ record, check, ...opened });
  }
  return out;
}

export type OpenedRecord = Omit<ReadRecord, 'record' | 'check'>;

/**
 * Opens one served record with the session secret key and checks its origin against the identity
 * key of its ward-signed ticket (without `authorityPublicKey` no served ticket is trusted): what the
 * patient's and the clinician's wallets, `vitalseal records` and the demo do for each record.
 */
export function openServedRecord(
  record: ServedRecord,
  o: { secretKey: Uint8Array; hpke: Hpke; authorityPublicKey?: AuthorityTrust },
): OpenedRecord {
  try {
    const senderPublicKey = o.authorityPublicKey ? expectedSenderKey(record, o.authorityPublicKey) : undefined;
    const opened = openReading(envelopeOf(record), {
      secretKey: o.secretKey,
      hpke: o.hpke,
      ...(senderPublicKey ? { senderPublicKey } : {}),
    });
    const proved = originOfOpened(opened, senderPublicKey);
    return {
      reading: opened.reading,
      decrypt: 'ok',
      origin: proved.mode === 'auth' ? 'device' : 'base',
      originDetail: describeOrigin(proved, record.device),
    };
  } catch (e) {
    if (!isVitalsealError(e)) throw e;
    if (e.code === 'ENVELOPE_ORIGIN_UNVERIFIED')
      return {
        reading: undefined,
        decrypt: 'not-from-device',
        origin: 'not-from-device',
        originError: e.code,
        originDetail: `REJECTED: not from device ${record.device} (${e.code})`,
      };
    if (e.code === 'ENVELOPE_NO_SENDER_KEY')
      return {
        reading: undefined,
        decrypt: 'failed',
        origin: 'unknown',
        originError: e.code,
        originDetail: `origin unknown: no ward-signed ticket with the device identity key (${e.code})`,
      };
    return { reading: undefined, decrypt: 'failed', origin: '', originDetail: '' };
  }
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
    origin: r.origin === 'device' ? `device ${identityOf(r)}` : r.origin === 'not-from-device' ? 'NOT FROM DEVICE' : r.origin,
    originDetail: r.originDetail,
    recordId: r.record.recordId,
  }));
}

/** The fingerprint in "verified: sealed by device <dev> identity <fingerprint>". */
function identityOf(r: ReadRecord): string {
  return r.originDetail.slice(r.originDetail.lastIndexOf(' ') + 1);
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
  cols = ['device', 'seq', 'sensor', 'values', 'unit', 'leaf', 'proof', 'block', 'decrypt', 'origin'],
): string {
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  return [line(cols), ...rows.map((r) => line(cols.map((c) => String(r[c] ?? ''))))].join('\n');
}
