package main

import (
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// feCall is one of the web frontend's calls: what it sends and what its pages read,
// written from ../shared/reference/frontend-shapes.md (section 2, "sends" and "reads";
// section 3's agreed decisions), not from the services' code.
type feCall struct {
	method string
	path   string   // as the frontend calls it (after /api/v1), placeholders as in the document
	as     string   // who calls: a key of feFixture.tok, "" = no login
	args   []string // fixture ids for the placeholders, in order
	query  string
	body   any // JSON exactly as the frontend sends it, or func(*feFixture) (any, error)
	form   url.Values
	files  []feFile
	// status lists the accepted statuses when a call must not simply succeed; why says
	// the reason (or, without status, a note on who calls). Empty = any 2xx.
	status []int
	why    string
	// list: the answer is a bare JSON array (non-empty with the seeded data) whose every
	// item is checked against reads.
	list bool
	// reads: "path:type". path is dotted; "x[]" walks every item of array x (which must
	// be non-empty), "x[]?" allows it empty. type: s (string), s! (non-empty string),
	// n (number), b (bool), a (array), o (object), t (ISO-8601 date the page parses),
	// url (absolute http(s) URL: it goes straight into img src or a navigation),
	// x (any non-null value: a list key the page never slices), =A|B (one of the values
	// the page switches on); a trailing ? on s, n, o, t, url also allows null (a date
	// not reached yet, an optional note).
	reads []string
	// prep runs just before the call (a snapshot the check compares with).
	prep func(t *testing.T, fx *feFixture)
	// check is a further assertion on the answer (a value the page depends on, or that
	// the input was applied rather than dropped).
	check func(t *testing.T, fx *feFixture, ans any)
}

var (
	jobWork    = "=PENDIENTE_PAGO|PAGADO|EN_PROCESO|COMPLETADO|APROBADO|CANCELADO"
	jobEscrow  = "=PENDIENTE_PAGO|PAGADO_EN_ESCROW|LIBERADO|CANCELADO"
	kycStates  = "=PENDIENTE|EN_REVISION|APROBADO|RECHAZADO"
	nivelNames = "=BRONCE|PLATA|ORO|DIAMANTE"
	// The user-facing shapes, shared by the calls that answer them.
	userRead = []string{"id:s!", "nombre:s!", "apellido:s", "email:s!", "rol:=CLIENTE|PROFESIONAL|ADMIN",
		"es_admin:b", "es_profesional:b", "es_cliente:b", "avatar_url:url?", "fecha_creacion:t", "is_active:b",
		"is_chat_banned:b", "infracciones_chat:n", "telefono:s?", "direccion:s?", "kyc_verificado:b"}
	ofertaRead  = []string{"id:s!", "profesional_id:s!", "cliente_id:s!", "descripcion:s", "precio_final:n", "estado:s!", "fecha_creacion:t"}
	trabajoRead = []string{"id:s!", "oferta_id:s!", "cliente_id:s!", "profesional_id:s!", "estado:s!", "estado_escrow:s!",
		"created_at:t", "fecha_creacion:t", "fecha_inicio:t?", "fecha_fin:t?", "fecha_aprobacion:t?",
		"notas_profesional:s?", "notas_cliente:s?", "imagenes:a"}
	// jobDetail is what the job detail page reads; the step and cancel answers replace
	// its copy of the job, so they must carry the same.
	jobDetail = []string{"id:s!", "cliente_id:s!", "profesional_id:s!", "estado:" + jobWork, "created_at:t", "fecha_inicio:t?",
		"fecha_fin:t?", "fecha_aprobacion:t?", "notas_profesional:s?", "notas_cliente:s?", "imagenes[]?:url"}
	transaccion = []string{"id:s!", "trabajo_id:s!", "cliente_id:s!", "profesional_id:s!", "monto:n", "estado:s!", "estado_escrow:s!",
		"metodo_pago:s", "mercadopago_preference_id:s?", "mercadopago_payment_id:s?", "fecha_creacion:t", "fecha_liberacion:t?",
		"descripcion:s?", "cliente_nombre:s?", "profesional_nombre:s?", "puede_liberar:b", "puede_solicitar_reembolso:b",
		"comision_plataforma:n", "monto_neto_profesional:n"}
	retiro  = []string{"id:s!", "usuario_id:s!", "monto:n", "estado:s!", "fecha_solicitud:t", "fecha_procesado:t?", "cuenta_destino:s?"}
	disputa = []string{"id:s!", "trabajo_id:s!", "transaccion_id:s?", "iniciador_id:s!", "tipo:s!", "estado:s!", "descripcion:s!",
		"evidencias:a", "resolucion:s?", "fecha_creacion:t", "fecha_resolucion:t?", "trabajo_titulo:s?", "cliente_nombre:s?", "profesional_nombre:s?"}
	resenaPublic = []string{"id:s!", "rating:n", "cliente_nombre:s!", "comentario:s", "created_at:t", "cliente_avatar_url:url?", "trabajo_descripcion:s?"}
)

func prefixed(prefix string, fields []string) []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = prefix + f
	}
	return out
}

