/**
 * The ward CA (issue #20): an ECDSA P-256 root key and self-signed certificate in <dataDir>/tls/ that
 * issues the agent's server certificate (SAN: localhost, 127.0.0.1, ::1 and configured host names)
 * and device client certificates (CN = device id, SAN URI urn:vitalseal:device:<id>, EKU clientAuth).
 * Certificates and CRLs are built by @peculiar/x509 on node's WebCrypto (no hand-written ASN.1).
 * Every issued serial is kept in issued.json with its device and revocation time; a revocation
 * rewrites crl.pem (the agent's TLS listeners load it; external mosquitto reads it as `crlfile`).
 * Private keys are written 0600, atomically (platform/privateFiles.ts), and never logged.
 */
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CryptoKey, type CryptoKeyPair, DAY_MS, deviceUri, EC_KEY, EC_SIGN, x509 } from '../../platform/x509.ts';
import { ensurePrivateDir, writePrivateFileAtomicSync } from '../../platform/privateFiles.ts';
import { AgentError } from '../errors.ts';

export interface TlsPaths {
  readonly dir: string;
  readonly caKey: string;
  readonly caCert: string;
  readonly crl: string;
  readonly serverKey: string;
  readonly serverCert: string;
  readonly issued: string;
}

export function tlsPaths(dataDir: string): TlsPaths {
  const dir = join(dataDir, 'tls');
  return {
    dir,
    caKey: join(dir, 'ca.key'),
    caCert: join(dir, 'ca.crt'),
    crl: join(dir, 'crl.pem'),
    serverKey: join(dir, 'server.key'),
    serverCert: join(dir, 'server.crt'),
    issued: join(dir, 'issued.json'),
  };
}

export interface IssuedCert {
  /** Lower-case hex, no leading zeros (as node's getPeerCertificate().serialNumber, lower-cased). */
  readonly serial: string;
  readonly kind: 'device' | 'server';
  readonly device?: string;
  readonly notAfter: number;
  revokedAt?: number;
}

export interface IssueOptions {
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly validDays?: number;
}

/** Normal form of a certificate serial: lower-case hex without leading zeros. */
export function normalSerial(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, '');
}

/** A positive 16-byte serial whose first byte is 0x10–0x7f (no sign bit, no leading zero to strip). */
function newSerial(): string {
  const b = randomBytes(16);
  b[0] = 0x10 + (b[0]! % 0x70);
  return b.toString('hex');
}

function pemKey(der: ArrayBuffer): string {
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function exportKeyPem(key: CryptoKey): Promise<string> {
  return pemKey(await webcrypto.subtle.exportKey('pkcs8', key));
}

async function importPrivateKey(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return webcrypto.subtle.importKey('pkcs8', der, EC_KEY, true, ['sign']);
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
}

/** A fresh ECDSA P-256 key pair as PEM (PKCS#8 private key, SPKI public key): a device's TLS key. */
export async function generateDeviceKey(): Promise<{ keyPem: string; publicKeyPem: string }> {
  const keys = await generateKeys();
  const spki = await webcrypto.subtle.exportKey('spki', keys.publicKey);
  return { keyPem: await exportKeyPem(keys.privateKey), publicKeyPem: x509.PemConverter.encode(spki, 'PUBLIC KEY') };
}

/** SHA-256 fingerprint (hex, colon-separated upper case, as openssl prints it) of a PEM certificate. */
export function certFingerprint(pem: string): string {
  const der = Buffer.from(x509.PemConverter.decodeFirst(pem));
  return createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)?.join(':') ?? '';
}

export class WardCa {
  private constructor(
    readonly paths: TlsPaths,
    private readonly key: CryptoKey,
    private readonly cert: x509.X509Certificate,
    private readonly issuedCerts: IssuedCert[],
    private crl: string,
  ) {}

  static exists(dataDir: string): boolean {
    return existsSync(tlsPaths(dataDir).caKey);
  }

  /** Creates the CA in <dataDir>/tls/ (refuses TLS_CA_EXISTS: a CA is never overwritten). */
  static async init(dataDir: string, o: { name?: string; validDays?: number; now?: Date } = {}): Promise<WardCa> {
    const paths = tlsPaths(dataDir);
    if (existsSync(paths.caKey)) throw new AgentError('TLS_CA_EXISTS');
    ensurePrivateDir(dataDir);
    ensurePrivateDir(paths.dir);
    const keys = await generateKeys();
    const now = o.now ?? new Date();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: newSerial(),
      name: `CN=${o.name ?? 'vitalseal ward CA'}, O=vitalseal`,
      notBefore: new Date(now.getTime() - 60_000),
      notAfter: new Date(now.getTime() + (o.validDays ?? 3650) * DAY_MS),
      signingAlgorithm: EC_SIGN,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    writePrivateFileAtomicSync(paths.caKey, await exportKeyPem(keys.privateKey));
    writePrivateFileAtomicSync(paths.caCert, cert.toString('pem'));
    const ca = new WardCa(paths, keys.privateKey, cert, [], '');
    await ca.writeState();
    return ca;
  }

