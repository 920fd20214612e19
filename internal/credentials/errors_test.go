package credentials

import gokeyring "github.com/zalando/go-keyring"

var errNotFoundGoKeyring = gokeyring.ErrNotFound
