import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { EVENT_TYPES, NOTABLE_EVENTS } from './events/catalog';

/**
 * Per-organization settings: their shape, defaults, validation and merging.
 * Stored as one JSON document (organizations.settings) except for secrets, which
 * live in organization_secrets where the runtime role cannot read them back.
 */

export const FEATURES = ['advancedAnalytics', 'apiAccess', 'customIntegrations', 'webhooks'] as const;
export type Feature = (typeof FEATURES)[number];

export interface OrganizationSettings {
  branding: { logo: string | null; primaryColor: string | null; customDomain: string | null };
  security: { enforceSSO: boolean; sessionTimeout: number | null; allowedIPs: string[] };
  features: Record<Feature, boolean>;
  /** `events`: the event types posted there (src/events/catalog.ts EVENT_TYPES); by default NOTABLE_EVENTS. */
  integrations: { slack: { channel: string | null; enabled: boolean; events: string[] }; datadog: { enabled: boolean; events: string[] } };
}

/** Secret settings, by their path; written through updateOrganization, never read back. */
export const SECRET_SETTINGS = ['integrations.slack.webhookUrl', 'integrations.datadog.apiKey'] as const;
export type SecretSetting = (typeof SECRET_SETTINGS)[number];

export function defaultSettings(): OrganizationSettings {
  return {
    branding: { logo: null, primaryColor: null, customDomain: null },
    security: { enforceSSO: false, sessionTimeout: null, allowedIPs: [] },
    features: { advancedAnalytics: false, apiAccess: true, customIntegrations: false, webhooks: false },
    integrations: { slack: { channel: null, enabled: false, events: [...NOTABLE_EVENTS] }, datadog: { enabled: false, events: [...NOTABLE_EVENTS] } },
  };
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Merges `patch` into `base`, recursively: a key left out keeps its value, `null`
 * resets a leaf to its default, anything else replaces it. Arrays are leaves.
 */
export function deepMerge<T>(base: T, patch: unknown, defaults: T = base): T {
  if (!isObject(base) || !isObject(patch)) return base;
  const result: Json = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const fallback = isObject(defaults) ? (defaults as Json)[key] : undefined;
    if (value === null) result[key] = fallback ?? null;
    else if (isObject(value) && isObject(result[key])) result[key] = deepMerge(result[key], value, fallback ?? result[key]);
    else result[key] = value;
  }
  return result as T;
}

/** The stored document over the defaults: tolerant of documents written by older versions. */
export function readSettings(stored: unknown): OrganizationSettings {
  const defaults = defaultSettings();
  return deepMerge(defaults, isObject(stored) ? stored : {}, defaults);
}

// Field validators, used by the GraphQL input types (their issues carry the path).

export const httpsUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).max(2048, 'must be at most 2048 characters');
export const hexColor = z.string().regex(/^#[0-9A-Fa-f]{6}$/, 'must be a color as #RRGGBB');
export const hostname = z
  .string()
  .toLowerCase()
  .regex(/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'must be a domain name such as app.example.com');
export const sessionTimeout = z
  .number()
  .int('must be a whole number of seconds')
  .min(300, 'must be at least 300 seconds')
  .max(2_592_000, 'must be at most 2592000 seconds (30 days)');
export const cidr = z.string().refine((value) => parseCidr(value) !== null, 'must be an IPv4 or IPv6 CIDR such as 203.0.113.0/24');
export const slackChannel = z.string().regex(/^#[a-z0-9][a-z0-9._-]{0,79}$/, 'must be a channel name such as #engineering');
const knownEventTypes: ReadonlySet<string> = new Set(EVENT_TYPES);
/** The events an integration receives: known types, each once, at most 50 (an empty list sends nothing). */
export const integrationEvents = z
  .array(z.string().refine((type) => knownEventTypes.has(type), 'must be a known event type, such as member.added or security.access_denied'))
  .max(50, 'must have at most 50 entries')
  .refine((types) => new Set(types).size === types.length, 'must not repeat an event type');
export const secretValue = z.string().min(8, 'must be at least 8 characters').max(4096, 'must be at most 4096 characters');

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

export function parseCidr(value: string): Cidr | null {
  try {
    // A bare address is a /32 (or /128).
    if (!value.includes('/')) {
      const address = ipaddr.parse(value);
      return [address, address.kind() === 'ipv4' ? 32 : 128];
    }
    return ipaddr.parseCIDR(value);
  } catch {
    return null;
  }
}

/** Whether `address` (as read from a socket: IPv4-mapped IPv6 included) lies in one of the CIDRs. */
export function addressAllowed(address: string, cidrs: readonly string[]): boolean {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.process(address);
  } catch {
    return false;
  }
  return cidrs.some((text) => {
    const range = parseCidr(text);
    if (!range) return false;
    const [network, bits] = range;
    const candidate = network.kind() === 'ipv6' && parsed.kind() === 'ipv4' ? (parsed as ipaddr.IPv4).toIPv4MappedAddress() : parsed;
    return candidate.kind() === network.kind() && candidate.match(network, bits);
  });
}

/**
 * A secret as it may be shown: its kind and its last three characters.
 * `dd_api_key_abc123xyz` → `dd_****_xyz`; a URL keeps its host.
 */
export function maskSecret(value: string): string {
  const tail = value.slice(-3);
  try {
    const url = new URL(value);
    if (url.protocol === 'https:' || url.protocol === 'http:') return `${url.protocol}//${url.host}/****${tail}`;
  } catch {
    // not a URL
  }
  const prefix = /^([A-Za-z]{1,8})_/.exec(value)?.[1];
  return prefix ? `${prefix}_****_${tail}` : `****${tail}`;
}
