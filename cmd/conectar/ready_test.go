package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/conectarpro/conectar/platform/testkit"
)

// TestHealthyMeansReady watches the gateway's /health from before the system starts and,
// the moment it first answers healthy, signs the ADMIN_EMAIL admin in: green must mean
// ready to use (migrations applied, admin created, consumers up), not merely listening.
func TestHealthyMeansReady(t *testing.T) {
	if testing.Short() {
		t.Skip("system test")
	}
	port, err := testkit.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	client := &http.Client{Timeout: 2 * time.Second}
	type outcome struct {
		status int
		err    error
	}
	result := make(chan outcome, 1)
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			resp, err := client.Get(base + "/health")
			if err != nil {
				time.Sleep(2 * time.Millisecond)
				continue
			}
			var h struct {
				Status string `json:"status"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
			if h.Status != "healthy" {
				time.Sleep(2 * time.Millisecond)
				continue
			}
			form := url.Values{"username": {"admin@conectar.test"}, "password": {"admin-password-1"}}
			lr, err := client.Post(base+"/api/v1/auth/login", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
			if err != nil {
				result <- outcome{err: err}
				return
			}
			lr.Body.Close()
			result <- outcome{status: lr.StatusCode}
			return
		}
	}()
	defer close(stop)
	startSystem(t, map[string]string{"GATEWAY_PORT": fmt.Sprint(port), "PUBLIC_URL": base})
	select {
	case o := <-result:
		if o.err != nil || o.status != http.StatusOK {
			t.Fatalf("admin login at the first healthy /health: %d %v", o.status, o.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("/health never turned healthy")
	}
}
