import { flagOf, OPTIONS, type Name, type Spec } from './options.js';
import { formatSize } from './sizes.js';

/** `--help`: every option of {@link OPTIONS}, with its value, its help and its default. */
export function helpText(program: string, version: string): string {
  const rows = (Object.keys(OPTIONS) as Name[]).map((name) => {
    const spec: Spec = OPTIONS[name];
    const text = spec.type === 'string' && 'value' in spec ? spec.value : 'text';
    const value = { int: ' <n>', size: ' <size>', string: ` <${text}>`, bool: '', choice: ` <${spec.type === 'choice' ? spec.choices.join('|') : ''}>` }[spec.type];
    const off = spec.type === 'int' && 'off' in spec && spec.default === spec.off;
    const shown = off ? 'off' : spec.type === 'size' ? formatSize(spec.default) : spec.default === '' ? 'none' : String(spec.default);
    const fallback = spec.type === 'bool' ? '' : ` (default: ${shown})`;
    return [`--${flagOf(name)}${value}`, `${spec.help}${fallback}`] as const;
  });
  rows.push(['--help, -h', 'Show this help and exit.'], ['--version, -v', 'Print the version and exit.']);
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return [
    `${program} ${version}: a cache server for one host that behaves like a small cluster.`,
    '',
    `Usage: ${program} [options]`,
    '',
    'Options (--flag value and --flag=value both work):',
    ...rows.map(([flag, text]) => `  ${flag.padEnd(width)}${text}`),
    '',
    'Exit status: 0 after a clean shutdown (SIGINT/SIGTERM), 1 if the server fails, 2 on a usage error.',
  ].join('\n');
}
