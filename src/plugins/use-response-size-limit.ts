import type { Plugin } from 'graphql-yoga';

/**
 * Responses over `limit` bytes are not sent (issue 13): RESPONSE_TOO_LARGE,
 * 500, instead. A backstop behind the operation limits (cost bounds what an
 * operation can ask for): the size is the Content-Length Yoga sets on every
 * regular response, so nothing is serialized twice. Streamed responses
 * (subscriptions, @defer) have none and are not checked.
 */
export function useResponseSizeLimit(limit: number, endpoint = '/graphql'): Plugin {
  return {
    onResponse({ request, response, setResponse, fetchAPI }) {
      const length = Number(response.headers.get('content-length') ?? 0);
      if (length <= limit) return;
      // GraphQL responses only: a file download (GET /files/...) streams, and is bounded by its plan's file size.
      // PERF: after the length, so that the common response parses no URL.
      if (new URL(request.url).pathname !== endpoint) return;
      const body = JSON.stringify({
        errors: [{ message: `The response (${length} bytes) is larger than the limit of ${limit} bytes. Ask for fewer fields or smaller pages.`, extensions: { code: 'RESPONSE_TOO_LARGE', limit, measured: length } }],
      });
      setResponse(new fetchAPI.Response(body, { status: 500, headers: { 'content-type': response.headers.get('content-type') ?? 'application/json' } }));
    },
  };
}
