package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/conectarpro/conectar/platform/testkit"
)

// buildBinary builds the conectar binary into dir, as a user would before running it.
func buildBinary(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "conectar")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/conectarpro/conectar/cmd/conectar")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build conectar: %w\n%s", err, out)
	}
	return bin, nil
}

// childEnv is the environment of every conectar process the bench starts: nothing of
// the caller's but PATH, HOME, and the ARGON2_* settings when set (the bench measures
// the production defaults unless told otherwise), plus env.
func childEnv(env map[string]string) []string {
	out := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for _, k := range []string{"ARGON2_MEMORY_KIB", "ARGON2_ITERATIONS", "ARGON2_PARALLELISM"} {
		if v := os.Getenv(k); v != "" {
			out = append(out, k+"="+v)
		}
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+env[k])
	}
	return out
}

// runTool runs one operator command of the binary (seed, payments check-ledger, events
// dlq) and returns what it printed.
func runTool(ctx context.Context, bin string, env map[string]string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = childEnv(env)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("conectar %s: %w", strings.Join(args, " "), err)
	}
	return string(out), nil
}

// system is `conectar dev` running as one child process.
type system struct {
	cmd     *exec.Cmd
	done    chan struct{}
	log     string
	gateway string
	sim     string // the MercadoPago simulator's base URL, read from dev's banner
	natsURL string
	env     map[string]string
}

// simLine is how dev announces the simulator (cmd/conectar/dev_payments.go).
var simLine = regexp.MustCompile(`MercadoPago simulator on (\S+)`)

// startSystem starts `conectar dev` on free ports against dsn, its data in dir, and
// returns once the gateway's /health says every service is healthy.
func startSystem(ctx context.Context, bin, dir, dsn string, extra map[string]string) (*system, error) {
	env := map[string]string{
		"DATABASE_URL": dsn, "HOST": "127.0.0.1", "LOG_LEVEL": "warn",
		"DEV_DATA_DIR":   filepath.Join(dir, "data"),
		"ADMIN_EMAIL":    adminEmail,
		"ADMIN_PASSWORD": adminPassword,
	}
	for _, n := range []string{"gateway", "auth", "users", "professionals", "marketplace", "payments", "notifications", "dev_nats"} {
		p, err := testkit.FreePort()
		if err != nil {
			return nil, err
		}
		env[strings.ToUpper(n)+"_PORT"] = fmt.Sprint(p)
	}
	env["PUBLIC_URL"] = "http://127.0.0.1:" + env["GATEWAY_PORT"]
	for k, v := range extra {
		env[k] = v
	}
	s := &system{log: filepath.Join(dir, "conectar-dev.log"), gateway: env["PUBLIC_URL"],
		natsURL: "nats://127.0.0.1:" + env["DEV_NATS_PORT"], env: env, done: make(chan struct{})}
	f, err := os.Create(s.log)
	if err != nil {
		return nil, fmt.Errorf("dev log: %w", err)
	}
	s.cmd = exec.Command(bin, "dev")
	s.cmd.Env = childEnv(env)
	s.cmd.Stderr = f
	// Its own process group, so a Ctrl-C at the bench's terminal does not reach it
	// before the bench has stopped it in order.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("dev stdout: %w", err)
	}
	if err := s.cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start conectar dev: %w", err)
	}
	simc := make(chan string, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(f, line)
			if m := simLine.FindStringSubmatch(line); m != nil {
				select {
				case simc <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(f, stdout) // a line too long for the scanner: keep the rest
	}()
	// Wait closes the pipe, so it comes after the last read.
	go func() { <-scanned; _ = s.cmd.Wait(); f.Close(); close(s.done) }()

	deadline := time.Now().Add(2 * time.Minute)
	for {
		if s.sim == "" {
			select {
			case s.sim = <-simc:
			default:
			}
		}
		if s.sim != "" && s.healthy(ctx) {
			return s, nil
		}
		select {
		case <-s.done:
			raw, _ := os.ReadFile(s.log)
			return nil, fmt.Errorf("conectar dev exited at start:\n%s", raw)
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("conectar dev not healthy after 2 min (log: %s)", s.log)
		}
	}
}

// healthy reports whether the gateway's /health says every service is healthy (it
// answers 200 even when degraded; the body says which).
func (s *system) healthy(ctx context.Context) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.gateway+"/health", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var rep struct {
		Status string `json:"status"`
	}
	return resp.StatusCode == 200 && json.NewDecoder(resp.Body).Decode(&rep) == nil && rep.Status == "healthy"
}

func (s *system) pid() int { return s.cmd.Process.Pid }

// stop asks dev to shut down as Ctrl-C would, and kills it if it has not within 30 s.
func (s *system) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}
