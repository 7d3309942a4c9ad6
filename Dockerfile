# memtable-node: a Maelstrom storage node speaking JSON lines on stdin/stdout.
#   docker compose run --rm -T node < session.jsonl
# `npm install` builds dist/ through the `prepare` script, so the sources and
# tsconfig.json are copied before it; dev dependencies are pruned after.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
RUN npm install --no-audit --no-fund \
 && npm prune --omit=dev --no-audit --no-fund \
 && npm cache clean --force
COPY bin ./bin
RUN chmod +x bin/memtable-node
ENTRYPOINT ["node", "dist/cli.js"]
