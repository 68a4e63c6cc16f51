// Package events is the published language of ConectarProfesionales: the envelope every
// domain event travels in, the JetStream stream and subject names, and one Go type per
// event and version. It depends only on the standard library and a UUID package so that
// every module can import it without pulling in a database driver or a NATS client.
//
// Changes are additive. A breaking change to a payload is a new type with a new Version,
// published side by side with the old one until every consumer has moved.
//
// Subpackages hold the JetStream machinery built on this contract: outbox (transactional
// publishing), inbox (idempotent consumption), consumer (the runner with retries and
// dead letters), streams (bootstrap) and replay.
package events
