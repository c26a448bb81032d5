import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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

/** Admin API access of a running agent: URL + token from its data directory. */
function adminClient(opts: { agent: string; dataDir: string; token?: string }) {
  const token = opts.token ?? readFileSync(join(opts.dataDir, 'admin-token'), 'utf8').trim();
  return async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(new URL(path, opts.agent), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await res.json()) as { error?: { code: string; message: string } };
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
    .action(
      action(async (f: AgentFlags) => {
        const config = resolveAgentConfig({ file: f.config, env: process.env, flags: flagsToConfig(f) });
        const agent = await startAgent(config, f.authorityKey ? { authorityPublicKey: fromHex(f.authorityKey) } : {});
        await new Promise<void>((resolve) => {
          const onSignal = (): void => {
            process.off('SIGINT', onSignal);
            process.off('SIGTERM', onSignal);
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
      .option('--json', 'print JSON');

  const device = program.command('device').description('Provision and inspect devices on a running agent');
  agentOpts(device.command('add <id>').description('create (or rotate) MQTT credentials for a device; prints the secret once')).action(
    action(async (id: string, o: { agent: string; dataDir: string; token?: string }) =>
      printJson(await adminClient(o)('POST', '/admin/devices', { id })),
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
        'register (or rotate to) the device\'s identity public key, 64 hex digits as the device reports it (status "idk"); without idk: list its keys; --revoke revokes its current key',
      )
      .option('--revoke', "revoke the device's current identity key: no ticket and no reading under it until a new key is registered"),
  ).action(
    action(async (id: string, idk: string | undefined, o: { agent: string; dataDir: string; token?: string; revoke?: boolean }) => {
      const path = `/admin/devices/${encodeURIComponent(id)}/identity`;
      if (o.revoke === true && idk !== undefined) throw new AgentError('CONFIG_INVALID', 'give an identity key or --revoke, not both');
      if (o.revoke === true) return printJson(await adminClient(o)('DELETE', path));
      printJson(await (idk === undefined ? adminClient(o)('GET', path) : adminClient(o)('PUT', path, { idk })));
    }),
  );
  agentOpts(device.command('assignments').description('devices and the patients they are assigned to')).action(
    action(async (o: { agent: string; dataDir: string; token?: string }) => printJson(await adminClient(o)('GET', '/admin/assignments'))),
  );

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
