package domain

import (
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// svgDoc is what the tests read back from a rendered diagram.
type svgDoc struct {
	texts  []string            // every <text>'s content
	moves  map[string]int      // move → arrows (paths) that carry it
	states map[string][]string // state → its group's classes
}

// parseSVG decodes a diagram with encoding/xml: it fails on anything not well-formed.
func parseSVG(t *testing.T, doc string) svgDoc {
	t.Helper()
	out := svgDoc{moves: map[string]int{}, states: map[string][]string{}}
	dec := xml.NewDecoder(strings.NewReader(doc))
	var inText bool
	var text strings.Builder
	root := ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			attr := func(name string) string {
				for _, a := range el.Attr {
					if a.Name.Local == name {
						return a.Value
					}
				}
				return ""
			}
			if root == "" {
				root = el.Name.Local
				if root != "svg" || el.Name.Space != "http://www.w3.org/2000/svg" {
					t.Fatalf("root element %s in %q, want svg in the SVG namespace", root, el.Name.Space)
				}
			}
			switch el.Name.Local {
			case "text":
				inText = true
				text.Reset()
			case "path":
				if strings.Contains(attr("class"), "move") {
					for _, mv := range strings.Fields(attr("data-moves")) {
						out.moves[mv]++
					}
				}
			case "g":
				if s := attr("data-state"); s != "" {
					out.states[s] = strings.Fields(attr("class"))
				}
			}
		case xml.CharData:
			if inText {
				text.Write(el)
			}
		case xml.EndElement:
			if el.Name.Local == "text" {
				inText = false
				out.texts = append(out.texts, text.String())
			}
		}
	}
	return out
}

// TestLifecycleDocSVG draws both machines and finds in each drawing every state (as a box
// with its name; the initial and the final ones marked) and every move of the table (an
// arrow carrying it and a label naming it with its roles), then compares the drawing
// with its golden beside docs/lifecycle.md (-update rewrites it).
func TestLifecycleDocSVG(t *testing.T) {
	for _, m := range []Machine{OfferMachine(), JobMachine()} {
		t.Run(m.Name, func(t *testing.T) {
			got := m.SVG()
			if strings.Contains(got, "NaN") || strings.Contains(got, "Inf") {
				t.Error("a coordinate is not a number")
			}
			if again := m.SVG(); again != got {
				t.Fatal("two renderings of the same table differ")
			}
			doc := parseSVG(t, got)
			initial := ""
			for _, tr := range m.Transitions {
				if tr.Creates {
					initial = tr.To
					break
				}
			}
			for _, s := range m.States {
				classes, ok := doc.states[s]
				if !ok || !slices.Contains(doc.texts, s) {
					t.Errorf("state %s is not drawn as a box with its name", s)
					continue
				}
				if final := slices.Contains(m.Final, s); final != slices.Contains(classes, "final") {
					t.Errorf("state %s: classes %v, final %v", s, classes, final)
				}
				if (s == initial) != slices.Contains(classes, "initial") && !slices.Contains(m.Final, s) {
					t.Errorf("state %s: classes %v, initial is %s", s, classes, initial)
				}
			}
			for _, tr := range m.Transitions {
				if doc.moves[tr.Move] == 0 {
					t.Errorf("move %s is carried by no arrow", tr.Move)
				}
				roles := make([]string, len(tr.Roles))
				for i, r := range tr.Roles {
					roles[i] = string(r)
				}
				label := tr.Move + " · " + strings.Join(roles, "/")
				if !slices.Contains(doc.texts, label) {
					t.Errorf("no label %q", label)
				}
				if tr.Timer != nil && !slices.ContainsFunc(doc.texts, func(s string) bool { return strings.Contains(s, "⏱ "+tr.Timer.Setting+" ") }) {
					t.Errorf("move %s: its timer %s is not named", tr.Move, tr.Timer.Setting)
				}
				if tr.Trigger != "" && !slices.ContainsFunc(doc.texts, func(s string) bool { return strings.Contains(s, "⚡ "+tr.Trigger) }) {
					t.Errorf("move %s: its event %s is not named", tr.Move, tr.Trigger)
				}
				if tr.EscrowTo != "" && !slices.ContainsFunc(doc.texts, func(s string) bool { return strings.Contains(s, "escrow → "+tr.EscrowTo) }) {
					t.Errorf("move %s: the money state it sets (%s) is not named", tr.Move, tr.EscrowTo)
				}
			}

			path := filepath.Join("..", "..", "..", "docs", m.SVGFile())
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (generate it with: go test ./domain -run TestLifecycleDoc -update)", err)
			}
			if string(want) != got {
				t.Errorf("docs/%s is stale; run go test ./domain -run TestLifecycleDoc -update", m.SVGFile())
			}
		})
	}
}

