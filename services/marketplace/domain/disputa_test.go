package domain

import (
	"slices"
	"testing"
	"time"
)

func TestDisputeVocabularies(t *testing.T) {
	for _, tc := range []struct {
		in          string
		tipo        string
		front, fine bool
	}{
		{"calidad", "CALIDAD_TRABAJO", true, true},
		{"reembolso", "REEMBOLSO", true, true},
		{"cancelacion", "CANCELACION", true, true},
		{"otro", "OTRO", true, true},
		{"NO_REALIZADO", "NO_REALIZADO", false, true},
		{"CALIDAD_TRABAJO", "CALIDAD_TRABAJO", false, true},
		{"Calidad", "", false, false},
		{"", "", false, false},
	} {
		tipo, front, ok := ParseTipoDisputa(tc.in)
		if tipo != tc.tipo || front != tc.front || ok != tc.fine {
			t.Errorf("ParseTipoDisputa(%q) = %q %v %v", tc.in, tipo, front, ok)
		}
	}
	// Every one of our types and states reads as a word the frontend knows.
	known := map[string]bool{"reembolso": true, "calidad": true, "cancelacion": true, "otro": true,
		"abierta": true, "en_revision": true, "resuelta": true, "rechazada": true}
	for _, tipo := range tiposDisputa {
		for _, e := range []string{DisputaAbierta, DisputaFavorCliente, DisputaFavorProfesional, DisputaDesestimada, DisputaCancelada} {
			ft, fe := DisputaFront(tipo, e)
			if !known[ft] || !known[fe] {
				t.Errorf("DisputaFront(%s, %s) = %s, %s", tipo, e, ft, fe)
			}
		}
	}
	// A frontend type read back is the same word.
	for _, w := range []string{"reembolso", "calidad", "cancelacion", "otro"} {
		tipo, _, _ := ParseTipoDisputa(w)
		if ft, _ := DisputaFront(tipo, DisputaAbierta); ft != w {
			t.Errorf("%s → %s → %s", w, tipo, ft)
		}
	}
	resueltas, ok := EstadosDisputa("resuelta")
	slices.Sort(resueltas)
	if !ok || !slices.Equal(resueltas, []string{DisputaCancelada, DisputaFavorCliente, DisputaFavorProfesional}) {
		t.Errorf("resuelta = %v", resueltas)
	}
	if e, ok := EstadosDisputa("DESESTIMADA"); !ok || !slices.Equal(e, []string{DisputaDesestimada}) {
		t.Errorf("DESESTIMADA = %v", e)
	}
	if e, ok := EstadosDisputa("en_revision"); !ok || len(e) != 0 {
		t.Errorf("en_revision = %v %v", e, ok)
	}
	if _, ok := EstadosDisputa("volando"); ok {
		t.Error("unknown state accepted")
	}
	if tipos, ok := TiposDisputa("reembolso"); !ok || !slices.Contains(tipos, "NO_REALIZADO") || !slices.Contains(tipos, "REEMBOLSO") {
		t.Errorf("reembolso = %v", tipos)
	}
	for favor, want := range map[string]Outcome{"cliente": {DisputaFavorCliente, EstadoCancelado},
		"profesional": {DisputaFavorProfesional, EstadoAprobado}, "ninguno": {DisputaDesestimada, ""}} {
		if got, ok := ResolveOutcome(favor); !ok || got != want {
			t.Errorf("ResolveOutcome(%s) = %+v", favor, got)
		}
	}
	if _, ok := ResolveOutcome("nadie"); ok {
		t.Error("unknown favor accepted")
	}
}

func TestDisputeRules(t *testing.T) {
	j := job(EstadoDisputado, EscrowEnEscrow)
	open := Dispute{Job: j, AbiertaPor: "c", Estado: DisputaAbierta}
	closed := open
	closed.Estado = DisputaCancelada
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"client sees", CanSeeDispute(open, cli), "ok"},
		{"admin sees", CanSeeDispute(open, adm), "ok"},
		{"stranger cannot see", CanSeeDispute(open, other), "403"},
		{"pro adds evidence", CanAddEvidence(open, pro), "ok"},
		{"admin adds no evidence", CanAddEvidence(open, adm), "403"},
		{"no evidence when closed", CanAddEvidence(closed, cli), "400"},
		{"admin writes", CanPostDisputeMessage(open, adm), "ok"},
		{"stranger cannot write", CanPostDisputeMessage(open, other), "403"},
		{"no messages when closed", CanPostDisputeMessage(closed, pro), "400"},
		{"opener cancels", CanCancelDispute(open, cli), "ok"},
		{"other party cannot cancel", CanCancelDispute(open, pro), "403"},
		{"admin cannot cancel", CanCancelDispute(open, adm), "403"},
		{"no second cancel", CanCancelDispute(closed, cli), "400"},
	} {
		if got := kind(tc.err); got != tc.want {
			t.Errorf("%s: got %s (%v), want %s", tc.name, got, tc.err, tc.want)
		}
	}
}

func TestReviewRules(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	fresh := Review{ClienteID: "c", ProfesionalID: "p", Creada: now.Add(-23 * time.Hour)}
	old := Review{ClienteID: "c", ProfesionalID: "p", Creada: now.Add(-25 * time.Hour)}
	replied := now.Add(-time.Hour)
	longAgo := now.Add(-48 * time.Hour)
	withReply, withOldReply := fresh, fresh
	withReply.Respondida, withOldReply.Respondida = &replied, &longAgo
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"author edits fresh", CanEditReview(fresh, cli, now), "ok"},
		{"author cannot edit old", CanEditReview(old, cli, now), "400"},
		{"pro cannot edit", CanEditReview(fresh, pro, now), "403"},
		{"admin cannot edit", CanEditReview(fresh, adm, now), "403"},
		{"author deletes fresh", CanDeleteReview(fresh, cli, now), "ok"},
		{"author cannot delete old", CanDeleteReview(old, cli, now), "400"},
		{"admin deletes old", CanDeleteReview(old, adm, now), "ok"},
		{"stranger cannot delete", CanDeleteReview(fresh, other, now), "403"},
		{"pro replies", CanReply(old, pro, now), "ok"},
		{"pro rewords within a day", CanReply(withReply, pro, now), "ok"},
		{"pro cannot reword later", CanReply(withOldReply, pro, now), "400"},
		{"client cannot reply", CanReply(fresh, cli, now), "403"},
		{"author cannot report", CanReport(fresh, cli), "400"},
		{"pro reports", CanReport(fresh, pro), "ok"},
	} {
		if got := kind(tc.err); got != tc.want {
			t.Errorf("%s: got %s (%v), want %s", tc.name, got, tc.err, tc.want)
		}
	}
}
