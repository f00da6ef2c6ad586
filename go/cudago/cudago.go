package cudago

import (
	"github.com/cudago/cudago/go/internal/capi"
)

// Version returns the version of the loaded libcudago ("0.2.0").
func Version() string {
	return capi.Version()
}

// CheckVersion reports whether the loaded libcudago can serve this package: the library must
// have the ABI major version of the header the package was compiled with, and a minor version
// at least as new. Every function that creates a handle or queries a device returns this
// error first when the check fails.
func CheckVersion() error {
	return capi.CheckVersion()
}
