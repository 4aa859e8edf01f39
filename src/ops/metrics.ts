import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type pg from 'pg';

export interface MetricsOptions {
  /** Pools whose use is exported, by name (`runtime`, `system`). */
  pools?: Record<string, pg.Pool>;
  /**
   * The first N organizations seen get their own `organization` label on
   * tenantgate_organization_requests_total; later ones count as "other". 0: no
   * per-organization series at all.
   * @default 0
   */
  organizationLabels?: number;
  /** Process metrics (CPU, memory, event loop lag). Off in tests: they are global to the process. @default true */
  processMetrics?: boolean;
}

/** Distinct label values kept per label before the rest read "other": client-chosen names must not grow the series without bound. */
const MAX_VALUES = 200;

/** Keeps a label's values bounded: the first `max` distinct values, then "other". */
function boundedLabel(max: number): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    if (seen.has(value)) return value;
    if (seen.size >= max) return 'other';
    seen.add(value);
    return value;
  };
}

export interface RequestSample {
  path: string;
  status: number;
  durationSeconds: number;
  operationType?: string;
  operationName?: string;
  organizationId?: string;
  errorCodes: string[];
}

export interface Metrics {
  readonly registry: Registry;
  observe(sample: RequestSample): void;
  /** The usage recorder wrote its counters (src/yoga.ts calls it). */
  usageFlushed(): void;
}

/** The gateway's Prometheus metrics, on a registry of its own (one per gateway, so tests can start several). */
export function createMetrics({ pools = {}, organizationLabels = 0, processMetrics = true }: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (processMetrics) collectDefaultMetrics({ register: registry, prefix: 'tenantgate_' });
  const operationName = boundedLabel(MAX_VALUES);
  const errorCode = boundedLabel(MAX_VALUES);
  const organization = boundedLabel(organizationLabels);

  const requests = new Counter({ name: 'tenantgate_http_requests_total', help: 'HTTP requests by route and status.', labelNames: ['route', 'status'], registers: [registry] });
  const operations = new Counter({ name: 'tenantgate_graphql_operations_total', help: 'GraphQL operations by type and name.', labelNames: ['type', 'name'], registers: [registry] });
  const errors = new Counter({ name: 'tenantgate_graphql_errors_total', help: 'GraphQL errors by extensions.code.', labelNames: ['code'], registers: [registry] });
  const quotaRefusals = new Counter({ name: 'tenantgate_quota_refusals_total', help: 'Operations refused with QUOTA_EXCEEDED.', registers: [registry] });
  const duration = new Histogram({
    name: 'tenantgate_graphql_duration_seconds',
    help: 'GraphQL request latency by operation, from arrival to response.',
    labelNames: ['type', 'name'],
    buckets: [0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const perOrganization = organizationLabels > 0
    ? new Counter({ name: 'tenantgate_organization_requests_total', help: `GraphQL requests by organization (the first ${organizationLabels} seen; the rest are "other").`, labelNames: ['organization'], registers: [registry] })
    : undefined;

  new Gauge({
    name: 'tenantgate_db_pool_connections',
    help: 'Connections of each database pool by state: total, idle, and clients waiting for one.',
    labelNames: ['pool', 'state'],
    registers: [registry],
    collect() {
      for (const [name, pool] of Object.entries(pools)) {
        this.set({ pool: name, state: 'total' }, pool.totalCount);
        this.set({ pool: name, state: 'idle' }, pool.idleCount);
        this.set({ pool: name, state: 'waiting' }, pool.waitingCount);
      }
    },
  });
  // From start until the first write: a recorder that never writes shows a growing lag.
  let lastUsageFlush = performance.now();
  new Gauge({
    name: 'tenantgate_usage_flush_lag_seconds',
    help: 'Seconds since the usage recorder last wrote its counters to PostgreSQL.',
    registers: [registry],
    collect() {
      this.set((performance.now() - lastUsageFlush) / 1000);
    },
  });

  return {
    registry,
    usageFlushed() {
      lastUsageFlush = performance.now();
    },
    observe(sample) {
      const route = sample.path === '/graphql' ? '/graphql' : ['/healthz', '/readyz', '/metrics', '/', '/dashboard'].includes(sample.path) ? sample.path : 'other';
      requests.inc({ route, status: String(sample.status) });
      for (const code of sample.errorCodes) {
        errors.inc({ code: errorCode(code) });
        if (code === 'QUOTA_EXCEEDED') quotaRefusals.inc();
      }
      if (!sample.operationType) return;
      const labels = { type: sample.operationType, name: operationName(sample.operationName ?? '(anonymous)') };
      operations.inc(labels);
      duration.observe(labels, sample.durationSeconds);
      if (perOrganization && sample.organizationId) perOrganization.inc({ organization: organization(sample.organizationId) });
    },
  };
}
