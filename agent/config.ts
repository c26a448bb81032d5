import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { AgentError } from './errors.ts';
import { DEFAULT_HTTP_RATE_LIMITS } from './http/rateLimits.ts';

const port = z.number().int().min(0).max(65535);
const bucketLimit = z.object({ burst: z.number().int().positive(), perSecond: z.number().positive() }).strict();

export const agentConfigSchema = z
  .object({
    dataDir: z.string().min(1).default('.vitalseal/agent'),
    mode: z.enum(['embedded', 'external']).default('embedded'),
    mqtt: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: port.default(1883),
        maxConnections: z.number().int().positive().default(20_000),
        /**
         * Open connections one remote address may hold (counted at TCP accept, before any MQTT byte is
         * parsed); beyond it the socket is closed and counted (vitalseal_mqtt_auth_failures_total
         * {reason="per_ip_limit"}). 1,000 leaves room for a gateway bridging a ward's devices behind one
         * address while one hostile host can no longer take all of maxConnections.
         */
        maxConnectionsPerIp: z.number().int().positive().default(1_000),
        /**
         * Loopback addresses (127.0.0.0/8, ::1) are exempt from maxConnectionsPerIp: the fleet runner,
         * bench/ingest and the tests open thousands of device connections from 127.0.0.1, and a local
         * process is not the network attacker this cap is for. Set false when a local proxy or tunnel
         * forwards network clients from loopback.
         */
        perIpExemptLoopback: z.boolean().default(true),
        maxPacketBytes: z.number().int().min(256).max(1_048_576).default(8192),
        /** Publishes of one connection read on while earlier ones wait for their commit (agent/broker/publishWindow.ts). */
        maxInflightPerDevice: z.number().int().min(1).max(65_535).default(64),
      })
      .strict()
      .default({
        host: '127.0.0.1',
        port: 1883,
        maxConnections: 20_000,
        maxConnectionsPerIp: 1_000,
        perIpExemptLoopback: true,
        maxPacketBytes: 8192,
        maxInflightPerDevice: 64,
      }),
    external: z
      .object({
        url: z.string().regex(/^(mqtts?|tcp|wss?):\/\//, 'must be an mqtt://, mqtts://, tcp:// or ws:// URL'),
        username: z.string().optional(),
        password: z.string().optional(),
        clientId: z.string().min(1).max(23).default('vitalseal-agent'),
        /** mqtts:// to a broker with a private CA: its CA file, and the agent's client certificate and key (mutual TLS). */
        caFile: z.string().min(1).optional(),
        certFile: z.string().min(1).optional(),
        keyFile: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    /**
     * TLS (issue #20; docs/PROTOCOL.md §9.8). Off by default. When on: the embedded broker also listens on
     * MQTT over TLS (tls.port, 8883), the HTTP API/metrics/health answer on HTTPS only, and devices may
     * present a client certificate of the ward CA (mutual TLS; clientCerts 'required' refuses devices
     * without one). The key, certificate and CA come from <dataDir>/tls/ (the ward CA, created on first
     * start when missing; the server certificate is issued by it) unless certFile/keyFile/caFile name
     * operator-managed files. requireTls closes the plain MQTT listener entirely.
     */
    tls: z
      .object({
        enabled: z.boolean().default(false),
        port: port.default(8883),
        /** MQTT over WebSocket over TLS (wss, same certificates and client-certificate policy); off unless set (0: any free port). */
        websocketPort: port.optional(),
        requireTls: z.boolean().default(false),
        clientCerts: z.enum(['optional', 'required']).default('optional'),
        minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
        /**
         * The HTTP API on HTTPS (default when TLS is on; wallets and the CLI verify it against the ward CA,
         * --agent-ca). false keeps it on plain HTTP: only for an API bound to loopback.
         */
        https: z.boolean().default(true),
        /** Extra SANs (DNS names or IPs) of the auto-issued server certificate, besides localhost, 127.0.0.1 and ::1. */
        hostnames: z.array(z.string().min(1)).default([]),
        certFile: z.string().min(1).optional(),
        keyFile: z.string().min(1).optional(),
        caFile: z.string().min(1).optional(),
        crlFile: z.string().min(1).optional(),
      })
      .strict()
      .default({
        enabled: false,
        port: 8883,
        requireTls: false,
        clientCerts: 'optional',
        minVersion: 'TLSv1.2',
        https: true,
        hostnames: [],
      }),
    serial: z.array(z.string().min(1)).default([]),
    serialBaudRate: z.number().int().positive().default(115_200),
    http: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: port.default(8080),
        /**
         * Per-client-address token buckets (agent/http/rateLimits.ts; 429 API_RATE_LIMITED with Retry-After):
         * read = GET /v1/records, /v1/log/*, /v1/ward, /openapi.json; ops = /healthz, /metrics; admin =
         * /admin/*; adminAuthFailures = wrong or missing admin tokens (then /admin/* is refused without
         * comparing the token). Loopback is exempt from all but adminAuthFailures unless exemptLoopback
         * is false: the fleet runner (thousands of /admin calls) and bench/pipeline run there.
         */
        rateLimit: z
          .object({
            read: bucketLimit.default(DEFAULT_HTTP_RATE_LIMITS.read),
            ops: bucketLimit.default(DEFAULT_HTTP_RATE_LIMITS.ops),
            admin: bucketLimit.default(DEFAULT_HTTP_RATE_LIMITS.admin),
            adminAuthFailures: bucketLimit.default(DEFAULT_HTTP_RATE_LIMITS.adminAuthFailures),
            exemptLoopback: z.boolean().default(DEFAULT_HTTP_RATE_LIMITS.exemptLoopback),
          })
          .strict()
          .default(DEFAULT_HTTP_RATE_LIMITS),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 8080, rateLimit: DEFAULT_HTTP_RATE_LIMITS }),
    ingest: z
      .object({
        maxEnvelopeBytes: z.number().int().min(256).max(1_048_576).default(4096),
        maxFutureSkewMs: z.number().int().nonnegative().default(300_000),
        /** Quarantined readings kept in all; beyond it the largest per-device buckets lose their oldest rows first. */
        quarantineMaxRows: z.number().int().positive().default(10_000),
        /**
         * Quarantined readings kept per device hint (the device the link authenticated or the topic
         * names; readings no link attributes share one bucket): a device flooding bad readings evicts
         * only its own oldest rows, never another device's evidence.
         */
        quarantineMaxRowsPerDevice: z.number().int().positive().default(1_000),
        /**
         * Largest accepted jump of a device's sequence number above the highest it has stored. A reading
         * further ahead (e.g. seq 2^53-1) is quarantined as AGENT_SEQ_JUMP and leaves max_seq and the gap
         * counter untouched; 1,000,000 is ~11.5 days of one reading per second lost in transit. The first
         * reading of a device has no reference and is not bounded.
         */
        maxSeqJump: z.number().int().positive().default(1_000_000),
        /**
         * The ward requires proof of origin (issue #20, docs/PROTOCOL.md §10.2): every reading sealed in
         * HPKE base mode is quarantined with AGENT_BASE_MODE_REFUSED. Off by default (old devices seal in
         * base mode); a base-mode reading under a ticket that certifies a device identity key is refused
         * either way. Readings stored before it was switched on stay stored and readable.
         */
        requireAuthMode: z.boolean().default(false),
        /**
         * Durability of an acknowledged reading (SQLite in WAL mode).
         * 'full' (default): every group commit's WAL frames are fdatasync'd before any of its readings
         * is acknowledged, so acknowledged readings survive power loss. The fdatasync runs on the
         * thread pool (agent/store/walSync.ts) while the event loop goes on with the next batch.
         * 'sqlite-full': the same guarantee through SQLite's own `synchronous = FULL` (the fsync
         * blocks the event loop inside each COMMIT); kept for comparison and cautious operators.
         * 'normal': commits reach the OS but are fsync'd only at checkpoints — acknowledged readings
         * survive a crash or kill -9 of the agent, but not a power cut or kernel crash.
         */
        synchronous: z.enum(['full', 'sqlite-full', 'normal']).default('full'),
        /**
         * Where group commits run. 'thread' (default): a writer thread with its own SQLite connection
         * executes each batch and its fdatasync while the event loop serves the broker.
         * 'inline': on the event loop (one thread; the fdatasync still runs on the thread pool).
         */
        writer: z.enum(['thread', 'inline']).default('thread'),
      })
      .strict()
      .default({
        maxEnvelopeBytes: 4096,
        maxFutureSkewMs: 300_000,
        quarantineMaxRows: 10_000,
        quarantineMaxRowsPerDevice: 1_000,
        maxSeqJump: 1_000_000,
        requireAuthMode: false,
        synchronous: 'full',
        writer: 'thread',
      }),
    chain: z
      .object({
        mode: z.enum(['off', 'embedded', 'rpc']).default('off'),
        rpcUrl: z
          .string()
          .regex(/^https?:\/\//, 'must be an http(s):// JSON-RPC URL')
          .optional(),
        keyFile: z.string().min(1).optional(),
        deploymentFile: z.string().min(1).optional(),
        intervalMs: z.number().int().min(50).default(1000),
        maxLeaves: z.number().int().positive().default(1000),
      })
      .strict()
      .default({ mode: 'off', intervalMs: 1000, maxLeaves: 1000 }),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.mode === 'external' && !c.external)
      ctx.addIssue({ code: 'custom', path: ['external', 'url'], message: 'required when mode is external' });
    if (c.tls.requireTls && !c.tls.enabled) ctx.addIssue({ code: 'custom', path: ['tls', 'requireTls'], message: 'needs tls.enabled' });
    if ((c.tls.certFile === undefined) !== (c.tls.keyFile === undefined))
      ctx.addIssue({ code: 'custom', path: ['tls', 'certFile'], message: 'certFile and keyFile go together' });
    if (c.chain.mode === 'rpc') {
      for (const k of ['rpcUrl', 'keyFile', 'deploymentFile'] as const) {
        if (!c.chain[k]) ctx.addIssue({ code: 'custom', path: ['chain', k], message: 'required when chain.mode is rpc' });
      }
    }
  });

