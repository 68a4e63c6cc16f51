package webhook

import (
	"errors"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// The vector from the research notes (computed independently of this package).
func TestSignKnownVector(t *testing.T) {
	got := Sign("s3cr3t", "123456", "bb56a2f1-6aae-46ac-982e-9dcd3581d08e", "1742505638683")
	want := "13ee5ba403ca5af998533d5ec25b75708482d4f158f870461ef3f0dc1b69e49d"
	if got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	now := time.UnixMilli(1742505638683)
	h := "ts=1742505638683,v1=13ee5ba403ca5af998533d5ec25b75708482d4f158f870461ef3f0dc1b69e49d"
	rid := "bb56a2f1-6aae-46ac-982e-9dcd3581d08e"
	cases := []struct {
		name           string
		secret, header string
		id, rid        string
		now            time.Time
		want           error
	}{
		{"valid", "s3cr3t", h, "123456", rid, now, nil},
		{"valid with spaces and order", "s3cr3t", " v1=13EE5BA403CA5AF998533D5EC25B75708482D4F158F870461EF3F0DC1B69E49D , ts=1742505638683", "123456", rid, now, nil},
		{"wrong secret", "other", h, "123456", rid, now, ErrBadSignature},
		{"other id", "s3cr3t", h, "123457", rid, now, ErrBadSignature},
		{"other request id", "s3cr3t", h, "123456", "x", now, ErrBadSignature},
		{"unsigned", "s3cr3t", "", "123456", rid, now, ErrUnsigned},
		{"no v1", "s3cr3t", "ts=1742505638683", "123456", rid, now, ErrMalformed},
		{"bad ts", "s3cr3t", "ts=abc,v1=00", "123456", rid, now, ErrMalformed},
		{"stale", "s3cr3t", h, "123456", rid, now.Add(10 * time.Minute), ErrStale},
		{"future", "s3cr3t", h, "123456", rid, now.Add(-10 * time.Minute), ErrStale},
		{"empty secret", "", h, "123456", rid, now, ErrBadSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Verify(c.secret, c.header, c.id, c.rid, c.now, 5*time.Minute)
			if !errors.Is(err, c.want) && !(err == nil && c.want == nil) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

func TestVerifySecondsAndCase(t *testing.T) {
	now := time.Unix(1704908010, 0)
	ts := "1704908010"
	v1 := Sign("k", "ord01abc", "r", ts)
	if err := Verify("k", "ts="+ts+",v1="+v1, "ORD01ABC", "r", now, time.Minute); err != nil {
		t.Fatalf("lower-cased id in seconds: %v", err)
	}
}

func TestParse(t *testing.T) {
	q, _ := url.ParseQuery("data.id=999&type=payment")
	n, err := Parse(q, "rid", []byte(`{"action":"payment.updated","type":"payment","data":{"id":"111"}}`))
	if err != nil || n.DataID != "999" || n.Type != "payment" || n.Action != "payment.updated" || n.QueryDataID != "999" {
		t.Fatalf("Parse = %+v, %v", n, err)
	}
	// legacy IPN
	q, _ = url.ParseQuery("id=5&topic=merchant_order")
	if n, err = Parse(q, "", nil); err != nil || n.DataID != "5" || n.Type != "merchant_order" {
		t.Fatalf("IPN = %+v, %v", n, err)
	}
	// body only, numeric id
	if n, err = Parse(url.Values{}, "", []byte(`{"type":"payment","data":{"id":123}}`)); err != nil || n.DataID != "123" {
		t.Fatalf("body = %+v, %v", n, err)
	}
	for _, bad := range []string{``, `{}`, `not json`, `{"type":"payment"}`} {
		if _, err := Parse(url.Values{}, "", []byte(bad)); err == nil {
			t.Fatalf("Parse(%q) accepted", bad)
		}
	}
}

func FuzzParseAndVerify(f *testing.F) {
	f.Add("data.id=123&type=payment", "ts=1742505638683,v1=ab", "rid", []byte(`{"data":{"id":"1"}}`))
	f.Add("id=1&topic=payment", "", "", []byte(`{"type":"payment","data":{"id":12}}`))
	f.Add("", "ts=,v1=", "", []byte(`{"data":{"id":null}}`))
	f.Add("data.id=%00&type=x", "v1=zz,ts=1", "\x00", []byte("\xff"))
	f.Fuzz(func(t *testing.T, query, sig, rid string, raw []byte) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		n, err := Parse(q, rid, raw)
		if err == nil && (n.DataID == "" || n.Type == "" || len(n.DataID) > MaxIDLen) {
			t.Fatalf("Parse accepted an unusable notification %+v", n)
		}
		now := time.UnixMilli(1742505638683)
		// A forged header never verifies; a correctly signed one always does.
		if err := Verify("secret", sig, n.QueryDataID, rid, now, time.Minute); err == nil {
			s, _ := ParseSignature(sig)
			ok := false
			for _, h := range s.Hashes {
				if h == Sign("secret", n.QueryDataID, rid, s.TS) || h == Sign("secret", toLower(n.QueryDataID), rid, s.TS) {
					ok = true
				}
			}
			if !ok {
				t.Fatalf("forged signature %q accepted", sig)
			}
		}
		ts := strconv.FormatInt(now.UnixMilli(), 10)
		good := "ts=" + ts + ",v1=" + Sign("secret", n.QueryDataID, rid, ts)
		if err := Verify("secret", good, n.QueryDataID, rid, now, time.Minute); err != nil {
			t.Fatalf("genuine signature refused: %v", err)
		}
	})
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// TestParseRefusesManifestSeparators pins the fix for an ambiguity FuzzVerifySigned
// showed: data.id "1;request-id:r" with no request id signs the same manifest as the
// genuine pair ("1", "r"), so a captured delivery could be replayed under a junk id.
func TestParseRefusesManifestSeparators(t *testing.T) {
	if Manifest("1;request-id:r", "", "5") != Manifest("1", "r", "5") {
		t.Fatal("the ambiguity this test guards against is gone; revisit the test")
	}
	for _, tc := range []struct{ id, rid string }{{"1;request-id:r", ""}, {"1:2", "r"}, {"12 3", "r"}, {"123", "r;ts:1"}} {
		q := url.Values{"data.id": {tc.id}, "type": {"payment"}}
		if _, err := Parse(q, tc.rid, nil); err == nil {
			t.Errorf("Parse(data.id=%q, request id %q) accepted", tc.id, tc.rid)
		}
	}
	if _, err := Parse(url.Values{"data.id": {"123-abc_4.5"}, "type": {"payment"}}, "b7f1c2d4-0000-4000-8000-000000000001", nil); err != nil {
		t.Errorf("a plain id refused: %v", err)
	}
}
