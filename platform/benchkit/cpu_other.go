//go:build !unix

package benchkit

import "time"

// processCPU is unknown here: CPU per request shows as 0.
func processCPU() time.Duration { return 0 }
