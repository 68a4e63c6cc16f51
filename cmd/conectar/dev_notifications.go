package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/conectarpro/conectar/services/notifications/smtpcatch"
)

// notificationsDevExtra starts the SMTP catcher for dev (owned by the notifications
// work): a real SMTP server on a free loopback port that keeps every mail in memory,
// and a small web page listing what it caught. The services get SMTP_HOST/SMTP_PORT
// pointing at it and SMTP_TLS=none, because the catcher does not speak STARTTLS.
func notificationsDevExtra() devExtra {
	return devExtra{name: "smtp-catcher", start: startSMTPCatcher}
}

func startSMTPCatcher(_ context.Context, d devContext) (map[string]string, func(), error) {
	catcher, err := smtpcatch.Start("127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = catcher.Close()
		return nil, nil, fmt.Errorf("smtp catcher web page: %w", err)
	}
	web := &http.Server{Handler: catcher.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = web.Serve(ln) }()
	webURL := "http://" + ln.Addr().String() + "/"
	fmt.Fprintf(d.stdout, "SMTP catcher on 127.0.0.1:%d, caught mails at %s\n", catcher.Port(), webURL)
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = web.Shutdown(ctx)
		_ = catcher.Close()
	}
	return map[string]string{
		"SMTP_HOST":    "127.0.0.1",
		"SMTP_PORT":    strconv.Itoa(catcher.Port()),
		"SMTP_TLS":     "none",
		"SMTP_WEB_URL": webURL,
	}, stop, nil
}
