/** Byte sizes as people write them on a command line: powers of 1024, units b, kb, mb, gb. */
const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;
const UNITS: Record<string, number> = { '': 1, b: 1, k: KIB, kb: KIB, m: MIB, mb: MIB, g: GIB, gb: GIB };

/**
 * Bytes in `64mb`, `512KB`, `1.5gb`, `1g`, `1048576`, rounded down to a whole byte; undefined if
 * it is not such a size.
 */
export function parseSize(raw: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]?b?)$/i.exec(raw.trim());
  if (match === null) return undefined;
  const value = Math.floor(Number(match[1]) * UNITS[match[2]!.toLowerCase()]!);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** A byte count as the largest whole unit that divides it: 536870912 -> 512mb. */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [['gb', GIB], ['mb', MIB], ['kb', KIB]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}b`;
}

/** A byte count as Redis's INFO writes its `*_human` fields: bytes below 1 KiB, else two decimals of K, M, G, T or P (`23.22K`). */
export function humanBytes(bytes: number): string {
  if (bytes < KIB) return `${bytes}B`;
  let unit = 0;
  let scaled = bytes / KIB;
  while (scaled >= KIB && unit < 4) {
    scaled /= KIB;
    unit++;
  }
  return `${scaled.toFixed(2)}${'KMGTP'[unit]}`;
}
