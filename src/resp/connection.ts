import type { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { adoptReads } from '../socket-reads.js';
import { arityOk, execute, Kind, unknownCommand, type Call, type ClientState, type CommandSpec, type CommandTable, type RespContext } from './command.js';
import { CommandOrder, type Ordered } from './order.js';
import { ProtocolError, RequestParser, type ParserLimits } from './parser.js';
import type { Message } from '../pubsub/hub.js';
import { MESSAGES, messageReply } from './commands/pubsub.js';
import { ReplyOutput } from './replies.js';
import { error, Errors, RESP2, type Encoder } from './reply.js';
import { WatchedKeys } from '../cluster/watches.js';
import { maxBatchBody } from '../core/limits.js';
import type { Queued } from './queued.js';
import { MultiState } from './transaction.js';

/** What a RESP2 client subscribed to something may still send (Redis's rule). */
const SUBSCRIBED_MODE = new Set(['subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe', 'ping', 'quit', 'reset']);

/** Replies waiting in memory past this: stop reading the client's commands until they drain. */
const OUTPUT_HIGH_WATER = 1024 * 1024;
/** Commands read and not yet answered past this: stop reading until half of them are. */
const PIPELINE_HIGH_WATER = 1024;

/** Why a command read is refused before it runs, in Redis's order: its name, its arguments' count, authentication. */
function refusalOf(client: ClientState, spec: CommandSpec | undefined, args: string[]): string | undefined {
  if (spec === undefined) return unknownCommand(args);
  if (!arityOk(spec, args.length)) return error(Errors.arity(spec.name));
  if (!client.authenticated && spec.noAuth !== true) return error(Errors.noAuth);
  if (client.subscriptions > 0 && client.resp.version === 2 && !SUBSCRIBED_MODE.has(spec.name)) {
    return error(`ERR Can't execute '${spec.name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`);
  }
  return undefined;
}

/** A command in a connection's order: its reply's place, and what it is. */
class Pending implements Call, Ordered {
  readonly args: string[];
  readonly spec: CommandSpec;
  readonly slot: number;
  readonly transaction: Queued<CommandSpec> | undefined;
  /** Messages to its own connection while it ran (PUBLISH to a channel it is on): before its reply, as in Redis. */
  before = '';
  readonly #connection: RespConnection;

  constructor(connection: RespConnection, spec: CommandSpec, args: string[], slot: number, transaction?: Queued<CommandSpec>) {
    this.#connection = connection;
    this.spec = spec;
    this.args = args;
    this.slot = slot;
    this.transaction = transaction;
  }

  get kind(): Kind {
    return this.spec.kind;
  }

  start(): void {
    this.#connection.run(this);
  }

  get client(): ClientState {
    return this.#connection;
  }

  get ctx(): RespContext {
    return this.#connection.ctx;
  }

  #replied = false;

  reply(encoded: string): void {
    // A second reply would shift every later one by a place: a bug, kept from the client.
    if (this.#replied) return;
    this.#replied = true;
    this.#connection.finished(this, encoded);
  }
}

/**
 * One RESP client: it parses commands as they arrive, starts each when the commands before it
 * allow ({@link CommandOrder}), and writes the replies in the order of the commands, however the
 * nodes answer. Replies of one turn of the event loop leave in one write. Reading stops while too much
 * is waiting (replies the client does not read, or a deep pipeline), so a client cannot make the
 * server hold more than about a megabyte of replies or a thousand commands for it.
 */
export class RespConnection implements ClientState {
  readonly id: number;
  name = '';
  libName = '';
  libVersion = '';
  authenticated: boolean;
  resp: Encoder = RESP2;
  readonly address: string;
  readonly createdAt = Date.now();
  lastCommand = 'NULL';
  readonly ctx: RespContext;
  readonly watched: WatchedKeys;
  /** MULTI's queue, as commands are read. */
  readonly multi: MultiState;
  readonly #socket: Socket;
  readonly #parser: RequestParser;
  readonly #commands: CommandTable;
  readonly #onClose: (connection: RespConnection) => void;
  readonly #output: ReplyOutput;
  /** The command running now, until it has its reply. */
  #running: Pending | undefined;
  /** When each command may start. */
  readonly #order = new CommandOrder();
  /** No more commands are read (QUIT, a protocol error, a drain); the connection ends once the replies are out. */
  #ending = false;
  #closed = false;
  #paused = false;
  /** Channels and patterns subscribed to (RESP2 then allows only the pub/sub commands). */
  get subscriptions(): number {
    return this.ctx.pubsub.countOf(this);
  }

  /** `accepted` is a socket the RESP server has just accepted; the connection reads it through its own ({@link adoptReads}). */
  constructor(id: number, accepted: Socket, ctx: RespContext, commands: CommandTable, limits: ParserLimits, onClose: (connection: RespConnection) => void) {
    this.id = id;
    this.ctx = ctx;
    this.watched = new WatchedKeys(ctx.cluster.data.watches);
    this.multi = new MultiState(maxBatchBody(ctx.maxValue), ctx.cluster.near !== undefined);
    // Each read is parsed at once; the parser copies what it keeps of it.
    const socket = adoptReads(accepted, true, (chunk: Buffer) => this.#read(chunk));
    this.#socket = socket;
    this.#output = new ReplyOutput(socket, () => this.#ending, () => this.#flow());
    this.#commands = commands;
    this.#onClose = onClose;
    this.authenticated = ctx.tokenMatches === null;
    this.address = `${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0}`;
    this.#parser = new RequestParser(limits, (args) => this.#arrived(args));
    this.#parser.authenticated = this.authenticated;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 300_000);
    socket.on('drain', () => this.#flow());
    socket.on('end', () => this.drain());
    // A client that goes away mid-command is just gone: its replies are dropped.
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.#gone());
  }

  /** Replies so far, then the connection ends (QUIT). */
  closeAfterReply(): void {
    this.#ending = true;
  }

  /** Reads no more commands; ends once those read are answered. */
  drain(): void {
    this.#ending = true;
    this.#output.schedule();
  }

  /** A pub/sub message: queued unless the replies waiting pass --subscriber-buffer (the hub then drops this client). */
  deliver(message: Message, pattern: string | null): boolean {
    if (this.#overLimit()) return false;
    if (this.#running !== undefined) {
      this.#running.before += messageReply(this.resp, message, pattern);
      return true;
    }
    this.#output.message(MESSAGES[this.resp.version], message, pattern, () => messageReply(this.resp, message, pattern));
    return true;
  }

  feed(encoded: string): boolean {
    if (this.#overLimit()) return false;
    this.push(encoded);
    return true;
  }

  #overLimit(): boolean {
    return this.#closed || this.#socket.writableLength + this.#output.size > this.ctx.subscriberBuffer;
  }

  /** Cuts the connection now (the hub or the monitors give up on it, CLIENT KILL). */
  drop(): void {
    this.#socket.destroy();
  }

  /** A reply of no command (a message): after the replies already due, before any later one. */
  push(encoded: string): void {
    this.#output.push(encoded);
  }

  #read(chunk: Buffer): void {
    if (this.#ending) return;
    try {
      this.#parser.feed(chunk);
    } catch (cause) {
      if (!(cause instanceof ProtocolError)) throw cause;
      // As Redis: the error is the last reply, then the connection closes.
      const slot = this.#output.slot();
      this.#ending = true;
      this.#output.put(slot, error(`ERR ${cause.message}`));
    }
    this.#flow();
  }

  #arrived(args: string[]): void {
    if (this.#ending) return;
    const name = args[0]!.toLowerCase();
    const spec = this.#commands.get(name);
    const slot = this.#output.slot();
    const refusal = refusalOf(this, spec, args);
    if (refusal !== undefined) {
      this.multi.refused();
      return this.#output.put(slot, refusal);
    }
    this.lastCommand = spec!.name;
    const step = this.multi.read(spec!, args);
    if (typeof step === 'string') return this.#output.put(slot, step);
    this.#order.arrived(new Pending(this, spec!, args, slot, step));
  }

  /** Runs a command the order let start. */
  run(call: Pending): void {
    this.#running = call;
    try {
      execute(call.spec, call);
    } finally {
      this.#running = undefined;
    }
    this.#parser.authenticated = this.authenticated;
  }

  /** `call` has its reply: written in its place, and what waited on it may start. */
  finished(call: Pending, encoded: string): void {
    if (this.#running === call) this.#running = undefined;
    this.#output.put(call.slot, call.before + encoded);
    this.#order.finished(call);
  }

  /** Reads while the client keeps up with its replies and its pipeline is not too deep. */
  #flow(): void {
    if (this.#closed) return;
    const waiting = this.#output.waiting;
    const full = this.#socket.writableLength > OUTPUT_HIGH_WATER || waiting > PIPELINE_HIGH_WATER;
    if (full && !this.#paused) {
      this.#paused = true;
      this.#socket.pause();
    } else if (this.#paused && this.#socket.writableLength <= OUTPUT_HIGH_WATER && waiting <= PIPELINE_HIGH_WATER / 2) {
      this.#paused = false;
      this.#socket.resume();
    }
  }

  #gone(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.ctx.pubsub.forget(this);
    this.ctx.monitors.remove(this);
    this.watched.clear();
    this.#order.clear();
    this.#output.close();
    this.#onClose(this);
  }
}
