package events

import (
	"testing"
	"time"
)

func TestKYCState(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		e     Event
		state string
	}{
		{KYCSubmittedV1{ProfesionalID: "p", UsuarioID: "u1", Documentos: 2}, "EN_REVISION"},
		{KYCApprovedV1{ProfesionalID: "p", UsuarioID: "u2", AdminID: "a"}, "APROBADO"},
		{KYCRejectedV1{ProfesionalID: "p", UsuarioID: "u3", AdminID: "a", Motivo: "borroso"}, "RECHAZADO"},
	} {
		env, err := New("professionals", "p", tc.e, Meta{}, now)
		if err != nil {
			t.Fatal(err)
		}
		u, st, ok, err := KYCState(env)
		if err != nil || !ok || st != tc.state || u == "" {
			t.Errorf("%s: %q %q %v %v", env.Type, u, st, ok, err)
		}
	}
	env, _ := New("users", "u", UserChatBannedV1{UserID: "u"}, Meta{}, now)
	if _, _, ok, err := KYCState(env); ok || err != nil {
		t.Errorf("other event: ok=%v err=%v", ok, err)
	}
}
