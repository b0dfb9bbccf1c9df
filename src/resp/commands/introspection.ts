import { keyArg, Kind, type Call, type CommandSpec } from '../command.js';
import { keyIndexes } from '../key-positions.js';
import { array, bulkText, EMPTY_ARRAY, error, Errors, integer, simple } from '../reply.js';

/**
 * COMMAND, from the command table: what clients ask to learn the server's commands and where
 * their keys are (Redis's reply shapes: COMMAND INFO's ten fields, COMMAND DOCS as a map).
 */
export const INTROSPECTION_COMMANDS: readonly CommandSpec[] = [{ name: 'command', arity: -1, kind: Kind.Local, flags: ['loading', 'stale'], run: command }];

function command(call: Call): void {
  const args = call.args;
  const specs = call.ctx.commands;
  if (args.length === 1) return call.reply(array([...specs.values()].map(infoOf)));
  const sub = args[1]!.toLowerCase();
  const named = (): Array<CommandSpec | undefined> => args.slice(2).map((name) => specs.get(name.toLowerCase()));
  switch (sub) {
    case 'count':
      return call.reply(integer(specs.size));
    case 'list':
      return call.reply(array([...specs.keys()].map(bulkText)));
    case 'info':
      return call.reply(array((args.length === 2 ? [...specs.values()] : named()).map((spec) => (spec === undefined ? call.client.resp.nil : infoOf(spec)))));
    case 'docs': {
      const found = (args.length === 2 ? [...specs.values()] : named()).filter((spec): spec is CommandSpec => spec !== undefined);
      const { map } = call.client.resp;
      return call.reply(map(found.map((spec) => [spec.name, map([['summary', bulkText(`The ${spec.name.toUpperCase()} command, as Redis 7.0 defines it.`)], ['since', bulkText('1.0.0')], ['group', bulkText(groupOf(spec))]])])));
    }
    case 'getkeys':
      return getKeys(call);
    default:
      call.reply(error(Errors.unknownSubcommand('COMMAND', args[1]!)));
  }
}

/** COMMAND INFO's entry: name, arity, flags, first key, last key, step, ACL categories, tips, key specs, subcommands. */
function infoOf(spec: CommandSpec): string {
  const [first, last, step] = spec.keys ?? [0, 0, 0];
  return array([bulkText(spec.name), integer(spec.arity), array(spec.flags.map(simple)), integer(first), integer(last), integer(step), EMPTY_ARRAY, EMPTY_ARRAY, EMPTY_ARRAY, EMPTY_ARRAY]);
}

function groupOf(spec: CommandSpec): string {
  if (spec.keys === undefined) return spec.kind === Kind.Local ? 'connection' : 'server';
  return spec.flags.includes('readonly') && spec.arity === 2 ? 'string' : 'generic';
}

/** COMMAND GETKEYS command arg...: the key arguments, by the table's key positions. */
function getKeys(call: Call): void {
  const inner = call.args.slice(2);
  const spec = inner.length > 0 ? call.ctx.commands.get(inner[0]!.toLowerCase()) : undefined;
  if (spec === undefined) return call.reply(error('ERR Invalid command specified'));
  if (spec.keys === undefined) return call.reply(error('ERR The command has no key arguments'));
  const keys: string[] = [];
  for (const i of keyIndexes(spec.keys, inner.length)) {
    const key = keyArg(call, i + 2);
    if (key === undefined) return;
    keys.push(bulkText(key));
  }
  call.reply(keys.length === 0 ? error('ERR Invalid arguments specified for command') : array(keys));
}
