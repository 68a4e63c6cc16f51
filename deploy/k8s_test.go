package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// cluster is the overlay's objects, decoded strictly into their k8s.io/api types.
type cluster struct {
	deployments map[string]*appsv1.Deployment
	services    map[string]*corev1.Service
	configMaps  map[string]*corev1.ConfigMap
	secrets     map[string]*corev1.Secret
	hpas        map[string]*autoscalingv2.HorizontalPodAutoscaler
	pdbs        map[string]*policyv1.PodDisruptionBudget
	jobs        map[string]*batchv1.Job
}

func buildOverlay(t *testing.T, dir string) cluster {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	c := cluster{deployments: map[string]*appsv1.Deployment{}, services: map[string]*corev1.Service{},
		configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{},
		hpas: map[string]*autoscalingv2.HorizontalPodAutoscaler{}, pdbs: map[string]*policyv1.PodDisruptionBudget{},
		jobs: map[string]*batchv1.Job{}}
	for _, r := range rm.Resources() {
		raw, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		// Strict: a misspelt or misplaced field (readinesProbe, a probe under the pod) is an
		// error here instead of a setting the cluster silently ignores.
		decode := func(into any) {
			if err := yaml.UnmarshalStrict(raw, into); err != nil {
				t.Errorf("%s %s: %v", r.GetKind(), r.GetName(), err)
			}
		}
		if ns := r.GetNamespace(); ns != "conectar" {
			t.Errorf("%s %s in namespace %q", r.GetKind(), r.GetName(), ns)
		}
		switch r.GetKind() {
		case "Deployment":
			var d appsv1.Deployment
			decode(&d)
			c.deployments[d.Name] = &d
		case "Service":
			var s corev1.Service
			decode(&s)
			c.services[s.Name] = &s
		case "ConfigMap":
			var m corev1.ConfigMap
			decode(&m)
			c.configMaps[m.Name] = &m
		case "Secret":
			var s corev1.Secret
			decode(&s)
			c.secrets[s.Name] = &s
		case "HorizontalPodAutoscaler":
			var h autoscalingv2.HorizontalPodAutoscaler
			decode(&h)
			c.hpas[h.Name] = &h
		case "PodDisruptionBudget":
			var p policyv1.PodDisruptionBudget
			decode(&p)
			c.pdbs[p.Name] = &p
		case "Job":
			var j batchv1.Job
			decode(&j)
			c.jobs[j.Name] = &j
		default:
			t.Errorf("unexpected %s %s", r.GetKind(), r.GetName())
		}
	}
	return c
}

// byPrefix finds a generated object (kustomize suffixes ConfigMap and Secret names
// with a content hash).
func byPrefix[T any](m map[string]*T, prefix string) (*T, string) {
	for name, v := range m {
		if strings.HasPrefix(name, prefix+"-") || name == prefix {
			return v, name
		}
	}
	return nil, ""
}

