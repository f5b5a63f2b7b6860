// A server's TLS identity from PEM files (certificate chain and private key), with errors that
// name the file, and what an operator wants to read about it in the log.
//
// Pure GIO; called on the owner's thread at start-up and on reload (SIGHUP).
#pragma once

#include "common/base/gptr.h"

#include <gio/gio.h>

#include <string>

namespace rc::ops {

// The certificate (with its chain, if the file holds one) and its private key; nullptr with
// error ("cannot read TLS certificate FILE: ...", "... key FILE: ...") when a file is missing,
// unreadable or not PEM. A key that does not belong to the certificate is not caught here:
// GIO's GnuTLS backend (glib-networking 2.74) loads the pair, and every handshake then fails.
GPtr<GTlsCertificate> loadTlsCertificate(
    const std::string &certificateFile, const std::string &keyFile, std::string &error);
// "subject CN=..., valid until 2027-01-01T00:00:00Z" for the log ("" parts left out).
std::string describeTlsCertificate(GTlsCertificate *certificate);

} // namespace rc::ops
