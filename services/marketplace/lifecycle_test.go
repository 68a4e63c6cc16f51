package marketplace

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/conectarpro/conectar/services/marketplace/domain"
)

// TestLifecycleView publishes every row of each table, with no list written as null
// (the document says array) and the timer in seconds.
func TestLifecycleView(t *testing.T) {
	for _, m := range []domain.Machine{domain.OfferMachine(), domain.JobMachine()} {
		v := lifecycleView(m, "/x.svg")
		if len(v.Moves) != len(m.Transitions) || len(v.States) != len(m.States) || v.Initial == "" {
			t.Fatalf("%s: %d moves, %d states, initial %q; the table has %d moves, %d states",
				m.Name, len(v.Moves), len(v.States), v.Initial, len(m.Transitions), len(m.States))
		}
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		// Only a move without a timer may say null.
		if rest := strings.ReplaceAll(string(raw), `"timer":null`, ""); strings.Contains(rest, `":null`) {
			t.Errorf("%s: a null other than a timer in %s", m.Name, raw)
		}
		for i, tr := range m.Transitions {
			mv := v.Moves[i]
			if mv.Move != tr.Move || mv.To != tr.To || len(mv.From) != len(tr.From) || len(mv.Roles) != len(tr.Roles) {
				t.Errorf("%s: row %d is %+v, the table's is %+v", m.Name, i, mv, tr)
			}
			if (tr.Timer == nil) != (mv.Timer == nil) || tr.Timer != nil && mv.Timer.DefaultSeconds != int64(tr.Timer.Default.Seconds()) {
				t.Errorf("%s: %s's timer is %+v, the table's %+v", m.Name, tr.Move, mv.Timer, tr.Timer)
			}
		}
	}
}
