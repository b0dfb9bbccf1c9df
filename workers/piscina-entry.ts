/**
 * Entry point of a node driven as a one-thread piscina pool: the pool calls the default export
 * once per batch. The store lives in this module, so the pool must never run more than one thread
 * nor replace it silently (see src/nodes/piscina-transport.ts).
 */
import { workerData } from 'piscina';
import type { BatchReply, BatchRequest, NodeConfig } from '../src/core/protocol.js';
import { NodeCore } from './node-core.js';

const node = new NodeCore(workerData as NodeConfig);

export default function handleBatch(request: BatchRequest): BatchReply {
  return node.handle(request);
}
