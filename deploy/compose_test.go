package deploy

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/sirupsen/logrus"
	"sigs.k8s.io/yaml"
)

// dotEnvExample reads the KEY=value lines of .env.example (the file an operator copies
// to .env, whose values compose substitutes into docker-compose.yml).
func dotEnvExample(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(root, ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if ok {
			env[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return env
}

func loadCompose(t *testing.T, env map[string]string) *types.Project {
	t.Helper()
	dir, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  dir,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(dir, "docker-compose.yml")}},
		Environment: env,
	}, func(o *loader.Options) { o.SetProjectName("conectar", true) })
	if err != nil {
		t.Fatalf("load docker-compose.yml: %v", err)
	}
	return p
}

func TestComposeFile(t *testing.T) {
	env := dotEnvExample(t)
	p := loadCompose(t, env)

	// Every secret is required: without .env the file refuses to load rather than
	// starting a system with empty passwords. (compose-go warns through logrus's standard
	// logger about each unset variable on the way: expected here, so muted.)
	logrus.SetOutput(io.Discard)
	defer logrus.SetOutput(os.Stderr)
	if _, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  root,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(root, "docker-compose.yml")}},
		Environment: map[string]string{},
	}, func(o *loader.Options) { o.SetProjectName("conectar", true) }); err == nil {
		t.Error("docker-compose.yml loads without any secret set")
	}

	oneShot := map[string]bool{"migrate": true} // runs to completion; has no health check
	for name, s := range p.Services {
		if s.Image == "" && s.Build == nil {
			t.Errorf("%s: neither image nor build", name)
		}
		if !oneShot[name] {
			if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) == 0 {
				t.Errorf("%s: no health check", name)
			}
		}
		for dep, d := range s.DependsOn {
			target, ok := p.Services[dep]
			if !ok {
				t.Errorf("%s depends on unknown %s", name, dep)
				continue
			}
			switch d.Condition {
			case types.ServiceConditionHealthy:
				if target.HealthCheck == nil {
					t.Errorf("%s waits for %s healthy, but %s has no health check", name, dep, dep)
				}
			case types.ServiceConditionCompletedSuccessfully:
				if !oneShot[dep] {
					t.Errorf("%s waits for long-running %s to complete", name, dep)
				}
			default:
				if name != "prometheus" && name != "grafana" {
					t.Errorf("%s → %s: condition %q; components wait for healthy dependencies", name, dep, d.Condition)
				}
			}
		}
	}

	// The JetStream cluster: three nodes from the one nats.conf, each named, each healthy.
	for _, n := range []string{"nats-1", "nats-2", "nats-3"} {
		s, ok := p.Services[n]
		if !ok {
			t.Errorf("no %s in the JetStream cluster", n)
			continue
		}
		if v := s.Environment["NATS_SERVER_NAME"]; v == nil || *v != n {
			t.Errorf("%s: NATS_SERVER_NAME = %v", n, v)
		}
		if !slices.ContainsFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool { return strings.HasSuffix(v.Source, "nats.conf") }) {
			t.Errorf("%s does not mount nats.conf", n)
		}
	}

	// Each component: the command that runs it, its dependencies, and every setting it
	// needs in a container, with only its own secrets.
	for _, comp := range append([]string{"gateway"}, services...) {
		s, ok := p.Services[comp]
		if !ok {
			t.Errorf("no %s service", comp)
			continue
		}
		if got := strings.Join(s.Command, " "); got != "serve "+comp {
			t.Errorf("%s: command %q", comp, got)
		}
		for _, n := range containerNeeds(comp) {
			if v := s.Environment[n.key]; v == nil || *v == "" {
				t.Errorf("%s: environment lacks %s", comp, n.key)
			}
		}
		if h := s.Environment["HOST"]; h == nil || *h != "0.0.0.0" {
			t.Errorf("%s: HOST must be 0.0.0.0 in a container", comp)
		}
		for k := range s.Environment {
			if strings.HasPrefix(k, "DB_PASSWORD_") && k != "DB_PASSWORD_"+strings.ToUpper(comp) {
				t.Errorf("%s receives another service's database password %s", comp, k)
			}
		}
		nu := s.Environment["NATS_URL"]
		if nu == nil {
			continue
		}
		urls := strings.Split(*nu, ",")
		if len(urls) != 3 {
			t.Errorf("%s: NATS_URL names %d servers, want the 3 cluster nodes", comp, len(urls))
		}
		for _, u := range urls {
			if !strings.HasPrefix(u, "nats://"+comp+":"+env["NATS_"+strings.ToUpper(comp)+"_PASSWORD"]+"@nats-") {
				t.Errorf("%s: NATS_URL %q is not its own user", comp, u)
			}
		}
		for _, dep := range []string{"nats-1", "nats-2", "nats-3"} {
			if comp != "gateway" && s.DependsOn[dep].Condition != types.ServiceConditionHealthy {
				t.Errorf("%s does not wait for %s healthy", comp, dep)
			}
		}
		if comp != "gateway" && s.DependsOn["migrate"].Condition != types.ServiceConditionCompletedSuccessfully {
			t.Errorf("%s does not wait for the migrations", comp)
		}
	}
	for _, svc := range services {
		if p.Services["gateway"].DependsOn[svc].Condition != types.ServiceConditionHealthy {
			t.Errorf("gateway does not wait for %s healthy", svc)
		}
	}
	mig := p.Services["migrate"]
	for _, svc := range services {
		if v := mig.Environment["DB_PASSWORD_"+strings.ToUpper(svc)]; v == nil || *v == "" {
			t.Errorf("migrate lacks DB_PASSWORD_%s (it sets the role's password)", strings.ToUpper(svc))
		}
	}

	// Observability: Prometheus scrapes what deploy/prometheus names, Grafana provisions
	// the dashboard.
	for _, n := range []string{"prometheus", "grafana"} {
		if _, ok := p.Services[n]; !ok {
			t.Errorf("no %s service", n)
		}
	}
	if g, ok := p.Services["grafana"]; ok {
		var prov, dash bool
		for _, v := range g.Volumes {
			prov = prov || strings.HasSuffix(v.Source, filepath.Join("deploy", "grafana", "provisioning"))
			dash = dash || strings.HasSuffix(v.Source, filepath.Join("deploy", "grafana", "dashboards"))
		}
		if !prov || !dash {
			t.Errorf("grafana does not mount the provisioning (%v) and dashboards (%v) folders", prov, dash)
		}
	}
}

// TestPrometheusScrapesEveryComponent reads deploy/prometheus/prometheus.yml and checks a
// /metrics target for the gateway and each service on its port.
func TestPrometheusScrapesEveryComponent(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(root, "deploy", "prometheus", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		ScrapeConfigs []struct {
			MetricsPath   string `json:"metrics_path"`
			StaticConfigs []struct {
				Targets []string `json:"targets"`
			} `json:"static_configs"`
		} `json:"scrape_configs"`
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{}
	for _, sc := range cfg.ScrapeConfigs {
		if sc.MetricsPath != "" && sc.MetricsPath != "/metrics" {
			continue
		}
		for _, st := range sc.StaticConfigs {
			for _, tg := range st.Targets {
				targets[tg] = true
			}
		}
	}
	for comp, port := range servicePort {
		if target := comp + ":" + strconv.Itoa(port); !targets[target] {
			t.Errorf("prometheus.yml has no /metrics target %s (has %v)", target, targets)
		}
	}
}
