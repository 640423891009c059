# Build stage: the Swift toolchain compiles a release binary (migrations, views and default
# alert files are embedded in it).
FROM swift:6.1-bookworm AS build
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Plugins ./Plugins
COPY Tests ./Tests
COPY sql ./sql
COPY alerts ./alerts
RUN swift build -c release --product envmon --static-swift-stdlib \
    && cp "$(swift build -c release --show-bin-path)/envmon" /envmon

# Run stage: the binary plus psql and PostgreSQL binaries (for `envmon db` and `db psql`).
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client ca-certificates tzdata libcurl4 libxml2 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /envmon /usr/local/bin/envmon
COPY examples /usr/share/envmon/examples
USER nobody
EXPOSE 8080
ENTRYPOINT []
CMD ["envmon", "serve", "--host", "0.0.0.0", "--port", "8080"]
