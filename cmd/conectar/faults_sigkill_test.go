package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"
)

// child is one service running as its own `conectar serve <service>` process, so it can
// be SIGKILLed: no graceful stop, no nak of in-flight messages, no last outbox flush.
type child struct {
	t    *testing.T
	bin  string
	name string
	env  []string
	log  string
	cmd  *exec.Cmd
	done chan struct{}
}

func (s *system) startChild(t *testing.T, bin, name string) *child {
	t.Helper()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	keys := make([]string, 0, len(s.env))
	for k := range s.env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+s.env[k])
	}
	c := &child{t: t, bin: bin, name: name, env: env, log: filepath.Join(t.TempDir(), name+".log")}
	c.start()
	t.Cleanup(c.kill)
	return c
}

// start runs the process and waits until its /health answers.
func (c *child) start() {
	c.t.Helper()
	f, err := os.OpenFile(c.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	c.cmd = exec.Command(c.bin, "serve", c.name)
	c.cmd.Env, c.cmd.Stdout, c.cmd.Stderr = c.env, f, f
	if err := c.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.done = make(chan struct{})
	go func() { _ = c.cmd.Wait(); f.Close(); close(c.done) }()
	url := ""
	for _, d := range serviceDefs() {
		if d.name == c.name {
			url = fmt.Sprintf("http://127.0.0.1:%s/health", envPort(c.env, c.name))
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-c.done:
			raw, _ := os.ReadFile(c.log)
			c.t.Fatalf("%s exited at start:\n%s", c.name, raw)
		default:
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s not healthy at %s after 60s", c.name, url)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// kill sends SIGKILL and reaps the process.
func (c *child) kill() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Kill()
	<-c.done
}

func envPort(env []string, name string) string {
	want := fmt.Sprintf("%s_PORT=", upper(name))
	for _, kv := range env {
		if len(kv) > len(want) && kv[:len(want)] == want {
			return kv[len(want):]
		}
	}
	return ""
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// TestFaultServiceSIGKILLed runs each service in turn as its own process, SIGKILLs it in
// the middle of two concurrent journeys (at the stage where it has work in flight), and
// starts it again on the same port. The in-process kill() of the other fault test is a
// graceful Stop (consumers nak, the relay flushes); a SIGKILL leaves fetched messages
// unacknowledged until their AckWait, HTTP requests cut, and committed outbox rows
// unpublished, which only a real process kill shows.
func TestFaultServiceSIGKILLed(t *testing.T) {
	sys := startSystem(t, faultEnv(map[string]string{"GATEWAY_BREAKER_OPEN": "300ms"}))
	adminTok, _, _ := sys.login("admin@conectar.test", "admin-password-1")
	bin := filepath.Join(t.TempDir(), "conectar")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// Where each service has work in flight.
	killAt := map[string]string{"auth": "registered", "users": "registered", "professionals": "registered",
		"marketplace": "accepted", "payments": "paid", "notifications": "held"}
	var all []*journey
	for _, name := range serviceNames() {
		sys.kill(name)
		c := sys.startChild(t, bin, name)
		var once sync.Once
		var wg sync.WaitGroup
		js := sys.runJourneys(t, adminTok, "k"+name[:4], 2, func(_ *journey, stage string) {
			if stage != killAt[name] {
				return
			}
			once.Do(func() {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c.kill()
					// Down long enough for requests and deliveries to meet a dead port.
					time.Sleep(time.Second)
					c.start()
				}()
			})
		})
		wg.Wait()
		all = append(all, js...)
		t.Logf("%s SIGKILLed at %q and restarted: %d journeys completed", name, killAt[name], len(js))
	}
	sys.checkBooks(t, adminTok, all, func(*journey) books { return releasedBooks })
	sys.checkGamificationRebuild(t)
	sys.checkSearchRebuild(t, all)
}
