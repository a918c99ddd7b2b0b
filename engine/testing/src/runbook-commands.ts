// The shell commands of the runbooks, as written: every inline code span and every line of a
// fenced block that runs `curl` or `kubectl`, so that a test can run them verbatim.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RunbookCommand {
  /** The runbook's file name and the line the command is on. */
  file: string;
  line: number;
  tool: 'curl' | 'kubectl';
  command: string;
}

const TOOL = /(^|[\s;|&(`$])(curl|kubectl)\s/;

function classify(text: string): RunbookCommand['tool'] | null {
  const m = TOOL.exec(text);
  if (!m) return null;
  // A kubectl pipeline that also runs curl needs the cluster first.
  return /(^|[\s;|&(`$])kubectl\s/.test(text) ? 'kubectl' : (m[2] as 'curl');
}

export function runbookCommands(dir: string): RunbookCommand[] {
  const out: RunbookCommand[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.md'))
    .sort()) {
    const lines = readFileSync(join(dir, file), 'utf8').split('\n');
    let fenced = false;
    lines.forEach((raw, i) => {
      const text = raw.trim();
      if (text.startsWith('```')) {
        fenced = !fenced;
        return;
      }
      const found = (command: string) => {
        const tool = classify(command);
        if (tool) out.push({ file, line: i + 1, tool, command });
      };
      if (fenced) {
        found(text);
        return;
      }
      for (const m of text.matchAll(/`([^`]+)`/g)) if (/^(curl|kubectl|for) /.test(m[1]!)) found(m[1]!);
    });
  }
  return out;
}
