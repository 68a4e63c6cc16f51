package main

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/conectarpro/conectar/services/marketplace/domain"
)

// chromium finds a Chromium or Chrome to drive: CHROME_PATH, else the usual names.
func chromium() string {
	if p := os.Getenv("CHROME_PATH"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestDocsInBrowser opens /docs of a running system in headless Chromium and finds an
// operation and its answer's schema rendered by the embedded Swagger UI: the page works with
// nothing from the network, on the document the gateway merges. From the link /docs
// shows, it then opens /docs/lifecycle and finds both lifecycles drawn (checkLifecycles).
func TestDocsInBrowser(t *testing.T) {
	chrome := chromium()
	if chrome == "" {
		t.Skip("no Chromium found (Debian: apt-get install -y chromium, or set CHROME_PATH): /docs is not checked in a browser")
	}
	sys := startSystem(t, nil)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-dev-shm-usage", true))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	browser, cancel := chromedp.NewContext(alloc)
	defer cancel()
	// The first run starts the browser, which lives as long as that run's context: no
	// timeout there; the page's steps get one.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(browser, 60*time.Second)
	defer cancelTimeout()

	// Swagger UI names a tag's header operations-tag-<tag> and an operation's block
	// operations-<tag>-<operationId>. Tags start folded (docsui/init.js).
	const login = `#operations-auth-post_auth_login`
	if err := chromedp.Do(ctx,
		chromedp.Navigate(sys.gateway+"/docs"),
		chromedp.WaitVisible(chromedp.CSS(`#operations-tag-auth`)),
		chromedp.Click(chromedp.CSS(`#operations-tag-auth`)),
		chromedp.WaitVisible(chromedp.CSS(login)),
	); err != nil {
		t.Fatalf("/docs in Chromium: the auth operations: %v", err)
	}
	summary, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(login)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(summary, "/api/v1/auth/login") {
		t.Errorf("the login operation's block: %q", summary)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(login+` .opblock-summary-control`)),
		chromedp.WaitVisible(chromedp.CSS(login+` .responses-wrapper`)),
	); err != nil {
		t.Fatalf("expand the login operation: %v", err)
	}
	expanded, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(login)))
	if err != nil {
		t.Fatal(err)
	}
	// The 200 answer's example is rendered from the TokenPair schema; the 401 lists its codes.
	for _, want := range []string{"access_token", "refresh_token", "invalid_credentials"} {
		if !strings.Contains(expanded, want) {
			t.Errorf("the expanded login operation lacks %q:\n%s", want, clipText(expanded))
		}
	}
	// The 200 answer's schema tab shows the schema itself: its name and its properties.
	answers := login + ` .responses-wrapper`
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(answers+` button[data-name="model"]`)),
		chromedp.WaitVisible(chromedp.CSS(answers+` .model-box`)),
	); err != nil {
		t.Fatalf("the login answer's schema tab: %v", err)
	}
	schema, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(answers)))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"TokenPair", "expires_in", "integer"} {
		if !strings.Contains(schema, want) {
			t.Errorf("the login answer's schema lacks %q:\n%s", want, clipText(schema))
		}
	}
	checkLifecycles(t, ctx, sys.gateway)
}

// lifecycleDrawn is what the lifecycle page shows of one machine.
type lifecycleDrawn struct {
	Width  float64  `json:"width"`
	Height float64  `json:"height"`
	Texts  []string `json:"texts"` // the diagram's texts that take room on the page
	Rows   []string `json:"rows"`  // the table's moves
}

// lifecycleProbe measures, in the page, each machine's inline SVG and the texts in it
// that are laid out with a size (an unrendered or hidden text has none).
const lifecycleProbe = `(() => {
  const out = {};
  for (const id of ["oferta", "trabajo"]) {
    const svg = document.querySelector("#" + id + " .diagram svg");
    if (!svg) continue;
    const r = svg.getBoundingClientRect();
    const texts = [];
    svg.querySelectorAll("text").forEach((t) => {
      const b = t.getBBox(), c = t.getBoundingClientRect();
      if (b.width > 0 && b.height > 0 && c.width > 0 && c.height > 0 && getComputedStyle(t).visibility !== "hidden") texts.push(t.textContent);
    });
    const rows = [...document.querySelectorAll("#" + id + " tbody tr")].map((tr) => tr.dataset.move);
    out[id] = {width: r.width, height: r.height, texts, rows};
  }
  return out;
})()`

// checkLifecycles follows /docs' link to /docs/lifecycle (ctx is on /docs) and finds
// there, drawn by the browser from marketplace's SVG, every state of both machines and a
// label for every move, and every move in the table.
func checkLifecycles(t *testing.T, ctx context.Context, gateway string) {
	t.Helper()
	// Swagger UI renders the document's description, with its link, atop the page.
	const link = `.information-container a[href="/docs/lifecycle"]`
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(link))); err != nil {
		t.Fatalf("/docs shows no link to /docs/lifecycle: %v", err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(gateway+"/docs/lifecycle"),
		chromedp.WaitVisible(chromedp.CSS(`#oferta .diagram svg`)),
		chromedp.WaitVisible(chromedp.CSS(`#trabajo .diagram svg`)),
		chromedp.WaitVisible(chromedp.CSS(`#trabajo tbody tr`)),
	); err != nil {
		errText, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll(".status")].map((e) => e.textContent).join(" | ")`))
		t.Fatalf("/docs/lifecycle in Chromium: the diagrams: %v (page says: %s)", err, errText)
	}
	drawn, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]lifecycleDrawn](lifecycleProbe))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []domain.Machine{domain.OfferMachine(), domain.JobMachine()} {
		d, ok := drawn[m.Name]
		if !ok {
			t.Errorf("%s: no diagram on the page", m.Name)
			continue
		}
		if d.Width < 100 || d.Height < 100 {
			t.Errorf("%s: the diagram is %.0f×%.0f on the page", m.Name, d.Width, d.Height)
		}
		for _, s := range m.States {
			if !slices.Contains(d.Texts, s) {
				t.Errorf("%s: state %s is not drawn (texts: %q)", m.Name, s, d.Texts)
			}
		}
		var moves []string
		for _, tr := range m.Transitions {
			moves = append(moves, tr.Move)
			if !slices.ContainsFunc(d.Texts, func(s string) bool { return strings.HasPrefix(s, tr.Move+" · ") }) {
				t.Errorf("%s: no label for move %s", m.Name, tr.Move)
			}
		}
		if !slices.Equal(d.Rows, moves) {
			t.Errorf("%s: the table lists %v, the lifecycle has %v", m.Name, d.Rows, moves)
		}
	}
}

func clipText(s string) string {
	if len(s) > 1500 {
		return s[:1500] + "…"
	}
	return s
}
