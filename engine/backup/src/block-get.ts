// A plain-HTTP GET whose body the kernel reads straight into large blocks (net.Socket `onread`),
// handed out as views of them, the blocks used again and again. node:http copies every body byte
// once more in its parser into fresh memory; on this project's machines first touching fresh
// memory (page faults) cost more than everything else `veloz backup` does (ADR 0027).
import { connect } from 'node:net';

export class BlockGetError extends Error {}

export interface BlockResponse {
  status: number;
  /** Names in lower case. */
  headers: Map<string, string>;
  /**
   * The body, as views of the blocks it was read into (about one per block). A view stays valid
   * until the one after the next is asked for: then its block may be read into again. The
   * consumer may so write one view while it checks the next (ADR 0027).
   */
  body: AsyncIterable<Buffer>;
  /** Closes the connection; the body ends with an error if it was not read to its end. */
  destroy(): void;
}

export interface BlockGetOptions {
  headers?: Record<string, string>;
  /** Fail when the server sends nothing for this long, with `idleError()`. */
  idleMs: number;
  idleError: () => Error;
  /** Bytes per block (the server's bytes are handed out a block at a time). */
  block: number;
}

/** Blocks read but not yet taken by the consumer before the socket stops reading. */
const QUEUED_BLOCKS = 8;
/** Blocks of the views handed out last that are not read into again (see `body`). */
const LENT_BLOCKS = 2;
/** A response head larger than this is not one this client expects. */
const MAX_HEAD = 64 * 1024;

type Framing =
  | { kind: 'length'; left: number }
  | { kind: 'eof' }
  | { kind: 'chunked'; state: 'size' | 'data' | 'crlf' | 'trailer'; line: string; left: number };

const CR_LF_CR_LF = Buffer.from('\r\n\r\n');

