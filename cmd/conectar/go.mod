module github.com/conectarpro/conectar/cmd/conectar

go 1.26.0

replace github.com/conectarpro/conectar/events => ../../events

replace github.com/conectarpro/conectar/platform => ../../platform

replace github.com/conectarpro/conectar/migrations => ../../migrations

replace github.com/conectarpro/conectar/gateway => ../../gateway

replace github.com/conectarpro/conectar/services/auth => ../../services/auth

replace github.com/conectarpro/conectar/services/users => ../../services/users

replace github.com/conectarpro/conectar/services/professionals => ../../services/professionals

replace github.com/conectarpro/conectar/services/marketplace => ../../services/marketplace

replace github.com/conectarpro/conectar/services/payments => ../../services/payments

replace github.com/conectarpro/conectar/services/notifications => ../../services/notifications

require (
	github.com/chromedp/chromedp v0.23.1
	github.com/conectarpro/conectar/events v0.0.0-00010101000000-000000000000
	github.com/conectarpro/conectar/gateway v0.0.0-00010101000000-000000000000
	github.com/conectarpro/conectar/migrations v0.0.0-00010101000000-000000000000
	github.com/conectarpro/conectar/platform v0.0.0-00010101000000-000000000000
	github.com/conectarpro/conectar/services/auth v0.0.0-00010101000000-000000000000
	github.com/conectarpro/conectar/services/marketplace v0.0.0-00010101000000-000000000000
	github.com/conectarpro/conectar/services/notifications v0.0.0-00010101000000-000000000000
	github.com/conectarpro/conectar/services/payments v0.0.0-00010101000000-000000000000
	github.com/conectarpro/conectar/services/professionals v0.0.0-00010101000000-000000000000
	github.com/conectarpro/conectar/services/users v0.0.0-00010101000000-000000000000
	github.com/fasthttp/websocket v1.5.12
	github.com/getkin/kin-openapi v0.153.0
	github.com/jackc/pgx/v5 v5.13.0
	github.com/nats-io/nats.go v1.55.0
)

require (
	github.com/bahlo/generic-list-go v0.2.0 // indirect
	github.com/buger/jsonparser v1.1.2 // indirect
	github.com/chromedp/cdproto v0.160.1 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/go-openapi/jsonpointer v1.0.0 // indirect
	github.com/gorilla/mux v1.8.0 // indirect
	github.com/invopop/jsonschema v0.14.0 // indirect
	github.com/pb33f/ordered-map/v2 v2.3.1 // indirect
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3 // indirect
	go.yaml.in/yaml/v4 v4.0.0 // indirect
)

require (
	github.com/SherClockHolmes/webpush-go v1.4.0 // indirect
	github.com/alexedwards/argon2id v1.0.0 // indirect
	github.com/antithesishq/antithesis-sdk-go v0.9.0-default-no-op // indirect
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/conectarpro/conectar/deploy v0.0.0-00010101000000-000000000000
	github.com/emersion/go-sasl v0.0.0-20241020182733-b788ff22d5a6 // indirect
	github.com/emersion/go-smtp v0.25.1 // indirect
	github.com/gofiber/contrib/websocket v1.3.4 // indirect
	github.com/gofiber/fiber/v2 v2.52.15 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/google/go-tpm v0.9.8 // indirect
	github.com/google/uuid v1.6.0
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/mattn/go-colorable v0.1.13 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	github.com/mattn/go-runewidth v0.0.16 // indirect
	github.com/mercadopago/sdk-go v1.8.0 // indirect
	github.com/minio/highwayhash v1.0.4 // indirect
	github.com/molecule-man/go-brrr v1.3.1 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/nats-io/jwt/v2 v2.8.3 // indirect
	github.com/nats-io/nats-server/v2 v2.15.3 // indirect
	github.com/nats-io/nkeys v0.4.17 // indirect
	github.com/nats-io/nuid v1.0.1 // indirect
	github.com/philhofer/fwd v1.1.3-0.20240916144458-20a13a1f6b7c // indirect
	github.com/prometheus/client_golang v1.25.0 // indirect
	github.com/prometheus/client_model v0.6.3
	github.com/prometheus/common v0.72.0
	github.com/prometheus/procfs v0.22.0 // indirect
	github.com/rivo/uniseg v0.2.0 // indirect
	github.com/savsgio/gotils v0.0.0-20240704082632-aef3928b8a38 // indirect
	github.com/sony/gobreaker/v2 v2.4.0 // indirect
	github.com/tinylib/msgp v1.2.5 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	github.com/valyala/fasthttp v1.78.0 // indirect
	github.com/wneessen/go-mail v0.8.1 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	golang.org/x/time v0.16.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace github.com/conectarpro/conectar/deploy => ../../deploy
