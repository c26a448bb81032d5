import { defineErrors, type ExitClass } from '../protocol/errors.ts';

/** Stable codes of the wallet and reading side (patient, clinician, researcher). */
export const WALLET_ERRORS = defineErrors('wallet', {
  WALLET_EXISTS: { message: 'a wallet file already exists at this path', exit: 'invalid-input' },
  WALLET_NOT_FOUND: { message: 'no wallet file at this path', exit: 'invalid-input' },
  WALLET_FILE_INVALID: { message: 'the wallet file is not a vitalseal wallet (version 1)', exit: 'invalid-input' },
  WALLET_BAD_PASSPHRASE: { message: 'the passphrase does not open this wallet', exit: 'verification' },
  WALLET_NO_PASSPHRASE: { message: 'no passphrase: use --passphrase-file or VITALSEAL_PASSPHRASE', exit: 'usage' },
  WALLET_NO_SESSION: { message: 'no such session in this wallet', exit: 'invalid-input' },
  WALLET_NO_KEY: { message: 'this wallet holds no key for the record', exit: 'invalid-input' },
  WALLET_CHAIN_CONFIG: { message: 'cannot read the chain configuration (rpc url / deployment)', exit: 'usage' },
  WALLET_AGENT_UNREACHABLE: { message: 'the agent does not answer', exit: 'unavailable' },
  WALLET_AGENT_UNTRUSTED: { message: "the agent's TLS certificate does not verify against the trusted CA", exit: 'verification' },
  WALLET_API_REFUSED: { message: 'the agent refused the request', exit: 'invalid-input' },
  WALLET_SHARE_INVALID: { message: 'the key share does not open with this wallet', exit: 'verification' },
  WALLET_NO_EMERGENCY_KEY: { message: 'this wallet has no emergency key (run `wallet emergency init`)', exit: 'invalid-input' },
  DISCLOSURE_INVALID: { message: 'the disclosure file is malformed', exit: 'invalid-input' },
  DISCLOSURE_BAD_SIGNATURE: { message: 'the disclosure is not signed by the patient it names', exit: 'verification' },
  RECORD_UNVERIFIED: { message: 'a record did not verify against the root anchored on-chain', exit: 'verification' },
});

/** Message of every wallet code. */
export const WALLET_ERROR_CODES = WALLET_ERRORS.messages;

export type WalletErrorCode = keyof typeof WALLET_ERROR_CODES;

export class WalletError extends WALLET_ERRORS.Error {
  override readonly name = 'WalletError';
  /** For WALLET_API_REFUSED: the agent's stable code and HTTP status. */
  readonly apiCode: string | undefined;
  readonly status: number | undefined;
  constructor(code: WalletErrorCode, message?: string, options?: { cause?: unknown; apiCode?: string; status?: number }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.apiCode = options?.apiCode;
    this.status = options?.status;
  }
  /** The agent refusing because a service behind it is down (503) is `unavailable`; the table's class otherwise. */
  override get exitClass(): ExitClass {
    return this.code === 'WALLET_API_REFUSED' && this.status === 503 ? 'unavailable' : super.exitClass;
  }
}
