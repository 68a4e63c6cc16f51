// Package deploy is the module of the deployment checks; its one piece of code is the
// table of NATS users (natsusers.go) nats.conf is written from. Its tests load
// docker-compose.yml with compose-go, parse nats.conf with the NATS server's own parser
// and enforce its permissions on an embedded server, and build the Kubernetes overlay
// under k8s/ with kustomize, decoding every object strictly into k8s.io/api types. The
// heavy dependencies (compose-go, kustomize, k8s.io) live here, out of the services.
package deploy
