import t from 'tap';
import { helpText } from '../src/help.js';
import { defaultOptions, OPTIONS } from '../src/options.js';
import { parseArgs, UsageError } from '../src/parse-args.js';
import { parseBackendUrl } from '../src/backend/url.js';
import { isLoopback, resolveOptions } from '../src/resolve-options.js';

const run = (argv: string[]) => {
  const parsed = parseArgs(argv);
  if (parsed.kind !== 'run') throw new Error(`expected run, got ${parsed.kind}`);
  return parsed.options;
};

t.test('defaults', async (t) => {
  t.same(run([]), {
    port: 8080,
    respPort: -1,
    host: '127.0.0.1',
    nodes: 3,
    cacheSize: 0,
    maxMemory: 512 * 1024 * 1024,
    maxValue: 1024 * 1024,
    headerMemory: 64 * 1024 * 1024,
    notifyKeyspaceEvents: '',
    pubsubHistory: 1000,
    subscriberBuffer: 8 * 1024 * 1024,
    nodeTransport: 'worker',
    backend: '',
    backendTimeout: 1000,
    backendWait: 0,
    nearCache: 'on',
    serveStale: false,
    authToken: '',
    insecure: false,
    maxConnections: 10_000,
    noFastPath: false,
    headerTimeout: 10,
    requestTimeout: 30,
    keepAliveTimeout: 5,
    shutdownTimeout: 5,
    replicas: 2,
    debug: false,
    enableDebug: false,
  });
  t.same(defaultOptions(), run([]));
});

t.test('--flag value and --flag=value both work', async (t) => {
  const options = run(['--port', '9000', '--nodes=5', '--host=0.0.0.0', '--cache-size', '1000', '--debug']);
  t.equal(options.port, 9000);
  t.equal(options.nodes, 5);
  t.equal(options.host, '0.0.0.0');
  t.equal(options.cacheSize, 1000);
  t.equal(options.debug, true);
  t.equal(run(['--debug=false']).debug, false);
  t.equal(run(['--node-transport', 'piscina']).nodeTransport, 'piscina');
  t.equal(run(['--shard-transport', 'piscina']).nodeTransport, 'piscina', 'the flag\'s earlier name still works');
  t.equal(run(['--max-memory', '64mb']).maxMemory, 64 * 1024 * 1024);
  t.equal(run(['--max-memory', '1.5gb']).maxMemory, 1.5 * 1024 * 1024 * 1024, 'a size may have decimals');
  t.equal(run(['--max-value', '0.5kb']).maxValue, 512);
  t.equal(run(['--max-memory=2GB']).maxMemory, 2 * 1024 ** 3);
  t.equal(run(['--max-memory', '0']).maxMemory, 0, '0 = no limit');
  t.equal(run(['--max-value', '512kb']).maxValue, 512 * 1024);
  t.equal(run(['--max-value', '100']).maxValue, 100, 'plain bytes');
});

