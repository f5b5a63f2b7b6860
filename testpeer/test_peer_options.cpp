// roomcast-testpeer's options (Boost.Program_options); see test_peer_options.h.
#include "testpeer/test_peer_options.h"

#include "common/base/config_loader.h"
#include "common/base/exit_codes.h"
#include "common/base/startup_error.h"
#include "common/protocol/room_protocol.h"
#include "roomcast-config.h"

#include "common/base/log.h"

#include <cctype>
#include <fstream>
#include <iostream>
#include <sstream>

namespace rc::testpeer {
namespace {

namespace po = boost::program_options;

[[noreturn]] void usageError(const std::string &message)
{
    throw StartupError(exitcode::usage, message);
}

void checkRange(const char *name, long value, long lo, long hi)
{
    if (value < lo || value > hi)
        usageError(std::string("--") + name + " must be between " + std::to_string(lo) + " and "
            + std::to_string(hi) + ", got " + std::to_string(value));
}

std::string readToken(const std::string &path)
{
    std::ifstream in(path);
    if (!in)
        usageError("--token-file: cannot read '" + path + "'");
    std::stringstream text;
    text << in.rdbuf();
    std::string token = text.str();
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back())))
        token.pop_back();
    if (token.empty())
        usageError("--token-file: '" + path + "' is empty");
    return token;
}

} // namespace