func TestKustomizeOverlay(t *testing.T) {
	c := buildOverlay(t, filepath.Join("k8s", "overlays", "example"))
	cm, cmName := byPrefix(c.configMaps, "conectar-config")
	sec, secName := byPrefix(c.secrets, "conectar-secrets")
	if cm == nil || sec == nil {
		t.Fatalf("config %v / secrets %v not generated", cm != nil, sec != nil)
	}
	if len(c.deployments) != 7 || len(c.services) != 7 || len(c.pdbs) != 7 || len(c.hpas) != 2 || len(c.jobs) != 1 {
		t.Errorf("objects: %d deployments, %d services, %d PDBs, %d HPAs, %d jobs", len(c.deployments), len(c.services), len(c.pdbs), len(c.hpas), len(c.jobs))
	}
	secretKeys := map[string]bool{}
	for k := range sec.Data {
		secretKeys[k] = true
	}
	for k := range sec.StringData {
		secretKeys[k] = true
	}

	for _, comp := range append([]string{"gateway"}, services...) {
		d, ok := c.deployments[comp]
		if !ok {
			t.Errorf("no Deployment %s", comp)
			continue
		}
		pod := d.Spec.Template
		if len(pod.Spec.Containers) != 1 {
			t.Errorf("%s: %d containers", comp, len(pod.Spec.Containers))
			continue
		}
		ctr := pod.Spec.Containers[0]
		if got := strings.Join(ctr.Args, " "); got != "serve "+comp {
			t.Errorf("%s: args %q", comp, got)
		}
		if !strings.HasPrefix(ctr.Image, "registry.example.com/conectar:") {
			t.Errorf("%s: image %q not set by the overlay", comp, ctr.Image)
		}
		port := servicePort[comp]
		portNames := map[string]int32{}
		for _, p := range ctr.Ports {
			portNames[p.Name] = p.ContainerPort
		}
		if portNames["http"] != int32(port) {
			t.Errorf("%s: container port %v, want http=%d (its config loader's default)", comp, ctr.Ports, port)
		}
		for what, pr := range map[string]*corev1.Probe{"readiness": ctr.ReadinessProbe, "liveness": ctr.LivenessProbe} {
			if pr == nil || pr.HTTPGet == nil || pr.HTTPGet.Path != "/health" {
				t.Errorf("%s: %s probe is not GET /health", comp, what)
				continue
			}
			if p := pr.HTTPGet.Port; p.StrVal != "http" && p.IntVal != int32(port) {
				t.Errorf("%s: %s probe on port %v", comp, what, p.String())
			}
		}
		if ctr.Resources.Requests.Cpu().IsZero() || ctr.Resources.Requests.Memory().IsZero() {
			t.Errorf("%s: no CPU/memory requests", comp)
		}

		// Every setting the component needs in a container, from the ConfigMap, the
		// Secret or the container's own env; references must resolve.
		env := map[string]string{}
		for _, ef := range ctr.EnvFrom {
			if ef.ConfigMapRef != nil {
				if ef.ConfigMapRef.Name != cmName {
					t.Errorf("%s: envFrom ConfigMap %q (generated: %q)", comp, ef.ConfigMapRef.Name, cmName)
				}
				for k, v := range cm.Data {
					env[k] = v
				}
			}
		}
		for _, e := range ctr.Env {
			switch {
			case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
				ref := e.ValueFrom.SecretKeyRef
				if ref.Name != secName || !secretKeys[ref.Key] {
					t.Errorf("%s: %s from secret %s key %s, which the overlay does not provide", comp, e.Name, ref.Name, ref.Key)
				}
				env[e.Name] = "<secret>"
			case e.ValueFrom != nil:
				t.Errorf("%s: %s from an unexpected source", comp, e.Name)
			default:
				env[e.Name] = e.Value
			}
		}
		for _, n := range containerNeeds(comp) {
			if env[n.key] == "" {
				t.Errorf("%s: no %s (read by %s)", comp, n.key, n.loader)
			}
		}
		if env["HOST"] != "0.0.0.0" {
			t.Errorf("%s: HOST=%q; a pod must listen on all interfaces", comp, env["HOST"])
		}
		if u := env["NATS_URL"]; !strings.HasPrefix(u, "nats://"+comp+":$(NATS_PASSWORD)@") {
			t.Errorf("%s: NATS_URL %q is not its own NATS user", comp, u)
		}
		for _, s := range services {
			if want := "http://" + s + ":" + strconv.Itoa(servicePort[s]); env[strings.ToUpper(s)+"_URL"] != want {
				t.Errorf("%s: %s_URL=%q, want %q", comp, strings.ToUpper(s), env[strings.ToUpper(s)+"_URL"], want)
			}
		}

		svc, ok := c.services[comp]
		if !ok {
			t.Errorf("no Service %s", comp)
		} else {
			for k, v := range svc.Spec.Selector {
				if pod.Labels[k] != v {
					t.Errorf("Service %s selects %s=%s, which its pods lack", comp, k, v)
				}
			}
			if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != int32(port) {
				t.Errorf("Service %s ports %v, want %d", comp, svc.Spec.Ports, port)
			}
		}
		pdb, ok := c.pdbs[comp]
		if !ok {
			t.Errorf("no PodDisruptionBudget for %s", comp)
		} else {
			for k, v := range pdb.Spec.Selector.MatchLabels {
				if pod.Labels[k] != v {
					t.Errorf("PodDisruptionBudget %s selects %s=%s, which the pods lack", comp, k, v)
				}
			}
		}
	}
	for _, comp := range []string{"gateway", "professionals"} {
		h, ok := c.hpas[comp]
		if !ok {
			t.Errorf("no HorizontalPodAutoscaler for %s", comp)
			continue
		}
		if h.Spec.ScaleTargetRef.Kind != "Deployment" || h.Spec.ScaleTargetRef.Name != comp || h.Spec.MaxReplicas <= *h.Spec.MinReplicas {
			t.Errorf("HPA %s: %+v", comp, h.Spec)
		}
	}
	if j, ok := c.jobs["migrate"]; !ok {
		t.Error("no migrate Job")
	} else if got := strings.Join(j.Spec.Template.Spec.Containers[0].Args, " "); got != "migrate up" {
		t.Errorf("migrate Job runs %q", got)
	}
}

