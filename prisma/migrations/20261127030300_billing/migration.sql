-- tenantgate: billing (invoices, payments, past due).
--
-- Invoices are billing data: an organization's owners and admins read them, its
-- other members do not. The invoices field says so with authScopes; these
-- policies make the database say it too, so no other path (node(id), a join,
-- raw SQL on the tenant client) shows a member an invoice. RESTRICTIVE: they
-- narrow tenant_isolation, they never widen it. No subquery: the role is a
-- request setting (app.current_member_role(), set once the membership is checked).
-- The runtime role only reads these tables; the platform (admin role) writes them.
CREATE POLICY billing_roles ON "invoices" AS RESTRICTIVE FOR SELECT
  USING (app.current_member_role() IN ('OWNER', 'ADMIN'));

CREATE POLICY billing_roles ON "invoice_line_items" AS RESTRICTIVE FOR SELECT
  USING (app.current_member_role() IN ('OWNER', 'ADMIN'));