/** GET `url` (http: only) and resolve once the response head is in. */
export function getInBlocks(url: URL, opts: BlockGetOptions): Promise<BlockResponse> {
  if (url.protocol !== 'http:') throw new BlockGetError(`getInBlocks: ${url.protocol} is not plain HTTP`);
  return new Promise((resolve, reject) => {
    // The response head must fit in the first block.
    let block: Buffer = Buffer.allocUnsafeSlow(Math.max(opts.block, MAX_HEAD));
    let fill = 0;
    /** Body ranges of the current block not handed out yet, [start, end) pairs. */
    let ranges: number[] = [];
    /** Views ready for the consumer, each with the block it is a view of. */
    const queue: Array<{ view: Buffer; block: Buffer }> = [];
    /** Blocks the consumer is done with. */
    const free: Buffer[] = [];
    let framing: Framing | null = null;
    let done = false;
    let failure: Error | null = null;
    let wake: (() => void) | null = null;
    let paused = false;
    let settled = false;

    const notify = (): void => {
      const w = wake;
      wake = null;
      w?.();
    };
    const fail = (err: Error): void => {
      if (done || failure) return;
      failure = err;
      if (!settled) {
        settled = true;
        reject(err);
      }
      socket.destroy();
      notify();
    };
    const range = (start: number, end: number): void => {
      if (end <= start) return;
      if (ranges.length > 0 && ranges[ranges.length - 1] === start) ranges[ranges.length - 1] = end;
      else ranges.push(start, end);
    };
    const flush = (): void => {
      for (let i = 0; i < ranges.length; i += 2) {
        queue.push({ view: block.subarray(ranges[i], ranges[i + 1]), block });
      }
      ranges = [];
    };
    const finish = (): void => {
      done = true;
      flush();
      socket.destroy();
      notify();
    };

    /** Takes the body bytes of block[from, fill) as the framing says; false once the body ended. */
    const body = (from: number): void => {
      const f = framing!;
      if (f.kind === 'eof') return range(from, fill);
      if (f.kind === 'length') {
        const take = Math.min(f.left, fill - from);
        range(from, from + take);
        f.left -= take;
        if (f.left === 0) finish();
        return;
      }
      let i = from;
      while (i < fill && !done) {
        if (f.state === 'data') {
          const take = Math.min(f.left, fill - i);
          range(i, i + take);
          i += take;
          f.left -= take;
          if (f.left === 0) f.state = 'crlf';
          continue;
        }
        const c = block[i++]!;
        if (c !== 0x0a) {
          if (f.state !== 'crlf' && c !== 0x0d) f.line += String.fromCharCode(c);
          if (f.line.length > 4096) return fail(new BlockGetError('malformed chunked response'));
          continue;
        }
        const line = f.line;
        f.line = '';
        if (f.state === 'crlf') f.state = 'size';
        else if (f.state === 'trailer') {
          if (line === '') finish();
        } else {
          const size = parseInt(line.split(';')[0]!.trim(), 16);
          if (!Number.isSafeInteger(size) || size < 0) {
            return fail(new BlockGetError(`malformed chunk size "${line}" in the response`));
          }
          f.left = size;
          f.state = size === 0 ? 'trailer' : 'data';
        }
      }
    };

    const head = (): void => {
      const end = block.subarray(0, fill).indexOf(CR_LF_CR_LF);
      if (end < 0) {
        if (fill >= MAX_HEAD) fail(new BlockGetError('response head too large'));
        return;
      }
      const lines = block.toString('latin1', 0, end).split('\r\n');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
      if (!status) return fail(new BlockGetError(`not an HTTP response: ${lines[0]}`));
      const headers = new Map<string, string>();
      for (const l of lines.slice(1)) {
        const colon = l.indexOf(':');
        if (colon > 0) headers.set(l.slice(0, colon).trim().toLowerCase(), l.slice(colon + 1).trim());
      }
      const length = headers.get('content-length');
      if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) {
        framing = { kind: 'chunked', state: 'size', line: '', left: 0 };
      } else if (length !== undefined) {
        const n = Number(length);
        if (!Number.isSafeInteger(n) || n < 0) return fail(new BlockGetError(`bad content-length ${length}`));
        framing = { kind: 'length', left: n };
      } else framing = { kind: 'eof' };
      settled = true;
      resolve({
        status: Number(status[1]),
        headers,
        body: drain(),
        destroy: () => {
          if (!done) fail(new BlockGetError('the response was closed before its end'));
        },
      });
      if (framing.kind === 'length' && framing.left === 0) return finish();
      body(end + CR_LF_CR_LF.length);
    };

    async function* drain(): AsyncGenerator<Buffer> {
      /** The blocks of the views handed out last, oldest first (a block's views are adjacent). */
      const lent: Buffer[] = [];
      for (;;) {
        const b = queue.shift();
        if (b !== undefined) {
          if (paused && queue.length < QUEUED_BLOCKS / 2) {
            paused = false;
            socket.resume();
          }
          if (lent.at(-1) !== b.block) {
            lent.push(b.block);
            // The consumer asks for a view of a third block: the oldest is free again. The first
            // block, larger when a block is smaller than a response head, is not kept.
            const old = lent.length > LENT_BLOCKS ? lent.shift()! : null;
            if (old !== null && old.length === opts.block) free.push(old);
          }
          yield b.view;
          continue;
        }
        if (failure) throw failure;
        if (done) return;
        await new Promise<void>((r) => (wake = r));
      }
    }

    const socket = connect({
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(url.port || 80),
      onread: {
        // The rest of the current block, or a new one: the kernel writes where the bytes stay.
        buffer: () => {
          if (fill === block.length) {
            block = free.pop() ?? Buffer.allocUnsafeSlow(opts.block);
            fill = 0;
          }
          return block.subarray(fill);
        },
        callback: (n: number): boolean => {
          if (done || failure) return false;
          const from = fill;
          fill += n;
          if (framing === null) head();
          else body(from);
          if (fill === block.length && !done) {
            flush();
            notify();
          }
          if (queue.length >= QUEUED_BLOCKS) paused = true;
          return !paused;
        },
      },
    });
    socket.setTimeout(opts.idleMs, () => fail(opts.idleError()));
    socket.on('error', (err) => fail(err));
    socket.on('end', () => {
      if (framing?.kind === 'eof') return finish();
      fail(new BlockGetError('the server closed the connection before the end of the response'));
    });
    socket.on('close', () => {
      if (!done) fail(new BlockGetError('the connection closed before the end of the response'));
    });
    const extra = Object.entries(opts.headers ?? {})
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.write(
      `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n${extra}\r\n`,
    );
  });
}
