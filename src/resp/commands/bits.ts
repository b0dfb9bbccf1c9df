import { Op, Status } from '../../core/protocol.js';
import { answer, dispatch, keyArg, Kind, type Call, type CommandSpec } from '../command.js';
import { valueOf } from './strings.js';
import { array, bulk, error, Errors, integer } from '../reply.js';
import { ArgError, safeInt } from './args.js';

/** The string commands that read values bit by bit or byte by byte: SETBIT, GETBIT, LCS. */
export const BIT_COMMANDS: readonly CommandSpec[] = [
  { name: 'setbit', arity: 4, kind: Kind.Write, flags: ['write', 'denyoom'], keys: [1, 1, 1], run: setbit },
  { name: 'getbit', arity: 3, kind: Kind.Read, flags: ['readonly', 'fast'], keys: [1, 1, 1], run: getbit },
  { name: 'lcs', arity: -3, kind: Kind.Read, flags: ['readonly'], keys: [1, 2, 1], run: lcs },
];

const BAD_OFFSET = 'ERR bit offset is not an integer or out of range';

/** A bit offset: as Redis bounds it, inside a string of the longest value accepted (--max-value). */
function offsetArg(call: Call): number | undefined {
  const offset = safeInt(call.args[2]!);
  if (offset instanceof ArgError || offset < 0 || Math.floor(offset / 8) >= call.ctx.maxValue) {
    call.reply(error(BAD_OFFSET));
    return undefined;
  }
  return offset;
}

function setbit(call: Call): void {
  const offset = offsetArg(call);
  if (offset === undefined) return;
  const bit = call.args[3]!;
  if (bit !== '0' && bit !== '1') return call.reply(error('ERR bit is not an integer or out of range'));
  const key = keyArg(call, 1);
  if (key === undefined) return;
  const mutation = ['setbit', offset, bit === '1' ? 1 : 0, call.ctx.maxValue] as const;
  dispatch(call, key, [Op.Update, key, mutation], answer(call, (result) => integer(result.status === Status.Ok ? result.count! : 0)));
}

function getbit(call: Call): void {
  const offset = offsetArg(call);
  if (offset === undefined) return;
  valueOf(call, 1, (value) => {
    const byte = (value ?? '').charCodeAt(Math.floor(offset / 8));
    call.reply(integer(Number.isNaN(byte) ? 0 : (byte >> (7 - (offset % 8))) & 1));
  });
}

/** LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN], as Redis 7 computes and answers it. */
function lcs(call: Call): void {
  const args = call.args;
  let len = false;
  let idx = false;
  let withLength = false;
  let minLength = 0;
  for (let i = 3; i < args.length; i++) {
    const option = args[i]!.toLowerCase();
    if (option === 'len') len = true;
    else if (option === 'idx') idx = true;
    else if (option === 'withmatchlen') withLength = true;
    else if (option === 'minmatchlen' && i + 1 < args.length) {
      const value = safeInt(args[++i]!);
      if (value instanceof ArgError) return call.reply(error(value.message));
      minLength = Math.max(0, value);
    } else return call.reply(error(Errors.syntax));
  }
  if (len && idx) return call.reply(error('ERR If you want both the length and indexes, please just use IDX.'));
  valueOf(call, 1, (first) =>
    valueOf(call, 2, (second) => {
      const [a, b] = [first ?? '', second ?? ''];
      // Redis's bound on the table: no more than proto-max-bulk-len bytes of 32-bit cells.
      if ((a.length + 1) * (b.length + 1) * 4 > call.ctx.maxValue) return call.reply(error('ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len'));
      call.reply(lcsReply(a, b, len, idx, withLength, minLength, call.client.resp.map));
    }),
  );
}

function lcsReply(a: string, b: string, len: boolean, idx: boolean, withLength: boolean, minLength: number, map: (entries: Array<[string, string]>) => string): string {
  const width = b.length + 1;
  const table = new Uint32Array((a.length + 1) * width);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      table[i * width + j] = a[i - 1] === b[j - 1] ? table[(i - 1) * width + j - 1]! + 1 : Math.max(table[(i - 1) * width + j]!, table[i * width + j - 1]!);
    }
  }
  const length = table[a.length * width + b.length]!;
  if (len) return integer(length);
  // Walk back from the end, as Redis does, collecting the common string and its ranges.
  const common: string[] = [];
  const matches: string[] = [];
  let i = a.length;
  let j = b.length;
  let start = -1;
  let aEnd = 0;
  let bStart = 0;
  let bEnd = 0;
  while (i > 0 && j > 0) {
    let emit = false;
    if (a[i - 1] === b[j - 1]) {
      common.push(a[i - 1]!);
      if (start < 0) [start, aEnd, bStart, bEnd] = [i - 1, i - 1, j - 1, j - 1];
      else if (start === i && bStart === j) [start, bStart] = [start - 1, bStart - 1];
      else emit = true;
      if (start === 0 || bStart === 0) emit = true;
      i--;
      j--;
    } else {
      if (table[(i - 1) * width + j]! > table[i * width + j - 1]!) i--;
      else j--;
      if (start >= 0) emit = true;
    }
    if (emit) {
      const matchLength = aEnd - start + 1;
      if (minLength === 0 || matchLength >= minLength) {
        const ranges = [array([integer(start), integer(aEnd)]), array([integer(bStart), integer(bEnd)])];
        matches.push(array(withLength ? [...ranges, integer(matchLength)] : ranges));
      }
      start = -1;
    }
  }
  if (!idx) return bulk(common.reverse().join(''));
  return map([
    ['matches', array(matches)],
    ['len', integer(length)],
  ]);
}

