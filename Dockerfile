# Visage server image. Untested here (no container engine on the development machine); see README "Docker".
# The ONNX models are fetched at build time by `npm ci` (scripts/fetch-models.mjs, from the npm registry,
# checksummed) and baked into the image: nothing is downloaded when a container starts.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# onnxruntime-node's postinstall would fetch CUDA files; its CPU binaries ship in the package.
ENV ONNXRUNTIME_NODE_INSTALL=skip
# better-sqlite3 compiles from source when no prebuilt binary fits the platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
COPY scripts/fetch-models.mjs scripts/build-kernels.mjs scripts/
COPY src/index/kernels.wat src/index/
COPY src/vision/models.json src/vision/area-shrink.wat src/vision/
RUN npm ci --omit=dev --no-audit --no-fund
COPY src src
COPY console console

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    MALLOC_MMAP_THRESHOLD_=16777216 \
    MALLOC_TRIM_THRESHOLD_=536870912 \
    HOST=0.0.0.0 \
    PORT=8080 \
    VISAGE_DATA=/data \
    VISAGE_MODELS=/app/models
COPY --from=build /app /app
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8080
# Readiness (models loaded, store reachable); no curl in the slim image, so Node's fetch.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node is PID 1 and handles SIGTERM itself: in-flight requests finish (VISAGE_SHUTDOWN_TIMEOUT, default 10 s).
STOPSIGNAL SIGTERM
CMD ["node", "--initial-old-space-size=64", "--import", "tsx", "src/main.ts"]
