#!/bin/sh
# tenantgate never runs Prisma's native schema engine.
#
# Prisma 7 downloads that engine before every CLI command, even `generate`, which
# does not use it. Pointing PRISMA_SCHEMA_ENGINE_BINARY at this file (see
# prisma.config.ts) skips the download so `prisma generate` works offline.
# Migrations are applied by `npm run db:migrate` (src/db/migrate.ts); if you want
# `prisma migrate deploy` instead, install the engine and unset the variable.
echo "tenantgate: the Prisma schema engine is not installed; use 'npm run db:migrate' (see prisma/engine-stub.sh)" >&2
exit 1
