import { getOperationAST, Kind, type DocumentNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context';
import { forbidden } from '../errors';
import { recordAudit } from '../platform/organizations';
import { REFUSED_IN_SUPPORT } from '../support/sessions';

/** The root fields an operation selects (fragments spread at the root included). */
function rootFields(operation: OperationDefinitionNode, fragments: Map<string, SelectionSetNode>): string[] {
  const names: string[] = [];
  const walk = (set: SelectionSetNode) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) names.push(selection.name.value);
      else if (selection.kind === Kind.INLINE_FRAGMENT) walk(selection.selectionSet);
      else {
        const fragment = fragments.get(selection.name.value);
        if (fragment) walk(fragment);
      }
    }
  };
  walk(operation.selectionSet);
  return names;
}

/**
 * Bounds support sessions (src/support/sessions.ts): refuses the mutations a
 * session may not make, and records every other one in the platform audit log,
 * with the session's id, before it executes.
 */
export function useSupportSessions(): Plugin<Context> {
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const ctx = args.contextValue;
      if (!ctx.viewer?.support) return;
      const document = args.document as DocumentNode;
      const operation = getOperationAST(document, args.operationName);
      if (operation?.operation !== 'mutation') return;
      const fragments = new Map<string, SelectionSetNode>();
      for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d.selectionSet);
      const fields = rootFields(operation, fragments);
      const refused = fields.filter((field) => REFUSED_IN_SUPPORT.has(field));
      const sessionId = typeof ctx.claims?.jti === 'string' ? ctx.claims.jti : null;
      if (refused.length) {
        setResultAndStopExecution({
          errors: [forbidden(`Not during a support session: ${refused.join(', ')} (membership, ownership and billing are the organization's own)`, { reason: 'SUPPORT_SESSION_REFUSED' })],
        });
        return;
      }
      // Before executing: a mutation that cannot be recorded does not run (an error here is masked and logged).
      await recordAudit(ctx.platformDb(), {
        actorUserId: ctx.viewer.userId,
        action: 'support.mutation',
        subjectOrganizationId: ctx.viewer.organizationId,
        reason: `support session ${sessionId ?? '(no id)'}`,
        details: { sessionId, fields, operationName: operation.name?.value ?? null },
      });
    },
  };
}
