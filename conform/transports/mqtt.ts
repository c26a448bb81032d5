/**
 * The kit's own embedded MQTT 3.1.1 broker (aedes) for the device under test (docs/PROTOCOL.md §9):
 * it authenticates the device (client id = user name = device id, password = the provisioned
 * secret when one is given), records its CONNECT (protocol level, clean session, keep-alive, last
 * will), its subscriptions and every PUBLISH (topic, QoS, retain, dup), keeps the current ticket
 * retained on the ticket topic, and acknowledges readings — or withholds the PUBACK, while it still
 * reads the connection on so that resends are seen. It can close the device's connection and
 * refuse reconnections for a while. A packet larger than `maxPacketBytes` closes the connection.
 */
import { Aedes, type AuthenticateError, type Client, type ConnectPacket, type PublishPacket } from 'aedes';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { readingTopic, statusTopic, ticketTopic } from '../../protocol/topics.ts';
import { ConformError } from '../errors.ts';
import { parseMqttStatus } from '../intake.ts';
import type { ConnectInfo, TlsConnectInfo } from '../observations.ts';
import { certNamesDevice, type CertAndKey } from '../tlsCa.ts';
import { MqttPacketGuard } from './mqttPacketGuard.ts';
import { ACK_ALL, type AckPolicy, type KitTransport, type TransportHost } from './transport.ts';

export interface MqttTransportOptions {
  /** TCP port (0: any free one; read `port` after start). */
  readonly port: number;
  /** Listen address (default 127.0.0.1; a device on the lab network needs 0.0.0.0 or the laptop's address). */
  readonly host?: string;
  /** The device's provisioned MQTT password; without it any password is accepted (and recorded as unchecked). */
  readonly secret?: string;
  /** Largest MQTT packet accepted (default 8192, the agent's default §9.2). */
  readonly maxPacketBytes?: number;
  /** MQTT over TLS (§9.8): the broker's key and certificate, TLS 1.2 at least; `requireClientCert`: mutual TLS against `ca`. */
  readonly tls?: MqttTlsOptions;
}

export interface MqttTlsOptions {
  readonly key: string;
  readonly cert: string;
  /** The CA the device's client certificate must chain to (mutual TLS). */
  readonly ca?: string;
  readonly requireClientCert?: boolean;
}

/** aedes' internals used to keep reading a connection while a PUBACK is withheld (present since aedes 0.x). */
interface AedesClientInternals {
  _parsingBatch: number;
  _paused?: boolean;
  conn: Socket;
  _parser: { parse(buf: Buffer): number };
  resume(): void;
  will?: unknown;
}

function refusal(message: string, returnCode: 3 | 4 | 5): AuthenticateError {
  return Object.defineProperty(new ConformError('CONFORM_LINK_FAILED', message), 'returnCode', {
    value: returnCode,
  }) as unknown as AuthenticateError;
}

export class MqttTransport implements KitTransport {
  readonly kind = 'mqtt';
  ackPolicy: AckPolicy = ACK_ALL;
  private aedes: Aedes | undefined;
  private server: Server | TlsServer | undefined;
  private readonly tlsOf = new WeakMap<Socket, TlsConnectInfo>();
  /** TLS connections whose handshake completed (the kit's side of it), over the run. */
  tlsConnections = 0;
  private readonly sockets = new Set<Socket>();
  private readonly connects = new WeakMap<Client, ConnectPacket>();
  private device: Client | undefined;
  private refuseUntil = 0;
  private refuseCount = 0;
  private readonly withheld: Array<{ client: Client; cb: (error?: Error | null) => void }> = [];
  private static readonly MAX_WITHHELD = 1024;
  port = 0;

  constructor(
    private readonly o: MqttTransportOptions,
    private readonly host: TransportHost,
  ) {}

  get linkUp(): boolean {
    return this.device !== undefined;
  }

  async start(): Promise<void> {
    const aedes = await Aedes.createBroker({
      maxClientsIdLength: 64,
      connectTimeout: 10_000,
      preConnect: (client, packet, cb) => {
        this.connects.set(client, packet);
        cb(null, true);
      },
      authenticate: (client, username, password, done) => this.authenticate(client, username, password, done),
      authorizePublish: (client, packet, cb) => this.authorizePublish(client, packet, cb),
      authorizeSubscribe: (client, sub, cb) => {
        const granted = client !== null && client === this.device && sub.topic === ticketTopic(this.host.deviceId);
        this.host.observations.add({ kind: 'subscribe', topic: sub.topic.slice(0, 256), qos: sub.qos, granted });
        cb(null, granted ? { ...sub, qos: Math.min(sub.qos, 1) as 0 | 1 } : null);
      },
    });
    aedes.on('clientDisconnect', (client) => this.onGone(client, 'disconnected'));
    aedes.on('clientError', () => undefined);
    aedes.on('connectionError', () => undefined);
    this.aedes = aedes;
    const tls = this.o.tls;
    const server = tls
      ? createTlsServer(
          { ...this.secureContext(tls), requestCert: tls.requireClientCert === true, rejectUnauthorized: tls.requireClientCert === true },
          (socket) => this.handleSocket(socket),
        )
      : createServer((socket) => this.handleSocket(socket));
    if (tls)
      server.on(
        'tlsClientError',
        (e: Error & { code?: string }) =>
          void this.host.observations.add({ kind: 'tls-error', reason: `${e.code ?? e.name}: ${e.message}`.slice(0, 200) }),
      );
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(new ConformError('CONFORM_LINK_FAILED', `cannot listen on port ${this.o.port}`, { cause: e })));
      server.listen(this.o.port, this.o.host ?? '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : this.o.port;
  }

