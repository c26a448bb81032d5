import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writePrivateFileAtomicSync } from '../../platform/privateFiles.ts';
import { certFingerprint, generateDeviceKey, tlsPaths, WardCa } from '../../agent/tls/wardCa.ts';
import { requestJson } from '../httpJson.ts';
import type { Command } from 'commander';
import { resolveAgentConfig, setConfigPath } from '../../agent/config.ts';
import { startAgent } from '../../agent/agent.ts';
import { fromHex } from '../../protocol/bytes.ts';
import { printJson } from '../output.ts';
import { action } from '../action.ts';
import { AgentRefusedError } from '../errors.ts';
import { AgentError } from '../../agent/errors.ts';

interface AgentFlags {
  config?: string;
  dataDir?: string;
  mqttHost?: string;
  mqttPort?: string;
  httpHost?: string;
  httpPort?: string;
  external?: string;
  externalUsername?: string;
  externalPassword?: string;
  serial?: string[];
  maxConnections?: string;
  maxPacketBytes?: string;
  maxInflightPerDevice?: string;
  authorityKey?: string;
  logLevel?: string;
  chain?: string;
  rpc?: string;
  chainKeyFile?: string;
  deployment?: string;
  tls?: boolean;
  tlsPort?: string;
  tlsWebsocketPort?: string;
  requireTls?: boolean;
  clientCerts?: string;
  tlsHostname?: string[];
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  tlsCrl?: string;
  externalCa?: string;
  externalCert?: string;
  externalKey?: string;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

function flagsToConfig(f: AgentFlags): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const num = (v: string): unknown => (/^\d+$/.test(v) ? Number(v) : v);
  if (f.dataDir) setConfigPath(out, 'dataDir', f.dataDir);
  if (f.mqttHost) setConfigPath(out, 'mqtt.host', f.mqttHost);
  if (f.mqttPort) setConfigPath(out, 'mqtt.port', num(f.mqttPort));
  if (f.maxConnections) setConfigPath(out, 'mqtt.maxConnections', num(f.maxConnections));
  if (f.maxPacketBytes) setConfigPath(out, 'mqtt.maxPacketBytes', num(f.maxPacketBytes));
  if (f.maxInflightPerDevice) setConfigPath(out, 'mqtt.maxInflightPerDevice', num(f.maxInflightPerDevice));
  if (f.httpHost) setConfigPath(out, 'http.host', f.httpHost);
  if (f.httpPort) setConfigPath(out, 'http.port', num(f.httpPort));
  if (f.external) {
    setConfigPath(out, 'mode', 'external');
    setConfigPath(out, 'external.url', f.external);
    if (f.externalUsername) setConfigPath(out, 'external.username', f.externalUsername);
    if (f.externalPassword) setConfigPath(out, 'external.password', f.externalPassword);
  }
  if (f.externalCa) setConfigPath(out, 'external.caFile', f.externalCa);
  if (f.externalCert) setConfigPath(out, 'external.certFile', f.externalCert);
  if (f.externalKey) setConfigPath(out, 'external.keyFile', f.externalKey);
  if (f.tls || f.requireTls) setConfigPath(out, 'tls.enabled', true);
  if (f.requireTls) setConfigPath(out, 'tls.requireTls', true);
  if (f.tlsPort) setConfigPath(out, 'tls.port', num(f.tlsPort));
  if (f.tlsWebsocketPort) setConfigPath(out, 'tls.websocketPort', num(f.tlsWebsocketPort));
  if (f.clientCerts) setConfigPath(out, 'tls.clientCerts', f.clientCerts);
  if (f.tlsHostname?.length) setConfigPath(out, 'tls.hostnames', f.tlsHostname);
  if (f.tlsCert) setConfigPath(out, 'tls.certFile', f.tlsCert);
  if (f.tlsKey) setConfigPath(out, 'tls.keyFile', f.tlsKey);
  if (f.tlsCa) setConfigPath(out, 'tls.caFile', f.tlsCa);
  if (f.tlsCrl) setConfigPath(out, 'tls.crlFile', f.tlsCrl);
  if (f.serial?.length) out.serial = f.serial;
  if (f.logLevel) out.logLevel = f.logLevel;
  if (f.rpc) {
    setConfigPath(out, 'chain.mode', 'rpc');
    setConfigPath(out, 'chain.rpcUrl', f.rpc);
  } else if (f.chain) setConfigPath(out, 'chain.mode', f.chain);
  if (f.chainKeyFile) setConfigPath(out, 'chain.keyFile', f.chainKeyFile);
  if (f.deployment) setConfigPath(out, 'chain.deploymentFile', f.deployment);
  return out;
}

