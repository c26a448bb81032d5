/**
 * Every failure vitalseal reports carries a stable `code` from one of the layers' error tables,
 * each built by `defineErrors` below: this file's protocol table, and agent/, agent/api/, chain/,
 * wallet/, device-sim/, cli/, fuzz/ each their own. A code says its message, its exit class
 * (how a command that fails with it ends: cli/output.ts turns the class into the exit code) and,
 * where the agent's HTTP layer can answer with it, its HTTP status (agent/http/errorReply.ts).
 * Messages are short and never contain key material, secrets or plaintext readings.
 * Add a code to the layer's table (in its section) rather than throwing a bare Error.
 */

/** How a failure ends a command: `usage` 2, `invalid-input` 3, `verification` 4, `unavailable` 5, `failure` 1. */
export type ExitClass = 'usage' | 'invalid-input' | 'verification' | 'unavailable' | 'failure';

/** One code of a table: its short, secret-free message, its exit class, its HTTP status if the agent answers with it. */
export interface ErrorSpec {
  readonly message: string;
  readonly exit: ExitClass;
  readonly http?: number;
}

/** A layer's error table: its codes and, per code, message, exit class and HTTP status; `Error` is its error class. */
export interface ErrorTable<C extends string> {
  readonly name: string;
  readonly codes: readonly C[];
  readonly specs: { readonly [K in C]: ErrorSpec };
  readonly messages: { readonly [K in C]: string };
  has(code: string): code is C;
  exitOf(code: C): ExitClass;
  /** The HTTP status the agent answers this code with (the entry's, else the table's default), or undefined. */
  httpStatusOf(code: C): number | undefined;
  readonly Error: new (code: C, message?: string, options?: { cause?: unknown }) => CodedError<C>;
}

/** Any table, read by code (without its typed error class). */
export type AnyErrorTable = Omit<ErrorTable<string>, 'Error'>;

/** Every code of every table built so far, and its table: codes are unique across tables. */
const TABLE_OF_CODE = new Map<string, AnyErrorTable>();

/** The table a code belongs to, if that table's module is loaded (errorReply and the CLI load every table they map). */
export function errorTableOf(code: string): AnyErrorTable | undefined {
  return TABLE_OF_CODE.get(code);
}

/** Every table built so far (the tables' test loads them all). */
export function errorTables(): AnyErrorTable[] {
  return [...new Set(TABLE_OF_CODE.values())];
}

/**
 * Base of every typed error in vitalseal (protocol, agent, chain, wallet, simulator, cli): a stable
 * `code` from the layer's table, and a short, secret-free message (the table's text by default).
 */
export class CodedError<C extends string> extends Error {
  readonly code: C;
  readonly #table: ErrorTable<C>;
  constructor(code: C, table: ErrorTable<C>, message?: string, options?: { cause?: unknown }) {
    super(message ?? table.messages[code], options);
    this.code = code;
    this.#table = table;
  }
  /** How a command that fails with this error ends (cli/output.ts maps it to the exit code). */
  get exitClass(): ExitClass {
    return this.#table.exitOf(this.code);
  }
  /** The HTTP status the agent answers this error with, if its code has one. */
  get httpStatus(): number | undefined {
    return this.#table.httpStatusOf(this.code);
  }
}

/**
 * Builds a layer's error table from `{ CODE: { message, exit, http? } }`; `defaults.http` is the
 * status of the entries without their own. Throws at load time if a code is already in another table.
 */
export function defineErrors<S extends Record<string, ErrorSpec>>(
  name: string,
  specs: S,
  defaults: { http?: number } = {},
): ErrorTable<keyof S & string> {
  type C = keyof S & string;
  const codes = Object.keys(specs) as C[];
  for (const code of codes) {
    const other = TABLE_OF_CODE.get(code);
    if (other && other.name !== name) throw new Error(`error code ${code} is in both the ${other.name} and the ${name} tables`); // invariant: a programming error at load time
  }
  const messages = Object.fromEntries(codes.map((c) => [c, specs[c]!.message])) as { readonly [K in C]: string };
  const table: ErrorTable<C> = {
    name,
    codes,
    specs,
    messages,
    has: (code: string): code is C => Object.hasOwn(specs, code),
    exitOf: (code) => specs[code]!.exit,
    httpStatusOf: (code) => specs[code]!.http ?? defaults.http,
    Error: class extends CodedError<C> {
      constructor(code: C, message?: string, options?: { cause?: unknown }) {
        super(code, table, message, options);
      }
    },
  };
  for (const code of codes) TABLE_OF_CODE.set(code, table as unknown as AnyErrorTable);
  return table;
}