  /** Whether the broker listens MQTT over TLS, and with mutual TLS. */
  get tlsMode(): 'none' | 'tls' | 'mutual' {
    return this.o.tls ? (this.o.tls.requireClientCert ? 'mutual' : 'tls') : 'none';
  }

  private secureContext(tls: MqttTlsOptions, serverCert?: CertAndKey): { key: string; cert: string; ca?: string; minVersion: 'TLSv1.2' } {
    return {
      key: serverCert?.keyPem ?? tls.key,
      cert: serverCert?.certPem ?? tls.cert,
      ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
      minVersion: 'TLSv1.2',
    };
  }

  /** Serves `serverCert` to new TLS connections from now on (TLS-03: one of another CA), or the configured one again (undefined). */
  useServerCert(serverCert: CertAndKey | undefined): void {
    const tls = this.o.tls;
    const server = this.server;
    if (!tls || !server || !('setSecureContext' in server)) return;
    server.setSecureContext(this.secureContext(tls, serverCert));
    this.host.observations.add({
      kind: 'kit',
      action: serverCert ? 'TLS: serving a server certificate of another CA' : 'TLS: serving the kit server certificate again',
    });
  }

  private handleSocket(socket: Socket): void {
    const aedes = this.aedes;
    if (!aedes) return void socket.destroy();
    if ('getProtocol' in socket) {
      this.tlsConnections++;
      const t = socket as TLSSocket;
      const peer = t.getPeerCertificate();
      const hasPeer = peer !== null && typeof peer === 'object' && Object.keys(peer).length > 0;
      const cn = hasPeer ? peer.subject?.CN : undefined;
      this.tlsOf.set(socket, {
        protocol: t.getProtocol() ?? 'unknown',
        cipher: t.getCipher()?.name ?? 'unknown',
        clientCert: hasPeer,
        authorized: t.authorized,
        ...(cn !== undefined ? { clientCn: String(cn).slice(0, 128) } : {}),
        namesDevice: hasPeer && certNamesDevice(peer, this.host.deviceId),
      });
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const client = aedes.handle(socket) as unknown as Partial<AedesClientInternals>;
    const parser = client._parser;
    if (!parser) return; // an aedes without the parser internals: no size guard (its own 256 MiB limit applies)
    const guard = new MqttPacketGuard(this.o.maxPacketBytes ?? 8192);
    const parse = parser.parse.bind(parser);
    parser.parse = (buf: Buffer): number => {
      const problem = guard.scan(buf);
      if (problem) {
        this.host.observations.add({ kind: 'disconnect', reason: `kit closed the connection: ${problem}` });
        socket.destroy();
        return 0;
      }
      return parse(buf);
    };
  }

  private authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const packet = this.connects.get(client);
    const will = packet?.will;
    const conn = (client as unknown as Partial<AedesClientInternals>).conn;
    const tls = conn ? this.tlsOf.get(conn) : undefined;
    const info: ConnectInfo = {
      clientId: String(client.id).slice(0, 128),
      ...(tls ? { tls } : {}),
      ...(username !== undefined ? { username: username.slice(0, 128) } : {}),
      ...(this.o.secret !== undefined ? { passwordMatches: password !== undefined && password.toString('utf8') === this.o.secret } : {}),
      ...(packet?.protocolVersion !== undefined ? { protocolVersion: packet.protocolVersion } : {}),
      ...(packet?.clean !== undefined ? { clean: packet.clean } : {}),
      ...(packet?.keepalive !== undefined ? { keepalive: packet.keepalive } : {}),
      ...(will
        ? {
            will: {
              topic: String(will.topic).slice(0, 256),
              payload: new Uint8Array((will.payload as Buffer | undefined) ?? Buffer.alloc(0)).slice(0, 512),
              qos: will.qos ?? 0,
              retain: Boolean(will.retain),
            },
          }
        : {}),
    };
    const refuse = (why: string, rc: 3 | 4 | 5): void => {
      this.host.observations.add({ kind: 'connect', connect: info, accepted: false, refusal: why });
      done(refusal(why, rc), null);
    };
    const dev = this.host.deviceId;
    if (Date.now() < this.refuseUntil || this.refuseCount > 0) {
      if (this.refuseCount > 0) this.refuseCount--;
      return refuse('kit refuses connections for now (server unavailable)', 3);
    }
    if (client.id !== dev || username !== dev) return refuse('client id and user name must be the device id', 5);
    if (info.passwordMatches === false) return refuse('bad password', 4);
    if (this.tlsMode === 'mutual' && !tls?.namesDevice) return refuse('the client certificate does not name the device (§9.8)', 5);
    if (this.device && this.device !== client) {
      const old = this.device;
      this.device = undefined;
      old.close();
    }
    this.device = client;
    this.host.observations.add({ kind: 'connect', connect: info, accepted: true });
    done(null, true);
  }