interface AdminOpts {
  agent: string;
  dataDir: string;
  token?: string;
  ca?: string;
}

/**
 * The CA an https:// agent URL is verified against: --ca, else the ward CA of the data directory when
 * there is one (the operator's machine is the agent's), else the system's.
 */
function agentCa(opts: AdminOpts): string | undefined {
  if (opts.ca) return readFileSync(opts.ca, 'utf8');
  if (!opts.agent.startsWith('https:')) return undefined;
  try {
    return readFileSync(tlsPaths(opts.dataDir).caCert, 'utf8');
  } catch {
    return undefined;
  }
}

/** Admin API access of a running agent: URL + token from its data directory (HTTPS verified against the ward CA). */
function adminClient(opts: AdminOpts) {
  const token = opts.token ?? readFileSync(join(opts.dataDir, 'admin-token'), 'utf8').trim();
  const ca = agentCa(opts);
  return async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await requestJson(new URL(path, opts.agent), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      ca,
    });
    const json = res.json as { error?: { code: string; message: string } };
    if (!res.ok) throw new AgentRefusedError(json.error?.code ?? 'AGENT_ERROR', json.error?.message ?? `HTTP ${res.status}`);
    return json;
  };
}

export function registerAgentCommands(program: Command): void {
  program
    .command('agent')
    .description(
      'Run the edge agent: MQTT broker (or external-broker subscriber), serial ingress, durable store, transparency log, metrics',
    )
    .option('-c, --config <file>', 'JSON config file (flags > env VITALSEAL_* > file > defaults)')
    .option('-d, --data-dir <dir>', 'data directory (database, keys, admin token)')
    .option('--mqtt-host <host>', 'embedded broker bind address')
    .option('--mqtt-port <port>', 'embedded broker port (0 = any free port)')
    .option('--max-connections <n>', 'embedded broker connection limit')
    .option('--max-packet-bytes <n>', 'largest MQTT packet accepted')
    .option(
      '--max-inflight-per-device <n>',
      'readings of one connection waiting for their commit before the broker stops reading it (default 64)',
    )
    .option('--external <url>', 'subscribe to an external broker instead (mqtt://host:port)')
    .option('--external-username <u>')
    .option('--external-password <p>')
    .option('--serial <path[=device]>', 'serial port of a wired device (repeatable)', collect)
    .option('--http-host <host>', 'HTTP bind address (metrics, health, proofs, admin)')
    .option('--http-port <port>', 'HTTP port')
    .option('--authority-key <hex>', "ward authority's Ed25519 public key: pushed tickets must be signed by it")
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
    .option('--chain <mode>', 'anchoring: embedded (local anvil chain in the data dir) | rpc | off', 'embedded')
    .option('--rpc <url>', 'anchor on an external Ethereum JSON-RPC node (implies --chain rpc); see chain/README.md')
    .option('--chain-key-file <file>', "the agent's own Ethereum key file (rpc mode; development keys are refused)")
    .option('--deployment <file>', 'contract deployment file (chain.json) of the external chain')
    .option('--tls', 'TLS on: MQTT over TLS (--tls-port, 8883), HTTPS API, client certificates of the ward CA (created in the data dir)')
    .option('--tls-port <port>', 'MQTT over TLS port (default 8883)')
    .option('--tls-websocket-port <port>', 'also MQTT over WebSocket over TLS (wss://) on this port (same certificates and policy)')
    .option('--require-tls', 'no plain MQTT listener at all (implies --tls)')
    .option('--client-certs <mode>', 'optional (devices may log in with their password over TLS) | required (mutual TLS only)')
    .option('--tls-hostname <name>', 'extra DNS name or IP of the server certificate (repeatable)', collect)
    .option('--tls-cert <file>', 'operator-managed server certificate (PEM) instead of one issued by the ward CA')
    .option('--tls-key <file>', 'its private key (PEM)')
    .option('--tls-ca <file>', 'CA certificate(s) client certificates are verified against (PEM)')
    .option('--tls-crl <file>', 'CRL of that CA (PEM)')
    .option('--external-ca <file>', "external broker's CA certificate (mqtts://)")
    .option('--external-cert <file>', "the agent's client certificate for the external broker")
    .option('--external-key <file>', 'its private key')
    .action(
      action(async (f: AgentFlags) => {
        const config = resolveAgentConfig({ file: f.config, env: process.env, flags: flagsToConfig(f) });
        const agent = await startAgent(config, f.authorityKey ? { authorityPublicKey: fromHex(f.authorityKey) } : {});
        // SIGHUP re-reads the TLS key, certificate, CA and CRL (rotation without closing a connection)
        const onHup = (): void => {
          agent.tls?.reload().catch((err: Error) => process.stderr.write(`TLS reload failed: ${err.message}\n`));
        };
        process.on('SIGHUP', onHup);
        await new Promise<void>((resolve) => {
          const onSignal = (): void => {
            process.off('SIGINT', onSignal);
            process.off('SIGTERM', onSignal);
            process.off('SIGHUP', onHup);
            void agent.stop().then(resolve);
          };
          process.on('SIGINT', onSignal);
          process.on('SIGTERM', onSignal);
        });
      }),
    );

  const agentOpts = (c: Command): Command =>
    c
      .option('--agent <url>', 'agent HTTP URL', 'http://127.0.0.1:8080')
      .option('-d, --data-dir <dir>', 'agent data directory (for its admin token)', '.vitalseal/agent')
      .option('--token <token>', 'admin token (default: read from the data directory)')
      .option('--ca <file>', 'CA certificate of an https:// agent (default: the ward CA of the data directory)')
      .option('--json', 'print JSON');

  const device = program.command('device').description('Provision and inspect devices on a running agent');
  agentOpts(
    device
      .command('add <id>')
      .description('create (or rotate) MQTT credentials for a device; prints the secret once')
      .option('--cert', "also a client certificate of the ward CA: the device's key is made here (0600) and never sent")
      .option('--out <dir>', 'where --cert writes <id>.key, <id>.crt and ca.crt', '.'),
  ).action(
    action(async (id: string, o: AdminOpts & { cert?: boolean; out: string }) => {
      const call = adminClient(o);
      const added = (await call('POST', '/admin/devices', { id })) as Record<string, unknown>;
      printJson(o.cert ? { ...added, certificate: await enrolCertificate(call, id, o.out) } : added);
    }),
  );
  agentOpts(
    device
      .command('cert <id>')
      .description("a new key and client certificate for a device (rotation: the old one stays valid until 'device cert-revoke')")
      .option('--out <dir>', 'where to write <id>.key, <id>.crt and ca.crt', '.'),
  ).action(action(async (id: string, o: AdminOpts & { out: string }) => printJson(await enrolCertificate(adminClient(o), id, o.out))));
  agentOpts(
    device.command('cert-revoke <serial>').description('revoke one device certificate (its connection closes, the CRL is rewritten)'),
  ).action(
    action(async (serial: string, o: AdminOpts) =>
      printJson(await adminClient(o)('DELETE', `/admin/certificates/${encodeURIComponent(serial)}`)),
    ),
  );
  agentOpts(device.command('list').description('devices with their counters (seq, gaps, reorders, duplicates, online)')).action(
    action(async (o: { agent: string; dataDir: string; token?: string }) => printJson(await adminClient(o)('GET', '/admin/devices'))),
  );
  agentOpts(device.command('revoke <id>').description("revoke a device's credentials")).action(
    action(async (id: string, o: { agent: string; dataDir: string; token?: string }) =>
      printJson(await adminClient(o)('DELETE', `/admin/devices/${encodeURIComponent(id)}`)),
    ),
  );

  agentOpts(
    device
      .command('assign <id>')
      .description(
        'assign a device to a patient: --code confirms the pairing code the patient shows at the bedside; --patient assigns by reference',
      )
      .option('--code <code>', "the patient's pairing code (vitalseal wallet pair)")
      .option('--patient <ref>', 'patient address or ward reference (when the patient was identified otherwise)'),
  ).action(
    action(async (id: string, o: { agent: string; dataDir: string; token?: string; code?: string; patient?: string }) => {
      if ((o.code === undefined) === (o.patient === undefined))
        throw new AgentError('CONFIG_INVALID', 'give exactly one of --code or --patient');
      printJson(
        await adminClient(o)(
          'POST',
          '/admin/assignments',
          o.code !== undefined ? { device: id, code: o.code } : { device: id, patient: o.patient },
        ),
      );
    }),
  );
  agentOpts(device.command('release <id>').description("end a device's assignment (the patient's sessions on it end)")).action(
    action(async (id: string, o: { agent: string; dataDir: string; token?: string }) =>
      printJson(await adminClient(o)('DELETE', `/admin/assignments/${encodeURIComponent(id)}`)),
    ),
  );
  agentOpts(
    device
      .command('identity <id> [idk]')
      .description(
        'register (or rotate to) the device\'s identity public key, 64 hex digits as the device reports it (status "idk"); without idk: list its keys and the idk the device last reported; --revoke revokes its current key (or the key given)',
      )
      .option(
        '--revoke',
        "revoke the device's current identity key (no ticket and no reading under it until a new key is registered); with an idk: revoke that key, also an earlier (rotated) one",
      ),
  ).action(
    action(async (id: string, idk: string | undefined, o: { agent: string; dataDir: string; token?: string; revoke?: boolean }) => {
      const path = `/admin/devices/${encodeURIComponent(id)}/identity`;
      if (o.revoke === true)
        return printJson(await adminClient(o)('DELETE', idk === undefined ? path : `${path}?idk=${encodeURIComponent(idk)}`));
      printJson(await (idk === undefined ? adminClient(o)('GET', path) : adminClient(o)('PUT', path, { idk })));
    }),
  );
  agentOpts(device.command('assignments').description('devices and the patients they are assigned to')).action(
    action(async (o: { agent: string; dataDir: string; token?: string }) => printJson(await adminClient(o)('GET', '/admin/assignments'))),
  );

  const wardCmd = program.command('ward').description("The ward's certificate authority and the agent's TLS");
  const caCmd = wardCmd.command('ca').description('the ward CA (ECDSA P-256) that issues the agent and device TLS certificates');
  caCmd
    .command('init')
    .description('create the ward CA in the agent data directory (key 0600; never overwritten)')
    .option('-d, --data-dir <dir>', 'agent data directory', '.vitalseal/agent')
    .option('--name <cn>', 'CA common name', 'vitalseal ward CA')
    .action(
      action(async (o: { dataDir: string; name: string }) => {
        const ca = await WardCa.init(o.dataDir, { name: o.name });
        printJson({ caCert: resolve(ca.paths.caCert), crl: resolve(ca.paths.crl), fingerprint: ca.fingerprint });
      }),
    );
  agentOpts(
    wardCmd.command('tls-rotate').description('a new TLS key and server certificate for the running agent, without closing a connection'),
  ).action(action(async (o: AdminOpts) => printJson(await adminClient(o)('POST', '/admin/tls/rotate'))));
  agentOpts(
    wardCmd
      .command('authority-rotate')
      .description(
        'a new ward authority key for the running agent: new tickets are signed by it; the old public key stays published in /v1/ward (re-provision devices with the new key: docs/PROTOCOL.md §7.7)',
      ),
  ).action(action(async (o: AdminOpts) => printJson(await adminClient(o)('POST', '/admin/ward/authority-rotate'))));

  const ticket = program.command('ticket').description('Session tickets');
  agentOpts(
    ticket
      .command('push <file>')
      .description('push a session ticket (COSE_Sign1 file) to the agent, which publishes it retained to its device'),
  ).action(
    action(async (file: string, o: { agent: string; dataDir: string; token?: string }) =>
      printJson(await adminClient(o)('POST', '/admin/tickets', { ticket: readFileSync(file).toString('base64') })),
    ),
  );
}

/** A device key made here (written 0600, atomically), its certificate from the agent, and the ward CA certificate. */
async function enrolCertificate(
  call: (method: string, path: string, body?: unknown) => Promise<unknown>,
  id: string,
  out: string,
): Promise<{ serial: string; key: string; cert: string; caCert: string; caFingerprint: string }> {
  const k = await generateDeviceKey();
  const r = (await call('POST', `/admin/devices/${encodeURIComponent(id)}/certificates`, { publicKey: k.publicKeyPem })) as {
    serial: string;
    cert: string;
    caCert: string;
  };
  mkdirSync(out, { recursive: true });
  const key = join(out, `${id}.key`);
  const cert = join(out, `${id}.crt`);
  const caCert = join(out, 'ca.crt');
  writePrivateFileAtomicSync(key, k.keyPem);
  writeFileSync(cert, r.cert);
  writeFileSync(caCert, r.caCert);
  return { serial: r.serial, key: resolve(key), cert: resolve(cert), caCert: resolve(caCert), caFingerprint: certFingerprint(r.caCert) };
}
