import { Op, Status } from '../../core/protocol.js';
import { entryBytes } from '../../core/slots.js';
import { answer, dispatch, keyArg, Kind, type Call, type CommandSpec } from '../command.js';
import { array, error, integer, simple } from '../reply.js';
import { ArgError, safeInt } from './args.js';

/**
 * MEMORY USAGE and MEMORY HELP. A key's usage is what one copy of it is accounted at against
 * --max-memory (src/core/slots.ts: its key, its item's slot, the per-entry overhead), the figure
 * eviction goes by; each further copy (--replicas) costs as much again on another node. Every
 * value is a string, read whole, so SAMPLES is checked as Redis checks it and changes nothing.
 */
export const MEMORY_COMMANDS: readonly CommandSpec[] = [{ name: 'memory', arity: -2, kind: Kind.Read, flags: ['readonly'], keys: [2, 2, 1], run: memory }];

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
  if (sub !== 'usage' && sub !== 'help') return call.reply(error(`ERR unknown subcommand '${args[1]!.slice(0, 128)}'. Try MEMORY HELP.`));
  if (sub === 'help' ? args.length !== 2 : args.length < 3) return call.reply(error(`ERR wrong number of arguments for 'memory|${sub}' command`));
  if (sub === 'help') return call.reply(array(MEMORY_HELP.map(simple)));
  // As Redis: nothing or SAMPLES <count> (a count below 0 is a syntax error) after the key.
  if (args.length === 5 && args[3]!.toLowerCase() === 'samples') {
    const samples = safeInt(args[4]!);
    if (samples instanceof ArgError) return call.reply(error(samples.message));
    if (samples < 0) return call.reply(error('ERR syntax error'));
  } else if (args.length !== 3) {
    return call.reply(error('ERR syntax error'));
  }
  const key = keyArg(call, 2);
  if (key === undefined) return;
  dispatch(call, key, [Op.Exists, key], answer(call, (result) => (result.status === Status.Ok ? integer(entryBytes(Buffer.byteLength(key), result.valueBytes!)) : call.client.resp.nil)));
}
