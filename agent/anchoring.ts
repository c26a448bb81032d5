import { join } from 'node:path';
import { bytesToHex, type Hex } from 'viem';
import type { Logger } from 'pino';
import { AnchorService } from '../chain/anchor/anchorService.ts';
import { SqliteAnchorStore } from '../chain/anchor/sqliteAnchorStore.ts';
import type { ConfirmedAnchor, LogView } from '../chain/anchor/types.ts';
import { createChainClients, fetchChainId, type ChainClients } from '../chain/client.ts';
import { ChainContracts } from '../chain/contracts.ts';
import { DEV_ACCOUNT } from '../chain/devKeys.ts';
import { startEmbeddedChain, type EmbeddedSession } from '../chain/embedded.ts';
import { outdatedBecause, readDeployment, type Deployment } from '../chain/deployment.ts';
import { ChainError } from '../chain/errors.ts';
import { readKeyFile } from '../chain/keyFile.ts';
import { Gauge, Counter } from 'prom-client';
import type { AgentCore } from './core.ts';
import type { AgentConfig } from './config.ts';
import { AgentError } from './errors.ts';
import { decodeAccessEvent } from '../protocol/log/accessEvent.ts';
import { patientRefOf } from '../protocol/patientRef.ts';
import type { ServedAnchor } from '../protocol/api/servedRecord.ts';

/**
 * The agent's log as the anchor service sees it: committed leaves + the patients they touch —
 * those of the records (through their tickets) and those named by access events (queries of
 * their data, sessions, emergency releases), so each patient's Updated event covers both.
 */
export function agentLogView(core: AgentCore): LogView {
  const accessBodies = core.db.prepare<[number, number], { body: Buffer }>(
    'SELECT body FROM access_events WHERE leaf_idx >= ? AND leaf_idx < ?',
  );
  return {
    size: () => core.ingestor.size,
    root: (size) => core.ingestor.log.root(size),
    consistencyProof: (a, b) => core.ingestor.log.consistencyProof(a, b),
    patientRefsBetween: (a, b) => {
      const patients = new Set(core.store.patientsBetween(a, b));
      for (const r of accessBodies.all(a, b)) {
        const p = decodeAccessEvent(new Uint8Array(r.body))?.['patient'];
        if (typeof p === 'string') patients.add(p);
      }
      return [...patients].map(patientRefOf);
    },
  };
}

/** The anchor of a served record (protocol/api/servedRecord.ts). */
export type AnchorReference = ServedAnchor;

/**
 * Anchoring of the agent's log on-chain: the embedded anvil chain (default of `vitalseal agent`)
 * or any JSON-RPC node (`--rpc` with the agent's own key file and the deployment file).
 */
export class AgentAnchoring {
  private constructor(
    readonly service: AnchorService,
    readonly store: SqliteAnchorStore,
    readonly contracts: ChainContracts,
    readonly deployment: Deployment,
    readonly logId: Hex,
    readonly embedded: EmbeddedSession | undefined,
    readonly chainId: number,
  ) {}

