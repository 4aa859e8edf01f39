import type { SystemDatabase } from '../db/system';
import { nameFromEmail, recordAudit, type PlatformUser } from './organizations';

/**
 * The list of platform operators (platform_operators): who may claim the
 * platform scope. Only the admin role writes it; `npm run platform:add-operator`
 * and `npm run token -- --platform-admin` use these.
 */

const HOW_TO_ADD = (email: string) => `npm run platform:add-operator -- --email ${email}`;

export interface AddedOperator extends PlatformUser {
  /** The user did not exist and was created. */
  createdUser: boolean;
  /** The user already was a platform operator: nothing changed. */
  alreadyOperator: boolean;
}

/**
 * Makes the user with this email a platform operator, creating the user when
 * the email has none; recorded in the audit log as 'operator.add'. The actor is
 * the new operator itself: the command runs as the database owner, not as a user.
 */
export async function addPlatformOperator(system: SystemDatabase, { email, reason }: { email: string; reason: string }): Promise<AddedOperator> {
  const address = email.trim().toLowerCase();
  return system.prisma.$transaction(async (tx) => {
    const existing = await tx.user.findUnique({ where: { email: address }, include: { platformOperator: true } });
    const user = existing ?? (await tx.user.create({ data: { email: address, name: nameFromEmail(address) } }));
    const alreadyOperator = Boolean(existing?.platformOperator);
    if (!alreadyOperator) {
      await tx.platformOperator.create({ data: { userId: user.id } });
      await recordAudit(tx, { actorUserId: user.id, action: 'operator.add', reason, details: { email: address, createdUser: !existing } });
    }
    return { id: user.id, email: user.email, name: user.name, createdUser: !existing, alreadyOperator };
  });
}

/**
 * The platform operator with this email, or the only one when no email is
 * given. Throws an error that says how to make someone an operator.
 */
export async function findPlatformOperator(system: SystemDatabase, email?: string): Promise<PlatformUser> {
  if (email) {
    const address = email.trim().toLowerCase();
    const user = await system.prisma.user.findUnique({ where: { email: address }, include: { platformOperator: true } });
    if (!user) throw new Error(`No user with email ${address}. To create one as a platform operator: ${HOW_TO_ADD(address)}`);
    if (!user.platformOperator) throw new Error(`${address} is not a platform operator. To make them one: ${HOW_TO_ADD(address)}`);
    return { id: user.id, email: user.email, name: user.name };
  }
  const operators = await system.prisma.platformOperator.findMany({ include: { user: true }, orderBy: { createdAt: 'asc' }, take: 11 });
  if (operators.length === 0) throw new Error(`There is no platform operator yet. To make one: ${HOW_TO_ADD('<email>')}`);
  if (operators.length > 1) {
    throw new Error(`There are several platform operators; choose one with --email (${operators.slice(0, 10).map((o) => o.user.email).join(', ')}${operators.length > 10 ? ', …' : ''}).`);
  }
  const { user } = operators[0];
  return { id: user.id, email: user.email, name: user.name };
}
