import type { Plugin } from 'graphql-yoga';

/**
 * `GET /readyz`: 200 while `check()` resolves true, else 503.
 *
 * PERF: Yoga's own useReadinessCheck also tests a URLPattern against every
 * request's URL, GraphQL requests included; that was about 1% of the gateway's
 * CPU per request in the benchmark's profile. Comparing the path is all this
 * endpoint needs.
 */
export function useReadiness({ endpoint, check }: { endpoint: string; check: () => Promise<boolean> }): Plugin {
  return {
    onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== endpoint) return;
      return check().then(
        (ready) => endResponse(new fetchAPI.Response(null, { status: ready ? 200 : 503 })),
        () => endResponse(new fetchAPI.Response(null, { status: 503 })),
      );
    },
  };
}