  static async start(core: AgentCore, config: AgentConfig, logger: Logger): Promise<AgentAnchoring> {
    const c = config.chain;
    let embedded: EmbeddedSession | undefined;
    let clients: ChainClients;
    let deployment: Deployment;
    const logId = bytesToHex(core.identity.logId);
    if (c.mode === 'embedded') {
      embedded = await startEmbeddedChain({ dataDir: join(config.dataDir, 'chain'), logger });
      deployment = embedded.deployment;
      clients = embedded.devClients(DEV_ACCOUNT.agent);
      const agentAddr = clients.account.address;
      // the ward authority (admin) registers this agent as the one allowed to anchor its logId
      const current = await embedded.adminContracts.activeAgentOf(logId).catch(() => undefined);
      if (current?.toLowerCase() !== agentAddr.toLowerCase()) {
        await embedded.adminContracts.registerAgent(agentAddr, logId, logId, bytesToHex(core.identity.publicKey));
        logger.info({ logId, agent: agentAddr }, 'agent registered on the embedded chain');
      }
    } else {
      if (!c.rpcUrl || !c.keyFile || !c.deploymentFile)
        throw new AgentError('CONFIG_INVALID', 'chain.mode rpc needs chain.rpcUrl, chain.keyFile and chain.deploymentFile');
      const dep = readDeployment(c.deploymentFile);
      if (!dep) throw new ChainError('CHAIN_DEPLOYMENT_MISSING', `cannot read deployment file ${c.deploymentFile}`);
      const outdated = outdatedBecause(dep);
      // the API checks consent with views of this build (e.g. Consent.canReadAt): older contracts lack them
      if (outdated !== undefined)
        throw new ChainError('CHAIN_DEPLOYMENT_OUTDATED', `${c.deploymentFile}: ${outdated}; run vitalseal chain deploy`);
      deployment = dep;
      const key = readKeyFile(c.keyFile);
      if (key.worldReadable) logger.warn({ file: c.keyFile }, 'agent key file is readable by group/others');
      clients = createChainClients({
        rpcUrl: c.rpcUrl,
        chainId: await fetchChainId(c.rpcUrl),
        privateKey: key.privateKey,
        target: 'external',
      });
    }
    const contracts = new ChainContracts(clients, deployment);
    const store = new SqliteAnchorStore(core.db);
    const anchored = new Counter({
      name: 'vitalseal_anchors_total',
      help: 'Tree heads anchored on-chain, by kind',
      labelNames: ['kind'],
      registers: [core.metrics.registry],
    });
    const failures = new Counter({
      name: 'vitalseal_anchor_failures_total',
      help: 'Failed anchoring attempts by code',
      labelNames: ['code'],
      registers: [core.metrics.registry],
    });
    const alarm = new Gauge({
      name: 'vitalseal_anchor_alarm',
      help: '1 when anchoring halted on an inconsistent (forked) log',
      registers: [core.metrics.registry],
    });
    const backlog = new Gauge({
      name: 'vitalseal_anchor_backlog_leaves',
      help: 'Leaves not yet anchored on-chain',
      registers: [core.metrics.registry],
    });
    const anchoredSize = new Gauge({
      name: 'vitalseal_anchored_tree_size',
      help: 'Largest tree size confirmed on-chain',
      registers: [core.metrics.registry],
    });
    const service = new AnchorService({
      logId,
      log: agentLogView(core),
      store,
      contracts,
      intervalMs: c.intervalMs,
      maxLeaves: c.maxLeaves,
      fromBlock: deployment.deployBlock,
      clock: core.clock,
      logger,
      events: {
        onAnchored: (i) => {
          anchored.inc({ kind: i.kind });
          anchoredSize.set(i.treeSize);
          logger.info(
            { treeSize: i.treeSize, block: i.blockNumber, tx: i.txHash, patients: i.patients, kind: i.kind },
            'tree head anchored',
          );
        },
        onFailure: (i) => failures.inc({ code: i.code }),
        onAlarm: (i) => {
          alarm.set(1);
          logger.error({ code: i.code, reason: i.reason }, 'anchoring halted: log inconsistent with the anchored head');
        },
        onBacklog: (n) => backlog.set(n),
      },
    });
    core.ingestor.addCommitListener((size) => service.notify(size));
    service.start();
    return new AgentAnchoring(service, store, contracts, deployment, logId, embedded, clients.chain.id);
  }

  /** The anchored head that first covers `leafIndex` (what an inclusion proof is checked against). */
  async anchorFor(leafIndex: number): Promise<AnchorReference | undefined> {
    const a: ConfirmedAnchor | undefined = await this.store.coveringAnchor(this.logId, leafIndex);
    if (!a) return undefined;
    return {
      treeSize: a.treeSize,
      root: a.root,
      txHash: a.txHash,
      blockNumber: a.blockNumber,
      blockHash: a.blockHash,
      chainId: this.chainId,
      ledger: this.deployment.ledger,
      logId: this.logId,
    };
  }

  async stop(): Promise<void> {
    await this.service.stop();
    if (this.embedded) await this.embedded.chain.stop();
  }
}
