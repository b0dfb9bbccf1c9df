import { Buffer } from 'node:buffer';
import { parseInt64 } from '../../core/mutation.js';
import { Op, Status } from '../../core/protocol.js';
import { entryBytes } from '../../core/slots.js';
import { answer, clusterError, dispatch, keyArg, Kind, type Call, type CommandSpec } from '../command.js';
import { array, bulkText, error, Errors, integer, simple } from '../reply.js';
import { ArgError, safeInt } from './args.js';
import { valueOf } from './strings.js';

/**
 * What Redis tells of a key's representation: MEMORY USAGE and OBJECT ENCODING, REFCOUNT, FREQ,
 * IDLETIME.
 *
 * A key's usage is what one copy of it is accounted at against --max-memory (src/core/slots.ts:
 * its key, its item's slot, the per-entry overhead), the figure eviction goes by; each further
 * copy (--replicas) costs as much again on another node. Every value is a string, read whole, so
 * SAMPLES is checked as Redis checks it and changes nothing.
 *
 * Every value is held as bytes here; OBJECT ENCODING answers the encoding Redis 7 gives the same
 * value stored by SET: `int` for a canonical 64-bit integer, `embstr` up to 44 bytes, `raw`
 * beyond (Redis also answers `raw` for a value APPEND, SETRANGE or SETBIT changed in place, which
 * is not told apart here). No value is shared (REFCOUNT 1, as Redis's under an LRU policy), and
 * eviction is LRU, so FREQ answers Redis's error for that policy. IDLETIME is the whole seconds
 * since the key's last read or write on the node its reads go to (the recency eviction goes by);
 * with --backend, whose server holds the keys, it is refused.
 */
export const KEY_INTERNALS_COMMANDS: readonly CommandSpec[] = [
  { name: 'memory', arity: -2, kind: Kind.Read, flags: ['readonly'], keys: [2, 2, 1], run: memory },
  { name: 'object', arity: -2, kind: Kind.Read, flags: ['readonly'], keys: [2, 2, 1], run: object },
];

const MEMORY_HELP = [
  'MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'USAGE <key> [SAMPLES <count>]',
  '    Return memory in bytes used by <key> and its value (one copy, as --max-memory counts it).',
  'HELP',
  '    Print this help.',
];

function memory(call: Call): void {
  const args = call.args;
  const sub = args[1]!.toLowerCase();
  if (sub !== 'usage' && sub !== 'help') return call.reply(error(Errors.unknownSubcommand('MEMORY', args[1]!)));
  if (sub === 'help' ? args.length !== 2 : args.length < 3) return call.reply(error(Errors.arity(`memory|${sub}`)));
  if (sub === 'help') return call.reply(array(MEMORY_HELP.map(simple)));
  // As Redis: nothing or SAMPLES <count> (a count below 0 is a syntax error) after the key.
  if (args.length === 5 && args[3]!.toLowerCase() === 'samples') {
    const samples = safeInt(args[4]!);
    if (samples instanceof ArgError) return call.reply(error(samples.message));
    if (samples < 0) return call.reply(error(Errors.syntax));
  } else if (args.length !== 3) {
    return call.reply(error(Errors.syntax));
  }
  const key = keyArg(call, 2);
  if (key === undefined) return;
  dispatch(call, key, [Op.Exists, key], answer(call, (result) => (result.status === Status.Ok ? integer(entryBytes(Buffer.byteLength(key), result.valueBytes!)) : call.client.resp.nil)));
}

const OBJECT_HELP = [
  'OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'ENCODING <key>',
  '    Return the kind of internal representation Redis would use for the value of <key>.',
  'IDLETIME <key>',
  '    Return the seconds since the last read or write of <key>.',
  'FREQ <key>',
  '    Not tracked: eviction is LRU (an error, as Redis answers under an LRU policy).',
  'REFCOUNT <key>',
  '    Return the number of references of the value of <key> (always 1: none is shared).',
  'HELP',
  '    Prints this help.',
];

/** The longest string Redis embeds in its object (OBJ_ENCODING_EMBSTR_SIZE_LIMIT). */
const EMBSTR_MAX_BYTES = 44;

const LFU_ONLY = 'ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';

function object(call: Call): void {
  const args = call.args;
  const sub = args[1]!.toLowerCase();
  if (sub === 'help') return call.reply(args.length === 2 ? array(OBJECT_HELP.map(simple)) : error(Errors.arity('object|help')));
  if (sub !== 'encoding' && sub !== 'refcount' && sub !== 'freq' && sub !== 'idletime') return call.reply(error(Errors.unknownSubcommand('OBJECT', args[1]!)));
  if (args.length !== 3) return call.reply(error(Errors.arity(`object|${sub}`)));
  if (sub === 'idletime') return idletime(call);
  const key = keyArg(call, 2);
  if (key === undefined) return;
  // Whether the key is held and its length, without copying the value: only ENCODING of a value
  // short enough to be an integer reads it.
  dispatch(call, key, [Op.Exists, key], (failure, result) => {
    if (failure !== null) return call.reply(clusterError(failure));
    if (result!.status !== Status.Ok) return call.reply(call.client.resp.nil);
    if (sub === 'freq') return call.reply(error(LFU_ONLY));
    if (sub === 'refcount') return call.reply(integer(1));
    const valueBytes = result!.valueBytes!;
    if (valueBytes > MAX_INT_BYTES) return call.reply(bulkText(valueBytes <= EMBSTR_MAX_BYTES ? 'embstr' : 'raw'));
    // Gone meanwhile: nil, as if it had not been found.
    valueOf(call, 2, (value) => call.reply(value === null ? call.client.resp.nil : bulkText(encodingOf(value))));
  });
}

/** The longest string Redis tries to hold as an integer (-9223372036854775808). */
const MAX_INT_BYTES = 20;

/** Redis's tryObjectEncoding for a string stored by SET: `value` is its bytes, one per character. */
function encodingOf(value: string): string {
  if (value.length <= MAX_INT_BYTES && parseInt64(value) !== undefined) return 'int';
  return value.length <= EMBSTR_MAX_BYTES ? 'embstr' : 'raw';
}

/** OBJECT IDLETIME key: whole seconds since the key's last use, nil if it is not held. */
function idletime(call: Call): void {
  if (call.ctx.cluster.near !== undefined) return call.reply(error('ERR OBJECT IDLETIME is not available with --backend: the backend holds the keys'));
  const key = keyArg(call, 2);
  if (key === undefined) return;
  dispatch(call, key, [Op.Idle, key], answer(call, (result) => (result.status === Status.Ok ? integer(Math.floor(result.idleMs! / 1000)) : call.client.resp.nil)));
}
