# syntax=docker/dockerfile:1
# The worker image: one static binary with the reference specs embedded. Airflow
# runs every task of the pipeline as a pod of this image (KubernetesPodOperator).
#   docker build -t worker:dev .
# The build stage runs docker/build.sh, the same script `make test` runs in CI.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN VERSION=${VERSION} ./docker/build.sh /out/worker

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/worker /usr/local/bin/worker
# DuckDB spills and staged inputs go here; mount an emptyDir sized for the task.
ENV WORKER_WORK_DIR=/tmp/work \
    WORKER_LOG_FORMAT=json
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/worker"]
CMD ["--help"]
