import type { Message } from '../../pubsub/hub.js';
import { Kind, settle, type Call, type CommandSpec } from '../command.js';
import { Fanout } from '../../pubsub/fanout.js';
import { array, bulk, error, integer, RESP2, RESP3, type Encoder } from '../reply.js';

/** PUBLISH: here, or through the backend's pub/sub with --backend. */
function publish(call: Call): void {
  const receivers = call.ctx.pubsub.publishFromClient(call.args[1]!, call.args[2]!);
  if (typeof receivers === 'number') call.reply(integer(receivers));
  else settle(call, receivers, integer);
}

/**
 * Pub/sub (SUBSCRIBE, PSUBSCRIBE, their UN-, PUBLISH, PUBSUB) with Redis's reply shapes, over
 * the hub both front ends share (src/pubsub/hub.ts). Channels are byte strings, as in Redis; a
 * channel named on HTTP is its UTF-8 bytes. In RESP3 the confirmations and messages are pushes.
 */
export const PUBSUB_COMMANDS: readonly CommandSpec[] = [
  { name: 'subscribe', arity: -2, kind: Kind.Local, flags: ['pubsub', 'noscript', 'loading', 'stale'], run: (call) => subscribe(call, 'subscribe') },
  { name: 'psubscribe', arity: -2, kind: Kind.Local, flags: ['pubsub', 'noscript', 'loading', 'stale'], run: (call) => subscribe(call, 'psubscribe') },
  { name: 'unsubscribe', arity: -1, kind: Kind.Local, flags: ['pubsub', 'noscript', 'loading', 'stale'], run: (call) => unsubscribe(call, 'unsubscribe') },
  { name: 'punsubscribe', arity: -1, kind: Kind.Local, flags: ['pubsub', 'noscript', 'loading', 'stale'], run: (call) => unsubscribe(call, 'punsubscribe') },
  // After the writes before it on its connection, so that a subscriber told of a change reads it.
  { name: 'publish', arity: 3, kind: Kind.Read, flags: ['pubsub', 'loading', 'stale', 'fast'], run: publish },
  { name: 'pubsub', arity: -2, kind: Kind.Local, flags: ['pubsub', 'loading', 'stale'], run: pubsub },
  {
    name: 'reset',
    arity: 1,
    kind: Kind.Local,
    flags: ['noscript', 'loading', 'stale', 'fast', 'no-auth'],
    run(call) {
      const client = call.client;
      call.ctx.pubsub.forget(client);
      call.ctx.monitors.remove(client);
      client.watched.clear();
      client.name = '';
      call.reply('+RESET\r\n');
    },
  },
];

/** A message as its subscriber receives it: `message` (or `pmessage` with the pattern), channel, payload. */
export function messageReply(resp: Encoder, message: Message, pattern: string | null): string {
  const parts = pattern === null ? [bulk('message'), bulk(message.channel), bulk(message.data)] : [bulk('pmessage'), bulk(pattern), bulk(message.channel), bulk(message.data)];
  return pushOf(resp, parts);
}

/** Each message's reply, made once for all the subscribers of a subscription, per protocol version. */
export const MESSAGES = {
  2: new Fanout('latin1', (message, pattern) => messageReply(RESP2, message, pattern)),
  3: new Fanout('latin1', (message, pattern) => messageReply(RESP3, message, pattern)),
} as const;

/** An array, or in RESP3 a push, of replies already encoded. */
function pushOf(resp: Encoder, parts: readonly string[]): string {
  return resp.version === 3 ? `>${parts.length}\r\n${parts.join('')}` : array(parts);
}

function confirmation(resp: Encoder, kind: string, name: string | null, count: number): string {
  return pushOf(resp, [bulk(kind), name === null ? resp.nil : bulk(name), integer(count)]);
}

/** One confirmation per channel, each with the client's count after it (Redis's shape). */
function subscribe(call: Call, kind: 'subscribe' | 'psubscribe'): void {
  const { pubsub } = call.ctx;
  const client = call.client;
  let out = '';
  for (const name of call.args.slice(1)) {
    const count = kind === 'subscribe' ? pubsub.subscribe(client, name) : pubsub.psubscribe(client, name);
    out += confirmation(client.resp, kind, name, count);
  }
  call.reply(out);
}

function unsubscribe(call: Call, kind: 'unsubscribe' | 'punsubscribe'): void {
  const { pubsub } = call.ctx;
  const client = call.client;
  const held = pubsub.channelsOf(client);
  const names = call.args.length > 1 ? call.args.slice(1) : kind === 'unsubscribe' ? held.channels : held.patterns;
  // With nothing to leave, Redis still answers once, with a nil name.
  if (names.length === 0) return call.reply(confirmation(client.resp, kind, null, client.subscriptions));
  let out = '';
  for (const name of names) {
    const count = kind === 'unsubscribe' ? pubsub.unsubscribe(client, name) : pubsub.punsubscribe(client, name);
    out += confirmation(client.resp, kind, name, count);
  }
  call.reply(out);
}

/** PUBSUB CHANNELS [pattern] | NUMSUB [channel ...] | NUMPAT. */
function pubsub(call: Call): void {
  const { pubsub: hub } = call.ctx;
  const args = call.args;
  const sub = args[1]!.toLowerCase();
  if (sub === 'channels' && args.length <= 3) return call.reply(array(hub.activeChannels(args[2]).map(bulk)));
  if (sub === 'numsub') return call.reply(array(args.slice(2).flatMap((channel) => [bulk(channel), integer(hub.subscribersOf(channel))])));
  if (sub === 'numpat' && args.length === 2) return call.reply(integer(hub.stats().patterns));
  call.reply(error(`ERR unknown subcommand or wrong number of arguments for '${args[1]!.slice(0, 128)}'. Try PUBSUB HELP.`));
}
