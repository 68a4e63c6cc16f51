package events_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/invopop/jsonschema"

	"github.com/conectarpro/conectar/events"
)

// The payload section of docs/events.md is generated between these markers from the
// catalogue's Go types, so a renamed field or a new event shows up there (or fails
// TestEventsDocPayloads until `go test ./events -run TestEventsDocPayloads -update`).
const (
	payloadsBegin = "<!-- BEGIN GENERATED: payloads (go test ./events -run TestEventsDocPayloads -update) -->"
	payloadsEnd   = "<!-- END GENERATED: payloads -->"
)

// producers names the service that writes each stream: the owner of the subject's
// context (docs/events.md, "Streams and subjects").
var producers = map[string]string{
	events.StreamAuth: "auth", events.StreamUsers: "users", events.StreamProfessionals: "professionals",
	events.StreamMarketplace: "marketplace", events.StreamPayments: "payments", events.StreamEngagement: "notifications",
}

// TestEventsDocPayloads keeps the AsyncAPI-style part of docs/events.md in step with the
// events package: for each event of the catalogue its subject, stream, producer, the
// consumers of its row in the table above, and the JSON Schema of its payload (the
// envelope's data), reflected from the Go type with invopop/jsonschema as platform/api
// does for the HTTP document. It also checks each row's producer against the stream.
func TestEventsDocPayloads(t *testing.T) {
	path := filepath.Join("..", "docs", "events.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows := tableRows(doc)
	want, err := payloadSection(rows)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events.Catalog() {
		r, ok := rows[e.EventType()+" v"+fmt.Sprint(e.EventVersion())]
		if !ok {
			continue // TestEventsDocListsTheCatalog reports it
		}
		if p := producers[events.StreamFor(e.Subject())]; r.producer != p {
			t.Errorf("docs/events.md: %s is published by %s (stream %s), the table says %q", e.EventType(), p, events.StreamFor(e.Subject()), r.producer)
		}
	}
	begin, end := bytes.Index(doc, []byte(payloadsBegin)), bytes.Index(doc, []byte(payloadsEnd))
	if begin < 0 || end < begin {
		t.Fatalf("docs/events.md has no %q … %q section", payloadsBegin, payloadsEnd)
	}
	got := string(doc[begin+len(payloadsBegin) : end])
	if got == want {
		return
	}
	if *update {
		out := append(append(append([]byte{}, doc[:begin+len(payloadsBegin)]...), want...), doc[end:]...)
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("docs/events.md: the payload section is out of date with the events package; run go test ./events -run TestEventsDocPayloads -update and review the diff")
}

// row is one line of the "Who publishes and who consumes" table.
type row struct{ producer, consumers string }

// tableRows reads the table's rows by "Type vN".
func tableRows(doc []byte) map[string]row {
	out := map[string]row{}
	for _, line := range strings.Split(string(doc), "\n") {
		cells := strings.Split(line, "|")
		// "| Type v1 | `subject` | producer | consumers |" splits into 6 cells.
		if len(cells) != 6 || !strings.HasPrefix(strings.TrimSpace(cells[2]), "`") {
			continue
		}
		out[strings.TrimSpace(cells[1])] = row{producer: strings.TrimSpace(cells[3]), consumers: strings.TrimSpace(cells[4])}
	}
	return out
}

// payloadSection renders the generated section: one entry per catalogue event, in the
// catalogue's order.
func payloadSection(rows map[string]row) (string, error) {
	// AllowAdditionalProperties: changes are additive, so a consumer must accept fields
	// it does not know yet; the schema says what a producer writes today.
	r := &jsonschema.Reflector{Anonymous: true, DoNotReference: true, ExpandedStruct: true, AllowAdditionalProperties: true}
	var b strings.Builder
	b.WriteString("\n\n")
	for _, e := range events.Catalog() {
		s := r.ReflectFromType(reflect.TypeOf(e))
		s.Version = "" // the $schema line repeated fifty times says nothing
		s.Title = reflect.TypeOf(e).Name()
		raw, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return "", fmt.Errorf("%s: %w", e.EventType(), err)
		}
		name := fmt.Sprintf("%s v%d", e.EventType(), e.EventVersion())
		consumers := rows[name].consumers
		if consumers == "" {
			consumers = "(no row in the table above)"
		}
		stream := events.StreamFor(e.Subject())
		fmt.Fprintf(&b, "### %s\n\n", name)
		fmt.Fprintf(&b, "- subject `%s`, stream %s\n- published by %s\n- consumed by %s\n\n", e.Subject(), stream, producers[stream], consumers)
		fmt.Fprintf(&b, "```json\n%s\n```\n\n", raw)
	}
	return b.String(), nil
}
