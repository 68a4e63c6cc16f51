package domain

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/conectarpro/conectar/platform/apperr"
)

var update = flag.Bool("update", false, "rewrite docs/lifecycle.md and its SVG diagrams from the lifecycle table")

var allRoles = []Role{RoleCliente, RoleProfesional, RoleAdmin, RoleSystem, RoleNone}

// refusedWell fails unless err is a 4xx apperr with a code and a Spanish detail: 403
// when the role may not make the move at all, else 400.
func refusedWell(t *testing.T, what string, err error, roleAllowed bool) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Code == "" || e.Msg == "" {
		t.Errorf("%s: refused with %v, want an apperr with code and detail", what, err)
		return
	}
	want := apperr.KindForbidden
	if roleAllowed {
		want = apperr.KindInvalid
	}
	if e.Kind != want {
		t.Errorf("%s: kind %v (%s), want %v", what, e.Kind, e.Code, want)
	}
}

// TestWalkJobMachine tries every move of the job table in every (work state, money
// state) with every role: what the row allows succeeds, everything else is a 4xx.
func TestWalkJobMachine(t *testing.T) {
	m := JobMachine()
	allowedN, refusedN := 0, 0
	for _, tr := range m.Transitions {
		if tr.Creates {
			continue
		}
		for _, estado := range m.States {
			for _, escrow := range m.EscrowStates {
				for _, r := range allRoles {
					j := Job{ClienteID: "c", ProfesionalID: "p", Estado: estado, EstadoEscrow: escrow}
					roleOK := slices.Contains(tr.Roles, r)
					moneyOK := tr.EscrowFrom == nil || slices.Contains(tr.EscrowFrom, escrow)
					stateOK := tr.Trigger != "" || slices.Contains(tr.From, estado)
					err := CheckJobAs(j, tr.Move, r)
					what := tr.Move + " " + estado + "/" + escrow + " as " + string(r)
					if roleOK && moneyOK && stateOK {
						allowedN++
						if err != nil {
							t.Errorf("%s: allowed by the table, refused: %v", what, err)
						}
						continue
					}
					refusedN++
					refusedWell(t, what, err, roleOK)
					if MoneyAllows(j, tr.Move) && r == RoleSystem {
						t.Errorf("%s: MoneyAllows disagrees with the check", what)
					}
				}
			}
		}
	}
	if allowedN == 0 || refusedN == 0 {
		t.Fatalf("walked %d allowed and %d refused moves", allowedN, refusedN)
	}
}

// TestWalkOfferMachine does the same for offers, before and after their expiry.
func TestWalkOfferMachine(t *testing.T) {
	m := OfferMachine()
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	later, earlier := now.Add(time.Hour), now.Add(-time.Second)
	for _, tr := range m.Transitions {
		if tr.Creates {
			continue
		}
		for _, estado := range m.States {
			for _, exp := range []*time.Time{nil, &later, &earlier, &now} {
				expired := exp != nil && !now.Before(*exp)
				for _, r := range allRoles {
					o := Offer{ClienteID: "c", ProfesionalID: "p", Estado: estado, ExpiresAt: exp}
					roleOK := slices.Contains(tr.Roles, r)
					ok := roleOK && slices.Contains(tr.From, estado) && !(tr.BeforeExpiry && expired)
					err := CheckOfferAs(o, tr.Move, r, now)
					what := tr.Move + " " + estado + " as " + string(r)
					if expired {
						what += " (expired)"
					}
					if ok {
						if err != nil {
							t.Errorf("%s: allowed by the table, refused: %v", what, err)
						}
						continue
					}
					refusedWell(t, what, err, roleOK)
				}
			}
		}
	}
}

// TestRoleOfActor: the handlers' actors map onto the table's roles (an admin who is a
// party acts as the party; an admin is no role in an offer).
func TestRoleOfActor(t *testing.T) {
	j := job(EstadoPagado, EscrowEnEscrow)
	for a, want := range map[Actor]Role{cli: RoleCliente, pro: RoleProfesional, adm: RoleAdmin, other: RoleNone,
		{ID: "c", Rol: "ADMIN"}: RoleCliente} {
		if got := RoleInJob(j, a); got != want {
			t.Errorf("RoleInJob(%v) = %q, want %q", a, got, want)
		}
	}
	o := Offer{ClienteID: "c", ProfesionalID: "p"}
	for id, want := range map[string]Role{"c": RoleCliente, "p": RoleProfesional, "a": RoleNone} {
		if got := RoleInOffer(o, id); got != want {
			t.Errorf("RoleInOffer(%s) = %q, want %q", id, got, want)
		}
	}
	if err := CheckJob(j, "volar", cli); err == nil || apperr.KindOf(err) != apperr.KindInternal {
		t.Errorf("an unknown move is a bug, not a refusal: %v", err)
	}
}

