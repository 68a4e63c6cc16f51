// Package apperr defines the error kinds that cross from use cases to HTTP handlers and
// event consumers. A use case returns an *Error (or wraps one); the single Fiber error
// handler in httpx maps its Kind to a status and the SPEC error shape, and the consumer
// runner maps it to ack, retry or dead letter.
package apperr

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Kind classifies an error by what the caller can do about it.
type Kind int

// The kinds. Their HTTP statuses are in httpx.
const (
	KindInternal     Kind = iota // a bug or an unexpected failure: 500, retried by consumers
	KindInvalid                  // a business rule refused the request: 400
	KindValidation               // malformed fields: 422 with per-field details
	KindUnauthorized             // no or bad credentials: 401
	KindForbidden                // authenticated but not allowed: 403
	KindNotFound                 // 404
	KindConflict                 // 409; for consumers: "already applied"
	KindTooLarge                 // 413
	KindUnsupported              // 415
	KindRateLimited              // 429
	KindUnavailable              // a dependency is down: 503, retried by consumers
	KindBadGateway               // a third party answered badly: 502
	KindAccepted                 // the work goes on asynchronously: 202 with a body
	KindPermanent                // for consumers: will never succeed, dead-letter at once
)

// FieldError is one entry of a 422 answer.
type FieldError struct {
	Field string `json:"field"`
	Msg   string `json:"msg"`
}

// Error is an error with a kind, a machine code and a Spanish message for people.
type Error struct {
	Kind    Kind
	Code    string
	Msg     string
	Fields  []FieldError
	Body    any   // for KindAccepted: the body to answer with
	Wrapped error // the cause, never shown to clients
}

func (e *Error) Error() string {
	if e.Wrapped != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Msg, e.Wrapped)
	}
	return e.Code + ": " + e.Msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Wrapped }

// New returns an *Error of kind k.
func New(k Kind, code, msg string) *Error { return &Error{Kind: k, Code: code, Msg: msg} }

// Invalid is a broken business rule (400).
func Invalid(code, msg string) *Error { return New(KindInvalid, code, msg) }

// NotFound is a missing resource (404).
func NotFound(code, msg string) *Error { return New(KindNotFound, code, msg) }

// Forbidden is a wrong role or a non-owner (403).
func Forbidden(code, msg string) *Error { return New(KindForbidden, code, msg) }

// Unauthorized is a missing or bad credential (401).
func Unauthorized(code, msg string) *Error { return New(KindUnauthorized, code, msg) }

// Conflict is a concurrent or duplicate change (409).
func Conflict(code, msg string) *Error { return New(KindConflict, code, msg) }

// Unavailable is a dependency that is down (503).
func Unavailable(code, msg string, cause error) *Error {
	return &Error{Kind: KindUnavailable, Code: code, Msg: msg, Wrapped: cause}
}

// Permanent marks an event that can never be processed.
func Permanent(code, msg string, cause error) *Error {
	return &Error{Kind: KindPermanent, Code: code, Msg: msg, Wrapped: cause}
}

// Validation is a 422 with per-field messages. Its Msg (the answer's detail) names the
// first failing field and its reason: the web frontend shows only detail, never
// errors[], so "Datos inválidos" alone would not tell anyone what to fix.
func Validation(fields ...FieldError) *Error {
	return &Error{Kind: KindValidation, Code: "validation_error", Msg: validationDetail(fields), Fields: fields}
}

// validationDetail is the detail of a 422. A field message written as a sentence (it
// starts with an upper-case letter: "La contraseña debe tener…") stands alone; a short
// one ("debe tener entre 1 y 100 caracteres") is prefixed with its field.
func validationDetail(fields []FieldError) string {
	if len(fields) == 0 {
		return "Datos inválidos"
	}
	f := fields[0]
	var d string
	switch r, _ := utf8.DecodeRuneInString(f.Msg); {
	case f.Msg == "":
		d = "Datos inválidos en " + f.Field
	case unicode.IsUpper(r):
		d = f.Msg
	case f.Field == "" || f.Field == "body":
		d = string(unicode.ToUpper(r)) + f.Msg[utf8.RuneLen(r):]
	default:
		d = "Datos inválidos en " + f.Field + ": " + f.Msg
	}
	switch n := len(fields) - 1; n {
	case 0:
	case 1:
		d += " (y 1 campo más)"
	default:
		d += fmt.Sprintf(" (y %d campos más)", n)
	}
	return d
}

// Accepted answers 202 with body: the work continues asynchronously.
func Accepted(body any) *Error {
	return &Error{Kind: KindAccepted, Code: "accepted", Msg: "Procesando", Body: body}
}

// KindOf returns the kind of the first *Error in err's chain, or KindInternal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// As returns the first *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
