package main

import "strings"

func upper(s string) string { return strings.ToUpper(s) }
