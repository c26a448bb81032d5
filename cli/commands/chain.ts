/**
 * `vitalseal chain …`: the embedded chain (anvil) and deployments on external chains.
 *   chain up               start the embedded chain, deploy once, run until Ctrl-C
 *   chain status           is the chain reachable, are the contracts there
 *   chain deploy           deploy on an external chain (--rpc, --key-file), write chain.json
 *   chain register-agent   the ward authority binds an agent account to its logId
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { pino } from 'pino';
import { isAddress, isHex, type Address, type Hex } from 'viem';
import { generatePrivateKey } from 'viem/accounts';
import { createChainClients, fetchChainId, type ChainClients } from '../../chain/client.ts';
import { ChainContracts } from '../../chain/contracts.ts';
import {
  checkDeployment,
  DEFAULT_BREAK_GLASS_SECONDS,
  DEPLOYMENT_FILE,
  ensureDeployment,
  readDeployment,
  type Deployment,
} from '../../chain/deployment.ts';
import { DEV_ACCOUNT, devPrivateKey } from '../../chain/devKeys.ts';
import { readEmbeddedInfo, startEmbeddedChain } from '../../chain/embedded.ts';
import { ChainError } from '../../chain/errors.ts';
import { readKeyFile } from '../../chain/keyFile.ts';
import type { Logger } from '../../chain/logger.ts';
import { EXIT, printJson } from '../output.ts';
import { action, setExit } from '../action.ts';

export const DEFAULT_CHAIN_DATA_DIR = '.vitalseal/chain';

interface CommonFlags {
  dataDir: string;
  json?: boolean;
}

function makeLogger(): Logger {
  return pino({ name: 'vitalseal-chain', level: process.env['LOG_LEVEL'] ?? 'info' }, pino.destination(2));
}

function say(json: boolean | undefined, text: string, value: unknown): void {
  if (json) printJson(value);
  else process.stdout.write(`${text}\n`);
}

function addressesOf(d: Deployment) {
  return { registrar: d.registrar, consent: d.consent, ledger: d.ledger, deployBlock: d.deployBlock, chainId: d.chainId, admin: d.admin };
}

/** Clients for --rpc + --key-file (external: dev keys refused), else the running embedded chain's admin. */
async function clientsFor(o: CommonFlags & { rpc?: string; keyFile?: string }): Promise<{ clients: ChainClients; external: boolean }> {
  if (o.rpc) {
    if (!o.keyFile) throw new ChainError('CHAIN_BAD_ARGUMENT', '--rpc needs --key-file (your own key; development keys are refused)');
    const key = readKeyFile(o.keyFile);
    if (key.worldReadable) process.stderr.write(`warning: ${o.keyFile} is readable by other users (chmod 600 it)\n`);
    let chainId: number;
    try {
      chainId = await fetchChainId(o.rpc);
    } catch (cause) {
      throw new ChainError('CHAIN_UNAVAILABLE', `no answer from ${o.rpc}`, { cause });
    }
    return { clients: createChainClients({ rpcUrl: o.rpc, chainId, privateKey: key.privateKey, target: 'external' }), external: true };
  }
  const info = readEmbeddedInfo(o.dataDir);
  if (!info) throw new ChainError('CHAIN_UNAVAILABLE', `no embedded chain running for ${o.dataDir} (start it: vitalseal chain up)`);
  const privateKey = o.keyFile ? readKeyFile(o.keyFile).privateKey : devPrivateKey(DEV_ACCOUNT.admin);
  return { clients: createChainClients({ rpcUrl: info.rpcUrl, chainId: info.chainId, privateKey, target: 'embedded' }), external: false };
}

