// A PeerLink that records what the room logic sends, for unit tests.
#pragma once

#include "common/base/json.h"
#include "signaling/peer_link.h"

#include <optional>
#include <string>
#include <vector>

namespace rc::test {

class FakeLink final : public signaling::PeerLink
{
public:
    explicit FakeLink(std::string label = "fake")
        : label_(std::move(label))
    { }
    void send(const std::string &text) override
    {
        if (!closeCode)
            sent.push_back(text);
    }
    void close(unsigned short code, const char *) override
    {
        if (!closeCode)
            closeCode = code;
    }
    const std::string &label() const override { return label_; }

    // Takes the oldest unread message; "" when there is none.
    std::string take();
    // The type of the oldest unread message (and takes it).
    std::string takeType();
    // Takes the oldest message and returns member `field` of it as a string.
    std::string field(const std::string &text, const char *name) const;
    size_t unread() const noexcept { return sent.size() - read_; }

    std::vector<std::string> sent;
    std::optional<unsigned short> closeCode;

private:
    std::string label_;
    size_t read_ = 0;
};

} // namespace rc::test
