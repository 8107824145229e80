// Command gostripped burns CPU in a few functions while a CPU profile
// runs; built with -ldflags='-s -w' (no symbol table, no DWARF) it is the
// fixture of tests/symbolize_gopclntab.rs: only .gopclntab names its frames.
//
// Usage: hello_sw PROFILE [SECONDS]
package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"time"
)

var sink uint64

//go:noinline
func hashLoop(n int) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < n; i++ {
		h ^= uint64(i)
		h *= 1099511628211
	}
	return h
}

//go:noinline
func sortLoop(n int) uint64 {
	a := make([]uint64, 256)
	var s uint64
	for k := 0; k < n; k++ {
		for i := range a {
			a[i] = uint64((i*7919 + k) % 256)
		}
		for i := 1; i < len(a); i++ {
			for j := i; j > 0 && a[j] < a[j-1]; j-- {
				a[j], a[j-1] = a[j-1], a[j]
			}
		}
		s += a[0]
	}
	return s
}

//go:noinline
func work(deadline time.Time) {
	for time.Now().Before(deadline) {
		sink += hashLoop(1 << 16)
		sink += sortLoop(4)
	}
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: hello_sw PROFILE [SECONDS]")
		os.Exit(2)
	}
	secs := 2.0
	if len(os.Args) > 2 {
		secs, _ = strconv.ParseFloat(os.Args[2], 64)
	}
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		panic(err)
	}
	work(time.Now().Add(time.Duration(secs * float64(time.Second))))
	pprof.StopCPUProfile()
	f.Close()
}
