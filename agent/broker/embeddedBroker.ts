import { Aedes, type Client, type AuthenticateError, type PublishPacket } from 'aedes';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, WebSocketServer } from 'ws';
import type { AgentTls, PeerIdentity } from '../tls/agentTls.ts';
import { AgentError } from '../errors.ts';
import type { Logger } from 'pino';
import type { Ingestor } from '../ingest/ingestor.ts';
import type { AgentStore } from '../store/agentStore.ts';
import type { Clock } from '../../protocol/rng.ts';
import { PacketSizeScanner } from './packetSizeScanner.ts';
import { PublishWindow } from './publishWindow.ts';
import { isDeviceId } from '../../protocol/deviceId.ts';
import { parseTopic, readingTopic, statusTopic, ticketTopic } from '../../protocol/topics.ts';

export interface BrokerEvents {
  onAuthFailure?(reason: 'bad_credentials' | 'bad_client_id' | 'bad_will' | 'connection_limit' | 'per_ip_limit'): void;
  onAclDenied?(action: 'publish' | 'subscribe'): void;
  onOnlineChange?(connected: number): void;
}

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  maxConnections: number;
  /** Open connections per remote address (default: unlimited); refused ones count as 'per_ip_limit'. */
  maxConnectionsPerIp?: number;
  /** Loopback addresses are exempt from maxConnectionsPerIp (default true). */
  perIpExemptLoopback?: boolean;
  maxPacketBytes: number;
  /** Readings of one connection waiting for their commit while aedes reads on (default 64; PublishWindow). */
  maxInflightPerDevice?: number;
  store: AgentStore;
  ingestor: Ingestor;
  clock: Clock;
  logger: Logger;
  events?: BrokerEvents;
  /** A status a device published on its own status topic (or its last will): agent/deviceStatus.ts reads it. */
  onStatus?: (device: string, payload: Uint8Array) => void;
  /** MQTT over TLS (issue #20): the agent's TLS material and policy; `listenTls` opens its listener, `listenWss` the WebSocket one. */
  tls?: { agentTls: AgentTls; host: string; port: number; websocketPort?: number | undefined };
}

/** aedes's refusal of a CONNECT (it never leaves the broker): `returnCode` is the CONNACK code (4 bad user name or password, 5 not authorized). */
class ConnectRefusal extends Error {
  override readonly name = 'ConnectRefusal';
  constructor(
    message: string,
    readonly returnCode: 4 | 5,
  ) {
    super(message);
  }
}

function authError(message: string, returnCode: 4 | 5): AuthenticateError {
  return new ConnectRefusal(message, returnCode) as unknown as AuthenticateError; // aedes types returnCode as its const enum
}

/**
 * The agent's own MQTT 3.1.1 broker (aedes). Hooks implement:
 * - authenticate (MQTT-3.1.3): username = device id = client identifier, password = device secret
 *   (stored as a salted hash); a last will, if any, must be the device's own status topic;
 * - authorizePublish (MQTT-3.3.1 / MQTT-4.3.2): a device publishes only under vs/v1/<its id>/{r,status};
 *   a status (also a last will) goes to `onStatus` (the agent's status book: strict, bounded, counted);
 *   a reading is committed (group commit) BEFORE the callback, so aedes sends PUBACK only after
 *   the fsync'd commit (MQTT-4.3.2-2 "MUST send a PUBACK … after it has taken ownership"); while a
 *   reading waits, aedes reads the connection on (PublishWindow, up to maxInflightPerDevice), and
 *   PUBACKs go out in the order the PUBLISHes came (MQTT-4.6.0-2);
 * - authorizeSubscribe (MQTT-3.8.4): a device subscribes only to vs/v1/<its id>/ticket (else SUBACK 0x80);
 * - publish (after the PUBACK, MQTT-3.3.4 delivery to matching subscriptions): a reading is not routed,
 *   as no subscription can match it (see `skipRoutingOfReadings`).
 */
export class EmbeddedBroker {
  readonly aedes: Aedes;
  private server: Server | undefined;
  private tlsServer: TlsServer | undefined;
  private wssServer: HttpsServer | undefined;
  private wss: WebSocketServer | undefined;
  /** The verified client certificate of each TLS connection (its socket = aedes' client.conn). */
  private readonly peerOf = new WeakMap<object, PeerIdentity>();
  private readonly deviceOf = new WeakMap<Client, string>();
  /** vs/v1/<dev>/r of each authenticated client: a reading's topic is checked by one string compare. */
  private readonly readingTopicOf = new WeakMap<Client, string>();
  private readonly sockets = new Set<Socket>();
  /** Open sockets per remote address (only addresses the per-IP cap applies to). */
  private readonly perIp = new Map<string, number>();
  private connected = 0;
  private readonly window: PublishWindow;
  /** PUBLISH packets that authorizePublish took as readings (their routing is skipped). */
  private readonly readings = new WeakSet<PublishPacket>();

