/**
 * Deployment of Registrar, Consent and Ledger, and its record `chain.json`:
 * `{version, chainId, admin, registrar, consent, ledger, deployBlock, codeHashes, ...}`.
 * On restart the record is reused if the code is still at those addresses (same code
 * hash) and was deployed from this build of the contracts (`buildHashes`, the creation code
 * in chain/abi.ts); otherwise the contracts are deployed again and the caller is told why.
 */
import { existsSync, readFileSync } from 'node:fs';
import { keccak256, isAddress, type Address, type Hex } from 'viem';
import { consentAbi, consentBytecode, ledgerAbi, ledgerBytecode, registrarAbi, registrarBytecode } from './abi.ts';
import type { ChainClients } from './client.ts';
import type { ContractAddresses } from './contracts.ts';
import { ChainError } from './errors.ts';
import { pollReceipt } from './receipt.ts';
import { writePrivateFileAtomicSync } from '../platform/privateFiles.ts';
import { toChainError } from './viemErrors.ts';

export const DEPLOYMENT_FILE = 'chain.json';
/** Default length of a break-glass access (4 h). */
export const DEFAULT_BREAK_GLASS_SECONDS = 4 * 3600;

export interface Deployment extends ContractAddresses {
  version: 1;
  chainId: number;
  admin: Address;
  deployBlock: number;
  breakGlassSeconds: number;
  /** keccak256 of the runtime code found at each address right after deployment. */
  codeHashes: { registrar: Hex; consent: Hex; ledger: Hex };
  /** keccak256 of the creation code each contract was deployed from (absent in records older than this field). */
  buildHashes?: { registrar: Hex; consent: Hex; ledger: Hex };
  deployedAt: string;
}

export function readDeployment(path: string): Deployment | undefined {
  if (!existsSync(path)) return undefined;
  let d: unknown;
  try {
    d = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new ChainError('CHAIN_DEPLOYMENT_INVALID', `${path} is not JSON`, { cause });
  }
  const x = d as Partial<Deployment> | null;
  const ok =
    x !== null &&
    x.version === 1 &&
    typeof x.chainId === 'number' &&
    typeof x.deployBlock === 'number' &&
    typeof x.breakGlassSeconds === 'number' &&
    [x.registrar, x.consent, x.ledger, x.admin].every((a) => typeof a === 'string' && isAddress(a)) &&
    typeof x.codeHashes === 'object' &&
    x.codeHashes !== null;
  if (!ok) throw new ChainError('CHAIN_DEPLOYMENT_INVALID', `${path} is not a vitalseal deployment record`);
  return x as Deployment;
}

/** Atomic write (temp file + fsync + rename), mode 0600. */
export function writeDeployment(path: string, d: Deployment): void {
  writePrivateFileAtomicSync(path, `${JSON.stringify(d, null, 2)}\n`);
}

/** keccak256 of each contract's creation code in this build (chain/abi.ts). */
export function currentBuildHashes(): NonNullable<Deployment['buildHashes']> {
  return { registrar: keccak256(registrarBytecode), consent: keccak256(consentBytecode), ledger: keccak256(ledgerBytecode) };
}

/** undefined if `d` was deployed from this build of the contracts, else why not. */
export function outdatedBecause(d: Deployment): string | undefined {
  if (!d.buildHashes) return 'the record predates build hashes (contracts of an older build)';
  const now = currentBuildHashes();
  for (const name of ['registrar', 'consent', 'ledger'] as const) {
    if (d.buildHashes[name] !== now[name]) return `${name} was deployed from another build of the contracts`;
  }
  return undefined;
}

export interface DeployOptions {
  breakGlassSeconds?: number;
  now?: () => number;
  receiptTimeoutMs?: number;
}

