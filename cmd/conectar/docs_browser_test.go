package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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
// operation and its schemas rendered by the embedded Swagger UI: the page works with
// nothing from the network, on the document the gateway merges.
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

	// Swagger UI names an operation's block operations-<tag>-<operationId>.
	const login = `#operations-auth-post_auth_login`
	if err := chromedp.Do(ctx,
		chromedp.Navigate(sys.gateway+"/docs"),
		chromedp.WaitVisible(chromedp.CSS(login)),
	); err != nil {
		t.Fatalf("/docs in Chromium: %v", err)
	}
	summary, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(login)))
	if err != nil {
		t.Fatal(err)
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
	models, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`section.models`)))
	if err != nil {
		t.Fatalf("the schemas section: %v", err)
	}
	if !strings.Contains(summary, "/api/v1/auth/login") {
		t.Errorf("the login operation's block: %q", summary)
	}
	// The 200 answer's example is rendered from the TokenPair schema; the 401 lists its codes.
	for _, want := range []string{"access_token", "refresh_token", "invalid_credentials"} {
		if !strings.Contains(expanded, want) {
			t.Errorf("the expanded login operation lacks %q:\n%s", want, clipText(expanded))
		}
	}
	for _, want := range []string{"TokenPair", "ErrorBody", "users.UserRead"} {
		if !strings.Contains(models, want) {
			t.Errorf("the schemas section lacks %s:\n%s", want, clipText(models))
		}
	}
}

func clipText(s string) string {
	if len(s) > 1500 {
		return s[:1500] + "…"
	}
	return s
}