// TestTablesAreWellFormed: every state a row names is a state of its machine, every
// state can be reached from creation, every state that is not final can be left, and
// every refusal says something.
func TestTablesAreWellFormed(t *testing.T) {
	for _, m := range []Machine{OfferMachine(), JobMachine()} {
		known := func(s string) bool { return slices.Contains(m.States, s) || s == "" || s == ToPrevio }
		reach := map[string]bool{}
		seen := map[string]bool{}
		for _, tr := range m.Transitions {
			if seen[tr.Move] {
				t.Errorf("%s: move %s declared twice", m.Name, tr.Move)
			}
			seen[tr.Move] = true
			if !known(tr.To) || slices.ContainsFunc(tr.From, func(s string) bool { return !known(s) }) {
				t.Errorf("%s.%s names a state the machine lacks", m.Name, tr.Move)
			}
			for _, s := range append(slices.Clone(tr.EscrowFrom), tr.EscrowTo) {
				if s != "" && !slices.Contains(m.EscrowStates, s) {
					t.Errorf("%s.%s names money state %s", m.Name, tr.Move, s)
				}
			}
			if len(tr.Roles) == 0 || tr.NotYours.Code == "" || tr.NotYours.Msg == "" {
				t.Errorf("%s.%s: no roles or no refusal", m.Name, tr.Move)
			}
			if (tr.Timer != nil || tr.Trigger != "") != slices.Equal(tr.Roles, []Role{RoleSystem}) {
				t.Errorf("%s.%s: timers and events, and only they, are the system's", m.Name, tr.Move)
			}
			if tr.Creates {
				reach[tr.To] = true
			}
		}
		for grew := true; grew; {
			grew = false
			for _, tr := range m.Transitions {
				for _, from := range tr.From {
					for _, to := range m.targets(tr, from) {
						if reach[from] && !reach[to] {
							reach[to], grew = true, true
						}
					}
				}
			}
		}
		for _, s := range m.States {
			if !reach[s] {
				t.Errorf("%s: state %s cannot be reached", m.Name, s)
			}
			leaves := slices.ContainsFunc(m.Transitions, func(tr Transition) bool {
				return slices.Contains(tr.From, s) && tr.To != s && tr.To != ""
			})
			if !leaves && !slices.Contains(m.Final, s) {
				t.Errorf("%s: state %s is neither final nor left by any move", m.Name, s)
			}
		}
	}
}

// TestLifecycleDoc fails when docs/lifecycle.md is not what the table renders; -update
// rewrites it.
func TestLifecycleDoc(t *testing.T) {
	path := filepath.Join("..", "..", "..", "docs", "lifecycle.md")
	want := LifecycleDoc()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (generate it with: go test ./domain -run TestLifecycleDoc -update)", err)
	}
	if string(got) != want {
		g, w := strings.Split(string(got), "\n"), strings.Split(want, "\n")
		i := 0
		for i < len(g) && i < len(w) && g[i] == w[i] {
			i++
		}
		line := func(ls []string) string {
			if i < len(ls) {
				return ls[i]
			}
			return "(end of file)"
		}
		t.Fatalf("docs/lifecycle.md is stale (line %d is %q, the table renders %q); run go test ./domain -run TestLifecycleDoc -update",
			i+1, line(g), line(w))
	}
}

// TestMermaidEdges pins a few edges of the rendering, so a broken renderer is caught
// even when the document was regenerated with it.
func TestMermaidEdges(t *testing.T) {
	offer, job := OfferMachine().Mermaid(), JobMachine().Mermaid()
	money := JobMachine().MoneyMermaid()
	for _, want := range []struct{ in, edge string }{
		{offer, "    [*] --> OFERTADO : crear · profesional\n"},
		{offer, "    OFERTADO --> EXPIRADO : expirar · system · ⏱ 168 h desde la creación (OFFER_TTL)\n"},
		{offer, "    OFERTADO --> ACEPTADO : aceptar · cliente · antes de expires_at\n"},
		{job, "    COMPLETADO --> APROBADO : aprobar_automaticamente · system · escrow PAGADO_EN_ESCROW · ⏱ 72 h desde completar (AUTO_APPROVE_AFTER)\n"},
		{job, "    DISPUTADO --> EN_PROCESO : desestimar_disputa · admin · escrow PAGADO_EN_ESCROW\n"},
		{job, "    PAGADO --> EN_PROCESO : iniciar · profesional · escrow PAGADO_EN_ESCROW\n"},
		{money, "    PAGADO_EN_ESCROW --> LIBERADO : liberar · system · estado → APROBADO · ⚡ EscrowReleased\n"},
		{money, "    LIBERADO --> [*]\n"},
		{job, "    PENDIENTE_PAGO --> CANCELADO : vencer_checkout · system · escrow PENDIENTE_PAGO · escrow → CANCELADO · ⏱ 72 h desde el link de pago (CHECKOUT_TTL, payments) · ⚡ PaymentCheckoutExpired\n"},
		{offer, "    ACEPTADO --> EXPIRADO : vencer_pago · system · ⚡ PaymentCheckoutExpired\n"},
	} {
		if !strings.Contains(want.in, want.edge) {
			t.Errorf("missing edge %q in\n%s", want.edge, want.in)
		}
	}
}
