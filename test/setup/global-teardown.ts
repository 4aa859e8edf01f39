export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __tenantgateStop?: () => Promise<void> }).__tenantgateStop?.();
}
