// The Binance venue with fills by stream: the user data stream (user-stream.ts) reports order
// changes as they happen, and the venue's poller backs it up (every poll interval while the
// stream is down, now and then while it is up). The stream starts once the venue has recovered
// from the WAL, so every event meets the orders it names.
import { BinanceVenue, type BinanceVenueOptions } from './binance-venue.ts';
import { BinanceUserStream, type UserStreamOptions } from './user-stream.ts';

export type StreamSettings = Omit<UserStreamOptions, 'onReport' | 'onResumed' | 'registry' | 'log'>;

export class StreamingBinanceVenue extends BinanceVenue {
  private readonly stream: BinanceUserStream;

  constructor(opts: BinanceVenueOptions, settings: StreamSettings) {
    // The venue asks the stream whether it is live, and the stream reports to the venue.
    const late: { stream?: BinanceUserStream } = {};
    super({ ...opts, streamLive: () => late.stream?.live ?? false });
    this.stream = late.stream = new BinanceUserStream({
      ...settings,
      log: opts.host.log,
      registry: opts.host.metrics.registry,
      onReport: (r) => this.report(r.order, r.trades, 'stream', r.priorQty),
      onResumed: () => this.pollNow(),
    });
  }

  /** True while the user data stream delivers order changes. */
  get streaming(): boolean {
    return this.stream.live;
  }

  override async recover(): Promise<void> {
    await super.recover();
    this.stream.start();
  }

  override async close(): Promise<void> {
    await this.stream.close();
    await super.close();
  }
}
