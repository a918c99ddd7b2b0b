// The command surface without a cluster: --help on every command, usage errors with exit 2 and
// the command named, completion scripts. Errors that need an API server are in
// test-e2e/kubectl-plugin.test.ts; the commands on real engines in test-e2e/system/.
import { describe, expect, it } from 'vitest';
import { KubeClient } from '@veloz/operator/kube/client';
import { kubectlCommand, mainHelp, splitCommand } from './command.ts';

const COMMANDS = [
  'status',
  'orders',
  'halt',
  'resume',
  'api-key',
  'backup',
  'restore',
  'port-forward',
  'logs',
  'strategies',
  'completion',
];

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const client = new KubeClient({
    server: new URL('http://127.0.0.1:1'),
    tls: {},
    authorize: async () => {},
  });
  try {
    const code = await kubectlCommand(argv, {
      out: { write: (s: string) => (out += s) },
      err: { write: (s: string) => (err += s) },
      connect: () => ({ client }),
    });
    return { code, out, err };
  } finally {
    client.close();
  }
}

describe('kubectl veloz', () => {
  it('lists every command in its help', async () => {
    const r = await run('--help');
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.out).toMatch(new RegExp(`^  ${c}\\s`, 'm'));
    expect(mainHelp('veloz kubectl')).toContain('Usage: veloz kubectl <command>');
    expect((await run()).code).toBe(2);
  });

  it.each(COMMANDS)('%s --help prints its usage and the global options', async (c) => {
    const r = await run(c, '--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`Usage: kubectl veloz ${c}`);
    expect(r.out).toContain('--context NAME');
  });

  it.each([
    [['nope'], 'unknown command "nope"'],
    [['orders'], 'orders: DESK is required'],
    [['status', 'a', 'b'], 'status: unexpected arguments: b'],
    [['status', 'a', '--bogus'], "status: Unknown option '--bogus'"],
    [['status', 'a', '-o', 'xml'], 'status: -o xml: expected json or yaml'],
    [['status', 'a', '--color', 'pink'], 'status: --color pink: expected auto, always or never'],
    [['restore', 'a'], 'restore: --to NEW is required'],
    [['completion', 'fish'], 'completion: completion fish: expected bash or zsh'],
  ])('%j is a usage error (exit 2) naming what is wrong', async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
  });

  it('takes the global options before the command too, as kubectl users write them', async () => {
    const r = await run('-n', 'trading', '--context=x', 'completion', 'bash');
    expect(r.code).toBe(0);
    expect((await run('-n', 'trading', 'orders')).err).toContain('orders: DESK is required');
    expect(splitCommand(['--kubeconfig', 'k', '-n', 'ns', 'status', 'desk', '-o', 'json'])).toEqual({
      name: 'status',
      rest: ['--kubeconfig', 'k', '-n', 'ns', 'desk', '-o', 'json'],
    });
    expect(splitCommand(['-n', 'ns'])).toEqual({ name: undefined, rest: ['-n', 'ns'] });
  });

  it('prints completion scripts that offer every command', async () => {
    for (const shell of ['bash', 'zsh']) {
      const r = await run('completion', shell);
      expect(r.code).toBe(0);
      for (const c of COMMANDS) expect(r.out).toContain(c);
    }
  });
});
