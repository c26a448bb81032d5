/**
 * The agent's TLS (issue #20; docs/PROTOCOL.md §9.8): the key, certificate, trusted CA and CRL its
 * TLS listeners use (the embedded broker's MQTT over TLS and the HTTPS API), the client-certificate
 * policy, the refusal counter and the reload of every listener's secure context (rotation of the
 * agent's TLS key, a new CRL after a revocation) without closing a connection.
 *
 * Handshake policy: TLS 1.2 or 1.3 (tls.minVersion), ECDHE key exchange with AEAD ciphers only;
 * the client certificate is requested and verified against the ward CA and its CRL by OpenSSL;
 * node reports the verdict (authorizationError) and `admitSocket` refuses and counts a bad one
 * before any MQTT byte is read (rejectUnauthorized is false only so that the reason can be counted).
 */
import { readFileSync } from 'node:fs';
import type { Server as TlsServer, SecureContextOptions, TLSSocket } from 'node:tls';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { AgentConfig } from '../config.ts';
import { AgentError } from '../errors.ts';
import { normalSerial, WardCa } from './wardCa.ts';

/** Why a TLS connection was refused (label `reason` of vitalseal_tls_refusals_total). */
export type TlsRefusalReason =
  | 'not_tls'
  | 'protocol_version'
  | 'handshake'
  | 'no_client_cert'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_ca'
  | 'self_signed'
  | 'revoked'
  | 'bad_cert'
  | 'identity_mismatch'
  | 'unknown_device';

/** The device a verified client certificate names (URI SAN urn:vitalseal:device:<id>, else its CN) and its serial. */
export interface PeerIdentity {
  readonly device: string | undefined;
  readonly serial: string;
}

/**
 * TLS 1.2 suites: ECDHE with AES-GCM or ChaCha20-Poly1305 only (no RSA key exchange, no CBC, no SHA-1
 * MACs); TLS 1.3 uses OpenSSL's defaults (all AEAD).
 */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** node's authorizationError codes → refusal reasons. */
function reasonOfVerifyError(code: string, selfIssued: boolean): TlsRefusalReason {
  switch (code) {
    case 'CERT_HAS_EXPIRED':
      return 'expired';
    case 'CERT_NOT_YET_VALID':
      return 'not_yet_valid';
    case 'CERT_REVOKED':
      return 'revoked';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return 'self_signed';
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_SIGNATURE_FAILURE':
    // the agent holds a CRL of the ward CA only: no CRL means another issuer (OpenSSL reports it before the trust failure)
    case 'UNABLE_TO_GET_CRL':
      return selfIssued ? 'self_signed' : 'wrong_ca';
    default:
      return 'bad_cert';
  }
}

/** A failed handshake (the server's tlsClientError) → refusal reason. */
export function reasonOfHandshakeError(err: Error & { code?: string }): TlsRefusalReason {
  const text = `${err.code ?? ''} ${err.message}`.toLowerCase();
  if (text.includes('unsupported protocol') || text.includes('unsupported_protocol') || text.includes('version too low'))
    return 'protocol_version';
  if (text.includes('wrong version number') || text.includes('http request') || text.includes('packet length too long')) return 'not_tls';
  return 'handshake';
}

interface Material {
  key: string;
  cert: string;
  ca: string;
  crl: string | undefined;
}

export class AgentTls {
  private readonly servers: TlsServer[] = [];
  private readonly refusals: Counter<'reason' | 'listener'>;
  private readonly revocationListeners: Array<(serials: ReadonlySet<string>) => void> = [];

  private constructor(
    readonly config: AgentConfig['tls'],
    /** The ward CA when the agent's TLS material comes from <dataDir>/tls/ (else undefined: operator files). */
    readonly ca: WardCa | undefined,
    private material: Material,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.refusals = new Counter({
      name: 'vitalseal_tls_refusals_total',
      help: 'TLS connections refused (handshake, client certificate or its binding to the MQTT identity) by reason and listener',
      labelNames: ['reason', 'listener'],
      registers: [registry],
    });
  }

  /** The TLS of an agent whose config has tls.enabled: the ward CA of the data dir (created when missing), or operator files. */
  static async start(config: AgentConfig, logger: Logger, registry: Registry): Promise<AgentTls> {
    const t = config.tls;
    const ca = t.certFile === undefined || t.caFile === undefined ? await WardCa.loadOrInit(config.dataDir) : undefined;
    const material = await AgentTls.readMaterial(t, ca);
    return new AgentTls(t, ca, material, logger, registry);
  }

  private static async readMaterial(t: AgentConfig['tls'], ca: WardCa | undefined): Promise<Material> {
    const read = (f: string): string => {
      try {
        return readFileSync(f, 'utf8');
      } catch {
        throw new AgentError('TLS_FILE_INVALID', `cannot read ${f}`);
      }
    };
    const own = t.certFile !== undefined && t.keyFile !== undefined ? { keyPem: read(t.keyFile), certPem: read(t.certFile) } : undefined;
    const server = own ?? (await ca!.ensureServerCert(t.hostnames));
    const crl = t.crlFile !== undefined ? read(t.crlFile) : ca?.crlPem || undefined;
    return { key: server.keyPem, cert: server.certPem, ca: t.caFile !== undefined ? read(t.caFile) : ca!.certPem, crl };
  }

