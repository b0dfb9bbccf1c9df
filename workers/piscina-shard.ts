/**
 * Entry point of a shard driven as a one-thread piscina pool: the pool calls the default export
 * once per batch. The store lives in this module, so the pool must never run more than one thread
 * nor replace it silently (see src/piscina-transport.ts).
 */
import { workerData } from 'piscina';
import type { BatchReply, BatchRequest, ShardConfig } from '../src/protocol.js';
import { Shard } from './shard-core.js';

const shard = new Shard(workerData as ShardConfig);

export default function handleBatch(request: BatchRequest): BatchReply {
  return shard.handle(request);
}
