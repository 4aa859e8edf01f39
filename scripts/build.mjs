// npm run build: the gateway and its scripts compiled to dist/ (plain node, no tsx),
// with the files they read at run time beside them.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
// src/db/migrate.ts reads ../../prisma/migrations from its own directory.
cpSync('prisma/migrations', 'dist/prisma/migrations', { recursive: true });
// The dashboard's browser script is served as it is.
cpSync('src/ops/dashboard/page.js', 'dist/src/ops/dashboard/page.js');
console.log('Built dist/: start it with `npm run start:prod` (node dist/src/server.js).');
