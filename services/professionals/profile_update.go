package professionals

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/money"
)

// profileUpdate is the body of PUT /professional/me and PUT /professional/profile: every
// field is optional, and every spelling the frontend sends for location, payout account
// and trades is read and applied with the rules of the dedicated endpoints.
type profileUpdate struct {
	RadioCoberturaKm *int            `json:"radio_cobertura_km"`
	AceptaInstant    *bool           `json:"acepta_instant"`
	TarifaPorHora    *money.Centavos `json:"tarifa_por_hora"`
	Descripcion      *string         `json:"descripcion"`
	Biografia        *string         `json:"biografia"`
	ExperienciaAnos  *int            `json:"experiencia_anos"`
	Disponible       *bool           `json:"disponible"`
	Habilidades      *[]string       `json:"habilidades"`
	Certificaciones  *[]string       `json:"certificaciones"`
	ImagenesTrabajos *[]string       `json:"imagenes_trabajos"`

	Latitude     *float64 `json:"latitude"`
	Longitude    *float64 `json:"longitude"`
	Latitud      *float64 `json:"latitud"`
	Longitud     *float64 `json:"longitud"`
	UbicacionLat *float64 `json:"ubicacion_lat"`
	UbicacionLon *float64 `json:"ubicacion_lon"`

	PayoutAccount *string `json:"payout_account"`

	// oficios_ids comes as a list or as an object wrapping oficio_ids (the profile page);
	// oficio_ids as a list (the edit form and the dedicated endpoint).
	OficiosIDs json.RawMessage `json:"oficios_ids"`
	OficioIDs  *[]string       `json:"oficio_ids"`
}

// profileChange is a validated profileUpdate: nil means "leave as it is" (an empty
// list is a value: it clears).
type profileChange struct {
	radio                     *int
	acepta, disponible        *bool
	tarifa                    *int64
	descripcion, biografia    *string
	experiencia               *int
	habilidades, certificados *[]string
	imagenes                  *[]string
	loc                       *point
	payout                    *string
	oficios                   *[]string
}

type point struct{ lat, lng float64 }

// Limits of the free-text lists of a profile.
const (
	maxListItems = 30
	maxListItem  = 100
	maxURL       = 1000
)

// cleanList trims, drops duplicates and checks a list of texts of at most max characters.
func cleanList(ck *apperr.Checker, field string, in []string, max int) []string {
	out := []string{}
	for _, v := range in {
		v = strings.TrimSpace(v)
		if v == "" {
			ck.Add(true, field, "no puede tener elementos vacíos")
			continue
		}
		ck.Add(len([]rune(v)) > max, field, fmt.Sprintf("cada elemento tiene como máximo %d caracteres", max))
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	ck.Add(len(out) > maxListItems, field, fmt.Sprintf("como máximo %d elementos", maxListItems))
	return out
}

// location reads one of the three spellings of a location; both halves of a pair go
// together, and two spellings that disagree are refused rather than one dropped.
func location(ck *apperr.Checker, in *profileUpdate) *point {
	var loc *point
	for _, pair := range []struct {
		lat, lng         *float64
		latName, lngName string
	}{
		{in.Latitude, in.Longitude, "latitude", "longitude"},
		{in.Latitud, in.Longitud, "latitud", "longitud"},
		{in.UbicacionLat, in.UbicacionLon, "ubicacion_lat", "ubicacion_lon"},
	} {
		if pair.lat == nil && pair.lng == nil {
			continue
		}
		if pair.lat == nil || pair.lng == nil {
			ck.Add(true, pair.latName, pair.latName+" y "+pair.lngName+" van juntas")
			continue
		}
		ok := true
		if *pair.lat < -90 || *pair.lat > 90 {
			ck.Add(true, pair.latName, "debe estar entre -90 y 90")
			ok = false
		}
		if *pair.lng < -180 || *pair.lng > 180 {
			ck.Add(true, pair.lngName, "debe estar entre -180 y 180")
			ok = false
		}
		if !ok {
			continue
		}
		p := point{*pair.lat, *pair.lng}
		if loc != nil && *loc != p {
			ck.Add(true, pair.latName, "la ubicación llegó dos veces con valores distintos")
			continue
		}
		loc = &p
	}
	return loc
}

// wrappedIDs reads oficios_ids: a list of ids, or an object whose oficio_ids (or
// oficios_ids) is that list. ok is false when the field is absent or null.
func wrappedIDs(raw json.RawMessage) (ids []string, ok bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, false, nil
	}
	bad := apperr.Validation(apperr.FieldError{Field: "oficios_ids", Msg: "debe ser una lista de ids de oficios o {\"oficio_ids\": [...]}"})
	switch raw[0] {
	case '[':
		if err := json.Unmarshal(raw, &ids); err != nil {
			return nil, false, bad
		}
	case '{':
		var w struct {
			OficioIDs  *[]string `json:"oficio_ids"`
			OficiosIDs *[]string `json:"oficios_ids"`
		}
		if err := json.Unmarshal(raw, &w); err != nil {
			return nil, false, bad
		}
		switch {
		case w.OficioIDs != nil:
			ids = *w.OficioIDs
		case w.OficiosIDs != nil:
			ids = *w.OficiosIDs
		default:
			return nil, false, bad
		}
	default:
		return nil, false, bad
	}
	if ids == nil {
		ids = []string{}
	}
	return ids, true, nil
}

