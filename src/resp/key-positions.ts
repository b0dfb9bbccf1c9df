/** Where a command's keys are among its arguments (its name at 0), as COMMAND INFO says: first, last (-1 = the end), step. */
export type KeyPositions = readonly [first: number, last: number, step: number];

/** The indexes of a command's `count` arguments that are keys by `positions` (COMMAND GETKEYS, the keys an EXEC locks). */
export function keyIndexes([first, last, step]: KeyPositions, count: number): number[] {
  const end = last < 0 ? count + last : last;
  const indexes: number[] = [];
  for (let i = first; i <= end && i < count; i += step) indexes.push(i);
  return indexes;
}
