//go:build !unix

package benchkit

import "time"

// ProcessCPU is unknown here: CPU figures show as 0.
func ProcessCPU() time.Duration { return 0 }
