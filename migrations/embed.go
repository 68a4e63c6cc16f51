// Package migrations holds the SQL of every service schema (migrations/<service>/NNNN_*.sql)
// embedded in the binary, and applies it: each service gets its own schema and its own
// login role with rights on that schema only, and each schema keeps its own history
// table, so services never share tables or interleave histories.
package migrations

import "embed"

//go:embed common/*.sql auth/*.sql users/*.sql professionals/*.sql marketplace/*.sql payments/*.sql notifications/*.sql
var files embed.FS

// Services lists the service schemas in the order they are migrated.
func Services() []string {
	return []string{"auth", "users", "professionals", "marketplace", "payments", "notifications"}
}

// Role is the database role a service connects as.
func Role(service string) string { return "conectar_" + service }
