//go:build !unix

package engineio

import "time"

// processCPU is not measured here.
func processCPU() time.Duration { return 0 }
