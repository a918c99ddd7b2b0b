// What the containers of engines, gateways, restore and backup jobs share: the restricted security
// context, the probes, the scratch mount and the ways environment variables are filled in.
import * as k8s from 'cdk8s-plus-27/lib/imports/k8s.js';
import type { BackupS3 } from '@veloz/api/generated/types';
import { RUN_AS } from '@veloz/api/names';
import type { Desk, RenderContext } from './context.ts';

export const containerSecurity: k8s.SecurityContext = {
  allowPrivilegeEscalation: false,
  privileged: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: RUN_AS,
  runAsGroup: RUN_AS,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

export const tmpMount: k8s.VolumeMount = { name: 'tmp', mountPath: '/tmp' };

/** No container sets a command: the image's entrypoint (tini -- node veloz.js) runs the args. */
export function image(d: Desk, ctx: RenderContext): Pick<k8s.Container, 'image' | 'imagePullPolicy'> {
  return { image: d.spec.image ?? ctx.defaultImage, imagePullPolicy: d.spec.imagePullPolicy };
}

const httpProbe =
  (scheme: 'HTTP' | 'HTTPS') =>
  (path: string, extra: Omit<k8s.Probe, 'httpGet'>): k8s.Probe => ({
    httpGet: { path, port: k8s.IntOrString.fromString(scheme.toLowerCase()), scheme },
    timeoutSeconds: 2,
    ...extra,
  });

// Seeds: liveness /health after 10s every 5s, readiness every 3s; /ready instead of /health for
// readiness, and a startup probe long enough for a large WAL replay (up to 5 minutes). On the
// port named `http`, or `https` for a gateway serving TLS (the kubelet does not verify it).
function probesFor(scheme: 'HTTP' | 'HTTPS') {
  const probe = httpProbe(scheme);
  return {
    startupProbe: probe('/health', { periodSeconds: 2, failureThreshold: 150 }),
    livenessProbe: probe('/health', { initialDelaySeconds: 10, periodSeconds: 5, failureThreshold: 3 }),
    readinessProbe: probe('/ready', { initialDelaySeconds: 5, periodSeconds: 3, failureThreshold: 2 }),
  };
}

export const probes = probesFor('HTTP');
export const httpsProbes = probesFor('HTTPS');

export const secretEnv = (name: string, secret: string, key: string): k8s.EnvVar => ({
  name,
  valueFrom: { secretKeyRef: { name: secret, key } },
});

/** The pair index of a StatefulSet pod, from the label the StatefulSet controller sets. */
export function podIndexEnv(): k8s.EnvVar {
  return {
    name: 'POD_INDEX',
    valueFrom: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } },
  };
}

/**
 * What `veloz backup` and `veloz restore` read for an s3:// location (the SDK's own variables),
 * so the backup CronJob and the restore init container reach the bucket the same way.
 */
export function s3Env(s3: BackupS3 | undefined): k8s.EnvVar[] {
  const env: k8s.EnvVar[] = [];
  if (s3?.region) env.push({ name: 'AWS_REGION', value: s3.region });
  if (s3?.endpoint) env.push({ name: 'AWS_ENDPOINT_URL_S3', value: s3.endpoint });
  if (s3?.credentialsSecretRef) {
    const c = s3.credentialsSecretRef;
    env.push(
      secretEnv('AWS_ACCESS_KEY_ID', c.name, c.accessKeyIdKey),
      secretEnv('AWS_SECRET_ACCESS_KEY', c.name, c.secretAccessKeyKey),
    );
  }
  return env;
}