export function registerChainCommands(program: Command): void {
  const chain = program.command('chain').description('on-chain layer: embedded chain (anvil), contract deployment, status');

  chain
    .command('up')
    .description('start the embedded chain (anvil on 127.0.0.1), deploy the contracts once, run until Ctrl-C')
    .option('--data-dir <dir>', 'state file, chain.json and embedded.json live here', DEFAULT_CHAIN_DATA_DIR)
    .option('--port <n>', 'RPC port (default: the last one if free, else any free port)')
    .option('--break-glass-seconds <n>', 'break-glass access length for a new deployment', String(DEFAULT_BREAK_GLASS_SECONDS))
    .option('--json', 'print one JSON object when ready')
    .action(
      action(async (o: CommonFlags & { port?: string; breakGlassSeconds: string }, cmd: Command) => {
        const logger = makeLogger();
        const port = o.port === undefined ? undefined : Number(o.port);
        if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536))
          throw new ChainError('CHAIN_BAD_ARGUMENT', '--port must be 1..65535');
        const s = await startEmbeddedChain({
          dataDir: o.dataDir,
          ...(port !== undefined ? { port } : {}),
          breakGlassSeconds: Number(o.breakGlassSeconds),
          logger,
        });
        const ready = {
          ok: true,
          rpcUrl: s.chain.rpcUrl,
          pid: s.chain.pid,
          dataDir: o.dataDir,
          stateRecovery: s.chain.stateRecovery.kind,
          deployedBecause: s.deployedBecause ?? null,
          ...addressesOf(s.deployment),
        };
        say(
          o.json,
          [
            `embedded chain up: ${s.chain.rpcUrl} (chain id ${s.chain.chainId}, anvil pid ${s.chain.pid})`,
            `  state      ${s.chain.statePath} (${s.chain.stateRecovery.kind})`,
            `  contracts  ${s.deployedBecause === undefined ? 'reused from chain.json' : `deployed (${s.deployedBecause})`}`,
            `  Registrar  ${s.deployment.registrar}`,
            `  Consent    ${s.deployment.consent}`,
            `  Ledger     ${s.deployment.ledger}`,
            `  deployed at block ${s.deployment.deployBlock}; development accounts only here. Ctrl-C stops.`,
          ].join('\n'),
          ready,
        );
        const why = await new Promise<'signal' | 'exited'>((resolve) => {
          const onSignal = () => resolve('signal');
          process.once('SIGINT', onSignal);
          process.once('SIGTERM', onSignal);
          void s.chain.exited.then(() => resolve('exited'));
        });
        await s.chain.stop();
        if (why === 'exited') {
          logger.error({ pid: s.chain.pid }, 'anvil exited unexpectedly');
          setExit(cmd, EXIT.UNAVAILABLE);
        } else if (!o.json) {
          process.stdout.write('embedded chain stopped (state saved)\n');
        }
      }),
    );

  chain
    .command('status')
    .description('reachability, chain id, head block and whether the recorded contracts are live')
    .option('--data-dir <dir>', 'where chain.json (and embedded.json) are', DEFAULT_CHAIN_DATA_DIR)
    .option('--rpc <url>', 'an external JSON-RPC node instead of the embedded chain')
    .option('--json', 'JSON output')
    .action(
      action(async (o: CommonFlags & { rpc?: string }, cmd: Command) => {
        const info = o.rpc ? undefined : readEmbeddedInfo(o.dataDir);
        const rpcUrl = o.rpc ?? info?.rpcUrl;
        const deployment = readDeployment(join(o.dataDir, DEPLOYMENT_FILE));
        if (!rpcUrl) {
          say(o.json, `embedded chain: not running (data dir ${o.dataDir})`, {
            ok: false,
            running: false,
            dataDir: o.dataDir,
            deployment: deployment ? addressesOf(deployment) : null,
          });
          setExit(cmd, EXIT.UNAVAILABLE);
          return;
        }
        let chainId: number;
        try {
          chainId = await fetchChainId(rpcUrl);
        } catch (cause) {
          throw new ChainError('CHAIN_UNAVAILABLE', `no answer from ${rpcUrl}`, { cause });
        }
        // read-only: a throw-away key, it never signs here
        const clients = createChainClients({ rpcUrl, chainId, privateKey: generatePrivateKey(), target: 'external' });
        const block = Number(await clients.publicClient.getBlockNumber());
        const check = deployment ? await checkDeployment(clients, deployment) : ({ ok: false, reason: 'no chain.json' } as const);
        const out = {
          ok: check.ok,
          rpcUrl,
          embedded: info ? { pid: info.pid, startedAt: info.startedAt } : null,
          chainId,
          blockNumber: block,
          contracts: check.ok ? 'live' : check.reason,
          deployment: deployment ? addressesOf(deployment) : null,
        };
        say(
          o.json,
          [
            `${info ? `embedded chain (pid ${info.pid})` : 'chain'} ${rpcUrl}: chain id ${chainId}, block ${block}`,
            `  contracts: ${out.contracts}`,
            ...(deployment
              ? [`  Registrar ${deployment.registrar}`, `  Consent   ${deployment.consent}`, `  Ledger    ${deployment.ledger}`]
              : []),
          ].join('\n'),
          out,
        );
        if (!check.ok) setExit(cmd, deployment ? EXIT.INVALID_INPUT : EXIT.USAGE);
      }),
    );

  chain
    .command('deploy')
    .description('deploy Registrar, Consent and Ledger (reused if chain.json names live contracts) and write chain.json')
    .requiredOption('--rpc <url>', 'JSON-RPC endpoint of the chain (e.g. a Besu QBFT node)')
    .requiredOption('--key-file <file>', 'the ward authority key (becomes the Registrar admin); development keys are refused')
    .option('--data-dir <dir>', 'where chain.json is written', DEFAULT_CHAIN_DATA_DIR)
    .option('--break-glass-seconds <n>', 'break-glass access length', String(DEFAULT_BREAK_GLASS_SECONDS))
    .option('--json', 'JSON output')
    .action(
      action(async (o: CommonFlags & { rpc: string; keyFile: string; breakGlassSeconds: string }) => {
        const { clients } = await clientsFor(o);
        mkdirSync(o.dataDir, { recursive: true });
        const r = await ensureDeployment(clients, join(o.dataDir, DEPLOYMENT_FILE), { breakGlassSeconds: Number(o.breakGlassSeconds) });
        say(
          o.json,
          `${r.deployedBecause === undefined ? 'reused' : `deployed (${r.deployedBecause})`}: Registrar ${r.deployment.registrar}, Consent ${r.deployment.consent}, Ledger ${r.deployment.ledger} (block ${r.deployment.deployBlock})`,
          { ok: true, deployedBecause: r.deployedBecause ?? null, ...addressesOf(r.deployment) },
        );
      }),
    );

  chain
    .command('register-agent')
    .description('admin: bind an agent account to its logId (SHA-256 of the agent Ed25519 public key)')
    .requiredOption('--agent <address>', 'the agent account')
    .requiredOption('--log-id <hex>', 'bytes32 logId')
    .option('--id <hex>', 'bytes32 pseudonymous id of the agent (default: the logId)')
    .option('--pub-key <hex>', 'bytes32 public key of the agent (default: zero)')
    .option('--rpc <url>', 'external chain (needs --key-file of the admin)')
    .option('--key-file <file>', 'admin key file')
    .option('--data-dir <dir>', 'where chain.json is', DEFAULT_CHAIN_DATA_DIR)
    .option('--json', 'JSON output')
    .action(
      action(async (o: CommonFlags & { agent: string; logId: string; id?: string; pubKey?: string; rpc?: string; keyFile?: string }) => {
        const b32 = (v: string, name: string): Hex => {
          const h = (v.startsWith('0x') ? v : `0x${v}`).toLowerCase();
          if (!isHex(h) || h.length !== 66) throw new ChainError('CHAIN_BAD_ARGUMENT', `${name} must be 32 bytes of hex`);
          return h as Hex;
        };
        if (!isAddress(o.agent)) throw new ChainError('CHAIN_BAD_ARGUMENT', '--agent must be an address');
        const deployment = readDeployment(join(o.dataDir, DEPLOYMENT_FILE));
        if (!deployment) throw new ChainError('CHAIN_DEPLOYMENT_MISSING', `no ${DEPLOYMENT_FILE} in ${o.dataDir}`);
        const { clients } = await clientsFor(o);
        const logId = b32(o.logId, '--log-id');
        const r = await new ChainContracts(clients, deployment).registerAgent(
          o.agent as Address,
          o.id ? b32(o.id, '--id') : logId,
          logId,
          o.pubKey ? b32(o.pubKey, '--pub-key') : `0x${'00'.repeat(32)}`,
        );
        say(o.json, `agent ${o.agent} registered for log ${logId} (tx ${r.txHash}, block ${r.blockNumber})`, {
          ok: true,
          agent: o.agent,
          logId,
          txHash: r.txHash,
          blockNumber: r.blockNumber,
        });
      }),
    );
}
