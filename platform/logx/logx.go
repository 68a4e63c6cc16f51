// Package logx builds the structured JSON logger every component uses.
package logx

import (
	"io"
	"log/slog"
	"strings"
)

// New returns a JSON logger at level ("debug", "info", "warn", "error") tagged with the
// component's name.
func New(w io.Writer, component, level string) *slog.Logger {
	var l slog.Level
	switch strings.ToLower(level) {
	case "debug":
		l = slog.LevelDebug
	case "warn":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})).With("component", component)
}

// Discard is a logger that writes nothing (tests that do not inspect logs).
func Discard() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }
