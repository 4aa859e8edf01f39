/** The event worker's settings (src/config.ts reads them from the environment). */
export interface EventWorkerConfig {
  /** Jobs run at once. @default 10 */
  concurrency: number;
  /** Attempts of one delivery before it is dead-lettered (status DEAD). @default 12 */
  maxAttempts: number;
  /** The first retry's delay; each next one doubles it (capped at 6 h), plus up to 20% jitter. @default 30_000 */
  retryBaseMs: number;
  /** @default 10_000 */
  timeoutMs: number;
  /** SECURITY: lets deliveries reach private, loopback and link-local addresses (tests only). @default false */
  allowPrivateAddresses: boolean;
  /** Datadog's site (`datadoghq.com`, `datadoghq.eu`, ...) or a base URL. @default datadoghq.com */
  datadogSite: string;
  /** Where high-severity security alerts go, for the platform. */
  securityAlertWebhookUrl?: string;
  /** An endpoint failing for this long is disabled. @default 3 days */
  disableAfterMs: number;
}

export const defaultEventWorkerConfig: EventWorkerConfig = {
  concurrency: 10,
  maxAttempts: 12,
  retryBaseMs: 30_000,
  timeoutMs: 10_000,
  allowPrivateAddresses: false,
  datadogSite: 'datadoghq.com',
  disableAfterMs: 3 * 24 * 3600 * 1000,
};
