-- The TASKS quota resource. A migration of its own: a new enum value cannot be
-- used in the transaction that adds it (the next migration uses it).
ALTER TYPE "QuotaResource" ADD VALUE 'TASKS';
