package payments

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/bank"
	"github.com/conectarpro/conectar/platform/httpx"
)

// Bank account kinds (cuentas_bancarias.tipo_cuenta).
const (
	CuentaCBU   = "cbu"
	CuentaAlias = "alias"
)

// bankAccount is a professional's withdrawal destination. Payments owns it: it is the
// only place a payout's destination is read from. It is written by POST
// /pagos/cuenta-bancaria and by a change of the payout account in professionals (PUT
// /professional/payout-info, learnt from ProfessionalProfileUpdated); the last change wins.
type bankAccount struct {
	UsuarioID string
	Tipo      string
	CBU       string
	Alias     string
	Titular   string
	Banco     string
	Origen    string
	UpdatedAt time.Time
}

// destination is what the payout is sent to: the CBU/CVU or the alias, per the kind.
func (b bankAccount) destination() string {
	if b.Tipo == CuentaCBU {
		return b.CBU
	}
	return b.Alias
}

// view is the GET /pagos/cuenta-bancaria shape: the CBU is never shown whole.
func (b bankAccount) view() BankAccount {
	return BankAccount{TipoCuenta: b.Tipo, CBUOculto: nullStr(maskCBU(b.CBU)), Alias: nullStr(b.Alias),
		Titular: b.Titular, Banco: b.Banco, FechaActualizacion: b.UpdatedAt.UTC()}
}

// maskCBU keeps the last four digits: enough for a person to recognise the account.
func maskCBU(cbu string) string {
	if len(cbu) <= 4 {
		return cbu
	}
	return strings.Repeat("*", len(cbu)-4) + cbu[len(cbu)-4:]
}

func (a *App) bankAccount(ctx context.Context, q querier, usuarioID string) (bankAccount, bool, error) {
	var b bankAccount
	err := q.QueryRow(ctx, `SELECT usuario_id, tipo_cuenta, COALESCE(cbu,''), COALESCE(alias,''), titular, banco, origen, updated_at
		FROM cuentas_bancarias WHERE usuario_id = $1`, usuarioID).
		Scan(&b.UsuarioID, &b.Tipo, &b.CBU, &b.Alias, &b.Titular, &b.Banco, &b.Origen, &b.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return b, false, nil
	}
	if err != nil {
		return b, false, fmt.Errorf("read bank account of %s: %w", usuarioID, err)
	}
	return b, true, nil
}

// setBankAccountFromProfile records the payout account professionals validated (a CBU/CVU
// of 22 digits or an alias) as the bank account. Holder and bank are kept only when the
// account itself did not change.
func setBankAccountFromProfile(ctx context.Context, tx pgx.Tx, usuarioID, account string) error {
	tipo, cbu, alias := CuentaAlias, "", account
	if bank.ValidCBU(account) {
		tipo, cbu, alias = CuentaCBU, account, ""
	}
	_, err := tx.Exec(ctx, `INSERT INTO cuentas_bancarias (usuario_id, tipo_cuenta, cbu, alias, origen) VALUES ($1,$2,NULLIF($3,''),NULLIF($4,''),'perfil')
		ON CONFLICT (usuario_id) DO UPDATE SET tipo_cuenta = EXCLUDED.tipo_cuenta, cbu = EXCLUDED.cbu, alias = EXCLUDED.alias,
			titular = CASE WHEN (cuentas_bancarias.cbu, cuentas_bancarias.alias) IS NOT DISTINCT FROM (EXCLUDED.cbu, EXCLUDED.alias) THEN cuentas_bancarias.titular ELSE '' END,
			banco = CASE WHEN (cuentas_bancarias.cbu, cuentas_bancarias.alias) IS NOT DISTINCT FROM (EXCLUDED.cbu, EXCLUDED.alias) THEN cuentas_bancarias.banco ELSE '' END,
			origen = 'perfil', updated_at = now()`, usuarioID, tipo, cbu, alias)
	if err != nil {
		return fmt.Errorf("set bank account of %s: %w", usuarioID, err)
	}
	return nil
}

