import { formatSize, parseSize } from './sizes.js';
import { defaultOptions, flagOf, OPTIONS, type BoolSpec, type Name, type Options, type Spec } from './options.js';

/** A mistake on the command line; the CLI prints the message and exits with status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export type Parsed = { kind: 'run'; options: Options } | { kind: 'help' } | { kind: 'version' };

const BY_FLAG = new Map<string, Name>(
  (Object.keys(OPTIONS) as Name[]).flatMap((name) => {
    const spec: Spec = OPTIONS[name];
    const alias = 'alias' in spec ? spec.alias : undefined;
    return alias === undefined ? [[flagOf(name), name] as const] : [[flagOf(name), name] as const, [alias, name] as const];
  }),
);

/** Parses `--flag value` and `--flag=value` forms; booleans take no value (or `=true|false`). */
export function parseArgs(argv: readonly string[]): Parsed {
  const options = defaultOptions() as Record<Name, unknown>;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    if (arg === '--version' || arg === '-v') return { kind: 'version' };
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    const flag = arg.slice(2, eq < 0 ? undefined : eq);
    const name = BY_FLAG.get(flag);
    if (name === undefined) throw new UsageError(`unknown option '--${flag}'`);
    const spec: Spec = OPTIONS[name];
    let raw: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
    if (spec.type === 'bool') {
      options[name] = parseBool(flag, raw);
      continue;
    }
    if (raw === undefined) {
      raw = argv[++i];
      if (raw === undefined) throw new UsageError(`--${flag} needs a value`);
    }
    options[name] = parseValue(flag, spec, raw);
  }
  return { kind: 'run', options: options as Options };
}

function parseBool(flag: string, raw: string | undefined): boolean {
  if (raw === undefined || raw === 'true') return true;
  if (raw === 'false') return false;
  throw new UsageError(`--${flag} takes no value (or =true / =false), got '${raw}'`);
}

function parseValue(flag: string, spec: Exclude<Spec, BoolSpec>, raw: string): string | number {
  switch (spec.type) {
    case 'int': {
      const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isSafeInteger(value) || value < spec.min || value > spec.max) {
        throw new UsageError(`--${flag} must be a whole number from ${spec.min} to ${spec.max}, got '${raw}'`);
      }
      return value;
    }
    case 'size': {
      const value = parseSize(raw);
      const max = 'max' in spec ? spec.max : undefined;
      if (value === undefined || value < spec.min || (max !== undefined && value > max)) {
        const range = max === undefined ? `at least ${spec.min} bytes` : `${spec.min} bytes to ${formatSize(max)}`;
        throw new UsageError(`--${flag} must be a size such as 64mb, 512kb or 1gb (${range}), got '${raw}'`);
      }
      return value;
    }
    case 'choice':
      if (!spec.choices.includes(raw)) {
        throw new UsageError(`--${flag} must be one of ${spec.choices.join(', ')}, got '${raw}'`);
      }
      return raw;
    case 'string':
      if (raw.length === 0) throw new UsageError(`--${flag} must not be empty`);
      return raw;
  }
}
