import { Kind, type Call, type ClientState, type CommandSpec, type RespContext } from '../command.js';
import { array, bulk, bulkText, EMPTY_ARRAY, error, Errors, integer, OK, PONG, RESP2, RESP3, simple } from '../reply.js';

/** The commands about the connection itself: they run on arrival, in the connection's order. */
export const CONNECTION_COMMANDS: readonly CommandSpec[] = [
  {
    name: 'ping',
    arity: -1,
    kind: Kind.Local,
    flags: ['fast'],
    run(call) {
      if (call.args.length > 2) return call.reply(error(Errors.arity('ping')));
      // A RESP2 subscriber gets a pong it can tell from a message (Redis's shape).
      if (call.client.subscriptions > 0 && call.client.resp.version === 2) return call.reply(array([bulk('pong'), bulk(call.args[1] ?? '')]));
      call.reply(call.args.length === 2 ? bulk(call.args[1]!) : PONG);
    },
  },
  { name: 'echo', arity: 2, kind: Kind.Local, flags: ['fast'], run: (call) => call.reply(bulk(call.args[1]!)) },
  {
    name: 'quit',
    arity: -1,
    kind: Kind.Local,
    flags: ['fast', 'no-auth'],
    noAuth: true,
    run(call) {
      call.client.closeAfterReply();
      call.reply(OK);
    },
  },
  {
    name: 'select',
    arity: 2,
    kind: Kind.Local,
    flags: ['fast'],
    run(call) {
      // One keyspace, as a Redis Cluster has: database 0 only.
      const index = call.args[1]!;
      if (!/^-?\d+$/.test(index)) return call.reply(error(Errors.notInteger));
      call.reply(Number(index) === 0 ? OK : error('ERR DB index is out of range'));
    },
  },
  {
    name: 'auth',
    arity: -2,
    kind: Kind.Local,
    flags: ['fast', 'no-auth'],
    noAuth: true,
    run(call) {
      const args = call.args;
      if (args.length > 3) return call.reply(error(Errors.syntax));
      const tokenMatches = call.ctx.tokenMatches;
      if (args.length === 2 && tokenMatches === null) {
        return call.reply(error('ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?'));
      }
      call.reply(authenticate(call, args.length === 3 ? args[1]! : 'default', args.at(-1)!) ? OK : error(Errors.wrongPass));
    },
  },
  { name: 'hello', arity: -1, kind: Kind.Local, flags: ['fast', 'no-auth'], noAuth: true, run: hello },
  { name: 'client', arity: -2, kind: Kind.Local, flags: [], run: client },
  {
    name: 'monitor',
    arity: 1,
    kind: Kind.Local,
    flags: ['admin', 'noscript', 'loading', 'stale'],
    run(call) {
      // Inside EXEC, as Redis: its reply would be one of the array's, the stream after it.
      if (call.owner !== undefined) return call.reply(error("ERR MONITOR isn't allowed for DENY BLOCKING client"));
      call.ctx.monitors.add(call.client);
      call.reply(OK);
    },
  },
];

/** AUTH's rule: one user, `default`, whose password is --auth-token (any password without one). */
function authenticate(call: Call, user: string, password: string): boolean {
  const tokenMatches = call.ctx.tokenMatches;
  const ok = user === 'default' && (tokenMatches === null || tokenMatches(password));
  if (ok) call.client.authenticated = true;
  return ok;
}

/** HELLO [protover [AUTH user pass] [SETNAME name]]: switches the connection to RESP2 or RESP3. */
function hello(call: Call): void {
  const args = call.args;
  let resp = call.client.resp;
  if (args.length > 1) {
    const version = args[1]!;
    if (!/^-?\d+$/.test(version)) return call.reply(error('ERR Protocol version is not an integer or out of range'));
    if (version !== '2' && version !== '3') return call.reply(error('NOPROTO unsupported protocol version'));
    resp = version === '2' ? RESP2 : RESP3;
  }
  let name: string | undefined;
  for (let i = 2; i < args.length; i++) {
    const option = args[i]!.toLowerCase();
    if (option === 'auth' && i + 2 < args.length) {
      if (!authenticate(call, args[i + 1]!, args[i + 2]!)) return call.reply(error(Errors.wrongPass));
      i += 2;
    } else if (option === 'setname' && i + 1 < args.length) {
      name = args[++i]!;
      if (!validName(name)) return call.reply(error(BAD_NAME));
    } else {
      return call.reply(error(`ERR Syntax error in HELLO option '${args[i]!}'`));
    }
  }
  if (!call.client.authenticated) {
    return call.reply(error('NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time'));
  }
  if (name !== undefined) call.client.name = name;
  call.client.resp = resp;
  call.reply(
    resp.map([
      ['server', bulkText('redis')],
      ['version', bulkText(REDIS_VERSION)],
      ['proto', integer(resp.version)],
      ['id', integer(call.client.id)],
      ['mode', bulkText('standalone')],
      ['role', bulkText('master')],
      ['modules', EMPTY_ARRAY],
    ]),
  );
}

/**
 * The Redis version the server answers as (HELLO, INFO): clients choose features by it. Every
 * command it offers behaves as Redis 7.0's; INFO also names this server and its own version.
 */
