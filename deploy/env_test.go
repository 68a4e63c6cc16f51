package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// root is the repository root, seen from this module's folder.
const root = ".."

// services are the six services, in port order (8001…8006).
var services = []string{"auth", "users", "professionals", "marketplace", "payments", "notifications"}

// servicePort is the port `conectar serve <name>` listens on by default.
var servicePort = map[string]int{"gateway": 8000, "auth": 8001, "users": 8002, "professionals": 8003,
	"marketplace": 8004, "payments": 8005, "notifications": 8006}

// need is one setting a container must be given.
type need struct {
	key string
	// loader is the file (from the repository root) whose config loader reads key; the
	// test checks the key is still spelled there, so a renamed setting fails here.
	loader string
}

// containerNeeds lists, per component, the settings whose defaults are wrong in a
// container: addresses that default to loopback (HOST would listen on 127.0.0.1 only,
// the service URLs would point at the container itself), and secrets whose defaults are
// public development values. Everything else has a production default in its loader.
func containerNeeds(component string) []need {
	const serve = "cmd/conectar/serve.go"
	out := []need{
		{"HOST", serve}, {"NATS_URL", serve}, {"PUBLIC_URL", serve}, {"NATS_REPLICAS", serve},
		{"INTERNAL_API_KEY", "platform/kit/internal.go"},
	}
	for _, s := range services {
		out = append(out, need{strings.ToUpper(s) + "_URL", serve})
	}
	if component == "gateway" {
		return append(out, need{"CORS_ORIGINS", "gateway/config.go"})
	}
	out = append(out, need{"DATABASE_URL", serve}, need{"DB_PASSWORD_" + strings.ToUpper(component), serve})
	switch component {
	case "auth":
		out = append(out, need{"AUTH_KEYS_SECRET", "services/auth/config.go"})
	case "marketplace":
		out = append(out, need{"CHAT_WEBHOOK_API_KEY", "services/marketplace"})
	case "payments":
		out = append(out, need{"MP_ACCESS_TOKEN", "services/payments/service.go"},
			need{"MP_WEBHOOK_SECRET", "services/payments/service.go"})
	case "notifications":
		out = append(out, need{"SMTP_HOST", "services/notifications"}, need{"SMTP_PORT", "services/notifications"})
	}
	return out
}

// TestNeedsAreReadByTheLoaders keeps containerNeeds honest: every key is still read by
// the loader it names (as a quoted key, or a "<NAME>_…" built from the service name).
func TestNeedsAreReadByTheLoaders(t *testing.T) {
	cache := map[string]string{}
	source := func(path string) string {
		if s, ok := cache[path]; ok {
			return s
		}
		full := filepath.Join(root, path)
		var b strings.Builder
		_ = filepath.WalkDir(full, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return nil
			}
			raw, err := os.ReadFile(p)
			if err == nil {
				b.Write(raw)
			}
			return nil
		})
		cache[path] = b.String()
		return cache[path]
	}
	for _, comp := range append([]string{"gateway"}, services...) {
		for _, n := range containerNeeds(comp) {
			src := source(n.loader)
			if src == "" {
				t.Fatalf("%s: no Go source at %s", n.key, n.loader)
			}
			quoted := `"` + n.key + `"`
			// Keys built from a service name: "DB_PASSWORD_"+name, key+"_URL".
			switch {
			case strings.Contains(src, quoted):
			case strings.HasPrefix(n.key, "DB_PASSWORD_") && strings.Contains(src, `"DB_PASSWORD_"`):
			case strings.HasSuffix(n.key, "_URL") && strings.Contains(src, `key+"_URL"`):
			default:
				t.Errorf("%s (needed by %s) is not read in %s any more", n.key, comp, n.loader)
			}
		}
	}
}
