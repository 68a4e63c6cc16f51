package apperr

import (
	"fmt"
	"unicode/utf8"
)

// Checker collects field errors so a handler can report every bad field at once.
type Checker struct{ fields []FieldError }

// Add records a field error when bad is true.
func (c *Checker) Add(bad bool, field, msg string) {
	if bad {
		c.fields = append(c.fields, FieldError{Field: field, Msg: msg})
	}
}

// Len checks a string's length in characters (not bytes).
func (c *Checker) Len(field, v string, min, max int) {
	n := utf8.RuneCountInString(v)
	c.Add(n < min || n > max, field, fmt.Sprintf("debe tener entre %d y %d caracteres", min, max))
}

// Err returns a Validation error when any field failed, else nil.
func (c *Checker) Err() error {
	if len(c.fields) == 0 {
		return nil
	}
	return Validation(c.fields...)
}
