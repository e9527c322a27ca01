package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/shoal-dev/shoal/controllers/backup"
	"github.com/shoal-dev/shoal/controllers/builders"
)

// storeServeOptions are the settings of the store-serve subcommand.
type storeServeOptions struct {
	root, listen string
	token        string
}

func parseStoreServeFlags(args []string, getenv func(string) string) (storeServeOptions, error) {
	var o storeServeOptions
	fs := flag.NewFlagSet(builders.StoreSubcommand, flag.ContinueOnError)
	fs.StringVar(&o.root, "root", builders.StoreRoot, "Directory of the objects (the mounted PersistentVolumeClaim).")
	fs.StringVar(&o.listen, "listen", fmt.Sprintf(":%d", builders.StorePort), "Address of the HTTP server.")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.token = getenv(builders.StoreTokenEnv)
	if o.token == "" {
		return o, fmt.Errorf("%s must hold the token the clients send", builders.StoreTokenEnv)
	}
	return o, nil
}

// storeServe serves the directory of a PVC backup destination to the
// operator (backup.ObjectsHandler over a backup.DirStore) until SIGTERM.
func storeServe(args []string) error {
	o, err := parseStoreServeFlags(args, os.Getenv)
	if err != nil {
		return err
	}
	d, err := backup.NewDirStore(o.root)
	if err != nil {
		return err
	}
	srv := &http.Server{Addr: o.listen, Handler: backup.ObjectsHandler(d, o.token), ReadHeaderTimeout: 30 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	fmt.Fprintf(os.Stderr, "store-serve: serving %s on %s\n", o.root, o.listen)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
