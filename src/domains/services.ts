import type { Config } from '../config';
import { createMailer, type Mailer } from '../mail/mailer';
import { createNetwork, type Network, type NetworkOptions } from './network';

/**
 * What domains, invitations and signup need from outside the database: mail,
 * DNS and HTTP, the public address for links, and the clock. One object, made
 * from the configuration by src/server.ts and by the tests.
 */
export interface Services {
  mailer: Mailer;
  network: Network;
  /** PUBLIC_URL, without a trailing slash: links in mail point here. */
  publicUrl: string;
  now: () => number;
  /** Lifetime of a domain-verification token and of an invitation. @default 7 days */
  tokenTtlMs: number;
  /** Verification attempts per domain per window. @default 10 per hour */
  attempts: { max: number; windowMs: number };
}

export interface ServicesOptions extends NetworkOptions {
  smtpUrl?: string;
  mailFrom?: string;
  mailDirectory?: string;
  mailer?: Mailer;
  publicUrl?: string;
  now?: () => number;
  tokenTtlMs?: number;
  attempts?: { max: number; windowMs: number };
}

export const DAY_MS = 24 * 60 * 60 * 1000;

export function createServices(options: ServicesOptions = {}): Services {
  return {
    mailer: options.mailer ?? createMailer({ smtpUrl: options.smtpUrl, from: options.mailFrom ?? 'tenantgate <no-reply@localhost>', directory: options.mailDirectory }),
    network: createNetwork(options),
    publicUrl: (options.publicUrl ?? 'http://localhost:4000').replace(/\/+$/, ''),
    now: options.now ?? Date.now,
    tokenTtlMs: options.tokenTtlMs ?? 7 * DAY_MS,
    attempts: options.attempts ?? { max: 10, windowMs: 60 * 60 * 1000 },
  };
}

/** The services as the gateway and its jobs configure them (src/config.ts). */
export function servicesFromConfig(config: Pick<Config, 'dnsServers' | 'domainVerifyAllowPrivate' | 'smtpUrl' | 'mailFrom' | 'dataDir' | 'publicUrl'>): Services {
  return createServices({
    dnsServers: config.dnsServers,
    allowPrivate: config.domainVerifyAllowPrivate,
    smtpUrl: config.smtpUrl,
    mailFrom: config.mailFrom,
    // With no SMTP_URL, each message is an .eml file here.
    mailDirectory: `${config.dataDir}/mail`,
    publicUrl: config.publicUrl,
  });
}
