/** Times one operation is sent again after the node it went to died. */
export const MAX_RETRIES = 3;

/** A function that calls `onZero` once it has been called for `count` parts in all. */
export function countdown(count: number, onZero: () => void): (parts?: number) => void {
  let pending = count;
  return (parts = 1) => {
    pending -= parts;
    if (pending === 0) onZero();
  };
}
