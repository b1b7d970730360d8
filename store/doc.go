// Package store will hold the nData-compatible store processes, sessions,
// global data with expiry and pub/sub fan-out between workers (in-process
// and Redis engines). It is filled in by the stores/sessions work; until
// then workers keep sessions and channels in their own process.
package store
