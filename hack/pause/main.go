// Command pause is the sandbox ("pause") image of the local cluster: a static
// binary that blocks until SIGTERM or SIGINT and then exits 0.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	<-ch
}
