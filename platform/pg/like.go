package pg

import "strings"

// likeEscaper escapes the LIKE wildcards and the default escape character itself, so a
// user's term matches literally ("50%" finds "50%", not everything that starts with 50).
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// LikeEscape escapes term for use inside a LIKE/ILIKE pattern with the default escape
// character (backslash).
func LikeEscape(term string) string { return likeEscaper.Replace(term) }

// LikePattern is a "contains" pattern for LIKE/ILIKE: term escaped and wrapped in %…%.
func LikePattern(term string) string { return "%" + LikeEscape(term) + "%" }