  /** Options of a TLS listener of the broker: mutual TLS requested, verified by OpenSSL, judged by `admitSocket`. */
  secureContextOptions(): SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean; honorCipherOrder: boolean } {
    const m = this.material;
    return {
      key: m.key,
      cert: m.cert,
      ca: m.ca,
      ...(m.crl ? { crl: m.crl } : {}),
      minVersion: this.config.minVersion,
      ciphers: TLS12_CIPHERS,
      ecdhCurve: 'X25519:P-256:P-384',
      honorCipherOrder: true,
      requestCert: true,
      rejectUnauthorized: false,
    };
  }

  /** Options of the HTTPS API (server authentication only: clients authenticate by token or signed request). */
  httpsOptions(): { key: string; cert: string; minVersion: AgentConfig['tls']['minVersion']; ciphers: string; honorCipherOrder: boolean } {
    return {
      key: this.material.key,
      cert: this.material.cert,
      minVersion: this.config.minVersion,
      ciphers: TLS12_CIPHERS,
      honorCipherOrder: true,
    };
  }

  /** The CA certificate clients should trust (PEM). */
  get caPem(): string {
    return this.material.ca;
  }

  /** The agent's current server certificate (PEM). */
  get certPem(): string {
    return this.material.cert;
  }

  /** A listener whose secure context follows reloads; its failed handshakes are counted. */
  register(server: TlsServer, listener: 'mqtt' | 'https', httpsMode = false): void {
    this.servers.push(server);
    (server as TlsServer & { __vitalsealHttps?: boolean }).__vitalsealHttps = httpsMode;
    server.on('tlsClientError', (err: Error & { code?: string }) => {
      const reason = reasonOfHandshakeError(err);
      this.refused(reason, listener);
      this.logger.debug({ reason, listener, err: err.message }, 'TLS handshake refused');
    });
  }

  refused(reason: TlsRefusalReason, listener: 'mqtt' | 'https' = 'mqtt'): void {
    this.refusals.inc({ reason, listener });
  }

  /**
   * Judges a broker connection once its handshake is done: a client certificate must verify (ward CA,
   * validity, CRL); a connection without one passes only when clientCerts is 'optional' (it must then
   * log in with its password). Returns the peer's identity, null for no certificate, or undefined when
   * the socket was refused (destroyed, counted).
   */
  admitSocket(socket: TLSSocket): PeerIdentity | null | undefined {
    const cert = socket.getPeerCertificate();
    const hasCert = cert !== null && typeof cert === 'object' && Object.keys(cert).length > 0;
    if (!hasCert) {
      if (this.config.clientCerts === 'optional') return null;
      return this.refuseSocket(socket, 'no_client_cert');
    }
    if (!socket.authorized) {
      const code = String(socket.authorizationError ?? '');
      return this.refuseSocket(socket, reasonOfVerifyError(code, cert.issuer?.CN === cert.subject?.CN), code);
    }
    const serial = normalSerial(cert.serialNumber);
    if (this.ca?.isRevoked(serial)) return this.refuseSocket(socket, 'revoked');
    const uri = /(?:^|, )URI:urn:vitalseal:device:([^,\s]+)/.exec(cert.subjectaltname ?? '')?.[1];
    const cn = typeof cert.subject?.CN === 'string' ? cert.subject.CN : undefined;
    return { device: uri ?? cn, serial };
  }

  private refuseSocket(socket: TLSSocket, reason: TlsRefusalReason, verifyError?: string): undefined {
    this.refused(reason);
    this.logger.warn({ reason, verifyError, remote: socket.remoteAddress }, 'TLS client refused');
    socket.destroy();
    return undefined;
  }

  isRevoked(serial: string): boolean {
    return this.ca?.isRevoked(serial) ?? false;
  }

  /** Called with the serials revoked (after the CRL is reloaded): the broker closes connections made with them. */
  onRevocation(l: (serials: ReadonlySet<string>) => void): void {
    this.revocationListeners.push(l);
  }

  /** Re-reads the key, certificate, CA and CRL and gives every listener the new secure context (open connections go on). */
  async reload(): Promise<void> {
    this.material = await AgentTls.readMaterial(this.config, this.ca);
    for (const s of this.servers) {
      const https = (s as TlsServer & { __vitalsealHttps?: boolean }).__vitalsealHttps === true;
      s.setSecureContext(https ? this.httpsOptions() : this.secureContextOptions());
    }
    this.logger.info({ listeners: this.servers.length }, 'TLS key, certificate and CRL reloaded');
  }

  /** Rotation of the agent's TLS key: a new key and server certificate from the ward CA, then a reload. */
  async rotateServerKey(): Promise<{ serial: string }> {
    if (!this.ca) throw new AgentError('TLS_CA_MISSING', 'the agent uses operator-managed TLS files: replace them and reload');
    const r = await this.ca.writeServerCert(this.config.hostnames);
    await this.reload();
    return r;
  }

  /** Revokes certificates (one serial, or a device's: all, or all but `keep`); reloads the CRL and cuts their connections. */
  async revoke(target: { serial: string } | { device: string; keep?: string }): Promise<string[]> {
    if (!this.ca) return [];
    const serials =
      'serial' in target
        ? (await this.ca.revokeSerial(target.serial))
          ? [normalSerial(target.serial)]
          : []
        : await this.ca.revokeDevice(target.device, target.keep !== undefined ? { keep: target.keep } : {});
    if (serials.length === 0) return serials;
    await this.reload();
    const set = new Set(serials);
    for (const l of this.revocationListeners) l(set);
    return serials;
  }
}
