import { Op, SetMode, Status, type ScanPlan, type ScanProgress } from './protocol.js';
import type { ShardClient } from './shard-client.js';

/**
 * Keys looked at per chunk of a pass, and the most value bytes one chunk hands off. A chunk of
 * 1,000 keys costs the node about 1-2 ms and the main thread a few hundred microseconds per
 * 100 handoffs, so requests keep flowing while keys move.
 */
export const CHUNK_KEYS = 1_000;
export const CHUNK_BYTES = 1024 * 1024;

/** What GET /nodes shows while keys move. */
export interface MigrationProgress {
  /** handoff: keys move to new owners after a join or leave; refill: a restarted node is filled; purge: old copies are dropped. */
  phase: 'handoff' | 'refill' | 'purge';
  ringVersion: number;
  startedAt: string;
  /** Passes over the nodes' keys so far (a node that dies during a pass makes it run again). */
  passes: number;
  keysTotal: number;
  keysScanned: number;
  /** Copies written to their new owners. */
  keysMoved: number;
  /** Copies dropped by nodes that no longer own them. */
  keysDropped: number;
  finishedAt?: string;
}

export interface PassContext {
  /** The client of a node that can take writes now, or undefined if it is down or gone. */
  liveClient(id: string): ShardClient | undefined;
  /** Keys written since the pass began: the write reached the new owners, the older copy must not. */
  readonly dirty: ReadonlySet<string>;
  /** Changes at every flush: a chunk read before a flush is stale. */
  flushEpoch(): number;
  readonly progress: MigrationProgress;
}

/**
 * One pass: each node in `scanners` walks its keys with `plan`, one chunk at a time; an export
 * pass writes each handed-off key to its new owners before asking for the next chunk, so at most
 * one chunk per node is in flight. Rejects if a node it talks to dies.
 */
export async function runPass(scanners: readonly ShardClient[], plan: ScanPlan, context: PassContext): Promise<void> {
  context.progress.passes++;
  await Promise.all(scanners.map((scanner) => scanNode(scanner, plan, context)));
}

async function scanNode(scanner: ShardClient, plan: ScanPlan, context: PassContext): Promise<void> {
  const { progress } = context;
  const started = scanOf(await scanner.run([Op.ScanStart, plan]));
  progress.keysTotal += started.total;
  let done = started.done;
  let scanned = 0;
  while (!done) {
    const epoch = context.flushEpoch();
    const chunk = scanOf(await scanner.run([Op.ScanNext, CHUNK_KEYS, CHUNK_BYTES]));
    progress.keysScanned += chunk.scanned - scanned;
    scanned = chunk.scanned;
    progress.keysDropped += chunk.dropped;
    done = chunk.done;
    if (context.flushEpoch() !== epoch) continue;
    const writes: Array<Promise<unknown>> = [];
    for (const [key, value, ttlMs, targets] of chunk.handoffs) {
      if (context.dirty.has(key)) continue;
      for (const id of targets) {
        const target = context.liveClient(id);
        if (target === undefined) continue;
        writes.push(target.run([Op.Set, key, value, ttlMs, SetMode.Always]));
        progress.keysMoved++;
      }
    }
    await Promise.all(writes);
  }
}

function scanOf(result: Awaited<ReturnType<ShardClient['run']>>): ScanProgress {
  if (result.status !== Status.Ok || result.scan === undefined) throw new Error('a node refused a scan');
  return result.scan;
}
