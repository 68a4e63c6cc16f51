package events_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/events"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// sample fills every field of an event deterministically, so a golden file pins the whole
// wire shape: a renamed or retyped field changes the file and fails the test.
func sample(e events.Event) events.Event {
	v := reflect.New(reflect.TypeOf(e)).Elem()
	for i := 0; i < v.NumField(); i++ {
		f, sf := v.Field(i), v.Type().Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(strings.ToLower(sf.Name) + "-value")
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(100 + i))
		case reflect.Float64:
			f.SetFloat(4.5)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Struct:
			if f.Type() == reflect.TypeOf(time.Time{}) {
				f.Set(reflect.ValueOf(time.Date(2026, 1, 5, 6, 7, 8, 0, time.UTC)))
			}
		case reflect.Slice:
			s := reflect.MakeSlice(f.Type(), 1, 1)
			s.Index(0).SetString("item")
			f.Set(s)
		}
	}
	return v.Interface().(events.Event)
}

func TestGoldenEnvelopes(t *testing.T) {
	seen := map[string]bool{}
	for _, zero := range events.Catalog() {
		name := fmt.Sprintf("%s.v%d", zero.EventType(), zero.EventVersion())
		t.Run(name, func(t *testing.T) {
			if seen[name] {
				t.Fatalf("%s listed twice in the catalog", name)
			}
			seen[name] = true
			if events.StreamFor(zero.Subject()) == "" {
				t.Fatalf("subject %q belongs to no stream", zero.Subject())
			}
			ev := sample(zero)
			env, err := events.New("golden", "agg-1", ev, events.Meta{CorrelationID: "corr-1", CausationID: "cause-1",
				Trace: map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}},
				time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			env.ID = uuid.MustParse("01890a5d-ac96-774b-bcce-b302099a8057")
			got, err := json.MarshalIndent(env, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", name+".json")
			if *update {
				if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("no golden file (run go test ./events -update): %v", err)
			}
			if !bytes.Equal(bytes.TrimSpace(want), got) {
				t.Fatalf("wire shape changed; a breaking change needs a new Version.\nwant:\n%s\ngot:\n%s", want, got)
			}
			parsed, err := events.Parse(want)
			if err != nil {
				t.Fatal(err)
			}
			back := reflect.New(reflect.TypeOf(zero)).Interface()
			if err := json.Unmarshal(parsed.Data, back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(reflect.ValueOf(back).Elem().Interface(), ev) {
				t.Fatalf("round trip differs: %+v vs %+v", back, ev)
			}
		})
	}
}

func TestDecodeRefusesAnotherType(t *testing.T) {
	env, err := events.New("p", "a", events.UserBannedV1{UserID: "u"}, events.Meta{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := events.Decode[events.UserUnbannedV1](env); err == nil {
		t.Fatal("decoded a UserBanned as UserUnbanned")
	}
	got, err := events.Decode[events.UserBannedV1](env)
	if err != nil || got.UserID != "u" {
		t.Fatalf("decode = %+v, %v", got, err)
	}
	if env.CorrelationID != env.ID.String() {
		t.Fatal("a new correlation should start at the event itself")
	}
	child := env.Caused()
	if child.CausationID != env.ID.String() || child.CorrelationID != env.CorrelationID {
		t.Fatalf("caused meta = %+v", child)
	}
}

func TestParseRefusesIncompleteEnvelopes(t *testing.T) {
	for _, in := range []string{``, `{}`, `{"id":"01890a5d-ac96-774b-bcce-b302099a8057","type":"X","version":0,"data":{}}`, `[1]`} {
		if _, err := events.Parse([]byte(in)); err == nil {
			t.Errorf("Parse(%q) accepted", in)
		}
	}
}

// TestEventsDocListsTheCatalog keeps docs/events.md true: every event of the catalogue
// has a row there with its type, version and subject (and, by hand, who consumes it).
func TestEventsDocListsTheCatalog(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "events.md"))
	if err != nil {
		t.Fatalf("read the events guide: %v", err)
	}
	for _, e := range events.Catalog() {
		row := fmt.Sprintf("| %s v%d | `%s` |", e.EventType(), e.EventVersion(), e.Subject())
		if !bytes.Contains(doc, []byte(row)) {
			t.Errorf("docs/events.md has no row for %s v%d: add %q followed by its producer and consumers", e.EventType(), e.EventVersion(), row)
		}
	}
}
