package main

import (
	"testing"

	"github.com/conectarpro/conectar/platform/pg"
)

func TestPoolSize(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want pg.Size
		bad  bool
	}{
		{env: nil, want: pg.Size{Min: pg.DefaultMinConns, Max: 16}},
		{env: map[string]string{"DB_MAX_CONNS": "2"}, want: pg.Size{Min: 2, Max: 2}},
		{env: map[string]string{"DB_MAX_CONNS": "6", "DB_MIN_CONNS": "0"}, want: pg.Size{Min: 0, Max: 6}},
		{env: map[string]string{"DB_MAX_CONNS": "6", "DB_MIN_CONNS": "6"}, want: pg.Size{Min: 6, Max: 6}},
		{env: map[string]string{"DB_MIN_CONNS": "17"}, bad: true},
		{env: map[string]string{"DB_MIN_CONNS": "-1"}, bad: true},
		{env: map[string]string{"DB_MAX_CONNS": "0"}, bad: true},
		{env: map[string]string{"DB_MIN_CONNS": "many"}, bad: true},
	} {
		got, err := poolSize(func(k string) string { return tc.env[k] })
		switch {
		case tc.bad && err == nil:
			t.Errorf("%v: accepted as %+v", tc.env, got)
		case !tc.bad && (err != nil || got != tc.want):
			t.Errorf("%v: %+v, %v; want %+v", tc.env, got, err, tc.want)
		}
	}
}
