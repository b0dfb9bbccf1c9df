/**
 * Entry point of a node driven as a plain worker_thread: one batch in, one reply out, over the
 * worker's own port. The cluster channel is opened by {@link NodeCore}.
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import type { FromWorker, NodeConfig, ToWorker } from '../src/core/protocol.js';
import { NodeCore } from './node-core.js';

if (parentPort === null) throw new Error('workers/worker-entry.js must run as a worker thread');
const port = parentPort;
const node = new NodeCore(workerData as NodeConfig);

port.on('message', (message: ToWorker) => {
  if (message.type === 'batch') {
    port.postMessage(node.handle(message) satisfies FromWorker);
  } else if (message.type === 'ring') {
    node.onClusterEvent(message);
  }
});
// The port must not keep the thread alive on its own once the main thread lets go of it; the
// main thread ends the worker with terminate() at shutdown.
port.postMessage({ type: 'ready', id: node.id, threadId } satisfies FromWorker);
