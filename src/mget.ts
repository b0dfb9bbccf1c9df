import type { IncomingMessage, ServerResponse } from 'node:http';
import { batchKeys, maxBatchBody, parseJsonObject } from './batch-body.js';
import { bytesToText } from './bytes.js';
import { CacheError, ErrorCode, methodNotAllowed } from './errors.js';
import { RawRoutes, readBody } from './raw-http.js';

/**
 * `POST /mget` `{"keys": [...]}` -> `{"values": {"k": "v" or null}}`, straight from node:http.
 * Through Hono, each request built a web Request with an AbortSignal and a body stream (native
 * objects the collector must process): with 50 clients reading 100 random keys each, the main
 * thread spent 590 us a request (34% of it collecting garbage) and served 1.2k requests/s; here
 * 240-280 us (26%) and 2.5-2.7k requests/s (3 nodes, 2 replicas, bench/workload.ts).
 */
export class MgetRoute extends RawRoutes {
  static readonly PATH = '/mget';

  handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return this.fail(res, methodNotAllowed());
    }
    const tooLarge = (): void => this.fail(res, new CacheError(ErrorCode.ValueTooLarge, 'Request body is too large'));
    readBody(req, maxBatchBody(this.maxValue), tooLarge, (body) => {
      let keys: string[];
      try {
        // Each key once: the answer is an object by key anyway, and a list naming one large value
        // thousands of times must not make a node copy it thousands of times.
        keys = [...new Set(batchKeys(parseJsonObject(body.toString('utf8')), 'keys'))];
      } catch (error) {
        return this.fail(res, error);
      }
      this.cluster.getMany(keys).then(
        (found) => {
          const values: Record<string, string | null> = Object.create(null) as Record<string, string | null>;
          for (let i = 0; i < keys.length; i++) {
            const value = found[i];
            values[keys[i]!] = value === undefined ? null : bytesToText(value);
          }
          this.json(res, 200, JSON.stringify({ values }));
        },
        (error: unknown) => this.fail(res, error),
      );
    });
  }
}
