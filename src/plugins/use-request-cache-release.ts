import { RequestCache } from '@pothos/plugin-scope-auth';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context';

/**
 * Lets go of @pothos/plugin-scope-auth's cache of a request (the scopes it
 * evaluated, by parent object and response path) as soon as the operation has
 * been executed, through the plugin's own `RequestCache.clearForContext`.
 *
 * PERF: the cache lives in a module-wide WeakMap keyed by the context, and its
 * value holds the context, and through the context and its parents the request's
 * rows. V8 (Node 20) scavenges the values of an old WeakMap like strong
 * references until it finds the key dead, and a value that reaches its own key
 * keeps the key alive: every request's object graph was copied, then promoted,
 * by the young-generation collections that followed it, until the next full
 * collection. README, Performance, has the measurements.
 *
 * A resolver still running after its operation's result was sent (a sibling of
 * a field that failed) that checks a scope again gets a new cache: the scope is
 * evaluated again, so nothing is allowed that would not have been.
 */
export function useRequestCacheRelease(): Plugin<Context> {
  return {
    onExecute({ args }) {
      const context = args.contextValue;
      return {
        onExecuteDone() {
          RequestCache.clearForContext(context);
        },
      };
    },
  };
}
