# The LRS service image: `docker compose up` runs it next to MongoDB (docker-compose.yml).
# scorm-again (the SCORM API the player serves to browsers) comes from the npm registry, pinned by
# package-lock.json.
FROM node:20-slim AS browser
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM python:3.11-slim
WORKDIR /app
COPY --from=browser /build/node_modules/scorm-again/dist /app/scorm-again
COPY pyproject.toml README.md ./
COPY lrs lrs
COPY content_store content_store
COPY player player
COPY rules rules
COPY schemas schemas
COPY rules rules
COPY web web
COPY service service
RUN pip install --no-cache-dir .
ENV LRS_HOST=0.0.0.0 LRS_PORT=8080 LRS_DATA_DIR=/data LRS_SCORM_AGAIN_DIR=/app/scorm-again
VOLUME /data
# 8080: the main origin (xAPI, admin APIs); 8081: the content origin (course files, the learner's player)
EXPOSE 8080 8081
CMD ["lrs", "serve"]
