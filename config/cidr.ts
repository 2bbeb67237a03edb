/** IPv4 CIDR arithmetic for config validation: no dependency, no DNS, no surprises. */

export interface Ipv4Block {
  /** First address of the block as an unsigned 32-bit integer. */
  readonly start: number;
  /** Last address of the block as an unsigned 32-bit integer. */
  readonly end: number;
  readonly prefix: number;
}

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses `a.b.c.d/n`; undefined when it is not a CIDR or has host bits set (AWS rejects those). */
export function parseCidr(text: string): Ipv4Block | undefined {
  const match = CIDR.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  if (address % size !== 0) return undefined;
  return { start: address, end: address + size - 1, prefix };
}

export function contains(outer: Ipv4Block, inner: Ipv4Block): boolean {
  return inner.start >= outer.start && inner.end <= outer.end;
}

export function overlaps(a: Ipv4Block, b: Ipv4Block): boolean {
  return a.start <= b.end && b.start <= a.end;
}
