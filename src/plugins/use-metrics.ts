import type { Plugin } from 'graphql-yoga';
import type { Metrics } from '../ops/metrics';
import { observationOf } from '../ops/request-scope';

/**
 * `GET /metrics` in Prometheus's text format, and one sample per request.
 *
 * SECURITY: /metrics names no organization unless METRICS_ORGANIZATION_LABELS
 * asks for it; keep it off the public interface all the same (a proxy rule).
 */
export function useMetrics(metrics: Metrics): Plugin {
  return {
    onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== '/metrics') return;
      return metrics.registry.metrics().then((text) =>
        endResponse(new fetchAPI.Response(text, { status: 200, headers: { 'content-type': metrics.registry.contentType } })),
      );
    },
    onResponse({ request, response }) {
      const observation = observationOf(request);
      if (!observation) return;
      metrics.observe({
        path: observation.path,
        status: response.status,
        durationSeconds: (performance.now() - observation.startedAt) / 1000,
        operationType: observation.operationType,
        operationName: observation.operationName,
        organizationId: observation.organizationId,
        errorCodes: observation.errorCodes,
      });
    },
  };
}
