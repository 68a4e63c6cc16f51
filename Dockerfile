# One image for every component: `conectar serve <name>` picks what runs.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY . .
# GOWORK=off proves each module's go.mod is complete on its own (replace lines included).
RUN cd cmd/conectar && GOWORK=off CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/conectar .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/conectar /usr/local/bin/conectar
USER nonroot
ENTRYPOINT ["/usr/local/bin/conectar"]
