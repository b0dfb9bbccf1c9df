import type { Cluster } from '../cluster/cluster.js';
import { bytesToKey } from '../bytes.js';
import { MAX_KEY_BYTES } from '../core/limits.js';
import { Status, type Command, type Result } from '../core/protocol.js';
import { asCacheError } from '../errors.js';
import type { LockOwner } from '../cluster/key-locks.js';
import type { ResultCallback } from '../nodes/node-client.js';
import type { Refusal } from '../core/mutation.js';
import type { PubSubHub, Subscriber } from '../pubsub/hub.js';
import type { Notifications } from '../pubsub/notifications.js';
import { Errors, error, type Encoder } from './reply.js';
import type { WatchedKeys } from '../cluster/watches.js';
import type { Monitored, Monitors } from './monitors.js';
import type { KeyPositions } from './key-positions.js';
import type { Queued } from './queued.js';

/**
 * When a command may start relative to the commands before it on its connection (Redis runs a
 * connection's commands one after another; the nodes answer out of order, so the connection
 * orders them, src/resp/connection.ts):
 * - `Local` touches only the connection (PING, AUTH, CLIENT SETNAME): it runs on arrival.
 * - `Read` waits for the writes before it to be acknowledged, so it sees them.
 * - `Write` goes as soon as the commands before it have started: the nodes apply what they are
 *   sent in order, so writes pipelined on one connection keep their order without waiting for
 *   each other's acknowledgment (that is what makes a pipeline fast).
 * - `Barrier` (FLUSHALL, DBSIZE, INFO) waits for everything before it to finish, and holds back
 *   everything after it.
 * - `ReadWrite` (MSETNX, RENAME, COPY: they read their keys, then write them) starts as a read
 *   does and counts as a write for what follows: reads after it wait for it.
 */
export const Kind = { Local: 0, Read: 1, Write: 2, Barrier: 3, ReadWrite: 4 } as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

/** What the commands of every connection share. */
export interface RespContext {
  cluster: Cluster;
  /** --max-value: the longest value a command may store. */
  maxValue: number;
  /** Each node's share of --max-memory (0 = no limit). */
  maxBytesPerNode: number;
  /** Whether AUTH / HELLO AUTH was given the server's token; null when the server has none. */
  tokenMatches: ((given: string) => boolean) | null;
  version: string;
  startedAt: number;
  /** The RESP port, for INFO. */
  port: number;
  clients: ReadonlySet<ClientState>;
  /** Every command (for COMMAND). */
  commands: CommandTable;
  stats: RespStats;
  /** --max-connections (0 = none), for INFO and CONFIG GET maxclients. */
  maxClients: number;
  /** Client pub/sub, shared with the HTTP front end. */
  pubsub: PubSubHub;
  /** Keyspace notifications (CONFIG GET / SET notify-keyspace-events). */
  notifications: Notifications;
  /** --subscriber-buffer: replies a subscriber (or a monitor) may leave unread before it is dropped. */
  subscriberBuffer: number;
  /** The clients in MONITOR mode. */
  monitors: Monitors;
}

/** The port's own counters (INFO stats). */
export interface RespStats {
  connectionsReceived: number;
  commandsProcessed: number;
  /** Connections refused at --max-connections. */
  rejectedConnections: number;
}

/** What a connection lets its commands see and change about it. */
export interface ClientState extends Subscriber, Monitored {
  readonly id: number;
  name: string;
  libName: string;
  libVersion: string;
  authenticated: boolean;
  /** The replies' protocol (RESP2 until HELLO 3). */
  resp: Encoder;
  readonly address: string;
  readonly createdAt: number;
  /** The last command's name, for CLIENT LIST. */
  lastCommand: string;
  /** Closes the connection once the replies so far are out (QUIT). */
  closeAfterReply(): void;
  /** Channels and patterns it is subscribed to (the hub's count). */
  readonly subscriptions: number;
  /** Sends a reply that answers no command (SUBSCRIBE's confirmations after the first, messages). */
  push(encoded: string): void;
  /** The keys it WATCHes. */
  readonly watched: WatchedKeys;
  /** Its MULTI: the commands queued since, or -1 outside one (CLIENT LIST's multi=). */
  readonly multi: { readonly queued: number };
}

/** One command being run: its arguments (byte strings; `args[0]` is its name) and its one reply. */
export interface Call {
  readonly args: string[];
  readonly client: ClientState;
  readonly ctx: RespContext;
  /** Set when run by an EXEC, which holds the keys of its commands: they go through as it. */
  readonly owner?: LockOwner;
  /** EXEC's and DISCARD's: the transaction they end (undefined without MULTI). */
  readonly transaction?: Queued<CommandSpec>;
  /** Sends the command's reply (encoded, src/resp/reply.ts); exactly once. */
  reply(encoded: string): void;
}

