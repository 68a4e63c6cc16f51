// Package webhook parses and authenticates MercadoPago notifications. The signature is
// HMAC-SHA256 (hex) keyed with the webhook secret over
// "id:<data.id>;request-id:<x-request-id>;ts:<ts>;", where data.id comes from the query
// string and a missing value drops its whole pair; it is compared in constant time, and
// a ts outside the tolerance window is refused so a captured request cannot be replayed
// later.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Errors of Verify; all of them mean 401.
var (
	ErrUnsigned     = errors.New("webhook: missing x-signature")
	ErrMalformed    = errors.New("webhook: malformed x-signature")
	ErrBadSignature = errors.New("webhook: signature mismatch")
	ErrStale        = errors.New("webhook: timestamp outside the tolerance window")
)

// Notification is what a delivery tells us: which resource changed. It is never trusted
// beyond that; the resource is read from the API.
type Notification struct {
	Type      string // "payment", "merchant_order", …
	DataID    string // the resource id from the query string (fallback: body)
	Action    string // "payment.created", "payment.updated", …
	RequestID string
	// QueryDataID is data.id exactly as the query string carried it (the signed value).
	QueryDataID string
}

type body struct {
	Type   string `json:"type"`
	Topic  string `json:"topic"`
	Action string `json:"action"`
	Data   struct {
		ID json.RawMessage `json:"id"`
	} `json:"data"`
	Resource string `json:"resource"`
}

// MaxIDLen bounds resource ids; real ones are short decimal or alphanumeric strings.
const MaxIDLen = 64

// Parse reads a delivery: data.id and type from the query (Webhooks format), falling
// back to the legacy IPN query (id, topic) and then to the JSON body.
func Parse(query url.Values, requestID string, raw []byte) (Notification, error) {
	n := Notification{RequestID: strings.TrimSpace(requestID)}
	n.QueryDataID = query.Get("data.id")
	n.DataID = n.QueryDataID
	n.Type = query.Get("type")
	if n.DataID == "" {
		n.DataID = query.Get("id")
	}
	if n.Type == "" {
		n.Type = query.Get("topic")
	}
	if len(raw) > 0 {
		var b body
		if err := json.Unmarshal(raw, &b); err == nil {
			n.Action = b.Action
			if n.Type == "" {
				n.Type = b.Type
				if n.Type == "" {
					n.Type = b.Topic
				}
			}
			if n.DataID == "" && len(b.Data.ID) > 0 {
				var s string
				if err := json.Unmarshal(b.Data.ID, &s); err == nil {
					n.DataID = s
				} else {
					var num json.Number
					if err := json.Unmarshal(b.Data.ID, &num); err == nil {
						n.DataID = num.String()
					}
				}
			}
		} else if len(query) == 0 {
			return n, errors.New("webhook: body is not JSON and the query is empty")
		}
	}
	n.DataID = strings.TrimSpace(n.DataID)
	n.Type = strings.TrimSpace(n.Type)
	if n.DataID == "" || n.Type == "" {
		return n, errors.New("webhook: missing data.id or type")
	}
	if len(n.DataID) > MaxIDLen || len(n.Type) > MaxIDLen || len(n.RequestID) > 256 {
		return n, errors.New("webhook: field too long")
	}
	// The signed manifest joins the values with ";" and ":", so an id carrying them could
	// make a second (data.id, request id) pair sign the same text as a genuine delivery:
	// MercadoPago's ids never do, so refuse them.
	if !plainID(n.DataID) || (n.QueryDataID != "" && !plainID(n.QueryDataID)) || strings.ContainsAny(n.RequestID, ";") {
		return n, errors.New("webhook: id or request id with characters MercadoPago never sends")
	}
	return n, nil
}

// plainID reports whether s holds only letters, digits, '-', '_' and '.'.
func plainID(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// Signature is a parsed x-signature header.
type Signature struct {
	TS     string
	Hashes []string // every v1 value (hex)
}

// ParseSignature reads "ts=…,v1=…" (order free, spaces tolerated, unknown keys ignored).
func ParseSignature(h string) (Signature, error) {
	var s Signature
	if strings.TrimSpace(h) == "" {
		return s, ErrUnsigned
	}
	for _, part := range strings.Split(h, ",") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "ts":
			s.TS = strings.TrimSpace(v)
		case "v1":
			s.Hashes = append(s.Hashes, strings.ToLower(strings.TrimSpace(v)))
		}
	}
	if s.TS == "" || len(s.Hashes) == 0 {
		return s, ErrMalformed
	}
	if _, err := strconv.ParseInt(s.TS, 10, 64); err != nil {
		return s, ErrMalformed
	}
	return s, nil
}

// Manifest is the signed string.
func Manifest(dataID, requestID, ts string) string {
	var b strings.Builder
	if dataID != "" {
		b.WriteString("id:" + dataID + ";")
	}
	if requestID != "" {
		b.WriteString("request-id:" + requestID + ";")
	}
	b.WriteString("ts:" + ts + ";")
	return b.String()
}

// Sign returns the hex HMAC of the manifest.
func Sign(secret, dataID, requestID, ts string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(Manifest(dataID, requestID, ts)))
	return hex.EncodeToString(m.Sum(nil))
}

// tsTime reads ts as milliseconds (MercadoPago's documented unit) or, when small enough
// to be seconds (some examples use seconds), as seconds.
func tsTime(ts string) time.Time {
	v, _ := strconv.ParseInt(ts, 10, 64)
	if v < 1e12 {
		return time.Unix(v, 0)
	}
	return time.UnixMilli(v)
}

// Verify authenticates a delivery. dataID is data.id as received in the query string; an
// alphanumeric id is tried as received and lower-cased (MercadoPago's documents and SDKs
// disagree on the case). tolerance <= 0 skips the freshness check.
func Verify(secret, header, dataID, requestID string, now time.Time, tolerance time.Duration) error {
	sig, err := ParseSignature(header)
	if err != nil {
		return err
	}
	if secret == "" {
		return ErrBadSignature
	}
	ok := false
	candidates := []string{dataID}
	if l := strings.ToLower(dataID); l != dataID {
		candidates = append(candidates, l)
	}
	for _, id := range candidates {
		want := []byte(Sign(secret, id, requestID, sig.TS))
		for _, h := range sig.Hashes {
			// Every candidate is compared, so the time taken does not depend on which matched.
			if hmac.Equal(want, []byte(h)) {
				ok = true
			}
		}
	}
	if !ok {
		return ErrBadSignature
	}
	if tolerance > 0 {
		d := now.Sub(tsTime(sig.TS))
		if d > tolerance || d < -tolerance {
			return ErrStale
		}
	}
	return nil
}
