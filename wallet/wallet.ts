import { existsSync } from 'node:fs';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { bytesToHex, type Address, type Hex } from 'viem';
import { x25519 } from '@noble/curves/ed25519.js';
import { fromHex, toHex, utf8 } from '../protocol/bytes.ts';
import type { Rng } from '../protocol/rng.ts';
import { typedDataOf, type ApiDomain, type ApiPrimaryType, type MessageOf } from '../protocol/api/typedData.ts';
import { WalletError } from './errors.ts';
import {
  decryptWalletFile,
  deriveWalletKey,
  newKdf,
  readWalletHeader,
  writeWalletFile,
  type KdfParams,
  type WalletFileHeader,
} from './keyFile.ts';

/** One session key pair held by the wallet: its own (TempKeyPairGen) or shared with it by a patient. */
export interface SessionKeyEntry {
  patient: string;
  device: string;
  kid: string;
  sk: string;
  pk: string;
  nbf: number;
  exp: number;
  endedAt?: number;
  source: 'own' | 'shared';
}

export interface WalletSecrets {
  v: 1;
  ethPrivateKey: Hex;
  /** The wallet's X25519 key ("vitalseal key"): registered on-chain, receives key shares and emergency releases. */
  x25519Secret: string;
  sessions: SessionKeyEntry[];
  emergency?: { key: string; kid: string };
}

/**
 * A vitalseal wallet: an Ethereum account (viem) that signs on-chain transactions and EIP-712
 * API requests, plus vitalseal keys. Secrets live in a private field; toJSON shows none.
 */
export class Wallet {
  readonly #secrets: WalletSecrets;
  readonly #fileKey: Uint8Array | undefined;
  readonly account: PrivateKeyAccount;

  private constructor(
    secrets: WalletSecrets,
    readonly path: string | undefined,
    private readonly kdf: KdfParams | undefined,
    fileKey: Uint8Array | undefined,
    private readonly rng: Rng,
  ) {
    this.#secrets = secrets;
    this.#fileKey = fileKey;
    this.account = privateKeyToAccount(secrets.ethPrivateKey);
  }

  /** A new wallet (fresh keys, or `ethPrivateKey` imported) written encrypted to `path`. */
  static create(path: string, passphrase: string, o: { rng: Rng; ethPrivateKey?: Hex; scryptN?: number; overwrite?: boolean }): Wallet {
    if (existsSync(path) && !o.overwrite) throw new WalletError('WALLET_EXISTS', `a wallet already exists at ${path}`);
    const secrets: WalletSecrets = {
      v: 1,
      ethPrivateKey: o.ethPrivateKey ?? bytesToHex(o.rng(32)),
      x25519Secret: toHex(o.rng(32)),
      sessions: [],
    };
    const kdf = newKdf(o.rng, o.scryptN);
    const w = new Wallet(secrets, path, kdf, deriveWalletKey(passphrase, kdf), o.rng);
    w.save();
    return w;
  }

  static open(path: string, passphrase: string, rng: Rng): Wallet {
    const j = readWalletHeader(path);
    const key = deriveWalletKey(passphrase, j.kdf);
    const secrets = JSON.parse(new TextDecoder().decode(decryptWalletFile(j, key))) as WalletSecrets;
    if (secrets.v !== 1) throw new WalletError('WALLET_FILE_INVALID');
    return new Wallet(secrets, path, j.kdf, key, rng);
  }

  /** Writes the encrypted wallet file (no-op for an in-memory wallet). */
  save(): void {
    if (!this.path || !this.kdf || !this.#fileKey) return;
    const header: WalletFileHeader = { v: 1, kind: 'vitalseal-wallet', address: this.address, kdf: this.kdf, aead: 'chacha20-poly1305' };
    writeWalletFile(this.path, header, this.#fileKey, utf8(JSON.stringify(this.#secrets)), this.rng);
  }

  get address(): Address {
    return this.account.address.toLowerCase() as Address;
  }

  get privateKey(): Hex {
    return this.#secrets.ethPrivateKey;
  }

  /** The X25519 public key registered on-chain (bytes32). */
  get vitalsealPublicKey(): Hex {
    return bytesToHex(x25519.getPublicKey(fromHex(this.#secrets.x25519Secret)));
  }

  get vitalsealSecretKey(): Uint8Array {
    return fromHex(this.#secrets.x25519Secret);
  }

  get sessions(): readonly SessionKeyEntry[] {
    return this.#secrets.sessions;
  }

  addSession(s: SessionKeyEntry): void {
    this.#secrets.sessions = this.#secrets.sessions.filter((x) => !(x.kid === s.kid && x.device === s.device));
    this.#secrets.sessions.push(s);
  }

  endSession(device: string, kid: string, at: number): void {
    const s = this.#secrets.sessions.find((x) => x.device === device && x.kid === kid);
    if (!s) throw new WalletError('WALLET_NO_SESSION');
    s.endedAt = at;
  }

  sessionSecretFor(kidHex: string): Uint8Array | undefined {
    const s = this.#secrets.sessions.find((x) => x.kid === kidHex);
    return s ? fromHex(s.sk) : undefined;
  }

  get emergencyKey(): { key: Uint8Array; kid: string } | undefined {
    const e = this.#secrets.emergency;
    return e ? { key: fromHex(e.key), kid: e.kid } : undefined;
  }

  setEmergencyKey(key: Uint8Array, kid: Uint8Array): void {
    this.#secrets.emergency = { key: toHex(key), kid: toHex(kid) };
  }

  /** EIP-712 signature of an API message by this wallet's account. */
  async sign<P extends ApiPrimaryType>(domain: ApiDomain, primaryType: P, message: MessageOf[P]): Promise<Hex> {
    return this.account.signTypedData(typedDataOf(domain, primaryType, message) as Parameters<PrivateKeyAccount['signTypedData']>[0]);
  }

  toJSON(): Record<string, unknown> {
    return {
      address: this.address,
      vitalsealPublicKey: this.vitalsealPublicKey,
      sessions: this.sessions.map((s) => ({
        device: s.device,
        kid: s.kid,
        source: s.source,
        patient: s.patient,
        exp: s.exp,
        endedAt: s.endedAt,
      })),
    };
  }
}
