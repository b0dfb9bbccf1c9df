#!/usr/bin/env -S node --max-semi-space-size=8 --heap-growing-percent=25
// The flags are SERVER_NODE_FLAGS in src/http/server.ts (why, and who else passes them).
import process from 'node:process';
import { lookup } from 'node:dns/promises';
import { pino } from 'pino';
import { helpText } from './help.js';
import { parseArgs, UsageError, type Parsed } from './parse-args.js';
import { resolveOptions } from './resolve-options.js';
import { startServer, VERSION } from './http/server.js';

const PROGRAM = 'distributed-cache';

async function main(argv: readonly string[]): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseArgs(argv);
    if (parsed.kind === 'run') parsed = { kind: 'run', options: resolveOptions(parsed.options, process.env, await addressesOf(parsed.options.host)) };
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${PROGRAM}: ${error.message}\nTry '${PROGRAM} --help' for the list of options.\n`);
    return 2;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(`${helpText(PROGRAM, VERSION)}\n`);
    return 0;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const { options } = parsed;
  const log = pino({ name: PROGRAM, level: options.debug ? 'debug' : 'info' });
  let server;
  try {
    server = await startServer(options, log);
  } catch (error) {
    // A port in use or not ours to take is the usual cause: said in one line, as usage errors are.
    const port = (error as { respPort?: number }).respPort ?? options.port;
    process.stderr.write(`${PROGRAM}: cannot listen on ${options.host}:${port}: ${listenFailure(error)}\n`);
    return 1;
  }
  const resp = server.resp === undefined ? '' : ` and redis://${options.host.includes(':') ? `[${options.host}]` : options.host}:${server.resp.port}`;
  // With --backend each local copy is on one node (src/http/server.ts); the password is not logged.
  const backend = options.backend === '' ? {} : { backend: options.backend.replace(/\/\/([^@/]*:)[^@/]*@/, '//$1***@') };
  const replicas = options.backend === '' ? Math.min(options.replicas, options.nodes) : 1;
  log.info({ nodes: options.nodes, replicas, transport: options.nodeTransport, ...backend }, `${PROGRAM} listening on ${server.url}${resp}`);

  const running = server;
  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      log.info({ signal }, 'shutting down');
      // The drain ends by itself at --shutdown-timeout; this only guards against a stuck node.
      setTimeout(() => {
        log.warn('shutdown took too long; exiting');
        resolve(0);
      }, options.shutdownTimeout * 1000 + 2_000).unref();
      running.close().then(
        () => resolve(0),
        (error: unknown) => {
          log.error({ err: error }, 'error during shutdown');
          resolve(1);
        },
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** The addresses --host names; one that does not resolve is a usage error (exit 2). */
async function addressesOf(host: string): Promise<string[]> {
  try {
    return (await lookup(host, { all: true })).map(({ address }) => address);
  } catch {
    throw new UsageError(`--host '${host}' is not an address of this machine, nor a name that resolves to one`);
  }
}

function listenFailure(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  if (code === 'EADDRINUSE') return 'the address is already in use (another server on that port? --port 0 picks a free one)';
  if (code === 'EACCES') return 'permission denied (ports below 1024 need privileges)';
  if (code === 'EADDRNOTAVAIL') return 'the address is not one of this machine';
  return message;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${PROGRAM}: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
