package domain

import (
	"testing"
	"time"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/money"
)

var (
	cli   = Actor{ID: "c", Rol: "CLIENTE"}
	pro   = Actor{ID: "p", Rol: "PROFESIONAL"}
	adm   = Actor{ID: "a", Rol: "ADMIN"}
	other = Actor{ID: "x", Rol: "CLIENTE"}
)

func job(estado, escrow string) Job {
	return Job{ClienteID: "c", ProfesionalID: "p", Estado: estado, EstadoEscrow: escrow}
}

func kind(err error) string {
	if err == nil {
		return "ok"
	}
	switch apperr.KindOf(err) {
	case apperr.KindForbidden:
		return "403"
	case apperr.KindInvalid:
		return "400"
	}
	return "other"
}

func TestJobRules(t *testing.T) {
	paid := job(EstadoPagado, EscrowEnEscrow)
	enProceso := job(EstadoEnProceso, EscrowEnEscrow)
	completado := job(EstadoCompletado, EscrowEnEscrow)
	pendiente := job(EstadoPendientePago, EscrowPendientePago)
	disputado := job(EstadoDisputado, EscrowEnEscrow)
	liberado := job(EstadoAprobado, EscrowLiberado)
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"pro starts paid", CanStart(paid, pro), "ok"},
		{"client cannot start", CanStart(paid, cli), "403"},
		{"admin cannot start", CanStart(paid, adm), "403"},
		{"cannot start unpaid", CanStart(pendiente, pro), "400"},
		{"cannot start twice", CanStart(enProceso, pro), "400"},
		{"pro delivers", CanDeliver(enProceso, pro), "ok"},
		{"cannot deliver paid", CanDeliver(paid, pro), "400"},
		{"client cannot deliver", CanDeliver(enProceso, cli), "403"},
		{"client approves delivered", CanApprove(completado, cli, true), "ok"},
		{"step approve needs delivery", CanApprove(enProceso, cli, true), "400"},
		{"finalizar from paid", CanApprove(paid, cli, false), "ok"},
		{"pro cannot approve", CanApprove(completado, pro, false), "403"},
		{"stranger cannot approve", CanApprove(completado, other, false), "403"},
		{"cannot approve unpaid", CanApprove(pendiente, cli, false), "400"},
		{"disputed is frozen", CanApprove(disputado, cli, false), "400"},
		{"cannot approve twice", CanApprove(liberado, cli, false), "400"},
		{"client disputes", CanDispute(enProceso, cli), "ok"},
		{"pro disputes", CanDispute(completado, pro), "ok"},
		{"admin cannot open", CanDispute(completado, adm), "403"},
		{"no dispute unpaid", CanDispute(pendiente, cli), "400"},
		{"no second dispute", CanDispute(disputado, cli), "400"},
		{"review after release", CanReview(liberado, cli), "ok"},
		{"no review before release", CanReview(completado, cli), "400"},
		{"review while release is in flight", CanReview(job(EstadoAprobado, EscrowEnEscrow), cli), "ok"},
		{"no review of a cancelled job", CanReview(job(EstadoCancelado, EscrowReembolsado), cli), "400"},
		{"pro cannot review", CanReview(liberado, pro), "403"},
		{"view stranger", CanView(paid, other), "403"},
		{"view admin", CanView(paid, adm), "ok"},
	}
	for _, tc := range cases {
		if got := kind(tc.err); got != tc.want {
			t.Errorf("%s: got %s (%v), want %s", tc.name, got, tc.err, tc.want)
		}
	}
}

func TestCanCancel(t *testing.T) {
	cases := []struct {
		j    Job
		a    Actor
		paid bool
		want string
	}{
		{job(EstadoPendientePago, EscrowPendientePago), cli, false, "ok"},
		{job(EstadoPagado, EscrowEnEscrow), cli, true, "ok"},
		{job(EstadoCompletado, EscrowEnEscrow), pro, true, "ok"},
		{job(EstadoEnProceso, EscrowEnEscrow), adm, true, "ok"},
		{job(EstadoEnProceso, EscrowEnEscrow), other, false, "403"},
		{job(EstadoAprobado, EscrowLiberado), cli, false, "400"},
		{job(EstadoCancelado, EscrowCancelado), cli, false, "400"},
		{job(EstadoDisputado, EscrowEnEscrow), cli, false, "400"},
	}
	for i, tc := range cases {
		paid, err := CanCancel(tc.j, tc.a)
		if kind(err) != tc.want || paid != tc.paid {
			t.Errorf("case %d: paid=%v err=%v, want paid=%v %s", i, paid, err, tc.paid, tc.want)
		}
	}
}

func TestOfferRules(t *testing.T) {
	now := time.Now()
	past := now.Add(-time.Minute)
	open := Offer{ClienteID: "c", ProfesionalID: "p", Estado: OfertaOfertado}
	if kind(CanAnswer(open, "c", "aceptar", now)) != "ok" || kind(CanAnswer(open, "p", "aceptar", now)) != "403" {
		t.Fatal("only the client answers")
	}
	closed := open
	closed.Estado = OfertaRechazado
	if kind(CanAnswer(closed, "c", "aceptar", now)) != "400" {
		t.Fatal("only open offers")
	}
	expired := open
	expired.ExpiresAt = &past
	if kind(CanAnswer(expired, "c", "aceptar", now)) != "400" {
		t.Fatal("expired offers cannot be accepted")
	}
	if kind(CanWithdraw(open, "p")) != "ok" || kind(CanWithdraw(open, "c")) != "403" || kind(CanWithdraw(closed, "p")) != "400" {
		t.Fatal("withdraw rules")
	}
	for _, tc := range []struct {
		d    string
		p    money.Centavos
		fail bool
	}{
		{"Cambio de cañería completa", 1500000, false},
		{"corto", 1500000, true},
		{"Cambio de cañería completa", 0, true},
		{"Cambio de cañería completa", -5, true},
		{"Cambio de cañería completa", MaxPrecio, false},
		{"Cambio de cañería completa", MaxPrecio + 1, true},
	} {
		if err := ValidateOffer(tc.d, tc.p); (err != nil) != tc.fail {
			t.Errorf("ValidateOffer(%q, %d) = %v", tc.d, tc.p, err)
		}
	}
}
