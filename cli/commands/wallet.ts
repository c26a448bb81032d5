import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { isAddress, type Address, type Hex } from 'viem';
import { writePrivateFileAtomicSync } from '../../platform/privateFiles.ts';
import { createHpke } from '../../protocol/node.ts';
import type { Rng } from '../../protocol/rng.ts';
import { DEV_ACCOUNT, devPrivateKey, isWellKnownDevKey } from '../../chain/devKeys.ts';
import { ChainContracts, type RoleName } from '../../chain/contracts.ts';
import { createChainClients } from '../../chain/client.ts';
import { readKeyFile } from '../../chain/keyFile.ts';
import { Wallet } from '../../wallet/wallet.ts';
import { WalletError } from '../../wallet/errors.ts';
import { AgentClient, trustedAuthorities } from '../../wallet/agentClient.ts';
import { chainLinkOf, contractsFor, fundOnEmbedded, registerByAdmin, registerPatient, type ChainLink } from '../../wallet/chainLink.ts';
import { startSession, endSession, requestPairing } from '../../wallet/sessions.ts';
import { grantConsent, parseScope, revokeConsent, scopeLabel, sessionsCoveredBy } from '../../wallet/consent.ts';
import { importKeyShare, sealKeyShare, type KeyShareFile } from '../../wallet/keyShare.ts';
import { currentGrants, describeEvent, patientEvents, watchPatient } from '../../wallet/chainEvents.ts';
import { breakGlassAndRelease, initEmergency, type EmergencyProfile } from '../../wallet/emergency.ts';
import { createDisclosure } from '../../wallet/disclosure.ts';
import { fetchRecords } from '../../wallet/fetchRecords.ts';
import { fetchAccessEvents } from '../../wallet/accessEvents.ts';
import { AnchoredRoots } from '../../wallet/verifyRecords.ts';
import { EXIT, printError, printJson, UsageError } from '../output.ts';
import { action, setExit } from '../action.ts';

/** Flags every wallet / records / research command shares. */
export interface WalletFlags {
  wallet: string;
  passphraseFile?: string;
  agent: string;
  agentCa?: string;
  chainDir: string;
  rpc?: string;
  deployment?: string;
  json?: boolean;
}

export const rng: Rng = (n) => new Uint8Array(randomBytes(n));
export const hpke = createHpke('node');
export const nowSec = (): number => Math.floor(Date.now() / 1000);

export { action };

export function out(json: boolean | undefined, text: string, value: unknown): void {
  if (json) printJson(value);
  else process.stdout.write(`${text}\n`);
}

/** Passphrase from --passphrase-file, else VITALSEAL_PASSPHRASE (scripts); never from the command line. */
export function passphraseOf(o: WalletFlags): string {
  if (o.passphraseFile) return readFileSync(o.passphraseFile, 'utf8').replace(/\r?\n$/, '');
  const env = process.env['VITALSEAL_PASSPHRASE'];
  if (env) return env;
  throw new WalletError('WALLET_NO_PASSPHRASE');
}

export function openWallet(o: WalletFlags): Wallet {
  return Wallet.open(o.wallet, passphraseOf(o), rng);
}

/** The agent's API client: an https:// agent verified against --agent-ca (the ward CA, PEM) when given. */
export function agentClientOf(o: WalletFlags): AgentClient {
  return AgentClient.withCa(o.agent, rng, o.agentCa === undefined ? undefined : readFileSync(o.agentCa, 'utf8'));
}

export function linkOf(o: WalletFlags): ChainLink {
  return chainLinkOf({ chainDir: o.chainDir, ...(o.rpc ? { rpc: o.rpc } : {}), ...(o.deployment ? { deployment: o.deployment } : {}) });
}

function addressArg(v: string): Address {
  if (!isAddress(v)) throw new UsageError(`not an address: ${v}`);
  return v.toLowerCase() as Address;
}

