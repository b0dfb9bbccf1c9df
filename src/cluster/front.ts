import type { Command } from '../core/protocol.js';
import type { ResultCallback } from '../nodes/node-client.js';

/**
 * What answers the front ends' commands in place of the nodes alone: with --backend, the near
 * cache (src/backend/near-cache.ts), which keeps its local copies through the data path's local dispatch.
 */
export interface Front {
  dispatch(key: string, command: Command, callback: ResultCallback): void;
  /** Whether local copies may be answered from, shared memory included. */
  readonly serving: boolean;
}
