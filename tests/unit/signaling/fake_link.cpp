// FakeLink helpers; see fake_link.h.
#include "fake_link.h"

namespace rc::test {

std::string FakeLink::take()
{
    return read_ < sent.size() ? sent[read_++] : std::string();
}

std::string FakeLink::field(const std::string &text, const char *name) const
{
    std::string error;
    auto node = json::parse(text, error);
    if (!node || !JSON_NODE_HOLDS_OBJECT(node.get()))
        return {};
    return json::stringMember(json_node_get_object(node.get()), name).value_or("");
}

std::string FakeLink::takeType()
{
    return field(take(), "type");
}

} // namespace rc::test
