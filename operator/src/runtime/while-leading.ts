// Runs the work that only the leader may do (the controllers, the WAL status reads) while this
// replica leads and its caches have synced, and stops it when leadership is lost. Transitions run
// one after another, so a quick loss and regain never starts the work twice or stops it halfway.
// A transition that fails leaves the replica in an unknown state (perhaps reconciling without the
// lease): it goes to onFatal, and the process must end.
import type { Logger } from 'pino';

export interface Runnable {
  start(): void;
  /** Resolves once the work has stopped (passes in flight included). */
  stop(): Promise<void>;
}

export interface WhileLeadingOptions {
  work: Runnable;
  /** Resolves once the caches have synced: reconciling from a partial picture would prune what it has not seen yet. */
  synced: () => Promise<void>;
  log: Logger;
  onFatal: (err: unknown) => void;
}

export class WhileLeading {
  private readonly o: WhileLeadingOptions;
  private leading = false;
  private running = false;
  private stopped = false;
  private transitions: Promise<void> = Promise.resolve();

  constructor(o: WhileLeadingOptions) {
    this.o = o;
  }

  /** This replica became the leader: the work starts once the caches have synced. */
  lead(): void {
    if (this.stopped) return;
    this.leading = true;
    this.then(async () => {
      await this.o.synced();
      if (!this.leading || this.running || this.stopped) return;
      this.o.work.start();
      this.running = true;
      this.o.log.info('reconciling: this replica leads');
    });
  }

  /** Leadership is lost: the work stops. */
  follow(): void {
    this.leading = false;
    this.then(() => this.halt('stopped reconciling: this replica no longer leads'));
  }

  /** Shutdown: the work stops (a failure to stop rejects), and leadership changes are ignored from now on. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.leading = false;
    const halted = this.transitions.then(() => this.halt('stopped reconciling: shutting down'));
    this.transitions = halted.catch(() => undefined);
    await halted;
  }

  private async halt(why: string): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.o.work.stop();
    this.o.log.info(why);
  }

  private then(step: () => Promise<void>): void {
    this.transitions = this.transitions.then(step).catch((err: unknown) => this.o.onFatal(err));
  }
}
