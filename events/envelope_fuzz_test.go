package events_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/events"
)

// sameEnvelope compares two envelopes as a consumer sees them: times by instant, the
// payload by its canonical JSON text, and an absent trace like an empty one (omitempty
// drops an empty map on the wire).
func sameEnvelope(a, b events.Envelope) bool {
	ca, cb := canonical(a.Data), canonical(b.Data)
	if ca == nil || cb == nil {
		return false
	}
	return a.ID == b.ID && a.Type == b.Type && a.Version == b.Version && a.Subject == b.Subject &&
		a.OccurredAt.Equal(b.OccurredAt) && a.Producer == b.Producer && a.AggregateID == b.AggregateID &&
		a.CorrelationID == b.CorrelationID && a.CausationID == b.CausationID &&
		maps.Equal(a.Trace, b.Trace) && bytes.Equal(ca, cb)
}

// canonical is raw as json.Marshal writes a RawMessage: compacted, with <, > and &
// escaped. The same payload may arrive spelled either way.
func canonical(raw []byte) []byte {
	var c, h bytes.Buffer
	if json.Compact(&c, raw) != nil {
		return nil
	}
	json.HTMLEscape(&h, c.Bytes())
	return h.Bytes()
}

// FuzzParse feeds arbitrary bytes to events.Parse, what every consumer runs on a message
// taken from the stream before anything else. An accepted envelope has what consumers
// rely on (id, type, version, a JSON object as payload) and re-encodes to an envelope
// that parses to the same thing, whose encoding is then stable byte for byte (a replay
// or a dead-letter re-drive republishes it).
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"id":"01890a5d-ac96-774b-bcce-b302099a8057","type":"MessageSent","version":1,"subject":"marketplace.message.sent","occurred_at":"2026-01-02T03:04:05Z","producer":"marketplace","aggregate_id":"c1","data":{"text":"hola"}}`))
	f.Add([]byte(`{"id":"00000000-0000-0000-0000-000000000000","type":"X","version":1,"data":{}}`))
	f.Add([]byte(`{"id":"01890a5d-ac96-774b-bcce-b302099a8057","type":"X","version":0,"data":{}}`))
	f.Add([]byte(`{"id":"01890a5d-ac96-774b-bcce-b302099a8057","type":"X","version":1,"data":null}`))
	f.Add([]byte(`{"id":"01890a5d-ac96-774b-bcce-b302099a8057","type":"X","version":1,"data":[1]}`))
	f.Add([]byte(`{"id":"{01890a5d-ac96-774b-bcce-b302099a8057}","type":"X","version":1,"occurred_at":"2026-01-02T03:04:05.123456789-03:00","trace":{},"data":{ "a" : 1 }}`))
	f.Add([]byte(`{"id":"urn:uuid:01890a5d-ac96-774b-bcce-b302099a8057","type":"\ud800","version":1e0,"data":{"x":"\u0000"}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Add([]byte("\xff\xfe{"))
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := events.Parse(b)
		if err != nil {
			return
		}
		if env.ID == uuid.Nil || env.Type == "" || env.Version < 1 {
			t.Fatalf("accepted an envelope without id, type or version: %+v", env)
		}
		if !json.Valid(env.Data) || env.Data[0] != '{' {
			t.Fatalf("accepted an envelope whose payload is not a JSON object: %q", env.Data)
		}
		wire, err := json.Marshal(env)
		if err != nil {
			t.Fatalf("accepted envelope does not re-encode: %v (%q)", err, b)
		}
		back, err := events.Parse(wire)
		if err != nil {
			t.Fatalf("re-encoded envelope refused: %v\nin:  %q\nout: %q", err, b, wire)
		}
		if !sameEnvelope(env, back) {
			t.Fatalf("round trip changed the envelope\nfirst:  %+v\nsecond: %+v", env, back)
		}
		again, err := json.Marshal(back)
		if err != nil || !bytes.Equal(again, wire) {
			t.Fatalf("encoding not stable\n%q\n%q (%v)", wire, again, err)
		}
		// Decoding the payload as some event either works or is a clean error.
		if m, err := events.Decode[events.MessageSentV1](env); err == nil {
			_ = m.Text
		}
	})
}

// FuzzEnvelopeRoundTrip builds a real envelope around an event whose fields come from
// the fuzzer (chat text is the field users fill in), encodes it as the outbox does and
// reads it back as a consumer does: every field and the event itself survive.
func FuzzEnvelopeRoundTrip(f *testing.F) {
	f.Add("marketplace", "c1", "", "hola, ¿mañana a las 9?", int64(1767323045000000000), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	f.Add("", "", "corr", "\u2028\u2029<script>&amp;\"\\", int64(0), "")
	f.Add("p", "a", "c", "😀\x00\t", int64(-6795364578871345152), "x")
	f.Fuzz(func(t *testing.T, producer, aggregate, corr, text string, nanos int64, traceparent string) {
		for _, s := range []string{producer, aggregate, corr, text, traceparent} {
			if !utf8.ValidString(s) {
				return // JSON carries text; invalid UTF-8 cannot survive any JSON encoder
			}
		}
		ev := events.MessageSentV1{MessageID: "m-" + aggregate, ChatID: aggregate, SenderID: producer, RecipientID: corr, Tipo: "text", Text: text}
		var trace map[string]string
		if traceparent != "" {
			trace = map[string]string{"traceparent": traceparent}
		}
		now := time.Unix(0, nanos)
		env, err := events.New(producer, aggregate, ev, events.Meta{CorrelationID: corr, Trace: trace}, now)
		if err != nil {
			t.Fatal(err)
		}
		wire, err := json.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		back, err := events.Parse(wire)
		if err != nil {
			t.Fatalf("a genuine envelope is refused: %v\n%s", err, wire)
		}
		if !sameEnvelope(env, back) || !back.OccurredAt.Equal(now) {
			t.Fatalf("round trip changed the envelope\nsent: %+v\ngot:  %+v", env, back)
		}
		got, err := events.Decode[events.MessageSentV1](back)
		if err != nil || got != ev {
			t.Fatalf("payload round trip: %+v, %v; want %+v", got, err, ev)
		}
		// The wrong event type is refused, never decoded into zero values.
		if _, err := events.Decode[events.ChatInfractionDetectedV1](back); err == nil {
			t.Fatal("MessageSent decoded as ChatInfractionDetected")
		}
		if corr == "" && back.CorrelationID != back.ID.String() {
			t.Fatalf("a new correlation starts at the event itself: %q vs %s", back.CorrelationID, back.ID)
		}
		if m := back.Caused(); m.CausationID != back.ID.String() || m.CorrelationID != back.CorrelationID {
			t.Fatalf("Caused() = %+v for %+v", m, back)
		}
	})
}