// bankAccountInput is what the frontend sends to POST /pagos/cuenta-bancaria.
// The limits are normalize's; a value past them is a 400 with its own code, not a 422.
type bankAccountInput struct {
	TipoCuenta *string `json:"tipo_cuenta" jsonschema_description:"cbu or alias (case-insensitive); inferred from what is sent when absent"`
	CBU        *string `json:"cbu" jsonschema_description:"22 digits with valid check digits (spaces and dashes ignored); for tipo_cuenta cbu"`
	Alias      *string `json:"alias" jsonschema_description:"6 to 20 letters, digits, dots or dashes; for tipo_cuenta alias"`
	Titular    *string `json:"titular" jsonschema_description:"the holder, 3 to 100 characters"`
	Banco      *string `json:"banco" jsonschema_description:"at most 100 characters"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return strings.TrimSpace(*s)
}

// requiredText is the trimmed text of an admin's required field (a reason, a
// reference), or a 400 with code and msg when it is missing or not lo to hi characters.
func requiredText(s *string, lo, hi int, code, msg string) (string, error) {
	v := deref(s)
	if n := utf8.RuneCountInString(v); n < lo || n > hi {
		return "", apperr.Invalid(code, msg)
	}
	return v, nil
}

// normalize validates the input with the CBU/CVU and alias rules professionals also use
// (platform/bank) and returns the account to store.
func (in bankAccountInput) normalize(usuarioID string) (bankAccount, error) {
	b := bankAccount{UsuarioID: usuarioID, Tipo: strings.ToLower(deref(in.TipoCuenta)), Titular: deref(in.Titular), Banco: deref(in.Banco), Origen: "pagos"}
	cbu := strings.NewReplacer(" ", "", "-", "").Replace(deref(in.CBU))
	alias := strings.ToLower(deref(in.Alias))
	if b.Tipo == "" {
		// Infer the kind from what was sent.
		b.Tipo = CuentaAlias
		if cbu != "" {
			b.Tipo = CuentaCBU
		}
	}
	if b.Tipo != CuentaCBU && b.Tipo != CuentaAlias {
		return b, apperr.Invalid("invalid_account_type", "El tipo de cuenta debe ser «cbu» o «alias»")
	}
	if b.Tipo == CuentaCBU && cbu == "" {
		return b, apperr.Invalid("cbu_required", "Ingresá el CBU o CVU de la cuenta")
	}
	if b.Tipo == CuentaAlias && alias == "" {
		return b, apperr.Invalid("alias_required", "Ingresá el alias de la cuenta")
	}
	if cbu != "" && !bank.ValidCBU(cbu) {
		return b, apperr.Invalid("invalid_cbu", "El CBU/CVU debe tener 22 dígitos con dígitos verificadores válidos")
	}
	if alias != "" && !bank.ValidAlias(alias) {
		return b, apperr.Invalid("invalid_alias", "El alias debe tener de 6 a 20 caracteres (letras, números, punto o guion)")
	}
	if n := len([]rune(b.Titular)); n < 3 || n > 100 {
		return b, apperr.Invalid("invalid_holder", "Ingresá el titular de la cuenta (de 3 a 100 caracteres)")
	}
	if len([]rune(b.Banco)) > 100 {
		return b, apperr.Invalid("invalid_bank", "El nombre del banco admite hasta 100 caracteres")
	}
	b.CBU, b.Alias = cbu, alias
	return b, nil
}

// putBankAccount answers POST /pagos/cuenta-bancaria: the professional's withdrawal
// destination from now on (withdrawals already requested keep theirs).
func (a *App) putBankAccount(c *fiber.Ctx) error {
	cl, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	var in bankAccountInput
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	b, err := in.normalize(cl.UserID())
	if err != nil {
		return err
	}
	err = a.svc.Deps.Pool.QueryRow(c.Context(), `INSERT INTO cuentas_bancarias (usuario_id, tipo_cuenta, cbu, alias, titular, banco, origen)
		VALUES ($1,$2,NULLIF($3,''),NULLIF($4,''),$5,$6,'pagos')
		ON CONFLICT (usuario_id) DO UPDATE SET tipo_cuenta = EXCLUDED.tipo_cuenta, cbu = EXCLUDED.cbu, alias = EXCLUDED.alias,
			titular = EXCLUDED.titular, banco = EXCLUDED.banco, origen = 'pagos', updated_at = now()
		RETURNING updated_at`, b.UsuarioID, b.Tipo, b.CBU, b.Alias, b.Titular, b.Banco).Scan(&b.UpdatedAt)
	if err != nil {
		return fmt.Errorf("save bank account: %w", err)
	}
	return c.JSON(BankAccountSaved{BankAccount: b.view(), Mensaje: "Cuenta bancaria guardada"})
}

// getBankAccount answers GET /pagos/cuenta-bancaria: the account (CBU masked) or null.
func (a *App) getBankAccount(c *fiber.Ctx) error {
	cl, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	b, ok, err := a.bankAccount(c.Context(), a.svc.Deps.Pool, cl.UserID())
	if err != nil {
		return err
	}
	if !ok {
		return c.JSON(nil)
	}
	return c.JSON(b.view())
}
