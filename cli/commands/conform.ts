/**
 * `vitalseal conform`: the conformance kit (conform/, issue #18) against a device under test.
 *
 *   vitalseal conform --serial /dev/ttyUSB0 --device oxi-01 --report conform-report
 *   vitalseal conform --mqtt --mqtt-port 1883 --device oxi-01 --secret … --reboot-cmd "./plug off && sleep 2 && ./plug on"
 *
 * Exit code: 0 when every applicable case passed, 4 when a case failed, the error table's code when
 * the kit could not run (2 bad command line, 5 the port or broker could not be opened, …).
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { isDeviceId } from '../../protocol/deviceId.ts';
import { systemRng } from '../../protocol/rng.ts';
import {
  ConformError,
  ConformKit,
  loadAuthority,
  loadOrCreateAuthority,
  rebootByCommand,
  rebootByPrompt,
  rotateByCommand,
  reportJson,
  prepareKitTls,
  selectCases,
  summaryLine,
  writeReport,
  type ConformOptions,
  type TestAuthority,
} from '../../conform/index.ts';
import { parseDuration } from '../../device-sim/time/duration.ts';
import { action, setExit } from '../action.ts';
import { EXIT } from '../output.ts';

interface ConformFlags {
  serial?: string;
  baud: string;
  mqtt?: boolean;
  mqttPort: string;
  mqttHost: string;
  device?: string;
  profile?: string;
  cases: string;
  rebootCmd?: string;
  rebootTimeout: string;
  rotateCmd?: string;
  rotateTimeout: string;
  prompt: boolean;
  report: string;
  authorityKey: string;
  secret?: string;
  resendBound: string;
  readingTimeout: string;
  linkTimeout: string;
  caseTimeout: string;
  json?: boolean;
  tls?: boolean;
  ca?: string;
  cert?: string;
  key?: string;
  clientCerts: string;
}

function usage(message: string): never {
  throw new ConformError('CONFORM_CONFIG_INVALID', message);
}

function duration(text: string, flag: string): number {
  try {
    const ms = parseDuration(text);
    if (ms > 0) return ms;
  } catch {
    /* below */
  }
  return usage(`${flag} must be a positive duration (e.g. 5s, 30s, 2m)`);
}

