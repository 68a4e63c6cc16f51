// Command conectar is the one binary of ConectarProfesionales. Like Loki's -target, it
// runs any single service, the gateway, or everything in one process, and carries the
// operator tools:
//
//	conectar serve <service>|gateway|all   run components (production: one per container)
//	conectar dev                           the whole system on one machine, batteries included
//	conectar migrate up|status             apply or inspect the SQL of every service schema
//	conectar admin create --email --password
//	conectar seed --professionals N
//	conectar events …                      streams, consumers, tail, replay, dead letters
//	conectar mpsim                         the MercadoPago simulator
//	conectar payments check-ledger
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "conectar:", err)
		os.Exit(1)
	}
}

const usage = `usage: conectar <command> [arguments]

commands:
  serve <service>|gateway|all   run one component, the gateway, or everything
  dev                           run the whole system locally (embedded NATS, simulator, mail catcher)
  migrate up|status             apply or show database migrations
  admin create --email E --password P
  seed --professionals N        create N approved professionals around Buenos Aires
  events <subcommand>           streams, consumers, tail, replay, dlq (see 'conectar events help')
  mpsim                         run the MercadoPago simulator
  payments check-ledger         verify that the escrow ledger balances
  probe <url>                   exit 0 when url answers 2xx (container health checks)
`

var errUsage = errors.New("see 'conectar help'")

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, getenv, stdout)
	case "dev":
		return runDev(ctx, rest, getenv, stdout)
	case "migrate":
		return runMigrate(ctx, rest, getenv, stdout)
	case "admin":
		return runAdmin(ctx, rest, getenv, stdout)
	case "seed":
		return runSeed(ctx, rest, getenv, stdout)
	case "events":
		return runEvents(ctx, rest, getenv, stdout)
	case "mpsim":
		return runMPSim(ctx, rest, getenv, stdout)
	case "payments":
		return runPayments(ctx, rest, getenv, stdout)
	case "probe":
		return runProbe(ctx, rest, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q: %w", cmd, errUsage)
}
