/**
 * `vitalseal sim`: the device simulator / firmware model.
 *
 *   vitalseal sim --fleet fleet.json --broker mqtt://127.0.0.1:1883 --duration 10m
 *   vitalseal sim --devices 1000 --profile spo2,ecg --agent http://127.0.0.1:8080 --broker mqtt://127.0.0.1:1883 --virtual --duration 1h --backend node
 *   vitalseal sim --devices 50 --broker loopback --virtual --duration 1d --faults drop=0.01,link=0.001:30s
 *   vitalseal sim --serial /dev/ttyUSB0 --fleet wired.json --duration 5m
 *   vitalseal sim --device dut-1 --authority-key <hex> --serial /dev/pts/7 --nvm-dir dut --period 250ms --duration 1d
 *   vitalseal sim --energy [--json]
 *   vitalseal sim --device dut-1 --nvm-dir dut --rotate-identity [--json]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fromHex } from '../../protocol/bytes.ts';
import { isDeviceId } from '../../protocol/deviceId.ts';
import { firmwareBugFromCli } from '../../device-sim/firmware/bugs.ts';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { SEAL_BACKENDS, type SealBackend } from '../../device-sim/crypto/sealer.ts';
import { SimError } from '../../device-sim/errors.ts';
import { energyTable, formatEnergyTable, type CoreName } from '../../device-sim/energy/index.ts';
import { NO_FAULTS, parseFaults } from '../../device-sim/faults/faultPlan.ts';
import { loadFleetFile, type FleetDevice } from '../../device-sim/fleet/fleetFile.ts';
import { runFleet, type FleetLink, type FleetProgress } from '../../device-sim/fleet/fleetRunner.ts';
import { agentAdmin, generateFleet, generatedIds, writePatientKeys } from '../../device-sim/fleet/generatedFleet.ts';
import { OUTBOX_POLICIES, type OutboxPolicy } from '../../device-sim/nvm/outbox.ts';
import { FileNvm } from '../../device-sim/nvm/fileNvm.ts';
import { lockNvmDir } from '../../device-sim/fleet/nvmLock.ts';
import { rotateIdentityInNvm } from '../../device-sim/firmware/identityKey.ts';
import { parseScenario, profileByName, type ProfileName } from '../../device-sim/profiles/index.ts';
import { formatFleetReport, type FleetReport } from '../../device-sim/report/fleetReport.ts';
import { formatDuration, parseDuration } from '../../device-sim/time/duration.ts';
import { EXIT, printJson } from '../output.ts';
import { action, setExit } from '../action.ts';

interface SimFlags {
  tls?: boolean;
  ca?: string;
  cert?: string;
  key?: string;
  fleet?: string;
  devices?: string;
  profile: string;
  broker?: string;
  serial?: string[];
  agent?: string;
  agentDataDir: string;
  token?: string;
  duration: string;
  virtual?: boolean;
  start?: string;
  seed?: string;
  backend: SealBackend;
  session?: boolean;
  period?: string;
  nvmDir?: string;
  outbox: string;
  outboxPolicy: OutboxPolicy;
  faults: string;
  scenario?: string[];
  window: string;
  ackTimeout: string;
  drainTimeout: string;
  ticketHours: string;
  patientKeys?: string;
  energy?: boolean;
  core: string;
  json?: boolean;
  progress: boolean;
  reportFile?: string;
  device?: string;
  authorityKey?: string;
  secretFile?: string;
  firmwareBug?: string;
  rotateIdentity?: boolean;
}

const CORE_ALIASES: Record<string, CoreName> = {
  m4: 'cortex-m4',
  'cortex-m4': 'cortex-m4',
  m0: 'cortex-m0plus',
  'm0+': 'cortex-m0plus',
  m0plus: 'cortex-m0plus',
  'cortex-m0plus': 'cortex-m0plus',
};

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

function usage(message: string): never {
  throw new SimError('SIM_CONFIG_INVALID', message);
}

function positiveInt(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) usage(`${what} must be a positive integer`);
  return n;
}

function coreOf(text: string): CoreName {
  const c = CORE_ALIASES[text.toLowerCase()];
  if (!c) usage(`--core must be one of ${Object.keys(CORE_ALIASES).join(', ')}`);
  return c;
}

/**
 * The MQTT link of the flags: with --tls (or an mqtts:// broker URL) MQTT over TLS verified against --ca
 * (the ward CA), and with --cert/--key the device's client certificate (mutual TLS, issue #20).
 */
