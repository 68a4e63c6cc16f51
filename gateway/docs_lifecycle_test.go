package gateway_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestDocsLifecyclePage serves /docs/lifecycle and its script, keeps pages out of the
// asset path, and links the page from the document's description (which Swagger UI shows
// at the top of /docs).
func TestDocsLifecyclePage(t *testing.T) {
	s := newStack(t, nil)
	get := func(path string) (int, string, string) {
		resp, err := http.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
	}
	st, ct, page := get("/docs/lifecycle")
	if st != http.StatusOK || !strings.HasPrefix(ct, "text/html") || !strings.Contains(page, "/docs/assets/lifecycle.js") ||
		!strings.Contains(page, "/api/v1/ofertas/lifecycle") || !strings.Contains(page, "/api/v1/trabajos/lifecycle") {
		t.Errorf("/docs/lifecycle: %d %s\n%s", st, ct, page)
	}
	if st, ct, _ := get("/docs/assets/lifecycle.js"); st != http.StatusOK || !strings.Contains(ct, "javascript") {
		t.Errorf("/docs/assets/lifecycle.js: %d %s", st, ct)
	}
	for _, p := range []string{"/docs/assets/lifecycle.html", "/docs/assets/index.html"} {
		if st, _, _ := get(p); st != http.StatusNotFound {
			t.Errorf("%s: %d, want 404 (pages have their own paths)", p, st)
		}
	}
	var doc struct {
		Info struct {
			Description string `json:"description"`
		} `json:"info"`
		Paths map[string]map[string]any `json:"paths"`
	}
	if r := s.do(http.MethodGet, "/docs/openapi.json", nil, nil, &doc); r.StatusCode != http.StatusOK {
		t.Fatalf("openapi: %d", r.StatusCode)
	}
	if !strings.Contains(doc.Info.Description, "(/docs/lifecycle)") {
		t.Errorf("the description does not link /docs/lifecycle: %s", doc.Info.Description)
	}
	if _, ok := doc.Paths["/docs/lifecycle"]; !ok {
		t.Error("/docs/lifecycle is not in the document")
	}
}
