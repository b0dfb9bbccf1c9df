import { Agent, request } from 'node:http';

/**
 * A mixed read/write load that checks every answer, for the cluster tests and bench/cluster.ts:
 * each client reads preloaded keys (which never change), writes new keys, overwrites keys of
 * its own, deletes preloaded keys of its own and reads its own writes back. Afterwards
 * {@link verify} checks that every acknowledged write is there, every deleted key is gone and no
 * preloaded key went missing.
 */
export interface LoadOptions {
  base: string;
  clients: number;
  /** Keys written before the load with {@link preloadValue}; reads pick from them. */
  preloaded: number;
  /** The load stops once this returns true. */
  stop: () => boolean;
  /** Width of the throughput timeline's buckets. Default 100 ms. */
  bucketMs?: number;
}

export interface LoadReport {
  requests: number;
  byStatus: Record<number, number>;
  /** First few 5xx answers (path and body), and their count. */
  serverErrors: { count: number; first: string[] };
  /** Preloaded keys, or the client's own acknowledged writes, that a read did not find. */
  misses: string[];
  /** Reads that returned another value than the last acknowledged one. */
  wrongValues: string[];
  /** Requests that got no answer (connection error). */
  failures: number;
  /** Every acknowledged write: key -> the value it must hold now. */
  acked: Map<string, string>;
  /** Preloaded keys deleted with an acknowledgement. */
  deleted: Set<string>;
  /** Requests answered per bucket of `bucketMs`, from the start. */
  timeline: number[];
  bucketMs: number;
}

export const preloadKey = (i: number): string => `pre-${i}`;
export const preloadValue = (key: string): string => `value-of-${key}`;

interface Answer {
  status: number;
  body: string;
}

export function httpClient(base: string, connections: number): { call: (method: string, path: string, body?: string) => Promise<Answer>; close: () => void } {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const url = new URL(base);
  const call = (method: string, path: string, body?: string): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, method, path, agent, headers: body === undefined ? {} : { 'content-type': 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  return { call, close: () => agent.destroy() };
}

export async function preload(base: string, count: number): Promise<void> {
  const { call, close } = httpClient(base, 4);
  try {
    for (let start = 0; start < count; start += 10_000) {
      const entries: Record<string, string> = {};
      for (let i = start; i < Math.min(count, start + 10_000); i++) entries[preloadKey(i)] = preloadValue(preloadKey(i));
      const answer = await call('POST', '/mset', JSON.stringify({ entries }));
      if (answer.status !== 200) throw new Error(`preload failed: ${answer.status} ${answer.body}`);
    }
  } finally {
    close();
  }
}

export async function mixedLoad(options: LoadOptions): Promise<LoadReport> {
  const bucketMs = options.bucketMs ?? 100;
  const { call, close } = httpClient(options.base, options.clients);
  const report: LoadReport = {
    requests: 0,
    byStatus: {},
    serverErrors: { count: 0, first: [] },
    misses: [],
    wrongValues: [],
    failures: 0,
    acked: new Map(),
    deleted: new Set(),
    timeline: [],
    bucketMs,
  };
  const started = performance.now();
  const answered = (status: number, path: string, body: string): void => {
    report.requests++;
    report.byStatus[status] = (report.byStatus[status] ?? 0) + 1;
    const bucket = Math.floor((performance.now() - started) / bucketMs);
    while (report.timeline.length <= bucket) report.timeline.push(0);
    report.timeline[bucket]!++;
    if (status >= 500 && report.serverErrors.count++ < 5) report.serverErrors.first.push(`${status} ${path} ${body.trim()}`);
  };
  // Each client deletes only its own slice of the lower half of the preloaded keys (reads pick
  // from the upper half, which never changes) and overwrites only its own keys.
  const half = Math.floor(options.preloaded / 2);
  const slice = Math.floor(half / options.clients);
  const client = async (c: number): Promise<void> => {
    const own: string[] = [];
    let deletes = 0;
    for (let i = 0; !options.stop(); i++) {
      const roll = i % 10;
      let key: string;
      let path: string;
      let method = 'GET';
      let expect: { status: number; value?: string };
      if (roll < 4) {
        key = preloadKey(half + ((c * 7919 + i * 104_729) % (options.preloaded - half)));
        path = `/get?key=${key}`;
        expect = { status: 200, value: preloadValue(key) };
      } else if (roll < 7 || roll === 8) {
        key = roll === 8 ? `own-${c}-${i % 16}` : `new-${c}-${i}`;
        const value = `v-${c}-${i}`;
        path = `/set?key=${key}&value=${value}`;
        method = 'POST';
        expect = { status: 201, value };
      } else if (roll === 7 && deletes < slice) {
        key = preloadKey(c * slice + deletes++);
        path = `/del?key=${key}`;
        method = 'DELETE';
        expect = { status: 201 };
      } else {
        if (own.length === 0) continue;
        key = own[i % own.length]!;
        path = `/get?key=${key}`;
        expect = { status: 200, value: report.acked.get(key)! };
      }
      let answer: Answer;
      try {
        answer = await call(method, path);
      } catch {
        report.failures++;
        continue;
      }
      answered(answer.status, path, answer.body);
      if (method === 'POST' && answer.status === 201) {
        if (!report.acked.has(key)) own.push(key);
        report.acked.set(key, expect.value!);
      } else if (method === 'DELETE' && answer.status === 201) {
        report.deleted.add(key);
        report.acked.delete(key);
      } else if (method === 'GET') {
        if (answer.status === 404) report.misses.push(key);
        else if (answer.status === 200 && (JSON.parse(answer.body) as { value: string }).value !== expect.value) report.wrongValues.push(key);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.clients }, (_, c) => client(c)));
  } finally {
    close();
  }
  return report;
}

export interface Verification {
  /** Acknowledged writes (and preloaded keys) missing or holding another value. */
  lost: string[];
  /** Deleted keys that came back. */
  resurrected: string[];
  checked: number;
}

/** Reads back every key the preload and the load (if any) left, in /mget batches. */
export async function verify(
  base: string,
  preloaded: number,
  report: Pick<LoadReport, 'acked' | 'deleted'> = { acked: new Map(), deleted: new Set() },
): Promise<Verification> {
  const expected = new Map<string, string | null>();
  for (let i = 0; i < preloaded; i++) expected.set(preloadKey(i), preloadValue(preloadKey(i)));
  for (const [key, value] of report.acked) expected.set(key, value);
  for (const key of report.deleted) expected.set(key, null);
  const { call, close } = httpClient(base, 4);
  const result: Verification = { lost: [], resurrected: [], checked: 0 };
  try {
    const keys = [...expected.keys()];
    for (let start = 0; start < keys.length; start += 10_000) {
      const batch = keys.slice(start, start + 10_000);
      const answer = await call('POST', '/mget', JSON.stringify({ keys: batch }));
      const { values } = JSON.parse(answer.body) as { values: Record<string, string | null> };
      for (const key of batch) {
        const want = expected.get(key);
        const got = values[key];
        result.checked++;
        if (want === null && got !== null) result.resurrected.push(key);
        else if (want !== null && got !== want) result.lost.push(key);
      }
    }
  } finally {
    close();
  }
  return result;
}