function mqttLinkOf(f: SimFlags, url: string): FleetLink {
  const tls = f.tls === true || url.startsWith('mqtts:');
  if (!tls) {
    if (f.ca !== undefined || f.cert !== undefined) usage('--ca and --cert go with --tls (or an mqtts:// broker)');
    return { kind: 'mqtt', url };
  }
  if (f.ca === undefined) usage('--tls needs --ca <file> (the ward CA certificate, PEM)');
  if ((f.cert === undefined) !== (f.key === undefined)) usage('--cert and --key go together');
  const read = (p: string): string => readFileSync(p, 'utf8');
  return {
    kind: 'mqtt',
    url: url.replace(/^mqtt:/, 'mqtts:'),
    tls: {
      ca: read(f.ca),
      ...(f.cert !== undefined ? { cert: read(f.cert) } : {}),
      ...(f.key !== undefined ? { key: read(f.key) } : {}),
    },
  };
}

/** The devices to run and how they reach the agent. */
async function resolveFleet(
  f: SimFlags,
  seed: string,
  durationMs: number,
  startMs: number,
): Promise<{ devices: FleetDevice[]; link: FleetLink; notes: string[] }> {
  const notes: string[] = [];
  const period = f.period === undefined ? undefined : parseDuration(f.period);
  const withPeriod = (d: FleetDevice): FleetDevice => (period === undefined ? d : { ...d, periodMs: period });
  const profiles = f.profile.split(',').map((p) => profileByName(p.trim()).name) as ProfileName[];

  // one device given on the command line (a device under test): its ticket arrives over the link
  if (f.device !== undefined) {
    if (f.fleet || f.devices) usage('--device excludes --fleet and --devices');
    if (!isDeviceId(f.device)) usage('--device is not a device id (1-64 of [A-Za-z0-9._-], starting with a letter or digit)');
    if (f.authorityKey !== undefined && !/^[0-9a-fA-F]{64}$/.test(f.authorityKey)) usage('--authority-key must be 32 bytes of hex');
    const secret = f.secretFile === undefined ? undefined : readFileSync(f.secretFile, 'utf8').trim();
    if (secret === '') usage('--secret-file is empty');
    if ((f.serial?.length ?? 0) > 1) usage('--device takes one --serial port');
    const device: FleetDevice = withPeriod({
      id: f.device,
      profile: profiles[0]!,
      ...(secret !== undefined ? { secret } : {}),
      ...(f.authorityKey !== undefined ? { authorityPublicKey: fromHex(f.authorityKey.toLowerCase()) } : {}),
      ...(f.serial?.[0] !== undefined ? { serialPath: f.serial[0] } : {}),
    });
    if (f.serial?.length) return { devices: [device], link: { kind: 'serial' }, notes };
    if (!f.broker) usage('--device needs --serial <path> or --broker <url>');
    if (f.broker !== 'loopback' && secret === undefined && f.cert === undefined)
      usage('--device on MQTT needs --secret-file (the device secret, its MQTT password) or --cert/--key (mutual TLS)');
    return { devices: [device], link: f.broker === 'loopback' ? { kind: 'loopback' } : mqttLinkOf(f, f.broker), notes };
  }
  if (f.authorityKey !== undefined || f.secretFile !== undefined) usage('--authority-key and --secret-file go with --device');
  if (f.cert !== undefined || f.key !== undefined) usage('--cert and --key (one device certificate) go with --device');

  if (f.serial?.length) {
    let base: readonly FleetDevice[];
    if (f.fleet) base = loadFleetFile(f.fleet).devices;
    else {
      // generated wired devices: their tickets must reach the agent, which hands them out on the line
      if (!f.agent) usage('--serial needs a --fleet file or --agent <http url> (to push the generated devices’ tickets)');
      const g = generateFleet({
        ids: generatedIds(f.serial.length),
        profiles,
        seed,
        nbf: Math.floor(startMs / 1000) - 60,
        exp: Math.floor((startMs + durationMs) / 1000) + 3600 * Number(f.ticketHours),
        preloadTickets: false,
      });
      const admin = agentAdmin(
        f.agent,
        f.token ?? readFileSync(join(f.agentDataDir, 'admin-token'), 'utf8').trim(),
        f.ca === undefined ? undefined : readFileSync(f.ca, 'utf8'),
      );
      for (const ticket of g.tickets.values()) await admin.pushTicket(ticket);
      if (f.patientKeys) writePatientKeys(f.patientKeys, g.patientKeys);
      base = g.devices;
    }
    if (base.length < f.serial.length) usage('the fleet file has fewer devices than --serial ports');
    const devices = f.serial.map((path, i) => withPeriod({ ...base[i]!, serialPath: path }));
    return { devices, link: { kind: 'serial' }, notes };
  }

  if (f.fleet) {
    const file = loadFleetFile(f.fleet);
    const broker = f.broker ?? file.broker;
    if (!broker) usage('--broker is required (or "broker" in the fleet file)');
    const devices = file.devices.map(withPeriod);
    return { devices, link: broker === 'loopback' ? { kind: 'loopback' } : mqttLinkOf(f, broker), notes };
  }

  // generated fleet: the simulator plays the ward authority and the patients' wallets
  const n = positiveInt(f.devices ?? '10', '--devices');
  const ids = generatedIds(n);
  const nbf = Math.floor(startMs / 1000) - 60;
  const exp = Math.floor((startMs + durationMs) / 1000) + 3600 * Number(f.ticketHours);
  const broker = f.broker ?? (f.agent ? undefined : 'loopback');
  if (broker === undefined) usage('--broker is required with --agent');
  if (broker === 'loopback') {
    const g = generateFleet({ ids, profiles, seed, nbf, exp, preloadTickets: true });
    if (f.patientKeys) writePatientKeys(f.patientKeys, g.patientKeys);
    notes.push('in-process agent stand-in (no network): use --broker mqtt://… with --agent to test a real agent');
    return { devices: g.devices.map(withPeriod), link: { kind: 'loopback' }, notes };
  }
  if (!f.agent) usage('generated devices need credentials on the agent: give --agent <http url> (its admin API), or a --fleet file');
  const token = f.token ?? readFileSync(join(f.agentDataDir, 'admin-token'), 'utf8').trim();
  const admin = agentAdmin(f.agent, token, f.ca === undefined ? undefined : readFileSync(f.ca, 'utf8'));
  const secrets = new Map<string, string>();
  for (const id of ids) secrets.set(id, await admin.provisionDevice(id));
  const g = generateFleet({ ids, profiles, seed, nbf, exp, secrets, preloadTickets: false });
  for (const ticket of g.tickets.values()) await admin.pushTicket(ticket);
  if (f.patientKeys) writePatientKeys(f.patientKeys, g.patientKeys);
  notes.push(`provisioned ${n} devices and pushed their tickets via ${f.agent}`);
  return { devices: g.devices.map(withPeriod), link: mqttLinkOf(f, broker), notes };
}

