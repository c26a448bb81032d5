/** Options, context and result of the ward scenario (scenarios/ward/flow.ts). */
import type { Address, Hex } from 'viem';
import type { RunningAgent } from '../../agent/agent.ts';
import type { Rng } from '../../protocol/rng.ts';
import type { Reading } from '../../protocol/envelope/index.ts';
import type { ServedRecord } from '../../protocol/api/servedRecord.ts';
import type { Wallet } from '../../wallet/wallet.ts';
import type { ChainLink } from '../../wallet/chainLink.ts';
import type { ReadRecord } from '../../wallet/readings.ts';
import type { EmergencyProfile } from '../../wallet/emergency.ts';
import type { PatientEvent } from '../../wallet/chainEvents.ts';
import type { OpenedDisclosure } from '../../wallet/disclosure.ts';

export interface WardFlowOptions {
  dataDir: string;
  reset?: boolean;
  readingsPerDevice: number;
  /** One console line (the demo prints, the test collects). */
  say: (line: string) => void;
  rng?: Rng;
  /** Wallet files' scrypt cost (default: the wallet default). */
  scryptN?: number;
  logLevel?: 'silent' | 'error' | 'warn' | 'info';
  /** Aborted on Ctrl-C: the flow stops at the next step and cleans up. */
  signal?: AbortSignal;
  /** Runs after the last step while the agent and the chain are still up (tests add their own checks here). */
  beforeStop?: (ctx: WardFlowContext) => Promise<void>;
}

export interface WardFlowContext {
  agent: RunningAgent;
  link: ChainLink;
  /** The agent's HTTPS API and the ward CA (PEM) its certificate verifies against. */
  api: string;
  ca: string;
  wallets: Record<'patient' | 'clinician' | 'emergency' | 'researcher' | 'stranger' | 'unregistered' | 'intruder', Wallet>;
  clinicianRecords: ServedRecord[];
}

export interface SentReading {
  device: string;
  seq: number;
  kid: string;
  reading: Reading;
}

export interface WardFlowResult {
  seconds: number;
  accounts: Record<string, Address>;
  sent: SentReading[];
  anchors: Array<{ treeSize: number; blockNumber: number; txHash: Hex }>;
  clinicianRead: ReadRecord[];
  /** Stable codes of the refused requests, by case. */
  refusals: Record<
    'unregistered' | 'unauthorized' | 'replayed' | 'expired' | 'revoked' | 'otherPatientsDevice' | 'otherPatientsKey',
    string | undefined
  >;
  /** Devices and the patient the ward operator assigned each to (pairing codes confirmed at the bedside). */
  assignments: Array<{ device: string; patient: string; via: string }>;
  breakGlass: { profile: EmergencyProfile; drill: boolean; until: number; blockNumber: number; patientSaw: PatientEvent | undefined };
  disclosure: { opened: OpenedDisclosure; recordId: string; otherReadingsOpened: number; otherReadingsTried: number };
  watch: PatientEvent[];
  /** Access events about the patient (this run), as the patient fetched and verified them. */
  accessLog: Array<{
    kind: string;
    requester: string | undefined;
    clinician: string | undefined;
    drill: boolean | undefined;
    status: string;
  }>;
  logSize: number;
  logAudit: boolean;
}
