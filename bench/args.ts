/** What the bench scripts share: their numeric flags and the median of their samples. */

/** `--name N` from the command line, or `fallback`; a value that is not a number is an error. */
export function numberFlag(name: string, fallback: number, argv: readonly string[] = process.argv.slice(2)): number {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number, got '${argv[i + 1]}'`);
  return value;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
