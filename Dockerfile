# One image for both Maskline processes; the command picks one:
#   HTTP server:  node dist/src/server/main.js   (the default)
#   worker:       node dist/src/worker/main.js
# The image runs the compiled JavaScript (`npm run build`): no TypeScript loader in production, so each process
# starts faster and holds about 40 MB less (BENCHMARKS.md); test/build.test.ts runs this build before it ships.

FROM node:24-bookworm-slim AS build
WORKDIR /app
# Install scripts stay off, as on the developers' machines (npm 11 holds them back there); nothing we use needs them.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
RUN npm run build

FROM node:24-bookworm-slim
# Production: the processes refuse MASKLINE_DEVELOPMENT_MODE=true under NODE_ENV=production, and stop at start
# naming every credential that is missing, so the image never runs with a door left open.
ENV NODE_ENV=production
WORKDIR /app
# Runtime dependencies only. The worker bundles the compiled workflows at start with the SDK's own bundler, which is
# one of @temporalio/worker's dependencies.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist

USER node
EXPOSE 3000
# Node receives SIGTERM directly (no shell in between), so `docker stop` shuts the process down cleanly.
CMD ["node", "dist/src/server/main.js"]