func cat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// frontendCalls is the frontend's 128 calls in the order the test makes them: reads
// first, then calls that create, then calls that change or remove, each on its own
// seeded object.
func frontendCalls() []feCall {
	return []feCall{
		// ---- Auth.
		{method: "POST", path: "/auth/register", body: map[string]any{"email": "nueva@example.com", "password": "password-123",
			"nombre": "Nueva", "apellido": "Cuenta", "rol": "PROFESIONAL", "oficio_id": "{plomeria}"}},
		{method: "POST", path: "/auth/login", form: url.Values{"username": {"ana@example.com"}, "password": {"password-123"}}, reads: []string{"access_token:s!"}},
		{method: "POST", path: "/auth/forgot-password", body: map[string]any{"email": "olvido@example.com"}, reads: []string{"message:s!", "success:b"}},
		{method: "POST", path: "/auth/reset-password", body: func(fx *feFixture) (any, error) {
			tok, err := fx.resetTokenFor("olvido@example.com")
			return map[string]any{"token": tok, "new_password": "otra-clave-456"}, err
		}, reads: []string{"message:s!", "success:b"},
			check: func(t *testing.T, fx *feFixture, a any) { fx.sys.login("olvido@example.com", "otra-clave-456") }},

		// ---- Users.
		{method: "GET", path: "/users/me", as: "cli", reads: userRead, check: func(t *testing.T, fx *feFixture, a any) {
			// The client uploaded an avatar in the seed: the page puts it in img src.
			wantURL(t, obj(a)["avatar_url"])
		}},
		{method: "GET", path: "/users/search", as: "cli", query: "q=Juan", list: true,
			reads: []string{"id:s!", "nombre:s!", "apellido:s", "email:s!", "rol:s!", "avatar_url:url?"}},
		{method: "GET", path: "/admin/users", as: "admin", query: "page=1&limit=10",
			reads: cat([]string{"total:n", "totalPages:n"}, prefixed("users[].", []string{"id:s!", "nombre:s!", "apellido:s", "email:s!", "rol:s!", "is_active:b", "fecha_creacion:t", "avatar_url:url?"}))},
		{method: "GET", path: "/admin/users/search", as: "admin", query: "email=ana", list: true,
			reads: []string{"id:s!", "email:s!", "nombre:s!", "apellido:s", "rol:s!", "is_active:b", "fecha_creacion:t"}},

		// ---- Professional: own profile, KYC, portfolio, services.
		{method: "GET", path: "/professional/me", as: "pro", reads: []string{
			"estado_verificacion:" + kycStates, "kyc_status:" + kycStates, "nivel:" + nivelNames, "tasa_comision_actual:n", "rating_promedio:n",
			"total_resenas:n", "tarifa_por_hora:n", "radio_cobertura_km:n", "acepta_instant:b", "trabajos_completados:n",
			"foto_perfil:url?", "biografia:s?", "disponible:b", "experiencia_anos:n?", "descripcion:s?",
			"habilidades:a", "certificaciones:a", "imagenes_trabajos:a"},
			check: func(t *testing.T, fx *feFixture, a any) {
				if obj(a)["kyc_status"] != "APROBADO" {
					t.Errorf("kyc_status = %v for the approved professional", obj(a)["kyc_status"])
				}
			}},
		{method: "GET", path: "/professional/kyc/status", as: "pro", reads: []string{"kyc_status:" + kycStates, "verificado:b"},
			check: func(t *testing.T, fx *feFixture, a any) {
				if obj(a)["verificado"] != true {
					t.Errorf("verificado = %v for the approved professional", obj(a)["verificado"])
				}
			}},
		{method: "GET", path: "/professional/portfolio", as: "pro", list: true,
			reads: []string{"id:s!", "titulo:s!", "descripcion:s?", "imagenes_urls[]?:url"}, check: wantPortfolioImages},
		{method: "GET", path: "/profesional/servicios/me", as: "pro", list: true,
			reads: []string{"id:s!", "nombre:s!", "descripcion:s", "precio_fijo:n", "oficio.nombre:s!"}},

		// ---- Public profile, marketplace, search, catalogue.
		{method: "GET", path: "/public/professional/{id}", args: []string{"proProfile"}, reads: cat(
			[]string{"nombre:s!", "apellido:s", "avatar_url:url?", "nivel:" + nivelNames, "rating_promedio:n", "total_resenas:n",
				"oficios[].id:s!", "oficios[].nombre:s!", "tarifa_por_hora:n", "radio_cobertura_km:n"},
			prefixed("resenas[].", resenaPublic))},
		{method: "GET", path: "/public/professional/{id}/portfolio", args: []string{"proProfile"}, list: true,
			reads: []string{"id:s!", "titulo:s!", "descripcion:s?", "imagenes_urls[]?:url"}, check: wantPortfolioImages},
		{method: "GET", path: "/public/professional/{id}/resenas", args: []string{"proProfile"}, list: true, reads: resenaPublic},
		{method: "GET", path: "/servicios", query: "oficio_id={plomeria}", list: true, reads: []string{"id:s!", "nombre:s!", "descripcion:s",
			"precio_fijo:n", "profesional.nombre:s!", "profesional.rating_promedio:n", "oficio.nombre:s!", "oficio.categoria:s?"}},
		{method: "POST", path: "/search", body: map[string]any{"latitude": -34.5995, "longitude": -58.44, "radio_km": 10, "skip": 0, "limit": 100,
			"ordenar_por": "rating", "oficio": "Plomería"},
			reads: prefixed("resultados[].", []string{"id:s!", "nombre:s!", "apellido:s", "oficio:s", "tarifa_por_hora:n",
				"calificacion_promedio:n", "cantidad_resenas:n", "avatar_url:url?", "nivel_profesional:" + nivelNames,
				// The document names nivel_profesional; issue #10 names nivel (shown and filtered on).
				"nivel:" + nivelNames})},
		{method: "GET", path: "/public/oficios", list: true, reads: []string{"id:s!", "nombre:s!", "descripcion:s"}},
		{method: "GET", path: "/professional/oficios", as: "pro", list: true, reads: []string{"id:s!", "nombre:s!", "descripcion:s", "categoria:s?"}},
		{method: "GET", path: "/admin/oficios", as: "admin", list: true, reads: []string{"id:s!", "nombre:s!", "descripcion:s", "fecha_creacion:t"}},
		{method: "GET", path: "/admin/oficios/{id}/servicios-instant", as: "admin", args: []string{"plomeria"}, list: true,
			reads: []string{"id:s!", "nombre:s!", "descripcion:s?", "fecha_creacion:t"}},

		// ---- Offers.
		{method: "GET", path: "/professional/ofertas", as: "pro", list: true, reads: ofertaRead},
		{method: "GET", path: "/cliente/ofertas", as: "cli", list: true, reads: []string{"id:s!", "estado:s!", "descripcion:s", "precio:n", "precio_final:n",
			"created_at:t", "chat_id:s!", "profesional_nombre:s!", "profesional_apellido:s", "profesional_avatar_url:url?", "profesional_rating:n"},
			check: func(t *testing.T, fx *feFixture, a any) {
				o := itemWithID(t, a, "", fx.ids["oOpen"])
				if o != nil && (o["precio"] != 18000.0 || o["precio_final"] != 18000.0) {
					t.Errorf("open offer precio %v precio_final %v, want both 18000", o["precio"], o["precio_final"])
				}
			}},
		{method: "GET", path: "/cliente/ofertas/{id}", as: "cli", args: []string{"oOpen"}, reads: ofertaRead},
		{method: "GET", path: "/chat_ofertas/ofertas", as: "pro", list: true, why: "the professional's offers page (frontend-calls.md says C; its reader is the professional)",
			reads: []string{"id:s!", "estado:=OFERTADO|ACEPTADO|RECHAZADO|EXPIRADO", "cliente_nombre:s!", "fecha_creacion:t",
				"precio_final:n", "descripcion:s", "chat_id:s!"}},
		{method: "GET", path: "/chat_ofertas/ofertas/chat/{chatId}", as: "cli", args: []string{"chat"}, list: true,
			reads: []string{"id:s!", "estado:s!", "fecha_creacion:t", "descripcion:s", "precio_final:n"},
			check: func(t *testing.T, fx *feFixture, a any) { itemWithID(t, a, "", fx.ids["oOpen"]) }},
		{method: "GET", path: "/chat_ofertas/ofertas/{id}/timeline", as: "cli", args: []string{"o_jRel1"},
			reads: []string{"oferta_id:s!", "estado_actual:s!", "timeline[].evento:s!", "timeline[].fecha:t", "timeline[].estado:s!"}},

		// ---- Jobs.
		{method: "GET", path: "/chat_ofertas/trabajos", as: "cli", list: true,
			reads: []string{"id:s!", "oferta_id:s!", "estado:" + jobWork, "created_at:t", "fecha_inicio:t?", "notas_profesional:s?"}},
		{method: "GET", path: "/chat_ofertas/trabajos/{id}", as: "cli", args: []string{"jProgress"},
			reads: cat(jobDetail, []string{"fecha_inicio:t"}),
			check: func(t *testing.T, fx *feFixture, a any) {
				// The page picks its buttons by comparing these with the user's id.
				if o := obj(a); o["cliente_id"] != fx.ids["cliUser"] || o["profesional_id"] != fx.ids["proUser"] || o["estado"] != "EN_PROCESO" {
					t.Errorf("cliente_id %v profesional_id %v estado %v", o["cliente_id"], o["profesional_id"], o["estado"])
				}
			}},
		{method: "GET", path: "/chat_ofertas/trabajos/{id}/timeline", as: "cli", args: []string{"jProgress"}, list: true,
			reads: []string{"id:x", "descripcion:s", "usuario_nombre:s?", "created_at:t", "estado_anterior:s?", "estado_nuevo:s?"}},
		{method: "GET", path: "/professional/trabajos", as: "pro", list: true, reads: trabajoRead},
		{method: "GET", path: "/cliente/trabajos", as: "cli", list: true, reads: trabajoRead},
		{method: "GET", path: "/cliente/trabajo/{id}", as: "cli", args: []string{"jProgress"}, reads: trabajoRead},
		{method: "GET", path: "/admin/trabajos", as: "admin", list: true,
			reads: []string{"id:s!", "cliente_id:s!", "profesional_id:s!", "precio_final:n", "fecha_creacion:t", "estado:" + jobEscrow},
			check: func(t *testing.T, fx *feFixture, a any) {
				// The cancel and refund buttons appear only on PAGADO_EN_ESCROW.
				for job, want := range map[string]string{"jPaid": "PAGADO_EN_ESCROW", "jProgress": "PAGADO_EN_ESCROW", "jRel1": "LIBERADO", "jCancelled": "CANCELADO", "jPending": "PENDIENTE_PAGO"} {
					if o := itemWithID(t, a, "", fx.ids[job]); o != nil && o["estado"] != want {
						t.Errorf("%s: estado %v, want %s", job, o["estado"], want)
					}
				}
			}},

		// ---- Reviews.
		{method: "GET", path: "/resenas/professional/{id}", args: []string{"proProfile"}, list: true,
			reads: []string{"id:s!", "rating:n", "texto_resena:s", "fecha_creacion:t", "cliente_nombre:s!", "cliente_avatar:url?"}},
		{method: "GET", path: "/resenas/profesional/{id}/estadisticas", args: []string{"proProfile"},
			reads: []string{"promedio:n", "total:n", "distribucion:o", "porcentaje_recomendado:n", "porcentaje_excelente:n"}},
		{method: "GET", path: "/resenas/{id}", as: "cli", args: []string{"rev1"}, reads: []string{"id:s!", "trabajo_id:s!", "profesional_id:s!",
			"cliente_id:s!", "rating:n", "texto_resena:s", "fecha_creacion:t", "cliente_nombre:s!", "cliente_avatar:url?", "trabajo_titulo:s?", "respuesta_profesional:o?"}},
		{method: "GET", path: "/resenas/mis-resenas", as: "cli", query: "page=1&limit=10", reads: []string{"total:n", "resenas[].id:s!", "resenas[].rating:n"}},
		{method: "GET", path: "/resenas/puede-resenar/{trabajoId}", as: "cli", args: []string{"jRel2"},
			reads: []string{"puede_resenar:b", "motivo:s?", "ya_reseno:b"},
			check: func(t *testing.T, fx *feFixture, a any) {
				if o := obj(a); o["puede_resenar"] != true || o["ya_reseno"] != false {
					t.Errorf("released, unreviewed job: puede_resenar %v ya_reseno %v", o["puede_resenar"], o["ya_reseno"])
				}
			}},

		// ---- Payments (reads).
		{method: "GET", path: "/pagos/balance", as: "pro", reads: []string{"disponible:n", "pendiente:n", "total_ganado:n", "trabajos_completados:n", "total_comisiones:n"},
			check: func(t *testing.T, fx *feFixture, a any) {
				if g, _ := obj(a)["total_ganado"].(float64); g <= 0 {
					t.Errorf("total_ganado %v after three released jobs", obj(a)["total_ganado"])
				}
			}},
		{method: "GET", path: "/pagos/historial", as: "pro", query: "page=1&limit=20", reads: cat([]string{"total:n", "resumen.total_ingresos:n",
			"resumen.total_egresos:n", "resumen.total_comisiones:n"}, prefixed("movimientos[].", []string{"id:s!", "tipo:=ingreso|egreso|comision",
			"estado:=pendiente|completado|cancelado|en_disputa|reembolsado", "descripcion:s?", "fecha_creacion:t", "cliente_nombre:s?",
			"profesional_nombre:s?", "monto:n", "comision_plataforma:n"}))},
		{method: "GET", path: "/admin/pagos/dashboard", as: "admin", reads: []string{"total_monto_procesado:n", "total_transacciones:n",
			"pagos_pendientes:n", "retiros_pendientes:n", "total_comisiones:n"}},
		{method: "GET", path: "/pagos/mis-transacciones", as: "cli", query: "page=1&limit=20", reads: cat([]string{"total:n"}, prefixed("transacciones[].", transaccion))},
		{method: "GET", path: "/pagos/transacciones/{id}", as: "cli", args: []string{"txProgress"}, reads: transaccion},
		{method: "GET", path: "/pagos/dashboard", as: "pro", reads: []string{"ingresos_mes_actual:n", "ingresos_mes_anterior:n", "trabajos_completados_mes:n",
			"promedio_por_trabajo:n", "proximos_pagos:a", "retiros_pendientes:a", "comisiones_pagadas:n"}},
		{method: "GET", path: "/admin/pagos/retiros", as: "admin", query: "estado=PENDIENTE", list: true, reads: retiro},

		// ---- Disputes (reads).
		{method: "GET", path: "/disputas/mis-disputas", as: "cli", query: "page=1&limit=10", reads: cat([]string{"total:n"}, prefixed("disputas[].", disputa))},
		{method: "GET", path: "/disputas/{id}", as: "cli", args: []string{"d1"}, reads: disputa},
		{method: "GET", path: "/admin/disputas", as: "admin", query: "page=1&limit=10", reads: cat([]string{"total:n"}, prefixed("disputas[].", disputa))},

		// ---- Notifications and gamification (reads).
		{method: "GET", path: "/notificaciones", as: "cli", query: "page=1&limit=20", reads: cat([]string{"total:n", "no_leidas:n"},
			prefixed("notificaciones[].", []string{"id:s!", "tipo:=mensaje|oferta|pago|resena|sistema|trabajo", "titulo:s!", "mensaje:s",
				"leida:b", "fecha_creacion:t", "metadata:o?"}))},
		{method: "GET", path: "/notificaciones/no-leidas/contador", as: "cli", reads: []string{"count:n"},
			check: func(t *testing.T, fx *feFixture, a any) {
				if c, _ := obj(a)["count"].(float64); c < 1 {
					t.Errorf("count %v with unread notifications seeded", obj(a)["count"])
				}
			}},
		{method: "GET", path: "/notificaciones/preferencias", as: "cli", reads: []string{"email_mensajes:b", "email_ofertas:b", "email_pagos:b",
			"email_resenas:b", "push_mensajes:b", "push_ofertas:b", "push_pagos:b", "push_resenas:b", "frecuencia_resumen:=nunca|diario|semanal"}},
		{method: "GET", path: "/gamification/leaderboard", query: "limit=10", list: true,
			reads: []string{"posicion:n", "nombre:s!", "puntos:n", "nivel:s!", "rating:n", "trabajos_completados:n"}},
		{method: "GET", path: "/gamification/user/{id}", args: []string{"proUser"}, reads: []string{"nivel_actual:s!", "puntos_experiencia:n",
			"proximo_nivel:s?", "puntos_para_proximo_nivel:n?", "trabajos_completados:n", "rating_promedio:n", "total_resenas:n", "comision_actual:n"}},

		// ---- Admin (reads).
		{method: "GET", path: "/admin/kyc/pending", as: "admin", list: true, reads: []string{"id:s!", "nombre:s!", "apellido:s", "email:s!", "fecha_creacion:t"},
			check: func(t *testing.T, fx *feFixture, a any) { itemWithID(t, a, "", fx.ids["pendAProfile"]) }},
		{method: "GET", path: "/admin/metrics/financials", as: "admin", reads: []string{"comision_total:n"}},
		{method: "GET", path: "/admin/metrics/users", as: "admin", reads: []string{"total_clientes:n", "total_profesionales:n", "total_pro_pendientes_kyc:n", "total_pro_aprobados:n"},
			check: func(t *testing.T, fx *feFixture, a any) {
				if o := obj(a); num(o["total_clientes"]) < 3 || num(o["total_profesionales"]) < 4 || num(o["total_pro_aprobados"]) < 1 {
					t.Errorf("user counts %v: the seed has ≥3 clients, ≥4 professionals, 1 approved", o)
				}
			}},
		{method: "GET", path: "/admin/dashboard/stats", as: "admin", reads: []string{"finanzas.total_ingresos:n", "finanzas.total_comisiones:n", "trabajos.completados:n"}},

		// ---- Calls that create.
		{method: "POST", path: "/users/me/avatar", as: "pwUser", files: []feFile{{"file", "yo.png", "image/png", pngBytes}},
			reads: userRead, check: func(t *testing.T, fx *feFixture, a any) { wantURL(t, obj(a)["avatar_url"]) }},
		{method: "POST", path: "/professional/kyc/submit", as: "proNew", files: []feFile{{"files", "dni-frente.pdf", "application/pdf", pdfBytes}, {"files", "dni-dorso.png", "image/png", pngBytes}},
			reads: []string{"status:s!", "message:s!"}},
		{method: "POST", path: "/professional/portfolio", as: "pro", body: map[string]any{"titulo": "Cocina", "descripcion": "Instalación de bacha"}, reads: []string{"id:s!"}},
		{method: "POST", path: "/professional/portfolio/{id}/image", as: "pro", args: []string{"pfEdit"}, files: []feFile{{"file", "obra2.png", "image/png", pngBytes}}},
		{method: "POST", path: "/professional/portfolio/{id}/images", as: "pro", args: []string{"pfEdit"}, body: func(fx *feFixture) (any, error) {
			u, err := fx.id("pf1ImgURL")
			return []string{u}, err
		}, list: true, reads: []string{"id:s!", "portfolio_item_id:s!", "image_url:url", "orden:n", "created_at:t"}},
		{method: "POST", path: "/profesional/servicios", as: "pro", body: map[string]any{"nombre": "Instalación de termotanque", "descripcion": "Incluye conexión de gas y agua",
			"precio_fijo": 40000, "oficio_id": "{plomeria}"}},
		{method: "POST", path: "/professional/oficios", as: "pro", body: map[string]any{"nombre": "Carpintería", "descripcion": "Muebles a medida", "categoria": "Construcción"},
			reads: []string{"id:s!", "nombre:s!"}, check: func(t *testing.T, fx *feFixture, a any) {
				if obj(a)["nombre"] != "Carpintería" {
					t.Errorf("added trade %v, want Carpintería", obj(a)["nombre"])
				}
				fx.listHas(t, "/professional/oficios", "pro", obj(a)["id"], true)
			}},
		{method: "POST", path: "/admin/oficios", as: "admin", body: map[string]any{"nombre": "Vidriería", "descripcion": "Vidrios y espejos"}},
		{method: "POST", path: "/admin/servicios-instant", as: "admin", body: map[string]any{"nombre": "Cambio de flexible", "descripcion": "Flexible de canilla", "oficio_id": "{plomeria}"}},
		{method: "POST", path: "/professional/ofertas", as: "pro", body: map[string]any{"cliente_id": "{cliUser}", "chat_id": "{chat}",
			"descripcion": "Revisión de termotanque", "precio_final": 12000}, reads: []string{"id:s!"}},
		{method: "POST", path: "/chat_ofertas/ofertas", as: "pro", body: map[string]any{"cliente_id": "{cliUser}", "chat_id": "{chat}",
			"descripcion": "Cambio de canilla monocomando", "precio_final": 22000}, reads: ofertaRead},
		{method: "POST", path: "/cliente/ofertas/{id}/accept", as: "cli", args: []string{"oAcceptCli"}, reads: []string{"payment_url:url"}},
		{method: "PUT", path: "/chat_ofertas/ofertas/{id}/accept", as: "cli", args: []string{"oAcceptChat"}, reads: []string{"payment_url:url"}},
		{method: "POST", path: "/cliente/servicios/{id}/contratar", as: "cli", args: []string{"sv1"}, reads: []string{"payment_url:url"}},
		{method: "POST", path: "/resenas", as: "cli", body: map[string]any{"trabajo_id": "{jRel2}", "rating": 4, "texto_resena": "Muy buen trabajo, puntual"}},
		{method: "POST", path: "/cliente/trabajo/{id}/resena", as: "cli", args: []string{"jRel3"}, body: map[string]any{"rating": 5, "texto_resena": "Impecable, lo recomiendo"}},
		{method: "POST", path: "/pagos/crear-pago", as: "cli", body: map[string]any{"trabajo_id": "{jPending}", "monto": 25000.5, "descripcion": "Cambio de cañería del baño",
			"metodo_pago": "mercadopago"}, reads: []string{"preference_id:s!", "init_point:url", "transaction_id:s!", "sandbox_init_point:url?"}},
		{method: "POST", path: "/pagos/cuenta-bancaria", as: "pro", body: map[string]any{"tipo_cuenta": "alias", "cbu": "0170099220000067797370",
			"alias": "juan.plomero.mp", "titular": "Juan Prueba", "banco": "Banco Galicia"}},
		{method: "GET", path: "/pagos/cuenta-bancaria", as: "pro", reads: []string{"tipo_cuenta:s!", "cbu_oculto:s!", "alias:s?", "titular:s!", "banco:s"},
			check: func(t *testing.T, fx *feFixture, a any) {
				if o := obj(a); o["alias"] != "juan.plomero.mp" || strings.Contains(fmt.Sprint(o["cbu_oculto"]), "0170099220000067797370") {
					t.Errorf("bank account not updated or CBU not hidden: %v", o)
				}
			}},
		{method: "POST", path: "/pagos/retiros", as: "pro", body: map[string]any{"monto": 1000}, reads: retiro,
			check: func(t *testing.T, fx *feFixture, a any) {
				if o := obj(a); o["monto"] != 1000.0 || o["estado"] != "PENDIENTE" {
					t.Errorf("withdrawal monto %v estado %v, want 1000 PENDIENTE", o["monto"], o["estado"])
				}
			}},
		{method: "POST", path: "/disputas", as: "cli", body: map[string]any{"trabajo_id": "{jForDispute}", "tipo": "calidad",
			"descripcion": "La canilla sigue goteando después del arreglo", "evidencias": []string{"https://example.com/foto-goteo.jpg"}}, reads: disputa,
			check: func(t *testing.T, fx *feFixture, a any) {
				if !strings.Contains(fmt.Sprint(obj(a)["evidencias"]), "https://example.com/foto-goteo.jpg") {
					t.Errorf("evidencias %v dropped the one sent", obj(a)["evidencias"])
				}
			}},
		{method: "POST", path: "/disputas/{id}/evidencias", as: "cli", args: []string{"d1"}, body: map[string]any{"evidencia": "https://example.com/foto-2.jpg"}, reads: disputa,
			check: func(t *testing.T, fx *feFixture, a any) {
				if !strings.Contains(fmt.Sprint(obj(a)["evidencias"]), "https://example.com/foto-2.jpg") {
					t.Errorf("evidencias %v lack the one just added", obj(a)["evidencias"])
				}
			}},
		{method: "POST", path: "/disputas/{id}/mensajes", as: "cli", args: []string{"d1"}, body: map[string]any{"mensaje": "Adjunto fotos del goteo"},
			reads: []string{"id:s!", "disputa_id:s!", "usuario_id:s!", "usuario_nombre:s?", "mensaje:s!", "es_admin:b", "fecha_creacion:t"},
			check: wantField("mensaje", "Adjunto fotos del goteo")},
		{method: "GET", path: "/disputas/{id}/mensajes", as: "cli", args: []string{"d1"}, list: true,
			reads: []string{"id:s!", "disputa_id:s!", "usuario_id:s!", "usuario_nombre:s?", "mensaje:s!", "es_admin:b", "fecha_creacion:t"}},
		{method: "POST", path: "/notificaciones/push/registrar", as: "cli", body: map[string]any{"token": "fcm-token-de-prueba-123", "device_type": "web"}},
		{method: "POST", path: "/notificaciones/test", as: "cli", body: map[string]any{"tipo": "sistema"}},
		{method: "POST", path: "/notifications/fcm-token", as: "cli", body: map[string]any{"userId": "{cliUser}", "fcmToken": "fcm-token-de-prueba-456", "platform": "web"}},
		{method: "POST", path: "/gamification/event", as: "cli", body: map[string]any{"user_id": "{proUser}", "event_type": "trabajo_completado", "metadata": map[string]any{"trabajo_id": "{jRel1}"}},
			status: []int{202, 403}, why: "a client must never record XP it could award itself or others: refused (403) or accepted and ignored (202)",
			prep: func(t *testing.T, fx *feFixture) { fx.ids["proXPBefore"] = fx.settledXP(t) },
			check: func(t *testing.T, fx *feFixture, a any) {
				// Whatever the answer, the professional's points must not move.
				if after := fx.settledXP(t); after != fx.ids["proXPBefore"] {
					t.Errorf("a client's event moved the professional's XP from %s to %s", fx.ids["proXPBefore"], after)
				}
			}},
		{method: "POST", path: "/pagos/webhook/mercadopago", body: map[string]any{"payment_id": "123456789"}, status: []int{200, 201, 202, 204, 400, 401, 403},
			why: "an unsigned notification in the earlier shape: acknowledged and verified against MercadoPago (which knows no such payment), or refused; never 404 nor a payment"},

		// ---- Calls that change or remove, each on its own seeded object.
		{method: "PUT", path: "/users/me", as: "cli", body: map[string]any{"nombre": "Ana María", "apellido": "Prueba", "telefono": "+54 11 5555-1234", "direccion": "Av. Corrientes 1234"},
			reads: userRead, check: func(t *testing.T, fx *feFixture, a any) {
				if o := obj(a); o["nombre"] != "Ana María" || o["telefono"] != "+54 11 5555-1234" || o["direccion"] != "Av. Corrientes 1234" {
					t.Errorf("PUT /users/me dropped input: %v", o)
				}
			}},
		{method: "POST", path: "/users/me/change-password", as: "pwUser", body: map[string]any{"current_password": "password-123", "new_password": "nueva-clave-789"},
			reads: []string{"message:s!", "success:b"},
			check: func(t *testing.T, fx *feFixture, a any) { fx.sys.login("clave@example.com", "nueva-clave-789") }},
		{method: "PUT", path: "/professional/me", as: "pro", body: map[string]any{"latitude": -34.6037, "longitude": -58.3816},
			check: func(t *testing.T, fx *feFixture, a any) {
				_, me, _ := fx.sys.feDo("GET", "/api/v1/professional/me", fx.tok["pro"], nil, nil, nil)
				if lat := num(obj(me)["latitude"]); math.Abs(lat+34.6037) > 1e-6 {
					t.Errorf("location from the profile page not stored: latitude %v", obj(me)["latitude"])
				}
			}},
		{method: "PUT", path: "/professional/portfolio/{id}", as: "pro", args: []string{"pfEdit"}, body: map[string]any{"titulo": "Baño renovado", "descripcion": "Con fotos del antes"},
			reads: []string{"id:s!", "titulo:s!", "descripcion:s"}, check: wantField("titulo", "Baño renovado")},
		{method: "DELETE", path: "/professional/portfolio/{id}/images/{imageId}", as: "pro", args: []string{"pfEdit", "pfEditImg"}},
		{method: "DELETE", path: "/professional/portfolio/{id}", as: "pro", args: []string{"pfDel"},
			check: func(t *testing.T, fx *feFixture, a any) {
				fx.listHas(t, "/professional/portfolio", "pro", fx.ids["pfDel"], false)
			}},
		{method: "PUT", path: "/profesional/servicios/{id}", as: "pro", args: []string{"sv1"}, body: map[string]any{"precio_fijo": 17500},
			reads: []string{"id:s!", "nombre:s!", "precio_fijo:n"}, check: wantField("precio_fijo", 17500.0)},
		{method: "DELETE", path: "/profesional/servicios/{id}", as: "pro", args: []string{"svDel"}},
		{method: "DELETE", path: "/professional/oficios/{id}", as: "pro", args: []string{"electricidad"},
			check: func(t *testing.T, fx *feFixture, a any) {
				fx.listHas(t, "/professional/oficios", "pro", fx.ids["electricidad"], false)
			}},
		{method: "PUT", path: "/admin/oficios/{id}", as: "admin", args: []string{"ofAdmin"}, body: map[string]any{"descripcion": "Rejas, portones y barandas", "categoria": "Construcción"},
			reads: []string{"id:s!", "nombre:s!", "descripcion:s"}, check: func(t *testing.T, fx *feFixture, a any) {
				if o := obj(a); o["nombre"] != "Herrería artística" || o["descripcion"] != "Rejas, portones y barandas" || o["categoria"] != "Construcción" {
					t.Errorf("partial edit: %v", o)
				}
			}},
		{method: "PATCH", path: "/admin/oficios/{id}/toggle", as: "admin", args: []string{"ofAdmin"}, reads: []string{"id:s!", "activo:b"},
			check: wantField("activo", false)},
		{method: "PUT", path: "/chat_ofertas/ofertas/{id}", as: "pro", args: []string{"oEdit"}, body: map[string]any{"precio_final": 19500},
			reads: ofertaRead, check: wantField("precio_final", 19500.0)},
		{method: "POST", path: "/cliente/ofertas/{id}/reject", as: "cli", args: []string{"oRejectCli"}},
		{method: "POST", path: "/chat_ofertas/ofertas/{id}/reject", as: "cli", args: []string{"oRejectChat"}},
		{method: "DELETE", path: "/chat_ofertas/ofertas/{id}", as: "pro", args: []string{"oDelete"}},
		{method: "PUT", path: "/chat_ofertas/trabajos/{id}", as: "pro", args: []string{"jPaid"}, body: map[string]any{"estado": "EN_PROCESO", "notas_profesional": "Paso mañana a las 9"},
			reads: cat(jobDetail, []string{"fecha_inicio:t"}), check: func(t *testing.T, fx *feFixture, a any) {
				if o := obj(a); o["estado"] != "EN_PROCESO" || o["notas_profesional"] != "Paso mañana a las 9" {
					t.Errorf("start: estado %v notas_profesional %v", o["estado"], o["notas_profesional"])
				}
			}},
		{method: "POST", path: "/chat_ofertas/trabajos/{id}/cancelar", as: "cli", args: []string{"jCancelChat"},
			reads: jobDetail, check: wantField("estado", "CANCELADO")},
		{method: "POST", path: "/cliente/trabajo/{id}/finalizar", as: "cli", args: []string{"jDone"}, status: []int{200, 202}, why: "202 when payments is slow (documented)",
			reads: []string{"trabajo.id:s!", "payout_id:s?", "mensaje:s!"}},
		{method: "POST", path: "/cliente/trabajo/{id}/cancelar", as: "cli", args: []string{"jCancelCli"}, reads: []string{"trabajo.id:s!", "refund_id:s?", "mensaje:s!"}},
		{method: "POST", path: "/admin/trabajo/{id}/cancelar", as: "admin", args: []string{"jCancelAdmin"}},
		{method: "POST", path: "/admin/trabajo/{id}/simular-pago", as: "admin", args: []string{"jPending"}, reads: trabajoRead},
		{method: "POST", path: "/pagos/transacciones/{id}/liberar", as: "cli", args: []string{"txRelease"}, reads: transaccion},
		{method: "POST", path: "/pagos/transacciones/{id}/reembolso", as: "cli", args: []string{"txRefund"}, body: map[string]any{"motivo": "El profesional no se presentó"}, reads: transaccion},
		{method: "POST", path: "/admin/pagos/retiros/{id}/aprobar", as: "admin", args: []string{"wApprove"}, reads: retiro,
			check: func(t *testing.T, fx *feFixture, a any) {
				if e := obj(a)["estado"]; e != "APROBADO" && e != "PROCESADO" {
					t.Errorf("approved withdrawal estado %v", e)
				}
			}},
		{method: "POST", path: "/admin/pagos/retiros/{id}/rechazar", as: "admin", args: []string{"wReject"}, body: map[string]any{"motivo": "Cuenta destino inválida"},
			reads: retiro, check: wantField("estado", "RECHAZADO")},
		{method: "PUT", path: "/resenas/{id}", as: "cli", args: []string{"rev1"}, body: map[string]any{"rating": 4, "texto_resena": "Muy bueno, tardó un poco"},
			reads: []string{"id:s!", "rating:n", "texto_resena:s"}, check: wantField("rating", 4.0)},
		{method: "POST", path: "/resenas/{id}/responder", as: "pro", args: []string{"rev1"}, body: map[string]any{"respuesta": "¡Gracias Ana!"},
			reads: []string{"id:s!", "respuesta_profesional.texto:s!", "respuesta_profesional.fecha:t"}},
		{method: "POST", path: "/resenas/{id}/reportar", as: "pro", args: []string{"rev1"}, body: map[string]any{"motivo": "Contiene datos personales"}},
		{method: "DELETE", path: "/resenas/{id}", as: "cli", args: []string{"rev1"},
			check: func(t *testing.T, fx *feFixture, a any) {
				if st, _, raw := fx.sys.feDo("GET", "/api/v1/resenas/"+fx.ids["rev1"], fx.tok["cli"], nil, nil, nil); st != 404 {
					t.Errorf("deleted review still answers %d %.200s", st, raw)
				}
			}},
		{method: "POST", path: "/disputas/{id}/cancelar", as: "cli", args: []string{"d1"}, reads: disputa,
			check: func(t *testing.T, fx *feFixture, a any) {
				if obj(a)["estado"] == "abierta" || obj(a)["estado"] == "ABIERTA" {
					t.Errorf("cancelled dispute still %v", obj(a)["estado"])
				}
			}},
		{method: "POST", path: "/admin/disputas/{id}/resolver", as: "admin", args: []string{"d2"}, body: map[string]any{"resolucion": "Se reintegra el dinero al cliente", "favorece_a": "cliente"},
			reads: disputa, check: wantField("estado", "resuelta")},
		{method: "PUT", path: "/notificaciones/preferencias", as: "cli", body: map[string]any{"email_mensajes": false, "push_ofertas": false, "frecuencia_resumen": "semanal"},
			check: func(t *testing.T, fx *feFixture, a any) {
				_, p, _ := fx.sys.feDo("GET", "/api/v1/notificaciones/preferencias", fx.tok["cli"], nil, nil, nil)
				if o := obj(p); o["email_mensajes"] != false || o["push_ofertas"] != false || o["frecuencia_resumen"] != "semanal" {
					t.Errorf("preferences not stored: %v", o)
				}
			}},
		{method: "PUT", path: "/notificaciones/{id}/leer", as: "cli", args: []string{"notifRead"}},
		{method: "DELETE", path: "/notificaciones/{id}", as: "cli", args: []string{"notifDelete"}},
		{method: "PUT", path: "/notificaciones/leer-todas", as: "cli"},
		{method: "DELETE", path: "/notificaciones/limpiar-leidas", as: "cli"},
		{method: "POST", path: "/notificaciones/push/desregistrar", as: "cli", body: map[string]any{"token": "fcm-token-de-prueba-123"}},
		{method: "PUT", path: "/admin/kyc/{id}/approve", as: "admin", args: []string{"pendAProfile"}},
		{method: "PUT", path: "/admin/kyc/{id}/reject", as: "admin", args: []string{"pendBProfile"}, body: map[string]any{}},
		{method: "POST", path: "/admin/users/{id}/ban", as: "admin", args: []string{"banUser"}, reads: []string{"email:s!"}},
		{method: "POST", path: "/admin/users/{id}/unban", as: "admin", args: []string{"banUser"}, reads: []string{"email:s!"}},
	}
}

