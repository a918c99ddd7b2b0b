// Runs `veloz operator` built from this repository as a child process against the suite's
// kubeconfig, and reads what users would: its metrics endpoint and its JSON log.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { VELOZ_BIN } from './engine-process.ts';

export interface OperatorOptions {
  kubeconfig: string;
  namespaces?: string[];
  leaderElect?: boolean;
  leaseNamespace?: string;
  identity?: string;
  args?: string[];
  /** Extra environment (e.g. the chart's NODE_OPTIONS). */
  env?: Record<string, string>;
  /** The `veloz` CLI to run: the sources by default, or the stripped tree (shipped.ts). */
  bin?: string;
}

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

/** Error lines that are expected while the world is being changed under the operator. */
const EXPECTED_ERRORS = [/reconcile failed; will retry/, /watch failed; restarting/, /lease update failed/];

export class OperatorProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  port = 0;
  private readonly ready: Promise<void>;

  constructor(o: OperatorOptions) {
    const args = [
      o.bin ?? VELOZ_BIN,
      'operator',
      '--kubeconfig',
      o.kubeconfig,
      '--metrics-port',
      '0',
      '--metrics-host',
      '127.0.0.1',
    ];
    if (o.namespaces) args.push('--namespaces', o.namespaces.join(','));
    if (o.leaderElect) args.push('--leader-elect', '--lease-namespace', o.leaseNamespace ?? 'default');
    args.push(...(o.args ?? []));
    this.child = spawn(process.execPath, args, {
      env: {
        ...process.env,
        POD_NAME: o.identity ?? `e2e-${process.pid}`,
        VELOZ_LOG_LEVEL: 'info',
        ...o.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    this.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    this.ready = new Promise((resolve, reject) => {
      createInterface({ input: this.child.stdout! }).on('line', (raw) => {
        try {
          const l = JSON.parse(raw) as LogLine;
          this.lines.push(l);
          if (l.msg === 'operator started') {
            this.port = Number(l['port']);
            resolve();
          }
        } catch {
          this.lines.push({ level: 60, msg: `non-JSON output: ${raw}` });
        }
      });
      this.child.on('exit', (code) => reject(new Error(`operator exited with ${code}: ${stderr}`)));
    });
  }

  static async start(o: OperatorOptions): Promise<OperatorProcess> {
    const p = new OperatorProcess(o);
    await p.ready;
    return p;
  }

  async metrics(): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.port}/metrics`);
    return res.text();
  }

  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    let sum = 0;
    for (const line of (await this.metrics()).split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
        sum += Number(line.split(' ').at(-1));
    }
    return sum;
  }

  /**
   * Write requests the operator made (every verb that changes something), from its metrics. A
   * SelfSubjectAccessReview is POSTed but only asks a question the API server never stores
   * (`kubectl auth can-i`), so it is not a write: every replica asks at start, leader or not.
   */
  async writes(): Promise<number> {
    let n = 0;
    for (const verb of ['apply', 'patch', 'create', 'update', 'delete'])
      n += await this.metric('veloz_operator_api_requests_total', { verb });
    return n - (await this.metric('veloz_operator_api_requests_total', { kind: 'SelfSubjectAccessReview' }));
  }

  unexpectedErrors(): LogLine[] {
    return this.lines.filter((l) => l.level >= 50 && !EXPECTED_ERRORS.some((re) => re.test(l.msg)));
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = once(this.child, 'exit');
    this.child.kill(signal);
    const [code] = (await exited) as [number | null];
    return code;
  }
}