t.test('help and version', async (t) => {
  t.same(parseArgs(['--help']), { kind: 'help' });
  t.same(parseArgs(['-h']), { kind: 'help' });
  t.same(parseArgs(['--nodes', '2', '--version']), { kind: 'version' });
  const help = helpText('distributed-cache', '1.2.3');
  for (const name of Object.keys(OPTIONS)) {
    const flag = `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    t.match(help, flag, `help explains ${flag}`);
  }
  for (const flag of ['--auth-token', '--max-connections', '--header-timeout', '--shutdown-timeout', '--replicas', '--enable-debug', '--help', '--version']) {
    t.match(help, flag, `help explains ${flag}`);
  }
  t.match(help, '(default: 512mb)');
  t.match(help, /--backend <url> +A Redis or Valkey server/, 'a value named for what it is');
  t.match(help, /--resp-port <n> +TCP port for the Redis protocol.*\(default: off\)/, 'an option that is off by default says so');
  t.equal(Object.keys(OPTIONS).length, 28, 'help is generated from every declared option');
});

t.test('bad input names the problem', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--backend-timeout', '0'], /--backend-timeout must be a whole number from 10 to 60000/],
    [['--nodes', '0'], /--nodes must be a whole number from 1 to 64, got '0'/],
    [['--nodes', '65'], /--nodes must be/],
    [['--port', 'abc'], /--port must be a whole number from 0 to 65535, got 'abc'/],
    [['--port', '-1'], /--port must be/],
    [['--port', '80.5'], /--port must be/],
    [['--port', '1e3'], /--port must be/],
    [['--port', '70000'], /--port must be/],
    [['--resp-port', '-1'], /--resp-port must be a whole number from 0 to 65535, got '-1'/],
    [['--port'], /--port needs a value/],
    [['--cache-size='], /--cache-size must be/],
    [['--bogus'], /unknown option '--bogus'/],
    [['--replicas', '0'], /--replicas must be a whole number from 1 to 8, got '0'/],
    [['--bogus=1'], /unknown option '--bogus'/],
    [['nodes'], /unexpected argument 'nodes'/],
    [['--debug=yes'], /--debug takes no value/],
    [['--host='], /--host must not be empty/],
    [['--node-transport', 'tcp'], /must be one of worker, piscina/],
    [['--max-memory', 'lots'], /--max-memory must be a size such as 64mb/],
    [['--max-memory', '1.5.5gb'], /--max-memory must be a size/],
    [['--max-value', '0'], /--max-value must be a size .*1 bytes to 256mb/],
    [['--max-value', '10tb'], /--max-value must be a size/],
    [['--max-value', '1gb'], /--max-value must be a size such as 64mb, 512kb or 1gb \(1 bytes to 256mb\), got '1gb'/],
  ];
  for (const [argv, message] of cases) {
    t.throws(() => parseArgs(argv), UsageError, argv.join(' '));
    t.throws(() => parseArgs(argv), message, argv.join(' '));
  }
});

t.test('protected mode: a non-loopback host needs a token or --insecure', async (t) => {
  const resolve = (argv: string[], env: Record<string, string> = {}) => resolveOptions(run(argv), env);
  t.equal(resolve([]).host, '127.0.0.1');
  t.equal(resolve(['--host', 'localhost']).host, 'localhost');
  t.equal(resolve(['--host', '::1']).host, '::1');
  t.equal(resolve(['--host', '127.0.0.2']).host, '127.0.0.2');
  t.throws(() => resolve(['--backend', 'http://x']), /--backend: 'http:\/\/' is not supported; expected redis:\/\/\[user:password@\]host:port\[\/db\]/);
  t.throws(() => resolve(['--backend', 'redis-cluster://a:1,b:x']), /--backend: 'b:x' in 'redis-cluster:\/\/a:1,b:x' is not host:port/);
  t.throws(() => resolve(['--backend', 'redis-cluster://a:1/2']), /--backend: a Redis Cluster has only database 0/);
  t.throws(() => resolve(['--backend', 'redis://h:6379/x']), /--backend: the database in 'redis:\/\/h:6379\/x' must be a number/);
  t.throws(() => resolve(['--backend', 'not a url']), /--backend: 'not a url' is not a URL/);
  t.same(resolve(['--backend', 'redis://u:p%40ss@[::1]:6380/2']).backend, 'redis://u:p%40ss@[::1]:6380/2', 'a good one is kept as given');
  t.throws(() => resolve(['--host', '0.0.0.0']), /refusing to listen on 0.0.0.0 without authentication/);
  t.throws(() => resolve(['--host', '10.1.2.3']), UsageError);
  t.equal(resolve(['--host', '0.0.0.0', '--auth-token', 's3cret']).authToken, 's3cret');
  t.equal(resolve(['--host', '0.0.0.0'], { CACHE_AUTH_TOKEN: 'from-env' }).authToken, 'from-env');
  t.equal(resolve(['--auth-token', 'flag'], { CACHE_AUTH_TOKEN: 'env' }).authToken, 'flag', 'the flag wins');
  t.equal(resolve(['--host', '0.0.0.0', '--insecure']).insecure, true);
  t.equal(isLoopback('127.0.0.1'), true);
  t.equal(isLoopback('0.0.0.0'), false);
});

t.test('a memory share too small for one value of --max-value is refused at start', async (t) => {
  const resolve = (argv: string[]) => resolveOptions(run(argv), {});
  t.throws(() => resolve(['--max-memory', '10']), /--max-memory 10b gives each of the 3 nodes 3 bytes, less than one value of --max-value 1mb/);
  t.throws(() => resolve(['--max-memory', '2mb', '--max-value', '1mb']), /raise --max-memory or lower --max-value/, 'a value larger than the share');
  t.equal(resolve(['--max-memory', '2mb', '--max-value', '256kb']).maxMemory, 2 * 1024 * 1024, 'a share that holds one fits');
  t.equal(resolve(['--max-memory', '0', '--max-value', '256mb']).maxValue, 256 * 1024 * 1024, 'no memory limit: no share to fit in');
});

t.test('a --host name that stands for loopback addresses only is loopback', async (t) => {
  t.equal(resolveOptions(run(['--host', 'cache.local']), {}, ['127.0.1.1']).host, 'cache.local');
  t.throws(() => resolveOptions(run(['--host', 'cache.local']), {}, ['127.0.0.1', '10.0.0.5']), /refusing to listen on cache.local/);
  t.equal(isLoopback('::ffff:127.0.0.1'), true);
});

t.test('--backend URLs are read as Redis reads them', async (t) => {
  const server = (host: string, port: number, username?: string, password?: string, db = 0) => ({ kind: 'server', nodes: [{ host, port }], username, password, db });
  t.same(parseBackendUrl('redis://127.0.0.1'), server('127.0.0.1', 6379));
  t.same(parseBackendUrl('redis://app:p%40ss@[::1]:6380/2'), server('::1', 6380, 'app', 'p@ss', 2));
  t.same(parseBackendUrl('redis://:secret@cache.internal:7000'), server('cache.internal', 7000, undefined, 'secret'));
  t.same(parseBackendUrl('redis-cluster://u:p@10.0.0.1:7000,10.0.0.2,[::1]:7002'), {
    kind: 'cluster',
    nodes: [
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', port: 6379 },
      { host: '::1', port: 7002 },
    ],
    username: 'u',
    password: 'p',
    db: 0,
  });
  t.throws(() => parseBackendUrl('redis://h:1?tls=1'), /has a query or fragment/);
});