// TestNATSHelmValues checks the Helm values describe a 3-node JetStream cluster with
// one user per component.
func TestNATSHelmValues(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("k8s", "nats", "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Config struct {
			Cluster struct {
				Enabled  bool `json:"enabled"`
				Replicas int  `json:"replicas"`
			} `json:"cluster"`
			JetStream struct {
				Enabled bool `json:"enabled"`
			} `json:"jetstream"`
			Merge struct {
				Authorization struct {
					Users []struct {
						User        string `json:"user"`
						Permissions struct {
							Publish struct {
								Allow []string `json:"allow"`
							} `json:"publish"`
							Subscribe struct {
								Allow []string `json:"allow"`
							} `json:"subscribe"`
						} `json:"permissions"`
					} `json:"users"`
				} `json:"authorization"`
			} `json:"merge"`
		} `json:"config"`
	}
	if err := yaml.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if !v.Config.Cluster.Enabled || v.Config.Cluster.Replicas != 3 || !v.Config.JetStream.Enabled {
		t.Errorf("not a 3-node JetStream cluster: %+v", v.Config)
	}
	// The cluster in Kubernetes grants exactly what nats.conf grants (and what
	// TestNATSPermissions proves is enough and no more).
	natsConfEnv(t)
	opts, err := server.ProcessConfigFile(filepath.Join(root, "nats.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf := map[string]*server.User{}
	for _, u := range opts.Users {
		conf[u.Username] = u
	}
	helm := map[string]bool{}
	for _, u := range v.Config.Merge.Authorization.Users {
		helm[u.User] = true
		c, ok := conf[u.User]
		if !ok {
			t.Errorf("Helm user %s is not in nats.conf", u.User)
			continue
		}
		var pub, sub []string
		if c.Permissions != nil && c.Permissions.Publish != nil {
			pub = c.Permissions.Publish.Allow
		}
		if c.Permissions != nil && c.Permissions.Subscribe != nil {
			sub = c.Permissions.Subscribe.Allow
		}
		if !slices.Equal(u.Permissions.Publish.Allow, pub) || !slices.Equal(u.Permissions.Subscribe.Allow, sub) {
			t.Errorf("%s: Helm permissions differ from nats.conf", u.User)
		}
	}
	for _, u := range append(NATSUsers(), NATSUser{Name: "ops"}) {
		if !helm[u.Name] {
			t.Errorf("no NATS user %s in the Helm values", u.Name)
		}
	}
}
