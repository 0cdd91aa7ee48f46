# The Changeflow image: one image for every role (`changeflow migrate`, `changeflow run capture|invalidator|indexer|all`).
#
#   docker build -t changeflow:local .          (or: docker-compose -f compose.yaml build)
#
# Plain Dockerfile syntax on purpose: it builds with the classic builder too (docker-compose 1.29 with a Docker 20.10
# CLI does not use BuildKit by default), so there is no `RUN --mount=type=cache` for ~/.m2. Every build therefore
# downloads Maven and the dependencies once; layer caching keeps repeated builds of unchanged sources free.

# ---- build: the application jar and its dependencies ------------------------------------------------------------
FROM eclipse-temurin:17-jdk AS build
WORKDIR /src
# The whole repository minus .dockerignore (no target/, .git, local data). The reactor needs every module's pom.
COPY . .
# The same build the README documents for one module, for the application: its modules and nothing else, no tests.
# The result is changeflow-cli/target/changeflow.jar, whose manifest Class-Path points at lib/ next to it.
RUN ./mvnw -B -ntp -DskipTests -pl changeflow-cli -am package \
 && test -f changeflow-cli/target/changeflow.jar \
 && test -d changeflow-cli/target/lib

# ---- runtime ----------------------------------------------------------------------------------------------------
FROM eclipse-temurin:17-jre

# curl serves the compose healthchecks (curl -f http://127.0.0.1:8080/ready). The Temurin Ubuntu images ship it today
# ("for historical reasons", adoptium/containers#255); install it only should a future base image drop it.
RUN set -eux; \
    if ! command -v curl >/dev/null 2>&1; then \
        apt-get update; \
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl; \
        rm -rf /var/lib/apt/lists/*; \
    fi; \
    groupadd --system --gid 10001 changeflow; \
    useradd --system --uid 10001 --gid changeflow --home-dir /var/lib/changeflow --no-create-home \
        --shell /usr/sbin/nologin changeflow; \
    install -d -o changeflow -g changeflow -m 0750 /var/lib/changeflow

# Application files belong to root and are read-only for the process.
COPY --from=build /src/changeflow-cli/target/lib/ /opt/changeflow/lib/
COPY --from=build /src/changeflow-cli/target/changeflow.jar /opt/changeflow/changeflow.jar

# The working directory is the only writable place: relative paths such as the Lucene default data/search-index land
# here (mount a volume on /var/lib/changeflow when the embedded Lucene engine is used).
WORKDIR /var/lib/changeflow
USER changeflow:changeflow

# 8080: /health, /ready, /metrics of every process (CHANGEFLOW_HTTP_PORT); 8084: the indexer's search endpoint.
EXPOSE 8080 8084

# java is PID 1, so SIGTERM (docker stop) reaches the JVM directly: a clean stop exits 143.
# Heap from the container's memory limit; an OutOfMemoryError ends the process so the restart policy replaces it.
# Extra JVM flags: set JAVA_TOOL_OPTIONS.
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75.0", "-XX:+ExitOnOutOfMemoryError", "-jar", "/opt/changeflow/changeflow.jar"]
CMD ["run", "all"]
