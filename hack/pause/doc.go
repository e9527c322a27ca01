// Command pause is the sandbox ("pause") image of the local cluster: a static
// binary that blocks until SIGTERM or SIGINT and then exits 0.
package main
