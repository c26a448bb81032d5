import { CodedError } from '../protocol/errors.ts';

/** Stable codes of the wallet and reading side (patient, clinician, researcher). */
export const WALLET_ERROR_CODES = {
  WALLET_EXISTS: 'a wallet file already exists at this path',
  WALLET_NOT_FOUND: 'no wallet file at this path',
  WALLET_FILE_INVALID: 'the wallet file is not a vitalseal wallet (version 1)',
  WALLET_BAD_PASSPHRASE: 'the passphrase does not open this wallet',
  WALLET_NO_PASSPHRASE: 'no passphrase: use --passphrase-file or VITALSEAL_PASSPHRASE',
  WALLET_NO_SESSION: 'no such session in this wallet',
  WALLET_NO_KEY: 'this wallet holds no key for the record',
  WALLET_CHAIN_CONFIG: 'cannot read the chain configuration (rpc url / deployment)',
  WALLET_AGENT_UNREACHABLE: 'the agent does not answer',
  WALLET_API_REFUSED: 'the agent refused the request',
  WALLET_SHARE_INVALID: 'the key share does not open with this wallet',
  WALLET_NO_EMERGENCY_KEY: 'this wallet has no emergency key (run `wallet emergency init`)',
  DISCLOSURE_INVALID: 'the disclosure file is malformed',
  DISCLOSURE_BAD_SIGNATURE: 'the disclosure is not signed by the patient it names',
  RECORD_UNVERIFIED: 'a record did not verify against the root anchored on-chain',
} as const;

export type WalletErrorCode = keyof typeof WALLET_ERROR_CODES;

export class WalletError extends CodedError<WalletErrorCode> {
  override readonly name = 'WalletError';
  /** For WALLET_API_REFUSED: the agent's stable code and HTTP status. */
  readonly apiCode: string | undefined;
  readonly status: number | undefined;
  constructor(code: WalletErrorCode, message?: string, options?: { cause?: unknown; apiCode?: string; status?: number }) {
    super(code, WALLET_ERROR_CODES, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.apiCode = options?.apiCode;
    this.status = options?.status;
  }
}
