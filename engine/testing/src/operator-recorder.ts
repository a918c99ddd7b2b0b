// For tests of the operator's watch wiring: a reconciler that only records the keys it is handed,
// and a bounded wait for what the informers deliver asynchronously.

/** A reconciler (operator/src/runtime/controller.ts `Reconciler`) that records its keys. */
export class RecordingReconciler {
  readonly kind: string;
  keys: string[] = [];
  constructor(kind: string) {
    this.kind = kind;
  }
  async reconcile(key: string): Promise<void> {
    this.keys.push(key);
  }
}

/** Waits up to 2 s for `ok()`, failing with `what`. */
export async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!ok()) throw new Error(`timed out waiting for ${what}`);
}
