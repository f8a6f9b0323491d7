# Runbook bot: one image, run as many replicas as you like behind a load balancer
# (they share Postgres via DATABASE_URL and Redis via REDIS_URL).
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production PORT=3000 RUNBOOK_DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json runbook.example.yml manifest.yml ./
COPY src ./src
COPY commands ./commands
COPY templates ./templates
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Node 24 runs the TypeScript sources directly (type stripping); no build step. --liftoff-only: V8's
# baseline WebAssembly compiler only (PGlite, the type stripper): no optimising recompiles, which
# cost ~500 MB of peak and ~50 MB of steady RSS with PGlite and ~10 MB with Postgres (see README).
CMD ["node", "--liftoff-only", "src/main.ts"]