export type AgentConfig = z.infer<typeof agentConfigSchema>;
type Json = Record<string, unknown>;

/** Environment variables the agent reads (VITALSEAL_<PATH> with dots as underscores). */
export const ENV_KEYS: Record<string, string> = {
  VITALSEAL_DATA_DIR: 'dataDir',
  VITALSEAL_MODE: 'mode',
  VITALSEAL_MQTT_HOST: 'mqtt.host',
  VITALSEAL_MQTT_PORT: 'mqtt.port',
  VITALSEAL_MQTT_MAX_CONNECTIONS: 'mqtt.maxConnections',
  VITALSEAL_MQTT_MAX_CONNECTIONS_PER_IP: 'mqtt.maxConnectionsPerIp',
  VITALSEAL_MQTT_MAX_PACKET_BYTES: 'mqtt.maxPacketBytes',
  VITALSEAL_MQTT_MAX_INFLIGHT_PER_DEVICE: 'mqtt.maxInflightPerDevice',
  VITALSEAL_EXTERNAL_URL: 'external.url',
  VITALSEAL_EXTERNAL_USERNAME: 'external.username',
  VITALSEAL_EXTERNAL_PASSWORD: 'external.password',
  VITALSEAL_HTTP_HOST: 'http.host',
  VITALSEAL_HTTP_PORT: 'http.port',
  VITALSEAL_LOG_LEVEL: 'logLevel',
  VITALSEAL_TLS_PORT: 'tls.port',
  VITALSEAL_EXTERNAL_CA_FILE: 'external.caFile',
  VITALSEAL_EXTERNAL_CERT_FILE: 'external.certFile',
  VITALSEAL_EXTERNAL_KEY_FILE: 'external.keyFile',
  VITALSEAL_SYNCHRONOUS: 'ingest.synchronous',
  VITALSEAL_WRITER: 'ingest.writer',
  VITALSEAL_CHAIN: 'chain.mode',
  VITALSEAL_RPC_URL: 'chain.rpcUrl',
  VITALSEAL_CHAIN_KEY_FILE: 'chain.keyFile',
  VITALSEAL_DEPLOYMENT_FILE: 'chain.deploymentFile',
};

