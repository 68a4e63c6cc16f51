package webpush

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"testing"
)

func TestValidate(t *testing.T) {
	k, _ := ecdh.P256().GenerateKey(rand.Reader)
	p256 := base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes())
	auth := base64.RawURLEncoding.EncodeToString(make([]byte, 16))
	ok := []Subscription{
		{Endpoint: "https://fcm.googleapis.com/fcm/send/abc", P256dh: p256, Auth: auth},
		{Endpoint: "http://127.0.0.1:9999/push", P256dh: p256 + "=", Auth: auth + "=="},
	}
	for _, s := range ok {
		if bad := Validate(s); len(bad) != 0 {
			t.Errorf("%s refused: %v", s.Endpoint, bad)
		}
	}
	cases := map[string]Subscription{
		"endpoint":    {Endpoint: "http://push.example.com/x", P256dh: p256, Auth: auth},
		"keys.p256dh": {Endpoint: "https://push.example.com/x", P256dh: base64.RawURLEncoding.EncodeToString(make([]byte, 65)), Auth: auth},
		"keys.auth":   {Endpoint: "https://push.example.com/x", P256dh: p256, Auth: base64.RawURLEncoding.EncodeToString(make([]byte, 8))},
	}
	for field, s := range cases {
		if bad := Validate(s); bad[field] == "" {
			t.Errorf("%s not refused: %v", field, bad)
		}
	}
}
