// Command etcd is the etcd server, built from go.etcd.io/etcd/server/v3 (whose etcdmain the upstream binary wraps too).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
