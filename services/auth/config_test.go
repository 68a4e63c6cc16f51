package auth

import (
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigBoundsAndDefaults(t *testing.T) {
	c, err := LoadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessTTL != 8*time.Hour || c.Throttle.FreeFailures != 5 || c.Throttle.AddressFailures != 50 {
		t.Fatalf("defaults: %+v", c)
	}
	for _, bad := range []map[string]string{
		{"ACCESS_TOKEN_TTL": "10m"},
		{"HASH_WAIT": "0s"},
		{"ACCESS_TOKEN_TTL": "25h"},
		{"ACCESS_TOKEN_TTL": "24h", "KEY_ROTATION": "30h"}, // retired keys must outlive tokens
		{"LOGIN_FREE_FAILURES": "0"},
		{"LOGIN_BACKOFF_BASE": "1m", "LOGIN_BACKOFF_MAX": "30s"},
		{"LOGIN_FAILURE_MEMORY": "1m"},
		{"LOGIN_FAILURES_PER_ADDRESS": "-1"},
		{"THROTTLE_WINDOW": "0s"},
	} {
		if _, err := LoadConfig(env(bad)); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if _, err := LoadConfig(env(map[string]string{"ACCESS_TOKEN_TTL": "24h"})); err != nil {
		t.Errorf("24h refused: %v", err)
	}
}

func TestBackoffGrowsAndCaps(t *testing.T) {
	c := ThrottleConfig{FreeFailures: 3, BackoffBase: time.Second, BackoffMax: 10 * time.Second}
	want := map[int]time.Duration{0: 0, 2: 0, 3: time.Second, 4: 2 * time.Second, 5: 4 * time.Second, 6: 8 * time.Second,
		7: 10 * time.Second, 40: 10 * time.Second}
	for n, d := range want {
		if got := c.backoff(n); got != d {
			t.Errorf("backoff(%d) = %s, want %s", n, got, d)
		}
	}
}
