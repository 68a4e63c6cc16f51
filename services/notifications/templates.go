package notifications

import (
	"bytes"
	"context"
	htmltpl "html/template"
	"strconv"
	"strings"
	texttpl "text/template"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pgxQuerier is what both a pool and a transaction offer.
type pgxQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// emailView is what every email shows: a greeting, a title, paragraphs, one button.
type emailView struct {
	Nombre   string
	Titulo   string
	Parrafos []string
	Accion   string
	Link     string
	Nota     string // small print under the button
}

const htmlLayout = `<!doctype html>
<html lang="es"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Titulo}}</title></head>
<body style="margin:0;padding:0;background:#f4f6f8;font-family:Arial,Helvetica,sans-serif;color:#1f2933">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f6f8;padding:24px 0">
<tr><td align="center">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" style="background:#ffffff;border-radius:8px;padding:32px">
<tr><td style="font-size:20px;font-weight:bold;color:#0b5cad;padding-bottom:16px">ConectarProfesionales</td></tr>
<tr><td style="font-size:16px;padding-bottom:8px">Hola{{if .Nombre}} {{.Nombre}}{{end}},</td></tr>
<tr><td style="font-size:18px;font-weight:bold;padding-bottom:12px">{{.Titulo}}</td></tr>
{{range .Parrafos}}<tr><td style="font-size:15px;line-height:1.5;padding-bottom:12px">{{.}}</td></tr>
{{end}}{{if .Link}}<tr><td style="padding:12px 0 20px"><a href="{{.Link}}" style="background:#0b5cad;color:#ffffff;text-decoration:none;padding:12px 20px;border-radius:6px;display:inline-block;font-size:15px">{{.Accion}}</a></td></tr>
{{end}}{{if .Nota}}<tr><td style="font-size:13px;color:#52606d;padding-bottom:12px">{{.Nota}}</td></tr>
{{end}}<tr><td style="font-size:12px;color:#7b8794;border-top:1px solid #e4e7eb;padding-top:16px">
Recibís este correo porque tenés una cuenta en ConectarProfesionales. Podés elegir qué correos recibir en tus preferencias de notificaciones.</td></tr>
</table></td></tr></table></body></html>`

const textLayout = `Hola{{if .Nombre}} {{.Nombre}}{{end}},

{{.Titulo}}
{{range .Parrafos}}
{{.}}
{{end}}{{if .Link}}
{{.Accion}}: {{.Link}}
{{end}}{{if .Nota}}
{{.Nota}}
{{end}}
--
ConectarProfesionales
Podés elegir qué correos recibir en tus preferencias de notificaciones.
`

// templates renders the email layout in HTML and plain text.
type templates struct {
	html *htmltpl.Template
	text *texttpl.Template
}

func newTemplates() *templates {
	return &templates{
		html: htmltpl.Must(htmltpl.New("html").Parse(htmlLayout)),
		text: texttpl.Must(texttpl.New("text").Parse(textLayout)),
	}
}

// render returns the plain-text and HTML bodies of v. The layouts are fixed and the
// data plain strings, so execution cannot fail; a failure would be a bug and yields
// the plain paragraphs.
func (t *templates) render(v emailView) (text, html string) {
	var tb, hb bytes.Buffer
	if err := t.text.Execute(&tb, v); err != nil {
		tb.Reset()
		tb.WriteString(strings.Join(v.Parrafos, "\n\n"))
	}
	if err := t.html.Execute(&hb, v); err != nil {
		hb.Reset()
		hb.WriteString(htmltpl.HTMLEscapeString(strings.Join(v.Parrafos, "\n\n")))
	}
	return tb.String(), hb.String()
}

func joinName(nombre, apellido string) string {
	return strings.TrimSpace(nombre + " " + apellido)
}

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

// formatARS renders centavos the Argentine way: "$ 12.345,67".
func formatARS(c int64) string {
	neg := c < 0
	if neg {
		c = -c
	}
	whole, cents := c/100, c%100
	digits := strconv.FormatInt(whole, 10)
	var b strings.Builder
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(d)
	}
	out := "$ " + b.String() + "," + strconv.FormatInt(cents/10, 10) + strconv.FormatInt(cents%10, 10)
	if neg {
		out = "-" + out
	}
	return out
}
