import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { isAddress, type Address } from 'viem';
import { contractsFor } from '../../wallet/chainLink.ts';
import { fetchRecords } from '../../wallet/fetchRecords.ts';
import { toCsv, toNdjson, toRows, toTable, verifyAndDecrypt } from '../../wallet/readings.ts';
import type { ServedRecord } from '../../protocol/api/servedRecord.ts';
import { fromHex } from '../../protocol/bytes.ts';
import { EXIT, UsageError } from '../output.ts';
import { action, setExit } from '../action.ts';
import { trustedAuthorities } from '../../wallet/agentClient.ts';
import type { AuthorityTrust } from '../../wallet/origin.ts';
import { agentClientOf, hpke, linkOf, openWallet, out, withWalletFlags, type WalletFlags } from './wallet.ts';

interface RecordFlags extends WalletFlags {
  patient?: string;
  device?: string;
  in?: string;
  out?: string;
  csv?: boolean;
  ndjson?: boolean;
  authorityKey?: string;
}

/**
 * The ward authority's key, to trust the tickets served with records (their idk proves origin):
 * --authority-key, else the agent's /v1/ward; none for saved records (--in) without the flag.
 */
async function authorityKeyOf(o: RecordFlags): Promise<AuthorityTrust | undefined> {
  if (o.authorityKey !== undefined) {
    if (!/^[0-9a-fA-F]{64}$/.test(o.authorityKey)) throw new UsageError('--authority-key is not 64 hex digits');
    return fromHex(o.authorityKey.toLowerCase());
  }
  if (o.in) return undefined;
  // the current key and the retired ones (tickets signed before a rotation still verify)
  return trustedAuthorities(await agentClientOf(o).ward());
}

async function served(o: RecordFlags): Promise<ServedRecord[]> {
  if (o.in) return (JSON.parse(readFileSync(o.in, 'utf8')) as { records: ServedRecord[] }).records;
  const w = openWallet(o);
  const patient = (o.patient ?? w.address).toLowerCase();
  if (!isAddress(patient)) throw new UsageError('--patient is not an address');
  return (await fetchRecords(w, agentClientOf(o), patient as Address, o.device ? { device: o.device } : {})).records;
}

/** `vitalseal records fetch|verify|decrypt`: the reading side (proofs checked against roots read from the chain). */
export function registerRecordsCommands(program: Command): void {
  const records = withWalletFlags(
    program
      .command('records')
      .description('fetch records through the signed API, verify their proofs against the chain, decrypt with the session keys'),
  )
    .option('--patient <address>', 'whose records (default: the wallet itself)')
    .option('--device <id>', 'one device only')
    .option('--in <file>', 'use records saved by `records fetch --out` instead of asking the agent')
    .option(
      '--authority-key <hex>',
      "the ward authority's Ed25519 public key, to check each reading's origin against its signed ticket (default: the agent's /v1/ward)",
    );

  records
    .command('fetch')
    .description('fetch records with inclusion proofs and anchor references (ciphertext only)')
    .requiredOption('--out <file>', 'where to save them (JSON)')
    .action(
      action(async (_o: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals() as RecordFlags;
        const rs = await served(o);
        writeFileSync(o.out!, `${JSON.stringify({ records: rs }, null, 2)}\n`);
        out(o.json, `${rs.length} records saved to ${o.out}`, { records: rs.length, file: o.out });
      }),
    );

  const verifyAnd = (decrypt: boolean) =>
    action(async (_o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals() as RecordFlags;
      const w = openWallet(o);
      const link = linkOf(o);
      const authorityPublicKey = await authorityKeyOf(o);
      const rs = await verifyAndDecrypt(await served(o), {
        ...(authorityPublicKey ? { authorityPublicKey } : {}),
        wallet: w,
        hpke,
        contracts: contractsFor(w, link),
        fromBlock: link.deployment.deployBlock,
        chainId: link.deployment.chainId,
        ledger: link.deployment.ledger,
      });
      let rows = toRows(rs);
      if (!decrypt) rows = rows.map(({ values: _v, unit: _u, decrypt: _d, ...r }) => r);
      const text = o.csv
        ? toCsv(rows)
        : o.ndjson
          ? toNdjson(rows)
          : toTable(rows, decrypt ? undefined : ['device', 'seq', 'sensor', 'leaf', 'proof', 'block', 'recordId']);
      if (o.out) writeFileSync(o.out, text, { mode: 0o600 });
      else if (o.json) out(true, '', rows);
      else process.stdout.write(text + (text.endsWith('\n') ? '' : '\n'));
      const bad = rs.filter((r) => r.check.status !== 'verified');
      const counts = Object.entries(
        rs.reduce<Record<string, number>>((a, r) => {
          a[r.check.status] = (a[r.check.status] ?? 0) + 1;
          return a;
        }, {}),
      )
        .map(([k, v]) => `${v} ${k}`)
        .join(', ');
      process.stderr.write(
        `${rs.length} records: ${counts || 'none'}${bad.length ? `  — NOT VERIFIED: ${bad.map((b) => `${b.record.recordId.slice(0, 12)}… ${b.check.status} (${b.check.detail})`).join('; ')}` : ''}\n`,
      );
      if (bad.length) setExit(cmd, EXIT.VERIFICATION_FAILED);
    });

  records
    .command('verify')
    .description('verify each inclusion proof against the root anchored on-chain (Ledger events, not the agent)')
    .option('--out <file>', 'write the report here')
    .option('--csv', 'CSV')
    .option('--ndjson', 'NDJSON')
    .action(verifyAnd(false));
  records
    .command('decrypt')
    .description("verify, then decrypt with the wallet's session keys; a table, or CSV / NDJSON export")
    .option('--out <file>', 'write the readings here (plaintext: mode 0600)')
    .option('--csv', 'CSV')
    .option('--ndjson', 'NDJSON')
    .action(verifyAnd(true));
}