/** Adds the shared flags to a command group (inherited by its subcommands through optsWithGlobals). */
export function withWalletFlags(c: Command): Command {
  return c
    .option('--wallet <file>', 'wallet file (encrypted)', process.env['VITALSEAL_WALLET'] ?? '.vitalseal/wallet.json')
    .option('--passphrase-file <file>', 'file holding the wallet passphrase (else env VITALSEAL_PASSPHRASE)')
    .option('--agent <url>', 'agent HTTP API', process.env['VITALSEAL_AGENT'] ?? 'http://127.0.0.1:8080')
    .option(
      '--agent-ca <file>',
      "CA certificate an https:// agent is verified against (the ward CA, the agent's <data-dir>/tls/ca.crt)",
      process.env['VITALSEAL_AGENT_CA'],
    )
    .option('--chain-dir <dir>', "embedded chain dir (the agent's <data-dir>/chain)", '.vitalseal/agent/chain')
    .option('--rpc <url>', 'external chain JSON-RPC (with --deployment)')
    .option('--deployment <file>', "the chain's deployment record (chain.json)")
    .option('--json', 'JSON output');
}

type Opts<T = object> = T & WalletFlags;
const g = <T>(cmd: Command): Opts<T> => cmd.optsWithGlobals() as Opts<T>;

