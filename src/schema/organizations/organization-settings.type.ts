import { builder } from '../../builder';
import { FEATURES, readSettings, type OrganizationSettings, type SecretSetting } from '../../settings';

/** The GraphQL shape of an organization's settings, as read: secrets only as masked hints. */

interface SecretView {
  isSet: boolean;
  masked: string | null;
}

export type SettingsView = OrganizationSettings & { secrets: Partial<Record<SecretSetting, string>> };

const Secret = builder.objectRef<SecretView>('SecretValue').implement({
  description: 'A write-only secret: its value is never returned, only whether it is set and a masked hint.',
  fields: (t) => ({
    isSet: t.exposeBoolean('isSet'),
    masked: t.exposeString('masked', { nullable: true, description: 'E.g. `dd_****_xyz`.' }),
  }),
});

const secretView = (settings: SettingsView, name: SecretSetting): SecretView => {
  const masked = settings.secrets[name];
  return { isSet: masked !== undefined, masked: masked ?? null };
};

const Branding = builder.objectRef<OrganizationSettings['branding']>('BrandingSettings').implement({
  fields: (t) => ({
    logo: t.exposeString('logo', { nullable: true }),
    primaryColor: t.exposeString('primaryColor', { nullable: true }),
    customDomain: t.exposeString('customDomain', { nullable: true }),
  }),
});

const Security = builder.objectRef<OrganizationSettings['security']>('SecuritySettings').implement({
  fields: (t) => ({
    enforceSSO: t.exposeBoolean('enforceSSO', { description: 'Only tokens whose `amr` claim includes `sso` are accepted.' }),
    sessionTimeout: t.exposeInt('sessionTimeout', { nullable: true, description: 'Seconds after `iat` that a token stays valid here.' }),
    allowedIPs: t.exposeStringList('allowedIPs', { description: 'CIDRs that may call the API; empty allows every address.' }),
  }),
});

const Features = builder.objectRef<OrganizationSettings['features']>('FeatureSettings').implement({
  fields: (t) => Object.fromEntries(FEATURES.map((feature) => [feature, t.exposeBoolean(feature)])) as never,
});

const Slack = builder.objectRef<SettingsView>('SlackIntegration').implement({
  fields: (t) => ({
    webhookUrl: t.field({ type: Secret, resolve: (s) => secretView(s, 'integrations.slack.webhookUrl') }),
    channel: t.string({ nullable: true, resolve: (s) => s.integrations.slack.channel }),
    enabled: t.boolean({ resolve: (s) => s.integrations.slack.enabled }),
    events: t.stringList({ description: 'The event types posted to Slack.', resolve: (s) => s.integrations.slack.events }),
  }),
});

const Datadog = builder.objectRef<SettingsView>('DatadogIntegration').implement({
  fields: (t) => ({
    apiKey: t.field({ type: Secret, resolve: (s) => secretView(s, 'integrations.datadog.apiKey') }),
    enabled: t.boolean({ resolve: (s) => s.integrations.datadog.enabled }),
    events: t.stringList({ description: 'The event types sent to Datadog.', resolve: (s) => s.integrations.datadog.events }),
  }),
});

const Integrations = builder.objectRef<SettingsView>('IntegrationSettings').implement({
  fields: (t) => ({
    slack: t.field({ type: Slack, resolve: (s) => s }),
    datadog: t.field({ type: Datadog, resolve: (s) => s }),
  }),
});

export const Settings = builder.objectRef<SettingsView>('OrganizationSettings').implement({
  fields: (t) => ({
    branding: t.field({ type: Branding, resolve: (s) => s.branding }),
    security: t.field({ type: Security, resolve: (s) => s.security }),
    features: t.field({ type: Features, resolve: (s) => s.features }),
    integrations: t.field({ type: Integrations, resolve: (s) => s }),
  }),
});

/** The settings field's value from the organization row and its secrets' masked hints. */
export function settingsView(organization: { settings: unknown; secrets: { name: string; masked: string }[] }): SettingsView {
  return {
    ...readSettings(organization.settings),
    secrets: Object.fromEntries(organization.secrets.map((s) => [s.name, s.masked])),
  };
}
