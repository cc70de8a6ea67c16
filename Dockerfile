# One image for both Maskline processes; the command picks one:
#   HTTP server:  node --import tsx src/server/main.ts   (the default)
#   worker:       node --import tsx src/worker/main.ts
FROM node:20-bookworm-slim

ENV NODE_ENV=production
WORKDIR /app

# tsx (a devDependency) runs the TypeScript sources, and the worker bundles the workflows at start, so the image
# keeps the full dependency set. Install scripts stay off, as on the developers' machines (npm 11 holds them
# back there); nothing we use needs them.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund && npm cache clean --force

COPY tsconfig.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities

USER node
EXPOSE 3000
# Node receives SIGTERM directly (no shell in between), so `docker stop` shuts the process down cleanly.
CMD ["node", "--import", "tsx", "src/server/main.ts"]
