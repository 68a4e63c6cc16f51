// Package platform is the root of the plumbing shared by the gateway and every service:
// configuration, PostgreSQL access, error kinds and their HTTP mapping, token
// verification, health, metrics, logging and the test kit. Nothing here knows about
// offers, jobs or payments.
package platform
