import pino, { type Logger } from 'pino';
import { systemClock, type Clock } from '../protocol/rng.ts';
import type { AgentConfig } from './config.ts';
import { AgentCore } from './core.ts';
import { EmbeddedBroker } from './broker/embeddedBroker.ts';
import { ExternalSubscriber } from './broker/externalSubscriber.ts';
import { SerialIngress } from './serial/serialIngress.ts';
import { buildHttpServer } from './http/server.ts';
import { loadOrCreateAdminToken } from './identity.ts';
import type { FastifyInstance } from 'fastify';
import type { ExtraMigration } from './store/migrations.ts';
import { AgentAnchoring } from './anchoring.ts';
import { loadOrCreateWardKeys, type WardKeys } from './api/wardKeys.ts';
import type { Rng } from '../protocol/rng.ts';
import { DeviceCustody } from './custody/deviceCustody.ts';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server as TlsServer } from 'node:tls';
import { AgentTls } from './tls/agentTls.ts';

export interface RunningAgent {
  readonly core: AgentCore;
  readonly broker: EmbeddedBroker | undefined;
  readonly external: ExternalSubscriber | undefined;
  readonly serial: readonly SerialIngress[];
  readonly http: FastifyInstance;
  /** The plain MQTT listener (undefined in external mode and with tls.requireTls). */
  readonly mqttAddress: { host: string; port: number } | undefined;
  /** The MQTT over TLS listener (tls.enabled, embedded mode). */
  readonly mqttTlsAddress: { host: string; port: number } | undefined;
  /** MQTT over WebSocket over TLS (tls.websocketPort), when enabled. */
  readonly mqttWssAddress: { host: string; port: number } | undefined;
  /** The agent's TLS (tls.enabled): ward CA, certificates, revocation, reload; the HTTP API is HTTPS then. */
  readonly tls: AgentTls | undefined;
  readonly httpAddress: { host: string; port: number };
  readonly adminToken: string;
  readonly anchoring: AgentAnchoring | undefined;
  /** The ward authority (ticket signing) and emergency escrow keys held in the data dir. */
  readonly ward: WardKeys;
  /** Device assignments, pairing, session key ownership: who may hold sessions on which device. */
  readonly custody: DeviceCustody;
  /** Graceful stop: stop accepting, finish commits, close everything. Idempotent. */
  stop(): Promise<void>;
}

export interface StartAgentDeps {
  clock?: Clock;
  logger?: Logger;
  authorityPublicKey?: Uint8Array;
  extraMigrations?: readonly ExtraMigration[];
  defaultMetrics?: boolean;
  /** Randomness of the query API (re-sealing emergency keys). */
  rng?: Rng;
  /** Per-requester rate limit of the signed API. */
  apiRate?: { burst: number; perSecond: number };
}

