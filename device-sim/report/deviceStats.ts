import type { TransmitFaultKind } from '../faults/faultPlan.ts';
import { LatencySamples, type LatencySummary } from './latency.ts';
import { SequenceCounter } from './sequenceCounter.ts';

/** Counters of one device over one run (RAM; a new run starts from zero). */
export class DeviceStats {
  /** Readings sealed (a seq consumed). */
  measured = 0;
  /** Measurements not taken: no valid ticket, or the ring was full under stop-measuring. */
  readonly notMeasured = { noTicket: 0, outboxFull: 0 };
  /** Distinct readings transmitted at least once in this run. */
  sent = 0;
  /** All transmissions (first sends, retries, injected duplicates). */
  transmissions = 0;
  /** Transmissions after the first of a reading (ack timeout, reconnect, reboot replay). */
  retried = 0;
  /** Distinct readings acknowledged. */
  acknowledged = 0;
  /** Acknowledgements received (each copy the agent committed or recognised). */
  acks = 0;
  /** Acknowledgements of a reading already acknowledged (or no longer pending). */
  duplicateAcks = 0;
  /** Readings quarantined by the agent (serial error frames), by code. */
  readonly rejected: Record<string, number> = {};
  /** Readings dropped from the full ring (drop-oldest), with their seqs. */
  readonly droppedSeqs: number[] = [];
  /** …of which had been transmitted before being dropped (the agent may hold them). */
  droppedAfterSend = 0;
  /** Readings whose transmission the link corrupted (seqs). */
  readonly corruptedSeqs: number[] = [];
  readonly faults: Record<TransmitFaultKind | 'reboot' | 'linkDown', number> = {
    drop: 0,
    duplicate: 0,
    corrupt: 0,
    reorder: 0,
    delay: 0,
    reboot: 0,
    linkDown: 0,
  };
  ackTimeouts = 0;
  connects = 0;
  connectFailures = 0;
  linkLosses = 0;
  reboots = 0;
  /** Unacknowledged readings found in NVM at boot and replayed. */
  replayedAtBoot = 0;
  tornNvmBytes = 0;
  readonly ticketRefusals: Record<string, number> = {};
  ticketsAccepted = 0;
  /** Envelope bytes handed to the link, all transmissions. */
  bytesSent = 0;
  firstSeq: number | null = null;
  lastSeq: number | null = null;
  readonly sequence = new SequenceCounter();
  readonly latency = new LatencySamples();
  lastLinkError: string | null = null;

  get droppedByPolicy(): number {
    return this.droppedSeqs.length + this.notMeasured.outboxFull;
  }

  latencySummary(): LatencySummary {
    return this.latency.summary();
  }
}