async function conformAction(f: ConformFlags, cmd: Command): Promise<void> {
  if (Boolean(f.serial) === Boolean(f.mqtt)) usage('give exactly one of --serial <path> and --mqtt');
  if (!f.device || !isDeviceId(f.device)) usage('--device <id> is required: 1-64 of [A-Za-z0-9._-], starting with a letter or digit');
  const port = Number(f.mqttPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) usage('--mqtt-port must be a TCP port');
  const log = (line: string): void => void process.stderr.write(`${line}\n`);

  const rebootTimeoutMs = duration(f.rebootTimeout, '--reboot-timeout');
  const rotateTimeoutMs = duration(f.rotateTimeout, '--rotate-timeout');
  if (f.rotateCmd !== undefined && f.rotateCmd.trim() === '') usage('--rotate-cmd is empty');
  const bounds = {
    resendBoundMs: duration(f.resendBound, '--resend-bound'),
    readingTimeoutMs: duration(f.readingTimeout, '--reading-timeout'),
    linkTimeoutMs: duration(f.linkTimeout, '--link-timeout'),
  };
  const caseTimeoutMs = duration(f.caseTimeout, '--case-timeout');
  if (f.clientCerts !== 'none' && f.clientCerts !== 'required') usage('--client-certs is none or required');
  const mutual = f.clientCerts === 'required';
  if (!f.tls && (f.ca !== undefined || f.cert !== undefined || f.key !== undefined || mutual))
    usage('--ca, --cert, --key and --client-certs go with --tls');
  if (f.tls && !f.mqtt) usage('--tls goes with --mqtt (the kit broker listens MQTT over TLS)');
  if ((f.cert === undefined) !== (f.key === undefined)) usage("--cert and --key go together (the kit broker's certificate and key)");
  if (mutual && f.cert !== undefined && f.ca === undefined)
    usage('--client-certs required with your own --cert needs --ca (the CA of the device certificates)');
  const pem = (file: string | undefined, flag: string): string | undefined => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return usage(`${flag}: cannot read ${file}`);
    }
  };
  const tlsFiles = { ca: pem(f.ca, '--ca'), cert: pem(f.cert, '--cert'), key: pem(f.key, '--key') };
  const cases = selectCases(f.cases); // an unknown id is refused before anything is created or opened
  let authority: TestAuthority;
  if (cmd.getOptionValueSource('authorityKey') === 'default') {
    const r = loadOrCreateAuthority(f.authorityKey, systemRng);
    authority = r.authority;
    if (r.created) log(`generated a test authority key in ${f.authorityKey}`);
  } else authority = loadAuthority(f.authorityKey);
  log(`test ward authority public key (pin it in the device): ${authority.publicKeyHex}`);

  const interactive = f.prompt && process.stdin.isTTY === true && process.stderr.isTTY === true;
  const reboot = f.rebootCmd
    ? rebootByCommand(f.rebootCmd, rebootTimeoutMs)
    : interactive
      ? rebootByPrompt(process.stdin, process.stderr, rebootTimeoutMs)
      : undefined;

  const tls = f.tls
    ? await prepareKitTls({
        dir: f.report,
        deviceId: f.device,
        ...(f.mqttHost !== undefined ? { host: f.mqttHost } : {}),
        ...(tlsFiles.ca !== undefined ? { ca: tlsFiles.ca } : {}),
        ...(tlsFiles.cert !== undefined ? { cert: tlsFiles.cert } : {}),
        ...(tlsFiles.key !== undefined ? { key: tlsFiles.key } : {}),
        requireClientCert: mutual,
      })
    : undefined;
  if (tls && tls.written.length > 0)
    log(`TLS: the kit's test CA and certificates (provision kit-ca.crt in the device): ${tls.written.join(', ')}`);

  const options: ConformOptions = {
    deviceId: f.device,
    link: f.serial
      ? { kind: 'serial', path: f.serial, baudRate: Number(f.baud) }
      : {
          kind: 'mqtt',
          port,
          host: f.mqttHost,
          ...(f.secret !== undefined ? { secret: f.secret } : {}),
          ...(tls
            ? {
                tls: {
                  key: tls.key,
                  cert: tls.cert,
                  ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
                  requireClientCert: tls.requireClientCert,
                },
              }
            : {}),
        },
    authority,
    cases: cases.map((c) => c.id),
    ...(f.profile !== undefined ? { profile: f.profile } : {}),
    ...(reboot ? { reboot } : { rebootUnavailable: 'no --reboot-cmd and no interactive terminal to ask for a power cycle' }),
    ...(f.rotateCmd !== undefined ? { rotateIdentity: rotateByCommand(f.rotateCmd, rotateTimeoutMs) } : {}),
    bounds,
    caseTimeoutMs,
    onStart: (c, i, n) => log(`[${i + 1}/${n}] ${c.id} ${c.title}`),
    onResult: (r) => {
      const v = r.verdict === 'n/a' ? 'N/A ' : r.verdict === 'pass' ? 'PASS' : 'FAIL';
      const why =
        r.verdict === 'fail'
          ? ` — expected ${r.evidence?.expected}; received ${r.evidence?.received}`
          : r.verdict === 'n/a'
            ? ` — ${r.reason}`
            : '';
      log(`       ${v} ${r.id} (${r.durationMs} ms)${why}`);
    },
  };
  const kit = new ConformKit(options);
  await kit.start();
  log(
    f.serial
      ? `listening on ${f.serial}: power the device on`
      : `MQTT${tls ? ' over TLS' : ''} broker on ${f.mqttHost}:${kit.mqttPort}: let device ${f.device} connect (client id = user name = ${f.device})`,
  );
  const stop = (): void => void kit.stop().finally(() => process.exit(EXIT.FAILURE));
  process.once('SIGINT', stop);
  let result: Awaited<ReturnType<ConformKit['run']>>;
  try {
    result = await kit.run();
  } finally {
    process.off('SIGINT', stop);
    await kit.stop();
  }
  const written = writeReport(result.report, f.report);
  log(`report: ${written.json} (SHA-256 ${written.sha256}), ${written.html}, ${written.markdown}`);
  if (f.json) process.stdout.write(reportJson(result.report));
  else process.stdout.write(`${summaryLine(result.report)}\n`);
  if (result.report.summary.verdict !== 'pass') setExit(cmd, EXIT.VERIFICATION_FAILED);
}

