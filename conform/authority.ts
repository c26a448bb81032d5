/**
 * The kit's test ward authority (docs/PROTOCOL.md §7): an Ed25519 key that signs the tickets the
 * kit hands the device. The device under test must have its public key pinned at provisioning:
 * `--authority-key <file>` loads it (a file holding the 32-byte secret seed in hex), or the kit
 * generates one, writes it (0600) and prints the public key for the vendor to provision.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { existsSync, readFileSync } from 'node:fs';
import { writePrivateFileAtomicSync } from '../platform/privateFiles.ts';
import { fromHex, toHex } from '../protocol/bytes.ts';
import type { Rng } from '../protocol/rng.ts';
import { issueTicket, type TicketFields } from '../protocol/ticket/index.ts';
import { ConformError } from './errors.ts';

export class TestAuthority {
  readonly publicKey: Uint8Array;
  readonly #secretKey: Uint8Array;

  constructor(secretKey: Uint8Array) {
    if (secretKey.length !== 32) throw new ConformError('CONFORM_KEY_FILE_INVALID', 'an authority key is 32 bytes');
    this.#secretKey = secretKey;
    this.publicKey = ed25519.getPublicKey(secretKey);
  }

  static generate(rng: Rng): TestAuthority {
    return new TestAuthority(rng(32));
  }

  get publicKeyHex(): string {
    return toHex(this.publicKey);
  }

  /** A ticket (COSE_Sign1, tag 18) signed by this authority. */
  sign(fields: TicketFields): Uint8Array {
    return issueTicket(fields, this.#secretKey);
  }

  /** The key file: the secret seed in hex and a comment line with the public key. */
  toFile(): string {
    return `${toHex(this.#secretKey)}\n# public key (pin this in the device): ${this.publicKeyHex}\n`;
  }

  toJSON(): { publicKey: string } {
    return { publicKey: this.publicKeyHex };
  }
}

/** Reads an authority key file (first line: 64 hex digits). */
export function loadAuthority(path: string): TestAuthority {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConformError('CONFORM_KEY_FILE_INVALID', `cannot read ${path}`, { cause: e });
  }
  const first = text.split('\n')[0]?.trim() ?? '';
  if (!/^[0-9a-fA-F]{64}$/.test(first)) throw new ConformError('CONFORM_KEY_FILE_INVALID', `${path}: the first line must be 64 hex digits`);
  return new TestAuthority(fromHex(first.toLowerCase()));
}

/** Loads `path` if it exists, else generates a key and writes it there (0600). `created` says which. */
export function loadOrCreateAuthority(path: string, rng: Rng): { authority: TestAuthority; created: boolean } {
  if (existsSync(path)) return { authority: loadAuthority(path), created: false };
  const authority = TestAuthority.generate(rng);
  writePrivateFileAtomicSync(path, authority.toFile());
  return { authority, created: true };
}
