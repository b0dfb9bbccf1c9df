import type { ResultCallback } from '../nodes/node-client.js';

/** Times one operation is sent again after the node it went to died. */
export const MAX_RETRIES = 3;

/**
 * Runs `operation`, and runs it again (routed afresh) when it fails with an error: the only errors
 * a node's callback gets are its thread's death, and the next owner may answer. After
 * {@link MAX_RETRIES} more tries the error is the answer.
 */
export function withRetries(operation: (callback: ResultCallback) => void, callback: ResultCallback): void {
  const attempt = (tries: number): void =>
    operation((error, result, node) => {
      if (error !== null && tries < MAX_RETRIES) attempt(tries + 1);
      else callback(error, result, node);
    });
  attempt(0);
}

/** A function that calls `onZero` once it has been called for `count` parts in all. */
export function countdown(count: number, onZero: () => void): (parts?: number) => void {
  let pending = count;
  return (parts = 1) => {
    pending -= parts;
    if (pending === 0) onZero();
  };
}
