// The VelozDeployment API (DESIGN §3): the one definition the CRD YAML, the TypeScript types and
// docs/api-reference.md are generated from.
import {
  bool,
  conditions,
  decimal,
  int,
  intOrStringQuantity,
  list,
  named,
  obj,
  objectName,
  quantity,
  secretKey,
  str,
  stringMap,
  DNS_SUBDOMAIN_PATTERN,
} from './schema.ts';
import type { Schema } from './schema.ts';
import { BINANCE_DEFAULT_URLS, BINANCE_HOST_PATTERNS } from '../binance-hosts.ts';
import { RUNBOOK_BASE_URL_PATTERN } from '../runbooks.ts';
import { CRON_RULE } from './cron.ts';
import { maintenance } from './maintenance.ts';

export const SYMBOL_RULE = "self.matches('^[A-Z0-9]{2,20}$')";
export const SYMBOL_MESSAGE = 'must be 2-20 upper-case letters or digits, such as BTCUSDT';

export { CRON_RULE } from './cron.ts';

const DURATION_PATTERN = '^([0-9]+(ms|s|m|h))+$';

function resources(component: string, dflt: Record<string, Record<string, string>>): Schema {
  const amounts = (what: string) =>
    named(
      'ResourceAmounts',
      obj(`Amounts of CPU and memory ${what}.`, {
        cpu: intOrStringQuantity('CPU, in cores (`1`, `500m`).'),
        memory: intOrStringQuantity('Memory, in bytes (`512Mi`, `1Gi`).'),
        'ephemeral-storage': intOrStringQuantity('Local ephemeral storage (`/tmp`), in bytes.'),
      }),
    );
  return named(
    'ResourceRequirements',
    obj(
      `CPU and memory of the ${component} container. Setting this replaces the whole default.`,
      { requests: amounts('reserved for the container'), limits: amounts('the container may use at most') },
      { default: dflt },
    ),
  );
}

const secretRef = (description: string, keyDescription: string, key: string) =>
  named(
    'SecretKeyRef',
    obj(
      description,
      {
        name: objectName('Name of the Secret in the namespace of the VelozDeployment.'),
        key: secretKey(keyDescription, key),
      },
      { required: ['name'] },
    ),
  );

const market = named(
  'MarketSpec',
  obj(
    'Where market data comes from and which symbols are traded.',
    {
      source: str('Market data source: the seeded simulator, Binance REST polling or Binance WebSocket.', {
        enum: ['sim', 'binance_rest', 'binance_ws'],
        default: 'sim',
      }),
      symbols: list(
        'Symbols traded by every engine; the first one is the default symbol (`VELOZ_MARKET_SYMBOL`).',
        str(`A trading symbol; ${SYMBOL_MESSAGE}.`, {
          maxLength: 20,
          'x-kubernetes-validations': [{ rule: SYMBOL_RULE, message: `symbol ${SYMBOL_MESSAGE}` }],
        }),
        { minItems: 1, maxItems: 50, default: ['BTCUSDT'], 'x-kubernetes-list-type': 'set' },
      ),
      binanceBaseUrl: str(
        `Binance REST API base URL for market data. Defaults to ${BINANCE_DEFAULT_URLS.testnet.rest} when execution.mode is binance_testnet_spot, else to ${BINANCE_DEFAULT_URLS.live.rest}; a host of the other environment is refused.`,
        { pattern: '^https?://[^\\s]+$', maxLength: 2048 },
      ),
      binanceWsBaseUrl: str(
        `Binance WebSocket base URL for market data streams. Defaults to ${BINANCE_DEFAULT_URLS.testnet.ws} when execution.mode is binance_testnet_spot, else to ${BINANCE_DEFAULT_URLS.live.ws}; a host of the other environment is refused.`,
        { pattern: '^wss?://[^\\s]+$', maxLength: 2048 },
      ),
      wsReconnectDelayMs: int('Delay before reconnecting a dropped market data WebSocket, in milliseconds.', {
        minimum: 100,
        maximum: 600000,
        default: 5000,
      }),
      sim: named(
        'SimMarketSpec',
        obj(
          'Settings of the simulated market (source `sim`, and `sim_engine` matching).',
          {
            seed: int('Seed of the simulated market: the same seed gives the same prices.', {
              minimum: 0,
              maximum: 4294967295,
              format: 'int64',
              default: 42,
            }),
            tickMs: int('Interval between simulated market updates, in milliseconds.', {
              minimum: 1,
              maximum: 60000,
              default: 250,
            }),
          },
          { default: {} },
        ),
      ),
    },
    { default: {} },
  ),
);

