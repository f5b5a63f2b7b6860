// Escaping of untrusted text for the log; see log_text.h.
#include "signaling/log_text.h"

#include <glib.h>

#include <cstdio>

namespace rc::signaling {

std::string printable(std::string_view text, size_t maxBytes)
{
    std::string out;
    const char *p = text.data();
    const char *end = p + text.size();
    while (p < end) {
        if (out.size() >= maxBytes) {
            out += "...";
            break;
        }
        const auto c = static_cast<unsigned char>(*p);
        if (c >= 0x80) {
            // Keep whole valid UTF-8 characters, escape stray bytes.
            gunichar ch = g_utf8_get_char_validated(p, end - p);
            if (ch != static_cast<gunichar>(-1) && ch != static_cast<gunichar>(-2)
                && !g_unichar_iscntrl(ch)) {
                const char *next = g_utf8_next_char(p);
                out.append(p, next);
                p = next;
                continue;
            }
        } else if (c >= 0x20 && c != 0x7f && c != '"' && c != '\\') {
            out += static_cast<char>(c);
            ++p;
            continue;
        }
        char esc[8];
        std::snprintf(esc, sizeof esc, "\\x%02x", c);
        out += esc;
        ++p;
    }
    return out;
}

} // namespace rc::signaling
