# One image for every binary; its command picks which one runs.
#
#   docker run IMAGE                               → combined serve (gateway + both services, one process)
#   docker run IMAGE gateway serve --port 3000     → the gateway alone
#   docker run IMAGE user-service migrate up       → apply migrations and exit
#
# `combined`, `gateway`, `auth-service` and `user-service` are commands on PATH, named as the package
# scripts and the reference's binaries. docker-compose.yml runs this same image once per service,
# overriding the command; one build means the services can never run mismatched versions of the shared
# code. Bun runs the TypeScript sources directly (no compile step); `bun run build` makes single-file
# executables for use outside containers.
#
# NODE_ENV=production: a missing DATABASE_URL, REDIS_URL, JWT_SECRET or INTERNAL_SERVICE_TOKEN stops
# the binary at start instead of falling back to the embedded development defaults.

ARG BUN_VERSION=1.4.5

# Production dependencies only, exactly as locked. No lifecycle scripts: the Prisma Client is already
# generated in gen/, and @prisma/engines' postinstall would only download a CLI engine we don't run.
# No peer dependencies either: @prisma/client's optional peer is the Prisma CLI (a dev dependency,
# like its schema engine); the binaries migrate with gen/migrations.ts. node_modules: 137 MB, not 388.
FROM oven/bun:${BUN_VERSION}-slim AS deps
WORKDIR /app
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile --production --ignore-scripts --omit=peer

FROM oven/bun:${BUN_VERSION}-slim
# The commit build_info reports (docker build --build-arg BUILD_COMMIT=$(git rev-parse --short HEAD)).
ARG BUILD_COMMIT=unknown
WORKDIR /app
ENV NODE_ENV=production \
    DATA_DIR=/data \
    BUILD_COMMIT=${BUILD_COMMIT}
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY gen ./gen
COPY lib ./lib
COPY services ./services
COPY gateway ./gateway
COPY combined ./combined
COPY deploy/healthcheck.ts ./deploy/healthcheck.ts
# `exec` makes Bun PID 1, so SIGTERM from `docker stop` reaches the graceful-shutdown handlers.
RUN set -eu; \
    for entry in combined:combined/main.ts gateway:gateway/main.ts \
                 auth-service:services/auth/main.ts user-service:services/user/main.ts; do \
      name="${entry%%:*}"; \
      printf '#!/bin/sh\nexec bun /app/%s "$@"\n' "${entry#*:}" > "/usr/local/bin/$name"; \
      chmod 755 "/usr/local/bin/$name"; \
    done; \
    mkdir -p /data && chown bun:bun /data
# The oven/bun images' unprivileged user (uid 1000). /data holds only the embedded database and
# development secrets, used when DATABASE_URL or the secrets are unset outside production.
USER bun
EXPOSE 3000 50051 50052
# Checks the gateway's /health, right for the default `combined serve` and for `gateway serve`.
# docker-compose.yml gives the gRPC services their own check (grpc://…, grpc.health.v1).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["bun", "/app/deploy/healthcheck.ts", "http://127.0.0.1:3000/health"]
CMD ["combined", "serve"]
