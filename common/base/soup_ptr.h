// RAII deleters for libsoup 3 types (see gptr.h for adopt/ref/refSink).
#pragma once

#include "common/base/gptr.h"

#include <libsoup/soup.h>

namespace rc {

RC_GOBJECT_DELETER(SoupSession)
RC_GOBJECT_DELETER(SoupWebsocketConnection)
RC_GOBJECT_DELETER(SoupMessage)
RC_GOBJECT_DELETER(SoupServer)
RC_GOBJECT_DELETER(SoupServerMessage)
RC_GOBJECT_DELETER(SoupWebsocketExtension)
RC_DELETER(SoupMessageHeaders, soup_message_headers_unref)

} // namespace rc
