package deploy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestGrafanaProvisioning checks that the dashboard's panels use the provisioned
// Prometheus datasource and that the dashboard provider reads the folder compose mounts.
// (Which series the panels query is checked against a running system by the system test
// TestMetricsAfterMixedTraffic in cmd/conectar.)
func TestGrafanaProvisioning(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("grafana", "provisioning", "datasources", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var ds struct {
		Datasources []struct {
			UID  string `json:"uid"`
			Type string `json:"type"`
			URL  string `json:"url"`
		} `json:"datasources"`
	}
	if err := yaml.Unmarshal(raw, &ds); err != nil {
		t.Fatal(err)
	}
	if len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" || ds.Datasources[0].URL != "http://prometheus:9090" {
		t.Fatalf("datasources: %+v", ds.Datasources)
	}
	uid := ds.Datasources[0].UID

	raw, err = os.ReadFile(filepath.Join("grafana", "provisioning", "dashboards", "conectar.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var prov struct {
		Providers []struct {
			Options struct {
				Path string `json:"path"`
			} `json:"options"`
		} `json:"providers"`
	}
	if err := yaml.Unmarshal(raw, &prov); err != nil {
		t.Fatal(err)
	}
	if len(prov.Providers) != 1 || prov.Providers[0].Options.Path != "/var/lib/grafana/dashboards" {
		t.Fatalf("dashboard providers: %+v", prov.Providers)
	}
	p := loadCompose(t, dotEnvExample(t))
	mounted := false
	for _, v := range p.Services["grafana"].Volumes {
		mounted = mounted || v.Target == prov.Providers[0].Options.Path
	}
	if !mounted {
		t.Errorf("compose does not mount the dashboards at %s", prov.Providers[0].Options.Path)
	}

	raw, err = os.ReadFile(filepath.Join("grafana", "dashboards", "conectar.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title      string `json:"title"`
			Type       string `json:"type"`
			Datasource *struct {
				UID string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatal(err)
	}
	if dash.UID == "" {
		t.Error("dashboard without a uid: every provisioning would make a new one")
	}
	panels := 0
	for _, pn := range dash.Panels {
		if pn.Type == "row" {
			continue
		}
		panels++
		if pn.Datasource == nil || pn.Datasource.UID != uid {
			t.Errorf("panel %q does not use the provisioned datasource %q", pn.Title, uid)
		}
		if len(pn.Targets) == 0 || pn.Targets[0].Expr == "" {
			t.Errorf("panel %q has no query", pn.Title)
		}
	}
	if panels < 10 {
		t.Errorf("only %d panels", panels)
	}
}