/** Registers `vitalseal conform` (cli/registry.ts wires it in). */
export function registerConformCommands(program: Command): void {
  program
    .command('conform')
    .description(
      "Conformance kit: test a device's firmware against docs/PROTOCOL.md (the kit plays gateway and ward authority) and write a pass/fail report",
    )
    .option('--serial <path>', 'the device is on this serial port (USB CDC, UART adapter)')
    .option('--baud <rate>', 'serial baud rate', '115200')
    .option('--mqtt', 'run an embedded MQTT broker for the device to connect to')
    .option('--mqtt-port <n>', 'port of the embedded broker', '1883')
    .option('--mqtt-host <addr>', 'listen address of the embedded broker (the lab network: 0.0.0.0)', '0.0.0.0')
    .option('--device <id>', 'the device id of the device under test')
    .option(
      '--profile <name>',
      'the device profile or sensor type it must report (pulse-oximeter|spo2, ecg-patch|ecg, nibp-cuff|nibp, cgm, thermometer|temp)',
    )
    .option('--cases <ids>', 'case ids, comma-separated, or all', 'all')
    .option('--reboot-cmd <command>', 'shell command that power-cycles the device (reboot cases); without it the kit asks on the terminal')
    .option('--reboot-timeout <duration>', 'how long a reboot (command or person) may take', '2m')
    .option(
      '--rotate-cmd <command>',
      'shell command that makes the device rotate its identity key (AUTH-06), e.g. power off, run the vendor rotation tool on its NVM, power on',
    )
    .option('--rotate-timeout <duration>', 'how long --rotate-cmd may take', '2m')
    .option('--no-prompt', 'never ask on the terminal (reboot cases are N/A without --reboot-cmd)')
    .option('--report <dir>', 'write report.json (+ .sha256), report.html and report.md here', 'conform-report')
    .option(
      '--authority-key <file>',
      'test ward authority key (hex seed); created if missing — pin its public key in the device',
      'conform-authority.key',
    )
    .option('--secret <secret>', 'the MQTT password provisioned in the device (checked when given)')
    .option('--resend-bound <duration>', 'a reading not acknowledged must be resent within this time', '30s')
    .option('--reading-timeout <duration>', 'longest wait for the next reading (more than the measurement period)', '30s')
    .option('--link-timeout <duration>', 'longest wait for the device to come up (after start or a reboot)', '60s')
    .option('--case-timeout <duration>', 'time limit of one case', '2m')
    .option(
      '--tls',
      'with --mqtt: the kit broker listens MQTT over TLS (≥ 1.2); without --cert/--key it makes a test CA and writes kit-ca.crt, kit-server.crt/.key (and device.crt/.key) to --report',
    )
    .option('--ca <file>', 'with --tls: the CA (PEM) the device client certificates chain to (mutual TLS)')
    .option('--cert <file>', "with --tls: the kit broker's server certificate (PEM), e.g. issued by the ward CA")
    .option('--key <file>', "with --cert: the kit broker's private key (PEM)")
    .option('--client-certs <mode>', 'with --tls: none, or required (mutual TLS: a client certificate naming --device)', 'none')
    .option('--json', 'print the JSON report on stdout')
    .addHelpText(
      'after',
      `
Exit code 0: every applicable case passed; 4: a case failed (the report says which and why);
2/3/5: the kit could not run (bad option, unreadable key file, port or broker unavailable).

Examples:
  vitalseal conform --serial /dev/ttyACM0 --device oxi-01 --profile spo2
  vitalseal conform --mqtt --mqtt-port 1883 --device oxi-01 --secret s3cret --reboot-cmd "./relay.sh cycle"
  vitalseal conform --serial /dev/ttyUSB0 --device ecg-7 --cases ENV-01,RTX-01,FRM-03
  vitalseal conform --serial /dev/ttyACM0 --device oxi-01 --cases AUTH-06 --rotate-cmd "./relay.sh off && ./rotate-idk.sh && ./relay.sh on"
  vitalseal conform --mqtt --tls --client-certs required --device oxi-01 --report rep   (then: vitalseal sim --tls --ca rep/kit-ca.crt --cert rep/device.crt --key rep/device.key …)`,
    )
    .action(action(conformAction));
}
