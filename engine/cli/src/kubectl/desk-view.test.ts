import { describe, expect, it } from 'vitest';
import { inPlace } from './desk-view.ts';

/** What a terminal shows after writing `out` onto `screen` (home, clear-to-end-of-line, clear-below). */
function terminal(screen: string[], out: string): string[] {
  const rows = [...screen];
  let row = 0;
  let col = 0;
  for (let i = 0; i < out.length; i++) {
    const ch = out[i]!;
    if (ch === '\u001b') {
      // Only the three sequences inPlace writes: ESC [ H, ESC [ K, ESC [ J.
      const code = out[i + 2];
      i += 2;
      if (code === 'H') [row, col] = [0, 0];
      else if (code === 'K') rows[row] = (rows[row] ?? '').slice(0, col);
      else if (code === 'J') rows.length = row + (col > 0 ? 1 : 0);
      else throw new Error(`unexpected escape sequence ESC [ ${code}`);
    } else if (ch === '\n') [row, col] = [row + 1, 0];
    else {
      const line = (rows[row] ?? '').padEnd(col);
      rows[row] = line.slice(0, col) + ch + line.slice(col + 1);
      col++;
    }
  }
  return rows;
}

describe('inPlace', () => {
  it('replaces the last screen, shorter lines and fewer lines included, without clearing it first', () => {
    const first = terminal([], inPlace('pairs: 3 ready\nopen orders: 12\nlast line\n'));
    expect(first).toEqual(['pairs: 3 ready', 'open orders: 12', 'last line']);
    const second = terminal(first, inPlace('pairs: 2\nopen: 1'));
    expect(second).toEqual(['pairs: 2', 'open: 1']);
    // Clearing the whole screen (2J) pushes it into the scrollback of many terminals.
    expect(inPlace('x')).not.toContain('\u001b[2J');
  });
});