export const REDIS_VERSION = '7.0.0';

const BAD_NAME = 'ERR Client names cannot contain spaces, newlines or special characters.';

/** Redis's rule for a client name: printable ASCII, no space. */
function validName(name: string): boolean {
  return /^[!-~]*$/.test(name);
}

const CLIENT_HELP = [
  'CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'GETNAME',
  '    Return the name of the current connection.',
  'ID',
  '    Return the ID of the current connection.',
  'INFO',
  '    Return information about the current client connection.',
  'LIST [TYPE NORMAL]',
  '    Return information about client connections.',
  'SETNAME <name>',
  '    Assign the name <name> to the current connection.',
  'SETINFO <LIB-NAME|LIB-VER> <value>',
  '    Set client meta attr.',
  'KILL <ip:port> | ID <id> [ID <id> ...] | ADDR <ip:port>',
  '    Kill connections (the old form replies OK, the new one how many were killed).',
  'HELP',
  '    Print this help.',
];

/** CLIENT KILL addr (old form: OK or an error), or CLIENT KILL ID id / ADDR addr ... (new form: how many). */
function kill(call: Call): void {
  const args = call.args;
  const clients = [...call.ctx.clients];
  if (args.length === 3) {
    const victim = clients.find((other) => other.address === args[2]);
    if (victim === undefined) return call.reply(error('ERR No such client'));
    victim.drop();
    return call.reply(OK);
  }
  if (args.length < 4 || args.length % 2 !== 0) return call.reply(error(Errors.syntax));
  const ids = new Set<number>();
  const addresses = new Set<string>();
  for (let i = 2; i < args.length; i += 2) {
    const filter = args[i]!.toLowerCase();
    if (filter === 'id' && /^\d+$/.test(args[i + 1]!)) ids.add(Number(args[i + 1]));
    else if (filter === 'addr') addresses.add(args[i + 1]!);
    else return call.reply(error(Errors.syntax));
  }
  // As Redis by default (SKIPME yes): the new form never kills the caller.
  const victims = clients.filter((other) => other !== call.client && (ids.size === 0 || ids.has(other.id)) && (addresses.size === 0 || addresses.has(other.address)));
  for (const victim of victims) victim.drop();
  call.reply(integer(victims.length));
}

function client(call: Call): void {
  const args = call.args;
  const sub = args[1]!.toLowerCase();
  const me = call.client;
  const arity = (count: number): boolean => {
    if (args.length === count) return true;
    call.reply(error(Errors.arity(`client|${sub}`)));
    return false;
  };
  switch (sub) {
    case 'id':
      if (arity(2)) call.reply(integer(me.id));
      return;
    case 'getname':
      if (arity(2)) call.reply(me.name === '' ? me.resp.nil : bulk(me.name));
      return;
    case 'setname':
      if (!arity(3)) return;
      if (!validName(args[2]!)) return call.reply(error(BAD_NAME));
      me.name = args[2]!;
      return call.reply(OK);
    case 'setinfo': {
      if (!arity(4)) return;
      const attribute = args[2]!.toLowerCase();
      if (attribute !== 'lib-name' && attribute !== 'lib-ver') return call.reply(error(`ERR Unrecognized option '${args[2]!}'`));
      if (!validName(args[3]!)) return call.reply(error(`ERR ${attribute} cannot contain spaces, newlines or special characters.`));
      if (attribute === 'lib-name') me.libName = args[3]!;
      else me.libVersion = args[3]!;
      return call.reply(OK);
    }
    case 'info':
      if (arity(2)) call.reply(bulk(clientLine(me, call.ctx)));
      return;
    case 'list': {
      if (args.length !== 2 && !(args.length === 4 && args[2]!.toLowerCase() === 'type' && args[3]!.toLowerCase() === 'normal')) {
        return call.reply(error(Errors.syntax));
      }
      let lines = '';
      for (const other of call.ctx.clients) lines += clientLine(other, call.ctx);
      return call.reply(bulk(lines));
    }
    case 'kill':
      return kill(call);
    case 'help':
      return call.reply(array(CLIENT_HELP.map(simple)));
    default:
      call.reply(error(Errors.unknownSubcommand('CLIENT', args[1]!)));
  }
}

/** One line of CLIENT LIST, with the fields Redis's clients and tools read. */
function clientLine(client: ClientState, { pubsub, monitors }: RespContext): string {
  const age = Math.floor((Date.now() - client.createdAt) / 1000);
  const { channels, patterns } = pubsub.channelsOf(client);
  const flags = `${monitors.has(client) ? 'O' : ''}${channels.length + patterns.length > 0 ? 'P' : ''}${client.multi.queued >= 0 ? 'x' : ''}` || 'N';
  return (
    `id=${client.id} addr=${client.address} name=${client.name} age=${age} idle=0 flags=${flags} db=0 sub=${channels.length} psub=${patterns.length} ` +
    `multi=${client.multi.queued} cmd=${client.lastCommand} user=default lib-name=${client.libName} lib-ver=${client.libVersion} resp=${client.resp.version}\n`
  );
}