// TestSVGLayout checks the drawing's geometry on the job's table: the paid states are
// framed together (one arrow per move they share), the returns of a dispute end in a
// history mark on that frame, states come in rows from the initial one, and no label
// lies on a state.
func TestSVGLayout(t *testing.T) {
	m := JobMachine()
	l := layoutMachine(m)
	frames := 0
	for _, u := range l.units {
		if u.frame {
			frames++
			if !slices.Equal(u.states, []string{EstadoPagado, EstadoEnProceso, EstadoCompletado}) {
				t.Errorf("frame around %v, want the paid states", u.states)
			}
		}
	}
	if frames != 1 {
		t.Errorf("%d frames, want 1", frames)
	}
	history := 0
	for _, e := range l.edges {
		if e.kind == edgeReturn && e.history {
			history++
		}
		if e.path == "" {
			t.Errorf("arrow %s → %s has no path", e.from, e.to)
		}
	}
	if history != 1 {
		t.Errorf("%d return arrows into a history mark, want 1", history)
	}
	rank := func(s string) int { return l.units[l.unitOf[s]].rank }
	if !(rank(EstadoPendientePago) < rank(EstadoPagado) && rank(EstadoPagado) < rank(EstadoAprobado) &&
		rank(EstadoAprobado) == rank(EstadoCancelado)) {
		t.Errorf("rows: PENDIENTE_PAGO %d, PAGADO %d, APROBADO %d, CANCELADO %d", rank(EstadoPendientePago),
			rank(EstadoPagado), rank(EstadoAprobado), rank(EstadoCancelado))
	}
	for _, lb := range l.labels {
		for _, s := range m.States {
			if b := l.boxes[stateKey(s)]; lb.box.overlap(b) > 0 {
				t.Errorf("label %q lies on state %s", lb.lines[0], s)
			}
		}
	}
}

// TestSVGOtherTables draws tables unlike today's — a cycle, a state nothing reaches, no
// creating move, a frame whose states also move on their own, a return without a frame
// — so a new row cannot break the drawing: it stays well-formed with every state and
// move in it.
func TestSVGOtherTables(t *testing.T) {
	sys := []Role{RoleSystem}
	for _, m := range []Machine{
		{Name: "ciclo", States: []string{"A", "B", "C", "D", "E"}, Final: []string{"D"}, Transitions: []Transition{
			{Move: "crear", Creates: true, To: "A", Roles: sys},
			{Move: "ir", From: []string{"A"}, To: "B", Roles: sys},
			{Move: "volver", From: []string{"B"}, To: "A", Roles: sys, Trigger: "Volvio"},
			{Move: "seguir", From: []string{"B"}, To: "C", Roles: sys, Timer: &Timer{Setting: "T", Default: DefaultOfferTTL}},
			{Move: "quedar", From: []string{"C"}, Roles: sys, EscrowTo: "X"},
			{Move: "cerrar", From: []string{"A", "B", "C"}, To: "D", Roles: sys},
			{Move: "saltar", From: []string{"A"}, To: "C", Roles: sys},
			{Move: "aislar", From: []string{"E"}, To: "E", Roles: sys},
		}},
		{Name: "sin_crear", States: []string{"P", "Q"}, Transitions: []Transition{
			{Move: "a", From: []string{"P"}, To: "Q", Roles: sys},
			{Move: "b", From: []string{"Q"}, To: ToPrevio, Roles: sys},
		}},
	} {
		t.Run(m.Name, func(t *testing.T) {
			svg := m.SVG()
			if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
				t.Errorf("a coordinate is not a number:\n%s", svg)
			}
			doc := parseSVG(t, svg)
			for _, s := range m.States {
				if !slices.Contains(doc.texts, s) {
					t.Errorf("state %s is not drawn", s)
				}
			}
			for _, tr := range m.Transitions {
				if doc.moves[tr.Move] == 0 {
					t.Errorf("move %s is carried by no arrow", tr.Move)
				}
			}
		})
	}
}