export interface CommandSpec {
  /** Lower case, as Redis's command table. */
  name: string;
  /** As Redis counts it: the name included; negative = at least that many. */
  arity: number;
  kind: Kind;
  /** Flags COMMAND INFO shows (Redis's: readonly, write, fast, ...). */
  flags: readonly string[];
  /** Positions of its keys (COMMAND INFO, COMMAND GETKEYS, the keys an EXEC locks). */
  keys?: KeyPositions;
  /** Allowed before AUTH (AUTH, HELLO, QUIT). */
  noAuth?: boolean;
  run(call: Call): void;
}

/** Every command, by lower-case name; filled by the modules of src/resp/commands/. */
export type CommandTable = ReadonlyMap<string, CommandSpec>;

export function table(...groups: ReadonlyArray<readonly CommandSpec[]>): CommandTable {
  return new Map(groups.flat().map((spec) => [spec.name, spec]));
}

/** Whether `args` has as many arguments as `spec` takes. */
export function arityOk(spec: CommandSpec, count: number): boolean {
  return spec.arity > 0 ? count === spec.arity : count >= -spec.arity;
}

/** Redis's answer to a name it does not know, quoting the first arguments back. */
export function unknownCommand(args: readonly string[]): string {
  let quoted = '';
  for (let i = 1; i < args.length && quoted.length < 128; i++) quoted += `'${args[i]!.slice(0, 128 - quoted.length)}' `;
  return error(`ERR unknown command '${args[0]!.slice(0, 128)}', with args beginning with: ${quoted}`);
}

/**
 * Argument `index` of `call` as a key (UTF-8 text, as HTTP's keys are), or undefined once an
 * error has been replied: a key that is not UTF-8 or is longer than the server takes.
 */
export function keyArg(call: Call, index: number): string | undefined {
  const bytes = call.args[index]!;
  const key = bytes.length > MAX_KEY_BYTES ? undefined : bytesToKey(bytes);
  if (key === undefined) call.reply(error(bytes.length > MAX_KEY_BYTES ? `ERR key is longer than ${MAX_KEY_BYTES} bytes` : 'ERR key is not valid UTF-8'));
  return key;
}

/** Every key argument from `from` on (with `step`), or undefined once an error has been replied. */
export function keyArgs(call: Call, from: number, step = 1): string[] | undefined {
  const keys: string[] = [];
  for (let i = from; i < call.args.length; i += step) {
    const key = keyArg(call, i);
    if (key === undefined) return undefined;
    keys.push(key);
  }
  return keys;
}

/**
 * Runs `spec` for `call`, as a connection runs a command and an EXEC each of its own: counted, a
 * fault in it its error (not the server's end), then shown to the monitors once it has run, as
 * Redis shows it (RESET is not shown to the monitor it ends; EXEC shows itself after its commands).
 */
export function execute(spec: CommandSpec, call: Call): void {
  const ctx = call.ctx;
  ctx.stats.commandsProcessed++;
  try {
    spec.run(call);
  } catch {
    call.reply(error('ERR internal error'));
  }
  if (spec.name !== 'exec') ctx.monitors.feed(call.client, spec.name, call.args);
}

/** Sends one key's command to the data path, as the EXEC that runs `call` if one does. */
export function dispatch(call: Call, key: string, command: Command, callback: ResultCallback): void {
  call.ctx.cluster.data.dispatch(key, command, callback, call.owner);
}

/** A data-path error as a RESP error (anything else thrown: an internal error, with no detail). */
export function clusterError(cause: unknown): string {
  const known = asCacheError(cause);
  return error(`ERR ${known.message} (${known.code})`);
}

/** Replies with `encode` of what `work` resolves with, or with the cluster's error. */
export function settle<T>(call: Call, work: Promise<T>, encode: (value: T) => string): void {
  work.then(
    (value) => call.reply(encode(value)),
    (cause: unknown) => call.reply(clusterError(cause)),
  );
}

const REFUSALS: Record<Refusal, string> = {
  'not-integer': Errors.notInteger,
  overflow: Errors.overflow,
  'not-float': Errors.notFloat,
  'not-finite': Errors.notFinite,
  'too-long': Errors.tooLong,
};

/** The error for a node's status other than Ok / NotFound, or undefined for those two. */
export function statusReply(result: Result): string | undefined {
  switch (result.status) {
    case Status.Ok:
    case Status.NotFound:
      return undefined;
    case Status.Refused:
      return error(REFUSALS[result.refused]);
    case Status.TooLarge:
      return error("OOM command not allowed when used memory > 'maxmemory'.");
    case Status.Failed:
      return error('ERR internal error');
  }
}

/**
 * A data-path callback that replies to `call`: errors and refusals as Redis would, anything
 * else (Ok or NotFound) through `encode`.
 */
export function answer(call: Call, encode: (result: Result) => string): ResultCallback {
  return (failure, result) => {
    if (failure !== null) return call.reply(clusterError(failure));
    call.reply(statusReply(result!) ?? encode(result!));
  };
}
