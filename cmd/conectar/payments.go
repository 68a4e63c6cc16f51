package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/conectarpro/conectar/platform/config"
	"github.com/conectarpro/conectar/platform/pg"
	payments "github.com/conectarpro/conectar/services/payments"
	"github.com/conectarpro/conectar/services/payments/mpsim"
)

// runMPSim runs the MercadoPago simulator until ctx ends.
//
//	conectar mpsim [--addr 127.0.0.1:8090] [--secret S] [--token T] [--public-url U]
//
// Flags default to MPSIM_ADDR, MP_WEBHOOK_SECRET, MP_ACCESS_TOKEN and MPSIM_PUBLIC_URL.
func runMPSim(ctx context.Context, args []string, getenv config.Getenv, stdout io.Writer) error {
	r := config.NewReader(getenv)
	fs := flag.NewFlagSet("mpsim", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", r.String("MPSIM_ADDR", "127.0.0.1:8090"), "listen address")
	secret := fs.String("secret", r.String("MP_WEBHOOK_SECRET", "dev-webhook-secret"), "webhook signing secret")
	token := fs.String("token", r.String("MP_ACCESS_TOKEN", "TEST-dev-token"), "access token API calls must carry (empty: any)")
	public := fs.String("public-url", r.String("MPSIM_PUBLIC_URL", ""), "base URL of checkout links (default: the listen address)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sim := mpsim.New(mpsim.Config{AccessToken: *token, WebhookSecret: *secret, PublicURL: *public,
		Log: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	u, err := sim.Start(*addr)
	if err != nil {
		return err
	}
	defer sim.Close()
	fmt.Fprintf(stdout, "MercadoPago simulator on %s (MP_BASE_URL=%s); checkout pages at %s/checkout/v1/redirect?pref_id=…; control API under %s/_sim/\n", u, u, u, u)
	<-ctx.Done()
	return nil
}

// runPayments carries the payments operator tools.
//
//	conectar payments check-ledger    verify the escrow ledger (exit status 1 when it does not balance)
func runPayments(ctx context.Context, args []string, getenv config.Getenv, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "check-ledger" {
		fmt.Fprintln(stdout, "usage: conectar payments check-ledger [--json]")
		return errUsage
	}
	fs := flag.NewFlagSet("check-ledger", flag.ContinueOnError)
	fs.SetOutput(stdout)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	s, err := loadSettings(getenv)
	if err != nil {
		return err
	}
	pool, err := pg.Open(ctx, s.DatabaseURL, payments.Name, pg.Size{Max: 2})
	if err != nil {
		return fmt.Errorf("check-ledger: %w", err)
	}
	defer pool.Close()
	rep, err := payments.CheckLedger(ctx, pool)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else {
		fmt.Fprintf(stdout, "ledger: %d transactions, %d entries\n", rep.Transactions, rep.Entries)
		for _, acc := range []string{"mp_balance", "escrow", "professional_payable", "professional_reserved", "platform_revenue", "chargeback_losses"} {
			fmt.Fprintf(stdout, "  %-22s %s\n", acc, centavos(rep.Balances[acc]))
		}
		for _, d := range rep.Debts {
			fmt.Fprintf(stdout, "DEBT: professional %s owes %s after a chargeback\n", d.UsuarioID, centavos(d.Monto))
		}
		for _, p := range rep.Problems {
			fmt.Fprintf(stdout, "PROBLEM: %s\n", p)
		}
	}
	if len(rep.Problems) > 0 {
		return errors.New("check-ledger: the ledger does not balance (" + strings.Join(rep.Problems, "; ") + ")")
	}
	fmt.Fprintln(stdout, "OK: the ledger balances")
	return nil
}

func centavos(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}
