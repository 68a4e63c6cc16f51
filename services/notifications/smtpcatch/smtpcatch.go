// Package smtpcatch is a mail catcher for development and tests: a real SMTP server
// (github.com/emersion/go-smtp: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) that
// accepts every message, keeps it in memory, parses its subject and its plain-text and
// HTML parts, and shows what it caught on a small web page. The notifications service
// talks to it over real SMTP exactly as it talks to a production relay.
package smtpcatch

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one caught mail.
type Message struct {
	ID         int       `json:"id"`
	From       string    `json:"from"`
	To         []string  `json:"to"`
	Subject    string    `json:"subject"`
	MessageID  string    `json:"message_id"`
	Text       string    `json:"text"`
	HTML       string    `json:"html"`
	Raw        []byte    `json:"-"`
	ReceivedAt time.Time `json:"received_at"`
}

// Catcher is a running SMTP server with its caught messages.
type Catcher struct {
	srv *smtp.Server
	ln  net.Listener

	mu      sync.Mutex
	msgs    []Message
	nextID  int
	rejectN int // the next n DATA commands answer 451 (tests of retries)
}

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves until Close.
func Start(addr string) (*Catcher, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("smtpcatch: listen %s: %w", addr, err)
	}
	c := &Catcher{ln: ln}
	c.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{c: c}, nil }))
	c.srv.Domain = "localhost"
	c.srv.MaxMessageBytes = 10 << 20
	c.srv.MaxRecipients = 100
	c.srv.ReadTimeout = time.Minute
	c.srv.WriteTimeout = time.Minute
	c.srv.AllowInsecureAuth = true
	go func() { _ = c.srv.Serve(ln) }()
	return c, nil
}

// Host is the address the server listens on, without the port.
func (c *Catcher) Host() string { return c.ln.Addr().(*net.TCPAddr).IP.String() }

// Port is the port the server listens on.
func (c *Catcher) Port() int { return c.ln.Addr().(*net.TCPAddr).Port }

// Close stops the server.
func (c *Catcher) Close() error { return c.srv.Close() }

// Messages returns a copy of every caught message, oldest first.
func (c *Catcher) Messages() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Message(nil), c.msgs...)
}

// To returns the caught messages addressed to addr (case-insensitive), oldest first.
func (c *Catcher) To(addr string) []Message {
	var out []Message
	for _, m := range c.Messages() {
		for _, t := range m.To {
			if strings.EqualFold(t, addr) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// Get returns the message with id.
func (c *Catcher) Get(id int) (Message, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.msgs {
		if m.ID == id {
			return m, true
		}
	}
	return Message{}, false
}

// Reset forgets every caught message.
func (c *Catcher) Reset() {
	c.mu.Lock()
	c.msgs = nil
	c.mu.Unlock()
}

// RejectNext makes the next n messages fail with a temporary error (451) at DATA, so
// tests can prove that senders retry.
func (c *Catcher) RejectNext(n int) {
	c.mu.Lock()
	c.rejectN = n
	c.mu.Unlock()
}

func (c *Catcher) store(from string, to []string, raw []byte) error {
	c.mu.Lock()
	if c.rejectN > 0 {
		c.rejectN--
		c.mu.Unlock()
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure (smtpcatch)"}
	}
	c.nextID++
	m := parse(raw)
	m.ID, m.From, m.To, m.Raw, m.ReceivedAt = c.nextID, from, to, raw, time.Now().UTC()
	c.msgs = append(c.msgs, m)
	c.mu.Unlock()
	return nil
}

type session struct {
	c    *Catcher
	from string
	to   []string
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("smtpcatch: read data: %w", err)
	}
	if len(s.to) == 0 {
		return errors.New("smtpcatch: no recipients")
	}
	return s.c.store(s.from, append([]string(nil), s.to...), raw)
}

// parse extracts the subject, Message-ID and text/HTML bodies. It is lenient: a part it
// cannot decode is skipped, the raw message is always kept.
func parse(raw []byte) Message {
	var out Message
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		out.Text = string(raw)
		return out
	}
	dec := new(mime.WordDecoder)
	if s, err := dec.DecodeHeader(msg.Header.Get("Subject")); err == nil {
		out.Subject = s
	} else {
		out.Subject = msg.Header.Get("Subject")
	}
	out.MessageID = strings.Trim(msg.Header.Get("Message-Id"), "<>")
	walk(&out, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0)
	return out
}

func walk(out *Message, ctype, cte string, body io.Reader, depth int) {
	if depth > 5 {
		return
	}
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				return
			}
			// multipart.Reader already decodes quoted-printable parts and drops the header.
			walk(out, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1)
		}
	}
	var r io.Reader = body
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &crlfStripper{r: body})
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return
	}
	switch mt {
	case "text/plain":
		if out.Text == "" {
			out.Text = string(b)
		}
	case "text/html":
		if out.HTML == "" {
			out.HTML = string(b)
		}
	}
}

// crlfStripper drops line breaks so base64 bodies wrapped at 76 columns decode.
type crlfStripper struct{ r io.Reader }

func (s *crlfStripper) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	j := 0
	for i := 0; i < n; i++ {
		if p[i] != '\r' && p[i] != '\n' {
			p[j] = p[i]
			j++
		}
	}
	return j, err
}