export async function startAgent(config: AgentConfig, deps: StartAgentDeps = {}): Promise<RunningAgent> {
  const logger = deps.logger ?? pino({ level: config.logLevel, base: { svc: 'vitalseal-agent' } });
  const clock = deps.clock ?? systemClock;
  const core = new AgentCore({
    dataDir: config.dataDir,
    clock,
    logger,
    maxEnvelopeBytes: config.ingest.maxEnvelopeBytes,
    maxFutureSkewMs: config.ingest.maxFutureSkewMs,
    quarantineMaxRows: config.ingest.quarantineMaxRows,
    quarantineMaxRowsPerDevice: config.ingest.quarantineMaxRowsPerDevice,
    maxSeqJump: config.ingest.maxSeqJump,
    requireAuthMode: config.ingest.requireAuthMode,
    synchronous: config.ingest.synchronous,
    writer: config.ingest.writer,
    authorityPublicKey: deps.authorityPublicKey,
    ...(deps.extraMigrations ? { extraMigrations: deps.extraMigrations } : {}),
    ...(deps.defaultMetrics !== undefined ? { defaultMetrics: deps.defaultMetrics } : {}),
  });
  const adminToken = loadOrCreateAdminToken(config.dataDir);

  let broker: EmbeddedBroker | undefined;
  let external: ExternalSubscriber | undefined;
  let mqttAddress: { host: string; port: number } | undefined;
  let mqttTlsAddress: { host: string; port: number } | undefined;
  let mqttWssAddress: { host: string; port: number } | undefined;
  let agentTls: AgentTls | undefined;
  try {
    agentTls = config.tls.enabled ? await AgentTls.start(config, logger, core.metrics.registry) : undefined;
  } catch (e) {
    await core.close();
    throw e;
  }
  if (agentTls) {
    const t = agentTls;
    // a revoked device's certificates go on the CRL; their connections close
    core.addRevocationListener((dev) => {
      t.revoke({ device: dev }).catch((err: Error) => logger.error({ err: err.message }, 'certificate revocation failed'));
    });
  }
  const serial: SerialIngress[] = [];
  const closers: Array<() => Promise<void>> = [];
  try {
    if (config.mode === 'embedded') {
      const b = await EmbeddedBroker.create({
        host: config.mqtt.host,
        port: config.mqtt.port,
        maxConnections: config.mqtt.maxConnections,
        maxConnectionsPerIp: config.mqtt.maxConnectionsPerIp,
        perIpExemptLoopback: config.mqtt.perIpExemptLoopback,
        maxPacketBytes: config.mqtt.maxPacketBytes,
        maxInflightPerDevice: config.mqtt.maxInflightPerDevice,
        store: core.store,
        ingestor: core.ingestor,
        clock,
        logger,
        events: core.metrics.brokerEvents(),
        onStatus: (dev, payload) => core.deviceStatus.reportPayload(dev, payload, 'mqtt'),
        ...(agentTls ? { tls: { agentTls, host: config.mqtt.host, port: config.tls.port, websocketPort: config.tls.websocketPort } } : {}),
      });
      broker = b;
      closers.push(() => b.close());
      if (!config.tls.requireTls) mqttAddress = await b.listen();
      if (agentTls) mqttTlsAddress = await b.listenTls();
      if (agentTls && config.tls.websocketPort !== undefined) mqttWssAddress = await b.listenWss();
      core.addTicketPublisher((dev, t) => b.publishTicket(dev, t));
      core.addRevocationListener((dev) => b.disconnectDevice(dev));
      // tickets pushed before a restart are retained again
      for (const t of core.store.listTickets()) await b.publishTicket(t.device, t.ticket);
    } else {
      const ext = config.external!;
      const e = new ExternalSubscriber({
        url: ext.url,
        clientId: ext.clientId,
        username: ext.username,
        password: ext.password,
        tls: {
          ca: ext.caFile !== undefined ? readFileSync(ext.caFile, 'utf8') : undefined,
          cert: ext.certFile !== undefined ? readFileSync(ext.certFile, 'utf8') : undefined,
          key: ext.keyFile !== undefined ? readFileSync(ext.keyFile, 'utf8') : undefined,
        },
        ingestor: core.ingestor,
        store: core.store,
        clock,
        logger,
        onStatus: (dev, payload) => core.deviceStatus.reportPayload(dev, payload, 'external'),
      });
      external = e;
      closers.push(() => e.close());
      await e.start();
      core.addTicketPublisher((dev, t) => e.publishTicket(dev, t));
      core.addRevocationListener((dev) => e.deviceRevoked(dev));
    }
    for (const spec of config.serial) {
      const s = new SerialIngress({
        spec,
        baudRate: config.serialBaudRate,
        ingestor: core.ingestor,
        store: core.store,
        metrics: core.metrics,
        clock,
        logger,
        ticketOf: (d) => core.store.latestTicket(d),
        onStatus: (dev, status) => core.deviceStatus.report(dev, status, 'serial'),
      });
      await s.start();
      serial.push(s);
      core.addRevocationListener((dev) => s.deviceRevoked(dev));
      closers.push(() => s.close());
    }
    core.addTicketPublisher(async (dev, t) => {
      for (const s of serial) s.offerTicket(dev, t);
    });
  } catch (e) {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    await core.close();
    throw e;
  }

  let anchoring: AgentAnchoring | undefined;
  if (config.chain.mode !== 'off') {
    try {
      anchoring = await AgentAnchoring.start(core, config, logger);
    } catch (e) {
      for (const c of closers.reverse()) await c().catch(() => undefined);
      await core.close();
      throw e;
    }
    const a = anchoring;
    core.anchorFor = (leaf) => a.anchorFor(leaf);
  }

  const ward = loadOrCreateWardKeys(config.dataDir);
  const rng: Rng = deps.rng ?? ((n) => new Uint8Array(randomBytes(n)));
  const custody = new DeviceCustody({ core, ward, rng });
  const chain = anchoring ? { contracts: anchoring.contracts, chainId: anchoring.chainId, logId: anchoring.logId } : undefined;
  const http = await buildHttpServer(
    core,
    adminToken,
    { ward, custody, chain, rng, ...(deps.apiRate ? { rate: deps.apiRate } : {}) },
    config.http.rateLimit,
    agentTls ? { tls: agentTls, https: config.tls.https } : undefined,
  );
  if (agentTls && config.tls.https) agentTls.register(http.server as unknown as TlsServer, 'https', true);
  await http.listen({ host: config.http.host, port: config.http.port });
  const httpAddr = http.server.address();
  const httpAddress =
    typeof httpAddr === 'object' && httpAddr
      ? { host: httpAddr.address, port: httpAddr.port }
      : { host: config.http.host, port: config.http.port };
  logger.info(
    {
      mqtt: mqttAddress,
      mqttTls: mqttTlsAddress,
      ...(mqttWssAddress ? { mqttWss: mqttWssAddress } : {}),
      https: agentTls !== undefined && config.tls.https,
      http: httpAddress,
      mode: config.mode,
      serial: serial.map((s) => s.path),
      logSize: core.ingestor.size,
    },
    'agent started',
  );

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      logger.info('agent stopping: no new connections, finishing commits');
      // 1. stop accepting input, 2. commit what is queued, 3. close the store
      for (const c of closers.reverse()) await c().catch((err: Error) => logger.warn({ err: err.message }, 'close failed'));
      await core.ingestor.close();
      // a last anchor of everything committed, then stop the chain (its state file is flushed on a clean stop)
      if (anchoring) {
        const final = anchoring.service.anchorNow().catch((err: Error) => logger.warn({ err: err.message }, 'final anchor failed'));
        await Promise.race([final, new Promise((r) => setTimeout(r, 5000).unref())]);
        await anchoring.stop().catch((err: Error) => logger.warn({ err: err.message }, 'chain stop failed'));
      }
      await core.close();
      await http.close();
      logger.info('agent stopped');
    })());

  return {
    core,
    broker,
    external,
    serial,
    http,
    mqttAddress,
    mqttTlsAddress,
    mqttWssAddress,
    tls: agentTls,
    httpAddress,
    adminToken,
    anchoring,
    ward,
    custody,
    stop,
  };
}
