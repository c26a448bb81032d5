/**
 * The kit's test CA for MQTT over TLS (docs/PROTOCOL.md §9.8): an ECDSA P-256 root made for one run,
 * that issues the kit broker's server certificate (SAN: localhost, 127.0.0.1, ::1 and the listen
 * address) and, for mutual TLS, a device client certificate (CN = device id, SAN URI
 * urn:vitalseal:device:<id>, EKU clientAuth) — the shape the ward CA gives them (agent/tls/wardCa.ts,
 * which the kit does not import: layer rule). Built by @peculiar/x509 on node's WebCrypto. A second
 * CA of the same kind serves TLS-03 (a server certificate the device must refuse).
 */
import { randomBytes, webcrypto } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CryptoKey, DAY_MS, deviceUri, EC_KEY, EC_SIGN, x509 } from '../platform/x509.ts';
import { writePrivateFileAtomicSync } from '../platform/privateFiles.ts';

/** A certificate and its private key, PEM. */
export interface CertAndKey {
  readonly certPem: string;
  readonly keyPem: string;
}

function newSerial(): string {
  const b = randomBytes(16);
  b[0] = 0x10 + (b[0]! % 0x70);
  return b.toString('hex');
}

async function keyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

export class KitTestCa {
  private constructor(
    private readonly key: CryptoKey,
    private readonly cert: x509.X509Certificate,
    readonly keyPem: string,
  ) {}

  /** A fresh CA, valid from a minute ago for `validDays` (default 30). */
  static async generate(o: { name?: string; validDays?: number } = {}): Promise<KitTestCa> {
    const keys = await webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: newSerial(),
      name: `CN=${o.name ?? 'vitalseal conform kit test CA'}, O=vitalseal`,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + (o.validDays ?? 30) * DAY_MS),
      signingAlgorithm: EC_SIGN,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    return new KitTestCa(keys.privateKey, cert, await keyPem(keys.privateKey));
  }

  get certPem(): string {
    return this.cert.toString('pem');
  }

  /** A server certificate for the kit's broker: localhost, 127.0.0.1, ::1 and `hostnames`. */
  issueServer(hostnames: readonly string[] = []): Promise<CertAndKey> {
    const names = [...new Set(['localhost', '127.0.0.1', '::1', ...hostnames.filter((h) => h !== '0.0.0.0' && h !== '::')])];
    const isIp = (h: string): boolean => /^[0-9.]+$/.test(h) || h.includes(':');
    return this.issue('CN=vitalseal conform kit broker', [
      new x509.SubjectAlternativeNameExtension(names.map((h) => ({ type: isIp(h) ? ('ip' as const) : ('dns' as const), value: h }))),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
    ]);
  }

  /** A device client certificate (mutual TLS): CN = the device id, SAN URI urn:vitalseal:device:<id>. */
  issueDevice(device: string): Promise<CertAndKey> {
    return this.issue(`CN=${device}`, [
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: deviceUri(device) }]),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
    ]);
  }

  private async issue(subject: string, extensions: x509.Extension[]): Promise<CertAndKey> {
    const keys = await webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
    const notBefore = new Date(Date.now() - 60_000);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: newSerial(),
      subject,
      issuer: this.cert.subject,
      notBefore,
      notAfter: new Date(notBefore.getTime() + 30 * DAY_MS),
      signingAlgorithm: EC_SIGN,
      publicKey: keys.publicKey,
      signingKey: this.key,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        await x509.AuthorityKeyIdentifierExtension.create(this.cert),
        ...extensions,
      ],
    });
    return { certPem: cert.toString('pem'), keyPem: await keyPem(keys.privateKey) };
  }
}

/**
 * Whether a peer certificate (node's getPeerCertificate()) names `device`: its CN, or a SAN URI
 * urn:vitalseal:device:<id> (§9.8).
 */
export function certNamesDevice(
  cert: { subject?: { CN?: string | string[] }; subjectaltname?: string } | undefined,
  device: string,
): boolean {
  if (!cert) return false;
  const cn = cert.subject?.CN;
  if ((Array.isArray(cn) ? cn : [cn]).includes(device)) return true;
  return (cert.subjectaltname ?? '').split(', ').includes(`URI:${deviceUri(device)}`);
}

/** What `--tls` gives the kit's broker, and the files it wrote for the vendor. */
export interface KitTlsSetup {
  readonly key: string;
  readonly cert: string;
  readonly ca?: string;
  readonly requireClientCert: boolean;
  /** Files written to the report directory (the kit's CA, its server certificate and key, a device certificate and key). */
  readonly written: readonly string[];
}

/**
 * The broker's TLS material: the given server certificate and key (and `ca` for client
 * certificates), or — when none is given — a test CA made for this run, a server certificate for
 * localhost/127.0.0.1/::1/`host`, and under mutual TLS a device certificate for `deviceId`, all
 * written to `dir` (keys 0600) so the vendor can provision the CA (and the device certificate).
 */
export async function prepareKitTls(o: {
  readonly dir: string;
  readonly deviceId: string;
  readonly host?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly ca?: string;
  readonly requireClientCert: boolean;
}): Promise<KitTlsSetup> {
  if (o.cert !== undefined && o.key !== undefined)
    return {
      key: o.key,
      cert: o.cert,
      ...(o.ca !== undefined ? { ca: o.ca } : {}),
      requireClientCert: o.requireClientCert,
      written: [],
    };
  const ca = await KitTestCa.generate();
  const server = await ca.issueServer(o.host !== undefined ? [o.host] : []);
  mkdirSync(o.dir, { recursive: true });
  const written: string[] = [];
  const put = (name: string, text: string, secret: boolean): void => {
    const path = join(o.dir, name);
    if (secret) writePrivateFileAtomicSync(path, text);
    else writeFileSync(path, text);
    written.push(path);
  };
  put('kit-ca.crt', ca.certPem, false);
  put('kit-server.crt', server.certPem, false);
  put('kit-server.key', server.keyPem, true);
  if (o.requireClientCert) {
    const device = await ca.issueDevice(o.deviceId);
    put('device.crt', device.certPem, false);
    put('device.key', device.keyPem, true);
  }
  return { key: server.keyPem, cert: server.certPem, ca: o.ca ?? ca.certPem, requireClientCert: o.requireClientCert, written };
}
