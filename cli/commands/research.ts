import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { contractsFor } from '../../wallet/chainLink.ts';
import { openDisclosure, type DisclosureFile } from '../../wallet/disclosure.ts';
import { EXIT } from '../output.ts';
import { action } from '../action.ts';
import { hpke, linkOf, openWallet, out, withWalletFlags } from './wallet.ts';

/** `vitalseal research open`: a researcher opens one disclosed reading and verifies it against the chain. */
export function registerResearchCommands(program: Command): void {
  const research = withWalletFlags(program.command('research').description('research side: open readings a patient disclosed'));
  research
    .command('open <file>')
    .description("check the patient's signature, decrypt the one disclosed reading, verify its proof against the root anchored on-chain")
    .action(
      action(async (file: string, _o: unknown, cmd: Command) => {
        const o = cmd.optsWithGlobals() as Parameters<typeof linkOf>[0];
        const w = openWallet(o);
        const link = linkOf(o);
        const d = JSON.parse(readFileSync(file, 'utf8')) as DisclosureFile;
        const r = await openDisclosure(d, {
          hpke,
          contracts: contractsFor(w, link),
          fromBlock: link.deployment.deployBlock,
          chainId: link.deployment.chainId,
          ledger: link.deployment.ledger,
          consent: link.deployment.consent,
        });
        out(
          o.json,
          `patient ${r.patient} disclosed ${r.reading.st} at ${new Date(r.reading.ts).toISOString()}: ${r.reading.v.join(' ')} ${r.reading.u}\nproof: ${r.check.status} (${r.check.detail})`,
          r,
        );
        if (r.check.status !== 'verified') (cmd as Command & { exitCodeValue?: number }).exitCodeValue = EXIT.VERIFICATION_FAILED;
      }),
    );
}