/** Deploys the three contracts with `clients.account` as the Registrar admin. */
export async function deployContracts(clients: ChainClients, opts: DeployOptions = {}): Promise<Deployment> {
  const { walletClient: w, publicClient: p } = clients;
  const breakGlassSeconds = opts.breakGlassSeconds ?? DEFAULT_BREAK_GLASS_SECONDS;
  const wait = async (hash: Hex, what: string): Promise<{ address: Address; block: number }> => {
    const r = await pollReceipt(p, hash, {
      timeoutMs: opts.receiptTimeoutMs ?? 60_000,
      pollingIntervalMs: clients.pollingIntervalMs,
      what: `deploy ${what}`,
    });
    if (r.status !== 'success' || !r.contractAddress) throw new ChainError('CHAIN_TX_REVERTED', `deploying ${what} failed`);
    return { address: r.contractAddress, block: Number(r.blockNumber) };
  };
  try {
    const reg = await wait(await w.deployContract({ abi: registrarAbi, bytecode: registrarBytecode, args: [] }), 'Registrar');
    const con = await wait(
      await w.deployContract({ abi: consentAbi, bytecode: consentBytecode, args: [reg.address, BigInt(breakGlassSeconds)] }),
      'Consent',
    );
    const led = await wait(await w.deployContract({ abi: ledgerAbi, bytecode: ledgerBytecode, args: [reg.address] }), 'Ledger');
    const addresses = { registrar: reg.address, consent: con.address, ledger: led.address };
    return {
      version: 1,
      chainId: clients.chain.id,
      admin: clients.account.address,
      ...addresses,
      deployBlock: reg.block,
      breakGlassSeconds,
      codeHashes: await codeHashes(clients, addresses),
      buildHashes: currentBuildHashes(),
      deployedAt: new Date((opts.now ?? Date.now)()).toISOString(),
    };
  } catch (e) {
    clients.resetNonce();
    throw toChainError(e, 'deploy');
  }
}

async function codeHashes(clients: ChainClients, a: ContractAddresses): Promise<Deployment['codeHashes']> {
  const hash = async (address: Address): Promise<Hex> => {
    const code = await clients.publicClient.getCode({ address });
    if (!code || code === '0x') throw new ChainError('CHAIN_CONTRACT_MISSING', `no code at ${address}`);
    return keccak256(code);
  };
  return { registrar: await hash(a.registrar), consent: await hash(a.consent), ledger: await hash(a.ledger) };
}

export type DeploymentCheck = { ok: true } | { ok: false; reason: string };

/** Is the recorded deployment live on the node behind `clients` (chain id and code) and of this build? */
export async function checkDeployment(clients: ChainClients, d: Deployment): Promise<DeploymentCheck> {
  try {
    const chainId = await clients.publicClient.getChainId();
    if (chainId !== d.chainId) return { ok: false, reason: `chain id ${chainId} differs from the recorded ${d.chainId}` };
    const outdated = outdatedBecause(d);
    if (outdated !== undefined) return { ok: false, reason: outdated };
    for (const name of ['registrar', 'consent', 'ledger'] as const) {
      const code = await clients.publicClient.getCode({ address: d[name] });
      if (!code || code === '0x') return { ok: false, reason: `no ${name} code at ${d[name]} (chain state lost or reset)` };
      if (keccak256(code) !== d.codeHashes[name]) return { ok: false, reason: `${name} code at ${d[name]} differs from the recorded one` };
    }
    return { ok: true };
  } catch (e) {
    throw toChainError(e, 'checkDeployment');
  }
}

export interface EnsureResult {
  deployment: Deployment;
  /** undefined when the recorded deployment was reused; else why it was (re)deployed. */
  deployedBecause: string | undefined;
}

/**
 * Reuses `path` if its contracts are live on this chain, else deploys and rewrites it.
 * CHAIN_WRONG_CHAIN_ID if `path` records another chain.
 */
export async function ensureDeployment(clients: ChainClients, path: string, opts: DeployOptions = {}): Promise<EnsureResult> {
  const recorded = readDeployment(path);
  let because = 'no deployment record';
  if (recorded) {
    const chainId = await clients.publicClient.getChainId().catch((e: unknown) => {
      throw toChainError(e, 'chainId');
    });
    if (chainId !== recorded.chainId) {
      // Another chain: never overwrite the record of the first one.
      throw new ChainError(
        'CHAIN_WRONG_CHAIN_ID',
        `${path} records chain ${recorded.chainId}, the node is chain ${chainId}: use another data dir`,
      );
    }
    const check = await checkDeployment(clients, recorded);
    if (check.ok) return { deployment: recorded, deployedBecause: undefined };
    because = check.reason;
  }
  const deployment = await deployContracts(clients, opts);
  writeDeployment(path, deployment);
  return { deployment, deployedBecause: because };
}
