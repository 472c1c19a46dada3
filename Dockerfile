# The LRS service image: `docker compose up` runs it next to MongoDB (docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY lrs lrs
COPY content_store content_store
COPY schemas schemas
COPY service service
RUN pip install --no-cache-dir .
ENV LRS_HOST=0.0.0.0 LRS_PORT=8080 LRS_DATA_DIR=/data
VOLUME /data
EXPOSE 8080
CMD ["lrs", "serve"]