// TestFrontendContract proves issue #10's "Done when": each of the web frontend's 128
// calls answers from a real route, through the gateway, with the fields its pages read.
func TestFrontendContract(t *testing.T) {
	calls := frontendCalls()
	seen := map[string]bool{}
	for _, c := range calls {
		k := c.method + " " + c.path
		if seen[k] {
			t.Errorf("duplicate call %s", k)
		}
		seen[k] = true
	}
	if len(seen) != 128 || len(calls) != 128 {
		t.Fatalf("the table holds %d calls (%d distinct), the frontend makes 128", len(calls), len(seen))
	}

	sys := startSystem(t, nil)
	fx := seedFrontend(t, sys)

	for _, c := range calls {
		t.Run(c.method+" "+c.path, func(t *testing.T) { runFrontendCall(t, fx.in(t), c) })
	}
	t.Run("inputs", func(t *testing.T) { frontendInputs(t, fx) })
}

var placeholder = regexp.MustCompile(`\{[A-Za-z0-9]+\}`)

func runFrontendCall(t *testing.T, fx *feFixture, c feCall) {
	path := c.path
	for _, key := range c.args {
		id, err := fx.id(key)
		if err != nil {
			t.Fatal(err)
		}
		loc := placeholder.FindStringIndex(path)
		path = path[:loc[0]] + url.PathEscape(id) + path[loc[1]:]
	}
	if placeholder.MatchString(path) {
		t.Fatalf("placeholder left in %s", path)
	}
	full := "/api/v1" + path
	if c.query != "" {
		full += "?" + fx.fill(t, c.query).(string)
	}
	body := c.body
	if f, ok := body.(func(*feFixture) (any, error)); ok {
		var err error
		if body, err = f(fx); err != nil {
			t.Fatal(err)
		}
	}
	body = fx.fill(t, body)
	if c.prep != nil {
		c.prep(t, fx)
	}
	st, ans, raw := fx.sys.feDo(c.method, full, fx.tok[c.as], body, c.form, c.files)
	if !statusOK(st, c.status) {
		want := "2xx"
		if c.status != nil {
			want = fmt.Sprint(c.status)
		}
		t.Fatalf("%s %s → %d, want %s: %.400s", c.method, full, st, want, raw)
	}
	target := []any{ans}
	if c.list {
		items, ok := ans.([]any)
		if !ok {
			t.Fatalf("answer is not a bare JSON array: %.400s", raw)
		}
		if len(items) == 0 {
			t.Fatalf("empty list, the seed put items there")
		}
		target = items
	} else if len(c.reads) > 0 {
		if _, ok := ans.(map[string]any); !ok {
			t.Fatalf("answer is not a JSON object: %.400s", raw)
		}
	}
	// One line per read field, naming the first bad item, so a field missing from a
	// list of twenty reads as one finding (and an absent container once).
	said := map[string]bool{}
	for _, r := range c.reads {
		p, typ, _ := strings.Cut(r, ":")
		var bad []string
		for i, item := range target {
			where := ""
			if c.list {
				where = fmt.Sprintf("[%d].", i)
			}
			bad = append(bad, checkRead(item, strings.Split(p, "."), typ, where)...)
		}
		switch {
		case len(bad) == 0 || said[bad[0]]:
		case len(bad) == 1:
			t.Error(bad[0])
		default:
			t.Errorf("%s (and %d more like it)", bad[0], len(bad)-1)
		}
		if len(bad) > 0 {
			said[bad[0]] = true
		}
	}
	if c.check != nil && !t.Failed() {
		c.check(t, fx, ans)
	}
	// The answer itself, for whoever fixes the call (FRONTEND_DUMP=1 shows every one).
	if t.Failed() || os.Getenv("FRONTEND_DUMP") != "" {
		t.Logf("answer: %.1200s", raw)
	}
}

