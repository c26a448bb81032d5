import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { IngestObserver, IngestOutcome, IngestSource } from './ingest/types.ts';
import { AgentError } from './errors.ts';
import type { BrokerEvents } from './broker/embeddedBroker.ts';
import { STATUS_RESULTS, TICKET_REFUSAL_CODES } from './deviceStatus.ts';

/**
 * Counts by two label values, kept in plain maps on the ingest path and added to a prom-client
 * counter when it is collected (scrape): a labelled `inc` hashes its labels on every call, twice
 * per reading otherwise.
 */
class PendingCounts {
  private readonly counts = new Map<string, Map<string, number>>();

  add(a: string, b: string): void {
    let m = this.counts.get(a);
    if (!m) this.counts.set(a, (m = new Map()));
    m.set(b, (m.get(b) ?? 0) + 1);
  }

  flush(inc: (a: string, b: string, n: number) => void): void {
    for (const [a, m] of this.counts) for (const [b, n] of m) inc(a, b, n);
    this.counts.clear();
  }
}

/** Prometheus metrics of one agent (own registry, so tests can run several agents in a process). */
export class AgentMetrics {
  readonly registry = new Registry();
  /**
   * Series labelled with device ids: served only to the ward operator (GET /admin/metrics, admin token),
   * never on the public /metrics, so device ids cannot be listed by anyone on the network (issue #15).
   */
  readonly deviceRegistry = new Registry();
  readonly ingested: Counter<'source' | 'outcome'>;
  readonly quarantined: Counter<'reason'>;
  readonly deviceReadings: Counter<'device' | 'outcome'>;
  readonly commitSeconds: Histogram;
  readonly batchSize: Histogram;
  readonly commitFailures: Counter;
  readonly storeCommitFailures: Counter<'code'>;
  readonly storeHealthy: Gauge;
  readonly logSize: Gauge;
  readonly connectedDevices: Gauge;
  readonly authFailures: Counter<'reason'>;
  readonly aclDenied: Counter<'action'>;
  readonly serialFrames: Counter<'port' | 'result'>;
  readonly deviceStatus: Counter<'result'>;
  readonly ticketRefusals: Counter<'code'>;
  private readonly pendingIngested = new PendingCounts();
  private readonly pendingDevice = new PendingCounts();

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'vitalseal_process_' });
    this.ingested = new Counter({
      name: 'vitalseal_ingest_total',
      help: 'Readings received, by source and outcome (stored, duplicate, quarantined, failed)',
      labelNames: ['source', 'outcome'],
      registers,
      collect: () => this.pendingIngested.flush((source, outcome, n) => this.ingested.inc({ source, outcome }, n)),
    });
    this.quarantined = new Counter({
      name: 'vitalseal_quarantine_total',
      help: 'Readings quarantined, by stable reason code',
      labelNames: ['reason'],
      registers,
    });
    this.deviceReadings = new Counter({
      name: 'vitalseal_device_readings_total',
      help: 'Readings per device and outcome',
      labelNames: ['device', 'outcome'],
      registers: [this.deviceRegistry],
      collect: () => this.pendingDevice.flush((device, outcome, n) => this.deviceReadings.inc({ device, outcome }, n)),
    });
    this.commitSeconds = new Histogram({
      name: 'vitalseal_commit_seconds',
      help: 'Duration of one group commit (validation + SQLite transaction incl. fsync)',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'vitalseal_commit_batch_size',
      help: 'Readings per group commit',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096],
      registers,
    });
    this.commitFailures = new Counter({
      name: 'vitalseal_commit_failures_total',
      help: 'Group commits that rolled back (nothing acknowledged)',
      registers,
    });
    this.storeCommitFailures = new Counter({
      name: 'vitalseal_store_commit_failures_total',
      help: 'Groups of readings not committed (nothing acknowledged), by code: STORE_FULL, STORE_SYNC_FAILED, STORE_COMMIT_FAILED',
      labelNames: ['code'],
      registers,
    });
    this.storeHealthy = new Gauge({
      name: 'vitalseal_store_healthy',
      help: '1 while group commits succeed, 0 from a failed commit until one succeeds again (/healthz is 503 meanwhile)',
      registers,
    });
    this.storeHealthy.set(1);
    this.logSize = new Gauge({ name: 'vitalseal_log_size', help: 'Leaves in the transparency log', registers });
    this.connectedDevices = new Gauge({ name: 'vitalseal_connected_devices', help: 'Devices connected to the embedded broker', registers });
    this.authFailures = new Counter({
      name: 'vitalseal_mqtt_auth_failures_total',
      help: 'Refused MQTT connections by reason',
      labelNames: ['reason'],
      registers,
    });
    this.aclDenied = new Counter({
      name: 'vitalseal_mqtt_acl_denied_total',
      help: 'Publishes/subscribes refused by the topic ACL',
      labelNames: ['action'],
      registers,
    });
    this.serialFrames = new Counter({
      name: 'vitalseal_serial_frames_total',
      help: 'Serial frames by port and result',
      labelNames: ['port', 'result'],
      registers,
    });
    // device statuses (agent/deviceStatus.ts): fixed label sets, every series present from the start
    this.deviceStatus = new Counter({
      name: 'vitalseal_device_status_total',
      help: 'Device status messages (MQTT, external broker, serial) by result: the state reported, malformed, or unknown_device',
      labelNames: ['result'],
      registers,
    });
    for (const result of STATUS_RESULTS) this.deviceStatus.inc({ result }, 0);
    this.ticketRefusals = new Counter({
      name: 'vitalseal_device_ticket_refusals_total',
      help: 'Tickets devices reported refusing or dropping (status "error"), by code (docs/PROTOCOL.md §7.3, §7.4, §3.6); any other code is "other"',
      labelNames: ['code'],
      registers,
    });
    for (const code of [...TICKET_REFUSAL_CODES, 'other']) this.ticketRefusals.inc({ code }, 0);
  }

  ingestObserver(): IngestObserver {
    return {
      onCommit: (n, seconds, logSize) => {
        this.commitSeconds.observe(seconds);
        this.batchSize.observe(n);
        this.logSize.set(logSize);
      },
      onOutcome: (o: IngestOutcome, source: IngestSource) => {
        this.pendingIngested.add(source, o.kind);
        if (o.kind === 'quarantined') this.quarantined.inc({ reason: o.reason });
        if (o.kind !== 'failed' && o.device !== null) this.pendingDevice.add(o.device, o.kind);
      },
      onCommitFailed: (error) => {
        this.commitFailures.inc();
        this.storeCommitFailures.inc({ code: error instanceof AgentError ? error.code : 'STORE_COMMIT_FAILED' });
      },
      onStoreHealth: (h) => this.storeHealthy.set(h.kind === 'healthy' ? 1 : 0),
    };
  }

  brokerEvents(): BrokerEvents {
    return {
      onAuthFailure: (reason) => this.authFailures.inc({ reason }),
      onAclDenied: (action) => this.aclDenied.inc({ action }),
      onOnlineChange: (n) => this.connectedDevices.set(n),
    };
  }
}
