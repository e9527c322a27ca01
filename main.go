// Command shoal-operator is the Shoal operator manager (placeholder until the
// manager lands in this file).
package main

func main() {}
