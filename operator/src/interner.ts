// One copy of each repeated value the caches keep. JSON.parse makes a new string for every value
// longer than a few characters, so the namespace, the desk's name in its children's names, labels
// and owner references, and the owner references themselves were stored once per object: at
// thousands of desks, each with a dozen children, the copies are a large part of the caches.
//
// The tables forget everything once they hold `limit` entries, so the values of objects deleted
// long ago do not stay forever; objects cached before then keep their copies (memory, not meaning).

export class Interner {
  private readonly strings = new Map<string, string>();
  /** Records and lists by their JSON. */
  private readonly shapes = new Map<string, object>();
  private readonly limit: number;

  constructor(limit = 100_000) {
    this.limit = limit;
  }

  get size(): number {
    return this.strings.size + this.shapes.size;
  }

  string(s: string): string;
  string(s: string | undefined): string | undefined;
  string(s: string | undefined): string | undefined {
    if (s === undefined) return undefined;
    const hit = this.strings.get(s);
    if (hit !== undefined) return hit;
    this.room();
    this.strings.set(s, s);
    return s;
  }

  /** Labels and the like, shared; frozen, since a change through one holder would show in all. */
  record(r: Record<string, string>): Readonly<Record<string, string>>;
  record(r: Record<string, string> | undefined): Readonly<Record<string, string>> | undefined;
  record(r: Record<string, string> | undefined): Readonly<Record<string, string>> | undefined {
    if (r === undefined) return undefined;
    return this.shape(`r${JSON.stringify(r)}`, () => {
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(r)) out[k] = this.string(v);
      return out;
    });
  }

  /** A list of flat JSON objects (owner references), shared and frozen like records. */
  list<T extends object>(l: readonly T[]): readonly T[];
  list<T extends object>(l: readonly T[] | undefined): readonly T[] | undefined;
  list<T extends object>(l: readonly T[] | undefined): readonly T[] | undefined {
    if (l === undefined) return undefined;
    return this.shape(`l${JSON.stringify(l)}`, () => l.map((o) => Object.freeze(this.copy(o))));
  }

  /** A copy of `o` whose string values are interned (other values are kept as they are). */
  private copy<T extends object>(o: T): T {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = typeof v === 'string' ? this.string(v) : v;
    return out as T;
  }

  private shape<V extends object>(key: string, make: () => V): Readonly<V> {
    const hit = this.shapes.get(key);
    if (hit !== undefined) return hit as V;
    const v = Object.freeze(make());
    this.room();
    this.shapes.set(key, v);
    return v;
  }

  private room(): void {
    if (this.size < this.limit) return;
    this.strings.clear();
    this.shapes.clear();
  }
}
