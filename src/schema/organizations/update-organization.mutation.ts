import { z } from 'zod';
import { builder } from '../../builder';
import { payloadType } from '../payload';
import { PAID_SETTINGS, unpaidSwitchOns } from '../../billing/entitlements';
import { badUserInput, forbidden, notFound } from '../../errors';
import { assertCustomDomainAllowed } from '../../domains/custom-domain';
import {
  addressAllowed,
  cidr,
  deepMerge,
  defaultSettings,
  FEATURES,
  hexColor,
  hostname,
  httpsUrl,
  integrationEvents,
  maskSecret,
  readSettings,
  secretValue,
  sessionTimeout,
  slackChannel,
  type SecretSetting,
} from '../../settings';

/**
 * updateOrganization: renames, and changes settings with a partial, validated
 * patch. How settings read is in organization-settings.type.ts; what the
 * security settings do is in src/context.ts.
 */

// The patch. Every field is optional: a field left out keeps its value, `null`
// resets it to its default (and deletes a secret). Unknown keys are refused by
// GraphQL itself; values are validated by `patch` below, each error naming its path.

const BrandingInput = builder.inputType('BrandingSettingsInput', {
  fields: (t) => ({
    logo: t.string(),
    primaryColor: t.string(),
    customDomain: t.string(),
  }),
});

const SecurityInput = builder.inputType('SecuritySettingsInput', {
  fields: (t) => ({
    enforceSSO: t.boolean(),
    sessionTimeout: t.int(),
    allowedIPs: t.stringList(),
  }),
});

const FeaturesInput = builder.inputType('FeatureSettingsInput', {
  fields: (t) => Object.fromEntries(FEATURES.map((feature) => [feature, t.boolean()])) as never,
});

const SlackInput = builder.inputType('SlackIntegrationInput', {
  fields: (t) => ({
    webhookUrl: t.string({ description: 'Write-only.' }),
    channel: t.string(),
    enabled: t.boolean(),
    events: t.stringList({ description: 'The event types posted to Slack; null restores the default set.' }),
  }),
});

const DatadogInput = builder.inputType('DatadogIntegrationInput', {
  fields: (t) => ({
    apiKey: t.string({ description: 'Write-only.' }),
    enabled: t.boolean(),
    events: t.stringList({ description: 'The event types sent to Datadog; null restores the default set.' }),
  }),
});

const IntegrationsInput = builder.inputType('IntegrationSettingsInput', {
  fields: (t) => ({
    slack: t.field({ type: SlackInput }),
    datadog: t.field({ type: DatadogInput }),
  }),
});

const SettingsInput = builder.inputType('OrganizationSettingsInput', {
  fields: (t) => ({
    branding: t.field({ type: BrandingInput }),
    security: t.field({ type: SecurityInput }),
    features: t.field({ type: FeaturesInput }),
    integrations: t.field({ type: IntegrationsInput }),
  }),
});

// One schema for the whole patch, so that every bad field is reported at once
// (field-level validators stop at the first bad field of an input object).
const patch = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters').nullish(),
  settings: z
    .object({
      branding: z.object({ logo: httpsUrl.nullish(), primaryColor: hexColor.nullish(), customDomain: hostname.nullish() }).nullish(),
      security: z
        .object({
          enforceSSO: z.boolean().nullish(),
          sessionTimeout: sessionTimeout.nullish(),
          allowedIPs: z.array(cidr).max(100, 'must have at most 100 entries').nullish(),
        })
        .nullish(),
      features: z.object(Object.fromEntries(FEATURES.map((f) => [f, z.boolean().nullish()]))).nullish(),
      integrations: z
        .object({
          slack: z.object({ webhookUrl: httpsUrl.nullish(), channel: slackChannel.nullish(), enabled: z.boolean().nullish(), events: integrationEvents.nullish() }).nullish(),
          datadog: z.object({ apiKey: secretValue.nullish(), enabled: z.boolean().nullish(), events: integrationEvents.nullish() }).nullish(),
        })
        .nullish(),
    })
    .nullish(),
});

const UpdateOrganizationInput = builder.inputType('UpdateOrganizationInput', {
  validate: patch,
  fields: (t) => ({
    name: t.string(),
    settings: t.field({ type: SettingsInput }),
  }),
});

type SettingsPatch = NonNullable<typeof SettingsInput.$inferInput>;