  private constructor(
    aedes: Aedes,
    private readonly o: EmbeddedBrokerOptions,
  ) {
    this.aedes = aedes;
    this.window = new PublishWindow(o.maxInflightPerDevice ?? 64);
  }

  static async create(o: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
    let self: EmbeddedBroker | undefined;
    const aedes = await Aedes.createBroker({
      maxClientsIdLength: 64,
      connectTimeout: 10_000,
      preConnect: (_client, _packet, cb) => {
        if (self!.aedes.connectedClients >= o.maxConnections) {
          o.events?.onAuthFailure?.('connection_limit');
          cb(new Error('connection limit reached'), false);
          return;
        }
        cb(null, true);
      },
      authenticate: (client, username, password, done) => self!.authenticate(client, username, password, done),
      authorizePublish: (client, packet, cb) => self!.authorizePublish(client, packet, cb),
      authorizeSubscribe: (client, sub, cb) => {
        const dev = self!.deviceOf.get(client);
        if (dev !== undefined && sub.topic === ticketTopic(dev)) {
          cb(null, { ...sub, qos: Math.min(sub.qos, 1) as 0 | 1 });
          return;
        }
        o.events?.onAclDenied?.('subscribe');
        cb(null, null);
      },
    });
    self = new EmbeddedBroker(aedes, o);
    self.skipRoutingOfReadings();
    aedes.on('client', (client) => self!.setOnline(client, true));
    aedes.on('clientDisconnect', (client) => self!.setOnline(client, false));
    aedes.on('clientError', (_client, err) => o.logger.debug({ err: err.message }, 'mqtt client error'));
    aedes.on('connectionError', (_client, err) => o.logger.debug({ err: err.message }, 'mqtt connection error'));
    return self;
  }