  private authorizePublish(client: Client | null, packet: PublishPacket, cb: (error?: Error | null) => void): void {
    const dev = this.host.deviceId;
    const payload = new Uint8Array(packet.payload as Buffer);
    if (client !== null && (client as unknown as AedesClientInternals).will === packet) {
      this.host.observations.add({ kind: 'will', topic: packet.topic.slice(0, 256), payload: payload.slice(0, 512) });
      return cb(null);
    }
    if (client === null || client !== this.device) return cb(null);
    const arrival = { topic: packet.topic, qos: packet.qos, retain: packet.retain, dup: packet.dup };
    if (packet.topic === readingTopic(dev)) {
      packet.retain = false;
      const r = this.host.intake(payload, arrival);
      if (this.ackPolicy(r) || packet.qos === 0) return cb(null);
      if (this.withheld.length >= MqttTransport.MAX_WITHHELD) {
        client.close();
        return;
      }
      this.withheld.push({ client, cb });
      this.readOn(client as unknown as AedesClientInternals);
      return;
    }
    if (packet.topic === statusTopic(dev)) {
      this.host.observations.add({ kind: 'status', status: parseMqttStatus(payload), raw: payload.slice(0, 512), arrival });
      return cb(null);
    }
    this.host.observations.add({
      kind: 'publish',
      topic: packet.topic.slice(0, 256),
      qos: packet.qos,
      retain: packet.retain,
      size: payload.length,
    });
    cb(new ConformError('CONFORM_LINK_FAILED', 'not authorized'));
  }

  /**
   * aedes reads a connection's next chunk only when every packet of the last one is done; a
   * withheld PUBACK would stop it. Release the publish from aedes' count and read on (the count
   * going below zero when the PUBACK is finally sent is clamped by aedes).
   */
  private readOn(c: AedesClientInternals): void {
    if (typeof c._parsingBatch !== 'number') return;
    c._parsingBatch--;
    if (c._parsingBatch > 0) return;
    setImmediate(() => {
      if (c.conn.destroyed) return;
      if (c._paused) return c.resume();
      if (c._parsingBatch > 0) return;
      c._parsingBatch = 0;
      const buf = c.conn.read() as Buffer | null;
      if (buf) c._parser.parse(buf);
    });
  }

  private onGone(client: Client, reason: string): void {
    if (client !== this.device) return;
    this.device = undefined;
    this.withheld.length = 0;
    this.host.observations.add({ kind: 'disconnect', reason });
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    const aedes = this.aedes;
    this.aedes = undefined;
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
  }

  setTicket(ticket: Uint8Array): Promise<void> {
    return this.offerTicket(ticket);
  }

  offerTicket(ticket: Uint8Array): Promise<void> {
    const aedes = this.aedes;
    if (!aedes) return Promise.resolve();
    return new Promise((resolve) =>
      aedes.publish(
        { cmd: 'publish', topic: ticketTopic(this.host.deviceId), payload: Buffer.from(ticket), qos: 1, retain: true, dup: false },
        () => resolve(),
      ),
    );
  }

  async withholdTicket(): Promise<void> {
    const persistence = (this.aedes as unknown as { persistence?: { storeRetained(p: object): Promise<void> } } | undefined)?.persistence;
    await persistence?.storeRetained({
      cmd: 'publish',
      topic: ticketTopic(this.host.deviceId),
      payload: Buffer.alloc(0),
      qos: 1,
      retain: true,
      dup: false,
    });
  }

  releaseWithheld(): void {
    for (const w of this.withheld.splice(0)) if (w.client === this.device) w.cb(null);
  }

  /** Closes the device's connection (no DISCONNECT from it: its last will is published) and refuses reconnection for `ms`. */
  async dropLink(ms: number): Promise<void> {
    this.refuseUntil = Date.now() + ms;
    this.host.observations.add({ kind: 'kit', action: `connection closed, reconnection refused for ${ms} ms` });
    const d = this.device;
    if (d) {
      this.onGone(d, 'closed by the kit');
      d.close();
    }
  }

  /** Refuses the next `n` connection attempts with CONNACK 3 (server unavailable). */
  refuseNext(n: number): void {
    this.refuseCount = n;
  }
}
