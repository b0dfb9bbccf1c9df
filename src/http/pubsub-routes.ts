import type { IncomingMessage, ServerResponse } from 'node:http';
import { bufferToBytes, bytesToText, textToBytes } from '../bytes.js';
import { asCacheError, valueTooLarge } from '../errors.js';
import { decodeSegment } from './query.js';
import { Fanout, Range } from '../pubsub/fanout.js';
import type { Message, PubSubHub, Subscriber } from '../pubsub/hub.js';
import { RawRoutes, readBody, type RawHandler, type RouteContext } from './respond.js';

/** A comment line on every stream this often, so that proxies and clients see it alive. */
export const HEARTBEAT_MS = 15_000;

/**
 * Pub/sub on HTTP, over the hub the RESP port uses too: `POST /publish/:channel` (the body is
 * the message) and the Server-Sent Event streams `GET /subscribe/:channel` and
 * `GET /psubscribe/:pattern`. Channels are the UTF-8 bytes of the decoded path segment.
 */
export class PubSubRoutes extends RawRoutes {
  readonly #hub: PubSubHub;
  readonly #limit: number;

  constructor(context: RouteContext, hub: PubSubHub, subscriberBuffer: number) {
    super(context);
    this.#hub = hub;
    this.#limit = subscriberBuffer;
  }

  /** `{"receivers": n}`: how many subscribers (of either front end) it reached. */
  readonly publish: RawHandler = (req, res, params) => {
    const channel = nameOf(params[0]!, 'channel');
    readBody(req, this.maxValue, () => this.fail(res, valueTooLarge(this.maxValue)), (body) => {
      const receivers = this.#hub.publishFromClient(channel, bufferToBytes(body));
      if (typeof receivers === 'number') return this.json(res, 200, `{"receivers":${receivers}}`);
      receivers.then(
        (count) => this.json(res, 200, `{"receivers":${count}}`),
        (cause: unknown) => this.fail(res, asCacheError(cause)),
      );
    });
  };

  readonly subscribe: RawHandler = (req, res, params) => this.#stream(req, res, nameOf(params[0]!, 'channel'), false);

  readonly psubscribe: RawHandler = (req, res, params) => this.#stream(req, res, nameOf(params[0]!, 'pattern'), true);

  #stream(req: IncomingMessage, res: ServerResponse, name: string, pattern: boolean): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    if (req.method === 'HEAD') return void res.end();
    // A stream's client sends nothing more: its end of the connection closing means it is gone
    // (the server keeps half-closed connections open for answers still due, not for streams).
    req.socket.once('end', () => res.destroy());
    const stream = new EventStream(res, this.#limit);
    res.write(`: subscribed to ${pattern ? 'pattern' : 'channel'} ${JSON.stringify(bytesToText(name))}\n\n`);
    // A reconnecting client gets what it missed first; all in this turn, so nothing published
    // meanwhile is lost or sent twice.
    const last = lastEventId(req);
    if (last !== undefined) {
      const missed = this.#hub.since(last, pattern ? null : name, pattern ? name : null);
      if (missed.lost > 0) res.write(`event: lost\ndata: ${JSON.stringify({ lost: missed.lost, atLeast: missed.atLeast })}\n\n`);
      for (const message of missed.messages) stream.deliver(message, pattern ? name : null);
    }
    if (pattern) this.#hub.psubscribe(stream, name);
    else this.#hub.subscribe(stream, name);
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    // Whoever ends it (the client, the limit, a shutdown), it leaves the hub with its connection.
    res.on('close', () => {
      clearInterval(heartbeat);
      this.#hub.forget(stream);
    });
  }
}

/**
 * One SSE subscriber: each message is an event with the server's message id. On a channel's
 * stream the data is the message (as UTF-8 text, one `data:` line per line); on a pattern's it
 * is `{"channel", "message"}` as JSON. A message reaches every stream of its channel in the same
 * turn: its event is made once for all of them, and what a turn brought a stream is written once,
 * at the end of the turn ({@link flushStreams}), as bytes shared by all the streams that got the
 * same (src/pubsub/fanout.ts).
 */
class EventStream implements Subscriber {
  readonly #res: ServerResponse;
  readonly #limit: number;
  /** Events of this turn, not yet written. */
  readonly #pending = new Range();

  constructor(res: ServerResponse, limit: number) {
    this.#res = res;
    this.#limit = limit;
  }

  deliver(message: Message, pattern: string | null): boolean {
    if (this.#res.writableLength + this.#pending.size > this.#limit || this.#res.destroyed) return false;
    if (this.#pending.empty) queueFlush(this);
    else if (events.add(this.#pending, message, pattern)) return true;
    else this.flush();
    events.add(this.#pending, message, pattern);
    return true;
  }

  flush(): void {
    const res = this.#res;
    // Once the response has its socket (it may wait for answers due before it on a pipelined
    // connection), everything written to it before is in the socket's queue, and chunks can go
    // straight to the socket, framed here: one write, of bytes shared with the other streams.
    const socket = res.socket;
    const bytes = this.#pending.take(socket !== null && res.chunkedEncoding);
    if (bytes === undefined || res.destroyed) return;
    if (socket === null) res.write(bytes);
    else socket.write(bytes);
  }

  drop(): void {
    this.#pending.clear();
    this.#res.destroy();
  }
}

/** Streams with events to write, in the order they got them. */
const dirty = new Set<EventStream>();
/**
 * Streams written per turn: a message to thousands of subscribers is written over several turns,
 * with the sockets polled between them, so that requests on other connections are answered
 * meanwhile instead of after the whole fan-out.
 */
const STREAMS_PER_TURN = 128;

function queueFlush(stream: EventStream): void {
  if (dirty.size === 0) setImmediate(flushStreams);
  dirty.add(stream);
}

function flushStreams(): void {
  let written = 0;
  for (const stream of dirty) {
    if (written++ === STREAMS_PER_TURN) return void setImmediate(flushStreams);
    dirty.delete(stream);
    stream.flush();
  }
}

/** Each message's event, made once for all the streams of its channel (or pattern). */
const events = new Fanout('utf8', (message, pattern) => {
  const text = bytesToText(message.data);
  const data = pattern === null ? text : JSON.stringify({ channel: bytesToText(message.channel), message: text });
  return `id: ${message.id}\nevent: message\n${data.split(/\r\n|\r|\n/).map((line) => `data: ${line}\n`).join('')}\n`;
});

/** The id of the last event a reconnecting client saw (`Last-Event-ID`, or `?lastEventId=` for clients that cannot set headers). */
function lastEventId(req: IncomingMessage): number | undefined {
  const header = req.headers['last-event-id'];
  const given = typeof header === 'string' ? header : /[?&]lastEventId=(\d+)/.exec(req.url ?? '')?.[1];
  return given !== undefined && /^\d{1,16}$/.test(given.trim()) ? Number(given.trim()) : undefined;
}

/** A channel or pattern from its path segment: percent-decoded, then as its UTF-8 bytes. */
function nameOf(segment: string, what: string): string {
  return textToBytes(decodeSegment(segment, what));
}
