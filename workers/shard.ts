/**
 * Entry point of a shard driven as a plain worker_thread: one batch in, one reply out, over the
 * worker's own port. The cluster channel is opened by {@link Shard}.
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import type { FromWorker, ShardConfig, ToWorker } from '../src/protocol.js';
import { Shard } from './shard-core.js';

if (parentPort === null) throw new Error('workers/shard.js must run as a worker thread');
const port = parentPort;
const shard = new Shard(workerData as ShardConfig);

port.on('message', (message: ToWorker) => {
  if (message.type === 'batch') {
    port.postMessage(shard.handle(message) satisfies FromWorker);
  } else if (message.type === 'ring') {
    shard.onClusterEvent(message);
  }
});
// The port must not keep the thread alive on its own once the main thread lets go of it; the
// main thread ends the worker with terminate() at shutdown.
port.postMessage({ type: 'ready', id: shard.id, threadId } satisfies FromWorker);
