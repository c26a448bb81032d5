import { readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { writePrivateFileAtomicSync } from '../../platform/privateFiles.ts';
import { fromHex, toHex } from '../../protocol/bytes.ts';
import type { HpkeBackendName } from '../../protocol/hpke/index.ts';
import { createHpke } from '../../protocol/node.ts';
import { decodeKeyFile, emergencyKeyGen, encodeKeyFile, keyIdOf, tempKeyPairGen } from '../../protocol/keys/index.ts';
import {
  checkReading,
  decodeEnvelope,
  describeOrigin,
  openReading,
  originOfOpened,
  sealReading,
  type Reading,
} from '../../protocol/envelope/index.ts';
import { leafHash, verifyInclusion } from '../../protocol/merkle/index.ts';
import type { Rng } from '../../protocol/rng.ts';
import { printJson, UsageError } from '../output.ts';
import { action } from '../action.ts';

const systemRng: Rng = (n) => new Uint8Array(randomBytes(n));

type Format = 'hex' | 'base64' | 'raw';

function readInput(file: string | undefined): Buffer {
  return file && file !== '-' ? readFileSync(file) : readFileSync(0);
}

/** Envelope bytes from a file/stdin in hex, base64 or raw CBOR (auto-detected). */
function parseBinary(buf: Buffer): Uint8Array {
  const text = buf.toString('utf8').trim();
  if (/^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0) return fromHex(text);
  if (/^[A-Za-z0-9+/=_-]+$/.test(text)) return new Uint8Array(Buffer.from(text, 'base64'));
  return new Uint8Array(buf);
}

function formatBinary(b: Uint8Array, format: Format): string | Uint8Array {
  if (format === 'hex') return `${toHex(b)}\n`;
  if (format === 'base64') return `${Buffer.from(b).toString('base64')}\n`;
  return b;
}

function recipientFrom(o: { pk?: string; key?: string }): { publicKey: Uint8Array; kid: Uint8Array } {
  if (o.key) {
    const k = decodeKeyFile(readFileSync(o.key, 'utf8'));
    if (k.type !== 'temp') throw new UsageError('--key must be a temp (session) key file');
    return { publicKey: k.publicKey, kid: k.kid };
  }
  if (o.pk) {
    const publicKey = fromHex(o.pk);
    return { publicKey, kid: keyIdOf(publicKey) };
  }
  throw new UsageError('give the recipient with --key <key file> or --pk <hex public key>');
}

export function registerCryptoCommands(program: Command): void {
  program
    .command('keygen')
    .description("generate a patient's temporary session key pair (TempKeyPairGen) or emergency key (EmergencyKeyGen) into a key file")
    .requiredOption('--patient-id <id>', 'patient identifier mixed into the key derivation')
    .option('--type <type>', 'temp | emergency', 'temp')
    .option('-o, --out <file>', 'key file to write (mode 0600); default: print it to stdout')
    .option('--json', 'print the public part as JSON')
    .action(
      action((o: { patientId: string; type: string; out?: string; json?: boolean }) => {
        if (o.type !== 'temp' && o.type !== 'emergency') throw new UsageError('--type must be temp or emergency');
        const key = o.type === 'temp' ? tempKeyPairGen(o.patientId, systemRng) : emergencyKeyGen(o.patientId, systemRng);
        const file = encodeKeyFile(key);
        const summary = {
          type: key.type,
          patientId: key.patientId,
          kid: toHex(key.kid),
          ...(key.type === 'temp' ? { publicKey: toHex(key.publicKey) } : {}),
          file: o.out ?? null,
        };
        if (o.out) {
          writePrivateFileAtomicSync(o.out, file);
          if (o.json) printJson(summary);
          else
            process.stdout.write(
              `wrote ${o.type} key ${summary.kid} to ${o.out}\n${'publicKey' in summary ? `public key ${summary.publicKey}\n` : ''}`,
            );
        } else {
          process.stdout.write(file);
        }
      }),
    );

  program
    .command('seal')
    .description('seal a reading (JSON {st, ts, v, u}) into a vitalseal COSE_Encrypt0 envelope for a patient key')
    .option('-i, --in <file>', 'reading JSON (default: stdin)')
    .option('--key <file>', "patient's temp key file (only its public part is used)")
    .option('--pk <hex>', "patient's temporary public key (hex)")
    .requiredOption('--dev <id>', 'device id (protected header)')
    .requiredOption('--seq <n>', 'sequence number (protected header)')
    .option('--backend <name>', 'noble | node', 'node')
    .option('-f, --format <fmt>', 'hex | base64 | raw', 'hex')
    .option('-o, --out <file>', 'write the envelope to a file')
    .option('--json', 'print {recordId, bytes, envelope(hex)}')
    .action(
      action(
        (o: {
          in?: string;
          key?: string;
          pk?: string;
          dev: string;
          seq: string;
          backend: string;
          format: string;
          out?: string;
          json?: boolean;
        }) => {
          if (!['hex', 'base64', 'raw'].includes(o.format)) throw new UsageError('--format must be hex, base64 or raw');
          if (o.backend !== 'noble' && o.backend !== 'node') throw new UsageError('--backend must be noble or node');
          const raw = JSON.parse(readInput(o.in).toString('utf8')) as Partial<Reading>;
          const reading = { st: raw.st, ts: raw.ts ?? Date.now(), v: raw.v, u: raw.u } as Reading;
          checkReading(reading);
          const env = sealReading({
            reading,
            header: { dev: o.dev, seq: Number(o.seq), ts: reading.ts, st: reading.st },
            recipient: recipientFrom(o),
            hpke: createHpke(o.backend as HpkeBackendName),
            rng: systemRng,
          });
          const out = formatBinary(env, o.format as Format);
          if (o.out) writeFileSync(o.out, out);
          if (o.json) printJson({ recordId: toHex(decodeEnvelope(env).recordId), bytes: env.length, envelope: toHex(env) });
          else if (!o.out) process.stdout.write(out);
        },
      ),
    );

  program
    .command('open')
    .description('open an envelope with the patient secret key and print the reading')
    .option('-i, --in <file>', 'envelope (hex, base64 or raw CBOR; default: stdin)')
    .requiredOption('--key <file>', "patient's temp key file")
    .option(
      '--identity-key <hex>',
      "the device identity key the envelope's ticket certifies (its idk): an Auth-mode reading must be sealed with it",
    )
    .option('--json', 'print JSON (default)')
    .action(
      action((o: { in?: string; key: string; identityKey?: string }) => {
        const key = decodeKeyFile(readFileSync(o.key, 'utf8'));
        if (key.type !== 'temp') throw new UsageError('--key must be a temp (session) key file');
        if (o.identityKey !== undefined && !/^[0-9a-fA-F]{64}$/.test(o.identityKey))
          throw new UsageError('--identity-key is not 64 hex digits');
        const senderPublicKey = o.identityKey === undefined ? undefined : fromHex(o.identityKey.toLowerCase());
        const opened = openReading(parseBinary(readInput(o.in)), {
          secretKey: key.secretKey,
          hpke: createHpke('node'),
          ...(senderPublicKey ? { senderPublicKey } : {}),
        });
        const origin = originOfOpened(opened, senderPublicKey);
        printJson({
          header: opened.header,
          reading: opened.reading,
          recordId: toHex(opened.recordId),
          origin: { mode: origin.mode, verified: origin.mode === 'auth', detail: describeOrigin(origin, opened.header.dev) },
        });
      }),
    );

  program
    .command('verify-proof')
    .description('verify an RFC 6962 inclusion proof (e.g. a record served by the agent) against a root')
    .option('-i, --in <file>', "the agent's record JSON (GET /v1/records/<id>): envelope, leafIndex, treeSize, inclusionProof, root")
    .option('--leaf-index <n>')
    .option('--tree-size <n>')
    .option('--leaf-hash <hex>', 'leaf hash (or give --envelope)')
    .option('--envelope <file>', 'envelope file; its leaf hash is SHA-256(0x00 ‖ envelope)')
    .option('--proof <hex,...>', 'comma-separated proof hashes, leaf level first', '')
    .option('--root <hex>', 'expected root (e.g. the one anchored on-chain)')
    .option('--json', 'print JSON')
    .action(
      action(
        (o: {
          in?: string;
          leafIndex?: string;
          treeSize?: string;
          leafHash?: string;
          envelope?: string;
          proof: string;
          root?: string;
          json?: boolean;
        }) => {
          let index: number, size: number, leaf: Uint8Array, proof: Uint8Array[], root: Uint8Array;
          if (o.in) {
            const r = JSON.parse(readFileSync(o.in, 'utf8')) as {
              envelope: string;
              leafIndex: number;
              treeSize: number;
              inclusionProof: string[];
              root: string;
            };
            index = r.leafIndex;
            size = r.treeSize;
            leaf = leafHash(new Uint8Array(Buffer.from(r.envelope, 'base64')));
            proof = r.inclusionProof.map(fromHex);
            root = fromHex(o.root ?? r.root);
          } else {
            if (o.leafIndex === undefined || o.treeSize === undefined || o.root === undefined)
              throw new UsageError('need --in, or --leaf-index, --tree-size, --root and --leaf-hash/--envelope');
            index = Number(o.leafIndex);
            size = Number(o.treeSize);
            leaf = o.leafHash
              ? fromHex(o.leafHash)
              : o.envelope
                ? leafHash(parseBinary(readFileSync(o.envelope)))
                : (() => {
                    throw new UsageError('need --leaf-hash or --envelope');
                  })();
            proof = o.proof ? o.proof.split(',').filter(Boolean).map(fromHex) : [];
            root = fromHex(o.root);
          }
          verifyInclusion(index, size, leaf, proof, root);
          if (o.json) printJson({ ok: true, leafIndex: index, treeSize: size, root: toHex(root) });
          else process.stdout.write(`ok: leaf ${index} is included in the tree of size ${size} with root ${toHex(root)}\n`);
        },
      ),
    );
}
