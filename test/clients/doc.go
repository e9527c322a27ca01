// Package clients runs real client libraries, as applications use them,
// against real node processes: the same scenario first against Debian's
// redis-server (which shows the scenario itself is right) and then against
// our node, standalone and as a three-master cluster made by
// `redis-cli --cluster create`.
//
// The Node.js clients (BullMQ with ioredis) live in node/ beside this file,
// pinned by its package-lock.json; `npm ci --prefix test/clients/node`
// installs them (.ci/run does).
package clients
