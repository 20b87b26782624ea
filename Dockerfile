# signpostd on Debian 12: built in one stage, run from a slim one.
FROM debian:12-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc make pkg-config libc6-dev \
    libevent-dev libcurl4-openssl-dev libpq-dev libjson-c-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# OPT=1 is the hardened release build: PIE, full RELRO, stack protector, _FORTIFY_SOURCE=3.
RUN make OPT=1 WERROR=1 bin/signpostd

FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libevent-2.1-7 libevent-extra-2.1-7 \
    libcurl4 libpq5 libjson-c5 libssl3 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --no-create-home --shell /usr/sbin/nologin signpost
COPY --from=build /src/bin/signpostd /usr/local/bin/signpostd
USER signpost
ENV SIGNPOST_LISTEN=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fs http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["signpostd"]
CMD ["serve"]