  async listen(): Promise<{ host: string; port: number }> {
    const server = createServer((socket) => this.handleSocket(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port, this.o.host, () => resolve());
    });
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('broker has no TCP address');
    return { host: addr.address, port: addr.port };
  }

  /**
   * MQTT over TLS: each connection's handshake (TLS version, ciphers, the client certificate against
   * the ward CA and CRL) is judged by AgentTls.admitSocket before aedes reads a byte; a certificate's
   * device is then bound to the MQTT identity in `authenticate`. Revoked serials close their connections.
   */
  async listenTls(): Promise<{ host: string; port: number }> {
    const t = this.o.tls;
    if (!t) throw new AgentError('CONFIG_INVALID', 'the embedded broker has no TLS configuration');
    const server = createTlsServer(t.agentTls.secureContextOptions(), (socket) => {
      const peer = t.agentTls.admitSocket(socket);
      if (peer === undefined) return;
      if (peer !== null) this.peerOf.set(socket, peer);
      this.handleSocket(socket);
    });
    t.agentTls.register(server, 'mqtt');
    t.agentTls.onRevocation((serials) => this.disconnectCertificates(serials));
    this.tlsServer = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(t.port, t.host, () => resolve());
    });
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('broker has no TCP address (TLS listener)');
    return { host: addr.address, port: addr.port };
  }

  /**
   * MQTT over WebSocket over TLS (wss, subprotocol "mqtt"): the same secure context, handshake policy and
   * client-certificate judgement as `listenTls` (the TLS socket under the upgrade is admitted by
   * AgentTls.admitSocket before any MQTT byte); the WebSocket becomes a stream aedes reads like a socket.
   */
  async listenWss(): Promise<{ host: string; port: number }> {
    const t = this.o.tls;
    if (!t || t.websocketPort === undefined) throw new AgentError('CONFIG_INVALID', 'the embedded broker has no WebSocket TLS port');
    const server = createHttpsServer(t.agentTls.secureContextOptions());
    // one MQTT packet per WebSocket message at most maxPacketBytes (the size scanner judges the packet itself)
    const wss = new WebSocketServer({ server, maxPayload: Math.max(64 * 1024, this.o.maxPacketBytes * 2) });
    wss.on('connection', (ws, req) => {
      const socket = req.socket as TLSSocket;
      const peer = t.agentTls.admitSocket(socket);
      if (peer === undefined) return;
      const stream = createWebSocketStream(ws);
      if (peer !== null) this.peerOf.set(stream, peer);
      this.handleConnection(stream, socket);
    });
    t.agentTls.register(server as unknown as TlsServer, 'mqtt');
    this.wssServer = server;
    this.wss = wss;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(t.websocketPort, t.host, () => resolve());
    });
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('broker has no TCP address (WebSocket TLS listener)');
    return { host: addr.address, port: addr.port };
  }

  /** Closes the connections made with these certificate serials (revoked: their next handshake is refused). */
  disconnectCertificates(serials: ReadonlySet<string>): void {
    const clients = (this.aedes as unknown as { clients: Record<string, Client | undefined> }).clients;
    for (const client of Object.values(clients)) {
      const peer = client ? this.peerOf.get(client.conn as object) : undefined;
      if (client && peer && serials.has(peer.serial)) {
        this.o.logger.info({ device: this.deviceOf.get(client) }, 'connection of a revoked certificate closed');
        client.close();
      }
    }
  }

  /**
   * The socket goes straight to aedes; each chunk passes the size scanner just before aedes'
   * parser (its `_parser.parse`, stable since aedes 0.x) so an oversize packet closes the
   * connection before anything is buffered — without a stream layer per connection.
   */
  private handleSocket(socket: Socket | TLSSocket): void {
    this.handleConnection(socket, socket);
  }

  /** A connection's MQTT byte stream (the socket itself, or a WebSocket's stream) over its TCP socket. */
  private handleConnection(stream: Duplex, socket: Socket | TLSSocket): void {
    if (!this.admitAddress(socket)) return;
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    if (stream !== socket)
      stream.on('error', () => {
        stream.destroy();
        socket.destroy();
      });
    const client = this.aedes.handle(stream as Socket) as unknown as { _parser?: { parse(buf: Buffer): number } };
    this.window.attach(client);
    const parser = client._parser;
    if (!parser) throw new Error('aedes client has no parser: PacketSizeScanner cannot be installed');
    const scanner = new PacketSizeScanner(this.o.maxPacketBytes);
    const parse = parser.parse.bind(parser);
    parser.parse = (buf: Buffer): number => {
      const problem = scanner.scan(buf);
      if (problem) {
        this.o.logger.warn({ code: problem }, 'mqtt connection closed: packet too large or malformed');
        socket.destroy();
        return 0;
      }
      return parse(buf);
    };
  }

  /** Counts the socket against its remote address; false (socket destroyed, refusal counted) beyond the cap. */
  private admitAddress(socket: Socket): boolean {
    const cap = this.o.maxConnectionsPerIp;
    const ip = socket.remoteAddress;
    if (cap === undefined || ip === undefined || ((this.o.perIpExemptLoopback ?? true) && isLoopback(ip))) return true;
    const n = this.perIp.get(ip) ?? 0;
    if (n >= cap) {
      this.o.events?.onAuthFailure?.('per_ip_limit');
      socket.destroy();
      return false;
    }
    this.perIp.set(ip, n + 1);
    socket.once('close', () => {
      const left = (this.perIp.get(ip) ?? 1) - 1;
      if (left > 0) this.perIp.set(ip, left);
      else this.perIp.delete(ip);
    });
    return true;
  }

  private authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    if (!username || !isDeviceId(username) || client.id !== username) {
      this.o.events?.onAuthFailure?.('bad_client_id');
      done(authError('client id must equal the device id (username)', 5), null);
      return;
    }
    const peer = this.peerOf.get(client.conn as object);
    if (peer !== undefined) {
      // mutual TLS: the certificate is the credential, bound to the MQTT identity (§9.8)
      if (peer.device !== username) {
        this.o.tls?.agentTls.refused('identity_mismatch');
        this.o.events?.onAuthFailure?.('bad_credentials');
        done(authError('the client certificate names another device', 5), null);
        return;
      }
      if (this.o.tls?.agentTls.isRevoked(peer.serial) || this.o.ingestor.isRevoked(username) || !this.o.store.getDevice(username)) {
        this.o.tls?.agentTls.refused(this.o.store.getDevice(username) ? 'revoked' : 'unknown_device');
        this.o.events?.onAuthFailure?.('bad_credentials');
        done(authError('device revoked or not provisioned', 5), null);
        return;
      }
    } else if (
      // a revoked device's row refuses its secret; the ingestor's set is checked too (both change on revocation)
      !password ||
      this.o.ingestor.isRevoked(username) ||
      !this.o.store.checkDeviceSecret(username, password.toString('utf8'))
    ) {
      this.o.events?.onAuthFailure?.('bad_credentials');
      done(authError('bad username or password', 4), null);
      return;
    }
    const will = (client as unknown as { _will?: { topic?: string }; will?: { topic?: string } })._will;
    if (will?.topic !== undefined && will.topic !== statusTopic(username)) {
      this.o.events?.onAuthFailure?.('bad_will');
      done(authError('last will must be the device status topic', 5), null);
      return;
    }
    this.deviceOf.set(client, username);
    this.readingTopicOf.set(client, readingTopic(username));
    done(null, true);
  }

  private authorizePublish(client: Client | null, packet: PublishPacket, cb: (error?: Error | null) => void): void {
    if (client !== null && packet.topic === this.readingTopicOf.get(client))
      return this.acceptReading(client, this.deviceOf.get(client)!, packet, cb);
    const topic = parseTopic(packet.topic);
    if (client === null) {
      // a persisted last will (MQTT-3.1.2-8): its topic was checked at CONNECT
      if (topic?.kind === 'status') {
        this.markStatus(topic.device, false);
        this.o.onStatus?.(topic.device, packet.payload as Buffer);
      }
      cb(topic?.kind === 'status' ? null : new Error('not authorized'));
      return;
    }
    const dev = this.deviceOf.get(client);
    if (!topic || dev === undefined || topic.device !== dev || topic.kind === 'ticket') {
      this.o.events?.onAclDenied?.('publish');
      cb(new Error('not authorized'));
      return;
    }
    if (topic.kind === 'status') {
      // the device's own status topic (checked above): its word about itself, read without blocking the PUBACK
      this.o.onStatus?.(dev, packet.payload as Buffer);
      cb(null);
      return;
    }
    this.acceptReading(client, dev, packet, cb);
  }

  /** A reading on the device's own topic: held until its group commit is durable (then PUBACK). */
  private acceptReading(client: Client, dev: string, packet: PublishPacket, cb: (error?: Error | null) => void): void {
    packet.retain = false;
    this.readings.add(packet);
    const release = this.window.hold(client);
    this.o.ingestor.submit({
      linkDevice: dev,
      payload: packet.payload as Buffer,
      source: 'mqtt',
      done: (outcome) => {
        release();
        cb(outcome.kind === 'failed' ? outcome.error : null);
      },
    });
  }

  /**
   * After the PUBACK aedes hands each PUBLISH to `publish`: retained store, offline sessions, then
   * mqemitter to matching subscriptions (MQTT-3.3.4), and the 'publish' event. No subscription can
   * match a reading — authorizeSubscribe grants a device its ticket topic only and nothing else
   * subscribes — and its retain flag is cleared, so for a reading that work (topic matching,
   * a Packet copy, promise hops: ~3–5 % of the event loop at 16 publishers) is skipped. Status
   * messages, wills and tickets are routed as before.
   */
  private skipRoutingOfReadings(): void {
    // aedes' typings give publish(packet, callback); its handlers call publish(packet, client, done)
    type InternalPublish = (
      packet: PublishPacket,
      client: Client | null | ((error?: Error) => void),
      done?: (error?: Error) => void,
    ) => void;
    const target = this.aedes as unknown as { publish: InternalPublish };
    const route = target.publish.bind(this.aedes);
    const readings = this.readings;
    target.publish = (packet, client, done) => {
      if (done !== undefined && readings.has(packet)) {
        readings.delete(packet);
        queueMicrotask(() => done()); // asynchronous, as aedes' own publish chain completes
        return;
      }
      route(packet, client, done);
    };
  }

  private setOnline(client: Client, online: boolean): void {
    const dev = this.deviceOf.get(client);
    if (dev === undefined) return;
    this.connected += online ? 1 : -1;
    this.o.events?.onOnlineChange?.(this.connected);
    this.markStatus(dev, online);
  }

  /**
   * Online/offline changes ride with the ingestor's next group commit (one row per device and
   * tick, last change wins): a reconnect storm of thousands of devices costs no extra transaction.
   */
  private markStatus(dev: string, online: boolean): void {
    this.o.ingestor.recordStatus(dev, online, this.o.clock.now());
  }

  /** Publishes a device's session ticket, retained, on vs/v1/<dev>/ticket (QoS 1). */
  publishTicket(device: string, ticket: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.aedes.publish(
        { cmd: 'publish', topic: ticketTopic(device), payload: Buffer.from(ticket), qos: 1, retain: true, dup: false },
        (err) => (err ? reject(err) : resolve()),
      );
    });
  }

  /**
   * Closes the connection of a revoked device at once (its reconnect is then refused by
   * `authenticate`). A reading it sent that is not yet judged is refused by the ingestor.
   */
  disconnectDevice(device: string): void {
    // aedes keeps its connected clients by client id, which `authenticate` made equal to the device id
    const client = (this.aedes as unknown as { clients: Record<string, Client | undefined> }).clients[device];
    if (client === undefined || this.deviceOf.get(client) !== device) return;
    this.o.logger.info({ device }, 'revoked device disconnected');
    client.close();
  }

  get connectedDevices(): number {
    return this.connected;
  }

  /** Stops accepting connections, disconnects clients, closes aedes. */
  async close(): Promise<void> {
    this.wss?.close();
    const closed = [this.server, this.tlsServer, this.wssServer].map((server) =>
      server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve(),
    );
    for (const s of this.sockets) s.destroy();
    await Promise.all(closed);
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
  }
}

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}