function progressBar(f: SimFlags): { update(p: FleetProgress): void; stop(): void } | undefined {
  if (f.json || !f.progress || !process.stderr.isTTY) return undefined;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format:
        ' {bar} {percentage}% | {phase} | sim {sim}/{dur} | sealed {measured} | acked {acked} ({rate}/s) | pending {pending} | up {up}/{devices}',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      const payload = {
        phase: p.phase,
        sim: formatDuration(p.simulatedMs),
        dur: formatDuration(p.durationMs),
        measured: p.measured,
        acked: p.acknowledged,
        rate: p.ackRate,
        pending: p.pending,
        up: p.connected,
        devices: p.devices,
      };
      const total = Math.max(1, p.durationMs);
      if (!started) {
        bar.start(total, 0, payload);
        started = true;
      }
      bar.update(Math.min(total, p.simulatedMs), payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/**
 * `vitalseal sim --rotate-identity --device <id> --nvm-dir <dir>`: the vendor's / operator's one-shot
 * rotation of a (stopped) device's identity key in its NVM (docs/PROTOCOL.md §3.6): a new secret
 * (CSPRNG) replaces the old one, which is not kept; the new public key is printed (never the secret)
 * for the ward operator to register (`vitalseal device identity <id> <idk>`). At its next boot the
 * device drops a ticket that certifies the old key (SIM_IDENTITY_KEY_ROTATED) and reports the new idk.
 */
function rotateIdentityAction(f: SimFlags): void {
  if (f.device === undefined || f.nvmDir === undefined)
    usage('--rotate-identity needs --device <id> and --nvm-dir <dir> (the device’s NVM)');
  if (!isDeviceId(f.device)) usage('--device is not a device id (1-64 of [A-Za-z0-9._-], starting with a letter or digit)');
  if (f.fleet || f.devices || f.broker || f.serial?.length || f.energy)
    usage('--rotate-identity is a one-shot command: it takes --device and --nvm-dir only (run the device afterwards)');
  const unlock = lockNvmDir(f.nvmDir); // SIM_NVM_LOCKED while a simulator runs the device: stop it first
  let rotation: ReturnType<typeof rotateIdentityInNvm>;
  const storage = new FileNvm(join(f.nvmDir, f.device));
  try {
    rotation = rotateIdentityInNvm(storage);
  } finally {
    storage.close();
    unlock();
  }
  if (f.json) printJson(rotation);
  else
    process.stdout.write(
      `identity key of ${rotation.device} rotated\n` +
        `idk ${rotation.idk}\n` +
        `previous ${rotation.previous} (its secret is erased)\n` +
        `register it at the ward: vitalseal device identity ${rotation.device} ${rotation.idk}\n`,
    );
}

async function simAction(f: SimFlags, cmd: Command): Promise<void> {
  const json = Boolean(f.json);
  if (f.rotateIdentity) return rotateIdentityAction(f);
  if (f.energy) {
    const table = energyTable();
    if (json) printJson(table);
    else process.stdout.write(`${formatEnergyTable(table)}\n`);
    return;
  }
  const durationMs = parseDuration(f.duration);
  const faults = parseFaults(f.faults, NO_FAULTS);
  const scenarios = (f.scenario ?? []).map(parseScenario);
  if (!SEAL_BACKENDS.includes(f.backend)) usage(`--backend must be one of ${SEAL_BACKENDS.join(', ')}`);
  if (!OUTBOX_POLICIES.includes(f.outboxPolicy)) usage(`--outbox-policy must be one of ${OUTBOX_POLICIES.join(', ')}`);
  const core = coreOf(f.core);
  const firmwareBug = firmwareBugFromCli(f.firmwareBug, process.env);
  const seed = f.seed ?? randomSeed();
  const startMs =
    f.start === undefined
      ? f.virtual
        ? Date.now() - durationMs
        : Date.now()
      : /^\d+$/.test(f.start)
        ? Number(f.start)
        : Date.parse(f.start);
  if (!Number.isFinite(startMs)) usage('--start must be an ISO date or ms since the epoch');
  if (f.start !== undefined && !f.virtual) usage('--start needs --virtual');
  const { devices, link, notes } = await resolveFleet(f, seed, durationMs, startMs);

  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const bar = progressBar(f);
  let report: FleetReport;
  try {
    ({ report } = await runFleet({
      devices,
      link,
      durationMs,
      time: f.virtual ? 'virtual' : 'real',
      ...(f.virtual ? { startMs } : {}),
      seed,
      backend: f.backend,
      mode: f.session ? 'session' : 'per-reading',
      ...(f.nvmDir ? { nvmDir: f.nvmDir } : {}),
      outboxCapacity: positiveInt(f.outbox, '--outbox'),
      outboxPolicy: f.outboxPolicy,
      faults,
      scenarios,
      window: positiveInt(f.window, '--window'),
      ackTimeoutMs: parseDuration(f.ackTimeout),
      drainTimeoutMs: parseDuration(f.drainTimeout),
      energyCore: core,
      signal: controller.signal,
      ...(firmwareBug ? { firmwareBug } : {}),
      ...(bar ? { onProgress: (p: FleetProgress) => bar.update(p) } : {}),
    }));
  } finally {
    bar?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (f.reportFile) writeFileSync(f.reportFile, `${JSON.stringify(report, null, 2)}\n`);
  if (json) printJson(report);
  else process.stdout.write(`${formatFleetReport(report)}\n${notes.map((n) => `note: ${n}\n`).join('')}`);
  const networked = link.kind !== 'loopback';
  if (networked && report.devices.every((d) => d.connects === 0)) setExit(cmd, EXIT.UNAVAILABLE);
}

function randomSeed(): string {
  return Math.floor(Math.random() * 0xffffffff)
    .toString(16)
    .padStart(8, '0');
}

/** Registers `vitalseal sim` on the program (cli/main.ts wires it in). */
export function registerSimCommands(program: Command): void {
  program
    .command('sim')
    .description(
      'Simulate medical devices (firmware model): seal readings with HPKE, send them over MQTT or serial, inject faults, report loss/reorder/latency and energy',
    )
    .option('--fleet <file>', 'fleet file (JSON: devices with id, secret, profile, ticketFile or authorityPublicKey)')
    .option('--device <id>', 'one device of this id (e.g. a device under test) instead of a fleet file; its ticket comes over the link')
    .option('--authority-key <hex>', "with --device: the ward authority's Ed25519 public key (32 bytes hex) to pin")
    .option('--secret-file <file>', 'with --device on MQTT: a file holding the device secret (MQTT password)')
    .option('-n, --devices <n>', 'generate this many devices (sim-0001…) instead of a fleet file', undefined)
    .option(
      '-p, --profile <names>',
      'profile(s) of generated devices, round-robin: pulse-oximeter|ecg-patch|nibp-cuff|cgm|thermometer (aliases spo2, ecg, nibp, cgm, temp)',
      'pulse-oximeter',
    )
    .option('-b, --broker <url>', 'MQTT broker of the agent (mqtt://host:port), or "loopback" for an in-process stand-in')
    .option('--serial <path>', 'serial port of one wired device (repeatable; COBS frames)', collect)
    .option('--tls', 'MQTT over TLS (mqtt:// becomes mqtts://), the agent verified against --ca')
    .option('--ca <file>', 'with --tls: the ward CA certificate (PEM); also verifies an https:// --agent')
    .option('--cert <file>', "with --tls and --device: the device's client certificate (mutual TLS; no --secret-file needed)")
    .option('--key <file>', "with --cert: the device's private key (PEM)")
    .option('--agent <url>', 'agent HTTP URL: provision generated devices and push their tickets through its admin API')
    .option('--agent-data-dir <dir>', 'agent data directory (to read its admin token)', '.vitalseal/agent')
    .option('--token <token>', 'agent admin token (default: read from --agent-data-dir)')
    .option('-d, --duration <duration>', 'measuring time (e.g. 30s, 15m, 2h, 1d); then the outboxes drain', '60s')
    .option('--virtual', 'virtual time: jump from timer to timer as fast as the agent acknowledges (large, long runs)')
    .option('--start <time>', 'virtual time origin, ISO date or ms (default: now − duration)')
    .option('--seed <seed>', 'run seed: same seed, keys and start ⇒ same readings, faults and envelopes (default: random, reported)')
    .addOption(
      new Option(
        '--backend <name>',
        'sealing code: noble (pure JS, like firmware), node (fast, large fleets), none (NO encryption: benchmark baseline only)',
      )
        .choices([...SEAL_BACKENDS])
        .default('noble'),
    )
    .option('--session', 'session mode: one HPKE context per ticket (no per-reading forward secrecy)')
    .option('--period <duration>', "measurement interval for every device (default: each profile's)")
    .option('--nvm-dir <dir>', 'file-backed NVM (seq, ticket, outbox): survives kill -9; restart with the same directory to resume')
    .option('--outbox <n>', 'outbox ring capacity per device', '1024')
    .addOption(new Option('--outbox-policy <policy>', 'when the ring is full').choices([...OUTBOX_POLICIES]).default('drop-oldest'))
    .option(
      '--faults <spec>',
      'seeded faults: drop=R,dup=R,corrupt=R,reorder=R,delay=R:MAX,reboot=R:OFF,link=R:MEAN (per transmission / per measurement)',
      'none',
    )
    .option(
      '--scenario <spec>',
      'clinical event on the timeline, e.g. desaturation@10m+5m, tachycardia@1h+20m:0.7, hypoglycaemia@…, fever@… (repeatable)',
      collect,
    )
    .option('--window <n>', 'readings in flight per device', '8')
    .option('--ack-timeout <duration>', 'resend a reading not acknowledged within this time', '5s')
    .option('--drain-timeout <duration>', 'after the measuring time, wait this long for outboxes to empty', '30s')
    .option('--ticket-hours <h>', 'validity of generated tickets beyond the run', '24')
    .option('--patient-keys <dir>', 'write the generated patients’ temporary key files here (to decrypt the run’s readings)')
    .option(
      '--rotate-identity',
      "with --device and --nvm-dir: rotate the stopped device's identity key in its NVM (the old secret is erased), print the new public key (idk) and exit",
    )
    .option('--energy', 'print the energy model table (five profiles × Cortex-M4/M0+ × per-reading/session) and exit')
    .option('--core <core>', 'microcontroller of the energy estimate in the report: m4 | m0plus', 'm4')
    .option('--json', 'print the report as JSON')
    .option('--no-progress', 'no progress bar')
    .option('--report-file <file>', 'also write the JSON report to this file')
    // a deliberately broken firmware variant (device-sim/firmware/bugs.ts): conformance-kit tests only, hidden
    .addOption(new Option('--firmware-bug <name>').hideHelp())
    .addHelpText(
      'after',
      `
Faults (all repeatable from --seed): per transmission drop, dup, corrupt (MQTT: a byte of the AEAD tag;
serial: a byte of the frame), reorder, delay (:max); per measurement reboot (:off time) and link (:mean outage).
The report counts per device and in total: sent, acknowledged, retried, dropped by policy, duplicates,
gaps and reorders (as the agent counts them), latency to PUBACK / ack p50/p99, and an energy estimate.

Examples:
  vitalseal sim --energy
  vitalseal sim --devices 20 --profile spo2,ecg --broker loopback --virtual --duration 1h --faults drop=0.02,link=0.001:30s
  vitalseal sim --devices 500 --backend node --agent http://127.0.0.1:8080 --broker mqtt://127.0.0.1:1883 --virtual --duration 2h
  vitalseal sim --fleet fleet.json --nvm-dir .vitalseal/sim --duration 10m
  vitalseal sim --device dut-1 --nvm-dir dut --rotate-identity`,
    )
    .action(action(simAction));
}
