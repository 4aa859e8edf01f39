import type { TenantClient } from '../db/tenant';
import type { DomainEvent, EventType } from './catalog';

/** What a handler is given: the event, its organization and a tenant client scoped to that organization. */
export interface HandlerContext<T extends string> {
  event: DomainEvent<T>;
  organization: { id: string; slug: string; name: string };
  /** Scoped to the event's organization by RLS, like a request's `ctx.tenantDb()`. */
  db: TenantClient;
}

export type EventHandler<T extends string> = (context: HandlerContext<T>) => Promise<void>;

export interface RegisteredHandler {
  /** The event type, or '*' for every event. */
  type: string;
  /** Stable across deployments: deliveries name the handler they are for. */
  name: string;
  run: EventHandler<string>;
}

/**
 * The application's reactions to events, run by the event worker with the
 * deliveries' retries (at least once: use `event.id` as an idempotency key).
 *
 *     const events = createEventHandlers();
 *     events.on('project.created', async ({ organization, event, db }) => { ... });
 *     startEventWorker({ ..., handlers: events });
 */
export class EventHandlers {
  private readonly byName = new Map<string, RegisteredHandler>();

  on<T extends EventType | '*'>(type: T, handler: EventHandler<T extends EventType ? T : string>, options: { name?: string } = {}): this {
    const name = options.name ?? `${type}#${[...this.byName.values()].filter((h) => h.type === type).length + 1}`;
    if (!/^[A-Za-z0-9_.*#:-]{1,100}$/.test(name)) throw new Error(`events.on: a handler name is 1-100 letters, digits or _.*#:-, got ${JSON.stringify(name)}`);
    if (this.byName.has(name)) throw new Error(`events.on: a handler named ${name} is already registered`);
    this.byName.set(name, { type, name, run: handler as EventHandler<string> });
    return this;
  }

  get(name: string): RegisteredHandler | undefined {
    return this.byName.get(name);
  }

  list(): RegisteredHandler[] {
    return [...this.byName.values()];
  }
}

export function createEventHandlers(): EventHandlers {
  return new EventHandlers();
}
