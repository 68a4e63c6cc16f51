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
// operation and its answer's schema rendered by the embedded Swagger UI: the page works with
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
}

func clipText(s string) string {
	if len(s) > 1500 {
		return s[:1500] + "…"
	}
	return s
}
