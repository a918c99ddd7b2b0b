// The Node.js flags of the engine container (NODE_OPTIONS), in one place: the render sets them,
// and `npm run bench:wal` replays under the same flags, so that it measures the shipped engine.

/**
 * V8 flags every engine runs with, whatever its memory budget. Empty: the defaults of Node.js.
 */
export const ENGINE_V8_FLAGS: readonly string[] = [];

/** NODE_OPTIONS of an engine whose JavaScript heap may grow to `heapMiB` MiB. */
export function engineNodeOptions(heapMiB: number): string {
  return [`--max-old-space-size=${heapMiB}`, ...ENGINE_V8_FLAGS].join(' ');
}