func statusOK(st int, want []int) bool {
	if want == nil {
		return st >= 200 && st <= 299
	}
	for _, w := range want {
		if st == w {
			return true
		}
	}
	return false
}

// fill replaces "{key}" strings (whole values, or inside a query) with fixture ids.
func (fx *feFixture) fill(t *testing.T, v any) any {
	switch x := v.(type) {
	case string:
		return placeholder.ReplaceAllStringFunc(x, func(m string) string {
			id, err := fx.id(m[1 : len(m)-1])
			if err != nil {
				t.Fatal(err)
			}
			return id
		})
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = fx.fill(t, e)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = fx.fill(t, e)
		}
		return out
	}
	return v
}

// checkRead walks segs into v and returns what is wrong at the end (absent, wrong
// type); where names the place for the message.
func checkRead(v any, segs []string, typ, where string) []string {
	seg := segs[0]
	name, optional := seg, false
	arr := strings.HasSuffix(name, "[]") || strings.HasSuffix(name, "[]?")
	if strings.HasSuffix(name, "[]?") {
		name, optional = strings.TrimSuffix(name, "[]?"), true
	} else {
		name = strings.TrimSuffix(name, "[]")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return []string{fmt.Sprintf("%s: not an object (%T)", where+name, v)}
	}
	val, present := m[name]
	if !present {
		return []string{where + name + " absent"}
	}
	if !arr {
		if len(segs) == 1 {
			return checkType(val, typ, where+name)
		}
		return checkRead(val, segs[1:], typ, where+name+".")
	}
	items, ok := val.([]any)
	if !ok {
		return []string{fmt.Sprintf("%s = %v, want an array", where+name, val)}
	}
	var bad []string
	if len(items) == 0 && !optional {
		bad = append(bad, where+name+" is empty, the seed put items there")
	}
	for i, it := range items {
		w := fmt.Sprintf("%s%s[%d]", where, name, i)
		if len(segs) == 1 {
			bad = append(bad, checkType(it, typ, w)...)
		} else {
			bad = append(bad, checkRead(it, segs[1:], typ, w+".")...)
		}
	}
	return bad
}

