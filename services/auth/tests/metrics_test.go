package tests

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/events"
)

// TestUserMetrics: counts by role and state, recent sign-ups, the monthly series and the
// KYC counts fed by the professionals' events (idempotent, order-safe).
func TestUserMetrics(t *testing.T) {
	h := start(t, nil)
	adm := h.admin("metricas-admin@example.com")
	var clientes, pros []user
	for i := 0; i < 3; i++ {
		clientes = append(clientes, h.register(fmt.Sprintf("cli%d@example.com", i), "secreto123", "CLIENTE"))
	}
	for i := 0; i < 4; i++ {
		pros = append(pros, h.register(fmt.Sprintf("pro%d@example.com", i), "secreto123", "PROFESIONAL"))
	}
	h.do("POST", "/api/v1/admin/users/"+clientes[2].ID+"/ban", adm.Access, nil).Expect(t, 200, "ban")
	// One client signed up 40 days ago: not new this month nor in the last 30 days.
	if _, err := h.svc.Deps.Pool.Exec(context.Background(), `UPDATE accounts SET fecha_creacion = now() - interval '40 days' WHERE id = $1`,
		clientes[0].ID); err != nil {
		t.Fatal(err)
	}

	kyc := func(e events.Event, at time.Time) events.Envelope {
		env, err := events.New("professionals", uuid.NewString(), e, events.Meta{}, at)
		if err != nil {
			t.Fatal(err)
		}
		publish(t, h, env)
		return env
	}
	t0 := time.Now().Add(-time.Hour)
	sub0 := kyc(events.KYCSubmittedV1{ProfesionalID: uuid.NewString(), UsuarioID: pros[0].ID, Documentos: 2}, t0)
	kyc(events.KYCApprovedV1{ProfesionalID: uuid.NewString(), UsuarioID: pros[0].ID, AdminID: adm.ID}, t0.Add(time.Minute))
	kyc(events.KYCSubmittedV1{ProfesionalID: uuid.NewString(), UsuarioID: pros[1].ID, Documentos: 1}, t0)
	kyc(events.KYCSubmittedV1{ProfesionalID: uuid.NewString(), UsuarioID: pros[2].ID, Documentos: 1}, t0)
	kyc(events.KYCRejectedV1{ProfesionalID: uuid.NewString(), UsuarioID: pros[2].ID, AdminID: adm.ID, Motivo: "borroso"}, t0.Add(time.Minute))
	// The first submission delivered again, and an older submission arriving late (a
	// distinct event): the approval stands.
	publish(t, h, sub0)
	kyc(events.KYCSubmittedV1{ProfesionalID: uuid.NewString(), UsuarioID: pros[0].ID, Documentos: 1}, t0.Add(-time.Minute))

	var m map[string]any
	eventually(t, 5*time.Second, "KYC replica", func() bool {
		r := h.do("GET", "/api/v1/admin/metrics/users", adm.Access, nil)
		r.Expect(t, 200, "metrics")
		m = r.Map(t)
		return m["total_pro_aprobados"] == float64(1) && m["total_pro_pendientes_kyc"] == float64(1) && m["total_pro_rechazados"] == float64(1)
	})
	time.Sleep(300 * time.Millisecond) // let the late redelivery land
	m = h.do("GET", "/api/v1/admin/metrics/users", adm.Access, nil).Map(t)
	want := map[string]float64{"total_usuarios": 8, "total_clientes": 3, "total_profesionales": 4, "total_admins": 1,
		"activos": 7, "baneados": 1, "nuevos_7_dias": 7, "nuevos_30_dias": 7,
		"total_pro_pendientes_kyc": 1, "total_pro_aprobados": 1, "total_pro_rechazados": 1, "total_pro_sin_kyc": 1}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	series, _ := m["crecimiento_mensual"].([]any)
	if len(series) != 12 {
		t.Fatalf("series: %v", m["crecimiento_mensual"])
	}
	sum := 0.0
	for _, x := range series {
		sum += x.(map[string]any)["nuevos"].(float64)
	}
	last := series[11].(map[string]any)
	if sum != 8 || last["acumulado"] != float64(8) || last["nuevos"] != float64(7) || last["clientes"] != float64(2) ||
		last["profesionales"] != float64(4) || len(last["mes"].(string)) != 7 {
		t.Fatalf("series: sum %v, last %v", sum, last)
	}

	// Admins only.
	c := h.user("curioso@example.com", "CLIENTE")
	h.do("GET", "/api/v1/admin/metrics/users", c.Access, nil).ExpectError(t, 403, "client")
	h.do("GET", "/api/v1/admin/metrics/users", "", nil).ExpectError(t, 401, "anonymous")
}

// TestAdminListCarriesAbsoluteAvatar: the admin list and search show the avatar users
// announced, as a URL the browser can load.
func TestAdminListCarriesAbsoluteAvatar(t *testing.T) {
	h := start(t, nil)
	adm := h.admin("avatar-admin@example.com")
	u := h.register("con-foto@example.com", "secreto123", "CLIENTE")
	path := "/api/v1/users/avatars/" + u.ID + "-" + uuid.NewString() + ".png"
	env, err := events.New("users", u.ID, events.UserProfileUpdatedV1{UserID: u.ID, Nombre: "Con", Apellido: "Foto", AvatarURL: path},
		events.Meta{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	publish(t, h, env)
	find := func(list []any) map[string]any {
		for _, x := range list {
			if e := x.(map[string]any); e["id"] == u.ID {
				return e
			}
		}
		return nil
	}
	eventually(t, 5*time.Second, "avatar in the listing", func() bool {
		body := h.do("GET", "/api/v1/admin/users?page=1&limit=10", adm.Access, nil).Map(t)
		e := find(body["users"].([]any))
		return e != nil && e["avatar_url"] == publicURL+path
	})
	e := find(h.do("GET", "/api/v1/admin/users/search?email=con-foto", adm.Access, nil).List(t))
	if e == nil || e["avatar_url"] != publicURL+path {
		t.Fatalf("search: %v", e)
	}
	// Without an avatar the field is present and null.
	body := h.do("GET", "/api/v1/admin/users", adm.Access, nil).Map(t)
	for _, x := range body["users"].([]any) {
		e := x.(map[string]any)
		if v, ok := e["avatar_url"]; !ok || (e["id"] != u.ID && v != nil) {
			t.Fatalf("entry %v", e)
		}
	}
}