const execution = named(
  'ExecutionSpec',
  obj(
    'Where orders are executed and with which credentials.',
    {
      mode: str(
        'Execution venue: the simulated matching engine, the Binance Spot testnet, or live Binance Spot (real money).',
        { enum: ['sim_engine', 'binance_testnet_spot', 'binance_spot'], default: 'sim_engine' },
      ),
      acknowledgeLiveTrading: bool(
        'Must be true when mode is binance_spot: trading with real funds is never enabled by accident.',
        { default: false },
      ),
      exchangeCidrs: list(
        'Where the engines may connect to reach the exchange (NetworkPolicy X-engine egress, TCP 443 and 9443), as CIDRs; absent: any address. Only in the Binance modes or with Binance market data.',
        str('An IPv4 or IPv6 CIDR such as 203.0.113.0/24.', {
          maxLength: 64,
          pattern: '^([0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}|[0-9a-fA-F:]+/[0-9]{1,3})$',
        }),
        { maxItems: 64, 'x-kubernetes-list-type': 'set' },
      ),
      credentialsSecretRef: named(
        'CredentialsSecretRef',
        obj(
          'Secret holding the Binance API key and secret; required unless mode is sim_engine. Its values reach the engine only as files of the mounted Secret.',
          {
            name: objectName('Name of the Secret in the namespace of the VelozDeployment.'),
            apiKeyKey: secretKey('Key of the API key in the Secret.', 'apiKey'),
            apiSecretKey: secretKey('Key of the API secret in the Secret.', 'apiSecret'),
          },
          { required: ['name'] },
        ),
      ),
      accountShare: str(
        'Share group of the exchange account. One desk holds an account (the operator keeps one Lease per account, named by a keyed hash of the API key); another desk on the same account gets no pods and the condition AccountConflict, unless both name the same share group here. The desks of a group split one risk budget: the smallest of their risk limits and order rates, divided evenly across all their pairs (docs/adr/0017-one-desk-per-account.md).',
        { minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
      ),
      orderRateLimit: int(
        "Maximum new orders per second of the whole desk (account-wide): each engine's token bucket gets an even share, rounded down (see accountShare for desks sharing an account).",
        {
          minimum: 1,
          maximum: 1000000,
          default: 10,
        },
      ),
      reconcileIntervalMs: int(
        "Milliseconds between two reconciliations of each engine's WAL with the exchange (open orders, recent trades, balances); 0 reconciles only at start. What cannot be repaired halts the pair's new orders and sets ExchangeInSync False (VELOZ_RECONCILE_INTERVAL).",
        { minimum: 0, maximum: 3600000, default: 30000 },
      ),
      tradeBaseUrl: str(
        `Binance trading API base URL. Defaults to ${BINANCE_DEFAULT_URLS.testnet.trade} for binance_testnet_spot and to ${BINANCE_DEFAULT_URLS.live.trade} for binance_spot; a host of the other environment is refused.`,
        { pattern: '^https?://[^\\s]+$', maxLength: 2048 },
      ),
    },
    {
      default: {},
      'x-kubernetes-validations': [
        {
          // has(self.mode): the API server also checks the rules against the bare `default: {}`.
          rule: "!has(self.mode) || self.mode == 'sim_engine' || has(self.credentialsSecretRef)",
          message: 'execution.credentialsSecretRef is required unless execution.mode is sim_engine',
          fieldPath: '.credentialsSecretRef',
          reason: 'FieldValueRequired',
        },
        {
          rule: "!has(self.mode) || self.mode != 'binance_spot' || (has(self.acknowledgeLiveTrading) && self.acknowledgeLiveTrading)",
          message:
            'execution.mode binance_spot trades real funds: set execution.acknowledgeLiveTrading: true to confirm',
          fieldPath: '.acknowledgeLiveTrading',
          reason: 'FieldValueRequired',
        },
      ],
    },
  ),
);

// Testnet mode must never reach the live exchange, nor live mode the testnet: each Binance URL
// is checked against the mode with the engine's own host patterns (binance-hosts.ts).
const HOST_MODE_FIELDS = [
  ['market', 'binanceBaseUrl'],
  ['market', 'binanceWsBaseUrl'],
  ['execution', 'tradeBaseUrl'],
] as const;

const HOST_MODE_RULES = HOST_MODE_FIELDS.map(([group, field]) => {
  const value = `self.${group}.${field}`;
  const is = (env: 'live' | 'testnet') => `${value}.matches('(?i)${BINANCE_HOST_PATTERNS[env]}')`;
  return {
    rule:
      `!has(self.execution) || !has(self.execution.mode) || ` +
      (group === 'execution' ? '' : `!has(self.${group}) || `) +
      `!has(${value}) || ` +
      `(self.execution.mode == 'binance_testnet_spot' ? !${is('live')} : ` +
      `self.execution.mode != 'binance_spot' || !${is('testnet')})`,
    message: `host/mode mismatch: ${group}.${field} must not be a live Binance host when execution.mode is binance_testnet_spot, nor a testnet host when it is binance_spot`,
    fieldPath: `.${group}.${field}`,
  };
});

const risk = named(
  'RiskSpec',
  obj(
    'Pre-trade risk limits of the whole desk, which hold for the exchange account: the operator splits each one evenly across the pairs (rounded down; what the rounding leaves is not handed out) and each engine enforces its share before an order leaves (docs/adr/0017-one-desk-per-account.md).',
    {
      maxOrderQuantity: decimal(
        'Largest quantity of one order, in base units (decimal string). No limit when absent.',
      ),
      maxOrderNotional: decimal(
        "Largest price x quantity of one order, in quote units (decimal string), for the desk: each engine's one order may be at most its even share. No limit when absent.",
      ),
      maxOpenOrders: int(
        'Most orders open at once on the desk; each engine gets an even share (at least 1 each).',
        {
          minimum: 1,
          maximum: 1000000,
          default: 1000,
        },
      ),
      maxPosition: decimal(
        'Largest absolute position per symbol of the desk in base units, counting open orders as filled (decimal string); each engine holds an even share. No limit when absent.',
      ),
    },
    { default: {} },
  ),
);

const gateway = named(
  'GatewaySpec',
  obj(
    'The HTTP gateways in front of the engines.',
    {
      apiKeySecretRef: secretRef(
        'Secret holding the API key clients must present. When absent, the operator generates `<name>-gateway-api-key` once (32 random bytes, hex) and never rotates it silently.',
        'Key of the API key in the Secret.',
        'apiKey',
      ),
      service: named(
        'GatewayServiceSpec',
        obj(
          'The Service `<name>` in front of the gateways.',
          {
            type: str('Service type.', {
              enum: ['ClusterIP', 'NodePort', 'LoadBalancer'],
              default: 'ClusterIP',
            }),
            port: int('Service port.', { minimum: 1, maximum: 65535, default: 8080 }),
            annotations: stringMap('Annotations of the Service, e.g. for a cloud load balancer.'),
          },
          { default: {} },
        ),
      ),
      resources: resources('gateway', {
        requests: { cpu: '500m', memory: '512Mi' },
        limits: { cpu: '1', memory: '1Gi' },
      }),
      rateLimitPerSecond: int('Requests per second each gateway accepts per API key before answering 429.', {
        minimum: 1,
        maximum: 100000,
        default: 100,
      }),
      tls: named(
        'GatewayTlsSpec',
        obj(
          'HTTPS on the gateways. A rotated certificate is picked up by the running gateways without a restart.',
          {
            secretName: objectName(
              'A Secret of type kubernetes.io/tls (keys tls.crt and tls.key, PEM) in the namespace of the VelozDeployment, mounted into every gateway. A missing Secret or key is reported on the condition Degraded (reason TLSSecretInvalid) and holds the gateways back.',
            ),
            issuerRef: named(
              'GatewayTlsIssuerRef',
              obj(
                'A cert-manager issuer: the operator renders a cert-manager.io/v1 Certificate `<name>-gateway` that writes secretName, for the gateway Service’s cluster names and dnsNames. Needs cert-manager.io/v1 served by the cluster (else Degraded, reason TLSSecretInvalid, says so). Absent: the Secret is yours (or your own Certificate’s) to keep.',
                {
                  name: objectName('Name of the Issuer (namespace of the VelozDeployment) or ClusterIssuer.'),
                  kind: str('Issuer or ClusterIssuer.', {
                    enum: ['Issuer', 'ClusterIssuer'],
                    default: 'Issuer',
                  }),
                  group: str('API group of the issuer: cert-manager.io, or an external issuer’s group.', {
                    minLength: 1,
                    maxLength: 253,
                    pattern: DNS_SUBDOMAIN_PATTERN,
                    default: 'cert-manager.io',
                  }),
                },
                { required: ['name'] },
              ),
            ),
            dnsNames: list(
              'Further DNS names of the certificate (a load balancer’s or Ingress host name), after the gateway Service’s own (`<name>`, `<name>.<namespace>`, `<name>.<namespace>.svc`, `<name>.<namespace>.svc.cluster.local`). Only with issuerRef.',
              str('A DNS name such as desk.example.com or *.example.com.', {
                maxLength: 253,
                pattern: '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
              }),
              { minItems: 1, maxItems: 32, 'x-kubernetes-list-type': 'set' },
            ),
          },
          {
            required: ['secretName'],
            'x-kubernetes-validations': [
              {
                rule: '!has(self.dnsNames) || has(self.issuerRef)',
                message:
                  'gateway.tls.dnsNames needs gateway.tls.issuerRef (they are the names of the Certificate it renders)',
              },
            ],
          },
        ),
      ),
      allowedSourceRanges: list(
        'Client address ranges (CIDR, e.g. 203.0.113.0/24) allowed to reach the gateways: set as the Service’s loadBalancerSourceRanges (with externalTrafficPolicy Local, so client addresses are kept), as the ingress NetworkPolicy `<name>-gateway`, and checked by each gateway itself (403 for another source). Everyone when absent.',
        str('A CIDR such as 10.0.0.0/8 or 2001:db8::/32.', {
          maxLength: 64,
          'x-kubernetes-validations': [
            {
              rule: 'isCIDR(self)',
              message:
                'gateway.allowedSourceRanges entries must be CIDRs such as 203.0.113.0/24 or 2001:db8::/32',
            },
          ],
        }),
        { minItems: 1, maxItems: 64, 'x-kubernetes-list-type': 'set' },
      ),
    },
    { default: {} },
  ),
);

const engine = named(
  'EngineSpec',
  obj(
    'The trading engines.',
    {
      resources: resources('engine', {
        requests: { cpu: '1', memory: '1Gi' },
        // No CPU limit by default: CFS throttling adds latency spikes to the order path.
        limits: { memory: '1536Mi' },
      }),
      workerThreads: int('Size of the libuv thread pool used for file I/O.', {
        minimum: 1,
        maximum: 256,
        default: 4,
      }),
      memoryPoolSize: int(
        'Memory budget in bytes; the JavaScript heap limit (--max-old-space-size) is set from it. Keep it below the memory limit.',
        { minimum: 67108864, maximum: 274877906944, format: 'int64', default: 1073741824 },
      ),
      logLevel: str('Log level of the engine and gateway JSON logs.', {
        enum: ['debug', 'info', 'warn', 'error'],
        default: 'info',
      }),
      orderHistory: int('Finished orders kept in memory and in checkpoints (open orders are always kept).', {
        minimum: 0,
        maximum: 10000000,
        default: 1000,
      }),
    },
    { default: {} },
  ),
);

const wal = named(
  'WalSpec',
  obj(
    'The order write-ahead log of each engine, on its own PersistentVolumeClaim `wal-<name>-engine-<i>`.',
    {
      storage: named(
        'WalStorageSpec',
        obj(
          'The WAL volume of each engine.',
          {
            size: quantity(
              'Size of each WAL volume. It can only grow (the StorageClass must allow expansion).',
              {
                default: '1Gi',
                'x-kubernetes-validations': [
                  {
                    rule: 'quantity(self).compareTo(quantity(oldSelf)) >= 0',
                    message: 'wal.storage.size can only grow: a WAL volume is never shrunk',
                  },
                ],
              },
            ),
            storageClassName: str(
              'StorageClass of the WAL volumes (the cluster default when absent). Immutable.',
              {
                maxLength: 253,
              },
            ),
            retainOnDelete: bool(
              'Keep the WAL volumes when the VelozDeployment is deleted or scaled down (PersistentVolumeClaim retention policy Retain).',
              { default: true },
            ),
          },
          {
            default: {},
            'x-kubernetes-validations': [
              {
                rule: 'has(self.storageClassName) == has(oldSelf.storageClassName) && (!has(self.storageClassName) || self.storageClassName == oldSelf.storageClassName)',
                message: 'wal.storage.storageClassName is immutable: existing WAL volumes cannot move',
                fieldPath: '.storageClassName',
              },
            ],
          },
        ),
      ),
      maxSizeBytes: int('Size at which the current WAL segment is sealed and a new one started.', {
        minimum: 4096,
        maximum: 4294967296,
        format: 'int64',
        default: 67108864,
      }),
      maxFiles: int('Sealed WAL segments kept; older ones are deleted.', {
        minimum: 1,
        maximum: 100000,
        default: 10,
      }),
      sync: bool(
        'fdatasync each group-commit batch before acknowledging it. false survives a process crash, not a power loss.',
        { default: true },
      ),
      checkpointInterval: int('WAL entries between checkpoints (0: only at rotation).', {
        minimum: 0,
        maximum: 100000000,
        default: 1000,
      }),
      recoveryMode: str(
        'strict refuses to start on a corrupt WAL; truncate_at_corruption recovers up to the damage and moves the rest to quarantine/.',
        { enum: ['strict', 'truncate_at_corruption'], default: 'strict' },
      ),
      postgres: named(
        'WalPostgresSpec',
        obj('Optional shipping of the WAL to PostgreSQL.', {
          secretRef: secretRef(
            'Secret holding the PostgreSQL connection URI (postgres://...). Mounted read-only into the engines.',
            'Key of the connection URI in the Secret.',
            'uri',
          ),
        }),
      ),
    },
    { default: {} },
  ),
);

const backup = named(
  'BackupSpec',
  obj(
    'Scheduled WAL backups: the CronJob `<name>-wal-backup` runs `veloz backup` against every engine.',
    {
      schedule: str(
        'Cron schedule as Kubernetes CronJobs read it, in the time zone of timeZone: five fields (numbers, `*`, lists, ranges, steps, names such as MON-FRI or JAN) or a macro such as @daily.',
        {
          maxLength: 100,
          default: '*/5 * * * *',
          'x-kubernetes-validations': [
            {
              rule: CRON_RULE,
              message:
                "backup.schedule must be a cron schedule of five fields such as '*/5 * * * *' or a macro such as @hourly",
            },
          ],
        },
      ),
      timeZone: str('IANA time zone of the schedule (the controller manager’s when absent).', {
        maxLength: 64,
        pattern: '^[A-Za-z][A-Za-z0-9_+/-]*$',
      }),
      retentionDays: int('Days backups are kept.', { minimum: 1, maximum: 3650, default: 7 }),
      suspend: bool('Suspend the backup CronJob.', { default: false }),
      verify: named(
        'BackupVerify',
        obj(
          'Restore drills (ADR 0024): the CronJob `<name>-restore-drill` restores the newest backup of every pair into scratch space, replays it with the engine’s recovery and compares the sequence and order-state digest with the backup’s manifest; status.lastRestoreTest and condition BackupVerified report it.',
          {
            schedule: str(
              'Cron schedule of the drills, like backup.schedule and in its time zone (backup.timeZone).',
              {
                maxLength: 100,
                'x-kubernetes-validations': [
                  {
                    rule: CRON_RULE,
                    message:
                      "backup.verify.schedule must be a cron schedule of five fields such as '30 3 * * *' or a macro such as @daily",
                  },
                ],
              },
            ),
            suspend: bool('Suspend the drill CronJob.', { default: false }),
          },
          { required: ['schedule'] },
        ),
      ),
      destination: named(
        'BackupDestination',
        obj(
          'Where backups go: a volume or S3, not both. Defaults to a 5Gi volume `<name>-backups`.',
          {
            volume: named(
              'BackupVolume',
              obj(
                'A PersistentVolumeClaim: an existing one (claimName) or one the operator creates as `<name>-backups` (size).',
                {
                  claimName: objectName('An existing PersistentVolumeClaim to write backups to.'),
                  size: quantity('Size of the `<name>-backups` PersistentVolumeClaim the operator creates.'),
                  storageClassName: str('StorageClass of the created backups volume.', { maxLength: 253 }),
                },
                {
                  'x-kubernetes-validations': [
                    {
                      rule: 'has(self.claimName) != has(self.size)',
                      message: 'backup.destination.volume needs exactly one of claimName or size',
                    },
                    {
                      rule: '!has(self.claimName) || !has(self.storageClassName)',
                      message: 'backup.destination.volume.storageClassName applies only with size',
                      fieldPath: '.storageClassName',
                    },
                  ],
                },
              ),
            ),
            s3: named(
              'BackupS3',
              obj(
                'An S3-compatible bucket.',
                {
                  bucket: str('Bucket name.', {
                    minLength: 3,
                    maxLength: 63,
                    pattern: '^[a-z0-9][a-z0-9.-]*[a-z0-9]$',
                  }),
                  prefix: str('Key prefix inside the bucket.', { maxLength: 512, pattern: '^[^\\s]*$' }),
                  region: str('Bucket region.', { maxLength: 64 }),
                  endpoint: str('Endpoint of an S3-compatible service (AWS when absent).', {
                    pattern: '^https?://[^\\s]+$',
                    maxLength: 2048,
                  }),
                  credentialsSecretRef: named(
                    'S3CredentialsSecretRef',
                    obj(
                      'Secret with the access key pair (workload identity is used when absent).',
                      {
                        name: objectName('Name of the Secret.'),
                        accessKeyIdKey: secretKey('Key of the access key id.', 'accessKeyId'),
                        secretAccessKeyKey: secretKey('Key of the secret access key.', 'secretAccessKey'),
                      },
                      { required: ['name'] },
                    ),
                  ),
                },
                { required: ['bucket'] },
              ),
            ),
          },
          {
            default: { volume: { size: '5Gi' } },
            'x-kubernetes-validations': [
              {
                rule: 'has(self.volume) != has(self.s3)',
                message: 'backup.destination needs exactly one of volume or s3',
              },
            ],
          },
        ),
      ),
    },
    { default: {} },
  ),
);

const monitoring = named(
  'MonitoringSpec',
  obj(
    'Prometheus Operator objects; created only when monitoring.coreos.com/v1 is served (condition MonitoringReady says why not otherwise).',
    {
      serviceMonitor: named(
        'ServiceMonitorSpec',
        obj(
          'ServiceMonitor `<name>` scraping the engines and gateways.',
          {
            enabled: bool('Create the ServiceMonitor.', { default: true }),
            interval: str('Scrape interval.', { pattern: DURATION_PATTERN, maxLength: 16, default: '30s' }),
            labels: stringMap(
              'Extra labels of the ServiceMonitor, e.g. `release: prometheus` to match a Prometheus selector.',
            ),
          },
          { default: {} },
        ),
      ),
      prometheusRule: named(
        'PrometheusRuleSpec',
        obj(
          'PrometheusRule `<name>` with the VeloZ alerts (latency, disconnects, errors, WAL corruption, backups, readiness, and WAL shipping with wal.postgres).',
          {
            enabled: bool('Create the PrometheusRule.', { default: true }),
            labels: stringMap('Extra labels of the PrometheusRule.'),
            orderLatencySeconds: decimal(
              'p99 order acknowledgement latency above which VelozHighOrderLatency fires.',
              {
                default: '0.05',
              },
            ),
            runbookBaseUrl: str(
              "Base of each alert's runbook_url annotation (`<base>#<alert name in lower case>`); the operator's --runbook-base-url (chart value prometheusRule.runbookBaseUrl) when absent.",
              { pattern: RUNBOOK_BASE_URL_PATTERN, maxLength: 2048 },
            ),
          },
          { default: {} },
        ),
      ),
      scraper: named(
        'ScraperPeer',
        obj(
          'The metrics scraper admitted to the engines’ port (NetworkPolicy X-engine): pods with these labels in this namespace, both required. Absent: the operator’s --scraper-namespace and --scraper-pod-labels (chart value networkPolicy.scraper).',
          {
            namespace: objectName('Namespace of the scraper pods.'),
            podLabels: stringMap('Labels of the scraper pods, e.g. `app.kubernetes.io/name: prometheus`.'),
          },
          { required: ['namespace', 'podLabels'] },
        ),
      ),
    },
    { default: {} },
  ),
);

const restore = named(
  'RestoreSpec',
  obj('Bootstrap of new, empty WAL volumes.', {
    fromBackup: named(
      'RestoreFromBackup',
      obj(
        'Restore each engine`s empty WAL from a backup before it starts (`veloz restore`); a WAL that already holds records is never overwritten.',
        {
          source: str(
            'Backup location: a path on the backup volume (/backups/...), s3://bucket/prefix (endpoint, region and credentials of backup.destination.s3 when set, else the default AWS chain) or postgres://... (credentials from wal.postgres).',
            { minLength: 1, maxLength: 2048, pattern: '^(/|s3://|postgres(ql)?://)[^\\s]*$' },
          ),
          // The name rule of `veloz restore --source-deployment`: the init container would fail
          // on anything else, so the API server refuses it instead.
          deployment: str(
            'The deployment whose backups (or PostgreSQL table) are restored, e.g. to bootstrap this one from another; default: this deployment’s name.',
            { minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
          ),
          pair: int(
            'Pair whose backup is restored into a one-pair desk; each engine restores its own index when absent. With pairs > 1 use pairSources: one WAL copied into several engines would trade its orders twice.',
            { minimum: 0, maximum: 63 },
          ),
          backupPairs: int(
            'How many pairs the backup holds. Required when restoring into more than one pair without pairSources: a desk of more pairs than its backup is refused.',
            { minimum: 1, maximum: 64 },
          ),
          pairSources: list(
            'The backup pair each engine restores, by engine index (engine i restores pairSources[i]); at least `pairs` entries, each source at most once (one WAL in two engines would trade its orders twice), so a restored desk has at most as many pairs as its backup. Give backupPairs too: then a source the backup does not hold is refused at admission instead of failing that engine’s restore at every start.',
            int('A pair index of the backup.', { minimum: 0, maximum: 63 }),
            { maxItems: 64, 'x-kubernetes-list-type': 'set' },
          ),
          upToTimestamp: str('Restore records up to this time (RFC 3339); everything when absent.', {
            format: 'date-time',
            maxLength: 64,
          }),
        },
        {
          required: ['source'],
          'x-kubernetes-validations': [
            {
              rule: '!has(self.pair) || !has(self.pairSources)',
              message: 'restore.fromBackup takes pair or pairSources, not both',
              fieldPath: '.pairSources',
            },
            {
              rule: '!has(self.backupPairs) || !has(self.pairSources) || self.pairSources.all(p, p < self.backupPairs)',
              message:
                'restore.fromBackup.pairSources names a pair the backup does not hold (see backupPairs)',
              fieldPath: '.pairSources',
            },
          ],
        },
      ),
    ),
  }),
);

// Restore safety (issue 18): a backup of N pairs restored into more engines would either copy one
// pair's WAL into several engines (the same orders traded twice) or start engines on pairs the
// backup lacks. The API server only knows what the spec says, so the spec must say it.
const restoreInto = '!has(self.restore) || !has(self.restore.fromBackup) || self.pairs <= 1';
const RESTORE_PAIR_RULES = [
  {
    rule: `${restoreInto} || !has(self.restore.fromBackup.pair)`,
    message:
      'restore.fromBackup.pair copies one pair into every engine: with pairs > 1 give restore.fromBackup.pairSources (the source of each pair) instead',
    fieldPath: '.restore.fromBackup.pair',
  },
  {
    rule: `${restoreInto} || has(self.restore.fromBackup.pair) || (has(self.restore.fromBackup.pairSources) ? self.restore.fromBackup.pairSources.size() >= self.pairs : (has(self.restore.fromBackup.backupPairs) && self.pairs <= self.restore.fromBackup.backupPairs))`,
    message:
      'restore.fromBackup into more than one pair needs backupPairs >= pairs (the pairs the backup holds), or pairSources with the source of each of the pairs',
    fieldPath: '.restore.fromBackup',
  },
];

export const velozDeploymentSpec = named(
  'VelozDeploymentSpec',
  obj(
    'Desired state of a VeloZ trading deployment: N gateway/engine pairs with their WAL volumes, monitoring and backups.',
    {
      image: str('Container image of engines, gateways and jobs. Defaults to the operator’s own image.', {
        minLength: 1,
        maxLength: 512,
      }),
      imagePullPolicy: str('Image pull policy of every container.', {
        enum: ['Always', 'IfNotPresent', 'Never'],
        default: 'IfNotPresent',
      }),
      pairs: int('Number of gateway/engine pairs; 0 hibernates (pods stop, WAL volumes are kept).', {
        minimum: 0,
        maximum: 64,
        default: 1,
      }),
      paused: bool(
        'Hands off: the operator stops writing to every child (pods, Services, Secrets ...) and reports the Paused condition; running engines keep trading. To stop new orders, halt trading through the engine API (POST /api/trading/halt).',
        { default: false },
      ),
      market,
      execution,
      risk,
      gateway,
      engine,
      wal,
      backup,
      monitoring,
      restore,
      maintenance,
    },
    {
      default: {},
      'x-kubernetes-validations': [
        {
          rule: "!has(self.restore) || !has(self.restore.fromBackup) || !self.restore.fromBackup.source.startsWith('/') || has(self.backup.destination.volume)",
          message:
            'restore.fromBackup.source as a path needs backup.destination.volume (the volume it is read from)',
          fieldPath: '.restore.fromBackup.source',
        },
        {
          rule: "!has(self.restore) || !has(self.restore.fromBackup) || !self.restore.fromBackup.source.startsWith('postgres') || has(self.wal.postgres)",
          message: 'restore.fromBackup.source postgres://... needs wal.postgres.secretRef (its credentials)',
          fieldPath: '.restore.fromBackup.source',
        },
        ...RESTORE_PAIR_RULES,
        ...HOST_MODE_RULES,
      ],
    },
  ),
);

/** Conditions of one pair (status.pairs[].conditions). */
export const PAIR_CONDITIONS = ['ExchangeInSync', 'NodeReady'] as const;

export const pairStatus = named(
  'PairStatus',
  obj(
    'Observed state of one gateway/engine pair.',
    {
      index: int('Pair index i (pods `<name>-gateway-i` and `<name>-engine-i`).', {
        minimum: 0,
        maximum: 63,
      }),
      gatewayReady: bool('The gateway pod is ready.'),
      engineReady: bool('The engine pod is ready.'),
      walEntries: int('Last durable WAL sequence of the engine.', { minimum: 0, format: 'int64' }),
      lastCheckpoint: str('Time of the last WAL checkpoint.', { format: 'date-time' }),
      conditions: conditions(PAIR_CONDITIONS),
    },
    { required: ['index'] },
  ),
);

export const DEPLOYMENT_CONDITIONS = [
  'Ready',
  'Progressing',
  'Degraded',
  'CredentialsReady',
  'WALReady',
  'BackupReady',
  'BackupVerified',
  'MonitoringReady',
  'ExchangeInSync',
  'RolloutPending',
  'AccountConflict',
  'PairLost',
  'Paused',
  'Deleting',
] as const;

export const velozDeploymentStatus = named(
  'VelozDeploymentStatus',
  obj('Observed state, written by the operator.', {
    observedGeneration: int('The .metadata.generation this status describes.', {
      minimum: 0,
      format: 'int64',
    }),
    phase: str('Summary: Pending, Progressing, Ready, Degraded or Hibernated.', {
      enum: ['Pending', 'Progressing', 'Ready', 'Degraded', 'Hibernated'],
    }),
    conditions: conditions(DEPLOYMENT_CONDITIONS),
    readyPairs: int('Pairs whose gateway and engine are both ready.', { minimum: 0 }),
    pairs: list('Per pair state.', pairStatus, {
      maxItems: 64,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['index'],
    }),
    gatewayService: str('Name of the Service in front of the gateways.', { maxLength: 253 }),
    lastBackup: named(
      'LastBackup',
      obj('The last finished backup run.', {
        time: str('When it finished.', { format: 'date-time' }),
        result: str('Succeeded or Failed.', { enum: ['Succeeded', 'Failed'] }),
        message: str('Details of a failure.', { maxLength: 4096 }),
      }),
    ),
    lastRestoreTest: named(
      'LastRestoreTest',
      obj('The last finished restore drill (backup.verify).', {
        time: str('When it finished.', { format: 'date-time' }),
        result: str('Succeeded when every pair’s newest backup restored, replayed and matched.', {
          enum: ['Succeeded', 'Failed'],
        }),
        entriesReplayed: int('WAL records replayed, all pairs together.', { minimum: 0, format: 'int64' }),
        durationSeconds: int('Seconds the slowest pair’s drill took, rounded up.', { minimum: 0 }),
        backups: list(
          'The backup each pair restored, `<pair>/<time>-<sequence>`.',
          str('A backup.', { maxLength: 64 }),
          { maxItems: 64 },
        ),
        message: str('What was compared, or what mismatched.', { maxLength: 4096 }),
      }),
    ),
  }),
);