func checkType(v any, typ, where string) []string {
	if strings.HasPrefix(typ, "=") {
		s, _ := v.(string)
		for _, e := range strings.Split(typ[1:], "|") {
			if s == e {
				return nil
			}
		}
		return []string{fmt.Sprintf("%s = %v, want one of %s", where, v, typ[1:])}
	}
	nullable := strings.HasSuffix(typ, "?")
	base := strings.TrimSuffix(typ, "?")
	if v == nil {
		if !nullable {
			return []string{fmt.Sprintf("%s is null, want %s", where, base)}
		}
		return nil
	}
	bad := false
	switch base {
	case "x":
	case "s", "s!":
		s, ok := v.(string)
		bad = !ok || (base == "s!" && strings.TrimSpace(s) == "")
	case "n":
		_, ok := v.(float64)
		bad = !ok
	case "b":
		_, ok := v.(bool)
		bad = !ok
	case "a":
		_, ok := v.([]any)
		bad = !ok
	case "o":
		_, ok := v.(map[string]any)
		bad = !ok
	case "t":
		s, _ := v.(string)
		_, err := time.Parse(time.RFC3339Nano, s)
		bad = err != nil
	case "url":
		s, ok := v.(string)
		if nullable && ok && s == "" {
			return nil
		}
		u, err := url.Parse(s)
		bad = !ok || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == ""
	default:
		return []string{fmt.Sprintf("unknown type %q for %s", typ, where)}
	}
	if bad {
		return []string{fmt.Sprintf("%s = %#v, want %s", where, v, typ)}
	}
	return nil
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	if m == nil {
		return map[string]any{}
	}
	return m
}

