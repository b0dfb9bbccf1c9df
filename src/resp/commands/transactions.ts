import { keyArgs, Kind, type CommandSpec } from '../command.js';
import { error, OK } from '../reply.js';
import { exec, heldNow } from '../transaction.js';

/**
 * MULTI, EXEC, DISCARD, WATCH, UNWATCH (Redis's multi.c). MULTI starts queuing as it is read,
 * and a command read while queuing is answered QUEUED (src/resp/connection.ts); EXEC and
 * DISCARD wait for everything before them on their connection, and EXEC holds back what follows.
 * Not with --backend: the backend's own clients could change the keys between the commands.
 */
export const TRANSACTION_COMMANDS: readonly CommandSpec[] = [
  // Queuing starts as it is read (MultiState, which also refuses a nested one); its OK comes in its place.
  { name: 'multi', arity: 1, kind: Kind.Local, flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'], run: (call) => call.reply(OK) },
  { name: 'exec', arity: 1, kind: Kind.Barrier, flags: ['noscript', 'loading', 'stale', 'skip_slowlog'], run: exec },
  {
    name: 'discard',
    arity: 1,
    kind: Kind.Barrier,
    flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'],
    run(call) {
      if (call.transaction === undefined) return call.reply(error('ERR DISCARD without MULTI'));
      call.client.watched.clear();
      call.reply(OK);
    },
  },
  {
    name: 'watch',
    arity: -2,
    kind: Kind.Read,
    flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'],
    keys: [1, -1, 1],
    run(call) {
      const keys = keyArgs(call, 1);
      if (keys === undefined) return;
      const watched = call.client.watched;
      const fresh = keys.filter((key) => watched.watching(key));
      Promise.all(fresh.map((key) => heldNow(call, key))).then((held) => {
        fresh.forEach((key, i) => watched.held(key, held[i] === true));
        call.reply(OK);
      });
    },
  },
  {
    name: 'unwatch',
    arity: 1,
    kind: Kind.Local,
    flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'],
    run(call) {
      call.client.watched.clear();
      call.reply(OK);
    },
  },
];