export function registerWalletCommands(program: Command): void {
  const wallet = withWalletFlags(
    program
      .command('wallet')
      .description('patient / clinician / researcher wallet: identity, registration, sessions, consent, emergency key, watch'),
  );

  wallet
    .command('init')
    .description('create an encrypted wallet (Ethereum account + X25519 vitalseal key)')
    .option('--import-key-file <file>', 'use this secp256k1 key (hex) as the Ethereum account')
    .option('--dev-account <n>', 'embedded chain only: use development account n of the public mnemonic')
    .option('--scrypt-log-n <n>', 'scrypt cost exponent', '15')
    .action(
      action(async (_o: unknown, cmd: Command) => {
        const o = g<{ importKeyFile?: string; devAccount?: string; scryptLogN: string }>(cmd);
        let ethPrivateKey: Hex | undefined;
        if (o.importKeyFile) {
          ethPrivateKey = readKeyFile(o.importKeyFile).privateKey;
          if (isWellKnownDevKey(ethPrivateKey)) process.stderr.write('warning: this is a public development key: embedded chain only\n');
        } else if (o.devAccount !== undefined) ethPrivateKey = devPrivateKey(Number(o.devAccount));
        mkdirSync(dirname(o.wallet), { recursive: true });
        const w = Wallet.create(o.wallet, passphraseOf(o), {
          rng,
          ...(ethPrivateKey ? { ethPrivateKey } : {}),
          scryptN: 1 << Number(o.scryptLogN),
        });
        out(o.json, `wallet ${o.wallet}\n  address ${w.address}\n  vitalseal key ${w.vitalsealPublicKey}`, {
          wallet: o.wallet,
          ...w.toJSON(),
        });
      }),
    );

  wallet
    .command('show')
    .description('address, public keys, sessions (never a secret)')
    .action(
      action(async (_o: unknown, cmd: Command) => {
        const o = g(cmd);
        const w = openWallet(o);
        out(
          o.json,
          `address ${w.address}\nvitalseal key ${w.vitalsealPublicKey}\nsessions:\n${w.sessions.map((s) => `  ${s.device} kid ${s.kid} ${s.source} patient ${s.patient}${s.endedAt ? ' ended' : ''}`).join('\n')}`,
          w.toJSON(),
        );
      }),
    );

  wallet
    .command('register')
    .description(
      'register on-chain (Registrar): a patient registers itself (id = patientRef of the address, pubKey = X25519 key); clinician, emergency-clinician and researcher are registered by the ward authority (--admin-key-file, or its dev key on the embedded chain)',
    )
    .option('--role <role>', 'patient | clinician | emergency-clinician | researcher', 'patient')
    .option('--admin-key-file <file>', "the ward authority's key file (Registrar admin)")
    .action(
      action(async (_o: unknown, cmd: Command) => {
        const o = g<{ role: string; adminKeyFile?: string }>(cmd);
        const w = openWallet(o);
        const link = linkOf(o);
        const c = contractsFor(w, link);
        if (link.embedded && (await c.clients.publicClient.getBalance({ address: w.address })) === 0n) await fundOnEmbedded(c, w.address);
        const roles: Record<string, RoleName> = {
          clinician: 'Clinician',
          'emergency-clinician': 'EmergencyClinician',
          researcher: 'Researcher',
        };
        if (o.role !== 'patient') {
          const role = roles[o.role];
          if (!role) throw new UsageError(`unknown role ${o.role}`);
          if (!link.embedded && !o.adminKeyFile) throw new UsageError('an external chain needs --admin-key-file of the ward authority');
          const adminKey = o.adminKeyFile ? readKeyFile(o.adminKeyFile).privateKey : devPrivateKey(DEV_ACCOUNT.admin);
          const admin = new ChainContracts(
            createChainClients({
              rpcUrl: link.rpcUrl,
              chainId: link.deployment.chainId,
              privateKey: adminKey,
              target: link.embedded ? 'embedded' : 'external',
            }),
            link.deployment,
          );
          const r = await registerByAdmin(admin, w, role);
          out(o.json, `registered ${o.role} ${w.address} by the ward authority (block ${r.blockNumber})`, {
            address: w.address,
            role,
            ...r,
          });
          return;
        }
        const r = await registerPatient(c, w);
        out(o.json, `registered patient ${w.address} id ${r.id} (block ${r.blockNumber}, tx ${r.txHash})`, { address: w.address, ...r });
      }),
    );

  wallet
    .command('pair')
    .description('ask to be paired with a device: prints a one-time code to show the ward operator at the bedside')
    .requiredOption('--device <id>', 'device id')
    .action(
      action(async (_o: unknown, cmd: Command) => {
        const o = g<{ device: string }>(cmd);
        const w = openWallet(o);
        const p = await requestPairing(w, agentClientOf(o), o.device);
        const until = new Date(p.expiresAt).toISOString();
        out(
          o.json,
          `pairing code ${p.code} for ${p.device} (valid until ${until}): show it with your address ${w.address} to the ward operator`,
          p,
        );
      }),
    );

  const session = wallet.command('session').description('device sessions (TempKeyPairGen; tickets issued by the ward authority)');
  session
    .command('start')
    .requiredOption('--device <id>', 'device id')
    .option('--hours <n>', 'session length', '12')
    .action(
      action(async (_o: unknown, cmd: Command) => {
        const o = g<{ device: string; hours: string }>(cmd);
        const w = openWallet(o);
        const s = await startSession(w, agentClientOf(o), {
          device: o.device,
          hpke,
          rng,
          nowSec: nowSec(),
          durationSec: Number(o.hours) * 3600,
        });
        out(o.json, `session on ${s.device}: kid ${s.kid}; ticket signed by the ward authority and pushed to the device`, {
          device: s.device,
          kid: s.kid,
        });
      }),
    );
  session
    .command('end')
    .requiredOption('--device <id>', 'device id')
    .option('--kid <hex>', 'session kid (default: the latest on that device)')
    .action(
      action(async (_o: unknown, cmd: Command) => {
        const o = g<{ device: string; kid?: string }>(cmd);
        const w = openWallet(o);
        const s = o.kid
          ? w.sessions.find((x) => x.kid === o.kid)
          : [...w.sessions].reverse().find((x) => x.device === o.device && x.source === 'own' && !x.endedAt);
        if (!s) throw new WalletError('WALLET_NO_SESSION');
        await endSession(w, agentClientOf(o), o.device, s.kid, nowSec());
        out(o.json, `session ${s.kid} on ${o.device} ended`, { device: o.device, kid: s.kid, ended: true });
      }),
    );
  session.command('list').action(
    action(async (_o: unknown, cmd: Command) => {
      const o = g(cmd);
      const w = openWallet(o);
      out(
        o.json,
        w.sessions
          .map((s) => `${s.device} ${s.kid} ${s.source} exp ${new Date(s.exp * 1000).toISOString()}${s.endedAt ? ' ended' : ''}`)
          .join('\n'),
        w.toJSON(),
      );
    }),
  );

  const consent = wallet
    .command('consent')
    .description('grants on the Consent contract (scope all / sensor:<type> / session:<kid>, expiry)');
  consent
    .command('grant')
    .requiredOption('--to <address>', 'grantee (registered clinician / researcher)')
    .option('--scope <scope>', 'all | sensor:<type> | session:<kid hex>', 'all')
    .option('--days <n>', 'grant length', '30')
    .option('--share-out <file>', 'write the session keys the scope covers, sealed to the grantee, to this file')
    .action(
      action(async (_o: unknown, cmd: Command) => {
        const o = g<{ to: string; scope: string; days: string; shareOut?: string }>(cmd);
        const w = openWallet(o);
        const link = linkOf(o);
        const c = contractsFor(w, link);
        const grantee = addressArg(o.to);
        const scope = parseScope(o.scope);
        const r = await grantConsent(c, grantee, scope, nowSec() + Number(o.days) * 86_400);
        let shared = 0;
        if (o.shareOut) {
          const reg = await c.registration(grantee);
          const covered = sessionsCoveredBy(w, scope);
          writePrivateFileAtomicSync(o.shareOut, `${JSON.stringify(sealKeyShare(w, covered, grantee, reg.pubKey, hpke, rng), null, 2)}\n`);
          shared = covered.length;
        }
        out(
          o.json,
          `granted ${scopeLabel(scope)} to ${grantee} (block ${r.blockNumber})${o.shareOut ? `; ${shared} session keys sealed to it in ${o.shareOut}` : ''}`,
          { grantee, ...r, shared },
        );
      }),
    );
  consent
    .command('revoke')
    .requiredOption('--to <address>', 'grantee')
    .option('--scope <scope>', 'all | sensor:<type> | session:<kid hex>', 'all')
    .action(
      action(async (_o: unknown, cmd: Command) => {
        const o = g<{ to: string; scope: string }>(cmd);
        const w = openWallet(o);
        const r = await revokeConsent(contractsFor(w, linkOf(o)), addressArg(o.to), parseScope(o.scope));
        out(o.json, `revoked ${o.scope} from ${o.to} (block ${r.blockNumber})`, r);
      }),
    );
  consent.command('list').action(
    action(async (_o: unknown, cmd: Command) => {
      const o = g(cmd);
      const w = openWallet(o);
      const link = linkOf(o);
      const grants = await currentGrants(contractsFor(w, link), w.address, link.deployment.deployBlock, nowSec());
      out(
        o.json,
        grants.map((x) => `${x.grantee} scope ${x.scope} until ${new Date(x.notAfter * 1000).toISOString()}`).join('\n') ||
          '(no active grants)',
        grants,
      );
    }),
  );

  wallet
    .command('keys')
    .description('import session keys a patient shared with this wallet')
    .command('import <file>')
    .action(
      action(async (file: string, _o: unknown, cmd: Command) => {
        const o = g(cmd);
        const w = openWallet(o);
        const n = importKeyShare(w, JSON.parse(readFileSync(file, 'utf8')) as KeyShareFile, hpke);
        out(o.json, `${n} session keys imported`, { imported: n });
      }),
    );

  const emergency = wallet.command('emergency').description('emergency profile escrow and break-glass');
  emergency
    .command('init')
    .requiredOption('--profile <file>', 'JSON {bloodType, allergies[], medication[], notes?}')
    .action(
      action(async (_o: unknown, cmd: Command) => {
        const o = g<{ profile: string }>(cmd);
        const w = openWallet(o);
        const profile = JSON.parse(readFileSync(o.profile, 'utf8')) as EmergencyProfile;
        const r = await initEmergency(w, agentClientOf(o), profile, { hpke, rng });
        out(
          o.json,
          `emergency key kid ${r.kid}: profile encrypted (COSE_Encrypt0, alg 24), key escrowed sealed to the ward (access leaf ${r.leafIndex})`,
          r,
        );
      }),
    );
  emergency
    .command('break-glass')
    .description("emergency clinician: break the glass on-chain and receive the patient's emergency profile")
    .requiredOption('--patient <address>', 'patient')
    .requiredOption('--reason <text>', 'reason (only its hash goes on-chain)')
    .option('--drill', 'a drill: the on-chain reason hash is marked DRILL')
    .action(
      action(async (_o: unknown, cmd: Command) => {
        const o = g<{ patient: string; reason: string; drill?: boolean }>(cmd);
        const w = openWallet(o);
        const r = await breakGlassAndRelease(w, contractsFor(w, linkOf(o)), agentClientOf(o), addressArg(o.patient), {
          reason: o.reason,
          drill: Boolean(o.drill),
          hpke,
        });
        out(
          o.json,
          `${r.drill ? 'DRILL ' : ''}break-glass in block ${r.blockNumber}, open until ${new Date(r.until * 1000).toISOString()}\n${JSON.stringify(r.profile, null, 2)}`,
          r,
        );
      }),
    );

  wallet
    .command('disclose')
    .description('patient: disclose ONE reading to a researcher (its AEAD key + nonce, not the session key), signed')
    .requiredOption('--record <id>', 'record id (hex)')
    .requiredOption('--out <file>', 'disclosure file')
    .action(
      action(async (_o: unknown, cmd: Command) => {
        const o = g<{ record: string; out: string }>(cmd);
        const w = openWallet(o);
        const client = agentClientOf(o);
        const fetched = await fetchRecords(w, client, w.address);
        const rec = fetched.records.find((r) => r.recordId === o.record.toLowerCase().replace(/^0x/, ''));
        if (!rec) throw new WalletError('WALLET_NO_KEY', "record not found among the patient's records");
        const ward = await client.ward();
        const d = await createDisclosure(w, rec, {
          domain: ward.chain!.domain,
          hpke,
          nowSec: nowSec(),
          authorityPublicKey: trustedAuthorities(ward),
        });
        writeFileSync(o.out, `${JSON.stringify(d, null, 2)}\n`, { mode: 0o600 });
        out(o.json, `disclosure of record ${rec.recordId} (${d.scope}) written to ${o.out}`, {
          recordId: rec.recordId,
          scope: d.scope,
          file: o.out,
        });
      }),
    );

  wallet
    .command('access')
    .description(
      "patient: who accessed what — the agent's access events about you (served queries, sessions, emergency releases), each proof checked on-chain",
    )
    .option('--from-leaf <n>', 'first log leaf', '0')
    .action(
      action(async (_o: unknown, cmd: Command) => {
        const o = g<{ fromLeaf: string }>(cmd);
        const w = openWallet(o);
        const link = linkOf(o);
        const evs = await fetchAccessEvents(w, agentClientOf(o), new AnchoredRoots(contractsFor(w, link), link.deployment.deployBlock), {
          fromLeaf: Number(o.fromLeaf),
        });
        const lines = evs.map(
          (e) =>
            `leaf ${e.leafIndex}  ${new Date(e.at).toISOString()}  ${String(e.event['t']).padEnd(17)} ${String(e.event['requester'] ?? e.event['clinician'] ?? '')}${e.event['drill'] ? ' (drill)' : ''}  ${e.check.status}`,
        );
        out(o.json, lines.join('\n') || '(no access events)', evs);
        if (evs.some((e) => e.check.status !== 'verified' && e.check.status !== 'unanchored')) setExit(cmd, EXIT.VERIFICATION_FAILED);
      }),
    );

  wallet
    .command('watch')
    .description("follow the chain's events about this patient: records anchored (Updated), grants, break-glass")
    .option('--from-block <n>', 'start block (default: the deployment block)')
    .option('--once', 'print the events so far and exit')
    .action(
      action(async (_o: unknown, cmd: Command) => {
        const o = g<{ fromBlock?: string; once?: boolean }>(cmd);
        const w = openWallet(o);
        const link = linkOf(o);
        const c = contractsFor(w, link);
        const from = o.fromBlock !== undefined ? Number(o.fromBlock) : link.deployment.deployBlock;
        const print = (e: Parameters<typeof describeEvent>[0]): void => out(o.json, describeEvent(e), e);
        if (o.once) {
          for (const e of await patientEvents(c, w.address, from)) print(e);
          return;
        }
        const ac = new AbortController();
        process.once('SIGINT', () => ac.abort());
        await watchPatient(c, w.address, from, print, { signal: ac.signal });
      }),
    );
}

export { printError };
