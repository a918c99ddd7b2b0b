// npm run synth -- FILE.yaml [--api-key KEY] [--no-monitoring] [--image IMAGE] [--namespace NS]
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { DEFAULT_IMAGE } from '@veloz/api/image';
import { SynthError, synth } from './synth.ts';

const USAGE = `Usage: npm run synth -- FILE.yaml [options]

Prints the Kubernetes objects the operator would create for each VelozDeployment in FILE.yaml,
as multi-document YAML (kubectl apply -f - takes it).

Options:
  --api-key KEY      value of the generated gateway API key Secret (default: a marked placeholder)
  --no-monitoring    leave out ServiceMonitor and PrometheusRule (assumed served otherwise)
  --image IMAGE      image when spec.image is absent (default: ${DEFAULT_IMAGE}, the operator's)
  --namespace NS     namespace of the rendered objects
  -h, --help         this help`;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'api-key': { type: 'string' },
        'no-monitoring': { type: 'boolean', default: false },
        image: { type: 'string', default: DEFAULT_IMAGE },
        namespace: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const file = positionals[0]!;
  try {
    const text = await readFile(file, 'utf8');
    process.stdout.write(
      synth(text, {
        source: file,
        apiKey: values['api-key'],
        monitoringApiServed: !values['no-monitoring'],
        image: values.image,
        namespace: values.namespace,
      }),
    );
    return 0;
  } catch (err) {
    if (err instanceof SynthError || (err as NodeJS.ErrnoException).code === 'ENOENT') {
      process.stderr.write(`synth: ${(err as Error).message}\n`);
      return 1;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv.slice(2));
