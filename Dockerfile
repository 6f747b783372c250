# syntax=docker/dockerfile:1
# Targets:
#   gateway  the production image: compiled gateway (dist/src without the dev PKI), bin,
#            schemas, package.json and production node_modules; no mocks/, test/, bench/,
#            TypeScript or other dev tools. `davis mock-vis`, `davis dev` and `davis certs`
#            exit 2 there, saying the tool is not in this image.
#   mock     the mock central VIS and the dev PKI for `docker compose up` and conformance
#            runs (`davis mock-vis`, `davis certs init`): development and tests only.
# Build one with `docker build --target gateway .` (the last stage, gateway, is the default).

# --- build: every dependency, then the TypeScript compile (the prepare script runs tsc).
# node:20-bookworm carries python3, make and g++ for the native addons (libxmljs2,
# better-sqlite3), which build from source.
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY mocks ./mocks
COPY schemas ./schemas
RUN npm ci --no-audit --no-fund \
 && mkdir -p /out \
 && cp -r dist/src /out/gateway \
 && rm -rf /out/gateway/dev

# --- production dependencies only, native addons built here too.
# --ignore-scripts: the root prepare script (tsc) cannot run without the dev dependencies;
# the addons' own install scripts run in the rebuild.
FROM node:20-bookworm AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3 libxmljs2 \
 && npm cache clean --force

# --- mock: the mock central VIS (dist/mocks) and the dev PKI beside the gateway code.
FROM node:20-bookworm-slim AS mock
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY schemas ./schemas
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/mocks ./dist/mocks
# `davis certs init /pki` writes here as the unprivileged user (a named volume takes this owner).
RUN mkdir -p /pki && chown node:node /pki
USER node
ENTRYPOINT ["node", "/app/bin/davis.js"]
CMD ["mock-vis"]

# --- gateway: production.
FROM node:20-bookworm-slim AS gateway
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY schemas ./schemas
# The compiled gateway without src/dev (the development PKI is not production code).
COPY --from=build /out/gateway ./dist/src
RUN mkdir -p /data && chown node:node /data
USER node
ENTRYPOINT ["node", "/app/bin/davis.js"]
CMD ["serve"]