/** Takes the secrets out of the patch: they go to organization_secrets, not into the document. */
function splitSecrets(patch: SettingsPatch): { document: unknown; secrets: [SecretSetting, string | null][] } {
  const secrets: [SecretSetting, string | null][] = [];
  const slack = patch.integrations?.slack;
  const datadog = patch.integrations?.datadog;
  if (slack && slack.webhookUrl !== undefined) secrets.push(['integrations.slack.webhookUrl', slack.webhookUrl ?? null]);
  if (datadog && datadog.apiKey !== undefined) secrets.push(['integrations.datadog.apiKey', datadog.apiKey ?? null]);
  const document = {
    ...patch,
    integrations: patch.integrations
      ? {
          slack: slack ? { channel: slack.channel, enabled: slack.enabled, events: slack.events } : undefined,
          datadog: datadog ? { enabled: datadog.enabled, events: datadog.events } : undefined,
        }
      : undefined,
  };
  return { document, secrets };
}

const UpdateOrganizationPayload = payloadType<{ organizationId: string }>('UpdateOrganizationPayload', {
  fields: (t) => ({
    organization: t.prismaField({
      type: 'Organization',
      resolve: async (query, payload, _args, ctx) =>
        (await ctx.tenantDb().organization.findUnique({ ...query, where: { id: payload.organizationId } })) ??
        Promise.reject(notFound('Organization')),
    }),
  }),
});

builder.mutationField('updateOrganization', (t) =>
  t.field({
    type: UpdateOrganizationPayload,
    description: 'Renames the organization and/or deep-merges a partial settings patch. Owners and admins.',
    authScopes: { role: ['OWNER', 'ADMIN'] },
    args: { input: t.arg({ type: UpdateOrganizationInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const organizationId = ctx.viewer!.organizationId;
      const { document, secrets } = input.settings ? splitSecrets(input.settings) : { document: {}, secrets: [] };

      const allowed = input.settings?.security?.allowedIPs;
      if (allowed && allowed.length > 0 && !(ctx.clientAddress && addressAllowed(ctx.clientAddress, allowed))) {
        // A list that leaves out the caller would lock the caller out with its next request.
        throw badUserInput([
          { field: 'input.settings.security.allowedIPs', message: `must include your own address (${ctx.clientAddress ?? 'unknown'})` },
        ]);
      }

      const customDomain = input.settings?.branding?.customDomain;
      if (customDomain) await assertCustomDomainAllowed(ctx.tenantDb(), customDomain);

      await ctx.tenantDb().$transaction(async (tx) => {
        // FOR UPDATE: two concurrent patches merge one after the other, neither is lost.
        const [row] = await tx.$queryRaw<{ settings: unknown }[]>`SELECT settings FROM organizations WHERE id = ${organizationId}::uuid FOR UPDATE`;
        if (!row) throw notFound('Organization');
        const current = readSettings(row.settings);
        const merged = deepMerge(current, document, defaultSettings());
        // Settings switch off what is bought, never switch on what is not (src/billing/entitlements.ts).
        const subscription = await tx.subscription.findUnique({ where: { organizationId } });
        const unpaid = subscription ? unpaidSwitchOns(current, merged, subscription) : [];
        if (unpaid.length) {
          const [setting] = unpaid;
          const { addOn, includedIn } = PAID_SETTINGS[setting];
          throw forbidden(`${setting} needs the ${addOn} add-on (or the ${includedIn.join(' or ')} plan) on an active subscription`, { setting, addOn });
        }
        await tx.organization.update({
          where: { id: organizationId },
          data: { name: input.name ?? undefined, settings: merged as object },
        });
        for (const [name, value] of secrets) {
          if (value === null) {
            await tx.$executeRaw`DELETE FROM organization_secrets WHERE name = ${name}`;
          } else {
            // SECURITY: not INSERT … ON CONFLICT DO UPDATE, which would need SELECT on
            // the value column, which the runtime role deliberately lacks. Concurrent
            // patches are serialised by the FOR UPDATE above, so update-then-insert is safe.
            const updated = await tx.$executeRaw`
              UPDATE organization_secrets SET value = ${value}, masked = ${maskSecret(value)}, updated_at = now() WHERE name = ${name}`;
            if (updated === 0) {
              // organization_id defaults to the transaction's organization.
              await tx.$executeRaw`
                INSERT INTO organization_secrets (name, value, masked, updated_at) VALUES (${name}, ${value}, ${maskSecret(value)}, now())`;
            }
          }
        }
      });
      return { organizationId };
    },
  }),
);