std::optional<TestPeerOptions> parseTestPeerOptions(int argc, const char *const argv[])
{
    TestPeerOptions o;
    std::string codec = "vp8", tokenFile, resizeTo;
    bool mesh = false, noMesh = false;
    po::options_description desc(
        "roomcast-testpeer: a synthetic visible participant that joins a room and sends a\n"
        "test pattern and a tone to every peer that offers (and, with --mesh, offers to\n"
        "the visible members already there)");
    // clang-format off
    desc.add_options()
        ("help,h", "print this help and exit")
        ("version", "print the version and exit")
        ("signaling-url", po::value(&o.participant.url)->required(),
            "room server WebSocket URL, e.g. ws://127.0.0.1:8080/ws")
        ("room", po::value(&o.participant.room)->required(), "room to join")
        ("name", po::value(&o.participant.name)->default_value("testpeer"), "display name")
        ("codec", po::value(&codec)->default_value("vp8"), "video codec: vp8 | h264 | vp9")
        ("width", po::value(&o.media.width)->default_value(640), "video width")
        ("height", po::value(&o.media.height)->default_value(360), "video height")
        ("fps", po::value(&o.media.fps)->default_value(30), "video frame rate")
        ("resize-every", po::value(&o.media.resizeEverySeconds)->default_value(0),
            "switch the video size every SECONDS between --width x --height and --resize-to\n"
            "(0: never)")
        ("resize-to", po::value(&resizeTo),
            "the other size for --resize-every, WxH (default: half the width and height)")
        ("bitrate", po::value(&o.media.bitrateKbps)->default_value(600), "video bitrate, kbit/s")
        ("pattern", po::value(&o.media.pattern)->default_value("smpte"),
            "red | green | blue | yellow | cyan | magenta | white | black | grey | orange |\n"
            "purple (solid colours) or any videotestsrc pattern: smpte, ball, snow, ...;\n"
            "flash-beep: black and silent, with a white frame and a 100 ms tone at the\n"
            "same instant every second (to measure A/V alignment)")
        ("flash-period", po::value(&o.flashPeriodSeconds)->default_value(1),
            "flash-beep: seconds between flashes (a latency over 1 s would otherwise\n"
            "look like its remainder)")
        ("flash-frames", po::value(&o.flashFrames)->default_value(1),
            "flash-beep: frames each flash stays white (more survive a viewer that\n"
            "misses single frames; the logged instant is the first one's)")
        ("audio-channels", po::value(&o.media.audioChannels)->default_value(2),
            "1 or 2: the channels the Opus encoder codes (the rtpmap says 2 either way,\n"
            "as browsers do; they send 1 unless the answer asks for stereo)")
        ("audio-freq", po::value(&o.media.audioFrequency)->default_value(440.0),
            "sine frequency, Hz")
        ("duration", po::value(&o.durationSeconds)->default_value(0),
            "seconds before leaving and exiting 0; 0 = until SIGINT/SIGTERM")
        ("pause-at", po::value(&o.pauseAt)->default_value(0),
            "seconds after start at which to stop sending audio and video (with --pause-for)")
        ("pause-for", po::value(&o.pauseFor)->default_value(0),
            "seconds to send nothing from --pause-at on, then resume; 0 = no pause")
        ("ice-local-address", po::value(&o.participant.iceAddresses)->composing(),
            "restrict ICE host candidates to this address (repeatable)")
        ("token-file", po::value(&tokenFile), "file holding the join token (JWT)")
        ("mesh", po::bool_switch(&mesh), "offer to the visible members already in the room (default)")
        ("no-mesh", po::bool_switch(&noMesh), "only answer offers; never offer")
        ("log-level", po::value(&o.logLevel)->default_value("info"), "debug | info | warning | error");
    // clang-format on

    po::variables_map vm;
    auto parsed = config::parseCommandLine(argc, argv, desc);
    try {
        po::store(parsed, vm);
        if (vm.count("help")) {
            std::cout << desc << "\n";
            return std::nullopt;
        }
        if (vm.count("version")) {
            std::cout << "roomcast-testpeer " << ROOMCAST_VERSION << "\n";
            return std::nullopt;
        }
        po::notify(vm);
    } catch (const po::error &e) {
        usageError(std::string("command line: ") + e.what());
    }

    if (mesh && noMesh)
        usageError("--mesh and --no-mesh are mutually exclusive");
    o.participant.mesh = !noMesh;
    auto parsedCodec = parseVideoCodec(codec);
    if (!parsedCodec)
        usageError("--codec must be vp8, h264 or vp9, got '" + codec + "'");
    o.media.codec = *parsedCodec;
    const std::string &url = o.participant.url;
    if (url.rfind("ws://", 0) != 0 && url.rfind("wss://", 0) != 0)
        usageError("--signaling-url must start with ws:// or wss://, got '" + url + "'");
    if (!protocol::isValidRoom(o.participant.room))
        usageError("--room must be 1 to 64 characters of [A-Za-z0-9_-]");
    if (!protocol::isValidDisplayName(o.participant.name))
        usageError("--name must be 1 to 64 characters without control characters");
    checkRange("width", o.media.width, 16, 4096);
    checkRange("height", o.media.height, 16, 4096);
    checkRange("fps", o.media.fps, 1, 120);
    checkRange("bitrate", o.media.bitrateKbps, 16, 50000);
    checkRange("duration", o.durationSeconds, 0, 7 * 24 * 3600);
    checkRange("resize-every", o.media.resizeEverySeconds, 0, 3600);
    checkRange("flash-period", o.flashPeriodSeconds, 1, 60);
    checkRange("flash-frames", o.flashFrames, 1, 10);
    checkRange("audio-channels", o.media.audioChannels, 1, 2);
    o.media.resizeWidth = o.media.width / 2 & ~1;
    o.media.resizeHeight = o.media.height / 2 & ~1;
    if (!resizeTo.empty()) {
        int w = 0, h = 0;
        char x = 0, extra = 0;
        std::istringstream in(resizeTo);
        if (!(in >> w >> x >> h) || x != 'x' || in >> extra)
            usageError("--resize-to must be WIDTHxHEIGHT, got '" + resizeTo + "'");
        o.media.resizeWidth = w;
        o.media.resizeHeight = h;
    }
    checkRange("resize-to width", o.media.resizeWidth, 16, 4096);
    checkRange("resize-to height", o.media.resizeHeight, 16, 4096);
    if (!(o.media.audioFrequency >= 20.0 && o.media.audioFrequency <= 20000.0))
        usageError("--audio-freq must be between 20 and 20000 Hz");
    if (o.media.pattern == "flash-beep") {
        o.flashBeep = true;
        o.media.pattern = "black";
    }
    if (!(o.pauseAt >= 0 && o.pauseAt <= 24 * 3600)
        || !(o.pauseFor >= 0 && o.pauseFor <= 24 * 3600))
        usageError("--pause-at and --pause-for must be between 0 and 86400 seconds");
    if (o.pauseAt > 0 && o.pauseFor == 0)
        usageError("--pause-at needs --pause-for");
    log::Level level;
    if (!log::parseLevel(o.logLevel, level))
        usageError("--log-level must be debug, info, warning or error, got '" + o.logLevel + "'");
    if (!tokenFile.empty())
        o.participant.token = readToken(tokenFile);
    return o;
}

} // namespace rc::testpeer