  /** Loads the CA of <dataDir>/tls/ (TLS_CA_MISSING when there is none). */
  static async load(dataDir: string): Promise<WardCa> {
    const paths = tlsPaths(dataDir);
    if (!existsSync(paths.caKey) || !existsSync(paths.caCert)) throw new AgentError('TLS_CA_MISSING');
    try {
      const key = await importPrivateKey(readFileSync(paths.caKey, 'utf8'));
      const cert = new x509.X509Certificate(readFileSync(paths.caCert, 'utf8'));
      const issued = existsSync(paths.issued)
        ? (JSON.parse(readFileSync(paths.issued, 'utf8')) as { version: 1; certs: IssuedCert[] }).certs
        : [];
      const crl = existsSync(paths.crl) ? readFileSync(paths.crl, 'utf8') : '';
      const ca = new WardCa(paths, key, cert, issued, crl);
      await ca.writeState(); // a fresh CRL at each load: an expired CRL (nextUpdate) would refuse every client certificate
      return ca;
    } catch (e) {
      throw new AgentError('TLS_FILE_INVALID', `${paths.dir}: the ward CA cannot be read (${(e as Error).name})`);
    }
  }

  static async loadOrInit(dataDir: string): Promise<WardCa> {
    return WardCa.exists(dataDir) ? WardCa.load(dataDir) : WardCa.init(dataDir);
  }

  get certPem(): string {
    return this.cert.toString('pem');
  }

  get crlPem(): string {
    return this.crl;
  }

  get fingerprint(): string {
    return certFingerprint(this.certPem);
  }

  issued(): readonly IssuedCert[] {
    return this.issuedCerts;
  }

  /** The serials revoked so far (normal form). */
  revokedSerials(): Set<string> {
    return new Set(this.issuedCerts.filter((c) => c.revokedAt !== undefined).map((c) => c.serial));
  }

  isRevoked(serial: string): boolean {
    const s = normalSerial(serial);
    return this.issuedCerts.some((c) => c.serial === s && c.revokedAt !== undefined);
  }

