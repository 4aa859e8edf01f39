import { context, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { OperationsConfig } from '../config';
import type { Context } from '../context';

export interface Tracing {
  tracer: Tracer;
  /** Sends what is buffered and stops. */
  shutdown(): Promise<void>;
}

/**
 * OpenTelemetry tracing, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set: spans
 * go to that collector over OTLP/HTTP (`<endpoint>/v1/traces`). Tests pass an
 * exporter of their own (the SDK's InMemorySpanExporter).
 */
export function createTracing({ serviceName, exporter, batch = true }: { serviceName: string; exporter: SpanExporter; batch?: boolean }): Tracing {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [batch ? new BatchSpanProcessor(exporter) : new SimpleSpanProcessor(exporter)],
  });
  return { tracer: provider.getTracer('tenantgate'), shutdown: () => provider.shutdown() };
}

export async function startTracing(config: Pick<OperationsConfig, 'otlpEndpoint' | 'serviceName'>): Promise<Tracing | undefined> {
  if (!config.otlpEndpoint) return undefined;
  const url = `${config.otlpEndpoint.replace(/\/+$/, '')}/v1/traces`;
  return createTracing({ serviceName: config.serviceName, exporter: new OTLPTraceExporter({ url }) });
}

/**
 * A server span per request and a child span per GraphQL execution, with the
 * operation's name and type and the organization's id
 * (`tenantgate.organization.id`) as attributes. No variables, no token, no query text.
 */
export function useTracing(tracer: Tracer): Plugin<Context> {
  const spans = new WeakMap<Request, Span>();
  return {
    onRequest({ request, url }) {
      spans.set(request, tracer.startSpan(`${request.method} ${url.pathname}`, {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': request.method, 'url.path': url.pathname },
      }));
    },
    onExecute({ args }) {
      const parent = spans.get(args.contextValue.request);
      const operation = getOperationAST(args.document, args.operationName);
      const attributes: Record<string, string> = {};
      if (operation) attributes['graphql.operation.type'] = operation.operation;
      if (operation?.name) attributes['graphql.operation.name'] = operation.name.value;
      const organizationId = args.contextValue.viewer?.organizationId;
      if (organizationId) attributes['tenantgate.organization.id'] = organizationId;
      parent?.setAttributes(attributes);
      if (operation) parent?.updateName(`${operation.operation} ${operation.name?.value ?? '(anonymous)'}`);
      const span = tracer.startSpan(
        `graphql.execute ${operation?.name?.value ?? ''}`.trim(),
        { attributes },
        parent ? trace.setSpan(context.active(), parent) : undefined,
      );
      return {
        onExecuteDone({ result }) {
          const errors = 'errors' in result ? result.errors : undefined;
          if (errors?.length) {
            span.setAttribute('graphql.error.codes', errors.map((e) => String(e.extensions?.code ?? 'UNKNOWN')).join(','));
            span.setStatus({ code: SpanStatusCode.ERROR });
          }
          span.end();
        },
      };
    },
    onResponse({ request, response }) {
      const span = spans.get(request);
      if (!span) return;
      spans.delete(request);
      span.setAttribute('http.response.status_code', response.status);
      if (response.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
  };
}
