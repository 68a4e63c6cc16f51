// Package config reads settings from the environment. Every setting has a safe
// development default or is required; Load collects every problem and fails fast with
// one message that names them all.
package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Getenv is os.Getenv's signature, injected so tests set their own environment.
type Getenv func(string) string

// Reader reads typed values and remembers every problem.
type Reader struct {
	get  Getenv
	errs []error
}

// NewReader reads from get.
func NewReader(get Getenv) *Reader { return &Reader{get: get} }

// String returns the value of key or def.
func (r *Reader) String(key, def string) string {
	if v := strings.TrimSpace(r.get(key)); v != "" {
		return v
	}
	return def
}

// Required returns the value of key and records an error when it is empty.
func (r *Reader) Required(key string) string {
	v := strings.TrimSpace(r.get(key))
	if v == "" {
		r.errs = append(r.errs, fmt.Errorf("%s is required", key))
	}
	return v
}

// Int returns key as an int, or def.
func (r *Reader) Int(key string, def int) int {
	v := strings.TrimSpace(r.get(key))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("%s=%q is not an integer", key, v))
		return def
	}
	return n
}

// Bool returns key as a bool, or def.
func (r *Reader) Bool(key string, def bool) bool {
	v := strings.TrimSpace(r.get(key))
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("%s=%q is not a boolean", key, v))
		return def
	}
	return b
}

// Duration returns key as a time.Duration ("30s", "72h"), or def.
func (r *Reader) Duration(key string, def time.Duration) time.Duration {
	v := strings.TrimSpace(r.get(key))
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("%s=%q is not a duration", key, v))
		return def
	}
	return d
}

// List returns key split on commas, or def.
func (r *Reader) List(key string, def []string) []string {
	v := strings.TrimSpace(r.get(key))
	if v == "" {
		return def
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Check records err when bad is true.
func (r *Reader) Check(bad bool, format string, args ...any) {
	if bad {
		r.errs = append(r.errs, fmt.Errorf(format, args...))
	}
}

// Err returns every problem found, joined, or nil.
func (r *Reader) Err() error {
	if len(r.errs) == 0 {
		return nil
	}
	return fmt.Errorf("invalid configuration: %w", errors.Join(r.errs...))
}
