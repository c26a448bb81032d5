/**
 * How key objects show themselves: JSON, String() and util.inspect / console.log
 * print the type and the kid only, never the secret.
 */
import { toHex } from '../bytes.ts';

/** Node's util.inspect.custom, without importing node:util (protocol/ stays pure). */
export const INSPECT_CUSTOM: unique symbol = Symbol.for('nodejs.util.inspect.custom') as never;

export interface RedactedView {
  readonly type: string;
  readonly kid: string;
}

export function redactedView(type: string, kid: Uint8Array): RedactedView {
  return { type, kid: toHex(kid) };
}

export function redactedString(className: string, kid: Uint8Array): string {
  return `${className}(kid=${toHex(kid)})`;
}
