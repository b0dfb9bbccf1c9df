/**
 * `npm run bench:queue [-- --rounds 3]`: what a shared-memory command queue would save against the
 * batched messages that carry writes to a node today, measured alone (no HTTP, no store): batches
 * of SETs shaped as the cache's (`[op, key, value, ttl]`, 20-byte keys, 32-byte values) go to a
 * worker thread, which keeps them in a Map and answers a status each. `message`: a postMessage of
 * the batch and one of its results, as src/nodes/node-client.ts does. `ring`: the batch's bytes
 * in a SharedArrayBuffer, a counter bumped with Atomics.notify, the worker woken by
 * Atomics.waitAsync, statuses written back the same way. One batch in flight, so each batch pays
 * a wake-up on both sides, as under light load; the process's CPU time per command (both threads:
 * process.cpuUsage() counts the whole process), medians of the rounds.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { median, numberFlag } from './args.js';

type Mode = 'message' | 'ring';
type SetCommand = [op: number, key: string, value: string, ttlMs: number];
interface Shared {
  control: SharedArrayBuffer;
  requests: SharedArrayBuffer;
  replies: SharedArrayBuffer;
}
/** Words of `control`: the batches written, and the batches answered. */
const SENT = 0;
const ANSWERED = 1;
const RING_BYTES = 1 << 22;
/** Atomics.waitAsync (Node 16 and later), which the TypeScript library this project targets lacks. */
const waitAsync = (Atomics as unknown as { waitAsync(array: Int32Array, index: number, value: number): { async: boolean; value: Promise<string> | string } }).waitAsync;
const KEYS = Array.from({ length: 100_000 }, (_, i) => `key:${String(i).padStart(16, '0')}`);
const VALUE = 'w'.repeat(32);

interface Figures {
  commandsPerSecond: number;
  cpuUs: number;
}

async function measure(mode: Mode, batch: number, batches: number): Promise<Figures> {
  const shared: Shared = { control: new SharedArrayBuffer(8), requests: new SharedArrayBuffer(RING_BYTES), replies: new SharedArrayBuffer(RING_BYTES) };
  const worker = new Worker(new URL(import.meta.url), { workerData: { mode, shared } });
  await new Promise((resolve) => worker.once('message', resolve));
  const control = new Int32Array(shared.control);
  const requests = Buffer.from(shared.requests);
  const replies = Buffer.from(shared.replies);
  let next = 0;
  const start = performance.now();
  const cpu = process.cpuUsage();
  for (let sent = 0; sent < batches; sent++) {
    if (mode === 'message') {
      const commands: SetCommand[] = [];
      for (let i = 0; i < batch; i++) commands.push([2, KEYS[next++ % KEYS.length]!, VALUE, 0]);
      const results = await new Promise<Array<{ status: number }>>((resolve) => {
        worker.once('message', resolve);
        worker.postMessage({ type: 'batch', id: sent, commands });
      });
      if (results.some((result) => result.status !== 0)) throw new Error('a command failed');
    } else {
      let at = 4;
      for (let i = 0; i < batch; i++) {
        const keyBytes = requests.write(KEYS[next++ % KEYS.length]!, at + 2, 'latin1');
        requests.writeUInt16LE(keyBytes, at);
        at += 2 + keyBytes;
        const valueBytes = requests.write(VALUE, at + 4, 'latin1');
        requests.writeUInt32LE(valueBytes, at);
        at = requests.writeDoubleLE(0, at + 4 + valueBytes);
      }
      requests.writeUInt32LE(batch, 0);
      const answered = Atomics.load(control, ANSWERED);
      Atomics.add(control, SENT, 1);
      Atomics.notify(control, SENT);
      const wait = waitAsync(control, ANSWERED, answered);
      if (wait.async) await wait.value;
      for (let i = 0; i < batch; i++) if (replies[i] !== 0) throw new Error('a command failed');
    }
  }
  const used = process.cpuUsage(cpu);
  const elapsed = performance.now() - start;
  await worker.terminate();
  const commands = batch * batches;
  return { commandsPerSecond: (commands / elapsed) * 1000, cpuUs: (used.user + used.system) / commands };
}

/** The worker's side: a Map for the store, and whichever way the batches come. */
function serve(mode: Mode, shared: Shared): void {
  const port = parentPort!;
  const map = new Map<string, string>();
  port.on('message', (message: { commands: SetCommand[] }) => {
    const results: Array<{ status: number }> = [];
    for (const [, key, value] of message.commands) {
      map.set(key, value);
      results.push({ status: 0 });
    }
    port.postMessage(results);
  });
  if (mode === 'ring') {
    const control = new Int32Array(shared.control);
    const requests = Buffer.from(shared.requests);
    const replies = Buffer.from(shared.replies);
    const drain = async (seen: number): Promise<void> => {
      for (;;) {
        const wait = waitAsync(control, SENT, seen);
        if (wait.async) await wait.value;
        seen = Atomics.load(control, SENT);
        let at = 4;
        for (let i = 0, count = requests.readUInt32LE(0); i < count; i++) {
          const keyBytes = requests.readUInt16LE(at);
          const key = requests.toString('latin1', at + 2, at + 2 + keyBytes);
          at += 2 + keyBytes;
          const valueBytes = requests.readUInt32LE(at);
          map.set(key, requests.toString('latin1', at + 4, at + 4 + valueBytes));
          at += 4 + valueBytes + 8;
          replies[i] = 0;
        }
        Atomics.add(control, ANSWERED, 1);
        Atomics.notify(control, ANSWERED);
      }
    };
    void drain(0);
  }
  port.postMessage('ready');
}

if (!isMainThread) {
  const data = workerData as { mode: Mode; shared: Shared };
  serve(data.mode, data.shared);
} else {
  const rounds = numberFlag('rounds', 3);
  process.stdout.write(`one batch in flight, ${rounds} rounds alternating, medians; CPU of the process (both threads) a command\n\n`);
  process.stdout.write('| commands a batch | transport | commands/s | CPU us a command |\n| ---: | --- | ---: | ---: |\n');
  for (const batch of [4, 40]) {
    const samples: Record<Mode, Figures[]> = { message: [], ring: [] };
    for (let round = 0; round < rounds; round++) {
      for (const mode of round % 2 === 0 ? (['message', 'ring'] as const) : (['ring', 'message'] as const)) samples[mode].push(await measure(mode, batch, 1_000_000 / batch));
    }
    for (const mode of ['message', 'ring'] as const) {
      const list = samples[mode];
      process.stdout.write(`| ${batch} | ${mode} | ${median(list.map((f) => f.commandsPerSecond)).toFixed(0)} | ${median(list.map((f) => f.cpuUs)).toFixed(2)} |\n`);
    }
  }
}
