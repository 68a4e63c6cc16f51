package smtpcatch

import (
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="es"><head><meta charset="utf-8"><title>Correos capturados</title>
<meta http-equiv="refresh" content="5">
<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}th{background:#f4f4f4}</style></head>
<body><h1>Correos capturados ({{len .}})</h1>
<p>Servidor SMTP de desarrollo: nada sale de esta máquina. <a href="api/messages">JSON</a></p>
<table><tr><th>#</th><th>Recibido</th><th>De</th><th>Para</th><th>Asunto</th><th>Ver</th></tr>
{{range .}}<tr><td>{{.ID}}</td><td>{{.ReceivedAt.Format "2006-01-02 15:04:05"}}</td><td>{{.From}}</td>
<td>{{range $i, $t := .To}}{{if $i}}, {{end}}{{$t}}{{end}}</td><td>{{.Subject}}</td>
<td><a href="messages/{{.ID}}.html">HTML</a> · <a href="messages/{{.ID}}.txt">texto</a> · <a href="messages/{{.ID}}.eml">original</a></td></tr>
{{else}}<tr><td colspan="6">Todavía no llegó ningún correo.</td></tr>{{end}}
</table></body></html>`))

// Handler serves the web page: "/" lists the caught mails (newest first),
// "/messages/{id}.html|.txt|.eml" shows one, "/api/messages" lists them as JSON.
func (c *Catcher) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		msgs := c.Messages()
		slices.Reverse(msgs)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, msgs)
	})
	mux.HandleFunc("GET /api/messages", func(w http.ResponseWriter, _ *http.Request) {
		msgs := c.Messages()
		slices.Reverse(msgs)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(msgs)
	})
	mux.HandleFunc("GET /messages/{file}", func(w http.ResponseWriter, r *http.Request) {
		file := r.PathValue("file")
		dot := strings.LastIndexByte(file, '.')
		if dot < 0 {
			http.NotFound(w, r)
			return
		}
		id, err := strconv.Atoi(file[:dot])
		m, ok := c.Get(id)
		if err != nil || !ok {
			http.NotFound(w, r)
			return
		}
		switch file[dot+1:] {
		case "html":
			// The mail's HTML is shown as is, but sandboxed: no scripts, no requests.
			w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(m.HTML))
		case "txt":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write([]byte(m.Text))
		case "eml":
			w.Header().Set("Content-Type", "message/rfc822")
			_, _ = w.Write(m.Raw)
		default:
			http.NotFound(w, r)
		}
	})
	return mux
}
