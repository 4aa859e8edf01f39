-- Written by `npm run tenancy:migration` (src/tenancy/): what tenancy needs for the tenant tables that
-- lacked it. Review it like any migration; `npm run db:migrate` applies it.

-- tasks
ALTER TABLE "tasks" ALTER COLUMN "organization_id" SET DEFAULT app.current_org_id();
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_pkey" PRIMARY KEY ("organization_id", "id");
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_organization_id_project_id_fkey" FOREIGN KEY ("organization_id", "project_id") REFERENCES "projects" ("organization_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;
CREATE INDEX "tasks_organization_id_project_id_idx" ON "tasks" ("organization_id", "project_id");
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_organization_id_assignee_id_fkey" FOREIGN KEY ("organization_id", "assignee_id") REFERENCES "memberships" ("organization_id", "user_id") ON DELETE SET NULL ("assignee_id") ON UPDATE CASCADE;
CREATE INDEX "tasks_organization_id_assignee_id_idx" ON "tasks" ("organization_id", "assignee_id");
ALTER TABLE "tasks" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "tasks" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "tasks"
  USING ("organization_id" = app.current_org_id())
  WITH CHECK ("organization_id" = app.current_org_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON "tasks" TO tenantgate_runtime;