  /** A device client certificate for `publicKeyPem` (SPKI PEM of an ECDSA P-256 key). */
  async issueDevice(device: string, publicKeyPem: string, o: IssueOptions = {}): Promise<{ serial: string; certPem: string }> {
    let publicKey: x509.PublicKey;
    try {
      publicKey = new x509.PublicKey(publicKeyPem);
    } catch {
      throw new AgentError('TLS_PUBLIC_KEY_INVALID');
    }
    const alg = publicKey.algorithm as { name?: string; namedCurve?: string };
    if (alg.name !== 'ECDSA' || alg.namedCurve !== 'P-256') throw new AgentError('TLS_PUBLIC_KEY_INVALID');
    return this.issue(
      { kind: 'device', device },
      `CN=${device}`,
      publicKey,
      [
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: deviceUri(device) }]),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
      ],
      o,
    );
  }

  /** A device key and certificate made here (tests, the demo, the simulator's fleets). */
  async issueDeviceWithKey(device: string, o: IssueOptions = {}): Promise<{ serial: string; certPem: string; keyPem: string }> {
    const k = await generateDeviceKey();
    return { ...(await this.issueDevice(device, k.publicKeyPem, o)), keyPem: k.keyPem };
  }

  /** A server certificate for the agent (its TLS listeners, HTTPS), and the agent's client certificate for an external broker. */
  async issueServer(hostnames: readonly string[], o: IssueOptions = {}): Promise<{ serial: string; certPem: string; keyPem: string }> {
    const keys = await generateKeys();
    const names = [...new Set(['localhost', '127.0.0.1', '::1', ...hostnames])];
    const isIp = (h: string): boolean => /^[0-9.]+$/.test(h) || h.includes(':');
    const r = await this.issue(
      { kind: 'server' },
      'CN=vitalseal agent',
      keys.publicKey,
      [
        new x509.SubjectAlternativeNameExtension(names.map((h) => ({ type: isIp(h) ? ('ip' as const) : ('dns' as const), value: h }))),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
      ],
      o,
    );
    return { ...r, keyPem: await exportKeyPem(keys.privateKey) };
  }

  /** Issues a new server key and certificate and writes them to server.key/server.crt (rotation of the agent's TLS key). */
  async writeServerCert(hostnames: readonly string[], o: IssueOptions = {}): Promise<{ serial: string }> {
    const r = await this.issueServer(hostnames, o);
    writePrivateFileAtomicSync(this.paths.serverKey, r.keyPem);
    writePrivateFileAtomicSync(this.paths.serverCert, r.certPem);
    return { serial: r.serial };
  }

  /** The server key and certificate of the data dir, issued first when missing or expiring within a day. */
  async ensureServerCert(hostnames: readonly string[]): Promise<{ keyPem: string; certPem: string }> {
    let fresh = false;
    if (existsSync(this.paths.serverKey) && existsSync(this.paths.serverCert)) {
      const cert = new x509.X509Certificate(readFileSync(this.paths.serverCert, 'utf8'));
      const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
      const values = new Set(san?.names.items.map((n) => n.value) ?? []);
      fresh =
        cert.notAfter.getTime() > Date.now() + DAY_MS &&
        cert.issuer === this.cert.subject &&
        hostnames.every((h) => values.has(h)) &&
        (await cert.verify({ publicKey: this.cert.publicKey, signatureOnly: true }));
    }
    if (!fresh) await this.writeServerCert(hostnames);
    return { keyPem: readFileSync(this.paths.serverKey, 'utf8'), certPem: readFileSync(this.paths.serverCert, 'utf8') };
  }

  /** Revokes one certificate (rewrites issued.json and crl.pem); false when already revoked. */
  async revokeSerial(serial: string, now = new Date()): Promise<boolean> {
    const s = normalSerial(serial);
    const c = this.issuedCerts.find((x) => x.serial === s);
    if (!c) throw new AgentError('TLS_CERT_NOT_FOUND');
    if (c.revokedAt !== undefined) return false;
    c.revokedAt = now.getTime();
    await this.writeState();
    return true;
  }

  /** Revokes every certificate of a device, or all but `keep` (a rotation's old ones); returns the serials revoked now. */
  async revokeDevice(device: string, o: { keep?: string; now?: Date } = {}): Promise<string[]> {
    const keep = o.keep === undefined ? undefined : normalSerial(o.keep);
    const now = (o.now ?? new Date()).getTime();
    const revoked: string[] = [];
    for (const c of this.issuedCerts)
      if (c.kind === 'device' && c.device === device && c.revokedAt === undefined && c.serial !== keep) {
        c.revokedAt = now;
        revoked.push(c.serial);
      }
    if (revoked.length) await this.writeState();
    return revoked;
  }

  private async issue(
    who: { kind: 'device'; device: string } | { kind: 'server' },
    subject: string,
    publicKey: CryptoKey | x509.PublicKey,
    extensions: x509.Extension[],
    o: IssueOptions,
  ): Promise<{ serial: string; certPem: string }> {
    const serial = newSerial();
    const notBefore = o.notBefore ?? new Date(Date.now() - 60_000);
    const notAfter = o.notAfter ?? new Date(notBefore.getTime() + (o.validDays ?? 825) * DAY_MS);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial,
      subject,
      issuer: this.cert.subject,
      notBefore,
      notAfter,
      signingAlgorithm: EC_SIGN,
      publicKey,
      signingKey: this.key,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        await x509.AuthorityKeyIdentifierExtension.create(this.cert),
        ...extensions,
      ],
    });
    this.issuedCerts.push({ serial: normalSerial(serial), ...who, notAfter: notAfter.getTime() });
    await this.writeState();
    return { serial: normalSerial(serial), certPem: cert.toString('pem') };
  }

  /** issued.json, then a new CRL of every revoked serial (valid 30 days; rewritten at each revocation and CA load). */
  private async writeState(): Promise<void> {
    writePrivateFileAtomicSync(this.paths.issued, `${JSON.stringify({ version: 1, certs: this.issuedCerts }, null, 1)}\n`);
    const now = Date.now();
    const crl = await x509.X509CrlGenerator.create({
      issuer: this.cert.subject,
      thisUpdate: new Date(now - 60_000),
      nextUpdate: new Date(now + 30 * DAY_MS),
      signingAlgorithm: EC_SIGN,
      signingKey: this.key,
      extensions: [await x509.AuthorityKeyIdentifierExtension.create(this.cert)],
      entries: this.issuedCerts
        .filter((c) => c.revokedAt !== undefined)
        .map((c) => ({ serialNumber: c.serial.length % 2 ? `0${c.serial}` : c.serial, revocationDate: new Date(c.revokedAt!) })),
    });
    this.crl = x509.PemConverter.encode(crl.rawData, 'X509 CRL'); // OpenSSL's label (not 'CRL')
    writePrivateFileAtomicSync(this.paths.crl, this.crl);
  }
}
