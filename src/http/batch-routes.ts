import type { IncomingMessage, ServerResponse } from 'node:http';
import { maxBatchBody } from '../core/limits.js';
import { batchKeys, checkFields, encodeValue, encodingOf, parseJsonObject, parseMset } from './batch-body.js';
import { batchTooLarge } from '../errors.js';
import { Want } from '../nodes/shared-reader.js';
import { RawRoutes, readBody, type RawHandler } from './respond.js';

/**
 * `POST /mget` and `POST /mset`, straight from node:http. Through Hono, each request built a web
 * Request with an AbortSignal and a body stream (native objects the collector must process):
 * with 50 clients reading 100 random keys each, the main thread spent 590 us a request (34% of
 * it collecting garbage) and served 1.2k requests/s; here 240-280 us (26%) and 2.5-2.7k
 * requests/s (3 nodes, 2 replicas, bench/workload.ts). /mset of 100 entries, same load: 760 req/s
 * (1.9 ms of CPU a request, threads together) through Hono with a promise per key, 970-1,090
 * here (1.3-1.5 ms); what is left is mostly collecting the garbage of the writes in flight.
 */
export class BatchRoutes extends RawRoutes {
  readonly mget: RawHandler = (req, res) => this.#withBody(req, res, (json) => this.#mget(res, json));

  readonly mset: RawHandler = (req, res) => this.#withBody(req, res, (json) => this.#mset(res, json));

  #withBody(req: IncomingMessage, res: ServerResponse, handle: (json: Record<string, unknown>) => void): void {
    readBody(req, maxBatchBody(this.maxValue), () => this.fail(res, batchTooLarge()), (body) => {
      try {
        handle(parseJsonObject(body.toString('utf8')));
      } catch (error) {
        this.fail(res, error);
      }
    });
  }

  /**
   * `{"keys": [...], "encoding"?}` -> `{"values": {"k": "v" or null}}`. Each key is read from its
   * node's shared memory where it can be; only the rest go by message. The answer is written as a
   * string as the keys come, without an object of 100 properties to build and then serialise.
   */
  #mget(res: ServerResponse, body: Record<string, unknown>): void {
    checkFields(body, '/mget', ['keys', 'encoding']);
    const encoding = encodingOf(body);
    // Each key once: the answer is an object by key anyway, and a list naming one large value
    // thousands of times must not make a node copy it thousands of times.
    const keys = [...new Set(batchKeys(body, 'keys'))];
    const want = encoding === 'utf8' ? Want.Text : Want.Bytes;
    const values = new Array<string | null>(keys.length);
    const asked: number[] = [];
    for (let i = 0; i < keys.length; i++) {
      const local = this.data.local.read(keys[i]!, want);
      if (local === undefined) asked.push(i);
      else values[i] = local === null ? null : encoding === 'utf8' ? local.value : encodeValue(local.value, encoding);
    }
    const answer = (): void => {
      let json = '{"values":{';
      for (let i = 0; i < keys.length; i++) json += `${i > 0 ? ',' : ''}${JSON.stringify(keys[i])}:${JSON.stringify(values[i])}`;
      this.json(res, 200, `${json}}}`);
    };
    if (asked.length === 0) return answer();
    this.data.getMany(asked.map((i) => keys[i]!)).then(
      (found) => {
        asked.forEach((index, j) => {
          const value = found[j];
          values[index] = value === undefined ? null : encodeValue(value, encoding);
        });
        answer();
      },
      (error: unknown) => this.fail(res, error),
    );
  }

  /** `{"entries": {"k": "v"}, "ttl"?: s, "encoding"?}` -> `{"stored": n}`; every entry is checked before any is written. */
  #mset(res: ServerResponse, body: Record<string, unknown>): void {
    const { entries, ttlMs } = parseMset(body, this.maxValue);
    this.multi.setMany(entries, ttlMs).then(
      (stored) => this.json(res, 200, `{"stored":${stored}}`),
      (error: unknown) => this.fail(res, error),
    );
  }
}
