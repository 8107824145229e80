// Command goheap allocates in a few distinct call paths and writes its heap
// profile (symbolized by the Go runtime) to the file named by its argument.
// rprof's tests/symbolize_go.rs strips the functions and lines from that
// profile and checks that symbolizing it from this binary gives the same
// reports as the runtime's own symbols.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

type session struct {
	id   int
	name string
	buf  []byte
}

var (
	sessions []*session
	logs     [][]byte
)

// userName is small enough to be inlined into newSession.
func userName(id int) string {
	return fmt.Sprintf("user-%08d", id)
}

//go:noinline
func newSession(id int) *session {
	s := &session{id: id, name: userName(id)}
	s.buf = make([]byte, 64<<10)
	return s
}

//go:noinline
func logRequest(id int) {
	logs = append(logs, make([]byte, 1000+id%7))
}

//go:noinline
func handleRequest(id int) {
	sessions = append(sessions, newSession(id))
	logRequest(id)
}

func main() {
	runtime.MemProfileRate = 1
	for i := 0; i < 200; i++ {
		handleRequest(i)
	}
	runtime.GC()
	f, err := os.Create(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	f.Close()
}
