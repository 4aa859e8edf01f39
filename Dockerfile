# syntax=docker/dockerfile:1
# tenantgate: build stage compiles TypeScript to dist/; the runtime stage has
# production dependencies only, runs as a non-root user, and starts with plain node.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm's postinstall applies patches/ (patch-package; docs/patches.md).
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY prisma.config.ts tsconfig.json tsconfig.build.json ./
COPY prisma ./prisma
COPY src ./src
COPY scripts ./scripts
RUN npm run -s generate && npm run -s build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
# --omit=optional: no embedded PostgreSQL binaries in production; DATABASE_URL is required.
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node itself is PID 1's child of tini-less exec form: it receives SIGTERM and drains (SHUTDOWN_DRAIN_MS).
STOPSIGNAL SIGTERM
CMD ["node", "--max-semi-space-size=32", "--no-allocation-site-pretenuring", "dist/src/server.js"]