function setPath(target: Json, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur: Json = target;
  for (const p of parts.slice(0, -1)) {
    const next = cur[p];
    if (typeof next !== 'object' || next === null) cur[p] = {};
    cur = cur[p] as Json;
  }
  cur[parts[parts.length - 1]!] = value;
}

function mergeDeep(a: Json, b: Json): Json {
  const out: Json = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object' && !Array.isArray(prev)
        ? mergeDeep(prev as Json, v as Json)
        : v;
  }
  return out;
}

/** Numbers in env vars and flags arrive as strings: convert what looks numeric, let the schema judge the rest. */
function coerceScalar(v: string): unknown {
  return /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
}

export function configFromEnv(env: NodeJS.ProcessEnv): Json {
  const out: Json = {};
  for (const [key, path] of Object.entries(ENV_KEYS)) {
    const v = env[key];
    if (v !== undefined && v !== '') setPath(out, path, coerceScalar(v));
  }
  if (env.VITALSEAL_SERIAL) out.serial = env.VITALSEAL_SERIAL.split(',').filter(Boolean);
  return out;
}

export function readConfigFile(path: string): Json {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as Json;
  } catch (e) {
    throw new AgentError('CONFIG_FILE_UNREADABLE', `cannot read config file ${path}: ${(e as Error).message}`);
  }
}

/**
 * Defaults < config file < environment < flags. Throws CONFIG_INVALID listing every invalid field.
 */
export function resolveAgentConfig(sources: { file?: string | undefined; env?: NodeJS.ProcessEnv; flags?: Json }): AgentConfig {
  let merged: Json = {};
  if (sources.file) merged = mergeDeep(merged, readConfigFile(sources.file));
  if (sources.env) merged = mergeDeep(merged, configFromEnv(sources.env));
  if (sources.flags) merged = mergeDeep(merged, sources.flags);
  return parseAgentConfig(merged);
}

export function parseAgentConfig(input: unknown): AgentConfig {
  const r = agentConfigSchema.safeParse(input);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new AgentError('CONFIG_INVALID', `invalid agent configuration:\n${lines.join('\n')}`);
}

export { setPath as setConfigPath, coerceScalar };