// tradeIDs reads the trades of a profile update from oficios_ids and oficio_ids; both
// may come, but must name the same set.
func tradeIDs(in *profileUpdate) ([]string, bool, error) {
	wrapped, hasWrapped, err := wrappedIDs(in.OficiosIDs)
	if err != nil {
		return nil, false, err
	}
	var plain []string
	if in.OficioIDs != nil {
		if plain, err = parseIDs("oficio_ids", *in.OficioIDs); err != nil {
			return nil, false, err
		}
	}
	if hasWrapped {
		if wrapped, err = parseIDs("oficios_ids", wrapped); err != nil {
			return nil, false, err
		}
	}
	switch {
	case hasWrapped && in.OficioIDs != nil:
		if !slices.Equal(wrapped, plain) {
			return nil, false, apperr.Validation(apperr.FieldError{Field: "oficio_ids", Msg: "oficio_ids y oficios_ids nombran oficios distintos"})
		}
		return plain, true, nil
	case hasWrapped:
		return wrapped, true, nil
	case in.OficioIDs != nil:
		return plain, true, nil
	}
	return nil, false, nil
}

func (in *profileUpdate) validate() (profileChange, error) {
	var ch profileChange
	var ck apperr.Checker
	if in.RadioCoberturaKm != nil {
		ck.Add(*in.RadioCoberturaKm < 1 || *in.RadioCoberturaKm > 500, "radio_cobertura_km", "debe estar entre 1 y 500")
		ch.radio = in.RadioCoberturaKm
	}
	if in.TarifaPorHora != nil {
		ck.Add(*in.TarifaPorHora < 0, "tarifa_por_hora", "debe ser mayor o igual a 0")
		ck.Add(*in.TarifaPorHora > 100_000_000_00, "tarifa_por_hora", "es demasiado alta")
		v := int64(*in.TarifaPorHora)
		ch.tarifa = &v
	}
	if in.Descripcion != nil {
		ck.Len("descripcion", *in.Descripcion, 0, 2000)
		ch.descripcion = in.Descripcion
	}
	if in.Biografia != nil {
		t := strings.TrimSpace(*in.Biografia)
		ck.Len("biografia", t, 0, 2000)
		ch.biografia = &t
	}
	if in.ExperienciaAnos != nil {
		ck.Add(*in.ExperienciaAnos < 0 || *in.ExperienciaAnos > 80, "experiencia_anos", "debe estar entre 0 y 80")
		ch.experiencia = in.ExperienciaAnos
	}
	ch.acepta, ch.disponible = in.AceptaInstant, in.Disponible
	if in.Habilidades != nil {
		v := cleanList(&ck, "habilidades", *in.Habilidades, maxListItem)
		ch.habilidades = &v
	}
	if in.Certificaciones != nil {
		v := cleanList(&ck, "certificaciones", *in.Certificaciones, maxListItem)
		ch.certificados = &v
	}
	if in.ImagenesTrabajos != nil {
		v := cleanList(&ck, "imagenes_trabajos", *in.ImagenesTrabajos, maxURL)
		ch.imagenes = &v
	}
	ch.loc = location(&ck, in)
	if err := ck.Err(); err != nil {
		return ch, err
	}
	if in.PayoutAccount != nil {
		acct, err := NormalizePayout(*in.PayoutAccount)
		if err != nil {
			return ch, err
		}
		ch.payout = &acct
	}
	ids, ok, err := tradeIDs(in)
	if err != nil {
		return ch, err
	}
	if ok {
		ch.oficios = &ids
	}
	return ch, nil
}

