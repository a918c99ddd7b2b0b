import { describe, expect, it } from 'vitest';
import { inPlace } from './desk-view.ts';

/** What a terminal shows after writing `out` onto `screen` (home, clear-to-end-of-line, clear-below). */
function terminal(screen: string[], out: string): string[] {
  const rows = [...screen];
  let row = 0;
  let col = 0;
  const ESC = String.fromCharCode(27);
  for (const part of out.split(new RegExp(`(${ESC}\\[[HKJ]|\n)`))) {
    if (part === '\u001b[H') [row, col] = [0, 0];
    else if (part === '\u001b[K') rows[row] = (rows[row] ?? '').slice(0, col);
    else if (part === '\u001b[J') rows.length = row;
    else if (part === '\n') [row, col] = [row + 1, 0];
    else if (part) {
      const line = (rows[row] ?? '').padEnd(col);
      rows[row] = line.slice(0, col) + part + line.slice(col + part.length);
      col += part.length;
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