// listHas checks whether the list at path (as who) holds an item with the id.
func (fx *feFixture) listHas(t *testing.T, path, who string, id any, want bool) {
	t.Helper()
	_, ans, raw := fx.sys.feDo("GET", "/api/v1"+path, fx.tok[who], nil, nil, nil)
	found := false
	for _, it := range listOf(ans) {
		found = found || obj(it)["id"] == id
	}
	if found != want {
		t.Errorf("GET %s holds %v: %v, want %v: %.300s", path, id, found, want, raw)
	}
}

func firstOf(v any) any {
	if l := listOf(v); len(l) > 0 {
		return l[0]
	}
	return nil
}

func num(v any) float64 { f, _ := v.(float64); return f }

func wantField(name string, want any) func(*testing.T, *feFixture, any) {
	return func(t *testing.T, _ *feFixture, a any) {
		if got := obj(a)[name]; got != want {
			t.Errorf("%s = %#v, want %#v (input dropped?)", name, got, want)
		}
	}
}

func wantURL(t *testing.T, v any) {
	t.Helper()
	for _, b := range checkType(v, "url", "avatar_url") {
		t.Error(b)
	}
}

// itemWithID finds the item with the id in a list answer (bare, or under key) and
// fails the test if it is not there.
func itemWithID(t *testing.T, ans any, key, id string) map[string]any {
	t.Helper()
	items, _ := ans.([]any)
	if key != "" {
		items, _ = obj(ans)[key].([]any)
	}
	for _, it := range items {
		if m := obj(it); m["id"] == id {
			return m
		}
	}
	t.Errorf("item %s not in the list", id)
	return nil
}

