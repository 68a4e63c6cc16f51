package webhook

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// refusal reports whether err is one of Verify's documented refusals (all answered 401).
func refusal(err error) bool {
	return errors.Is(err, ErrUnsigned) || errors.Is(err, ErrMalformed) || errors.Is(err, ErrBadSignature) || errors.Is(err, ErrStale)
}

// FuzzParseSignature reads any x-signature header. A refusal is ErrUnsigned or
// ErrMalformed; an accepted header has a numeric ts and at least one v1 value, trimmed
// and lower-cased; and Verify on any header with any ids refuses only with its four
// documented errors (the handler maps exactly those to 401).
func FuzzParseSignature(f *testing.F) {
	for _, s := range []string{
		"ts=1742505638683,v1=13ee5ba403ca5af998533d5ec25b75708482d4f158f870461ef3f0dc1b69e49d",
		" v1=ABC , ts=1 ", "ts=1,v1=a,v1=b,v2=c,x", "ts=,v1=", "ts=1;v1=a", "ts=1e3,v1=a", "ts=-1,v1=a",
		"ts=99999999999999999999,v1=a", "ts=+5,v1=a", "TS=5,V1=a", "ts=5,v1=a=b", ",,,", "=", "ts=5,ts=6,v1=a", "\x00ts=1,v1=a",
	} {
		f.Add(s, "123456", "bb56a2f1-6aae-46ac-982e-9dcd3581d08e")
	}
	now := time.UnixMilli(1742505638683)
	f.Fuzz(func(t *testing.T, header, dataID, requestID string) {
		s, err := ParseSignature(header)
		if err != nil {
			if !errors.Is(err, ErrUnsigned) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseSignature(%q) = %v", header, err)
			}
		} else {
			if _, perr := strconv.ParseInt(s.TS, 10, 64); perr != nil || len(s.Hashes) == 0 {
				t.Fatalf("accepted %q as %+v", header, s)
			}
			for _, h := range s.Hashes {
				if h != strings.ToLower(strings.TrimSpace(h)) {
					t.Fatalf("hash %q kept its case or spaces", h)
				}
			}
		}
		if err := Verify("s3cr3t", header, dataID, requestID, now, 5*time.Minute); err != nil && !refusal(err) {
			t.Fatalf("Verify refused %q with an undocumented error %v", header, err)
		}
	})
}

// FuzzVerifySigned signs a delivery the way MercadoPago does, with its timestamp skewed
// from our clock by skewMs (in milliseconds, or in seconds as some of its examples
// write it), writes the header in one of the layouts seen in the wild, and checks:
//   - the genuine header verifies exactly when the skew is within the tolerance, and is
//     otherwise refused as stale, never as forged;
//   - a header whose signature has one hex digit changed is refused as forged, whatever
//     the timestamp;
//   - the signature does not verify for another data.id or another x-request-id.
func FuzzVerifySigned(f *testing.F) {
	f.Add("123456", "bb56a2f1-6aae-46ac-982e-9dcd3581d08e", int64(0), false, uint8(0), uint(0), uint8(1))
	f.Add("ORD01ABC", "", int64(299_999), true, uint8(1), uint(63), uint8(7))
	f.Add("", "rid", int64(-300_001), false, uint8(2), uint(10), uint8(15))
	f.Add("1", "r", int64(1<<62), false, uint8(3), uint(5), uint8(8))
	f.Add("1;request-id:r", "", int64(-1742505638683), true, uint8(4), uint(0), uint8(2))
	now := time.UnixMilli(1742505638683)
	const tolerance = 5 * time.Minute
	f.Fuzz(func(t *testing.T, dataID, requestID string, skewMs int64, seconds bool, layout uint8, flipPos uint, flipBy uint8) {
		skewMs %= 1 << 50 // keeps now+skew far from int64 overflow, still ±35 000 years
		tsMs := now.UnixMilli() + skewMs
		var ts string
		var d time.Duration // now − ts as Verify must read it
		if seconds {
			sec := tsMs / 1000
			if tsMs < 0 && tsMs%1000 != 0 {
				sec-- // floor, so the written seconds never lie after the true time
			}
			ts = strconv.FormatInt(sec, 10)
			d = now.Sub(time.Unix(sec, 0))
			if sec >= 1e12 {
				d = now.Sub(time.UnixMilli(sec)) // such a number is read as milliseconds
			}
		} else {
			ts = strconv.FormatInt(tsMs, 10)
			d = now.Sub(time.UnixMilli(tsMs))
			if tsMs < 1e12 {
				d = now.Sub(time.Unix(tsMs, 0)) // such a number is read as seconds
			}
		}
		sig := Sign("s3cr3t", dataID, requestID, ts)
		header := func(v1 string) string {
			switch layout % 5 {
			case 1:
				return "v1=" + v1 + ",ts=" + ts
			case 2:
				return " ts = " + ts + " , v1 = " + strings.ToUpper(v1) + " "
			case 3:
				return "ts=" + ts + ",v1=" + strings.Repeat("0", 64) + ",v1=" + v1 + ",v2=ignored"
			case 4:
				return "foo=bar,ts=" + ts + ",v1=" + v1
			}
			return "ts=" + ts + ",v1=" + v1
		}

		err := Verify("s3cr3t", header(sig), dataID, requestID, now, tolerance)
		fresh := d <= tolerance && d >= -tolerance
		switch {
		case fresh && err != nil:
			t.Fatalf("genuine delivery %s off refused: %v (header %q)", d, err, header(sig))
		case !fresh && !errors.Is(err, ErrStale):
			t.Fatalf("delivery %s off: %v, want ErrStale (header %q)", d, err, header(sig))
		}

		// One hex digit changed to another value (not merely its case).
		i := int(flipPos % uint(len(sig)))
		const hexdigits = "0123456789abcdef"
		cur := strings.IndexByte(hexdigits, sig[i])
		forged := sig[:i] + string(hexdigits[(cur+1+int(flipBy%15))%16]) + sig[i+1:]
		if err := Verify("s3cr3t", header(forged), dataID, requestID, now, tolerance); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("signature with digit %d changed: %v, want ErrBadSignature", i, err)
		}
		if err := Verify("s3cr3t", header(sig), dataID+"7", requestID, now, tolerance); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("signature for data.id %q accepted for %q: %v", dataID, dataID+"7", err)
		}
		if err := Verify("s3cr3t", header(sig), dataID, requestID+"x", now, tolerance); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("signature for request id %q accepted for %q: %v", requestID, requestID+"x", err)
		}
		if err := Verify("otro-secreto", header(sig), dataID, requestID, now, tolerance); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("signature accepted under another secret: %v", err)
		}
	})
}
