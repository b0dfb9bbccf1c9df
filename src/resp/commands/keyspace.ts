import { SCAN_SPACE } from '../../core/scan-order.js';
import { keyArg, keyArgs, Kind, settle, type Call, type CommandSpec } from '../command.js';
import { array, bulk, bulkText, error, Errors, integer, ONE, OK, texts, ZERO } from '../reply.js';
import { ArgError, safeInt } from './args.js';

/**
 * The commands over many keys at once: the keyspace's (KEYS, SCAN, RANDOMKEY:
 * src/cluster/keyspace.ts) and the atomic multi-key ones (MSETNX, RENAME, RENAMENX, COPY:
 * src/cluster/multi-key.ts).
 */
export const KEYSPACE_COMMANDS: readonly CommandSpec[] = [
  { name: 'keys', arity: 2, kind: Kind.Read, flags: ['readonly'], run: (call) => settle(call, call.ctx.cluster.keyspace.keys(call.args[1]!), texts) },
  { name: 'scan', arity: -2, kind: Kind.Read, flags: ['readonly'], run: scan },
  { name: 'randomkey', arity: 1, kind: Kind.Read, flags: ['readonly'], run: (call) => settle(call, call.ctx.cluster.keyspace.randomKey(), (key) => (key === null ? call.client.resp.nil : bulkText(key))) },
  // These read their keys before they write them: they start once the writes before them on
  // their connection are acknowledged (a read from shared memory would not see one still in
  // flight), and the reads after them wait for them; their keys' locks keep later writes behind.
  { name: 'msetnx', arity: -3, kind: Kind.ReadWrite, flags: ['write', 'denyoom'], keys: [1, -1, 2], run: msetnx },
  { name: 'rename', arity: 3, kind: Kind.ReadWrite, flags: ['write'], keys: [1, 2, 1], run: (call) => rename(call, false) },
  { name: 'renamenx', arity: 3, kind: Kind.ReadWrite, flags: ['write', 'fast'], keys: [1, 2, 1], run: (call) => rename(call, true) },
  { name: 'copy', arity: -3, kind: Kind.ReadWrite, flags: ['write', 'denyoom'], keys: [1, 2, 1], run: copy },
];

/** SCAN cursor [MATCH pattern] [COUNT n] [TYPE type]: [next cursor, keys]. */
function scan(call: Call): void {
  const args = call.args;
  if (!/^\d+$/.test(args[1]!)) return call.reply(error('ERR invalid cursor'));
  const cursor = Number(args[1]);
  let pattern: string | null = null;
  let count = 10;
  let type: string | undefined;
  for (let i = 2; i < args.length; i += 2) {
    const option = args[i]!.toLowerCase();
    if (i + 1 >= args.length) return call.reply(error(Errors.syntax));
    if (option === 'match') pattern = args[i + 1]!;
    else if (option === 'type') type = args[i + 1]!.toLowerCase();
    else if (option === 'count') {
      const value = safeInt(args[i + 1]!);
      if (value instanceof ArgError) return call.reply(error(value.message));
      if (value < 1) return call.reply(error(Errors.syntax));
      count = value;
    } else return call.reply(error(Errors.syntax));
  }
  // Every value is a string: TYPE string is every key, any other type none of them.
  settle(call, call.ctx.cluster.keyspace.scan(cursor >= SCAN_SPACE ? SCAN_SPACE : cursor, count, pattern), (step) =>
    array([bulk(String(step.cursor)), texts(type === undefined || type === 'string' ? step.keys : [])]),
  );
}

function msetnx(call: Call): void {
  const args = call.args;
  if (args.length % 2 === 0) return call.reply(error(Errors.arity('msetnx')));
  const keys = keyArgs(call, 1, 2);
  if (keys === undefined) return;
  const entries = keys.map((key, i) => [key, args[2 + 2 * i]!] as const);
  if (entries.some(([, value]) => value.length > call.ctx.maxValue)) return call.reply(error(Errors.tooLong));
  settle(call, call.ctx.cluster.multi.setIfNoneHeld(entries, call.owner), (written) => (written ? ONE : ZERO));
}

function rename(call: Call, onlyIfAbsent: boolean): void {
  const from = keyArg(call, 1);
  if (from === undefined) return;
  const to = keyArg(call, 2);
  if (to === undefined) return;
  settle(call, call.ctx.cluster.multi.rename(from, to, onlyIfAbsent, call.owner), (outcome) => {
    if (outcome === 'missing') return error('ERR no such key');
    if (!onlyIfAbsent) return OK;
    return outcome === 'moved' ? ONE : ZERO;
  });
}

/** COPY source destination [DB 0] [REPLACE]. */
function copy(call: Call): void {
  const args = call.args;
  let replace = false;
  for (let i = 3; i < args.length; i++) {
    const option = args[i]!.toLowerCase();
    if (option === 'replace') replace = true;
    else if (option === 'db' && i + 1 < args.length) {
      const db = safeInt(args[++i]!);
      if (db instanceof ArgError) return call.reply(error(db.message));
      if (db !== 0) return call.reply(error('ERR DB index is out of range'));
    } else return call.reply(error(Errors.syntax));
  }
  const from = keyArg(call, 1);
  if (from === undefined) return;
  const to = keyArg(call, 2);
  if (to === undefined) return;
  if (from === to) return call.reply(error('ERR source and destination objects are the same'));
  settle(call, call.ctx.cluster.multi.copy(from, to, replace, call.owner), (copied) => integer(copied ? 1 : 0));
}
