import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Op, Status, type Copy, type Handoff, type Result, type ScanPlan, type ScanProgress } from '../core/protocol.js';
import type { NodeClient } from '../nodes/node-client.js';

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
  liveClient(id: string): NodeClient | undefined;
  /** Keys written since the pass began: the write reached the new owners, the older copy must not. */
  readonly dirty: ReadonlySet<string>;
  /** Changes at every flush: a chunk read before a flush is stale. */
  flushEpoch(): number;
  readonly progress: MigrationProgress;
}

/**
 * After each chunk a pass waits as long as the chunk took, so that moving keys takes at most about
 * half of the time of the threads it runs on. With two cores shared by the HTTP thread, the nodes
 * and (in the benchmark) the load generator, running flat out cut throughput during a join of
 * 100,000 keys to 0.43x of the steady state; see bench/README.md for the figures with pacing.
 */
const PACE = 1;

/**
 * One pass: each node in `scanners`, one after another, walks its keys with `plan`, a chunk at
 * a time; an export pass writes each handed-off key to its new owners before asking for the next
 * chunk. Rejects if a node it talks to dies.
 */
export async function runPass(scanners: readonly NodeClient[], plan: ScanPlan, context: PassContext): Promise<void> {
  context.progress.passes++;
  for (const scanner of scanners) await scanNode(scanner, plan, context);
}

/**
 * One node's part of a pass. Its scan starts only when its turn comes: while a node walks its keys
 * reads leave its LRU order alone, so the others keep theirs meanwhile. (Keys written after the
 * pass began are in `dirty` whenever the walk starts.) `keysTotal` grows as each node starts.
 */
async function scanNode(scanner: NodeClient, plan: ScanPlan, context: PassContext): Promise<void> {
  const { progress } = context;
  const started = scanOf(await scanner.run([Op.ScanStart, plan]));
  progress.keysTotal += started.total;
  let done = started.done;
  let scanned = 0;
  while (!done) {
    const chunkStarted = performance.now();
    const epoch = context.flushEpoch();
    const chunk = scanOf(await scanner.run([Op.ScanNext, CHUNK_KEYS, CHUNK_BYTES]));
    progress.keysScanned += chunk.scanned - scanned;
    scanned = chunk.scanned;
    progress.keysDropped += chunk.dropped;
    done = chunk.done;
    if (context.flushEpoch() !== epoch) continue;
    const writes: Array<Promise<unknown>> = [];
    for (const [id, list] of copiesByTarget(chunk.handoffs, context.dirty)) {
      const target = context.liveClient(id);
      if (target === undefined) continue;
      writes.push(target.run([Op.Restore, list]));
      progress.keysMoved += list.length;
    }
    await Promise.all(writes);
    await sleep((performance.now() - chunkStarted) * PACE);
  }
}

/**
 * A chunk's handoffs grouped by the node they go to, leaving out keys written since the pass
 * began: one Restore command per target and chunk, so the copies cross the main thread as one
 * message each.
 */
export function copiesByTarget(handoffs: readonly Handoff[], dirty: ReadonlySet<string>): Map<string, Copy[]> {
  const copies = new Map<string, Copy[]>();
  for (const [key, value, ttlMs, targets] of handoffs) {
    if (dirty.has(key)) continue;
    for (const id of targets) {
      let list = copies.get(id);
      if (list === undefined) copies.set(id, (list = []));
      list.push([key, value, ttlMs]);
    }
  }
  return copies;
}

function scanOf(result: Result): ScanProgress {
  if (result.status !== Status.Ok || result.scan === undefined) throw new Error('a node refused a scan');
  return result.scan;
}
