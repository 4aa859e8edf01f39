import type { DomainEvent } from './catalog';

/** The JSON body of a webhook delivery (Standard Webhooks: `type`, `timestamp`, `data`). */
export function webhookBody(event: DomainEvent, organization: { id: string; slug: string }): string {
  return JSON.stringify({
    type: event.type,
    timestamp: event.occurredAt,
    data: {
      id: event.id,
      organization: { id: organization.id, slug: organization.slug },
      subject: event.subject,
      actor: event.actor,
      payload: event.payload,
    },
  });
}

function summary(event: DomainEvent, organization: { slug: string }): string {
  const subject = event.subject.id ? ` ${event.subject.type} ${event.subject.id}` : '';
  const actor = event.actor.type === 'system' ? 'the platform' : `${event.actor.type} ${event.actor.id}`;
  return `[${organization.slug}] ${event.type}${subject} by ${actor}`;
}

/**
 * Slack's incoming-webhook message: `text` (shown in notifications) and a
 * section block; `channel` from the organization's settings when set.
 */
export function slackBody(event: DomainEvent, organization: { slug: string }, channel: string | null): string {
  const text = summary(event, organization);
  return JSON.stringify({
    ...(channel ? { channel } : {}),
    text,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `*${event.type}*\n${text}\n\`${event.id}\`` } }],
  });
}

/** Datadog Events API v1 (`POST /api/v1/events`): title, text, tags, alert type, aggregation key. */
export function datadogBody(event: DomainEvent, organization: { slug: string }): string {
  const severity = (event.payload as { severity?: string }).severity;
  return JSON.stringify({
    title: `tenantgate: ${event.type}`,
    text: summary(event, organization),
    tags: [`organization:${organization.slug}`, `event_type:${event.type}`, `actor_type:${event.actor.type}`],
    alert_type: severity === 'high' ? 'error' : severity ? 'warning' : 'info',
    source_type_name: 'tenantgate',
    aggregation_key: event.id,
    date_happened: Math.floor(Date.parse(event.occurredAt) / 1000),
  });
}

/** Datadog's API base for a site (`datadoghq.com`, `datadoghq.eu`, ...), or a full URL (tests' local receiver). */
export function datadogEventsUrl(site: string): string {
  const base = /^https?:\/\//.test(site) ? site.replace(/\/$/, '') : `https://api.${site}`;
  return `${base}/api/v1/events`;
}
