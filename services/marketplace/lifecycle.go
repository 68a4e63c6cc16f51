package marketplace

import (
	"slices"

	"github.com/gofiber/fiber/v2"

	"github.com/conectarpro/conectar/platform/api"
	"github.com/conectarpro/conectar/services/marketplace/domain"
)

// The offer and job lifecycles, published: the diagram (domain.Machine.SVG) and the
// rows as JSON, both read from the table the handlers enforce, so the gateway's
// /docs/lifecycle page shows the rules that run, not a drawing of them. Public: they
// say nothing about any offer or job.

// Lifecycle is one state machine as the table declares it.
type Lifecycle struct {
	Machine      string          `json:"machine" jsonschema:"enum=oferta,enum=trabajo"`
	States       []string        `json:"states" jsonschema:"description=the work states (for offers the offer's states)"`
	Initial      string          `json:"initial" jsonschema:"description=the state the creating move enters"`
	Final        []string        `json:"final"`
	EscrowStates []string        `json:"escrow_states" jsonschema:"description=the money states (estado_escrow) that guard the job's moves; empty for offers"`
	Moves        []LifecycleMove `json:"moves"`
	Diagram      string          `json:"diagram" jsonschema:"description=path of the SVG diagram drawn from these rows"`
}

// LifecycleMove is one row: one move.
type LifecycleMove struct {
	Move    string   `json:"move"`
	Creates bool     `json:"creates" jsonschema:"description=the move makes the offer or job (it leaves no state)"`
	From    []string `json:"from"`
	// To keeps ToPrevio's spelling: the job returns to the state it had before the dispute.
	To           string          `json:"to" jsonschema:"description=the state it enters; empty: it keeps the state; (estado previo): the state the job had when the dispute was opened"`
	EscrowFrom   []string        `json:"escrow_from" jsonschema:"description=estado_escrow must be one of these; empty: any"`
	EscrowTo     string          `json:"escrow_to" jsonschema:"description=the money state it sets; empty: unchanged"`
	Roles        []string        `json:"roles" jsonschema:"description=who makes it: cliente and profesional are the parties; system is a timer or another context's event"`
	Timer        *LifecycleTimer `json:"timer"`
	Trigger      string          `json:"trigger" jsonschema:"description=the event of another context that makes it"`
	BeforeExpiry bool            `json:"before_expiry" jsonschema:"description=refused once the offer's expires_at has passed"`
	Note         string          `json:"note"`
}

// LifecycleTimer fires a system move once its time has passed.
type LifecycleTimer struct {
	Setting        string `json:"setting" jsonschema:"description=the environment setting that changes it"`
	DefaultSeconds int64  `json:"default_seconds"`
	Since          string `json:"since"`
	Service        string `json:"service" jsonschema:"description=the service that runs it when not marketplace"`
}

// lifecycleView is m as its JSON answer; diagram is where its SVG is served.
func lifecycleView(m domain.Machine, diagram string) Lifecycle {
	out := Lifecycle{Machine: m.Name, States: nonNil(m.States), Final: nonNil(m.Final),
		EscrowStates: nonNil(m.EscrowStates), Moves: []LifecycleMove{}, Diagram: diagram}
	for _, t := range m.Transitions {
		if t.Creates && out.Initial == "" {
			out.Initial = t.To
		}
		roles := make([]string, len(t.Roles))
		for i, r := range t.Roles {
			roles[i] = string(r)
		}
		mv := LifecycleMove{Move: t.Move, Creates: t.Creates, From: nonNil(t.From), To: t.To, EscrowFrom: nonNil(t.EscrowFrom),
			EscrowTo: t.EscrowTo, Roles: roles, Trigger: t.Trigger, BeforeExpiry: t.BeforeExpiry, Note: t.Note}
		if t.Timer != nil {
			mv.Timer = &LifecycleTimer{Setting: t.Timer.Setting, DefaultSeconds: int64(t.Timer.Default.Seconds()),
				Since: t.Timer.Since, Service: t.Timer.Service}
		}
		out.Moves = append(out.Moves, mv)
	}
	return out
}

// nonNil keeps an empty list a JSON array (the document says array, not null).
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

// lifecycleRoutes declares GET <prefix>/lifecycle and <prefix>/lifecycle.svg for the
// offer and the job machines. They must be added before the authenticated groups of
// the same prefixes, whose token check is mounted on the whole prefix.
func (m *Market) lifecycleRoutes(reg *api.Registry) {
	for _, p := range []struct {
		prefix  string
		machine domain.Machine
	}{{"/api/v1/ofertas", domain.OfferMachine()}, {"/api/v1/trabajos", domain.JobMachine()}} {
		// Drawn once per process: the table is fixed at build time.
		svg := []byte(p.machine.SVG())
		view := lifecycleView(p.machine, p.prefix+"/lifecycle.svg")
		reg.Add(api.Op{Method: "GET", Path: p.prefix + "/lifecycle.svg", Access: api.Public,
			Summary:     "The " + p.machine.Name + " lifecycle as an SVG state diagram, drawn from the rules the handlers enforce",
			Description: "Shown with the transition table at /docs/lifecycle.",
			Answers:     []api.Answer{api.Bytes(200, "image/svg+xml", "the diagram")},
			Handler: func(c *fiber.Ctx) error {
				c.Set(fiber.HeaderContentType, "image/svg+xml")
				c.Set(fiber.HeaderCacheControl, "public, max-age=300")
				return c.Send(svg)
			}})
		reg.Add(api.Op{Method: "GET", Path: p.prefix + "/lifecycle", Access: api.Public,
			Summary: "The " + p.machine.Name + " lifecycle's transition table: every move, its states, money guard, roles and timer or event",
			Answers: []api.Answer{api.JSON(200, Lifecycle{}, "the table")},
			Handler: func(c *fiber.Ctx) error {
				c.Set(fiber.HeaderCacheControl, "public, max-age=300")
				return c.JSON(view)
			}})
	}
}
