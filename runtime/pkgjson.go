package runtime

import (
	"crypto/sha256"
	"encoding/json"
	"path/filepath"
	"sync"
)

// DefaultPackageMetaEntries bounds the process-wide cache of decoded package.json files.
const DefaultPackageMetaEntries = 4096

// pkgMeta is what resolution reads from a package.json.
type pkgMeta struct {
	valid   bool   // the file is a JSON object
	main    string // "main" when it is a string
	exports any    // decoded "exports" (ordered); nil when absent, null or undecodable
}

// pkgMetaCache holds decoded package.json files by content hash: resolution reads a package's package.json once
// per require of it, and decoding (not reading) was most of the resolution cost. Keying by content keeps every
// answer exact whatever the path, overlay or Loop.
var pkgMetaCache struct {
	sync.Mutex
	m map[[sha256.Size]byte]*pkgMeta
}

// packageMeta reads and decodes dir/package.json; ok is false when there is no readable file.
func (l *Loop) packageMeta(dir string) (meta *pkgMeta, ok bool) {
	data, err := l.fsys.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil, false
	}
	key := sha256.Sum256(data)
	pkgMetaCache.Lock()
	meta = pkgMetaCache.m[key]
	pkgMetaCache.Unlock()
	if meta != nil {
		return meta, true
	}
	meta = decodePackageMeta(data)
	pkgMetaCache.Lock()
	if pkgMetaCache.m == nil {
		pkgMetaCache.m = map[[sha256.Size]byte]*pkgMeta{}
	}
	if len(pkgMetaCache.m) < DefaultPackageMetaEntries {
		pkgMetaCache.m[key] = meta
	}
	pkgMetaCache.Unlock()
	return meta, true
}

func decodePackageMeta(data []byte) *pkgMeta {
	var fields map[string]json.RawMessage
	if json.Unmarshal(data, &fields) != nil {
		return &pkgMeta{}
	}
	meta := &pkgMeta{valid: true}
	if raw, ok := fields["main"]; ok {
		_ = json.Unmarshal(raw, &meta.main)
	}
	if raw, ok := fields["exports"]; ok && string(raw) != "null" {
		if exp, err := decodeOrdered(raw); err == nil {
			meta.exports = exp
		}
	}
	return meta
}