// wantPortfolioImages: the seeded item's images are listed as absolute URLs that serve
// the image (the page puts the first one in img src).
func wantPortfolioImages(t *testing.T, fx *feFixture, a any) {
	t.Helper()
	it := itemWithID(t, a, "", fx.ids["pf1"])
	if it == nil {
		return
	}
	urls, _ := it["imagenes_urls"].([]any)
	if len(urls) == 0 {
		t.Fatalf("imagenes_urls empty for an item with an image")
	}
	u, _ := urls[0].(string)
	resp, err := fx.sys.client().Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(got) == 0 {
		t.Errorf("GET %s → %d (%d bytes)", u, resp.StatusCode, len(got))
	}
}

// frontendInputs checks that what the frontend sends is applied or refused with a clear
// 4xx and a `detail` the page shows: never answered 200 and dropped.
func frontendInputs(t *testing.T, root *feFixture) {
	// refused: the call must be answered with one of the statuses in want (a real
	// route's refusal, so never route_not_found) and a detail string.
	refused := func(t *testing.T, what string, st int, out map[string]any, raw []byte, want ...int) {
		t.Helper()
		if !statusOK(st, want) || out["code"] == "route_not_found" {
			t.Errorf("%s → %d, want %v: %.300s", what, st, want, raw)
			return
		}
		if d, _ := out["detail"].(string); strings.TrimSpace(d) == "" {
			t.Errorf("%s → %d without a detail string (the page shows only detail): %.300s", what, st, raw)
		}
	}

	t.Run("register with a 7-character password says why", func(t *testing.T) {
		fx := root.in(t)
		do := fx.do
		st, out, raw := do("POST", "/auth/register", "", map[string]any{"email": "corta@example.com", "password": "abc1234",
			"nombre": "Corta", "apellido": "Clave", "rol": "CLIENTE"})
		refused(t, "short password", st, out, raw, 400, 422)
		if d, _ := out["detail"].(string); !strings.Contains(d, "8") {
			t.Errorf("detail %q does not give the minimum length (errors[] is never read)", d)
		}
	})
	t.Run("PUT /professional/me stores payout_account and wrapped oficios_ids", func(t *testing.T) {
		fx := root.in(t)
		do := fx.do
		st, _, raw := do("PUT", "/professional/me", "pro", map[string]any{"payout_account": "juan.nuevo.alias"})
		if st != 200 {
			t.Fatalf("payout → %d %.300s", st, raw)
		}
		st, _, raw = do("PUT", "/professional/me", "pro", map[string]any{"oficios_ids": map[string]any{"oficio_ids": []string{"{plomeria}"}}})
		if st != 200 {
			t.Fatalf("oficios_ids → %d %.300s", st, raw)
		}
		_, me, _ := do("GET", "/professional/me", "pro", nil)
		if me["payout_account"] != "juan.nuevo.alias" {
			t.Errorf("payout_account %v, want juan.nuevo.alias", me["payout_account"])
		}
		ofs, _ := me["oficios"].([]any)
		if len(ofs) != 1 || obj(ofs[0])["id"] != fx.ids["plomeria"] {
			t.Errorf("oficios %v, want only Plomería", me["oficios"])
		}
	})
	t.Run("PUT /professional/me refuses a bad location", func(t *testing.T) {
		fx := root.in(t)
		do := fx.do
		st, out, raw := do("PUT", "/professional/me", "pro", map[string]any{"latitude": 123.0, "longitude": -58.4})
		refused(t, "latitude 123", st, out, raw, 400, 422)
	})
	t.Run("PUT /professional/me from /perfil/editar: applied or refused", func(t *testing.T) {
		fx := root.in(t)
		do := fx.do
		st, out, raw := do("PUT", "/professional/me", "pro", map[string]any{"biografia": "Plomero desde 2005", "experiencia_anos": 20,
			"disponible": true, "habilidades": []string{"termofusión"}, "certificaciones": []string{}, "imagenes_trabajos": []string{}})
		if st >= 200 && st < 300 {
			_, me, _ := do("GET", "/professional/me", "pro", nil)
			if me["biografia"] != "Plomero desde 2005" || me["experiencia_anos"] != 20.0 {
				t.Errorf("answered %d but dropped biografia/experiencia_anos: %v %v", st, me["biografia"], me["experiencia_anos"])
			}
			return
		}
		refused(t, "edit form", st, out, raw, 400, 422)
	})
	t.Run("a job's whole life through /chat_ofertas/trabajos", func(t *testing.T) {
		fx := root.in(t)
		do := fx.do
		for _, step := range []map[string]any{
			{"estado": "EN_PROCESO"},
			{"estado": "COMPLETADO", "notas_profesional": "Cañería cambiada y probada"},
			{"estado": "APROBADO", "notas_cliente": "Todo perfecto"},
		} {
			who := "pro"
			if step["estado"] == "APROBADO" {
				who = "cli"
			}
			st, job, raw := do("PUT", "/chat_ofertas/trabajos/{jLife}", who, step)
			if st != 200 && st != 202 {
				t.Fatalf("%v → %d %.300s", step, st, raw)
			}
			if job["id"] != fx.ids["jLife"] || job["estado"] != step["estado"] {
				t.Fatalf("%v answered %v (the page replaces its job with the answer)", step, job)
			}
			for _, k := range []string{"notas_profesional", "notas_cliente"} {
				if n, sent := step[k]; sent && job[k] != n {
					t.Errorf("%s %v, sent %v", k, job[k], n)
				}
			}
		}
		fx.waitJob(fx.ids["jLife"], "released", escrowIs("LIBERADO"))
	})
	t.Run("completing without the optional note: done, or refused saying why", func(t *testing.T) {
		fx := root.in(t)
		do := fx.do
		// The detail page calls the note optional and leaves it out when empty.
		st, job, raw := do("PUT", "/chat_ofertas/trabajos/{jProgress}", "pro", map[string]any{"estado": "COMPLETADO"})
		if st >= 200 && st < 300 {
			if job["estado"] != "COMPLETADO" {
				t.Errorf("answered %d but estado %v", st, job["estado"])
			}
			return
		}
		refused(t, "COMPLETADO without a note", st, job, raw, 400, 422)
		if d, _ := job["detail"].(string); d == "Datos inválidos" {
			t.Errorf("detail %q does not say the note is required (the page shows only detail)", d)
		}
	})
	t.Run("only the offer's client accepts; only professionals offer", func(t *testing.T) {
		fx := root.in(t)
		do := fx.do
		st, out, raw := do("PUT", "/chat_ofertas/ofertas/{oOpen}/accept", "pro", nil)
		refused(t, "professional accepting", st, out, raw, 403)
		st, out, raw = do("POST", "/chat_ofertas/ofertas", "cli", map[string]any{"cliente_id": "{cliUser}", "chat_id": "{chat}",
			"descripcion": "Me ofrezco a mí misma", "precio_final": 1})
		refused(t, "client offering", st, out, raw, 403)
	})
	t.Run("a dispute type outside the frontend's vocabulary is refused", func(t *testing.T) {
		fx := root.in(t)
		do := fx.do
		st, out, raw := do("POST", "/disputas", "cli", map[string]any{"trabajo_id": "{jPaid}", "tipo": "capricho",
			"descripcion": "Tipo de disputa que no existe en ningún vocabulario"})
		refused(t, "tipo capricho", st, out, raw, 400, 422)
	})
	t.Run("withdrawals below the minimum or above the balance are refused", func(t *testing.T) {
		fx := root.in(t)
		do := fx.do
		st, out, raw := do("POST", "/pagos/retiros", "pro", map[string]any{"monto": 500})
		refused(t, "monto 500", st, out, raw, 400, 422)
		st, out, raw = do("POST", "/pagos/retiros", "pro", map[string]any{"monto": 10_000_000})
		refused(t, "monto above disponible", st, out, raw, 400, 422)
	})
	t.Run("the settings page's email: applied or refused", func(t *testing.T) {
		fx := root.in(t)
		do := fx.do
		st, out, raw := do("PUT", "/users/me", "pwUser", map[string]any{"nombre": "Clara", "apellido": "Prueba", "email": "clara.nueva@example.com"})
		if st >= 200 && st < 300 {
			if _, me, _ := do("GET", "/users/me", "pwUser", nil); me["email"] != "clara.nueva@example.com" {
				t.Errorf("answered %d but the email stayed %v", st, me["email"])
			}
			return
		}
		refused(t, "email change", st, out, raw, 400, 403, 409, 422)
	})
	// The query filters the frontend sends must filter: a filter answered 200 and
	// ignored shows the page wrong data.
	t.Run("list filters are applied", func(t *testing.T) {
		fx := root.in(t)
		// each lists path and checks every item; min says how many the seed guarantees,
		// so a filter on a list that is absent or empty cannot pass by having nothing
		// to check.
		each := func(path, who, list string, min int, ok func(map[string]any) bool, what string) {
			t.Helper()
			st, ans, raw := fx.sys.feDo("GET", "/api/v1"+fx.fill(t, path).(string), fx.tok[who], nil, nil, nil)
			if st != 200 {
				t.Errorf("GET %s → %d %.200s", path, st, raw)
				return
			}
			if list != "" {
				ans = obj(ans)[list]
			}
			items, isList := ans.([]any)
			if !isList || len(items) < min {
				t.Errorf("GET %s: %d items, want a list of at least %d: %.200s", path, len(items), min, raw)
				return
			}
			for _, it := range items {
				if !ok(obj(it)) {
					t.Errorf("GET %s: item %v is not %s", path, it, what)
					return
				}
			}
		}
		never := func(map[string]any) bool { return false }
		each("/pagos/historial?tipo=ingreso", "pro", "movimientos", 1, func(m map[string]any) bool { return m["tipo"] == "ingreso" }, "an ingreso")
		each("/pagos/historial?desde=2100-01-01", "pro", "movimientos", 0, never, "after 2100")
		// The read notifications were cleared by the table's calls: filter on the type of
		// one that arrived since.
		_, ns, _ := fx.do("GET", "/notificaciones?limit=50", "cli", nil)
		tipo := obj(firstOf(ns["notificaciones"]))["tipo"]
		each("/notificaciones?tipo="+fmt.Sprint(tipo), "cli", "notificaciones", 1, func(m map[string]any) bool { return m["tipo"] == tipo }, fmt.Sprintf("a %v notification", tipo))
		each("/notificaciones?solo_no_leidas=true", "cli", "notificaciones", 1, func(m map[string]any) bool { return m["leida"] == false }, "unread")
		each("/servicios?oficio_id={plomeria}", "", "", 1, func(m map[string]any) bool { return obj(m["oficio"])["id"] == fx.ids["plomeria"] }, "a Plomería service")
		each("/servicios?oficio_id=00000000-0000-0000-0000-000000000000", "", "", 0, never, "of a trade that does not exist")
		each("/admin/pagos/retiros?estado=PENDIENTE", "admin", "", 1, func(m map[string]any) bool { return m["estado"] == "PENDIENTE" }, "PENDIENTE")
	})
	// The earlier frontend expects 400 (with our code) for a file of the wrong type.
	t.Run("uploads of the wrong type answer 400", func(t *testing.T) {
		fx := root.in(t)
		txt := []feFile{{"file", "nota.txt", "text/plain", []byte("esto no es una imagen")}}
		for _, u := range []struct{ path, who, field string }{
			{"/users/me/avatar", "cli", "file"},
			{"/professional/portfolio/" + fx.ids["pf1"] + "/image", "pro", "file"},
			{"/professional/kyc/upload", "proNew", "files"},
		} {
			txt[0].field = u.field
			st, out, raw := fx.sys.feDo("POST", "/api/v1"+u.path, fx.tok[u.who], nil, nil, txt)
			refused(t, "text file to "+u.path, st, obj(out), raw, 400)
			if obj(out)["code"] == nil {
				t.Errorf("%s: no code in %.200s", u.path, raw)
			}
		}
	})
	// Verification is a badge on the public page, not a gate.
	t.Run("a professional under review has a public page", func(t *testing.T) {
		fx := root.in(t)
		id := fx.profileID("proNew")
		st, out, raw := fx.sys.feDo("GET", "/api/v1/public/professional/"+id, "", nil, nil, nil)
		if o := obj(out); st != 200 || (o["verificado"] != false && o["estado_verificacion"] != "EN_REVISION") {
			t.Errorf("GET /public/professional/{under review} → %d %.300s, want 200 saying it is not verified yet", st, raw)
		}
	})
	t.Run("portfolio image URLs must be URLs", func(t *testing.T) {
		fx := root.in(t)
		do := fx.do
		st, out, raw := do("POST", "/professional/portfolio/{pf1}/images", "pro", []string{"no es una url"})
		refused(t, "non-URL image", st, out, raw, 400, 422)
	})
}