export const PROTOCOL_ERRORS = defineErrors(
  'protocol',
  {
    // --- bytes / generic input
    INPUT_BAD_HEX: { message: 'a hex string is malformed', exit: 'invalid-input' },
    INPUT_BAD_LENGTH: { message: 'a byte string has the wrong length', exit: 'invalid-input' },

    // --- CBOR (strict decoding)
    CBOR_TOO_LARGE: { message: 'CBOR input exceeds the size limit', exit: 'invalid-input' },
    CBOR_TOO_DEEP: { message: 'CBOR nesting exceeds the depth limit', exit: 'invalid-input' },
    CBOR_TOO_MANY_ITEMS: { message: 'a CBOR array/map/string exceeds the length limit', exit: 'invalid-input' },
    CBOR_MALFORMED: { message: 'input is not well-formed CBOR', exit: 'invalid-input' },
    CBOR_TRAILING_BYTES: { message: 'bytes follow the CBOR item', exit: 'invalid-input' },
    CBOR_UNSUPPORTED: { message: 'CBOR uses a feature vitalseal refuses (indefinite length, unknown tag, ...)', exit: 'invalid-input' },

    // --- HPKE (RFC 9180)
    HPKE_BAD_PUBLIC_KEY: { message: 'an X25519 public key is malformed', exit: 'invalid-input' },
    HPKE_BAD_SECRET_KEY: { message: 'an X25519 secret key is malformed', exit: 'invalid-input' },
    HPKE_DH_ALL_ZERO: { message: 'X25519 produced the all-zero shared secret (low-order point)', exit: 'invalid-input' },
    HPKE_OPEN_FAILED: { message: 'HPKE decryption failed (wrong key, tampered ciphertext or AAD)', exit: 'verification' },
    HPKE_SEQ_OVERFLOW: { message: 'HPKE context sequence number exhausted', exit: 'invalid-input' },
    HPKE_EXPORT_TOO_LONG: { message: 'HPKE export length too large', exit: 'invalid-input' },
    HPKE_DERIVE_FAILED: { message: 'DeriveKeyPair failed', exit: 'invalid-input' },
    HPKE_BAD_MODE: { message: 'unsupported HPKE mode or suite', exit: 'invalid-input' },

    // --- keys and key files
    KEY_BAD_PATIENT_ID: { message: 'patient id is empty or too long', exit: 'invalid-input' },
    KEY_FILE_MALFORMED: { message: 'key file is not valid JSON of the expected shape', exit: 'invalid-input' },
    KEY_FILE_BAD_VERSION: { message: 'key file version is not supported', exit: 'invalid-input' },
    KEY_FILE_KID_MISMATCH: { message: 'key file kid does not match its public key', exit: 'invalid-input' },

    // --- COSE
    COSE_BAD_STRUCTURE: { message: 'COSE message does not have the expected structure', exit: 'invalid-input' },
    COSE_BAD_TAG: { message: 'COSE message carries an unexpected CBOR tag', exit: 'invalid-input' },
    COSE_UNKNOWN_ALG: { message: 'COSE algorithm is not supported', exit: 'invalid-input' },
    COSE_BAD_HEADER: { message: 'COSE header is missing a field or has a wrong type', exit: 'invalid-input' },
    COSE_DECRYPT_FAILED: { message: 'COSE decryption failed', exit: 'verification' },
    COSE_BAD_SIGNATURE: { message: 'COSE signature does not verify', exit: 'verification' },
    COSE_BAD_KEY: { message: 'COSE_Key is not the expected key type (X25519 OKP for HPKE-4)', exit: 'invalid-input' },

    // --- reading envelope (HPKE COSE_Encrypt0)
    ENVELOPE_TOO_LARGE: { message: 'envelope exceeds the size limit', exit: 'invalid-input' },
    ENVELOPE_NOT_CBOR: { message: 'envelope is not CBOR', exit: 'invalid-input' },
    ENVELOPE_BAD_TAG: { message: 'envelope is not a COSE_Encrypt0 (tag 16 or untagged)', exit: 'invalid-input' },
    ENVELOPE_BAD_STRUCTURE: { message: 'envelope is not a 3-element COSE_Encrypt0 array', exit: 'invalid-input' },
    ENVELOPE_UNKNOWN_ALG: { message: 'envelope algorithm is not HPKE-4', exit: 'invalid-input' },
    ENVELOPE_BAD_HEADER: { message: 'envelope header is missing a field or has a wrong type', exit: 'invalid-input' },
    ENVELOPE_DECRYPT_FAILED: { message: 'envelope does not decrypt with this key', exit: 'verification' },
    ENVELOPE_ORIGIN_UNVERIFIED: {
      message: 'reading is not from the device: not sealed with the identity key its ticket certifies',
      exit: 'verification',
    },
    ENVELOPE_NO_SENDER_KEY: {
      message: 'envelope is sealed in HPKE Auth mode: opening it needs the device identity key from its ticket',
      exit: 'invalid-input',
    },
    READING_INVALID: { message: 'decrypted reading is not a valid reading map', exit: 'invalid-input' },

    // --- session tickets
    TICKET_MALFORMED: { message: 'ticket is not a valid COSE_Sign1 ticket', exit: 'invalid-input' },
    TICKET_BAD_SIGNATURE: { message: 'ticket signature does not verify against the pinned authority key', exit: 'verification' },
    TICKET_WRONG_DEVICE: { message: 'ticket is for another device', exit: 'invalid-input' },
    TICKET_EXPIRED: { message: 'ticket has expired', exit: 'invalid-input' },
    TICKET_NOT_YET_VALID: { message: 'ticket is not valid yet', exit: 'invalid-input' },

    // --- Merkle log and proofs (RFC 6962)
    PROOF_MISMATCH: { message: 'proof does not lead to the expected root', exit: 'verification' },
    PROOF_BAD_INDEX: { message: 'leaf index is not inside the tree', exit: 'invalid-input' },
    PROOF_BAD_SIZE: { message: 'tree sizes are invalid for this proof', exit: 'invalid-input' },
    PROOF_WRONG_LENGTH: { message: 'proof has the wrong number of hashes', exit: 'invalid-input' },
    PROOF_BAD_HASH: { message: 'a hash in the proof or root has the wrong length', exit: 'invalid-input' },
    TREE_HEAD_MALFORMED: { message: 'signed tree head is not a valid COSE_Sign1 tree head', exit: 'invalid-input' },
    LOG_INDEX_OUT_OF_RANGE: { message: 'log index or size outside the log', exit: 'invalid-input' },
    LOG_STORE_MISSING_NODE: { message: 'the log node store lacks a hash it must hold (store corrupt or truncated)', exit: 'invalid-input' },

    // --- serial framing (COBS + CRC-32)
    FRAME_BAD_COBS: { message: 'frame is not valid COBS', exit: 'invalid-input' },
    FRAME_BAD_CRC: { message: 'frame CRC-32 does not match', exit: 'invalid-input' },
    FRAME_OVERSIZE: { message: 'frame exceeds the size limit', exit: 'invalid-input' },
    FRAME_TOO_SHORT: { message: 'frame is shorter than type + CRC', exit: 'invalid-input' },
    FRAME_UNKNOWN_TYPE: { message: 'frame type byte is unknown', exit: 'invalid-input' },
    FRAME_BAD_BODY: { message: 'frame body is not valid for its type', exit: 'invalid-input' },
  },
  { http: 400 },
); // any protocol code the agent answers with is a refusal of the client's input

/** Message of every protocol code (the table's text). */
export const ERROR_CODES = PROTOCOL_ERRORS.messages;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The protocol library's error: `code` is one of ERROR_CODES. */
export class VitalsealError extends PROTOCOL_ERRORS.Error {
  override readonly name = 'VitalsealError';
}

export function isVitalsealError(e: unknown, code?: ErrorCode): e is VitalsealError {
  return e instanceof VitalsealError && (code === undefined || e.code === code);
}

/** Throws a typed error; reads well at call sites: `fail('TICKET_EXPIRED')`. */
export function fail(code: ErrorCode, message?: string, cause?: unknown): never {
  throw new VitalsealError(code, message, cause === undefined ? undefined : { cause });
}