// updateProfile answers PUT /professional/profile and PUT /professional/me: a partial
// update of everything the profile pages edit, in one transaction.
func (s *svc) updateProfile(c *fiber.Ctx) error {
	var in profileUpdate
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	ch, err := in.validate()
	if err != nil {
		return err
	}
	p, err := s.mutateMine(c, true, func(ctx context.Context, tx pgx.Tx, p profile) error {
		_, err := tx.Exec(ctx, `UPDATE profesionales SET
			radio_cobertura_km = coalesce($2, radio_cobertura_km),
			acepta_instant = coalesce($3, acepta_instant),
			tarifa_por_hora = coalesce($4, tarifa_por_hora),
			descripcion = coalesce($5, descripcion),
			biografia = coalesce($6, biografia),
			experiencia_anos = coalesce($7, experiencia_anos),
			disponible = coalesce($8, disponible),
			habilidades = coalesce($9::text[], habilidades),
			certificaciones = coalesce($10::text[], certificaciones)
			WHERE id = $1`, p.ID, ch.radio, ch.acepta, ch.tarifa, ch.descripcion, ch.biografia, ch.experiencia, ch.disponible,
			ch.habilidades, ch.certificados)
		if err != nil {
			return fmt.Errorf("update profile %s: %w", p.ID, err)
		}
		if ch.imagenes != nil {
			if err := s.setWorkImages(ctx, tx, p, *ch.imagenes); err != nil {
				return err
			}
		}
		if ch.loc != nil {
			if err := setLocation(ctx, tx, p, *ch.loc); err != nil {
				return err
			}
		}
		if ch.payout != nil {
			if err := setPayout(ctx, tx, p, *ch.payout); err != nil {
				return err
			}
		}
		if ch.oficios != nil {
			return replaceOficios(ctx, tx, p, *ch.oficios)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.respondProfile(c, p)
}

// setLocation places the professional's base (the rule of PUT /professional/profile/location).
func setLocation(ctx context.Context, tx pgx.Tx, p profile, at point) error {
	if _, err := tx.Exec(ctx, `UPDATE profesionales SET base_location = ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography
		WHERE id = $1`, p.ID, at.lng, at.lat); err != nil {
		return fmt.Errorf("update location %s: %w", p.ID, err)
	}
	return nil
}

// setPayout stores a payout account already normalised by NormalizePayout.
func setPayout(ctx context.Context, tx pgx.Tx, p profile, acct string) error {
	if _, err := tx.Exec(ctx, `UPDATE profesionales SET payout_account = $2 WHERE id = $1`, p.ID, acct); err != nil {
		return fmt.Errorf("update payout %s: %w", p.ID, err)
	}
	return nil
}

// replaceOficios replaces the professional's set of trades: every id must exist (404)
// and a trade not already theirs must be enabled (400).
func replaceOficios(ctx context.Context, tx pgx.Tx, p profile, ids []string) error {
	miss, err := missing(ctx, tx, "oficios", ids)
	if err != nil {
		return err
	}
	if len(miss) > 0 {
		return apperr.NotFound("oficios_not_found", fmt.Sprintf("Oficios no encontrados: %v", miss))
	}
	var disabled string
	err = tx.QueryRow(ctx, `SELECT coalesce(string_agg(o.nombre, ', ' ORDER BY o.nombre), '') FROM oficios o
		WHERE o.id = ANY ($2::uuid[]) AND NOT o.activo
		AND NOT EXISTS (SELECT 1 FROM profesional_oficios po WHERE po.profesional_id = $1 AND po.oficio_id = o.id)`, p.ID, ids).Scan(&disabled)
	if err != nil {
		return fmt.Errorf("check oficios: %w", err)
	}
	if disabled != "" {
		return errOficioInactivo(disabled)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM profesional_oficios WHERE profesional_id = $1 AND NOT (oficio_id = ANY ($2::uuid[]))`, p.ID, ids); err != nil {
		return fmt.Errorf("replace oficios: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO profesional_oficios (profesional_id, oficio_id) SELECT $1, unnest($2::uuid[])
		ON CONFLICT DO NOTHING`, p.ID, ids); err != nil {
		return fmt.Errorf("replace oficios: %w", err)
	}
	return nil
}

// setWorkImages stores the profile's showcase images: each must be an image of the
// professional's own portfolio (absolute or as a path); anything else is refused, so
// the profile never points at a foreign or unknown URL.
func (s *svc) setWorkImages(ctx context.Context, tx pgx.Tx, p profile, urls []string) error {
	paths := make([]string, 0, len(urls))
	for _, u := range urls {
		paths = append(paths, s.rel(u))
	}
	var unknown []string
	rows, err := tx.Query(ctx, `SELECT x.u FROM unnest($2::text[]) WITH ORDINALITY AS x(u, n)
		WHERE NOT EXISTS (SELECT 1 FROM portfolio_imagenes im JOIN portfolio_items i ON i.id = im.portfolio_item_id
			WHERE i.profesional_id = $1 AND im.imagen_url = x.u) ORDER BY x.n`, p.ID, paths)
	if err != nil {
		return fmt.Errorf("check work images: %w", err)
	}
	if unknown, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return fmt.Errorf("check work images: %w", err)
	}
	if len(unknown) > 0 {
		return apperr.Invalid("imagen_no_admitida", "imagenes_trabajos solo admite imágenes de tu portfolio: subilas primero en el portfolio")
	}
	if _, err := tx.Exec(ctx, `UPDATE profesionales SET imagenes_trabajos = $2 WHERE id = $1`, p.ID, paths); err != nil {
		return fmt.Errorf("update work images %s: %w", p.ID, err)
	}
	return nil
}

// locationBody documents PUT /professional/profile/location. The handler decodes the
// body as a profileUpdate (so a wrongly typed field of it is still a 422) and reads
// only these two.
type locationBody struct {
	Latitude  float64 `json:"latitude" jsonschema:"required,minimum=-90,maximum=90"`
	Longitude float64 `json:"longitude" jsonschema:"required,minimum=-180,maximum=180"`
}

// oficioIDsBody replaces a professional's trades.
type oficioIDsBody struct {
	OficioIDs []string `json:"oficio_ids" jsonschema:"required"`
}

// payoutBody sets the account payouts go to: a CBU/CVU of 22 digits or an alias.
type payoutBody struct {
	PayoutAccount *string `json:"payout_account" jsonschema:"required"`
}

// payoutResult is the answer of a payout account change.
type payoutResult struct {
	Status        string `json:"status"`
	Message       string `json:"message"`
	PayoutAccount string `json:"payout_account"`
}

// updateLocation answers PUT /professional/profile/location (both halves required).
func (s *svc) updateLocation(c *fiber.Ctx) error {
	var in profileUpdate
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	var ck apperr.Checker
	ck.Add(in.Latitude == nil || *in.Latitude < -90 || *in.Latitude > 90, "latitude", "es obligatoria, entre -90 y 90")
	ck.Add(in.Longitude == nil || *in.Longitude < -180 || *in.Longitude > 180, "longitude", "es obligatoria, entre -180 y 180")
	if err := ck.Err(); err != nil {
		return err
	}
	p, err := s.mutateMine(c, true, func(ctx context.Context, tx pgx.Tx, p profile) error {
		return setLocation(ctx, tx, p, point{*in.Latitude, *in.Longitude})
	})
	if err != nil {
		return err
	}
	return s.respondProfile(c, p)
}

// updateOficios answers PUT /professional/profile/oficios: replaces the set.
func (s *svc) updateOficios(c *fiber.Ctx) error {
	var in oficioIDsBody
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	ids, err := parseIDs("oficio_ids", in.OficioIDs)
	if err != nil {
		return err
	}
	p, err := s.mutateMine(c, true, func(ctx context.Context, tx pgx.Tx, p profile) error {
		return replaceOficios(ctx, tx, p, ids)
	})
	if err != nil {
		return err
	}
	ofs, err := oficiosOf(c.UserContext(), s.pool, p.ID)
	if err != nil {
		return err
	}
	return c.JSON(ofs)
}

// updatePayout answers PUT /professional/payout-info and PUT /professional/payout.
func (s *svc) updatePayout(c *fiber.Ctx) error {
	var in payoutBody
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	if in.PayoutAccount == nil {
		return apperr.Validation(apperr.FieldError{Field: "payout_account", Msg: "es obligatorio"})
	}
	acct, err := NormalizePayout(*in.PayoutAccount)
	if err != nil {
		return err
	}
	_, err = s.mutateMine(c, true, func(ctx context.Context, tx pgx.Tx, p profile) error {
		return setPayout(ctx, tx, p, acct)
	})
	if err != nil {
		return err
	}
	return c.JSON(payoutResult{Status: "ok", Message: "Cuenta de cobro actualizada", PayoutAccount: acct})
}
