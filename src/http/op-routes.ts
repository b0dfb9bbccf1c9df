import type { IncomingMessage, ServerResponse } from 'node:http';
import { ExpireIf, expireCondition, parseFloat64, parseInt64, type Mutation } from '../core/mutation.js';
import { Op, Status } from '../core/protocol.js';
import { sharedClock } from '../core/shared-layout.js';
import { batchTooLarge, CacheError, ErrorCode, statusError, valueTooLarge } from '../errors.js';
import { Want } from '../nodes/shared-reader.js';
import { maxBatchBody } from '../core/limits.js';
import { batchKeys, checkFields, checkKey, parseJsonObject } from './batch-body.js';
import { keyOf } from './key-routes.js';
import { parseFlag, parseQuery, parseTtl } from './query.js';
import { RawRoutes, readBody, type FastHandler, type RawHandler, type Reply } from './respond.js';

const badRequest = (message: string): CacheError => new CacheError(ErrorCode.BadRequest, message);

/**
 * The key operations beyond get, set and delete, on HTTP as on the RESP port (one store, one set
 * of rules: src/core/mutation.ts for the read-modify-writes, src/cluster/ for the rest):
 * `POST /keys/:key/incr|append|expire|persist|rename`, `GET /keys` (a scan), `GET /exists`,
 * `POST /mdel`.
 */
export class OpRoutes extends RawRoutes {
  /** `?by=N` (64-bit, default 1; a decimal number increments as a float): `{"key", "value"}`. */
  readonly incr: FastHandler = (_req, res, params, query) => {
    const key = keyOf(params[0]!);
    const by = parseQuery(query).get('by') ?? '1';
    const integer = parseInt64(by);
    let mutation: Mutation;
    if (integer !== undefined) mutation = ['incr', String(integer)];
    else {
      const float = parseFloat64(by);
      if (float === undefined || !Number.isFinite(float)) throw badRequest(`by must be an integer (64-bit) or a finite decimal number; got '${by}'`);
      mutation = ['incrfloat', float];
    }
    // The digits as they are: a 64-bit count is exact in the JSON text.
    this.#update(res, key, mutation, (value) => `{"key":${JSON.stringify(key)},"value":${value}}`);
  };

  /** The body's bytes at the end of the value: `{"key", "length"}`. */
  readonly append: RawHandler = (req, res, params) => {
    const key = keyOf(params[0]!);
    readBody(req, this.maxValue, () => this.fail(res, valueTooLarge(this.maxValue)), (body) => {
      this.#update(res, key, ['append', body.toString('latin1'), this.maxValue], (_value, count) => `{"key":${JSON.stringify(key)},"length":${count}}`);
    });
  };

  /** `?ttl=seconds` [`nx` | `xx` | `gt` | `lt`]: `{"key", "applied"}` (false: no key, or the condition failed). */
  readonly expire: FastHandler = (_req, res, params, query) => {
    const key = keyOf(params[0]!);
    const options = parseQuery(query);
    if (!options.has('ttl')) throw new CacheError(ErrorCode.MissingParameter, '`ttl` parameter is required');
    const at = sharedClock() + parseTtl(options.get('ttl'));
    const condition = expireCondition(new Set(['nx', 'xx', 'gt', 'lt'].filter((name) => parseFlag(options, name))));
    if (typeof condition === 'string') throw badRequest(condition);
    this.#update(res, key, ['expire', at, condition], (_value, count) => `{"key":${JSON.stringify(key)},"applied":${count === 1}}`);
  };

  /** Drops the key's expiry: `{"key", "applied"}`. */
  readonly persist: FastHandler = (_req, res, params) => {
    const key = keyOf(params[0]!);
    this.#update(res, key, ['expire', 0, ExpireIf.Always], (_value, count) => `{"key":${JSON.stringify(key)},"applied":${count === 1}}`);
  };

  /** `?to=other` [`nx`]: moves value and expiry, atomically; 404 for no key, 409 with nx when `to` is held. */
  readonly rename: RawHandler = (_req, res, params, query) => {
    const key = keyOf(params[0]!);
    const options = parseQuery(query);
    const to = options.get('to');
    if (to === undefined || to === '') throw new CacheError(ErrorCode.MissingParameter, '`to` parameter is required');
    checkKey(to);
    this.multi.rename(key, to, parseFlag(options, 'nx')).then(
      (outcome) => {
        if (outcome === 'missing') return this.fail(res, statusError(Status.NotFound));
        if (outcome === 'exists') return this.fail(res, new CacheError(ErrorCode.KeyExists, `Key '${to}' already exists`));
        this.json(res, 200, `{"key":${JSON.stringify(key)},"to":${JSON.stringify(to)}}`);
      },
      (error: unknown) => this.fail(res, error),
    );
  };

  /** `GET /keys?cursor=&count=&match=`: one SCAN step, `{"cursor", "keys"}`; cursor "0" ends it. */
  readonly scan: RawHandler = (_req, res, _params, query) => {
    const options = parseQuery(query);
    const cursor = options.get('cursor') ?? '0';
    const count = options.get('count') ?? '100';
    if (!/^\d{1,10}$/.test(cursor)) throw badRequest(`cursor must be a cursor this route answered (digits), got '${cursor}'`);
    if (!/^\d{1,5}$/.test(count) || Number(count) < 1 || Number(count) > 10_000) throw badRequest(`count must be a whole number from 1 to 10000, got '${count}'`);
    this.keyspace.scan(Number(cursor), Number(count), options.get('match') ?? null).then(
      (step) => this.json(res, 200, `{"cursor":"${step.cursor}","keys":${JSON.stringify(step.keys)}}`),
      (error: unknown) => this.fail(res, error),
    );
  };

  /** `GET /exists?key=`: `{"key", "exists"}`. */
  readonly exists: FastHandler = (_req, res, _params, query) => {
    const key = parseQuery(query).get('key') ?? '';
    checkKey(key);
    const answer = (held: boolean) => (r: Reply) => this.json(r, 200, `{"key":${JSON.stringify(key)},"exists":${held}}`);
    this.readKey(res, key, Want.Nothing, answer(true), answer(false));
  };

  /** `POST /mdel {"keys": [...]}`: `{"deleted": n}`, the keys that were held. */
  readonly mdel: RawHandler = (req: IncomingMessage, res: ServerResponse) => {
    readBody(req, maxBatchBody(this.maxValue), () => this.fail(res, batchTooLarge()), (raw) => {
      try {
        const body = parseJsonObject(raw.toString('utf8'));
        checkFields(body, '/mdel', ['keys']);
        const keys = [...new Set(batchKeys(body, 'keys'))];
        this.multi.deleteMany(keys).then(
          (deleted) => this.json(res, 200, `{"deleted":${deleted}}`),
          (error: unknown) => this.fail(res, error),
        );
      } catch (error) {
        this.fail(res, error);
      }
    });
  };

  #update(res: Reply, key: string, mutation: Mutation, encode: (value: string | undefined, count: number | undefined) => string): void {
    this.data.dispatch(key, [Op.Update, key, mutation], this.whenOk(res, (result) => this.json(res, 200, encode(result.value, result.count))));
  }
}
