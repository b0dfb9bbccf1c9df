import t from 'tap';
import fc from 'fast-check';
import type { Socket } from 'node:net';
import { connected, parseAnswers, type RawAnswer } from './fixtures/raw.js';
import { startTestServer } from './fixtures/server.js';

/**
 * RFC 9112 9.3.2: requests pipelined on one connection take effect in the order sent. Each of 20
 * connections sends 50 random sequences of writes with bodies, body-less reads and deletes, each
 * sequence in one write, and every answer is checked against a model that applies the
 * connection's requests in order. Connections use keys of their own, so the model is exact.
 */
const CONNECTIONS = 20;
const SEQUENCES = 50;

type Step =
  | { kind: 'put' | 'set'; key: number; value: string }
  | { kind: 'get' | 'seedGet' | 'head' | 'delete' | 'seedDelete'; key: number }
  | { kind: 'mset'; entries: Array<[number, string]> };

const value = fc.stringMatching(/^[A-Za-z0-9]{1,20}$/);
const key = fc.integer({ min: 0, max: 3 });
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constantFrom('put' as const, 'set' as const), key, value }),
  fc.record({ kind: fc.constantFrom('get' as const, 'seedGet' as const, 'head' as const, 'delete' as const, 'seedDelete' as const), key }),
  fc.record({ kind: fc.constant('mset' as const), entries: fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 3 }) }),
);
const sequence = fc.array(step, { minLength: 2, maxLength: 8 });

function request(step: Step, name: (key: number) => string): { method: string; text: string } {
  const head = (method: string, target: string, body = ''): { method: string; text: string } => ({
    method,
    text: `${method} ${target} HTTP/1.1\r\nHost: x\r\n${body === '' ? '' : `Content-Length: ${Buffer.byteLength(body)}\r\n`}\r\n${body}`,
  });
  switch (step.kind) {
    case 'put':
      return head('PUT', `/keys/${name(step.key)}`, step.value);
    case 'set':
      return head('POST', `/set?key=${name(step.key)}&value=${step.value}`);
    case 'get':
      return head('GET', `/keys/${name(step.key)}`);
    case 'seedGet':
      return head('GET', `/get?key=${name(step.key)}`);
    case 'head':
      return head('HEAD', `/keys/${name(step.key)}`);
    case 'delete':
      return head('DELETE', `/keys/${name(step.key)}`);
    case 'seedDelete':
      return head('DELETE', `/del?key=${name(step.key)}`);
    case 'mset':
      return head('POST', '/mset', JSON.stringify({ entries: Object.fromEntries(step.entries.map(([k, v]) => [name(k), v])) }));
  }
}

/** What the answer to `step` must be after the steps before it; applies it to `model`. */
function expected(step: Step, model: Map<string, string>, name: (key: number) => string): { status: number; body?: string } {
  switch (step.kind) {
    case 'put':
    case 'set':
      model.set(name(step.key), step.value);
      return { status: 201 };
    case 'mset':
      for (const [k, v] of step.entries) model.set(name(k), v);
      return { status: 200, body: `{"stored":${new Set(step.entries.map(([k]) => k)).size}}` };
    case 'get':
    case 'seedGet': {
      const held = model.get(name(step.key));
      return held === undefined ? { status: 404 } : { status: 200, body: held };
    }
    case 'head':
      return { status: model.has(name(step.key)) ? 200 : 404 };
    case 'delete':
      return { status: model.delete(name(step.key)) ? 204 : 404 };
    case 'seedDelete':
      model.delete(name(step.key));
      return { status: 201 };
  }
}

/** Writes `payload` and reads until `methods.length` answers are in. */
function exchangeOn(socket: Socket, payload: string, methods: string[]): Promise<RawAnswer[]> {
  return new Promise((resolve, reject) => {
    let bytes = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      bytes = Buffer.concat([bytes, chunk]);
      const answers = parseAnswers(bytes, methods);
      if (answers.length < methods.length) return;
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve(answers);
    };
    const onClose = (): void => reject(new Error(`connection closed after ${parseAnswers(bytes, methods).length} of ${methods.length} answers`));
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(payload);
  });
}

t.test(`${CONNECTIONS * SEQUENCES} pipelined sequences over ${CONNECTIONS} connections take effect in order`, async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.close());
  const differences: string[] = [];
  let answered = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, c) => {
      const socket = await connected(server.port);
      socket.on('error', () => undefined);
      const name = (k: number): string => `c${c}-k${k}`;
      const model = new Map<string, string>();
      for (const steps of fc.sample(sequence, { numRuns: SEQUENCES, seed: 1000 + c })) {
        const requests = steps.map((s) => request(s, name));
        const answers = await exchangeOn(socket, requests.map((r) => r.text).join(''), requests.map((r) => r.method));
        steps.forEach((s, i) => {
          const want = expected(s, model, name);
          const got = answers[i]!;
          const body = s.kind === 'seedGet' && got.status === 200 ? (JSON.parse(got.body.toString()) as { value: string }).value : got.body.toString();
          answered++;
          if (got.status !== want.status || (want.body !== undefined && body !== want.body)) {
            differences.push(`${requests[i]!.method} ${s.kind} ${JSON.stringify(s)} after ${i} steps: want ${want.status} ${want.body ?? ''}, got ${got.status} ${body}`);
          }
        });
      }
      socket.destroy();
    }),
  );
  t.same(differences.slice(0, 5), [], `${differences.length} of ${answered} answers differ from the in-order model`);
});
