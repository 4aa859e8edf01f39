-- The Task model (prisma/schema.prisma), written by hand: the tables and the
-- indexes its model declares. What tenancy needs (keys, foreign keys, RLS,
-- policies, grants) is the next migration, written by `npm run tenancy:migration`.
CREATE TYPE "TaskStatus" AS ENUM ('TODO', 'IN_PROGRESS', 'DONE');

CREATE TABLE "tasks" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "project_id" UUID NOT NULL,
    "title" TEXT NOT NULL,
    "status" "TaskStatus" NOT NULL DEFAULT 'TODO',
    "due_date" DATE,
    "assignee_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL
);
CREATE INDEX "tasks_organization_id_created_at_id_idx" ON "tasks"("organization_id", "created_at" DESC, "id" DESC);
CREATE INDEX "tasks_organization_id_due_date_idx" ON "tasks"("organization_id", "due_date");
