// Bounded permessage-deflate inflation; see message_inflater.h.
#include "signaling/message_inflater.h"

#include <zlib.h>

namespace rc::signaling {

struct MessageInflater::Stream
{
    z_stream z {};
    bool ready = false;
    Stream() { ready = inflateInit2(&z, -15) == Z_OK; }
    ~Stream()
    {
        if (ready)
            inflateEnd(&z);
    }
};

MessageInflater::MessageInflater(size_t limit)
    : limit_(limit)
{ }

MessageInflater::~MessageInflater() = default;

void MessageInflater::reset() noexcept
{
    stream_.reset();
    state_ = Result::more;
}

MessageInflater::Result MessageInflater::feed(std::string_view compressed, bool last)
{
    if (state_ == Result::tooLarge || state_ == Result::corrupt) {
        const Result r = state_;
        if (last) {
            // The message is over: the next one starts clean (the owner closes the connection
            // anyway).
            reset();
            out_.clear();
        }
        return r;
    }
    if (!stream_)
        stream_ = std::make_unique<Stream>();
    if (!stream_->ready)
        return state_ = Result::corrupt;

    static const unsigned char kTail[4] = { 0x00, 0x00, 0xff, 0xff };
    auto inflateSome = [this](const unsigned char *data, size_t size) -> bool {
        z_stream &z = stream_->z;
        z.next_in = const_cast<Bytef *>(data);
        z.avail_in = static_cast<uInt>(size);
        for (;;) {
            // Never more room than one byte past the limit: the bound on memory and work.
            const size_t room = limit_ + 1 - out_.size();
            const size_t chunk = room < 16384 ? room : 16384;
            const size_t before = out_.size();
            out_.resize(before + chunk);
            z.next_out = reinterpret_cast<Bytef *>(out_.data() + before);
            z.avail_out = static_cast<uInt>(chunk);
            const int rc = inflate(&z, Z_SYNC_FLUSH);
            const size_t made = chunk - z.avail_out;
            out_.resize(before + made);
            if (out_.size() > limit_) {
                state_ = Result::tooLarge;
                return false;
            }
            if (rc == Z_STREAM_END) {
                // A final block inside a message: what follows starts a new stream.
                if (inflateReset(&z) != Z_OK) {
                    state_ = Result::corrupt;
                    return false;
                }
                if (z.avail_in == 0)
                    break;
                continue;
            }
            if (rc != Z_OK && rc != Z_BUF_ERROR) {
                state_ = Result::corrupt;
                return false;
            }
            // Done when the input is used up and zlib had room left (nothing pending), or
            // when it can make no progress without more input.
            if ((z.avail_in == 0 && z.avail_out > 0) || (rc == Z_BUF_ERROR && made == 0))
                break;
        }
        return true;
    };

    if (!inflateSome(reinterpret_cast<const unsigned char *>(compressed.data()), compressed.size())
        || (last && !inflateSome(kTail, sizeof kTail))) {
        const Result r = state_;
        if (last) {
            reset();
            out_.clear();
        }
        return r;
    }
    if (!last)
        return Result::more;
    stream_.reset(); // no context takeover: nothing is kept between messages
    return state_ = Result::done;
}

std::string MessageInflater::take()
{
    std::string message = std::move(out_);
    out_.clear();
    reset();
    return message;
}

std::string compressMessage(std::string_view message, int windowBits)
{
    z_stream z {};
    // memLevel 8 is zlib's default; the state lives only for this call.
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -windowBits, 8, Z_DEFAULT_STRATEGY)
        != Z_OK)
        return {};
    std::string out(deflateBound(&z, static_cast<uLong>(message.size())) + 16, '\0');
    z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(message.data()));
    z.avail_in = static_cast<uInt>(message.size());
    z.next_out = reinterpret_cast<Bytef *>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = deflate(&z, Z_SYNC_FLUSH);
    const size_t written = out.size() - z.avail_out;
    deflateEnd(&z);
    if (rc != Z_OK || written < 4)
        return {};
    out.resize(written - 4); // RFC 7692 7.2.1: drop the sync flush's 00 00 ff ff
    return out;
}

} // namespace rc::signaling
