# Jepsen Maelstrom v0.2.4 with memtable-node built into /app, to run e.g.
#   maelstrom test -w lin-kv --bin /app/bin/memtable-node --node-count 1 --time-limit 20 --concurrency 4
# Build context: the repository root (see docker-compose.yml).

# Stage 1: build the node with Node 20 (`npm install` builds dist/ via `prepare`).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
RUN npm install --no-audit --no-fund \
 && npm prune --omit=dev --no-audit --no-fund
COPY bin ./bin
RUN chmod +x bin/memtable-node

# Stage 2: a JRE for Maelstrom, gnuplot and graphviz for its plots, and the
# same Node 20 binary as stage 1.
FROM eclipse-temurin:21-jre
ARG MAELSTROM_VERSION=v0.2.4
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      bzip2 ca-certificates curl gnuplot-nox graphviz libstdc++6 \
 && rm -rf /var/lib/apt/lists/*
RUN curl -fsSL "https://github.com/jepsen-io/maelstrom/releases/download/${MAELSTROM_VERSION}/maelstrom.tar.bz2" \
      | tar -xj -C /opt \
 && test -x /opt/maelstrom/maelstrom
ENV PATH="/opt/maelstrom:${PATH}"
COPY --from=build /usr/local/bin/node /usr/local/bin/node
COPY --from=build /app /app
RUN node --version && /app/bin/memtable-node --help >/dev/null
# Maelstrom writes its results under ./store: mount a host folder there.
WORKDIR /work
CMD ["maelstrom", "test", "-w", "lin-kv", "--bin", "/app/bin/memtable-node", "--node-count", "1", "--time-limit", "20", "--concurrency", "4"]
